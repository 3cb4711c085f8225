//! A fake GitHub Actions REST API. Like the real one: a dispatch answers 200 with the run
//! it created when asked for `return_run_details` (204 without), or, playing an older
//! GitHub Enterprise Server, refuses the field with 400 and does nothing; runs advance one
//! status per read (queued → in_progress → completed with a conclusion); a rerun adds an
//! attempt to the same run, which the API shows only a read later (the finished attempt
//! first); jobs belong to an attempt; a job's log is a 302 to a signed address on a second
//! server, the log host, which records every `Authorization` it is sent; lists are paged
//! with `Link` headers in GitHub's own `/repositories/ID/…` form; cancel is 409 once a run
//! finished. It refuses what GitHub refuses: a bad or read-only token, a private repository
//! the token cannot see (404), a workflow without `workflow_dispatch`, an unknown ref, an
//! input the workflow does not declare or one that is not a string. Both rate limits are
//! injected by the tests. It answers under `/api/v3` too, as GitHub Enterprise Server does.
//! Times are this machine's clock, and answers carry `Date`, as
//! cirelay compares run times with the server's clock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Clock, Ending, Fake, Histories, Request, Started, Timed};
use crate::support::{FakeServer, Recorded, Reply};

pub const TOKEN: &str = "ghp_fakeGitHubToken0123456789abcdefXYZ";
/// May read, not dispatch, rerun or cancel.
pub const READ_ONLY_TOKEN: &str = "github_pat_readonly_0123456789abcdef";
pub const REPO: &str = "acme/deploy";
/// A private repository no token here can see: GitHub answers 404, not 403.
pub const PRIVATE: &str = "acme/secret";
/// Links point here (`GITHUB_SERVER_URL`).
pub const WEB: &str = "https://github.example.test";
/// What a dispatched run's actor is.
pub const DISPATCHER: &str = "deploy-bot";
/// The signature every signed log address carries: a credential while it lives.
pub const SIGNATURE: &str = "fakeLogSignature0123456789";

/// The workflow the start line dispatches, and its id.
pub const DEPLOY: &str = "deploy.yml";
pub const DEPLOY_ID: u64 = 1001;
/// A workflow without `workflow_dispatch`, with seeded runs.
pub const CI: &str = "ci.yml";
pub const CI_ID: u64 = 1002;
/// Seeded runs of `ci.yml`: on `main` an older success and the newest, which failed
/// (`build` succeeded, `test` failed); one on `dev`; one still in progress on `busy`.
pub const CI_MAIN_OLD: u64 = 6_000_000_001;
pub const CI_DEV: u64 = 6_000_000_002;
pub const CI_MAIN_NEWEST: u64 = 6_000_000_003;
pub const BUSY: u64 = 6_000_000_004;
/// A run of `deploy.yml` on `main` waiting for a deployment review, twice, then a success.
pub const REVIEWED: u64 = 6_000_000_005;
/// The id the first dispatched run gets.
pub const FIRST_NEW: u64 = 7_000_000_001;
/// A run of `deploy.yml` a test adds that goes by the clock ([`Timed`]).
pub const TIMED: u64 = 6_000_000_099;
/// The repository's id in the addresses of `Link` headers.
const REPO_NUMBER: u64 = 4711;
/// Lines of a failed job's log: more than `--log-lines`' 200.
pub const FAILED_LOG_LINES: usize = 260;
/// A line of a failed job's log, in its middle.
pub const FORGED_COMMANDS: &str = "::set-output name=deployed::forged and ##[add-mask]forged";

const BRANCHES: &[&str] = &["main", "dev", "busy", "v1.0.0"];
const DEPLOY_INPUTS: &[&str] = &["environment", "version", "dry_run"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub attempt: u64,
    pub status: String,
    pub conclusion: Option<String>,
}

fn shown(attempt: u64, status: &str, conclusion: Option<&str>) -> Shown {
    Shown {
        attempt,
        status: status.into(),
        conclusion: conclusion.map(str::to_string),
    }
}

