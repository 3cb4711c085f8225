//! A fake CircleCI API v2. Like the real one: a triggered pipeline is `setup-pending` and
//! becomes `created` (or `errored`) after some reads; its workflows appear a few reads
//! later and each moves through its own statuses, one step per read of the workflow list
//! (which is paginated); the project's config declares typed pipeline parameters and a
//! trigger with an undeclared one, or one of the wrong type, is refused with CircleCI's
//! message; reruns add a new attempt of the workflow to the same pipeline; cancels stop it.
//!
//! Dynamic config (`setup: true`, the path-filtering and continuation orbs) as CircleCI runs
//! it: the pipeline stays in state `setup` while its setup workflow (tagged `setup`) runs;
//! a job of that workflow continues the pipeline (`POST /pipeline/continue`, at most once),
//! which makes it `created` and adds the continued workflows to the same pipeline a little
//! later, the setup workflow staying in the list. A setup workflow that fails, is canceled
//! or never continues leaves the pipeline in `setup`. A rerun of the setup workflow of a
//! continued pipeline runs and fails: a pipeline is continued only once.
//!
//! Each workflow has one job (`GET /workflow/ID/job`), named like it and in its status; API
//! v1.1 (`GET /api/v1.1/project/VCS/ORG/REPO/NUMBER`) gives the job's steps, whose output is
//! on another host (`output`) behind signed links, as CircleCI keeps it on S3. That host
//! needs no token and records every request, so a test sees that none went there.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::{Ending, Fake, Request, Started};
use crate::support::{FakeServer, Recorded, Reply};

pub const TOKEN: &str = "CCIPAT_fake0123456789abcdef_tok";
/// A GitHub OAuth project, triggered through `POST /project/SLUG/pipeline`.
pub const SLUG: &str = "gh/acme/app";
/// A GitHub App project: `circleci/<org id>/<project id>`, triggered through `pipeline/run`.
pub const APP_SLUG: &str =
    "circleci/8f6b5c2e-3a1d-4e7f-9b0c-1d2e3f4a5b6c/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
/// A pipeline definition of either project.
pub const DEFINITION: &str = "2338d0ae-5541-4bbf-88a2-55e9f7281f80";

/// Seeded pipelines of `SLUG`.
pub const MAIN_OLD: u64 = 40;
/// The newest on `main`: `build` succeeded, `test` failed.
pub const MAIN_NEWEST: u64 = 41;
/// On `dev`: `build` succeeded, `lint` was canceled, `deploy` not run.
pub const DEV_NEWEST: u64 = 42;
/// On `broken`: errored while reading its config.
pub const ERRORED: u64 = 43;
/// On `busy`: `build` still running, `approve` on hold, `test` succeeded.
pub const BUSY: u64 = 44;
/// One parameter of each type the project declares, as a trigger line gives them.
pub const TYPED_PARAMETERS: &[&str] = &[
    "--param",
    "deploy=true",
    "--param",
    "replicas=3",
    "--param",
    "env=prod",
    "--param-string",
    "image_tag=42",
];
/// The number the first triggered pipeline gets.
pub const FIRST_NEW: u64 = 100;

/// The id of pipeline `number` (seeded and triggered alike).
pub fn pipeline_id(number: u64) -> String {
    format!("5034{number:04x}-c7c4-4c43-9457-{number:012x}")
}

fn workflow_id(seq: u64) -> String {
    format!("0e53{seq:04x}-521a-4c40-9042-{seq:012x}")
}

/// A workflow status planned as this is answered as JSON `null`.
pub const NULL_STATUS: &str = "null";

/// The setup workflow of a dynamic config pipeline.
#[derive(Debug, Clone)]
pub struct SetupWorkflow {
    pub name: String,
    /// Its statuses, one per read of the workflow list (from the first read in `setup`).
    pub statuses: Vec<String>,
    /// On which read of the workflow list its job continues the pipeline, unless it was
    /// canceled by then; `None`: it never does.
    pub continues_on_read: Option<usize>,
}

/// What a newly triggered pipeline does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its state in the trigger's answer, then one per read of the pipeline.
    pub setup: Vec<String>,
    /// The errors of a pipeline that ends up `errored`.
    pub errors: Vec<(String, String)>,
    /// Reads of the workflow list that are still empty once the pipeline is created.
    pub empty_reads: usize,
    /// Each workflow's name and statuses, one per read of the workflow list.
    pub workflows: Vec<(String, Vec<String>)>,
    /// Dynamic config: the setup workflow that runs first; `workflows` are what it
    /// continues to.
    pub setup_workflow: Option<SetupWorkflow>,
}

