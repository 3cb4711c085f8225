//! Reading a JSON log that may be larger than cirelay should hold (a 50 MB step output, a
//! Firebase snapshot of a whole build): it is parsed as it arrives, and what the parse keeps
//! is bounded. serde_json buffers each string it hands over, so [`Capped`] refuses any
//! string longer than [`MAX_STRING`] before it can be buffered; values that are skipped
//! (`serde::de::IgnoredAny`) are never buffered at all.

use std::io::{self, BufRead, Read};

/// The longest string (a log entry, a key) a log's JSON may hold.
pub const MAX_STRING: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Outside,
    InString,
    Escaped,
}

/// JSON text from `inner`, refusing any string longer than `cap` bytes; with
/// [`Capped::line`], only up to the end of the current line (one `data:` line of an event
/// stream: JSON never holds a raw newline, so the line ends the value).
pub struct Capped<R> {
    inner: R,
    cap: usize,
    lex: Lex,
    len: usize,
    one_line: bool,
    /// The line's end was reached.
    ended: bool,
}

impl<R: BufRead> Capped<R> {
    pub fn new(inner: R) -> Self {
        Capped {
            inner,
            cap: MAX_STRING,
            lex: Lex::Outside,
            len: 0,
            one_line: false,
            ended: false,
        }
    }

    /// The rest of the current line only.
    pub fn line(inner: R) -> Self {
        Capped {
            one_line: true,
            ..Capped::new(inner)
        }
    }

    #[cfg(test)]
    fn with_cap(mut self, cap: usize) -> Self {
        self.cap = cap;
        self
    }

    /// Reads and drops what is left of the line (after the value a parser took from it).
    pub fn finish_line(&mut self) -> io::Result<()> {
        let mut sink = [0u8; 4096];
        while self.read(&mut sink)? > 0 {}
        Ok(())
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let available = self.inner.fill_buf()?;
        let mut used = 0;
        let mut copied = 0;
        for &b in available.iter().take(buf.len()) {
            used += 1;
            if self.one_line && b == b'\n' {
                self.ended = true;
                break;
            }
            self.lex = match (self.lex, b) {
                (Lex::Outside, b'"') => {
                    self.len = 0;
                    Lex::InString
                }
                (Lex::Outside, _) => Lex::Outside,
                (Lex::InString, b'"') => Lex::Outside,
                (Lex::InString, b'\\') => Lex::Escaped,
                (Lex::InString | Lex::Escaped, _) => {
                    self.len += 1;
                    if self.len > self.cap {
                        self.inner.consume(used);
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "it holds a value longer than {} MiB, more than cirelay reads",
                                self.cap >> 20
                            ),
                        ));
                    }
                    Lex::InString
                }
            };
            buf[copied] = b;
            copied += 1;
        }
        self.inner.consume(used);
        Ok(copied)
    }
}

/// A JSON deserializer over `reader` that reads it in blocks (serde_json asks for one byte
/// at a time).
pub fn deserializer<R: Read>(
    reader: R,
) -> serde_json::Deserializer<serde_json::de::IoRead<io::BufReader<R>>> {
    serde_json::Deserializer::from_reader(io::BufReader::with_capacity(64 * 1024, reader))
}

/// A seed that is its own visitor, whatever the value's type: the visitors of streamed logs,
/// which carry where they are (and what to hand a value to) down the document.
macro_rules! seed_by_any {
    ($($ty:ident),+) => { $(
        impl<'de> serde::de::DeserializeSeed<'de> for $ty<'_> {
            type Value = ();
            fn deserialize<D: serde::de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }
    )+ };
}
pub(crate) use seed_by_any;

/// Visitor methods that take a value of a kind the log has no use for (`str`, `bool`,
/// numbers, `unit`) as `$value`: a log read from someone else's answer skips what it does
/// not expect rather than refusing the whole log.
macro_rules! skip {
    ($value:expr => $($kind:ident),+) => { $( $crate::logs::json::skip!(@ $value, $kind); )+ };
    (@ $v:expr, str) => { fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> { Ok($v) } };
    (@ $v:expr, bool) => { fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> { Ok($v) } };
    (@ $v:expr, i64) => { fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> { Ok($v) } };
    (@ $v:expr, u64) => { fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> { Ok($v) } };
    (@ $v:expr, f64) => { fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> { Ok($v) } };
    (@ $v:expr, unit) => { fn visit_unit<E>(self) -> Result<Self::Value, E> { Ok($v) } };
}
pub(crate) use skip;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn strings_longer_than_the_cap_are_refused() {
        let text = format!("{{\"a\": \"{}\"}}", "x".repeat(100));
        let capped = Capped::new(text.as_bytes()).with_cap(99);
        let err = serde_json::Value::deserialize(&mut deserializer(capped)).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        let capped = Capped::new(text.as_bytes()).with_cap(100);
        assert!(serde_json::Value::deserialize(&mut deserializer(capped)).is_ok());
        // An escaped quote does not end the string early.
        let text = format!("[\"{}\\\"{}\"]", "x".repeat(60), "y".repeat(60));
        let capped = Capped::new(text.as_bytes()).with_cap(100);
        assert!(serde_json::Value::deserialize(&mut deserializer(capped)).is_err());
    }

    #[test]
    fn a_line_ends_the_text() {
        let text = b"{\"a\": 1}  \nnext line\n";
        let mut reader: &[u8] = text;
        let mut capped = Capped::line(&mut reader);
        let v = serde_json::Value::deserialize(&mut deserializer(&mut capped)).unwrap();
        assert_eq!(v["a"], 1);
        capped.finish_line().unwrap();
        assert_eq!(reader, b"next line\n");
    }
}
