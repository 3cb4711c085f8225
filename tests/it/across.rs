//! Builds of several providers at once: `cirelay status|wait|cancel|logs REF…`, where each
//! REF names its provider (`PROVIDER:ID` or a web address), and `cirelay fan-out PLAN`.

use std::time::Duration;

use crate::fakes::circleci::Circle;
use crate::fakes::codefresh::Codefresh;
use crate::fakes::github::GitHub;
use crate::fakes::gitlab::Gitlab;
use crate::fakes::{Ending, Fake};
use crate::support::{cirelay, read, Cli, Run, TempDir};

/// `cirelay ARGS… --interval 20ms` with every fake's environment.
fn across(fakes: &[&dyn Fake], args: &[&str]) -> Cli {
    let mut cli = cirelay(args).args(&["--interval", "20ms"]);
    for fake in fakes {
        cli = cli.env_all(fake.env());
    }
    cli
}

/// Starts a build on `fake` without waiting; its id.
fn started(fake: &dyn Fake) -> String {
    let run = across(&[fake], fake.start_line()).arg("--detach").run();
    run.assert_code(0);
    run.stdout.trim().to_string()
}

fn no_secret(run: &Run, fakes: &[&dyn Fake]) {
    for fake in fakes {
        run.assert_no_secret(&fake.secrets());
    }
}

#[test]
fn a_wait_on_builds_of_two_providers_ends_with_the_worst_result() {
    for (cf, circle, code) in [
        (Ending::Succeeds, Ending::Fails, 1),
        (Ending::Succeeds, Ending::IsStopped, 2),
        (Ending::Succeeds, Ending::Succeeds, 0),
        (Ending::Fails, Ending::IsStopped, 1),
    ] {
        let (a, b) = (
            Codefresh::whose_builds_end(cf),
            Circle::whose_builds_end(circle),
        );
        let fakes: [&dyn Fake; 2] = [&a, &b];
        let (one, two) = (started(&a), started(&b));
        let (ref_one, ref_two) = (format!("codefresh:{one}"), format!("circleci:{two}"));
        let run = across(&fakes, &["wait", &ref_one, &ref_two]).run();
        run.assert_code(code);
        no_secret(&run, &fakes);
        assert_eq!(run.stdout, "", "wait starts nothing");
        // A line per change, named by its REF, then the summary table.
        run.assert_says(&format!("[{ref_one}] pending"));
        run.assert_says(&format!("[{ref_two}] "));
        let summary: Vec<&str> = run
            .events()
            .into_iter()
            .skip_while(|l| *l != "summary:")
            .collect();
        assert_eq!(summary.len(), 4, "{}", run.stderr);
        assert!(
            summary[2].contains("codefresh") && summary[2].contains(cf.result()),
            "{summary:?}"
        );
        assert!(
            summary[3].contains("circleci") && summary[3].contains(circle.result()),
            "{summary:?}"
        );
        assert!(summary[2].contains(&a.started().url), "{summary:?}");
    }
}

/// Several builds' logs are not followed live (their lines would interleave): by default a
/// failed build's failed jobs are shown once it failed, `--logs follow` shows each build's
/// log once it finished, `--logs none` nothing.
#[test]
fn a_failed_builds_log_is_shown_once_it_failed() {
    let (failing, passing) = (
        Gitlab::whose_builds_end(Ending::Fails),
        GitHub::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&failing, &passing];
    let refs = [
        format!("gitlab:{}", started(&failing)),
        format!("github:{}", started(&passing)),
    ];
    let failed_job = "failed: expected 2";
    let passed_job = "build done";
    for (logs, shows_failed, shows_passed) in [
        (None, true, false),
        (Some("failed"), true, false),
        (Some("follow"), true, true),
        (Some("none"), false, false),
    ] {
        let mut line = vec!["wait", refs[0].as_str(), refs[1].as_str()];
        if let Some(mode) = logs {
            line.extend(["--logs", mode]);
        }
        let run = across(&fakes, &line).run();
        run.assert_code(1);
        no_secret(&run, &fakes);
        assert_eq!(
            run.stderr.contains(failed_job),
            shows_failed,
            "{logs:?}: {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.contains(passed_job),
            shows_passed,
            "{logs:?}: {}",
            run.stderr
        );
        // Before the summary, under the build's name.
        if shows_failed {
            let at = run.stderr.find(failed_job).unwrap();
            assert!(at < run.stderr.find("summary:").unwrap(), "{}", run.stderr);
            assert!(run.stderr[..at].contains(&format!("[{}] ", refs[0])));
        }
    }
}

