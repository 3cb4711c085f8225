//! Every answer cirelay reads from Codeship API v2 (sign-in, pages of builds, one build),
//! decoded and mapped as the provider does with a real one: the input as a whole answer,
//! and as each string field of a well-formed one. Property: no answer panics (a bad one
//! is an error, exit 5).
#![no_main]

use cirelay::fuzzing::codeship_v2_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const AUTH: &str = r#"{"access_token": "tok-123456", "expires_at": 1790003600,
    "organizations": [{"uuid": "aaaa-1111", "name": "Acme", "scopes": ["build.read"]}]}"#;
const PAGE: &str = r#"{"total": 2, "per_page": 50, "builds": [
    {"uuid": "u-2", "ref": "heads/main", "branch": "main", "commit_sha": "81d2282b8f1e",
     "status": "testing", "queued_at": "2026-11-01T12:00:01.193+00:00",
     "finished_at": "2026-11-01T12:05:00Z"},
    {"uuid": "u-1", "ref": "heads/main", "branch": "main", "commit_sha": "81d2282b8f1e",
     "status": "success", "queued_at": "2026-11-01T11:00:00Z",
     "finished_at": "2026-11-01T11:05:00Z"}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    codeship_v2_answer(text);
    let auth = [
        "/access_token",
        "/organizations/0/uuid",
        "/organizations/0/name",
        "/organizations/0/scopes/0",
    ];
    let page = [
        "/builds/0/uuid",
        "/builds/0/ref",
        "/builds/0/branch",
        "/builds/0/commit_sha",
        "/builds/0/status",
        "/builds/0/queued_at",
        "/builds/0/finished_at",
    ];
    let answers = fields::answers_with(AUTH, &auth, text)
        .into_iter()
        .chain(fields::answers_with(PAGE, &page, text));
    for answer in answers {
        codeship_v2_answer(&answer);
    }
});
