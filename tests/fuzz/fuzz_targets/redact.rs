//! Redaction of everything cirelay prints.
//! Property: a registered secret of `SHORT` characters or more (once trimmed) never survives
//! in the redacted text, neither as it is nor URL-encoded, wherever it is embedded; a shorter
//! one never survives where it stands alone between spaces.
#![no_main]

use cirelay::fuzzing::redact_with;
use cirelay::secrets::SHORT;
use cirelay::url::encode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &str, &str)| {
    let (a, b, before, between, after) = input;
    let text = format!("{before}{a}{between}{}{after} {} ", encode(b), a.trim());
    let out = redact_with(&[a, b], &text);
    for secret in [a, b] {
        let secret = secret.trim();
        // A secret of asterisks only is indistinguishable from the mask that replaces it.
        if secret.is_empty() || secret.contains(char::is_whitespace) || secret.chars().all(|c| c == '*') {
            continue;
        }
        if secret.chars().count() < SHORT {
            // `a` also stands alone at the end, between spaces.
            if secret == a.trim() {
                assert!(
                    !out.ends_with(&format!(" {secret} ")),
                    "short secret {secret:?} survives alone in {out:?} (from {text:?})"
                );
            }
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
