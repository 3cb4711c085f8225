//! Redaction of everything cirelay prints.
//! Property: a registered secret (4 characters or more once trimmed) never survives in
//! the redacted text, neither as it is nor URL-encoded, wherever it is embedded.
#![no_main]

use cirelay::fuzzing::redact_with;
use cirelay::http::encode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &str, &str)| {
    let (a, b, before, between, after) = input;
    let text = format!("{before}{a}{between}{}{after}", encode(b));
    let out = redact_with(&[a, b], &text);
    for secret in [a, b] {
        let secret = secret.trim();
        if secret.chars().count() < 4 || secret.len() < 4 {
            continue;
        }
        assert!(
            !out.contains(secret),
            "secret {secret:?} survives in {out:?} (from {text:?})"
        );
        let encoded = encode(secret);
        assert!(
            !out.contains(&encoded),
            "encoded secret {encoded:?} survives in {out:?} (from {text:?})"
        );
    }
});
