//! `cirelay circleci …` against a fake CircleCI API v2: the exact requests, stdout, stderr
//! and exit code of every case.

use crate::fakes::circleci::{
    job_number, pipeline_id, pipeline_json, Circle, Plan, APP_SLUG, BUSY, DEFINITION, DEV_NEWEST,
    ERRORED, FIRST_NEW, MAIN_NEWEST, NULL_STATUS, SLUG, TOKEN, TYPED_PARAMETERS,
};
use crate::fakes::{Ending, Fake};
use crate::support::{cirelay, read, Cli, Reply, TempDir};
use serde_json::{json, Value};

/// `cirelay circleci ARGS --interval 20ms` with the fake's token and host.
fn circleci(fake: &Circle, args: &[&str]) -> Cli {
    let mut all = vec!["circleci"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--interval", "20ms"]);
    cirelay(&all).env_all(fake.env())
}

fn trigger_path(slug: &str) -> String {
    format!("/api/v2/project/{slug}/pipeline")
}

fn posts(fake: &Circle) -> Vec<crate::support::Recorded> {
    fake.server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

fn new_id() -> String {
    pipeline_id(FIRST_NEW)
}

// ---------------------------------------------------------------- trigger

#[test]
fn trigger_sends_typed_parameters_and_waits_for_every_workflow() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &[&["trigger", SLUG, "--branch", "main"][..], TYPED_PARAMETERS].concat(),
    )
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_id()));

    let requests = fake.server.requests();
    let trigger = &requests[0];
    assert_eq!(trigger.line(), format!("POST {}", trigger_path(SLUG)));
    assert_eq!(
        trigger.json(),
        json!({
            "branch": "main",
            "parameters": {"deploy": true, "replicas": 3, "env": "prod", "image_tag": "42"}
        })
    );
    assert_eq!(trigger.header("content-type"), Some("application/json"));
    // Every request: the token in the Circle-Token header, never in the query string.
    for r in &requests {
        assert_eq!(r.header("circle-token"), Some(TOKEN), "{}", r.line());
        assert!(!r.target.contains(TOKEN), "{}", r.line());
    }
    // Setup first (setup-pending → created), then the workflow list until all finished.
    let id = new_id();
    let lines = fake.server.lines();
    assert_eq!(lines[1], format!("GET /api/v2/pipeline/{id}"));
    assert_eq!(lines[2], format!("GET /api/v2/pipeline/{id}"));
    assert_eq!(lines[3], format!("GET /api/v2/pipeline/{id}/workflow"));
    assert_eq!(
        fake.server.count("GET", &format!("/api/v2/pipeline/{id}")),
        lines.len() - 1
    );
    assert_eq!(fake.server.count("POST", "/"), 1);

    let url = fake.pipeline_url(SLUG, FIRST_NEW);
    run.assert_says(&format!("started pipeline #{FIRST_NEW} ({id}): {url}"));
    run.assert_says("pipeline #100: setup-pending");
    run.assert_says("pipeline #100: created, no workflows yet");
    run.assert_says("pipeline #100: build: running, test: running");
    run.assert_says("pipeline #100: build: success, test: success");
    for w in fake.workflows(FIRST_NEW) {
        run.assert_says(&format!(
            "workflow {} ({}): {url}/workflows/{}",
            w.name, w.id, w.id
        ));
    }
    assert_eq!(fake.pipeline(FIRST_NEW).parameters["deploy"], json!(true));
    run.assert_no_secret(&[TOKEN]);
}

#[test]
fn a_boolean_parameter_is_a_json_boolean_and_a_forced_string_is_refused_like_circleci() {
    let fake = Circle::start();
    circleci(
        &fake,
        &["trigger", SLUG, "--param", "deploy=false", "--detach"],
    )
    .run()
    .assert_code(0);
    assert_eq!(
        posts(&fake)[0].json()["parameters"]["deploy"],
        Value::Bool(false)
    );

    // The project declares `deploy` a boolean: "true" as a string is a type error.
    let run = circleci(&fake, &["trigger", SLUG, "--param-string", "deploy=true"]).run();
    run.assert_fails(
        5,
        &[
            "400",
            "Type error for argument deploy: expected type: boolean",
            "--param",
        ],
    );
    assert_eq!(run.stdout, "");
    assert_eq!(
        posts(&fake)[1].json()["parameters"]["deploy"],
        json!("true")
    );
    run.assert_no_secret(&[TOKEN]);
}

#[test]
fn an_integer_parameter_is_a_json_number_and_an_undeclared_one_is_named() {
    let fake = Circle::start();
    circleci(
        &fake,
        &["trigger", SLUG, "--param", "replicas=-2", "--detach"],
    )
    .run()
    .assert_code(0);
    assert_eq!(
        posts(&fake)[0].json()["parameters"],
        json!({"replicas": -2})
    );

    let run = circleci(&fake, &["trigger", SLUG, "--param", "colour=blue"]).run();
    run.assert_fails(5, &["Unexpected argument(s) input: [colour]"]);
}

#[test]
fn a_tag_is_sent_instead_of_a_branch() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", SLUG, "--tag", "v1.2.3", "--detach"])
        .env("CIRCLE_BRANCH", "ignored-when-a-tag-is-given")
        .run();
    run.assert_code(0);
    assert_eq!(posts(&fake)[0].json(), json!({"tag": "v1.2.3"}));
    assert_eq!(fake.pipeline(FIRST_NEW).tag.as_deref(), Some("v1.2.3"));
}

#[test]
fn branch_and_tag_together_are_a_usage_error() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "a", "--tag", "b"]).run();
    run.assert_fails(4, &["--branch or --tag"]);
    assert!(fake.server.requests().is_empty());
}

#[test]
fn a_definition_id_uses_pipeline_run_with_three_path_segments() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &[
            "trigger",
            SLUG,
            "--definition-id",
            DEFINITION,
            "--branch",
            "release/2.0",
            "--param",
            "deploy=true",
            "--detach",
        ],
    )
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_id()));
    let post = &posts(&fake)[0];
    assert_eq!(post.line(), "POST /api/v2/project/gh/acme/app/pipeline/run");
    assert_eq!(
        post.json(),
        json!({
            "definition_id": DEFINITION,
            "config": {"branch": "release/2.0"},
            "checkout": {"branch": "release/2.0"},
            "parameters": {"deploy": true}
        })
    );
    assert_eq!(
        fake.pipeline(FIRST_NEW).definition_id.as_deref(),
        Some(DEFINITION)
    );
    assert_eq!(fake.server.requests().len(), 1, "--detach does not poll");
}

#[test]
fn a_circleci_slug_uses_pipeline_run_and_waits() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", APP_SLUG, "--tag", "v2"]).run();
    run.assert_code(0);
    let post = &posts(&fake)[0];
    // Three raw segments, not one encoded slug.
    assert_eq!(
        post.line(),
        format!("POST /api/v2/project/{APP_SLUG}/pipeline/run")
    );
    assert_eq!(
        post.json(),
        json!({"config": {"tag": "v2"}, "checkout": {"tag": "v2"}})
    );
    run.assert_says(&format!(
        "started pipeline #100 ({}): {}",
        new_id(),
        fake.pipeline_url(APP_SLUG, FIRST_NEW)
    ));
}

#[test]
fn inside_a_circleci_job_slug_and_branch_default_to_the_jobs_and_the_id_is_exported() {
    let fake = Circle::start();
    let dir = TempDir::new("circleci-export");
    let bash_env = dir.join("bash_env");
    let run = circleci(&fake, &["trigger", "--detach"])
        .envs(&[
            ("CIRCLECI", "true"),
            ("CIRCLE_PROJECT_USERNAME", "acme"),
            ("CIRCLE_PROJECT_REPONAME", "app"),
            ("CIRCLE_BRANCH", "feature/x"),
            ("BASH_ENV", bash_env.to_str().unwrap()),
        ])
        .run();
    run.assert_code(0);
    let post = &posts(&fake)[0];
    assert_eq!(post.line(), format!("POST {}", trigger_path("gh/acme/app")));
    assert_eq!(post.json(), json!({"branch": "feature/x"}));
    assert_eq!(
        read(&bash_env),
        format!(
            "export CIRELAY_BUILD_ID='{}'\nexport CIRELAY_BUILD_URL='{}'\n",
            new_id(),
            fake.pipeline_url(SLUG, FIRST_NEW)
        )
    );
}