impl Plan {
    pub fn new(workflows: &[(&str, &[&str])]) -> Self {
        Plan {
            setup: vec![
                "setup-pending".into(),
                "setup-pending".into(),
                "created".into(),
            ],
            errors: Vec::new(),
            empty_reads: 1,
            workflows: workflows
                .iter()
                .map(|(n, s)| (n.to_string(), s.iter().map(|x| x.to_string()).collect()))
                .collect(),
            setup_workflow: None,
        }
    }

    /// A dynamic config pipeline: `setup-pending` (the answer and the first read), then
    /// `setup` while the setup workflow
    /// `name` runs through `statuses`; on read `continues_on_read` of the workflow list it
    /// continues to `workflows` (or, `None`, never does).
    pub fn dynamic(
        (name, statuses): (&str, &[&str]),
        continues_on_read: Option<usize>,
        workflows: &[(&str, &[&str])],
    ) -> Self {
        let mut plan = Plan::new(workflows);
        plan.setup = vec![
            "setup-pending".into(),
            "setup-pending".into(),
            "setup".into(),
        ];
        plan.setup_workflow = Some(SetupWorkflow {
            name: name.into(),
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            continues_on_read,
        });
        plan
    }
}

#[derive(Debug, Clone)]
pub struct PipelineRec {
    pub id: String,
    pub number: u64,
    pub slug: String,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub parameters: Value,
    pub definition_id: Option<String>,
    pub state: String,
    upcoming: VecDeque<String>,
    errors: Vec<(String, String)>,
    /// Shown once the pipeline is `errored`.
    planned_errors: Vec<(String, String)>,
    empty_reads: usize,
    pending: Vec<(String, Vec<String>)>,
    /// Dynamic config: the setup workflow still to appear, then its id once it did.
    setup_plan: Option<SetupWorkflow>,
    setup_workflow_id: Option<String>,
    /// Reads of the workflow list while the pipeline was in `setup`.
    setup_reads: usize,
    continues_on_read: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct WorkflowRec {
    pub id: String,
    pub pipeline_id: String,
    pub name: String,
    pub status: String,
    /// `setup` for the setup workflow of a dynamic config pipeline.
    pub tag: Option<String>,
    upcoming: VecDeque<String>,
    created_at: String,
}

pub struct State {
    pub pipelines: Vec<PipelineRec>,
    pub workflows: Vec<WorkflowRec>,
    pub plan: Plan,
    /// The statuses of a rerun attempt.
    pub rerun_plan: Vec<String>,
    pub page_size: usize,
    /// Parameters the project's config declares, with their types.
    pub declared: Vec<(String, &'static str)>,
    /// When set, a trigger answers 200 with this message and creates nothing.
    pub skip_message: Option<String>,
    next_number: u64,
    seq: u64,
    /// Where steps' output is (the `output` host).
    output_host: String,
}

pub struct Circle {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
    /// The host of the steps' output.
    pub output: FakeServer,
    /// Answers the output host gives instead of a step's own output, by path
    /// (`/output/NUMBER/STEP`).
    pub outputs: Arc<Mutex<HashMap<String, Reply>>>,
}

/// The number of the job of the `n`-th workflow this fake holds (0-based).
pub fn job_number(n: usize) -> u64 {
    1000 + n as u64
}

/// A job's status for its workflow's.
fn job_status(workflow: &str) -> &str {
    match workflow {
        "failing" | NULL_STATUS => "running",
        "error" => "failed",
        other => other,
    }
}

/// The steps of a job: `Run tests` fails in a failed job.
const STEPS: &[&str] = &["Spin up environment", "Checkout code", "Run tests"];

/// A step's output as CircleCI stores it: messages of `\r\n`-ended lines.
pub fn step_output(step: usize, failed: bool) -> Value {
    let messages: &[&str] = match (step, failed) {
        (0, _) => &["Build-agent version 1.0.0\r\nStarting container cimg/node:20.0\r\n"],
        (1, _) => &["Cloning git repository\r\n", "Checked out f454a02b\r\n"],
        (_, false) => &["npm test\r\n", "PASS src/app.test.js\r\n"],
        (_, true) => &[
            "npm test\r\n",
            "FAIL src/app.test.js\r\n  \u{2715} adds numbers (5 ms)\r\n",
            "\r\nExited with code exit status 1\r\n",
        ],
    };
    Value::Array(
        messages
            .iter()
            .map(|m| json!({"message": m, "time": "2026-11-01T10:00:05.000Z", "type": "out", "truncated": false}))
            .collect(),
    )
}

impl Circle {
    /// Triggered pipelines: setup-pending (answer and first read) → created, one empty
    /// workflow list, then `build`
    /// (running → success) and `test` (running → running → success).
    pub fn start() -> Self {
        Self::with_plan(Plan::new(&[
            ("build", &["running", "success"]),
            ("test", &["running", "running", "success"]),
        ]))
    }

