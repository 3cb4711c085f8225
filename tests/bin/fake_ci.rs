//! The project's fake CI as a standalone process:
//! `cargo run --features fake-ci --bin fake-ci -- SCENARIO`.
//! Prints the fake's base URL on the first line of stdout, then serves until killed or until
//! `FAKE_CI_SECONDS` (default 600) pass, so a forgotten one stops by itself.
//! `FAKE_CI_HOLD_SECONDS` (codefresh): new builds stay in their first status this long, so a
//! wait can be watched polling a build that keeps running.
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

const USAGE: &str = "usage: fake-ci codeship-v1|codeship-v2|codefresh|gitlab [FINAL_STATUS] | fake-ci codefresh-log MB | fake-ci circleci | fake-ci github [ghes]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lifetime = std::env::var("FAKE_CI_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    // A fake serves from its own thread until the process ends; its handle can go.
    let url = match args.first().map(String::as_str) {
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
            fake.state.lock().unwrap().hold_new = std::env::var("FAKE_CI_HOLD_SECONDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs);
            fake.server.url
        }
        Some("codefresh-log") => codefresh_log(arg(1, "10").parse().unwrap_or(10)),
        Some("circleci") => fakes::circleci::Circle::start().server.url,
        Some("gitlab") => fakes::gitlab::Gitlab::start(&arg(1, "success")).server.url,
        Some("github") => {
            // `ghes`: a server that refuses return_run_details, as GitHub Enterprise Server
            // did before it. FAKE_CI_LIST_DELAY_SECONDS: a new run is listed only that long
            // after its dispatch.
            let fake = fakes::github::GitHub::start(fakes::Ending::Succeeds);
            {
                let mut state = fake.state.lock().unwrap();
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
