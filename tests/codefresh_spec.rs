//! Every request `codefresh …` sends must be one the official Codefresh API spec (a copy in
//! `tests/specs/codefresh-api.openapi.json`) documents: method and path, query parameters
//! (including the ones it marks required), the `Authorization` header, and the body.
//!
//! The requests are what the real binary sent to the fake during real runs of every
//! command, so a change to any request shape is checked. (The spec's run body is only
//! "an object"; its fields are checked against the Codefresh CLI in `tests/codefresh.rs`.)

mod specs;
mod support;

use std::collections::BTreeSet;

use specs::Spec;
use support::called_as;
use support::codefresh::{Codefresh, NEWEST_MAIN};

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
    let unencoded = std::panic::catch_unwind(|| spec.operation("POST", "/api/pipelines/run/a/b"));
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
