//! `cirelay codeship restart-latest` and `codeship_restart_build` against a fake Codeship
//! API v1: the exact requests, stdout, stderr and exit code of every case.

use crate::fakes::codeship_v1::{CodeshipV1, KEY, PROJECT};
use crate::fakes::Fake;
use crate::support::{called_as, cirelay, Cli, Proxy};

fn with_env(cli: Cli, fake: &CodeshipV1) -> Cli {
    cli.env_all(fake.env())
}

fn restart(fake: &CodeshipV1, extra: &[&str]) -> Cli {
    let mut args = vec!["codeship", "restart-latest", "--interval", "20ms"];
    args.extend_from_slice(extra);
    with_env(cirelay(&args), fake)
}

#[test]
fn restart_latest_sends_exactly_two_requests_and_prints_the_new_id() {
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &[]).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "2000\n");
    assert!(
        run.stderr
            .contains("restarting build #1003 (commit 81d2282b) on codeship/documentation"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fake.server.lines(),
        vec![
            format!("GET {}", CodeshipV1::project_target("main")),
            format!("POST {}", CodeshipV1::restart_target(1003)),
        ]
    );
    let agent = format!("cirelay/{}", env!("CARGO_PKG_VERSION"));
    for req in fake.server.requests() {
        assert_eq!(req.header("user-agent"), Some(agent.as_str()));
    }
    run.assert_no_secret(&[KEY]);
}

#[test]
fn the_codeship_restart_build_name_is_a_drop_in() {
    let fake = CodeshipV1::start("success");
    let run = with_env(called_as("codeship_restart_build", &[]), &fake).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "2000\n");
    assert_eq!(
        fake.server
            .count("POST", "/api/v1/builds/1003/restart.json"),
        1
    );
}

#[test]
fn branch_flag_overrides_the_environment() {
    let fake = CodeshipV1::start("success");
    let run = with_env(
        called_as("codeship_restart_build", &["--branch=dev"]),
        &fake,
    )
    .run();
    run.assert_code(0);
    assert_eq!(
        fake.server.lines(),
        vec![
            format!("GET {}", CodeshipV1::project_target("dev")),
            format!("POST {}", CodeshipV1::restart_target(1004)),
        ]
    );
}

#[test]
fn wait_exits_by_the_restarted_builds_result() {
    for (final_status, code) in [
        ("success", 0),
        ("error", 1),
        ("infrastructure_failure", 1),
        ("stopped", 2),
        ("ignored", 2),
        // Final, as Codeship's status badge shows it: a wait on it would never end.
        ("blocked", 2),
    ] {
        let fake = CodeshipV1::start(final_status);
        let run = restart(&fake, &["--wait", "--timeout", "20s"]).run();
        run.assert_code(code);
        assert_eq!(run.stdout, "2000\n", "{final_status}");
        assert!(
            run.stderr.contains("build #2000: testing"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("build #2000: {final_status}")),
            "{}",
            run.stderr
        );
        // The restart itself is sent once, however long the wait.
        assert_eq!(fake.server.count("POST", "/api/v1/builds/"), 1);
        run.assert_no_secret(&[KEY]);
    }
}

#[test]
fn json_output_is_one_object_at_the_end() {
    let fake = CodeshipV1::start("error");
    let run = restart(&fake, &["--wait", "--output", "json"]).run();
    run.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(run.stdout.lines().count(), 1);
    assert_eq!(v["provider"], "codeship");
    assert_eq!(v["action"], "restart-latest");
    assert_eq!(v["id"], "2000");
    assert_eq!(v["number"], 2000);
    assert_eq!(v["status"], "error");
    assert_eq!(v["result"], "failed");
    assert_eq!(
        v["url"],
        format!("https://app.codeship.com/projects/{PROJECT}/builds/2000")
    );
}

#[test]
fn each_missing_variable_is_named_and_nothing_is_sent() {
    let fake = CodeshipV1::start("success");
    for missing in [
        "CODESHIP_API_KEY",
        "CODESHIP_API_PROJECT_ID",
        "CODESHIP_API_BRANCH",
    ] {
        let mut cli = cirelay(&["codeship", "restart-latest"]);
        for (n, v) in fake.env() {
            if n != missing {
                cli = cli.env(n, &v);
            }
        }
        let run = cli.run();
        run.assert_code(4);
        let line = run.error_line();
        let named = if missing == "CODESHIP_API_KEY" {
            "CODESHIP_API_"
        } else {
            missing
        };
        assert!(line.contains(named), "{missing}: {line}");
        run.assert_no_secret(&[KEY]);
    }
    assert!(fake.server.requests().is_empty());
}

