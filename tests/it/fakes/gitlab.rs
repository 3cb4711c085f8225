//! A fake GitLab REST API v4, shaped after GitLab's API documentation (`doc/api/pipelines.md`,
//! `pipeline_triggers.md`, `jobs.md`) and its OpenAPI description: projects by numeric id or
//! by URL-encoded path (a raw slash in the path is 404, as on GitLab), both ways to start a
//! pipeline (`POST /projects/P/pipeline` with JSON and `PRIVATE-TOKEN`; `POST
//! /projects/P/trigger/pipeline` with a form carrying `token`), pipelines that advance one
//! status per read (`created` → `pending` → `running` → a final status), `latest`, retry
//! (answered with the pipeline as it was, the rerun showing a moment later), cancel
//! (`canceling`, then `canceled`), jobs whose traces grow with every read while they run,
//! `X-Next-Page` pagination, `Range` on traces (or ignored, as GitLab's trace endpoint
//! does), and the refusals GitLab gives: 401, 403 for a job token the project does not
//! allow, 404, 400 with `{"message": {"base": [...]}}`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{rfc3339_ms, Clock, Ending, Fake, Histories, Request, Started, Timed};
use crate::support::{percent_decode, FakeServer, Recorded, Reply};

pub const TOKEN: &str = "glpat-fake-access-token-0123456789";
pub const TRIGGER_TOKEN: &str = "glptt-fake-trigger-token-0123456789";
pub const JOB_TOKEN: &str = "glcbt-64_fake-job-token-0123456789abcdef";
/// The project most cases use, by path and by id.
pub const PROJECT: &str = "acme/app";
pub const PROJECT_ID: u64 = 42;
/// A project in a subgroup.
pub const DEEP_PROJECT: &str = "acme/platform/deploy";
pub const DEEP_PROJECT_ID: u64 = 43;
/// The newest pipeline on `main` of `acme/app` (it failed), and an older one.
pub const NEWEST_MAIN: u64 = 1003;
pub const OLDER_MAIN: u64 = 1001;
/// The newest on `dev`, newer than any on main.
pub const NEWEST_DEV: u64 = 1004;
/// The id the first pipeline a fake starts gets.
pub const FIRST_NEW: u64 = 2001;
/// A pipeline of `acme/app` a test adds that goes by the clock ([`Timed`]).
pub const TIMED: u64 = 3100;
pub const REFS: &[&str] = &["main", "dev", "v1.0"];

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub stage: String,
    pub status: String,
    pub allow_failure: bool,
    pub trace: Vec<u8>,
    /// Appended to the trace, one per read while the job runs; all of it once it finished.
    pub growth: VecDeque<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub id: u64,
    pub project_id: u64,
    pub git_ref: String,
    pub status: String,
    /// Statuses still to come, one per read.
    pub upcoming: VecDeque<String>,
    pub finished_at: Option<String>,
    /// How it was started: the JSON body, or the form fields; `Null` if it was there already.
    pub request: Value,
    pub jobs: Vec<Job>,
    /// The jobs follow the pipeline's status (a pipeline the fake started or retried);
    /// otherwise they keep the statuses a test gave them.
    pub jobs_follow: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Goes by the clock instead of by reads.
    pub timed: Option<Timed>,
}

/// The times of the pipelines that do not go by the clock: a month before these tests were
/// written, so no wait plans its polls around them.
const CREATED_AT: &str = "2026-11-01T10:00:00.000Z";
const UPDATED_AT: &str = "2026-11-01T10:05:00.000Z";

