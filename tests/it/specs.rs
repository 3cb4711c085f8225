//! Every request cirelay sends must be one the vendor's official OpenAPI spec (copies in
//! `tests/specs/`) documents: a documented method and path, documented query parameters,
//! the documented auth header, and a body that validates against the operation's request
//! schema (no body where the operation takes none).
//!
//! The requests are not written by hand here: they are what the real binary sent to the
//! fake during real runs of every command, so a change to any request shape is checked.

/// CircleCI API v2 (`tests/specs/circleci-api-v2.openapi.json`).
mod circleci {
    use std::collections::BTreeSet;

    use crate::fakes::circleci::{
        pipeline_id, Circle, APP_SLUG, BUSY, DEFINITION, MAIN_NEWEST, SLUG, TYPED_PARAMETERS,
    };
    use crate::fakes::Fake;
    use crate::openapi::{openapi_to_json_schema, validator, Spec};
    use crate::support::cirelay;
    use serde_json::{json, Value};

    /// The spec is kept in the repository so a fresh clone tests against it; to update it,
    /// replace the file with CircleCI's current `openapi.json` and run this suite.
    fn spec() -> Spec {
        // `{project-slug}` is `vcs/org/repo`: three segments.
        Spec::load(
            "circleci-api-v2.openapi.json",
            "/api/v2",
            &[("{project-slug}", 3)],
            "api_key_header",
        )
    }

    fn run(fake: &Circle, args: &[&str]) -> i32 {
        let mut all = vec!["circleci"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--interval", "10ms"]);
        cirelay(&all)
            .env_all(fake.env())
            .run()
            .assert_code_in(&[0, 1, 2])
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
            // Its failed job's log: the jobs (API v2), the job's steps (API v1.1).
            vec!["logs", &newest, "--failed"],
            vec!["restart-latest", SLUG, "--branch", "main", "--from-failed"],
            vec!["restart-latest", SLUG, "--branch", "main", "--wait"],
            vec!["wait", &newest],
            vec!["cancel", &busy],
            // POST /project/SLUG/pipeline: branch, tag, nothing; every parameter type.
            [&["trigger", SLUG, "--branch", "main"][..], TYPED_PARAMETERS].concat(),
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
            // Step output is only in API v1.1, which has no OpenAPI description: its one
            // request is checked for its documented shape instead.
            if let Some(job) = req.path().strip_prefix("/api/v1.1/project/") {
                let (slug, number) = job.rsplit_once('/').unwrap();
                assert_eq!(slug, SLUG, "{}", req.line());
                assert!(number.parse::<u64>().is_ok(), "{}", req.line());
                assert_eq!(req.method, "GET");
                assert!(req.header("circle-token").is_some(), "{}", req.line());
                covered.insert("v1.1 job details".to_string());
                continue;
            }
            covered.insert(spec.check(req));
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
            "listWorkflowJobs",
            "v1.1 job details",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected);
        // 6 triggers, 1 + 2 reruns.
        assert_eq!(bodies, 9, "{:#?}", fake.server.lines());
    }

    /// `builds` and `insights`: their reads are documented operations with documented
    /// parameters.
    #[test]
    fn build_lists_and_insights_match_the_official_spec() {
        let spec = spec();
        let fake = Circle::start();
        fake.add_finished_pipelines(25);
        for args in [
            &["builds", SLUG, "--branch", "main", "--limit", "22"][..],
            &["builds", SLUG, "--status", "failed", "--limit", "2"],
            &[
                "insights",
                SLUG,
                "--branch",
                "main",
                "--reporting-window",
                "last-7-days",
            ],
            &["insights", SLUG, "--workflow", "build-and-test"],
        ] {
            run(&fake, args);
        }
        let mut covered = BTreeSet::new();
        for req in &fake.server.requests() {
            covered.insert(spec.check(req));
        }
        let expected: BTreeSet<String> = [
            "listPipelinesForProject",
            "listWorkflowsByPipelineId",
            "getProjectWorkflowMetrics",
            "getProjectWorkflowJobMetrics",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected, "{:#?}", fake.server.lines());
    }

