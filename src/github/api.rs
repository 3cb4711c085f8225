//! The GitHub REST API requests cirelay sends, the shapes of their answers (each value that
//! goes into a request path, a link or an export file checked where it is read), and the
//! one-line refusals that name what the token lacks. Paths, parameters and bodies follow
//! GitHub's OpenAPI description (`tests/specs/github-actions.openapi.json`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Repo, RunRef, API_VAR, TOKEN_VARS};
use crate::cli::env_first;
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Opened, PageBudget, Request, Response};
use crate::provider::About;
use crate::Ctx;

pub const ACCEPT: &str = "application/vnd.github+json";
pub const API_VERSION: &str = "2022-11-28";
/// GitHub asks for at least a minute after a secondary rate limit that names no pause,
/// longer each time it comes again. GitHub says so in the answer; a 429 that does not (a
/// proxy's) is backed off as usual.
const SECONDARY_LIMIT_PAUSE: Duration = Duration::from_secs(60);
/// GitHub's largest page.
pub const PER_PAGE: usize = 100;
/// A runaway `Link: rel="next"` must not loop forever: a run has at most a few hundred
/// jobs, and a listing stops at 1,000 runs.
const MAX_PAGES: usize = 30;

/// A workflow run as GitHub describes it. Only `id` is required: the rest is for the
/// status, messages and listings, and a missing word reads as not known yet.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub run_number: Option<u64>,
    #[serde(default)]
    pub run_attempt: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub run_started_at: Option<String>,
    /// The workflow's id: where the run's history is listed.
    #[serde(default)]
    pub workflow_id: Option<u64>,
    #[serde(default)]
    pub actor: Option<Actor>,
    #[serde(default)]
    pub triggering_actor: Option<Actor>,
}

impl Run {
    /// The attempt GitHub shows: 1 until the run is rerun.
    pub fn attempt(&self) -> u64 {
        self.run_attempt.unwrap_or(1)
    }

    /// Who started this attempt.
    pub fn started_by(&self) -> Option<&str> {
        self.triggering_actor
            .as_ref()
            .or(self.actor.as_ref())
            .map(|a| a.login.as_str())
    }

    fn check(&self) -> Result<(), String> {
        checked_shape("run id", self.id, &self.status, &self.conclusion)
    }
}

/// A run's or a job's id and words, checked where they are read: they go into request
/// paths and printed lines.
fn checked_shape(
    what: &str,
    id: u64,
    status: &Option<String>,
    conclusion: &Option<String>,
) -> Result<(), String> {
    positive(what, id)?;
    word_shaped("status", status.as_deref())?;
    word_shaped("conclusion", conclusion.as_deref())
}

/// A run's or a job's word: its conclusion once completed, else its status.
pub fn word_of<'a>(status: Option<&'a str>, conclusion: Option<&'a str>) -> &'a str {
    match (status, conclusion) {
        (Some("completed"), Some(c)) => c,
        (Some(s), _) => s,
        (None, _) => "unknown",
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Actor {
    #[serde(default)]
    pub login: String,
}

/// A job of a run's newest attempt.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub run_attempt: Option<u64>,
}

impl Job {
    fn check(&self) -> Result<(), String> {
        checked_shape("job id", self.id, &self.status, &self.conclusion)
    }

    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }

    /// Its conclusion once completed, else its status.
    pub fn word(&self) -> &str {
        word_of(self.status.as_deref(), self.conclusion.as_deref())
    }
}

