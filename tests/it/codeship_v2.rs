//! `cirelay codeship` against a fake Codeship API v2: sign-in, organizations, paged build
//! lists, Pro and Basic restarts, triggers, status/wait/stop, token renewal, rate limits and
//! every refusal — the exact requests, stdout, stderr and exit code of each.

use std::time::{Duration, Instant};

use crate::fakes::codeship_v2::{
    CodeshipV2, BASIC, BASIC_MASTER, BASIC_MASTER_SHA, ORG, OTHER_ORG_NAME, PASSWORD, PRO,
    PRO_HOTFIX, PRO_MASTER, PRO_MASTER_SHA, PRO_RELEASE, TWO_FACTOR_USER, USER,
};
use crate::fakes::Fake;
use crate::support::{called_as, cirelay, read, Cli, Reply, TempDir};
use serde_json::json;

/// `cirelay codeship ARGS… --interval 20ms` with the fake's environment (Pro project).
fn codeship(fake: &CodeshipV2, args: &[&str]) -> Cli {
    codeship_without(fake, "", args)
}

/// The same, without the variable `missing` set.
fn codeship_without(fake: &CodeshipV2, missing: &str, args: &[&str]) -> Cli {
    let mut all = vec!["codeship"];
    all.extend_from_slice(args);
    if !args.contains(&"--interval") {
        all.extend_from_slice(&["--interval", "20ms"]);
    }
    let mut cli = cirelay(&all);
    for (n, v) in fake.env() {
        if n != missing {
            cli = cli.env(n, &v);
        }
    }
    cli
}

fn list(project: &str, page: usize) -> String {
    format!("GET {}", CodeshipV2::list_target(project, page))
}

fn post(project: &str, rest: &str) -> String {
    format!("POST {}/builds{rest}", CodeshipV2::prefix(project))
}

fn get(project: &str, uuid: &str) -> String {
    format!("GET {}/builds/{uuid}", CodeshipV2::prefix(project))
}

const AUTH: &str = "POST /v2/auth";

fn new_pro(n: u64) -> String {
    CodeshipV2::uuid(PRO, 1000 + n)
}

fn web(project: &str, uuid: &str) -> String {
    format!("https://app.codeship.com/projects/{project}/builds/{uuid}")
}

// ---------------------------------------------------------------- restart-latest

#[test]
fn restart_latest_on_pro_restarts_the_newest_build_and_prints_the_new_one() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_pro(0)));
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(PRO, 1),
            post(PRO, &format!("/{PRO_MASTER}/restart")),
            list(PRO, 1),
        ]
    );
    // Codeship Pro: a new build of the same commit.
    let created = fake.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].sha, PRO_MASTER_SHA);
    assert_eq!(created[0].branch, "master");

    let requests = fake.server.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Basic {}", CodeshipV2::basic()).as_str())
    );
    let bearer = format!("Bearer {}", fake.tokens()[0]);
    for r in &requests[1..] {
        assert_eq!(
            r.header("authorization"),
            Some(bearer.as_str()),
            "{}",
            r.line()
        );
    }
    assert!(
        run.stderr.contains(&format!(
            "signed in to Codeship as {USER} (organization Acme)"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "restarting build {PRO_MASTER} of `master` (commit 81d2282b, failed)"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&web(PRO, &new_pro(0))),
        "{}",
        run.stderr
    );
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn restart_latest_follows_pages_to_a_branch_last_built_long_ago() {
    // The original script read page 1 only and crashed here.
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest", "--branch", "release/2.x"]).run();
    run.assert_code(0);
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(PRO, 1),
            list(PRO, 2),
            post(PRO, &format!("/{PRO_RELEASE}/restart")),
            list(PRO, 1),
            // Past page 1 the restarted build is read directly, in case it runs again in
            // place (Basic); here the new build was already on page 1.
            get(PRO, PRO_RELEASE),
        ]
    );
    assert_eq!(run.stdout, format!("{}\n", new_pro(0)));
    assert!(run.stderr.contains("is on page 2"), "{}", run.stderr);
    assert_eq!(fake.created()[0].branch, "release/2.x");
}

