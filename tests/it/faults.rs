//! Fault injection over every provider and command: each fault against each kind of
//! request (a read, a repeatable action, a request that starts a build), checking the
//! documented exit code, a one-line error, no panic, no secret in any output, and that no
//! build is ever started twice.

use std::time::Duration;

use crate::contract::every_fake;
use crate::fakes::circleci::Circle;
use crate::fakes::codefresh::Codefresh;
use crate::fakes::codeship_v2::CodeshipV2;
use crate::fakes::{Ending, Fake, Request};
use crate::support::{cirelay, is_error_line, largest_child_rss_kib, FakeServer, Reply, Run};

/// How repeating a request behaves, which decides what a fault must lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    /// Harmless to repeat: stop, cancel, terminate.
    Act,
    /// Starts or restarts a build.
    Start,
}

/// One request of one command: where faults are injected.
struct Target {
    name: String,
    kind: Kind,
    request: Request,
    start: Box<dyn Fn() -> Setup + Send + Sync>,
    /// The exit code when this request fails for good, where it is not the failure's own:
    /// a terminate after `--timeout` still ends in the timeout's 3.
    ends_with: Option<i32>,
}

impl Target {
    fn new(
        name: impl Into<String>,
        kind: Kind,
        request: Request,
        start: impl Fn() -> Setup + Send + Sync + 'static,
    ) -> Target {
        Target {
            name: name.into(),
            kind,
            request,
            start: Box::new(start),
            ends_with: None,
        }
    }
}

/// A fresh fake and the command to run against it.
struct Setup {
    fake: Box<dyn Fake>,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

impl Setup {
    fn server(&self) -> &FakeServer {
        self.fake.server()
    }
}

fn setup(fake: impl Fake + 'static, args: &[&str]) -> Setup {
    Setup {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: fake.env(),
        fake: Box::new(fake),
    }
}

/// The command against a fresh fake whose builds succeed.
fn fresh<F: Fake + 'static>(args: &[&str]) -> Setup {
    setup(F::whose_builds_end(Ending::Succeeds), args)
}

/// A Codefresh build that is running, for the commands that act on one.
const CF_RUNNING: &str = "6300000000000000000000f1";

fn codefresh_with_a_running_build(args: &[&str]) -> Setup {
    let fake = Codefresh::whose_builds_end(Ending::Succeeds);
    fake.add_build(CF_RUNNING, &["running"]);
    setup(fake, args)
}

/// New builds stay in their first status, so a short `--timeout` always finds the build still
/// running, however fast the polls come back.
fn codefresh_with_held_builds(args: &[&str]) -> Setup {
    let fake = Codefresh::whose_builds_end(Ending::Succeeds);
    fake.state.lock().unwrap().hold_new = Some(Duration::from_secs(60));
    setup(fake, args)
}

