//! The vendors' official OpenAPI specs (copies in `tests/specs/`, so a fresh clone tests
//! against them) and one check of a request the real binary sent against them: a documented
//! method and path, documented query parameters, the documented auth header, and a body
//! that validates against the operation's request schema (no body where it takes none).
//!
//! To update a spec, replace its file with the vendor's current one and run the suites that
//! load it (`cargo test specs::`).

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::support::Recorded;

pub struct Spec {
    pub doc: Value,
    /// Where the spec's paths start in a request's path (`/api/v2`, `/api`).
    base: &'static str,
    /// Path parameters that span several segments (CircleCI's `{project-slug}` is
    /// `vcs/org/repo`), with their number of segments.
    spanning: &'static [(&'static str, usize)],
    /// The name of the security scheme every request must carry.
    auth_scheme: &'static str,
}

pub struct Operation {
    pub id: String,
    pub template: String,
    pub op: Value,
}

impl Spec {
    pub fn load(
        file: &str,
        base: &'static str,
        spanning: &'static [(&'static str, usize)],
        auth_scheme: &'static str,
    ) -> Spec {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/specs")
            .join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the spec is expected at {}: {e}", path.display()));
        Spec {
            doc: serde_json::from_str(&text).expect("the spec is JSON"),
            base,
            spanning,
            auth_scheme,
        }
    }

    /// The spec's operation for a request: method and path. The most literal template wins;
    /// a path that matches no operation, or two equally well, fails the test.
    pub fn operation(&self, method: &str, path: &str) -> Operation {
        let segments: Vec<&str> = path
            .strip_prefix(self.base)
            .unwrap_or_else(|| panic!("{path} is not under {}", self.base))
            .trim_start_matches('/')
            .split('/')
            .collect();
        let mut found: Vec<(usize, Operation)> = Vec::new();
        for (template, ops) in self.doc["paths"].as_object().unwrap() {
            let Some(op) = ops.get(method.to_ascii_lowercase()) else {
                continue;
            };
            // A trailing slash in a template (`/builds/{serviceId}/`) is not a segment.
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if let Some(literals) = self.matches(&parts, &segments) {
                found.push((
                    literals,
                    Operation {
                        id: op["operationId"].as_str().unwrap_or(template).to_string(),
                        template: template.clone(),
                        op: op.clone(),
                    },
                ));
            }
        }
        found.sort_by_key(|(literals, _)| std::cmp::Reverse(*literals));
        match found.as_slice() {
            [] => panic!("{method} {path} is not an operation of the spec"),
            [(a, x), (b, y), ..] if a == b => panic!(
                "{method} {path} matches several operations: {} and {}",
                x.template, y.template
            ),
            _ => found.remove(0).1,
        }
    }

    /// The number of literal segments matched, or `None`.
    fn matches(&self, template: &[&str], path: &[&str]) -> Option<usize> {
        let Some((t, rest)) = template.split_first() else {
            return path.is_empty().then_some(0);
        };
        let span = self
            .spanning
            .iter()
            .find(|(name, _)| name == t)
            .map_or(1, |(_, n)| *n);
        if path.len() < span {
            return None;
        }
        let (here, after) = path.split_at(span);
        if t.starts_with('{') {
            if here.iter().any(|s| s.is_empty()) {
                return None;
            }
            self.matches(rest, after)
        } else if here == [*t] {
            self.matches(rest, after).map(|n| n + 1)
        } else {
            None
        }
    }

    /// An operation's parameters; they may be `$ref`s into `#/components/parameters`.
    pub fn parameters(&self, op: &Value) -> Vec<Value> {
        op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap();
                    self.doc["components"]["parameters"][name].clone()
                }
                None => p,
            })
            .collect()
    }

    /// A validator for one of the spec's schemas; `$ref`s resolve because the spec's
    /// (converted) schemas travel along in the same document.
    pub fn validator(&self, schema: &Value) -> jsonschema::Validator {
        validator(&self.doc, schema)
    }

    /// The request schema of an operation, by template and method.
    pub fn request_schema(&self, template: &str, method: &str) -> jsonschema::Validator {
        let schema = &self.doc["paths"][template][method]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert!(
            !schema.is_null(),
            "{method} {template} has a request schema"
        );
        self.validator(schema)
    }

    /// Checks one recorded request against the spec; returns its operation id.
    pub fn check(&self, req: &Recorded) -> String {
        let what = req.line();
        let op = self.operation(&req.method, req.path());

        let auth = &self.doc["components"]["securitySchemes"][self.auth_scheme];
        assert_eq!(auth["in"], "header", "{}", self.auth_scheme);
        let header = auth["name"].as_str().unwrap();
        assert!(req.header(header).is_some(), "{what}: no {header} header");

        let documented = self.parameters(&op.op);
        let sent: Vec<&str> = req
            .target
            .split_once('?')
            .map(|(_, query)| query.split('&').map(|p| p.split('=').next().unwrap()))
            .into_iter()
            .flatten()
            .collect();
        for name in &sent {
            assert!(
                documented
                    .iter()
                    .any(|p| p["in"] == "query" && p["name"] == *name),
                "{what}: query parameter {name} is not documented for {}",
                op.template
            );
        }
        for p in documented
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
        {
            let name = p["name"].as_str().unwrap();
            assert!(
                sent.contains(&name),
                "{what}: the required query parameter {name} of {} is missing",
                op.template
            );
        }
        for p in documented.iter().filter(|p| p["in"] == "path") {
            // A path parameter with an enum (the provider of CircleCI's pipeline/run) must be
            // one of it.
            if let Some(allowed) = p["schema"]["enum"].as_array() {
                let placeholder = format!("{{{}}}", p["name"].as_str().unwrap());
                let at = op
                    .template
                    .trim_start_matches('/')
                    .split('/')
                    .position(|s| s == placeholder)
                    .unwrap();
                let segment = req
                    .path()
                    .strip_prefix(self.base)
                    .unwrap()
                    .trim_start_matches('/')
                    .split('/')
                    .nth(at);
                assert!(
                    allowed.iter().any(|a| a.as_str() == segment),
                    "{what}: {segment:?} is not one of {allowed:?}"
                );
            }
        }

        let schema = &op.op["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            assert!(
                req.body.is_empty(),
                "{what}: {} takes no body, but got {}",
                op.id,
                req.body
            );
            return op.id;
        }
        assert_eq!(
            req.header("content-type"),
            Some("application/json"),
            "{what}"
        );
        let body = req.json();
        let errors: Vec<String> = self
            .validator(schema)
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} body {body} does not match the {} request schema: {errors:?}",
            op.id
        );
        op.id
    }
}

/// OpenAPI 3.0's `nullable: true` (and the older `x-nullable`) means "or null"; JSON Schema
/// says that with the type list.
pub fn openapi_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let nullable = [map.get("nullable"), map.get("x-nullable")]
                .into_iter()
                .any(|n| n == Some(&Value::Bool(true)));
            if nullable {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(e)) = map.get_mut("enum") {
                    if !e.contains(&Value::Null) {
                        e.push(Value::Null);
                    }
                }
            }
            map.values_mut().for_each(openapi_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

pub fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let mut schemas = spec["components"]["schemas"].clone();
    openapi_to_json_schema(&mut schemas);
    let mut schema = schema.clone();
    openapi_to_json_schema(&mut schema);
    let document = json!({ "allOf": [schema], "components": { "schemas": schemas } });
    // OpenAPI 3.0 schemas are JSON Schema draft 4 with extensions; `uuid` became a
    // built-in format only later, so it is checked by hand.
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .with_format("uuid", cirelay::circleci::is_uuid)
        .build(&document)
        .expect("the request schema compiles")
}
