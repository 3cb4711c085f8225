//! The Codefresh API as cirelay uses it: the requests, the shapes of their answers, and the
//! one-line refusals that name what to fix. Paths and parameters follow Codefresh's OpenAPI
//! description (`https://g.codefresh.io/api`); the run body is built the way the Codefresh
//! CLI builds it, because the description leaves it as a bare object.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use serde_norway::Value as YamlValue;

use crate::cli::{env_first, key_value_list, last_wins};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::lock;
use crate::wait::BuildState;
use crate::Ctx;

/// What `codefresh run` is asked to start: the pipeline and the body's fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRequest {
    pub pipeline: String,
    pub branch: Option<String>,
    pub sha: Option<String>,
    pub trigger: Option<String>,
    /// In the order given: `--var-file` first, then each `-v`, so a later one wins.
    pub variables: Vec<(String, String)>,
    pub contexts: Vec<String>,
    pub no_cache: bool,
    pub no_cf_cache: bool,
    pub reset_volume: bool,
    pub enable_notifications: bool,
    pub skip: Vec<String>,
    pub only: Vec<String>,
}

pub const KEY_VAR: &str = "CF_API_KEY";
pub const URL_VAR: &str = "CF_URL";
pub const BUILD_ID_VAR: &str = "CF_BUILD_ID";
pub const DEFAULT_URL: &str = "https://g.codefresh.io";

/// Every status `codefresh wait --status` can name: the Codefresh CLI's list plus the two
/// waiting states a build can sit in.
pub const STATUSES: &[&str] = &[
    "pending",
    "elected",
    "running",
    "pending-approval",
    "delayed",
    "terminating",
    "success",
    "error",
    "terminated",
];

/// One build (Codefresh calls it a workflow) as `GET /api/builds/:id` and the workflow list
/// describe it. Only `status` is required: everything else is for messages.
#[derive(Debug, Clone, Deserialize)]
pub struct Build {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "_id")]
    pub object_id: Option<String>,
    pub status: String,
    /// The build's progress job: terminating a build is deleting it.
    #[serde(default)]
    pub progress: Option<String>,
    #[serde(default, rename = "pipelineName")]
    pub pipeline_name: Option<String>,
    #[serde(default, rename = "branchName")]
    pub branch_name: Option<String>,
    // For lists and `get builds`: shown, never sent anywhere, so any shape is taken (a
    // value that is not text is left out).
    #[serde(default, deserialize_with = "text")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub started: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub finished: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub revision: Option<String>,
    #[serde(default, deserialize_with = "text", rename = "repoOwner")]
    pub repo_owner: Option<String>,
    #[serde(default, deserialize_with = "text", rename = "repoName")]
    pub repo_name: Option<String>,
    #[serde(default, deserialize_with = "text", rename = "serviceId")]
    pub pipeline_id: Option<String>,
    #[serde(default, deserialize_with = "text", rename = "pipelineTriggerName")]
    pub trigger_name: Option<String>,
    #[serde(default, deserialize_with = "text", rename = "pipelineTriggerId")]
    pub trigger_id: Option<String>,
    #[serde(default, rename = "webhookTriggered")]
    pub webhook: Option<Value>,
}

/// A field only shown: text as it is, anything else as absent.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

impl Build {
    pub fn id(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or(self.object_id.as_deref())
            .filter(|id| !id.is_empty())
    }
}

#[derive(Debug, Deserialize)]
struct Pipeline {
    metadata: PipelineMetadata,
}

#[derive(Debug, Deserialize)]
struct PipelineMetadata {
    id: String,
}

#[derive(Debug, Deserialize)]
struct WorkflowList {
    workflows: WorkflowPage,
}

#[derive(Debug, Deserialize)]
struct WorkflowPage {
    #[serde(default)]
    docs: Vec<Build>,
    #[serde(default)]
    total: Option<u64>,
}