    pub fn with_plan(plan: Plan) -> Self {
        let mut state = State {
            pipelines: Vec::new(),
            workflows: Vec::new(),
            plan,
            rerun_plan: vec!["running".into(), "success".into()],
            page_size: 2,
            declared: vec![
                ("deploy".into(), "boolean"),
                ("replicas".into(), "integer"),
                ("env".into(), "string"),
                ("image_tag".into(), "string"),
            ],
            skip_message: None,
            next_number: FIRST_NEW,
            seq: 1,
            output_host: String::new(),
        };
        state.seed(
            MAIN_OLD,
            "main",
            &[("build", "success"), ("test", "success")],
        );
        state.seed(
            MAIN_NEWEST,
            "main",
            &[("build", "success"), ("test", "failed")],
        );
        state.seed(
            DEV_NEWEST,
            "dev",
            &[
                ("build", "success"),
                ("lint", "canceled"),
                ("deploy", "not_run"),
            ],
        );
        state.seed(ERRORED, "broken", &[]);
        if let Some(p) = state.pipelines.last_mut() {
            p.state = "errored".into();
            p.errors = vec![
                ("config".into(), "Config does not conform to schema: {:workflows {:build {:jobs [(not (valid-job? \"nope\"))]}}}".into()),
                ("config-fetch".into(), "Unable to fetch orb acme/tools@9.9.9".into()),
            ];
        }
        state.seed(
            BUSY,
            "busy",
            &[
                ("build", "running"),
                ("approve", "on_hold"),
                ("test", "success"),
            ],
        );
        let outputs: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let served = outputs.clone();
        let output = FakeServer::start(move |req| {
            if let Some(reply) = served.lock().unwrap().get(req.path()) {
                return reply.clone();
            }
            if req.query("X-Amz-Signature").is_none() {
                return Reply::text(403, "<Error><Code>AccessDenied</Code></Error>");
            }
            let parts: Vec<&str> = req
                .path()
                .trim_start_matches("/output/")
                .split('/')
                .collect();
            match parts.as_slice() {
                [_, step, kind] => Reply::json(
                    200,
                    step_output(step.parse().unwrap_or(0), *kind == "failed"),
                ),
                _ => Reply::text(404, "<Error><Code>NoSuchKey</Code></Error>"),
            }
        });
        state.output_host = output.url.clone();
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        Circle {
            server,
            state,
            output,
            outputs,
        }
    }

    /// The web app's links for this fake: the host itself (see `app_url`).
    pub fn pipeline_url(&self, slug: &str, number: u64) -> String {
        format!("{}/pipelines/{slug}/{number}", self.server.url)
    }

    pub fn pipeline(&self, number: u64) -> PipelineRec {
        let state = self.state.lock().unwrap();
        state
            .pipelines
            .iter()
            .find(|p| p.number == number)
            .cloned()
            .unwrap_or_else(|| panic!("no pipeline #{number}"))
    }

    /// The workflows of pipeline `number`, oldest first.
    pub fn workflows(&self, number: u64) -> Vec<WorkflowRec> {
        let id = pipeline_id(number);
        let state = self.state.lock().unwrap();
        state
            .workflows
            .iter()
            .filter(|w| w.pipeline_id == id)
            .cloned()
            .collect()
    }
}

impl State {
    fn seed(&mut self, number: u64, branch: &str, workflows: &[(&str, &str)]) {
        let id = pipeline_id(number);
        self.pipelines.push(PipelineRec {
            id: id.clone(),
            number,
            slug: SLUG.into(),
            branch: Some(branch.into()),
            tag: None,
            parameters: json!({}),
            definition_id: None,
            state: "created".into(),
            upcoming: VecDeque::new(),
            errors: Vec::new(),
            planned_errors: Vec::new(),
            empty_reads: 0,
            pending: Vec::new(),
            setup_plan: None,
            setup_workflow_id: None,
            setup_reads: 0,
            continues_on_read: None,
        });
        for (name, status) in workflows {
            self.add_workflow(&id, name, &[status.to_string()]);
        }
    }

