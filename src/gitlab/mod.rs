//! GitLab: trigger a pipeline of another project (with an access token, a pipeline trigger
//! token or the job token), wait for it, retry the newest pipeline of a branch, cancel, list,
//! and show the failed jobs' traces.
//!
//! A build is a pipeline, named `PROJECT/ID` (the project as given: its numeric id or its
//! path `group/sub/project`), so what `trigger` prints is what `status` and `wait` take.

mod api;
mod logs;

#[cfg(fuzzing)]
pub(crate) use api::read_answers;
use api::{Api, Pipeline, API_URL_VARS, JOB_TOKEN_VAR};
#[cfg(fuzzing)]
pub(crate) use logs::read_trace;

use crate::build::{Build, Reading, Stopped, Tracked, Watch};
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{
    EnvVar, Flag, BRANCH, DETACH, FAILED_ONLY, FORCE, LIMIT, LIST_STATUS, LOGS, LOG_LINES, WAIT,
};
use crate::cli::{env_first, last_wins, parse_key_value, typed_parameter};
use crate::error::{Error, Result};
use crate::listing::{self, Filter, Listed};
use crate::logs::Logs;
use crate::output;
use crate::provider::{Command, Provider, Verb};
use crate::url::WebAddress;
use crate::wait::{BuildState, Observation};
use crate::Ctx;

pub const NAME: &str = "gitlab";
pub const TOKEN_VAR: &str = "GITLAB_TOKEN";
pub const TRIGGER_TOKEN_VAR: &str = "GITLAB_TRIGGER_TOKEN";
const OWN_PIPELINE_VAR: &str = "CI_PIPELINE_ID";
const BRANCH_VAR: &str = "CI_COMMIT_REF_NAME";

/// Every pipeline status GitLab has (its OpenAPI description's list), for `builds --status`.
pub const STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// Readings in a row that may still show the result from before a retry: GitLab answers
/// the retry at once and moves the pipeline back to running a moment later.
const STALE_READINGS: u32 = 3;

pub struct Gitlab {
    api: Api,
}

const PROJECT_ARG: Arg = Arg::required("PROJECT");
const PIPELINE_ARG: Arg = Arg::required("PIPELINE");