/// What `GET /api/workflow` is asked for: one page of builds, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildQuery {
    /// Pipeline ids.
    pub pipelines: Vec<String>,
    pub branches: Vec<String>,
    pub statuses: Vec<String>,
    pub revisions: Vec<String>,
    pub limit: usize,
    /// From 1.
    pub page: usize,
}

impl BuildQuery {
    fn target(&self) -> String {
        let mut q = format!("/workflow?limit={}&page={}", self.limit, self.page);
        for (name, values) in [
            ("pipeline", &self.pipelines),
            ("branchName", &self.branches),
            ("status", &self.statuses),
            ("revision", &self.revisions),
        ] {
            for v in values {
                q.push_str(&format!("&{name}={}", encode(v)));
            }
        }
        q
    }
}

/// One page of builds, and how many the query has over all pages when Codefresh says.
pub struct BuildPage {
    pub builds: Vec<Build>,
    pub total: Option<u64>,
    /// The answer's size, for a [`crate::http::PageBudget`].
    pub response: Response,
}

pub struct Api {
    /// `CF_URL` without a trailing slash: the web app, with the API under `/api`.
    web: String,
    key: String,
    /// Each build's progress job as the last read of the build named it: where its log is
    /// found, without reading the build once more for it.
    progress_jobs: Mutex<HashMap<String, String>>,
}

// The log's answers are read as plain JSON values: a derived reader for each shape would
// cost the static binary more than these few fields.

/// Where a build's progress job (`GET /api/progress/:id`) keeps its log: `firebase` while
/// the build runs (and for a while after); another type once the log was archived, with
/// `url` to download it from.
#[derive(Debug, Clone, Default)]
pub struct Location {
    pub kind: String,
    pub url: Option<String>,
}

/// `GET /api/user/firebaseAuth`: where a build's live log is, and a token to read it.
#[derive(Debug, Clone)]
pub struct FirebaseAuth {
    pub url: String,
    pub access_token: String,
    /// The log database's newer layout keeps builds at its root; the older one under
    /// `build-logs/`.
    pub new_structure: bool,
}