#[test]
fn a_host_given_with_the_api_path_means_the_same_host() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", SLUG, "--detach"])
        .env("CIRCLECI_HOST", &format!("{}/api/v2/", fake.server.url))
        .run();
    run.assert_code(0);
    assert_eq!(
        posts(&fake)[0].line(),
        format!("POST {}", trigger_path(SLUG))
    );
    run.assert_says(&fake.pipeline_url(SLUG, FIRST_NEW));
}

#[test]
fn without_a_branch_the_projects_default_branch_is_built() {
    let fake = Circle::start();
    circleci(&fake, &["trigger", SLUG, "--detach"])
        .run()
        .assert_code(0);
    assert_eq!(posts(&fake)[0].json(), json!({}));
}

#[test]
fn an_empty_workflow_list_right_after_creation_is_not_success() {
    let mut plan = Plan::new(&[("build", &["running", "success"])]);
    plan.empty_reads = 4;
    let fake = Circle::with_plan(plan);
    let run = circleci(&fake, &["trigger", SLUG]).run();
    run.assert_code(0);
    let id = new_id();
    // Four empty lists, then the workflow running, then its success.
    assert_eq!(
        fake.server
            .count("GET", &format!("/api/v2/pipeline/{id}/workflow")),
        6
    );
    run.assert_says("pipeline #100: created, no workflows yet");
    run.assert_says("pipeline #100: build: success");
}

#[test]
fn a_pipeline_that_never_gets_a_workflow_times_out_with_exit_3() {
    let fake = Circle::with_plan(Plan::new(&[]));
    let run = circleci(&fake, &["trigger", SLUG, "--timeout", "400ms"]).run();
    run.assert_code(3);
    assert_eq!(run.stdout, format!("{}\n", new_id()));
    run.assert_says("gave up waiting");
    run.assert_says("it is still created, no workflows yet");
}

#[test]
fn one_of_three_workflows_failing_fails_the_trigger_across_pages() {
    let fake = Circle::with_plan(Plan::new(&[
        ("build", &["running", "success"]),
        ("test", &["running", "failing", "failing", "failed"]),
        ("lint", &["running", "success"]),
    ]));
    let run = circleci(&fake, &["trigger", SLUG, "--output", "json"]).run();
    run.assert_code(1);
    let id = new_id();
    // Three workflows at two per page: every read follows next_page_token.
    let first = fake
        .server
        .count("GET", &format!("/api/v2/pipeline/{id}/workflow"));
    let second = fake
        .server
        .lines()
        .iter()
        .filter(|l| **l == format!("GET /api/v2/pipeline/{id}/workflow?page-token=pg%3A1"))
        .count();
    assert!(second >= 3 && first == second * 2 + 1, "{first} {second}");
    run.assert_says("test: failing (jobs still running; it will fail)");
    run.assert_says("pipeline #100: build: success, test: failed, lint: success");
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        report,
        json!({
            "provider": "circleci",
            "action": "trigger",
            "id": id,
            "number": FIRST_NEW,
            "url": fake.pipeline_url(SLUG, FIRST_NEW),
            "status": "failed",
            "result": "failed"
        })
    );
}

#[test]
fn an_errored_pipeline_exits_1_with_every_error_message() {
    let mut plan = Plan::new(&[("build", &["success"])]);
    plan.setup = vec!["setup-pending".into(), "setup".into(), "errored".into()];
    plan.errors = vec![
        (
            "config".into(),
            "Job 'deploy' requires 'build', which is not defined".into(),
        ),
        ("plan".into(), "Out of credits".into()),
    ];
    let fake = Circle::with_plan(plan);
    let run = circleci(&fake, &["trigger", SLUG, "--output", "json"]).run();
    run.assert_code(1);
    run.assert_says(
        "pipeline #100 error (config): Job 'deploy' requires 'build', which is not defined",
    );
    run.assert_says("pipeline #100 error (plan): Out of credits");
    run.assert_says("pipeline #100: setup");
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["status"], "errored");
    assert_eq!(report["result"], "failed");
    // It never asks an errored pipeline for workflows: the list is read once, while the
    // pipeline is in `setup` (where a setup workflow would run), and nothing after `errored`
    // (nor for its log: it has no jobs).
    let id = new_id();
    assert_eq!(
        fake.server.lines(),
        vec![
            format!("POST {}", trigger_path(SLUG)),
            format!("GET /api/v2/pipeline/{id}"),
            format!("GET /api/v2/pipeline/{id}/workflow"),
            format!("GET /api/v2/pipeline/{id}"),
        ]
    );
}

// ---------------------------------------------------------------- dynamic config

/// The requests of a wait on a dynamic config pipeline: while it is `setup`, each poll reads
/// the pipeline and its workflows (the setup workflow); once `created`, only the workflows.
fn assert_setup_then_workflow_polls(fake: &Circle) {
    let id = new_id();
    let (pipeline, workflows) = (
        format!("GET /api/v2/pipeline/{id}"),
        format!("GET /api/v2/pipeline/{id}/workflow"),
    );
    let lines: Vec<String> = fake
        .server
        .lines()
        .into_iter()
        .skip(1)
        .filter(|l| !l.contains("page-token"))
        .collect();
    // setup-pending (no workflows to read), then setup: pipeline, workflows, pipeline, …
    assert_eq!(lines[0], pipeline, "{lines:?}");
    assert_eq!(
        lines[1..3],
        [pipeline.clone(), workflows.clone()],
        "{lines:?}"
    );
    let created = lines
        .iter()
        .rposition(|l| *l == pipeline)
        .expect("the pipeline is read");
    for pair in lines[1..created].chunks(2) {
        assert_eq!(pair, [pipeline.clone(), workflows.clone()], "{lines:?}");
    }
    assert!(
        lines[created + 1..].iter().all(|l| *l == workflows),
        "{lines:?}"
    );
}

#[test]
fn a_failed_setup_workflow_fails_the_trigger_without_waiting_for_the_timeout() {
    let fake = Circle::with_plan(Plan::dynamic(
        ("generate-config", &["running", "running", "failed"]),
        None,
        &[("build", &["running", "success"])],
    ));
    let started = std::time::Instant::now();
    let run = circleci(
        &fake,
        &[
            "trigger",
            SLUG,
            "--timeout",
            "5s",
            "--output",
            "json",
            "--logs",
            "none",
        ],
    )
    .run();
    run.assert_code(1);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    run.assert_says("pipeline #100: setup-pending");
    run.assert_says("pipeline #100: generate-config (setup): running");
    run.assert_says("pipeline #100: generate-config (setup): failed");
    let setup = &fake.workflows(FIRST_NEW)[0];
    assert_eq!(setup.tag.as_deref(), Some("setup"));
    run.assert_says(&format!(
        "setup workflow generate-config ({}): {}/workflows/{}",
        setup.id,
        fake.pipeline_url(SLUG, FIRST_NEW),
        setup.id
    ));
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (&report["status"], &report["result"]),
        (&json!("failed"), &json!("failed"))
    );
    // It never continued: the pipeline stays in setup with only its setup workflow.
    assert_eq!(fake.pipeline(FIRST_NEW).state, "setup");
    assert_eq!(fake.workflows(FIRST_NEW).len(), 1);
    assert_setup_then_workflow_polls(&fake);
}

#[test]
fn a_setup_workflow_that_continues_is_followed_by_the_workflows_it_continues_to() {
    for (test, code, result) in [("success", 0, "success"), ("failed", 1, "failed")] {
        let fake = Circle::with_plan(Plan::dynamic(
            ("generate-config", &["running", "running", "success"]),
            Some(2),
            &[
                ("build", &["running", "success"]),
                ("test", &["running", "running", test]),
            ],
        ));
        let run = circleci(
            &fake,
            &[
                "trigger",
                SLUG,
                "--timeout",
                "5s",
                "--output",
                "json",
                "--logs",
                "none",
            ],
        )
        .run();
        run.assert_code(code);
        run.assert_says("pipeline #100: generate-config (setup): running");
        // Continued, the continued workflows not listed yet: that is not the end.
        run.assert_says("pipeline #100: generate-config (setup): success; waiting for the workflows it continues to");
        run.assert_says(&format!(
            "pipeline #100: generate-config (setup): success, build: success, test: {test}"
        ));
        let wf = fake.workflows(FIRST_NEW);
        assert_eq!(wf.len(), 3, "the setup workflow stays in the list");
        for w in &wf[1..] {
            run.assert_says(&format!("workflow {} ({}):", w.name, w.id));
        }
        let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(
            (&report["status"], &report["result"]),
            (&json!(test), &json!(result))
        );
        assert_setup_then_workflow_polls(&fake);
    }
}