#[test]
fn restart_latest_wait_exits_by_the_new_builds_result() {
    for (final_status, code) in [
        ("success", 0),
        ("failed", 1),
        ("error", 1),
        ("infrastructure_failure", 1),
        ("stopped", 2),
        ("ignored", 2),
    ] {
        let fake = CodeshipV2::start(final_status);
        let run = codeship(&fake, &["restart-latest", "--wait"]).run();
        run.assert_code(code);
        let new = new_pro(0);
        assert_eq!(run.stdout, format!("{new}\n"), "{final_status}");
        assert!(
            run.stderr.contains(&format!("build {new}: testing"))
                && run.stderr.contains(&format!("build {new}: {final_status}")),
            "{}",
            run.stderr
        );
        // The restart is sent once however long the wait.
        assert_eq!(
            fake.server
                .count("POST", &format!("{}/builds/", CodeshipV2::prefix(PRO))),
            1
        );
        assert_eq!(
            fake.server
                .count("GET", &format!("{}/builds/{new}", CodeshipV2::prefix(PRO))),
            2
        );
        run.assert_no_secret(&fake.secrets());
    }
}

#[test]
fn restart_latest_on_basic_follows_the_same_build_running_again() {
    let fake = CodeshipV2::start("error");
    let run = codeship(&fake, &["restart-latest", "--wait"])
        .env("CODESHIP_API_PROJECT_UUID", BASIC)
        .run();
    run.assert_code(1);
    // Codeship Basic: no new build, the same uuid runs again.
    assert_eq!(run.stdout, format!("{BASIC_MASTER}\n"));
    assert!(fake.created().is_empty());
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(BASIC, 1),
            post(BASIC, &format!("/{BASIC_MASTER}/restart")),
            list(BASIC, 1),
            get(BASIC, BASIC_MASTER),
            get(BASIC, BASIC_MASTER),
        ]
    );
    assert!(
        run.stderr
            .contains(&format!("build {BASIC_MASTER} runs again (initiated)")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!("build {BASIC_MASTER}: error")));
}

#[test]
fn restart_latest_on_basic_finds_a_build_past_page_1_when_codeship_pages_by_one() {
    // Codeship caps per_page; `total` says there is more.
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.max_per_page = 1);
    let dev = CodeshipV2::uuid(BASIC, 11);
    let run = codeship(&fake, &["restart-latest", "--wait", "--branch", "dev"])
        .env("CODESHIP_API_PROJECT_UUID", BASIC)
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{dev}\n"));
    assert_eq!(
        fake.server.lines()[..6],
        [
            AUTH.to_string(),
            list(BASIC, 1),
            list(BASIC, 2),
            post(BASIC, &format!("/{dev}/restart")),
            list(BASIC, 1),
            // Not on page 1 any more: read directly.
            get(BASIC, &dev),
        ]
    );
    assert_eq!(fake.build(&dev).status, "success");
}

#[test]
fn a_new_build_that_takes_a_while_to_be_listed_is_waited_for() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.appear_after = 2);
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", new_pro(0)));
    assert!(
        run.stderr
            .contains("the restart of `master`: not listed yet"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fake.server
            .count("GET", &format!("{}/builds", CodeshipV2::prefix(PRO))),
        3
    );
}

#[test]
fn restarting_a_build_that_is_still_running_follows_it() {
    // Codeship ignores restarts of running builds: no new build will ever be listed.
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest", "--branch", "hotfix", "--wait"]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{PRO_HOTFIX}\n"));
    assert!(fake.created().is_empty());
    assert!(
        run.stderr
            .contains("Codeship ignores restarts of running builds"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fake.server.lines()[..4],
        [
            AUTH.to_string(),
            list(PRO, 1),
            post(PRO, &format!("/{PRO_HOTFIX}/restart")),
            get(PRO, PRO_HOTFIX),
        ]
    );
}

#[test]
fn no_builds_on_the_branch_is_exit_5_after_reading_every_page() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest", "--branch", "feature/x"]).run();
    run.assert_fails(5, &["no builds on branch `feature/x` among the 75 builds"]);
    assert_eq!(
        fake.server.lines(),
        vec![AUTH.to_string(), list(PRO, 1), list(PRO, 2)]
    );
}

