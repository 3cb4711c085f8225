//! Builds of any providers at once: `cirelay status|wait|cancel|logs REF…` reads each
//! build's provider from its reference (a web address, or `PROVIDER:ID`), and `cirelay
//! fan-out PLAN` starts every build a plan lists, then waits on all of them.
//!
//! One polling loop follows them all: each build is polled by its own provider's code on
//! its own schedule (so each provider's rate limits are respected separately), the polls of
//! one round run in a small bounded pool of threads (never one per build), a line is
//! printed per change (`[REF] status`), and a summary table when all have finished.

use std::io::Read as _;
use std::time::{Duration, Instant};

use crate::build::Stopped;
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{FAILED_ONLY, LOGS, LOG_LINES};
use crate::error::{Error, Result};
use crate::lifecycle::LogWanted;
use crate::logs::LogMode;
use crate::output::{self, Outcome, Report, Summarized};
use crate::provider::{self, Command, Entry, Verb};
use crate::remote::{Prepared, Remote};
use crate::wait::{BuildState, Observation, Schedule};
use crate::Ctx;

/// Polls of one round that run at once, at most.
const POOL: usize = 8;

pub const COMMANDS: &[Command] = &[
    Command {
        name: "status",
        args: &[Arg::many("REF")],
        flags: &[],
        env: &[],
        about: "print the status of builds of any providers",
        details: "Reads each build (REF: its web address, or PROVIDER:ID) and prints its status word on\nstdout, one line per REF in the order given; exits 1 when one failed, else 2 when one was\nterminated, else 0.",
        example: "cirelay status https://github.com/acme/app/actions/runs/42 codefresh:5f1a2b3c4d5e6f7a8b9c0d1e",
        verb: Verb::Own(status),
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[Arg::many("REF")],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "wait on builds of any providers at once",
        details: "Follows every build until all have finished: a line per change, then a summary table on\nstderr. Exit: any failed → 1, else any terminated → 2, else any timed out → 3, else 0.\nLogs are not followed live (several builds' lines would interleave): --logs failed (the\ndefault) shows a failed build's failed steps once it failed, --logs follow each build's log once\nit finished.",
        example: "cirelay wait \"$CIRELAY_BUILD_URL\" gitlab:acme/app/1234",
        verb: Verb::Own(wait),
        timeout_in_minutes: false,
    },
    Command {
        name: "cancel",
        args: &[Arg::many("REF")],
        flags: &[],
        env: &[],
        about: "stop builds of any providers",
        details: "Stops each build that is still running; finished ones are left alone.",
        example: "cirelay cancel circleci:5034460f-c7c4-4c43-9457-de07e2029e7b",
        verb: Verb::Own(cancel),
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[Arg::many("REF")],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print the logs of builds of any providers",
        details: "Prints each build's log on stderr, one after the other.",
        example: "cirelay logs --failed \"$CIRELAY_BUILD_URL\"",
        verb: Verb::Own(logs),
        timeout_in_minutes: false,
    },
    Command {
        name: "fan-out",
        args: &[Arg::required("PLAN")],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "start every build a plan lists, then wait on all of them",
        details: "PLAN is a JSON file (or - for stdin): {\"builds\": [ARGV, …]}, each ARGV the words of one trigger\ncommand as typed, e.g. [\"circleci\", \"trigger\", \"gh/acme/api\", \"--branch\", \"main\"]. Every ARGV is\nchecked before anything is sent; a start that fails does not leave the others unwatched.\n--logs and --log-lines work as for wait, for every build of the plan.",
        example: "cirelay fan-out plan.json --cancel-on-abort",
        verb: Verb::Own(fan_out),
        timeout_in_minutes: false,
    },
];

/// The forms a REF may take, for the error that names none of them.
fn forms() -> String {
    let prefixes: Vec<String> = provider::PROVIDERS
        .iter()
        .map(|p| format!("{}:ID", p.name))
        .collect();
    format!(
        "a build's web address (as in $CIRELAY_BUILD_URL) or PROVIDER:ID ({})",
        prefixes.join(", ")
    )
}

