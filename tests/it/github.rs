//! `cirelay github …` against the fake GitHub Actions API: the exact requests, stdout, stderr
//! and exit code of what is GitHub's own (the cases every provider shares are in the
//! contract suite): the dispatch that names its run, the fallback for a server that refuses
//! `return_run_details`, attempts, logs through the signed redirect, pages, rate limits,
//! refusals, and hostile answers.

use std::time::{Duration, Instant};

use crate::fakes::github::{
    http_date, job_id, GitHub, BUSY, CI, CI_DEV, CI_MAIN_NEWEST, DEPLOY, DEPLOY_ID, DISPATCHER,
    FIRST_NEW, FORGED_COMMANDS, PRIVATE, READ_ONLY_TOKEN, REPO, REVIEWED, SIGNATURE, TOKEN, WEB,
};
use crate::fakes::{Ending, Fake};
use crate::support::{cirelay, read, Cli, Recorded, Reply, Run, TempDir};
use serde_json::json;

const DISPATCHES: &str = "/repos/acme/deploy/actions/workflows/deploy.yml/dispatches";

/// `cirelay github ARGS --interval 10ms` with the fake's token and hosts.
fn github(fake: &GitHub, args: &[&str]) -> Cli {
    let mut all = vec!["github"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--interval", "10ms"]);
    cirelay(&all).env_all(fake.env())
}

/// Runs it and checks what every run must show: no panic, no secret anywhere.
fn ran(fake: &GitHub, cli: Cli) -> Run {
    let run = cli.run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.assert_no_secret(&fake.secrets());
    run
}

fn new_run() -> String {
    GitHub::id(FIRST_NEW)
}

fn lines(fake: &GitHub) -> Vec<String> {
    fake.server.lines()
}

fn runs_path(run: u64) -> String {
    format!("/repos/{REPO}/actions/runs/{run}")
}

/// The read of a workflow's recent successful runs on a branch, sent once after the first
/// read of a run that is still going: their usual duration plans the polls.
fn history_line(workflow: u64, branch: &str) -> String {
    format!("GET /repos/{REPO}/actions/workflows/{workflow}/runs?branch={branch}&status=success&per_page=10")
}

// ---------------------------------------------------------------- trigger

#[test]
fn a_dispatch_is_one_request_and_its_answer_names_the_run() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(
            &fake,
            &[
                "trigger",
                REPO,
                DEPLOY,
                "--ref",
                "main",
                "--input",
                "environment=staging",
                "--input",
                "version=1.4=2",
                "--detach",
            ],
        ),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_run()));
    run.assert_says(&format!(
        "started run {FIRST_NEW}: {}",
        GitHub::run_url(FIRST_NEW)
    ));
    let sent = fake.server.requests();
    assert_eq!(lines(&fake), [format!("POST {DISPATCHES}")]);
    let dispatch = &sent[0];
    assert_eq!(
        dispatch.json(),
        json!({"ref": "main", "inputs": {"environment": "staging", "version": "1.4=2"}, "return_run_details": true})
    );
    assert_eq!(
        dispatch.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        dispatch.header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(dispatch.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(dispatch.header("content-type"), Some("application/json"));
}

#[test]
fn without_ref_the_default_branch_is_read_first_and_inputs_stay_strings() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(
            &fake,
            &[
                "trigger",
                REPO,
                DEPLOY,
                "--input",
                "dry_run=true",
                "--detach",
            ],
        ),
    );
    run.assert_code(0);
    assert_eq!(
        lines(&fake),
        [format!("GET /repos/{REPO}"), format!("POST {DISPATCHES}")]
    );
    assert_eq!(
        fake.server.requests()[1].json(),
        json!({"ref": "main", "inputs": {"dry_run": "true"}, "return_run_details": true})
    );
    run.assert_says("on `main` (the default branch)");
}

