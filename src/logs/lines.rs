//! A downstream log arrives in chunks — pieces of text as the writer flushed them, not
//! lines: one chunk may hold several lines, or half of one. [`Chunks`] makes lines of them,
//! keeping at most one partial line (of at most [`MAX_LINE`] characters) in memory.

use super::MAX_LINE;

#[derive(Debug, Default)]
pub struct Chunks {
    partial: String,
    /// Characters of the partial line dropped past [`MAX_LINE`].
    dropped: bool,
}

impl Chunks {
    /// Adds a chunk; `line` gets each line it completes.
    pub fn push(&mut self, chunk: &str, mut line: impl FnMut(&str)) {
        let mut rest = chunk;
        while let Some(at) = rest.find('\n') {
            self.keep(&rest[..at]);
            line(shown(&self.partial));
            self.partial.clear();
            self.dropped = false;
            rest = &rest[at + 1..];
        }
        self.keep(rest);
    }

    /// The last line, when the log ended without a line break.
    pub fn flush(&mut self, mut line: impl FnMut(&str)) {
        if !self.partial.is_empty() {
            line(shown(&self.partial));
        }
        self.partial.clear();
        self.dropped = false;
    }

    pub fn is_empty(&self) -> bool {
        self.partial.is_empty()
    }

    fn keep(&mut self, piece: &str) {
        if self.dropped {
            return;
        }
        // A `\r` later in the line may still hide the start, so a little more than a line
        // is kept before the rest is dropped.
        let room = (MAX_LINE * 4).saturating_sub(self.partial.len());
        if piece.len() <= room {
            self.partial.push_str(piece);
        } else {
            let mut end = room;
            while !piece.is_char_boundary(end) {
                end -= 1;
            }
            self.partial.push_str(&piece[..end]);
            self.dropped = true;
        }
    }
}

/// A line as a terminal shows it: a progress bar redraws itself after `\r`, so only the
/// text after the last `\r` remains (a trailing `\r` of a `\r\n` ending is no redraw).
fn shown(line: &str) -> &str {
    let line = line.trim_end_matches('\r');
    line.rsplit('\r').next().unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&str]) -> Vec<String> {
        let mut c = Chunks::default();
        let mut out = Vec::new();
        for chunk in chunks {
            c.push(chunk, |l| out.push(l.to_string()));
        }
        c.flush(|l| out.push(l.to_string()));
        out
    }

    #[test]
    fn chunks_become_lines() {
        assert_eq!(
            lines(&["one\r\ntw", "o\r\n", "three\nfour"]),
            ["one", "two", "three", "four"]
        );
        assert_eq!(lines(&["", "\n", "\n"]), ["", ""]);
        assert!(lines(&[]).is_empty());
    }

    #[test]
    fn progress_bars_show_their_last_state() {
        assert_eq!(
            lines(&["10%\r50%\r", "100%\r\n", "done\n"]),
            ["100%", "done"]
        );
    }

    #[test]
    fn a_line_that_never_ends_stays_bounded() {
        let mut c = Chunks::default();
        for _ in 0..10_000 {
            c.push(&"x".repeat(1000), |_| panic!("no line yet"));
        }
        assert!(c.partial.len() <= MAX_LINE * 4);
        let mut out = Vec::new();
        c.push("\nnext\n", |l| out.push(l.len()));
        assert_eq!(out, [MAX_LINE * 4, 4]);
    }
}