/// The provider a REF names, and the REF as that provider takes it.
pub fn provider_of(raw: &str) -> Result<(&'static Entry, String)> {
    let raw = raw.trim();
    if let Some((word, rest)) = raw.split_once(':') {
        if let Some(p) = provider::find(word) {
            return Ok((p, rest.to_string()));
        }
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        if let Some(p) = provider::PROVIDERS.iter().find(|p| (p.claims)(raw)) {
            return Ok((p, raw.to_string()));
        }
        return Err(Error::usage(format!(
            "`{raw}` is the address of no provider cirelay knows (or of a host none of CF_URL, CIRCLECI_HOST, CODESHIP_API_URL, GITHUB_SERVER_URL, GITLAB_API_URL names): give {}",
            forms()
        )));
    }
    Err(Error::usage(format!(
        "`{raw}` does not say which CI system it is on: give {}",
        forms()
    )))
}

/// One build of the command line, as far as it got.
struct Slot {
    /// As given (the REF, or the plan's words), for the lines that name it.
    name: String,
    remote: Option<Box<dyn Remote>>,
    /// Why it could not be started or read.
    error: Option<Error>,
    schedule: Schedule,
    /// Whether its history was asked for, once after its first poll.
    planned: bool,
    due: Instant,
    last: Option<String>,
    ended: Option<(Observation, Outcome)>,
    began: Instant,
    took: Duration,
    /// It finished, and its log is to be shown (as `--logs` asks) after this round.
    log_due: bool,
}

