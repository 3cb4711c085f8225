//! What cirelay promises a CI step whatever the provider, each case written once and run
//! against every provider's fake: reads retried, rate limits waited out, a build-starting
//! request never sent twice, exit codes by how the build ended, the own-build guard, dry
//! runs, export files for the next steps, `--verbose`, and never a secret in any output.
//!
//! A provider joins with one row in the table at the end (its fake implements
//! [`Fake`]); the provider's own suite keeps only what is its own.

use std::time::{Duration, Instant};

use crate::fakes::{Ending, Fake, Request, Started};
use crate::support::{cirelay, is_error_line, read, Cli, Recorded, Reply, Run, TempDir};

/// `LINE… --interval 20ms` with the fake's environment.
fn cli(fake: &impl Fake, line: &[&str]) -> Cli {
    cirelay(line)
        .arg("--interval")
        .arg("20ms")
        .env_all(fake.env())
}

/// Runs `cli` and checks what every run must show: no panic, no secret anywhere.
fn run(fake: &impl Fake, cli: Cli) -> Run {
    let run = cli.run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.assert_no_secret(&fake.secrets());
    run
}

/// The request lines of a run that went like `baseline`, but with the first `request`
/// sent `extra` more times (its answers were refused or lost, then it was asked again).
fn with_repeats(mut lines: Vec<String>, request: &Request, extra: usize) -> Vec<String> {
    let at = lines
        .iter()
        .position(|line| {
            let (method, target) = line.split_once(' ').unwrap_or_default();
            method == request.method && target.starts_with(&request.path)
        })
        .unwrap_or_else(|| panic!("{request:?} is not sent: {lines:#?}"));
    for _ in 0..extra {
        lines.insert(at, lines[at].clone());
    }
    lines
}

/// The requests of a command line against a fake whose builds succeed, with no fault.
fn baseline<F: Fake>(line: impl Fn(&F) -> &'static [&'static str]) -> Vec<Recorded> {
    let fake = F::whose_builds_end(Ending::Succeeds);
    run(&fake, cli(&fake, line(&fake))).assert_code(0);
    fake.server().requests()
}

fn lines(requests: &[Recorded]) -> Vec<String> {
    requests.iter().map(Recorded::line).collect()
}

/// Each case at once: they mostly wait (retries, pauses, timeouts).
fn each<T: Sync>(items: &[T], case: impl Fn(&T) + Sync) {
    std::thread::scope(|scope| {
        for item in items {
            let case = &case;
            scope.spawn(move || case(item));
        }
    });
}

// ---------------------------------------------------------------- network

pub fn a_read_answered_5xx_is_retried_with_the_same_requests<F: Fake>() {
    let baseline = baseline(F::start_line);
    let fake = F::whose_builds_end(Ending::Succeeds);
    let read = fake.read_request();
    read.inject(
        fake.server(),
        vec![Reply::text(503, "busy"), Reply::text(500, "oops")],
    );
    let run = run(&fake, cli(&fake, fake.start_line()));
    run.assert_code(0);
    assert_eq!(run.stdout, format!("{}\n", fake.started().id));
    for status in [503, 500] {
        run.assert_says(&format!("it answered {status}; retrying in"));
    }
    assert_eq!(
        fake.server().lines(),
        with_repeats(lines(&baseline), &read, 2)
    );
}

pub fn a_rate_limit_is_waited_out_even_on_the_start<F: Fake>() {
    let baseline = baseline(F::start_line);
    let forms = F::whose_builds_end(Ending::Succeeds).rate_limit_answers();
    each(&forms, |form| {
        let fake = F::whose_builds_end(Ending::Succeeds);
        let (start, read) = (fake.start_request(), fake.read_request());
        let after = |secs: &str| form.clone().header("Retry-After", secs);
        start.inject(fake.server(), vec![after("1")]);
        read.inject(fake.server(), vec![after("0"); 2]);
        let began = Instant::now();
        let run = run(&fake, cli(&fake, fake.start_line()));
        run.assert_code(0);
        assert!(began.elapsed() >= Duration::from_secs(1), "{form:?}");
        // Refused before it did anything: the start was sent again, and one build started.
        assert_eq!(run.stdout, format!("{}\n", fake.started().id), "{form:?}");
        assert_eq!(
            run.stderr.matches("rate-limited by the API").count(),
            3,
            "{form:?}: {}",
            run.stderr
        );
        let expected = with_repeats(with_repeats(lines(&baseline), &start, 1), &read, 2);
        assert_eq!(fake.server().lines(), expected, "{form:?}");
    });
}