impl Pipeline {
    /// Moves a timed pipeline on to what the clock says; `read`: a read of it. It is
    /// created when it starts, and its `created_at` says so.
    fn tick(&mut self, read: bool) {
        let Some(timed) = self.timed.as_mut() else {
            return;
        };
        if timed.tick(read) {
            self.created_at = rfc3339_ms(cirelay::time::now_unix());
        }
        match timed.clock() {
            Clock::Unstarted => {}
            clock @ (Clock::Queued | Clock::Running) => {
                if clock == Clock::Running {
                    self.status = "running".into();
                }
                self.updated_at = self.created_at.clone();
            }
            Clock::Over if self.status != timed.ending => {
                self.status = timed.ending.clone();
                let created = cirelay::time::rfc3339(&self.created_at).unwrap_or_default() as u64;
                self.updated_at = rfc3339_ms(created + timed.lasts.as_secs());
                self.finished_at = Some(self.updated_at.clone());
            }
            Clock::Over => {}
        }
    }
}

#[derive(Debug)]
pub struct State {
    /// Oldest first.
    pub pipelines: Vec<Pipeline>,
    pub next_id: u64,
    pub next_job: u64,
    /// The statuses a new pipeline goes through: the first is the trigger's answer.
    pub lifecycle: Vec<String>,
    /// How the `test` job of a new pipeline ends when the pipeline does.
    pub test_job_ends: String,
    /// The most items a page holds, whatever `per_page` asks (forces pagination).
    pub page_size: usize,
    /// Whether traces honour `Range` (GitLab's trace endpoint sends the whole trace).
    pub honour_range: bool,
    /// Whether this project lets a job token read its pipelines (Job token permissions).
    pub job_token_reads: bool,
    /// Finishes so far, for finish times that differ.
    pub finishes: u64,
    /// Leave `web_url` out of pipeline answers.
    pub no_web_url: bool,
    /// New pipelines go by the clock: `running` this long from their creation, then they
    /// end as the lifecycle does.
    pub new_pipelines_last: Option<Duration>,
}

pub struct Gitlab {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
}

fn job(id: u64, name: &str, stage: &str, status: &str, trace: &str, growth: &[&str]) -> Job {
    Job {
        id,
        name: name.into(),
        stage: stage.into(),
        status: status.into(),
        allow_failure: false,
        trace: trace.as_bytes().to_vec(),
        growth: growth.iter().map(|g| g.as_bytes().to_vec()).collect(),
    }
}

/// GitLab's section markers around a job's steps, as its runner writes them.
pub fn section(name: &str, body: &str) -> String {
    format!(
        "\u{1b}[0Ksection_start:1700000000:{name}[collapsed=false]\r\u{1b}[0K\u{1b}[36;1m$ {name}\u{1b}[0;m\n{body}\u{1b}[0Ksection_end:1700000001:{name}\r\u{1b}[0K\n"
    )
}

