//! A fake Codeship API v2: Basic-auth sign-in handing out expiring bearer tokens, two
//! organizations, a Pro and a Basic project with 75 and 12 builds across branches, paged
//! build lists (newest first), restarts that create a new build (Pro) or run the same build
//! again (Basic), triggers that Codeship ignores unless the ref is `heads/<branch>`, stops,
//! and a rate limit of N requests per window answered the way Codeship does
//! (`403 Rate Limit Exceeded`).
//!
//! A started build's status advances one step through `lifecycle` each time the build itself
//! is read (`GET …/builds/:uuid`); lists show it as it is.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Ending, Fake, Request, Started};
use crate::support::{FakeServer, Recorded, Reply};

pub const USER: &str = "deploy-bot@example.com";
pub const PASSWORD: &str = "Pa55-w0rd:with%odd&chars";
/// An account with two-factor authentication: Codeship's API refuses it.
pub const TWO_FACTOR_USER: &str = "human@example.com";

pub const ORG: &str = "6f1d2c3b-0a9e-4d8c-b7a6-000000000a01";
pub const ORG_NAME: &str = "Acme";
pub const OTHER_ORG: &str = "6f1d2c3b-0a9e-4d8c-b7a6-000000000a02";
pub const OTHER_ORG_NAME: &str = "Acme Labs";

pub const PRO: &str = "7b3596c0-560e-4135-8b18-0000000000b1";
pub const BASIC: &str = "7b3596c0-560e-4135-8b18-0000000000b2";

/// The Pro project's newest build of `master` (the newest build of all).
pub const PRO_MASTER: &str = "b0000000-0000-4000-8000-000000000075";
pub const PRO_MASTER_SHA: &str = "81d2282b9c0e4f5a6b7c8d9e0f1a2b3c4d5e6f70";
/// The Pro project's newest build of `release/2.x`: the 56th build listed, on page 2.
pub const PRO_RELEASE: &str = "b0000000-0000-4000-8000-000000000020";
/// The Pro project's newest build of `hotfix`, still running.
pub const PRO_HOTFIX: &str = "b0000000-0000-4000-8000-000000000074";
/// The Basic project's newest build of `master`.
pub const BASIC_MASTER: &str = "ba5e0000-0000-4000-8000-000000000012";
pub const BASIC_MASTER_SHA: &str = "c0ffee00aa11bb22cc33dd44ee55ff6677889900";

#[derive(Debug, Clone)]
pub struct Build {
    pub uuid: String,
    pub project: String,
    pub branch: String,
    pub sha: String,
    pub status: String,
    /// Statuses still to come, one per read of this build.
    pub upcoming: VecDeque<String>,
    pub queued_at: i64,
    pub finished_at: Option<i64>,
    /// Creation order: lists show the highest first.
    pub seq: u64,
    /// Lists leave a new build out this many more times (Codeship takes a moment to queue).
    pub hidden_for: usize,
}

#[derive(Debug)]
pub struct State {
    pub builds: Vec<Build>,
    pub next_seq: u64,
    /// What the auth answer lists: (uuid, name, scopes).
    pub orgs: Vec<(String, String, Vec<String>)>,
    pub token_lifetime: i64,
    /// Valid tokens and when they expire (Unix seconds).
    pub tokens: Vec<(String, i64)>,
    pub issued: u64,
    /// Every token is refused, even a fresh one.
    pub reject_tokens: bool,
    /// The statuses a started or restarted build goes through.
    pub lifecycle: Vec<String>,
    /// How many list reads a new build stays out of the list.
    pub appear_after: usize,
    /// Codeship caps `per_page`; lists never hold more than this.
    pub max_per_page: usize,
    /// At most this many requests per window, else `403 Rate Limit Exceeded`.
    pub rate_limit: Option<(usize, Duration)>,
    /// Say the rate limit only on the status line (`403 Forbidden Rate Limit Exceeded`)
    /// with an empty body, as Codeship documents it.
    pub rate_limit_on_status_line: bool,
    pub recent: VecDeque<Instant>,
    /// Answers by kind, for asserting what the client provoked.
    pub answered_401: usize,
    pub answered_rate_limited: usize,
    /// Trigger bodies Codeship accepted (202) but did nothing with.
    pub ignored_triggers: Vec<Value>,
    /// Accept triggers with 202 and never start a build.
    pub drop_triggers: bool,
    /// The uuid the next started build gets instead of its own (a hostile answer).
    pub next_uuid: Option<String>,
    /// The organization's projects, as Codeship describes them (see "Projects" below).
    pub projects: Vec<Value>,
}