    /// The check above can fail: bodies CircleCI would refuse do not validate.
    #[test]
    fn the_schemas_reject_what_circleci_refuses() {
        let spec = spec();
        let trigger = spec.request_schema("/project/{project-slug}/pipeline", "post");
        assert!(trigger
            .is_valid(&json!({"branch": "main", "parameters": {"a": true, "b": 3, "c": "x"}})));
        for bad in [
            json!({"parameters": {"replicas": 1.5}}),
            json!({"parameters": {"list": [1]}}),
            json!({"parameters": {"nested": {"a": 1}}}),
            json!({"branch": 7}),
            json!({"parameters": "deploy=true"}),
        ] {
            assert!(!trigger.is_valid(&bad), "{bad}");
        }

        let run = spec.request_schema(
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

        let rerun = spec.request_schema("/workflow/{id}/rerun", "post");
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
        let id = |m: &str, p: &str| spec.operation(m, p).id;
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
            std::panic::catch_unwind(|| spec.operation("POST", "/api/v2/pipeline/abc/rerun"));
        assert!(unknown.is_err());
    }
}

/// Codefresh (`tests/specs/codefresh-api.openapi.json`). The spec's run body is only "an
/// object"; its fields are checked against the Codefresh CLI in `codefresh.rs` and by the
/// fake, which refuses any other shape.
mod codefresh {
    use std::collections::BTreeSet;

    use crate::fakes::codefresh::{Codefresh, NEWEST_MAIN};
    use crate::fakes::Fake;
    use crate::openapi::Spec;
    use crate::support::called_as;

    fn spec() -> Spec {
        Spec::load("codefresh-api.openapi.json", "/api", &[], "apiKey")
    }

    fn run(fake: &Codefresh, args: &[&str], env: &[(&str, &str)]) -> i32 {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--interval", "10ms"]);
        called_as("codefresh", &all)
            .env_all(fake.env())
            .envs(env)
            .run()
            .assert_code_in(&[0, 1, 2, 3])
    }

    #[test]
    fn every_request_the_tool_sends_matches_the_official_spec() {
        let spec = spec();
        let fake = Codefresh::start("success");
        let busy = "6300000000000000000000e2";
        fake.add_build(busy, &["running"]);

        // The seed line, inside a build (annotations), with every body field set.
        run(
            &fake,
            &[
                "run",
                "pipeB",
                "-b=main",
                "-t",
                "trig",
                "-s",
                "81d2282b",
                "-v",
                "K=V",
                "-c",
                "shared",
                "--no-cache",
                "--no-cf-cache",
                "--reset-volume",
                "--enable-notifications",
                "--skip",
                "lint",
                "--only",
                "build",
            ],
            &[("CF_BUILD_ID", "5f0000000000000000000001")],
        );
        // A project/pipeline name, detached.
        run(&fake, &["run", "proj/deploy", "-d"], &[]);
        // Timeout with terminate: reads the build's progress job and deletes it.
        fake.state.lock().unwrap().lifecycle = vec!["running".to_string(); 1000];
        assert_eq!(
            run(
                &fake,
                &[
                    "run",
                    "pipeB",
                    "--timeout",
                    "200ms",
                    "--terminate-on-timeout"
                ],
                &[]
            ),
            3
        );
        run(&fake, &["status", NEWEST_MAIN], &[]);
        run(&fake, &["wait", NEWEST_MAIN], &[]);
        run(&fake, &["terminate", busy], &[]);
        run(&fake, &["restart-latest", "proj/deploy", "-b", "main"], &[]);

        let mut covered = BTreeSet::new();
        for req in &fake.server.requests() {
            covered.insert(spec.check(req));
        }
        // Every kind of request the tool makes was exercised and checked; a new kind of
        // request must be added here on purpose.
        let expected: BTreeSet<String> = [
            "pipelines-run",
            "workflows-get-build",
            "progress-terminate",
            "progress-get",
            "firebase-get-token",
            "pipelines-get",
            "workflows-list",
            "workflows-restart",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected, "{:#?}", fake.server.lines());
    }

