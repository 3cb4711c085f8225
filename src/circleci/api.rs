//! The CircleCI API v2 requests cirelay sends, and what their answers mean to a user.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{app_url, is_uuid, usable_slug_part, Slug, DEFAULT_HOST, HOST_VAR, TOKEN_VARS};
use crate::cli::env_first;
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::provider::About;
use crate::sanitize::shown;
use crate::Ctx;

/// A runaway `next_page_token` (an API that keeps answering "more") must not loop forever;
/// a pipeline has a handful of workflows.
const MAX_PAGES: usize = 100;

/// The answer to a trigger as it comes: the new pipeline, or (a 200 without an id) only a
/// message. Read through [`started_pipeline`], which turns it into a [`Started`] or an
/// unknown outcome.
#[derive(Debug, Deserialize)]
struct Created {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The pipeline a trigger started, its id checked.
#[derive(Debug)]
pub struct Started {
    pub id: String,
    pub number: u64,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub number: u64,
    pub project_slug: String,
    pub state: String,
    #[serde(default)]
    pub errors: Vec<PipelineError>,
    // Only shown, by `builds`.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub vcs: Option<Vcs>,
}

/// What a pipeline built, as far as `builds` shows it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Vcs {
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PipelineError {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    /// CircleCI's own MCP server reads this as nullable; a `null` is a status not known yet
    /// (so still running, see `watch::kind`), not an unusable list.
    #[serde(deserialize_with = "status_or_unknown")]
    pub status: String,
    #[serde(default)]
    pub created_at: String,
    pub pipeline_number: u64,
    pub project_slug: String,
    /// `setup` for the setup workflow of a dynamic config pipeline.
    #[serde(default)]
    pub tag: Option<String>,
    /// When it finished; shown by `builds`.
    #[serde(default)]
    pub stopped_at: Option<String>,
}

/// The word a `null` workflow status is shown as.
pub const UNKNOWN_STATUS: &str = "unknown";

fn status_or_unknown<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(|| UNKNOWN_STATUS.to_string()))
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// A page of a project's pipelines, and the answer it came in (for a page budget).
pub struct PipelinePage {
    pub items: Vec<Pipeline>,
    pub next: Option<String>,
    pub response: Response,
}

#[derive(Debug, Deserialize)]
struct Rerun {
    #[serde(default)]
    workflow_id: Option<String>,
}

impl Pipeline {
    fn check(&self) -> Result<(), String> {
        uuid_shaped("pipeline id", &self.id)?;
        slug_shaped(&self.project_slug)
    }
}

impl Workflow {
    fn check(&self) -> Result<(), String> {
        uuid_shaped("workflow id", &self.id)?;
        slug_shaped(&self.project_slug)
    }
}

// Ids and slugs from answers go into request paths (`/workflow/ID/cancel`), links and CI
// export files (`CIRELAY_BUILD_ID=…`): one of another shape, such as `"x\nCF_API_KEY=…"`,
// must go nowhere, so it is refused where the answer is read.

fn uuid_shaped(what: &str, value: &str) -> Result<(), String> {
    if is_uuid(value) {
        Ok(())
    } else {
        Err(format!("{what} {}, which is not a UUID", shown(value)))
    }
}

fn slug_shaped(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('/').collect();
    if parts.len() == 3 && parts.iter().all(|p| usable_slug_part(p)) {
        Ok(())
    } else {
        Err(format!(
            "project_slug {}, which is not VCS/ORG/REPO",
            shown(value)
        ))
    }
}

/// CircleCI's own sentence on one line and of a length an error line can carry.
fn one_line(said: &str) -> String {
    let flat = said.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = flat.chars().take(300).collect();
    if short.len() < flat.len() {
        short.push('…');
    }
    short
}

/// A read answered with a value cirelay cannot use.
fn unusable(resp: &Response, why: &str) -> Error {
    Error::api(format!(
        "{} answered {} with {why}; the answer cannot be used — check that {HOST_VAR} names a CircleCI server",
        resp.request(),
        resp.status
    ))
}

