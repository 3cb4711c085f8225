//! `cirelay gitlab …` against the fake GitLab API: the exact requests, stdout, stderr and
//! exit code of what is GitLab's own (the cross-provider cases are in the contract suite).

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::fakes::gitlab::{
    form, section, Gitlab, DEEP_PROJECT, FIRST_NEW, JOB_TOKEN, NEWEST_DEV, NEWEST_MAIN, PROJECT,
    TOKEN, TRIGGER_TOKEN,
};
use crate::support::{cirelay, read, Cli, Recorded, Reply, Run, TempDir};

const SECRETS: &[&str] = &[TOKEN, TRIGGER_TOKEN, JOB_TOKEN];

/// `cirelay gitlab ARGS --interval 20ms` with the access token and the fake's API.
fn gitlab(fake: &Gitlab, args: &[&str]) -> Cli {
    bare(args).env_all(fake_env(fake))
}

fn fake_env(fake: &Gitlab) -> Vec<(&'static str, String)> {
    vec![
        ("GITLAB_TOKEN", TOKEN.to_string()),
        ("GITLAB_API_URL", fake.api()),
    ]
}

/// The same, with no credential or host set.
fn bare(args: &[&str]) -> Cli {
    let mut all = vec!["gitlab"];
    all.extend_from_slice(args);
    cirelay(&all).args(&["--interval", "20ms"])
}

fn checked(cli: Cli) -> Run {
    let run = cli.run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.assert_no_secret(SECRETS);
    run
}

fn pipelines_path(id: u64) -> String {
    format!("/api/v4/projects/acme%2Fapp/pipelines/{id}")
}

/// The read of a ref's recent successful pipelines, sent once after the first reading of
/// a pipeline that is still going: their usual duration plans the polls.
fn history_line(git_ref: &str) -> String {
    format!(
        "GET /api/v4/projects/acme%2Fapp/pipelines?per_page=10&ref={git_ref}&status=success&page=1"
    )
}

fn new_id() -> String {
    format!("{PROJECT}/{FIRST_NEW}")
}

// ---------------------------------------------------------------- trigger

#[test]
fn trigger_with_an_access_token_sends_json_to_the_encoded_project_and_waits() {
    let fake = Gitlab::start("success");
    let run = checked(gitlab(
        &fake,
        &[
            "trigger",
            PROJECT,
            "--ref",
            "main",
            "--var",
            "IMAGE_TAG=1.4.2",
            "--var",
            "EXTRA=a=b c",
            "--var",
            "IMAGE_TAG=1.4.3",
            "--input",
            "deploy=true",
            "--input",
            "replicas=3",
            "--input",
            r#"regions=["eu","us"]"#,
            "--input-string",
            "version=42",
        ],
    ));
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_id()));
    let requests = fake.server.requests();
    let start = &requests[0];
    assert_eq!(start.line(), "POST /api/v4/projects/acme%2Fapp/pipeline");
    assert_eq!(start.header("PRIVATE-TOKEN"), Some(TOKEN));
    assert_eq!(
        start.json(),
        json!({
            "ref": "main",
            "variables": [
                {"key": "IMAGE_TAG", "value": "1.4.3"},
                {"key": "EXTRA", "value": "a=b c"}
            ],
            "inputs": {"deploy": true, "replicas": 3, "regions": ["eu", "us"], "version": "42"}
        })
    );
    // The trigger's answer is the first reading; then the ref's recent successful
    // pipelines, whose usual duration plans the polls (the fake dates the new pipeline a
    // month back, so that end has passed and the schedule grows as usual), and one read
    // per status.
    let read = format!("GET {}", pipelines_path(FIRST_NEW));
    assert_eq!(
        fake.server.lines()[1..],
        [
            history_line("main"),
            read.clone(),
            read.clone(),
            read.clone()
        ]
    );
    assert!(requests[1..]
        .iter()
        .all(|r| r.header("PRIVATE-TOKEN") == Some(TOKEN)));
    run.assert_says(&format!(
        "started pipeline #{FIRST_NEW} of {PROJECT}: {}",
        fake.pipeline_url(PROJECT, FIRST_NEW)
    ));
    for status in ["pending", "running", "success"] {
        run.assert_says(&format!("pipeline #{FIRST_NEW}: {status}"));
    }
}

