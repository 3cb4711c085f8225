//! Codefresh specs as files: `codefresh create|replace|apply -f FILE` reads a pipeline (or a
//! project) spec in YAML or JSON — `version`, `kind`, `metadata`, `spec`, as `codefresh get
//! pipeline NAME -o yaml` writes it — and checks its shape before anything is sent, so a
//! mistake is exit 4 naming the line and the field. What is sent is the file's document as
//! it stands, in its own key order.

use serde_norway::Value;

use crate::document::{self, At, Problem};
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

/// Reads and checks the spec in `path`, and its request body: exit 4 naming the line and
/// the field when it is not one Codefresh would take.
pub fn read(path: &str) -> Result<(Spec, serde_json::Value)> {
    let text = crate::document::read(path, "the spec file")?;
    let spec = parse(&text).map_err(|why| Error::usage(format!("{path}: {why}")))?;
    let body = spec
        .body()
        .map_err(|why| Error::usage(format!("{path}: {why}")))?;
    Ok((spec, body))
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
    let shape = check(&document).map_err(|p| document::explain(text, &p))?;
    Ok(Spec {
        kind: shape.0,
        name: shape.1,
        tags: shape.2,
        document,
    })
}

/// What cirelay checks of a spec: the fields whose mistakes would otherwise come back as a
/// refusal without a line number, or not at all. Everything else in the file is Codefresh's
/// to judge and is sent as it is. The kind, the name and a project's tags.
fn check(doc: &Value) -> std::result::Result<(Kind, String, Vec<String>), Problem> {
    let root = At::root(doc);
    root.get("version", |v| match v.value {
        Value::String(_) | Value::Number(_) => Ok(()),
        _ => Err(v.problem("expected text such as \"1.0\"")),
    })?;
    let kind = root.require("kind", |k| match k.text()? {
        "pipeline" => Ok(Kind::Pipeline),
        "project" => Ok(Kind::Project),
        other => Err(k.problem(format!(
            "`{other}` is not a kind cirelay creates: use `pipeline` or `project`"
        ))),
    })?;
    let (name, tags) = root.require("metadata", |m| {
        m.mapping()?;
        let name = m.require("name", named)?;
        m.get("project", |p| p.text().map(|_| ()))?;
        let texts = |t: At<'_>| {
            t.texts()?;
            Ok(t.value
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect::<Vec<_>>())
        };
        let tags = m.get("tags", texts)?;
        let labels = m.get("labels", |l| {
            l.mapping()?;
            l.get("tags", texts)
        })?;
        Ok((name, tags.or(labels.flatten()).unwrap_or_default()))
    })?;
    root.get("spec", |spec| {
        spec.mapping()?;
        spec.get("triggers", |t| {
            t.each(|trigger| {
                trigger.mapping()?;
                trigger.require("name", named)?;
                trigger.get("type", |k| k.text().map(|_| ()))?;
                Ok(())
            })
        })?;
        spec.get("steps", |s| s.mapping())?;
        spec.get("stages", |s| s.texts())?;
        spec.get("contexts", |c| c.texts())?;
        spec.get("variables", |vars| {
            vars.each(|v| {
                v.mapping()?;
                v.require("key", named).map(|_| ())
            })
        })?;
        spec.get("specTemplate", |t| {
            t.mapping()?;
            t.require("location", |l| l.text().map(|_| ()))
        })?;
        Ok(())
    })?;
    Ok((kind, name, tags))
}

/// A name that can stand in a request path and a log line: text, not empty, no control
/// character.
fn named(n: At<'_>) -> std::result::Result<String, Problem> {
    let name = n.text()?;
    if name.trim().is_empty() {
        return Err(n.problem("the name is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(n.problem(format!("the name {name:?} holds a control character")));
    }
    Ok(name.to_string())
}

/// Parses `text` as a spec and, when it is one, makes its body: what `-f FILE` does with a
/// file's text, without the file. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_spec(text: &str) {
    if let Ok(spec) = parse(text) {
        assert!(!spec.name.trim().is_empty(), "{text:?} gave an empty name");
        let _ = spec.body();
        // What `get pipeline -o yaml` writes reads back as the same document (tags and keys
        // that are lists or mappings, which no spec has and JSON cannot carry, are written
        // as text).
        fn unusual(v: &Value) -> bool {
            match v {
                Value::Tagged(_) => true,
                Value::Sequence(s) => s.iter().any(unusual),
                Value::Mapping(m) => m.iter().any(|(k, v)| {
                    matches!(k, Value::Sequence(_) | Value::Mapping(_)) || unusual(k) || unusual(v)
                }),
                _ => false,
            }
        }
        if !unusual(&spec.document) {
            let written = crate::yaml::to_string(&spec.document);
            let back: Value = serde_norway::from_str(&written)
                .unwrap_or_else(|e| panic!("{text:?} was written as {written:?}: {e}"));
            assert_eq!(back, spec.document, "{text:?} was written as {written:?}");
        }
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
