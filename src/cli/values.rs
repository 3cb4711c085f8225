//! The values flags and variables take: durations, `KEY=VALUE` pairs, var files, typed
//! CircleCI parameters, and the environment variables that set defaults.

use std::time::Duration;

use serde_json::Value;

use super::OutputMode;
use crate::error::{Error, Result};

/// `true`/`false` become booleans and integers numbers, as CircleCI's typed pipeline
/// parameters expect; everything else stays a string (`--param-string` forces one).
pub fn typed_parameter(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match raw.parse::<i64>() {
            Ok(n) if !raw.starts_with('+') => Value::from(n),
            _ => Value::String(raw.to_string()),
        },
    }
}

/// `KEY=VALUE`: the value is everything after the first `=` and may itself contain `=`.
pub fn parse_key_value(raw: &str) -> std::result::Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.to_string(), value.to_string())),
        Some(_) => Err(format!("`{raw}`: the key before `=` is empty")),
        None => Err(format!("`{raw}`: expected KEY=VALUE")),
    }
}

/// One entry per key, in first-seen order, with the last value given (a flag overrides
/// the same key from a file, and a key given twice is sent once).
pub fn last_wins<V: Clone>(pairs: &[(String, V)]) -> Vec<(String, V)> {
    let mut out: Vec<(String, V)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(seen, _)| seen == k) {
            Some(entry) => entry.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// `[{"key": K, "value": V}, …]`: how Codefresh's run and GitLab's pipeline bodies list
/// variables.
pub fn key_value_list(pairs: &[(String, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect(),
    )
}

pub fn read_var_file(path: &str) -> Result<Vec<(String, String)>> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        return Err(Error::usage(format!(
            "--var-file {path}: YAML is not supported; write the variables as a JSON object ({{\"KEY\": \"VALUE\"}}) or as KEY=VALUE lines"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("--var-file {path}: cannot read it: {e}")))?;
    parse_var_file(&text).map_err(|e| Error::usage(format!("--var-file {path}: {e}")))
}

/// A var file is a JSON object of scalars, or `KEY=VALUE` lines (blank lines and `#`
/// comments skipped). The Codefresh CLI accepts both spellings in the wild.
pub fn parse_var_file(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    if text.trim_start().starts_with('{') {
        // `Map` keeps the file's order only with serde_json's preserve_order feature;
        // sorted order is still deterministic, which is what the request needs.
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        return object
            .into_iter()
            .map(|(k, v)| match v {
                _ if k.trim().is_empty() => Err("a variable's name is empty".to_string()),
                Value::String(s) => Ok((k, s)),
                Value::Number(_) | Value::Bool(_) => Ok((k, v.to_string())),
                _ => Err(format!(
                    "the value of `{k}` must be a string, number or boolean"
                )),
            })
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(n, line)| parse_key_value(line.trim()).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// `250ms`, `10s`, `5m`, `1h`, or a bare number of seconds; a decimal (`1.5m`, `0.5`) as well.
pub fn parse_duration(raw: &str) -> std::result::Result<Duration, String> {
    parse_duration_with_unit(raw, 1)
}

/// Like [`parse_duration`], but a bare number counts `bare_unit_secs` seconds each.
/// Anything finer than a millisecond is dropped.
pub fn parse_duration_with_unit(
    raw: &str,
    bare_unit_secs: u64,
) -> std::result::Result<Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let bad =
        || format!("`{raw}` is not a duration: use 250ms, 10s, 5m, 1h or a number of seconds");
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(bad());
    }
    let millis_per: u64 = match unit {
        "" => bare_unit_secs.checked_mul(1000).ok_or_else(bad)?,
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let whole_millis = whole
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per))
        .ok_or_else(bad)?;
    // The fraction in millis: at most the first 9 digits count (nanosecond precision of
    // the unit, more than enough), computed in u128 so no unit can overflow it.
    let digits = &fraction[..fraction.len().min(9)];
    let fraction_millis = if digits.is_empty() {
        0
    } else {
        let scale = 10u128.pow(digits.len() as u32);
        let value: u128 = digits.parse().map_err(|_| bad())?;
        u64::try_from(value * u128::from(millis_per) / scale).map_err(|_| bad())?
    };
    whole_millis
        .checked_add(fraction_millis)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

pub fn duration_from_env(name: &str, default: Duration) -> Result<Duration> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => {
            parse_duration(&raw).map_err(|e| Error::usage(format!("{name}: {e}")))
        }
        _ => Ok(default),
    }
}

