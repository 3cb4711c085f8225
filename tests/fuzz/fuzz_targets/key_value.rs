//! `-v KEY=VALUE`, `--param K=V`, `--param-string K=V`, and the typing of `--param` values.
//! Properties: no input panics; a pair splits at the first `=` (key + "=" + value is the
//! input), its key is not blank and holds no `=`; anything else is refused; a typed value
//! is a boolean only for `true`/`false`, a number only for what parses as that integer,
//! and otherwise the text unchanged.
#![no_main]

use cirelay::cli::{parse_key_value, typed_parameter};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match parse_key_value(raw) {
        Ok((key, value)) => {
            assert_eq!(format!("{key}={value}"), raw);
            assert!(!key.contains('='), "{raw:?}");
            assert!(!key.trim().is_empty(), "{raw:?}");
            match typed_parameter(&value) {
                Value::Bool(b) => assert_eq!(value, b.to_string()),
                Value::Number(n) => {
                    assert_eq!(n.as_i64(), value.parse::<i64>().ok(), "{value:?}");
                    assert!(!value.starts_with('+'), "{value:?}");
                }
                Value::String(s) => assert_eq!(s, value),
                other => panic!("{value:?} typed as {other}"),
            }
        }
        Err(e) => {
            let key = raw.split_once('=').map(|(k, _)| k);
            assert!(key.is_none_or(|k| k.trim().is_empty()), "{raw:?}: {e}");
        }
    }
});
