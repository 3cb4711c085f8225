//! The GitHub side of each verb: what a dispatch sends and how its run is known, how a run
//! is read, followed (a rerun: its next attempt), cancelled and rerun, and how runs are
//! listed. The shared lifecycle does the rest.

use std::time::{Duration, Instant};

use super::api::{self, Api, Cancelled, Run, PER_PAGE};
use super::{Dispatch, Listing, Restart, RunRef};
use crate::build::{Build, Polls, Reading, Stopped, Tracked, Watch};
use crate::error::{Error, Result};
use crate::listing::{self, Filter, Listed};
use crate::output;
use crate::provider::About;
use crate::wait::{self, BuildState, Observation, Waited};
use crate::Ctx;

/// How long a dispatch that did not name its run is looked for among the workflow's runs
/// (or `--timeout`, if shorter): GitHub lists a new run within seconds.
const FIND_WINDOW: Duration = Duration::from_secs(120);

/// A run's status and conclusion as the lifecycle speaks of them. `queued`, `in_progress`,
/// `requested`, `pending`, `waiting` and any status GitHub adds later keep waiting; so does
/// a `completed` run whose conclusion is not written yet. A conclusion cirelay does not
/// know is not success.
pub fn state_of(status: Option<&str>, conclusion: Option<&str>) -> BuildState {
    match (status, conclusion) {
        (Some("completed"), Some("success" | "neutral")) => BuildState::Success,
        (Some("completed"), Some("cancelled")) => BuildState::Terminated,
        (Some("completed"), Some(_)) => BuildState::Failed,
        _ => BuildState::Running,
    }
}

/// The run's word: its conclusion once completed, else its status.
pub fn word(run: &Run) -> String {
    super::api::word_of(run.status.as_deref(), run.conclusion.as_deref()).to_string()
}

fn state(run: &Run) -> BuildState {
    state_of(run.status.as_deref(), run.conclusion.as_deref())
}

/// A run as the lifecycle speaks of it. Its bare id is an alias, so the own-build guard
/// knows `GITHUB_RUN_ID` in it.
fn build_of(
    api: &Api,
    run: &RunRef,
    found: Option<&Run>,
    status: String,
    state: BuildState,
) -> Build {
    Build {
        id: run.to_string(),
        number: found.and_then(|r| r.run_number),
        url: Some(api.run_url(run)),
        status,
        state,
        label: format!("run {}", run.id),
        aliases: vec![run.id.to_string()],
    }
}

/// Follows a run by reading it; after a rerun, the attempts before it do not count.
pub struct RunWatch<'a> {
    api: &'a Api,
    run: RunRef,
    /// A reading already made (by `wait` before waiting) to use instead of a GET.
    prefetched: Option<Run>,
    said_waiting: bool,
    word: String,
    /// The run as last read, for planning polls around its workflow's usual duration.
    last: Option<Run>,
}

impl<'a> RunWatch<'a> {
    pub fn new(api: &'a Api, run: &RunRef) -> Self {
        RunWatch {
            api,
            run: run.clone(),
            prefetched: None,
            said_waiting: false,
            word: "queued".to_string(),
            last: None,
        }
    }
}

/// How many of a workflow's recent successful runs its usual duration is taken from.
const HISTORY: usize = 10;