/// `value[key]` as text.
fn text_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Api {
    /// `CF_API_KEY` (and `CF_URL`), else the current context of `~/.cfconfig`, as the
    /// Codefresh CLI loads them.
    pub fn from_env() -> Result<Self> {
        if let Some((_, key)) = env_first(&[KEY_VAR]) {
            register_secret(&key);
            return Ok(Api {
                web: web_address()?,
                key,
                progress_jobs: Mutex::default(),
            });
        }
        let file = super::cfconfig::path()
            .map_or_else(|| "~/.cfconfig".to_string(), |p| p.display().to_string());
        let context = super::cfconfig::current()?.ok_or_else(|| {
            Error::usage(format!(
                "{KEY_VAR} is not set and {file} has no current context: create an API key in Codefresh (User Settings → API Keys) and pass it as an encrypted variable, or run `codefresh auth create-context --api-key KEY`"
            ))
        })?;
        register_secret(&context.token);
        let what = format!("the url of context `{}` in {file}", context.name);
        Ok(Api {
            web: web_url(&what, &context.url)?,
            key: context.token,
            progress_jobs: Mutex::default(),
        })
    }

    /// An API for `url` with `key`, before the key is written anywhere (`auth
    /// create-context` checks it first).
    pub fn with_key(url_setting: &str, url: &str, key: &str) -> Result<Self> {
        register_secret(key);
        Ok(Api {
            web: web_url(url_setting, url)?,
            key: key.to_string(),
            progress_jobs: Mutex::default(),
        })
    }

    /// The web address, as `auth create-context` writes it into the context.
    pub fn web(&self) -> &str {
        &self.web
    }

    /// `GET /api/user` with the key: whether Codefresh takes it, and whether its user is
    /// an administrator (the Codefresh CLI marks such a context `onPrem`).
    pub fn user_is_admin(&self, ctx: &Ctx) -> Result<bool> {
        let resp = ctx
            .http
            .send(&self.request(Request::get(self.url("/user"))))?;
        match resp.status {
            401 | 403 => Err(resp.error(
                "the API key is not valid: create a new key in Codefresh (User Settings → API Keys)",
            )),
            _ => self.check(&resp, ""),
        }?;
        let user: Value = resp.decode()?;
        let roles = user.get("roles").and_then(Value::as_array);
        Ok(roles.is_some_and(|r| r.iter().any(|role| role == "Admin")))
    }

    /// The progress job the last read of `build` named.
    pub fn progress_job(&self, build: &str) -> Option<String> {
        lock(&self.progress_jobs).get(build).cloned()
    }

    /// `GET /api/progress/:id`: where the build's log is kept.
    pub fn progress(&self, ctx: &Ctx, progress: &str, build: &str) -> Result<Location> {
        let req = self.request(Request::get(
            self.url(&format!("/progress/{}", encode(progress))),
        ));
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!("the progress job {progress} of build {build} was not found"),
        )?;
        let job: Value = resp.decode()?;
        let location = job.get("location").unwrap_or(&Value::Null);
        Ok(Location {
            kind: text_at(location, "type").unwrap_or_default(),
            url: text_at(location, "url"),
        })
    }

    /// `GET /api/user/firebaseAuth?progressId=…`: the build's live log database and a token
    /// for it (a secret from here on).
    pub fn firebase_auth(&self, ctx: &Ctx, progress: &str) -> Result<FirebaseAuth> {
        let req = self.request(Request::get(self.url(&format!(
            "/user/firebaseAuth?progressId={}",
            encode(progress)
        ))));
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!("no log token for the progress job {progress}"),
        )?;
        let answer: Value = resp.decode()?;
        let auth = FirebaseAuth {
            url: text_at(&answer, "url").unwrap_or_default(),
            access_token: text_at(&answer, "accessToken").unwrap_or_default(),
            new_structure: answer.get("newStructure").and_then(Value::as_bool) == Some(true),
        };
        register_secret(&auth.access_token);
        if auth.access_token.trim().is_empty()
            || auth
                .access_token
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(resp.unusable("without a usable log token"));
        }
        crate::logs::checked_url(&auth.url)
            .map_err(|why| resp.unusable(&format!("with a log database url {why}")))?;
        Ok(auth)
    }

    pub fn build_url(&self, id: &str) -> String {
        format!("{}/build/{}", self.web, encode(id))
    }

    /// Where a user sees whether a build started when cirelay cannot tell.
    pub fn builds_page(&self) -> String {
        format!("{}/builds2", self.web)
    }

    fn request(&self, req: Request) -> Request {
        // Codefresh takes the key itself as the Authorization value, with no scheme word.
        req.header("Authorization", self.key.clone())
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api{path}", self.web)
    }

    /// `POST /api/pipelines/run/:name`; the answer is the new build's id.
    pub fn run(&self, ctx: &Ctx, pipeline: &str, body: &Value) -> Result<String> {
        let req = self
            .request(Request::post(
                self.url(&format!("/pipelines/run/{}", encode(pipeline))),
            ))
            .json(body)
            .starts_build(self.check_hint(pipeline));
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!(
                "pipeline {pipeline} not found: use its full name as Codefresh shows it (`project/pipeline`) or its id, and check that {KEY_VAR} belongs to its account"
            ),
        )?;
        self.started_id(&resp)
    }

    /// `GET /api/builds/rebuild/:id`: a GET that starts a build, so it is sent at most once.
    pub fn rebuild(&self, ctx: &Ctx, id: &str, pipeline: &str) -> Result<String> {
        let req = self
            .request(Request::get(
                self.url(&format!("/builds/rebuild/{}", encode(id))),
            ))
            .starts_build(self.check_hint(pipeline));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, &build_not_found(id))?;
        self.started_id(&resp)
    }

    /// `GET /api/builds/:id?noAccount=false` (the parameter is required by the API
    /// description; the Codefresh CLI sends `false`).
    pub fn build(&self, ctx: &Ctx, id: &str) -> Result<Build> {
        let req = self.request(Request::get(
            self.url(&format!("/builds/{}?noAccount=false", encode(id))),
        ));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, &build_not_found(id))?;
        let build: Build = resp.decode()?;
        checked_ids(&resp, &build)?;
        if let Some(progress) = build.progress.as_deref().filter(|p| !p.is_empty()) {
            lock(&self.progress_jobs).insert(id.to_string(), progress.to_string());
        }
        Ok(build)
    }

    /// The pipeline's id, from `GET /api/pipelines/:name`.
    pub fn pipeline_id(&self, ctx: &Ctx, pipeline: &str) -> Result<String> {
        let req = self.request(Request::get(
            self.url(&format!("/pipelines/{}", encode(pipeline))),
        ));
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!(
                "pipeline {pipeline} not found: use its full name as Codefresh shows it (`project/pipeline`) or its id"
            ),
        )?;
        let found: Pipeline = resp.decode()?;
        checked(&resp, &found.metadata.id, "a pipeline id")?;
        Ok(found.metadata.id)
    }

    /// The pipeline's newest build (on `branch` when given), from
    /// `GET /api/workflow?pipeline=ID&branchName=B&limit=1`.
    pub fn newest_build(
        &self,
        ctx: &Ctx,
        pipeline_id: &str,
        branch: Option<&str>,
    ) -> Result<Option<Build>> {
        Ok(self
            .recent_builds(ctx, pipeline_id, branch, None, 1)?
            .into_iter()
            .next())
    }

    /// The pipeline's newest builds (on `branch` when given), newest first, from
    /// `GET /api/workflow?pipeline=ID&branchName=B&limit=N`.
    pub fn recent_builds(
        &self,
        ctx: &Ctx,
        pipeline_id: &str,
        branch: Option<&str>,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Build>> {
        let mut url = self.url(&format!("/workflow?pipeline={}", encode(pipeline_id)));
        if let Some(branch) = branch {
            url.push_str(&format!("&branchName={}", encode(branch)));
        }
        if let Some(status) = status {
            url.push_str(&format!("&status={}", encode(status)));
        }
        url.push_str(&format!("&limit={limit}"));
        let resp = ctx.http.send(&self.request(Request::get(url)))?;
        self.check(&resp, "")?;
        let list: WorkflowList = resp.decode()?;
        for build in &list.workflows.docs {
            checked_ids(&resp, build)?;
        }
        Ok(list.workflows.docs)
    }

    /// `DELETE /api/progress/:id`: what terminating a build is.
    pub fn terminate_progress(&self, ctx: &Ctx, progress: &str, build: &str) -> Result<()> {
        let req = self.request(Request::delete(
            self.url(&format!("/progress/{}", encode(progress))),
        ));
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!("the progress job {progress} of build {build} was not found"),
        )
    }

    /// One page of `GET /api/workflow`, every id checked.
    pub fn build_page(&self, ctx: &Ctx, query: &BuildQuery) -> Result<BuildPage> {
        let resp = ctx
            .http
            .send(&self.request(Request::get(self.url(&query.target()))))?;
        self.check(&resp, "")?;
        let list: WorkflowList = resp.decode()?;
        for build in &list.workflows.docs {
            checked_ids(&resp, build)?;
            if build.id().is_none() {
                return Err(resp.unusable("with a build without an id"));
            }
        }
        Ok(BuildPage {
            builds: list.workflows.docs,
            total: list.workflows.total,
            response: resp,
        })
    }

    /// A pipeline as `GET /api/pipelines/:name` answers it, in its own key order; `None` when
    /// there is none of that name.
    pub fn pipeline_document(&self, ctx: &Ctx, name: &str) -> Result<Option<YamlValue>> {
        let req = self.request(Request::get(
            self.url(&format!("/pipelines/{}", encode(name))),
        ));
        let resp = ctx.http.send(&req)?;
        if resp.status == 404 {
            return Ok(None);
        }
        self.check(&resp, "")?;
        document(&resp).map(Some)
    }

    /// The account's pipelines, `GET /api/pipelines?limit=N&offset=0`.
    pub fn pipeline_documents(&self, ctx: &Ctx, limit: usize) -> Result<Vec<YamlValue>> {
        let req = self.request(Request::get(
            self.url(&format!("/pipelines?limit={limit}&offset=0")),
        ));
        let resp = ctx.http.send(&req)?;
        self.check(&resp, "")?;
        match document(&resp)?.get("docs") {
            Some(YamlValue::Sequence(docs)) => Ok(docs.clone()),
            None => Ok(Vec::new()),
            Some(_) => Err(resp.unusable("with `docs` that is not a list")),
        }
    }

    /// `POST /api/pipelines` with the spec. Sent once: had a first one been taken, a second
    /// would be refused as a duplicate.
    pub fn create_pipeline(&self, ctx: &Ctx, name: &str, spec: &Value) -> Result<()> {
        let req = self
            .request(Request::post(self.url("/pipelines")))
            .json(spec)
            .creates(self.pipelines_hint(name));
        let resp = ctx.http.send(&req)?;
        match resp.status {
            409 => Err(resp.error(&format!(
                "a pipeline named {name} exists already: `codefresh replace -f FILE` changes it, `codefresh apply -f FILE` creates or changes it"
            ))),
            _ => self.check(&resp, ""),
        }
    }

    /// `PUT /api/pipelines/:name?disableRevisionCheck=true` with the spec, as the Codefresh
    /// CLI replaces a pipeline: the file wins over whatever changed meanwhile. Repeating it
    /// sets the same spec again, so it is retried like a read.
    pub fn replace_pipeline(
        &self,
        ctx: &Ctx,
        name: &str,
        spec: &Value,
        skip_trigger_validation: bool,
    ) -> Result<()> {
        let mut path = format!("/pipelines/{}?disableRevisionCheck=true", encode(name));
        if skip_trigger_validation {
            path.push_str("&skipTriggerValidation=true");
        }
        let req = self.request(Request::put(self.url(&path))).json(spec);
        let resp = ctx.http.send(&req)?;
        self.check(
            &resp,
            &format!(
                "pipeline {name} not found: `codefresh create -f FILE` creates it, `codefresh apply -f FILE` creates or changes it"
            ),
        )
    }

    /// Whether a project of this name exists (`GET /api/projects/name/:name`).
    pub fn project_exists(&self, ctx: &Ctx, name: &str) -> Result<bool> {
        let req = self.request(Request::get(
            self.url(&format!("/projects/name/{}", encode(name))),
        ));
        let resp = ctx.http.send(&req)?;
        if resp.status == 404 {
            return Ok(false);
        }
        self.check(&resp, "")?;
        Ok(true)
    }

    /// `POST /api/projects` with `{"projectName", "tags"}`, as the Codefresh CLI sends it.
    pub fn create_project(&self, ctx: &Ctx, name: &str, tags: &[String]) -> Result<()> {
        let body = json!({ "projectName": name, "tags": tags });
        let req = self
            .request(Request::post(self.url("/projects")))
            .json(&body)
            .creates(format!("the projects at {}/projects", self.web));
        let resp = ctx.http.send(&req)?;
        match resp.status {
            409 => Err(resp.error(&format!("a project named {name} exists already"))),
            _ => self.check(&resp, ""),
        }
    }

    fn pipelines_hint(&self, name: &str) -> String {
        format!("whether pipeline {name} exists at {}/pipelines", self.web)
    }

    fn check_hint(&self, pipeline: &str) -> String {
        format!(
            "the builds of pipeline {pipeline} at {}",
            self.builds_page()
        )
    }

    /// Names the variable or argument to fix for the refusals a wrong setting causes.
    fn check(&self, resp: &Response, not_found: &str) -> Result<()> {
        match resp.status {
            200..=299 => Ok(()),
            401 => Err(resp.error(&format!(
                "{KEY_VAR} was rejected: create a new key in Codefresh (User Settings → API Keys)"
            ))),
            403 => Err(resp.error(&format!(
                "{KEY_VAR} may not do this: give the key the scopes it needs (pipelines, builds) or use a key of a user with access"
            ))),
            404 if !not_found.is_empty() => Err(resp.error(not_found)),
            _ => Err(resp.error("")),
        }
    }

    /// The id of a build Codefresh just accepted. It answered 2xx, so the build most likely
    /// exists: an answer without an id is an unknown outcome, not a refusal.
    fn started_id(&self, resp: &Response) -> Result<String> {
        started_id(&resp.body)
            .ok_or_else(|| resp.unusable(&format!("without a build id ({})", resp.snippet())))
    }
}

