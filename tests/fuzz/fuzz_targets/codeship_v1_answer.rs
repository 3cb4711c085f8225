//! Every answer cirelay reads from Codeship API v1 (a project with its builds, a restart),
//! decoded and mapped as the provider does with a real one: the input as a whole answer,
//! and as each string field of a well-formed one. Property: no answer panics (a bad one
//! is an error, exit 5).
#![no_main]

use cirelay::fuzzing::codeship_v1_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const PROJECT: &str = r#"{"repository_name": "acme/app", "builds": [
    {"id": 2, "uuid": "u-2", "status": "success", "branch": "main", "commit_id": "81d2282b8f1e"},
    {"id": 1, "uuid": "u-1", "status": "error", "branch": "main", "commit_id": "70c1171a"}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    codeship_v1_answer(text);
    let fields = [
        "/repository_name",
        "/builds/0/uuid",
        "/builds/0/status",
        "/builds/0/branch",
        "/builds/0/commit_id",
    ];
    for answer in fields::answers_with(PROJECT, &fields, text) {
        codeship_v1_answer(&answer);
    }
});