impl Gitlab {
    /// A new pipeline runs `created`, `pending`, `running`, then `final_status`.
    pub fn start(final_status: &str) -> Self {
        let old = |id: u64, git_ref: &str, status: &str| Pipeline {
            id,
            project_id: PROJECT_ID,
            git_ref: git_ref.into(),
            status: status.into(),
            upcoming: VecDeque::new(),
            finished_at: Some(format!("2026-11-01T09:{:02}:00.000Z", id % 60)),
            request: Value::Null,
            jobs_follow: true,
            created_at: CREATED_AT.into(),
            updated_at: UPDATED_AT.into(),
            timed: None,
            jobs: vec![
                job(
                    id * 10 + 1,
                    "build",
                    "build",
                    "success",
                    &section("build", "compiled\n"),
                    &[],
                ),
                job(
                    id * 10 + 2,
                    "test",
                    "test",
                    if status == "failed" {
                        "failed"
                    } else {
                        "success"
                    },
                    &section("test", "1 test failed\n"),
                    &[],
                ),
            ],
        };
        let test_job_ends = match final_status {
            "success" => "success",
            "canceled" => "canceled",
            "running" => "running",
            _ => "failed",
        };
        let state = Arc::new(Mutex::new(State {
            pipelines: vec![
                old(OLDER_MAIN, "main", "success"),
                old(1002, "dev", "success"),
                old(NEWEST_MAIN, "main", "failed"),
                old(NEWEST_DEV, "dev", "success"),
            ],
            next_id: FIRST_NEW,
            next_job: 50_001,
            lifecycle: vec![
                "created".into(),
                "pending".into(),
                "running".into(),
                final_status.into(),
            ],
            test_job_ends: test_job_ends.into(),
            page_size: 100,
            honour_range: false,
            job_token_reads: true,
            finishes: 0,
            no_web_url: false,
            new_pipelines_last: None,
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        Gitlab { server, state }
    }

    pub fn api(&self) -> String {
        format!("{}/api/v4", self.server.url)
    }

    /// The web address of a pipeline of `project`.
    pub fn pipeline_url(&self, project: &str, id: u64) -> String {
        format!("{}/{project}/-/pipelines/{id}", self.server.url)
    }

    /// Only the trigger token: starts pipelines, reads nothing.
    pub fn trigger_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITLAB_TRIGGER_TOKEN", TRIGGER_TOKEN.to_string()),
            ("GITLAB_API_URL", self.api()),
        ]
    }

    /// Inside a GitLab CI job: the job token and the instance's API.
    pub fn job_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CI_JOB_TOKEN", JOB_TOKEN.to_string()),
            ("CI_API_V4_URL", self.api()),
        ]
    }

    pub fn pipeline(&self, id: u64) -> Pipeline {
        let state = self.state.lock().unwrap();
        state
            .pipelines
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("no pipeline {id}"))
    }

    /// Adds a pipeline of `acme/app` that goes through `statuses` (the first is how it is
    /// now, then one per read), with the given jobs.
    pub fn add_pipeline(&self, id: u64, git_ref: &str, statuses: &[&str], jobs: Vec<Job>) {
        let mut state = self.state.lock().unwrap();
        let mut upcoming: VecDeque<String> = statuses.iter().map(|s| s.to_string()).collect();
        let status = upcoming.pop_front().unwrap();
        state.pipelines.push(Pipeline {
            id,
            project_id: PROJECT_ID,
            git_ref: git_ref.into(),
            status,
            upcoming,
            finished_at: None,
            request: Value::Null,
            jobs,
            jobs_follow: false,
            created_at: CREATED_AT.into(),
            updated_at: UPDATED_AT.into(),
            timed: None,
        });
    }

    /// Successful pipelines of `acme/app` on `git_ref` that took `durations` (seconds from
    /// creation to their last update), the newest ending a minute ago: the history a wait
    /// plans its polls from.
    pub fn add_history(&self, git_ref: &str, durations: &[u64]) {
        let mut state = self.state.lock().unwrap();
        let mut ended = cirelay::time::now_unix() - 60;
        for (k, took) in durations.iter().enumerate() {
            state.pipelines.insert(
                0,
                Pipeline {
                    id: 900 - k as u64,
                    project_id: PROJECT_ID,
                    git_ref: git_ref.into(),
                    status: "success".into(),
                    upcoming: VecDeque::new(),
                    finished_at: Some(rfc3339_ms(ended)),
                    request: Value::Null,
                    jobs: Vec::new(),
                    jobs_follow: false,
                    created_at: rfc3339_ms(ended - took),
                    updated_at: rfc3339_ms(ended),
                    timed: None,
                },
            );
            ended -= took + 60;
        }
    }

    /// A pipeline of `acme/app` on `git_ref` that is created when it is first read and
    /// runs for `lasts`, then ends as `final_status`.
    pub fn add_timed_pipeline(&self, id: u64, git_ref: &str, lasts: Duration, final_status: &str) {
        self.add_pipeline(id, git_ref, &["created"], Vec::new());
        let mut state = self.state.lock().unwrap();
        let p = state.pipelines.last_mut().unwrap();
        p.timed = Some(Timed::new(lasts, None, final_status));
    }

    pub fn job(id: u64, name: &str, status: &str, trace: &str, growth: &[&str]) -> Job {
        job(id, name, "test", status, trace, growth)
    }
}

fn project_id(raw: &str) -> Option<u64> {
    match percent_decode(raw).as_str() {
        "42" | PROJECT => Some(PROJECT_ID),
        "43" | DEEP_PROJECT => Some(DEEP_PROJECT_ID),
        _ => None,
    }
}