#[derive(Debug, Clone)]
pub struct Run {
    pub id: u64,
    pub workflow_id: u64,
    pub number: u64,
    pub event: String,
    pub branch: String,
    pub actor: String,
    pub created_at: String,
    pub now: Shown,
    /// What the next reads of the run show, one each; then it stays.
    pub upcoming: VecDeque<Shown>,
    /// Lists that do not show it yet (GitHub lists a new run a moment after it exists).
    pub unlisted_for: usize,
    /// Nor do lists before then.
    pub unlisted_until: Option<Instant>,
    /// Seconds from its start to its last update (`updated_at`): how long a finished run took.
    pub took: u64,
    /// Goes by the clock instead of by reads.
    pub timed: Option<Timed>,
}

impl Run {
    /// Moves a timed run on to what the clock says; `read`: a read of the run. Its
    /// `created_at` says when it started.
    fn tick(&mut self, read: bool) {
        let Some(timed) = self.timed.as_mut() else {
            return;
        };
        if timed.tick(read) {
            self.created_at = cirelay::time::rfc3339_utc(now_unix());
        }
        let a = self.now.attempt;
        match timed.clock() {
            Clock::Running => self.now = shown(a, "in_progress", None),
            Clock::Over => {
                self.now = shown(a, "completed", Some(&timed.ending));
                self.took = timed.lasts.as_secs();
            }
            Clock::Unstarted | Clock::Queued => {}
        }
    }
}

impl Run {
    fn is_completed(&self) -> bool {
        self.now.status == "completed"
    }
}

#[derive(Debug)]
pub struct State {
    /// Oldest first.
    pub runs: Vec<Run>,
    pub next_id: u64,
    /// How new runs (dispatched) and new attempts (reruns) go, after `queued`.
    pub plan: Vec<Shown>,
    /// Playing GitHub Enterprise Server before `return_run_details`: a dispatch naming it
    /// is refused with this status.
    pub refuse_run_details: Option<u16>,
    /// Lists that do not show a new run yet.
    pub list_delay: usize,
    /// How long after its dispatch a new run is not listed yet.
    pub list_delay_for: Option<Duration>,
    /// Someone else dispatches the same workflow on the same ref at the same moment (only
    /// for dispatches without run details, where it matters).
    pub also_dispatched_by: Option<String>,
    /// Takes `return_run_details` but answers 204 all the same.
    pub ignore_run_details: bool,
    /// Dispatched runs go by the clock: in progress this long from their dispatch, then
    /// completed as the plan ends.
    pub new_runs_last: Option<Duration>,
}

pub struct GitHub {
    pub server: FakeServer,
    /// Serves the signed log addresses; every request it got, with its headers.
    pub log_host: FakeServer,
    pub state: Arc<Mutex<State>>,
}

/// The run ending `ending` goes through after `queued`.
fn plan(ending: Ending, attempt: u64) -> Vec<Shown> {
    let last = match ending {
        Ending::Succeeds => Some("success"),
        Ending::Fails => Some("failure"),
        Ending::IsStopped => Some("cancelled"),
        Ending::NeverEnds => None,
    };
    let mut steps = vec![shown(attempt, "in_progress", None)];
    if let Some(c) = last {
        steps.push(shown(attempt, "completed", Some(c)));
    }
    steps
}

fn seeded(id: u64, workflow_id: u64, number: u64, branch: &str, event: &str, now: Shown) -> Run {
    Run {
        id,
        workflow_id,
        number,
        event: event.into(),
        branch: branch.into(),
        actor: "octocat".into(),
        created_at: format!("2026-02-0{}T10:00:00Z", number % 9 + 1),
        now,
        upcoming: VecDeque::new(),
        unlisted_for: 0,
        unlisted_until: None,
        took: 0,
        timed: None,
    }
}