/// An answer as an ordered document (a `serde_json::Value` would sort its keys), which must
/// be an object.
fn document(resp: &Response) -> Result<YamlValue> {
    let doc: YamlValue = super::format::ordered(&resp.body)
        .map_err(|e| resp.unusable(&format!("with unusable JSON ({e}): {}", resp.snippet())))?;
    if !doc.is_mapping() {
        return Err(resp.unusable(&format!(
            "with an answer that is not an object ({})",
            resp.snippet()
        )));
    }
    Ok(doc)
}

fn build_not_found(id: &str) -> String {
    format!("build {id} not found: check the build id and that {KEY_VAR} belongs to its account")
}

/// The Codefresh address: `CF_URL`, else that of the `~/.cfconfig` context in use (when
/// `CF_API_KEY` is not set), else Codefresh's own.
pub fn web_address() -> Result<String> {
    // Where `Api::from_env` sends requests: without a key, the current context's url.
    if env_first(&[KEY_VAR]).is_none() {
        if let Ok(Some(context)) = super::cfconfig::current() {
            return web_url("the url of the ~/.cfconfig context", &context.url);
        }
    }
    if let Some((_, url)) = env_first(&[URL_VAR]) {
        return web_url(URL_VAR, &url);
    }
    Ok(DEFAULT_URL.to_string())
}

