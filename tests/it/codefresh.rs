//! `codefresh …` (the multi-call name) and `cirelay codefresh …` against a fake Codefresh
//! API: the exact requests, stdout, stderr and exit code of every case.

use std::time::Duration;

use crate::fakes::codefresh::{
    default_log, progress_of, Codefresh, KEY, NEWEST_ANY, NEWEST_MAIN, PIPELINE_ID,
    PROJECT_PIPELINE_ID,
};
use crate::fakes::firebase::Generated;
use crate::fakes::Fake;
use crate::support::{
    called_as, cirelay, largest_child_rss_kib, read, Cli, Proxy, Reply, Run, TempDir,
};
use serde_json::json;

fn with_env(cli: Cli, fake: &Codefresh) -> Cli {
    cli.env_all(fake.env())
}

/// `codefresh ARGS… --interval 20ms` with the fake's key and URL.
fn codefresh(fake: &Codefresh, args: &[&str]) -> Cli {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--interval", "20ms"]);
    with_env(called_as("codefresh", &all), fake)
}

fn first() -> String {
    Codefresh::new_id(1)
}

fn run_target(name: &str) -> String {
    format!("POST /api/pipelines/run/{name}")
}

fn build_line(id: &str) -> String {
    format!("GET {}", Codefresh::build_target(id))
}

// ---------------------------------------------------------------- run

#[test]
fn the_seed_line_runs_pipeline_b_and_exits_by_its_result() {
    let fake = Codefresh::start("success");
    // The requests of the run itself; its log has tests of its own.
    let run = codefresh(&fake, &["run", "pipeB", "-b=main", "-t", "trig"])
        .env("CIRELAY_LOGS", "none")
        .run();
    run.assert_code(0);
    let id = first();
    assert_eq!(run.stdout, format!("{id}\n"));
    // After the first read, one read of the pipeline's recent builds on the branch: their
    // usual duration plans the polls (pipeB has none yet, so the schedule grows as usual).
    assert_eq!(
        fake.server.lines(),
        vec![
            run_target("pipeB"),
            build_line(&id),
            format!(
                "GET /api/workflow?pipeline={PIPELINE_ID}&branchName=main&status=success&limit=10"
            ),
            build_line(&id),
            build_line(&id)
        ]
    );
    let requests = fake.server.requests();
    assert_eq!(
        requests[0].json(),
        json!({"branch": "main", "trigger": "trig"})
    );
    for r in &requests {
        // The bare key, as Codefresh wants it: no `Bearer`.
        assert_eq!(r.header("authorization"), Some(KEY));
    }
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    run.assert_says("running pipeline pipeB (branch main, trigger trig)");
    run.assert_says(&format!(
        "started build {id}: {}/build/{id}",
        fake.server.url
    ));
    for status in ["pending", "running", "success"] {
        run.assert_says(&format!("build {id}: {status}"));
    }
    // The link once, not with every status.
    let link = format!("{}/build/{id}", fake.server.url);
    assert_eq!(run.stderr.matches(&link).count(), 1, "{}", run.stderr);
    run.assert_no_secret(&[KEY]);
}

#[test]
fn the_pipeline_name_is_one_url_encoded_path_segment() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "proj/deploy", "--detach"]).run();
    run.assert_code(0);
    assert_eq!(fake.server.lines(), vec![run_target("proj%2Fdeploy")]);
    assert_eq!(fake.build(&first()).pipeline_id, PROJECT_PIPELINE_ID);
    // A pipeline id works as well.
    let run = codefresh(&fake, &["run", PIPELINE_ID, "-d"]).run();
    run.assert_code(0);
    assert_eq!(fake.build(&Codefresh::new_id(2)).pipeline_id, PIPELINE_ID);
}

#[test]
fn detach_prints_the_id_and_does_not_wait() {
    let fake = Codefresh::start("error");
    let run = codefresh(&fake, &["run", "pipeB", "-d"]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", first()));
    assert_eq!(fake.server.lines(), vec![run_target("pipeB")]);
}

#[test]
fn every_flag_lands_in_the_body_as_the_codefresh_cli_sends_it() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-vars");
    let var_file = dir.join("vars.json");
    std::fs::write(
        &var_file,
        r#"{"FROM_FILE": "a b", "OVERRIDDEN": "file", "NUM": 3}"#,
    )
    .unwrap();
    let run = codefresh(
        &fake,
        &[
            "run",
            "pipeB",
            "--branch",
            "release/1.2",
            "--sha",
            "81d2282b",
            "--trigger=nightly",
            "--var-file",
            var_file.to_str().unwrap(),
            "-v",
            "URL=https://x.example/?a=1&b=2",
            "-v",
            "GREETING=hello world = yes",
            "--variable=OVERRIDDEN=flag",
            "-v",
            "EMPTY=",
            "-c",
            "shared-config",
            "--context",
            "secrets",
            "--no-cache",
            "--no-cf-cache",
            "--reset-volume",
            "--enable-notifications",
            "--skip",
            "lint",
            "--skip",
            "e2e",
            "--only",
            "build",
            "-d",
        ],
    )
    .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.requests()[0].json(),
        json!({
            "branch": "release/1.2",
            "sha": "81d2282b",
            "trigger": "nightly",
            "variables": [
                // A JSON var file's keys come in sorted order; a `-v` overrides in place.
                {"key": "FROM_FILE", "value": "a b"},
                {"key": "NUM", "value": "3"},
                {"key": "OVERRIDDEN", "value": "flag"},
                {"key": "URL", "value": "https://x.example/?a=1&b=2"},
                {"key": "GREETING", "value": "hello world = yes"},
                {"key": "EMPTY", "value": ""}
            ],
            "contexts": ["shared-config", "secrets"],
            "options": {
                "noCache": true,
                "noCfCache": true,
                "resetVolume": true,
                "enableNotifications": true,
                "skip": ["lint", "e2e"],
                "only": ["build"]
            }
        })
    );
}

#[test]
fn a_var_file_of_key_value_lines_is_read() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-lines");
    let file = dir.join("vars.env");
    std::fs::write(&file, "# comment\nA=1=2\n\nB=x y\n").unwrap();
    codefresh(
        &fake,
        &["run", "pipeB", "--var-file", file.to_str().unwrap(), "-d"],
    )
    .run()
    .assert_code(0);
    assert_eq!(
        fake.server.requests()[0].json(),
        json!({"variables": [{"key": "A", "value": "1=2"}, {"key": "B", "value": "x y"}]})
    );
}

#[test]
fn inside_a_codefresh_build_the_run_is_annotated_with_its_predecessor() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "pipeB", "-b", "main", "-d"])
        .env("CF_BUILD_ID", "5f9e8d7c6b5a493827161504")
        .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.requests()[0].json(),
        json!({"branch": "main", "annotations": {"cf_predecessor": "5f9e8d7c6b5a493827161504"}})
    );
}

#[test]
fn bad_variables_and_var_files_are_usage_errors_and_nothing_is_sent() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-bad");
    let yml = dir.join("vars.yml");
    std::fs::write(&yml, "A: 1\n").unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"A\": ").unwrap();
    let missing = dir.join("missing.json");
    for (args, named) in [
        (vec!["run", "pipeB", "-v", "NOEQUALS"], "-v"),
        (vec!["run", "pipeB", "-v", "=value"], "-v"),
        (
            vec!["run", "pipeB", "--var-file", yml.to_str().unwrap()],
            "vars.yml",
        ),
        (
            vec!["run", "pipeB", "--var-file", broken.to_str().unwrap()],
            "broken.json",
        ),
        (
            vec!["run", "pipeB", "--var-file", missing.to_str().unwrap()],
            "missing.json",
        ),
        (vec!["run"], "PIPELINE"),
        (vec!["run", "pipeB", "--bogus"], "--bogus"),
        (vec!["run", "pipeB", "other"], "other"),
    ] {
        let run = codefresh(&fake, &args).run();
        run.assert_code(4);
        let line = run.error_line();
        assert!(line.contains(named), "{args:?}: {line}");
        run.assert_no_secret(&[KEY]);
    }
    // A YAML var file is named as such, with the two formats that work.
    let run = codefresh(
        &fake,
        &["run", "pipeB", "--var-file", yml.to_str().unwrap()],
    )
    .run();
    let line = run.error_line();
    assert!(
        line.contains("YAML is not supported") && line.contains("KEY=VALUE lines"),
        "{line}"
    );
    assert!(fake.server.requests().is_empty());
}