/// Every provider's start, the reads it waits with, and its restart (from the contract
/// suite's table, so a new provider is covered by its row there), then each command's own
/// requests.
fn targets() -> Vec<Target> {
    use crate::fakes::circleci::{pipeline_id, BUSY, DEFINITION, MAIN_OLD, SLUG};
    use crate::fakes::codefresh::{NEWEST_ANY, PIPELINE, PROJECT_PIPELINE};
    use crate::fakes::codeship_v2::{ORG, PRO, PRO_HOTFIX};
    let mut targets = Vec::new();
    for row in every_fake() {
        let fake = (row.fake)(Ending::Succeeds);
        let (start, restart) = (fake.start_line(), fake.restart_line());
        let with = move |line: &'static [&'static str]| {
            move || {
                let fake = (row.fake)(Ending::Succeeds);
                Setup {
                    args: line.iter().map(|s| s.to_string()).collect(),
                    env: fake.env(),
                    fake,
                }
            }
        };
        let named = |line: &[&str], what: &str| format!("{} {}: {what}", row.name, line.join(" "));
        targets.extend([
            Target::new(
                named(start, "the start"),
                Kind::Start,
                fake.start_request(),
                with(start),
            ),
            Target::new(
                named(start, "a read"),
                Kind::Read,
                fake.read_request(),
                with(start),
            ),
            Target::new(
                named(restart, "the restart"),
                Kind::Start,
                fake.restart_request(),
                with(restart),
            ),
        ]);
    }
    let builds = format!("/v2/organizations/{ORG}/projects/{PRO}/builds");
    let hotfix = format!("{builds}/{PRO_HOTFIX}");
    targets.extend([
        Target::new(
            "codeship v2 restart-latest: sign-in",
            Kind::Act,
            Request::new("POST", "/v2/auth"),
            || fresh::<CodeshipV2>(&["codeship", "restart-latest"]),
        ),
        Target::new(
            "codeship v2 restart-latest: build list",
            Kind::Read,
            Request::new("GET", builds),
            || fresh::<CodeshipV2>(&["codeship", "restart-latest"]),
        ),
        Target::new(
            "codeship v2 status: build read",
            Kind::Read,
            Request::new("GET", hotfix.clone()),
            || fresh::<CodeshipV2>(&["codeship", "status", PRO_HOTFIX]),
        ),
        Target::new(
            "codeship v2 wait: build read",
            Kind::Read,
            Request::new("GET", hotfix.clone()),
            || fresh::<CodeshipV2>(&["codeship", "wait", PRO_HOTFIX]),
        ),
        Target::new(
            "codeship v2 stop: stop",
            Kind::Act,
            Request::new("POST", format!("{hotfix}/stop")),
            || fresh::<CodeshipV2>(&["codeship", "stop", PRO_HOTFIX]),
        ),
        Target::new(
            "codefresh status: build read",
            Kind::Read,
            Request::new("GET", "/api/builds/"),
            || fresh::<Codefresh>(&["codefresh", "status", NEWEST_ANY]),
        ),
        Target::new(
            "codefresh wait: build read",
            Kind::Read,
            Request::new("GET", "/api/builds/"),
            || fresh::<Codefresh>(&["codefresh", "wait", NEWEST_ANY]),
        ),
        Target::new(
            "codefresh terminate: terminate",
            Kind::Act,
            Request::new("DELETE", "/api/progress/"),
            || codefresh_with_a_running_build(&["codefresh", "terminate", CF_RUNNING]),
        ),
        Target::new(
            "codefresh restart-latest: pipeline read",
            Kind::Read,
            Request::new("GET", "/api/pipelines/"),
            || {
                fresh::<Codefresh>(&[
                    "codefresh",
                    "restart-latest",
                    PROJECT_PIPELINE,
                    "-b",
                    "main",
                ])
            },
        ),
        Target {
            ends_with: Some(3),
            ..Target::new(
                "codefresh run --terminate-on-timeout: terminate",
                Kind::Act,
                Request::new("DELETE", "/api/progress/"),
                || {
                    codefresh_with_held_builds(&[
                        "codefresh",
                        "run",
                        PIPELINE,
                        "--terminate-on-timeout",
                        "--timeout",
                        "1ms",
                    ])
                },
            )
        },
        Target::new(
            "circleci trigger --definition-id: pipeline/run",
            Kind::Start,
            Request::new("POST", "/api/v2/project/"),
            || {
                fresh::<Circle>(&[
                    "circleci",
                    "trigger",
                    SLUG,
                    "--definition-id",
                    DEFINITION,
                    "--branch",
                    "main",
                ])
            },
        ),
        Target::new(
            "circleci status: pipeline read",
            Kind::Read,
            Request::new("GET", "/api/v2/pipeline/"),
            || fresh::<Circle>(&["circleci", "status", &pipeline_id(MAIN_OLD)]),
        ),
        Target::new(
            "circleci wait: pipeline read",
            Kind::Read,
            Request::new("GET", "/api/v2/pipeline/"),
            || fresh::<Circle>(&["circleci", "wait", &pipeline_id(MAIN_OLD)]),
        ),
        Target::new(
            "circleci cancel: cancel",
            Kind::Act,
            Request::new("POST", "/api/v2/workflow/"),
            || fresh::<Circle>(&["circleci", "cancel", &pipeline_id(BUSY)]),
        ),
        Target::new(
            "circleci restart-latest: pipeline list",
            Kind::Read,
            Request::new("GET", "/api/v2/project/"),
            || fresh::<Circle>(&["circleci", "restart-latest", SLUG, "--branch", "main"]),
        ),
    ]);
    targets
}