fn path_of(project: u64) -> &'static str {
    if project == DEEP_PROJECT_ID {
        DEEP_PROJECT
    } else {
        PROJECT
    }
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, json!({ "message": text }))
}

/// Who a request speaks for.
#[derive(PartialEq)]
enum Caller {
    Access,
    Job,
    Nobody,
}

fn caller(req: &Recorded) -> Result<Caller, Reply> {
    match (req.header("private-token"), req.header("job-token")) {
        (Some(TOKEN), _) => Ok(Caller::Access),
        (Some(_), _) => Err(message(401, "401 Unauthorized")),
        (None, Some(JOB_TOKEN)) => Ok(Caller::Job),
        (None, Some(_)) => Err(message(401, "401 Unauthorized")),
        (None, None) => Ok(Caller::Nobody),
    }
}

fn handle(state: &Mutex<State>, req: &Recorded) -> Reply {
    let Some(rest) = req.path().strip_prefix("/api/v4/projects/") else {
        return message(404, "404 Not Found");
    };
    let (raw_project, route) = rest.split_once('/').unwrap_or((rest, ""));
    let who = match caller(req) {
        Ok(who) => who,
        Err(refused) => return refused,
    };
    // A raw slash in a path splits it: GitLab finds no such route or project.
    let Some(project) = project_id(raw_project) else {
        return message(404, "404 Project Not Found");
    };
    let mut state = state.lock().unwrap();
    let segments: Vec<&str> = route.split('/').collect();
    let read_denied = |state: &State| {
        match who {
        Caller::Access => None,
        Caller::Job if state.job_token_reads => None,
        Caller::Job => Some(message(
            403,
            "403 Forbidden - Authentication by CI/CD job token not allowed from acme/caller to acme/app.",
        )),
        Caller::Nobody => Some(message(404, "404 Project Not Found")),
    }
    };
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["trigger", "pipeline"]) => trigger(&mut state, project, req),
        ("POST", ["pipeline"]) => {
            if who != Caller::Access {
                return message(401, "401 Unauthorized");
            }
            create(&mut state, project, req)
        }
        (method, _) if method != "GET" && who != Caller::Access => message(403, "403 Forbidden"),
        _ if read_denied(&state).is_some() => read_denied(&state).unwrap(),
        ("GET", [""]) => Reply::json(
            200,
            json!({
                "id": project,
                "path_with_namespace": path_of(project),
                "default_branch": "main",
                "web_url": format!("{}/{}", base_url(req), path_of(project)),
            }),
        ),
        ("GET", ["pipelines"]) => list(&mut state, project, req),
        ("GET", ["pipelines", "latest"]) => {
            let git_ref = req.query("ref").unwrap_or_else(|| "main".into());
            let newest = state
                .pipelines
                .iter()
                .filter(|p| p.project_id == project && p.git_ref == git_ref)
                .max_by_key(|p| p.id);
            match newest {
                Some(p) => Reply::json(200, answer(&state, p, req, true)),
                None => message(404, "404 Pipeline Not Found"),
            }
        }
        ("GET", ["pipelines", id]) => match find(&mut state, project, id) {
            Some(i) => {
                advance(&mut state, i);
                state.pipelines[i].tick(true);
                Reply::json(200, answer(&state, &state.pipelines[i], req, true))
            }
            None => message(404, "404 Not found"),
        },
        ("POST", ["pipelines", id, "retry"]) => match find(&mut state, project, id) {
            Some(i) => retry(&mut state, i, req),
            None => message(404, "404 Not found"),
        },
        ("POST", ["pipelines", id, "cancel"]) => match find(&mut state, project, id) {
            Some(i) => {
                let p = &mut state.pipelines[i];
                p.timed = None;
                if !matches!(
                    p.status.as_str(),
                    "success" | "failed" | "canceled" | "skipped"
                ) {
                    p.status = "canceling".into();
                    p.upcoming = VecDeque::from(["canceled".to_string()]);
                }
                Reply::json(200, answer(&state, &state.pipelines[i], req, true))
            }
            None => message(404, "404 Not found"),
        },
        ("GET", ["pipelines", id, "jobs"]) => match find(&mut state, project, id) {
            Some(i) => jobs(&state, i, req),
            None => message(404, "404 Not found"),
        },
        ("GET", ["jobs", job, "trace"]) => {
            if who == Caller::Job {
                return message(403, "403 Forbidden");
            }
            trace(&mut state, project, job, req)
        }
        _ => message(404, "404 Not Found"),
    }
}