/// The pipeline a trigger's answer names. An accepted trigger whose answer names none is an
/// unknown outcome ([`Response::unusable`]): the pipeline most likely exists.
fn started_pipeline(resp: &Response) -> Result<Started> {
    let not_a_pipeline = || {
        resp.unusable(&format!(
            "with an answer that is not a pipeline ({})",
            resp.snippet()
        ))
    };
    let created: Created = resp.decode().map_err(|_| not_a_pipeline())?;
    let said = created
        .message
        .as_deref()
        .map(one_line)
        .filter(|m| !m.is_empty())
        .map(|m| format!(" (CircleCI said: {m})"))
        .unwrap_or_default();
    match (created.id, created.number) {
        (Some(id), Some(number)) => match uuid_shaped("pipeline id", &id) {
            Ok(()) => Ok(Started {
                id,
                number,
                state: created.state,
            }),
            Err(why) => Err(resp.unusable(&format!("with {why}"))),
        },
        (None, _) => Err(resp.unusable(&format!("without a pipeline id{said}"))),
        (Some(_), None) => Err(resp.unusable(&format!("without a pipeline number{said}"))),
    }
}

/// The id of the workflow a rerun started.
fn rerun_workflow_id(resp: &Response) -> Result<String> {
    let rerun: Rerun = resp.decode().map_err(|_| {
        resp.unusable(&format!(
            "with an answer that is not a rerun ({})",
            resp.snippet()
        ))
    })?;
    match rerun.workflow_id {
        Some(id) => match uuid_shaped("workflow id", &id) {
            Ok(()) => Ok(id),
            Err(why) => Err(resp.unusable(&format!("with {why}"))),
        },
        None => Err(resp.unusable(&format!(
            "without the id of the workflow it started ({})",
            resp.snippet()
        ))),
    }
}

fn pipeline_answer(resp: &Response) -> Result<Pipeline> {
    let pipeline: Pipeline = resp.decode()?;
    pipeline.check().map_err(|why| unusable(resp, &why))?;
    Ok(pipeline)
}

/// A page of a list whose every item is checked where it is read.
trait Checked: DeserializeOwned {
    fn check(&self) -> Result<(), String>;
}

impl Checked for Workflow {
    fn check(&self) -> Result<(), String> {
        Workflow::check(self)
    }
}

impl Checked for Pipeline {
    fn check(&self) -> Result<(), String> {
        Pipeline::check(self)
    }
}

fn page_of<T: Checked>(resp: &Response) -> Result<Page<T>> {
    let page: Page<T> = resp.decode()?;
    for item in &page.items {
        item.check().map_err(|why| unusable(resp, &why))?;
    }
    Ok(page)
}

fn pipeline_page(resp: &Response) -> Result<Page<Pipeline>> {
    page_of(resp)
}

// A job and its steps are read as plain JSON values: a derived reader for each shape would
// cost the static binary more than these few fields.

/// One job of a workflow (`GET /workflow/ID/job`).
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub status: String,
    /// Set once the job was scheduled; approval jobs have none.
    pub job_number: Option<u64>,
    pub project_slug: String,
    pub kind: Option<String>,
}

/// A job as the list holds it, before its fields are taken and checked.
pub struct JobAnswer(Value);

impl<'de> Deserialize<'de> for JobAnswer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(JobAnswer)
    }
}

impl Checked for JobAnswer {
    fn check(&self) -> Result<(), String> {
        uuid_shaped("job id", text_at(&self.0, "id").as_deref().unwrap_or(""))?;
        slug_shaped(text_at(&self.0, "project_slug").as_deref().unwrap_or(""))
    }
}

impl From<JobAnswer> for Job {
    fn from(JobAnswer(v): JobAnswer) -> Job {
        Job {
            id: text_at(&v, "id").unwrap_or_default(),
            name: text_at(&v, "name").unwrap_or_default(),
            status: text_at(&v, "status").unwrap_or_else(|| UNKNOWN_STATUS.to_string()),
            job_number: v.get("job_number").and_then(Value::as_u64),
            project_slug: text_at(&v, "project_slug").unwrap_or_default(),
            kind: text_at(&v, "type"),
        }
    }
}