#[test]
fn a_run_that_fails_fails_the_step_with_the_failed_jobs_log_tail() {
    let fake = GitHub::start(Ending::Fails);
    let run = ran(
        &fake,
        github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]),
    );
    run.assert_code(1);
    assert_eq!(run.stdout, format!("{}\n", new_run()));
    let test_job = job_id(FIRST_NEW, 1, 2);
    assert_eq!(
        lines(&fake),
        [
            format!("POST {DISPATCHES}"),
            format!("GET {}", runs_path(FIRST_NEW)),
            history_line(DEPLOY_ID, "main"),
            format!("GET {}", runs_path(FIRST_NEW)),
            format!("GET {}/jobs?per_page=100", runs_path(FIRST_NEW)),
            format!("GET /repos/{REPO}/actions/jobs/{test_job}/logs"),
        ]
    );
    run.assert_says(&format!(
        "── log of test (ubuntu-latest) (failure) {WEB}/{REPO}/actions/runs/{FIRST_NEW}/job/{test_job}"
    ));
    // Only the failed job, its last 200 lines: 265 are shown of its log.
    assert!(!run.stderr.contains("── log of build"), "{}", run.stderr);
    run.assert_says("  … (65 earlier lines)\n  test line 64\n");
    assert!(!run.stderr.contains("test line 63\n"), "{}", run.stderr);
    // As the web app shows it: no timestamps, markers in words, colour kept, the token and
    // the terminal's title sequence gone.
    run.assert_says("  \u{1b}[31mFAIL\u{1b}[0m token *** \n");
    run.assert_says("  Error: Process completed with exit code 1.\n");
    assert!(
        !run.stderr.contains("2026-03-01T10:00:00"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("\u{1b}]0;"));
    // The signed address was followed once, without the token.
    let hops = fake.log_host.requests();
    assert_eq!(hops.len(), 1);
    assert!(
        hops[0].target.starts_with(&format!("/logs/{test_job}?")),
        "{}",
        hops[0].target
    );
    assert_eq!(fake.log_host_authorizations(), Vec::<String>::new());
}

/// A calling GitHub job's runner would act on the workflow commands in the downstream log
/// (an output set, a mask added): they are printed while command processing is stopped.
#[test]
fn inside_github_actions_a_downstream_log_cannot_run_workflow_commands() {
    let fake = GitHub::start(Ending::Fails);
    let run = ran(
        &fake,
        github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]).env("GITHUB_ACTIONS", "true"),
    );
    run.assert_code(1);
    run.assert_workflow_commands_stopped();
    let lines: Vec<&str> = run.stderr.lines().collect();
    let forged = lines
        .iter()
        .position(|l| l.contains(FORGED_COMMANDS))
        .expect(&run.stderr);
    assert!(0 < forged && forged < lines.len() - 1, "{}", run.stderr);
    // Another run, another token.
    let again = ran(
        &fake,
        github(&fake, &["status", &new_run()]).env("GITHUB_ACTIONS", "true"),
    );
    assert_ne!(
        again.assert_workflow_commands_stopped(),
        run.assert_workflow_commands_stopped()
    );
}

#[test]
fn follow_prints_each_jobs_log_once_when_it_completes() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--logs", "follow"],
        ),
    );
    run.assert_code(0);
    assert_eq!(
        run.stderr.matches("── log of build (success)").count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr
            .matches("── log of test (ubuntu-latest) (success)")
            .count(),
        1
    );
    run.assert_says("  Run build\n  starting build\n  build done\n");
    let build_at = run.stderr.find("── log of build").unwrap();
    let test_at = run.stderr.find("── log of test").unwrap();
    assert!(build_at < test_at);
    assert_eq!(fake.log_host.requests().len(), 2);
    assert_eq!(fake.log_host_authorizations(), Vec::<String>::new());
}

#[test]
fn a_log_redirect_off_https_is_not_followed_and_the_result_stays() {
    let fake = GitHub::start(Ending::Fails);
    fake.server.inject(
        "GET",
        &format!("/repos/{REPO}/actions/jobs/"),
        vec![Reply::empty(302).header(
            "Location",
            &format!("http://logs.example.net/x?urlSignature={SIGNATURE}"),
        )],
    );
    let run = ran(
        &fake,
        github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]),
    );
    run.assert_code(1);
    run.assert_says("warning: could not read the log of job test (ubuntu-latest):");
    run.assert_says("which cirelay does not follow");
    assert!(fake.log_host.requests().is_empty());
}