    fn add_workflow(&mut self, pipeline: &str, name: &str, statuses: &[String]) -> String {
        self.add_tagged_workflow(pipeline, name, statuses, None)
    }

    fn add_tagged_workflow(
        &mut self,
        pipeline: &str,
        name: &str,
        statuses: &[String],
        tag: Option<&str>,
    ) -> String {
        let seq = self.seq;
        self.seq += 1;
        let mut upcoming: VecDeque<String> = statuses.iter().cloned().collect();
        let status = upcoming.pop_front().unwrap_or_else(|| "running".into());
        let id = workflow_id(seq);
        self.workflows.push(WorkflowRec {
            id: id.clone(),
            pipeline_id: pipeline.into(),
            name: name.into(),
            status,
            tag: tag.map(String::from),
            upcoming,
            created_at: format!("2026-11-01T10:{:02}:{:02}Z", seq / 60, seq % 60),
        });
        id
    }
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, json!({ "message": text }))
}

fn handle(state: &Mutex<State>, req: &Recorded) -> Reply {
    if req.header("circle-token") != Some(TOKEN) {
        return message(401, "You must log in first.");
    }
    if let Some(path) = req.path().strip_prefix("/api/v1.1/project/") {
        return job_details(&state.lock().unwrap(), path);
    }
    let Some(path) = req.path().strip_prefix("/api/v2/") else {
        return message(404, "Not found");
    };
    let parts: Vec<&str> = path.split('/').collect();
    let mut state = state.lock().unwrap();
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["project", vcs, org, repo, "pipeline"]) => {
            trigger(&mut state, &format!("{vcs}/{org}/{repo}"), req, false)
        }
        ("POST", ["project", vcs, org, repo, "pipeline", "run"]) => {
            trigger(&mut state, &format!("{vcs}/{org}/{repo}"), req, true)
        }
        ("GET", ["project", vcs, org, repo, "pipeline"]) => {
            let slug = format!("{vcs}/{org}/{repo}");
            if slug != SLUG && slug != APP_SLUG {
                return message(404, "Project not found");
            }
            let branch = req.query("branch");
            let matching: Vec<Value> = state
                .pipelines
                .iter()
                .rev()
                .filter(|p| p.slug == slug && (branch.is_none() || p.branch == branch))
                .map(pipeline_json)
                .collect();
            page_of(matching, req)
        }
        ("GET", ["insights", vcs, org, repo, "workflows", rest @ ..]) => {
            insights(&format!("{vcs}/{org}/{repo}"), rest, req)
        }
        ("GET", ["pipeline", id]) => match state.pipelines.iter_mut().find(|p| p.id == *id) {
            Some(p) => read_pipeline(p),
            None => message(404, "Pipeline not found"),
        },
        ("GET", ["project", vcs, org, repo, "pipeline", number]) => {
            // The web app spells the VCS out (`github`); the API takes either.
            let vcs = match *vcs {
                "github" => "gh",
                "bitbucket" => "bb",
                other => other,
            };
            let slug = format!("{vcs}/{org}/{repo}");
            let found = state
                .pipelines
                .iter_mut()
                .find(|p| p.slug == slug && number.parse() == Ok(p.number));
            match found {
                Some(p) => read_pipeline(p),
                None => message(404, "Pipeline not found"),
            }
        }
        ("GET", ["pipeline", id, "workflow"]) => workflows(&mut state, id, req),
        ("GET", ["workflow", id, "job"]) => {
            let Some(at) = state.workflows.iter().position(|w| w.id == *id) else {
                return message(404, "Workflow not found");
            };
            let w = &state.workflows[at];
            let slug = state
                .pipelines
                .iter()
                .find(|p| p.id == w.pipeline_id)
                .map_or(SLUG.to_string(), |p| p.slug.clone());
            let status = job_status(&w.status);
            let mut job = json!({
                "id": format!("7b{:06x}-1f2e-4d3c-8b7a-{:012x}", at, at),
                "name": w.name,
                "status": status,
                "type": "build",
                "project_slug": slug,
                "dependencies": [],
                "started_at": "2026-11-01T10:00:02Z",
            });
            if !matches!(status, "not_run" | "blocked" | "queued") {
                job["job_number"] = json!(job_number(at));
            }
            Reply::json(200, json!({"items": [job], "next_page_token": null}))
        }
        ("POST", ["workflow", id, "rerun"]) => rerun(&mut state, id, req),
        ("POST", ["workflow", id, "cancel"]) => {
            let Some(w) = state.workflows.iter_mut().find(|w| w.id == *id) else {
                return message(404, "Workflow not found");
            };
            if !req.body.is_empty() {
                return message(400, "Unexpected request body provided.");
            }
            if !finished(&w.status) {
                w.status = "canceled".into();
                w.upcoming.clear();
            }
            message(202, "Accepted.")
        }
        _ => message(404, "Not found"),
    }
}