#[test]
fn the_three_final_statuses_are_the_codefresh_cli_exit_codes() {
    for (final_status, code, result) in [
        ("success", 0, "success"),
        ("error", 1, "failed"),
        ("terminated", 2, "terminated"),
    ] {
        let fake = Codefresh::start(final_status);
        let run = codefresh(&fake, &["run", "pipeB", "--output", "json"]).run();
        run.assert_code(code);
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
        let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        let id = first();
        assert_eq!(
            v,
            json!({
                "provider": "codefresh",
                "action": "run",
                "id": id,
                "number": null,
                "url": format!("{}/build/{id}", fake.server.url),
                "status": final_status,
                "result": result,
            })
        );
        run.assert_says(&format!("build {id}: {final_status}"));
        assert_eq!(fake.server.count("POST", "/"), 1);
        // The keys come in the contract's order, for readers that care.
        assert!(
            run.stdout
                .starts_with(r#"{"provider":"codefresh","action":"run","id":"#),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_rate_limit_while_waiting_slows_the_polling_down() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000e9";
    fake.add_build(id, &["running"]);
    fake.server.inject(
        "GET",
        "/api/builds/",
        vec![Reply::text(429, "slow down").header("Retry-After", "1")],
    );
    // At a 20 ms interval growing x1.5, 3 s would be about a dozen polls; after Codefresh
    // asked for 1 s, the polls are at least 1 s apart from then on.
    let run = codefresh(&fake, &["wait", id, "--timeout", "3s"]).run();
    run.assert_code(3);
    let polls = fake.server.count("GET", "/api/builds/");
    assert!(
        (3..=5).contains(&polls),
        "{polls} polls: {:#?}",
        fake.server.lines()
    );
    run.assert_no_secret(&[KEY]);
}

#[test]
fn json_mode_still_prints_a_started_build_when_waiting_fails() {
    let fake = Codefresh::start("success");
    fake.server
        .inject("GET", "/api/builds/", vec![Reply::text(500, "down"); 2]);
    let run = codefresh(&fake, &["run", "pipeB", "--output", "json"])
        .env("CIRELAY_RETRIES", "1")
        .run();
    run.assert_fails(6, &["500"]);
    let id = first();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["id"], json!(id));
    assert_eq!(v["action"], "run");
    assert_eq!(v["url"], json!(format!("{}/build/{id}", fake.server.url)));
    assert_eq!(v["result"], "started");
    assert_eq!(run.stdout.lines().count(), 1);

    // Nothing started, nothing on stdout: the error says it all.
    let fake = Codefresh::start("success");
    fake.server
        .inject("POST", "/api/pipelines/run/", vec![Reply::text(401, "")]);
    let run = codefresh(&fake, &["run", "pipeB", "--output", "json"]).run();
    run.assert_code(5);
    assert_eq!(run.stdout, "");
}

#[test]
fn waiting_statuses_keep_waiting_and_an_unknown_one_is_printed_once() {
    let fake = Codefresh::start("success");
    fake.state.lock().unwrap().lifecycle = [
        "pending",
        "elected",
        "pending-approval",
        "delayed",
        "brand-new-status",
        "brand-new-status",
        "brand-new-status",
        "running",
        "terminating",
        "success",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = codefresh(&fake, &["run", "pipeB"]).run();
    run.assert_code(0);
    let id = first();
    assert_eq!(
        run.stderr
            .matches(&format!("build {id}: brand-new-status"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    for status in ["elected", "pending-approval", "delayed", "terminating"] {
        run.assert_says(&format!("build {id}: {status}"));
    }
    assert_eq!(fake.server.count("GET", "/api/builds/"), 10);
}

#[test]
fn terminate_on_timeout_deletes_the_progress_job_then_exits_3() {
    let fake = Codefresh::start("success");
    fake.state.lock().unwrap().lifecycle = vec!["running".to_string(); 1000];
    let run = codefresh(
        &fake,
        &[
            "run",
            "pipeB",
            "--timeout",
            "300ms",
            "--terminate-on-timeout",
            "--output",
            "json",
        ],
    )
    .run();
    run.assert_code(3);
    let id = first();
    run.assert_says(&format!("terminating build {id} (--terminate-on-timeout)"));
    let lines = fake.server.lines();
    let n = lines.len();
    assert_eq!(lines[n - 2], build_line(&id));
    assert_eq!(lines[n - 1], format!("DELETE /api/progress/p-{id}"));
    assert_eq!(fake.server.count("DELETE", "/"), 1);
    assert_eq!(
        fake.state.lock().unwrap().terminated,
        vec![format!("p-{id}")]
    );
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["result"], "timeout");
    assert_eq!(v["status"], "terminating");
}

#[test]
fn a_failed_terminate_on_timeout_still_exits_3_and_says_so() {
    let fake = Codefresh::start("success");
    fake.state.lock().unwrap().lifecycle = vec!["running".to_string(); 1000];
    fake.server.inject(
        "DELETE",
        "/api/progress/",
        vec![Reply::json(403, json!({"message": "forbidden"}))],
    );
    let run = codefresh(
        &fake,
        &[
            "run",
            "pipeB",
            "--timeout",
            "200ms",
            "--terminate-on-timeout",
        ],
    )
    .run();
    run.assert_code(3);
    run.assert_says("warning: could not terminate build");
    run.assert_says("it may still be running");
    assert!(!run.stderr.contains("cirelay: error:"), "{}", run.stderr);
    run.assert_no_secret(&[KEY]);
}

#[test]
fn a_run_answer_without_a_build_id_is_an_unknown_outcome() {
    let fake = Codefresh::start("success");
    fake.server.inject(
        "POST",
        "/api/pipelines/run/",
        vec![Reply::json(200, json!({"message": "ok"}))],
    );
    let run = codefresh(&fake, &["run", "pipeB"]).run();
    run.assert_fails(6, &["without a build id", "/builds2"]);
    assert_eq!(fake.server.count("POST", "/"), 1);
}

#[test]
fn a_rejected_key_is_exit_5_and_never_shown() {
    let fake = Codefresh::start("success");
    let wrong = "wrong-cf-key-0123456789abcdef";
    let run = codefresh(&fake, &["run", "pipeB", "--verbose"])
        .env("CF_API_KEY", wrong)
        .run();
    run.assert_fails(5, &["401", "CF_API_KEY was rejected"]);
    assert_eq!(fake.server.count("POST", "/"), 1);
    run.assert_no_secret(&[wrong, KEY]);
}

#[test]
fn an_unknown_pipeline_is_exit_5_naming_it() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "proj/nosuch"]).run();
    run.assert_fails(5, &["404", "pipeline proj/nosuch not found"]);
    assert_eq!(fake.server.lines(), vec![run_target("proj%2Fnosuch")]);
}

#[test]
fn an_unknown_trigger_shows_codefreshs_message() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "pipeB", "-t", "nope"]).run();
    run.assert_fails(
        5,
        &["400", "Trigger nope does not belong to pipeline pipeB"],
    );
}

