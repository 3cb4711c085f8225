//! Every answer cirelay reads from GitLab (a pipeline, pages of pipelines and jobs, a
//! project, a refusal in each of GitLab's message shapes, an `X-Next-Page`, a
//! `Content-Range`), and the same bytes as a job trace cut into printed lines (section
//! markers, partial lines, split characters). Property: nothing panics; a bad answer is an
//! error (exit 5, or 6 for a trigger's or a retry's).
#![no_main]

use cirelay::fuzzing::gitlab_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const PIPELINE: &str = r#"{"id": 1234, "iid": 7, "status": "running", "ref": "main", "sha": "81d2282b",
    "web_url": "https://gitlab.com/acme/app/-/pipelines/1234", "created_at": "2026-01-01T00:00:00Z",
    "finished_at": null}"#;
const JOBS: &str = r#"[{"id": 9, "name": "test", "status": "failed", "stage": "test", "allow_failure": false,
    "web_url": "https://gitlab.com/acme/app/-/jobs/9"}]"#;
const PROJECT: &str = r#"{"id": 42, "default_branch": "main"}"#;
const REFUSAL: &str = r#"{"message": {"base": ["Reference not found"]}}"#;
const OAUTH: &str = r#"{"error": "insufficient_scope", "error_description": "higher privileges"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    gitlab_answer(text);
    let answers = [
        fields::answers_with(PIPELINE, &["/status", "/ref", "/web_url", "/created_at"], text),
        fields::answers_with(JOBS, &["/0/name", "/0/status", "/0/web_url"], text),
        fields::answers_with(PROJECT, &["/default_branch"], text),
        fields::answers_with(REFUSAL, &["/message/base/0"], text),
        fields::answers_with(OAUTH, &["/error", "/error_description"], text),
    ];
    for answer in answers.iter().flatten() {
        gitlab_answer(answer);
    }
});
