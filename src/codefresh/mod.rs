//! Codefresh: `codefresh run` as a drop-in for the Codefresh CLI (same flags, same exit
//! codes: 0 success, 1 error, 2 terminated), and wait, status, terminate, restart-latest.

mod api;

pub(crate) use api::read_answers;
use api::{state_of, Api, Build, BUILD_ID_VAR, STATUSES};

use crate::cli::{env_first, CodefreshCommand, CodefreshRun};
use crate::error::{Error, Result};
use crate::output::{self, Outcome, Report};
use crate::wait::{self, BuildState, Observation, Waited};
use crate::Ctx;

pub fn run(ctx: &Ctx, command: CodefreshCommand) -> Result<Report> {
    // Checked before the key so that a typo is reported even where no key is set.
    if let CodefreshCommand::Wait { status, .. } = &command {
        if !STATUSES.contains(&status.as_str()) {
            return Err(Error::usage(format!(
                "--status `{status}` is not a Codefresh build status: use one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let api = Api::from_env()?;
    match command {
        CodefreshCommand::Run(run) => run_pipeline(ctx, &api, &run),
        CodefreshCommand::Wait { ids, status } => wait_for(ctx, &api, &ids, &status),
        CodefreshCommand::Status { id } => status(ctx, &api, &id),
        CodefreshCommand::Terminate { id } => terminate(ctx, &api, &id),
        CodefreshCommand::RestartLatest {
            pipeline,
            branch,
            wait,
        } => restart_latest(ctx, &api, &pipeline, branch.as_deref(), wait),
    }
}

fn report(api: &Api, action: &'static str, id: &str, status: &str) -> Report {
    Report {
        provider: "codefresh",
        action,
        id: id.to_string(),
        number: None,
        url: Some(api.build_url(id)),
        status: status.to_string(),
        result: Outcome::Started,
    }
}

fn run_pipeline(ctx: &Ctx, api: &Api, run: &CodefreshRun) -> Result<Report> {
    let predecessor = env_first(&[BUILD_ID_VAR]).map(|(_, id)| id);
    let body = api::run_body(run, predecessor.as_deref());
    let mut what = vec![];
    if let Some(b) = run.branch.as_deref().filter(|b| !b.is_empty()) {
        what.push(format!("branch {b}"));
    }
    if let Some(t) = run.trigger.as_deref().filter(|t| !t.is_empty()) {
        what.push(format!("trigger {t}"));
    }
    output::event(if what.is_empty() {
        format!("running pipeline {}", run.pipeline)
    } else {
        format!("running pipeline {} ({})", run.pipeline, what.join(", "))
    });
    let id = api.run(ctx, &run.pipeline, &body)?;
    let mut report = announce(ctx, api, "run", &id)?;
    if run.detach {
        return Ok(report);
    }
    follow(ctx, api, &id, run.terminate_on_timeout, &mut report)?;
    Ok(report)
}

/// A build was started: its id goes to stdout and the CI-native export, its link to the log.
fn announce(ctx: &Ctx, api: &Api, action: &'static str, id: &str) -> Result<Report> {
    let report = report(api, action, id, "pending");
    ctx.out.started(&report)?;
    output::event(format!(
        "started build {id}: {}",
        report.url.as_deref().unwrap_or_default()
    ));
    Ok(report)
}

/// Waits for one build to finish and records how it ended in `report`.
fn follow(
    ctx: &Ctx,
    api: &Api,
    id: &str,
    terminate_on_timeout: bool,
    report: &mut Report,
) -> Result<()> {
    let waited = wait::until_finished(ctx.wait, &format!("build {id}"), || {
        let build = api.build(ctx, id)?;
        Ok(Observation::new(state_of(&build.status), build.status))
    })?;
    let timed_out = matches!(waited, Waited::TimedOut(_));
    let (seen, result) = waited.outcome();
    report.result = result;
    report.status = seen.status;
    if timed_out && terminate_on_timeout {
        terminate_after_timeout(ctx, api, id, report);
    }
    Ok(())
}

/// `--terminate-on-timeout`: the timeout is still the result (exit 3); a failure to
/// terminate is said on its own line, since the build then keeps running.
fn terminate_after_timeout(ctx: &Ctx, api: &Api, id: &str, report: &mut Report) {
    // --timeout has passed: the terminate gets retries of its own.
    ctx.http.extend_deadline(crate::http::CLEANUP_BUDGET);
    match stop(ctx, api, id) {
        Ok(Stopped::Terminating) => {
            output::event(format!(
                "terminating build {id} (--terminate-on-timeout)"
            ));
            report.status = "terminating".into();
        }
        Ok(Stopped::AlreadyFinished(status)) => {
            output::event(format!(
                "build {id} finished ({status}) just as cirelay gave up; nothing to terminate"
            ));
            report.status = status;
        }
        Err(e) => output::event(format!(
            "warning: could not terminate build {id} after --timeout: {e} — it may still be running: {}",
            api.build_url(id)
        )),
    }
}

enum Stopped {
    Terminating,
    AlreadyFinished(String),
}

/// Terminating a build is deleting its progress job, which the build names.
fn stop(ctx: &Ctx, api: &Api, id: &str) -> Result<Stopped> {
    let build = api.build(ctx, id)?;
    if state_of(&build.status).is_finished() {
        return Ok(Stopped::AlreadyFinished(build.status));
    }
    let progress = build
        .progress
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            Error::api(format!(
                "build {id} ({}) has no progress job to terminate yet: try again in a moment, or terminate it at {}",
                build.status,
                api.build_url(id)
            ))
        })?;
    api.terminate_progress(ctx, progress, id)?;
    Ok(Stopped::Terminating)
}

fn terminate(ctx: &Ctx, api: &Api, id: &str) -> Result<Report> {
    let mut report = report(api, "terminate", id, "terminating");
    match stop(ctx, api, id)? {
        Stopped::Terminating => {
            output::event(format!("terminating build {id}: {}", api.build_url(id)));
        }
        Stopped::AlreadyFinished(status) => {
            output::event(format!(
                "build {id} already finished ({status}); nothing to terminate"
            ));
            report.status = status;
        }
    }
    report.result = Outcome::Success;
    Ok(report)
}

/// Prints the status word alone on stdout (`S=$(cirelay codefresh status ID)`) and exits
/// like `wait` would for a finished build (0 while it runs).
fn status(ctx: &Ctx, api: &Api, id: &str) -> Result<Report> {
    let build = api.build(ctx, id)?;
    output::event(describe(api, id, &build));
    ctx.out.text(&build.status);
    let mut report = report(api, "status", id, &build.status);
    report.result = Outcome::of(state_of(&build.status));
    Ok(report)
}

fn describe(api: &Api, id: &str, build: &Build) -> String {
    let mut line = format!("build {id}: {}", build.status);
    match (build.pipeline_name.as_deref(), build.branch_name.as_deref()) {
        (Some(p), Some(b)) => line.push_str(&format!(" (pipeline {p}, branch {b})")),
        (Some(p), None) => line.push_str(&format!(" (pipeline {p})")),
        _ => {}
    }
    line.push_str(&format!(" {}", api.build_url(id)));
    line
}

/// How one build stands against the status `wait` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    Waiting(String),
    Reached(String),
    /// Finished in another final status than the one asked for.
    Missed(String),
}

impl Standing {
    fn of(status: &str, want: &str) -> Self {
        if status == want {
            Standing::Reached(status.to_string())
        } else if state_of(status).is_finished() {
            Standing::Missed(status.to_string())
        } else {
            Standing::Waiting(status.to_string())
        }
    }

    fn status(&self) -> &str {
        match self {
            Standing::Waiting(s) | Standing::Reached(s) | Standing::Missed(s) => s,
        }
    }
}

/// The combined reading of every build `wait` watches: done when all reached the status,
/// or as soon as one finished otherwise (its result decides the exit code, as the
/// Codefresh CLI stops at the first build that cannot reach it).
fn combine(ids: &[String], standings: &[Standing]) -> Observation {
    let status = if ids.len() == 1 {
        standings[0].status().to_string()
    } else {
        ids.iter()
            .zip(standings)
            .map(|(id, s)| format!("{id}: {}", s.status()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missed = standings.iter().find_map(|s| match s {
        Standing::Missed(status) => Some(status.as_str()),
        _ => None,
    });
    let state = match missed {
        // A build that succeeded when another status was asked for did not do what the
        // caller waited for.
        Some(status) => match state_of(status) {
            BuildState::Terminated => BuildState::Terminated,
            _ => BuildState::Failed,
        },
        None if standings.iter().all(|s| matches!(s, Standing::Reached(_))) => BuildState::Success,
        None => BuildState::Running,
    };
    Observation::new(state, status)
}

fn wait_for(ctx: &Ctx, api: &Api, ids: &[String], want: &str) -> Result<Report> {
    for id in ids {
        output::event(format!(
            "waiting for build {id} to reach {want}: {}",
            api.build_url(id)
        ));
    }
    let what = if ids.len() == 1 {
        format!("build {}", ids[0])
    } else {
        format!("builds {}", ids.join(", "))
    };
    let mut standings: Vec<Standing> = ids
        .iter()
        .map(|_| Standing::Waiting(String::new()))
        .collect();
    let waited = wait::until_finished(ctx.wait, &what, || {
        for (id, standing) in ids.iter().zip(standings.iter_mut()) {
            // A build that reached the status (or missed it) is not asked again.
            if matches!(standing, Standing::Waiting(_)) {
                let build = api.build(ctx, id)?;
                *standing = Standing::of(&build.status, want);
            }
        }
        Ok(combine(ids, &standings))
    })?;
    let mut report = Report {
        provider: "codefresh",
        action: "wait",
        id: ids.join(","),
        number: None,
        url: (ids.len() == 1).then(|| api.build_url(&ids[0])),
        status: String::new(),
        result: Outcome::Started,
    };
    match waited {
        Waited::Finished(seen) => {
            for (id, standing) in ids.iter().zip(&standings) {
                if let Standing::Missed(status) = standing {
                    output::event(format!(
                        "build {id} finished with status {status}, so it will not reach {want}: {}",
                        api.build_url(id)
                    ));
                }
            }
            report.result = match seen.state {
                BuildState::Success => Outcome::Success,
                other => Outcome::of(other),
            };
            report.status = seen.status;
        }
        Waited::TimedOut(seen) => {
            report.result = Outcome::Timeout;
            report.status = seen.status;
        }
    }
    Ok(report)
}

fn restart_latest(
    ctx: &Ctx,
    api: &Api,
    pipeline: &str,
    branch: Option<&str>,
    wait: bool,
) -> Result<Report> {
    let branch = branch.filter(|b| !b.is_empty());
    let pipeline_id = api.pipeline_id(ctx, pipeline)?;
    let newest = api
        .newest_build(ctx, &pipeline_id, branch)?
        .ok_or_else(|| {
            Error::api(match branch {
                Some(b) => format!(
                    "pipeline {pipeline} has no builds on branch `{b}`: run it once (`codefresh run {pipeline} -b {b}`) or check -b"
                ),
                None => format!(
                    "pipeline {pipeline} has no builds yet: run it once with `codefresh run {pipeline}`"
                ),
            })
        })?;
    let old = newest.id().map(str::to_string).ok_or_else(|| {
        Error::api(format!(
            "Codefresh listed the newest build of pipeline {pipeline} without an id: see {}",
            api.builds_page()
        ))
    })?;
    if let Some((_, own)) = env_first(&[BUILD_ID_VAR]) {
        if own == old {
            return Err(Error::usage(format!(
                "the newest build of pipeline {pipeline} is the one running this step ({BUILD_ID_VAR}={own}); rebuilding it would loop — use `codefresh run {pipeline}` to start a new build instead"
            )));
        }
    }
    output::event(format!(
        "rebuilding build {old} ({}) of pipeline {pipeline}{}",
        newest.status,
        newest
            .branch_name
            .as_deref()
            .map(|b| format!(" on branch {b}"))
            .unwrap_or_default()
    ));
    let id = api.rebuild(ctx, &old, pipeline)?;
    let mut report = announce(ctx, api, "restart-latest", &id)?;
    if wait {
        follow(ctx, api, &id, false, &mut report)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn standing_against_the_wanted_status() {
        assert_eq!(
            Standing::of("success", "success"),
            Standing::Reached("success".into())
        );
        assert_eq!(
            Standing::of("running", "running"),
            Standing::Reached("running".into())
        );
        assert_eq!(
            Standing::of("error", "error"),
            Standing::Reached("error".into())
        );
        assert_eq!(
            Standing::of("error", "success"),
            Standing::Missed("error".into())
        );
        assert_eq!(
            Standing::of("success", "terminated"),
            Standing::Missed("success".into())
        );
        assert_eq!(
            Standing::of("pending-approval", "success"),
            Standing::Waiting("pending-approval".into())
        );
    }

    #[test]
    fn combined_reading_of_several_builds() {
        let two = ids(&["a", "b"]);
        let obs = combine(
            &two,
            &[
                Standing::Reached("success".into()),
                Standing::Waiting("running".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Running);
        assert_eq!(obs.status, "a: success, b: running");

        let obs = combine(
            &two,
            &[
                Standing::Reached("success".into()),
                Standing::Reached("success".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Success);

        // One that cannot reach the status ends the wait with its own result.
        let obs = combine(
            &two,
            &[
                Standing::Waiting("running".into()),
                Standing::Missed("terminated".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Terminated);
        let obs = combine(
            &two,
            &[
                Standing::Missed("error".into()),
                Standing::Missed("terminated".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Failed);

        // Success when something else was asked for is a failure to reach it.
        let one = ids(&["a"]);
        let obs = combine(&one, &[Standing::Missed("success".into())]);
        assert_eq!(obs.state, BuildState::Failed);
        assert_eq!(obs.status, "success");
    }
}