#[test]
fn without_ref_the_projects_default_branch_is_read_first() {
    let fake = Gitlab::start("success");
    for (project, segment) in [("43", "43"), (DEEP_PROJECT, "acme%2Fplatform%2Fdeploy")] {
        let before = fake.server.requests().len();
        let run = checked(gitlab(&fake, &["trigger", project, "--detach"]));
        run.assert_code(0);
        let lines = fake.server.lines()[before..].to_vec();
        assert_eq!(
            lines,
            [
                format!("GET /api/v4/projects/{segment}"),
                format!("POST /api/v4/projects/{segment}/pipeline"),
            ]
        );
        let start = &fake.server.requests()[before + 1];
        assert_eq!(start.json(), json!({"ref": "main"}));
        assert!(
            run.stdout.starts_with(&format!("{project}/")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn the_fake_like_gitlab_answers_404_to_a_raw_slash_in_the_project() {
    let fake = Gitlab::start("success");
    let addr = fake.server.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/v4/projects/acme/app/pipelines/{NEWEST_MAIN} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

#[test]
fn a_trigger_token_travels_in_a_form_and_starts_only() {
    let fake = Gitlab::start("success");
    let run = checked(
        bare(&[
            "trigger",
            PROJECT,
            "--ref",
            "main",
            "--var",
            "A=1 2",
            "--input",
            "deploy=true",
            "--detach",
        ])
        .env_all(fake.trigger_env()),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_id()));
    let requests = fake.server.requests();
    assert_eq!(requests.len(), 1, "{:#?}", fake.server.lines());
    let start = &requests[0];
    assert_eq!(
        start.line(),
        "POST /api/v4/projects/acme%2Fapp/trigger/pipeline"
    );
    assert_eq!(
        start.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(start.header("PRIVATE-TOKEN"), None);
    assert_eq!(start.header("JOB-TOKEN"), None);
    let fields = form(&start.body);
    let expected: Vec<(String, String)> = [
        ("token", TRIGGER_TOKEN),
        ("ref", "main"),
        ("variables[A]", "1 2"),
        ("inputs[deploy]", "true"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(fields, expected);
    // As GitLab reads the form: a map of variables and of inputs.
    assert_eq!(
        fake.pipeline(FIRST_NEW).request,
        json!({"ref": "main", "variables": {"A": "1 2"}, "inputs": {"deploy": "true"}})
    );
}

#[test]
fn waiting_with_only_a_trigger_token_is_refused_before_anything_is_sent() {
    let fake = Gitlab::start("success");
    for args in [
        &["trigger", PROJECT, "--ref", "main"][..],
        &["trigger", PROJECT, "--detach"][..],
        &["status", "acme/app/1003"][..],
        &["restart-latest", PROJECT, "--branch", "main"][..],
    ] {
        let run = checked(bare(args).env_all(fake.trigger_env()));
        let line = run.assert_fails(4, &["GITLAB_TOKEN"]).to_string();
        if args.contains(&"--detach") {
            assert!(line.contains("pass --ref"), "{line}");
        } else {
            assert!(line.contains("read_api"), "{line}");
        }
        assert_eq!(run.stdout, "");
    }
    assert!(
        fake.server.requests().is_empty(),
        "{:#?}",
        fake.server.lines()
    );
}

#[test]
fn the_trigger_token_is_hidden_in_dry_runs_and_verbose_logs() {
    let fake = Gitlab::start("success");
    let dry = checked(
        bare(&["trigger", PROJECT, "--ref", "main", "--detach", "--dry-run"])
            .env_all(fake.trigger_env()),
    );
    dry.assert_code(0);
    dry.assert_says(&format!(
        "dry run: POST {}/projects/acme%2Fapp/trigger/pipeline token=***&ref=main",
        fake.api()
    ));
    assert!(fake.server.requests().is_empty());
    let verbose = checked(
        bare(&["trigger", PROJECT, "--ref", "main", "--detach", "--verbose"])
            .env_all(fake.trigger_env()),
    );
    verbose.assert_code(0);
    verbose.assert_says("POST");
}

#[test]
fn inside_a_gitlab_job_the_job_token_triggers_and_reads() {
    let fake = Gitlab::start("success");
    let run = checked(bare(&["trigger", PROJECT, "--ref", "main"]).env_all(fake.job_env()));
    run.assert_code(0);
    let requests = fake.server.requests();
    assert_eq!(
        form(&requests[0].body)[0],
        ("token".to_string(), JOB_TOKEN.to_string())
    );
    assert!(requests[1..]
        .iter()
        .all(|r| r.header("JOB-TOKEN") == Some(JOB_TOKEN) && r.header("PRIVATE-TOKEN").is_none()));

    // A trigger token and the job token: the first starts, the second reads.
    let fake = Gitlab::start("success");
    let mut env = fake.job_env();
    env.push(("GITLAB_TRIGGER_TOKEN", TRIGGER_TOKEN.to_string()));
    checked(bare(&["trigger", PROJECT, "--ref", "main"]).env_all(env)).assert_code(0);
    let requests = fake.server.requests();
    assert_eq!(
        form(&requests[0].body)[0],
        ("token".to_string(), TRIGGER_TOKEN.to_string())
    );
    assert_eq!(requests[1].header("JOB-TOKEN"), Some(JOB_TOKEN));
}

#[test]
fn a_job_token_the_project_does_not_allow_names_the_allowlist() {
    let fake = Gitlab::start("success");
    fake.state.lock().unwrap().job_token_reads = false;
    let run = checked(
        bare(&["trigger", PROJECT, "--ref", "main", "--output", "json"]).env_all(fake.job_env()),
    );
    run.assert_fails(
        5,
        &[
            "answered 403",
            "Authentication by CI/CD job token not allowed",
            "Settings → CI/CD → Job token permissions",
        ],
    );
    // It started: the JSON report still names it.
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["id"], new_id());
    assert_eq!(report["result"], "started");
}

// ---------------------------------------------------------------- statuses

fn waits_on(statuses: &[&str]) -> (Gitlab, Run) {
    let fake = Gitlab::start("success");
    fake.add_pipeline(
        3001,
        "main",
        statuses,
        vec![Gitlab::job(
            7001,
            "deploy",
            "failed",
            &format!(
                "{}{}",
                section("deploy", "step 1\nstep 2\n"),
                "ERROR: job failed\n"
            ),
            &[],
        )],
    );
    let run = checked(gitlab(&fake, &["wait", "acme/app/3001"]));
    (fake, run)
}

#[test]
fn statuses_end_the_wait_as_the_contract_maps_them() {
    for (statuses, code) in [
        (&["pending", "running", "success"][..], 0),
        (&["running", "failed"][..], 1),
        (&["created", "skipped"][..], 1),
        (&["running", "canceling"][..], 2),
        (&["running", "canceled"][..], 2),
        (
            &[
                "waiting_for_resource",
                "preparing",
                "scheduled",
                "waiting_for_callback",
                "success",
            ][..],
            0,
        ),
    ] {
        let (_, run) = waits_on(statuses);
        run.assert_code(code);
        assert_eq!(run.stdout, "", "{statuses:?}");
        let last = statuses.last().unwrap();
        run.assert_says(&format!("pipeline #3001: {last}"));
    }
}

#[test]
fn a_manual_job_keeps_the_wait_going_and_is_said_once() {
    let (_, run) = waits_on(&["running", "manual", "manual", "manual", "success"]);
    run.assert_code(0);
    assert_eq!(
        run.stderr
            .matches("manual (waiting for a manual job to be started)")
            .count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn a_failed_pipeline_shows_its_failed_jobs_last_lines_without_section_markers() {
    let (fake, run) = waits_on(&["running", "failed"]);
    run.assert_code(1);
    run.assert_says(&format!(
        "── log of deploy (failed) {}/acme/app/-/jobs/7001",
        fake.server.url
    ));
    let log: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        log,
        [
            "  \u{1b}[36;1m$ deploy\u{1b}[0;m",
            "  step 1",
            "  step 2",
            "  ERROR: job failed"
        ],
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("section_"), "{}", run.stderr);
    let tail = fake.server.lines();
    assert!(
        tail.ends_with(&[
            format!(
                "GET {}/jobs?per_page=100&scope%5B%5D=failed&page=1",
                pipelines_path(3001)
            ),
            "GET /api/v4/projects/acme%2Fapp/jobs/7001/trace".to_string(),
        ]),
        "{tail:#?}"
    );
}

// ---------------------------------------------------------------- status, cancel

#[test]
fn status_prints_the_word_and_the_pipeline_on_stderr() {
    let fake = Gitlab::start("success");
    let url = fake.pipeline_url(PROJECT, NEWEST_MAIN);
    for reference in [
        format!("{PROJECT}/{NEWEST_MAIN}"),
        format!("{url}/failures?tab=x"),
        format!("42/{NEWEST_MAIN}"),
    ] {
        let run = checked(gitlab(&fake, &["status", &reference]));
        run.assert_code(1);
        assert_eq!(run.stdout, "failed\n");
        run.assert_says(&format!(
            "pipeline #{NEWEST_MAIN} of {}: failed (ref main, commit 00000000) {url}",
            if reference.starts_with("42/") {
                "42"
            } else {
                PROJECT
            }
        ));
    }
    // Without the provider's name: the address says it is GitLab's.
    let run = checked(cirelay(&["status", &url]).env_all(fake_env(&fake)));
    run.assert_code(1);
    assert_eq!(run.stdout, "failed\n");
}

#[test]
fn pipelines_elsewhere_or_malformed_are_refused_before_anything_is_sent() {
    let fake = Gitlab::start("success");
    for bad in [
        "https://gitlab.example.com/acme/app/-/pipelines/5",
        &format!("{}/acme/app/-/jobs/5", fake.server.url),
        "acme/app/x",
        "acme/app/0",
        "1003",
        "acme/../app/1",
        "acme/a\npp/1",
    ] {
        let run = checked(gitlab(&fake, &["status", bad]));
        run.assert_code(4);
    }
    assert!(fake.server.requests().is_empty());
}

#[test]
fn cancel_cancels_a_running_pipeline_and_leaves_a_finished_one() {
    let fake = Gitlab::start("success");
    fake.add_pipeline(3002, "main", &["running"], vec![]);
    let run = checked(gitlab(
        &fake,
        &["cancel", "acme/app/3002", "--output", "json"],
    ));
    run.assert_code(0);
    assert_eq!(
        fake.server.lines(),
        [
            format!("GET {}", pipelines_path(3002)),
            format!("POST {}/cancel", pipelines_path(3002)),
        ]
    );
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["status"], "canceling");
    assert_eq!(report["result"], "success");

    let before = fake.server.requests().len();
    let run = checked(gitlab(
        &fake,
        &["cancel", &format!("acme/app/{NEWEST_MAIN}")],
    ));
    run.assert_code(0);
    run.assert_says("already finished (failed); nothing to cancel");
    assert_eq!(fake.server.requests().len(), before + 1, "only the read");
}

// ---------------------------------------------------------------- restart-latest

#[test]
fn restart_latest_retries_the_newest_pipeline_and_waits_past_its_old_result() {
    let fake = Gitlab::start("success");
    let run = checked(gitlab(
        &fake,
        &["restart-latest", PROJECT, "--branch", "main", "--wait"],
    ));
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{PROJECT}/{NEWEST_MAIN}\n"));
    let read = format!("GET {}", pipelines_path(NEWEST_MAIN));
    assert_eq!(
        fake.server.lines(),
        [
            "GET /api/v4/projects/acme%2Fapp/pipelines/latest?ref=main".to_string(),
            format!("POST {}/retry", pipelines_path(NEWEST_MAIN)),
            read.clone(),
            read.clone(),
            read,
        ]
    );
    // The read right after the retry still showed the old result: not taken for the new.
    run.assert_says("failed (the retry has not started yet)");
    run.assert_says(&format!("pipeline #{NEWEST_MAIN} retry: success"));
}

#[test]
fn restart_latest_of_a_pipeline_with_nothing_to_retry_says_so() {
    let fake = Gitlab::start("success");
    let run = checked(
        gitlab(&fake, &["restart-latest", PROJECT, "--wait"]).env("CI_COMMIT_REF_NAME", "dev"),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{PROJECT}/{NEWEST_DEV}\n"));
    assert_eq!(
        fake.server.lines()[0],
        "GET /api/v4/projects/acme%2Fapp/pipelines/latest?ref=dev"
    );
    run.assert_says("GitLab's retry reruns only failed and canceled jobs, so it may run nothing");
    run.assert_says(&format!(
        "GitLab ran nothing again in pipeline #{NEWEST_DEV}: it has no failed or canceled jobs to retry"
    ));
}

#[test]
fn restart_latest_without_a_branch_lets_gitlab_take_the_default_one() {
    let fake = Gitlab::start("success");
    checked(gitlab(&fake, &["restart-latest", PROJECT])).assert_code(0);
    assert_eq!(
        fake.server.lines()[0],
        "GET /api/v4/projects/acme%2Fapp/pipelines/latest"
    );
    let run = checked(gitlab(
        &fake,
        &["restart-latest", PROJECT, "--branch", "feature"],
    ));
    run.assert_fails(5, &["has no pipeline on `feature` yet", "--ref feature"]);
}

#[test]
fn the_own_pipeline_guard_applies_only_on_the_same_instance() {
    let fake = Gitlab::start("success");
    let own = NEWEST_MAIN.to_string();
    let run = checked(
        gitlab(&fake, &["restart-latest", PROJECT, "--branch", "main"])
            .env("CI_PIPELINE_ID", &own)
            .env("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
    );
    run.assert_code(0);
    let refused = checked(
        gitlab(&fake, &["restart-latest", PROJECT, "--branch", "main"])
            .env("CI_PIPELINE_ID", &own)
            .env("CI_API_V4_URL", &fake.api()),
    );
    refused.assert_fails(
        4,
        &["CI_PIPELINE_ID=1003", "cirelay gitlab trigger acme/app"],
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn refusals_name_what_to_fix() {
    let fake = Gitlab::start("success");
    let wrong = checked(
        bare(&["trigger", PROJECT, "--ref", "main"])
            .env("GITLAB_TOKEN", "glpat-wrong-token-0123456789")
            .env("GITLAB_API_URL", &fake.api()),
    );
    wrong.assert_fails(5, &["answered 401", "GITLAB_TOKEN was rejected"]);
    assert!(!wrong.stderr.contains("glpat-wrong"), "{}", wrong.stderr);

    let missing = checked(gitlab(&fake, &["trigger", "acme/nope", "--ref", "main"]));
    missing.assert_fails(
        5,
        &[
            "answered 404",
            "project acme/nope not found or not visible to this token",
        ],
    );
    let bad_ref = checked(gitlab(&fake, &["trigger", PROJECT, "--ref", "nope"]));
    bad_ref.assert_fails(5, &["answered 400: Reference not found", "check --ref"]);
    assert_eq!(bad_ref.stdout, "");

    let fake = Gitlab::start("success");
    fake.server.inject(
        "POST",
        "/api/v4/projects/acme%2Fapp/pipeline",
        vec![Reply::json(
            403,
            json!({"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.", "scope": "api"}),
        )],
    );
    let scope = checked(gitlab(&fake, &["trigger", PROJECT, "--ref", "main"]));
    scope.assert_fails(5, &["insufficient_scope", "the api scope"]);

    let pipeline = checked(gitlab(&fake, &["status", "acme/app/999"]));
    pipeline.assert_fails(5, &["pipeline 999 not found"]);

    let bad_token = checked(
        bare(&["trigger", PROJECT, "--ref", "main", "--detach"])
            .env("GITLAB_TRIGGER_TOKEN", "glptt-not-this-project-0123")
            .env("GITLAB_API_URL", &fake.api()),
    );
    bad_token.assert_fails(5, &["Pipeline trigger tokens"]);
}

#[test]
fn an_accepted_trigger_whose_answer_cannot_be_used_is_an_unknown_outcome() {
    for body in [
        json!({"id": FIRST_NEW, "status": "created", "web_url": "https://x/\nCI_JOB_TOKEN=forged"}),
        json!({"id": 0, "status": "created"}),
        json!({"id": "2001", "status": "created"}),
        json!({"status": "created"}),
    ] {
        let fake = Gitlab::start("success");
        let dir = TempDir::new("gitlab-hostile");
        let dotenv = dir.join("cirelay.env");
        fake.server.inject(
            "POST",
            "/api/v4/projects/acme%2Fapp/pipeline",
            vec![Reply::json(201, body.clone())],
        );
        let run = checked(
            gitlab(&fake, &["trigger", PROJECT, "--ref", "main"])
                .env("CIRELAY_DOTENV", dotenv.to_str().unwrap()),
        );
        run.assert_fails(
            6,
            &["the build may have started — check the pipelines of acme/app at"],
        );
        assert_eq!(run.stdout, "", "{body}");
        assert!(!dotenv.exists(), "{body}");
        assert!(!run.stderr.contains("\nCI_JOB_TOKEN"), "{}", run.stderr);
    }
}

/// A command line, the variables it runs with, and what its error says.
type BadSetting<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn bad_settings_are_exit_4_before_anything_is_sent() {
    let fake = Gitlab::start("success");
    let api = fake.api();
    let cases: Vec<BadSetting> = vec![
        (
            vec!["trigger", PROJECT, "--ref", "main"],
            vec![],
            "no GitLab credential",
        ),
        (
            vec!["trigger", PROJECT],
            vec![
                ("GITLAB_TOKEN", TOKEN),
                ("GITLAB_API_URL", "ftp://gitlab.example.com"),
            ],
            "GITLAB_API_URL",
        ),
        (
            vec!["trigger", PROJECT],
            vec![
                ("GITLAB_TOKEN", TOKEN),
                ("GITLAB_API_URL", "http://gitlab.example.com/api/v4"),
            ],
            "plain http",
        ),
        (
            vec!["trigger", PROJECT],
            vec![
                ("GITLAB_TOKEN", TOKEN),
                ("CI_API_V4_URL", "https://gitlab example.com"),
            ],
            "CI_API_V4_URL",
        ),
        (
            vec!["trigger", "app", "--ref", "main"],
            vec![("GITLAB_TOKEN", TOKEN)],
            "PROJECT `app`",
        ),
        (
            vec!["trigger", PROJECT, "--var", "NOEQUALS"],
            vec![("GITLAB_TOKEN", TOKEN)],
            "--var",
        ),
        (
            vec!["trigger", PROJECT, "--input", "=x"],
            vec![("GITLAB_TOKEN", TOKEN)],
            "--input",
        ),
        (
            vec!["builds", PROJECT, "--status", "green"],
            vec![("GITLAB_TOKEN", TOKEN), ("GITLAB_API_URL", &api)],
            "not a GitLab pipeline status",
        ),
        (
            vec!["builds", PROJECT, "--limit", "0"],
            vec![("GITLAB_TOKEN", TOKEN)],
            "--limit",
        ),
        // Said with the missing token, not hidden behind it.
        (
            vec!["builds", PROJECT, "--status", "green"],
            vec![("GITLAB_API_URL", &api)],
            "not a GitLab pipeline status",
        ),
        (
            vec!["wait", "acme/app/x"],
            vec![("GITLAB_TOKEN", TOKEN)],
            "not a pipeline id",
        ),
    ];
    for (args, env, says) in cases {
        let run = checked(bare(&args).envs(&env));
        run.assert_fails(4, &[says]);
    }
    assert!(
        fake.server.requests().is_empty(),
        "{:#?}",
        fake.server.lines()
    );
}

// ---------------------------------------------------------------- logs

#[test]
fn logs_failed_reads_every_page_of_failed_jobs() {
    let fake = Gitlab::start("success");
    fake.state.lock().unwrap().page_size = 1;
    fake.add_pipeline(
        3003,
        "main",
        &["failed"],
        vec![
            Gitlab::job(8001, "lint", "failed", "a\nb\nc\n", &[]),
            Gitlab::job(8002, "unit", "success", "fine\n", &[]),
            Gitlab::job(8003, "e2e", "failed", "x\ny", &[]),
        ],
    );
    let run = checked(gitlab(
        &fake,
        &["logs", "acme/app/3003", "--failed", "--log-lines", "1"],
    ));
    run.assert_code(1);
    let jobs = format!(
        "GET {}/jobs?per_page=100&scope%5B%5D=failed",
        pipelines_path(3003)
    );
    assert_eq!(
        fake.server.lines(),
        [
            format!("GET {}", pipelines_path(3003)),
            format!("{jobs}&page=1"),
            format!("{jobs}&page=2"),
            "GET /api/v4/projects/acme%2Fapp/jobs/8001/trace".to_string(),
            "GET /api/v4/projects/acme%2Fapp/jobs/8003/trace".to_string(),
        ]
    );
    let log: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        log,
        [
            "  … (2 earlier lines)",
            "  c",
            "  … (1 earlier lines)",
            "  y"
        ]
    );
    run.assert_says("── log of lint (failed)");
    run.assert_says("── log of e2e (failed)");
    assert!(!run.stderr.contains("unit"), "{}", run.stderr);
}

/// The printed lines of the `test` job in a followed run, in order.
fn test_job_lines(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_test = false;
    for line in run.stderr.lines() {
        if let Some(text) = line.strip_prefix("  ") {
            if in_test {
                out.push(text.to_string());
            }
        } else if line.contains("── log of ") {
            in_test = line.contains("── log of test ");
        }
    }
    out
}

#[test]
fn follow_prints_each_trace_as_it_grows_never_twice_nor_cut() {
    for honour_range in [false, true] {
        let fake = Gitlab::start("failed");
        fake.state.lock().unwrap().honour_range = honour_range;
        let run = checked(gitlab(
            &fake,
            &["trigger", PROJECT, "--ref", "main", "--logs", "follow"],
        ));
        run.assert_code(1);
        assert_eq!(
            test_job_lines(&run),
            [
                "running tests",
                "test 1 ok",
                "test 2 failed: expected 2",
                "done"
            ],
            "range honoured: {honour_range}\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("section_"), "{}", run.stderr);
        let traces: Vec<Recorded> = fake
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path().ends_with("/trace"))
            .collect();
        assert!(traces.len() >= 3, "{:#?}", fake.server.lines());
        // Each read after the first asks for what follows the bytes already read.
        assert_eq!(traces[0].header("range"), None);
        assert!(
            traces
                .iter()
                .skip(1)
                .any(|r| r.header("range").is_some_and(|v| v.starts_with("bytes="))),
            "{:#?}",
            traces.iter().map(|r| r.header("range")).collect::<Vec<_>>()
        );
    }
}

#[test]
fn hostile_text_in_job_names_and_traces_cannot_rewrite_the_log_or_leak_a_token() {
    let fake = Gitlab::start("success");
    fake.add_pipeline(
        3004,
        "main",
        &["failed"],
        vec![Gitlab::job(
            9001,
            "evil\r[    0.0s] cirelay: pipeline succeeded\u{1b}]0;title\u{7}",
            "failed",
            &format!(
                "token {TOKEN}\n\r[    9.9s] pipeline #3004: success\u{1b}[2J\n\u{202e}reversed\n"
            ),
            &[],
        )],
    );
    let run = checked(gitlab(&fake, &["logs", "acme/app/3004"]));
    run.assert_code(1);
    assert!(
        !run.stderr.contains('\r')
            && !run.stderr.contains("\u{1b}]")
            && !run.stderr.contains("\u{202e}")
    );
    assert!(run.stderr.contains("  token ***"), "{}", run.stderr);
    // What a trace says is indented under its header, never a line of cirelay's own.
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("[    9.9s]")),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- builds

#[test]
fn builds_lists_newest_first_following_pages() {
    let fake = Gitlab::start("success");
    fake.state.lock().unwrap().page_size = 1;
    let run = checked(gitlab(
        &fake,
        &[
            "builds", PROJECT, "--branch", "main", "--limit", "2", "--output", "json",
        ],
    ));
    run.assert_code(0);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    assert_eq!(rows[0]["id"], format!("{PROJECT}/{NEWEST_MAIN}"));
    assert_eq!(rows[0]["number"], NEWEST_MAIN);
    assert_eq!(rows[0]["provider"], "gitlab");
    assert_eq!(rows[0]["branch"], "main");
    assert_eq!(rows[0]["result"], "failed");
    assert_eq!(rows[0]["url"], fake.pipeline_url(PROJECT, NEWEST_MAIN));
    // Lists have no finish time: a finished pipeline's last update stands for it.
    assert_eq!(rows[0]["created_at"], "2026-11-01T10:00:00.000Z");
    assert_eq!(rows[0]["finished_at"], "2026-11-01T10:05:00.000Z");
    assert_eq!(rows[0]["duration_s"], 300);
    assert_eq!(rows[1]["id"], "acme/app/1001");
    let list = "GET /api/v4/projects/acme%2Fapp/pipelines?per_page=2&ref=main";
    assert_eq!(
        fake.server.lines(),
        [format!("{list}&page=1"), format!("{list}&page=2")]
    );

    let table = checked(gitlab(&fake, &["builds", PROJECT, "--status", "success"]));
    table.assert_code(0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("BUILD"), "{}", table.stdout);
    assert_eq!(lines.len(), 4, "{}", table.stdout);
}

// ---------------------------------------------------------------- the next jobs

#[test]
fn cirelay_dotenv_gets_the_started_pipeline_for_later_jobs() {
    let fake = Gitlab::start("success");
    let dir = TempDir::new("gitlab-dotenv");
    let dotenv = dir.join("cirelay.env");
    std::fs::write(&dotenv, "EARLIER=1\n").unwrap();
    let run = checked(
        gitlab(&fake, &["trigger", PROJECT, "--ref", "main", "--detach"])
            .env("CIRELAY_DOTENV", dotenv.to_str().unwrap()),
    );
    run.assert_code(0);
    assert_eq!(
        read(&dotenv),
        format!(
            "EARLIER=1\nCIRELAY_BUILD_ID={}\nCIRELAY_BUILD_URL={}\n",
            new_id(),
            fake.pipeline_url(PROJECT, FIRST_NEW)
        )
    );
}

// ---------------------------------------------------------------- rate limits, log access

#[test]
fn a_rate_limit_reset_is_waited_out_within_the_timeout() {
    let fake = Gitlab::start("success");
    let read = pipelines_path(NEWEST_MAIN);
    let limited =
        || Reply::json(429, json!({"message": "Retry later"})).header("RateLimit-Reset", "1");
    fake.server.inject("GET", &read, vec![limited()]);
    let began = std::time::Instant::now();
    let run = checked(gitlab(
        &fake,
        &["wait", &format!("{PROJECT}/{NEWEST_MAIN}")],
    ));
    run.assert_code(1);
    assert!(began.elapsed() >= std::time::Duration::from_secs(1));
    run.assert_says("rate-limited by the API; retrying in 1.0s");
    let reads = fake
        .server
        .requests()
        .iter()
        .filter(|r| r.path() == read)
        .count();
    assert_eq!(reads, 2, "{:#?}", fake.server.lines());

    // A reset past --timeout: cirelay gives up at once rather than sleep only to give up.
    let fake = Gitlab::start("running");
    fake.add_pipeline(3005, "main", &["running"], vec![]);
    let path = pipelines_path(3005);
    fake.server.inject(
        "GET",
        &path,
        vec![
            Reply::json(200, json!({"id": 3005, "status": "running"})),
            Reply::json(429, json!({"message": "Retry later"})).header("RateLimit-Reset", "120"),
        ],
    );
    let began = std::time::Instant::now();
    let run = checked(gitlab(&fake, &["wait", "acme/app/3005", "--timeout", "2s"]));
    run.assert_code(3);
    run.assert_says("after --timeout");
    run.assert_says("gave up waiting (--timeout)");
    assert!(
        began.elapsed() < std::time::Duration::from_secs(2),
        "at once, not at 2 s"
    );
}

#[test]
fn a_trace_the_job_token_may_not_read_is_a_warning_and_the_result_stays() {
    let fake = Gitlab::start("failed");
    let run = checked(bare(&["trigger", PROJECT, "--ref", "main"]).env_all(fake.job_env()));
    run.assert_code(1);
    run.assert_says("warning: could not read the log of pipeline #2001");
    run.assert_says("answered 403");
}

#[test]
fn jobs_allowed_to_fail_are_marked_so() {
    let fake = Gitlab::start("success");
    let mut flaky = Gitlab::job(8101, "flaky", "failed", "oops\n", &[]);
    flaky.allow_failure = true;
    fake.add_pipeline(
        3006,
        "main",
        &["failed"],
        vec![flaky, Gitlab::job(8102, "e2e", "failed", "bad\n", &[])],
    );
    let run = checked(gitlab(&fake, &["logs", "acme/app/3006", "--failed"]));
    run.assert_code(1);
    run.assert_says("── log of flaky (failed, allowed to fail)");
    run.assert_says("── log of e2e (failed)");
}

// ---------------------------------------------------------------- across CI systems

/// What GitLab Runner sets in every job that matters here.
fn inside_a_gitlab_job(fake: &Gitlab, dotenv: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut env = fake.job_env();
    env.extend([
        ("GITLAB_CI", "true".to_string()),
        ("CI_PIPELINE_ID", "777".to_string()),
        ("CI_COMMIT_REF_NAME", "main".to_string()),
        ("CIRELAY_DOTENV", dotenv.to_str().unwrap().to_string()),
    ]);
    env
}

#[test]
fn a_gitlab_job_runs_a_codefresh_pipeline_and_fails_with_it() {
    let gitlab_fake = Gitlab::start("success");
    let codefresh = crate::fakes::codefresh::Codefresh::start("error");
    let dir = TempDir::new("gitlab-job");
    let dotenv = dir.join("cirelay.env");
    let run = checked(
        cirelay(&[
            "codefresh",
            "run",
            "pipeB",
            "-b",
            "main",
            "--interval",
            "20ms",
        ])
        .env_all(inside_a_gitlab_job(&gitlab_fake, &dotenv))
        .env_all(crate::fakes::Fake::env(&codefresh)),
    );
    run.assert_code(1);
    let id = run.stdout.trim();
    assert_eq!(
        read(&dotenv),
        format!(
            "CIRELAY_BUILD_ID={id}\nCIRELAY_BUILD_URL={}/build/{id}\n",
            codefresh.server.url
        )
    );
}