#[test]
fn missing_or_malformed_configuration_is_exit_4_and_nothing_is_sent() {
    let fake = Codefresh::start("success");
    let run = called_as("codefresh", &["run", "pipeB"])
        .env("CF_URL", &fake.server.url)
        .run();
    run.assert_fails(4, &["CF_API_KEY is not set"]);

    for bad in ["g.codefresh.io", "ftp://g.codefresh.io"] {
        let run = codefresh(&fake, &["run", "pipeB"]).env("CF_URL", bad).run();
        run.assert_fails(4, &["CF_URL"]);
        run.assert_no_secret(&[KEY]);
    }
    assert!(fake.server.requests().is_empty());
}

#[test]
fn cf_url_may_end_in_a_slash_or_api() {
    let fake = Codefresh::start("success");
    for url in [
        format!("{}/", fake.server.url),
        format!("{}/api/", fake.server.url),
    ] {
        let run = codefresh(&fake, &["run", "pipeB", "-d"])
            .env("CF_URL", &url)
            .run();
        run.assert_code(0);
    }
    assert_eq!(fake.server.count("POST", "/api/pipelines/run/pipeB"), 2);
}

#[test]
fn dry_run_prints_the_run_request_and_sends_nothing() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "proj/deploy", "-b", "main", "--dry-run"]).run();
    run.assert_code(0);
    run.assert_says(&format!(
        "dry run: POST {}/api/pipelines/run/proj%2Fdeploy {{\"branch\":\"main\"}}",
        fake.server.url
    ));
    assert!(fake.server.requests().is_empty());
    assert_eq!(run.stdout, "");
    run.assert_no_secret(&[KEY]);
}

#[test]
fn verbose_logs_every_request_without_the_key() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "pipeB", "--verbose"]).run();
    run.assert_code(0);
    run.assert_says(&format!(
        "POST {}/api/pipelines/run/pipeB -> 200 (",
        fake.server.url
    ));
    run.assert_says("?noAccount=false -> 200 (");
    run.assert_no_secret(&[KEY]);
}

#[test]
fn both_names_work() {
    let fake = Codefresh::start("success");
    let run = with_env(
        cirelay(&["codefresh", "run", "pipeB", "-d", "--interval", "20ms"]),
        &fake,
    )
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", first()));
}

// ---------------------------------------------------------------- wait

#[test]
fn wait_exits_0_when_the_build_reaches_the_status() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000c1";
    fake.add_build(id, &["pending", "running", "success"]);
    let run = codefresh(&fake, &["wait", id, "--logs", "none"]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "");
    run.assert_says(&format!(
        "waiting for build {id} to reach success: {}/build/{id}",
        fake.server.url
    ));
    run.assert_says(&format!("build {id}: success"));
    // After the first read, the pipeline's recent builds on the branch, as for `run`.
    assert_eq!(
        fake.server.lines(),
        vec![
            build_line(id),
            format!(
                "GET /api/workflow?pipeline={PIPELINE_ID}&branchName=main&status=success&limit=10"
            ),
            build_line(id),
            build_line(id)
        ]
    );
}

#[test]
fn wait_for_another_status_with_either_flag() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000c2";
    fake.add_build(id, &["running", "terminating", "terminated"]);
    codefresh(&fake, &["wait", id, "--status", "terminated"])
        .run()
        .assert_code(0);

    let id = "6300000000000000000000c3";
    fake.add_build(id, &["pending", "running", "success"]);
    let run = codefresh(&fake, &["wait", id, "-s", "running"]).run();
    run.assert_code(0);
    // It stops as soon as the status is reached.
    assert_eq!(fake.server.count("GET", &format!("/api/builds/{id}")), 2);
}

#[test]
fn wait_exits_by_the_result_of_a_build_that_cannot_reach_the_status() {
    for (statuses, want, code) in [
        (["running", "error"], "success", 1),
        (["running", "terminated"], "success", 2),
        (["running", "success"], "error", 1),
        (["running", "success"], "terminated", 1),
    ] {
        let fake = Codefresh::start("success");
        let id = "6300000000000000000000c4";
        fake.add_build(id, &statuses);
        let run = codefresh(&fake, &["wait", id, "--status", want, "--output", "json"]).run();
        run.assert_code(code);
        run.assert_says(&format!(
            "build {id} finished with status {}, so it will not reach {want}",
            statuses[1]
        ));
        let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(v["action"], "wait");
        assert_eq!(v["status"], statuses[1]);
    }
}

#[test]
fn wait_on_several_builds_needs_all_of_them() {
    let fake = Codefresh::start("success");
    let (a, b) = ("6300000000000000000000d1", "6300000000000000000000d2");
    fake.add_build(a, &["running", "success"]);
    fake.add_build(b, &["pending", "running", "running", "success"]);
    let run = codefresh(&fake, &["wait", a, b]).run();
    run.assert_code(0);
    run.assert_says(&format!("{a}: success, {b}: success"));
    // A build that reached the status is not asked again.
    assert_eq!(fake.server.count("GET", &format!("/api/builds/{a}")), 2);
    assert_eq!(fake.server.count("GET", &format!("/api/builds/{b}")), 4);

    let fake = Codefresh::start("success");
    fake.add_build(a, &["running", "running", "running", "success"]);
    fake.add_build(b, &["running", "error"]);
    let run = codefresh(&fake, &["wait", a, b, "--output", "json"]).run();
    run.assert_code(1);
    run.assert_says(&format!("build {b} finished with status error"));
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["id"], format!("{a},{b}"));
    assert_eq!(v["result"], "failed");
}

#[test]
fn wait_gives_up_at_the_timeout_with_exit_3() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000c5";
    fake.add_build(id, &["running"; 1000]);
    let run = codefresh(&fake, &["wait", id, "--timeout", "250ms"]).run();
    run.assert_code(3);
    run.assert_says("gave up waiting");
    assert_eq!(fake.server.count("DELETE", "/"), 0);
}

#[test]
fn wait_t_counts_minutes_under_the_codefresh_name_only() {
    // The build runs for ~1.3s: `-t 1` is a minute as `codefresh`, a second as `cirelay`.
    let fake = Codefresh::start("success");
    fake.state.lock().unwrap().hold_new = Some(Duration::from_millis(1300));
    codefresh(&fake, &["run", "pipeB", "-d"])
        .run()
        .assert_code(0);
    let id = first();
    let run = codefresh(&fake, &["wait", &id, "-t", "1"]).run();
    run.assert_code(0);

    let fake = Codefresh::start("success");
    fake.state.lock().unwrap().hold_new = Some(Duration::from_millis(1300));
    codefresh(&fake, &["run", "pipeB", "-d"])
        .run()
        .assert_code(0);
    let run = with_env(
        cirelay(&["codefresh", "wait", &id, "-t", "1", "--interval", "20ms"]),
        &fake,
    )
    .run();
    run.assert_code(3);
    run.assert_says("gave up waiting after 1.0s");
}

#[test]
fn wait_refuses_a_status_codefresh_does_not_have() {
    let fake = Codefresh::start("success");
    let run = codefresh(
        &fake,
        &["wait", "6300000000000000000000c6", "--status", "sucess"],
    )
    .run();
    run.assert_fails(4, &["--status `sucess`"]);
    let run = codefresh(&fake, &["wait"]).run();
    run.assert_code(4);
    run.error_line();
    assert!(fake.server.requests().is_empty());
}

#[test]
fn wait_on_an_unknown_build_is_exit_5_naming_it() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["wait", "6300000000000000000000ff"]).run();
    run.assert_fails(5, &["build 6300000000000000000000ff not found"]);
}