/// `http://127.0.0.1:PORT`, as the request reached the fake.
fn base_url(req: &Recorded) -> String {
    format!("http://{}", req.header("host").unwrap_or("127.0.0.1"))
}

fn find(state: &mut State, project: u64, id: &str) -> Option<usize> {
    let id: u64 = id.parse().ok()?;
    state
        .pipelines
        .iter()
        .position(|p| p.id == id && p.project_id == project)
}

fn is_final(status: &str) -> bool {
    matches!(status, "success" | "failed" | "canceled" | "skipped")
}

/// One read: the next status, the jobs following it, the traces complete once it finished.
fn advance(state: &mut State, i: usize) {
    let test_ends = state.test_job_ends.clone();
    let p = &mut state.pipelines[i];
    let Some(next) = p.upcoming.pop_front() else {
        return;
    };
    // The same status again (the moment after a retry): nothing moved.
    if next == p.status {
        return;
    }
    p.status = next;
    let status = p.status.clone();
    let jobs = if p.jobs_follow {
        p.jobs.as_mut_slice()
    } else {
        &mut []
    };
    for j in jobs {
        if is_final(&j.status) && j.growth.is_empty() && status == "running" {
            continue;
        }
        j.status = match status.as_str() {
            "created" | "pending" => status.clone(),
            "running" | "canceling" => "running".into(),
            "success" => "success".into(),
            _ if j.name == "test" => match status.as_str() {
                "canceled" => "canceled".into(),
                _ => test_ends.clone(),
            },
            _ => "success".into(),
        };
        if is_final(&j.status) {
            while let Some(more) = j.growth.pop_front() {
                j.trace.extend(more);
            }
        }
    }
    if is_final(&status) {
        state.finishes += 1;
        let n = state.finishes;
        state.pipelines[i].finished_at = Some(format!("2026-11-01T11:00:{:02}.000Z", n % 60));
    } else if status == "running" {
        state.pipelines[i].finished_at = None;
    }
}

fn answer(state: &State, p: &Pipeline, req: &Recorded, detailed: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        // The seeded history's ids are below 1000.
        "iid": if p.id > 1000 { p.id - 1000 } else { p.id },
        "project_id": p.project_id,
        "sha": format!("{:040x}", p.id),
        "ref": p.git_ref,
        "status": p.status,
        "source": if p.request.is_null() { "push" } else { "api" },
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "web_url": format!("{}/{}/-/pipelines/{}", base_url(req), path_of(p.project_id), p.id),
    });
    if state.no_web_url {
        v.as_object_mut().unwrap().remove("web_url");
    }
    if detailed {
        v["finished_at"] = json!(p.finished_at);
        v["started_at"] = json!("2026-11-01T10:00:05.000Z");
    }
    v
}

