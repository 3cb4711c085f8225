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
}