pub struct CodeshipV2 {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
}

impl CodeshipV2 {
    /// Started builds run `initiated`, `testing`, then `final_status`.
    pub fn start(final_status: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            builds: seed(),
            next_seq: 1000,
            orgs: vec![
                (
                    ORG.into(),
                    ORG_NAME.into(),
                    vec![
                        "build.read".into(),
                        "build.write".into(),
                        "project.read".into(),
                        "project.write".into(),
                    ],
                ),
                (
                    OTHER_ORG.into(),
                    OTHER_ORG_NAME.into(),
                    vec!["build.read".into(), "project.read".into()],
                ),
            ],
            token_lifetime: 3600,
            tokens: Vec::new(),
            issued: 0,
            reject_tokens: false,
            lifecycle: vec!["initiated".into(), "testing".into(), final_status.into()],
            appear_after: 0,
            max_per_page: 50,
            rate_limit: None,
            rate_limit_on_status_line: false,
            recent: VecDeque::new(),
            answered_401: 0,
            answered_rate_limited: 0,
            ignored_triggers: Vec::new(),
            drop_triggers: false,
            next_uuid: None,
            projects: seed_projects(),
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        CodeshipV2 { server, state }
    }

    pub fn set(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap());
    }

    pub fn build(&self, uuid: &str) -> Build {
        self.state
            .lock()
            .unwrap()
            .builds
            .iter()
            .find(|b| b.uuid == uuid)
            .cloned()
            .unwrap_or_else(|| panic!("no build {uuid}"))
    }

    /// Builds created since the fake started, oldest first.
    pub fn created(&self) -> Vec<Build> {
        let state = self.state.lock().unwrap();
        let mut new: Vec<Build> = state
            .builds
            .iter()
            .filter(|b| b.seq >= 1000)
            .cloned()
            .collect();
        new.sort_by_key(|b| b.seq);
        new
    }

    /// Every token the fake handed out, to assert none was printed.
    pub fn tokens(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .tokens
            .iter()
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// `Basic base64(user:password)` as Codeship expects it.
    pub fn basic() -> String {
        base64_encode(format!("{USER}:{PASSWORD}").as_bytes())
    }

    pub fn prefix(project: &str) -> String {
        format!("/v2/organizations/{ORG}/projects/{project}")
    }

    pub fn list_target(project: &str, page: usize) -> String {
        format!("{}/builds?page={page}&per_page=50", Self::prefix(project))
    }

    /// Uuid of the build with this creation number (seeded: 1..; created: 1000..).
    pub fn uuid(project: &str, seq: u64) -> String {
        let head = if project == BASIC {
            "ba5e0000"
        } else {
            "b0000000"
        };
        format!("{head}-0000-4000-8000-{seq:012}")
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Pro: 75 builds, newest (75) on `master`, `hotfix` (74) still running, `release/2.x` last
/// built as 20 (page 2), every third on `master`, the rest on `dev`.
/// Basic: 12 builds, 12 on `master`, the rest alternating `master`/`dev`.
fn seed() -> Vec<Build> {
    let base = 1_790_000_000; // 2026-09-21
    let mut builds = Vec::new();
    for seq in 1..=75u64 {
        let (branch, status) = match seq {
            75 => ("master", "failed"),
            74 => ("hotfix", "testing"),
            20 | 10 => ("release/2.x", "success"),
            s if s % 3 == 0 => ("master", "success"),
            _ => ("dev", if seq % 7 == 0 { "error" } else { "success" }),
        };
        let sha = if seq == 75 {
            PRO_MASTER_SHA.to_string()
        } else {
            format!("{seq:040x}")
        };
        builds.push(seeded(
            PRO,
            seq,
            branch,
            &sha,
            status,
            base + seq as i64 * 3600,
        ));
    }
    for seq in 1..=12u64 {
        let branch = if seq % 2 == 0 { "master" } else { "dev" };
        let sha = if seq == 12 {
            BASIC_MASTER_SHA.to_string()
        } else {
            format!("{:040x}", 0xba5e_0000 + seq)
        };
        let status = if seq == 12 { "error" } else { "success" };
        builds.push(seeded(
            BASIC,
            seq,
            branch,
            &sha,
            status,
            base + seq as i64 * 3600,
        ));
    }
    builds
}

fn seeded(project: &str, seq: u64, branch: &str, sha: &str, status: &str, queued: i64) -> Build {
    let running = status == "testing";
    Build {
        uuid: CodeshipV2::uuid(project, seq),
        project: project.into(),
        branch: branch.into(),
        sha: sha.into(),
        status: status.into(),
        upcoming: if running {
            vec!["testing".to_string(); 2]
                .into_iter()
                .chain(["success".to_string()])
                .collect()
        } else {
            VecDeque::new()
        },
        queued_at: queued,
        finished_at: (!running).then_some(queued + 600),
        seq,
        hidden_for: 0,
    }
}

/// Codeship's rate limit: `403 Rate Limit Exceeded` in the body, or said on the status line
/// alone (`403 Forbidden Rate Limit Exceeded`) with an empty body, as Codeship documents it.
pub fn rate_limit_answers() -> [Reply; 2] {
    [
        Reply::text(403, "Rate Limit Exceeded"),
        Reply::empty(403).reason("Forbidden Rate Limit Exceeded"),
    ]
}

fn errors(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({ "errors": [message] }))
}

fn handle(state: &Mutex<State>, req: &Recorded) -> Reply {
    let mut state = state.lock().unwrap();
    if let Some((max, window)) = state.rate_limit {
        let now = Instant::now();
        while state
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            state.recent.pop_front();
        }
        if state.recent.len() >= max {
            state.answered_rate_limited += 1;
            let [in_the_body, on_the_status_line] = rate_limit_answers();
            return if state.rate_limit_on_status_line {
                on_the_status_line
            } else {
                in_the_body
            };
        }
        state.recent.push_back(now);
    }
    let path = req.path().to_string();
    if path == "/v2/auth" {
        return if req.method == "POST" {
            auth(&mut state, req)
        } else {
            errors(405, "Method not allowed")
        };
    }
    let token_ok = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| {
            !state.reject_tokens
                && state
                    .tokens
                    .iter()
                    .any(|(tok, expires)| tok == t && *expires > now())
        });
    if !token_ok {
        state.answered_401 += 1;
        return errors(401, "Unauthorized");
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["v2", "organizations", org, "projects", rest @ ..] = parts.as_slice() {
        if !matches!(rest, [_, "builds", ..]) {
            return projects(&mut state, req, org, rest);
        }
    }
    let ["v2", "organizations", org, "projects", project, "builds", rest @ ..] = parts.as_slice()
    else {
        return errors(404, "Not Found");
    };
    let Some(scopes) = state
        .orgs
        .iter()
        .find(|(uuid, _, _)| uuid == org)
        .map(|o| o.2.clone())
    else {
        return errors(404, "Organization not found");
    };
    if *org != ORG || (*project != PRO && *project != BASIC) {
        return errors(404, "Project not found");
    }
    let needed = if req.method == "GET" {
        "build.read"
    } else {
        "build.write"
    };
    if !scopes.iter().any(|s| s == needed) {
        return errors(403, "You are not authorized to perform this action");
    }
    let project = project.to_string();
    match (req.method.as_str(), rest) {
        ("GET", []) => list(&mut state, req, &project),
        ("POST", []) => trigger(&mut state, req, &project),
        ("GET", [uuid]) => match find(&mut state, &project, uuid) {
            Some(b) => {
                if let Some(next) = b.upcoming.pop_front() {
                    b.status = next;
                    if is_final(&b.status) {
                        b.finished_at = Some(now());
                    }
                }
                let b = b.clone();
                Reply::json(200, json!({ "build": build_json(&b) }))
            }
            None => errors(404, "Build not found"),
        },
        ("POST", [uuid, "restart"]) => {
            let Some(b) = find(&mut state, &project, uuid).cloned() else {
                return errors(404, "Build not found");
            };
            restart(&mut state, b);
            Reply::empty(202)
        }
        ("POST", [uuid, "stop"]) => match find(&mut state, &project, uuid) {
            Some(b) => {
                if !is_final(&b.status) {
                    b.status = "stopped".into();
                    b.upcoming.clear();
                    b.finished_at = Some(now());
                }
                Reply::empty(202)
            }
            None => errors(404, "Build not found"),
        },
        _ => errors(405, "Method not allowed"),
    }
}

