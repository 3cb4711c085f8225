//! A fake Codefresh API: pipelines with triggers, builds that advance one status per read
//! (pending → running → a final status), terminate (deleting a build's progress job),
//! rebuild, and the workflow list. Each build's progress job (`GET /api/progress/ID`) keeps
//! its log in a fake Firebase database (`GET /api/user/firebaseAuth` hands out a token for
//! it), which the engine writes as the build runs: steps `main_clone` and `build`, the
//! failing step's lines when it fails; or, once archived, at a download on another host. It checks what the real API would refuse: a missing or
//! `Bearer`-prefixed key, an unknown pipeline or trigger, and a run body that is not the
//! shape the Codefresh CLI sends. It also answers the user read the Codefresh CLI starts
//! with, so the benchmarks can run that CLI against it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::firebase::{Db, Firebase};
use super::{rfc3339_ms, Clock, Ending, Fake, Histories, Request, Started, Timed};
use crate::support::{percent_decode, FakeServer, Recorded, Reply};

pub const KEY: &str = "5f0c1d2e3a4b5c6d7e8f9a0b.cfkey-secret-0123456789abcdef";
/// The project/pipeline the seed line runs, and its triggers.
pub const PIPELINE: &str = "pipeB";
pub const PIPELINE_ID: &str = "60aa00000000000000000b0b";
pub const PROJECT_PIPELINE: &str = "proj/deploy";
pub const PROJECT_PIPELINE_ID: &str = "60aa00000000000000000d0d";
/// Existing builds of `proj/deploy`: the newest on `main`, then one on `dev` that is newer
/// overall.
pub const NEWEST_MAIN: &str = "6100000000000000000000a2";
pub const NEWEST_ANY: &str = "6100000000000000000000a3";
/// A build of `pipeB` a test adds that goes by the clock ([`Timed`]).
pub const TIMED: &str = "6100000000000000000000f1";

#[derive(Debug, Clone)]
pub struct Build {
    pub id: String,
    pub pipeline_id: String,
    pub pipeline_name: String,
    pub branch: String,
    pub status: String,
    pub progress: String,
    /// Statuses still to come, one per read of the build.
    pub upcoming: VecDeque<String>,
    /// Until then the build stays as it is, however often it is read.
    pub hold_until: Option<Instant>,
    pub rebuilt_from: Option<String>,
    /// The statuses its log was written for already.
    pub logged: Vec<String>,
    /// Its `started` and `finished`, where they are not the fixed times of a month ago that
    /// no wait plans its polls around.
    pub times: Option<(String, Option<String>)>,
    /// Goes by the clock instead of by reads.
    pub timed: Option<Timed>,
}

impl Build {
    /// Moves a timed build on to what the clock says; `read`: a read of it.
    fn tick(&mut self, read: bool) {
        let Some(timed) = self.timed.as_mut() else {
            return;
        };
        if timed.tick(read) {
            self.times = Some((rfc3339_ms(cirelay::time::now_unix()), None));
        }
        let Some((started, finished)) = self.times.as_mut() else {
            return;
        };
        match timed.clock() {
            Clock::Running => self.status = "running".into(),
            Clock::Over if finished.is_none() => {
                self.status = timed.ending.clone();
                let from = cirelay::time::rfc3339(started).unwrap_or_default() as u64;
                *finished = Some(rfc3339_ms(from + timed.lasts.as_secs()));
            }
            _ => {}
        }
    }
}

pub struct State {
    /// Oldest first.
    pub builds: Vec<Build>,
    pub next: u64,
    /// The statuses a new build goes through: the first is how it starts, then one per read.
    pub lifecycle: Vec<String>,
    /// Progress jobs deleted (terminated), in order.
    pub terminated: Vec<String>,
    /// Leave the progress id out of build answers (a build Codefresh has not scheduled yet).
    pub hide_progress: bool,
    /// New builds stay in their first status this long, however often they are read.
    pub hold_new: Option<Duration>,
    /// New builds go by the clock: `running` this long from their start, then they end as
    /// the lifecycle does.
    pub new_builds_last: Option<Duration>,
    /// What the engine writes to a build's log as the build reaches a status (the first
    /// read that answers it): the log database, the build's progress job, the status.
    pub writes_log: LogWriter,
    /// Progress jobs whose log was archived: their location is the archive host, where
    /// `archives` answers for them.
    pub archived: Vec<String>,
    /// Pipelines as specs (see "Pipelines as code" below): the two above, then any created.
    pub specs: Vec<Value>,
    /// Project names.
    pub projects: Vec<String>,
}