// ---------------------------------------------------------------- status, terminate

#[test]
fn status_prints_the_status_word_and_exits_by_it() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["status", NEWEST_MAIN]).run();
    run.assert_code(1);
    assert_eq!(run.stdout, "error\n");
    run.assert_says(&format!(
        "build {NEWEST_MAIN}: error (pipeline proj/deploy, branch main) {}/build/{NEWEST_MAIN}",
        fake.server.url
    ));
    assert_eq!(fake.server.lines(), vec![build_line(NEWEST_MAIN)]);

    let id = "6300000000000000000000e1";
    fake.add_build(id, &["running"]);
    let run = codefresh(&fake, &["status", id, "--output", "json"]).run();
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["action"], "status");
    assert_eq!(v["status"], "running");
    assert_eq!(v["result"], "started");
}

#[test]
fn terminate_deletes_the_builds_progress_job() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000e2";
    fake.add_build(id, &["running"]);
    let run = codefresh(&fake, &["terminate", id]).run();
    run.assert_code(0);
    run.assert_says(&format!("terminating build {id}"));
    assert_eq!(
        fake.server.lines(),
        vec![build_line(id), format!("DELETE /api/progress/p-{id}")]
    );
    assert_eq!(fake.build(id).status, "terminating");
    run.assert_no_secret(&[KEY]);
}

#[test]
fn terminate_leaves_a_finished_build_alone() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["terminate", NEWEST_ANY]).run();
    run.assert_code(0);
    run.assert_says("already finished (success); nothing to terminate");
    assert_eq!(fake.server.count("DELETE", "/"), 0);
}

#[test]
fn terminate_without_a_progress_job_or_build_is_exit_5() {
    let fake = Codefresh::start("success");
    let id = "6300000000000000000000e3";
    fake.add_build(id, &["pending"]);
    fake.state.lock().unwrap().hide_progress = true;
    let run = codefresh(&fake, &["terminate", id]).run();
    run.assert_fails(5, &["no progress job"]);
    assert_eq!(fake.server.count("DELETE", "/"), 0);

    let run = codefresh(&fake, &["terminate", "6300000000000000000000fe"]).run();
    run.assert_fails(5, &["not found"]);
}

// ---------------------------------------------------------------- restart-latest

#[test]
fn restart_latest_rebuilds_the_newest_build_of_the_branch() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["restart-latest", "proj/deploy", "-b", "main"]).run();
    run.assert_code(0);
    let id = first();
    assert_eq!(run.stdout, format!("{id}\n"));
    assert_eq!(
        fake.server.lines(),
        vec![
            "GET /api/pipelines/proj%2Fdeploy".to_string(),
            format!("GET /api/workflow?pipeline={PROJECT_PIPELINE_ID}&branchName=main&limit=1"),
            format!("GET /api/builds/rebuild/{NEWEST_MAIN}"),
        ]
    );
    assert_eq!(fake.build(&id).rebuilt_from.as_deref(), Some(NEWEST_MAIN));
    run.assert_says(&format!(
        "rebuilding build {NEWEST_MAIN} (error) of pipeline proj/deploy on branch main"
    ));
    run.assert_no_secret(&[KEY]);
}

#[test]
fn restart_latest_without_a_branch_takes_the_newest_build() {
    let fake = Codefresh::start("success");
    codefresh(&fake, &["restart-latest", "proj/deploy"])
        .run()
        .assert_code(0);
    let lines = fake.server.lines();
    assert_eq!(
        lines[1],
        format!("GET /api/workflow?pipeline={PROJECT_PIPELINE_ID}&limit=1")
    );
    assert_eq!(lines[2], format!("GET /api/builds/rebuild/{NEWEST_ANY}"));
}

#[test]
fn restart_latest_wait_exits_by_the_new_builds_result() {
    for (final_status, code) in [("success", 0), ("error", 1), ("terminated", 2)] {
        let fake = Codefresh::start(final_status);
        let run = codefresh(
            &fake,
            &["restart-latest", "proj/deploy", "--branch=main", "--wait"],
        )
        .run();
        run.assert_code(code);
        run.assert_says(&format!("build {}: {final_status}", first()));
        assert_eq!(fake.server.count("GET", "/api/builds/rebuild/"), 1);
    }
}

#[test]
fn restart_latest_refusals() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["restart-latest", "proj/deploy", "-b", "feature/x"]).run();
    run.assert_fails(5, &["no builds on branch `feature/x`"]);
    let run = codefresh(&fake, &["restart-latest", "proj/nosuch"]).run();
    run.assert_fails(5, &["pipeline proj/nosuch not found"]);
    // Rebuilding the build this step runs in would loop.
    let run = codefresh(&fake, &["restart-latest", "proj/deploy", "-b", "main"])
        .env("CF_BUILD_ID", NEWEST_MAIN)
        .run();
    run.assert_fails(4, &["codefresh run proj/deploy"]);
    assert_eq!(fake.server.count("GET", "/api/builds/rebuild/"), 0);
}

#[test]
fn a_5xx_on_the_rebuild_is_not_retried_although_it_is_a_get() {
    let fake = Codefresh::start("success");
    fake.server.inject(
        "GET",
        "/api/builds/rebuild/",
        vec![Reply::text(504, "gateway timeout")],
    );
    let run = codefresh(&fake, &["restart-latest", "proj/deploy", "-b", "main"]).run();
    run.assert_fails(6, &["may have started", "pipeline proj/deploy"]);
    assert_eq!(fake.server.count("GET", "/api/builds/rebuild/"), 1);
    assert_eq!(run.stdout, "");
}

#[test]
fn help_under_the_codefresh_name() {
    let run = called_as("codefresh", &["run", "--help"]).run();
    run.assert_code(0);
    assert!(run.stdout.contains("--terminate-on-timeout"));
    let run = called_as("codefresh", &["wait", "--help"]).run();
    assert!(run.stdout.contains("-s|--status"));
}

// ---------------------------------------------------------------- proxies

#[test]
fn a_run_through_a_proxy_that_refuses_was_never_sent_so_it_is_retried() {
    let fake = Codefresh::start("success");
    let proxy = Proxy::start(Vec::new());
    let run = codefresh(&fake, &["run", "pipeB", "-d"])
        .env("CF_URL", "http://codefresh.test")
        .env("CIRELAY_ALLOW_HTTP", "1")
        .env("HTTPS_PROXY", &proxy.url)
        .env("CIRELAY_RETRIES", "2")
        .run();
    // Not "the build may have started": the tunnel was refused before the request went out.
    run.assert_code(6);
    let error = run.error_line();
    assert!(error.contains("could not reach the API"), "{error}");
    assert!(error.contains("the proxy refused to connect"), "{error}");
    assert!(error.contains("NO_PROXY"), "{error}");
    assert_eq!(proxy.connects(), vec!["codefresh.test:80"; 3]);
    assert!(fake.server.lines().is_empty());
    run.assert_no_secret(&[KEY]);
}

#[test]
fn a_run_through_a_proxy_starts_one_build() {
    let fake = Codefresh::start("success");
    let proxy = Proxy::start(vec![("codefresh.test:80".into(), fake.server.url.clone())]);
    // The API's requests only: its log is elsewhere.
    let run = codefresh(
        &fake,
        &["run", "pipeB", "-b=main", "-t", "trig", "--logs", "none"],
    )
    .env("CF_URL", "http://codefresh.test")
    .env("CIRELAY_ALLOW_HTTP", "1")
    .env("https_proxy", &proxy.url)
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", first()));
    assert_eq!(fake.server.count("POST", "/api/pipelines/run/"), 1);
    assert_eq!(proxy.connects().len(), fake.server.lines().len());
    run.assert_no_secret(&[KEY]);
}