/// `CF_URL` as users write it: the web address, perhaps with a trailing `/` or `/api`;
/// `setting` names where it came from, for errors.
fn web_url(setting: &str, raw: &str) -> Result<String> {
    let host = crate::url::Host::parse(setting, raw, DEFAULT_URL)?.url;
    Ok(host.strip_suffix("/api").unwrap_or(&host).to_string())
}

/// Ids from answers go into request paths (`/progress/ID`) and export files: anything but
/// an id's characters is refused where it is read.
fn checked(resp: &Response, value: &str, what: &str) -> Result<()> {
    if is_plausible_id(value) {
        Ok(())
    } else {
        Err(resp.unusable(&format!(
            "with {what} that is not an id (`{}`)",
            value.escape_debug()
        )))
    }
}

fn checked_ids(resp: &Response, build: &Build) -> Result<()> {
    if let Some(id) = build.id() {
        checked(resp, id, "a build id")?;
    }
    match build.progress.as_deref().filter(|p| !p.is_empty()) {
        Some(progress) => checked(resp, progress, "a progress id"),
        None => Ok(()),
    }
}

/// Codefresh ids are 24 hex digits; a little more is allowed, nothing that could change a
/// path or a line.
fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Codefresh answers a run or a rebuild with the new build's id as a JSON string; an
/// object carrying `id` and a bare id are accepted too.
pub fn started_id(body: &str) -> Option<String> {
    let id = match serde_json::from_str::<Value>(body) {
        Ok(Value::String(s)) => s,
        Ok(Value::Object(o)) => ["id", "_id", "workflowId"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string))?,
        Ok(_) => return None,
        Err(_) => body.trim().to_string(),
    };
    is_plausible_id(&id).then_some(id)
}