#[test]
fn a_project_id_that_is_not_a_number_is_a_usage_error() {
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &[])
        .env("CODESHIP_API_PROJECT_ID", "my-project")
        .run();
    run.assert_fails(4, &["CODESHIP_API_PROJECT_ID must be the project's number"]);
    assert!(fake.server.requests().is_empty());
}

#[test]
fn no_builds_on_the_branch_is_exit_5() {
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &["--branch", "feature/x"]).run();
    run.assert_fails(5, &["no builds on branch `feature/x`"]);
    assert_eq!(fake.server.count("POST", "/"), 0);
}

#[test]
fn a_rejected_key_names_the_key_variable_and_never_shows_it() {
    let fake = CodeshipV1::start("success");
    let wrong = "wrong-key-0123456789abcdef";
    let run = restart(&fake, &["--verbose"])
        .env("CODESHIP_API_KEY", wrong)
        .run();
    let line = run.assert_fails(5, &["401", "CODESHIP_API_KEY was rejected"]);
    assert!(line.contains("api_key=***"), "{line}");
    run.assert_no_secret(&[wrong, KEY]);
}

#[test]
fn an_unknown_project_names_the_project_variable() {
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &[])
        .env("CODESHIP_API_PROJECT_ID", "999")
        .run();
    run.assert_fails(5, &["404", "CODESHIP_API_PROJECT_ID=999"]);
    run.assert_no_secret(&[KEY]);
}

#[test]
fn an_unreachable_api_is_exit_6_after_retries() {
    let run = cirelay(&["codeship", "restart-latest"])
        .envs(&[
            ("CODESHIP_API_KEY", KEY),
            ("CODESHIP_API_PROJECT_ID", "1"),
            ("CODESHIP_API_BRANCH", "main"),
            // Nothing listens on port 9 of loopback.
            ("CODESHIP_API_URL", "http://127.0.0.1:9"),
            ("CIRELAY_RETRIES", "1"),
        ])
        .run();
    run.assert_fails(6, &["could not reach the API"]);
    run.assert_no_secret(&[KEY]);
}

#[test]
fn verbose_logs_each_request_without_the_key() {
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &["--verbose", "--wait"]).run();
    run.assert_code(0);
    assert!(
        run.stderr.contains(&format!(
            "GET {}/api/v1/projects/{PROJECT}.json?api_key=***&branch=main -> 200 (",
            fake.server.url
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("POST") && run.stderr.contains("restart.json?api_key=*** -> 200"));
    run.assert_no_secret(&[KEY]);
}

#[test]
fn the_own_build_named_by_its_uuid_is_refused_too() {
    // Codeship Basic sets CI_BUILD_ID to the build's uuid, not its number.
    let fake = CodeshipV1::start("success");
    let run = restart(&fake, &[]).env("CI_BUILD_ID", "uuid-1003").run();
    run.assert_fails(4, &["CI_BUILD_ID=uuid-1003", "--force"]);
    assert_eq!(fake.server.count("POST", "/"), 0);
}

#[test]
fn commands_that_need_api_v2_say_so() {
    let fake = CodeshipV1::start("success");
    let run = with_env(cirelay(&["codeship", "trigger", "--branch", "main"]), &fake).run();
    run.assert_fails(4, &["needs Codeship API v2"]);
    assert!(fake.server.requests().is_empty());
}

#[test]
fn usage_errors_exit_4_with_one_line() {
    let fake = CodeshipV1::start("success");
    for args in [
        &["codeship", "restart-latest", "--brnach", "x"][..],
        &["codeship", "restart-latest", "extra"],
        &["codeship", "restart-latest", "--timeout", "5 minutes"],
        &["codeship", "restart-latest", "--interval=0"],
        &["codeship"],
        &["travis", "restart-latest"],
    ] {
        let run = with_env(cirelay(args), &fake).run();
        run.assert_code(4);
        run.error_line();
    }
    for (var, value) in [
        ("CIRELAY_TIMEOUT", "soon"),
        ("CIRELAY_INTERVAL", "0"),
        ("CIRELAY_INTERVAL", "5x"),
        ("CIRELAY_REQUEST_TIMEOUT", "-1"),
        ("CIRELAY_OUTPUT", "yaml"),
        ("CIRELAY_VERBOSE", "maybe"),
        ("CIRELAY_RETRIES", "many"),
    ] {
        let run = with_env(cirelay(&["codeship", "restart-latest"]), &fake)
            .env(var, value)
            .run();
        run.assert_code(4);
        assert!(
            run.error_line().contains(var),
            "{var}={value}: {}",
            run.stderr
        );
    }
    assert!(fake.server.requests().is_empty());
}

#[test]
fn global_options_come_from_the_environment_too() {
    let fake = CodeshipV1::start("success");
    let run = with_env(cirelay(&["codeship", "restart-latest", "--wait"]), &fake)
        .env("CIRELAY_OUTPUT", "json")
        .env("CIRELAY_VERBOSE", "1")
        .env("CIRELAY_INTERVAL", "20ms")
        .env("CIRELAY_REQUEST_TIMEOUT", "5s")
        .env("CIRELAY_TIMEOUT", "30s")
        .run();
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["result"], "success");
    // Verbose: one log line per request, the key redacted.
    let logged = run
        .stderr
        .lines()
        .filter(|l| l.contains(" -> 200 ("))
        .count();
    assert_eq!(logged, fake.server.lines().len());
    run.assert_no_secret(&[KEY]);
    // A flag wins over its variable.
    let run = with_env(
        cirelay(&["codeship", "restart-latest", "--output", "text"]),
        &fake,
    )
    .env("CIRELAY_OUTPUT", "json")
    .run();
    run.assert_code(0);
    assert!(run.stdout.trim().parse::<u64>().is_ok(), "{}", run.stdout);
}