#[test]
fn invalid_dispatches_are_refused_before_anything_is_sent() {
    let fake = GitHub::start(Ending::Succeeds);
    let many: Vec<String> = (0..26).map(|n| format!("k{n}=v")).collect();
    let mut too_many = vec!["trigger", REPO, DEPLOY];
    for kv in &many {
        too_many.extend(["--input", kv.as_str()]);
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (too_many, "GitHub takes at most 25"),
        (
            vec!["trigger", "acme", DEPLOY],
            "OWNER/REPO must name a repository",
        ),
        (
            vec!["trigger", "acme/../x", DEPLOY],
            "OWNER/REPO must name a repository",
        ),
        (
            vec!["trigger", REPO, "Deploy"],
            "WORKFLOW must be the workflow's file name",
        ),
        (vec!["trigger", REPO, DEPLOY, "--input", "=x"], "--input"),
        (
            vec!["trigger", REPO, DEPLOY, "--ref", " "],
            "--ref must be a branch or tag name",
        ),
        (vec!["status", "12345"], "RUN must be OWNER/REPO/RUN_ID"),
        (
            vec!["status", "https://evil.example/acme/deploy/actions/runs/1"],
            "not the address of a run",
        ),
        (vec!["wait", "acme/deploy/0"], "RUN must be"),
        (vec!["restart-latest", REPO, "CI"], "WORKFLOW must be"),
        (vec!["builds", REPO, "--limit", "0"], "--limit"),
    ];
    for (line, says) in cases {
        let run = ran(&fake, github(&fake, &line));
        run.assert_fails(4, &[says]);
    }
    assert!(lines(&fake).is_empty(), "{:?}", lines(&fake));
}

#[test]
fn configuration_errors_name_the_variable_and_send_nothing() {
    let fake = GitHub::start(Ending::Succeeds);
    let line = ["trigger", REPO, DEPLOY, "--ref", "main"];
    let no_token = cirelay(&[&["github"][..], &line].concat())
        .env("GITHUB_API_URL", &fake.server.url)
        .run();
    no_token.assert_fails(4, &["set GITHUB_TOKEN (or GH_TOKEN)", "actions: write"]);
    for (var, value, says) in [
        (
            "GITHUB_API_URL",
            "http://api.github.example.com",
            "plain http://",
        ),
        (
            "GITHUB_API_URL",
            "api.github.com",
            "GITHUB_API_URL must be a URL",
        ),
        (
            "GITHUB_SERVER_URL",
            "ftp://github.com",
            "GITHUB_SERVER_URL must be a URL",
        ),
    ] {
        let run = ran(&fake, github(&fake, &line).env(var, value));
        run.assert_fails(4, &[says]);
    }
    assert!(lines(&fake).is_empty());
}

#[test]
fn refusals_name_what_to_fix() {
    let fake = GitHub::start(Ending::Succeeds);
    let trigger = |repo: &str, workflow: &str, extra: &[&str]| {
        let mut line = vec!["trigger", repo, workflow, "--detach"];
        if !extra.contains(&"--ref") {
            line.extend(["--ref", "main"]);
        }
        line.extend_from_slice(extra);
        line.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    // The command line, the variables it runs with, and what its error says.
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            trigger(REPO, DEPLOY, &[]),
            vec![("GITHUB_TOKEN", "ghp_wrongwrongwrongwrong")],
            vec!["401", "Bad credentials", "GITHUB_TOKEN was refused"],
        ),
        (
            trigger(REPO, DEPLOY, &[]),
            vec![
                ("GITHUB_TOKEN", ""),
                ("GH_TOKEN", "ghp_wrongwrongwrongwrong"),
            ],
            vec!["401", "GH_TOKEN was refused"],
        ),
        (
            trigger(REPO, DEPLOY, &[]),
            vec![("GITHUB_TOKEN", READ_ONLY_TOKEN)],
            vec![
                "403",
                "Resource not accessible by personal access token",
                "`actions: write`",
            ],
        ),
        (
            trigger(PRIVATE, DEPLOY, &[]),
            vec![],
            vec![
                "404",
                "usually means the token in GITHUB_TOKEN cannot see it",
            ],
        ),
        (
            trigger(REPO, CI, &[]),
            vec![],
            vec![
                "422",
                "Workflow does not have 'workflow_dispatch' trigger",
                "`on: workflow_dispatch`",
            ],
        ),
        (
            trigger(REPO, "nope.yml", &[]),
            vec![],
            vec!["404", "nope.yml"],
        ),
        (
            trigger(REPO, DEPLOY, &["--ref", "nope"]),
            vec![],
            vec!["422", "No ref found for: nope"],
        ),
        (
            trigger(REPO, DEPLOY, &["--input", "colour=blue"]),
            vec![],
            vec![
                "422",
                "Unexpected inputs provided",
                "every --input is one the workflow declares",
            ],
        ),
        (
            vec!["status".into(), format!("{REPO}/999")],
            vec![],
            vec!["404", "run acme/deploy/999 was not found"],
        ),
        // A repository whose name says "job" is still a run's.
        (
            vec!["status".into(), "acme/jobs-api/5".into()],
            vec![],
            vec!["404", "run acme/jobs-api/5 was not found"],
        ),
        (
            vec!["status".into(), format!("{PRIVATE}/1")],
            vec![("GITHUB_TOKEN", READ_ONLY_TOKEN)],
            vec!["404", "cannot see it"],
        ),
    ];
    for (line, env, says) in cases {
        let line: Vec<&str> = line.iter().map(String::as_str).collect();
        let run = ran(&fake, github(&fake, &line).envs(&env));
        run.assert_fails(5, &says);
        assert_eq!(run.stdout, "", "{line:?}");
        run.assert_no_secret(&["ghp_wrongwrongwrongwrong", READ_ONLY_TOKEN]);
    }
    // None was sent twice, and none started anything.
    assert_eq!(fake.state.lock().unwrap().next_id, FIRST_NEW);
}