impl GitHub {
    pub fn start(ending: Ending) -> Self {
        let mut reviewed = seeded(
            REVIEWED,
            DEPLOY_ID,
            9,
            "main",
            "push",
            shown(1, "waiting", None),
        );
        reviewed.upcoming = [
            shown(1, "waiting", None),
            shown(1, "in_progress", None),
            shown(1, "completed", Some("success")),
        ]
        .into();
        let state = Arc::new(Mutex::new(State {
            runs: vec![
                seeded(
                    CI_MAIN_OLD,
                    CI_ID,
                    1,
                    "main",
                    "push",
                    shown(1, "completed", Some("success")),
                ),
                seeded(
                    CI_DEV,
                    CI_ID,
                    2,
                    "dev",
                    "push",
                    shown(1, "completed", Some("success")),
                ),
                seeded(
                    CI_MAIN_NEWEST,
                    CI_ID,
                    3,
                    "main",
                    "push",
                    shown(1, "completed", Some("failure")),
                ),
                seeded(
                    BUSY,
                    CI_ID,
                    4,
                    "busy",
                    "push",
                    shown(1, "in_progress", None),
                ),
                reviewed,
            ],
            next_id: FIRST_NEW,
            plan: plan(ending, 1),
            refuse_run_details: None,
            list_delay: 0,
            list_delay_for: None,
            also_dispatched_by: None,
            ignore_run_details: false,
            new_runs_last: None,
        }));
        let log_state = state.clone();
        let log_host = FakeServer::start(move |req| log(&log_state.lock().unwrap(), req));
        let log_url = log_host.url.clone();
        let api_state = state.clone();
        let server = FakeServer::start(move |req| {
            let mut state = api_state.lock().unwrap();
            answer(&mut state, req, &log_url).header("Date", &http_date(now_unix()))
        });
        GitHub {
            server,
            log_host,
            state,
        }
    }

    pub fn run_url(id: u64) -> String {
        format!("{WEB}/{REPO}/actions/runs/{id}")
    }

    /// The id `OWNER/REPO/RUN_ID` cirelay prints for a run of `acme/deploy`.
    pub fn id(run: u64) -> String {
        format!("{REPO}/{run}")
    }

    pub fn run(&self, id: u64) -> Run {
        let state = self.state.lock().unwrap();
        state
            .runs
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .expect("a run of the fake")
    }

    /// `n` more finished runs of `ci.yml` on `main`, older than the seeded ones: lists of
    /// several pages.
    pub fn add_runs(&self, n: u64) {
        let mut state = self.state.lock().unwrap();
        for k in 0..n {
            let mut run = seeded(
                5_000_000_000 + k,
                CI_ID,
                1000 + k,
                "main",
                "push",
                shown(1, "completed", Some("success")),
            );
            run.created_at = format!(
                "2025-{:02}-{:02}T10:{:02}:00Z",
                1 + k / 300 % 12,
                1 + k / 12 % 25,
                k % 60
            );
            state.runs.insert(0, run);
        }
    }

    /// Finished successful runs of `workflow` on `branch` that took `durations` (seconds),
    /// the newest ending a minute ago: the history a wait plans its polls from.
    pub fn add_history(&self, workflow: u64, branch: &str, durations: &[u64]) {
        let mut state = self.state.lock().unwrap();
        let mut ended = now_unix() - 60;
        for (k, took) in durations.iter().enumerate() {
            let mut run = seeded(
                5_100_000_000 + k as u64,
                workflow,
                900 + k as u64,
                branch,
                "push",
                shown(1, "completed", Some("success")),
            );
            run.created_at = cirelay::time::rfc3339_utc(ended - took);
            run.took = *took;
            ended -= took + 60;
            state.runs.insert(0, run);
        }
    }

    /// A `push` run of `workflow` on `branch` that starts when it is first read and is in
    /// progress for `lasts`, then completes with `conclusion`.
    pub fn add_timed_run(
        &self,
        id: u64,
        workflow: u64,
        branch: &str,
        lasts: Duration,
        conclusion: &str,
    ) {
        let mut state = self.state.lock().unwrap();
        let mut run = seeded(id, workflow, 800, branch, "push", shown(1, "queued", None));
        run.timed = Some(Timed::new(lasts, None, conclusion));
        state.runs.push(run);
    }

