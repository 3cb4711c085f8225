//! The CircleCI API v2 requests cirelay sends, and what their answers mean to a user.

use serde::Deserialize;
use serde_json::Value;

use super::{app_url, Slug, DEFAULT_HOST, HOST_VAR, TOKEN_VARS};
use crate::cli::env_first;
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::Ctx;

/// A runaway `next_page_token` (an API that keeps answering "more") must not loop forever;
/// a pipeline has a handful of workflows.
const MAX_PAGES: usize = 100;

/// The answer to a trigger: the new pipeline, or (a 200 without an id) only a message
/// saying why nothing was created.
#[derive(Debug, Deserialize)]
pub struct Created {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub number: Option<u64>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub number: u64,
    pub project_slug: String,
    pub state: String,
    #[serde(default)]
    pub errors: Vec<PipelineError>,
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

#[derive(Debug, Deserialize)]
struct Rerun {
    #[serde(default)]
    workflow_id: Option<String>,
}

/// What a refused request was about, so a 404 names the thing to check.
pub enum Subject<'a> {
    Project(&'a Slug),
    Definition(&'a Slug, &'a str),
    Pipeline(&'a str),
    Workflow(&'a str),
}

pub struct Api {
    /// `CIRCLECI_HOST` + `/api/v2`.
    base: String,
    /// The web app, for the links cirelay prints.
    app: String,
    token: String,
    /// The variable the token came from, to name it when it is rejected.
    token_var: &'static str,
}

impl Api {
    pub fn from_env() -> Result<Self> {
        let (token_var, token) = env_first(TOKEN_VARS).ok_or_else(|| {
            Error::usage(
                "no CircleCI token: set CIRCLE_TOKEN (or CIRCLECI_TOKEN) to a personal API token from User Settings → Personal API Tokens",
            )
        })?;
        register_secret(&token);
        let host = env_first(&[HOST_VAR])
            .map(|(_, h)| h)
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        // The API's own base URL is an easy thing to paste here; it means the same host.
        let host = host.trim_end_matches('/');
        let host = host.strip_suffix("/api/v2").unwrap_or(host).to_string();
        let scheme_ok = ["http://", "https://"].iter().any(|s| {
            host.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
                && host.len() > s.len()
        });
        if !scheme_ok || host.contains(char::is_whitespace) {
            return Err(Error::usage(format!(
                "{HOST_VAR} must be a URL such as {DEFAULT_HOST} (CircleCI server: https://<your domain>), not `{host}`"
            )));
        }
        Ok(Api {
            base: format!("{host}/api/v2"),
            app: app_url(&host),
            token,
            token_var,
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
    ) -> Result<Created> {
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
        let subject = match definition {
            Some(id) => Subject::Definition(slug, id),
            None => Subject::Project(slug),
        };
        self.check(&resp, subject)?;
        resp.decode()
    }

    pub fn pipeline(&self, ctx: &Ctx, id: &str) -> Result<Pipeline> {
        let resp = ctx
            .http
            .send(&self.get(&format!("/pipeline/{}", encode(id))))?;
        self.check(&resp, Subject::Pipeline(id))?;
        resp.decode()
    }

    /// Every workflow of the pipeline, following `next_page_token`.
    pub fn workflows(&self, ctx: &Ctx, pipeline: &str) -> Result<Vec<Workflow>> {
        let path = format!("/pipeline/{}/workflow", encode(pipeline));
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let target = match &token {
                Some(t) => format!("{path}?page-token={}", encode(t)),
                None => path.clone(),
            };
            let resp = ctx.http.send(&self.get(&target))?;
            self.check(&resp, Subject::Pipeline(pipeline))?;
            let page: Page<Workflow> = resp.decode()?;
            all.extend(page.items);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(Error::api(format!(
                        "{} answered the same next_page_token twice; the workflow list cannot be read",
                        resp.request()
                    )))
                }
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
        Err(Error::api(format!(
            "the workflow list of pipeline {pipeline} has more than {MAX_PAGES} pages; the API keeps answering next_page_token"
        )))
    }

    /// The first page of the project's pipelines on `branch`: CircleCI lists the newest
    /// first, and the newest is all restart-latest needs.
    pub fn project_pipelines(&self, ctx: &Ctx, slug: &Slug, branch: &str) -> Result<Vec<Pipeline>> {
        let req = self.get(&format!(
            "/project/{}/pipeline?branch={}",
            slug.path(),
            encode(branch)
        ));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, Subject::Project(slug))?;
        Ok(resp.decode::<Page<Pipeline>>()?.items)
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
        self.check(&resp, Subject::Workflow(&workflow.id))?;
        let rerun: Rerun = resp.decode()?;
        rerun.workflow_id.filter(|id| !id.is_empty()).ok_or_else(|| {
            Error::api(format!(
                "CircleCI accepted the rerun of workflow {} but did not say which workflow it started: see {}",
                workflow.name,
                self.pipeline_url(&workflow.project_slug, workflow.pipeline_number)
            ))
        })
    }

    /// Cancelling twice is harmless, so this is an ordinary (retried) request.
    pub fn cancel(&self, ctx: &Ctx, workflow: &Workflow) -> Result<()> {
        let req = self.post(&format!("/workflow/{}/cancel", encode(&workflow.id)));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, Subject::Workflow(&workflow.id))
    }

    /// Turns a refusal into one line that says what to fix.
    fn check(&self, resp: &Response, subject: Subject) -> Result<()> {
        if resp.is_success() {
            return Ok(());
        }
        let var = self.token_var;
        let hint = match (resp.status, &subject) {
            (401, _) => format!(
                "{var} was rejected: use a personal API token (User Settings → Personal API Tokens); project tokens do not work with API v2"
            ),
            (403, Subject::Project(s) | Subject::Definition(s, _)) => {
                format!("the {var} user may not do this on {s}: it needs write access to the project")
            }
            (403, _) => format!("the {var} user may not do this: check its access to the project"),
            (404, Subject::Project(s)) => format!(
                "project {s} was not found: check the slug (VCS/ORG/REPO, e.g. gh/my-org/my-repo) and that the {var} user can see the project"
            ),
            (404, Subject::Definition(s, id)) => format!(
                "project {s} or pipeline definition {id} was not found: check the slug and --definition-id (Project Settings → Pipelines)"
            ),
            (404, Subject::Pipeline(id)) => format!(
                "pipeline {id} was not found: check the id (the UUID `cirelay circleci trigger` prints) and that the {var} user can see its project"
            ),
            (404, Subject::Workflow(id)) => format!("workflow {id} was not found"),
            (400 | 422, Subject::Project(s) | Subject::Definition(s, _)) => {
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
    let flat = said.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = flat.chars().take(300).collect();
    if short.len() < flat.len() {
        short.push('…');
    }
    let mut line = format!("{} answered {}: {short}", resp.request(), resp.status);
    if !hint.is_empty() {
        line.push_str(" — ");
        line.push_str(hint);
    }
    Error::api(crate::http::redact(&line))
}

/// Everything cirelay reads from a CircleCI answer, without a server: a trigger's answer, a
/// pipeline (and the failure an errored one reports), a page of workflows (the current
/// attempts and the pipeline's result), a page of pipelines, a rerun, and a refusal's
/// message. For the fuzz targets.
pub(crate) fn read_answers(body: &str) {
    use super::watch;
    let resp = Response::received(200, Vec::new(), body.to_string(), "GET /api/v2/pipeline/x");
    let _ = resp.decode::<Created>();
    if let Ok(p) = resp.decode::<Pipeline>() {
        let _ = watch::errored(&p, false);
    }
    if let Ok(page) = resp.decode::<Page<Workflow>>() {
        let current = watch::current_attempts(page.items);
        let statuses = current.iter().map(|w| w.status.as_str());
        let _ = (
            watch::overall(statuses.clone()),
            watch::summary_word(statuses),
        );
        for w in &current {
            let _ = watch::describe(&w.status);
        }
    }
    if let Ok(page) = resp.decode::<Page<Pipeline>>() {
        let _ = page.items.iter().max_by_key(|p| p.number);
    }
    let _ = resp.decode::<Rerun>().map(|r| r.workflow_id);
    let refused = Response::received(400, Vec::new(), body.to_string(), "POST /api/v2/x");
    let _ = refusal(&refused, "a hint");
}
