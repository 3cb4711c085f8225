//! A Codefresh build's log as cirelay reads it from the log database and the archive: the
//! input as a Firebase event stream (`event:`/`data:` lines, a `data:` line parsed as it
//! streams), as the entries a query answers, and as an archived log, and each of those
//! shapes with the input in their string fields. Property: nothing panics, however the
//! stream is cut or malformed (a bad one is an error: the log is then read by polling or
//! said unreadable in one warning line).
#![no_main]

use cirelay::fuzzing::codefresh_log;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const PUT: &str = r#"{"path": "/steps/build/logs/-Nabc", "data": "line\r\n"}"#;
const SNAPSHOT: &str = r#"{"path": "/", "data": {"status": "running", "steps": {"build": {"name": "build", "status": "running", "creationTimeStamp": 1700000000, "logs": {"-A": "one"}}}}}"#;
const ENTRIES: &str = r#"{"-A": "one\n", "-B": "two"}"#;
const ARCHIVE: &str = r#"{"steps": [{"name": "clone", "status": "success", "creationTimeStamp": 1, "logs": ["x\n"]}]}"#;

fuzz_target!(|data: &[u8]| {
    codefresh_log(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let events = [
        fields::answers_with(PUT, &["/path", "/data"], text),
        fields::answers_with(
            SNAPSHOT,
            &["/path", "/data/status", "/data/steps/build/name", "/data/steps/build/logs/-A"],
            text,
        ),
    ];
    for event in events.iter().flatten() {
        for kind in ["put", "patch"] {
            codefresh_log(format!("event: {kind}\ndata: {event}\n\n").as_bytes());
        }
    }
    for answer in fields::answers_with(ENTRIES, &["/-A"], text)
        .iter()
        .chain(&fields::answers_with(ARCHIVE, &["/steps/0/name", "/steps/0/logs/0"], text))
    {
        codefresh_log(answer.as_bytes());
    }
});
