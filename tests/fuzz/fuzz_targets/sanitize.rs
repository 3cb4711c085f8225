//! What cirelay prints from outside text (API answers, downstream logs).
//! Properties: `printable` leaves no control character but newline and tab and no bidi
//! override; `log_line` leaves no escape sequence but SGR colour (`ESC [ digits;… m`).
#![no_main]

use cirelay::sanitize::{log_line, printable};
use libfuzzer_sys::fuzz_target;

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|text: &str| {
    let out = printable(text);
    assert!(
        !out.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi(c)),
        "{out:?} from {text:?}"
    );
    let log = log_line(text);
    let mut rest = log.as_str();
    while let Some(at) = rest.find('\u{1b}') {
        let tail = &rest[at + 1..];
        let params = tail
            .strip_prefix('[')
            .unwrap_or_else(|| panic!("a bare ESC in {log:?} from {text:?}"));
        let end = params
            .find('m')
            .unwrap_or_else(|| panic!("an unterminated sequence in {log:?} from {text:?}"));
        assert!(
            params[..end].chars().all(|c| c.is_ascii_digit() || c == ';' || c == ':'),
            "not SGR in {log:?} from {text:?}"
        );
        rest = &params[end + 1..];
    }
    assert!(
        !log.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\u{1b}')) || is_bidi(c)),
        "{log:?} from {text:?}"
    );
});