const COMMANDS: &[Command] = &[
    Command {
        name: "trigger",
        args: &[PROJECT_ARG],
        flags: &[
            Flag::value("--ref", "REF", "the branch, tag or commit to run [default: the project's default branch]"),
            Flag::value("--var", "K=V", "a CI/CD variable for the pipeline; the value is everything after the first `=`").repeats(),
            Flag::value("--input", "K=V", "a pipeline input (spec:inputs): true/false become booleans, integers numbers, a JSON array an array").repeats(),
            Flag::value("--input-string", "K=V", "a pipeline input that stays a string").repeats(),
            DETACH.help("print the pipeline (PROJECT/ID) and exit 0 without waiting; the only way with a trigger token alone"),
            LOGS,
            LOG_LINES,
        ],
        env: &[],
        about: "start a pipeline of another project and wait for it",
        details: "Starts a pipeline of PROJECT (its numeric id or its path group/sub/project) and waits for it:\nexit 0 success, 1 failed or skipped, 2 canceled, 3 timeout. With GITLAB_TOKEN it sends\nPOST /projects/P/pipeline; otherwise GITLAB_TRIGGER_TOKEN (or CI_JOB_TOKEN) in the form of\nPOST /projects/P/trigger/pipeline. Waiting needs read access: GITLAB_TOKEN, or CI_JOB_TOKEN\nwhere the target project allows it. Prints PROJECT/ID, what the other commands take.",
        example: "cirelay gitlab trigger acme/deploy --ref main --var IMAGE_TAG=1.4.2 --input environment=staging",
        verb: Verb::Start,
        timeout_in_minutes: false,
    },
    Command {
        name: "status",
        args: &[PIPELINE_ARG],
        flags: &[],
        env: &[],
        about: "print a pipeline's status",
        details: "Prints the pipeline's status word on stdout, its project, ref and link on stderr, and exits\nlike wait would for a finished pipeline (0 while it runs). PIPELINE is PROJECT/ID or the\npipeline's web address.",
        example: "S=$(cirelay gitlab status acme/deploy/1234)",
        verb: Verb::Status,
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[PIPELINE_ARG],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "wait for a pipeline and exit by its result",
        details: "Waits until the pipeline finishes: exit 0 success, 1 failed or skipped, 2 canceled, 3 timeout.\nA pipeline waiting for a manual job keeps the wait going (said once). PIPELINE is PROJECT/ID\nor the pipeline's web address.",
        example: "cirelay gitlab wait \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Wait,
        timeout_in_minutes: false,
    },
    Command {
        name: "cancel",
        args: &[PIPELINE_ARG],
        flags: &[],
        env: &[],
        about: "cancel a pipeline",
        details: "Cancels the pipeline if it is still running; a finished pipeline is left alone (exit 0).",
        example: "cirelay gitlab cancel \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Stop,
        timeout_in_minutes: false,
    },
    Command {
        name: "restart-latest",
        args: &[PROJECT_ARG],
        flags: &[
            BRANCH.help("the branch [default: $CI_COMMIT_REF_NAME, else the project's default branch]"),
            WAIT,
            FORCE.help("retry even the pipeline this job runs in (CI_PIPELINE_ID)"),
            LOGS,
            LOG_LINES,
        ],
        env: &[
            EnvVar::new(BRANCH_VAR, "set by GitLab CI: the default branch"),
            EnvVar::new(OWN_PIPELINE_VAR, "set by GitLab CI: the pipeline this job runs in is not retried unless --force"),
        ],
        about: "retry the newest pipeline of the branch",
        details: "Retries the newest pipeline of the branch (GET /projects/P/pipelines/latest, then POST …/retry):\nits failed and canceled jobs run again, as with GitLab's Retry button. The pipeline keeps its\nid, so PROJECT/ID is printed; --wait follows the retry.",
        example: "cirelay gitlab restart-latest acme/deploy --branch main --wait",
        verb: Verb::RestartLatest,
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[PIPELINE_ARG],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print a pipeline's job traces",
        details: "Prints each job's trace to stderr under a header line (name, status, link) and exits like\nstatus; --failed only the failed jobs, their last --log-lines lines.",
        example: "cirelay gitlab logs \"$CIRELAY_BUILD_ID\" --failed",
        verb: Verb::Logs,
        timeout_in_minutes: false,
    },
    Command {
        name: "builds",
        args: &[PROJECT_ARG],
        flags: &[
            BRANCH.help("only pipelines of this branch or tag"),
            LIST_STATUS.help("only pipelines with this status (success, failed, running, canceled, manual, …)"),
            LIMIT,
        ],
        env: &[],
        about: "list a project's recent pipelines",
        details: "Lists the project's newest pipelines, newest first: a table on stdout, or JSON Lines with\n--output json.",
        example: "cirelay gitlab builds acme/deploy --branch main --status failed --limit 5",
        verb: Verb::Builds,
        timeout_in_minutes: false,
    },
];

/// A project as the API path takes it: its numeric id, or its full path, which goes into
/// the path percent-encoded as one segment (GitLab answers 404 to a raw slash there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project(String);

impl Project {
    pub fn parse(raw: &str) -> Result<Self> {
        let text = raw.trim().trim_matches('/');
        let bad = |why: &str| {
            Error::usage(format!(
                "PROJECT `{}` {why}: give its numeric id (Settings → General) or its path group/subgroup/project as in its web address",
                raw.escape_debug()
            ))
        };
        if text.is_empty() {
            return Err(bad("is empty"));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u64>() {
                Ok(n) if n > 0 => Ok(Project(n.to_string())),
                _ => Err(bad("is not a project id")),
            };
        }
        let segments: Vec<&str> = text.split('/').collect();
        if segments.len() < 2 {
            return Err(bad("is neither a number nor a path"));
        }
        for s in &segments {
            let usable = !s.is_empty()
                && !matches!(*s, "." | "..")
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'));
            if !usable {
                return Err(bad("has a part GitLab paths cannot have"));
            }
        }
        Ok(Project(text.to_string()))
    }