/// CircleCI does not say what a setup workflow that succeeds without continuing means (the
/// pipeline could be continued for six hours); nothing ran after setup, so the caller's
/// chained work did not happen: exit 1 after a few readings, as when every workflow is
/// `not_run`. The same when the continuation has no workflow.
#[test]
fn a_setup_workflow_that_nothing_follows_is_exit_1_nothing_ran_after_setup() {
    let cases = [
        (None, "generate-config (setup): success, but it did not continue the pipeline: nothing ran after setup"),
        (Some(1), "generate-config (setup): success, but the configuration it continued to has no workflow: nothing ran after setup"),
    ];
    for (continues, said) in cases {
        let fake = Circle::with_plan(Plan::dynamic(
            ("generate-config", &["running", "success"]),
            continues,
            &[],
        ));
        let run = circleci(
            &fake,
            &[
                "trigger",
                SLUG,
                "--timeout",
                "5s",
                "--output",
                "json",
                "--logs",
                "none",
            ],
        )
        .run();
        run.assert_code(1);
        run.assert_says(&format!("pipeline #100: {said}"));
        let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(
            (&report["status"], &report["result"]),
            (&json!("not_run"), &json!("failed"))
        );
        // The success was read four times before giving up on the continuation.
        let id = new_id();
        let reads = fake
            .server
            .count("GET", &format!("/api/v2/pipeline/{id}/workflow"));
        assert_eq!(reads, 1 + 4, "{continues:?}: {:?}", fake.server.lines());
        assert_eq!(fake.workflows(FIRST_NEW).len(), 1);
    }
}

#[test]
fn status_of_a_pipeline_in_setup_reports_its_setup_workflow() {
    let fake = Circle::with_plan(Plan::dynamic(
        ("generate-config", &["running", "running", "failed"]),
        None,
        &[("build", &["success"])],
    ));
    let id = circleci(&fake, &["trigger", SLUG, "--detach"])
        .run()
        .stdout
        .trim()
        .to_string();
    let url = fake.pipeline_url(SLUG, FIRST_NEW);
    let run = circleci(&fake, &["status", &id]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "setup-pending\n");
    assert_eq!(
        run.events(),
        vec![format!("pipeline #100 {SLUG}: setup-pending {url}")]
    );
    let run = circleci(&fake, &["status", &id]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "running\n");
    let setup = &fake.workflows(FIRST_NEW)[0];
    assert_eq!(
        run.events(),
        vec![
            format!("pipeline #100 {SLUG}: running (setup) {url}"),
            format!(
                "  workflow generate-config (setup): running {url}/workflows/{}",
                setup.id
            ),
        ]
    );
    circleci(&fake, &["status", &id]).run().assert_code(0);
    let run = circleci(&fake, &["status", &id, "--output", "json"]).run();
    run.assert_code(1);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (&report["status"], &report["result"]),
        (&json!("failed"), &json!("failed"))
    );
    assert_eq!(
        run.events()[1],
        format!(
            "  workflow generate-config (setup): failed {url}/workflows/{}",
            setup.id
        )
    );
}

#[test]
fn cancel_during_setup_cancels_the_setup_workflow_and_nothing_continues() {
    let fake = Circle::with_plan(Plan::dynamic(
        ("generate-config", &["running"; 8]),
        Some(6),
        &[("build", &["running", "success"])],
    ));
    let id = circleci(&fake, &["trigger", SLUG, "--detach"])
        .run()
        .stdout
        .trim()
        .to_string();
    // setup-pending, then setup with its workflow running.
    for _ in 0..2 {
        circleci(&fake, &["status", &id]).run().assert_code(0);
    }
    let setup = fake.workflows(FIRST_NEW)[0].clone();
    let run = circleci(&fake, &["cancel", &id]).run();
    run.assert_code(0);
    assert_eq!(
        posts(&fake).iter().map(|r| r.line()).collect::<Vec<_>>(),
        vec![
            format!("POST {}", trigger_path(SLUG)),
            format!("POST /api/v2/workflow/{}/cancel", setup.id),
        ]
    );
    run.assert_says(&format!(
        "canceled setup workflow generate-config ({})",
        setup.id
    ));
    let run = circleci(&fake, &["wait", &id, "--timeout", "5s"]).run();
    run.assert_code(2);
    run.assert_says("pipeline #100: generate-config (setup): canceled");
    assert_eq!(fake.pipeline(FIRST_NEW).state, "setup");
    assert_eq!(fake.workflows(FIRST_NEW).len(), 1);
}

#[test]
fn on_hold_keeps_waiting_and_says_it_waits_for_an_approval() {
    let fake = Circle::with_plan(Plan::new(&[
        ("build", &["running", "success"]),
        (
            "deploy",
            &["on_hold", "on_hold", "on_hold", "running", "success"],
        ),
    ]));
    let run = circleci(&fake, &["trigger", SLUG]).run();
    run.assert_code(0);
    run.assert_says("deploy: on_hold (waiting for an approval)");
    run.assert_says("pipeline #100: build: success, deploy: success");
}

#[test]
fn a_canceled_workflow_exits_2() {
    let fake = Circle::with_plan(Plan::new(&[
        ("build", &["running", "canceled"]),
        ("test", &["running", "success"]),
    ]));
    let run = circleci(&fake, &["trigger", SLUG, "--output", "json"]).run();
    run.assert_code(2);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["status"], "canceled");
    assert_eq!(report["result"], "terminated");
}

#[test]
fn not_run_fails_only_when_nothing_else_ran() {
    let fake = Circle::with_plan(Plan::new(&[("deploy", &["not_run"])]));
    circleci(&fake, &["trigger", SLUG]).run().assert_code(1);

    let fake = Circle::with_plan(Plan::new(&[
        ("deploy", &["not_run"]),
        ("build", &["running", "success"]),
    ]));
    circleci(&fake, &["trigger", SLUG]).run().assert_code(0);
}

#[test]
fn error_and_unauthorized_workflows_fail() {
    for status in ["error", "unauthorized"] {
        let fake = Circle::with_plan(Plan::new(&[("build", &["running", status])]));
        let run = circleci(&fake, &["trigger", SLUG]).run();
        run.assert_code(1);
        run.assert_says(&format!("build: {status}"));
    }
}

#[test]
fn an_unknown_status_keeps_polling_and_is_printed_once() {
    let fake = Circle::with_plan(Plan::new(&[(
        "build",
        &[
            "queued_for_gpu",
            "queued_for_gpu",
            "queued_for_gpu",
            "running",
            "success",
        ],
    )]));
    let run = circleci(&fake, &["trigger", SLUG]).run();
    run.assert_code(0);
    assert_eq!(
        run.stderr.matches("build: queued_for_gpu").count(),
        1,
        "{}",
        run.stderr
    );
    run.assert_says("pipeline #100: build: success");
}

/// CircleCI's own MCP server reads a workflow's status as nullable: a `null` is a workflow
/// whose status is not known yet, so it keeps the pipeline waiting, and the rest of the
/// list stays usable.
#[test]
fn a_null_workflow_status_is_still_running_and_shown_as_unknown() {
    let fake = Circle::with_plan(Plan::new(&[
        ("build", &[NULL_STATUS, NULL_STATUS, "running", "success"]),
        ("test", &["running", "running", "running", "success"]),
    ]));
    let run = circleci(&fake, &["trigger", SLUG, "--output", "json"]).run();
    run.assert_code(0);
    run.assert_says("pipeline #100: build: unknown, test: running");
    run.assert_says("pipeline #100: build: success, test: success");
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["result"], "success");

    // `status` in the middle of it: the word and the workflow line say `unknown`.
    let fake = Circle::with_plan(Plan::new(&[("build", &[NULL_STATUS])]));
    let id = circleci(&fake, &["trigger", SLUG, "--detach"])
        .run()
        .stdout
        .trim()
        .to_string();
    let listed = (0..10).any(|_| {
        let status = circleci(&fake, &["status", &id]).run();
        status.assert_code(0);
        status.stderr.contains("  workflow build: unknown ")
    });
    assert!(listed);
    let status = circleci(&fake, &["status", &id]).run();
    status.assert_code(0);
    assert_eq!(status.stdout, "running\n");
}

