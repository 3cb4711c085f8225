//! Every answer cirelay reads from CircleCI (a trigger, a pipeline, pages of workflows and pipelines, a rerun, a refusal), decoded and mapped as the provider does
//! with a real one. Property: no answer panics (a bad one is an error, exit 5).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        cirelay::fuzzing::circleci_answer(body);
    }
});