pub type LogWriter = Arc<dyn Fn(&mut Db, &str, &str) + Send + Sync>;

pub struct Codefresh {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
    /// Where running builds' logs are.
    pub firebase: Firebase,
    /// Where archived logs are downloaded from, by progress job (`/logs/ID`); it records
    /// every request, so a test sees that no key went there.
    pub archive: FakeServer,
    pub archives: Arc<Mutex<HashMap<String, Reply>>>,
}

/// The progress job of build `id`.
pub fn progress_of(id: &str) -> String {
    format!("p-{id}")
}

/// The lines the engine writes for each status of a build, as Codefresh's task logger
/// does: a step is created with its status and start time, its log chunks pushed (with
/// `\r\n`, colour sometimes), then its final status. `main_clone` starts first, though
/// `build` sorts first by name.
pub fn default_log(db: &mut Db, progress: &str, status: &str) {
    let step = |db: &mut Db, name: &str, at: u64| {
        db.set(
            &[progress, "steps", name],
            json!({"name": name, "status": "running", "creationTimeStamp": at}),
        );
    };
    let line = |db: &mut Db, name: &str, text: &str| {
        db.push(&[progress, "steps", name, "logs"], json!(text));
    };
    match status {
        "running" => {
            db.set(&[progress, "status"], json!("running"));
            step(db, "main_clone", 1_700_000_000);
            line(db, "main_clone", "Cloning into 'app'...\r\n");
            line(db, "main_clone", "\u{1b}[32mCloned\u{1b}[0m\r\n");
            db.set(
                &[progress, "steps", "main_clone", "status"],
                json!("success"),
            );
            step(db, "build", 1_700_000_005);
            line(db, "build", "npm test\r\n");
        }
        "success" => {
            line(db, "build", "PASS src/app.test.js\r\n");
            db.set(&[progress, "steps", "build", "status"], json!("success"));
            db.set(&[progress, "status"], json!("success"));
        }
        "error" => {
            line(
                db,
                "build",
                "FAIL src/app.test.js\r\n  ✕ adds numbers (5 ms)\r\n",
            );
            line(db, "build", "\u{1b}[31mError: 1 test failed\u{1b}[0m\r\n");
            db.set(&[progress, "steps", "build", "status"], json!("error"));
            db.set(&[progress, "status"], json!("error"));
        }
        "terminated" => {
            line(db, "build", "Terminated\r\n");
            db.set(&[progress, "steps", "build", "status"], json!("terminated"));
            db.set(&[progress, "status"], json!("terminated"));
        }
        _ => {}
    }
}

struct PipelineDef {
    id: &'static str,
    name: &'static str,
    triggers: &'static [&'static str],
}

const PIPELINES: &[PipelineDef] = &[
    PipelineDef {
        id: PIPELINE_ID,
        name: PIPELINE,
        triggers: &["trig", "nightly"],
    },
    PipelineDef {
        id: PROJECT_PIPELINE_ID,
        name: PROJECT_PIPELINE,
        triggers: &["on-push"],
    },
];