#[derive(Debug, Deserialize)]
struct RunPage {
    #[serde(default)]
    workflow_runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
struct JobPage {
    #[serde(default)]
    jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dispatched {
    #[serde(default)]
    workflow_run_id: Option<u64>,
}

// Ids go into request paths and export files, status words into stdout: one of another
// shape is refused where the answer is read.

fn positive(what: &str, id: u64) -> Result<(), String> {
    if id > 0 {
        Ok(())
    } else {
        Err(format!("a {what} of 0"))
    }
}

/// GitHub's status words are lower-case words with `_`; anything else is not an answer
/// from GitHub.
fn word_shaped(what: &str, word: Option<&str>) -> Result<(), String> {
    match word {
        Some(w)
            if w.is_empty()
                || w.len() > 40
                || !w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Err(format!(
                "a {what} {:?}, which is not a status word",
                w.chars().take(60).collect::<String>()
            ))
        }
        _ => Ok(()),
    }
}

/// What a request needs the token to be allowed, for the refusal that says what it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// What cancelling a run did.
pub enum Cancelled {
    Asked,
    /// GitHub answered 409: the run had finished. Its message.
    AlreadyFinished(String),
}

pub struct Api {
    /// `GITHUB_API_URL`.
    base: String,
    /// Where links point.
    web: String,
    token: String,
    /// The variable the token came from, to name it when it is refused.
    token_var: &'static str,
}

impl Api {
    pub fn from_env() -> Result<Self> {
        let (token_var, token) = env_first(TOKEN_VARS).ok_or_else(|| {
            Error::usage(
                "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that may run the workflow: a fine-grained token with `actions: write` on the repository, or inside GitHub Actions a job with `permissions: actions: write`",
            )
        })?;
        register_secret(&token);
        Ok(Api {
            base: super::api_url()?,
            web: super::web_url()?,
            token,
            token_var,
        })
    }

    pub fn run_url(&self, run: &RunRef) -> String {
        format!("{}/{}/actions/runs/{}", self.web, run.repo, run.id)
    }

    pub fn job_url(&self, run: &RunRef, job: u64) -> String {
        format!("{}/job/{job}", self.run_url(run))
    }

    pub fn workflow_page(&self, repo: &Repo, workflow: &str) -> String {
        format!("{}/{repo}/actions/workflows/{}", self.web, encode(workflow))
    }

    fn authorized(&self, req: Request) -> Request {
        req.header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", ACCEPT)
            .header("X-GitHub-Api-Version", API_VERSION)
            .rate_limit_floor(SECONDARY_LIMIT_PAUSE, "secondary rate limit")
    }

    fn get(&self, path: &str) -> Request {
        self.authorized(Request::get(format!("{}{path}", self.base)))
    }

    fn post(&self, path: &str) -> Request {
        self.authorized(Request::post(format!("{}{path}", self.base)))
    }

    /// `GET /repos/O/R`: the repository's default branch.
    pub fn default_branch(&self, ctx: &Ctx, repo: &Repo) -> Result<String> {
        let resp = ctx.http.send(&self.get(&repo.path()))?;
        self.check(&resp, About::Project(repo), Access::Read)?;
        let found: Repository = resp.decode()?;
        match found.default_branch {
            Some(b) if !b.is_empty() && b.len() <= 255 && !b.chars().any(char::is_control) => Ok(b),
            other => Err(resp.unusable(&format!(
                "with the default branch {:?}, which cannot be a branch; pass --ref",
                other.unwrap_or_default()
            ))),
        }
    }

    /// `POST /repos/O/R/actions/workflows/W/dispatches`, sent at most once; the answer is
    /// the caller's to read (200 with the run, 204 without, or the refusal of
    /// `return_run_details`).
    pub fn dispatch(
        &self,
        ctx: &Ctx,
        repo: &Repo,
        workflow: &str,
        body: &Value,
    ) -> Result<Response> {
        let req = self
            .post(&format!(
                "{}/actions/workflows/{}/dispatches",
                repo.path(),
                encode(workflow)
            ))
            .json(body)
            .starts_build(format!(
                "the runs of {workflow} at {}",
                self.workflow_page(repo, workflow)
            ));
        ctx.http.send(&req)
    }

    /// `GET /repos/O/R/actions/runs/ID`: the run's newest attempt.
    pub fn run(&self, ctx: &Ctx, run: &RunRef) -> Result<Run> {
        let resp = ctx.http.send(&self.get(&run_path(run)))?;
        let id = run.to_string();
        self.check(&resp, About::Build(&id), Access::Read)?;
        let found: Run = resp.decode()?;
        found.check().map_err(|why| unusable(&resp, &why))?;
        if found.id != run.id {
            return Err(unusable(
                &resp,
                &format!("run {} where run {} was asked for", found.id, run.id),
            ));
        }
        Ok(found)
    }