fn run(setup: &Setup) -> Run {
    run_with_request_timeout(setup, "300ms")
}

fn run_with_request_timeout(setup: &Setup, request_timeout: &str) -> Run {
    let mut args: Vec<&str> = setup.args.iter().map(String::as_str).collect();
    // Bounds the search for a build a lost answer may or may not have started (Codeship v2
    // looks for up to 3 minutes, or --timeout).
    if !args.contains(&"--timeout") {
        args.extend(["--timeout", "3s"]);
    }
    let mut cli = cirelay(&args)
        .arg("--interval")
        .arg("20ms")
        .arg("--request-timeout")
        .arg(request_timeout)
        .env("CIRELAY_RETRIES", "1")
        // The faults go into the provider's own requests; a downstream log's faults are
        // each provider suite's (its log hosts are other fakes, with their own faults).
        .env("CIRELAY_LOGS", "none");
    for (n, v) in &setup.env {
        cli = cli.env(n, v);
    }
    cli.run()
}

/// What every run must show, whatever the fault.
fn assert_well_behaved(target: &Target, fault: &str, setup: &Setup, run: &Run) {
    let context = format!(
        "{} / {fault}:\nstdout: {}\nstderr: {}",
        target.name, run.stdout, run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "panic in {context}");
    run.assert_no_secret(&setup.fake.secrets());
    if run.code >= 4 {
        let errors = run.stderr.lines().filter(|l| is_error_line(l)).count();
        assert_eq!(errors, 1, "one error line in {context}");
    }
}

/// Starts the fault's answers for `times` requests, runs, and returns the run with the
/// number of requests the fault answered and the number that reached the fake's normal
/// handler.
fn with_fault(target: &Target, fault: &Fault, times: usize) -> (Setup, Run, usize, usize) {
    let setup = (target.start)();
    let replies = vec![fault.reply.clone(); times];
    target.request.inject(setup.server(), replies);
    let run = run_with_request_timeout(&setup, fault.request_timeout);
    let sent = target.request.count(setup.server());
    let faulted = sent.min(times);
    let handled = sent - faulted;
    assert_well_behaved(target, fault.name, &setup, &run);
    if let (Some(says), true) = (fault.error_says, run.code >= 4) {
        let line = run.error_line();
        assert!(
            line.contains(says),
            "{} / {}: {line}",
            target.name,
            fault.name
        );
    }
    (setup, run, faulted, handled)
}

#[derive(Clone)]
struct Fault {
    /// Short, so hangs are quick; long where the fault itself takes time to deliver.
    request_timeout: &'static str,
    name: &'static str,
    reply: Reply,
    /// True when the server said it did nothing (rate limits): even a build-starting
    /// request may be sent again.
    refused_before_work: bool,
    /// A passing fault worth retrying on a read (connection trouble, 5xx, rate limits).
    transient: bool,
    /// When the run fails, its error line says this.
    error_says: Option<&'static str>,
}

impl Fault {
    fn is_2xx(&self) -> bool {
        matches!(
            self.reply,
            Reply::Answer {
                status: 200..=299,
                ..
            }
        )
    }

    /// An answer that says the request was taken (2xx) or sent elsewhere (3xx): for a
    /// build-starting request, the build may exist.
    fn may_have_been_accepted(&self) -> bool {
        matches!(
            self.reply,
            Reply::Answer {
                status: 200..=399,
                ..
            } | Reply::Huge(_)
        )
    }
}

fn fault(name: &'static str, reply: Reply, transient: bool, refused_before_work: bool) -> Fault {
    Fault {
        name,
        reply,
        transient,
        refused_before_work,
        request_timeout: "300ms",
        error_says: None,
    }
}

/// Runs `fault` against every target: persistent (every attempt) and, for transient faults,
/// once followed by normal answers.
fn check(fault: Fault) {
    // The runs mostly wait (timeouts, backoff), so every target runs at once.
    std::thread::scope(|scope| {
        for target in targets() {
            let fault = &fault;
            scope.spawn(move || check_target(&target, fault));
        }
    });
}