impl Watch for RunWatch<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let run = match self.prefetched.take() {
            Some(run) => run,
            None => self.api.run(ctx, &self.run)?,
        };
        if let Some(rerun) = self.run.after_attempt {
            if run.attempt() <= rerun {
                // GitHub still shows the attempt that was rerun, finished.
                self.word = "requested".to_string();
                return Ok(Observation::new(
                    BuildState::Running,
                    format!("waiting for attempt {} to start", rerun + 1),
                ));
            }
        }
        self.word = word(&run);
        self.last = Some(run.clone());
        if run.status.as_deref() == Some("waiting") && !self.said_waiting {
            self.said_waiting = true;
            output::event(format!(
                "run {} waits for a deployment review: approve or reject it at {}",
                self.run.id,
                self.api.run_url(&self.run)
            ));
        }
        let mut text = match run.conclusion.as_deref() {
            Some("skipped") if state(&run).is_finished() => "skipped: nothing ran".to_string(),
            _ => self.word.clone(),
        };
        if run.attempt() > 1 {
            text.push_str(&format!(" (attempt {})", run.attempt()));
        }
        Ok(Observation::new(state(&run), text))
    }

    fn status_word(&self, _last: &Observation) -> String {
        self.word.clone()
    }

    /// The median duration (last update minus start) of the workflow's recent successful
    /// runs on the same branch, counted from this run's start. A rerun is not planned: it
    /// may run only some of the jobs, so the workflow's usual duration says little about it.
    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        if self.run.after_attempt.is_some() {
            return None;
        }
        let run = self.last.as_ref()?;
        let workflow = run.workflow_id?.to_string();
        let branch = run.head_branch.as_deref()?;
        let key = format!("github {} {workflow} {branch}", self.run.repo);
        let began = run.run_started_at.as_deref().or(run.created_at.as_deref());
        wait::planned_end(key, &self.run.id.to_string(), began, || {
            let recent = self
                .api
                .runs(
                    ctx,
                    &self.run.repo,
                    Some(&workflow),
                    &[("branch", branch), ("status", "success")],
                    HISTORY,
                )
                .ok()?;
            // The filters are checked here too: a server may ignore one it does not know.
            Some(
                recent
                    .iter()
                    .filter(|r| {
                        state(r) == BuildState::Success && r.head_branch.as_deref() == Some(branch)
                    })
                    .filter_map(|r| {
                        let took = listing::duration_s(
                            r.run_started_at.as_deref(),
                            r.updated_at.as_deref(),
                        )?;
                        Some((r.id.to_string(), took))
                    })
                    .collect(),
            )
        })
    }
}

fn tracked<'a>(
    api: &'a Api,
    run: &RunRef,
    found: Option<Run>,
    status: &str,
    line: Option<String>,
) -> Tracked<'a, RunRef> {
    let build = build_of(
        api,
        run,
        found.as_ref(),
        status.to_string(),
        BuildState::Running,
    );
    let mut watch = RunWatch::new(api, run);
    watch.prefetched = found;
    Tracked {
        build,
        reference: run.clone(),
        line,
        watch: Box::new(watch),
    }
}

/// `started run ID: URL`, the line a start leaves in the log.
fn started_line(api: &Api, run: &RunRef) -> String {
    format!("started run {}: {}", run.id, api.run_url(run))
}

/// Dispatches the workflow and knows its run from the answer. A server that refuses
/// `return_run_details` did nothing: the dispatch is sent once more without it, and the run
/// is found among the workflow's runs (see [`find_dispatched`]).
pub fn trigger<'a>(ctx: &Ctx, api: &'a Api, d: &Dispatch) -> Result<Tracked<'a, RunRef>> {
    let (git_ref, which) = match &d.git_ref {
        Some(r) => (r.clone(), ""),
        None => (api.default_branch(ctx, &d.repo)?, " (the default branch)"),
    };
    output::event(format!(
        "dispatching {} of {} on `{git_ref}`{which}",
        d.workflow, d.repo
    ));
    let about = About::Definition(&d.repo, &d.workflow);
    let sent = Instant::now();
    let dispatch = |run_details| {
        let body = api::dispatch_body(&git_ref, &d.inputs, run_details);
        api.dispatch(ctx, &d.repo, &d.workflow, &body)
    };
    let resp = dispatch(true)?;
    let id = if api::refuses_run_details(&resp) {
        output::event(format!(
            "the API does not take return_run_details ({}): nothing was started; dispatching once more without it",
            api::said(&resp)
        ));
        // The refusal came before the second dispatch left: its run is created after it.
        let since = server_time(&resp).unwrap_or_else(crate::time::now_unix);
        let again = dispatch(false)?;
        api.check(&again, about, api::Access::Write)?;
        match api::dispatched_run(&again)? {
            Some(id) => id,
            None => find_dispatched(ctx, api, d, &git_ref, since)?,
        }
    } else {
        api.check(&resp, about, api::Access::Write)?;
        match api::dispatched_run(&resp)? {
            Some(id) => id,
            None => {
                output::event("the dispatch was accepted without naming its run; finding it among the workflow's runs");
                // The run was created while the dispatch was answered, up to its whole
                // exchange before the answer's date (which counts whole seconds).
                let took = sent.elapsed().as_secs() + 1;
                let answered = server_time(&resp).unwrap_or_else(crate::time::now_unix);
                find_dispatched(ctx, api, d, &git_ref, answered.saturating_sub(took))?
            }
        }
    };
    let run = RunRef::new(d.repo.clone(), id);
    let line = started_line(api, &run);
    Ok(tracked(api, &run, None, "queued", Some(line)))
}