impl Codefresh {
    /// A new build runs `pending`, `running`, then `final_status`.
    pub fn start(final_status: &str) -> Self {
        let old = |id: &str, branch: &str, status: &str| Build {
            id: id.into(),
            pipeline_id: PROJECT_PIPELINE_ID.into(),
            pipeline_name: PROJECT_PIPELINE.into(),
            branch: branch.into(),
            status: status.into(),
            progress: format!("p-{id}"),
            upcoming: VecDeque::new(),
            hold_until: None,
            rebuilt_from: None,
            times: None,
            timed: None,
            logged: Vec::new(),
        };
        let state = Arc::new(Mutex::new(State {
            builds: vec![
                old("6100000000000000000000a1", "main", "success"),
                old(NEWEST_MAIN, "main", "error"),
                old(NEWEST_ANY, "dev", "success"),
            ],
            next: 1,
            lifecycle: vec!["pending".into(), "running".into(), final_status.into()],
            terminated: Vec::new(),
            hide_progress: false,
            hold_new: None,
            new_builds_last: None,
            writes_log: Arc::new(default_log),
            archived: Vec::new(),
            specs: PIPELINES.iter().map(spec_of).collect(),
            projects: vec!["proj".to_string()],
        }));
        let firebase = Firebase::start();
        let archives: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let served = archives.clone();
        let archive = FakeServer::start(move |req| {
            let id = req.path().trim_start_matches("/logs/");
            match served.lock().unwrap().get(id) {
                Some(reply) if req.query("sig").as_deref() == Some("signed") => reply.clone(),
                Some(_) => Reply::text(403, "<Error><Code>AccessDenied</Code></Error>"),
                None => Reply::text(404, "<Error><Code>NoSuchKey</Code></Error>"),
            }
        });
        let (shared, fb, at) = (state.clone(), firebase.clone(), archive.url.clone());
        let server = FakeServer::start(move |req| handle(&shared, &fb, &at, req));
        Codefresh {
            server,
            state,
            firebase,
            archive,
            archives,
        }
    }

    /// Build `id`'s log as archived: its progress job points at the archive host, which
    /// answers `reply` for it.
    pub fn archive_log(&self, id: &str, reply: Reply) {
        let progress = progress_of(id);
        self.state.lock().unwrap().archived.push(progress.clone());
        self.archives.lock().unwrap().insert(progress, reply);
    }

    /// The tokens the log database handed out.
    pub fn log_tokens(&self) -> Vec<String> {
        let db = self.firebase.db.lock().unwrap();
        (1..=db.issued)
            .map(|n| format!("fb-token-{n}-secret-0123456789"))
            .collect()
    }

    /// The id the n-th build started by this fake gets (1-based).
    pub fn new_id(n: u64) -> String {
        format!("{:024x}", 0x6200_0000_0000_0000_0000_0000u128 + n as u128)
    }

    pub fn build(&self, id: &str) -> Build {
        self.state
            .lock()
            .unwrap()
            .builds
            .iter()
            .find(|b| b.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("no build {id}"))
    }

    /// Adds a build of `pipeB` that is already going: `statuses[0]` now, then one per read.
    pub fn add_build(&self, id: &str, statuses: &[&str]) {
        let mut state = self.state.lock().unwrap();
        let mut upcoming: VecDeque<String> = statuses.iter().map(|s| s.to_string()).collect();
        let status = upcoming.pop_front().unwrap();
        state.builds.push(Build {
            id: id.into(),
            pipeline_id: PIPELINE_ID.into(),
            pipeline_name: PIPELINE.into(),
            branch: "main".into(),
            status,
            progress: format!("p-{id}"),
            upcoming,
            hold_until: None,
            rebuilt_from: None,
            times: None,
            timed: None,
            logged: Vec::new(),
        });
    }

    /// Successful builds of `pipeB` on `branch` that took `durations` (seconds), the newest
    /// ending a minute ago: the history a wait plans its polls from.
    pub fn add_history(&self, branch: &str, durations: &[u64]) {
        let mut state = self.state.lock().unwrap();
        let mut ended = cirelay::time::now_unix() - 60;
        for (k, took) in durations.iter().enumerate() {
            let id = format!("{:024x}", 0x6300_0000_0000_0000_0000_0000u128 + k as u128);
            state.builds.insert(
                0,
                Build {
                    id: id.clone(),
                    pipeline_id: PIPELINE_ID.into(),
                    pipeline_name: PIPELINE.into(),
                    branch: branch.into(),
                    status: "success".into(),
                    progress: format!("p-{id}"),
                    upcoming: VecDeque::new(),
                    hold_until: None,
                    rebuilt_from: None,
                    times: Some((rfc3339_ms(ended - took), Some(rfc3339_ms(ended)))),
                    timed: None,
                    logged: Vec::new(),
                },
            );
            ended -= took + 60;
        }
    }