fn new_pipeline(
    state: &mut State,
    project: u64,
    git_ref: &str,
    request: Value,
    req: &Recorded,
) -> Reply {
    if !REFS.contains(&git_ref) {
        return Reply::json(400, json!({"message": {"base": ["Reference not found"]}}));
    }
    let id = state.next_id;
    state.next_id += 1;
    let first_job = state.next_job;
    state.next_job += 2;
    let mut upcoming: VecDeque<String> = state.lifecycle.iter().cloned().collect();
    let status = upcoming.pop_front().unwrap_or_else(|| "created".into());
    let ending = upcoming.back().map_or("success", String::as_str);
    let timed = state
        .new_pipelines_last
        .map(|lasts| Timed::new(lasts, Some(Instant::now()), ending));
    if timed.is_some() {
        upcoming.clear();
    }
    let created_at = match timed {
        Some(_) => rfc3339_ms(cirelay::time::now_unix()),
        None => CREATED_AT.into(),
    };
    let mut build = job(
        first_job,
        "build",
        "build",
        "created",
        &section("build", "compiled\n"),
        &[],
    );
    build.growth = VecDeque::from([b"warming up\n".to_vec()]);
    let test = job(
        first_job + 1,
        "test",
        "test",
        "created",
        "\u{1b}[0Ksection_start:1700000000:test\r\u{1b}[0Krunning tests\n",
        &[
            "test 1 ok\ntest 2 ",
            "failed: expected 2\n",
            "done\u{1b}[0Ksection_end:1700000002:test\r\u{1b}[0K\n",
        ],
    );
    state.pipelines.push(Pipeline {
        id,
        project_id: project,
        git_ref: git_ref.into(),
        status,
        upcoming,
        finished_at: None,
        request,
        jobs: vec![build, test],
        jobs_follow: true,
        updated_at: created_at.clone(),
        created_at,
        timed,
    });
    let p = state.pipelines.last().unwrap();
    Reply::json(201, answer(state, p, req, false))
}

/// `POST /projects/P/pipeline`: JSON `{ref, variables: [{key, value}], inputs}`.
fn create(state: &mut State, project: u64, req: &Recorded) -> Reply {
    let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
        return message(400, "400 Bad request - body is not JSON");
    };
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return message(415, "415 Unsupported Media Type");
    }
    let Some(git_ref) = body.get("ref").and_then(Value::as_str) else {
        return Reply::json(400, json!({"error": "ref is missing"}));
    };
    if let Some(vars) = body.get("variables") {
        let ok = vars.as_array().is_some_and(|a| {
            a.iter().all(|v| {
                v.get("key").is_some_and(Value::is_string)
                    && v.get("value").is_some_and(Value::is_string)
            })
        });
        if !ok {
            return Reply::json(400, json!({"error": "variables is invalid"}));
        }
    }
    if body.get("inputs").is_some_and(|i| !i.is_object()) {
        return Reply::json(400, json!({"error": "inputs is invalid"}));
    }
    let git_ref = git_ref.to_string();
    new_pipeline(state, project, &git_ref, body, req)
}

/// The fields of a form body, decoded.
pub fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `POST /projects/P/trigger/pipeline`: form fields `token`, `ref`, `variables[K]`, `inputs[K]`.
fn trigger(state: &mut State, project: u64, req: &Recorded) -> Reply {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return message(400, "400 Bad request - token is missing");
    }
    let fields = form(&req.body);
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    match get("token").as_deref() {
        Some(TRIGGER_TOKEN | JOB_TOKEN) => {}
        Some(_) => return message(404, "404 Not Found"),
        None => return Reply::json(400, json!({"error": "token is missing"})),
    }
    let Some(git_ref) = get("ref") else {
        return Reply::json(400, json!({"error": "ref is missing"}));
    };
    let mut variables = serde_json::Map::new();
    let mut inputs = serde_json::Map::new();
    for (k, v) in &fields {
        if let Some(name) = k
            .strip_prefix("variables[")
            .and_then(|n| n.strip_suffix(']'))
        {
            variables.insert(name.into(), json!(v));
        } else if let Some(name) = k.strip_prefix("inputs[").and_then(|n| n.strip_suffix(']')) {
            inputs.insert(name.into(), json!(v));
        } else if k != "token" && k != "ref" {
            return Reply::json(
                400,
                json!({"error": format!("{k} does not have a valid value")}),
            );
        }
    }
    let request = json!({"ref": git_ref, "variables": variables, "inputs": inputs});
    new_pipeline(state, project, &git_ref, request, req)
}