pub fn positive(d: Duration, what: &str) -> Result<Duration> {
    if d.is_zero() {
        return Err(Error::usage(format!("{what} must be greater than 0")));
    }
    Ok(d)
}

pub fn parse_output(flag: Option<String>, env: Option<String>) -> Result<OutputMode> {
    let (raw, source) = match (flag, env) {
        (Some(f), _) => (f, "--output"),
        (None, Some(e)) if !e.is_empty() => (e, "CIRELAY_OUTPUT"),
        _ => return Ok(OutputMode::Text),
    };
    match raw.as_str() {
        "text" => Ok(OutputMode::Text),
        "json" => Ok(OutputMode::Json),
        other => Err(Error::usage(format!(
            "{source}: `{other}` is not text or json"
        ))),
    }
}

pub fn env_flag(name: &str) -> Result<bool> {
    match std::env::var(name)
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "0" | "false" | "no" => Ok(false),
        "1" | "true" | "yes" => Ok(true),
        other => Err(Error::usage(format!("{name}: `{other}` is not 1 or 0"))),
    }
}

/// The first of `names` that is set to a non-empty value, with the name that supplied it
/// (errors name the variable the user actually set).
pub fn env_first(names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Some((*name, v.trim().to_string())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("42"), Ok(Duration::from_secs(42)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration_with_unit("3", 60),
            Ok(Duration::from_secs(180))
        );
        assert_eq!(
            parse_duration_with_unit("90s", 60),
            Ok(Duration::from_secs(90))
        );
        // Found by fuzzing: a bare unit too large for milliseconds overflowed.
        assert!(parse_duration_with_unit("737464438981918716", 71_788_209_565_797_119).is_err());
        assert!(parse_duration_with_unit("1", u64::MAX / 999).is_err());
        assert_eq!(
            parse_duration_with_unit("0", u64::MAX / 1000),
            Ok(Duration::ZERO)
        );
        // Decimals, as the Codefresh CLI's `wait -t 0.5` (minutes) allows.
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(
            parse_duration_with_unit("0.5", 60),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(parse_duration("1.0005s"), Ok(Duration::from_millis(1000)));
        assert_eq!(
            parse_duration("2.999999999999999999999h"),
            Ok(Duration::from_millis(3 * 3_600_000 - 1))
        );
        for bad in [
            "",
            "s",
            "5x",
            "-1",
            ".5",
            "5.",
            "1.2.3",
            "1.5.m",
            "5 m",
            "99999999999999999999",
            "18446744073709551615h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn key_values_split_at_the_first_equals() {
        assert_eq!(parse_key_value("A=b=c d"), Ok(("A".into(), "b=c d".into())));
        assert_eq!(parse_key_value("A="), Ok(("A".into(), "".into())));
        assert!(parse_key_value("A").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    #[test]
    fn var_files() {
        let json = parse_var_file(r#"{"A": "1=2", "B": 3, "C": true}"#).unwrap();
        assert_eq!(
            json,
            vec![
                ("A".into(), "1=2".into()),
                ("B".into(), "3".into()),
                ("C".into(), "true".into())
            ]
        );
        let lines = parse_var_file("# c\nA=x y\n\nB=\n").unwrap();
        assert_eq!(
            lines,
            vec![("A".into(), "x y".into()), ("B".into(), "".into())]
        );
        assert!(parse_var_file("{\"A\": [1]}").is_err());
        assert!(parse_var_file("{broken").is_err());
        assert!(parse_var_file("NOEQUALS").unwrap_err().contains("line 1"));
        // Found by fuzzing: a JSON file could name a variable with nothing.
        for blank in [r#"  {"": "x", "K": 1.5e3}"#, r#"{"A": "1", " ": true}"#] {
            assert!(
                parse_var_file(blank).unwrap_err().contains("name is empty"),
                "{blank}"
            );
        }
    }

    #[test]
    fn typed_parameters() {
        assert_eq!(typed_parameter("true"), Value::Bool(true));
        assert_eq!(typed_parameter("false"), Value::Bool(false));
        assert_eq!(typed_parameter("-12"), Value::from(-12));
        assert_eq!(typed_parameter("+12"), Value::from("+12"));
        assert_eq!(typed_parameter("1.5"), Value::from("1.5"));
        assert_eq!(typed_parameter("True"), Value::from("True"));
    }
}