    #[test]
    fn requests_are_matched_to_the_right_operation() {
        let spec = spec();
        let id = |m: &str, p: &str| spec.operation(m, p).id;
        assert_eq!(
            id("POST", "/api/pipelines/run/proj%2Fdeploy"),
            "pipelines-run"
        );
        assert_eq!(id("GET", "/api/builds/abc"), "workflows-get-build");
        assert_eq!(id("GET", "/api/builds/rebuild/abc"), "workflows-restart");
        assert_eq!(id("DELETE", "/api/progress/abc"), "progress-terminate");
        assert_eq!(id("GET", "/api/pipelines/proj%2Fdeploy"), "pipelines-get");
        // A project/pipeline name sent unencoded is two segments: no such operation.
        let unencoded =
            std::panic::catch_unwind(|| spec.operation("POST", "/api/pipelines/run/a/b"));
        assert!(unencoded.is_err());
    }

    /// The check above can fail: a build read without the parameter the spec requires, or with
    /// one it does not document, is refused.
    #[test]
    fn undocumented_or_missing_query_parameters_are_refused() {
        let spec = spec();
        let fake = Codefresh::start("success");
        run(&fake, &["status", NEWEST_MAIN], &[]);
        let sent = fake.server.requests().remove(0);
        spec.check(&sent);
        for target in [
            format!("/api/builds/{NEWEST_MAIN}"),
            format!("/api/builds/{NEWEST_MAIN}?noAccount=false&verbose=1"),
        ] {
            let mut bad = sent.clone();
            bad.target = target.clone();
            let refused = std::panic::catch_unwind(|| spec.check(&bad));
            assert!(refused.is_err(), "{target}");
        }
        let mut no_auth = sent.clone();
        no_auth
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
        assert!(std::panic::catch_unwind(|| spec.check(&no_auth)).is_err());
    }

    /// The Codefresh CLI's other commands (`get`, `create`, `replace`, `apply`, `auth
    /// create-context`) and `builds`: every request they send is one the spec documents.
    #[test]
    fn pipelines_as_code_and_build_lists_match_the_official_spec() {
        let spec = spec();
        let fake = Codefresh::start("success");
        fake.add_finished_builds(60);
        let dir = crate::support::TempDir::new("cf-spec-check");
        let home = dir.text();
        let file = dir.join("spec.yml");
        let file = file.to_str().unwrap();
        let cf = |args: &[&str]| {
            called_as("codefresh", args)
                .env_all(fake.env())
                .env("HOME", home)
                .run()
        };
        cf(&[
            "auth",
            "create-context",
            "--api-key",
            crate::fakes::codefresh::KEY,
        ])
        .assert_code(0);
        cf(&["get", "builds", NEWEST_MAIN, "-o", "json"]).assert_code(0);
        cf(&[
            "get",
            "builds",
            "--pipeline-name",
            "proj/deploy",
            "-b",
            "main",
            "-s",
            "error",
            "-r",
            "81d2282b",
            "-l",
            "5",
            "-p",
            "2",
        ])
        .assert_code(0);
        let yaml = cf(&["get", "pipeline", "proj/deploy", "-o", "yaml"]);
        yaml.assert_code(0);
        cf(&["get", "pipelines", "-o", "json"]).assert_code(0);
        std::fs::write(dir.join("spec.yml"), &yaml.stdout).unwrap();
        cf(&["replace", "-f", file, "--skip-trigger-validation"]).assert_code(0);
        cf(&["apply", "-f", file]).assert_code(0);
        std::fs::write(
            dir.join("spec.yml"),
            yaml.stdout.replace("name: proj/deploy", "name: proj/other"),
        )
        .unwrap();
        cf(&["create", "-f", file]).assert_code(0);
        cf(&["create", "project", "acme", "-t", "team-a"]).assert_code(0);
        cf(&[
            "builds",
            "--pipeline",
            "proj/deploy",
            "--branch",
            "main",
            "--status",
            "success",
            "--limit",
            "55",
        ])
        .assert_code(0);

        let mut covered = BTreeSet::new();
        for req in &fake.server.requests() {
            covered.insert(spec.check(req));
        }
        let expected: BTreeSet<String> = [
            "users-get",
            "workflows-get-build",
            "workflows-list",
            "pipelines-get",
            "pipelines-list",
            "pipelines-replace",
            "pipelines-create",
            "projects-get-by-name",
            "projects-create",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected, "{:#?}", fake.server.lines());
    }
}

/// GitLab (`tests/specs/gitlab-pipelines.openapi.json`: GitLab's own OpenAPI description,
/// `doc/api/openapi/openapi_v2.yaml`, trimmed to the endpoints cirelay uses). It is Swagger
/// 2.0, so its parameters and bodies are read here rather than by [`Spec::check`]; where the
/// description is known to differ from the live API (its note says where), GitLab's API
/// documentation decides: the project `id` of the trace route is "the ID or URL-encoded
/// path" as on every other route (`doc/api/jobs.md`), and the trigger route takes a form.
mod gitlab {
    use std::collections::BTreeSet;