    /// Runs of the repository, or of one workflow, newest first, following pages up to
    /// `limit`. `query`: the filters (`branch`, `event`, `status`, `created`).
    pub fn runs(
        &self,
        ctx: &Ctx,
        repo: &Repo,
        workflow: Option<&str>,
        query: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<Run>> {
        let (path, about) = match workflow {
            Some(w) => (
                format!("{}/actions/workflows/{}/runs", repo.path(), encode(w)),
                About::Workflow(w),
            ),
            None => (
                format!("{}/actions/runs", repo.path()),
                About::Project(repo),
            ),
        };
        self.pages(ctx, &path, query, limit, about, |resp| {
            let page: RunPage = resp.decode()?;
            for run in &page.workflow_runs {
                run.check().map_err(|why| unusable(resp, &why))?;
            }
            Ok(page.workflow_runs)
        })
    }

    /// Every job of the run's newest attempt (`GET …/runs/ID/jobs`, every page).
    pub fn jobs(&self, ctx: &Ctx, run: &RunRef) -> Result<Vec<Job>> {
        let id = run.to_string();
        let path = format!("{}/jobs", run_path(run));
        self.pages(ctx, &path, &[], usize::MAX, About::Build(&id), |resp| {
            let page: JobPage = resp.decode()?;
            for job in &page.jobs {
                job.check().map_err(|why| unusable(resp, &why))?;
            }
            Ok(page.jobs)
        })
    }

    /// Reads a list page by page. The next page is the one `Link: rel="next"` names, but
    /// the request for it is built here: a URL from an answer never becomes a request.
    fn pages<T>(
        &self,
        ctx: &Ctx,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
        about: About,
        read: impl Fn(&Response) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let per_page = limit.clamp(1, PER_PAGE).to_string();
        let mut all = Vec::new();
        let mut budget = PageBudget::default();
        let mut page: u64 = 1;
        for _ in 0..MAX_PAGES {
            let mut pairs: Vec<(&str, &str)> = query.to_vec();
            let page_text = page.to_string();
            pairs.push(("per_page", &per_page));
            if page > 1 {
                pairs.push(("page", &page_text));
            }
            let url = format!("{path}?{}", crate::url::form(&pairs));
            let resp = ctx.http.send(&self.get(&url))?;
            self.check(&resp, about, Access::Read)?;
            budget.spend(&resp, "the list")?;
            all.extend(read(&resp)?);
            if all.len() >= limit {
                all.truncate(limit);
                return Ok(all);
            }
            match resp.header("link").and_then(next_page) {
                None => return Ok(all),
                Some(next) if next <= page => {
                    return Err(unusable(
                        &resp,
                        &format!("a Link to page {next} after page {page}"),
                    ))
                }
                Some(next) => page = next,
            }
        }
        Err(Error::api(format!(
            "{}{path} has more than {MAX_PAGES} pages; GitHub keeps answering Link: rel=\"next\"",
            self.base
        )))
    }

    /// `POST …/runs/ID/rerun` or `…/rerun-failed-jobs`: a new attempt of the same run, so
    /// it is sent at most once.
    pub fn rerun(&self, ctx: &Ctx, run: &RunRef, failed_only: bool) -> Result<()> {
        let what = if failed_only {
            "rerun-failed-jobs"
        } else {
            "rerun"
        };
        let req = self
            .post(&format!("{}/{what}", run_path(run)))
            .json(&serde_json::json!({}))
            .starts_build(format!(
                "the attempts of run {run} at {}",
                self.run_url(run)
            ));
        let resp = ctx.http.send(&req)?;
        let id = run.to_string();
        self.check(&resp, About::Build(&id), Access::Write)?;
        // GitHub answers `{}` (or nothing): anything else accepted on its behalf (a proxy's
        // page) cannot show that GitHub took the rerun.
        match resp.body.trim() {
            "" => Ok(()),
            body => match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(_)) => Ok(()),
                _ => Err(resp.unusable(&format!(
                    "with an answer that is not GitHub's ({})",
                    resp.snippet()
                ))),
            },
        }
    }