#[test]
fn the_api_is_g_codefresh_io_unless_cf_url_says_otherwise() {
    let run = called_as("codefresh", &["run", "pipeB", "-d", "--dry-run"])
        .env("CF_API_KEY", KEY)
        .run();
    run.assert_code(0);
    run.assert_says("dry run: POST https://g.codefresh.io/api/pipelines/run/pipeB");
    run.assert_no_secret(&[KEY]);
}

// ---------------------------------------------------------------- hardening

/// What a CI log must never receive from cirelay: a carriage return that overwrites a line,
/// an escape sequence, NUL, a bidi override.
fn assert_printable(run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t')
                    || ('\u{202A}'..='\u{202E}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{stream} carries a control character: {text:?}"
        );
    }
}

#[test]
fn a_status_word_with_escapes_cannot_rewrite_the_log() {
    let fake = Codefresh::start("success");
    let hostile = "running\r[   9.9s] build 6200: success\u{1b}]0;owned\u{7}\u{1b}[2K\u{202e}\0";
    fake.server.inject(
        "GET",
        "/api/builds/",
        vec![Reply::json(
            200,
            json!({"id": NEWEST_ANY, "status": hostile, "pipelineName": "a\u{1b}[31mred"}),
        )],
    );
    let run = codefresh(&fake, &["status", NEWEST_ANY]).run();
    run.assert_code(0);
    assert_printable(&run);
    assert_eq!(run.stdout, "running[   9.9s] build 6200: success\n");
    run.assert_says("(pipeline ared)");
}

#[test]
fn an_error_body_with_escapes_cannot_rewrite_the_log() {
    let fake = Codefresh::start("success");
    fake.server.inject(
        "POST",
        "/api/pipelines/run/",
        vec![Reply::text(
            400,
            "bad trigger\r[   1.0s] started build ok\u{1b}[1A\u{1b}[2K\u{9b}2J\u{7}\u{2066}!",
        )],
    );
    let run = codefresh(&fake, &["run", "pipeB", "-t", "trig"]).run();
    run.assert_code(5);
    assert_printable(&run);
    let line = run.error_line();
    assert!(
        line.contains("answered 400: bad trigger [ 1.0s] started build ok!"),
        "{line}"
    );
}

#[test]
fn dot_segments_are_encoded_and_never_climb_the_path() {
    let fake = Codefresh::start("success");
    for (name, target) in [("..", "%2E%2E"), (".", "%2E")] {
        let run = codefresh(&fake, &["run", name, "-d"]).run();
        run.assert_code(5);
        assert_eq!(
            fake.server.lines().last().unwrap(),
            &format!("POST /api/pipelines/run/{target}")
        );
    }
    assert_eq!(fake.server.count("POST", "/api/pipelines/run/"), 2);
}

#[test]
fn a_short_key_is_still_a_secret() {
    let fake = Codefresh::start("success");
    fake.server.inject(
        "POST",
        "/api/pipelines/run/",
        vec![Reply::json(401, json!({"message": "key abc is not valid"}))],
    );
    let run = codefresh(&fake, &["run", "pipeB", "--verbose"])
        .env("CF_API_KEY", "abc")
        .run();
    run.assert_fails(5, &["key *** is not valid"]);
    // --verbose says once that such a key is hidden only where it stands alone.
    assert_eq!(
        run.stderr
            .matches("a secret shorter than 8 characters")
            .count(),
        1,
        "{}",
        run.stderr
    );
    let run = codefresh(&fake, &["run", "pipeB"])
        .env("CF_API_KEY", "abc")
        .run();
    assert!(!run.stderr.contains("shorter than"), "{}", run.stderr);
}

#[test]
fn a_key_echoed_json_or_html_escaped_is_redacted() {
    let fake = Codefresh::start("success");
    let key = "5f0c1d2e/3a4b&5c6d<7e8f>\"9a0b\"";
    let escaped = [
        r#"5f0c1d2e\/3a4b&5c6d<7e8f>\"9a0b\""#,
        r#"5f0c1d2e/3a4b\u00265c6d\u003c7e8f\u003e\"9a0b\""#,
        "5f0c1d2e/3a4b&amp;5c6d&lt;7e8f&gt;&quot;9a0b&quot;",
    ];
    for echoed in escaped {
        fake.server.inject(
            "POST",
            "/api/pipelines/run/",
            vec![Reply::text(
                401,
                &format!("{{\"message\": \"invalid key {echoed}\"}}"),
            )],
        );
        let run = codefresh(&fake, &["run", "pipeB"])
            .env("CF_API_KEY", key)
            .run();
        run.assert_fails(5, &["invalid key ***"]);
        run.assert_no_secret(&[key, echoed, "5f0c1d2e", "7e8f"]);
    }
}

#[test]
fn export_files_that_are_not_regular_files_are_refused_not_waited_on() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-fifo");
    let fifo = dir.join("env_vars_to_export");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let run = codefresh(&fake, &["run", "pipeB", "-d"])
        .env("CF_VOLUME_PATH", dir.text())
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", first()));
    run.assert_says("could not export the build id");
    run.assert_says("it is not a regular file");
}

#[test]
fn a_dangling_symlink_is_not_followed_into_creating_a_file_elsewhere() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-dangling");
    let elsewhere = dir.join("elsewhere");
    let output = dir.join("github_output");
    std::os::unix::fs::symlink(&elsewhere, &output).unwrap();
    let run = codefresh(&fake, &["run", "pipeB", "-d"])
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .run();
    run.assert_code(0);
    assert!(!elsewhere.exists(), "the symlink was followed");
    run.assert_says("it is a symlink to nothing");
    // A symlink to a file that exists is followed, as CI systems set them up.
    std::fs::write(&elsewhere, "").unwrap();
    codefresh(&fake, &["run", "pipeB", "-d"])
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .run()
        .assert_code(0);
    assert!(
        read(&elsewhere).starts_with("build_id="),
        "{}",
        read(&elsewhere)
    );
}