    /// Every `Authorization` the log host was sent (there must be none).
    pub fn log_host_authorizations(&self) -> Vec<String> {
        self.log_host
            .requests()
            .iter()
            .filter_map(|r| r.header("authorization").map(str::to_string))
            .collect()
    }
}

fn now_unix() -> u64 {
    cirelay::time::now_unix()
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(unix: u64) -> String {
    let ts = cirelay::time::rfc3339_utc(unix);
    let (y, rest) = ts.split_at(4);
    let month: usize = rest[1..3].parse().unwrap();
    let (day, time) = (&rest[4..6], &rest[7..15]);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(unix / 86_400 % 7) as usize];
    format!("{weekday}, {day} {} {y} {time} GMT", months[month - 1])
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(
        status,
        json!({"message": text, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
    )
}

fn workflow_of(key: &str) -> Option<(u64, &'static str, &'static str, bool)> {
    [
        (DEPLOY_ID, DEPLOY, "Deploy", true),
        (CI_ID, CI, "CI", false),
    ]
    .into_iter()
    .find(|(id, file, _, _)| *file == key || id.to_string() == key)
}

fn workflow_name(id: u64) -> &'static str {
    workflow_of(&id.to_string()).map_or("?", |w| w.2)
}

/// A job of one attempt: `build`, then `test`, which carries the attempt's conclusion.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub name: &'static str,
    pub attempt: u64,
    pub status: String,
    pub conclusion: Option<String>,
}

pub fn job_id(run: u64, attempt: u64, k: u64) -> u64 {
    run * 100 + attempt * 10 + k
}

/// The jobs of the attempt the run shows, as its status has them: `build` finishes as soon
/// as the run is in progress, `test` with the run.
fn jobs(run: &Run) -> Vec<Job> {
    let a = run.now.attempt;
    let (build, test) = match (run.now.status.as_str(), run.now.conclusion.as_deref()) {
        ("completed", Some(c)) => (
            ("completed", Some("success")),
            (
                "completed",
                Some(if c == "skipped" { "skipped" } else { c }),
            ),
        ),
        ("in_progress", _) => (("completed", Some("success")), ("in_progress", None)),
        (s, _) => ((s, None), (s, None)),
    };
    [(1, "build", build), (2, "test (ubuntu-latest)", test)]
        .into_iter()
        .map(|(k, name, (status, conclusion))| Job {
            id: job_id(run.id, a, k),
            name,
            attempt: a,
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
        })
        .collect()
}

/// The log of a job: GitHub's form, a timestamp before each line; a failed job's is long
/// and holds what must never pass through unchanged (a secret, terminal controls, a
/// workflow command).
pub fn job_log(job: &Job) -> String {
    let t = "2026-03-01T10:00:00.0000000Z";
    let mut log = format!(
        "\u{feff}{t} ##[group]Run {}\n{t} starting {}\n{t} ##[endgroup]\n",
        job.name, job.name
    );
    if job.conclusion.as_deref() == Some("failure") {
        for n in 1..=FAILED_LOG_LINES {
            log.push_str(&format!("{t} test line {n}\n"));
            if n == FAILED_LOG_LINES / 2 {
                // Workflow commands, both forms, for the runner of a calling GitHub job.
                log.push_str(&format!("{t} {FORGED_COMMANDS}\n"));
            }
        }
        log.push_str(&format!(
            "{t} \u{1b}[31mFAIL\u{1b}[0m token {TOKEN} \u{1b}]0;title\u{7}\r\n"
        ));
        log.push_str(&format!(
            "{t} ##[error]Process completed with exit code 1.\n"
        ));
    } else {
        log.push_str(&format!("{t} {} done\n", job.name));
    }
    log
}