    /// A build of `pipeB` on `branch` that starts when it is first read and runs for
    /// `lasts`, then ends as `final_status`.
    pub fn add_timed_build(&self, id: &str, branch: &str, lasts: Duration, final_status: &str) {
        self.add_build(id, &["pending"]);
        let mut state = self.state.lock().unwrap();
        let b = state.builds.last_mut().unwrap();
        b.branch = branch.into();
        b.timed = Some(Timed::new(lasts, None, final_status));
    }

    pub fn build_target(id: &str) -> String {
        format!("/api/builds/{id}?noAccount=false")
    }
}

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"status": status, "message": message}))
}

fn handle(state: &Mutex<State>, firebase: &Firebase, archive: &str, req: &Recorded) -> Reply {
    match req.header("authorization") {
        Some(KEY) => {}
        // Codefresh takes the bare key; anything else is not a key it knows.
        _ => return error(401, "Unauthorized: invalid API key"),
    }
    let path = req.path().to_string();
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut state = state.lock().unwrap();
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["api", "pipelines", "run", name]) => run(&mut state, name, req),
        ("GET", ["api", "builds", "rebuild", id]) => rebuild(&mut state, id),
        ("GET", ["api", "builds", id]) => {
            if req.query("noAccount").is_none() {
                return error(400, "noAccount is required");
            }
            read_build(&mut state, firebase, id)
        }
        ("GET", ["api", "progress", progress]) => progress_job(&state, firebase, archive, progress),
        ("GET", ["api", "user", "firebaseAuth"]) => {
            let progress = req.query("progressId").unwrap_or_default();
            if !state.builds.iter().any(|b| b.progress == progress) {
                return error(404, &format!("Progress {progress} not found"));
            }
            let token = firebase.db.lock().unwrap().issue();
            Reply::json(
                200,
                json!({"url": firebase.server.url, "accessToken": token, "newStructure": true}),
            )
        }
        ("GET", ["api", "pipelines", name]) => get_spec(&state, name),
        ("GET", ["api", "pipelines"]) => list_specs(&state, req),
        ("POST", ["api", "pipelines"]) => create_spec(&mut state, req),
        ("PUT", ["api", "pipelines", name]) => replace_spec(&mut state, name, req),
        ("GET", ["api", "projects", "name", name]) => get_project(&state, name),
        ("POST", ["api", "projects"]) => create_project(&mut state, req),
        ("GET", ["api", "workflow"]) => list(&mut state, req),
        // The Codefresh CLI checks a key from `CF_API_KEY` by reading the user before anything
        // else; it needs only a successful answer.
        ("GET", ["api", "user"]) => Reply::json(
            200,
            json!({"userName": "bench", "activeAccountName": "acme", "roles": ["User"],
                   "account": [{"name": "acme"}]}),
        ),
        ("DELETE", ["api", "progress", progress]) => terminate(&mut state, progress),
        _ => error(404, "Not found"),
    }
}

fn find_pipeline(name: &str) -> Option<&'static PipelineDef> {
    PIPELINES.iter().find(|p| p.name == name || p.id == name)
}