impl Slot {
    fn new(ctx: &Ctx, name: String, remote: Result<Box<dyn Remote>>) -> Self {
        let now = Instant::now();
        let (remote, error) = match remote {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        Slot {
            name,
            remote,
            error,
            schedule: Schedule::new(ctx.wait.interval),
            planned: false,
            due: now,
            last: None,
            ended: None,
            began: now,
            took: Duration::ZERO,
            log_due: false,
        }
    }

    fn waiting(&self) -> bool {
        self.remote.is_some() && self.ended.is_none() && self.error.is_none()
    }

    /// It ended now, as `seen` says, with `result`.
    fn end(&mut self, seen: Observation, result: Outcome) {
        self.took = self.began.elapsed();
        self.ended = Some((seen, result));
    }

    /// `--timeout` passed while it was still going, last seen as [`Slot::last_status`].
    fn time_out(&mut self) {
        let status = self.last_status().to_string();
        self.end(
            Observation::new(BuildState::Running, status),
            Outcome::Timeout,
        );
    }

    fn last_status(&self) -> &str {
        self.last.as_deref().unwrap_or("unknown")
    }
}

/// Opens every REF; all are checked (form, provider, credentials) before anything is sent.
fn open_all(ctx: &Ctx, args: &Args) -> Result<Vec<Slot>> {
    let mut slots = Vec::new();
    for raw in &args.positionals {
        let (entry, reference) = provider_of(raw)?;
        let remote = (entry.open)(ctx, &reference)?;
        slots.push(Slot::new(ctx, raw.clone(), Ok(remote)));
    }
    Ok(slots)
}

/// Runs `each` for every slot it applies to, a few at a time.
fn in_parallel(
    slots: &mut [Slot],
    applies: impl Fn(&Slot) -> bool,
    each: impl Fn(&mut Slot) + Sync,
) {
    let mut chosen: Vec<&mut Slot> = slots.iter_mut().filter(|s| applies(s)).collect();
    let per_thread = chosen.len().div_ceil(POOL).max(1);
    std::thread::scope(|scope| {
        for chunk in chosen.chunks_mut(per_thread) {
            let each = &each;
            scope.spawn(move || {
                for slot in chunk {
                    each(slot);
                }
            });
        }
    });
}

fn status(ctx: &Ctx, args: &Args) -> Result<Report> {
    let mut slots = open_all(ctx, args)?;
    in_parallel(
        &mut slots,
        |_| true,
        |slot| {
            if let Some(remote) = slot.remote.as_mut() {
                match remote.read(ctx) {
                    Ok(reading) => {
                        for line in &reading.lines {
                            output::event(format!("[{}] {line}", slot.name));
                        }
                        let state = reading.build.state;
                        let seen = Observation::new(state, reading.build.status.clone());
                        slot.ended = Some((seen, Outcome::of(state)));
                    }
                    Err(e) => slot.error = Some(e),
                }
            }
        },
    );
    for slot in &slots {
        let word = match (&slot.ended, &slot.error) {
            (Some((seen, _)), _) => seen.status.clone(),
            _ => "unknown".to_string(),
        };
        ctx.out.text(&word);
    }
    finish(ctx, "status", &slots, false)
}

fn cancel(ctx: &Ctx, args: &Args) -> Result<Report> {
    let mut slots = open_all(ctx, args)?;
    in_parallel(
        &mut slots,
        |_| true,
        |slot| {
            let Some(remote) = slot.remote.as_mut() else {
                return;
            };
            match remote.stop(ctx) {
                Ok(Stopped::Asked { status, line }) => {
                    if let Some(line) = line {
                        output::event(format!("[{}] {line}", slot.name));
                    }
                    slot.ended = Some((
                        Observation::new(BuildState::Success, status),
                        Outcome::Success,
                    ));
                }
                Ok(Stopped::AlreadyFinished { status, why }) => {
                    output::event(format!(
                        "[{}] nothing to cancel: {}",
                        slot.name,
                        why.unwrap_or_else(|| format!("it already finished ({status})"))
                    ));
                    slot.ended = Some((
                        Observation::new(BuildState::Success, status),
                        Outcome::Success,
                    ));
                }
                Err(e) => slot.error = Some(e),
            }
        },
    );
    finish(ctx, "cancel", &slots, false)
}

fn logs(ctx: &Ctx, args: &Args) -> Result<Report> {
    let mut slots = open_all(ctx, args)?;
    let lines = crate::lifecycle::log_lines(args)?;
    // One build's log after the other: interleaved lines would be unreadable.
    for slot in &mut slots {
        let Some(remote) = slot.remote.as_mut() else {
            continue;
        };
        output::event(format!("[{}] log:", slot.name));
        let result = remote.read(ctx).and_then(|r| {
            remote
                .print_logs(ctx, args.on("--failed"), lines)
                .map(|_| r)
        });
        match result {
            Ok(reading) => {
                let state = reading.build.state;
                slot.ended = Some((
                    Observation::new(state, reading.build.status),
                    Outcome::of(state),
                ));
            }
            Err(e) => slot.error = Some(e),
        }
    }
    finish(ctx, "logs", &slots, false)
}

fn wait(ctx: &Ctx, args: &Args) -> Result<Report> {
    let logs = LogsWanted::from_args(args)?;
    let mut slots = open_all(ctx, args)?;
    follow_all(ctx, &mut slots, logs)?;
    finish(ctx, "wait", &slots, true)
}

/// A plan of `fan-out`.
#[derive(serde::Deserialize)]
struct Plan {
    builds: Vec<Vec<String>>,
}

fn read_plan(path: &str) -> Result<Plan> {
    let text = if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::usage(format!("fan-out: cannot read the plan from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("fan-out {path}: cannot read it: {e}")))?
    };
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "fan-out {path}: not a plan ({e}); write {{\"builds\": [[\"circleci\", \"trigger\", \"gh/acme/api\"], …]}}"
        ))
    })?;
    if plan.builds.is_empty() {
        return Err(Error::usage(format!(
            "fan-out {path}: the plan lists no builds"
        )));
    }
    Ok(plan)
}