/// A job's steps (API v1.1), each with a signed link to its output.
fn job_details(state: &State, path: &str) -> Reply {
    let Some((slug, number)) = path.rsplit_once('/') else {
        return message(404, "Not found");
    };
    let found = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_sub(1000))
        .and_then(|i| state.workflows.get(i as usize));
    let Some(w) = found.filter(|_| slug == SLUG || slug == APP_SLUG) else {
        return message(404, "Build not found");
    };
    let failed = job_status(&w.status) == "failed";
    let steps: Vec<Value> = STEPS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let this_failed = failed && i == STEPS.len() - 1;
            json!({
                "name": name,
                "actions": [{
                    "name": name,
                    "index": 0,
                    "step": i,
                    "status": if this_failed { "failed" } else { "success" },
                    "failed": if this_failed { json!(true) } else { Value::Null },
                    "has_output": true,
                    "output_url": format!(
                        "{}/output/{number}/{i}/{}?X-Amz-Signature=signed&X-Amz-Expires=3600",
                        state.output_host,
                        if this_failed { "failed" } else { "ok" }
                    ),
                }]
            })
        })
        .collect();
    Reply::json(
        200,
        json!({"build_num": number, "status": job_status(&w.status), "steps": steps}),
    )
}

/// A read moves the pipeline on to its next planned state.
fn read_pipeline(p: &mut PipelineRec) -> Reply {
    if let Some(next) = p.upcoming.pop_front() {
        p.state = next;
        if p.state == "errored" {
            p.errors = p.planned_errors.clone();
        }
    }
    Reply::json(200, pipeline_json(p))
}

// Listing pipelines for dashboards, and insights.

/// CircleCI lists 20 a page; `page-token` is where the next page starts.
const PAGE: usize = 20;

fn page_of(items: Vec<Value>, req: &Recorded) -> Reply {
    let start: usize = match req.query("page-token") {
        None => 0,
        Some(t) => match t.strip_prefix("after-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return message(400, "Invalid page-token"),
        },
    };
    let next = (start + PAGE < items.len()).then(|| format!("after-{}", start + PAGE));
    let items: Vec<Value> = items.into_iter().skip(start).take(PAGE).collect();
    Reply::json(200, json!({ "items": items, "next_page_token": next }))
}

/// A workflow's (or job's) summary as the insights API gives it.
fn summary(name: &str, runs: u64, failed: u64, p50: u64) -> Value {
    json!({
        "name": name,
        "metrics": {
            "total_runs": runs, "successful_runs": runs - failed, "failed_runs": failed,
            "success_rate": (runs - failed) as f64 / runs as f64, "throughput": runs as f64 / 90.0,
            "mttr": 3600, "total_credits_used": 120,
            "duration_metrics": {"min": p50 / 2, "mean": p50 + 5, "median": p50, "p95": p50 * 2, "max": p50 * 3, "standard_deviation": 12.5}
        },
        "window_start": "2026-09-02T00:00:00Z",
        "window_end": "2026-12-01T00:00:00Z"
    })
}

/// `…/workflows` (two pages) and `…/workflows/NAME/jobs`.
fn insights(slug: &str, rest: &[&str], req: &Recorded) -> Reply {
    if slug != SLUG {
        return message(404, "Project not found");
    }
    match rest {
        [] => match req.query("page-token").as_deref() {
            None => Reply::json(
                200,
                json!({"items": [summary("build-and-test", 200, 20, 300)], "next_page_token": "insights-2"}),
            ),
            Some("insights-2") => Reply::json(
                200,
                json!({"items": [summary("nightly", 30, 3, 1200)], "next_page_token": null}),
            ),
            Some(_) => message(400, "Invalid page-token"),
        },
        [name, "jobs"] if *name == "build-and-test" => Reply::json(
            200,
            json!({"items": [summary("build", 200, 2, 120), summary("test", 200, 18, 180)], "next_page_token": null}),
        ),
        [_, "jobs"] => message(404, "Workflow not found"),
        _ => message(404, "Not found"),
    }
}