    use serde_json::{json, Map, Value};

    use crate::fakes::gitlab::{form, Gitlab, NEWEST_MAIN, PROJECT};
    use crate::fakes::Fake;
    use crate::openapi::Spec;
    use crate::support::{cirelay, percent_decode, Recorded};

    /// The spec's paths start with `/api/v4` themselves.
    fn spec() -> Spec {
        Spec::load(
            "gitlab-pipelines.openapi.json",
            "",
            &[],
            "access_token_header",
        )
    }

    /// The trigger routes carry their token in the body, not in a header.
    const TOKEN_IN_BODY: &str = "postApiV4ProjectsIdTriggerPipeline";

    fn validate(spec: &Spec, schema: &Value, body: &Value, what: &str) {
        let document = json!({ "allOf": [schema], "definitions": spec.doc["definitions"] });
        let validator = jsonschema::draft4::options()
            .build(&document)
            .expect("the request schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: body {body} does not match: {errors:?}"
        );
    }

    /// A form as the trigger route reads it: `variables[K]` and `inputs[K]` are objects.
    fn form_object(body: &str) -> Value {
        let mut object = Map::new();
        for (k, v) in form(body) {
            match k.split_once('[') {
                Some((outer, inner)) => {
                    let inner = inner.trim_end_matches(']').to_string();
                    object
                        .entry(outer.to_string())
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .unwrap()
                        .insert(inner, json!(v));
                }
                None => {
                    object.insert(k, json!(v));
                }
            }
        }
        Value::Object(object)
    }