/// Refuses any body the Codefresh CLI would not send.
fn check_run_body(body: &Value) -> Result<(), String> {
    let Value::Object(o) = body else {
        return Err("body must be an object".into());
    };
    for (k, v) in o {
        let ok = match k.as_str() {
            "branch" | "sha" | "trigger" => v.as_str().is_some_and(|s| !s.is_empty()),
            // The Codefresh CLI sends `variables`, `annotations`, `contexts`, `options` and
            // `userMachineConfig` always, empty when no flag fills them.
            "variables" => v.as_array().is_some_and(|list| {
                list.iter().all(|item| {
                    item.as_object().is_some_and(|i| {
                        i.len() == 2
                            && i.get("key")
                                .and_then(Value::as_str)
                                .is_some_and(|k| !k.is_empty())
                            && i.get("value").is_some_and(Value::is_string)
                    })
                })
            }),
            "annotations" => v
                .as_object()
                .is_some_and(|a| a.values().all(Value::is_string)),
            "contexts" => v.as_array().is_some_and(|l| l.iter().all(Value::is_string)),
            "options" => v.as_object().is_some_and(|opts| {
                opts.iter().all(|(name, value)| match name.as_str() {
                    "noCache" | "noCfCache" | "resetVolume" | "enableNotifications" => {
                        value == &Value::Bool(true)
                    }
                    "skip" | "only" => value
                        .as_array()
                        .is_some_and(|l| !l.is_empty() && l.iter().all(Value::is_string)),
                    _ => false,
                })
            }),
            "userMachineConfig" => v.as_object().is_some_and(|machine| {
                machine.iter().all(|(name, value)| {
                    matches!(
                        name.as_str(),
                        "cpu" | "memory" | "disk" | "runtimeName" | "packName"
                    ) && value.is_string()
                })
            }),
            _ => false,
        };
        if !ok {
            return Err(format!("unexpected field `{k}`: {v}"));
        }
    }
    Ok(())
}

fn start_build(state: &mut State, pipeline: &PipelineDef, branch: &str) -> Build {
    let id = Codefresh::new_id(state.next);
    state.next += 1;
    let mut upcoming: VecDeque<String> = state.lifecycle.clone().into();
    let status = upcoming.pop_front().unwrap_or_else(|| "pending".into());
    let ending = upcoming.back().map_or("success", String::as_str);
    let timed = state
        .new_builds_last
        .map(|lasts| Timed::new(lasts, Some(Instant::now()), ending));
    let build = Build {
        id: id.clone(),
        pipeline_id: pipeline.id.into(),
        pipeline_name: pipeline.name.into(),
        branch: branch.into(),
        status,
        progress: format!("p-{id}"),
        upcoming,
        hold_until: state.hold_new.map(|d| Instant::now() + d),
        rebuilt_from: None,
        times: timed
            .as_ref()
            .map(|_| (rfc3339_ms(cirelay::time::now_unix()), None)),
        timed,
        logged: Vec::new(),
    };
    state.builds.push(build.clone());
    build
}

fn run(state: &mut State, name: &str, req: &Recorded) -> Reply {
    let Some(pipeline) = find_pipeline(name) else {
        return error(404, &format!("Pipeline {name} not found"));
    };
    if req.header("content-type") != Some("application/json") {
        return error(400, "expected a JSON body");
    }
    let body: Value = match serde_json::from_str(&req.body) {
        Ok(v) => v,
        Err(e) => return error(400, &format!("invalid JSON: {e}")),
    };
    if let Err(e) = check_run_body(&body) {
        return error(400, &e);
    }
    if let Some(trigger) = body.get("trigger").and_then(Value::as_str) {
        if !pipeline.triggers.contains(&trigger) {
            return error(
                400,
                &format!(
                    "Trigger {trigger} does not belong to pipeline {}",
                    pipeline.name
                ),
            );
        }
    }
    let branch = body
        .get("branch")
        .and_then(Value::as_str)
        .unwrap_or("master")
        .to_string();
    let build = start_build(state, pipeline, &branch);
    Reply::json(200, json!(build.id)).header("Location", &format!("/api/builds/{}", build.id))
}

fn rebuild(state: &mut State, id: &str) -> Reply {
    let Some(original) = state.builds.iter().find(|b| b.id == id).cloned() else {
        return error(404, &format!("Workflow {id} not found"));
    };
    let pipeline = find_pipeline(&original.pipeline_id).expect("known pipeline");
    let mut build = start_build(state, pipeline, &original.branch);
    build.rebuilt_from = Some(id.to_string());
    if let Some(b) = state.builds.iter_mut().find(|b| b.id == build.id) {
        b.rebuilt_from = build.rebuilt_from.clone();
    }
    Reply::json(200, json!(build.id))
}

