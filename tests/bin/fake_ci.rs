//! The project's fake CI as a standalone process:
//! `cargo run --features fake-ci --bin fake-ci -- SCENARIO`.
//! Prints the fake's base URL on the first line of stdout, then serves until killed or until
//! `FAKE_CI_SECONDS` (default 600) pass, so a forgotten one stops by itself.
//! `FAKE_CI_HOLD_SECONDS` (codefresh): new builds stay in their first status this long, so a
//! wait can be watched polling a build that keeps running.
//! `FAKE_CI_BUILD_SECONDS` (codefresh, github, gitlab): new builds go by the clock instead,
//! running this long from their start, then ending as the scenario says.
//! `FAKE_CI_HISTORY_SECONDS=60,58,…` (codefresh, github, gitlab): earlier successful builds of
//! the pipeline the scenario's start line runs (pipeB, deploy.yml, acme/app) on `main`, that
//! took these durations: the history a wait plans its polls from (with
//! `FAKE_CI_BUILD_SECONDS`, the only one: GitLab's seeded success on main is left out).
//!
//! `fake-ci schedule [--interval SECONDS] MINUTES…` serves nothing: it replays the polling
//! loop's schedule (`cirelay::wait::replay`, the shipped code on a clock of its own) for
//! builds whose history says they take that many minutes, on their usual time or off it,
//! and prints one line per case, tab-separated: minutes, case, the growing schedule's
//! requests and delay (from the build's end to the poll that sees it, seconds), then the
//! planned schedule's requests (median, max; the history read included) and delay (median,
//! max) over start times cut by 0.0 to 0.9 s to whole seconds.
//! `codefresh-log MB`: a new build runs for `FAKE_CI_LOG_SECONDS` (default 5) while its
//! engine writes MB megabytes of log, in 1 KiB lines; every 100th says when it was written
//! (`mark <unix nanoseconds>`), so a reader can tell how long a line took to reach it. Its
//! second line of stdout is the log database's URL.

// The fakes of the integration tests, and the server they run on. Only the server is taken
// from the tests' support (the fakes reach it as `crate::support`, as in the test binary),
// not the runner of the binary under test. The tests use every item of these files; this
// binary only starts fakes, so what it leaves unused is not dead code there.
#[allow(dead_code)]
#[path = "../it/support/server.rs"]
mod server;
mod support {
    pub use crate::server::{percent_decode, FakeServer, Recorded, Reply};
}
#[allow(dead_code)]
#[path = "../it/fakes/mod.rs"]
mod fakes;

use std::io::Write;
use std::time::Duration;

const USAGE: &str = "usage: fake-ci codeship-v1|codeship-v2|codefresh|gitlab [FINAL_STATUS] | fake-ci codefresh-log MB | fake-ci circleci | fake-ci github [ghes] | fake-ci schedule [--interval SECONDS] MINUTES…";

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

/// `FAKE_CI_BUILD_SECONDS`, and `FAKE_CI_HISTORY_SECONDS` given to `history`.
fn timed(history: impl FnOnce(&[u64])) -> Option<Duration> {
    if let Ok(list) = std::env::var("FAKE_CI_HISTORY_SECONDS") {
        let durations: Vec<u64> = list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        history(&durations);
    }
    env_number::<f64>("FAKE_CI_BUILD_SECONDS").map(Duration::from_secs_f64)
}

/// The middle of `values` (the mean of the two middle ones).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (values[(n - 1) / 2] + values[n / 2]) / 2.0
}