/// The server's clock when it answered (`Date`), so that comparing with run times does not
/// depend on this machine's clock.
fn server_time(resp: &crate::http::Response) -> Option<u64> {
    resp.header("date").and_then(crate::time::http_date)
}

/// `refs/heads/main` and `refs/tags/v1` as runs name their branch: `main`, `v1`.
fn branch_name(git_ref: &str) -> &str {
    git_ref
        .strip_prefix("refs/heads/")
        .or_else(|| git_ref.strip_prefix("refs/tags/"))
        .unwrap_or(git_ref)
}

/// Finds the run a dispatch without run details started: a `workflow_dispatch` run of the
/// workflow on the ref, created at `since` (server time) or later. It is taken only when two
/// readings apart both list exactly one; more than one is exit 6, naming them, and so is
/// none within [`FIND_WINDOW`].
fn find_dispatched(ctx: &Ctx, api: &Api, d: &Dispatch, git_ref: &str, since: u64) -> Result<u64> {
    let branch = branch_name(git_ref);
    let created = format!(">={}", crate::time::rfc3339_utc(since));
    let page = api.workflow_page(&d.repo, &d.workflow);
    let config = ctx.wait.within(FIND_WINDOW);
    let window = config.timeout.unwrap_or(FIND_WINDOW);
    // The dispatch was accepted: a run may exist whatever goes wrong from here.
    let unknown = |e: Error| {
        match e {
        Error::Api(why) => Error::UnknownOutcome(format!(
            "GitHub accepted the dispatch, but then {why}; the run may have started — check {page} before dispatching again"
        )),
        other => other,
    }
    };
    let mut listed_once = false;
    let mut found = None;
    let waited = {
        let mut watch = Polls(|ctx: &Ctx| {
            let runs = api
                .runs(
                    ctx,
                    &d.repo,
                    Some(&d.workflow),
                    &[
                        ("event", "workflow_dispatch"),
                        ("branch", branch),
                        ("created", &created),
                    ],
                    PER_PAGE,
                )
                .map_err(unknown)?;
            // The filters are checked here too: a server may ignore one it does not know.
            let candidates: Vec<Run> = runs
                .into_iter()
                .filter(|r| {
                    r.event.as_deref() == Some("workflow_dispatch")
                        && r.head_branch.as_deref().is_none_or(|b| b == branch)
                        && r.created_at
                            .as_deref()
                            .and_then(crate::time::rfc3339)
                            .is_some_and(|at| at >= since as i64)
                })
                .collect();
            match (candidates.as_slice(), listed_once) {
                ([], _) => Ok(Observation::new(BuildState::Running, "no run of it listed yet")),
                (_, false) => {
                    listed_once = true;
                    Ok(Observation::new(
                        BuildState::Running,
                        format!("{} listed; reading once more to be sure", runs_word(candidates.len())),
                    ))
                }
                ([one], true) => {
                    found = Some(one.id);
                    Ok(Observation::new(BuildState::Success, format!("it is run {}", one.id)))
                }
                (many, true) => Err(Error::UnknownOutcome(format!(
                    "GitHub accepted the dispatch without naming its run, and {} workflow_dispatch runs of {} on `{branch}` were created since: {}; cirelay cannot tell which is this one — check {page}",
                    many.len(),
                    d.workflow,
                    many.iter()
                        .map(|r| candidate(api, d, r))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))),
            }
        });
        wait::until_finished(
            ctx,
            config,
            &format!("the run of {}", d.workflow),
            &mut watch,
        )?
    };
    match (waited, found) {
        (Waited::Finished(_), Some(id)) => Ok(id),
        _ => Err(Error::UnknownOutcome(format!(
            "GitHub accepted the dispatch of {} on `{branch}`, but no workflow_dispatch run of it created since then was listed within {}; the run may have started — check {page} before dispatching again",
            d.workflow,
            output::seconds(window)
        ))),
    }
}