#[test]
fn the_codeship_restart_build_name_works_with_only_the_build_restart_variables() {
    let fake = CodeshipV2::start("success");
    let run = called_as("codeship_restart_build", &[])
        .envs(&[
            ("BUILD_RESTART_MACHINE_USER_EMAIL", USER),
            ("BUILD_RESTART_MACHINE_USER_PASSWORD", PASSWORD),
            ("BUILD_RESTART_ORG_NAME", "Acme"),
            ("BUILD_RESTART_API_PROJECT_UUID", PRO),
            ("BUILD_RESTART_API_BRANCH", "release/2.x"),
            ("CODESHIP_API_URL", &fake.server.url),
        ])
        .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.count(
            "POST",
            &format!("{}/builds/{PRO_RELEASE}/restart", CodeshipV2::prefix(PRO))
        ),
        1
    );
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn the_machine_user_names_of_the_older_script_work() {
    let fake = CodeshipV2::start("success");
    let run = called_as("codeship_restart_build", &[])
        .envs(&[
            ("CODESHIP_MACHINE_USER_EMAIL", USER),
            ("CODESHIP_MACHINE_USER_PASSWORD", PASSWORD),
            ("CODESHIP_ORG_NAME", "Acme"),
            ("CODESHIP_API_PROJECT_UUID", BASIC),
            ("CODESHIP_API_BRANCH", "master"),
            ("CODESHIP_API_URL", &fake.server.url),
        ])
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{BASIC_MASTER}\n"));
}

#[test]
fn the_first_variable_set_wins() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest"])
        .envs(&[
            (
                "BUILD_RESTART_MACHINE_USER_EMAIL",
                "someone-else@example.com",
            ),
            ("BUILD_RESTART_MACHINE_USER_PASSWORD", "not-the-password"),
            ("BUILD_RESTART_ORG_NAME", "Nope"),
            ("BUILD_RESTART_API_PROJECT_UUID", BASIC),
            ("BUILD_RESTART_API_BRANCH", "dev"),
        ])
        .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.lines()[2],
        post(PRO, &format!("/{PRO_MASTER}/restart"))
    );
    // An empty variable counts as unset.
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_BRANCH", "")
        .env("BUILD_RESTART_API_BRANCH", "release/2.x")
        .run();
    run.assert_code(0);
    assert!(run.stderr.contains("of `release/2.x`"), "{}", run.stderr);
}

#[test]
fn an_api_url_ending_in_v2_works_too() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["status", PRO_MASTER])
        .env("CODESHIP_API_URL", &format!("{}/v2/", fake.server.url))
        .run();
    run.assert_code(1);
    assert_eq!(
        fake.server.lines(),
        vec![AUTH.to_string(), get(PRO, PRO_MASTER)]
    );
}

#[test]
fn api_v2_is_used_when_an_api_key_is_set_too() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_KEY", "v1-key-abcdef123456")
        .run();
    run.assert_code(0);
    assert!(fake.server.lines().iter().all(|l| l.contains(" /v2/")));
}

// ---------------------------------------------------------------- trigger

#[test]
fn trigger_sends_a_heads_ref_prints_the_new_build_and_waits_for_it() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["trigger", "--branch", "master"]).run();
    run.assert_code(0);
    let new = new_pro(0);
    assert_eq!(run.stdout, format!("{new}\n"));
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(PRO, 1),
            post(PRO, ""),
            list(PRO, 1),
            get(PRO, &new),
            get(PRO, &new),
        ]
    );
    // A bare `master` is accepted with 202 and silently never built: always `heads/`.
    let trigger = &fake.server.requests()[2];
    assert_eq!(trigger.json(), json!({"ref": "heads/master"}));
    assert_eq!(trigger.header("content-type"), Some("application/json"));
    assert!(fake.state.lock().unwrap().ignored_triggers.is_empty());
    assert!(run.stderr.contains(&format!("build {new}: success")));
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn trigger_accepts_a_branch_given_as_a_ref() {
    for given in ["heads/dev", "refs/heads/dev"] {
        let fake = CodeshipV2::start("success");
        let run = codeship(&fake, &["trigger", "--branch", given, "--detach"]).run();
        run.assert_code(0);
        assert_eq!(
            fake.server.requests()[2].json(),
            json!({"ref": "heads/dev"})
        );
        assert_eq!(fake.created()[0].branch, "dev");
    }
}