// ---------------------------------------------------------------- servers without run details

fn requests_after_refusal(fake: &GitHub) -> Vec<Recorded> {
    fake.server.requests()
}

#[test]
fn a_server_refusing_return_run_details_gets_the_dispatch_once_more_and_the_run_is_found() {
    for status in [400, 422] {
        let fake = GitHub::start(Ending::Succeeds);
        fake.state.lock().unwrap().refuse_run_details = Some(status);
        fake.state.lock().unwrap().list_delay = 1;
        let run = ran(
            &fake,
            github(
                &fake,
                &["trigger", REPO, DEPLOY, "--ref", "refs/heads/main"],
            ),
        );
        run.assert_code(0);
        assert_eq!(run.stdout, format!("{}\n", new_run()), "{status}");
        run.assert_says("does not take return_run_details");
        run.assert_says("nothing was started");
        let sent = requests_after_refusal(&fake);
        let dispatches: Vec<&Recorded> = sent.iter().filter(|r| r.method == "POST").collect();
        assert_eq!(dispatches.len(), 2, "{status}");
        assert_eq!(dispatches[0].json()["return_run_details"], true);
        assert_eq!(
            dispatches[1].json(),
            json!({"ref": "refs/heads/main", "inputs": {}})
        );
        // Listed once the run shows up (one list later), then once more to be sure.
        let lists: Vec<&Recorded> = sent
            .iter()
            .filter(|r| r.path() == "/repos/acme/deploy/actions/workflows/deploy.yml/runs")
            .collect();
        assert_eq!(lists.len(), 3, "{status}: {:#?}", lines(&fake));
        for list in &lists {
            assert_eq!(list.query("event").as_deref(), Some("workflow_dispatch"));
            assert_eq!(list.query("branch").as_deref(), Some("main"));
            assert_eq!(list.query("per_page").as_deref(), Some("100"));
            let created = list.query("created").unwrap();
            assert!(created.starts_with(">=2"), "{created}");
        }
        // Only one run was started.
        assert_eq!(fake.state.lock().unwrap().next_id, FIRST_NEW + 1);
    }
}

#[test]
fn two_dispatches_at_once_without_run_details_are_exit_6_naming_both() {
    let fake = GitHub::start(Ending::Succeeds);
    fake.state.lock().unwrap().refuse_run_details = Some(400);
    fake.state.lock().unwrap().also_dispatched_by = Some("someone-else".into());
    let run = ran(
        &fake,
        github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]),
    );
    let line = run.assert_fails(
        6,
        &[
            "2 workflow_dispatch runs of deploy.yml on `main`",
            &format!("run {FIRST_NEW} (by {DISPATCHER}"),
            &format!("run {} (by someone-else", FIRST_NEW + 1),
            "cannot tell which",
        ],
    );
    assert!(line.contains(&GitHub::run_url(FIRST_NEW + 1)), "{line}");
    assert_eq!(run.stdout, "");
    assert_eq!(fake.server.count("POST", DISPATCHES), 2);
}

#[test]
fn an_accepted_dispatch_whose_run_never_shows_up_is_exit_6() {
    let fake = GitHub::start(Ending::Succeeds);
    fake.state.lock().unwrap().ignore_run_details = true;
    fake.state.lock().unwrap().list_delay = 1_000_000;
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--timeout", "1s"],
        ),
    );
    run.assert_fails(
        6,
        &[
            "no workflow_dispatch run of it",
            "the run may have started — check",
            &format!("{WEB}/{REPO}/actions/workflows/{DEPLOY}"),
        ],
    );
    run.assert_says("accepted without naming its run");
    // A 204 is an accepted dispatch: it is not sent again.
    assert_eq!(fake.server.count("POST", DISPATCHES), 1);
}