fn auth(state: &mut State, req: &Recorded) -> Reply {
    let Some(credentials) = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(base64_decode)
    else {
        return errors(401, "Unauthorized");
    };
    let (user, password) = credentials.split_once(':').unwrap_or((&credentials, ""));
    if user == TWO_FACTOR_USER {
        return Reply::json(
            401,
            json!({"error": "Your account has two-factor authentication enabled, which is not possible to support with the API."}),
        );
    }
    if user != USER || password != PASSWORD {
        return errors(401, "Unauthorized");
    }
    state.issued += 1;
    let token = format!(
        "eyJhbGciOiJIUzI1NiJ9.fake-{}-{:x}",
        state.issued,
        now() ^ 0x5f3c_a7e1
    );
    let expires_at = now() + state.token_lifetime;
    state.tokens.push((token.clone(), expires_at));
    let orgs: Vec<Value> = state
        .orgs
        .iter()
        .map(|(uuid, name, scopes)| json!({"uuid": uuid, "name": name, "scopes": scopes}))
        .collect();
    Reply::json(
        200,
        json!({"access_token": token, "expires_at": expires_at, "organizations": orgs}),
    )
}

fn find<'a>(state: &'a mut State, project: &str, uuid: &str) -> Option<&'a mut Build> {
    state
        .builds
        .iter_mut()
        .find(|b| b.project == project && b.uuid == uuid)
}

