//! A CircleCI step's output (`[{"message", "time", "type"}, …]` from its signed URL), read
//! as it arrives, made into lines and cleaned as cirelay prints them: the input as the
//! whole answer and as a message. Properties: nothing panics, and no printed line holds a
//! control character but tab and the ESC of a colour sequence (no `\r` overwrite, no
//! terminal title or cursor move), nor is longer than a log line may be.
#![no_main]

use cirelay::fuzzing::circleci_output;
use libfuzzer_sys::fuzz_target;

fn check(lines: &[String]) {
    for line in lines {
        assert!(line.chars().count() <= 4096, "a line too long");
        for c in line.chars() {
            assert!(
                !c.is_control() || c == '\t' || c == '\u{1b}',
                "control character {c:?} in {line:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(&circleci_output(data));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let message = serde_json::Value::String(text.to_string()).to_string();
    let answer = format!(r#"[{{"message": {message}, "time": "2026-11-01T10:00:00Z", "type": "out"}}]"#);
    check(&circleci_output(answer.as_bytes()));
});
