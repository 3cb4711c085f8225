//! `--var-file`: a JSON object of scalars, or KEY=VALUE lines.
//! Properties: no input panics; every variable read has a key that is not blank; in the
//! line form no key holds `=` and each variable is one of the file's lines.
#![no_main]

use cirelay::cli::parse_var_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(vars) = parse_var_file(text) else {
        return;
    };
    let json = text.trim_start().starts_with('{');
    for (key, value) in &vars {
        assert!(!key.trim().is_empty(), "{text:?} gave the key {key:?}");
        if !json {
            assert!(!key.contains('='), "{text:?} gave the key {key:?}");
            let line = format!("{key}={value}");
            assert!(
                text.lines().any(|l| l.trim() == line),
                "{text:?} gave {line:?}"
            );
        }
    }
});