#[test]
fn trigger_with_a_sha_builds_that_commit() {
    let fake = CodeshipV2::start("success");
    let run = codeship(
        &fake,
        &[
            "trigger", "--branch", "dev", "--sha", "0123abcd", "--detach",
        ],
    )
    .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.requests()[2].json(),
        json!({"ref": "heads/dev", "commit_sha": "0123abcd"})
    );
    assert_eq!(fake.created()[0].sha, "0123abcd");
    assert_eq!(run.stdout, format!("{}\n", new_pro(0)));
}

#[test]
fn trigger_detach_prints_the_uuid_and_does_not_wait() {
    let fake = CodeshipV2::start("failed");
    let dir = TempDir::new("v2-export");
    let github = dir.join("github_output");
    let run = codeship(&fake, &["trigger", "--detach"])
        .env("GITHUB_OUTPUT", github.to_str().unwrap())
        .run();
    run.assert_code(0);
    let new = new_pro(0);
    assert_eq!(run.stdout, format!("{new}\n"));
    assert_eq!(
        fake.server
            .count("GET", &format!("{}/builds/", CodeshipV2::prefix(PRO))),
        0
    );
    assert_eq!(
        read(&github),
        format!("build_id={new}\nbuild_url={}\n", web(PRO, &new))
    );
}

#[test]
fn trigger_of_an_old_commit_on_basic_follows_the_build_that_runs_again() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["trigger", "--sha", &BASIC_MASTER_SHA[..12]])
        .env("CODESHIP_API_PROJECT_UUID", BASIC)
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{BASIC_MASTER}\n"));
    assert!(fake.created().is_empty());
    assert_eq!(fake.build(BASIC_MASTER).status, "success");
}

#[test]
fn trigger_exits_by_the_builds_result_in_json() {
    let fake = CodeshipV2::start("infrastructure_failure");
    let run = codeship(&fake, &["trigger", "--output", "json"]).run();
    run.assert_code(1);
    assert_eq!(run.stdout.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let new = new_pro(0);
    assert_eq!(
        v,
        json!({
            "provider": "codeship",
            "action": "trigger",
            "id": new,
            "number": null,
            "url": web(PRO, &new),
            "status": "infrastructure_failure",
            "result": "failed",
        })
    );
}

#[test]
fn a_trigger_codeship_accepts_but_never_builds_is_exit_6() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.drop_triggers = true);
    let run = codeship(&fake, &["trigger", "--timeout", "500ms"]).run();
    run.assert_fails(
        6,
        &[
            "accepted the trigger of `master` but no build for it appeared",
            &format!("https://app.codeship.com/projects/{PRO}"),
        ],
    );
    assert_eq!(
        fake.server
            .count("POST", &format!("{}/builds", CodeshipV2::prefix(PRO))),
        1
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn a_restart_cut_off_mid_answer_is_an_unknown_outcome() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "POST",
        &format!("{}/builds/{PRO_MASTER}/restart", CodeshipV2::prefix(PRO)),
        vec![Reply::Close],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(
        6,
        &[
            "may have started",
            "the builds of `master` at https://app.codeship.com/projects/",
        ],
    );
    assert_eq!(fake.server.count("POST", "/v2/organizations/"), 1);
}

// ---------------------------------------------------------------- status, wait, stop

#[test]
fn status_prints_the_status_word_and_exits_by_the_result() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["status", PRO_MASTER]).run();
    run.assert_code(1);
    assert_eq!(run.stdout, "failed\n");
    assert_eq!(
        fake.server.lines(),
        vec![AUTH.to_string(), get(PRO, PRO_MASTER)]
    );
    assert!(
        run.stderr.contains("of `master` (commit 81d2282b): failed"),
        "{}",
        run.stderr
    );

    let run = codeship(&fake, &["status", PRO_HOTFIX]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "testing\n");

    let run = codeship(
        &fake,
        &["status", &CodeshipV2::uuid(PRO, 3), "--output", "json"],
    )
    .run();
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["action"], "status");
    assert_eq!(v["status"], "success");
    assert_eq!(v["result"], "success");
}

