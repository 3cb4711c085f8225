//! What reaches a CI log must not be able to rewrite it. Text from APIs (error bodies,
//! status words, names) and from downstream logs can carry `\r`, terminal escape sequences
//! (cursor moves, OSC titles and hyperlinks), NUL or bidi overrides; a `\r` followed by a
//! fake `[ 1.0s] build succeeded` overwrites a line in a rendered log. Everything printed
//! passes through [`printable`] (or [`log_line`] for downstream logs, which keep colour).

/// `text` with every control character but newline and tab removed, escape sequences
/// removed whole, and bidi overrides dropped.
pub fn printable(text: &str) -> String {
    clean(text, false)
}

/// Like [`printable`], but SGR colour sequences (`ESC [ … m`) are kept: a downstream log
/// keeps its colours, nothing else.
pub fn log_line(text: &str) -> String {
    clean(text, true)
}

/// A value from an answer as an error line can show it: quoted, escaped, short.
pub fn shown(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    let mut quoted = format!("{short:?}");
    if short.len() < value.len() {
        quoted.push('…');
    }
    quoted
}

/// Invisible characters that reorder how a line is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn clean(text: &str, keep_sgr: bool) -> String {
    // Fast path: most text has nothing to remove.
    if !text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
    {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' | '\t' => {
                out.push(c);
                i += 1;
            }
            '\u{1b}' => {
                let end = escape_end(&chars, i + 1);
                let sequence: String = chars[i..end].iter().collect();
                if keep_sgr && is_sgr(&sequence) {
                    out.push_str(&sequence);
                }
                i = end;
            }
            // The 8-bit CSI: the same as `ESC [`.
            '\u{9b}' => i = csi_end(&chars, i + 1),
            c if c.is_control() || is_bidi_control(c) => i += 1,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Where an escape sequence that starts with ESC at `from - 1` ends (exclusive).
fn escape_end(chars: &[char], from: usize) -> usize {
    match chars.get(from) {
        Some('[') => csi_end(chars, from + 1),
        // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (`ESC \`).
        Some(']' | 'P' | 'X' | '^' | '_') => {
            let mut i = from + 1;
            while i < chars.len() {
                match chars[i] {
                    '\u{7}' => return i + 1,
                    '\u{1b}' if chars.get(i + 1) == Some(&'\\') => return i + 2,
                    // An unterminated string ends at the line: never swallow the rest.
                    '\n' => return i,
                    _ => i += 1,
                }
            }
            i
        }
        // ESC and one more character (`ESC c` resets the terminal).
        Some(c) if (' '..='~').contains(c) => from + 1,
        _ => from,
    }
}

/// A CSI's end: parameter and intermediate bytes, then one final byte.
fn csi_end(chars: &[char], from: usize) -> usize {
    let mut i = from;
    while i < chars.len() && ('\u{20}'..='\u{3f}').contains(&chars[i]) {
        i += 1;
    }
    if i < chars.len() && ('\u{40}'..='\u{7e}').contains(&chars[i]) {
        i + 1
    } else {
        i
    }
}

/// `ESC [ 1;31 m`: colour and weight only.
fn is_sgr(sequence: &str) -> bool {
    sequence
        .strip_prefix("\u{1b}[")
        .and_then(|s| s.strip_suffix('m'))
        .is_some_and(|params| {
            params
                .chars()
                .all(|c| c.is_ascii_digit() || c == ';' || c == ':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            printable("build 12: running\tok\n"),
            "build 12: running\tok\n"
        );
        assert_eq!(printable("ünïcödé 日本"), "ünïcödé 日本");
    }

    #[test]
    fn carriage_returns_and_controls_go() {
        assert_eq!(
            printable("error\r[   1.0s] build succeeded"),
            "error[   1.0s] build succeeded"
        );
        assert_eq!(printable("a\0b\u{7}c\u{8}d\u{7f}e\u{85}f"), "abcdef");
    }

    #[test]
    fn escape_sequences_go_whole() {
        assert_eq!(printable("\u{1b}[2K\u{1b}[1Aok"), "ok");
        assert_eq!(printable("\u{1b}[31mred\u{1b}[0m"), "red");
        assert_eq!(printable("\u{1b}]0;owned title\u{7}x"), "x");
        assert_eq!(
            printable("\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\"),
            "click"
        );
        assert_eq!(printable("\u{1b}Pq#0;2;0;0;0\u{1b}\\after"), "after");
        assert_eq!(printable("\u{1b}creset"), "reset");
        assert_eq!(printable("\u{9b}2Jcleared"), "cleared");
        assert_eq!(printable("trailing \u{1b}"), "trailing ");
        assert_eq!(printable("\u{1b}]0;no end\nnext"), "\nnext");
    }

    #[test]
    fn bidi_overrides_go() {
        assert_eq!(printable("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(printable("\u{2066}x\u{2069}\u{200F}"), "x");
    }

    #[test]
    fn logs_keep_colour_only() {
        assert_eq!(
            log_line("\u{1b}[1;31mFAIL\u{1b}[0m"),
            "\u{1b}[1;31mFAIL\u{1b}[0m"
        );
        assert_eq!(
            log_line("\u{1b}[38:5:196mx\u{1b}[m"),
            "\u{1b}[38:5:196mx\u{1b}[m"
        );
        assert_eq!(log_line("\u{1b}[2Kline\r\u{1b}]0;t\u{7}"), "line");
        assert_eq!(log_line("\u{1b}[?25l\u{1b}[31mred"), "\u{1b}[31mred");
    }
}