#[test]
fn a_created_export_file_is_never_group_or_world_writable() {
    use std::os::unix::fs::PermissionsExt;
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-mode");
    let run = codefresh(&fake, &["run", "pipeB", "-d"])
        .env("CF_VOLUME_PATH", dir.text())
        .umask("000")
        .run();
    run.assert_code(0);
    let mode = std::fs::metadata(dir.join("env_vars_to_export"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "{mode:o}");
}

#[test]
fn https_proxy_wins_over_a_socks_all_proxy() {
    let fake = Codefresh::start("success");
    let proxy = Proxy::start(vec![("codefresh.test:80".into(), fake.server.url.clone())]);
    let run = codefresh(&fake, &["run", "pipeB", "-d"])
        .env("CF_URL", "http://codefresh.test")
        .env("CIRELAY_ALLOW_HTTP", "1")
        .env("ALL_PROXY", "socks5://127.0.0.1:9")
        .env("HTTPS_PROXY", &proxy.url)
        .run();
    run.assert_code(0);
    assert_eq!(proxy.connects(), vec!["codefresh.test:80"]);
}

#[test]
fn plain_http_may_be_allowed_for_a_trusted_network() {
    let run = called_as("codefresh", &["run", "pipeB", "--dry-run"])
        .env("CF_API_KEY", KEY)
        .env("CF_URL", "http://codefresh.internal")
        .env("CIRELAY_ALLOW_HTTP", "1")
        .run();
    run.assert_code(0);
    run.assert_says("dry run: POST http://codefresh.internal/api/pipelines/run/pipeB");
    let run = called_as("codefresh", &["run", "pipeB", "--dry-run"])
        .env("CF_API_KEY", KEY)
        .env("CF_URL", "http://codefresh.internal")
        .env("CIRELAY_ALLOW_HTTP", "maybe")
        .run();
    run.assert_fails(4, &["CIRELAY_ALLOW_HTTP"]);
}

// ---------------------------------------------------------------- downstream logs

/// Each section header's step and status, without the link: `main_clone (success)`.
fn log_sections(run: &Run) -> Vec<&str> {
    run.log_sections()
        .into_iter()
        .map(|l| l.split(" http").next().unwrap_or(l))
        .collect()
}

/// What the default log of a build that fails says, in order.
const FAILING_LOG: &[&str] = &[
    "Cloning into 'app'...",
    "\u{1b}[32mCloned\u{1b}[0m",
    "npm test",
    "FAIL src/app.test.js",
    "  ✕ adds numbers (5 ms)",
    "\u{1b}[31mError: 1 test failed\u{1b}[0m",
];

fn log_requests(fake: &Codefresh) -> (usize, usize) {
    (
        fake.server.count("GET", "/api/progress/"),
        fake.server.count("GET", "/api/user/firebaseAuth"),
    )
}

#[test]
fn the_seed_line_prints_pipeline_bs_log_as_the_codefresh_cli_does() {
    let fake = Codefresh::start("error");
    let run = codefresh(&fake, &["run", "pipeB", "-b=main", "-t", "trig"]).run();
    run.assert_code(1);
    let id = first();
    // stdout keeps the id only; the log is on stderr.
    assert_eq!(run.stdout, format!("{id}\n"));
    // Every line once, in the order written; the steps in the order they started
    // (`main_clone` before `build`, though `build` sorts first by name).
    assert_eq!(run.log_lines(), FAILING_LOG, "{}", run.stderr);
    let sections = log_sections(&run);
    assert!(sections[0].starts_with("main_clone ("), "{sections:?}");
    assert_eq!(sections[1], "build (running)");
    // What the step printed after the build's final status is under a header again, with
    // the step's result.
    assert_eq!(sections[2], "build (error)");
    let link = format!("{}/build/{id}", fake.server.url);
    assert!(run
        .stderr
        .contains(&format!("── log of build (error) {link}")));
    // The running part of the log is printed while the build runs, before its end.
    let events = run.events();
    let cloned = events.iter().position(|l| l.contains("Cloned")).unwrap();
    let ended = events
        .iter()
        .position(|l| *l == format!("build {id}: error"))
        .unwrap();
    assert!(cloned < ended, "{}", run.stderr);
    // One progress read and one token, however often the log is read.
    assert_eq!(log_requests(&fake), (1, 1));
    for r in fake.firebase.server.requests() {
        assert!(r.header("authorization").is_none(), "{}", r.line());
    }
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn the_log_of_a_build_that_succeeds_is_followed_to_its_last_line() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "pipeB"]).run();
    run.assert_code(0);
    assert_eq!(
        run.log_lines(),
        [
            "Cloning into 'app'...",
            "\u{1b}[32mCloned\u{1b}[0m",
            "npm test",
            "PASS src/app.test.js"
        ],
        "{}",
        run.stderr
    );
}

#[test]
fn lines_are_printed_as_they_are_written_not_when_the_build_ends() {
    let fake = Codefresh::start("success");
    {
        let mut state = fake.state.lock().unwrap();
        // Running for 4 s, read every 3 s: only the stream can show a line written at 0.5 s
        // before the next read.
        state.lifecycle = vec!["running".into(), "success".into()];
        state.hold_new = Some(Duration::from_secs(4));
    }
    let db = fake.firebase.db.clone();
    let progress = progress_of(&first());
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let mut db = db.lock().unwrap();
        db.set(
            &[&progress, "steps", "deploy"],
            json!({"name": "deploy", "status": "running", "creationTimeStamp": 1_700_000_010}),
        );
        db.push(
            &[&progress, "steps", "deploy", "logs"],
            json!("deploying to staging\r\n"),
        );
    });
    let run = with_env(
        called_as("codefresh", &["run", "pipeB", "--interval", "3s"]),
        &fake,
    )
    .run();
    writer.join().unwrap();
    run.assert_code(0);
    let shown = run
        .said_at("── log of deploy")
        .expect("the deploy step's header");
    assert!(shown < 2.5, "printed at {shown}s:\n{}", run.stderr);
    let lines = run.log_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == "deploying to staging")
            .count(),
        1
    );
    // Its stream carried it: one stream, no polling of the steps meanwhile.
    assert_eq!(fake.firebase.db.lock().unwrap().streams, 1);
}

/// The log stream carries the build's own status: when it says the build ended, the build
/// is read at once instead of at the next poll, `--interval 30s` away, and every second
/// while the API, a little behind the log, still says it runs.
#[test]
fn the_end_the_log_stream_carries_is_noticed_without_waiting_for_the_next_poll() {
    let fake = Codefresh::start("success");
    let id = Codefresh::new_id(0xe0);
    fake.add_build(&id, &["running"]);
    let (state, db) = (fake.state.clone(), fake.firebase.db.clone());
    let progress = progress_of(&id);
    let ends = {
        let id = id.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            // The engine writes the log's last lines and status; the API says so 2 s later.
            state
                .lock()
                .unwrap()
                .builds
                .iter_mut()
                .find(|b| b.id == id)
                .unwrap()
                .logged
                .push("success".into());
            default_log(&mut db.lock().unwrap(), &progress, "success");
            std::thread::sleep(Duration::from_secs(2));
            let mut state = state.lock().unwrap();
            state.builds.iter_mut().find(|b| b.id == id).unwrap().status = "success".into();
        })
    };
    let began = std::time::Instant::now();
    let run = with_env(
        called_as("codefresh", &["wait", &id, "--interval", "30s"]),
        &fake,
    )
    .run();
    ends.join().unwrap();
    run.assert_code(0);
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}:\n{}",
        run.stderr
    );
    // The first read, one when the stream said the build ended, then one a second until
    // the API agrees (2 s on a quiet machine).
    let reads = fake.server.count("GET", &Codefresh::build_target(&id));
    assert!((3..=8).contains(&reads), "{reads} reads:\n{}", run.stderr);
    assert_eq!(run.log_lines().last(), Some(&"PASS src/app.test.js"));
}