/// `value[key]` as text.
fn text_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A job's steps, from API v1.1 (`GET /api/v1.1/project/VCS/ORG/REPO/NUMBER`): API v2 has
/// no step output.
#[derive(Debug, Clone, Default)]
pub struct JobDetails {
    pub steps: Vec<JobStep>,
}

#[derive(Debug, Clone)]
pub struct JobStep {
    pub name: String,
    pub actions: Vec<Action>,
}

/// One run of a step: one per parallel container.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub status: Option<String>,
    pub failed: Option<bool>,
    pub index: u64,
    /// A signed download of the output on another host, fetched without the token.
    pub output_url: Option<String>,
}

impl JobDetails {
    fn of(v: &Value) -> JobDetails {
        let list = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let steps = list(v, "steps")
            .iter()
            .map(|step| JobStep {
                name: text_at(step, "name").unwrap_or_default(),
                actions: list(step, "actions")
                    .iter()
                    .map(|a| Action {
                        name: text_at(a, "name").unwrap_or_default(),
                        status: text_at(a, "status"),
                        failed: a.get("failed").and_then(Value::as_bool),
                        index: a.get("index").and_then(Value::as_u64).unwrap_or(0),
                        output_url: text_at(a, "output_url"),
                    })
                    .collect(),
            })
            .collect();
        JobDetails { steps }
    }
}

pub struct Api {
    /// `CIRCLECI_HOST` + `/api/v2`.
    base: String,
    /// `CIRCLECI_HOST` + `/api/v1.1`: only job details (their steps' output) need it.
    v1: String,
    /// The web app, for the links cirelay prints.
    app: String,
    token: String,
    /// The variable the token came from, to name it when it is rejected.
    token_var: &'static str,
    /// Each pipeline's workflows as last read: the log follows the jobs of what the wait
    /// just read, without reading the list once more.
    workflows_seen: Mutex<HashMap<String, Vec<Workflow>>>,
}

/// `CIRCLECI_HOST`, checked; CircleCI cloud when unset.
pub fn host() -> Result<String> {
    let host = match env_first(&[HOST_VAR]) {
        Some((_, raw)) => {
            crate::url::Host::parse(
                HOST_VAR,
                &raw,
                "https://circleci.com (CircleCI server: https://<your domain>)",
            )?
            .url
        }
        None => DEFAULT_HOST.to_string(),
    };
    // The API's own base URL is an easy thing to paste here; it means the same host.
    Ok(host.strip_suffix("/api/v2").unwrap_or(&host).to_string())
}

impl Api {
    pub fn from_env() -> Result<Self> {
        let (token_var, token) = env_first(TOKEN_VARS).ok_or_else(|| {
            Error::usage(
                "no CircleCI token: set CIRCLE_TOKEN (or CIRCLECI_TOKEN) to a personal API token from User Settings → Personal API Tokens",
            )
        })?;
        register_secret(&token);
        let host = host()?;
        Ok(Api {
            base: format!("{host}/api/v2"),
            v1: format!("{host}/api/v1.1"),
            app: app_url(&host),
            token,
            token_var,
            workflows_seen: Mutex::default(),
        })
    }

    pub fn pipelines_page(&self, slug: &str) -> String {
        format!("{}/pipelines/{slug}", self.app)
    }

    pub fn pipeline_url(&self, slug: &str, number: u64) -> String {
        format!("{}/{number}", self.pipelines_page(slug))
    }

    pub fn workflow_url(&self, w: &Workflow) -> String {
        format!(
            "{}/workflows/{}",
            self.pipeline_url(&w.project_slug, w.pipeline_number),
            w.id
        )
    }

    fn get(&self, path: &str) -> Request {
        Request::get(format!("{}{path}", self.base)).header("Circle-Token", &self.token)
    }

    fn post(&self, path: &str) -> Request {
        Request::post(format!("{}{path}", self.base)).header("Circle-Token", &self.token)
    }