#[test]
fn wait_exits_0_1_2_or_3() {
    for (upcoming, code) in [
        (vec!["testing", "success"], 0),
        (vec!["testing", "error"], 1),
        (vec!["testing", "stopped"], 2),
        (vec!["testing"; 1000], 3),
    ] {
        let fake = CodeshipV2::start("success");
        fake.set(|s| {
            let b = s.builds.iter_mut().find(|b| b.uuid == PRO_HOTFIX).unwrap();
            b.upcoming = upcoming.iter().map(|s| s.to_string()).collect();
        });
        let run = codeship(&fake, &["wait", PRO_HOTFIX, "--timeout", "400ms"]).run();
        run.assert_code(code);
        // wait starts nothing: stdout stays empty in text mode.
        assert_eq!(run.stdout, "");
        assert!(fake
            .server
            .lines()
            .iter()
            .skip(1)
            .all(|l| *l == get(PRO, PRO_HOTFIX)));
    }
}

#[test]
fn an_unknown_status_keeps_polling_and_is_printed_once() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| {
        let b = s.builds.iter_mut().find(|b| b.uuid == PRO_HOTFIX).unwrap();
        b.upcoming = ["mystery", "mystery", "mystery", "success"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    });
    let run = codeship(&fake, &["wait", PRO_HOTFIX]).run();
    run.assert_code(0);
    assert_eq!(
        run.stderr
            .matches(&format!("build {PRO_HOTFIX}: mystery"))
            .count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn stop_stops_a_running_build_and_leaves_a_finished_one() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["stop", PRO_HOTFIX]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "");
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            get(PRO, PRO_HOTFIX),
            post(PRO, &format!("/{PRO_HOTFIX}/stop")),
            get(PRO, PRO_HOTFIX),
        ]
    );
    assert_eq!(fake.build(PRO_HOTFIX).status, "stopped");
    assert!(run.stderr.contains("it is stopped"), "{}", run.stderr);

    let run = codeship(&fake, &["stop", PRO_MASTER]).run();
    run.assert_code(0);
    assert!(run.stderr.contains("nothing to stop"), "{}", run.stderr);
    assert_eq!(
        fake.server.count(
            "POST",
            &format!("{}/builds/{PRO_MASTER}", CodeshipV2::prefix(PRO))
        ),
        0
    );
}

#[test]
fn an_unknown_build_names_the_build() {
    let fake = CodeshipV2::start("success");
    let missing = "b0000000-0000-4000-8000-999999999999";
    let run = codeship(&fake, &["status", missing]).run();
    run.assert_fails(
        5,
        &[
            "404",
            "Build not found",
            &format!("build {missing} was not found in project {PRO}"),
        ],
    );
}

// ---------------------------------------------------------------- authentication

#[test]
fn an_expiring_token_is_renewed_before_it_lapses() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| {
        s.token_lifetime = 2;
        s.lifecycle = ["initiated"]
            .into_iter()
            .chain(["testing"; 6])
            .chain(["success"])
            .map(String::from)
            .collect();
    });
    let started = Instant::now();
    let run = codeship(&fake, &["restart-latest", "--wait", "--interval", "300ms"]).run();
    run.assert_code(0);
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the wait must outlive a token"
    );
    assert!(
        fake.server.count("POST", "/v2/auth") >= 2,
        "{:?}",
        fake.server.lines()
    );
    // Renewed ahead of time: Codeship never had to refuse an expired token.
    assert_eq!(fake.state.lock().unwrap().answered_401, 0);
    assert!(
        run.stderr.contains("signed in to Codeship again"),
        "{}",
        run.stderr
    );
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn a_token_refused_mid_run_is_renewed_once_and_the_request_resent() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "POST",
        &format!("{}/builds/{PRO_MASTER}/restart", CodeshipV2::prefix(PRO)),
        vec![Reply::json(401, json!({"errors": ["Unauthorized"]}))],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_code(0);
    let restart = post(PRO, &format!("/{PRO_MASTER}/restart"));
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(PRO, 1),
            restart.clone(),
            AUTH.to_string(),
            restart,
            list(PRO, 1),
        ]
    );
    let requests = fake.server.requests();
    let tokens = fake.tokens();
    assert_eq!(
        requests[4].header("authorization"),
        Some(format!("Bearer {}", tokens[1]).as_str())
    );
    // A refused restart did nothing: exactly one new build.
    assert_eq!(fake.created().len(), 1);
    assert!(run.stderr.contains("signing in again"), "{}", run.stderr);
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn a_fresh_token_refused_too_is_exit_5() {
    // Refused right after signing in: signing in again would not help.
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.reject_tokens = true);
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(5, &["Codeship refused a fresh access token"]);
    assert_eq!(fake.server.lines(), vec![AUTH.to_string(), list(PRO, 1)]);
    run.assert_no_secret(&fake.secrets());

    // Refused mid-run, then again with the renewed token: one renewal only.
    let fake = CodeshipV2::start("success");
    let restart = post(PRO, &format!("/{PRO_MASTER}/restart"));
    fake.server.inject(
        "POST",
        &format!("{}/builds/", CodeshipV2::prefix(PRO)),
        vec![Reply::json(401, json!({"errors": ["Unauthorized"]})); 2],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(5, &["401"]);
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            list(PRO, 1),
            restart.clone(),
            AUTH.to_string(),
            restart
        ]
    );
    assert!(fake.created().is_empty());
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn a_wrong_password_names_the_variables_and_never_shows_the_password() {
    let fake = CodeshipV2::start("success");
    let wrong = "wrong-Password-0987";
    let run = codeship(&fake, &["restart-latest", "--verbose"])
        .env("CODESHIP_API_PASSWORD", wrong)
        .run();
    run.assert_fails(5, &["401", "CODESHIP_API_USER", "CODESHIP_API_PASSWORD"]);
    run.assert_no_secret(&[wrong, PASSWORD]);
    assert_eq!(fake.server.lines(), vec![AUTH.to_string()]);
}