fn fan_out(ctx: &Ctx, args: &Args) -> Result<Report> {
    let path = args.positional(0).unwrap_or("-");
    let logs = LogsWanted::from_args(args)?;
    let plan = read_plan(path)?;
    // Every start is checked (its words, its provider's checks, its credentials) before
    // the first is sent: a typo in the last line must not leave the first ones running.
    let mut prepared: Vec<(String, Box<dyn Prepared>)> = Vec::new();
    for (n, argv) in plan.builds.iter().enumerate() {
        let name = argv.join(" ");
        let words = argv.iter().map(std::ffi::OsString::from).collect();
        let invocation = match crate::cli::parse(crate::cli::Personality::CIRELAY, words) {
            Ok(crate::cli::Action::Run(_, invocation)) => invocation,
            Ok(_) => {
                return Err(Error::usage(format!(
                    "fan-out {path}: build {} (`{name}`) is not a command that starts a build",
                    n + 1
                )))
            }
            Err(e) => {
                return Err(Error::usage(format!(
                    "fan-out {path}: build {} (`{name}`): {e}",
                    n + 1
                )))
            }
        };
        if let Some(flag) = ["--logs", "--log-lines"]
            .into_iter()
            .find(|f| invocation.args.value(f).is_some())
        {
            return Err(Error::usage(format!(
                "fan-out {path}: build {} (`{name}`): {flag} applies to every build of the plan: give it to fan-out instead",
                n + 1
            )));
        }
        if invocation.args.on("--detach") {
            return Err(Error::usage(format!(
                "fan-out {path}: build {} (`{name}`): every build of a plan is waited on; drop --detach",
                n + 1
            )));
        }
        let entry = invocation.provider.ok_or_else(|| {
            Error::usage(format!(
                "fan-out {path}: build {} (`{name}`) names no provider",
                n + 1
            ))
        })?;
        let checked =
            (entry.prepare)(ctx, invocation.command, &invocation.args).map_err(|e| match e {
                Error::Usage(why) => {
                    Error::usage(format!("fan-out {path}: build {} (`{name}`): {why}", n + 1))
                }
                other => other,
            })?;
        prepared.push((name, checked));
    }
    crate::abort::watch()?;
    let mut slots = Vec::new();
    for (name, start) in prepared {
        // A start that fails leaves the others to be waited on (or cancelled).
        let started = start.start(ctx);
        match &started {
            Ok(remote) => {
                let report = Report::of(
                    remote.provider(),
                    "fan-out",
                    remote.build(),
                    Outcome::Started,
                );
                ctx.out.started_one_of_several(&report)?;
            }
            // A dry run printed the request and stops there, for every build alike.
            Err(Error::DryRunStop(_)) => {}
            Err(e) => output::error(format!("{name}: not started: {e}")),
        }
        slots.push(Slot::new(ctx, name, started));
        if crate::abort::received().is_some() {
            break;
        }
    }
    follow_all(ctx, &mut slots, logs)?;
    finish(ctx, "fan-out", &slots, true)
}

/// What `--logs` and `--log-lines` ask of several builds. Their logs are not followed live
/// (the lines of several builds would interleave): `failed` (the default) shows a failed
/// build's failed steps once it failed, `follow` each build's whole log once it finished.
#[derive(Clone, Copy)]
struct LogsWanted(LogWanted);

impl LogsWanted {
    fn from_args(args: &Args) -> Result<Self> {
        LogWanted::read(args, LogMode::Failed).map(LogsWanted)
    }

    fn shown(&self, result: Outcome) -> bool {
        match self.0.mode {
            LogMode::Follow => true,
            LogMode::Failed => result == Outcome::Failed,
            LogMode::None => false,
        }
    }

    /// The logs of the builds that finished in the last round, one build after the other.
    fn show(&self, ctx: &Ctx, slots: &mut [Slot]) {
        for slot in slots.iter_mut().filter(|s| s.log_due) {
            slot.log_due = false;
            let Some(remote) = slot.remote.as_mut() else {
                continue;
            };
            let failed_only = self.0.mode == LogMode::Failed;
            let lines = failed_only.then_some(self.0.lines);
            output::event(if failed_only {
                format!(
                    "[{}] what failed, the last {} lines of each:",
                    slot.name, self.0.lines
                )
            } else {
                format!("[{}] its log:", slot.name)
            });
            if let Err(e) = remote.print_logs(ctx, failed_only, lines) {
                crate::logs::warn_unreadable(&slot.name, &e);
            }
        }
    }
}