#[test]
fn json_mode_is_one_object_per_build_in_the_order_given() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Fails),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let (one, two) = (started(&a), started(&b));
    let run = across(
        &fakes,
        &[
            "wait",
            &format!("circleci:{two}"),
            &a.started().url,
            "--output",
            "json",
        ],
    )
    .run();
    run.assert_code(1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(lines[0]["provider"], "circleci");
    assert_eq!(lines[0]["id"], two);
    assert_eq!(lines[0]["result"], "success");
    assert_eq!(lines[1]["provider"], "codefresh");
    assert_eq!(lines[1]["id"], one);
    assert_eq!(lines[1]["result"], "failed");
}

#[test]
fn a_build_that_outlasts_the_timeout_is_timed_out_and_the_others_still_count() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::NeverEnds),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let (one, two) = (started(&a), started(&b));
    let run = across(
        &fakes,
        &[
            "wait",
            &format!("codefresh:{one}"),
            &format!("circleci:{two}"),
            "--timeout",
            "1s",
        ],
    )
    .run();
    run.assert_code(3);
    run.assert_says("gave up waiting after 1.0s (--timeout)");
}

#[test]
fn status_prints_each_builds_word_in_order() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Fails),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let (one, two) = (started(&a), started(&b));
    let run = across(
        &fakes,
        &[
            "status",
            &format!("codefresh:{one}"),
            &format!("circleci:{two}"),
        ],
    )
    .run();
    run.assert_code(0);
    let words: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(words.len(), 2, "{}", run.stdout);
    assert_eq!(words[0], "pending");
}

#[test]
fn a_ref_that_names_no_provider_is_exit_4_listing_the_forms() {
    for bad in ["5f1a2b3c", "travis:123", "https://ci.example.com/build/1"] {
        let run = cirelay(&["wait", bad]).run();
        run.assert_fails(4, &["PROVIDER:ID", "codefresh:ID", "web address"]);
    }
    cirelay(&["wait"]).run().assert_fails(4, &["needs REF"]);
}

#[test]
fn the_step_summary_gets_a_table_of_the_downstream_builds() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Fails),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let (one, two) = (started(&a), started(&b));
    let dir = TempDir::new("summary");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "# before\n").unwrap();
    let run = across(
        &fakes,
        &[
            "wait",
            &format!("codefresh:{one}"),
            &format!("circleci:{two}"),
        ],
    )
    .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
    .run();
    run.assert_code(1);
    let text = read(&summary);
    assert!(text.starts_with("# before\n"), "appended to: {text}");
    assert!(
        text.contains("| provider | build | result | duration | link |"),
        "{text}"
    );
    assert!(
        text.contains("| codefresh |") && text.contains("| success |"),
        "{text}"
    );
    assert!(
        text.contains("| circleci |") && text.contains("| failed |"),
        "{text}"
    );
    assert!(text.contains(&a.started().url), "{text}");
    // A single wait writes one too.
    let fake = Codefresh::whose_builds_end(Ending::Succeeds);
    let single = dir.join("single.md");
    across(&[&fake], fake.start_line())
        .env("GITHUB_STEP_SUMMARY", single.to_str().unwrap())
        .run()
        .assert_code(0);
    assert!(
        read(&single).contains("| codefresh | build "),
        "{}",
        read(&single)
    );
}

