//! Any answer as the HTTP layer reads it before a provider does: is it a rate limit, how
//! long does `Retry-After`/`RateLimit-Reset` ask to pause, and its one-line error.
//! The input is written like an answer: a status line, `Name: value` header lines, an
//! empty line, the body. Property: nothing panics.
#![no_main]

use cirelay::fuzzing::http_answer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(429);
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    http_answer(status, &headers, body);
});
