//! cirelay: trigger, wait on, stop and restart builds on other CI systems from inside a CI
//! job. `main.rs` only picks the personality and the exit code.
//!
//! Layers, each using only those below it: `cli` (flags as data, parsing, help) and
//! `provider` (the seam and the registry) → `lifecycle` (every verb, once) → one folder per
//! provider → `build` and `wait` (what a build is, the one polling loop) → `output`
//! (printing, CI exports) → `http` (the one HTTP layer) → `secrets`, `sanitize`, `url`,
//! `time`, `pace`, `error`.

pub mod abort;
pub mod build;
pub mod circleci;
pub mod cli;
pub mod codefresh;
pub mod codeship;
pub mod document;
pub mod error;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod lifecycle;
pub mod listing;
pub mod logs;
pub mod output;
pub mod pace;
pub mod provider;
pub mod remote;
pub mod sanitize;
pub mod secrets;
pub mod several;
pub mod time;
pub mod url;
pub mod wait;
pub mod yaml;

/// Entry points for the fuzz targets in `tests/fuzz`: each runs the code that reads a
/// provider's answers on arbitrary text, with no network and no `Ctx`. Built only for
/// fuzzing (`cargo fuzz` sets `--cfg fuzzing`), so none of it ships.
#[cfg(fuzzing)]
pub mod fuzzing {
    use crate::http::{self, Response};

    pub fn codeship_v1_answer(body: &str) {
        crate::codeship::v1::read_answers(body);
    }

    pub fn codeship_v2_answer(body: &str) {
        crate::codeship::v2::read_answers(body);
    }

    pub fn codefresh_answer(body: &str) {
        crate::codefresh::read_answers(body);
    }

    pub fn circleci_answer(body: &str) {
        crate::circleci::read_answers(body);
    }

    /// A Codefresh log as cirelay reads it: a Firebase event stream, a query's entries, an
    /// archived log.
    pub fn codefresh_log(body: &[u8]) {
        crate::codefresh::read_log_answers(body);
    }

    /// A CircleCI step's output, made into lines and cleaned as they are printed; returns
    /// those lines.
    pub fn circleci_output(body: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut chunks = crate::logs::Chunks::default();
        let _ = crate::circleci::read_output(&mut { body }, &mut |m| {
            chunks.push(m, |l| lines.push(crate::logs::log_line(l)))
        });
        chunks.flush(|l| lines.push(crate::logs::log_line(l)));
        lines
    }

    /// A spec file as `-f FILE` reads it: a Codefresh pipeline or project spec, a Codeship
    /// project spec, and `~/.cfconfig` (all YAML, parsed by the one YAML crate).
    pub fn spec_file(text: &str) {
        crate::codefresh::read_spec(text);
        let _ = crate::codeship::v2::parse_project_spec(text);
    }

    pub fn github_answer(body: &str) {
        crate::github::read_answers(body);
    }

    /// A GitLab answer, and the same text as a job trace split into printed lines.
    pub fn gitlab_answer(body: &str) {
        crate::gitlab::read_answers(body);
        crate::gitlab::read_trace(body.as_bytes());
    }

    /// Any answer as the HTTP layer reads it: rate limit, pause asked for, error line.
    pub fn http_answer(status: u16, headers: &[(&str, &str)], body: &str) {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        http::read_answer(&Response::received(
            status,
            headers,
            body.to_string(),
            "GET /x",
        ));
    }

    /// Redacts `text` with `secrets` as the only registered secrets.
    pub fn redact_with(secrets: &[&str], text: &str) -> String {
        crate::secrets::forget_secrets();
        for s in secrets {
            crate::secrets::register_secret(s);
        }
        crate::secrets::redact(text)
    }
}

/// A lock a panicking thread left poisoned still guards its data: cirelay's locks hold
/// caches, registries and queues, which a panic cannot leave half-written.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

use cli::{Globals, Invocation};
use error::Result;
use http::Http;
use output::{Output, Report};
use wait::WaitConfig;

/// What every provider operation gets: the HTTP layer, the waiting rules and the output.
pub struct Ctx {
    pub http: Http,
    pub wait: WaitConfig,
    pub out: Output,
    /// `--cancel-on-abort`: a signal while waiting cancels the builds this process started.
    pub cancel_on_abort: bool,
}

impl Ctx {
    pub fn new(globals: &Globals) -> Result<Self> {
        let deadline = globals.timeout.map(|t| std::time::Instant::now() + t);
        Ok(Ctx {
            http: Http::new(
                globals.request_timeout,
                globals.verbose,
                globals.dry_run,
                deadline,
            )?,
            wait: WaitConfig {
                deadline,
                timeout: globals.timeout,
                interval: globals.interval,
            },
            out: Output::new(globals.output),
            cancel_on_abort: globals.cancel_on_abort,
        })
    }
}

/// Runs one parsed command; JSON mode prints its report at the end.
pub fn execute(globals: &Globals, invocation: Invocation) -> Result<Report> {
    let ctx = Ctx::new(globals)?;
    let ran = (invocation.run)(&ctx, invocation.command, &invocation.args);
    match &ran {
        Ok(report) => ctx.out.finish(report),
        Err(_) => ctx.out.finish_after_error(),
    }
    ran
}