pub fn a_start_that_may_have_arrived_is_never_sent_again<F: Fake>() {
    let baseline = baseline(F::start_line);
    each(&[Reply::text(502, "bad gateway"), Reply::Close], |lost| {
        let fake = F::whose_builds_end(Ending::Succeeds);
        let start = fake.start_request();
        start.inject(fake.server(), vec![lost.clone()]);
        let run = run(&fake, cli(&fake, fake.start_line()));
        run.assert_code(6);
        let line = run.error_line();
        assert!(
            line.contains(&format!(
                "the build may have started — check {} before retrying",
                fake.where_to_check()
            )),
            "{lost:?}: {line}"
        );
        assert_eq!(run.stdout, "", "{lost:?}");
        assert_eq!(start.count(fake.server()), 1, "{lost:?}");
        // Nothing after it either: what happened is for a person to check.
        let upto = baseline.iter().position(|r| start.matches(r)).unwrap();
        assert_eq!(fake.server().lines(), lines(&baseline[..=upto]), "{lost:?}");
    });
}

/// The id on stdout once the start request was sent (and answered), and nothing before.
fn printed_if_started(fake: &impl Fake) -> String {
    match fake.start_request().count(fake.server()) {
        0 => String::new(),
        1 => format!("{}\n", fake.started().id),
        n => panic!("the start was sent {n} times"),
    }
}

pub fn an_unusable_answer_is_exit_5_with_a_short_redacted_snippet<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    let secret = fake.secrets().remove(0);
    let body = format!("<html>oops {secret} {}</html>", "x".repeat(500));
    let read = fake.read_request();
    read.inject(fake.server(), vec![Reply::text(200, &body)]);
    let run = run(&fake, cli(&fake, fake.start_line()));
    let line = run.assert_fails(5, &["unusable JSON", "<html>oops ***"]);
    let snippet = &line[line.find("<html>").unwrap()..];
    assert!(
        snippet.chars().count() < 200,
        "the snippet is short: {line}"
    );
    // An unusable answer is not asked for again.
    assert_eq!(read.count(fake.server()), 1);
    assert_eq!(run.stdout, printed_if_started(&fake));
}

pub fn a_read_that_never_answers_trips_the_request_timeout<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    let read = fake.read_request();
    read.inject(fake.server(), vec![Reply::Hang(Duration::from_secs(5)); 2]);
    let began = Instant::now();
    let run = run(
        &fake,
        cli(&fake, fake.start_line())
            .args(&["--request-timeout", "300ms"])
            .env("CIRELAY_RETRIES", "1"),
    );
    run.assert_fails(6, &["no answer within --request-timeout"]);
    assert!(began.elapsed() < Duration::from_secs(4));
    assert_eq!(read.count(fake.server()), 2, "tried, then retried once");
    assert_eq!(run.stdout, printed_if_started(&fake));
}

// ---------------------------------------------------------------- waiting and exit codes

/// `--timeout` for a wait: long enough for any build that ends, short for one that never does.
fn timeout(ending: Ending) -> &'static str {
    match ending {
        Ending::NeverEnds => "1s",
        _ => "20s",
    }
}