#[test]
fn help_and_version() {
    let run = cirelay(&["--help"]).run();
    run.assert_code(0);
    assert!(run.stdout.contains("codeship_restart_build"));
    let run = called_as("codeship_restart_build", &["--help"]).run();
    assert!(run
        .stdout
        .contains("USAGE: cirelay codeship restart-latest"));
    let run = cirelay(&["--version"]).run();
    assert_eq!(
        run.stdout,
        format!("cirelay {}\n", env!("CARGO_PKG_VERSION"))
    );
}

// ---------------------------------------------------------------- proxies

/// The fake Codeship, reachable only through a CONNECT proxy as `codeship.test`.
fn behind_proxy(fake: &CodeshipV1) -> Proxy {
    Proxy::start(vec![("codeship.test:80".into(), fake.server.url.clone())])
}

#[test]
fn requests_go_through_the_proxy_the_environment_names() {
    for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"] {
        let fake = CodeshipV1::start("success");
        let proxy = behind_proxy(&fake);
        let run = restart(&fake, &[])
            .env("CODESHIP_API_URL", "http://codeship.test")
            .env("CIRELAY_ALLOW_HTTP", "1")
            .env(var, &proxy.url)
            .run();
        run.assert_code(0);
        assert_eq!(run.stdout, "2000\n", "{var}");
        assert_eq!(proxy.connects(), vec!["codeship.test:80"; 2], "{var}");
        assert_eq!(fake.server.lines().len(), 2, "{var}");
        run.assert_no_secret(&[KEY]);
    }
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let fake = CodeshipV1::start("success");
    let proxy = Proxy::start(Vec::new());
    let run = restart(&fake, &[])
        .env("HTTPS_PROXY", &proxy.url)
        .env("NO_PROXY", "localhost,127.0.0.1")
        .run();
    run.assert_code(0);
    assert!(proxy.connects().is_empty());
    assert_eq!(fake.server.lines().len(), 2);
}

#[test]
fn a_proxy_that_refuses_is_exit_6_and_its_password_is_never_shown() {
    let fake = CodeshipV1::start("success");
    let proxy = Proxy::start(Vec::new());
    let password = "proxy-pw-7c1e9a";
    let with_credentials = proxy
        .url
        .replace("http://", &format!("http://builder:{password}@"));
    let run = restart(&fake, &["--verbose"])
        .env("CODESHIP_API_URL", "http://codeship.test")
        .env("CIRELAY_ALLOW_HTTP", "1")
        .env("HTTPS_PROXY", &with_credentials)
        .env("CIRELAY_RETRIES", "1")
        .run();
    run.assert_fails(6, &["the proxy refused to connect"]);
    // The credentials were offered to the proxy, and the read was retried once.
    let basic = proxy.credentials();
    assert_eq!(basic.len(), 2);
    let offered = basic[0].clone().expect("Proxy-Authorization sent");
    assert!(offered.starts_with("Basic "));
    assert!(fake.server.lines().is_empty());
    run.assert_no_secret(&[KEY, password, offered.trim_start_matches("Basic ")]);
}

#[test]
fn the_v1_api_is_codeship_com_unless_codeship_api_url_says_otherwise() {
    let run = cirelay(&["codeship", "restart-latest", "--dry-run"])
        .envs(&[
            ("CODESHIP_API_KEY", KEY),
            ("CODESHIP_API_PROJECT_ID", "12345"),
            ("CODESHIP_API_BRANCH", "main"),
        ])
        .run();
    run.assert_code(0);
    assert!(
        run.stderr.contains(
            "dry run: GET https://codeship.com/api/v1/projects/12345.json?api_key=***&branch=main"
        ),
        "{}",
        run.stderr
    );
    run.assert_no_secret(&[KEY]);
}