#[test]
fn runs_created_before_the_dispatch_are_not_taken_for_it() {
    let fake = GitHub::start(Ending::Succeeds);
    fake.state.lock().unwrap().ignore_run_details = true;
    // An older workflow_dispatch run on main, still listed first by another filter-less server.
    {
        let mut state = fake.state.lock().unwrap();
        let mut old = state.runs[0].clone();
        old.id = 6_500_000_000;
        old.workflow_id = crate::fakes::github::DEPLOY_ID;
        old.event = "workflow_dispatch".into();
        old.created_at = "2026-01-01T00:00:00Z".into();
        state.runs.push(old);
    }
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--detach"],
        ),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_run()));
}

#[test]
fn an_accepted_dispatch_answered_without_a_usable_run_is_exit_6() {
    for body in [
        r#"{"workflow_run_id": "7"}"#,
        r#"{"run_url": "x"}"#,
        "<html>ok</html>",
        r#"{"workflow_run_id": 0}"#,
    ] {
        let fake = GitHub::start(Ending::Succeeds);
        fake.server
            .inject("POST", DISPATCHES, vec![Reply::text(200, body)]);
        let run = ran(
            &fake,
            github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]),
        );
        run.assert_fails(6, &["names no run", "may have started"]);
        assert_eq!(run.stdout, "", "{body}");
        assert_eq!(fake.server.count("POST", DISPATCHES), 1);
    }
}

// ---------------------------------------------------------------- status, wait, cancel

#[test]
fn status_prints_the_conclusion_and_exits_by_it() {
    let fake = GitHub::start(Ending::Succeeds);
    for (reference, word, code) in [
        (format!("{REPO}/{CI_MAIN_NEWEST}"), "failure", 1),
        (
            format!("https://github.example.test/{REPO}/actions/runs/{CI_MAIN_NEWEST}/attempts/1"),
            "failure",
            1,
        ),
        (
            format!("{}/repos/{REPO}/actions/runs/{CI_DEV}", fake.server.url),
            "success",
            0,
        ),
        (format!("github:{REPO}/{BUSY}"), "in_progress", 0),
    ] {
        let run = ran(&fake, github(&fake, &["status", &reference]));
        run.assert_code(code);
        assert_eq!(run.stdout, format!("{word}\n"), "{reference}");
    }
    let run = ran(
        &fake,
        github(
            &fake,
            &["status", &format!("{REPO}/{CI_DEV}"), "--output", "json"],
        ),
    );
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        report,
        json!({"provider": "github", "action": "status", "id": format!("{REPO}/{CI_DEV}"), "number": 2,
               "url": GitHub::run_url(CI_DEV), "status": "success", "result": "success"})
    );
}