pub fn waiting_exits_by_how_the_build_ends<F: Fake>() {
    each(&Ending::ALL, |&ending| {
        let fake = F::whose_builds_end(ending);
        let run = run(
            &fake,
            cli(&fake, fake.start_line()).args(&["--timeout", timeout(ending)]),
        );
        run.assert_code(ending.exit_code());
        assert_eq!(run.stdout, format!("{}\n", fake.started().id), "{ending:?}");
        if ending == Ending::NeverEnds {
            run.assert_says("gave up waiting");
            // Left running: nothing but reads followed the start.
            let requests = fake.server().requests();
            let start = fake.start_request();
            let at = requests.iter().position(|r| start.matches(r)).unwrap();
            assert!(
                requests[at + 1..].iter().all(|r| r.method == "GET"),
                "{:#?}",
                fake.server().lines()
            );
        }
    });
}

pub fn json_output_is_one_report_of_how_the_build_ended<F: Fake>() {
    each(&Ending::ALL, |&ending| {
        let fake = F::whose_builds_end(ending);
        let line = fake.start_line();
        let run = run(
            &fake,
            cli(&fake, line).args(&["--timeout", timeout(ending), "--output", "json"]),
        );
        run.assert_code(ending.exit_code());
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
        let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        let started = fake.started();
        assert_eq!(report["provider"], line[0], "{report}");
        assert_eq!(report["action"], line[1], "{report}");
        assert_eq!(report["id"], started.id.as_str(), "{report}");
        assert_eq!(report["url"], started.url.as_str(), "{report}");
        assert_eq!(report["result"], ending.result(), "{report}");
        assert!(report["status"].is_string(), "{report}");
        // The keys in the contract's order, for readers that care.
        let keys = [
            "provider", "action", "id", "number", "url", "status", "result",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| run.stdout.find(&format!("\"{k}\":")).expect(k))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", run.stdout);
    });
}

pub fn restart_latest_wait_exits_by_how_the_restarted_build_ends<F: Fake>() {
    each(&Ending::ALL, |&ending| {
        let fake = F::whose_builds_end(ending);
        let run = run(
            &fake,
            cli(&fake, fake.restart_line()).args(&["--wait", "--timeout", timeout(ending)]),
        );
        run.assert_code(ending.exit_code());
        assert_eq!(
            run.stdout,
            format!("{}\n", fake.restarted_id()),
            "{ending:?}"
        );
        if ending == Ending::NeverEnds {
            run.assert_says("gave up waiting");
        }
    });
}

// ---------------------------------------------------------------- the own build

pub fn the_build_a_step_runs_in_is_restarted_only_with_force<F: Fake>() {
    let baseline = F::whose_builds_end(Ending::Succeeds);
    let restarted = run(&baseline, cli(&baseline, baseline.restart_line()));
    restarted.assert_code(0);
    assert_eq!(restarted.stdout, format!("{}\n", baseline.restarted_id()));
    let restart = baseline.restart_request();
    assert!(restart.count(baseline.server()) >= 1);
    let sent = baseline.server().lines();

    let fake = F::whose_builds_end(Ending::Succeeds);
    let (var, own) = fake.own_build();
    let run_with = |extra: &[&str]| {
        run(
            &fake,
            cli(&fake, fake.restart_line()).args(extra).env(var, &own),
        )
    };
    let refused = run_with(&[]);
    refused.assert_code(4);
    let line = refused.error_line();
    assert!(
        line.contains(&format!("({var}={own})")) && line.contains("pass --force"),
        "{line}"
    );
    assert_eq!(refused.stdout, "");
    // Refused once the reads found the newest build: nothing was restarted.
    let reads = fake.server().lines();
    assert_eq!(restart.count(fake.server()), 0, "{reads:#?}");
    assert!(
        !reads.is_empty() && sent.starts_with(&reads),
        "{reads:#?} / {sent:#?}"
    );

    let fake = F::whose_builds_end(Ending::Succeeds);
    let forced = run(
        &fake,
        cli(&fake, fake.restart_line())
            .arg("--force")
            .env(var, &own),
    );
    forced.assert_code(0);
    assert_eq!(forced.stdout, restarted.stdout);
    assert_eq!(fake.server().lines(), sent);
}

// ---------------------------------------------------------------- dry run