    /// `POST /project/SLUG/pipeline`, or `POST /project/VCS/ORG/REPO/pipeline/run` for
    /// pipeline definitions. Sent once: a failure after it may have arrived is reported,
    /// never retried.
    pub fn trigger(
        &self,
        ctx: &Ctx,
        slug: &Slug,
        pipeline_run: bool,
        body: &Value,
    ) -> Result<Started> {
        let path = if pipeline_run {
            format!("/project/{}/pipeline/run", slug.path())
        } else {
            format!("/project/{}/pipeline", slug.path())
        };
        let req = self.post(&path).json(body).starts_build(format!(
            "the pipelines of {slug} at {}",
            self.pipelines_page(&slug.to_string())
        ));
        let resp = ctx.http.send(&req)?;
        let definition = body.get("definition_id").and_then(Value::as_str);
        let about = match definition {
            Some(id) => About::Definition(slug, id),
            None => About::Project(slug),
        };
        self.check(&resp, about)?;
        started_pipeline(&resp)
    }

    pub fn pipeline(&self, ctx: &Ctx, id: &str) -> Result<Pipeline> {
        let resp = ctx
            .http
            .send(&self.get(&format!("/pipeline/{}", encode(id))))?;
        self.check(&resp, About::Build(id))?;
        pipeline_answer(&resp)
    }

    /// `GET /project/SLUG/pipeline/NUMBER`: the pipeline a web address names by its number.
    pub fn numbered_pipeline(&self, ctx: &Ctx, slug: &Slug, number: u64) -> Result<Pipeline> {
        let resp = ctx
            .http
            .send(&self.get(&format!("/project/{}/pipeline/{number}", slug.path())))?;
        if resp.status == 404 {
            return Err(refusal(
                &resp,
                &format!(
                    "pipeline #{number} of {slug} was not found: check the address, and that the {} user can see the project",
                    self.token_var
                ),
            ));
        }
        self.check(&resp, About::Project(slug))?;
        let pipeline = pipeline_answer(&resp)?;
        if pipeline.number != number {
            return Err(unusable(
                &resp,
                &format!(
                    "pipeline #{} where #{number} was asked for",
                    pipeline.number
                ),
            ));
        }
        Ok(pipeline)
    }

    /// Every workflow of the pipeline, following `next_page_token`.
    pub fn workflows(&self, ctx: &Ctx, pipeline: &str) -> Result<Vec<Workflow>> {
        let path = format!("/pipeline/{}/workflow", encode(pipeline));
        let all: Vec<Workflow> =
            self.every_page(ctx, &path, About::Build(pipeline), "workflow list")?;
        crate::lock(&self.workflows_seen).insert(pipeline.to_string(), all.clone());
        Ok(all)
    }

    /// The pipeline's workflows as the last read of them found them.
    pub fn workflows_seen(&self, pipeline: &str) -> Option<Vec<Workflow>> {
        crate::lock(&self.workflows_seen).get(pipeline).cloned()
    }

    /// Every job of a workflow, following `next_page_token`.
    pub fn jobs(&self, ctx: &Ctx, workflow: &str) -> Result<Vec<Job>> {
        let path = format!("/workflow/{}/job", encode(workflow));
        let jobs: Vec<JobAnswer> =
            self.every_page(ctx, &path, About::Workflow(workflow), "job list")?;
        Ok(jobs.into_iter().map(Job::from).collect())
    }

