//! The GitLab REST API v4 requests cirelay sends, the shapes of their answers, and the
//! one-line refusals that name what to fix. Paths, parameters and bodies follow GitLab's
//! published OpenAPI description (`doc/api/openapi/openapi_v2.yaml`) and its API pages
//! (`doc/api/pipelines.md`, `pipeline_triggers.md`, `jobs.md`).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Project, TOKEN_VAR, TRIGGER_TOKEN_VAR};
use crate::cli::{env_first, key_value_list};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, PageBudget, Request, Response};
use crate::provider::About;
use crate::sanitize::shown;
use crate::Ctx;

pub const JOB_TOKEN_VAR: &str = "CI_JOB_TOKEN";
pub const API_URL_VARS: &[&str] = &["GITLAB_API_URL", "CI_API_V4_URL"];
pub const DEFAULT_API: &str = "https://gitlab.com/api/v4";
/// GitLab's most per page; a pipeline rarely has more jobs than one page holds.
pub const PER_PAGE: usize = 100;
/// A runaway `X-Next-Page` must not loop forever.
const MAX_PAGES: u32 = 100;

/// A pipeline as GitLab describes it (`API_Entities_Ci_Pipeline`, `…PipelineBasic`,
/// `…PipelineWithMetadata`): only `id` and `status` are required, the rest is for messages,
/// links and lists.
#[derive(Debug, Clone, Deserialize)]
pub struct Pipeline {
    pub id: u64,
    pub status: String,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// Lists have no finish time: for a finished pipeline, its last update is it.
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// A job of a pipeline (`API_Entities_Ci_Job`).
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub allow_failure: bool,
    #[serde(default)]
    pub web_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProjectInfo {
    #[serde(default)]
    default_branch: Option<String>,
}

/// Which credential a request carries, which decides its header and the fix a refusal
/// names.
#[derive(Debug, Clone, Copy)]
pub enum Cred<'a> {
    /// `GITLAB_TOKEN`: a personal, project or group access token (`PRIVATE-TOKEN`).
    Access(&'a str),
    /// `CI_JOB_TOKEN` (`JOB-TOKEN`), where the target project lets jobs read it.
    Job(&'a str),
    /// A pipeline trigger token (or the job token) in the trigger's form body.
    Trigger(&'static str),
}

pub struct Api {
    /// `…/api/v4`, no trailing slash.
    pub base: String,
    /// The web app: the API base without `/api/v4`.
    pub web: String,
    access: Option<String>,
    job: Option<String>,
    /// What a trigger without an access token sends: a trigger token, else the job token.
    trigger: Option<(&'static str, String)>,
}

/// `GITLAB_API_URL` / `CI_API_V4_URL` as users write them: the API (`…/api/v4`) or the web
/// address of the instance; either way the API base and the web base.
pub fn hosts() -> Result<(String, String)> {
    let base = match env_first(API_URL_VARS) {
        Some((var, raw)) => {
            let host = crate::url::Host::parse(
                var,
                &raw,
                "https://gitlab.com/api/v4 (self-managed: https://gitlab.example.com/api/v4)",
            )?
            .url;
            if host.contains(['?', '#']) {
                return Err(Error::usage(format!(
                    "{var} must be the API's address such as https://gitlab.example.com/api/v4, without a query: `{host}`"
                )));
            }
            match host.strip_suffix("/api/v4") {
                Some(_) => host,
                None => format!("{host}/api/v4"),
            }
        }
        None => DEFAULT_API.to_string(),
    };
    let web = base.strip_suffix("/api/v4").unwrap_or(&base).to_string();
    Ok((base, web))
}

impl Api {
    /// Reads every credential that is set (each a secret at once) and the host.
    pub fn from_env() -> Result<Self> {
        let read = |var: &'static str| {
            env_first(&[var]).map(|(_, v)| {
                register_secret(&v);
                v
            })
        };
        let access = read(TOKEN_VAR);
        let trigger_token = read(TRIGGER_TOKEN_VAR);
        let job = read(JOB_TOKEN_VAR);
        if access.is_none() && trigger_token.is_none() && job.is_none() {
            return Err(Error::usage(format!(
                "no GitLab credential: set {TOKEN_VAR} to an access token (api scope; read_api to only read), or {TRIGGER_TOKEN_VAR} to a pipeline trigger token to start pipelines (inside GitLab CI, {JOB_TOKEN_VAR} works where the target project allows it)"
            )));
        }
        let trigger = trigger_token
            .map(|t| (TRIGGER_TOKEN_VAR, t))
            .or_else(|| job.clone().map(|t| (JOB_TOKEN_VAR, t)));
        let (base, web) = hosts()?;
        Ok(Api {
            base,
            web,
            access,
            job,
            trigger,
        })
    }

    /// The credential that reads pipelines, when one is set.
    pub fn reader(&self) -> Option<Cred<'_>> {
        self.access
            .as_deref()
            .map(Cred::Access)
            .or(self.job.as_deref().map(Cred::Job))
    }

    /// The reading credential, or exit 4 saying which variable to add (nothing was sent).
    pub fn read_access(&self, what: &str) -> Result<Cred<'_>> {
        self.reader().ok_or_else(|| {
            Error::usage(format!(
                "{what} needs read access to the pipeline, and {TRIGGER_TOKEN_VAR} only starts pipelines: set {TOKEN_VAR} to an access token with the read_api scope (api to cancel or retry)"
            ))
        })
    }

    pub fn pipelines_page(&self, project: &Project) -> String {
        match project.path() {
            Some(path) => format!("{}/{path}/-/pipelines", self.web),
            None => format!("the project's pipelines on {}", self.web),
        }
    }

    /// A link for a pipeline whose answer had none: only a project path makes one.
    pub fn fallback_url(&self, project: &Project, id: u64) -> Option<String> {
        project
            .path()
            .map(|path| format!("{}/{path}/-/pipelines/{id}", self.web))
    }

    fn url(&self, project: &Project, rest: &str) -> String {
        format!("{}/projects/{}{rest}", self.base, project.segment())
    }

    fn with(req: Request, cred: Cred) -> Request {
        match cred {
            Cred::Access(t) => req.header("PRIVATE-TOKEN", t),
            Cred::Job(t) => req.header("JOB-TOKEN", t),
            Cred::Trigger(_) => req,
        }
    }

    /// `GET /projects/P`: its default branch, what a trigger without `--ref` builds.
    pub fn default_branch(&self, ctx: &Ctx, project: &Project) -> Result<String> {
        let cred = self.reader().ok_or_else(|| {
            Error::usage(format!(
                "pass --ref: without it cirelay reads the project's default branch, which {TRIGGER_TOKEN_VAR} cannot read (or set {TOKEN_VAR} with the read_api scope)"
            ))
        })?;
        let resp = ctx
            .http
            .send(&Self::with(Request::get(self.url(project, "")), cred))?;
        check(&resp, cred, About::Project(project))?;
        let info: ProjectInfo = resp.decode()?;
        info.default_branch
            .filter(|b| !b.trim().is_empty())
            .ok_or_else(|| {
                Error::api(format!(
                    "project {project} has no default branch (an empty repository?): pass --ref"
                ))
            })
    }

    /// Starts a pipeline: with an access token `POST /projects/P/pipeline` (JSON), else
    /// `POST /projects/P/trigger/pipeline` with the trigger or job token in a form body.
    /// Sent once: a failure after it may have arrived is reported, never retried.
    pub fn start(
        &self,
        ctx: &Ctx,
        project: &Project,
        git_ref: &str,
        variables: &[(String, String)],
        inputs: &[(String, Value)],
    ) -> Result<Pipeline> {
        let check_hint = format!(
            "the pipelines of {project} at {}",
            self.pipelines_page(project)
        );
        let (req, cred) = match (&self.access, &self.trigger) {
            (Some(token), _) => (
                Request::post(self.url(project, "/pipeline"))
                    .header("PRIVATE-TOKEN", token)
                    .json(&pipeline_body(git_ref, variables, inputs)),
                Cred::Access(token),
            ),
            (None, Some((var, token))) => {
                let pairs = trigger_form(token, git_ref, variables, inputs);
                let pairs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                (
                    Request::post(self.url(project, "/trigger/pipeline")).form(&pairs),
                    Cred::Trigger(var),
                )
            }
            (None, None) => unreachable!("from_env refuses no credential at all"),
        };
        let resp = ctx.http.send(&req.starts_build(check_hint))?;
        check(&resp, cred, About::Project(project))?;
        pipeline_answer(&resp)
    }

    /// One request about pipeline `id` whose answer is the pipeline.
    fn on_pipeline(&self, ctx: &Ctx, what: &str, id: u64, req: Request) -> Result<Pipeline> {
        let cred = self.read_access(what)?;
        let resp = ctx.http.send(&Self::with(req, cred))?;
        check(&resp, cred, About::Build(&id.to_string()))?;
        pipeline_answer(&resp)
    }

    /// `GET /projects/P/pipelines/ID`.
    pub fn pipeline(&self, ctx: &Ctx, project: &Project, id: u64) -> Result<Pipeline> {
        let req = Request::get(self.url(project, &format!("/pipelines/{id}")));
        self.on_pipeline(ctx, "reading a pipeline", id, req)
    }

    /// `GET /projects/P/pipelines/latest[?ref=B]`: without a ref, GitLab takes the
    /// project's default branch.
    pub fn latest(&self, ctx: &Ctx, project: &Project, branch: Option<&str>) -> Result<Pipeline> {
        let cred = self.read_access("restart-latest")?;
        let mut url = self.url(project, "/pipelines/latest");
        if let Some(b) = branch {
            url.push_str(&format!("?ref={}", encode(b)));
        }
        let resp = ctx.http.send(&Self::with(Request::get(url), cred))?;
        if resp.status == 404 && said(&resp.body).is_some_and(|s| s.contains("Pipeline")) {
            let on = branch.map_or("its default branch".to_string(), |b| format!("`{b}`"));
            return Err(Error::api(format!(
                "{} answered 404: project {project} has no pipeline on {on} yet — push to it, or start one with `cirelay gitlab trigger {project}{}`",
                resp.request(),
                branch.map(|b| format!(" --ref {b}")).unwrap_or_default()
            )));
        }
        check(&resp, cred, About::Project(project))?;
        pipeline_answer(&resp)
    }

    /// `POST /projects/P/pipelines/ID/retry`: reruns its failed and canceled jobs (GitLab's
    /// Retry button). It starts jobs, so it is sent at most once.
    pub fn retry(&self, ctx: &Ctx, project: &Project, id: u64) -> Result<Pipeline> {
        let req = Request::post(self.url(project, &format!("/pipelines/{id}/retry"))).starts_build(
            format!(
                "pipeline {id} of {project} at {}",
                self.pipelines_page(project)
            ),
        );
        self.on_pipeline(ctx, "restart-latest", id, req)
    }

    /// `POST /projects/P/pipelines/ID/cancel`: asking twice is harmless, so it is retried
    /// like a read.
    pub fn cancel(&self, ctx: &Ctx, project: &Project, id: u64) -> Result<Pipeline> {
        let req = Request::post(self.url(project, &format!("/pipelines/{id}/cancel")));
        self.on_pipeline(ctx, "cancel", id, req)
    }

    /// The pipeline's jobs (their newest attempts), every page; `failed`: only those that
    /// failed (`scope[]=failed`).
    pub fn jobs(&self, ctx: &Ctx, project: &Project, id: u64, failed: bool) -> Result<Vec<Job>> {
        let cred = self.read_access("reading a pipeline's jobs")?;
        let scope = if failed { "&scope%5B%5D=failed" } else { "" };
        let path = self.url(
            project,
            &format!("/pipelines/{id}/jobs?per_page={PER_PAGE}{scope}"),
        );
        let what = format!("the job list of pipeline {id}");
        let mut jobs = Vec::new();
        self.pages(
            ctx,
            cred,
            &path,
            &what,
            About::Build(&id.to_string()),
            |resp| {
                let page: Vec<Job> = resp.decode()?;
                let n = page.len();
                jobs.extend(page);
                Ok(n)
            },
        )?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// `GET /projects/P/pipelines`, newest first, following pages until `limit` builds.
    pub fn pipelines(
        &self,
        ctx: &Ctx,
        project: &Project,
        branch: Option<&str>,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Pipeline>> {
        let cred = self.read_access("builds")?;
        let mut path = self.url(
            project,
            &format!("/pipelines?per_page={}", limit.clamp(1, PER_PAGE)),
        );
        if let Some(b) = branch {
            path.push_str(&format!("&ref={}", encode(b)));
        }
        if let Some(s) = status {
            path.push_str(&format!("&status={}", encode(s)));
        }
        let mut all = Vec::new();
        let what = format!("the pipeline list of {project}");
        self.pages(ctx, cred, &path, &what, About::Project(project), |resp| {
            let page: Vec<Pipeline> = resp.decode()?;
            for p in &page {
                checked(resp, p)?;
            }
            let n = page.len();
            all.extend(page);
            Ok(if all.len() >= limit { 0 } else { n })
        })?;
        all.truncate(limit);
        Ok(all)
    }

    /// Reads `path` page by page (`&page=N`), following `X-Next-Page`, until the last page
    /// or until `each` says a page held nothing more wanted (0).
    fn pages(
        &self,
        ctx: &Ctx,
        cred: Cred,
        path: &str,
        what: &str,
        about: About,
        mut each: impl FnMut(&Response) -> Result<usize>,
    ) -> Result<()> {
        let mut budget = PageBudget::default();
        let mut page = 1u32;
        loop {
            let req = Self::with(Request::get(format!("{path}&page={page}")), cred);
            let resp = ctx.http.send(&req)?;
            check(&resp, cred, about)?;
            budget.spend(&resp, what)?;
            if each(&resp)? == 0 {
                return Ok(());
            }
            match next_page(&resp, page)? {
                Some(next) if next <= MAX_PAGES => page = next,
                Some(_) => {
                    return Err(Error::api(format!(
                    "{what} has more than {MAX_PAGES} pages; the API keeps answering X-Next-Page"
                )))
                }
                None => return Ok(()),
            }
        }
    }

    /// Opens a job's trace (`GET /projects/P/jobs/JOB/trace`) from byte `from` on: with
    /// `Range: bytes=FROM-`, which a server may honour (206) or ignore (200, the whole
    /// trace). What is returned is the answer and the bytes to skip of its body.
    pub fn trace(
        &self,
        ctx: &Ctx,
        project: &Project,
        job: u64,
        from: u64,
    ) -> Result<Option<(crate::http::Opened, u64)>> {
        let cred = self.read_access("reading a job's log")?;
        let mut req = Self::with(
            Request::get(self.url(project, &format!("/jobs/{job}/trace"))),
            cred,
        );
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let opened = ctx.http.open(&req)?;
        let resp = &opened.response;
        match resp.status {
            // Nothing after `from` yet.
            416 => Ok(None),
            206 => {
                let start = content_range_start(resp.header("content-range")).unwrap_or(from);
                Ok(Some((opened, from.saturating_sub(start))))
            }
            200..=299 => Ok(Some((opened, from))),
            _ => {
                check(resp, cred, About::Job(job))?;
                Ok(None)
            }
        }
    }
}

/// `bytes 120-499/500` → 120.
fn content_range_start(header: Option<&str>) -> Option<u64> {
    let rest = header?.trim().strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

/// The next page `X-Next-Page` names (empty on the last page); one that does not move
/// forward would loop.
pub fn next_page(resp: &Response, current: u32) -> Result<Option<u32>> {
    let Some(raw) = resp
        .header("x-next-page")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    match raw.parse::<u32>() {
        Ok(next) if next > current => Ok(Some(next)),
        _ => Err(Error::api(format!(
            "{} answered X-Next-Page `{}` after page {current}; the list cannot be read",
            resp.request(),
            raw.escape_debug()
        ))),
    }
}

/// The JSON body of `POST /projects/P/pipeline`: `ref`, `variables: [{key, value}]`,
/// `inputs: {…}`, each list only when it has entries.
pub fn pipeline_body(
    git_ref: &str,
    variables: &[(String, String)],
    inputs: &[(String, Value)],
) -> Value {
    let mut body = Map::new();
    body.insert("ref".into(), json!(git_ref));
    if !variables.is_empty() {
        body.insert("variables".into(), key_value_list(variables));
    }
    if !inputs.is_empty() {
        let map: Map<String, Value> = inputs.iter().cloned().collect();
        body.insert("inputs".into(), Value::Object(map));
    }
    Value::Object(body)
}

/// The form fields of `POST /projects/P/trigger/pipeline`: `token`, `ref`, `variables[K]`,
/// `inputs[K]`. A form carries text only: an input's typed value goes as its JSON text.
pub fn trigger_form(
    token: &str,
    git_ref: &str,
    variables: &[(String, String)],
    inputs: &[(String, Value)],
) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("token".to_string(), token.to_string()),
        ("ref".to_string(), git_ref.to_string()),
    ];
    for (k, v) in variables {
        pairs.push((format!("variables[{k}]"), v.clone()));
    }
    for (k, v) in inputs {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        pairs.push((format!("inputs[{k}]"), text));
    }
    pairs
}

/// A pipeline from an answer, its link checked: it is printed, exported and shown in lists.
fn pipeline_answer(resp: &Response) -> Result<Pipeline> {
    let pipeline: Pipeline = resp.decode()?;
    checked(resp, &pipeline)?;
    Ok(pipeline)
}

fn checked(resp: &Response, p: &Pipeline) -> Result<()> {
    if p.id == 0 {
        return Err(resp.unusable("with pipeline id 0"));
    }
    match p.web_url.as_deref() {
        Some(url) if !is_link(url) => Err(resp.unusable(&format!(
            "with a web_url that is not a link ({})",
            shown(url)
        ))),
        _ => Ok(()),
    }
}

/// An http(s) address with nothing in it that could end a line of an export file or hide
/// part of a log line.
pub fn is_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || crate::sanitize::printable(&c.to_string()).is_empty()
        })
}