fn check_target(target: &Target, fault: &Fault) {
    {
        // Every attempt gets the fault.
        let (_, run, faulted, handled) = with_fault(target, fault, 2);
        let name = format!("{} / {} (persistent)", target.name, fault.name);
        let code = |own: i32| target.ends_with.unwrap_or(own);
        match (target.kind, fault.transient, fault.refused_before_work) {
            (Kind::Start, true, false) => {
                assert_eq!(run.code, 6, "{name}: {}", run.stderr);
                assert_eq!(
                    (faulted, handled),
                    (1, 0),
                    "{name}: a build-starting request was re-sent"
                );
                assert!(
                    run.error_line().contains("may have started"),
                    "{name}: {}",
                    run.stderr
                );
            }
            (_, true, _) => {
                assert_eq!(run.code, code(6), "{name}: {}", run.stderr);
                assert_eq!((faulted, handled), (2, 0), "{name}: retried once");
            }
            (Kind::Start, false, _) if fault.may_have_been_accepted() => {
                // The contract: an accepted start whose answer cannot be read is exit 6.
                assert_eq!(run.code, 6, "{name}: {}", run.stderr);
                assert!(
                    run.error_line().contains("may have started"),
                    "{name}: {}",
                    run.stderr
                );
                assert_eq!(
                    (faulted, handled),
                    (1, 0),
                    "{name}: a build-starting request was re-sent"
                );
            }
            (_, false, _) => {
                // An action needs nothing from a 2xx answer's body: its status says it worked.
                let accepted = target.kind == Kind::Act && fault.is_2xx() && run.code == 0;
                let unusable = run.code == code(5) || (target.kind == Kind::Start && run.code == 6);
                assert!(
                    unusable || accepted,
                    "{name}: exit {}: {}",
                    run.code,
                    run.stderr
                );
                if !accepted {
                    assert_eq!(
                        (faulted, handled),
                        (1, 0),
                        "{name}: an unusable answer is not asked again"
                    );
                }
            }
        }
        if !fault.transient {
            return;
        }
        // The fault once, then normal answers.
        let baseline = run_baseline(target);
        let (_, run, faulted, handled) = with_fault(target, fault, 1);
        let name = format!("{} / {} (once)", target.name, fault.name);
        if target.kind == Kind::Start && !fault.refused_before_work {
            assert_eq!(run.code, 6, "{name}: {}", run.stderr);
            assert_eq!(
                (faulted, handled),
                (1, 0),
                "{name}: a build-starting request was re-sent"
            );
        } else {
            assert_eq!(
                run.code, baseline.0,
                "{name}: recovers as without the fault: {}",
                run.stderr
            );
            assert_eq!(faulted, 1, "{name}");
            assert_eq!(
                handled, baseline.1,
                "{name}: the same requests as without the fault"
            );
        }
    }
}

/// The exit code and the number of target requests the command sends without any fault.
fn run_baseline(target: &Target) -> (i32, usize) {
    let setup = (target.start)();
    let run = run(&setup);
    assert_well_behaved(target, "no fault", &setup, &run);
    let sent = target.request.count(setup.server());
    assert!(
        sent >= 1,
        "{}: the command never sends the targeted request",
        target.name
    );
    (run.code, sent)
}

#[test]
fn every_target_request_is_sent_without_faults() {
    for target in targets() {
        let (code, _) = run_baseline(&target);
        assert!(
            code == 0 || code == 3,
            "{}: baseline exit {code}",
            target.name
        );
    }
}

#[test]
fn connection_reset_before_an_answer() {
    check(fault(
        "connection closed without an answer",
        Reply::Close,
        true,
        false,
    ));
}

#[test]
fn headers_never_sent() {
    check(fault(
        "no answer (request timeout)",
        Reply::Hang(Duration::from_secs(3)),
        true,
        false,
    ));
}

#[test]
fn server_errors() {
    for status in [500, 502, 503, 504] {
        let reply = Reply::text(status, "upstream trouble");
        check(fault("5xx", reply, true, false));
    }
}