fn build_json(b: &Build, hide_progress: bool) -> Value {
    let mut v = json!({
        "id": b.id,
        "status": b.status,
        "pipelineName": b.pipeline_name,
        "serviceId": b.pipeline_id,
        "branchName": b.branch,
        "repoOwner": "acme",
        "repoName": "app",
        "revision": "81d2282b9c0e4f5a",
        "created": "2026-11-01T10:00:00.000Z",
        "started": "2026-11-01T10:00:01.000Z",
        "finished": match b.status.as_str() {
            "success" | "error" | "terminated" => json!("2026-11-01T10:01:31.000Z"),
            _ => Value::Null,
        },
    });
    if let Some((started, finished)) = &b.times {
        v["created"] = json!(started);
        v["started"] = json!(started);
        v["finished"] = json!(finished);
    }
    if !hide_progress {
        v["progress"] = json!(b.progress);
    }
    v
}

/// Answers the build as it is, then moves it one status on (unless held). The first read
/// that answers a status has the engine write that status's part of the log first.
fn read_build(state: &mut State, firebase: &Firebase, id: &str) -> Reply {
    let hide = state.hide_progress;
    let writes_log = state.writes_log.clone();
    let Some(b) = state.builds.iter_mut().find(|b| b.id == id) else {
        return error(404, &format!("Workflow {id} not found"));
    };
    b.tick(true);
    if !b.logged.contains(&b.status) {
        b.logged.push(b.status.clone());
        writes_log(&mut firebase.db.lock().unwrap(), &b.progress, &b.status);
    }
    let answer = build_json(b, hide);
    if b.timed.is_none() && b.hold_until.is_none_or(|t| Instant::now() >= t) {
        if let Some(next) = b.upcoming.pop_front() {
            b.status = next;
        }
    }
    Reply::json(200, answer)
}

fn list(state: &mut State, req: &Recorded) -> Reply {
    for b in &mut state.builds {
        b.tick(false);
    }
    let pipeline = req.query("pipeline");
    let branch = req.query("branchName");
    let limit: usize = req
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10);
    let page: usize = req.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let status = req.query("status");
    let matching: Vec<&Build> = state
        .builds
        .iter()
        .rev() // newest first, as Codefresh lists them
        .filter(|b| pipeline.as_deref().is_none_or(|p| p == b.pipeline_id))
        .filter(|b| branch.as_deref().is_none_or(|br| br == b.branch))
        .filter(|b| status.as_deref().is_none_or(|s| s == b.status))
        .collect();
    let docs: Vec<Value> = matching
        .iter()
        .skip((page.max(1) - 1) * limit)
        .take(limit)
        .map(|b| build_json(b, state.hide_progress))
        .collect();
    Reply::json(
        200,
        json!({"workflows": {"docs": docs, "total": matching.len(), "limit": limit, "page": page}}),
    )
}

/// A progress job: where its log is, in the log database, or archived on another host.
fn progress_job(state: &State, firebase: &Firebase, archive: &str, progress: &str) -> Reply {
    let Some(b) = state.builds.iter().find(|b| b.progress == progress) else {
        return error(404, &format!("Progress {progress} not found"));
    };
    let location = if state.archived.iter().any(|p| p == progress) {
        json!({"type": "gcs", "url": format!("{archive}/logs/{progress}?sig=signed")})
    } else {
        json!({"type": "firebase", "url": firebase.server.url})
    };
    Reply::json(
        200,
        json!({"_id": progress, "status": b.status, "location": location}),
    )
}

fn terminate(state: &mut State, progress: &str) -> Reply {
    let Some(b) = state.builds.iter_mut().find(|b| b.progress == progress) else {
        return error(404, &format!("Progress {progress} not found"));
    };
    b.status = "terminating".into();
    b.timed = None;
    b.upcoming = VecDeque::from(["terminated".to_string()]);
    b.hold_until = None;
    state.terminated.push(progress.to_string());
    Reply::json(200, json!({"_id": progress, "status": "terminating"}))
}

// Pipelines as code: `codefresh get pipeline`, `create|replace|apply -f`, `create project`.