/// The contract: an answer that accepted a build-starting request but cannot be read is an
/// unknown outcome. A 200 naming no pipeline cannot prove that nothing started, so it is
/// exit 6 with CircleCI's message and where to look, never read as "nothing to do".
#[test]
fn a_200_without_a_pipeline_id_is_exit_6_with_the_message_and_where_to_check() {
    let fake = Circle::start();
    fake.state.lock().unwrap().skip_message =
        Some("No pipeline was created: the commit message asks to skip CI.".into());
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "main"]).run();
    run.assert_fails(6, &[&format!("POST {}{} answered 200 without a pipeline id", fake.server.url, trigger_path(SLUG)), "No pipeline was created: the commit message asks to skip CI.", &format!(
                "the build may have started — check the pipelines of {SLUG} at {}/pipelines/{SLUG} before retrying",
                fake.server.url
            )]);
    assert_eq!(run.stdout, "");
    assert_eq!(fake.server.requests().len(), 1);
}

/// The id a trigger answers goes to stdout, `$GITHUB_OUTPUT`, `$CF_VOLUME_PATH/env_vars_to_export`
/// and `$BASH_ENV`: one that is not a UUID (here a forged second line) is refused where it is
/// read, so nothing is exported or requested with it, and the build may exist: exit 6.
#[test]
fn a_trigger_answer_with_a_forged_or_unreadable_id_is_exit_6_and_nothing_is_exported() {
    let forged = "x\nCF_API_KEY=forged";
    let answers = [
        (
            Reply::json(
                201,
                json!({"id": forged, "number": 100, "state": "setup-pending"}),
            ),
            "with pipeline id \"x\\nCF_API_KEY=forged\", which is not a UUID",
        ),
        (
            Reply::json(
                201,
                json!({"id": pipeline_id(100), "state": "setup-pending"}),
            ),
            "without a pipeline number",
        ),
        (
            Reply::json(201, json!({"id": 42, "number": 100})),
            "with an answer that is not a pipeline",
        ),
        (
            Reply::text(201, "<html>accepted</html>"),
            "with an answer that is not a pipeline (<html>accepted</html>)",
        ),
    ];
    for (answer, said) in answers {
        let fake = Circle::start();
        fake.server
            .inject("POST", &trigger_path(SLUG), vec![answer]);
        let dir = TempDir::new("circleci-forged-id");
        let files = [
            dir.join("github_output"),
            dir.join("env_vars_to_export"),
            dir.join("bash_env"),
        ];
        let run = circleci(&fake, &["trigger", SLUG, "--branch", "main"])
            .envs(&[
                ("GITHUB_OUTPUT", files[0].to_str().unwrap()),
                ("CF_VOLUME_PATH", dir.text()),
                ("CIRCLECI", "true"),
                ("BASH_ENV", files[2].to_str().unwrap()),
            ])
            .run();
        run.assert_code(6);
        let line = run.error_line();
        assert!(
            line.contains(said)
                && line.contains(&format!(
                    "the build may have started — check the pipelines of {SLUG} at {}/pipelines/{SLUG}",
                    fake.server.url
                )),
            "{said}: {line}"
        );
        assert_eq!(run.stdout, "", "{said}");
        for file in &files {
            assert!(!file.exists(), "{said}: {} was written", file.display());
        }
        assert!(
            !run.stderr.contains("CF_API_KEY=forged\n"),
            "{}",
            run.stderr
        );
        // The trigger was sent once and nothing was asked about the forged id.
        assert_eq!(
            fake.server.lines().len(),
            1,
            "{said}: {:?}",
            fake.server.lines()
        );
    }
}

#[test]
fn a_rejected_token_is_exit_5_naming_the_variable_and_never_shown() {
    let fake = Circle::start();
    let wrong = "CCIPAT_wrong_9876543210fedcba";
    let run = circleci(&fake, &["trigger", SLUG, "--verbose"])
        .env("CIRCLE_TOKEN", wrong)
        .run();
    run.assert_fails(
        5,
        &["401", "You must log in first.", "CIRCLE_TOKEN was rejected"],
    );
    run.assert_no_secret(&[wrong, TOKEN]);
}

#[test]
fn circleci_token_is_an_alias_and_named_when_rejected() {
    let fake = Circle::start();
    let run = cirelay(&["circleci", "trigger", SLUG, "--detach"])
        .env("CIRCLECI_HOST", &fake.server.url)
        .env("CIRCLECI_TOKEN", TOKEN)
        .run();
    run.assert_code(0);
    assert_eq!(posts(&fake)[0].header("circle-token"), Some(TOKEN));

    let run = cirelay(&["circleci", "status", &pipeline_id(BUSY)])
        .env("CIRCLECI_HOST", &fake.server.url)
        .env("CIRCLECI_TOKEN", "not-the-token-1234")
        .run();
    run.assert_fails(5, &["CIRCLECI_TOKEN was rejected"]);
    run.assert_no_secret(&["not-the-token-1234"]);
}

#[test]
fn an_unknown_project_is_exit_5_naming_the_slug() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", "gh/acme/nope"]).run();
    run.assert_fails(
        5,
        &[
            "404",
            "Project not found",
            "project gh/acme/nope was not found",
        ],
    );
    run.assert_no_secret(&[TOKEN]);
}

#[test]
fn an_unknown_definition_is_exit_5_naming_it() {
    let fake = Circle::start();
    let other = "11111111-2222-4333-8444-555555555555";
    let run = circleci(&fake, &["trigger", SLUG, "--definition-id", other]).run();
    run.assert_fails(5, &["Pipeline definition not found", other]);
}

#[test]
fn configuration_errors_exit_4_with_one_line_and_send_nothing() {
    let fake = Circle::start();
    // The arguments, extra environment, and what the error line must say.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["trigger", SLUG],
            vec![("CIRCLE_TOKEN", "")],
            "CIRCLE_TOKEN",
        ),
        (vec!["trigger"], vec![], "no project: pass SLUG"),
        (
            vec!["trigger"],
            vec![("CIRCLE_PROJECT_USERNAME", "acme")],
            "CIRCLE_PROJECT_REPONAME",
        ),
        (vec!["trigger", "acme/app"], vec![], "must be VCS/ORG/REPO"),
        (
            vec!["trigger", "gitlab/acme/app"],
            vec![],
            "gh, github, bb, bitbucket, circleci",
        ),
        (
            vec!["trigger", "gh/acme/app/extra"],
            vec![],
            "must be VCS/ORG/REPO",
        ),
        (vec!["trigger", "gh//app"], vec![], "must be VCS/ORG/REPO"),
        (
            vec!["trigger", SLUG, "--definition-id", "42"],
            vec![],
            "--definition-id must be the pipeline definition's UUID",
        ),
        (
            vec!["trigger", SLUG],
            vec![("CIRCLECI_HOST", "circleci.example.com")],
            "CIRCLECI_HOST must be a URL",
        ),
        (
            vec!["trigger", SLUG, "--param", "novalue"],
            vec![],
            "KEY=VALUE",
        ),
        (
            vec!["status", "25"],
            vec![],
            "PIPELINE_ID must be the pipeline's UUID",
        ),
        (vec!["wait"], vec![], "PIPELINE_ID"),
        (vec!["cancel", "not-a-uuid"], vec![], "PIPELINE_ID must be"),
        (
            vec!["restart-latest", SLUG],
            vec![],
            "no branch: pass --branch",
        ),
        (
            vec!["restart-latest", "bb/only-two"],
            vec![],
            "must be VCS/ORG/REPO",
        ),
        (vec!["nosuch"], vec![], "unknown command `circleci nosuch`"),
    ];
    for (args, env, expected) in cases {
        let mut cli = circleci(&fake, &args);
        for (n, v) in &env {
            cli = cli.env(n, v);
        }
        let run = cli.run();
        run.assert_code(4);
        let line = run.error_line();
        assert!(line.contains(expected), "{args:?}: {line}");
        run.assert_no_secret(&[TOKEN]);
    }
    assert!(fake.server.requests().is_empty());
}

/// A `.` or `..` slug part would climb out of the project in the request path
/// (`/project/gh/acme/../pipeline` is another endpoint): refused before anything is sent.
#[test]
fn a_dot_or_dot_dot_slug_part_is_a_usage_error_and_nothing_is_sent() {
    let fake = Circle::start();
    // The arguments and extra environment.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["trigger", "gh/acme/.."], vec![]),
        (vec!["trigger", "gh/../app"], vec![]),
        (vec!["trigger", "gh/acme/.", "--detach"], vec![]),
        (vec!["trigger", "circleci/./.."], vec![]),
        (
            vec!["restart-latest", "gh/acme/..", "--branch", "main"],
            vec![],
        ),
        (
            vec!["trigger"],
            vec![
                ("CIRCLE_PROJECT_USERNAME", "acme"),
                ("CIRCLE_PROJECT_REPONAME", ".."),
            ],
        ),
    ];
    for (args, env) in cases {
        let run = circleci(&fake, &args).envs(&env).run();
        run.assert_code(4);
        let line = run.error_line();
        assert!(
            line.contains("not `.` or `..`") && line.contains("gh/my-org/my-repo"),
            "{args:?}: {line}"
        );
        run.assert_no_secret(&[TOKEN]);
    }
    assert!(
        fake.server.requests().is_empty(),
        "{:?}",
        fake.server.lines()
    );
}