pub fn a_dry_run_shows_the_first_request_and_sends_nothing<F: Fake>() {
    let lines: [fn(&F) -> &'static [&'static str]; 2] = [F::start_line, F::restart_line];
    each(&lines, |line| {
        let first = baseline(line).remove(0);
        let fake = F::whose_builds_end(Ending::Succeeds);
        let run = run(&fake, cli(&fake, line(&fake)).arg("--dry-run"));
        run.assert_code(0);
        assert!(fake.server().requests().is_empty());
        assert_eq!(run.stdout, "");
        // The request a real run sends first, its secrets hidden.
        let mut target = first.target.clone();
        for secret in fake.secrets() {
            target = target.replace(&secret, "***");
        }
        let mut shown = format!("dry run: {} {}{target}", first.method, fake.server().url);
        if !first.body.is_empty() {
            shown = format!("{shown} {}", first.body);
        }
        // That one request, then where it stops: at the first answer it would need, which
        // is not an error.
        let said: Vec<&str> = run
            .events()
            .into_iter()
            .filter(|l| l.starts_with("dry run: "))
            .collect();
        assert_eq!(said.len(), 2, "{}", run.stderr);
        assert_eq!(said[0], shown, "{}", run.stderr);
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.ends_with(said[1])
                && said[1].ends_with("needs its answer, so cirelay stops here")
                && !is_error_line(last),
            "{last}"
        );
    });
}

// ---------------------------------------------------------------- the next steps

pub fn the_started_build_is_exported_for_the_next_steps<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    let dir = TempDir::new("contract-export");
    let (github, bash_env) = (dir.join("github_output"), dir.join("bash_env"));
    let dotenv = dir.join("cirelay.env");
    // Appended to: earlier steps' outputs stay.
    std::fs::write(&github, "earlier=1\n").unwrap();
    let exported = run(
        &fake,
        cli(&fake, fake.start_line()).envs(&[
            ("GITHUB_OUTPUT", github.to_str().unwrap()),
            ("CF_VOLUME_PATH", dir.text()),
            ("CIRCLECI", "true"),
            ("BASH_ENV", bash_env.to_str().unwrap()),
            ("CIRELAY_DOTENV", dotenv.to_str().unwrap()),
        ]),
    );
    exported.assert_code(0);
    let Started { id, url } = fake.started();
    assert_eq!(
        read(&github),
        format!("earlier=1\nbuild_id={id}\nbuild_url={url}\n")
    );
    assert_eq!(
        read(&dir.join("env_vars_to_export")),
        format!("CIRELAY_BUILD_ID={id}\nCIRELAY_BUILD_URL={url}\n")
    );
    assert_eq!(
        read(&bash_env),
        format!("export CIRELAY_BUILD_ID='{id}'\nexport CIRELAY_BUILD_URL='{url}'\n")
    );
    // Any CI: a dotenv file (GitLab's artifacts:reports:dotenv).
    assert_eq!(
        read(&dotenv),
        format!("CIRELAY_BUILD_ID={id}\nCIRELAY_BUILD_URL={url}\n")
    );

    // $BASH_ENV is CircleCI's only inside CircleCI; elsewhere it is some shell's.
    let fake = F::whose_builds_end(Ending::Succeeds);
    let dir = TempDir::new("contract-bash-env");
    let bash_env = dir.join("bash_env");
    run(
        &fake,
        cli(&fake, fake.start_line()).env("BASH_ENV", bash_env.to_str().unwrap()),
    )
    .assert_code(0);
    assert!(!bash_env.exists());
}

// ---------------------------------------------------------------- inside GitHub Actions

