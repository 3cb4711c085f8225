//! A fake Codeship API v1: projects with builds, restarts that create new builds, and
//! builds whose status advances each time the project is read (Codeship's lifecycle:
//! initiated → testing → a final status).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::{codeship_v2, Ending, Fake, Request, Started};
use crate::support::{FakeServer, Recorded, Reply};

pub const KEY: &str = "v1key-9f8e7d6c5b4a39281706";
pub const PROJECT: u64 = 12345;
pub const REPOSITORY: &str = "codeship/documentation";

#[derive(Debug, Clone)]
pub struct Build {
    pub id: u64,
    pub uuid: String,
    pub branch: String,
    pub commit_id: String,
    pub status: String,
    /// Statuses still to come, one per read of the project.
    pub upcoming: VecDeque<String>,
}

#[derive(Debug)]
pub struct State {
    pub builds: Vec<Build>,
    pub next_id: u64,
    /// The statuses a restarted build goes through, one per read of the project.
    pub restart_lifecycle: Vec<String>,
}

pub struct CodeshipV1 {
    pub server: FakeServer,
}

impl CodeshipV1 {
    /// Project 12345 with builds on `main` (newest 1003, commit 81d2282b…) and `dev`.
    /// A restarted build runs `initiated`, `testing`, then `final_status`.
    pub fn start(final_status: &str) -> Self {
        let build = |id: u64, branch: &str, commit: &str, status: &str| Build {
            id,
            uuid: format!("uuid-{id}"),
            branch: branch.into(),
            commit_id: commit.into(),
            status: status.into(),
            upcoming: VecDeque::new(),
        };
        let state = Arc::new(Mutex::new(State {
            builds: vec![
                build(1001, "main", "1111111aaaaaaa", "success"),
                build(1002, "dev", "2222222bbbbbbb", "error"),
                build(1003, "main", "81d2282b9c0e4f5a", "error"),
                build(1004, "dev", "3333333ccccccc", "success"),
            ],
            next_id: 2000,
            restart_lifecycle: vec!["initiated".into(), "testing".into(), final_status.into()],
        }));
        let server = FakeServer::start(move |req| handle(&state, req));
        CodeshipV1 { server }
    }

    pub fn project_target(branch: &str) -> String {
        format!("/api/v1/projects/{PROJECT}.json?api_key={KEY}&branch={branch}")
    }

    pub fn restart_target(build: u64) -> String {
        format!("/api/v1/builds/{build}/restart.json?api_key={KEY}")
    }
}

fn handle(state: &Mutex<State>, req: &Recorded) -> Reply {
    if req.query("api_key").as_deref() != Some(KEY) {
        return Reply::json(401, json!({"error": "Unauthorized"}));
    }
    let path = req.path();
    let mut state = state.lock().unwrap();
    if req.method == "GET" {
        let Some(id) = path
            .strip_prefix("/api/v1/projects/")
            .and_then(|p| p.strip_suffix(".json"))
        else {
            return Reply::json(404, json!({"error": "Not found"}));
        };
        if id != PROJECT.to_string() {
            return Reply::json(404, json!({"error": "Project not found"}));
        }
        let branch = req.query("branch");
        for b in state.builds.iter_mut() {
            if let Some(next) = b.upcoming.pop_front() {
                b.status = next;
            }
        }
        let mut builds: Vec<Value> = state
            .builds
            .iter()
            .filter(|b| branch.as_deref().is_none_or(|br| br == b.branch))
            .map(build_json)
            .collect();
        builds.reverse(); // Codeship lists newest first.
        return Reply::json(
            200,
            json!({"id": PROJECT, "repository_name": REPOSITORY, "uuid": "proj-uuid", "builds": builds}),
        );
    }
    if req.method == "POST" {
        let Some(id) = path
            .strip_prefix("/api/v1/builds/")
            .and_then(|p| p.strip_suffix("/restart.json"))
            .and_then(|p| p.parse::<u64>().ok())
        else {
            return Reply::json(404, json!({"error": "Not found"}));
        };
        let Some(original) = state.builds.iter().find(|b| b.id == id).cloned() else {
            return Reply::json(404, json!({"error": "Build not found"}));
        };
        let mut lifecycle: VecDeque<String> = state.restart_lifecycle.clone().into();
        let first = lifecycle.pop_front().unwrap_or_else(|| "initiated".into());
        let new = Build {
            id: state.next_id,
            uuid: format!("uuid-{}", state.next_id),
            status: first,
            upcoming: lifecycle,
            ..original
        };
        state.next_id += 1;
        state.builds.push(new.clone());
        return Reply::json(200, build_json(&new));
    }
    Reply::json(405, json!({"error": "Method not allowed"}))
}

fn build_json(b: &Build) -> Value {
    json!({
        "id": b.id,
        "uuid": b.uuid,
        "project_id": PROJECT,
        "status": b.status,
        "github_username": "someone",
        "commit_id": b.commit_id,
        "message": "A commit",
        "branch": b.branch,
        "started_at": "2026-11-01T10:00:00Z",
        "finished_at": null,
    })
}

impl Fake for CodeshipV1 {
    fn whose_builds_end(ending: Ending) -> Self {
        CodeshipV1::start(ending.in_words(["success", "error", "stopped", "testing"]))
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CODESHIP_API_KEY", KEY.to_string()),
            ("CODESHIP_API_PROJECT_ID", PROJECT.to_string()),
            ("CODESHIP_API_BRANCH", "main".to_string()),
            ("CODESHIP_API_URL", self.server.url.clone()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![KEY.to_string()]
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["codeship", "restart-latest", "--wait"]
    }

    fn start_request(&self) -> Request {
        Request::new("POST", "/api/v1/builds/")
    }

    fn read_request(&self) -> Request {
        Request::new("GET", "/api/v1/projects/")
    }

    fn started(&self) -> Started {
        Started {
            id: "2000".into(),
            url: format!("https://app.codeship.com/projects/{PROJECT}/builds/2000"),
        }
    }

    fn where_to_check(&self) -> String {
        format!("the builds of {REPOSITORY} at https://app.codeship.com/projects/{PROJECT}")
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &["codeship", "restart-latest"]
    }

    fn restart_request(&self) -> Request {
        self.start_request()
    }

    fn restarted_id(&self) -> String {
        self.started().id
    }

    fn provider(&self) -> &'static str {
        "codeship"
    }

    fn stop_request(&self) -> Option<Request> {
        None
    }

    fn own_build(&self) -> (&'static str, String) {
        ("CI_BUILD_ID", "1003".into())
    }

    fn rate_limit_answers(&self) -> Vec<Reply> {
        codeship_v2::rate_limit_answers().into()
    }
}