/// Runs `pipeB` with its build running until its log was streamed twice: once the first
/// stream is open the engine writes `extra` lines to the `build` step, one by one, and
/// once a second stream was opened (or after 10 s) it fails the build. So whatever the
/// machine's load, the first stream ends while the build runs. Returns the run and the
/// log lines expected.
fn run_streamed_twice(fake: &Codefresh, extra: &[&'static str]) -> (Run, Vec<&'static str>) {
    fake.state.lock().unwrap().lifecycle = vec!["running".into()];
    let (state, db) = (fake.state.clone(), fake.firebase.db.clone());
    let lines = extra.to_vec();
    let engine = std::thread::spawn(move || {
        let streams = |n: usize| {
            let until = std::time::Instant::now() + Duration::from_secs(10);
            while db.lock().unwrap().streams < n && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        let progress = progress_of(&first());
        streams(1);
        for line in lines {
            std::thread::sleep(Duration::from_millis(20));
            db.lock().unwrap().push(
                &[&progress, "steps", "build", "logs"],
                json!(format!("{line}\r\n")),
            );
        }
        streams(2);
        {
            let mut state = state.lock().unwrap();
            let b = state.builds.iter_mut().find(|b| b.id == first()).unwrap();
            b.status = "error".into();
            b.logged.push("error".into());
        }
        default_log(&mut db.lock().unwrap(), &progress, "error");
    });
    let run = codefresh(fake, &["run", "pipeB"]).run();
    engine.join().unwrap();
    let mut expected = FAILING_LOG.to_vec();
    expected.splice(3..3, extra.iter().copied());
    (run, expected)
}

#[test]
fn a_stream_cut_in_the_middle_of_an_event_resumes_without_printing_twice() {
    let fake = Codefresh::start("error");
    fake.firebase.db.lock().unwrap().cut_after = Some(3);
    let (run, expected) =
        run_streamed_twice(&fake, &["step 1", "step 2", "step 3", "step 4", "step 5"]);
    run.assert_code(1);
    assert_eq!(run.log_lines(), expected, "{}", run.stderr);
    assert!(fake.firebase.db.lock().unwrap().streams >= 2);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn a_revoked_token_is_renewed_and_the_stream_opened_again() {
    let fake = Codefresh::start("error");
    fake.firebase.db.lock().unwrap().revoke_after = Some(2);
    let (run, expected) = run_streamed_twice(&fake, &["step 1", "step 2", "step 3"]);
    run.assert_code(1);
    assert_eq!(run.log_lines(), expected, "{}", run.stderr);
    let (progress, tokens) = log_requests(&fake);
    assert_eq!((progress, tokens), (1, 2), "{:#?}", fake.server.lines());
    // After the revocation, only the new token was used.
    let fb = fake.firebase.server.requests();
    let first_new = fb
        .iter()
        .position(|r| r.query("auth").as_deref() == Some("fb-token-2-secret-0123456789"))
        .expect("the new token was used");
    assert!(fb[first_new..]
        .iter()
        .all(|r| r.query("auth").as_deref() == Some("fb-token-2-secret-0123456789")));
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn a_hostile_log_cannot_rewrite_the_log_nor_show_a_secret() {
    let fake = Codefresh::start("error");
    let id = first();
    let forged = format!("\r[   9.9s] build {id}: success");
    fake.state.lock().unwrap().writes_log = std::sync::Arc::new(move |db, progress, status| {
        if status != "running" {
            return;
        }
        db.set(
            &[progress, "steps", "build"],
            json!({"name": "build\u{1b}]0;pwned\u{7}", "status": "running", "creationTimeStamp": 1}),
        );
        for text in [
            format!("key {KEY} token fb-token-1-secret-0123456789\r\n"),
            format!("{forged}\r\n"),
            "\u{1b}]0;window title\u{7}\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\\r\n"
                .to_string(),
            "\u{1b}[2K\u{1b}[1A\u{1b}[31mred\u{1b}[0m\u{202e}desrever\r\n".to_string(),
            "progress 10%\rprogress 100%\r\n".to_string(),
        ] {
            db.push(&[progress, "steps", "build", "logs"], json!(text));
        }
    });
    let run = codefresh(&fake, &["run", "pipeB"]).run();
    run.assert_code(1);
    run.assert_no_secret(&fake.secrets());
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    assert!(!run.stderr.contains("\u{1b}]"), "{:?}", run.stderr);
    assert!(!run.stderr.contains('\u{202e}'), "{:?}", run.stderr);
    assert!(!run.stderr.contains("\u{1b}[2K") && !run.stderr.contains("\u{1b}[1A"));
    // No line of the downstream log passes for one of cirelay's own.
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("[   9.9s]")),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.log_lines(),
        [
            "key *** token ***",
            &format!("[   9.9s] build {id}: success"),
            "click",
            "\u{1b}[31mred\u{1b}[0mdesrever",
            "progress 100%",
        ]
    );
    assert_eq!(log_sections(&run)[0], "build (running)");
}

#[test]
fn detach_and_logs_none_print_no_log_and_never_read_one() {
    for (line, env) in [
        (&["run", "pipeB", "-d"][..], None),
        (&["run", "pipeB", "--logs", "none"][..], None),
        (&["run", "pipeB"][..], Some(("CIRELAY_LOGS", "none"))),
    ] {
        let fake = Codefresh::start("error");
        let mut cli = codefresh(&fake, line);
        if let Some((k, v)) = env {
            cli = cli.env(k, v);
        }
        let run = cli.run();
        assert!(run.downstream_log().is_empty(), "{line:?}: {}", run.stderr);
        assert_eq!(log_requests(&fake), (0, 0), "{line:?}");
        assert!(fake.firebase.server.requests().is_empty(), "{line:?}");
    }
}

#[test]
fn logs_failed_prints_the_failed_steps_last_lines_once_the_build_failed() {
    let fake = Codefresh::start("error");
    let run = codefresh(
        &fake,
        &["run", "pipeB", "--logs", "failed", "--log-lines", "2"],
    )
    .run();
    run.assert_code(1);
    assert_eq!(
        run.downstream_log(),
        [
            &format!(
                "── log of build (error) {}/build/{}",
                fake.server.url,
                first()
            ),
            "… (2 earlier lines)",
            "  ✕ adds numbers (5 ms)",
            "\u{1b}[31mError: 1 test failed\u{1b}[0m",
        ]
    );
    // Nothing is read while the build runs: one read of the whole log once it failed.
    assert!(fake
        .firebase
        .server
        .requests()
        .iter()
        .all(|r| r.header("accept") != Some("text/event-stream")));
    // A build that succeeds shows nothing.
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["run", "pipeB", "--logs", "failed"]).run();
    run.assert_code(0);
    assert!(run.downstream_log().is_empty(), "{}", run.stderr);
}

#[test]
fn a_log_that_cannot_be_read_is_one_warning_and_the_exit_code_stays() {
    // The token refused and the progress job gone are with the unusable answers below.
    // Firebase down: every token refused, also a renewed one.
    let fake = Codefresh::start("error");
    fake.firebase.db.lock().unwrap().refuses_all = true;
    let run = codefresh(&fake, &["run", "pipeB"]).run();
    run.assert_code(1);
    // Renewed once, then given up.
    assert_eq!(log_requests(&fake), (1, 2));
    assert!(run.warning().contains("the log token was refused"));
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn logs_prints_a_finished_builds_log_by_step() {
    let fake = Codefresh::start("error");
    let id = first();
    codefresh(&fake, &["run", "pipeB", "--logs", "none"])
        .run()
        .assert_code(1);
    let run = codefresh(&fake, &["logs", &id]).run();
    // `logs` exits like `status`.
    run.assert_code(1);
    assert_eq!(run.log_lines(), FAILING_LOG, "{}", run.stderr);
    assert_eq!(
        log_sections(&run),
        ["main_clone (success)", "build (error)"]
    );
    let run = codefresh(&fake, &["logs", &id, "--failed", "--log-lines", "1"]).run();
    run.assert_code(1);
    assert_eq!(
        run.log_lines(),
        [
            "… (3 earlier lines)",
            "\u{1b}[31mError: 1 test failed\u{1b}[0m"
        ]
    );
}

/// An archived log as Codefresh keeps it: steps with their logs, in any order.
fn archived_log() -> serde_json::Value {
    json!({"id": "x", "steps": [
        {"name": "build", "status": "error", "creationTimeStamp": 1_700_000_005,
         "logs": {"-B1": "npm test\r\n", "-B2": "FAIL src/app.test.js\r\n"}},
        {"name": "main_clone", "status": "success", "creationTimeStamp": 1_700_000_000,
         "logs": ["Cloning into 'app'...\r\n"]},
    ]})
}

#[test]
fn an_archived_log_is_downloaded_without_the_key_in_step_order() {
    let fake = Codefresh::start("error");
    let id = "6300000000000000000000f1";
    fake.add_build(id, &["error"]);
    fake.archive_log(id, Reply::json(200, archived_log()));
    let run = codefresh(&fake, &["logs", id]).run();
    run.assert_code(1);
    assert_eq!(
        run.log_lines(),
        ["Cloning into 'app'...", "npm test", "FAIL src/app.test.js"],
        "{}",
        run.stderr
    );
    assert_eq!(
        log_sections(&run),
        ["main_clone (success)", "build (error)"]
    );
    let downloads = fake.archive.requests();
    assert!(!downloads.is_empty());
    for r in &downloads {
        assert!(r.header("authorization").is_none(), "{}", r.line());
        assert!(!r.target.contains(KEY));
    }
    // The link's signature is a credential too: never printed.
    fake.archive
        .inject("GET", "/logs/", vec![Reply::text(403, "expired")]);
    let run = codefresh(&fake, &["logs", id]).run();
    run.assert_code(1);
    run.assert_says("warning: could not read the log of build");
    assert!(!run.stderr.contains("sig=signed"), "{}", run.stderr);
}

#[test]
fn a_50_mb_log_is_read_without_being_held() {
    const MB: usize = 1 << 20;
    let fake = Codefresh::start("error");
    let id = "6300000000000000000000f2";
    fake.add_build(id, &["error"]);
    // 50 MB of 1 KiB entries, streamed by the archive host as it writes them.
    fake.archive_log(
        id,
        Reply::stream(|out| {
            let entry = format!("{}\r\n", "x".repeat(1022));
            let _ = out.write_all(
                br#"{"steps":[{"name":"build","status":"error","creationTimeStamp":1,"logs":{"#,
            );
            for n in 0..50 * MB / 1024 {
                let sep = if n == 0 { "" } else { "," };
                if write!(out, "{sep}\"-K{n:08}\":\"{}\\r\\n\"", &entry[..1022]).is_err() {
                    return;
                }
            }
            let _ = out.write_all(b"}}]}");
        }),
    );
    // Only the tail is printed: this test process must not hold 50 MB of output either (a
    // child's peak memory counts its parent's, from before its exec).
    let run = codefresh(&fake, &["logs", id, "--failed", "--log-lines", "3"]).run();
    run.assert_code(1);
    assert_eq!(
        run.log_lines(),
        [
            &format!("… ({} earlier lines)", 50 * MB / 1024 - 3),
            &"x".repeat(1022),
            &"x".repeat(1022),
            &"x".repeat(1022)
        ]
    );
    // The same from the log database, the failed step's tail only.
    let running = "6300000000000000000000f3";
    fake.add_build(running, &["error"]);
    {
        let mut db = fake.firebase.db.lock().unwrap();
        let progress = progress_of(running);
        db.set(
            &[&progress, "steps", "build"],
            json!({"name": "build", "status": "error", "creationTimeStamp": 1}),
        );
        db.set(
            &[&progress, "steps", "build", "logs", "-S00000000"],
            json!("y"),
        );
        db.generated = Some(Generated {
            path: [&progress, "steps", "build", "logs"]
                .map(String::from)
                .to_vec(),
            count: 50 * MB / 1024,
            text: format!("{}\r\n", "y".repeat(1022)),
        });
    }
    let run = codefresh(&fake, &["logs", running, "--failed", "--log-lines", "3"]).run();
    run.assert_code(1);
    assert_eq!(run.log_lines().len(), 4, "{}", run.stderr);
    let peak = largest_child_rss_kib();
    assert!(peak < 40 * 1024, "a cirelay run peaked at {peak} KiB");
}

#[test]
fn wait_follows_the_log_of_each_build_it_waits_for() {
    let fake = Codefresh::start("error");
    let (a, b) = ("6300000000000000000000d1", "6300000000000000000000d2");
    fake.add_build(a, &["pending", "running", "success"]);
    fake.add_build(b, &["pending", "running", "success"]);
    let run = codefresh(&fake, &["wait", a]).run();
    run.assert_code(0);
    assert_eq!(
        run.log_lines().last(),
        Some(&"PASS src/app.test.js"),
        "{}",
        run.stderr
    );
    assert!(log_sections(&run).iter().all(|s| !s.contains('›')));
    // Several builds: each section names its build.
    let c = "6300000000000000000000d3";
    fake.add_build(c, &["pending", "running", "success"]);
    let run = codefresh(&fake, &["wait", b, c]).run();
    run.assert_code(0);
    let sections = log_sections(&run);
    for id in [b, c] {
        assert!(
            sections
                .iter()
                .any(|s| s.starts_with(&format!("build {id} › main_clone"))),
            "{sections:?}"
        );
    }
    let lines = run.log_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == "PASS src/app.test.js")
            .count(),
        2,
        "{}",
        run.stderr
    );
}