/// Whatever the provider, what a run prints inside a GitHub Actions job (statuses, names,
/// error answers, logs) is printed while the runner's workflow commands are stopped: a
/// failed start and a verbose wait alike.
pub fn inside_github_actions_nothing_printed_runs_as_a_workflow_command<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Fails);
    let line = fake.start_line();
    let waited = run(
        &fake,
        cli(&fake, line)
            .args(&["--verbose", "--timeout", "20s"])
            .env("GITHUB_ACTIONS", "true"),
    );
    waited.assert_code(Ending::Fails.exit_code());
    let token = waited.assert_workflow_commands_stopped();
    assert_eq!(waited.stdout, format!("{}\n", fake.started().id));

    let refused = F::whose_builds_end(Ending::Succeeds);
    refused.start_request().inject(
        refused.server(),
        vec![Reply::json(404, serde_json::json!({}))],
    );
    let failed = run(&refused, cli(&refused, line).env("GITHUB_ACTIONS", "true"));
    // A refusal is an API error, exit 5.
    failed.assert_code(5);
    failed.error_line();
    assert_ne!(failed.assert_workflow_commands_stopped(), token);

    // Elsewhere nothing of the kind is printed.
    let elsewhere = F::whose_builds_end(Ending::Succeeds);
    let plain = run(
        &elsewhere,
        cli(&elsewhere, line).env("GITHUB_ACTIONS", "false"),
    );
    plain.assert_code(0);
    assert!(!plain.stderr.contains("::"), "{}", plain.stderr);
}

// ---------------------------------------------------------------- secrets

pub fn verbose_logs_every_request_and_no_secret<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    let run = run(&fake, cli(&fake, fake.start_line()).arg("--verbose"));
    run.assert_code(0);
    let logged: Vec<&str> = run
        .events()
        .into_iter()
        .filter(|l| {
            l.split_once(" -> ")
                .is_some_and(|(_, s)| s.starts_with(char::is_numeric))
        })
        // The API's requests; a downstream log may be read from another host.
        .filter(|l| l.contains(&format!(" {}/", fake.server().url)))
        .collect();
    let requests = fake.server().requests();
    assert_eq!(logged.len(), requests.len(), "{}", run.stderr);
    for (line, req) in logged.iter().zip(&requests) {
        let mut target = req.target.clone();
        for secret in fake.secrets() {
            target = target.replace(&secret, "***");
        }
        let sent = format!("{} {}{target} -> ", req.method, fake.server().url);
        assert!(line.starts_with(&sent), "{line} / {sent}");
    }
}

// ---------------------------------------------------------------- build references

/// A started build read again by `PROVIDER:ID`, without the provider word: what a later
/// step does with `$CIRELAY_BUILD_ID` of any provider.
pub fn a_build_is_named_by_provider_and_id<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    run(&fake, cli(&fake, fake.start_line())).assert_code(0);
    let reference = format!("{}:{}", fake.provider(), fake.started().id);
    let run = run(&fake, cli(&fake, &["status", &reference]));
    if fake.stop_request().is_none() {
        // Codeship API v1 cannot read one build.
        run.assert_fails(4, &["needs Codeship API v2"]);
        return;
    }
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    run.assert_says(&format!("[{reference}]"));
}

/// A build named by its address in the web app, as people copy it from the browser or from
/// `$CIRELAY_BUILD_URL`: under the provider's word, and without it (the provider found by
/// the address). The fake's host is not the vendor's cloud, as for an on-premises server.
pub fn a_build_is_named_by_its_web_address<F: Fake>() {
    let fake = F::whose_builds_end(Ending::Succeeds);
    let started = run(&fake, cli(&fake, fake.start_line()));
    started.assert_code(0);
    let address = fake.started().url;
    started.assert_says(&address);
    let named = run(&fake, cli(&fake, &[fake.provider(), "status", &address]));
    if fake.stop_request().is_none() {
        // Codeship API v1 cannot read one build.
        named.assert_fails(4, &["needs Codeship API v2"]);
        return;
    }
    named.assert_code(0);
    // Its log, by the same address: exits like `status`.
    run(&fake, cli(&fake, &[fake.provider(), "logs", &address])).assert_code(0);
    let waited = run(&fake, cli(&fake, &["wait", &address]));
    waited.assert_code(0);
    waited.assert_says(&format!("[{address}]"));
    let bare = run(&fake, cli(&fake, &["status", &address]));
    bare.assert_code(0);
    assert_eq!(bare.stdout.lines().count(), 1, "{}", bare.stdout);
    // The build the start made, as its id names it.
    let by_id = format!("{}:{}", fake.provider(), fake.started().id);
    let by_id = run(&fake, cli(&fake, &["status", &by_id]));
    assert_eq!(named.stdout, by_id.stdout);
}