    /// The project in a request path.
    pub fn segment(&self) -> String {
        crate::http::encode(&self.0)
    }

    /// The path, for links (a numeric id makes none).
    pub fn path(&self) -> Option<&str> {
        self.0.contains('/').then_some(self.0.as_str())
    }
}

impl std::fmt::Display for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One pipeline: `PROJECT/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineRef {
    pub project: Project,
    pub id: u64,
}

impl std::fmt::Display for PipelineRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.project, self.id)
    }
}

impl PipelineRef {
    /// `PROJECT/ID`, `gitlab:PROJECT/ID`, or the pipeline's web address on the configured
    /// instance (`https://HOST/GROUP/PROJECT/-/pipelines/ID`, a tab such as `/failures` or a
    /// query after it too).
    pub fn parse(raw: &str) -> Result<Self> {
        let text = raw.trim();
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            return Self::from_web_address(text);
        }
        let text = text.strip_prefix("gitlab:").unwrap_or(text);
        let (project, id) = text.trim_end_matches('/').rsplit_once('/').ok_or_else(|| {
            Error::usage(format!(
                "PIPELINE `{}` must be PROJECT/ID (what `cirelay gitlab trigger` prints, e.g. acme/app/1234) or the pipeline's web address",
                raw.escape_debug()
            ))
        })?;
        Ok(PipelineRef {
            project: Project::parse(project)?,
            id: pipeline_id(id, raw)?,
        })
    }

    fn from_web_address(url: &str) -> Result<Self> {
        let (_, web) = api::hosts()?;
        let shown = crate::secrets::redact(url);
        let not_ours = || {
            Error::usage(format!(
                "PIPELINE `{}` is not a pipeline of {web}: set {} to the API of the instance it is on",
                shown.escape_debug(),
                API_URL_VARS[0]
            ))
        };
        let (project, id) = web_pipeline(url, &web).ok_or_else(not_ours)?;
        let Some(id) = id else {
            return Err(Error::usage(format!(
                "PIPELINE `{}` is not a pipeline's web address (https://HOST/GROUP/PROJECT/-/pipelines/ID)",
                shown.escape_debug()
            )));
        };
        Ok(PipelineRef {
            project: Project::parse(&project)?,
            id: pipeline_id(&id, url)?,
        })
    }
}

/// `https://HOST[/PREFIX]/GROUP/PROJECT/-/pipelines/ID[/…]` on the instance whose web
/// address is `web`: the project path, and the id when the path names a pipeline.
fn web_pipeline(url: &str, web: &str) -> Option<(String, Option<String>)> {
    let address = WebAddress::parse(url)?;
    let base = WebAddress::parse(web)?;
    if !address.on_host_of(web) {
        return None;
    }
    let prefix: Vec<&str> = base.segments.iter().map(String::as_str).collect();
    let rest = address.after(&prefix)?;
    let dash = rest.iter().position(|s| s == "-");
    match dash {
        Some(i) if rest.get(i + 1).map(String::as_str) == Some("pipelines") => {
            Some((rest[..i].join("/"), rest.get(i + 2).cloned()))
        }
        _ => Some((rest.join("/"), None)),
    }
}

fn pipeline_id(raw: &str, whole: &str) -> Result<u64> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Error::usage(format!(
            "PIPELINE `{}`: `{}` is not a pipeline id (the number in …/-/pipelines/ID)",
            whole.escape_debug(),
            raw.escape_debug()
        ))),
    }
}

/// GitLab's pipeline statuses. `success` → 0; `failed` and `skipped` (nothing ran) → 1;
/// `canceled` and `canceling` → 2; everything else (`created`, `waiting_for_resource`,
/// `preparing`, `pending`, `running`, `scheduled`, `manual`, a status added later) keeps
/// waiting.
pub fn state_of(status: &str) -> BuildState {
    match status {
        "success" => BuildState::Success,
        "failed" | "skipped" => BuildState::Failed,
        "canceled" | "canceling" => BuildState::Terminated,
        _ => BuildState::Running,
    }
}

