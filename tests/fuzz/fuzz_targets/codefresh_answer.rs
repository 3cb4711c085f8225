//! Every answer cirelay reads from Codefresh (a started build's id, a build, a pipeline, a
//! workflow list), decoded and mapped as the provider does with a real one: the input as a
//! whole answer, and as each string field of a well-formed one. Property: no answer panics
//! (a bad one is an error, exit 5).
#![no_main]

use cirelay::fuzzing::codefresh_answer;
use libfuzzer_sys::fuzz_target;

#[path = "../common/fields.rs"]
mod fields;

const BUILD: &str = r#"{"id": "b-2", "_id": "b-2", "status": "running", "progress": "p-2",
    "pipelineName": "proj/pipe", "branchName": "main"}"#;
const LIST: &str = r#"{"workflows": {"docs": [{"_id": "b-1", "status": "error"}]}}"#;
const PIPELINE: &str = r#"{"metadata": {"id": "pipe-1"}}"#;
const STARTED: &str = r#"{"id": "b-3"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    codefresh_answer(text);
    let answers = [
        fields::answers_with(
            BUILD,
            &[
                "/id",
                "/_id",
                "/status",
                "/progress",
                "/pipelineName",
                "/branchName",
            ],
            text,
        ),
        fields::answers_with(
            LIST,
            &["/workflows/docs/0/_id", "/workflows/docs/0/status"],
            text,
        ),
        fields::answers_with(PIPELINE, &["/metadata/id"], text),
        fields::answers_with(STARTED, &["/id"], text),
        // The started build's id as a JSON string.
        vec![serde_json::Value::String(text.to_string()).to_string()],
    ];
    for answer in answers.iter().flatten() {
        codefresh_answer(answer);
    }
});