fn runs_word(n: usize) -> String {
    if n == 1 {
        "1 run".to_string()
    } else {
        format!("{n} runs")
    }
}

/// One candidate of an ambiguous dispatch, as the error names it.
fn candidate(api: &Api, d: &Dispatch, r: &Run) -> String {
    format!(
        "run {} (by {}, created {}) {}",
        r.id,
        r.started_by().unwrap_or("someone"),
        r.created_at.as_deref().unwrap_or("at an unknown time"),
        api.run_url(&RunRef::new(d.repo.clone(), r.id))
    )
}

/// Gets ready to wait: the run is read first (a wrong id fails before waiting starts).
pub fn watch<'a>(ctx: &Ctx, api: &'a Api, run: &RunRef) -> Result<Tracked<'a, RunRef>> {
    let found = api.run(ctx, run)?;
    let status = word(&found);
    let line = format!("run {} of {}: {}", run.id, run.repo, api.run_url(run));
    Ok(tracked(api, run, Some(found), &status, Some(line)))
}

/// The run on stderr, its word on stdout.
pub fn read(ctx: &Ctx, api: &Api, run: &RunRef) -> Result<Reading> {
    let found = api.run(ctx, run)?;
    let status = word(&found);
    let mut head = format!("run {}", run.id);
    if let Some(n) = found.run_number {
        head.push_str(&format!(" (#{n}, attempt {})", found.attempt()));
    }
    if let Some(name) = &found.name {
        head.push_str(&format!(" {name}"));
    }
    if let Some(b) = &found.head_branch {
        head.push_str(&format!(" on `{b}`"));
    }
    if let (Some(e), Some(by)) = (&found.event, found.started_by()) {
        head.push_str(&format!(" ({e} by {by})"));
    }
    let mut lines = vec![format!("{head}: {status} {}", api.run_url(run))];
    if found.status.as_deref() == Some("waiting") {
        lines.push("  it waits for a deployment review".to_string());
    }
    Ok(Reading {
        build: build_of(api, run, Some(&found), status, state(&found)),
        lines,
    })
}

/// Asks GitHub to cancel the run; GitHub answers 409 when it had finished.
pub fn cancel(ctx: &Ctx, api: &Api, run: &RunRef) -> Result<(Build, Stopped)> {
    match api.cancel(ctx, run)? {
        Cancelled::Asked => {
            let status = "cancelling".to_string();
            let build = build_of(api, run, None, status.clone(), BuildState::Running);
            let line = format!("cancelling run {}: {}", run.id, api.run_url(run));
            Ok((
                build,
                Stopped::Asked {
                    status,
                    line: Some(line),
                },
            ))
        }
        Cancelled::AlreadyFinished(said) => {
            let found = api.run(ctx, run)?;
            let status = word(&found);
            let build = build_of(api, run, Some(&found), status.clone(), state(&found));
            let said = if said.is_empty() {
                String::new()
            } else {
                format!(" (GitHub: {said})")
            };
            let why = format!("run {} already finished: {status}{said}", run.id);
            Ok((
                build,
                Stopped::AlreadyFinished {
                    status,
                    why: Some(why),
                },
            ))
        }
    }
}

/// The newest run of the workflow on the branch.
pub fn newest(ctx: &Ctx, api: &Api, scope: &Restart) -> Result<(Run, Build)> {
    let branch = match &scope.branch {
        Some(b) => b.clone(),
        None => api.default_branch(ctx, &scope.repo)?,
    };
    let branch = branch_name(&branch);
    let runs = api.runs(
        ctx,
        &scope.repo,
        Some(&scope.workflow),
        &[("branch", branch)],
        1,
    )?;
    let newest = runs.into_iter().next().ok_or_else(|| {
        Error::api(format!(
            "no runs of {} on `{branch}` of {}: run the workflow there once, or check --branch ({})",
            scope.workflow,
            scope.repo,
            api.workflow_page(&scope.repo, &scope.workflow)
        ))
    })?;
    let run = RunRef::new(scope.repo.clone(), newest.id);
    let build = build_of(api, &run, Some(&newest), word(&newest), state(&newest));
    Ok((newest, build))
}