/// Polls every build that is still running until all have finished, `--timeout` passes or
/// the calling job is cancelled.
fn follow_all(ctx: &Ctx, slots: &mut [Slot], logs: LogsWanted) -> Result<()> {
    crate::abort::watch()?;
    in_parallel(slots, Slot::waiting, |slot| {
        if let Some(remote) = slot.remote.as_mut() {
            if let Err(e) = remote.track(ctx) {
                slot.error = Some(e);
            }
        }
    });
    let deadline = ctx.wait.deadline;
    loop {
        if let Some(signal) = crate::abort::received() {
            return Err(after_abort(ctx, slots, signal));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            for slot in slots.iter_mut().filter(|s| s.waiting()) {
                output::event(format!(
                    "[{}] gave up waiting after {} (--timeout); it is still {}",
                    slot.name,
                    output::seconds(ctx.wait.timeout.unwrap_or_default()),
                    slot.last_status()
                ));
                slot.time_out();
            }
            return Ok(());
        }
        in_parallel(
            slots,
            |s| s.waiting() && s.due <= now,
            |slot| poll_one(ctx, slot, logs),
        );
        logs.show(ctx, slots);
        let Some(next) = slots.iter().filter(|s| s.waiting()).map(|s| s.due).min() else {
            return Ok(());
        };
        let until = deadline.map_or(next, |d| next.min(d));
        crate::abort::sleep(until.saturating_duration_since(Instant::now()));
    }
}

fn poll_one(ctx: &Ctx, slot: &mut Slot, logs: LogsWanted) {
    let Some(remote) = slot.remote.as_mut() else {
        return;
    };
    match remote.poll(ctx) {
        Ok(seen) => {
            let changed = slot.last.as_deref() != Some(seen.status.as_str());
            if changed {
                output::event(format!("[{}] {}", slot.name, seen.status));
                slot.last = Some(seen.status.clone());
            }
            if seen.state.is_finished() {
                let word = remote.status_word(&seen);
                let result = Outcome::of(seen.state);
                slot.log_due = logs.shown(result);
                slot.end(Observation::new(seen.state, word), result);
            } else {
                if !slot.planned {
                    slot.planned = true;
                    if let Some(end) = remote.plan(ctx).and_then(crate::wait::instant_of) {
                        slot.schedule.plan(end);
                    }
                }
                let pause = slot.schedule.next(changed, crate::pace::take());
                slot.due = Instant::now() + pause;
            }
        }
        Err(Error::OutOfTime(why)) => {
            output::event(format!(
                "[{}] gave up waiting (--timeout): {why}",
                slot.name
            ));
            slot.time_out();
        }
        Err(e) => {
            if !matches!(e, Error::DryRunStop(_)) {
                output::error(format!("{}: {e}", slot.name));
            }
            slot.took = slot.began.elapsed();
            slot.error = Some(e);
        }
    }
}

/// The calling job was cancelled: with `--cancel-on-abort` every build this process
/// started that still runs is cancelled (within the seconds a stopped job has), else each
/// running build's link is printed.
fn after_abort(ctx: &Ctx, slots: &mut [Slot], signal: i32) -> Error {
    let why = crate::abort::name(signal);
    ctx.http.extend_deadline(crate::lifecycle::ABORT_BUDGET);
    let cancel = ctx.cancel_on_abort;
    in_parallel(slots, Slot::waiting, |slot| {
        let Some(remote) = slot.remote.as_mut() else {
            return;
        };
        let url = remote.build().url.clone().unwrap_or_default();
        if !(cancel && remote.started_here()) {
            output::event(format!("[{}] {why}: still running: {url}", slot.name));
            return;
        }
        match remote.stop(ctx) {
            Ok(Stopped::Asked { .. }) => output::event(format!(
                "[{}] {why}: canceled (--cancel-on-abort) {url}",
                slot.name
            )),
            Ok(Stopped::AlreadyFinished { status, .. }) => output::event(format!(
                "[{}] {why}: had finished ({status}); nothing to cancel",
                slot.name
            )),
            Err(e) => output::event(format!(
                "[{}] {why}: could not cancel: {e} — it may still be running: {url}",
                slot.name
            )),
        }
    });
    Error::Aborted(signal)
}