    fn every_page<T: Checked>(
        &self,
        ctx: &Ctx,
        path: &str,
        about: About,
        what: &str,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let target = match &token {
                Some(t) => format!("{path}?page-token={}", encode(t)),
                None => path.to_string(),
            };
            let resp = ctx.http.send(&self.get(&target))?;
            self.check(&resp, about)?;
            let page: Page<T> = page_of(&resp)?;
            all.extend(page.items);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(Error::api(format!(
                        "{} answered the same next_page_token twice; the {what} cannot be read",
                        resp.request()
                    )))
                }
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
        Err(Error::api(format!(
            "the {what} at {path} has more than {MAX_PAGES} pages; the API keeps answering next_page_token"
        )))
    }

    /// A job's steps and their output links (API v1.1).
    pub fn job_details(&self, ctx: &Ctx, slug: &str, number: u64) -> Result<JobDetails> {
        let parts: Vec<&str> = slug.split('/').collect();
        let path: Vec<String> = parts.iter().map(|p| encode(p)).collect();
        let req = Request::get(format!("{}/project/{}/{number}", self.v1, path.join("/")))
            .header("Circle-Token", &self.token);
        let resp = ctx.http.send(&req)?;
        self.check(&resp, About::Job(number))?;
        Ok(JobDetails::of(&resp.decode::<Value>()?))
    }

    /// Where people see a job.
    pub fn job_url(&self, w: &Workflow, number: u64) -> String {
        format!("{}/jobs/{number}", self.workflow_url(w))
    }

    /// The first page of the project's pipelines on `branch`: CircleCI lists the newest
    /// first, and the newest is all restart-latest needs.
    pub fn project_pipelines(&self, ctx: &Ctx, slug: &Slug, branch: &str) -> Result<Vec<Pipeline>> {
        Ok(self.pipeline_list(ctx, slug, Some(branch), None)?.items)
    }

    /// A page of the project's pipelines, newest first (of `branch` when given); `token`
    /// is the previous page's `next_page_token`.
    pub fn pipeline_list(
        &self,
        ctx: &Ctx,
        slug: &Slug,
        branch: Option<&str>,
        token: Option<&str>,
    ) -> Result<PipelinePage> {
        let mut query = Vec::new();
        if let Some(branch) = branch {
            query.push(format!("branch={}", encode(branch)));
        }
        if let Some(token) = token {
            query.push(format!("page-token={}", encode(token)));
        }
        let mut path = format!("/project/{}/pipeline", slug.path());
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let resp = ctx.http.send(&self.get(&path))?;
        self.check(&resp, About::Project(slug))?;
        let page = pipeline_page(&resp)?;
        Ok(PipelinePage {
            items: page.items,
            next: page.next_page_token.filter(|t| !t.is_empty()),
            response: resp,
        })
    }

    /// A read of the insights API (`/insights/…`, already with its query): the answer,
    /// checked, for the caller to decode.
    pub fn insights(&self, ctx: &Ctx, slug: &Slug, path_and_query: &str) -> Result<Response> {
        let resp = ctx
            .http
            .send(&self.get(&format!("/insights/{}{path_and_query}", slug.path())))?;
        self.check(&resp, About::Project(slug))?;
        Ok(resp)
    }

    /// Reruns a workflow; the answer is the new workflow's id.
    pub fn rerun(&self, ctx: &Ctx, workflow: &Workflow, from_failed: bool) -> Result<String> {
        let body = if from_failed {
            serde_json::json!({ "from_failed": true })
        } else {
            serde_json::json!({})
        };
        let req = self
            .post(&format!("/workflow/{}/rerun", encode(&workflow.id)))
            .json(&body)
            .starts_build(format!(
                "the workflows of pipeline #{} at {}",
                workflow.pipeline_number,
                self.pipeline_url(&workflow.project_slug, workflow.pipeline_number)
            ));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, About::Workflow(&workflow.id))?;
        rerun_workflow_id(&resp)
    }

    /// Cancelling twice is harmless, so this is an ordinary (retried) request.
    pub fn cancel(&self, ctx: &Ctx, workflow: &Workflow) -> Result<()> {
        let req = self.post(&format!("/workflow/{}/cancel", encode(&workflow.id)));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, About::Workflow(&workflow.id))
    }

    /// Turns a refusal into one line that says what to fix.
    fn check(&self, resp: &Response, about: About) -> Result<()> {
        if resp.is_success() {
            return Ok(());
        }
        let var = self.token_var;
        let hint = match (resp.status, &about) {
            (401, _) => format!(
                "{var} was rejected: use a personal API token (User Settings → Personal API Tokens); project tokens do not work with API v2"
            ),
            (403, About::Project(s) | About::Definition(s, _)) => {
                format!("the {var} user may not do this on {s}: it needs write access to the project")
            }
            (403, _) => format!("the {var} user may not do this: check its access to the project"),
            (404, About::Project(s)) => format!(
                "project {s} was not found: check the slug (VCS/ORG/REPO, e.g. gh/my-org/my-repo) and that the {var} user can see the project"
            ),
            (404, About::Definition(s, id)) => format!(
                "project {s} or pipeline definition {id} was not found: check the slug and --definition-id (Project Settings → Pipelines)"
            ),
            (404, About::Build(id)) => format!(
                "pipeline {id} was not found: check the id (the UUID `cirelay circleci trigger` prints) and that the {var} user can see its project"
            ),
            (404, About::Workflow(id)) => format!("workflow {id} was not found"),
            (404, About::Job(number)) => format!(
                "job {number} was not found through API v1.1 (CircleCI serves step output only there; GitLab and GitHub App projects may not have it)"
            ),
            (400 | 422, About::Project(s) | About::Definition(s, _)) => {
                format!("CircleCI refused the request for {s}; check the branch, tag and --param names and types against the project's config")
            }
            _ => String::new(),
        };
        Err(refusal(resp, &hint))
    }
}