    /// Checks one request against the description; returns its operation id.
    fn check(spec: &Spec, req: &Recorded) -> String {
        let what = req.line();
        let op = spec.operation(&req.method, req.path());
        if op.id != TOKEN_IN_BODY {
            let header = spec.doc["securityDefinitions"]["access_token_header"]["name"]
                .as_str()
                .unwrap();
            assert!(req.header(header).is_some(), "{what}: no {header} header");
        }
        let params = op.op["parameters"].as_array().cloned().unwrap_or_default();
        let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            // Grape reads `scope[]=a` as the array parameter `scope`.
            let name = percent_decode(name);
            let name = name.trim_end_matches("[]");
            let p = params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name)
                .unwrap_or_else(|| panic!("{what}: query parameter {name} is not documented"));
            let value = percent_decode(value);
            if let Some(allowed) = p["enum"].as_array() {
                assert!(
                    allowed.contains(&json!(value)),
                    "{what}: {name}={value} is not one of {allowed:?}"
                );
            }
            if p["type"] == "integer" {
                assert!(
                    value.parse::<u32>().is_ok(),
                    "{what}: {name}={value} is not an integer"
                );
            }
        }
        let template: Vec<&str> = op.template.trim_matches('/').split('/').collect();
        let segments: Vec<&str> = req.path().trim_matches('/').split('/').collect();
        for (t, s) in template.iter().zip(&segments) {
            if matches!(*t, "{pipeline_id}" | "{job_id}") {
                assert!(
                    s.parse::<u32>().is_ok(),
                    "{what}: {t} = {s} is not an integer"
                );
            }
            if *t == "{id}" {
                // One segment: a path's slashes are encoded.
                assert!(!percent_decode(s).is_empty(), "{what}");
            }
        }
        let body_param = params.iter().find(|p| p["in"] == "body");
        let Some(body_param) = body_param else {
            assert!(
                req.body.is_empty(),
                "{what}: {} takes no body, got {}",
                op.id,
                req.body
            );
            return op.id;
        };
        let content_type = req.header("content-type").unwrap_or_default().to_string();
        let consumes = op.op["consumes"].as_array().cloned().unwrap_or_default();
        assert!(
            consumes.contains(&json!(content_type)),
            "{what}: {content_type} is not in {consumes:?}"
        );
        let body = match content_type.as_str() {
            "application/json" => req.json(),
            _ => form_object(&req.body),
        };
        validate(spec, &body_param["schema"], &body, &what);
        op.id
    }

    fn run(args: &[&str], env: Vec<(&'static str, String)>) -> i32 {
        let mut all = vec!["gitlab"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--interval", "10ms"]);
        cirelay(&all).env_all(env).run().assert_code_in(&[0, 1, 2])
    }

    #[test]
    fn every_request_the_tool_sends_matches_gitlabs_description() {
        let spec = spec();
        let fake = Gitlab::start("failed");
        fake.add_pipeline(3002, "main", &["running"], vec![]);
        let access = fake.env();
        let newest = format!("{PROJECT}/{NEWEST_MAIN}");
        let scenarios: Vec<Vec<&str>> = vec![
            vec!["status", &newest],
            vec!["logs", &newest],
            vec!["cancel", "acme/app/3002"],
            vec![
                "restart-latest",
                PROJECT,
                "--branch",
                "main",
                "--wait",
                "--logs",
                "follow",
            ],
            vec![
                "builds", PROJECT, "--branch", "main", "--status", "failed", "--limit", "5",
            ],
            // Every body field; then without --ref, which reads the default branch.
            vec![
                "trigger",
                PROJECT,
                "--ref",
                "main",
                "--var",
                "K=V",
                "--input",
                "n=3",
                "--input",
                "flag=true",
                "--input-string",
                "s=42",
            ],
            vec!["trigger", "43", "--detach"],
        ];
        for args in &scenarios {
            run(args, access.clone());
        }
        run(
            &[
                "trigger", PROJECT, "--ref", "v1.0", "--var", "A=1", "--input", "i=x", "--detach",
            ],
            fake.trigger_env(),
        );
        // The read of the ref's recent successful pipelines that plans a wait's polls is
        // among them.
        assert!(
            fake.server
                .lines()
                .iter()
                .any(|l| l.contains("/pipelines?per_page=10&ref=main&status=success&")),
            "{:#?}",
            fake.server.lines()
        );
        let mut covered = BTreeSet::new();
        for req in &fake.server.requests() {
            covered.insert(check(&spec, req));
        }
        // Every kind of request the tool makes was exercised and checked; a new kind of
        // request must be added here on purpose.
        let expected: BTreeSet<String> = [
            "getApiV4ProjectsId",
            "getApiV4ProjectsIdJobsJobIdTrace",
            "getApiV4ProjectsIdPipelines",
            "getApiV4ProjectsIdPipelinesLatest",
            "getApiV4ProjectsIdPipelinesPipelineId",
            "getApiV4ProjectsIdPipelinesPipelineIdJobs",
            "postApiV4ProjectsIdPipeline",
            "postApiV4ProjectsIdPipelinesPipelineIdCancel",
            "postApiV4ProjectsIdPipelinesPipelineIdRetry",
            TOKEN_IN_BODY,
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected, "{:#?}", fake.server.lines());
    }

    #[test]
    fn the_check_refuses_what_gitlab_would_not_take() {
        let spec = spec();
        // A raw slash in the project: no operation (GitLab answers 404).
        assert!(std::panic::catch_unwind(
            || spec.operation("GET", "/api/v4/projects/acme/app/pipelines/1")
        )
        .is_err());
        assert_eq!(
            spec.operation("GET", "/api/v4/projects/acme%2Fapp/pipelines/latest")
                .id,
            "getApiV4ProjectsIdPipelinesLatest"
        );
        let fake = Gitlab::start("success");
        run(
            &["trigger", PROJECT, "--ref", "main", "--detach"],
            fake.env(),
        );
        let sent = fake.server.requests().remove(0);
        check(&spec, &sent);
        let refused = |req: Recorded| std::panic::catch_unwind(|| check(&spec, &req)).is_err();
        let mut no_ref = sent.clone();
        no_ref.body = json!({"variables": []}).to_string();
        assert!(refused(no_ref), "ref is required");
        let mut bad_variables = sent.clone();
        bad_variables.body = json!({"ref": "main", "variables": {"K": "V"}}).to_string();
        assert!(
            refused(bad_variables),
            "variables is a list of {{key, value}}"
        );
        let mut no_token = sent.clone();
        no_token
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("private-token"));
        assert!(refused(no_token));
        let mut status = sent.clone();
        status.method = "GET".into();
        status.body.clear();
        status.target = "/api/v4/projects/acme%2Fapp/pipelines?status=green".into();
        assert!(refused(status), "status is one of GitLab's");
    }
}