fn log(state: &State, req: &Recorded) -> Reply {
    let found = req
        .path()
        .strip_prefix("/logs/")
        .and_then(|id| id.parse::<u64>().ok())
        .and_then(|id| state.runs.iter().flat_map(jobs).find(|j| j.id == id));
    match (found, req.query("urlSignature").as_deref()) {
        (Some(job), Some(SIGNATURE)) => Reply::text(200, &job_log(&job)),
        (Some(_), _) => Reply::text(403, "<Error>AuthenticationFailed</Error>"),
        (None, _) => Reply::text(404, "<Error>BlobNotFound</Error>"),
    }
}

fn run_json(run: &Run) -> Value {
    let repo_api = format!("https://api.github.example/repos/{REPO}");
    json!({
        "id": run.id,
        "name": workflow_name(run.workflow_id),
        "node_id": "WFR_fake",
        "head_branch": run.branch,
        "head_sha": format!("{:040x}", run.id),
        "path": format!(".github/workflows/{}", workflow_of(&run.workflow_id.to_string()).map_or("?", |w| w.1)),
        "run_number": run.number,
        "run_attempt": run.now.attempt,
        "event": run.event,
        "status": run.now.status,
        "conclusion": run.now.conclusion,
        "workflow_id": run.workflow_id,
        "url": format!("{repo_api}/actions/runs/{}", run.id),
        "html_url": format!("https://github.com/{REPO}/actions/runs/{}", run.id),
        "created_at": run.created_at,
        "updated_at": cirelay::time::rfc3339(&run.created_at)
            .and_then(|t| u64::try_from(t).ok())
            .map_or(run.created_at.clone(), |t| cirelay::time::rfc3339_utc(t + run.took)),
        "run_started_at": run.created_at,
        "actor": {"login": run.actor},
        "triggering_actor": {"login": run.actor},
    })
}

fn job_json(run: &Run, job: &Job) -> Value {
    json!({
        "id": job.id,
        "run_id": run.id,
        "run_attempt": job.attempt,
        "name": job.name,
        "status": job.status,
        "conclusion": job.conclusion,
        "head_branch": run.branch,
        "html_url": format!("https://github.com/{REPO}/actions/runs/{}/job/{}", run.id, job.id),
    })
}