/// CircleCI explains refusals as `{"message": …}`: show that sentence rather than the JSON.
fn refusal(resp: &Response, hint: &str) -> Error {
    let said = resp.decode::<Value>().ok().and_then(|v| {
        ["message", "error"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    });
    let Some(said) = said.filter(|s| !s.trim().is_empty()) else {
        return resp.error(hint);
    };
    let short = one_line(&said);
    let mut line = format!("{} answered {}: {short}", resp.request(), resp.status);
    if !hint.is_empty() {
        line.push_str(" — ");
        line.push_str(hint);
    }
    Error::api(crate::http::redact(&line))
}

/// Everything cirelay reads from a CircleCI answer, without a server: a trigger's answer, a
/// pipeline (and the failure an errored one reports), a page of workflows (the current
/// attempts and the pipeline's result, setup workflows apart), a page of pipelines, a rerun,
/// and a refusal's message, each with the checks of its ids and slugs. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_answers(body: &str) {
    use super::watch;
    let resp = Response::received(200, Vec::new(), body.to_string(), "GET /api/v2/pipeline/x");
    let _ = started_pipeline(&resp);
    if let Ok(p) = pipeline_answer(&resp) {
        let _ = watch::errored(&p, false);
    }
    if let Ok(page) = page_of::<Workflow>(&resp) {
        let current = watch::current_attempts(page.items);
        let statuses = current.iter().map(|w| w.status.as_str());
        let _ = (
            watch::overall(statuses.clone()),
            watch::summary_word(statuses),
            watch::judge(
                current
                    .iter()
                    .map(|w| (w.tag.as_deref() == Some(watch::SETUP), w.status.as_str())),
            ),
        );
        for w in &current {
            let _ = watch::describe(&w.status);
        }
    }
    if let Ok(page) = pipeline_page(&resp) {
        let _ = page.items.iter().max_by_key(|p| p.number);
    }
    let _ = rerun_workflow_id(&resp);
    let refused = Response::received(400, Vec::new(), body.to_string(), "POST /api/v2/x");
    let _ = refusal(&refused, "a hint");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_slugs_are_three_usable_parts() {
        for good in [
            "gh/acme/app",
            "bb/acme/app",
            "circleci/8f6b5c2e-3a1d-4e7f-9b0c-1d2e3f4a5b6c/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        ] {
            assert!(slug_shaped(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "gh/acme",
            "gh/acme/app/extra",
            "gh//app",
            "gh/acme/.",
            "../acme/app",
            "gh/acme/app\tx",
            "gh/acme/app\nCF_API_KEY=forged",
        ] {
            assert!(slug_shaped(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_refused_value_is_shown_escaped_on_one_line_and_short() {
        let why = uuid_shaped("pipeline id", "x\nCF_API_KEY=forged\u{1b}[2J").unwrap_err();
        assert_eq!(
            why,
            r#"pipeline id "x\nCF_API_KEY=forged\u{1b}[2J", which is not a UUID"#
        );
        let long = uuid_shaped("workflow id", &"a".repeat(500)).unwrap_err();
        assert!(long.len() < 120 && long.contains('…'), "{long}");
    }
}