/// The retry: failed and canceled jobs run again (as new jobs); the answer shows the
/// pipeline as it was, and one more read does too, before it runs again.
fn retry(state: &mut State, i: usize, req: &Recorded) -> Reply {
    let before = answer(state, &state.pipelines[i], req, true);
    let final_status = state
        .lifecycle
        .last()
        .cloned()
        .unwrap_or_else(|| "success".into());
    let mut next_job = state.next_job;
    let p = &mut state.pipelines[i];
    let mut retried = Vec::new();
    for j in p
        .jobs
        .iter_mut()
        .filter(|j| matches!(j.status.as_str(), "failed" | "canceled"))
    {
        let mut again = j.clone();
        again.id = next_job;
        next_job += 1;
        again.status = "pending".into();
        again.trace = b"retrying\n".to_vec();
        again.growth = VecDeque::from([b"second attempt\n".to_vec()]);
        retried.push((j.id, again));
    }
    if !retried.is_empty() {
        for (old, again) in retried {
            p.jobs.retain(|j| j.id != old);
            p.jobs.push(again);
        }
        p.upcoming = VecDeque::from([p.status.clone(), "running".into(), final_status]);
    }
    state.next_job = next_job;
    Reply::json(201, before)
}

/// Pages of `items` as GitLab pages them: `page`, `per_page` (at most the fake's page
/// size), and `X-Next-Page`/`X-Page`/`X-Per-Page`/`X-Total` headers.
fn paged(state: &State, items: Vec<Value>, req: &Recorded) -> Reply {
    let per_page = req
        .query("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 100)
        .min(state.page_size);
    let page = req
        .query("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let next = if page * per_page < total {
        (page + 1).to_string()
    } else {
        String::new()
    };
    Reply::json(200, Value::Array(slice))
        .header("X-Next-Page", &next)
        .header("X-Page", &page.to_string())
        .header("X-Per-Page", &per_page.to_string())
        .header("X-Total", &total.to_string())
}

fn list(state: &mut State, project: u64, req: &Recorded) -> Reply {
    for p in &mut state.pipelines {
        p.tick(false);
    }
    let git_ref = req.query("ref");
    let status = req.query("status");
    let mut found: Vec<&Pipeline> = state
        .pipelines
        .iter()
        .filter(|p| p.project_id == project)
        .filter(|p| git_ref.as_deref().is_none_or(|r| p.git_ref == r))
        .filter(|p| status.as_deref().is_none_or(|s| p.status == s))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.id));
    let items = found.iter().map(|p| answer(state, p, req, false)).collect();
    paged(state, items, req)
}

fn jobs(state: &State, i: usize, req: &Recorded) -> Reply {
    // `scope[]=failed`, its brackets percent-encoded or not.
    let failed_only = req.target.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|kv| percent_decode(kv) == "scope[]=failed")
    });
    let p = &state.pipelines[i];
    let mut jobs: Vec<&Job> = p
        .jobs
        .iter()
        .filter(|j| !failed_only || j.status == "failed")
        .collect();
    // Newest first, as GitLab lists them.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.id));
    let items = jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "name": j.name,
                "stage": j.stage,
                "status": j.status,
                "allow_failure": j.allow_failure,
                "ref": p.git_ref,
                "web_url": format!("{}/{}/-/jobs/{}", base_url(req), path_of(p.project_id), j.id),
            })
        })
        .collect();
    paged(state, items, req)
}

fn trace(state: &mut State, project: u64, job: &str, req: &Recorded) -> Reply {
    let Ok(job) = job.parse::<u64>() else {
        return message(404, "404 Not Found");
    };
    let honour_range = state.honour_range;
    let Some(j) = state
        .pipelines
        .iter_mut()
        .filter(|p| p.project_id == project)
        .flat_map(|p| p.jobs.iter_mut())
        .find(|j| j.id == job)
    else {
        return message(404, "404 Not Found");
    };
    let body = j.trace.clone();
    // A running job's trace has grown by the next read.
    if j.status == "running" {
        if let Some(more) = j.growth.pop_front() {
            j.trace.extend(more);
        }
    }
    let from = req
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match from {
        Some(from) if honour_range && from >= body.len() => {
            Reply::empty(416).header("Content-Range", &format!("bytes */{}", body.len()))
        }
        Some(from) if honour_range => Reply::Answer {
            status: 206,
            reason: Some("Partial Content".into()),
            headers: vec![
                ("Content-Type".into(), "text/plain".into()),
                (
                    "Content-Range".into(),
                    format!("bytes {from}-{}/{}", body.len() - 1, body.len()),
                ),
            ],
            body: body[from..].to_vec(),
        },
        _ => Reply::Answer {
            status: 200,
            reason: None,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body,
        },
    }
}

