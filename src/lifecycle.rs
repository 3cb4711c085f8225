//! The one lifecycle every provider's verbs run through: check the arguments, read the
//! credentials, then start / restart / read / wait / stop — announcing a started build,
//! exporting it, refusing to restart the build the step runs in, waiting, and reporting —
//! the same way for every provider. A provider only says how each step is done against its
//! API (see [`Provider`]).

use std::time::Duration;

use crate::build::{Build, Stopped, Tracked, Watch};
use crate::cli::args::Args;
use crate::error::{Error, Result};
use crate::http::CLEANUP_BUDGET;
use crate::listing::{self, Filter};
use crate::logs::{self, LogMode, Logs, Printer, DEFAULT_LOG_LINES};
use crate::output::{self, Outcome, Report};
use crate::provider::{Command, Provider, Verb};
use crate::wait::{self, Observation, Waited};
use crate::Ctx;

pub fn run<P: Provider>(ctx: &Ctx, command: &Command, args: &Args) -> Result<Report> {
    match command.verb {
        Verb::Own(handler) => handler(ctx, args),
        Verb::Start => {
            let ((request, logs), api) = together(
                together(P::start_request(args), LogWanted::from_args::<P>(args)),
                P::connect(ctx),
            )?;
            let started = api.start(ctx, &request)?;
            let wait = !args.on("--detach");
            let terminate = args.on("--terminate-on-timeout");
            announce_and_follow(ctx, command, &api, started, wait.then_some(logs), terminate)
        }
        Verb::RestartLatest => {
            let ((scope, logs), api) = together(
                together(P::scope(args), LogWanted::from_args::<P>(args)),
                P::connect(ctx),
            )?;
            let (newest, build) = api.newest(ctx, &scope)?;
            if !args.on("--force") {
                refuse_own_build::<P>(&scope, &build)?;
            }
            let restarted = api.restart(ctx, &scope, newest)?;
            let wait = args.on("--wait").then_some(logs);
            announce_and_follow(ctx, command, &api, restarted, wait, false)
        }
        Verb::Status => {
            let (reference, api) = together(P::build_ref(first(args)), P::connect(ctx))?;
            let reading = api.read(ctx, &reference)?;
            for line in &reading.lines {
                output::event(line);
            }
            ctx.out.text(&reading.build.status);
            let result = Outcome::of(reading.build.state);
            Ok(report::<P>(command, &reading.build, result))
        }
        Verb::Wait => {
            let ((reference, logs), api) = together(
                together(P::build_ref(first(args)), LogWanted::from_args::<P>(args)),
                P::connect(ctx),
            )?;
            let tracked = api.watch(ctx, &reference)?;
            if let Some(line) = &tracked.line {
                output::event(line);
            }
            let report = report::<P>(command, &tracked.build, Outcome::Started);
            let ending = Ending {
                started: false,
                terminate_on_timeout: false,
            };
            follow(ctx, &api, tracked, report, logs, ending)
        }
        Verb::Builds => {
            let parsed = together(P::list_scope(args), Filter::from_args(args));
            let api = match &parsed {
                Ok((scope, _)) => P::connect_for_list(ctx, scope),
                Err(_) => P::connect(ctx),
            };
            let ((scope, filter), api) = together(parsed, api)?;
            let rows = api.builds(ctx, &scope, &filter)?;
            ctx.out.answer(&listing::lines(ctx.out.mode, &rows));
            let status = format!("{} builds", rows.len());
            Ok(Report::resource(P::NAME, command.name, "", None, status))
        }
        Verb::Logs => {
            let ((reference, lines), api) = together(
                together(P::build_ref(first(args)), log_lines(args)),
                P::connect(ctx),
            )?;
            let reading = api.read(ctx, &reference)?;
            let build = &reading.build;
            let mut printer = Printer::default();
            // A log that cannot be read is a warning: the command exits like `status`.
            let printed = match api.logs(ctx, &reference) {
                Ok(None) => {
                    no_log_api::<P>(build);
                    Ok(())
                }
                Ok(Some(mut log)) if args.on("--failed") => {
                    log.failed(ctx, &mut printer, lines.unwrap_or(DEFAULT_LOG_LINES))
                }
                Ok(Some(mut log)) => log.all(ctx, &mut printer, lines),
                Err(e) => Err(e),
            };
            if let Err(e) = printed {
                logs::warn_unreadable(&build.label, &e);
            }
            Ok(report::<P>(command, build, Outcome::of(build.state)))
        }
        Verb::Stop => {
            let (reference, api) = together(P::build_ref(first(args)), P::connect(ctx))?;
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

/// Both checks' results, or every problem they found: a user fixing a step's settings
/// sees them all at once, not one per run.
fn together<A, B>(a: Result<A>, b: Result<B>) -> Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(Error::Usage(a)), Err(Error::Usage(b))) => Err(Error::Usage(format!("{a}; and {b}"))),
        (Err(e), _) | (_, Err(e)) => Err(e),
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
/// once, its link to the log; then, when `wait` says how to show its log, it is followed.
fn announce_and_follow<P: Provider>(
    ctx: &Ctx,
    command: &Command,
    api: &P,
    tracked: Tracked<'_, P::BuildRef>,
    wait: Option<LogWanted>,
    terminate_on_timeout: bool,
) -> Result<Report> {
    let report = report::<P>(command, &tracked.build, Outcome::Started);
    ctx.out.started(&report)?;
    if let Some(line) = &tracked.line {
        output::event(line);
    }
    let ending = Ending {
        started: true,
        terminate_on_timeout,
    };
    match wait {
        Some(logs) => follow(ctx, api, tracked, report, logs, ending),
        None => Ok(report),
    }
}

/// What `--logs` and `--log-lines` ask for.
#[derive(Debug, Clone, Copy)]
pub struct LogWanted {
    pub mode: LogMode,
    pub lines: usize,
}

impl LogWanted {
    fn from_args<P: Provider>(args: &Args) -> Result<Self> {
        Self::read(args, P::DEFAULT_LOGS)
    }

    /// `--logs` (else `CIRELAY_LOGS`, else `default`) and `--log-lines`; also for a
    /// provider's own commands that wait.
    pub fn read(args: &Args, default: LogMode) -> Result<Self> {
        let mode = match (args.value("--logs"), std::env::var("CIRELAY_LOGS")) {
            (Some(raw), _) => LogMode::parse(raw, "--logs")?,
            (None, Ok(raw)) if !raw.trim().is_empty() => LogMode::parse(&raw, "CIRELAY_LOGS")?,
            _ => default,
        };
        let lines = log_lines(args)?.unwrap_or(DEFAULT_LOG_LINES);
        Ok(LogWanted { mode, lines })
    }
}

pub(crate) fn log_lines(args: &Args) -> Result<Option<usize>> {
    args.value("--log-lines")
        .map(|raw| {
            raw.trim()
                .parse()
                .map_err(|_| Error::usage(format!("--log-lines: `{raw}` is not a number of lines")))
        })
        .transpose()
}

fn no_log_api<P: Provider>(build: &Build) {
    output::event(format!(
        "{} has no log API: see {}",
        P::NAME,
        build.url.as_deref().unwrap_or("the build's page")
    ));
}

/// What becomes of a followed build when the wait ends early.
#[derive(Debug, Clone, Copy)]
struct Ending {
    /// This process started it: it may cancel it when the calling job is cancelled.
    started: bool,
    terminate_on_timeout: bool,
}

/// Polls until the build finishes or `--timeout`; the report's status and result say how
/// it ended. The build's log is shown as `logs` asks; a log that cannot be read is one
/// warning line and changes nothing else. With `terminate_on_timeout` a build still
/// running then is stopped; a signal ends the wait (see [`after_abort`]).
fn follow<P: Provider>(
    ctx: &Ctx,
    api: &P,
    mut tracked: Tracked<'_, P::BuildRef>,
    mut report: Report,
    wanted: LogWanted,
    ending: Ending,
) -> Result<Report> {
    crate::abort::watch()?;
    let began = std::time::Instant::now();
    let label = tracked.build.label.clone();
    let mut said = false;
    let log = match wanted.mode {
        LogMode::None => None,
        _ => match api.logs(ctx, &tracked.reference) {
            Ok(log) => log,
            Err(e) => {
                logs::warn_unreadable(&label, &e);
                said = true;
                None
            }
        },
    };
    let build = tracked.build.clone();
    let waited = wait_showing_log(ctx, &label, tracked.watch.as_mut(), log, wanted, || {
        // A log that could not be opened was said already.
        if !said {
            no_log_api::<P>(&build)
        }
    });
    let waited = match waited {
        Err(Error::Aborted(signal)) => {
            return Err(after_abort(ctx, api, &tracked, ending, signal));
        }
        other => other?,
    };
    let timed_out = matches!(waited, Waited::TimedOut(_));
    let (seen, result) = waited.outcome();
    report.status = tracked.watch.status_word(&seen);
    report.result = result;
    output::step_summary(&[output::Summarized {
        provider: P::NAME,
        build: label.clone(),
        result,
        duration: began.elapsed(),
        url: tracked.build.url.clone(),
    }]);
    if timed_out && ending.terminate_on_timeout {
        stop_after_timeout(ctx, api, &tracked, &mut report);
    }
    Ok(report)
}

/// Polls `watch` until the build finishes or `--timeout`, showing `log` as `wanted` asks:
/// followed while the build runs (`follow`), or, kept for after, the failed steps' last
/// lines once it failed (`failed`; `no_log` says so when there is no log to read). For the
/// lifecycle and for a provider's own commands that wait.
pub fn wait_showing_log<'a>(
    ctx: &Ctx,
    label: &str,
    watch: &mut (dyn Watch + Send + 'a),
    log: Option<Box<dyn Logs + Send + 'a>>,
    wanted: LogWanted,
    no_log: impl FnOnce(),
) -> Result<Waited> {
    let (followed, kept) = match wanted.mode {
        LogMode::Follow => (log, None),
        _ => (None, log),
    };
    let mut following = Following {
        watch,
        log: followed,
        printer: Printer::default(),
        label,
    };
    let waited = wait::until_finished(ctx, ctx.wait, label, &mut following)?;
    following.finish(ctx);
    let failed =
        matches!(&waited, Waited::Finished(seen) if seen.state == crate::wait::BuildState::Failed);
    if wanted.mode == LogMode::Failed && failed {
        match kept {
            Some(mut log) => {
                let mut printer = Printer::default();
                if let Err(e) = log.failed(ctx, &mut printer, wanted.lines) {
                    logs::warn_unreadable(label, &e);
                }
            }
            None => no_log(),
        }
    }
    Ok(waited)
}

/// How long cancelling takes at most once a signal came: Docker's stop gives about 10 s
/// before SIGKILL.
pub(crate) const ABORT_BUDGET: Duration = Duration::from_secs(8);

/// The calling job was cancelled while waiting: with `--cancel-on-abort` a build this
/// process started is cancelled, else its link is printed, for someone to decide.
fn after_abort<P: Provider>(
    ctx: &Ctx,
    api: &P,
    tracked: &Tracked<'_, P::BuildRef>,
    ending: Ending,
    signal: i32,
) -> Error {
    let label = &tracked.build.label;
    let url = tracked.build.url.as_deref().unwrap_or("");
    let why = crate::abort::name(signal);
    if ctx.cancel_on_abort && ending.started {
        ctx.http.extend_deadline(ABORT_BUDGET);
        match api.stop(ctx, &tracked.reference) {
            Ok((_, Stopped::Asked { .. })) => {
                output::event(format!("{why}: canceled {label} (--cancel-on-abort) {url}"))
            }
            Ok((_, Stopped::AlreadyFinished { status, .. })) => output::event(format!(
                "{why}: {label} had finished ({status}); nothing to cancel"
            )),
            Err(e) => output::event(format!(
                "{why}: could not cancel {label}: {e} — it may still be running: {url}"
            )),
        }
    } else {
        output::event(format!("{why}: {label} is still running: {url}"));
    }
    Error::Aborted(signal)
}

/// A build's watch that also follows its log (`--logs follow`): what the log gained is
/// printed after each poll, and a log that streams is read during the pauses.
struct Following<'w, 'a> {
    watch: &'w mut (dyn Watch + Send + 'a),
    log: Option<Box<dyn Logs + Send + 'a>>,
    printer: Printer,
    label: &'w str,
}

impl Following<'_, '_> {
    /// The build finished: what the log still holds is printed.
    fn finish(mut self, ctx: &Ctx) {
        self.read(ctx, |log, ctx, printer| log.finish(ctx, printer));
    }

    fn read(
        &mut self,
        ctx: &Ctx,
        step: impl FnOnce(&mut dyn Logs, &Ctx, &mut Printer) -> Result<()>,
    ) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        if let Err(e) = step(log.as_mut(), ctx, &mut self.printer) {
            logs::warn_unreadable(self.label, &e);
            self.log = None;
        }
    }
}

impl Watch for Following<'_, '_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let seen = self.watch.poll(ctx)?;
        if !seen.state.is_finished() {
            self.read(ctx, |log, ctx, printer| log.follow(ctx, printer));
        }
        Ok(seen)
    }

    fn status_word(&self, last: &Observation) -> String {
        self.watch.status_word(last)
    }

    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        self.watch.plan(ctx)
    }

    fn pause(&mut self, ctx: &Ctx, pause: Duration) -> Result<()> {
        if self.log.is_none() {
            return self.watch.pause(ctx, pause);
        }
        let started = std::time::Instant::now();
        self.read(ctx, |log, ctx, printer| log.stream(ctx, printer, pause));
        // A stream that broke off leaves the rest of the pause to wait out.
        let left = pause.saturating_sub(started.elapsed());
        if !left.is_zero() && self.log.is_none() {
            self.watch.pause(ctx, left)?;
        }
        Ok(())
    }
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
