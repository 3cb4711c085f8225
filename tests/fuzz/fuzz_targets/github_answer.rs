//! Every answer cirelay reads from GitHub (a dispatch's answer, a run, pages of runs and
//! jobs, a Link header, a job log's lines, a refusal), decoded and mapped as the provider
//! does with a real one: the input as a whole answer, and as each string field of a
//! well-formed one. Property: no answer panics (a bad one is an error: exit 5, or 6 for a
//! dispatch's).
#![no_main]

use cirelay::fuzzing::github_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const DISPATCHED: &str = r#"{"workflow_run_id": 9876543210, "run_url": "https://api.github.com/repos/acme/deploy/actions/runs/9876543210", "html_url": "https://github.com/acme/deploy/actions/runs/9876543210"}"#;
const RUN: &str = r#"{"id": 9876543210, "name": "Deploy", "run_number": 42, "run_attempt": 2, "status": "completed",
    "conclusion": "failure", "event": "workflow_dispatch", "head_branch": "main", "head_sha": "81d2282b",
    "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:05:00Z", "run_started_at": "2026-03-01T10:00:02Z",
    "actor": {"login": "octocat"}, "triggering_actor": {"login": "deploy-bot"}}"#;
const RUNS: &str = r#"{"total_count": 2, "workflow_runs": [
    {"id": 2, "status": "in_progress", "conclusion": null, "event": "workflow_dispatch", "head_branch": "main", "created_at": "2026-03-01T10:00:00Z"},
    {"id": 1, "status": "waiting", "event": "push", "head_branch": "dev", "created_at": "2026-02-01T10:00:00Z"}]}"#;
const JOBS: &str = r#"{"total_count": 1, "jobs": [{"id": 555, "name": "test (ubuntu)", "status": "completed", "conclusion": "timed_out", "run_attempt": 2}]}"#;
const REFUSAL: &str = r#"{"message": "Validation Failed", "errors": [{"code": "invalid", "message": "No ref found for: x"}, "return_run_details"]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    github_answer(text);
    let answers = [
        fields::answers_with(DISPATCHED, &["/run_url", "/html_url"], text),
        fields::answers_with(
            RUN,
            &[
                "/name",
                "/status",
                "/conclusion",
                "/event",
                "/head_branch",
                "/created_at",
                "/updated_at",
                "/run_started_at",
                "/actor/login",
            ],
            text,
        ),
        fields::answers_with(
            RUNS,
            &["/workflow_runs/0/status", "/workflow_runs/0/created_at", "/workflow_runs/1/event"],
            text,
        ),
        fields::answers_with(JOBS, &["/jobs/0/name", "/jobs/0/status", "/jobs/0/conclusion"], text),
        fields::answers_with(REFUSAL, &["/message", "/errors/0/message", "/errors/1"], text),
    ];
    for answer in answers.iter().flatten() {
        github_answer(answer);
    }
});