    /// `POST …/runs/ID/cancel`: harmless to repeat, so retried like a read.
    pub fn cancel(&self, ctx: &Ctx, run: &RunRef) -> Result<Cancelled> {
        let resp = ctx
            .http
            .send(&self.post(&format!("{}/cancel", run_path(run))))?;
        if resp.status == 409 {
            return Ok(Cancelled::AlreadyFinished(said(&resp)));
        }
        let id = run.to_string();
        self.check(&resp, About::Build(&id), Access::Write)?;
        Ok(Cancelled::Asked)
    }

    /// `GET /repos/O/R/actions/jobs/JOB/logs`: GitHub answers 302 to a signed address on
    /// another host, which is followed once, without the token.
    pub fn job_log(&self, ctx: &Ctx, repo: &Repo, job: u64) -> Result<Opened> {
        let req = self
            .get(&format!("{}/actions/jobs/{job}/logs", repo.path()))
            .follows_one_redirect();
        let opened = ctx.http.open(&req)?;
        let resp = &opened.response;
        match resp.status {
            200..=299 => Ok(opened),
            404 | 410 => Err(resp.error(
                "the job's log is gone or not written yet: GitHub keeps logs for 90 days by default, and a job's log exists once the job ran",
            )),
            _ if resp.request().contains("/actions/jobs/") => {
                self.check(resp, About::Job(job), Access::Read)?;
                Err(resp.error(""))
            }
            // The signed address refused: it expired, or the log host is another matter.
            _ => Err(resp.error("the signed log address was refused; it may have expired")),
        }
    }

    /// Turns a refusal into one line that says what to fix. A 403 or 404 names what the
    /// token lacks: GitHub answers 404 rather than 403 for a private repository the token
    /// cannot see.
    pub fn check(&self, resp: &Response, about: About, access: Access) -> Result<()> {
        if resp.is_success() {
            return Ok(());
        }
        let var = self.token_var;
        let permission = match access {
            Access::Write => "`actions: write` (a classic token: `repo` and `workflow`; inside GitHub Actions: `permissions: actions: write` for the job)",
            Access::Read => "`actions: read` (a classic token: `repo` for a private repository)",
        };
        let said = said(resp);
        let hint = match (resp.status, about) {
            (401, _) => format!(
                "{var} was refused: it is unknown, revoked or expired; create a new token"
            ),
            (403, _) if about_permissions(&said) => format!(
                "the token in {var} may not do this: a fine-grained token or GitHub App needs {permission}"
            ),
            // GitHub's own reason (a run still in progress cannot be rerun, …) says it all.
            (403, _) => String::new(),
            (404, About::Project(repo)) => format!(
                "repository {repo} was not found: check OWNER/REPO; for a private repository a 404 usually means the token in {var} cannot see it (a fine-grained token must include the repository)"
            ),
            (404, About::Workflow(w)) => format!(
                "workflow {w} was not found: WORKFLOW is its file name under .github/workflows (deploy.yml) or its id; for a private repository a 404 usually means the token in {var} cannot see it"
            ),
            (404, About::Build(what)) => format!(
                "run {what} was not found: check the id; for a private repository a 404 usually means the token in {var} cannot see it"
            ),
            (404 | 422, About::Definition(repo, w)) => format!(
                "check that {w} of {repo} exists on that ref and has an `on: workflow_dispatch` trigger, that --ref names a branch or tag, and that every --input is one the workflow declares (values are strings); for a private repository a 404 usually means the token in {var} cannot see it"
            ),
            _ => String::new(),
        };
        Err(refusal(resp, &said, &hint))
    }
}

fn run_path(run: &RunRef) -> String {
    format!("{}/actions/runs/{}", run.repo.path(), run.id)
}