/// What GitLab said in a refusal: `{"message": "…"}`, `{"message": {"base": ["…"], "ref":
/// ["…"]}}`, `{"message": ["…"]}`, or OAuth's `{"error", "error_description"}`; on one line.
pub fn said(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let text = match v.get("message") {
        Some(m) => flatten(m),
        None => {
            let error = v.get("error").map(flatten).unwrap_or_default();
            match v.get("error_description").map(flatten) {
                Some(d) if !d.is_empty() && !error.is_empty() => format!("{error}: {d}"),
                Some(d) if !d.is_empty() => d,
                _ => error,
            }
        }
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    (!short.is_empty()).then_some(short)
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields
            .iter()
            .take(20)
            .map(|(k, v)| match k.as_str() {
                "base" => flatten(v),
                _ => format!("{k}: {}", flatten(v)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Turns a refusal into one line: what GitLab said, and what to fix for the credential
/// that was sent.
pub fn check(resp: &Response, cred: Cred, about: About) -> Result<()> {
    if resp.is_success() {
        return Ok(());
    }
    let var = match cred {
        Cred::Access(_) => TOKEN_VAR,
        Cred::Job(_) => JOB_TOKEN_VAR,
        Cred::Trigger(var) => var,
    };
    let hint = match (resp.status, cred, about) {
        (401, Cred::Job(_), _) => format!(
            "{var} was rejected: it is valid only while its job runs; outside a running job set {TOKEN_VAR}"
        ),
        (401, _, _) => format!(
            "{var} was rejected (expired, revoked or mistyped): create an access token with the api scope (read_api to only read)"
        ),
        (403, Cred::Job(_), About::Project(p)) => format!(
            "{var} may not do this on {p}: add this project to {p}'s job token allowlist (Settings → CI/CD → Job token permissions), or set {TOKEN_VAR}"
        ),
        (403, Cred::Job(_), _) => format!(
            "{var} may not do this: add this project to the target project's job token allowlist (Settings → CI/CD → Job token permissions), or set {TOKEN_VAR}"
        ),
        (403, Cred::Trigger(_), _) => format!(
            "the owner of {var} may not run this pipeline (a protected branch?): check the trigger token's owner and --ref"
        ),
        (403, Cred::Access(_), _) => format!(
            "{var} lacks the scope or role for this: it needs the api scope (read_api to only read) and at least the Developer role in the project"
        ),
        (404, Cred::Trigger(TRIGGER_TOKEN_VAR), About::Project(p)) => format!(
            "project {p} not found, or {var} is not one of its trigger tokens (Settings → CI/CD → Pipeline trigger tokens)"
        ),
        (404, _, About::Project(p)) => {
            format!("project {p} not found or not visible to this token ({var}); a path is group/subgroup/project as in its web address")
        }
        (404, _, About::Build(id)) => {
            format!("pipeline {id} not found in the project, or not visible to this token ({var})")
        }
        (404, _, About::Job(job)) => format!("job {job} not found"),
        (400 | 422, _, About::Project(_)) => {
            "GitLab refused the pipeline: check --ref, --var and --input against the project's .gitlab-ci.yml".to_string()
        }
        _ => String::new(),
    };
    let mut line = format!("{} answered {}", resp.request(), resp.status);
    match said(&resp.body) {
        Some(s) => line.push_str(&format!(": {s}")),
        None if !resp.snippet().is_empty() => line.push_str(&format!(": {}", resp.snippet())),
        None => {}
    }
    if !hint.is_empty() {
        line.push_str(" — ");
        line.push_str(&hint);
    }
    Err(Error::api(crate::http::redact(&line)))
}

/// Everything cirelay reads from a GitLab answer, without a server: a pipeline, a page of
/// pipelines or jobs, a project, a refusal's message, a page header. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_answers(body: &str) {
    let headers = vec![("X-Next-Page".to_string(), body.chars().take(12).collect())];
    let resp = Response::received(
        200,
        headers,
        body.to_string(),
        "GET /api/v4/projects/1/pipelines/2",
    );
    if let Ok(p) = pipeline_answer(&resp) {
        let _ = super::state_of(&p.status);
        let _ = super::describe(&p.status);
    }
    if let Ok(page) = resp.decode::<Vec<Pipeline>>() {
        for p in &page {
            let _ = checked(&resp, p);
        }
    }
    let _ = resp.decode::<Vec<Job>>();
    let _ = resp.decode::<ProjectInfo>();
    let _ = next_page(&resp, 1);
    let _ = said(body);
    let _ = content_range_start(Some(body));
    let refused = Response::received(
        400,
        Vec::new(),
        body.to_string(),
        "POST /api/v4/projects/1/pipeline",
    );
    let _ = check(&refused, Cred::Access("x"), About::Project(&"p"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::answered(status, headers, body)
    }

    #[test]
    fn refusal_messages_in_each_shape_gitlab_uses() {
        assert_eq!(
            said(r#"{"message":{"base":["Reference not found"]}}"#).as_deref(),
            Some("Reference not found")
        );
        assert_eq!(
            said(r#"{"message":{"base":["a"],"ref":["is missing","x"]}}"#).as_deref(),
            Some("a; ref: is missing, x")
        );
        assert_eq!(
            said(r#"{"message":"404 Project Not Found"}"#).as_deref(),
            Some("404 Project Not Found")
        );
        assert_eq!(
            said(r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges"}"#).as_deref(),
            Some("insufficient_scope: The request requires higher privileges")
        );
        assert_eq!(
            said(r#"{"error":"ref is missing"}"#).as_deref(),
            Some("ref is missing")
        );
        assert_eq!(said("<html>"), None);
        assert_eq!(said(r#"{"message":null}"#), None);
        assert!(said(&format!(r#"{{"message":"{}"}}"#, "x".repeat(1000)))
            .unwrap()
            .ends_with('…'));
    }

    #[test]
    fn refusals_name_the_fix_for_the_credential_sent() {
        let p = Project::parse("acme/app").unwrap();
        let line = |status: u16, cred: Cred, about: About| {
            check(&response(status, &[], r#"{"message":"no"}"#), cred, about)
                .unwrap_err()
                .to_string()
        };
        assert!(
            line(401, Cred::Access("t"), About::Project(&p)).contains("GITLAB_TOKEN was rejected")
        );
        assert!(line(401, Cred::Job("t"), About::Project(&p)).contains("only while its job runs"));
        assert!(line(403, Cred::Job("t"), About::Project(&p)).contains("Job token permissions"));
        assert!(line(403, Cred::Access("t"), About::Project(&p)).contains("api scope"));
        assert!(line(404, Cred::Access("t"), About::Project(&p))
            .contains("project acme/app not found or not visible to this token"));
        assert!(
            line(404, Cred::Trigger(TRIGGER_TOKEN_VAR), About::Project(&p))
                .contains("Pipeline trigger tokens")
        );
        assert!(line(404, Cred::Access("t"), About::Build("7")).contains("pipeline 7 not found"));
        let bad_ref = check(
            &response(400, &[], r#"{"message":{"base":["Reference not found"]}}"#),
            Cred::Access("t"),
            About::Project(&p),
        )
        .unwrap_err();
        assert_eq!(bad_ref.exit_code(), 5);
        assert!(
            bad_ref.to_string().contains(": Reference not found — "),
            "{bad_ref}"
        );
    }

    #[test]
    fn pages_move_forward_or_stop() {
        assert_eq!(
            next_page(&response(200, &[("X-Next-Page", "2")], "[]"), 1).unwrap(),
            Some(2)
        );
        assert_eq!(
            next_page(&response(200, &[("X-Next-Page", "")], "[]"), 1).unwrap(),
            None
        );
        assert_eq!(next_page(&response(200, &[], "[]"), 1).unwrap(), None);
        for stuck in ["1", "0", "x", "-3"] {
            let err = next_page(&response(200, &[("X-Next-Page", stuck)], "[]"), 1).unwrap_err();
            assert_eq!(err.exit_code(), 5, "{stuck}");
        }
    }

    #[test]
    fn bodies_as_gitlab_documents_them() {
        let vars = vec![("A".to_string(), "1 2".to_string())];
        let inputs = vec![
            ("deploy".to_string(), json!(true)),
            ("env".to_string(), json!("prod")),
        ];
        assert_eq!(
            pipeline_body("main", &vars, &inputs),
            json!({"ref": "main", "variables": [{"key": "A", "value": "1 2"}], "inputs": {"deploy": true, "env": "prod"}})
        );
        assert_eq!(pipeline_body("v1", &[], &[]), json!({"ref": "v1"}));
        assert_eq!(
            trigger_form("tok", "main", &vars, &inputs),
            vec![
                ("token".to_string(), "tok".to_string()),
                ("ref".to_string(), "main".to_string()),
                ("variables[A]".to_string(), "1 2".to_string()),
                ("inputs[deploy]".to_string(), "true".to_string()),
                ("inputs[env]".to_string(), "prod".to_string()),
            ]
        );
    }

    #[test]
    fn links_from_answers() {
        assert!(is_link("https://gitlab.com/acme/app/-/pipelines/1"));
        assert!(is_link("http://127.0.0.1:9/acme/app/-/pipelines/1"));
        for bad in [
            "",
            "javascript:alert(1)",
            "https://x/a b",
            "https://x/\nCI_JOB_TOKEN=forged",
            "https://x/\u{202e}",
            "ftp://x",
        ] {
            assert!(!is_link(bad), "{bad:?}");
        }
        assert_eq!(content_range_start(Some("bytes 120-499/500")), Some(120));
        assert_eq!(content_range_start(Some("bytes */500")), None);
        assert_eq!(content_range_start(None), None);
    }
}
