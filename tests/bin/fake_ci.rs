//! The project's fake CI as a standalone process:
//! `cargo run --features fake-ci --bin fake-ci -- SCENARIO`.
//! Prints the fake's base URL on the first line of stdout, then serves until killed or until
//! `FAKE_CI_SECONDS` (default 600) pass, so a forgotten one stops by itself.
//! `FAKE_CI_HOLD_SECONDS` (codefresh): new builds stay in their first status this long, so a
//! wait can be watched polling a build that keeps running.

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

const USAGE: &str =
    "usage: fake-ci codeship-v1|codeship-v2|codefresh [FINAL_STATUS] | fake-ci circleci";

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
        Some("circleci") => fakes::circleci::Circle::start().server.url,
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    println!("{url}");
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs(lifetime));
}