/// `fake-ci schedule`: see the top of this file.
fn schedule(args: &[String]) {
    let mut first = Duration::from_secs(5);
    let mut minutes = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let number = |w: Option<&String>| -> f64 {
            w.and_then(|w| w.parse().ok()).unwrap_or_else(|| {
                eprintln!("{USAGE}");
                std::process::exit(2)
            })
        };
        if word == "--interval" {
            first = Duration::from_secs_f64(number(words.next()));
        } else {
            minutes.push(number(Some(word)));
        }
    }
    for m in minutes {
        let usual = Duration::from_secs_f64(m * 60.0);
        let cases: [(&str, Duration); 5] = [
            ("on its usual time", usual),
            (
                "10 s shorter",
                usual.saturating_sub(Duration::from_secs(10)),
            ),
            ("10 s longer", usual + Duration::from_secs(10)),
            ("5 % shorter", usual.mul_f64(0.95)),
            ("5 % longer", usual.mul_f64(1.05)),
        ];
        for (case, lasts) in cases {
            let growing = cirelay::wait::replay(first, lasts, None, Duration::ZERO);
            let planned: Vec<_> = (0..10)
                .map(|tenths| {
                    let early = Duration::from_millis(100 * tenths);
                    cirelay::wait::replay(first, lasts, Some(usual), early)
                })
                .collect();
            let requests: Vec<f64> = planned.iter().map(|r| r.requests as f64).collect();
            let delays: Vec<f64> = planned.iter().map(|r| r.delay.as_secs_f64()).collect();
            println!(
                "{m}\t{case}\t{}\t{:.2}\t{}\t{}\t{:.2}\t{:.2}",
                growing.requests,
                growing.delay.as_secs_f64(),
                median(requests.clone()),
                requests.iter().copied().fold(0.0, f64::max),
                median(delays.clone()),
                delays.iter().copied().fold(0.0, f64::max),
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lifetime = std::env::var("FAKE_CI_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    // A fake serves from its own thread until the process ends; its handle can go.
    let url = match args.first().map(String::as_str) {
        Some("schedule") => {
            schedule(&args[1..]);
            return;
        }
        Some("codeship-v1") => {
            fakes::codeship_v1::CodeshipV1::start(&arg(1, "success"))
                .server
                .url
        }
        Some("codeship-v2") => {
            fakes::codeship_v2::CodeshipV2::start(&arg(1, "success"))
                .server
                .url
        }
        Some("codefresh") => {
            let fake = fakes::codefresh::Codefresh::start(&arg(1, "success"));
            let lasts = timed(|d| fake.add_history("main", d));
            let mut state = fake.state.lock().unwrap();
            state.hold_new = env_number("FAKE_CI_HOLD_SECONDS").map(Duration::from_secs);
            state.new_builds_last = lasts;
            fake.server.url.clone()
        }
        Some("codefresh-log") => codefresh_log(arg(1, "10").parse().unwrap_or(10)),
        Some("circleci") => fakes::circleci::Circle::start().server.url,
        Some("gitlab") => {
            let fake = fakes::gitlab::Gitlab::start(&arg(1, "success"));
            if std::env::var_os("FAKE_CI_BUILD_SECONDS").is_some() {
                // The seeded pipeline that succeeded on main (five minutes, a month ago) is
                // history a wait would plan from: builds by the clock have only the
                // history FAKE_CI_HISTORY_SECONDS gives them, as on the other providers.
                let mut state = fake.state.lock().unwrap();
                state
                    .pipelines
                    .retain(|p| p.status != "success" || p.git_ref != "main");
            }
            let lasts = timed(|d| fake.add_history("main", d));
            fake.state.lock().unwrap().new_pipelines_last = lasts;
            fake.server.url.clone()
        }
        Some("github") => {
            // `ghes`: a server that refuses return_run_details, as GitHub Enterprise Server
            // did before it. FAKE_CI_LIST_DELAY_SECONDS: a new run is listed only that long
            // after its dispatch.
            let fake = fakes::github::GitHub::start(fakes::Ending::Succeeds);
            let lasts = timed(|d| fake.add_history(fakes::github::DEPLOY_ID, "main", d));
            {
                let mut state = fake.state.lock().unwrap();
                state.new_runs_last = lasts;
                if arg(1, "") == "ghes" {
                    state.refuse_run_details = Some(400);
                }
                state.list_delay_for = std::env::var("FAKE_CI_LIST_DELAY_SECONDS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .map(Duration::from_secs_f64);
            }
            fake.server.url
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    println!("{url}");
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs(lifetime));
}

/// A Codefresh fake whose new builds write `mb` MB of log while they run.
fn codefresh_log(mb: usize) -> String {
    use std::sync::Arc;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};
    let seconds: f64 = std::env::var("FAKE_CI_LOG_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let fake = fakes::codefresh::Codefresh::start("success");
    let db = fake.firebase.db.clone();
    let mut state = fake.state.lock().unwrap();
    state.lifecycle = vec!["running".into(), "success".into()];
    // The build ends a little after its last line.
    state.hold_new = Some(Duration::from_secs_f64(seconds + 1.0));
    state.writes_log = Arc::new(move |d, progress, status| {
        if status != "running" {
            return;
        }
        d.set(
            &[progress, "steps", "build"],
            serde_json::json!({"name": "build", "status": "running", "creationTimeStamp": 1}),
        );
        let (db, progress) = (db.clone(), progress.to_string());
        std::thread::spawn(move || {
            let lines = mb * 1024;
            let began = Instant::now();
            let filler = "x".repeat(1000);
            for n in 0..lines {
                // Evenly over the run: line n is due at n/lines of it.
                let due = Duration::from_secs_f64(seconds * n as f64 / lines as f64);
                if let Some(wait) = due.checked_sub(began.elapsed()) {
                    std::thread::sleep(wait);
                }
                let text = if n % 100 == 0 {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    format!("mark {} {filler:.990}\r\n", now.as_nanos())
                } else {
                    format!("line {n:08} {filler:.1008}\r\n")
                };
                db.lock().unwrap().push(
                    &[&progress, "steps", "build", "logs"],
                    serde_json::json!(text),
                );
            }
            let mut d = db.lock().unwrap();
            d.set(
                &[&progress, "steps", "build", "status"],
                serde_json::json!("success"),
            );
            d.set(&[&progress, "status"], serde_json::json!("success"));
        });
    });
    drop(state);
    format!("{}\n{}", fake.server.url, fake.firebase.server.url)
}