impl Circle {
    /// Adds `n` finished pipelines on `main` (numbers from 200), each with a `build` that
    /// succeeded and, every third one, a `test` that failed.
    pub fn add_finished_pipelines(&self, n: u64) {
        let mut state = self.state.lock().unwrap();
        for i in 0..n {
            let test = if i % 3 == 0 { "failed" } else { "success" };
            state.seed(200 + i, "main", &[("build", "success"), ("test", test)]);
        }
    }
}

fn finished(status: &str) -> bool {
    matches!(
        status,
        "success" | "failed" | "error" | "unauthorized" | "not_run" | "canceled"
    )
}

fn trigger(state: &mut State, slug: &str, req: &Recorded, run: bool) -> Reply {
    if slug != SLUG && slug != APP_SLUG {
        return message(404, "Project not found");
    }
    if !run && slug == APP_SLUG {
        // The older endpoint does not know GitHub App projects.
        return message(404, "Project not found");
    }
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&req.body) else {
        return message(400, "Unexpected request body provided.");
    };
    let allowed: &[&str] = if run {
        &["definition_id", "config", "checkout", "parameters"]
    } else {
        &["branch", "tag", "parameters"]
    };
    if let Some(k) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return message(400, &format!("Unexpected argument(s) input: [{k}]"));
    }
    let (branch, tag) = if run {
        if let Some(id) = body.get("definition_id").and_then(Value::as_str) {
            if id != DEFINITION {
                return message(404, "Pipeline definition not found");
            }
        }
        let refs = |key: &str| body.get(key).cloned().unwrap_or(json!({}));
        let (config, checkout) = (refs("config"), refs("checkout"));
        if config != checkout {
            return message(400, "config and checkout name different refs");
        }
        (
            config
                .get("branch")
                .and_then(Value::as_str)
                .map(String::from),
            config.get("tag").and_then(Value::as_str).map(String::from),
        )
    } else {
        (
            body.get("branch").and_then(Value::as_str).map(String::from),
            body.get("tag").and_then(Value::as_str).map(String::from),
        )
    };
    if branch.is_some() && tag.is_some() {
        return message(400, "branch and tag are mutually exclusive");
    }
    let parameters = body.get("parameters").cloned().unwrap_or(json!({}));
    if let Err(e) = check_parameters(&state.declared, &parameters) {
        return message(400, &e);
    }
    if let Some(skip) = &state.skip_message {
        return message(200, skip);
    }
    let number = state.next_number;
    state.next_number += 1;
    let plan = state.plan.clone();
    let mut upcoming: VecDeque<String> = plan.setup.iter().cloned().collect();
    let first = upcoming.pop_front().unwrap_or_else(|| "created".into());
    let rec = PipelineRec {
        id: pipeline_id(number),
        number,
        slug: slug.into(),
        branch: if tag.is_none() {
            branch.or(Some("main".into()))
        } else {
            None
        },
        tag,
        parameters,
        definition_id: body
            .get("definition_id")
            .and_then(Value::as_str)
            .map(String::from),
        state: first.clone(),
        upcoming,
        errors: if first == "errored" {
            plan.errors.clone()
        } else {
            Vec::new()
        },
        planned_errors: plan.errors.clone(),
        empty_reads: plan.empty_reads,
        pending: plan.workflows.clone(),
        setup_plan: plan.setup_workflow.clone(),
        setup_workflow_id: None,
        setup_reads: 0,
        continues_on_read: None,
    };
    let answer = json!({
        "id": rec.id,
        "state": first,
        "number": number,
        "created_at": "2026-11-01T10:00:00Z",
    });
    state.pipelines.push(rec);
    Reply::json(201, answer)
}

