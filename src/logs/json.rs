//! Reading a JSON log that may be larger than cirelay should hold (a 50 MB step output, a
//! Firebase snapshot of a whole build) as it arrives: a small pull parser, so what is kept is
//! only what the caller takes. A string longer than [`MAX_STRING`] is refused before it is
//! held; a value the caller skips is never held at all; nesting deeper than [`MAX_DEPTH`] is
//! refused. Hand-written rather than serde's streaming deserializer: each serde visitor is
//! compiled into the static binary anew, and this is one small piece of code for all of them.

use std::io::{self, BufRead};

/// The longest string (a log entry, a key) a log's JSON may hold.
pub const MAX_STRING: usize = 8 << 20;
/// Deeper nesting is not a log (and would grow the stack).
pub const MAX_DEPTH: usize = 64;

/// A number as a log uses one (a step's start, in Unix seconds): its whole part, as text
/// or JSON may write it (`17`, `-3`, `1700000000.5`, `1.7e9` reads as 1). Whole numbers
/// only: reading every JSON number exactly would cost the static binary more than a
/// creation time needs.
pub fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    let whole = text.find(['.', 'e', 'E']).map_or(text, |at| &text[..at]);
    whole.parse::<i64>().ok().map(|n| n as f64)
}

/// What a value turned out to be. An object or an array is now open: its members are read
/// with [`Reader::next_key`] or [`Reader::next_item`], or skipped with [`Reader::close`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Object,
    Array,
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
}

/// JSON text read from `body`; with [`Reader::line`], only to the end of the current line
/// (one `data:` line of an event stream: JSON holds no raw newline, so the line ends it).
pub struct Reader<'a> {
    body: &'a mut dyn BufRead,
    cap: usize,
    one_line: bool,
    /// The line's end was reached.
    ended: bool,
    /// For each open object or array: whether a member was read (the next needs a comma).
    open: Vec<bool>,
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed JSON: {what}"),
    )
}

impl<'a> Reader<'a> {
    pub fn new(body: &'a mut dyn BufRead) -> Self {
        Reader {
            body,
            cap: MAX_STRING,
            one_line: false,
            ended: false,
            open: Vec::new(),
        }
    }

    /// The rest of the current line only.
    pub fn line(body: &'a mut dyn BufRead) -> Self {
        Reader {
            one_line: true,
            ..Reader::new(body)
        }
    }

    #[cfg(test)]
    fn with_cap(mut self, cap: usize) -> Self {
        self.cap = cap;
        self
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        if self.ended {
            return Ok(None);
        }
        match self.body.fill_buf()?.first() {
            Some(b'\n') if self.one_line => Ok(None),
            Some(b) => Ok(Some(*b)),
            None => Ok(None),
        }
    }

    fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.body.consume(1);
        }
        Ok(b)
    }

    /// The next byte that is not white space, not taken.
    fn token(&mut self) -> io::Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                return Ok(Some(b));
            }
            self.body.consume(1);
        }
        Ok(None)
    }

    fn expect(&mut self, want: u8) -> io::Result<()> {
        match self.token()? {
            Some(b) if b == want => {
                self.body.consume(1);
                Ok(())
            }
            _ => Err(malformed(&format!("expected `{}`", want as char))),
        }
    }

    fn begin(&mut self) -> io::Result<()> {
        if self.open.len() >= MAX_DEPTH {
            return Err(malformed("nested too deep"));
        }
        self.open.push(false);
        Ok(())
    }

    /// The next value; an object or array is opened, a string is read whole (within the cap).
    pub fn value(&mut self) -> io::Result<Value> {
        match self.token()? {
            Some(b'{') => {
                self.body.consume(1);
                self.begin()?;
                Ok(Value::Object)
            }
            Some(b'[') => {
                self.body.consume(1);
                self.begin()?;
                Ok(Value::Array)
            }
            Some(b'"') => {
                self.body.consume(1);
                Ok(Value::Text(self.string(true)?.unwrap_or_default()))
            }
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(malformed("unexpected character")),
            None => Err(malformed("it ends early")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> io::Result<Value> {
        for want in word {
            if self.byte()? != Some(*want) {
                return Err(malformed("unknown word"));
            }
        }
        Ok(value)
    }

    fn number(&mut self) -> io::Result<Value> {
        let mut text = Vec::new();
        while let Some(b) = self.peek()? {
            if !matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                break;
            }
            if text.len() >= 64 {
                return Err(malformed("a number too long"));
            }
            text.push(b);
            self.body.consume(1);
        }
        std::str::from_utf8(&text)
            .ok()
            .and_then(number)
            .map(Value::Number)
            .ok_or_else(|| malformed("not a number"))
    }

    /// A string's rest after its opening quote; `keep`: returned, else only read past.
    fn string(&mut self, keep: bool) -> io::Result<Option<String>> {
        let mut text: Vec<u8> = Vec::new();
        let mut len = 0usize;
        loop {
            let b = self
                .byte()?
                .ok_or_else(|| malformed("a string does not end"))?;
            len += 1;
            if len > self.cap {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "it holds a value longer than {} MiB, more than cirelay reads",
                        self.cap >> 20
                    ),
                ));
            }
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self
                        .byte()?
                        .ok_or_else(|| malformed("an escape does not end"))?;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.escaped_char()?,
                        _ => return Err(malformed("an unknown escape")),
                    };
                    if keep {
                        let mut utf8 = [0u8; 4];
                        text.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    }
                }
                b if b < 0x20 => return Err(malformed("a control character in a string")),
                b => {
                    if keep {
                        text.push(b);
                    }
                }
            }
        }
        Ok(keep.then(|| String::from_utf8_lossy(&text).into_owned()))
    }

    /// `\uXXXX`, and its low surrogate when it is a high one.
    fn escaped_char(&mut self) -> io::Result<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return Ok(char::from_u32(high).unwrap_or('\u{FFFD}'));
        }
        if self.byte()? != Some(b'\\') || self.byte()? != Some(b'u') {
            return Ok('\u{FFFD}');
        }
        let low = self.hex4()?;
        let c = 0x10000 + ((high - 0xD800) << 10) + low.wrapping_sub(0xDC00);
        Ok(char::from_u32(c).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> io::Result<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let b = self
                .byte()?
                .ok_or_else(|| malformed("an escape does not end"))?;
            let d = (b as char)
                .to_digit(16)
                .ok_or_else(|| malformed("a bad \\u escape"))?;
            n = n * 16 + d;
        }
        Ok(n)
    }

    /// Before the next member of the open object or array: its comma, or its end (`close`).
    fn member(&mut self, close: u8) -> io::Result<bool> {
        let Some(read_one) = self.open.last().copied() else {
            return Err(malformed("no object or array is open"));
        };
        if self.token()? == Some(close) {
            self.body.consume(1);
            self.open.pop();
            return Ok(false);
        }
        if read_one {
            self.expect(b',')?;
        }
        if let Some(last) = self.open.last_mut() {
            *last = true;
        }
        Ok(true)
    }

    /// The next key of the open object (its value is read next); `None` at its end.
    pub fn next_key(&mut self) -> io::Result<Option<String>> {
        if !self.member(b'}')? {
            return Ok(None);
        }
        self.expect(b'"')?;
        let key = self.string(true)?.unwrap_or_default();
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// Whether the open array has another item (read it next).
    pub fn next_item(&mut self) -> io::Result<bool> {
        self.member(b']')
    }

    /// Reads past the next value, holding none of it.
    pub fn skip(&mut self) -> io::Result<()> {
        if self.token()? == Some(b'"') {
            self.body.consume(1);
            return self.string(false).map(|_| ());
        }
        let value = self.value()?;
        self.close(&value)
    }

    /// Reads past the rest of `value` when it opened an object or an array.
    pub fn close(&mut self, value: &Value) -> io::Result<()> {
        match value {
            Value::Object => {
                while self.next_key()?.is_some() {
                    self.skip()?;
                }
            }
            Value::Array => {
                while self.next_item()? {
                    self.skip()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The next value when it is text; anything else is read past.
    pub fn text(&mut self) -> io::Result<Option<String>> {
        match self.value()? {
            Value::Text(t) => Ok(Some(t)),
            other => self.close(&other).map(|_| None),
        }
    }

    /// Reads and drops what is left of the line (after the value taken from it).
    pub fn finish_line(&mut self) -> io::Result<()> {
        loop {
            let buf = self.body.fill_buf()?;
            if buf.is_empty() {
                self.ended = true;
                return Ok(());
            }
            match buf.iter().position(|b| *b == b'\n') {
                Some(at) => {
                    self.body.consume(at + 1);
                    self.ended = true;
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    self.body.consume(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole value as plain data, for the tests.
    fn read(r: &mut Reader) -> io::Result<String> {
        Ok(match r.value()? {
            Value::Object => {
                let mut parts = Vec::new();
                while let Some(k) = r.next_key()? {
                    parts.push(format!("{k}={}", read(r)?));
                }
                format!("{{{}}}", parts.join(","))
            }
            Value::Array => {
                let mut parts = Vec::new();
                while r.next_item()? {
                    parts.push(read(r)?);
                }
                format!("[{}]", parts.join(","))
            }
            Value::Text(t) => format!("{t:?}"),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
        })
    }

    fn parse(text: &str) -> io::Result<String> {
        let mut body = text.as_bytes();
        read(&mut Reader::new(&mut body))
    }

    #[test]
    fn values() {
        assert_eq!(
            parse(r#" {"a": [1, -2.5e1, true, null, "x\n\"\u00e9\ud83d\ude00"], "b": {}} "#)
                .unwrap(),
            "{a=[1,-2,true,null,\"x\\n\\\"é😀\"],b={}}"
        );
        assert_eq!(number(" 1700000000 "), Some(1_700_000_000.0));
        assert_eq!(number("17.9"), Some(17.0));
        assert_eq!(number("x"), None);
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "[1 2]",
            "tru",
            "\"x",
            "\"\u{1}\"",
            "{,}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&"[".repeat(100)).is_err());
    }

    #[test]
    fn strings_longer_than_the_cap_are_refused() {
        let text = format!("{{\"a\": \"{}\"}}", "x".repeat(100));
        let read_with = |cap| {
            let mut body = text.as_bytes();
            let mut r = Reader::new(&mut body).with_cap(cap);
            r.value()?;
            r.next_key()?;
            r.text()
        };
        let err = read_with(99).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        assert_eq!(read_with(101).unwrap().unwrap().len(), 100);
    }

    #[test]
    fn skipping_holds_nothing_and_reads_past() {
        let mut body: &[u8] = br#"[{"big": "xxxx", "deep": [[1], {"a": "b"}]}, 7]"#;
        let mut r = Reader::new(&mut body);
        assert_eq!(r.value().unwrap(), Value::Array);
        assert!(r.next_item().unwrap());
        r.skip().unwrap();
        assert!(r.next_item().unwrap());
        assert_eq!(r.value().unwrap(), Value::Number(7.0));
        assert!(!r.next_item().unwrap());
    }

    #[test]
    fn a_line_ends_the_text() {
        let mut body: &[u8] = b"{\"a\": 1}  \nnext line\n";
        {
            let mut r = Reader::line(&mut body);
            assert_eq!(read(&mut r).unwrap(), "{a=1}");
            r.finish_line().unwrap();
        }
        assert_eq!(body, b"next line\n");
        let mut body: &[u8] = b"{\"a\": \nmore";
        assert!(read(&mut Reader::line(&mut body)).is_err());
    }
}