/// A status as the progress line shows it: the waiting ones that need a word get it.
pub fn describe(status: &str) -> String {
    match status {
        "manual" => "manual (waiting for a manual job to be started)".into(),
        "scheduled" => "scheduled (waiting for a delayed job's time)".into(),
        "waiting_for_resource" => "waiting_for_resource (waiting for its resource group)".into(),
        other => other.into(),
    }
}

/// What `gitlab trigger` is asked to start, checked before anything is read or sent.
pub struct Trigger {
    project: Project,
    git_ref: Option<String>,
    variables: Vec<(String, String)>,
    inputs: Vec<(String, serde_json::Value)>,
    detach: bool,
}

/// Where `gitlab restart-latest` looks.
pub struct Restart {
    project: Project,
    branch: Option<String>,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.branch {
            Some(b) => write!(f, "`{b}` of {}", self.project),
            None => write!(f, "the default branch of {}", self.project),
        }
    }
}

/// `--input` values typed as GitLab's `spec:inputs` expect them.
fn typed_input(raw: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(array @ serde_json::Value::Array(_)) => array,
        _ => typed_parameter(raw),
    }
}

impl Provider for Gitlab {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "trigger, status, wait, cancel, restart-latest, logs, builds";
    const ENV: &'static [EnvVar] = &[
        EnvVar::new(TOKEN_VAR, "a personal, project or group access token (api scope; read_api to only read), sent as PRIVATE-TOKEN"),
        EnvVar::new(TRIGGER_TOKEN_VAR, "a pipeline trigger token (Settings → CI/CD → Pipeline trigger tokens): starts pipelines only"),
        EnvVar::new(JOB_TOKEN_VAR, "set by GitLab CI: starts pipelines, and reads them (JOB-TOKEN) where the target project allows it"),
        EnvVar::new("GITLAB_API_URL", "the API [https://gitlab.com/api/v4]; self-managed: https://HOST/api/v4"),
        EnvVar::new("CI_API_V4_URL", "set by GitLab CI: the API of the instance the job runs on, when GITLAB_API_URL is not set"),
    ];
    const COMMANDS: &'static [Command] = COMMANDS;

    type BuildRef = PipelineRef;
    type Start = Trigger;
    type Scope = Restart;
    /// The newest pipeline as it was before the retry.
    type Newest = Pipeline;
    type ListScope = Project;

    fn build_ref(raw: &str) -> Result<PipelineRef> {
        PipelineRef::parse(raw)
    }

    fn claims(address: &str) -> bool {
        api::hosts()
            .ok()
            .and_then(|(_, web)| web_pipeline(address, &web))
            .is_some_and(|(_, id)| id.is_some())
    }

    /// The project; a `--status` GitLab does not have is refused here, before any
    /// credential is read, with the other problems of the line.
    fn list_scope(args: &Args) -> Result<Project> {
        if let Some(s) = args.value("--status") {
            if !STATUSES.contains(&s) {
                return Err(Error::usage(format!(
                    "--status: `{s}` is not a GitLab pipeline status ({})",
                    STATUSES.join(", ")
                )));
            }
        }
        Project::parse(args.positional(0).unwrap_or_default())
    }

    fn start_request(args: &Args) -> Result<Trigger> {
        let pairs = |flag: &str| -> Result<Vec<(String, String)>> {
            args.values(flag)
                .into_iter()
                .map(|raw| parse_key_value(raw).map_err(|e| Error::usage(format!("{flag} {e}"))))
                .collect()
        };
        let variables = last_wins(&pairs("--var")?);
        let mut inputs: Vec<(String, serde_json::Value)> = pairs("--input")?
            .into_iter()
            .map(|(k, v)| (k, typed_input(&v)))
            .collect();
        inputs.extend(
            pairs("--input-string")?
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v))),
        );
        Ok(Trigger {
            project: Project::parse(args.positional(0).unwrap_or_default())?,
            git_ref: args.given("--ref").map(|r| r.trim().to_string()),
            variables,
            inputs: last_wins(&inputs),
            detach: args.on("--detach"),
        })
    }

    fn scope(args: &Args) -> Result<Restart> {
        Ok(Restart {
            project: Project::parse(args.positional(0).unwrap_or_default())?,
            branch: args
                .given("--branch")
                .map(str::to_string)
                .or_else(|| env_first(&[BRANCH_VAR]).map(|(_, b)| b)),
        })
    }

    fn connect(_ctx: &Ctx) -> Result<Self> {
        Ok(Gitlab {
            api: Api::from_env()?,
        })
    }

    fn read(&self, ctx: &Ctx, r: &PipelineRef) -> Result<Reading> {
        let p = self.api.pipeline(ctx, &r.project, r.id)?;
        let build = self.build(&r.project, &p);
        let mut line = format!(
            "pipeline #{} of {}: {}",
            p.id,
            r.project,
            describe(&p.status)
        );
        let mut what = Vec::new();
        if let Some(git_ref) = p.git_ref.as_deref() {
            what.push(format!("ref {git_ref}"));
        }
        if let Some(sha) = p.sha.as_deref() {
            what.push(format!(
                "commit {}",
                sha.chars().take(8).collect::<String>()
            ));
        }
        if !what.is_empty() {
            line.push_str(&format!(" ({})", what.join(", ")));
        }
        if let Some(url) = &build.url {
            line.push_str(&format!(" {url}"));
        }
        Ok(Reading {
            build,
            lines: vec![line],
        })
    }

    fn watch<'a>(&'a self, ctx: &Ctx, r: &PipelineRef) -> Result<Tracked<'a, PipelineRef>> {
        let p = self.api.pipeline(ctx, &r.project, r.id)?;
        Ok(self.tracked(&r.project, p, None, None))
    }

    fn stop(&self, ctx: &Ctx, r: &PipelineRef) -> Result<(Build, Stopped)> {
        let p = self.api.pipeline(ctx, &r.project, r.id)?;
        let build = self.build(&r.project, &p);
        if state_of(&p.status).is_finished() {
            let status = p.status;
            return Ok((build, Stopped::AlreadyFinished { status, why: None }));
        }
        let canceled = self.api.cancel(ctx, &r.project, r.id)?;
        let line = format!(
            "canceling {}: {}",
            build.label,
            build.url.as_deref().unwrap_or_default()
        );
        Ok((
            build,
            Stopped::Asked {
                status: canceled.status,
                line: Some(line),
            },
        ))
    }

    fn start<'a>(&'a self, ctx: &Ctx, t: &Trigger) -> Result<Tracked<'a, PipelineRef>> {
        if !t.detach {
            self.api
                .read_access("waiting for the pipeline (pass --detach to only start it)")?;
        }
        let git_ref = match &t.git_ref {
            Some(r) => r.clone(),
            None => self.api.default_branch(ctx, &t.project)?,
        };
        output::event(format!(
            "triggering a pipeline of {} on {git_ref}",
            t.project
        ));
        let p = self
            .api
            .start(ctx, &t.project, &git_ref, &t.variables, &t.inputs)?;
        let build = self.build(&t.project, &p);
        let line = format!(
            "started pipeline #{} of {}: {}",
            p.id,
            t.project,
            build.url.as_deref().unwrap_or_default()
        );
        Ok(self.tracked(&t.project, p, Some(line), None))
    }

    fn newest(&self, ctx: &Ctx, scope: &Restart) -> Result<(Pipeline, Build)> {
        let p = self
            .api
            .latest(ctx, &scope.project, scope.branch.as_deref())?;
        let build = self.build(&scope.project, &p);
        Ok((p, build))
    }

    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &Restart,
        newest: Pipeline,
    ) -> Result<Tracked<'a, PipelineRef>> {
        let project = &scope.project;
        output::event(format!(
            "retrying pipeline #{} ({}) of {}: its failed and canceled jobs run again",
            newest.id, newest.status, scope
        ));
        if newest.status == "success" {
            output::event(format!(
                "note: pipeline #{} succeeded; GitLab's retry reruns only failed and canceled jobs, so it may run nothing — `cirelay gitlab trigger {project}{}` starts a new pipeline",
                newest.id,
                newest.git_ref.as_deref().map(|r| format!(" --ref {r}")).unwrap_or_default()
            ));
        }
        let retried = self.api.retry(ctx, project, newest.id)?;
        // What the pipeline showed before the retry may still be read for a moment.
        let stale = state_of(&newest.status).is_finished().then(|| Stale {
            status: newest.status.clone(),
            finished_at: newest.finished_at.clone(),
            left: STALE_READINGS,
        });
        let mut tracked = self.tracked(project, retried, None, Some(stale));
        tracked.build.label = format!("pipeline #{} retry", newest.id);
        Ok(tracked)
    }

    fn builds(&self, ctx: &Ctx, project: &Project, filter: &Filter) -> Result<Vec<Listed>> {
        let pipelines = self.api.pipelines(
            ctx,
            project,
            filter.branch.as_deref(),
            filter.status.as_deref(),
            filter.limit,
        )?;
        Ok(pipelines
            .iter()
            .map(|p| {
                // Lists carry no finish time: a finished pipeline's last update is it.
                let finished = p.finished_at.clone().or_else(|| {
                    state_of(&p.status)
                        .is_finished()
                        .then(|| p.updated_at.clone())
                        .flatten()
                });
                Listed {
                    provider: NAME,
                    id: format!("{project}/{}", p.id),
                    number: Some(p.id),
                    pipeline: Some(project.to_string()),
                    branch: p.git_ref.clone(),
                    commit: p.sha.clone(),
                    status: p.status.clone(),
                    result: listing::result_word(state_of(&p.status)),
                    created_at: p.created_at.clone(),
                    duration_s: listing::duration_s(p.created_at.as_deref(), finished.as_deref()),
                    finished_at: finished,
                    url: self.link(project, p),
                }
            })
            .filter(|row| filter.keeps(row))
            .collect())
    }

    fn logs<'a>(
        &'a self,
        _ctx: &Ctx,
        r: &PipelineRef,
    ) -> Result<Option<Box<dyn Logs + Send + 'a>>> {
        self.api.read_access("reading a pipeline's job traces")?;
        Ok(Some(Box::new(logs::Traces::new(&self.api, r.clone()))))
    }

    /// The pipeline this job runs in, when cirelay talks to the instance the job runs on
    /// (pipeline ids are only unique within one instance).
    fn own_build() -> Option<(&'static str, String)> {
        let own = env_first(&[OWN_PIPELINE_VAR])?;
        let normal = |v: &str| v.trim_end_matches('/').to_ascii_lowercase();
        match (
            env_first(&["GITLAB_API_URL"]),
            env_first(&["CI_API_V4_URL"]),
        ) {
            (Some((_, target)), Some((_, here))) if normal(&target) != normal(&here) => None,
            _ => Some(own),
        }
    }

    fn instead_of_own_restart(scope: &Restart) -> Option<String> {
        Some(format!(
            "use `cirelay gitlab trigger {}` to start a new pipeline instead",
            scope.project
        ))
    }
}