#[test]
fn a_run_waiting_for_a_review_is_said_once() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(&fake, &["wait", &format!("{REPO}/{REVIEWED}")]),
    );
    run.assert_code(0);
    assert_eq!(
        run.stderr.matches("waits for a deployment review").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn the_providerless_wait_takes_a_runs_web_address() {
    let fake = GitHub::start(Ending::Succeeds);
    let address = GitHub::run_url(REVIEWED);
    let other = format!("github:{REPO}/{CI_DEV}");
    let run = ran(
        &fake,
        cirelay(&["wait", &address, &other, "--interval", "10ms"]).env_all(fake.env()),
    );
    run.assert_code(0);
    assert!(fake.server.count("GET", &runs_path(REVIEWED)) >= 3);
}

#[test]
fn cancel_asks_once_and_a_finished_run_has_nothing_to_cancel() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(&fake, github(&fake, &["cancel", &format!("{REPO}/{BUSY}")]));
    run.assert_code(0);
    run.assert_says(&format!("cancelling run {BUSY}"));
    assert_eq!(lines(&fake), [format!("POST {}/cancel", runs_path(BUSY))]);
    assert!(fake.server.requests()[0].body.is_empty());
    let waited = ran(&fake, github(&fake, &["wait", &format!("{REPO}/{BUSY}")]));
    waited.assert_code(2);

    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(
            &fake,
            &[
                "cancel",
                &format!("{REPO}/{CI_MAIN_NEWEST}"),
                "--output",
                "json",
            ],
        ),
    );
    run.assert_code(0);
    run.assert_says(&format!(
        "nothing to cancel: run {CI_MAIN_NEWEST} already finished: failure"
    ));
    run.assert_says("Cannot cancel a workflow run that is completed.");
    assert_eq!(
        lines(&fake),
        [
            format!("POST {}/cancel", runs_path(CI_MAIN_NEWEST)),
            format!("GET {}", runs_path(CI_MAIN_NEWEST))
        ]
    );
    assert!(
        run.stdout
            .contains(r#""status":"failure","result":"success""#),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------- restart-latest

#[test]
fn restart_latest_reruns_the_failed_jobs_and_follows_the_next_attempt() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(
            &fake,
            &[
                "restart-latest",
                REPO,
                CI,
                "--branch",
                "main",
                "--failed-only",
                "--wait",
            ],
        ),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", GitHub::id(CI_MAIN_NEWEST)));
    let sent = fake.server.requests();
    assert_eq!(
        sent[0].line(),
        format!("GET /repos/{REPO}/actions/workflows/{CI}/runs?branch=main&per_page=1")
    );
    assert_eq!(
        sent[1].line(),
        format!("POST {}/rerun-failed-jobs", runs_path(CI_MAIN_NEWEST))
    );
    assert_eq!(sent[1].json(), json!({}));
    // GitHub still showed the finished attempt 1 (failure): not taken for the rerun's result.
    run.assert_says("waiting for attempt 2 to start");
    run.assert_says("success (attempt 2)");
    assert_eq!(fake.run(CI_MAIN_NEWEST).now.attempt, 2);
}

#[test]
fn restart_latest_follows_the_new_attempts_jobs_only() {
    let fake = GitHub::start(Ending::Fails);
    let run = ran(
        &fake,
        github(
            &fake,
            &["restart-latest", REPO, CI, "--branch", "main", "--wait"],
        ),
    );
    run.assert_code(1);
    assert_eq!(
        fake.server
            .count("POST", &format!("{}/rerun", runs_path(CI_MAIN_NEWEST))),
        1
    );
    run.assert_says(&format!("/job/{}", job_id(CI_MAIN_NEWEST, 2, 2)));
    assert!(
        !run.stderr
            .contains(&format!("/job/{}", job_id(CI_MAIN_NEWEST, 1, 2))),
        "{}",
        run.stderr
    );
}

#[test]
fn restart_latest_branch_defaults() {
    // GITHUB_REF_NAME inside GitHub Actions.
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(&fake, &["restart-latest", REPO, CI]).env("GITHUB_REF_NAME", "dev"),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", GitHub::id(CI_DEV)));
    // Else the repository's default branch.
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(&fake, github(&fake, &["restart-latest", REPO, CI]));
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", GitHub::id(CI_MAIN_NEWEST)));
    assert_eq!(
        fake.server.requests()[0].line(),
        format!("GET /repos/{REPO}")
    );
}

#[test]
fn a_run_still_in_progress_is_githubs_refusal_shown_as_is() {
    let fake = GitHub::start(Ending::Succeeds);
    let run = ran(
        &fake,
        github(&fake, &["restart-latest", REPO, CI, "--branch", "busy"]),
    );
    let line = run.assert_fails(5, &["403", "This workflow is already running"]);
    assert!(!line.contains("actions: write"), "{line}");
    assert_eq!(run.stdout, "");
    let none = run_on_empty_branch(&fake);
    none.assert_fails(5, &["no runs of ci.yml on `v1.0.0`"]);
}

fn run_on_empty_branch(fake: &GitHub) -> Run {
    ran(
        fake,
        github(fake, &["restart-latest", REPO, CI, "--branch", "v1.0.0"]),
    )
}

// ---------------------------------------------------------------- rate limits

#[test]
fn a_secondary_limit_without_a_pause_waits_at_least_a_minute_within_the_timeout() {
    let fake = GitHub::start(Ending::Succeeds);
    let secondary = Reply::json(
        403,
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
    );
    fake.server.inject("POST", DISPATCHES, vec![secondary]);
    let began = Instant::now();
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--timeout", "5s"],
        ),
    );
    run.assert_fails(
        6,
        &[
            "still rate-limited",
            "the next try would come in 1m00s, after --timeout",
        ],
    );
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!(fake.server.count("POST", DISPATCHES), 1);
}

#[test]
fn the_primary_limit_is_waited_until_its_reset() {
    let fake = GitHub::start(Ending::Succeeds);
    let reset = (cirelay::time::now_unix() + 2).to_string();
    let limited = Reply::json(
        403,
        json!({"message": "API rate limit exceeded for user ID 1."}),
    )
    .header("x-ratelimit-remaining", "0")
    .header("x-ratelimit-reset", &reset);
    fake.server
        .inject("GET", &runs_path(FIRST_NEW), vec![limited]);
    let began = Instant::now();
    let run = ran(
        &fake,
        github(&fake, &["trigger", REPO, DEPLOY, "--ref", "main"]),
    );
    run.assert_code(0);
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    run.assert_says("rate-limited by the API; retrying in");
}