/// GitHub Actions (`tests/specs/github-actions.openapi.json`, a trimmed copy of GitHub's
/// official description for API version 2022-11-28).
mod github {
    use std::collections::BTreeSet;

    use crate::fakes::github::{GitHub, BUSY, CI, CI_MAIN_NEWEST, DEPLOY, REPO};
    use crate::fakes::{Ending, Fake};
    use crate::openapi::Spec;
    use crate::support::cirelay;
    use serde_json::json;

    fn spec() -> Spec {
        let mut spec = Spec::load("github-actions.openapi.json", "", &[], "bearer");
        let doc = &mut spec.doc;
        // GitHub's description says in prose, not as a scheme, how a request authenticates.
        doc["components"]["securitySchemes"]["bearer"] =
            json!({"type": "apiKey", "in": "header", "name": "Authorization"});
        // The trimmed copy leaves out the repository's run list (`GET …/actions/runs`, for
        // `github builds` without --workflow); GitHub's description gives it the parameters
        // of one workflow's run list, less `workflow_id`.
        let mut all_runs = doc["paths"]
            ["/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"]["get"]
            .clone();
        all_runs["operationId"] = json!("actions/list-workflow-runs-for-repo");
        let parameters = all_runs["parameters"].as_array_mut().unwrap();
        parameters.retain(|p| p["$ref"] != "#/components/parameters/workflow-id");
        doc["paths"]["/repos/{owner}/{repo}/actions/runs"] = json!({ "get": all_runs });
        spec
    }

