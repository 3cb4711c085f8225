//! Files a command reads a resource from (`-f FILE`: a Codefresh pipeline spec, a Codeship
//! project): YAML or JSON (JSON is YAML too), at most 8 MiB, and errors that name the line
//! and the field, so a mistake is found before anything is sent.

use std::io::Read;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Larger is not a spec: it would not fit an API answer either.
const MAX_SIZE: u64 = crate::http::MAX_BODY;

/// The text of `path`; `what` names it in errors ("the spec file").
pub fn read(path: &str, what: &str) -> Result<String> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::usage(format!("cannot read {what} {path}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::usage(format!("cannot read {what} {path}: {e}")))?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(Error::usage(format!(
            "{path} is larger than {} MiB: it is not {what}",
            MAX_SIZE >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::usage(format!("{path} is not UTF-8 text: {what} is YAML or JSON")))
}

/// `text` as `T`; the error starts with where: `line 4, column 9: metadata.name: …`.
pub fn parse<T: DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    serde_norway::from_str(text).map_err(|e| located(&e))
}

fn located(e: &serde_norway::Error) -> String {
    let message = e.to_string();
    let Some(at) = e.location() else {
        return message;
    };
    let (line, column) = (at.line(), at.column());
    let message = message.replace(&format!(" at line {line} column {column}"), "");
    format!("line {line}, column {column}: {message}")
}

/// A text value checked while the parser stands on it, so that a refusal carries the
/// field's path and line (an error made after the value was read would carry neither):
/// `d.deserialize_str(Checked(|s| …))`.
pub struct Checked<F>(pub F);

impl<'de, T, F: FnOnce(&str) -> std::result::Result<T, String>> serde::de::Visitor<'de>
    for Checked<F>
{
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_start_with_the_line() {
        let why = parse::<Vec<u8>>("a: b\n").unwrap_err();
        assert!(
            why.starts_with("line 1, column 1: invalid type: map"),
            "{why}"
        );
        let err = read("/nonexistent/file.json", "the spec file").unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err
            .to_string()
            .contains("cannot read the spec file /nonexistent/file.json"));
    }
}