// ---------------------------------------------------------------- fan-out

fn plan(dir: &TempDir, builds: &[&[&str]]) -> String {
    let path = dir.join("plan.json");
    let json = serde_json::json!({ "builds": builds });
    std::fs::write(&path, json.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn fan_out_starts_every_build_then_waits_on_all() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let dir = TempDir::new("plan");
    let path = plan(&dir, &[a.start_line(), b.start_line()]);
    let run = across(&fakes, &["fan-out", &path]).run();
    run.assert_code(0);
    no_secret(&run, &fakes);
    // Each started build's id on stdout as it starts, in the plan's order.
    assert_eq!(
        run.stdout,
        format!("{}\n{}\n", a.started().id, b.started().id)
    );
    assert_eq!(a.start_request().count(a.server()), 1);
    assert_eq!(b.start_request().count(b.server()), 1);
    run.assert_says("summary:");
}

/// As for one build: each build's first request is printed, nothing is sent, exit 0.
#[test]
fn a_dry_run_shows_each_builds_first_request_and_sends_nothing() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let dir = TempDir::new("plan");
    let path = plan(&dir, &[a.start_line(), b.start_line()]);
    let refs = [
        "codefresh:620000000000000000000001",
        "circleci:5034460f-c7c4-4c43-9457-de07e2029e7b",
    ];
    for line in [
        vec!["fan-out", path.as_str()],
        vec!["wait", refs[0], refs[1]],
    ] {
        let run = across(&fakes, &line).arg("--dry-run").run();
        run.assert_code(0);
        no_secret(&run, &fakes);
        assert_eq!(
            run.stderr.matches("dry run: POST").count()
                + run.stderr.matches("dry run: GET").count(),
            2,
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("error"), "{}", run.stderr);
        assert!(!run.stderr.contains("summary:"), "{}", run.stderr);
        run.assert_says("dry run: nothing was sent");
    }
    assert!(a.server().requests().is_empty() && b.server().requests().is_empty());
}

#[test]
fn a_start_that_fails_leaves_the_others_waited_on_and_the_summary_says_so() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let dir = TempDir::new("plan");
    let path = plan(
        &dir,
        &[&["codefresh", "run", "proj/nosuch"], b.start_line()],
    );
    let run = across(&fakes, &["fan-out", &path]).run();
    run.assert_code(1);
    run.assert_says("codefresh run proj/nosuch: not started");
    let summary = run
        .stderr
        .split("summary:")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(summary.contains("not started"), "{summary}");
    assert!(
        summary.contains("circleci") && summary.contains("success"),
        "{summary}"
    );
    assert_eq!(run.stdout, format!("{}\n", b.started().id));
}

#[test]
fn every_line_of_a_plan_is_checked_before_anything_is_sent() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        Circle::whose_builds_end(Ending::Succeeds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let dir = TempDir::new("plan");
    for (bad, says) in [
        (
            &["circleci", "trigger", "gh/acme/app", "--brnach", "main"][..],
            "did you mean `--branch`",
        ),
        (
            &["circleci", "status", "5034460f-c7c4-4c43-9457-de07e2029e7b"],
            "does not start a build",
        ),
        (&["codefresh", "run", "pipeB", "--detach"], "drop --detach"),
        (
            &["codefresh", "run", "pipeB", "--logs", "none"],
            "--logs applies to every build of the plan: give it to fan-out",
        ),
        (&["travis", "trigger"], "neither a provider"),
    ] {
        let path = plan(&dir, &[a.start_line(), bad]);
        let run = across(&fakes, &["fan-out", &path]).run();
        run.assert_fails(4, &["build 2", says]);
        assert!(a.server().requests().is_empty() && b.server().requests().is_empty());
    }
    for (text, says) in [
        ("{\"builds\": []}", "lists no builds"),
        ("[1]", "not a plan"),
    ] {
        let path = dir.join("bad.json");
        std::fs::write(&path, text).unwrap();
        cirelay(&["fan-out", path.to_str().unwrap()])
            .run()
            .assert_fails(4, &[says]);
    }
}