/// The summary (stderr), JSON Lines (JSON mode), the step summary, and the exit code:
/// any failed (or not started, or unreadable) → 1, else any terminated → 2, else any timed
/// out → 3, else 0.
fn finish(ctx: &Ctx, action: &'static str, slots: &[Slot], waited: bool) -> Result<Report> {
    // A dry run stops each build at its first request that needs an answer: nothing failed.
    if slots
        .iter()
        .any(|s| matches!(s.error, Some(Error::DryRunStop(_))))
    {
        return Err(Error::DryRunStop(
            "the first request of each build".to_string(),
        ));
    }
    let mut reports = Vec::new();
    let mut rows = Vec::new();
    for slot in slots {
        let (result, status) = match (&slot.ended, &slot.error, &slot.remote) {
            (Some((seen, result)), _, _) => (*result, seen.status.clone()),
            (_, Some(_), None) => (Outcome::Failed, "not started".to_string()),
            (_, Some(_), Some(_)) => (Outcome::Failed, "unreadable".to_string()),
            _ => (Outcome::Started, "unknown".to_string()),
        };
        let provider = slot.remote.as_ref().map_or("", |r| r.provider());
        let build = slot.remote.as_ref().map(|r| r.build().clone());
        let mut report = match &build {
            Some(b) => Report::of(provider, action, b, result),
            None => Report {
                provider,
                action,
                id: String::new(),
                number: None,
                url: None,
                status: status.clone(),
                result,
            },
        };
        report.status = status.clone();
        rows.push(Summarized {
            provider,
            build: build
                .as_ref()
                .map_or_else(|| slot.name.clone(), |b| b.label.clone()),
            result,
            duration: slot.took,
            url: build.and_then(|b| b.url),
        });
        reports.push(report);
    }
    if waited {
        print_summary(&rows, slots);
        output::step_summary(&rows);
    }
    if ctx.out.mode == crate::cli::OutputMode::Json {
        let lines: Vec<String> = reports.iter().map(Report::to_json).collect();
        ctx.out.answer(&lines);
    }
    let worst = [Outcome::Failed, Outcome::Terminated, Outcome::Timeout]
        .into_iter()
        .find(|o| reports.iter().any(|r| r.result == *o))
        .unwrap_or(Outcome::Success);
    Ok(Report {
        provider: "",
        action,
        id: reports
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>()
            .join(","),
        number: None,
        url: None,
        status: format!("{} builds", reports.len()),
        result: worst,
    })
}

fn print_summary(rows: &[Summarized], slots: &[Slot]) {
    output::event("summary:");
    let width = |f: &dyn Fn(&Summarized) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let wp = width(&|r| r.provider.len()).max("provider".len());
    let wb = width(&|r| r.build.chars().count()).max("build".len());
    output::event(format!(
        "  {:wp$}  {:wb$}  {:10}  {:>8}  link",
        "provider", "build", "result", "duration"
    ));
    for (row, slot) in rows.iter().zip(slots) {
        let result = match (&slot.error, &slot.remote) {
            (Some(_), None) => "not started",
            (Some(_), Some(_)) => "unreadable",
            _ => row.result.as_str(),
        };
        output::event(format!(
            "  {:wp$}  {:wb$}  {:10}  {:>8}  {}",
            row.provider,
            row.build,
            result,
            output::seconds(row.duration),
            row.url.as_deref().unwrap_or("")
        ));
    }
}
