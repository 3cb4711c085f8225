//! Codefresh specs as files: `codefresh create|replace|apply -f FILE` reads a pipeline (or a
//! project) spec in YAML or JSON — `version`, `kind`, `metadata`, `spec`, as `codefresh get
//! pipeline NAME -o yaml` writes it — and checks its shape before anything is sent, so a
//! mistake is exit 4 naming the line and the field. What is sent is the file's document as
//! it stands, in its own key order.

use serde::de::Deserializer;
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use crate::document::{self, Checked};
use crate::error::{Error, Result};

/// What a spec describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pipeline,
    Project,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Pipeline => "pipeline",
            Kind::Project => "project",
        }
    }
}

/// A spec read from a file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub kind: Kind,
    /// `metadata.name`: `project/pipeline` or a pipeline's own name, or a project's.
    pub name: String,
    /// A project's `metadata.tags`.
    pub tags: Vec<String>,
    /// The whole document, to send.
    pub document: Value,
}

impl Spec {
    /// The document as a request body. Keys that are not text have no JSON form.
    pub fn body(&self) -> std::result::Result<serde_json::Value, String> {
        serde_json::to_value(&self.document)
            .map_err(|e| format!("it cannot be sent as JSON ({e}); every key must be text"))
    }
}

/// Reads and checks the spec in `path`: exit 4 naming the line and the field when it is not
/// one Codefresh would take.
pub fn read(path: &str) -> Result<Spec> {
    let text = crate::document::read(path, "the spec file")?;
    let spec = parse(&text).map_err(|why| Error::usage(format!("{path}: {why}")))?;
    spec.body()
        .map_err(|why| Error::usage(format!("{path}: {why}")))?;
    Ok(spec)
}

/// A spec's text, YAML or JSON (JSON is YAML too, tab-indented JSON as the Codefresh CLI's
/// `-o json` writes it included): the document, checked. The error says where and what.
pub fn parse(text: &str) -> std::result::Result<Spec, String> {
    if text.trim().is_empty() {
        return Err(
            "the file is empty: a spec has `version`, `kind`, `metadata` and `spec`".into(),
        );
    }
    let mut document: Value = document::parse(text)?;
    // Anchors and `<<: *defaults` merges are common in pipeline steps; Codefresh takes JSON,
    // so they are resolved here.
    document.apply_merge().map_err(|e| e.to_string())?;
    if !document.is_mapping() {
        return Err(
            "the document is not a mapping: a spec has `version`, `kind`, `metadata` and `spec`"
                .into(),
        );
    }
    let shape: Shape = document::parse(text)?;
    Ok(Spec {
        kind: shape.kind,
        name: shape.metadata.name.0,
        tags: shape
            .metadata
            .tags
            .or(shape.metadata.labels.and_then(|l| l.tags))
            .unwrap_or_default(),
        document,
    })
}

/// What cirelay checks of a spec. Everything else in the file is Codefresh's to judge and
/// is sent as it is; these are the fields whose mistakes would otherwise come back as a
/// refusal without a line number, or not at all.
#[derive(Deserialize)]
#[allow(dead_code)] // read for their checks, not their values
struct Shape {
    #[serde(default)]
    version: Option<Version>,
    kind: Kind,
    metadata: Metadata,
    #[serde(default)]
    spec: Option<PipelineSpec>,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(Checked(|word: &str| match word {
            "pipeline" => Ok(Kind::Pipeline),
            "project" => Ok(Kind::Project),
            other => Err(format!(
                "`{other}` is not a kind cirelay creates: use `pipeline` or `project`"
            )),
        }))
    }
}