/// A 403 that is about the token's permissions, as GitHub words them; any other 403
/// (a rerun refused) keeps GitHub's reason alone.
fn about_permissions(said: &str) -> bool {
    let s = said.to_ascii_lowercase();
    s.is_empty()
        || [
            "not accessible",
            "permission",
            "must have",
            "forbidden",
            "access",
        ]
        .iter()
        .any(|w| s.contains(w))
}

/// GitHub's reason for a refusal: `message`, and the `errors` that come with a 422.
pub fn said(resp: &Response) -> String {
    let Ok(v) = resp.decode::<Value>() else {
        return String::new();
    };
    let mut text = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let errors: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| match e {
                    Value::String(s) => Some(s.clone()),
                    other => other
                        .get("message")
                        .or_else(|| other.get("code"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        text = format!("{text} ({})", errors.join("; "));
    }
    crate::http::snippet(&text, 300)
}

fn refusal(resp: &Response, said: &str, hint: &str) -> Error {
    if said.is_empty() {
        return resp.error(hint);
    }
    let mut line = format!("{} answered {}: {said}", resp.request(), resp.status);
    if !hint.is_empty() {
        line.push_str(" — ");
        line.push_str(hint);
    }
    Error::api(crate::http::redact(&line))
}

/// A read answered with a value cirelay will not use.
fn unusable(resp: &Response, why: &str) -> Error {
    Error::api(format!(
        "{} answered {} with {why}; the answer cannot be used — check that {API_VAR} names a GitHub API",
        resp.request(),
        resp.status
    ))
}

/// The dispatch body. `inputs` is always there (`{}` without `--input`), as the contract
/// shows the body.
pub fn dispatch_body(
    git_ref: &str,
    inputs: &serde_json::Map<String, Value>,
    run_details: bool,
) -> Value {
    let mut body = serde_json::json!({ "ref": git_ref, "inputs": inputs });
    if run_details {
        body["return_run_details"] = Value::Bool(true);
    }
    body
}

/// Whether a refused dispatch is a server that does not take `return_run_details` (GitHub
/// Enterprise Server before it: "\"return_run_details\" is not a permitted key"). Such a
/// refusal is a validation failure: nothing was started.
pub fn refuses_run_details(resp: &Response) -> bool {
    matches!(resp.status, 400 | 422) && resp.body.contains("return_run_details")
}

/// The run an accepted dispatch names, when its answer carries one: `None` for an answer
/// without a body (204). An answer with a body that names no run is an unknown outcome,
/// since the run exists.
pub fn dispatched_run(resp: &Response) -> Result<Option<u64>> {
    if resp.status == 204 || resp.body.trim().is_empty() {
        return Ok(None);
    }
    let not_a_run = || {
        resp.unusable(&format!(
            "with an answer that names no run ({})",
            resp.snippet()
        ))
    };
    let answer: Dispatched = resp.decode().map_err(|_| not_a_run())?;
    match answer.workflow_run_id {
        Some(id) if id > 0 => Ok(Some(id)),
        _ => Err(not_a_run()),
    }
}

/// The page `Link: <…?page=N…>; rel="next"` names.
pub fn next_page(link: &str) -> Option<u64> {
    for part in link.split('<').skip(1) {
        let (url, params) = part.split_once('>')?;
        let next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if next {
            let query = url.split_once('?')?.1;
            return query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0);
        }
    }
    None
}

/// Everything cirelay reads from a GitHub answer, without a server: a dispatch's answer,
/// a run, pages of runs and jobs and their Link headers, and a refusal's message. For the
/// fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_answers(body: &str) {
    let resp = Response::received(200, Vec::new(), body.to_string(), "GET /repos/o/r");
    let _ = dispatched_run(&resp);
    if let Ok(run) = resp.decode::<Run>() {
        if run.check().is_ok() {
            let _ = super::runs::state_of(run.status.as_deref(), run.conclusion.as_deref());
            let _ = super::runs::word(&run);
        }
    }
    if let Ok(page) = resp.decode::<RunPage>() {
        let _ = page.workflow_runs.iter().map(Run::check).count();
    }
    if let Ok(page) = resp.decode::<JobPage>() {
        for job in &page.jobs {
            let _ = (job.check(), job.word());
        }
    }
    let _ = next_page(body);
    for line in body.lines() {
        let _ = super::job_logs::shown(line);
    }
    let refused = Response::received(422, Vec::new(), body.to_string(), "POST /repos/o/r");
    let _ = (said(&refused), refuses_run_details(&refused));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response::received(status, Vec::new(), body.to_string(), "POST /repos/o/r")
    }

    #[test]
    fn link_headers_name_the_next_page() {
        let link = "<https://api.github.com/repositories/1/actions/runs?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repositories/1/actions/runs?per_page=100&page=9>; rel=\"last\"";
        assert_eq!(next_page(link), Some(2));
        let last = "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=1>; rel=\"first\"";
        assert_eq!(next_page(last), None);
        assert_eq!(next_page("<https://x/y?page=0>; rel=next"), None);
        assert_eq!(next_page("garbage"), None);
        assert_eq!(next_page("<https://x/y?page=3>;rel=\"next\""), Some(3));
    }

    #[test]
    fn dispatch_answers() {
        let with = answer(
            200,
            r#"{"workflow_run_id": 42, "run_url": "u", "html_url": "h"}"#,
        );
        assert_eq!(dispatched_run(&with).unwrap(), Some(42));
        assert_eq!(dispatched_run(&answer(204, "")).unwrap(), None);
        for bad in [
            "{}",
            r#"{"workflow_run_id": 0}"#,
            r#"{"workflow_run_id": "42"}"#,
            "<html>",
        ] {
            assert!(dispatched_run(&answer(200, bad)).is_err(), "{bad}");
        }
        let refused = answer(
            422,
            r#"{"message":"Invalid request.\n\n\"return_run_details\" is not a permitted key.","documentation_url":"x"}"#,
        );
        assert!(refuses_run_details(&refused));
        assert!(!refuses_run_details(&answer(
            422,
            r#"{"message":"Unexpected inputs provided: [\"x\"]"}"#
        )));
        assert!(!refuses_run_details(&answer(404, "return_run_details")));
    }

    #[test]
    fn refusal_messages_carry_githubs_reasons() {
        let r = answer(
            422,
            r#"{"message":"Validation Failed","errors":[{"resource":"x","code":"invalid","message":"No ref found for: nope"}, "second"]}"#,
        );
        assert_eq!(
            said(&r),
            "Validation Failed (No ref found for: nope; second)"
        );
        assert!(about_permissions("Resource not accessible by integration"));
        assert!(about_permissions(""));
        assert!(!about_permissions("This workflow is already running"));
    }

    #[test]
    fn answers_are_checked_where_they_are_read() {
        let run: Run = serde_json::from_str(r#"{"id": 7, "status": "in_progress"}"#).unwrap();
        assert!(run.check().is_ok());
        assert_eq!(run.attempt(), 1);
        for bad in [
            r#"{"id": 0}"#,
            r#"{"id": 7, "status": "in progress\n"}"#,
            r#"{"id": 7, "conclusion": "FAILURE"}"#,
            r#"{"id": 7, "conclusion": ""}"#,
        ] {
            let run: Run = serde_json::from_str(bad).unwrap();
            assert!(run.check().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Run>(r#"{"id": -1}"#).is_err());
        assert!(serde_json::from_str::<Run>(r#"{"id": "7"}"#).is_err());
        assert!(
            serde_json::from_str::<Run>(r#"{"id": 7, "status": null, "conclusion": null}"#).is_ok()
        );
    }

    #[test]
    fn dispatch_bodies() {
        let mut inputs = serde_json::Map::new();
        inputs.insert("env".into(), Value::String("prod".into()));
        assert_eq!(
            dispatch_body("main", &inputs, true),
            serde_json::json!({"ref": "main", "inputs": {"env": "prod"}, "return_run_details": true})
        );
        assert_eq!(
            dispatch_body("v1", &Default::default(), false),
            serde_json::json!({"ref": "v1", "inputs": {}})
        );
    }
}