/// CircleCI checks trigger parameters against the config's declarations, types included.
fn check_parameters(declared: &[(String, &'static str)], given: &Value) -> Result<(), String> {
    let Value::Object(given) = given else {
        return Err("parameters must be an object".into());
    };
    let unknown: Vec<&str> = given
        .keys()
        .filter(|k| !declared.iter().any(|(d, _)| d == *k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Unexpected argument(s) input: [{}]",
            unknown.join(", ")
        ));
    }
    for (name, ty) in declared {
        let Some(v) = given.get(name) else { continue };
        let ok = match *ty {
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            _ => v.is_string(),
        };
        if !ok {
            let actual = match v {
                Value::Bool(_) => "boolean",
                Value::Number(_) => "integer",
                Value::String(_) => "string",
                _ => "other",
            };
            return Err(format!(
                "Type error for argument {name}: expected type: {ty}, actual value: {v} (type {actual})"
            ));
        }
    }
    Ok(())
}

fn workflows(state: &mut State, id: &str, req: &Recorded) -> Reply {
    let Some(p) = state.pipelines.iter_mut().find(|p| p.id == id) else {
        return message(404, "Pipeline not found");
    };
    let token = req.query("page-token");
    let pipeline_id = p.id.clone();
    // One step of time per read of the whole list, i.e. of its first page.
    if token.is_none() && p.state == "setup" {
        setup_step(state, &pipeline_id);
    } else if token.is_none() && p.state == "created" {
        let existing: Vec<usize> = (0..state.workflows.len())
            .filter(|&i| state.workflows[i].pipeline_id == pipeline_id)
            .collect();
        for i in existing {
            let w = &mut state.workflows[i];
            if let Some(next) = w.upcoming.pop_front() {
                w.status = next;
            }
        }
        let p = state
            .pipelines
            .iter_mut()
            .find(|p| p.id == pipeline_id)
            .unwrap();
        if p.empty_reads > 0 {
            p.empty_reads -= 1;
        } else {
            let pending = std::mem::take(&mut p.pending);
            for (name, statuses) in pending {
                state.add_workflow(&pipeline_id, &name, &statuses);
            }
        }
    }
    let p = state
        .pipelines
        .iter()
        .find(|p| p.id == pipeline_id)
        .unwrap();
    // Newest first, as CircleCI lists them.
    let all: Vec<Value> = state
        .workflows
        .iter()
        .rev()
        .filter(|w| w.pipeline_id == pipeline_id)
        .map(|w| workflow_json(w, p))
        .collect();
    let page: usize = match token.as_deref() {
        None => 0,
        Some(t) => match t.strip_prefix("pg:").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return message(400, "Invalid page-token"),
        },
    };
    let size = state.page_size.max(1);
    let items: Vec<Value> = all.iter().skip(page * size).take(size).cloned().collect();
    let next = if (page + 1) * size < all.len() {
        json!(format!("pg:{}", page + 1))
    } else {
        Value::Null
    };
    Reply::json(200, json!({ "items": items, "next_page_token": next }))
}

/// One step of a pipeline in `setup`: its setup workflow appears, or moves on; on the
/// planned read its job continues the pipeline, which is then `created` and gets the
/// continued workflows like any new pipeline (after its empty reads).
fn setup_step(state: &mut State, pipeline_id: &str) {
    let at = state
        .pipelines
        .iter()
        .position(|p| p.id == pipeline_id)
        .unwrap();
    if let Some(plan) = state.pipelines[at].setup_plan.take() {
        let id = state.add_tagged_workflow(pipeline_id, &plan.name, &plan.statuses, Some("setup"));
        let p = &mut state.pipelines[at];
        p.setup_workflow_id = Some(id);
        p.continues_on_read = plan.continues_on_read;
    } else if let Some(id) = state.pipelines[at].setup_workflow_id.clone() {
        let w = state.workflows.iter_mut().find(|w| w.id == id).unwrap();
        if let Some(next) = w.upcoming.pop_front() {
            w.status = next;
        }
    }
    let canceled = state.pipelines[at]
        .setup_workflow_id
        .as_ref()
        .and_then(|id| state.workflows.iter().find(|w| w.id == *id))
        .is_some_and(|w| w.status == "canceled");
    let p = &mut state.pipelines[at];
    p.setup_reads += 1;
    if p.continues_on_read == Some(p.setup_reads) && !canceled {
        p.state = "created".into();
        p.upcoming.clear();
    }
}

fn rerun(state: &mut State, id: &str, req: &Recorded) -> Reply {
    let Some(w) = state.workflows.iter().find(|w| w.id == id).cloned() else {
        return message(404, "Workflow not found");
    };
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&req.body) else {
        return message(400, "Unexpected request body provided.");
    };
    if !finished(&w.status) {
        return message(400, "Cannot rerun a workflow that is still running.");
    }
    let from_failed = body.get("from_failed") == Some(&Value::Bool(true));
    if from_failed && !matches!(w.status.as_str(), "failed" | "error") {
        return message(
            400,
            "Cannot rerun from failed: the workflow has no failed jobs.",
        );
    }
    // A pipeline is continued at most once: CircleCI accepts the rerun of the setup workflow
    // of a continued pipeline, and its continuation job then fails ("Pipeline is not in
    // setup state").
    let continued = state
        .pipelines
        .iter()
        .any(|p| p.id == w.pipeline_id && p.state != "setup");
    let plan = if w.tag.is_some() && continued {
        vec!["running".into(), "failed".into()]
    } else {
        state.rerun_plan.clone()
    };
    let new_id = state.add_tagged_workflow(&w.pipeline_id, &w.name, &plan, w.tag.as_deref());
    Reply::json(202, json!({ "workflow_id": new_id }))
}