#[test]
fn a_two_factor_account_is_reported_plainly() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_USER", TWO_FACTOR_USER)
        .run();
    run.assert_fails(5, &["two-factor authentication", TWO_FACTOR_USER]);
    run.assert_no_secret(&[PASSWORD]);
}

#[test]
fn a_broken_sign_in_answer_never_shows_the_token_in_it() {
    let fake = CodeshipV2::start("success");
    let token = "leaky-token-0123456789";
    fake.server.inject(
        "POST",
        "/v2/auth",
        vec![Reply::text(
            200,
            &format!("{{\"access_token\": \"{token}\", oops"),
        )],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(5, &["not JSON"]);
    run.assert_no_secret(&[token, PASSWORD]);
}

#[test]
fn the_organization_is_chosen_by_exact_name_or_uuid() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_ORG", ORG)
        .run();
    run.assert_code(0);

    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_ORG", "acme")
        .run();
    run.assert_fails(
        5,
        &[
            "CODESHIP_API_ORG=`acme` is not an organization of",
            "`Acme` (",
            &format!("`{OTHER_ORG_NAME}` ("),
        ],
    );
}

#[test]
fn without_an_organization_the_only_one_is_used_and_several_are_named() {
    let fake = CodeshipV2::start("success");
    let unset =
        |fake: &CodeshipV2| codeship_without(fake, "CODESHIP_API_ORG", &["restart-latest"]).run();
    let run = unset(&fake);
    run.assert_fails(
        5,
        &["belongs to several organizations: set CODESHIP_API_ORG"],
    );
    fake.set(|s| s.orgs.truncate(1));
    unset(&fake).assert_code(0);
}

#[test]
fn a_project_outside_the_organization_names_the_project_variable() {
    let fake = CodeshipV2::start("success");
    let other = "7b3596c0-560e-4135-8b18-0000000000ff";
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_PROJECT_UUID", other)
        .run();
    run.assert_fails(
        5,
        &[
            "404",
            "Project not found",
            &format!("project {other} was not found in organization Acme"),
            "CODESHIP_API_PROJECT_UUID",
        ],
    );
    // The other organization cannot see the project either.
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_ORG", OTHER_ORG_NAME)
        .run();
    run.assert_fails(5, &["organization Acme Labs"]);
}

#[test]
fn a_permission_403_names_the_missing_scope() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.orgs[0].2 = vec!["build.read".into(), "project.read".into()]);
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(
        5,
        &[
            "403",
            "You are not authorized to perform this action",
            "needs the build.write scope there (it has: build.read, project.read)",
        ],
    );
    // Not mistaken for a rate limit: asked once.
    assert_eq!(fake.server.count("POST", "/v2/organizations/"), 1);
}

// ---------------------------------------------------------------- rate limits and faults

