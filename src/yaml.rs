//! YAML out: the block style people read and every YAML parser reads back (the spec files
//! `codefresh get pipeline -o yaml` writes, `~/.cfconfig`). Written here rather than by the
//! YAML crate's emitter, which would cost the size budget more than these few rules: plain
//! text where it cannot be read as anything else, literal blocks for lines, JSON's quoting
//! (valid YAML) for the rest.

use serde_norway::Value;

/// `value` as a YAML document, ending with a line break (a literal block at the end needs
/// it).
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(m) if !m.is_empty() => mapping(&mut out, m, 0),
        Value::Sequence(s) if !s.is_empty() => sequence(&mut out, s, 0),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn mapping(out: &mut String, m: &serde_norway::Mapping, indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str(&scalar(k, indent));
        out.push(':');
        nested(out, v, indent + 2, indent);
    }
}

fn sequence(out: &mut String, s: &[Value], indent: usize) {
    for (i, v) in s.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push('-');
        match v {
            // `- key: value` with the other keys under the first.
            Value::Mapping(m) if !m.is_empty() => {
                out.push(' ');
                mapping(out, m, indent + 2);
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push(' ');
                sequence(out, s, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A value after `key:`: on the same line when a scalar, else on the lines below.
fn nested(out: &mut String, v: &Value, indent: usize, key_indent: usize) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent);
            mapping(out, m, indent);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            pad(out, key_indent);
            sequence(out, s, key_indent);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => text(s, indent),
        Value::Mapping(m) if m.is_empty() => "{}".to_string(),
        Value::Sequence(s) if s.is_empty() => "[]".to_string(),
        // A key that is a list or a mapping (or a tagged value) has no block form here: its
        // JSON text, quoted, keeps what it says.
        other => quoted(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// JSON's quoting, and YAML's own line breaks escaped too (JSON leaves them as they are;
/// a YAML parser would fold them).
fn quoted(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    if !json.contains(YAML_BREAKS) {
        return json;
    }
    json.chars()
        .map(|c| match c {
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// What YAML reads as a line break (or drops, the byte-order mark) besides `\n` and `\r`.
const YAML_BREAKS: [char; 4] = ['\u{85}', '\u{2028}', '\u{2029}', '\u{feff}'];

fn text(s: &str, indent: usize) -> String {
    if is_plain(s) {
        return s.to_string();
    }
    if let Some(block) = literal(s, indent) {
        return block;
    }
    quoted(s)
}

/// Text that reads back as the same text without quotes: no YAML indicator where one
/// counts, and nothing a parser would take for a number, a boolean or null.
fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:@+=~$()<>^%".contains(c) || c == ' ';
    let looks_like_other = matches!(
        s.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null" | "~"
    ) || s.parse::<f64>().is_ok()
        || s.starts_with([' ', '.', '-', '+', '~', ':', '%', '@', '<', '>', '$', '(', ')', '^', '='])
        // Numbers in any base, and YAML 1.1's dates and times (`2026-10-01T08:00:00Z`),
        // which some parsers turn into dates.
        || first.is_ascii_digit();
    s.chars().all(safe)
        && !looks_like_other
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
}

/// Lines as a literal block (`|`), when they can stand in one unchanged: no control
/// character but the line breaks, no trailing space, not starting with one.
fn literal(s: &str, indent: usize) -> Option<String> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let chomp = if s.ends_with('\n') { "" } else { "-" };
    let fits = s.contains('\n')
        && !body.is_empty()
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\n'])
        && !body
            .chars()
            .any(|c| (c.is_control() && c != '\n') || YAML_BREAKS.contains(&c))
        && body.lines().all(|l| l == l.trim_end());
    if !fits {
        return None;
    }
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let value: Value = serde_norway::from_str(text).unwrap();
        let written = to_string(&value);
        let back: Value =
            serde_norway::from_str(&written).unwrap_or_else(|e| panic!("{written}\n{e}"));
        assert_eq!(back, value, "{written}");
    }

    #[test]
    fn documents_read_back_as_they_were() {
        round_trip("version: '1.0'\nkind: pipeline\nmetadata:\n  name: acme/deploy\n  labels:\n    tags: []\n  created_at: 2026-10-01T08:00:00.000Z\n  revision: 3\nspec:\n  triggers:\n  - name: on-push\n    events: [push.heads]\n    branchRegex: /.*/gi\n  steps: {build: {image: alpine, commands: [make, 'echo a: b', '# no', '- x']}}\n  variables:\n  - {key: A, value: 'yes'}\n  - {key: B, value: '007'}\n  - {key: C, value: ''}\n  - {key: D, value: null}\n  - {key: E, value: true}\n  nested: [[a, b], [], {}, [{x: 1}]]\n");
        round_trip("text: \"line one\\nline two\\n\"\nother: \"a\\nb\"\nodd: \"  lead\\nx\"\ntab: \"a\\tb\"\nquote: \"it's \\\"q\\\"\"\nunicode: \"é ü 日本\"\n");
        round_trip("[1, 2.5, -3, .inf, 'x']\n");
        // Found by fuzzing: YAML breaks lines at U+2029, JSON's quoting does not escape it.
        round_trip("a: \"x\\u2029y\\nz\"\nb: \"\\u2028\\u0085\\ufeff\"\n");
        round_trip("just text\n");
        // Found by fuzzing: a leading space is not plain.
        round_trip("a: ' b'\n");
        // Found by fuzzing: a literal block that ends the document keeps its line break.
        round_trip("a: 1\nz: \"x\\ny\\n\"\n");
        // A key that is a list keeps what it says, as text.
        let value: Value = serde_norway::from_str("{? [a, b] : c}\n").unwrap();
        assert_eq!(to_string(&value), "\"[\\\"a\\\",\\\"b\\\"]\": c\n");
    }

    #[test]
    fn it_reads_as_people_write_yaml() {
        let value: Value = serde_norway::from_str(
            "kind: pipeline\nspec:\n  steps:\n    b:\n      commands:\n      - make\n",
        )
        .unwrap();
        assert_eq!(
            to_string(&value),
            "kind: pipeline\nspec:\n  steps:\n    b:\n      commands:\n      - make\n"
        );
        let value: Value = serde_norway::from_str("s: \"a\\nb\\n\"\nv: '1.0'\n").unwrap();
        assert_eq!(to_string(&value), "s: |\n  a\n  b\nv: \"1.0\"\n");
    }
}