/// Codefresh's build statuses: only `success`, `error` and `terminated` are final.
/// Everything else (`pending`, `elected`, `running`, `pending-approval`, `delayed`,
/// `terminating`, or a status added later) means keep waiting.
pub fn state_of(status: &str) -> BuildState {
    match status {
        "success" => BuildState::Success,
        "error" => BuildState::Failed,
        "terminated" => BuildState::Terminated,
        _ => BuildState::Running,
    }
}

/// The run request body, as the Codefresh CLI builds it: only the fields that are set.
pub fn run_body(run: &RunRequest, predecessor: Option<&str>) -> Value {
    let mut body = Map::new();
    let mut text = |name: &str, value: &Option<String>| {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            body.insert(name.to_string(), json!(v));
        }
    };
    text("branch", &run.branch);
    text("sha", &run.sha);
    text("trigger", &run.trigger);
    let variables = last_wins(&run.variables);
    if !variables.is_empty() {
        body.insert("variables".into(), key_value_list(&variables));
    }
    if let Some(id) = predecessor.filter(|id| !id.is_empty()) {
        // Codefresh links the new build to the one that started it under this name.
        body.insert("annotations".into(), json!({"cf_predecessor": id}));
    }
    if !run.contexts.is_empty() {
        body.insert("contexts".into(), json!(run.contexts));
    }
    let mut options = Map::new();
    for (name, on) in [
        ("noCache", run.no_cache),
        ("noCfCache", run.no_cf_cache),
        ("resetVolume", run.reset_volume),
        ("enableNotifications", run.enable_notifications),
    ] {
        if on {
            options.insert(name.into(), Value::Bool(true));
        }
    }
    for (name, steps) in [("skip", &run.skip), ("only", &run.only)] {
        if !steps.is_empty() {
            options.insert(name.into(), json!(steps));
        }
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Value::Object(body)
}