#[test]
fn a_burst_of_rate_limit_403s_is_waited_out() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "GET",
        "/v2/organizations/",
        vec![Reply::text(403, "Rate Limit Exceeded").header("Retry-After", "0"); 3],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_code(0);
    assert_eq!(fake.server.count("GET", "/v2/organizations/"), 5);
    assert!(run.stderr.contains("rate-limited"), "{}", run.stderr);
}

#[test]
fn codeships_request_window_is_survived_without_starting_two_builds() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.rate_limit = Some((3, Duration::from_millis(1500))));
    let run = codeship(&fake, &["restart-latest", "--wait"])
        .env("CIRELAY_RETRIES", "6")
        .run();
    run.assert_code(0);
    let limited = fake.state.lock().unwrap().answered_rate_limited;
    assert!(limited >= 1, "the window should have been hit");
    assert_eq!(fake.created().len(), 1);
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn an_errors_body_is_shown() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "POST",
        &format!("{}/builds", CodeshipV2::prefix(PRO)),
        vec![Reply::json(
            400,
            json!({"errors": ["ref is not a valid branch"]}),
        )],
    );
    let run = codeship(&fake, &["trigger", "--branch", "nope"]).run();
    run.assert_fails(5, &["400: {\"errors\":[\"ref is not a valid branch\"]}"]);
}

#[test]
fn a_server_that_never_answers_trips_the_request_timeout() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "POST",
        "/v2/auth",
        vec![Reply::Hang(Duration::from_secs(5)); 2],
    );
    let started = Instant::now();
    let run = codeship(&fake, &["status", PRO_MASTER, "--request-timeout", "300ms"])
        .env("CIRELAY_RETRIES", "1")
        .run();
    run.assert_fails(6, &["no answer within --request-timeout"]);
    assert!(started.elapsed() < Duration::from_secs(4));
    run.assert_no_secret(&fake.secrets());
}

#[test]
fn verbose_logs_each_request_without_secrets() {
    let fake = CodeshipV2::start("success");
    let run = codeship(&fake, &["restart-latest", "--verbose", "--wait"]).run();
    run.assert_code(0);
    assert!(
        run.stderr
            .contains(&format!("POST {}/v2/auth -> 200 (", fake.server.url)),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("/restart -> 202"), "{}", run.stderr);
    run.assert_no_secret(&fake.secrets());
}

// ---------------------------------------------------------------- configuration errors

#[test]
fn configuration_errors_exit_4_name_the_fix_and_send_nothing() {
    let fake = CodeshipV2::start("success");
    for (missing, args, named) in [
        (
            "CODESHIP_API_PROJECT_UUID",
            &["restart-latest"][..],
            "CODESHIP_API_PROJECT_UUID is not set",
        ),
        (
            "CODESHIP_API_BRANCH",
            &["restart-latest"],
            "pass --branch or set CODESHIP_API_BRANCH",
        ),
        (
            "CODESHIP_API_BRANCH",
            &["trigger"],
            "pass --branch or set CODESHIP_API_BRANCH",
        ),
        (
            "CODESHIP_API_PASSWORD",
            &["status", PRO_MASTER],
            "CODESHIP_API_USER is set but no password",
        ),
        (
            "CODESHIP_API_USER",
            &["stop", PRO_MASTER],
            "CODESHIP_API_PASSWORD is set but no user",
        ),
        ("", &["status", "4711"], "BUILD=4711 is a number"),
        ("", &["wait", "not a uuid"], "BUILD must be a uuid"),
        (
            "",
            &["trigger", "--sha", "HEAD"],
            "--sha must be a commit SHA",
        ),
    ] {
        let run = codeship_without(&fake, missing, args).run();
        run.assert_code(4);
        let line = run.error_line();
        assert!(line.contains(named), "{missing} {args:?}: {line}");
        run.assert_no_secret(&[PASSWORD]);
    }
    let run = codeship(&fake, &["restart-latest"])
        .env("CODESHIP_API_PROJECT_UUID", "12345")
        .run();
    run.assert_fails(
        4,
        &["CODESHIP_API_PROJECT_UUID=12345 is a number, but Codeship API v2 needs a uuid"],
    );
    assert!(fake.server.requests().is_empty());
}