    fn run(fake: &GitHub, args: &[&str]) -> i32 {
        let mut all = vec!["github"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--interval", "10ms"]);
        cirelay(&all)
            .env_all(fake.env())
            .run()
            .assert_code_in(&[0, 1, 2, 5])
    }

    #[test]
    fn every_request_the_tool_sends_matches_the_official_spec() {
        let spec = spec();
        let fails = GitHub::whose_builds_end(Ending::Fails);
        let busy = format!("{REPO}/{BUSY}");
        let newest = format!("{REPO}/{CI_MAIN_NEWEST}");
        for args in [
            // A failed run: its jobs, then the failed job's log.
            &[
                "trigger",
                REPO,
                DEPLOY,
                "--ref",
                "main",
                "--input",
                "environment=prod",
                "--input",
                "dry_run=false",
            ][..],
            &["trigger", REPO, DEPLOY, "--detach"],
            &["status", &newest],
            &["logs", &newest],
            &["cancel", &busy],
            &["cancel", &newest],
            &[
                "restart-latest",
                REPO,
                CI,
                "--branch",
                "main",
                "--failed-only",
                "--wait",
                "--logs",
                "follow",
            ],
            &["restart-latest", REPO, CI, "--wait"],
            &[
                "builds",
                REPO,
                "--workflow",
                CI,
                "--branch",
                "main",
                "--status",
                "failure",
                "--limit",
                "5",
            ],
            &["builds", REPO, "--status", "in_progress"],
        ] {
            run(&fails, args);
        }
        // A server without run details: the dispatch again without the field, then the run
        // list that finds its run.
        let older = GitHub::whose_builds_end(Ending::Succeeds);
        older.state.lock().unwrap().refuse_run_details = Some(400);
        run(
            &older,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--detach"],
        );

        // The read of the workflow's recent successful runs that plans a wait's polls is
        // among them.
        assert!(
            fails
                .server
                .lines()
                .iter()
                .any(|l| l.contains("/actions/workflows/1001/runs?branch=main&status=success&")),
            "{:#?}",
            fails.server.lines()
        );
        let mut covered = BTreeSet::new();
        let mut bodies = 0;
        for req in fails
            .server
            .requests()
            .iter()
            .chain(&older.server.requests())
        {
            covered.insert(spec.check(req));
            bodies += usize::from(!req.body.is_empty());
        }
        // Every kind of request the tool makes was exercised and checked; a new kind of
        // request must be added here on purpose.
        let expected: BTreeSet<String> = [
            "repos/get",
            "actions/create-workflow-dispatch",
            "actions/get-workflow-run",
            "actions/list-workflow-runs",
            "actions/list-workflow-runs-for-repo",
            "actions/list-jobs-for-workflow-run",
            "actions/download-job-logs-for-workflow-run",
            "actions/cancel-workflow-run",
            "actions/re-run-workflow",
            "actions/re-run-workflow-failed-jobs",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(covered, expected);
        // 2 + 2 dispatches, 2 reruns.
        assert_eq!(bodies, 6, "{:#?}", fails.server.lines());
    }

    /// The check above can fail: bodies GitHub would refuse do not validate.
    #[test]
    fn the_schemas_reject_what_github_refuses() {
        let spec = spec();
        let dispatch = spec.request_schema(
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
            "post",
        );
        assert!(
            dispatch.is_valid(&json!({"ref": "main", "inputs": {}, "return_run_details": true}))
        );
        let too_many: serde_json::Map<String, serde_json::Value> =
            (0..26).map(|n| (format!("k{n}"), json!("v"))).collect();
        for bad in [
            json!({"inputs": {}}),
            json!({"ref": 7}),
            json!({"ref": "main", "inputs": too_many}),
            json!({"ref": "main", "return_run_details": "yes"}),
        ] {
            assert!(!dispatch.is_valid(&bad), "{bad}");
        }
        let rerun =
            spec.request_schema("/repos/{owner}/{repo}/actions/runs/{run_id}/rerun", "post");
        assert!(rerun.is_valid(&json!({})));
        assert!(!rerun.is_valid(&json!({"enable_debug_logging": "yes"})));
    }

    #[test]
    fn requests_are_matched_to_the_right_operation() {
        let spec = spec();
        let id = |m: &str, p: &str| spec.operation(m, p).id;
        assert_eq!(
            id("GET", "/repos/acme/deploy/actions/runs/1"),
            "actions/get-workflow-run"
        );
        assert_eq!(
            id("GET", "/repos/acme/deploy/actions/runs"),
            "actions/list-workflow-runs-for-repo"
        );
        assert_eq!(
            id(
                "POST",
                "/repos/acme/deploy/actions/runs/1/rerun-failed-jobs"
            ),
            "actions/re-run-workflow-failed-jobs"
        );
        let unknown = std::panic::catch_unwind(|| {
            spec.operation("POST", "/repos/acme/deploy/actions/runs/1/force-cancel")
        });
        assert!(unknown.is_err());
    }
}