#[test]
fn a_cancelled_fan_out_cancels_every_build_it_started_when_asked() {
    let (a, b) = (
        Codefresh::whose_builds_end(Ending::NeverEnds),
        Circle::whose_builds_end(Ending::NeverEnds),
    );
    let fakes: [&dyn Fake; 2] = [&a, &b];
    let dir = TempDir::new("plan");
    let path = plan(&dir, &[a.start_line(), b.start_line()]);
    let (run, took) = across(
        &fakes,
        &["fan-out", &path, "--cancel-on-abort", "--timeout", "60s"],
    )
    .run_and_signal(libc::SIGTERM);
    run.assert_fails(143, &["interrupted by SIGTERM"]);
    assert!(took < Duration::from_secs(9), "{took:?}");
    for fake in fakes {
        let stop = fake.stop_request().unwrap();
        assert!(stop.count(fake.server()) >= 1, "{}", run.stderr);
    }
    no_secret(&run, &fakes);
}

/// The issue's own case: one CircleCI step fans out to builds on three other providers,
/// waits on all, shows one table, and cancels them all when the step is cancelled.
#[test]
fn a_circleci_step_fans_out_to_three_other_providers() {
    let dir = TempDir::new("plan");
    let in_circleci = |cli: Cli| {
        cli.env("CIRCLECI", "true")
            .env("CIRCLE_PIPELINE_ID", "5034460f-c7c4-4c43-9457-de07e2029e7b")
    };
    let (cf, gh, gl) = (
        Codefresh::whose_builds_end(Ending::Succeeds),
        GitHub::whose_builds_end(Ending::Succeeds),
        Gitlab::whose_builds_end(Ending::Fails),
    );
    let fakes: [&dyn Fake; 3] = [&cf, &gh, &gl];
    let path = plan(&dir, &[cf.start_line(), gh.start_line(), gl.start_line()]);
    let run = in_circleci(across(&fakes, &["fan-out", &path])).run();
    run.assert_code(1);
    no_secret(&run, &fakes);
    let ids: Vec<String> = fakes.iter().map(|f| f.started().id).collect();
    assert_eq!(run.stdout, format!("{}\n", ids.join("\n")));
    let summary: Vec<&str> = run
        .events()
        .into_iter()
        .skip_while(|l| *l != "summary:")
        .collect();
    assert_eq!(summary.len(), 5, "{}", run.stderr);
    for (row, (provider, result)) in summary[2..].iter().zip([
        ("codefresh", "success"),
        ("github", "success"),
        ("gitlab", "failed"),
    ]) {
        assert!(row.trim_start().starts_with(provider), "{row}");
        assert!(row.contains(result), "{row}");
    }

    let (cf, gh, gl) = (
        Codefresh::whose_builds_end(Ending::NeverEnds),
        GitHub::whose_builds_end(Ending::NeverEnds),
        Gitlab::whose_builds_end(Ending::NeverEnds),
    );
    let fakes: [&dyn Fake; 3] = [&cf, &gh, &gl];
    let path = plan(&dir, &[cf.start_line(), gh.start_line(), gl.start_line()]);
    let (run, took) = in_circleci(across(
        &fakes,
        &["fan-out", &path, "--cancel-on-abort", "--timeout", "60s"],
    ))
    .run_and_signal(libc::SIGTERM);
    run.assert_fails(143, &["interrupted by SIGTERM"]);
    assert!(took < Duration::from_secs(9), "{took:?}");
    for fake in fakes {
        let stop = fake.stop_request().unwrap();
        assert_eq!(stop.count(fake.server()), 1, "{}", run.stderr);
    }
    assert_eq!(
        run.stderr
            .matches("SIGTERM: canceled (--cancel-on-abort)")
            .count(),
        3
    );
    no_secret(&run, &fakes);
}