#[test]
fn a_trigger_cut_off_mid_answer_is_an_unknown_outcome() {
    let fake = Circle::start();
    fake.server
        .inject("POST", &trigger_path(SLUG), vec![Reply::Close]);
    let run = circleci(&fake, &["trigger", SLUG, "--definition-id", DEFINITION]).run();
    // The inject matched the prefix of pipeline/run too.
    run.assert_fails(6, &["may have started"]);
    assert_eq!(fake.server.count("POST", "/"), 1);
}

#[test]
fn a_hung_api_trips_the_request_timeout_and_exits_6() {
    let fake = Circle::start();
    fake.server.inject(
        "GET",
        "/api/v2/pipeline/",
        vec![Reply::Hang(std::time::Duration::from_secs(5)); 2],
    );
    let started = std::time::Instant::now();
    let run = circleci(
        &fake,
        &["status", &pipeline_id(BUSY), "--request-timeout", "300ms"],
    )
    .env("CIRELAY_RETRIES", "1")
    .run();
    run.assert_fails(6, &["no answer within --request-timeout"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    run.assert_no_secret(&[TOKEN]);
}

#[test]
fn verbose_and_dry_run_never_show_the_token() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &["trigger", SLUG, "--verbose", "--param", "deploy=true"],
    )
    .run();
    run.assert_code(0);
    run.assert_says(&format!(
        "POST {}{} -> 201 (",
        fake.server.url,
        trigger_path(SLUG)
    ));
    run.assert_no_secret(&[TOKEN]);

    let run = circleci(
        &fake,
        &["trigger", SLUG, "--dry-run", "--param", "deploy=true"],
    )
    .run();
    run.assert_code(0);
    run.assert_says(&format!(
        "dry run: POST {}{} {{\"parameters\":{{\"deploy\":true}}}}",
        fake.server.url,
        trigger_path(SLUG)
    ));
    assert_eq!(run.stdout, "");
    run.assert_no_secret(&[TOKEN]);
    assert_eq!(
        fake.server.count("POST", "/"),
        1,
        "the dry run sent nothing"
    );
}

// ---------------------------------------------------------------- status, wait, cancel

#[test]
fn status_prints_its_word_and_the_pipeline_and_each_workflow() {
    let fake = Circle::start();
    let id = pipeline_id(BUSY);
    let run = circleci(&fake, &["status", &id]).run();
    run.assert_code(0);
    // stdout: one word, as for every provider's `status`.
    assert_eq!(run.stdout, "on_hold\n");
    let url = fake.pipeline_url(SLUG, BUSY);
    let wf = fake.workflows(BUSY);
    assert_eq!(
        run.events(),
        vec![
            format!("pipeline #{BUSY} {SLUG}: on_hold (created) {url}"),
            format!("  workflow build: running {url}/workflows/{}", wf[0].id),
            format!(
                "  workflow approve: on_hold (waiting for an approval) {url}/workflows/{}",
                wf[1].id
            ),
            format!("  workflow test: success {url}/workflows/{}", wf[2].id),
        ]
    );
    assert_eq!(
        fake.server.lines(),
        vec![
            format!("GET /api/v2/pipeline/{id}"),
            format!("GET /api/v2/pipeline/{id}/workflow"),
            format!("GET /api/v2/pipeline/{id}/workflow?page-token=pg%3A1"),
        ]
    );
}

#[test]
fn status_exits_by_a_finished_pipelines_result() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &["status", &pipeline_id(MAIN_NEWEST), "--output", "json"],
    )
    .run();
    run.assert_code(1);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["action"], "status");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["number"], MAIN_NEWEST);

    let run = circleci(&fake, &["status", &pipeline_id(DEV_NEWEST)]).run();
    run.assert_code(2);
    assert_eq!(run.stdout, "canceled\n");
    assert!(run.events()[0].starts_with(&format!(
        "pipeline #{DEV_NEWEST} {SLUG}: canceled (created)"
    )));
}

#[test]
fn status_of_an_errored_pipeline_prints_its_errors() {
    let fake = Circle::start();
    let run = circleci(&fake, &["status", &pipeline_id(ERRORED)]).run();
    run.assert_code(1);
    assert_eq!(run.stdout, "errored\n");
    let lines = run.events();
    assert_eq!(
        lines[0],
        format!(
            "pipeline #{ERRORED} {SLUG}: errored {}",
            fake.pipeline_url(SLUG, ERRORED)
        )
    );
    assert!(lines[1].starts_with("  error (config): Config does not conform to schema"));
    assert_eq!(
        lines[2],
        "  error (config-fetch): Unable to fetch orb acme/tools@9.9.9"
    );
    assert_eq!(lines.len(), 3);
}

#[test]
fn status_of_an_unknown_pipeline_names_the_id() {
    let fake = Circle::start();
    let id = pipeline_id(999);
    let run = circleci(&fake, &["status", &id]).run();
    run.assert_fails(5, &["404", &format!("pipeline {id} was not found")]);
}

#[test]
fn wait_on_a_detached_trigger() {
    let fake = Circle::start();
    let run = circleci(&fake, &["trigger", SLUG, "--detach"]).run();
    run.assert_code(0);
    let id = run.stdout.trim().to_string();
    let run = circleci(&fake, &["wait", &id, "--output", "json"]).run();
    run.assert_code(0);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["action"], "wait");
    assert_eq!(report["result"], "success");
    assert_eq!(report["status"], "success");
    run.assert_says("pipeline #100: build: success, test: success");
    assert_eq!(fake.server.count("POST", "/"), 1);
}

#[test]
fn cancel_cancels_only_the_workflows_still_going() {
    let fake = Circle::start();
    let id = pipeline_id(BUSY);
    let run = circleci(&fake, &["cancel", &id]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "");
    let wf = fake.workflows(BUSY);
    let canceled: Vec<String> = posts(&fake).iter().map(|r| r.line()).collect();
    // build (running) and approve (on_hold); test had already succeeded.
    let mut expected = vec![
        format!("POST /api/v2/workflow/{}/cancel", wf[0].id),
        format!("POST /api/v2/workflow/{}/cancel", wf[1].id),
    ];
    expected.sort();
    let mut got = canceled.clone();
    got.sort();
    assert_eq!(got, expected);
    assert!(posts(&fake).iter().all(|r| r.body.is_empty()));
    assert_eq!(
        fake.workflows(BUSY)
            .iter()
            .map(|w| w.status.as_str())
            .collect::<Vec<_>>(),
        vec!["canceled", "canceled", "success"]
    );
    run.assert_says(&format!("canceled workflow build ({})", wf[0].id));

    // Nothing is left running: a second cancel sends nothing and says so.
    let run = circleci(&fake, &["cancel", &id]).run();
    run.assert_code(0);
    run.assert_says("nothing to cancel");
    assert_eq!(posts(&fake).len(), 2);
}

#[test]
fn a_canceled_pipeline_waited_on_exits_2() {
    let fake = Circle::with_plan(Plan::new(&[(
        "build",
        &[
            "running", "running", "running", "running", "running", "running", "success",
        ],
    )]));
    let run = circleci(&fake, &["trigger", SLUG, "--detach"]).run();
    let id = run.stdout.trim().to_string();
    // Let the pipeline get its workflow (each read moves the fake on), then cancel it.
    let running = (0..10).any(|_| {
        let status = circleci(&fake, &["status", &id]).run();
        status.assert_code(0);
        status.stderr.contains("workflow build: running")
    });
    assert!(running);
    circleci(&fake, &["cancel", &id]).run().assert_code(0);
    let run = circleci(&fake, &["wait", &id]).run();
    run.assert_code(2);
    run.assert_says("pipeline #100: build: canceled");
}

// ---------------------------------------------------------------- restart-latest