pub fn pipeline_json(p: &PipelineRec) -> Value {
    let mut vcs = Map::new();
    vcs.insert("provider_name".into(), json!("GitHub"));
    vcs.insert(
        "origin_repository_url".into(),
        json!("https://github.com/acme/app"),
    );
    vcs.insert(
        "target_repository_url".into(),
        json!("https://github.com/acme/app"),
    );
    vcs.insert(
        "revision".into(),
        json!("f454a02b5d10fcccfd7d9dd7608a76d6493a98b4"),
    );
    if let Some(b) = &p.branch {
        vcs.insert("branch".into(), json!(b));
    }
    if let Some(t) = &p.tag {
        vcs.insert("tag".into(), json!(t));
    }
    json!({
        "id": p.id,
        "errors": p.errors.iter().map(|(t, m)| json!({"type": t, "message": m})).collect::<Vec<_>>(),
        "project_slug": p.slug,
        "updated_at": "2026-11-01T10:00:01Z",
        "number": p.number,
        "trigger_parameters": p.parameters,
        "state": p.state,
        "created_at": "2026-11-01T10:00:00Z",
        "trigger": {
            "type": "api",
            "received_at": "2026-11-01T10:00:00Z",
            "actor": {"login": "robot", "avatar_url": null}
        },
        "vcs": vcs,
    })
}

fn workflow_json(w: &WorkflowRec, p: &PipelineRec) -> Value {
    json!({
        "pipeline_id": p.id,
        "id": w.id,
        "name": w.name,
        "project_slug": p.slug,
        // CircleCI's own MCP server reads a workflow's status as nullable.
        "status": if w.status == NULL_STATUS { Value::Null } else { json!(w.status) },
        "started_by": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        "pipeline_number": p.number,
        "tag": w.tag,
        "created_at": w.created_at,
        "stopped_at": if finished(&w.status) { json!("2026-11-01T10:30:00Z") } else { Value::Null },
    })
}

impl Fake for Circle {
    /// `build` succeeds and `test` ends the given way, in a new pipeline and in a rerun.
    fn whose_builds_end(ending: Ending) -> Self {
        let last = ending.in_words(["success", "failed", "canceled", "running"]);
        let fake = Circle::with_plan(Plan::new(&[
            ("build", &["running", "success"]),
            ("test", &["running", "running", last]),
        ]));
        fake.state.lock().unwrap().rerun_plan = vec!["running".into(), last.into()];
        fake
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CIRCLE_TOKEN", TOKEN.to_string()),
            ("CIRCLECI_HOST", self.server.url.clone()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.to_string()]
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["circleci", "trigger", SLUG, "--branch", "main"]
    }

    fn start_request(&self) -> Request {
        Request::new("POST", "/api/v2/project/")
    }

    fn read_request(&self) -> Request {
        Request::new("GET", "/api/v2/pipeline/")
    }

    fn started(&self) -> Started {
        Started {
            id: pipeline_id(FIRST_NEW),
            url: self.pipeline_url(SLUG, FIRST_NEW),
        }
    }

    fn where_to_check(&self) -> String {
        format!(
            "the pipelines of {SLUG} at {}/pipelines/{SLUG}",
            self.server.url
        )
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &["circleci", "restart-latest", SLUG, "--branch", "main"]
    }

    /// One rerun for each workflow of the newest pipeline.
    fn restart_request(&self) -> Request {
        Request::new("POST", "/api/v2/workflow/")
    }

    fn restarted_id(&self) -> String {
        // A rerun adds workflows to the same pipeline.
        pipeline_id(MAIN_NEWEST)
    }

    fn provider(&self) -> &'static str {
        "circleci"
    }

    fn stop_request(&self) -> Option<Request> {
        Some(Request::new("POST", "/api/v2/workflow/"))
    }

    fn own_build(&self) -> (&'static str, String) {
        ("CIRCLE_PIPELINE_ID", pipeline_id(MAIN_NEWEST))
    }
}