#[test]
fn a_log_that_never_ends_or_a_silent_stream_cannot_hold_the_run_past_its_timeout() {
    // A build that never ends, whose log stream says nothing.
    let fake = Codefresh::start("running");
    fake.state.lock().unwrap().lifecycle = vec!["running".into(); 10_000];
    fake.firebase.db.lock().unwrap().silent_streams = true;
    let began = std::time::Instant::now();
    let run = codefresh(&fake, &["run", "pipeB", "--timeout", "2s"]).run();
    run.assert_code(3);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    // A build that never ends, whose log never stops growing.
    let fake = Codefresh::start("running");
    fake.state.lock().unwrap().lifecycle = vec!["running".into(); 10_000];
    let db = fake.firebase.db.clone();
    let progress = progress_of(&first());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut n = 0u64;
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            db.lock().unwrap().push(
                &[&progress, "steps", "build", "logs"],
                json!(format!("line {n}\r\n")),
            );
            n += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let began = std::time::Instant::now();
    let run = codefresh(&fake, &["run", "pipeB", "--timeout", "2s"]).run();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    run.assert_code(3);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert!(run.log_lines().len() > 100, "{}", run.stderr);
}

#[test]
fn unusable_log_answers_are_one_warning_each_and_go_nowhere() {
    let cases = [
        (
            "/api/user/firebaseAuth",
            Reply::json(403, json!({"message": "Forbidden"})),
            "may not do this",
        ),
        (
            "/api/progress/",
            Reply::json(404, json!({"message": "Progress not found"})),
            "was not found",
        ),
        (
            "/api/user/firebaseAuth",
            Reply::json(
                200,
                json!({"url": "https://x\nCF_API_KEY=forged", "accessToken": "t0ken-0123456789"}),
            ),
            "log database url",
        ),
        (
            "/api/user/firebaseAuth",
            Reply::json(
                200,
                json!({"url": "https://logs.example", "accessToken": ""}),
            ),
            "without a usable log token",
        ),
        (
            "/api/user/firebaseAuth",
            Reply::text(200, "{\"url\": "),
            "unusable JSON",
        ),
        (
            "/api/progress/",
            Reply::json(
                200,
                json!({"location": {"type": "gcs", "url": "ftp://logs.example/x"}}),
            ),
            "not an http(s) URL",
        ),
        (
            "/api/progress/",
            Reply::json(200, json!({"location": {"type": "composition"}})),
            "cannot read it (location `composition`)",
        ),
    ];
    for (path, reply, says) in cases {
        let fake = Codefresh::start("error");
        fake.server.inject("GET", path, vec![reply]);
        let run = codefresh(&fake, &["run", "pipeB"]).run();
        run.assert_code(1);
        let warning = run.warning();
        assert!(
            warning.contains("could not read the log of build") && warning.contains(says),
            "{says}: {warning}"
        );
        run.assert_says(&format!("build {}: error", first()));
        assert!(fake.firebase.server.requests().is_empty(), "{says}");
        assert!(!run.stderr.contains("\nCF_API_KEY=forged"));
        run.assert_no_secret(&fake.secrets());
    }
}
