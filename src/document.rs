//! Files a command reads a resource from (`-f FILE`: a Codefresh pipeline spec, a Codeship
//! project): YAML or JSON (JSON is YAML too), at most 8 MiB, and errors that name the line
//! and the field, so a mistake is found before anything is sent.

use std::io::Read;

use serde::de::DeserializeOwned;
use serde_norway::Value;

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

/// One step of the way to a value in a document: a mapping's key or a list's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// What is wrong with a document, and where: the path to the value it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<Step>,
    pub message: String,
}

/// A value of a document and the way to it, for checks that name what they refuse.
#[derive(Clone, Copy)]
pub struct At<'v> {
    pub value: &'v Value,
    path: &'v [Step],
}

impl<'v> At<'v> {
    /// The document itself; `path` is a buffer for the paths of what is refused.
    pub fn root(value: &'v Value) -> Self {
        At { value, path: &[] }
    }

    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            path: self.path.to_vec(),
            message: message.into(),
        }
    }

    fn invalid(&self, expected: &str) -> Problem {
        let found = match self.value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => format!("boolean `{b}`"),
            Value::Number(n) => format!("number `{n}`"),
            Value::String(s) => format!("string {s:?}"),
            Value::Sequence(_) => "sequence".to_string(),
            Value::Mapping(_) => "map".to_string(),
            Value::Tagged(_) => "tagged value".to_string(),
        };
        self.problem(format!("invalid type: {found}, expected {expected}"))
    }

    /// A key of this mapping, unless it is absent or null; `f` gets it with its path.
    pub fn get<T>(
        &self,
        key: &str,
        f: impl FnOnce(At<'_>) -> Result<T, Problem>,
    ) -> Result<Option<T>, Problem> {
        match self.value.get(key).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(value) => {
                let mut path = self.path.to_vec();
                path.push(Step::Key(key.to_string()));
                f(At { value, path: &path }).map(Some)
            }
        }
    }

    /// As [`get`](Self::get), for a key that must be there.
    pub fn require<T>(
        &self,
        key: &str,
        f: impl FnOnce(At<'_>) -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        self.get(key, f)?
            .ok_or_else(|| self.problem(format!("missing field `{key}`")))
    }

    pub fn text(&self) -> Result<&'v str, Problem> {
        self.value.as_str().ok_or_else(|| self.invalid("a string"))
    }

    pub fn mapping(&self) -> Result<(), Problem> {
        match self.value.is_mapping() {
            true => Ok(()),
            false => Err(self.invalid("a map")),
        }
    }

    /// Each item of this list, with its path.
    pub fn each(&self, mut f: impl FnMut(At<'_>) -> Result<(), Problem>) -> Result<(), Problem> {
        let items = self
            .value
            .as_sequence()
            .ok_or_else(|| self.invalid("a sequence"))?;
        for (i, value) in items.iter().enumerate() {
            let mut path = self.path.to_vec();
            path.push(Step::Index(i));
            f(At { value, path: &path })?;
        }
        Ok(())
    }

    /// A list of strings.
    pub fn texts(&self) -> Result<(), Problem> {
        self.each(|item| item.text().map(|_| ()))
    }
}

/// `metadata.name`, `spec.triggers[0]`.
pub fn path_text(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The problem as a line: where in `text` its value stands, the path, what is wrong.
pub fn explain(text: &str, problem: &Problem) -> String {
    let path = path_text(&problem.path);
    let said = match path.is_empty() {
        true => problem.message.clone(),
        false => format!("{path}: {}", problem.message),
    };
    match locate(text, &problem.path) {
        Some((line, column)) => format!("line {line}, column {column}: {said}"),
        None => said,
    }
}

/// The line and column where the value at `path` starts: the parser walks to it and stops
/// there with an error, which carries its position.
fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let de = serde_norway::Deserializer::from_str(text);
    let found = serde::de::DeserializeSeed::deserialize(Locate(path), de);
    let err = found.err()?;
    let at = err.location()?;
    // Any other error: the text does not parse, which the caller found already.
    err.to_string()
        .contains(HERE)
        .then(|| (at.line(), at.column()))
}

const HERE: &str = "cirelay: here";

struct Locate<'p>(&'p [Step]);

impl<'de> serde::de::DeserializeSeed<'de> for Locate<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Locate<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Step::Key(want), rest)) = self.0.split_first() else {
            return Err(serde::de::Error::custom(HERE));
        };
        while let Some(key) = map.next_key::<Value>()? {
            if key.as_str() == Some(want) {
                return map.next_value_seed(Locate(rest));
            }
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Step::Index(want), rest)) = self.0.split_first() else {
            return Err(serde::de::Error::custom(HERE));
        };
        for _ in 0..*want {
            if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate(rest)).map(|_| ())
    }

    // A scalar ends the walk: it is the value, or the path goes through nothing.
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(HERE))
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