#[test]
fn rate_limits_with_retry_after() {
    check(fault(
        "429 with Retry-After",
        Reply::text(429, "slow down").header("Retry-After", "0"),
        true,
        true,
    ));
    check(fault(
        "403 Rate Limit Exceeded with Retry-After",
        Reply::text(403, "Rate Limit Exceeded").header("Retry-After", "0"),
        true,
        true,
    ));
}

#[test]
fn rate_limits_without_retry_after() {
    check(fault(
        "429 without Retry-After",
        Reply::text(429, "slow down"),
        true,
        true,
    ));
    check(fault(
        "403 Rate Limit Exceeded",
        Reply::text(403, "Rate Limit Exceeded"),
        true,
        true,
    ));
}

#[test]
fn connection_reset_mid_answer() {
    let truncated = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"id\": \"12".to_vec();
    check(fault(
        "answer cut mid-body",
        Reply::Raw(truncated),
        true,
        false,
    ));
}

#[test]
fn malformed_and_truncated_json() {
    check(fault(
        "malformed JSON",
        Reply::text(200, "{\"builds\": [ {\"id\": }"),
        false,
        false,
    ));
    check(fault(
        "truncated JSON",
        Reply::text(200, "{\"id\": \"6100000000000000000000a2\", \"sta"),
        false,
        false,
    ));
}

#[test]
fn wrong_content_type() {
    let html = Reply::text(200, "<html><body>Maintenance</body></html>")
        .header("Content-Type", "text/html");
    check(fault("HTML instead of JSON", html, false, false));
}

#[test]
fn a_50_mb_answer_is_refused() {
    // Reading 8 MiB before refusing takes a while on a loaded machine.
    check(Fault {
        request_timeout: "20s",
        error_says: Some("the answer is larger than 8 MiB"),
        ..fault("50 MB answer", Reply::Huge(50 * 1024 * 1024), false, false)
    });
    // No run held the answer: the largest any cirelay run of this test binary grew (finished
    // runs only, these among them) stays well under the 50 MB it was sent.
    let peak = largest_child_rss_kib();
    assert!(peak < 40 * 1024, "a cirelay run peaked at {peak} KiB");
}

#[test]
fn redirects_to_another_host_are_not_followed() {
    let elsewhere = FakeServer::start(|_| Reply::json(200, serde_json::json!({})));
    let reply =
        Reply::empty(302).header("Location", &format!("{}/steal?api_key=leak", elsewhere.url));
    check(fault("redirect to another host", reply, false, false));
    assert!(elsewhere.requests().is_empty(), "a redirect was followed");
}

/// Points the provider's host variable (`CF_URL`, `CIRCLECI_HOST`, `CODESHIP_API_URL`) at `url`.
fn point_at(setup: &mut Setup, url: &str) {
    for (name, value) in setup.env.iter_mut() {
        if name.ends_with("_URL") || name.ends_with("_HOST") {
            *value = url.into();
        }
    }
}

#[test]
fn connection_refused_everywhere_is_exit_6() {
    for target in targets() {
        let mut setup = (target.start)();
        point_at(&mut setup, "http://127.0.0.1:9");
        let run = run(&setup);
        assert_well_behaved(&target, "connection refused", &setup, &run);
        assert_eq!(run.code, 6, "{}: {}", target.name, run.stderr);
        assert!(
            run.error_line().contains("could not reach the API"),
            "{}: {}",
            target.name,
            run.stderr
        );
    }
}

#[test]
fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    for target in targets() {
        let mut setup = (target.start)();
        point_at(&mut setup, "http://ci.example.invalid");
        let run = run(&setup);
        assert_well_behaved(&target, "plain http", &setup, &run);
        assert_eq!(run.code, 4, "{}: {}", target.name, run.stderr);
        let line = run.error_line();
        assert!(
            line.contains("plain http://") && line.contains("CIRELAY_ALLOW_HTTP=1"),
            "{}: {line}",
            target.name
        );
    }
}

