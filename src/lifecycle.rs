//! The one lifecycle every provider's verbs run through: check the arguments, read the
//! credentials, then start / restart / read / wait / stop — announcing a started build,
//! exporting it, refusing to restart the build the step runs in, waiting, and reporting —
//! the same way for every provider. A provider only says how each step is done against its
//! API (see [`Provider`]).

use crate::build::{Build, Stopped, Tracked};
use crate::cli::args::Args;
use crate::error::{Error, Result};
use crate::http::CLEANUP_BUDGET;
use crate::output::{self, Outcome, Report};
use crate::provider::{Command, Provider, Verb};
use crate::wait::{self, Waited};
use crate::Ctx;

pub fn run<P: Provider>(ctx: &Ctx, command: &Command, args: &Args) -> Result<Report> {
    match command.verb {
        Verb::Own(handler) => handler(ctx, args),
        Verb::Start => {
            let request = P::start_request(args)?;
            let api = P::connect(ctx)?;
            let started = api.start(ctx, &request)?;
            let wait = !args.on("--detach");
            let terminate = args.on("--terminate-on-timeout");
            announce_and_follow(ctx, command, &api, started, wait, terminate)
        }
        Verb::RestartLatest => {
            let scope = P::scope(args)?;
            let api = P::connect(ctx)?;
            let (newest, build) = api.newest(ctx, &scope)?;
            if !args.on("--force") {
                refuse_own_build::<P>(&scope, &build)?;
            }
            let restarted = api.restart(ctx, &scope, newest)?;
            announce_and_follow(ctx, command, &api, restarted, args.on("--wait"), false)
        }
        Verb::Status => {
            let reference = P::build_ref(first(args))?;
            let api = P::connect(ctx)?;
            let reading = api.read(ctx, &reference)?;
            for line in &reading.lines {
                output::event(line);
            }
            ctx.out.text(&reading.build.status);
            let result = Outcome::of(reading.build.state);
            Ok(report::<P>(command, &reading.build, result))
        }
        Verb::Wait => {
            let reference = P::build_ref(first(args))?;
            let api = P::connect(ctx)?;
            let tracked = api.watch(ctx, &reference)?;
            if let Some(line) = &tracked.line {
                output::event(line);
            }
            let report = report::<P>(command, &tracked.build, Outcome::Started);
            follow(ctx, &api, tracked, report, false)
        }
        Verb::Stop => {
            let reference = P::build_ref(first(args))?;
            let api = P::connect(ctx)?;
            let (build, stopped) = api.stop(ctx, &reference)?;
            let mut report = report::<P>(command, &build, Outcome::Success);
            match stopped {
                Stopped::Asked { status, line } => {
                    if let Some(line) = line {
                        output::event(line);
                    }
                    report.status = status;
                }
                Stopped::AlreadyFinished { status, why } => {
                    output::event(match why {
                        Some(why) => format!("nothing to {}: {why}", command.name),
                        None => format!(
                            "{} already finished ({status}); nothing to {}",
                            build.label, command.name
                        ),
                    });
                    report.status = status;
                }
            }
            Ok(report)
        }
    }
}

/// The first positional argument: the command's definition makes it required.
fn first(args: &Args) -> &str {
    args.positional(0).unwrap_or_default()
}

fn report<P: Provider>(command: &Command, build: &Build, result: Outcome) -> Report {
    Report::of(P::NAME, command.name, build, result)
}

/// Restarting the build this step runs in would restart this step, again and again.
fn refuse_own_build<P: Provider>(scope: &P::Scope, newest: &Build) -> Result<()> {
    let Some((var, own)) = P::own_build() else {
        return Ok(());
    };
    if !newest.is(&own) {
        return Ok(());
    }
    let instead = P::instead_of_own_restart(scope)
        .map(|i| format!("; {i}"))
        .unwrap_or_default();
    Err(Error::usage(format!(
        "the newest build of {scope} is the one running this step ({var}={own}); restarting it would loop — pass --force to restart it anyway{instead}"
    )))
}

/// A build was started or restarted: its id goes to stdout and the CI's export files at
/// once, its link to the log; then it is followed when asked.
fn announce_and_follow<P: Provider>(
    ctx: &Ctx,
    command: &Command,
    api: &P,
    tracked: Tracked<'_, P::BuildRef>,
    wait: bool,
    terminate_on_timeout: bool,
) -> Result<Report> {
    let report = report::<P>(command, &tracked.build, Outcome::Started);
    ctx.out.started(&report)?;
    if let Some(line) = &tracked.line {
        output::event(line);
    }
    if !wait {
        return Ok(report);
    }
    follow(ctx, api, tracked, report, terminate_on_timeout)
}

/// Polls until the build finishes or `--timeout`; the report's status and result say how
/// it ended. With `terminate_on_timeout` a build still running then is stopped.
fn follow<P: Provider>(
    ctx: &Ctx,
    api: &P,
    mut tracked: Tracked<'_, P::BuildRef>,
    mut report: Report,
    terminate_on_timeout: bool,
) -> Result<Report> {
    let watch = &mut tracked.watch;
    let waited = wait::until_finished(ctx.wait, &tracked.build.label, || watch.poll(ctx))?;
    let timed_out = matches!(waited, Waited::TimedOut(_));
    let (seen, result) = waited.outcome();
    report.status = tracked.watch.status_word(&seen);
    report.result = result;
    if timed_out && terminate_on_timeout {
        stop_after_timeout(ctx, api, &tracked, &mut report);
    }
    Ok(report)
}

/// `--terminate-on-timeout`: the timeout stays the result (exit 3); a stop that fails is
/// said on its own line, since the build then keeps running.
fn stop_after_timeout<P: Provider>(
    ctx: &Ctx,
    api: &P,
    tracked: &Tracked<'_, P::BuildRef>,
    report: &mut Report,
) {
    // --timeout has passed: the stop gets retries of its own.
    ctx.http.extend_deadline(CLEANUP_BUDGET);
    let label = &tracked.build.label;
    match api.stop(ctx, &tracked.reference) {
        Ok((_, Stopped::Asked { status, .. })) => {
            output::event(format!("terminating {label} (--terminate-on-timeout)"));
            report.status = status;
        }
        Ok((_, Stopped::AlreadyFinished { status, .. })) => {
            output::event(format!(
                "{label} finished ({status}) just as cirelay gave up; nothing to terminate"
            ));
            report.status = status;
        }
        Err(e) => output::event(format!(
            "warning: could not terminate {label} after --timeout: {e} — it may still be running: {}",
            tracked.build.url.as_deref().unwrap_or("")
        )),
    }
}