/// `"1.0"`, or `1.0` unquoted.
#[derive(Deserialize)]
#[serde(untagged)]
enum Version {
    Text(#[allow(dead_code)] String),
    Number(#[allow(dead_code)] f64),
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Metadata {
    name: Name,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<Labels>,
}

#[derive(Deserialize)]
struct Labels {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// A name that can stand in a request path and a log line: text, not empty, no control
/// character.
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(Checked(|name: &str| {
            if name.trim().is_empty() {
                return Err("the name is empty".to_string());
            }
            if name.chars().any(char::is_control) {
                return Err(format!("the name {name:?} holds a control character"));
            }
            Ok(Name(name.to_string()))
        }))
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PipelineSpec {
    #[serde(default)]
    triggers: Option<Vec<Trigger>>,
    #[serde(default)]
    steps: Option<Mapping>,
    #[serde(default)]
    stages: Option<Vec<String>>,
    #[serde(default)]
    variables: Option<Vec<Variable>>,
    #[serde(default)]
    contexts: Option<Vec<String>>,
    #[serde(default, rename = "specTemplate")]
    spec_template: Option<SpecTemplate>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Trigger {
    name: Name,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Variable {
    key: Name,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct SpecTemplate {
    location: String,
}

/// Parses `text` as a spec and, when it is one, makes its body: what `-f FILE` does with a
/// file's text, without the file. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_spec(text: &str) {
    if let Ok(spec) = parse(text) {
        assert!(!spec.name.trim().is_empty(), "{text:?} gave an empty name");
        let _ = spec.body();
    }
    // The same text as `~/.cfconfig`.
    if let Ok(Some(config)) = super::cfconfig::parse(text) {
        if let Ok(Some(context)) = super::cfconfig::current_of(&config, "f") {
            assert!(!context.token.is_empty(), "{text:?} gave an empty key");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "version: '1.0'\nkind: pipeline\nmetadata:\n  name: acme/deploy\n  project: acme\n  labels:\n    tags: [prod]\nspec:\n  triggers:\n    - name: on-push\n      type: git\n  variables:\n    - key: IMAGE\n      value: app\n  stages: [build, deploy]\n  steps:\n    build: &build\n      image: alpine\n      commands: [make]\n    again:\n      <<: *build\n      title: again\n";

    #[test]
    fn a_spec_is_read_in_its_own_key_order_with_merges_resolved() {
        let spec = parse(SPEC).unwrap();
        assert_eq!(spec.kind, Kind::Pipeline);
        assert_eq!(spec.name, "acme/deploy");
        let keys: Vec<&str> = spec
            .document
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(keys, ["version", "kind", "metadata", "spec"]);
        let body = spec.body().unwrap();
        assert_eq!(body["spec"]["steps"]["again"]["image"], "alpine");
        assert_eq!(body["spec"]["steps"]["again"]["title"], "again");
    }

    #[test]
    fn json_as_the_codefresh_cli_writes_it_is_a_spec_too() {
        let json = "{\n\t\"version\": \"1.0\",\n\t\"kind\": \"pipeline\",\n\t\"metadata\": {\n\t\t\"name\": \"acme/deploy\"\n\t},\n\t\"spec\": {\n\t\t\"steps\": {}\n\t}\n}\n";
        let spec = parse(json).unwrap();
        assert_eq!(spec.name, "acme/deploy");
        assert_eq!(spec.body().unwrap()["spec"]["steps"], serde_json::json!({}));
    }

    #[test]
    fn a_project_spec_names_its_tags() {
        let spec = parse("kind: project\nmetadata:\n  name: acme\n  tags: [a, b]\n").unwrap();
        assert_eq!(
            (spec.kind, spec.tags),
            (Kind::Project, vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn mistakes_name_the_line_and_the_field() {
        for (text, wanted) in [
            ("", "the file is empty"),
            ("- a\n", "the document is not a mapping"),
            ("kind: pipeline\n", "missing field `metadata`"),
            ("kind: pipelin\nmetadata: {name: x}\n", "line 1, column 7: kind: `pipelin` is not a kind"),
            ("kind: pipeline\nmetadata:\n  name: [1]\n", "line 3, column 9: metadata.name: invalid type: sequence, expected a string"),
            ("kind: pipeline\nmetadata:\n  name: ''\n", "metadata.name: the name is empty"),
            (
                "kind: pipeline\nmetadata: {name: x}\nspec:\n  triggers:\n    - type: git\n",
                "line 5, column 7: spec.triggers[0]: missing field `name`",
            ),
            (
                "kind: pipeline\nmetadata: {name: x}\nspec:\n  stages: build\n",
                "line 4, column 11: spec.stages: invalid type: string \"build\", expected a sequence",
            ),
            ("kind: pipeline\nmetadata:\n  name: a\n  name: b\n", "duplicate"),
            ("kind: pipeline\nmetadata: {name: x\n", "line 2"),
            ("a: &a [*a]\n", "recursion limit exceeded"),
            ("kind: pipeline\nmetadata: {name: x}\n---\nkind: pipeline\n", "more than one document"),
            ("kind: pipeline\nmetadata:\n  name: \"a\\nb\"\n", "control character"),
        ] {
            let why = parse(text).unwrap_err();
            assert!(why.contains(wanted), "{text:?}: {why}");
        }
        let keys =
            parse("kind: pipeline\nmetadata: {name: x}\nspec: {steps: {[1, 2]: a}}\n").unwrap();
        assert!(keys.body().unwrap_err().contains("every key must be text"));
    }

    #[test]
    fn a_missing_file_is_a_usage_error() {
        let err = read("/nonexistent/spec.yml").unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains("/nonexistent/spec.yml"), "{err}");
    }
}