/// A page of `items` as GitHub pages lists: `per_page` (default 30, at most 100) and
/// `page`, with `Link` to the next and last pages in the repository-id form.
fn paged(req: &Recorded, key: &str, items: Vec<Value>, list_path: &str) -> Reply {
    let per_page: usize = req
        .query("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = req
        .query("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, json!({"total_count": total, key: shown}));
    if page < pages {
        let at = |n: usize| {
            format!(
                "<https://api.github.example/repositories/{REPO_NUMBER}{list_path}?per_page={per_page}&page={n}>"
            )
        };
        reply = reply.header(
            "Link",
            &format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                at(page + 1),
                at(pages)
            ),
        );
    }
    reply
}

fn answer(state: &mut State, req: &Recorded, log_url: &str) -> Reply {
    if req.header("accept") != Some("application/vnd.github+json")
        || req.header("x-github-api-version") != Some("2022-11-28")
    {
        return message(400, "fake: every request must send Accept: application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28");
    }
    let write = req.method != "GET";
    match req.header("authorization") {
        Some(a) if a == format!("Bearer {TOKEN}") => {}
        Some(a) if a == format!("Bearer {READ_ONLY_TOKEN}") && !write => {}
        Some(a) if a == format!("Bearer {READ_ONLY_TOKEN}") => {
            return message(403, "Resource not accessible by personal access token")
        }
        _ => return message(401, "Bad credentials"),
    }
    // GitHub Enterprise Server serves the same API under /api/v3.
    let path = req.path();
    let path = path.strip_prefix("/api/v3").unwrap_or(path).to_string();
    let Some(rest) = path.strip_prefix("/repos/") else {
        return message(404, "Not Found");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() < 2 || format!("{}/{}", parts[0], parts[1]) != REPO {
        return message(404, "Not Found");
    }
    match (req.method.as_str(), &parts[2..]) {
        ("GET", []) => Reply::json(
            200,
            json!({"id": REPO_NUMBER, "full_name": REPO, "private": false, "default_branch": "main"}),
        ),
        ("POST", ["actions", "workflows", w, "dispatches"]) => dispatch(state, req, w),
        ("GET", ["actions", "workflows", w, "runs"]) => match workflow_of(w) {
            Some((id, ..)) => list_runs(
                state,
                req,
                Some(id),
                &format!("/actions/workflows/{id}/runs"),
            ),
            None => message(404, "Not Found"),
        },
        ("GET", ["actions", "runs"]) => list_runs(state, req, None, "/actions/runs"),
        ("GET", ["actions", "runs", id]) => match find(state, id) {
            Some(run) => {
                if let Some(next) = run.upcoming.pop_front() {
                    run.now = next;
                }
                run.tick(true);
                Reply::json(200, run_json(run))
            }
            None => message(404, "Not Found"),
        },
        ("GET", ["actions", "runs", id, "jobs"]) => match find(state, id) {
            Some(run) => {
                let all: Vec<Value> = jobs(run).iter().map(|j| job_json(run, j)).collect();
                let list = format!("/actions/runs/{}/jobs", run.id);
                paged(req, "jobs", all, &list)
            }
            None => message(404, "Not Found"),
        },
        ("POST", ["actions", "runs", id, "cancel"]) => match find(state, id) {
            Some(run) if run.is_completed() => {
                message(409, "Cannot cancel a workflow run that is completed.")
            }
            Some(run) => {
                let a = run.now.attempt;
                run.timed = None;
                run.upcoming = [shown(a, "completed", Some("cancelled"))].into();
                Reply::json(202, json!({}))
            }
            None => message(404, "Not Found"),
        },
        ("POST", ["actions", "runs", id, what @ ("rerun" | "rerun-failed-jobs")]) => {
            let plan = state.plan.clone();
            match find(state, id) {
                Some(run) if !run.is_completed() => {
                    message(403, "This workflow is already running")
                }
                Some(run)
                    if *what == "rerun-failed-jobs"
                        && !matches!(
                            run.now.conclusion.as_deref(),
                            Some("failure" | "timed_out")
                        ) =>
                {
                    message(403, "This workflow run has no failed jobs to re-run")
                }
                Some(run) => {
                    let a = run.now.attempt + 1;
                    // GitHub shows the attempt that was rerun a moment longer.
                    let mut next: VecDeque<Shown> =
                        [run.now.clone(), shown(a, "queued", None)].into();
                    next.extend(plan.iter().map(|s| Shown {
                        attempt: a,
                        ..s.clone()
                    }));
                    run.upcoming = next;
                    Reply::json(201, json!({}))
                }
                None => message(404, "Not Found"),
            }
        }
        ("GET", ["actions", "jobs", id, "logs"]) => {
            let job = id
                .parse::<u64>()
                .ok()
                .and_then(|id| state.runs.iter().flat_map(jobs).find(|j| j.id == id));
            match job {
                Some(j) if j.status == "completed" => Reply::empty(302).header(
                    "Location",
                    &format!(
                        "{log_url}/logs/{}?urlExpires=2026-03-01T10%3A05%3A00Z&urlSigningMethod=HMACV1&urlSignature={SIGNATURE}",
                        j.id
                    ),
                ),
                _ => message(404, "Not Found"),
            }
        }
        _ => message(404, "Not Found"),
    }
}

fn find<'a>(state: &'a mut State, id: &str) -> Option<&'a mut Run> {
    let id: u64 = id.parse().ok()?;
    state.runs.iter_mut().find(|r| r.id == id)
}