#[test]
fn credentials_in_a_host_url_are_never_printed_and_links_carry_none() {
    for target in targets() {
        let mut setup = (target.start)();
        let with_credentials = setup
            .server()
            .url
            .replace("http://", "http://robot:hunter2-in-the-url@");
        point_at(&mut setup, &with_credentials);
        setup.args.push("--verbose".into());
        let run = run(&setup);
        assert_well_behaved(&target, "credentials in the host", &setup, &run);
        run.assert_code_in(&[0, 3]);
        for shown in ["hunter2-in-the-url", "robot:", "robot@", "@127.0.0.1"] {
            assert!(
                !run.stdout.contains(shown) && !run.stderr.contains(shown),
                "{}: {shown} printed:\n{}{}",
                target.name,
                run.stdout,
                run.stderr
            );
        }
    }
}

#[test]
fn no_rate_limit_pause_runs_past_the_timeout() {
    std::thread::scope(|scope| {
        for target in targets() {
            scope.spawn(move || {
                let mut setup = (target.start)();
                if !setup.args.iter().any(|a| a == "--timeout") {
                    setup.args.extend(["--timeout".into(), "2s".into()]);
                }
                let asks = Reply::text(429, "slow down").header("Retry-After", "40");
                setup
                    .server()
                    .inject(target.request.method, &target.request.path, vec![asks; 2]);
                let run = run(&setup);
                assert_well_behaved(&target, "a long Retry-After", &setup, &run);
                let name = &target.name;
                // Given up at once: waiting past --timeout only to give up helps nobody.
                assert_eq!(
                    target.request.count(setup.server()),
                    1,
                    "{name}: {}",
                    run.stderr
                );
                assert!(
                    run.stderr.contains("after --timeout") && !run.stderr.contains("retrying in"),
                    "{name}: {}",
                    run.stderr
                );
                // A wait ends as timed out; a step before the build was waited on could not
                // reach the API in time.
                run.assert_code_in(&[3, 6]);
                if target.kind == Kind::Start {
                    assert_eq!(run.code, 6, "{name}: {}", run.stderr);
                }
            });
        }
    });
}

/// A TLS port that accepts connections and closes them before any handshake: every
/// request fails before a byte of it was written. Counts the connections.
fn closing_tls_port() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, accepted)
}

#[test]
fn a_request_that_never_left_is_retried_even_when_it_starts_a_build() {
    use std::sync::atomic::Ordering;
    std::thread::scope(|scope| {
        for target in targets() {
            scope.spawn(move || {
                let (url, accepted) = closing_tls_port();
                let mut setup = (target.start)();
                point_at(&mut setup, &url);
                let run = run(&setup);
                assert_well_behaved(&target, "TLS handshake cut", &setup, &run);
                let name = &target.name;
                assert_eq!(run.code, 6, "{name}: {}", run.stderr);
                let line = run.error_line();
                assert!(
                    line.contains("could not reach the API") && !line.contains("may have started"),
                    "{name}: {line}"
                );
                // CIRELAY_RETRIES=1: the first request was tried twice, whatever its kind
                // (unless the target's own --timeout leaves no time for a second try).
                let tries = accepted.load(Ordering::SeqCst);
                if setup.args.iter().any(|a| a == "--timeout") {
                    assert!(tries >= 1, "{name}");
                } else {
                    assert_eq!(tries, 2, "{name}: {}", run.stderr);
                }
            });
        }
    });
}

#[test]
fn an_unusable_proxy_value_is_exit_4_naming_it() {
    for (var, value) in [
        ("HTTPS_PROXY", "http://127.0.0.1:9 "),
        ("https_proxy", "socks9://127.0.0.1:9"),
        ("ALL_PROXY", "socks5://127.0.0.1:9"),
        ("HTTP_PROXY", "http//proxy.typo"),
    ] {
        for target in targets() {
            let mut setup = (target.start)();
            setup.env.push((var, value.into()));
            let run = run(&setup);
            assert_well_behaved(&target, var, &setup, &run);
            assert_eq!(run.code, 4, "{} / {var}: {}", target.name, run.stderr);
            assert!(
                run.error_line().contains(var),
                "{} / {var}: {}",
                target.name,
                run.stderr
            );
            assert!(setup.server().requests().is_empty(), "{}", target.name);
        }
    }
}