#[test]
fn the_v2_api_is_api_codeship_com_unless_codeship_api_url_says_otherwise() {
    let fake = CodeshipV2::start("success");
    let mut env = fake.env();
    env.retain(|(n, _)| *n != "CODESHIP_API_URL");
    let run = cirelay(&["codeship", "trigger", "--dry-run"])
        .env_all(env)
        .run();
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("dry run: POST https://api.codeship.com/v2/auth"),
        "{}",
        run.stderr
    );
    assert!(fake.server.requests().is_empty());
    run.assert_no_secret(&[PASSWORD]);
}

// ---------------------------------------------------------------- hardening

#[test]
fn a_blocked_build_is_final_and_exits_2() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| {
        let b = s.builds.iter_mut().find(|b| b.uuid == PRO_HOTFIX).unwrap();
        b.upcoming = ["testing", "blocked"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    });
    let run = codeship(&fake, &["wait", PRO_HOTFIX, "--timeout", "20s"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains(&format!("build {PRO_HOTFIX}: blocked")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_build_uuid_that_would_forge_a_variable_is_never_exported() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.next_uuid = Some("b0000000-0000\nCF_API_KEY=forged".into()));
    let dir = TempDir::new("v2-forged");
    let github = dir.join("github_output");
    let run = codeship(&fake, &["trigger", "--detach"])
        .env("GITHUB_OUTPUT", github.to_str().unwrap())
        .env("CF_VOLUME_PATH", dir.text())
        .run();
    // The trigger was accepted: the build may exist, so this is an unknown outcome.
    run.assert_fails(6, &["uuid is not a uuid", "may have started"]);
    assert_eq!(run.stdout, "");
    assert!(!github.exists() && !dir.join("env_vars_to_export").exists());
    assert!(!run.stderr.contains("\nCF_API_KEY"), "{}", run.stderr);
}

#[test]
fn a_hostile_uuid_in_a_list_is_an_unusable_answer() {
    let fake = CodeshipV2::start("success");
    fake.set(|s| {
        let b = s.builds.iter_mut().find(|b| b.uuid == PRO_MASTER).unwrap();
        b.uuid = "../../../v2/organizations".into();
    });
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_fails(5, &["uuid is not a uuid"]);
    assert_eq!(fake.server.count("POST", "/v2/organizations/"), 0);
}

#[test]
fn the_rate_limit_said_on_the_status_line_alone_is_waited_out() {
    let fake = CodeshipV2::start("success");
    fake.server.inject(
        "GET",
        "/v2/organizations/",
        vec![
            Reply::empty(403)
                .reason("Forbidden Rate Limit Exceeded")
                .header("Retry-After", "0");
            2
        ],
    );
    let run = codeship(&fake, &["restart-latest"]).run();
    run.assert_code(0);
    assert_eq!(fake.server.count("GET", "/v2/organizations/"), 4);
    assert!(run.stderr.contains("rate-limited"), "{}", run.stderr);
    // Codeship's window, answered the documented way, is survived too.
    let fake = CodeshipV2::start("success");
    fake.set(|s| {
        s.rate_limit = Some((3, Duration::from_millis(1500)));
        s.rate_limit_on_status_line = true;
    });
    let run = codeship(&fake, &["restart-latest", "--wait"])
        .env("CIRELAY_RETRIES", "6")
        .run();
    run.assert_code(0);
    assert!(fake.state.lock().unwrap().answered_rate_limited >= 1);
    assert_eq!(fake.created().len(), 1);
}

#[test]
fn a_token_that_expires_during_a_rate_limit_pause_is_renewed_before_the_retry() {
    let fake = CodeshipV2::start("success");
    // Renewed halfway through its 2 s life, so the 3 s pause outlives it.
    fake.set(|s| s.token_lifetime = 2);
    fake.server.inject(
        "GET",
        &format!("{}/builds/{PRO_HOTFIX}", CodeshipV2::prefix(PRO)),
        vec![Reply::text(403, "Rate Limit Exceeded").header("Retry-After", "3")],
    );
    let run = codeship(&fake, &["status", PRO_HOTFIX]).run();
    run.assert_code(0);
    assert_eq!(
        fake.server.lines(),
        vec![
            AUTH.to_string(),
            get(PRO, PRO_HOTFIX),
            AUTH.to_string(),
            get(PRO, PRO_HOTFIX)
        ]
    );
    assert_eq!(fake.state.lock().unwrap().answered_401, 0);
    run.assert_no_secret(&fake.secrets());
}