fn list_runs(state: &mut State, req: &Recorded, workflow: Option<u64>, list_path: &str) -> Reply {
    let since = match req.query("created") {
        Some(c) => match c.strip_prefix(">=").and_then(cirelay::time::rfc3339) {
            Some(t) => Some(t),
            None => return message(422, "Validation Failed: created is invalid"),
        },
        None => None,
    };
    let (branch, event, status) = (req.query("branch"), req.query("event"), req.query("status"));
    for run in &mut state.runs {
        run.tick(false);
    }
    let mut picked: Vec<&mut Run> = state
        .runs
        .iter_mut()
        .filter(|r| workflow.is_none_or(|w| r.workflow_id == w))
        .filter(|r| branch.as_deref().is_none_or(|b| r.branch == b))
        .filter(|r| event.as_deref().is_none_or(|e| r.event == e))
        .filter(|r| {
            status
                .as_deref()
                .is_none_or(|s| r.now.status == s || r.now.conclusion.as_deref() == Some(s))
        })
        .filter(|r| {
            since.is_none_or(|t| cirelay::time::rfc3339(&r.created_at).is_some_and(|c| c >= t))
        })
        .collect();
    picked.retain_mut(|r| {
        if r.unlisted_until.is_some_and(|t| Instant::now() < t) {
            return false;
        }
        if r.unlisted_for > 0 {
            r.unlisted_for -= 1;
            return false;
        }
        true
    });
    // Newest first.
    picked.sort_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
    let items: Vec<Value> = picked.iter().map(|r| run_json(r)).collect();
    paged(req, "workflow_runs", items, list_path)
}