#[test]
fn a_secondary_limit_with_retry_after_is_waited_out_even_for_the_dispatch() {
    let fake = GitHub::start(Ending::Succeeds);
    let limited = Reply::json(
        429,
        json!({"message": "You have exceeded a secondary rate limit."}),
    )
    .header("retry-after", "1");
    fake.server.inject("POST", DISPATCHES, vec![limited]);
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--detach"],
        ),
    );
    run.assert_code(0);
    assert_eq!(fake.server.count("POST", DISPATCHES), 2);
    assert_eq!(fake.state.lock().unwrap().next_id, FIRST_NEW + 1);
}

/// A run of an hour at the default interval: the waiting alone stays far below the 1,000
/// requests an hour an Actions token may send to a repository.
#[test]
fn the_default_schedule_keeps_a_long_wait_far_under_the_hourly_limit() {
    let mut interval = 5.0_f64;
    let (mut elapsed, mut polls) = (0.0, 1);
    while elapsed < 3600.0 {
        elapsed += interval;
        interval = (interval * 1.5).min(60.0);
        polls += 1;
    }
    assert!(polls < 100, "{polls}");
}

// ---------------------------------------------------------------- pages, answers

#[test]
fn builds_follow_link_pages_up_to_the_limit() {
    let fake = GitHub::start(Ending::Succeeds);
    fake.add_runs(180);
    let run = ran(
        &fake,
        github(
            &fake,
            &[
                "builds",
                REPO,
                "--workflow",
                CI,
                "--branch",
                "main",
                "--limit",
                "150",
                "--output",
                "json",
            ],
        ),
    );
    run.assert_code(0);
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 150);
    assert_eq!(rows[0]["id"], format!("{REPO}/{CI_MAIN_NEWEST}"));
    assert_eq!(rows[0]["status"], "failure");
    assert_eq!(rows[0]["result"], "failed");
    assert_eq!(rows[0]["pipeline"], "CI");
    assert_eq!(rows[0]["url"], GitHub::run_url(CI_MAIN_NEWEST));
    // The next page is the one the Link header names, asked for on the repository's own path.
    assert_eq!(
        lines(&fake),
        [
            format!("GET /repos/{REPO}/actions/workflows/{CI}/runs?branch=main&per_page=100"),
            format!(
                "GET /repos/{REPO}/actions/workflows/{CI}/runs?branch=main&per_page=100&page=2"
            ),
        ]
    );
    // Without --workflow: the repository's runs.
    let all = ran(
        &fake,
        github(&fake, &["builds", REPO, "--status", "in_progress"]),
    );
    all.assert_code(0);
    assert!(all.stdout.starts_with("BUILD"), "{}", all.stdout);
    assert!(all.stdout.contains("in_progress"), "{}", all.stdout);
    assert_eq!(
        fake.server.requests().last().unwrap().line(),
        format!("GET /repos/{REPO}/actions/runs?status=in_progress&per_page=20")
    );
}

#[test]
fn hostile_answers_are_refused_where_they_are_read() {
    let read = format!("GET {}", runs_path(CI_DEV));
    for (body, says) in [
        (
            r#"{"id": 6000000002, "status": "completed\nGITHUB_TOKEN=x", "conclusion": "success"}"#,
            "not a status word",
        ),
        (
            r#"{"id": 1, "status": "completed", "conclusion": "success"}"#,
            "run 1 where run 6000000002 was asked for",
        ),
        (r#"{"id": "6000000002"}"#, "unusable JSON"),
        ("not json", "unusable JSON"),
    ] {
        let fake = GitHub::start(Ending::Succeeds);
        fake.server
            .inject("GET", &runs_path(CI_DEV), vec![Reply::text(200, body)]);
        let run = ran(
            &fake,
            github(&fake, &["status", &format!("{REPO}/{CI_DEV}")]),
        );
        run.assert_fails(5, &[says]);
        assert_eq!(run.stdout, "");
        assert_eq!(lines(&fake), std::slice::from_ref(&read));
    }
    // A Link that leads back to the page just read.
    let fake = GitHub::start(Ending::Succeeds);
    let looping = Reply::json(200, json!({"total_count": 1, "workflow_runs": [{"id": 1}]})).header(
        "Link",
        &format!(
            "<{}/repositories/1/actions/runs?page=1>; rel=\"next\"",
            fake.server.url
        ),
    );
    fake.server
        .inject("GET", &format!("/repos/{REPO}/actions/runs"), vec![looping]);
    let run = ran(&fake, github(&fake, &["builds", REPO]));
    run.assert_fails(5, &["a Link to page 1 after page 1"]);
}

#[test]
fn the_run_is_exported_for_later_steps_of_github_and_circleci() {
    let fake = GitHub::start(Ending::Succeeds);
    let dir = TempDir::new("github-exports");
    let output = dir.join("github_output");
    let bash_env = dir.join("bash_env");
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--detach"],
        )
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .env("CIRCLECI", "true")
        .env("BASH_ENV", bash_env.to_str().unwrap()),
    );
    run.assert_code(0);
    let url = GitHub::run_url(FIRST_NEW);
    assert_eq!(
        read(&output),
        format!("build_id={}\nbuild_url={url}\n", new_run())
    );
    assert_eq!(
        read(&bash_env),
        format!(
            "export CIRELAY_BUILD_ID='{}'\nexport CIRELAY_BUILD_URL='{url}'\n",
            new_run()
        )
    );
}