impl Gitlab {
    fn link(&self, project: &Project, p: &Pipeline) -> Option<String> {
        p.web_url
            .clone()
            .or_else(|| self.api.fallback_url(project, p.id))
    }

    fn build(&self, project: &Project, p: &Pipeline) -> Build {
        Build {
            id: format!("{project}/{}", p.id),
            number: Some(p.id),
            url: self.link(project, p),
            status: p.status.clone(),
            state: state_of(&p.status),
            label: format!("pipeline #{}", p.id),
            // The own-build guard compares with CI_PIPELINE_ID, the bare id.
            aliases: vec![p.id.to_string()],
        }
    }

    /// `retried`: the pipeline was just retried, and `stale` is what it showed before,
    /// when it had finished.
    fn tracked(
        &self,
        project: &Project,
        first: Pipeline,
        line: Option<String>,
        retried: Option<Option<Stale>>,
    ) -> Tracked<'_, PipelineRef> {
        let plans = retried.is_none();
        let stale = retried.flatten();
        let mut build = self.build(project, &first);
        // Started or restarted: running until a reading says otherwise.
        build.state = BuildState::Running;
        let reference = PipelineRef {
            project: project.clone(),
            id: first.id,
        };
        let watch = Reads {
            api: &self.api,
            reference: reference.clone(),
            plans,
            first: stale.is_none().then_some(first),
            stale,
            last: String::new(),
            seen: None,
        };
        Tracked {
            build,
            reference,
            line,
            watch: Box::new(watch),
        }
    }
}