fn dispatch(state: &mut State, req: &Recorded, w: &str) -> Reply {
    let Some((workflow_id, _, _, dispatchable)) = workflow_of(w) else {
        return message(404, "Not Found");
    };
    if !dispatchable {
        return message(422, "Workflow does not have 'workflow_dispatch' trigger");
    }
    let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
        return message(400, "Problems parsing JSON");
    };
    let details = body.get("return_run_details").and_then(Value::as_bool) == Some(true);
    if let (Some(status), Some(_)) = (state.refuse_run_details, body.get("return_run_details")) {
        return message(
            status,
            "Invalid request.\n\n\"return_run_details\" is not a permitted key.",
        );
    }
    let Some(git_ref) = body.get("ref").and_then(Value::as_str) else {
        return message(422, "Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    let branch = git_ref
        .strip_prefix("refs/heads/")
        .or_else(|| git_ref.strip_prefix("refs/tags/"))
        .unwrap_or(git_ref);
    if !BRANCHES.contains(&branch) {
        return message(422, &format!("No ref found for: {git_ref}"));
    }
    if let Some(inputs) = body.get("inputs").and_then(Value::as_object) {
        let unexpected: Vec<&String> = inputs
            .keys()
            .filter(|k| !DEPLOY_INPUTS.contains(&k.as_str()))
            .collect();
        if !unexpected.is_empty() {
            return message(422, &format!("Unexpected inputs provided: {unexpected:?}"));
        }
        if let Some((k, v)) = inputs.iter().find(|(_, v)| !v.is_string()) {
            return message(422, &format!("For 'properties/{k}', {v} is not a string."));
        }
    }
    let now = cirelay::time::rfc3339_utc(now_unix());
    let mut actors = vec![DISPATCHER.to_string()];
    if !details {
        actors.extend(state.also_dispatched_by.clone());
    }
    let mut first = None;
    let conclusion = state.plan.last().and_then(|s| s.conclusion.clone());
    let timed = state.new_runs_last.map(|lasts| {
        Timed::new(
            lasts,
            Some(Instant::now()),
            conclusion.as_deref().unwrap_or("success"),
        )
    });
    for actor in actors {
        let id = state.next_id;
        state.next_id += 1;
        first.get_or_insert(id);
        let number = 100 + id - FIRST_NEW;
        state.runs.push(Run {
            id,
            workflow_id,
            number,
            event: "workflow_dispatch".into(),
            branch: branch.into(),
            actor,
            created_at: now.clone(),
            now: shown(1, "queued", None),
            upcoming: if timed.is_some() {
                VecDeque::new()
            } else {
                state.plan.clone().into()
            },
            unlisted_for: state.list_delay,
            unlisted_until: state.list_delay_for.map(|d| Instant::now() + d),
            took: 0,
            timed: timed.clone(),
        });
    }
    let id = first.expect("one run");
    if details && !state.ignore_run_details {
        Reply::json(
            200,
            json!({
                "workflow_run_id": id,
                "run_url": format!("https://api.github.example/repos/{REPO}/actions/runs/{id}"),
                "html_url": format!("https://github.com/{REPO}/actions/runs/{id}"),
            }),
        )
    } else {
        Reply::empty(204)
    }
}

impl Fake for GitHub {
    fn whose_builds_end(ending: Ending) -> Self {
        GitHub::start(ending)
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_TOKEN", TOKEN.to_string()),
            ("GITHUB_API_URL", self.server.url.clone()),
            ("GITHUB_SERVER_URL", WEB.to_string()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.to_string(), SIGNATURE.to_string()]
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["github", "trigger", REPO, DEPLOY, "--ref", "main"]
    }

    fn start_request(&self) -> Request {
        Request::new(
            "POST",
            format!("/repos/{REPO}/actions/workflows/{DEPLOY}/dispatches"),
        )
    }

    fn read_request(&self) -> Request {
        Request::new("GET", format!("/repos/{REPO}/actions/runs/"))
    }

    fn started(&self) -> Started {
        Started {
            id: GitHub::id(FIRST_NEW),
            url: GitHub::run_url(FIRST_NEW),
        }
    }

    fn where_to_check(&self) -> String {
        format!("the runs of {DEPLOY} at {WEB}/{REPO}/actions/workflows/{DEPLOY}")
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &["github", "restart-latest", REPO, CI, "--branch", "main"]
    }

    fn restart_request(&self) -> Request {
        Request::new(
            "POST",
            format!("/repos/{REPO}/actions/runs/{CI_MAIN_NEWEST}/rerun"),
        )
    }

    fn restarted_id(&self) -> String {
        // A rerun is a new attempt of the same run.
        GitHub::id(CI_MAIN_NEWEST)
    }

    fn own_build(&self) -> (&'static str, String) {
        ("GITHUB_RUN_ID", CI_MAIN_NEWEST.to_string())
    }

    fn provider(&self) -> &'static str {
        "github"
    }

    fn stop_request(&self) -> Option<Request> {
        Some(Request::new(
            "POST",
            format!("/repos/{REPO}/actions/runs/{FIRST_NEW}/cancel"),
        ))
    }

    fn rate_limit_answers(&self) -> Vec<Reply> {
        vec![
            // Secondary limits.
            message(429, "You have exceeded a secondary rate limit."),
            message(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."),
            // The primary limit.
            message(403, "API rate limit exceeded for installation ID 1.")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-limit", "1000"),
        ]
    }
}

impl Histories for GitHub {
    fn add_history(&self, branch: &str, durations: &[u64]) {
        GitHub::add_history(self, DEPLOY_ID, branch, durations);
    }

    fn add_timed_build(&self, branch: &str, lasts: Duration) -> String {
        self.add_timed_run(TIMED, DEPLOY_ID, branch, lasts, "success");
        GitHub::id(TIMED)
    }

    fn add_other_build(&self, branch: &str, n: u64, lasts: Duration) -> String {
        let id = TIMED + n;
        self.add_timed_run(id, DEPLOY_ID, branch, lasts, "success");
        GitHub::id(id)
    }

    fn timed_read_line(&self) -> String {
        format!("GET /repos/{REPO}/actions/runs/{TIMED}")
    }

    fn history_line(&self, branch: &str) -> String {
        format!("GET /repos/{REPO}/actions/workflows/{DEPLOY_ID}/runs?branch={branch}&status=success&per_page=10")
    }
}