/// Everything cirelay reads from a Codefresh answer, without a server: a started build's id,
/// a build and its status (and how `wait` weighs it against each status it can wait for),
/// a pipeline's id, the newest build of a workflow list, and a refusal. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_answers(body: &str) {
    let resp = Response::received(200, Vec::new(), body.to_string(), "GET /api/builds/x");
    let _ = started_id(body);
    let mut builds = Vec::new();
    if let Ok(b) = resp.decode::<Build>() {
        builds.push(b);
    }
    let _ = resp.decode::<Pipeline>().map(|p| p.metadata.id);
    if let Ok(list) = resp.decode::<WorkflowList>() {
        builds.extend(list.workflows.docs);
    }
    let ids: Vec<String> = builds
        .iter()
        .map(|b| b.id().unwrap_or("x").to_string())
        .collect();
    for want in STATUSES {
        let standings: Vec<_> = builds
            .iter()
            .map(|b| super::wait::Standing::of(&b.status, want))
            .collect();
        if !ids.is_empty() {
            let _ = super::wait::combine(&ids, &standings);
        }
    }
    let api = Api {
        web: DEFAULT_URL.to_string(),
        key: "fuzz-key".to_string(),
        progress_jobs: Mutex::default(),
    };
    let refused = Response::received(404, Vec::new(), body.to_string(), "GET /api/builds/x");
    let _ = api.check(&refused, "build x not found");
    let _ = api.started_id(&resp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(state_of("success"), BuildState::Success);
        assert_eq!(state_of("error"), BuildState::Failed);
        assert_eq!(state_of("terminated"), BuildState::Terminated);
        for waiting in [
            "pending",
            "elected",
            "running",
            "pending-approval",
            "delayed",
            "terminating",
            "something-new",
            "",
        ] {
            assert_eq!(state_of(waiting), BuildState::Running, "{waiting}");
        }
        // Every final status is one `wait --status` accepts.
        for s in ["success", "error", "terminated"] {
            assert!(STATUSES.contains(&s));
        }
    }

    #[test]
    fn started_ids() {
        assert_eq!(
            started_id("\"5f1a2b3c4d5e6f7a8b9c0d1e\"").as_deref(),
            Some("5f1a2b3c4d5e6f7a8b9c0d1e")
        );
        assert_eq!(
            started_id("{\"id\": \"abc123\"}").as_deref(),
            Some("abc123")
        );
        assert_eq!(started_id("abc123\n").as_deref(), Some("abc123"));
        for bad in [
            "",
            "\"\"",
            "null",
            "42",
            "{}",
            "{\"message\": \"ok\"}",
            "<html>oops</html>",
            "\"a/b\"",
        ] {
            assert_eq!(started_id(bad), None, "{bad:?}");
        }
        assert_eq!(started_id(&format!("\"{}\"", "a".repeat(65))), None);
    }

    #[test]
    fn cf_url_forms() {
        assert_eq!(
            web_url(URL_VAR, "https://g.codefresh.io/").unwrap(),
            "https://g.codefresh.io"
        );
        assert_eq!(
            web_url(URL_VAR, "https://cf.example.com/api").unwrap(),
            "https://cf.example.com"
        );
        assert_eq!(
            web_url(URL_VAR, "http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["g.codefresh.io", "https://", "ftp://x", "https://a b"] {
            assert_eq!(web_url(URL_VAR, bad).unwrap_err().exit_code(), 4, "{bad}");
        }
    }

    #[test]
    fn run_body_has_only_what_is_set() {
        let empty = RunRequest {
            pipeline: "p".into(),
            branch: Some(String::new()),
            ..RunRequest::default()
        };
        assert_eq!(run_body(&empty, None), json!({}));
        assert_eq!(run_body(&empty, Some("")), json!({}));

        let full = RunRequest {
            pipeline: "proj/p".into(),
            branch: Some("main".into()),
            sha: Some("abc".into()),
            trigger: Some("trig".into()),
            variables: vec![
                ("A".into(), "from-file".into()),
                ("B".into(), "x=y z".into()),
                ("A".into(), "from-flag".into()),
            ],
            contexts: vec!["ctx1".into(), "ctx2".into()],
            no_cache: true,
            no_cf_cache: true,
            reset_volume: true,
            enable_notifications: true,
            skip: vec!["s1".into()],
            only: vec!["o1".into(), "o2".into()],
        };
        assert_eq!(
            run_body(&full, Some("parent01")),
            json!({
                "branch": "main",
                "sha": "abc",
                "trigger": "trig",
                "variables": [
                    {"key": "A", "value": "from-flag"},
                    {"key": "B", "value": "x=y z"}
                ],
                "annotations": {"cf_predecessor": "parent01"},
                "contexts": ["ctx1", "ctx2"],
                "options": {
                    "noCache": true,
                    "noCfCache": true,
                    "resetVolume": true,
                    "enableNotifications": true,
                    "skip": ["s1"],
                    "only": ["o1", "o2"]
                }
            })
        );
    }

    #[test]
    fn builds_decode_with_either_id_field() {
        let b: Build = serde_json::from_str(r#"{"_id":"x1","status":"running"}"#).unwrap();
        assert_eq!(b.id(), Some("x1"));
        let b: Build =
            serde_json::from_str(r#"{"id":"x2","_id":"x1","status":"running"}"#).unwrap();
        assert_eq!(b.id(), Some("x2"));
        let b: Build = serde_json::from_str(r#"{"status":"running"}"#).unwrap();
        assert_eq!(b.id(), None);
        assert!(serde_json::from_str::<Build>(r#"{"id":"x"}"#).is_err());
    }
}
