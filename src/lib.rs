//! cirelay: trigger, wait on, stop and restart builds on Codeship, Codefresh and CircleCI
//! from inside another CI job. `main.rs` only picks the personality and the exit code.

pub mod circleci;
pub mod cli;
pub mod codefresh;
pub mod codeship;
pub mod error;
pub mod http;
pub mod output;
pub mod wait;

use cli::{Command, Globals};
use error::Result;
use http::Http;
use output::{Output, Report};
use wait::WaitConfig;

/// What every provider operation gets: the HTTP layer, the waiting rules and the output.
pub struct Ctx {
    pub http: Http,
    pub wait: WaitConfig,
    pub out: Output,
}

impl Ctx {
    pub fn new(globals: &Globals) -> Result<Self> {
        Ok(Ctx {
            http: Http::new(globals.request_timeout, globals.verbose, globals.dry_run)?,
            wait: WaitConfig {
                timeout: globals.timeout,
                interval: globals.interval,
            },
            out: Output {
                mode: globals.output,
            },
        })
    }
}

/// Runs one parsed command; JSON mode prints its report at the end.
pub fn execute(globals: &Globals, command: Command) -> Result<Report> {
    let ctx = Ctx::new(globals)?;
    let report = match command {
        Command::Codeship(c) => codeship::run(&ctx, c)?,
        Command::Codefresh(c) => codefresh::run(&ctx, c)?,
        Command::Circleci(c) => circleci::run(&ctx, c)?,
    };
    ctx.out.finish(&report);
    Ok(report)
}