#[test]
fn answers_carry_the_servers_date() {
    // The fake's dates are what cirelay compares run times with.
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(
        cirelay::time::http_date(&http_date(1_772_359_200)),
        Some(1_772_359_200)
    );
}

#[test]
fn verbose_never_prints_the_log_signature() {
    let fake = GitHub::start(Ending::Fails);
    let run = ran(
        &fake,
        github(
            &fake,
            &["trigger", REPO, DEPLOY, "--ref", "main", "--verbose"],
        ),
    );
    run.assert_code(1);
    run.assert_says("urlSignature=***");
    run.assert_says(&format!(
        "GET {}/repos/{REPO}/actions/jobs/",
        fake.server.url
    ));
}

#[test]
fn github_enterprise_server_under_api_v3_with_links_on_its_web_host() {
    let fake = GitHub::start(Ending::Succeeds);
    let api = format!("{}/api/v3", fake.server.url);
    let cli = |args: &[&str]| {
        let mut all = vec!["github"];
        all.extend_from_slice(args);
        cirelay(&all)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_API_URL", &api)
    };
    let started = ran(
        &fake,
        cli(&["trigger", REPO, DEPLOY, "--ref", "main", "--detach"]),
    );
    started.assert_code(0);
    // Without GITHUB_SERVER_URL, links point at the web host of HOST/api/v3: HOST.
    let web = format!("{}/{REPO}/actions/runs/{FIRST_NEW}", fake.server.url);
    started.assert_says(&format!("started run {FIRST_NEW}: {web}"));
    assert_eq!(lines(&fake), [format!("POST /api/v3{DISPATCHES}")]);
    // Its web and API addresses both name the run.
    for reference in [
        web.clone(),
        format!("{api}/repos/{REPO}/actions/runs/{FIRST_NEW}"),
    ] {
        let run = ran(&fake, cli(&["status", &reference]));
        run.assert_code(0);
        assert_eq!(
            fake.server.requests().last().unwrap().path(),
            format!("/api/v3{}", runs_path(FIRST_NEW))
        );
    }
}

#[test]
fn logs_prints_every_job_or_the_failed_ones() {
    let fake = GitHub::start(Ending::Succeeds);
    let newest = format!("{REPO}/{CI_MAIN_NEWEST}");
    let all = ran(&fake, github(&fake, &["logs", &newest]));
    all.assert_code(1);
    all.assert_says("── log of build (success)");
    all.assert_says("── log of test (ubuntu-latest) (failure)");
    all.assert_says("  test line 1\n");
    let failed = ran(
        &fake,
        github(&fake, &["logs", &newest, "--failed", "--log-lines", "3"]),
    );
    failed.assert_code(1);
    assert!(
        !failed.stderr.contains("── log of build"),
        "{}",
        failed.stderr
    );
    failed.assert_says("  … (262 earlier lines)\n  test line 260\n");
    // A run that did not fail has no failed job to show.
    let none = ran(
        &fake,
        github(&fake, &["logs", &format!("{REPO}/{CI_DEV}"), "--failed"]),
    );
    none.assert_code(0);
    none.assert_says("no job of run 6000000002 failed with a log to show (build success, test (ubuntu-latest) success)");
    assert_eq!(fake.log_host_authorizations(), Vec::<String>::new());
}