/// The result a pipeline showed before a retry, which a reading may still show.
#[derive(Debug, Clone)]
struct Stale {
    status: String,
    finished_at: Option<String>,
    left: u32,
}

/// Follows a pipeline by reading it; the reading already made (to wait) counts as the first.
struct Reads<'a> {
    api: &'a Api,
    reference: PipelineRef,
    /// Whether polls are planned around the usual duration of the branch's pipelines: not
    /// after a retry, which reruns only some jobs.
    plans: bool,
    first: Option<Pipeline>,
    stale: Option<Stale>,
    /// GitLab's own word of the last reading, for the report.
    last: String,
    /// The last reading, for planning.
    seen: Option<Pipeline>,
}

/// How many of a branch's recent successful pipelines their usual duration is taken from.
const HISTORY: usize = 10;

impl Watch for Reads<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let p = match self.first.take() {
            Some(p) => p,
            None => self
                .api
                .pipeline(ctx, &self.reference.project, self.reference.id)?,
        };
        self.last = p.status.clone();
        let state = state_of(&p.status);
        self.seen = Some(p.clone());
        if let Some(stale) = self.stale.as_mut() {
            let same = state.is_finished()
                && p.status == stale.status
                && p.finished_at == stale.finished_at;
            if !same {
                self.stale = None;
            } else if stale.left > 0 {
                stale.left -= 1;
                return Ok(Observation::new(
                    BuildState::Running,
                    format!("{} (the retry has not started yet)", p.status),
                ));
            } else {
                output::event(format!(
                    "GitLab ran nothing again in pipeline #{}: it has no failed or canceled jobs to retry",
                    p.id
                ));
                self.stale = None;
            }
        }
        Ok(Observation::new(state, describe(&p.status)))
    }

    fn status_word(&self, last: &Observation) -> String {
        if self.last.is_empty() {
            last.status.clone()
        } else {
            self.last.clone()
        }
    }

    /// The median duration (last update minus creation: lists carry no start or finish
    /// time) of the recent successful pipelines of the same ref, counted from this
    /// pipeline's creation.
    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        if !self.plans {
            return None;
        }
        let p = self.seen.as_ref()?;
        let git_ref = p.git_ref.as_deref()?;
        let project = &self.reference.project;
        let key = format!("gitlab {} {git_ref}", project.segment());
        let own = self.reference.id.to_string();
        crate::wait::planned_end(key, &own, p.created_at.as_deref(), || {
            let recent = self
                .api
                .pipelines(ctx, project, Some(git_ref), Some("success"), HISTORY)
                .ok()?;
            // The filters are checked here too: a server may ignore one it does not know.
            Some(
                recent
                    .iter()
                    .filter(|r| r.status == "success" && r.git_ref.as_deref() == Some(git_ref))
                    .filter_map(|r| {
                        let took =
                            listing::duration_s(r.created_at.as_deref(), r.updated_at.as_deref())?;
                        Some((r.id.to_string(), took))
                    })
                    .collect(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_ids_or_paths() {
        assert_eq!(Project::parse("42").unwrap().segment(), "42");
        let p = Project::parse(" /group/sub/my.project/ ").unwrap();
        assert_eq!(p.segment(), "group%2Fsub%2Fmy.project");
        assert_eq!(p.path(), Some("group/sub/my.project"));
        assert_eq!(Project::parse("42").unwrap().path(), None);
        for bad in [
            "", "0", "app", "a//b", "a/../b", "a/b c", "a/b?x", "a/b%2F", "a/\nb", "a/./b",
        ] {
            assert_eq!(Project::parse(bad).unwrap_err().exit_code(), 4, "{bad:?}");
        }
    }

    #[test]
    fn pipelines_by_id_or_web_address() {
        let r = PipelineRef::parse("acme/app/1234").unwrap();
        assert_eq!(
            (r.project.to_string(), r.id),
            ("acme/app".to_string(), 1234)
        );
        assert_eq!(r.to_string(), "acme/app/1234");
        assert_eq!(
            PipelineRef::parse("gitlab:42/7").unwrap().to_string(),
            "42/7"
        );
        let web = PipelineRef::parse("https://gitlab.com/acme/sub/app/-/pipelines/99/failures?x=1")
            .unwrap();
        assert_eq!(web.to_string(), "acme/sub/app/99");
        for bad in [
            "1234",
            "acme/app/x",
            "acme/app/0",
            "acme/app/-1",
            "acme/app/12 ",
            "https://gitlab.com/acme/app/-/jobs/5",
            "https://evil.example/acme/app/-/pipelines/5",
            "https://gitlab.com/acme/app/-/pipelines/x",
        ] {
            let err = PipelineRef::parse(bad);
            if bad == "acme/app/12 " {
                assert!(err.is_ok(), "a trailing space is trimmed");
                continue;
            }
            assert_eq!(err.unwrap_err().exit_code(), 4, "{bad:?}");
        }
    }

    #[test]
    fn web_addresses_on_an_instance_with_a_path_prefix() {
        let web = "https://example.com/gitlab";
        assert_eq!(
            web_pipeline("https://EXAMPLE.com/gitlab/g/p/-/pipelines/5/builds", web),
            Some(("g/p".to_string(), Some("5".to_string())))
        );
        assert_eq!(
            web_pipeline("https://example.com/gitlab/g/p/-/jobs/5", web),
            Some(("g/p/-/jobs/5".to_string(), None))
        );
        assert_eq!(
            web_pipeline("https://example.com/other/g/p/-/pipelines/5", web),
            None
        );
        assert_eq!(
            web_pipeline("https://gitlab.com/g/p/-/pipelines/5", web),
            None
        );
        assert!(Gitlab::claims("https://gitlab.com/g/p/-/pipelines/5"));
        assert!(!Gitlab::claims("https://gitlab.com/g/p/-/merge_requests/5"));
        assert!(!Gitlab::claims("https://github.com/o/r/actions/runs/5"));
    }

    #[test]
    fn statuses_map_as_the_contract_says() {
        assert_eq!(state_of("success"), BuildState::Success);
        for failed in ["failed", "skipped"] {
            assert_eq!(state_of(failed), BuildState::Failed);
        }
        for canceled in ["canceled", "canceling"] {
            assert_eq!(state_of(canceled), BuildState::Terminated);
        }
        for waiting in [
            "created",
            "waiting_for_resource",
            "preparing",
            "pending",
            "running",
            "scheduled",
            "manual",
            "waiting_for_callback",
            "something_new",
        ] {
            assert_eq!(state_of(waiting), BuildState::Running, "{waiting}");
        }
        assert!(describe("manual").contains("manual job"));
    }

    #[test]
    fn inputs_are_typed_like_gitlab_spec_inputs() {
        assert_eq!(typed_input("true"), serde_json::json!(true));
        assert_eq!(typed_input("3"), serde_json::json!(3));
        assert_eq!(typed_input(r#"["a","b"]"#), serde_json::json!(["a", "b"]));
        assert_eq!(typed_input("{\"a\":1}"), serde_json::json!("{\"a\":1}"));
        assert_eq!(typed_input("prod"), serde_json::json!("prod"));
    }
}