impl Codefresh {
    /// Adds `n` finished builds of `proj/deploy` on `main`, newer than the rest.
    pub fn add_finished_builds(&self, n: usize) -> Vec<String> {
        let mut state = self.state.lock().unwrap();
        (0..n)
            .map(|i| {
                let id = format!("{:024x}", 0x6400_0000_0000_0000_0000_0000u128 + i as u128);
                state.builds.push(Build {
                    id: id.clone(),
                    pipeline_id: PROJECT_PIPELINE_ID.into(),
                    pipeline_name: PROJECT_PIPELINE.into(),
                    branch: "main".into(),
                    status: if i % 3 == 0 { "error" } else { "success" }.into(),
                    progress: format!("p-{id}"),
                    upcoming: VecDeque::new(),
                    hold_until: None,
                    rebuilt_from: None,
                    times: None,
                    timed: None,
                    logged: Vec::new(),
                });
                id
            })
            .collect()
    }

    /// The pipeline spec the fake holds under `name`.
    pub fn spec(&self, name: &str) -> Option<Value> {
        let state = self.state.lock().unwrap();
        state
            .specs
            .iter()
            .find(|s| s["metadata"]["name"] == name)
            .cloned()
    }
}

/// A pipeline as Codefresh answers `GET /api/pipelines/NAME`: the spec and what Codefresh
/// adds to its metadata.
fn spec_of(p: &PipelineDef) -> Value {
    json!({
        "version": "1.0",
        "kind": "pipeline",
        "metadata": {
            "name": p.name,
            "project": p.name.split('/').next(),
            "revision": 3,
            "accountId": "5f0000000000000000000acc",
            "labels": {"tags": []},
            "originalYamlString": "version: \"1.0\"\nsteps:\n  build:\n    image: alpine\n    commands:\n      - make\n",
            "created_at": "2026-10-01T08:00:00.000Z",
            "updated_at": "2026-10-02T09:30:00.000Z",
            "id": p.id
        },
        "spec": {
            "triggers": p.triggers.iter().map(|t| json!({"name": t, "type": "git", "repo": "acme/app", "events": ["push.heads"], "branchRegex": "/.*/gi"})).collect::<Vec<_>>(),
            "contexts": [],
            "variables": [{"key": "IMAGE", "value": "app"}],
            "steps": {"build": {"image": "alpine", "commands": ["make"]}},
            "stages": []
        }
    })
}

fn get_spec(state: &State, name: &str) -> Reply {
    match state
        .specs
        .iter()
        .find(|s| s["metadata"]["name"] == name || s["metadata"]["id"] == name)
    {
        Some(spec) => Reply::json(200, spec.clone()),
        None => error(404, &format!("Pipeline {name} not found")),
    }
}

fn list_specs(state: &State, req: &Recorded) -> Reply {
    let limit: usize = req
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25);
    let docs: Vec<&Value> = state.specs.iter().take(limit).collect();
    Reply::json(200, json!({"docs": docs, "count": state.specs.len()}))
}

/// What Codefresh refuses of a spec body.
fn check_spec(req: &Recorded) -> Result<Value, Reply> {
    if req.header("content-type") != Some("application/json") {
        return Err(error(400, "expected a JSON body"));
    }
    let spec: Value =
        serde_json::from_str(&req.body).map_err(|e| error(400, &format!("invalid JSON: {e}")))?;
    if spec["kind"] != "pipeline" || !spec["metadata"]["name"].is_string() {
        return Err(error(
            400,
            "a pipeline needs kind: pipeline and metadata.name",
        ));
    }
    Ok(spec)
}

fn create_spec(state: &mut State, req: &Recorded) -> Reply {
    let mut spec = match check_spec(req) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let name = spec["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if state.specs.iter().any(|s| s["metadata"]["name"] == name) {
        return error(
            409,
            &format!("Pipeline with name {name} already exists in your account"),
        );
    }
    let id = format!(
        "{:024x}",
        0x6500_0000_0000_0000_0000_0000u128 + state.specs.len() as u128
    );
    spec["metadata"]["id"] = json!(id);
    spec["metadata"]["created_at"] = json!("2026-11-01T10:00:00.000Z");
    state.specs.push(spec.clone());
    Reply::json(200, spec)
}