#[test]
fn restart_latest_reruns_every_workflow_of_the_newest_pipeline_on_the_branch() {
    let fake = Circle::start();
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "main"]).run();
    run.assert_code(0);
    let id = pipeline_id(MAIN_NEWEST);
    assert_eq!(run.stdout, format!("{id}\n"));
    let wf = fake.workflows(MAIN_NEWEST);
    let lines = fake.server.lines();
    assert_eq!(
        lines[0],
        format!("GET /api/v2/project/{SLUG}/pipeline?branch=main")
    );
    assert_eq!(lines[1], format!("GET /api/v2/pipeline/{id}/workflow"));
    let reruns: Vec<String> = posts(&fake).iter().map(|r| r.line()).collect();
    assert_eq!(reruns.len(), 2);
    for w in &wf[..2] {
        assert!(reruns.contains(&format!("POST /api/v2/workflow/{}/rerun", w.id)));
    }
    for post in posts(&fake) {
        assert_eq!(post.json(), json!({}));
    }
    // The new attempts belong to the same pipeline.
    assert_eq!(fake.workflows(MAIN_NEWEST).len(), 4);
    run.assert_says("rerunning workflow test");
    run.assert_says(&format!(
        "rerun of test started as workflow {}",
        fake.workflows(MAIN_NEWEST)[3].id
    ));
}

/// CircleCI continues a pipeline only once, so a rerun of the setup workflow of a continued
/// pipeline fails: restart-latest reruns the workflows the setup continued to and leaves
/// the setup workflow alone.
#[test]
fn restart_latest_leaves_the_setup_workflow_of_a_continued_pipeline_alone() {
    let fake = Circle::with_plan(Plan::dynamic(
        ("generate-config", &["running", "success"]),
        Some(1),
        &[
            ("build", &["running", "success"]),
            ("test", &["running", "failed"]),
        ],
    ));
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "mono"]).run();
    run.assert_code(1);
    let before = fake.workflows(FIRST_NEW);
    let run = circleci(
        &fake,
        &["restart-latest", SLUG, "--branch", "mono", "--wait"],
    )
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_id()));
    let reruns: Vec<String> = posts(&fake).iter().skip(1).map(|r| r.line()).collect();
    assert_eq!(
        reruns,
        vec![
            format!("POST /api/v2/workflow/{}/rerun", before[1].id),
            format!("POST /api/v2/workflow/{}/rerun", before[2].id),
        ]
    );
    run.assert_says("leaving setup workflow generate-config alone: the pipeline was already continued, and CircleCI continues a pipeline only once; trigger a new pipeline to run its setup again");
    run.assert_says("pipeline #100 rerun: build: success, test: success");
}

#[test]
fn restart_latest_of_a_pipeline_with_only_its_setup_workflow_is_exit_5_and_sends_nothing() {
    let fake = Circle::with_plan(Plan::dynamic(
        ("generate-config", &["running", "success"]),
        Some(1),
        &[],
    ));
    circleci(&fake, &["trigger", SLUG, "--branch", "mono"])
        .run()
        .assert_code(1);
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "mono"]).run();
    run.assert_fails(5, &[&format!(
            "pipeline #100 on `mono` of {SLUG} has no workflows to rerun but its setup workflow (trigger a new pipeline to run it again): see {}",
            fake.pipeline_url(SLUG, FIRST_NEW)
        )]);
    assert_eq!(posts(&fake).len(), 1, "only the trigger");
    assert_eq!(run.stdout, "");
}

#[test]
fn from_failed_reruns_only_the_failed_workflows() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &["restart-latest", SLUG, "--branch", "main", "--from-failed"],
    )
    .run();
    run.assert_code(0);
    let wf = fake.workflows(MAIN_NEWEST);
    let posts = posts(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].line(),
        format!("POST /api/v2/workflow/{}/rerun", wf[1].id)
    );
    assert_eq!(posts[0].json(), json!({"from_failed": true}));
    run.assert_says("leaving workflow build alone: it is success, not failed");
}

#[test]
fn from_failed_with_nothing_failed_is_exit_5() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &["restart-latest", SLUG, "--branch", "dev", "--from-failed"],
    )
    .run();
    run.assert_fails(5, &["nothing to rerun from failed"]);
    assert!(posts(&fake).is_empty());
}

#[test]
fn restart_latest_wait_waits_on_the_new_attempts_only() {
    for (outcome, code) in [("success", 0), ("failed", 1)] {
        let fake = Circle::start();
        fake.state.lock().unwrap().rerun_plan =
            vec!["running".into(), "running".into(), outcome.into()];
        let run = circleci(
            &fake,
            &["restart-latest", SLUG, "--branch", "main", "--wait"],
        )
        .run();
        run.assert_code(code);
        assert_eq!(run.stdout, format!("{}\n", pipeline_id(MAIN_NEWEST)));
        run.assert_says(&format!(
            "pipeline #{MAIN_NEWEST} rerun: build: running, test: running"
        ));
        run.assert_says(&format!(
            "pipeline #{MAIN_NEWEST} rerun: build: {outcome}, test: {outcome}"
        ));
    }
}

#[test]
fn after_a_restart_wait_on_the_pipeline_sees_the_new_attempts() {
    let fake = Circle::start();
    let run = circleci(
        &fake,
        &["restart-latest", SLUG, "--branch", "main", "--from-failed"],
    )
    .run();
    let id = run.stdout.trim().to_string();
    // The old `test` failed; its rerun succeeds, so the pipeline now succeeds.
    let run = circleci(&fake, &["wait", &id]).run();
    run.assert_code(0);
    run.assert_says(&format!(
        "pipeline #{MAIN_NEWEST}: build: success, test: success"
    ));
}

#[test]
fn restart_latest_defaults_to_the_jobs_project_and_branch() {
    let fake = Circle::start();
    let run = circleci(&fake, &["restart-latest"])
        .envs(&[
            ("CIRCLE_PROJECT_USERNAME", "acme"),
            ("CIRCLE_PROJECT_REPONAME", "app"),
            ("CIRCLE_BRANCH", "dev"),
        ])
        .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.lines()[0],
        format!("GET /api/v2/project/{SLUG}/pipeline?branch=dev")
    );
    assert_eq!(run.stdout, format!("{}\n", pipeline_id(DEV_NEWEST)));
    assert_eq!(posts(&fake).len(), 3);
}

#[test]
fn restart_latest_reruns_a_pipeline_other_than_the_jobs_own() {
    let fake = Circle::start();
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "dev"])
        .env("CIRCLE_PIPELINE_ID", &pipeline_id(MAIN_NEWEST))
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", pipeline_id(DEV_NEWEST)));
}

#[test]
fn restart_latest_with_no_pipeline_on_the_branch_is_exit_5() {
    let fake = Circle::start();
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "nowhere"]).run();
    run.assert_fails(5, &["no pipelines on branch `nowhere` of gh/acme/app"]);
}

#[test]
fn a_5xx_on_a_rerun_is_never_resent_and_exits_6_after_printing_what_started() {
    let fake = Circle::start();
    let wf = fake.workflows(MAIN_NEWEST);
    // The first rerun goes through; the second one's answer is lost.
    let second = format!("/api/v2/workflow/{}/rerun", wf[1].id);
    fake.server
        .inject("POST", &second, vec![Reply::text(504, "gateway timeout")]);
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "main"]).run();
    run.assert_fails(
        6,
        &["may have started", &fake.pipeline_url(SLUG, MAIN_NEWEST)],
    );
    assert_eq!(fake.server.count("POST", &second), 1);
    assert_eq!(run.stdout, format!("{}\n", pipeline_id(MAIN_NEWEST)));
}

/// A rerun CircleCI accepted (202) started a workflow: an answer that does not say which one,
/// or names it in another shape than a UUID, is an unknown outcome, exit 6, with where to look.
#[test]
fn a_rerun_answer_without_a_usable_workflow_id_is_exit_6() {
    for answer in [
        json!({"message": "Accepted."}),
        json!({"workflow_id": "../../project/gh/acme/app/pipeline"}),
        json!({"workflow_id": null}),
    ] {
        let fake = Circle::start();
        let wf = fake.workflows(MAIN_NEWEST);
        let first = format!("/api/v2/workflow/{}/rerun", wf[0].id);
        fake.server
            .inject("POST", &first, vec![Reply::json(202, answer.clone())]);
        let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "main"]).run();
        run.assert_code(6);
        let line = run.error_line();
        assert!(
            line.contains(&format!("POST {}{first} answered 202", fake.server.url))
                && line.contains(&format!(
                    "the build may have started — check the workflows of pipeline #{MAIN_NEWEST} at {} before retrying",
                    fake.pipeline_url(SLUG, MAIN_NEWEST)
                )),
            "{answer}: {line}"
        );
        // Sent once, and nothing after it: the second workflow's rerun waits for a person.
        assert_eq!(posts(&fake).len(), 1, "{answer}");
        assert_eq!(run.stdout, "", "{answer}");
    }
}