impl Fake for Gitlab {
    fn whose_builds_end(ending: Ending) -> Self {
        Gitlab::start(match ending {
            Ending::Succeeds => "success",
            Ending::Fails => "failed",
            Ending::IsStopped => "canceled",
            // Not a final status: the pipeline stays in it.
            Ending::NeverEnds => "running",
        })
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITLAB_TOKEN", TOKEN.to_string()),
            ("GITLAB_API_URL", self.api()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.into(), TRIGGER_TOKEN.into(), JOB_TOKEN.into()]
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["gitlab", "trigger", PROJECT, "--ref", "main"]
    }

    fn start_request(&self) -> Request {
        Request::new("POST", "/api/v4/projects/acme%2Fapp/pipeline")
    }

    fn read_request(&self) -> Request {
        Request::new(
            "GET",
            format!("/api/v4/projects/acme%2Fapp/pipelines/{FIRST_NEW}"),
        )
    }

    fn started(&self) -> Started {
        Started {
            id: format!("{PROJECT}/{FIRST_NEW}"),
            url: self.pipeline_url(PROJECT, FIRST_NEW),
        }
    }

    fn where_to_check(&self) -> String {
        format!(
            "the pipelines of {PROJECT} at {}/{PROJECT}/-/pipelines",
            self.server.url
        )
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &["gitlab", "restart-latest", PROJECT, "--branch", "main"]
    }

    fn restart_request(&self) -> Request {
        Request::new(
            "POST",
            format!("/api/v4/projects/acme%2Fapp/pipelines/{NEWEST_MAIN}/retry"),
        )
    }

    fn restarted_id(&self) -> String {
        // A retry reruns jobs in place: the pipeline keeps its id.
        format!("{PROJECT}/{NEWEST_MAIN}")
    }

    fn own_build(&self) -> (&'static str, String) {
        ("CI_PIPELINE_ID", NEWEST_MAIN.to_string())
    }

    fn provider(&self) -> &'static str {
        "gitlab"
    }

    fn stop_request(&self) -> Option<Request> {
        Some(Request::new(
            "POST",
            format!("/api/v4/projects/acme%2Fapp/pipelines/{FIRST_NEW}/cancel"),
        ))
    }

    fn rate_limit_answers(&self) -> Vec<Reply> {
        vec![
            message(429, "Retry later"),
            // GitLab.com's limits also say when the window resets.
            message(429, "Retry later").header("RateLimit-Reset", "1"),
        ]
    }
}

impl Histories for Gitlab {
    fn add_history(&self, branch: &str, durations: &[u64]) {
        Gitlab::add_history(self, branch, durations);
    }

    fn add_timed_build(&self, branch: &str, lasts: Duration) -> String {
        self.add_timed_pipeline(TIMED, branch, lasts, "success");
        format!("{PROJECT}/{TIMED}")
    }

    fn add_other_build(&self, branch: &str, n: u64, lasts: Duration) -> String {
        let id = TIMED + n;
        self.add_timed_pipeline(id, branch, lasts, "success");
        format!("{PROJECT}/{id}")
    }

    fn timed_read_line(&self) -> String {
        format!("GET /api/v4/projects/acme%2Fapp/pipelines/{TIMED}")
    }

    fn history_line(&self, branch: &str) -> String {
        format!("GET /api/v4/projects/acme%2Fapp/pipelines?per_page=10&ref={branch}&status=success&page=1")
    }
}