/// Reruns the run: a new attempt of the same run, so its id is what is printed, and a wait
/// follows the attempt after the one that was rerun.
pub fn restart<'a>(
    ctx: &Ctx,
    api: &'a Api,
    scope: &Restart,
    newest: Run,
) -> Result<Tracked<'a, RunRef>> {
    let mut run = RunRef::new(scope.repo.clone(), newest.id);
    output::event(format!(
        "rerunning {}run {} (#{}, attempt {}: {}) of {} on `{}`",
        if scope.failed_only {
            "the failed jobs of "
        } else {
            ""
        },
        run.id,
        newest
            .run_number
            .map_or_else(|| "?".to_string(), |n| n.to_string()),
        newest.attempt(),
        word(&newest),
        scope.workflow,
        newest.head_branch.as_deref().unwrap_or("?")
    ));
    api.rerun(ctx, &run, scope.failed_only)?;
    run.after_attempt = Some(newest.attempt());
    let line = format!(
        "rerun of run {} requested as attempt {}: {}",
        run.id,
        newest.attempt() + 1,
        api.run_url(&run)
    );
    let mut t = tracked(api, &run, None, "requested", Some(line));
    t.build.number = newest.run_number;
    Ok(t)
}

/// Recent runs as rows of the shared shape. The branch and status filters go to GitHub;
/// the branch is checked again here.
pub fn list(ctx: &Ctx, api: &Api, scope: &Listing, filter: &Filter) -> Result<Vec<Listed>> {
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(b) = &filter.branch {
        query.push(("branch", b));
    }
    if let Some(s) = &filter.status {
        query.push(("status", s));
    }
    let runs = api.runs(
        ctx,
        &scope.repo,
        scope.workflow.as_deref(),
        &query,
        filter.limit,
    )?;
    let branch_only = Filter {
        status: None,
        ..filter.clone()
    };
    Ok(runs
        .iter()
        .map(|r| row(api, scope, r))
        .filter(|row| branch_only.keeps(row))
        .collect())
}

fn row(api: &Api, scope: &Listing, r: &Run) -> Listed {
    let run = RunRef::new(scope.repo.clone(), r.id);
    let st = state(r);
    // A run has no completion time of its own: once completed, its last update is it.
    let finished = st.is_finished().then(|| r.updated_at.clone()).flatten();
    let began = r.run_started_at.as_deref().or(r.created_at.as_deref());
    Listed {
        provider: super::NAME,
        id: run.to_string(),
        number: r.run_number,
        pipeline: r.name.clone(),
        branch: r.head_branch.clone(),
        commit: r.head_sha.clone(),
        status: word(r),
        result: listing::result_word(st),
        created_at: r.created_at.clone(),
        duration_s: listing::duration_s(began, finished.as_deref()),
        finished_at: finished,
        url: Some(api.run_url(&run)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BuildState::*;

    #[test]
    fn statuses_and_conclusions() {
        let c = |s: &str, c: Option<&str>| state_of(Some(s), c);
        for s in [
            "queued",
            "in_progress",
            "requested",
            "pending",
            "waiting",
            "brand_new",
        ] {
            assert_eq!(c(s, None), Running, "{s}");
        }
        assert_eq!(state_of(None, None), Running);
        assert_eq!(c("completed", None), Running);
        assert_eq!(c("completed", Some("success")), Success);
        assert_eq!(c("completed", Some("neutral")), Success);
        for failed in [
            "failure",
            "timed_out",
            "startup_failure",
            "action_required",
            "stale",
            "skipped",
            "something_new",
        ] {
            assert_eq!(c("completed", Some(failed)), Failed, "{failed}");
        }
        assert_eq!(c("completed", Some("cancelled")), Terminated);
    }

    #[test]
    fn refs_as_runs_name_them() {
        assert_eq!(branch_name("refs/heads/release/2.x"), "release/2.x");
        assert_eq!(branch_name("refs/tags/v1"), "v1");
        assert_eq!(branch_name("main"), "main");
    }
}