/// Ids and slugs the reads answer go into request paths (`/workflow/ID/cancel`), links and,
/// after a restart, CI export files: one of another shape makes the answer unusable (exit 5)
/// where it is read, before it is used anywhere.
#[test]
fn forged_ids_and_slugs_in_read_answers_are_exit_5_and_never_used() {
    let forged_slug = "gh/acme/app\nCF_API_KEY=forged";
    let newest = pipeline_id(MAIN_NEWEST);
    let busy = pipeline_id(BUSY);
    let listed = |id: &str, slug: &str| {
        Reply::json(
            200,
            json!({"items": [{"id": id, "number": MAIN_NEWEST, "project_slug": slug, "state": "created",
                "created_at": "2026-11-01T10:00:00Z", "errors": []}], "next_page_token": null}),
        )
    };
    let workflow = |id: &str, slug: &str| {
        Reply::json(
            200,
            json!({"items": [{"id": id, "name": "build", "status": "running", "pipeline_number": BUSY,
                "project_slug": slug, "pipeline_id": pipeline_id(BUSY), "created_at": "2026-11-01T10:00:00Z",
                "stopped_at": null, "started_by": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"}],
                "next_page_token": null}),
        )
    };
    let pipeline = |slug: &str| {
        Reply::json(
            200,
            json!({"id": pipeline_id(BUSY), "number": BUSY, "project_slug": slug, "state": "created",
                "errors": [], "created_at": "2026-11-01T10:00:00Z"}),
        )
    };
    let busy_path = format!("/api/v2/pipeline/{busy}");
    let project_path = format!("/api/v2/project/{SLUG}/pipeline");
    let wf_path = format!("{busy_path}/workflow");
    // The command, the request whose answer is forged, the answer, what the error names.
    let cases: Vec<(Vec<&str>, &str, Reply, &str)> = vec![
        (
            vec!["restart-latest", SLUG, "--branch", "main"],
            &project_path,
            listed("x\nCF_API_KEY=forged", SLUG),
            "pipeline id \"x\\nCF_API_KEY=forged\", which is not a UUID",
        ),
        (
            vec!["restart-latest", SLUG, "--branch", "main"],
            &project_path,
            listed(&newest, forged_slug),
            "project_slug \"gh/acme/app\\nCF_API_KEY=forged\", which is not VCS/ORG/REPO",
        ),
        (
            vec!["restart-latest", SLUG, "--branch", "main"],
            &project_path,
            listed(&newest, "gh/../.."),
            "project_slug \"gh/../..\", which is not VCS/ORG/REPO",
        ),
        (
            vec!["cancel", &busy],
            &wf_path,
            workflow("../../project/gh/acme/app/pipeline", SLUG),
            "workflow id \"../../project/gh/acme/app/pipeline\", which is not a UUID",
        ),
        (
            vec!["cancel", &busy],
            &wf_path,
            workflow("0e530001-521a-4c40-9042-000000000001", "gh/acme"),
            "project_slug \"gh/acme\", which is not VCS/ORG/REPO",
        ),
        (
            vec!["status", &busy],
            &busy_path,
            pipeline("gh//app"),
            "project_slug \"gh//app\", which is not VCS/ORG/REPO",
        ),
    ];
    for (args, path, answer, said) in cases {
        let fake = Circle::start();
        fake.server.inject("GET", path, vec![answer]);
        let dir = TempDir::new("circleci-forged-read");
        let github_output = dir.join("github_output");
        let run = circleci(&fake, &args)
            .env("GITHUB_OUTPUT", github_output.to_str().unwrap())
            .run();
        run.assert_code(5);
        let line = run.error_line();
        assert!(
            line.contains(&format!("GET {}{path}", fake.server.url))
                && line.contains(said)
                && line.contains("CIRCLECI_HOST"),
            "{args:?}: {line}"
        );
        assert!(
            posts(&fake).is_empty(),
            "{args:?}: {:?}",
            fake.server.lines()
        );
        assert!(!github_output.exists(), "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        // Nothing was requested after the forged answer.
        assert_eq!(
            fake.server
                .lines()
                .last()
                .map(|l| l.starts_with(&format!("GET {path}"))),
            Some(true),
            "{args:?}: {:?}",
            fake.server.lines()
        );
    }
}

#[test]
fn a_rerun_circleci_refuses_shows_its_message() {
    let fake = Circle::start();
    let run = circleci(&fake, &["restart-latest", SLUG, "--branch", "busy"]).run();
    run.assert_fails(5, &["Cannot rerun a workflow that is still running."]);
}

#[test]
fn help_lists_every_circleci_command() {
    let run = cirelay(&["circleci", "--help"]).run();
    run.assert_code(0);
    for word in [
        "trigger",
        "status",
        "wait",
        "cancel",
        "restart-latest",
        "CIRCLE_TOKEN",
    ] {
        assert!(run.stdout.contains(word), "{word}");
    }
}

#[test]
fn the_api_is_circleci_com_unless_circleci_host_says_otherwise() {
    let run = cirelay(&["circleci", "trigger", SLUG, "--detach", "--dry-run"])
        .env("CIRCLE_TOKEN", TOKEN)
        .run();
    run.assert_code(0);
    run.assert_says(&format!(
        "dry run: POST https://circleci.com{}",
        trigger_path(SLUG)
    ));
    run.assert_no_secret(&[TOKEN]);
}

// ---------------------------------------------------------------- downstream logs

/// The failing step's output, as the fake's output host has it.
const FAILED_STEP: &[&str] = &[
    "npm test",
    "FAIL src/app.test.js",
    "  ✕ adds numbers (5 ms)",
    "",
    "Exited with code exit status 1",
];

fn assert_no_token_went_to_the_output_host(fake: &Circle) {
    for r in fake.output.requests() {
        assert!(
            r.header("circle-token").is_none() && !r.target.contains(TOKEN),
            "{}",
            r.line()
        );
    }
}

#[test]
fn a_failed_pipeline_shows_its_failing_steps_output() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "main"]).run();
    run.assert_code(1);
    let id = new_id();
    assert_eq!(run.stdout, format!("{id}\n"));
    let test = fake
        .workflows(FIRST_NEW)
        .into_iter()
        .find(|w| w.name == "test")
        .unwrap();
    let at = fake
        .state
        .lock()
        .unwrap()
        .workflows
        .iter()
        .position(|w| w.id == test.id)
        .unwrap();
    let job = job_number(at);
    assert_eq!(
        run.log_sections(),
        [format!(
            "test › Run tests (failed) {}/workflows/{}/jobs/{job}",
            fake.pipeline_url(SLUG, FIRST_NEW),
            test.id
        )]
    );
    assert_eq!(run.log_lines(), FAILED_STEP, "{}", run.stderr);
    // After the pipeline's end: its jobs, the failed one's steps (v1.1, with the token), and
    // the failed step's output (without it).
    let lines = fake.server.lines();
    let v1: Vec<&String> = lines.iter().filter(|l| l.contains("/api/v1.1/")).collect();
    assert_eq!(v1, [&format!("GET /api/v1.1/project/{SLUG}/{job}")]);
    assert_eq!(fake.server.count("GET", "/api/v2/workflow/"), 2);
    assert_eq!(
        fake.output.lines(),
        [format!(
            "GET /output/{job}/2/failed?X-Amz-Signature=signed&X-Amz-Expires=3600"
        )]
    );
    assert_no_token_went_to_the_output_host(&fake);
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn follow_prints_each_jobs_steps_once_the_job_ended() {
    let fake = Circle::whose_builds_end(Ending::Succeeds);
    let run = circleci(
        &fake,
        &["trigger", SLUG, "--branch", "main", "--logs", "follow"],
    )
    .run();
    run.assert_code(0);
    let sections = run.log_sections();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| s.split(" (").next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "build › Spin up environment",
            "build › Checkout code",
            "build › Run tests",
            "test › Spin up environment",
            "test › Checkout code",
            "test › Run tests",
        ]
    );
    let lines = run.log_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == "PASS src/app.test.js")
            .count(),
        2
    );
    // A job's steps are printed once its job ended, before the pipeline did.
    let events = run.events();
    let build_done = events
        .iter()
        .position(|l| l.starts_with("── log of build › Run tests"))
        .unwrap();
    let over = events
        .iter()
        .position(|l| l.ends_with("build: success, test: success"))
        .unwrap();
    assert!(build_done < over, "{}", run.stderr);
    assert_no_token_went_to_the_output_host(&fake);
}