// ---------------------------------------------------------------- a cancelled step

/// The calling job is cancelled while cirelay waits (SIGTERM, as CI systems and Docker stop
/// a step): it ends at once with 143; with `--cancel-on-abort` it first cancels the build it
/// started, without it the build is left running and its link printed.
pub fn a_cancelled_step_cancels_its_build_only_when_asked<F: Fake>() {
    each(&[true, false], |&asked| {
        let fake = F::whose_builds_end(Ending::NeverEnds);
        let mut line = cli(&fake, fake.start_line()).args(&["--timeout", "60s"]);
        if asked {
            line = line.arg("--cancel-on-abort");
        }
        let (run, took) = line.run_and_signal(libc::SIGTERM);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run.assert_no_secret(&fake.secrets());
        run.assert_fails(143, &["interrupted by SIGTERM"]);
        // Docker's stop sends SIGKILL about 10 s after SIGTERM.
        assert!(took < Duration::from_secs(9), "{took:?}: {}", run.stderr);
        assert_eq!(run.stdout, format!("{}\n", fake.started().id));
        let stops = fake.stop_request().map(|r| r.count(fake.server()));
        match (asked, stops) {
            (true, Some(sent)) => {
                assert!(sent >= 1, "no stop was sent: {}", run.stderr);
                run.assert_says("SIGTERM: canceled");
            }
            // No API to stop it: said, with where it runs.
            (true, None) => run.assert_says("SIGTERM: could not cancel"),
            (false, stops) => {
                assert_eq!(stops.unwrap_or(0), 0, "{}", run.stderr);
                run.assert_says(&format!("is still running: {}", fake.started().url));
            }
        }
    });
}

// ---------------------------------------------------------------- every provider

/// A provider's fake, for suites that run over every provider at once.
pub struct Row {
    pub name: &'static str,
    pub fake: fn(Ending) -> Box<dyn Fake>,
}

/// One row a provider: a module of its own with every case above, and its place in
/// [`every_fake`].
macro_rules! contract {
    ($($provider:ident: $fake:ty,)*) => {
        $(
            mod $provider {
                contract!(@cases $fake:
                    a_read_answered_5xx_is_retried_with_the_same_requests,
                    a_rate_limit_is_waited_out_even_on_the_start,
                    a_start_that_may_have_arrived_is_never_sent_again,
                    an_unusable_answer_is_exit_5_with_a_short_redacted_snippet,
                    a_read_that_never_answers_trips_the_request_timeout,
                    waiting_exits_by_how_the_build_ends,
                    json_output_is_one_report_of_how_the_build_ended,
                    restart_latest_wait_exits_by_how_the_restarted_build_ends,
                    the_build_a_step_runs_in_is_restarted_only_with_force,
                    a_dry_run_shows_the_first_request_and_sends_nothing,
                    the_started_build_is_exported_for_the_next_steps,
                    verbose_logs_every_request_and_no_secret,
                    a_cancelled_step_cancels_its_build_only_when_asked,
                    a_build_is_named_by_provider_and_id,
                    a_build_is_named_by_its_web_address,
                    inside_github_actions_nothing_printed_runs_as_a_workflow_command,
                );
            }
        )*

        /// Every provider's fake.
        pub fn every_fake() -> Vec<Row> {
            vec![$(Row {
                name: stringify!($provider),
                fake: |ending| Box::new(<$fake>::whose_builds_end(ending)),
            }),*]
        }
    };
    (@cases $fake:ty: $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                super::$case::<$fake>();
            }
        )*
    };
}

contract! {
    codeship_v1: crate::fakes::codeship_v1::CodeshipV1,
    codeship_v2: crate::fakes::codeship_v2::CodeshipV2,
    codefresh: crate::fakes::codefresh::Codefresh,
    circleci: crate::fakes::circleci::Circle,
    github: crate::fakes::github::GitHub,
    gitlab: crate::fakes::gitlab::Gitlab,
}