fn list(state: &mut State, req: &Recorded, project: &str) -> Reply {
    let page: usize = req
        .query("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: usize = req
        .query("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, state.max_per_page);
    let mut visible: Vec<&mut Build> = state
        .builds
        .iter_mut()
        .filter(|b| b.project == project)
        .collect();
    for b in visible.iter_mut() {
        if b.hidden_for > 0 {
            b.hidden_for -= 1;
        }
    }
    let mut visible: Vec<Build> = visible
        .into_iter()
        .filter(|b| b.hidden_for == 0)
        .map(|b| b.clone())
        .collect();
    visible.sort_by_key(|b| std::cmp::Reverse(b.seq));
    let total = visible.len();
    let builds: Vec<Value> = visible
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(build_json)
        .collect();
    Reply::json(
        200,
        json!({"builds": builds, "total": total, "per_page": per_page, "page": page}),
    )
}

fn trigger(state: &mut State, req: &Recorded, project: &str) -> Reply {
    let body: Value = match serde_json::from_str(&req.body) {
        Ok(v) => v,
        Err(_) => return errors(400, "Invalid JSON"),
    };
    let Some(git_ref) = body.get("ref").and_then(|r| r.as_str()) else {
        return errors(400, "ref is required");
    };
    // Codeship answers 202 to a bare branch name and never builds it.
    let Some(branch) = git_ref.strip_prefix("heads/") else {
        state.ignored_triggers.push(body.clone());
        return Reply::empty(202);
    };
    if state.drop_triggers {
        state.ignored_triggers.push(body.clone());
        return Reply::empty(202);
    }
    let sha = body
        .get("commit_sha")
        .and_then(|s| s.as_str())
        .map(str::to_string);
    if project == BASIC {
        // An old commit on Basic is a restart of the build that built it.
        if let Some(existing) = sha.as_deref().and_then(|sha| {
            state
                .builds
                .iter()
                .find(|b| b.project == project && b.branch == branch && b.sha.starts_with(sha))
                .cloned()
        }) {
            restart(state, existing);
            return Reply::empty(202);
        }
    }
    let sha = sha.unwrap_or_else(|| format!("{:040x}", 0xfeed_0000u64 + state.next_seq));
    new_build(state, project, branch, &sha);
    Reply::empty(202)
}

/// Pro: a new build of the same commit. Basic: the same build runs again. A running build
/// is left alone, as Codeship does.
fn restart(state: &mut State, original: Build) {
    if !is_final(&original.status) {
        return;
    }
    if original.project == PRO {
        new_build(state, PRO, &original.branch, &original.sha);
        return;
    }
    let mut lifecycle: VecDeque<String> = state.lifecycle.clone().into();
    let first = lifecycle.pop_front().unwrap_or_else(|| "initiated".into());
    if let Some(b) = find(state, &original.project, &original.uuid) {
        b.status = first;
        b.upcoming = lifecycle;
        b.queued_at = now();
        b.finished_at = None;
    }
}

fn new_build(state: &mut State, project: &str, branch: &str, sha: &str) {
    let mut lifecycle: VecDeque<String> = state.lifecycle.clone().into();
    let first = lifecycle.pop_front().unwrap_or_else(|| "initiated".into());
    let seq = state.next_seq;
    state.next_seq += 1;
    let hidden_for = state.appear_after;
    let uuid = state
        .next_uuid
        .take()
        .unwrap_or_else(|| CodeshipV2::uuid(project, seq));
    state.builds.push(Build {
        uuid,
        project: project.into(),
        branch: branch.into(),
        sha: sha.into(),
        status: first,
        upcoming: lifecycle,
        queued_at: now(),
        finished_at: None,
        seq,
        hidden_for,
    });
}

fn is_final(status: &str) -> bool {
    matches!(
        status,
        "success" | "error" | "failed" | "infrastructure_failure" | "stopped" | "ignored"
    )
}

fn build_json(b: &Build) -> Value {
    let api = format!(
        "https://api.codeship.com/v2/organizations/{ORG}/projects/{}/builds/{}",
        b.project, b.uuid
    );
    let links = if b.project == BASIC {
        json!({"pipelines": format!("{api}/pipelines")})
    } else {
        json!({"services": format!("{api}/services"), "steps": format!("{api}/steps")})
    };
    json!({
        "uuid": b.uuid,
        "project_uuid": b.project,
        "organization_uuid": ORG,
        "ref": format!("heads/{}", b.branch),
        "commit_sha": b.sha,
        "status": b.status,
        "username": "codeship-bot",
        "commit_message": format!("Commit {}", &b.sha[..8]),
        "finished_at": b.finished_at.map(iso),
        "allocated_at": if b.project == BASIC { Value::Null } else { json!(iso(b.queued_at + 5)) },
        "queued_at": iso(b.queued_at),
        "links": links,
    })
}

// Projects: `GET …/projects` (paged), `GET …/projects/UUID`, `POST …/projects`.

/// A Pro project's key, which cirelay must never show.
pub const AES_KEY: &str = "aes-key-0123456789abcdef0123456789abcdef";

fn seed_projects() -> Vec<Value> {
    let project = |uuid: &str, name: &str, kind: &str| {
        let mut p = json!({
            "uuid": uuid, "id": 1, "name": name, "type": kind,
            "organization_uuid": ORG, "repository_url": format!("git@github.com:{name}.git"),
            "repository_provider": "github", "authentication_user": USER,
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-10-02T03:04:05Z",
            "setup_commands": [], "test_pipelines": []
        });
        if kind == "pro" {
            p["aes_key"] = json!(AES_KEY);
        }
        p
    };
    let mut all = vec![
        project(PRO, "acme/app", "pro"),
        project(BASIC, "acme/site", "basic"),
    ];
    // More than a page of 50.
    for i in 0..55 {
        all.push(project(
            &format!("7b3596c0-560e-4135-8b18-{:012x}", 0x100 + i),
            &format!("acme/lib-{i}"),
            "basic",
        ));
    }
    all
}

fn projects(state: &mut State, req: &Recorded, org: &str, rest: &[&str]) -> Reply {
    let Some(scopes) = state.orgs.iter().find(|o| o.0 == org).map(|o| o.2.clone()) else {
        return errors(404, "Organization not found");
    };
    let needed = if req.method == "GET" {
        "project.read"
    } else {
        "project.write"
    };
    if !scopes.iter().any(|s| s == needed) {
        return errors(403, "You are not authorized to perform this action");
    }
    match (req.method.as_str(), rest) {
        ("GET", []) => {
            let page: usize = req.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let per_page: usize = req
                .query("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(30)
                .clamp(1, state.max_per_page);
            let listed: Vec<&Value> = state
                .projects
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            Reply::json(
                200,
                json!({"projects": listed, "total": state.projects.len(), "per_page": per_page, "page": page}),
            )
        }
        ("GET", [uuid]) => match state.projects.iter().find(|p| p["uuid"] == *uuid) {
            Some(p) => Reply::json(200, json!({ "project": p })),
            None => errors(404, "Project not found"),
        },
        ("POST", []) => {
            let Ok(mut spec) = serde_json::from_str::<Value>(&req.body) else {
                return errors(400, "invalid JSON");
            };
            for field in ["repository_url", "type", "team_ids"] {
                if spec.get(field).is_none() {
                    return errors(400, &format!("{field} is required"));
                }
            }
            let url = spec["repository_url"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if state.projects.iter().any(|p| p["repository_url"] == url) {
                return errors(400, "A project for this repository already exists");
            }
            let uuid = format!(
                "7b3596c0-560e-4135-8b18-{:012x}",
                0x900 + state.projects.len()
            );
            let name = url
                .trim_start_matches("git@github.com:")
                .trim_end_matches(".git")
                .to_string();
            spec["uuid"] = json!(uuid);
            spec["name"] = json!(name);
            spec["organization_uuid"] = json!(ORG);
            spec["aes_key"] = json!(AES_KEY);
            state.projects.push(spec.clone());
            Reply::json(201, json!({ "project": spec }))
        }
        _ => errors(404, "Not Found"),
    }
}

/// Unix seconds as Codeship writes times: `2017-09-13T17:13:55.000Z`.
pub fn iso(t: i64) -> String {
    let utc = cirelay::time::rfc3339_utc(u64::try_from(t).unwrap_or(0));
    format!("{}.000Z", utc.trim_end_matches('Z'))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        bits = bits << 6 | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Fake for CodeshipV2 {
    fn whose_builds_end(ending: Ending) -> Self {
        CodeshipV2::start(ending.in_words(["success", "failed", "stopped", "testing"]))
    }

    fn server(&self) -> &FakeServer {
        &self.server
    }

    /// The Pro project, organization by name, branch `master`.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CODESHIP_API_USER", USER.to_string()),
            ("CODESHIP_API_PASSWORD", PASSWORD.to_string()),
            ("CODESHIP_API_ORG", ORG_NAME.to_string()),
            ("CODESHIP_API_PROJECT_UUID", PRO.to_string()),
            ("CODESHIP_API_BRANCH", "master".to_string()),
            ("CODESHIP_API_URL", self.server.url.clone()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![PASSWORD.to_string(), CodeshipV2::basic()];
        secrets.extend(self.tokens());
        secrets
    }

    fn start_line(&self) -> &'static [&'static str] {
        &["codeship", "trigger", "--branch", "master"]
    }

    fn start_request(&self) -> Request {
        Request::new("POST", format!("{}/builds", CodeshipV2::prefix(PRO)))
    }

    fn read_request(&self) -> Request {
        Request::new("GET", format!("{}/builds", CodeshipV2::prefix(PRO)))
    }

    fn started(&self) -> Started {
        let id = CodeshipV2::uuid(PRO, 1000);
        Started {
            url: format!("https://app.codeship.com/projects/{PRO}/builds/{id}"),
            id,
        }
    }

    fn where_to_check(&self) -> String {
        format!("the builds of `master` at https://app.codeship.com/projects/{PRO}")
    }

    fn restart_line(&self) -> &'static [&'static str] {
        &["codeship", "restart-latest"]
    }

    fn restart_request(&self) -> Request {
        // `…/builds/UUID/restart`, not the trigger's `…/builds`.
        Request::new("POST", format!("{}/builds/", CodeshipV2::prefix(PRO)))
    }

    fn restarted_id(&self) -> String {
        // Pro restarts as a new build.
        self.started().id
    }

    fn provider(&self) -> &'static str {
        "codeship"
    }

    fn stop_request(&self) -> Option<Request> {
        let id = self.started().id;
        Some(Request::new(
            "POST",
            format!("{}/builds/{id}/stop", CodeshipV2::prefix(PRO)),
        ))
    }

    fn own_build(&self) -> (&'static str, String) {
        ("CI_BUILD_ID", PRO_MASTER.into())
    }

    fn rate_limit_answers(&self) -> Vec<Reply> {
        rate_limit_answers().into()
    }
}
