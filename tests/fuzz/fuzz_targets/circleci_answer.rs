//! Every answer cirelay reads from CircleCI (a trigger, a pipeline, pages of workflows and
//! pipelines, a rerun, a refusal), decoded and mapped as the provider does with a real one:
//! the input as a whole answer, and as each string field of a well-formed one. Property: no
//! answer panics (a bad one is an error: exit 5, or 6 for a trigger's or a rerun's).
#![no_main]

use cirelay::fuzzing::circleci_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const CREATED: &str = r#"{"id": "5034460f-c7c4-4c43-9457-de07e2029e7b", "number": 25, "state": "setup-pending", "message": "ok"}"#;
const PIPELINE: &str = r#"{"id": "5034460f-c7c4-4c43-9457-de07e2029e7b", "number": 25, "project_slug": "gh/acme/app",
    "state": "errored", "errors": [{"type": "config", "message": "bad config"}]}"#;
const WORKFLOWS: &str = r#"{"next_page_token": "pg-2", "items": [
    {"id": "0e530002-521a-4c40-9042-000000000002", "name": "build", "status": "failing", "created_at": "2026-01-01T00:00:02Z",
     "pipeline_number": 25, "project_slug": "gh/acme/app"},
    {"id": "0e530001-521a-4c40-9042-000000000001", "name": "build", "status": "success", "created_at": "2026-01-01T00:00:01Z",
     "pipeline_number": 25, "project_slug": "gh/acme/app"},
    {"id": "0e530004-521a-4c40-9042-000000000004", "name": "setup", "status": "success", "created_at": "2026-01-01T00:00:00Z",
     "pipeline_number": 25, "project_slug": "gh/acme/app", "tag": "setup"}]}"#;
const RERUN: &str = r#"{"workflow_id": "0e530003-521a-4c40-9042-000000000003"}"#;
const REFUSAL: &str = r#"{"message": "Branch not found"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    circleci_answer(text);
    let answers = [
        fields::answers_with(CREATED, &["/id", "/state", "/message"], text),
        fields::answers_with(
            PIPELINE,
            &[
                "/id",
                "/project_slug",
                "/state",
                "/errors/0/type",
                "/errors/0/message",
            ],
            text,
        ),
        fields::answers_with(
            WORKFLOWS,
            &[
                "/next_page_token",
                "/items/0/id",
                "/items/0/name",
                "/items/0/status",
                "/items/0/created_at",
                "/items/0/project_slug",
                "/items/2/tag",
            ],
            text,
        ),
        fields::answers_with(RERUN, &["/workflow_id"], text),
        fields::answers_with(REFUSAL, &["/message"], text),
    ];
    for answer in answers.iter().flatten() {
        circleci_answer(answer);
    }
});
