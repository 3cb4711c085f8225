//! Shared by the answer targets: raw mutations of a JSON answer rarely keep it well-formed
//! while changing a string value the provider parses further (a timestamp, a commit id, a
//! status), so each target also feeds its input as the value of each such field of a
//! well-formed answer.

use serde_json::Value;

/// `template` with the string at each JSON `pointer` replaced by `text`, one answer per
/// pointer.
pub fn answers_with(template: &str, pointers: &[&str], text: &str) -> Vec<String> {
    let template: Value = serde_json::from_str(template).expect("the template is JSON");
    pointers
        .iter()
        .map(|pointer| {
            let mut answer = template.clone();
            *answer
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{pointer} is in the template")) =
                Value::String(text.to_string());
            answer.to_string()
        })
        .collect()
}
