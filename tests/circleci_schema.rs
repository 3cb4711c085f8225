//! Every request `cirelay circleci` sends must be one the official CircleCI API v2 spec
//! (a copy in `tests/specs/circleci-api-v2.openapi.json`) documents: a documented method and path,
//! documented query parameters, the documented auth header, and a body that validates
//! against the operation's request schema (no body where the operation takes none).
//!
//! The requests are not written by hand here: they are what the real binary sent to the
//! fake during real runs of every command, so a change to any request shape is checked.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};
use support::circleci::{pipeline_id, Circle, APP_SLUG, BUSY, DEFINITION, MAIN_NEWEST, SLUG};
use support::{cirelay, Recorded};

/// The spec is kept in the repository so a fresh clone tests against it; to update it,
/// replace the file with CircleCI's current `openapi.json` and run this suite.
fn spec() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/circleci-api-v2.openapi.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the official CircleCI spec is expected at {}: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the spec is JSON")
}

/// OpenAPI 3.0's `nullable: true` (and the older `x-nullable`) means "or null"; JSON Schema
/// says that with the type list.
fn openapi_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let nullable = [map.get("nullable"), map.get("x-nullable")]
                .into_iter()
                .any(|n| n == Some(&Value::Bool(true)));
            if nullable {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(options)) = map.get_mut("enum") {
                    if !options.contains(&Value::Null) {
                        options.push(Value::Null);
                    }
                }
            }
            for child in map.values_mut() {
                openapi_to_json_schema(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

/// A validator for one request schema. `$ref`s point into `#/components/schemas/…`, so the
/// spec's (converted) schemas travel along in the same document.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
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

struct Operation {
    id: String,
    template: String,
    op: Value,
}

/// The spec's operation for a request: method and path, where `{project-slug}` spans the
/// slug's three segments and other `{params}` one. The most literal template wins.
fn operation(spec: &Value, method: &str, path: &str) -> Operation {
    let segments: Vec<&str> = path
        .strip_prefix("/api/v2")
        .unwrap_or_else(|| panic!("{path} is not under /api/v2"))
        .trim_start_matches('/')
        .split('/')
        .collect();
    let mut found: Vec<(usize, Operation)> = Vec::new();
    for (template, ops) in spec["paths"].as_object().unwrap() {
        let Some(op) = ops.get(method.to_ascii_lowercase()) else {
            continue;
        };
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        if let Some(literals) = matches(&parts, &segments) {
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
        [] => panic!("{method} {path} is not an operation of the CircleCI API v2 spec"),
        [(a, _), (b, _), ..] if a == b => panic!("{method} {path} matches several operations"),
        _ => found.remove(0).1,
    }
}

/// The number of literal segments matched, or `None`.
fn matches(template: &[&str], path: &[&str]) -> Option<usize> {
    match (template.split_first(), path) {
        (None, []) => Some(0),
        (None, _) => None,
        (Some((&"{project-slug}", rest)), p) if p.len() >= 3 => {
            if p[..3].iter().any(|s| s.is_empty()) {
                return None;
            }
            matches(rest, &p[3..])
        }
        (Some((t, rest)), [p, ps @ ..]) if t.starts_with('{') && !p.is_empty() => matches(rest, ps),
        (Some((t, rest)), [p, ps @ ..]) if t == p => matches(rest, ps).map(|n| n + 1),
        _ => None,
    }
}

/// Parameters may be `$ref`s into `#/components/parameters`.
fn parameters(spec: &Value, op: &Value) -> Vec<Value> {
    op["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap();
                spec["components"]["parameters"][name].clone()
            }
            None => p,
        })
        .collect()
}

/// Checks one recorded request against the spec; returns its operation id.
fn check(spec: &Value, req: &Recorded) -> String {
    let what = req.line();
    let op = operation(spec, &req.method, req.path());

    let auth = &spec["components"]["securitySchemes"]["api_key_header"];
    assert_eq!(auth["in"], "header");
    let header = auth["name"].as_str().unwrap();
    assert!(req.header(header).is_some(), "{what}: no {header} header");

    let documented: Vec<Value> = parameters(spec, &op.op);
    if let Some((_, query)) = req.target.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap();
            assert!(
                documented
                    .iter()
                    .any(|p| p["in"] == "query" && p["name"] == name),
                "{what}: query parameter {name} is not documented for {}",
                op.template
            );
        }
    }
    for p in documented.iter().filter(|p| p["in"] == "path") {
        // Path parameters with an enum (the provider of pipeline/run) must be one of it.
        if let Some(allowed) = p["schema"]["enum"].as_array() {
            let segment = req.path().trim_start_matches("/api/v2/").split('/').nth(
                op.template
                    .trim_start_matches('/')
                    .split('/')
                    .position(|s| s == format!("{{{}}}", p["name"].as_str().unwrap()))
                    .unwrap(),
            );
            assert!(
                allowed.iter().any(|a| Some(a.as_str().unwrap()) == segment),
                "{what}: {:?} is not one of {allowed:?}",
                segment
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
    let v = validator(spec, schema);
    let errors: Vec<String> = v
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

fn run(fake: &Circle, args: &[&str]) -> i32 {
    let mut all = vec!["circleci"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--interval", "10ms"]);
    let mut cli = cirelay(&all);
    for (n, v) in fake.env() {
        cli = cli.env(n, &v);
    }
    let run = cli.run();
    assert!(
        [0, 1, 2].contains(&run.code),
        "{args:?} exited {}: {}",
        run.code,
        run.stderr
    );
    run.code
}

#[test]
fn every_request_the_tool_sends_matches_the_official_spec() {
    let spec = spec();
    let fake = Circle::start();
    let busy = pipeline_id(BUSY);
    let newest = pipeline_id(MAIN_NEWEST);
    let scenarios: Vec<Vec<&str>> = vec![
        // Reads, reruns (from failed, then all of them), cancels; before the triggers below
        // add newer pipelines to `main`.
        vec!["status", &newest],
        vec!["restart-latest", SLUG, "--branch", "main", "--from-failed"],
        vec!["restart-latest", SLUG, "--branch", "main", "--wait"],
        vec!["wait", &newest],
        vec!["cancel", &busy],
        // POST /project/SLUG/pipeline: branch, tag, nothing; every parameter type.
        vec![
            "trigger",
            SLUG,
            "--branch",
            "main",
            "--param",
            "deploy=true",
            "--param",
            "replicas=3",
            "--param",
            "env=prod",
            "--param-string",
            "image_tag=42",
        ],
        vec!["trigger", SLUG, "--tag", "v1.2.3", "--detach"],
        vec!["trigger", SLUG, "--detach"],
        // POST /project/VCS/ORG/REPO/pipeline/run, with and without a definition and a ref.
        vec![
            "trigger",
            SLUG,
            "--definition-id",
            DEFINITION,
            "--branch",
            "main",
            "--param",
            "deploy=false",
            "--param",
            "replicas=-1",
            "--detach",
        ],
        vec!["trigger", APP_SLUG, "--tag", "v2"],
        vec![
            "trigger",
            APP_SLUG,
            "--definition-id",
            DEFINITION,
            "--detach",
        ],
    ];
    for args in &scenarios {
        run(&fake, args);
    }

    let requests = fake.server.requests();
    let mut covered = BTreeSet::new();
    let mut bodies = 0;
    for req in &requests {
        covered.insert(check(&spec, req));
        bodies += usize::from(!req.body.is_empty());
    }
    // Every kind of request the tool makes was exercised and checked; a new kind of
    // request must be added here on purpose.
    let expected: BTreeSet<String> = [
        "triggerPipeline",
        "triggerPipelineRun",
        "getPipelineById",
        "listWorkflowsByPipelineId",
        "listPipelinesForProject",
        "rerunWorkflow",
        "cancelWorkflow",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(covered, expected);
    // 6 triggers, 1 + 2 reruns.
    assert_eq!(bodies, 9, "{:#?}", fake.server.lines());
}

fn request_schema(spec: &Value, template: &str, method: &str) -> jsonschema::Validator {
    let schema =
        &spec["paths"][template][method]["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {template} has a request schema"
    );
    validator(spec, schema)
}

/// The check above can fail: bodies CircleCI would refuse do not validate.
#[test]
fn the_schemas_reject_what_circleci_refuses() {
    let spec = spec();
    let trigger = request_schema(&spec, "/project/{project-slug}/pipeline", "post");
    assert!(
        trigger.is_valid(&json!({"branch": "main", "parameters": {"a": true, "b": 3, "c": "x"}}))
    );
    for bad in [
        json!({"parameters": {"replicas": 1.5}}),
        json!({"parameters": {"list": [1]}}),
        json!({"parameters": {"nested": {"a": 1}}}),
        json!({"branch": 7}),
        json!({"parameters": "deploy=true"}),
    ] {
        assert!(!trigger.is_valid(&bad), "{bad}");
    }

    let run = request_schema(
        &spec,
        "/project/{provider}/{organization}/{project}/pipeline/run",
        "post",
    );
    assert!(run.is_valid(&json!({
        "definition_id": DEFINITION,
        "config": {"branch": "main"},
        "checkout": {"branch": "main"},
        "parameters": {"deploy": true}
    })));
    for bad in [
        json!({"definition_id": "not-a-uuid"}),
        json!({"branch": "main"}),
        json!({"config": {"branch": "main", "sha": "abc"}}),
        json!({"checkout": "main"}),
    ] {
        assert!(!run.is_valid(&bad), "{bad}");
    }

    let rerun = request_schema(&spec, "/workflow/{id}/rerun", "post");
    assert!(rerun.is_valid(&json!({})));
    assert!(rerun.is_valid(&json!({"from_failed": true})));
    assert!(!rerun.is_valid(&json!({"from_failed": "yes"})));
}

#[test]
fn nullable_means_or_null() {
    let mut schema = json!({"type": "string", "nullable": true, "enum": ["a"]});
    openapi_to_json_schema(&mut schema);
    assert_eq!(
        schema,
        json!({"type": ["string", "null"], "nullable": true, "enum": ["a", null]})
    );
    let v = validator(&json!({"components": {"schemas": {}}}), &schema);
    assert!(v.is_valid(&Value::Null) && v.is_valid(&json!("a")) && !v.is_valid(&json!("b")));
}

#[test]
fn requests_are_matched_to_the_right_operation() {
    let spec = spec();
    let id = |m: &str, p: &str| operation(&spec, m, p).id;
    assert_eq!(
        id("POST", "/api/v2/project/gh/acme/app/pipeline"),
        "triggerPipeline"
    );
    assert_eq!(
        id("POST", "/api/v2/project/gh/acme/app/pipeline/run"),
        "triggerPipelineRun"
    );
    assert_eq!(
        id("GET", "/api/v2/project/gh/acme/app/pipeline/25"),
        "getPipelineByNumber"
    );
    assert_eq!(
        id("GET", "/api/v2/pipeline/abc/workflow"),
        "listWorkflowsByPipelineId"
    );
    assert_eq!(id("POST", "/api/v2/workflow/abc/cancel"), "cancelWorkflow");
    let unknown =
        std::panic::catch_unwind(|| operation(&spec, "POST", "/api/v2/pipeline/abc/rerun"));
    assert!(unknown.is_err());
}