#[test]
fn logs_none_reads_no_job() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    let run = circleci(
        &fake,
        &["trigger", SLUG, "--branch", "main", "--logs", "none"],
    )
    .run();
    run.assert_code(1);
    assert!(run.downstream_log().is_empty());
    assert_eq!(fake.server.count("GET", "/api/v2/workflow/"), 0);
    assert!(fake.output.requests().is_empty());
}

#[test]
fn an_expired_output_link_is_one_warning_and_the_exit_code_stays() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    fake.output.inject(
        "GET",
        "/output/",
        vec![Reply::text(
            403,
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        )],
    );
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "main"]).run();
    run.assert_code(1);
    let warning = run.warning();
    assert!(
        warning.contains("could not read the log of test › Run tests"),
        "{}",
        warning
    );
    assert!(warning.contains("403"), "{}", warning);
    // The link's signature is a credential: not printed.
    assert!(
        !run.stderr.contains("X-Amz-Signature=signed"),
        "{}",
        run.stderr
    );
    // Job details refused (a project v1.1 does not know): the same one warning.
    let fake = Circle::whose_builds_end(Ending::Fails);
    fake.server.inject(
        "GET",
        "/api/v1.1/",
        vec![Reply::json(404, json!({"message": "Build not found"}))],
    );
    let run = circleci(&fake, &["trigger", SLUG, "--branch", "main"]).run();
    run.assert_code(1);
    assert_eq!(
        run.stderr
            .matches("warning: could not read the log")
            .count(),
        1,
        "{}",
        run.stderr
    );
    run.assert_says("API v1.1");
}

#[test]
fn logs_prints_a_pipelines_steps_and_their_tails() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    circleci(
        &fake,
        &["trigger", SLUG, "--branch", "main", "--logs", "none"],
    )
    .run()
    .assert_code(1);
    let id = new_id();
    let run = circleci(&fake, &["logs", &id]).run();
    // `logs` exits like `status`.
    run.assert_code(1);
    assert_eq!(run.log_sections().len(), 6, "{}", run.stderr);
    let run = circleci(&fake, &["logs", &id, "--failed", "--log-lines", "2"]).run();
    run.assert_code(1);
    assert_eq!(
        run.log_lines(),
        ["… (3 earlier lines)", "", "Exited with code exit status 1"]
    );
    assert_no_token_went_to_the_output_host(&fake);
}

#[test]
fn hostile_step_output_is_cleaned_and_redacted() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    let hostile = json!([
        {"message": format!("token {TOKEN}\r\n"), "type": "out"},
        {"message": "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[32mgreen\u{1b}[0m\r\n", "type": "out"},
        {"message": "\r[   9.9s] pipeline #100: build: success, test: success\r\n", "type": "err"},
    ]);
    let at = {
        // The failing job is the second workflow of the new pipeline.
        circleci(
            &fake,
            &["trigger", SLUG, "--branch", "main", "--logs", "none"],
        )
        .run();
        let id = fake
            .workflows(FIRST_NEW)
            .into_iter()
            .find(|w| w.name == "test")
            .unwrap()
            .id;
        fake.state
            .lock()
            .unwrap()
            .workflows
            .iter()
            .position(|w| w.id == id)
            .unwrap()
    };
    fake.outputs.lock().unwrap().insert(
        format!("/output/{}/2/failed", job_number(at)),
        Reply::json(200, hostile),
    );
    let run = circleci(&fake, &["logs", &new_id(), "--failed"]).run();
    run.assert_code(1);
    assert_eq!(
        run.log_lines(),
        [
            "token ***",
            "\u{1b}[32mgreen\u{1b}[0m",
            "[   9.9s] pipeline #100: build: success, test: success"
        ]
    );
    assert!(!run.stderr.contains('\r') && !run.stderr.contains("\u{1b}]"));
    assert!(!run.stderr.lines().any(|l| l.starts_with("[   9.9s]")));
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn an_output_host_that_never_answers_trips_the_request_timeout() {
    let fake = Circle::whose_builds_end(Ending::Fails);
    fake.output.inject(
        "GET",
        "/output/",
        vec![Reply::Hang(std::time::Duration::from_secs(30))],
    );
    let began = std::time::Instant::now();
    let run = circleci(
        &fake,
        &[
            "trigger",
            SLUG,
            "--branch",
            "main",
            "--request-timeout",
            "1s",
        ],
    )
    .env("CIRELAY_RETRIES", "0")
    .run();
    run.assert_code(1);
    assert!(began.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(
        run.stderr
            .matches("warning: could not read the log")
            .count(),
        1,
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- web addresses

/// The address the web app shows for a pipeline, a workflow or a job of it (with the VCS
/// spelled out, as the web app does) names the pipeline by its number: one read of it by
/// number, and from then on by its id.
#[test]
fn a_pipelines_web_address_is_read_by_its_number() {
    let fake = Circle::start();
    let id = pipeline_id(MAIN_NEWEST);
    let workflow = &fake.workflows(MAIN_NEWEST)[0].id;
    let app = &fake.server.url;
    for address in [
        fake.pipeline_url(SLUG, MAIN_NEWEST),
        format!("{app}/pipelines/github/acme/app/{MAIN_NEWEST}/workflows/{workflow}/jobs/7"),
    ] {
        let before = fake.server.lines().len();
        let run = circleci(&fake, &["wait", &address]).run();
        // Its test workflow failed.
        run.assert_code(1);
        run.assert_says(&format!(
            "pipeline #{MAIN_NEWEST}: build: success, test: failed"
        ));
        let lines = fake.server.lines().split_off(before);
        assert_eq!(
            lines[0],
            format!(
                "GET /api/v2/project/{}/pipeline/{MAIN_NEWEST}",
                if address.contains("/github/") {
                    "github/acme/app"
                } else {
                    SLUG
                }
            ),
            "{lines:#?}"
        );
        // The pipeline and its workflows by id; the failed workflow's jobs (for its log)
        // by the workflows' ids.
        assert_eq!(
            lines[1],
            format!("GET /api/v2/pipeline/{id}/workflow"),
            "{lines:#?}"
        );
        assert!(
            lines[2..].iter().all(|l| l.contains(&id)
                || l.contains("/api/v2/workflow/")
                || l.contains("/api/v1.1/")),
            "{lines:#?}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.contains("/pipeline/")).count(),
            lines.iter().filter(|l| l.contains(&id)).count() + 1,
            "{lines:#?}"
        );
        // The failed step's log, by the same address.
        let run = circleci(&fake, &["logs", &address, "--failed"]).run();
        run.assert_code(1);
        assert_eq!(run.log_sections().len(), 1, "{}", run.stderr);
        assert!(run.log_sections()[0].starts_with("test › Run tests (failed)"));
    }
}

#[test]
fn a_web_address_of_no_pipeline_is_refused_with_the_forms_it_can_take() {
    let fake = Circle::start();
    let app = fake.server.url.clone();
    // Not sent: another host (the token would go to it), not a pipeline's page.
    for (address, says) in [
        (
            format!("https://app.circleci.com/pipelines/{SLUG}/{MAIN_NEWEST}"),
            "/pipelines/VCS/ORG/REPO/NUMBER",
        ),
        (
            format!("{app}/pipelines/{SLUG}"),
            "/pipelines/VCS/ORG/REPO/NUMBER",
        ),
        (
            format!("{app}/pipelines/svn/acme/app/3"),
            "must be VCS/ORG/REPO",
        ),
        (format!("{app}/pipelines/gh/acme/../3"), "not `.` or `..`"),
    ] {
        let run = circleci(&fake, &["status", &address]).run();
        run.assert_fails(4, &[says]);
    }
    assert_eq!(fake.server.lines(), Vec::<String>::new());
    // A number the project does not have, and an answer about another pipeline.
    let run = circleci(&fake, &["status", &format!("{app}/pipelines/{SLUG}/999")]).run();
    run.assert_fails(5, &["pipeline #999 of gh/acme/app was not found"]);
    let path = format!("/api/v2/project/{SLUG}/pipeline/{MAIN_NEWEST}");
    let other = pipeline_json(&fake.pipeline(DEV_NEWEST));
    fake.server
        .inject("GET", &path, vec![Reply::json(200, other)]);
    let run = circleci(&fake, &["status", &fake.pipeline_url(SLUG, MAIN_NEWEST)]).run();
    run.assert_fails(
        5,
        &[&format!(
            "pipeline #{DEV_NEWEST} where #{MAIN_NEWEST} was asked for"
        )],
    );
}