fn replace_spec(state: &mut State, name: &str, req: &Recorded) -> Reply {
    let spec = match check_spec(req) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    if spec["metadata"]["name"] != name {
        return error(400, "metadata.name must be the pipeline being replaced");
    }
    let Some(old) = state
        .specs
        .iter_mut()
        .find(|s| s["metadata"]["name"] == name)
    else {
        return error(404, &format!("Pipeline {name} not found"));
    };
    // Without disableRevisionCheck Codefresh refuses a spec of an older revision.
    if req.query("disableRevisionCheck").as_deref() != Some("true")
        && spec["metadata"]["revision"] != old["metadata"]["revision"]
    {
        return error(409, "revision mismatch");
    }
    *old = spec.clone();
    Reply::json(200, spec)
}

fn get_project(state: &State, name: &str) -> Reply {
    match state.projects.iter().any(|p| p == name) {
        true => Reply::json(
            200,
            json!({"id": "5f00000000000000000000aa", "projectName": name}),
        ),
        false => error(404, &format!("Project {name} not found")),
    }
}

fn create_project(state: &mut State, req: &Recorded) -> Reply {
    let body: Value = serde_json::from_str(&req.body).unwrap_or_default();
    let Some(name) = body["projectName"].as_str() else {
        return error(400, "projectName is required");
    };
    if state.projects.iter().any(|p| p == name) {
        return error(409, &format!("Project with name {name} already exists"));
    }
    state.projects.push(name.to_string());
    Reply::json(
        200,
        json!({"id": "5f00000000000000000000ab", "projectName": name}),
    )
}

impl Fake for Codefresh {
    fn whose_builds_end(ending: Ending) -> Self {
        Codefresh::start(ending.in_words(["success", "error", "terminated", "running"]))
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CF_API_KEY", KEY.to_string()),
            ("CF_URL", self.server.url.clone()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![KEY.to_string()];
        secrets.extend(self.log_tokens());
        secrets
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["codefresh", "run", PIPELINE, "-b", "main"]
    }

    fn start_request(&self) -> Request {
        Request::new("POST", "/api/pipelines/run/")
    }

    fn read_request(&self) -> Request {
        Request::new("GET", "/api/builds/")
    }

    fn started(&self) -> Started {
        let id = Codefresh::new_id(1);
        Started {
            url: format!("{}/build/{id}", self.server.url),
            id,
        }
    }

    fn where_to_check(&self) -> String {
        format!(
            "the builds of pipeline {PIPELINE} at {}/builds2",
            self.server.url
        )
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &[
            "codefresh",
            "restart-latest",
            PROJECT_PIPELINE,
            "-b",
            "main",
        ]
    }

    fn restart_request(&self) -> Request {
        Request::new("GET", "/api/builds/rebuild/")
    }

    fn restarted_id(&self) -> String {
        // A rebuild is a new build.
        Codefresh::new_id(1)
    }

    fn provider(&self) -> &'static str {
        "codefresh"
    }

    fn stop_request(&self) -> Option<Request> {
        Some(Request::new("DELETE", "/api/progress/"))
    }

    fn own_build(&self) -> (&'static str, String) {
        ("CF_BUILD_ID", NEWEST_MAIN.into())
    }
}

impl Histories for Codefresh {
    fn add_history(&self, branch: &str, durations: &[u64]) {
        Codefresh::add_history(self, branch, durations);
    }

    fn add_timed_build(&self, branch: &str, lasts: Duration) -> String {
        Codefresh::add_timed_build(self, TIMED, branch, lasts, "success");
        TIMED.to_string()
    }

    fn add_other_build(&self, branch: &str, n: u64, lasts: Duration) -> String {
        let id = Codefresh::new_id(0x100 + n);
        Codefresh::add_timed_build(self, &id, branch, lasts, "success");
        id
    }

    fn timed_read_line(&self) -> String {
        format!("GET {}", Codefresh::build_target(TIMED))
    }

    fn history_line(&self, branch: &str) -> String {
        format!(
            "GET /api/workflow?pipeline={PIPELINE_ID}&branchName={branch}&status=success&limit=10"
        )
    }
}
