//! Spec files (`codefresh create|replace|apply -f`, `codeship project create -f`) and
//! `~/.cfconfig`: YAML or JSON from the user's disk, read by serde_norway (libyaml's parser,
//! unsafe code: worth a run with FUZZ_SANITIZER=address). Properties: no input panics or
//! overflows the stack (anchors, deep nesting); a spec that is read has a name, a context
//! that is read has a key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        cirelay::fuzzing::spec_file(text);
    }
});
