//! GitHub Actions: dispatch a workflow and know its run from the answer itself
//! (`return_run_details`), wait on a run, cancel it, rerun the newest run of a branch, show
//! the failed jobs' logs, list runs.
//!
//! A run keeps its id when it is rerun: a rerun is a new *attempt* of the same run. So a
//! build here is `OWNER/REPO/RUN_ID`, and following a rerun means waiting for the next
//! attempt to show up before reading its result (see [`runs::RunWatch`]).

mod api;
mod job_logs;
mod runs;

use serde_json::{Map, Value};

use crate::build::{Build, Reading, Stopped, Tracked};
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{EnvVar, Flag, BRANCH, DETACH, FAILED_ONLY, FORCE, LOGS, LOG_LINES, WAIT};
use crate::cli::{env_first, parse_key_value};
use crate::error::{Error, Result};
use crate::listing::{Filter, Listed};
use crate::logs::Logs;
use crate::provider::{Command, Provider, Verb};
use crate::url::WebAddress;
use crate::Ctx;

#[cfg(fuzzing)]
pub(crate) use api::read_answers;
pub use api::Api;

pub const NAME: &str = "github";
pub const TOKEN_VARS: &[&str] = &["GITHUB_TOKEN", "GH_TOKEN"];
pub const API_VAR: &str = "GITHUB_API_URL";
pub const SERVER_VAR: &str = "GITHUB_SERVER_URL";
pub const DEFAULT_API: &str = "https://api.github.com";
pub const DEFAULT_SERVER: &str = "https://github.com";
/// The run the calling job is part of (set by GitHub Actions).
pub const OWN_RUN_VAR: &str = "GITHUB_RUN_ID";
/// The branch or tag the calling job runs on (set by GitHub Actions).
pub const REF_NAME_VAR: &str = "GITHUB_REF_NAME";
/// GitHub refuses a dispatch with more inputs than this.
pub const MAX_INPUTS: usize = 25;

/// GitHub Actions, connected with a token.
pub struct GitHub {
    api: Api,
}

const REPO_ARG: Arg = Arg::required("OWNER/REPO");
const WORKFLOW_ARG: Arg = Arg::required("WORKFLOW");
const RUN_ARG: Arg = Arg::required("RUN");

const COMMANDS: &[Command] = &[
    Command {
        name: "trigger",
        args: &[REPO_ARG, WORKFLOW_ARG],
        flags: &[
            Flag::value("--ref", "REF", "the branch or tag to run the workflow on [default: the repository's default branch]"),
            Flag::value("--input", "K=V", "a workflow_dispatch input; values are strings, as GitHub takes them (`true`, `3` too)").repeats(),
            DETACH.help("print the run's id and exit 0 without waiting"),
            LOGS,
            LOG_LINES,
        ],
        env: &[],
        about: "dispatch a workflow and wait for the run it started",
        details: "Dispatches WORKFLOW (its file name, deploy.yml, or its id) with return_run_details: GitHub's\nanswer names the run, so one request starts it and the run's id (OWNER/REPO/RUN_ID) is on stdout\nat once. Then waits: exit 0 success or neutral, 1 failure (skipped too: nothing ran), 2 cancelled,\n3 timeout. Inputs are strings (GitHub's rule), at most 25. A server that refuses\nreturn_run_details (GitHub Enterprise Server) is sent the dispatch again without it, and the run\nis found among the workflow's workflow_dispatch runs on REF created after it; not exactly one\nsuch run is exit 6, naming them.",
        example: "cirelay github trigger acme/deploy deploy.yml --ref main --input environment=staging",
        verb: Verb::Start,
        timeout_in_minutes: false,
    },
    Command {
        name: "status",
        args: &[RUN_ARG],
        flags: &[],
        env: &[],
        about: "print a run's status",
        details: "Prints the run's word on stdout (its conclusion once completed, else its status) and the run on\nstderr; exits like wait would for a finished run (0 while it runs). RUN is OWNER/REPO/RUN_ID or the\nrun's web address.",
        example: "S=$(cirelay github status acme/deploy/9876543210)",
        verb: Verb::Status,
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[RUN_ARG],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "wait until a run finished",
        details: "Waits for the run's newest attempt and exits by its conclusion: 0 success or neutral, 1 failure,\ntimed_out, startup_failure, action_required, stale or skipped, 2 cancelled, 3 timeout. A run\nwaiting for a deployment review is said so once.",
        example: "cirelay github wait \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Wait,
        timeout_in_minutes: false,
    },
    Command {
        name: "cancel",
        args: &[RUN_ARG],
        flags: &[],
        env: &[],
        about: "cancel a run",
        details: "Asks GitHub to cancel the run; a run that already finished is left alone (\"nothing to cancel\",\nexit 0).",
        example: "cirelay github cancel \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Stop,
        timeout_in_minutes: false,
    },
    Command {
        name: "restart-latest",
        args: &[REPO_ARG, WORKFLOW_ARG],
        flags: &[
            BRANCH.help("the branch [default: $GITHUB_REF_NAME, else the repository's default branch]"),
            Flag::switch("--failed-only", "rerun only the failed jobs (and what depends on them)"),
            WAIT.help("wait for the new attempt and exit by its result"),
            FORCE.help("rerun even the run this job is part of (GITHUB_RUN_ID)"),
            LOGS,
            LOG_LINES,
        ],
        env: &[
            EnvVar::new(REF_NAME_VAR, "set by GitHub Actions: the default branch"),
            EnvVar::new(OWN_RUN_VAR, "set by GitHub Actions: the run this job is part of is not rerun unless --force"),
        ],
        about: "rerun the newest run of a workflow on a branch",
        details: "Reruns the newest run of WORKFLOW on the branch (POST …/rerun, or …/rerun-failed-jobs with\n--failed-only). The run keeps its id, which is printed; --wait follows its new attempt. A run\nstill in progress cannot be rerun: GitHub's refusal is shown (exit 5).",
        example: "cirelay github restart-latest acme/api ci.yml --branch main --failed-only --wait",
        verb: Verb::RestartLatest,
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[RUN_ARG],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print a run's job logs",
        details: "Prints each job's log to stderr under a header line (name, result, link) and exits like status;\n--failed only the failed jobs, their last --log-lines lines.",
        example: "cirelay github logs acme/deploy/9876543210 --failed",
        verb: Verb::Logs,
        timeout_in_minutes: false,
    },
    Command {
        name: "builds",
        args: &[REPO_ARG],
        flags: &[
            Flag::value("--workflow", "W", "only the runs of this workflow (its file name or id)"),
            BRANCH.help("only the runs of this branch"),
            Flag::value("--status", "S", "only runs with this status or conclusion (queued, in_progress, success, failure, …)"),
            Flag::value("--limit", "N", "at most this many runs, newest first").default("20"),
        ],
        env: &[],
        about: "list recent runs",
        details: "Lists the newest runs of the repository (of one workflow with --workflow), following pages of\n100 up to --limit: a table on stdout, or JSON Lines with --output json.",
        example: "cirelay github builds acme/api --workflow ci.yml --branch main --limit 5",
        verb: Verb::Builds,
        timeout_in_minutes: false,
    },
];

/// A repository, `OWNER/REPO`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl Repo {
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = || {
            Error::usage(format!(
                "OWNER/REPO must name a repository, e.g. acme/deploy, not `{}`",
                raw.escape_debug()
            ))
        };
        let (owner, name) = raw.trim().split_once('/').ok_or_else(bad)?;
        if !name_shaped(owner) || !name_shaped(name) {
            return Err(bad());
        }
        Ok(Repo {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// `repos/OWNER/REPO` as a request path, each part encoded.
    pub fn path(&self) -> String {
        format!(
            "/repos/{}/{}",
            crate::http::encode(&self.owner),
            crate::http::encode(&self.name)
        )
    }
}

impl std::fmt::Display for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// GitHub's account and repository names: letters, digits, `-`, `_` and `.`, and never only
/// dots (a path segment that climbs). The same check keeps them out of harm in links and
/// export files.
fn name_shaped(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 100
        && !part.chars().all(|c| c == '.')
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// One run, as commands name it: `OWNER/REPO/RUN_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    pub repo: Repo,
    pub id: u64,
    /// After a rerun: the attempt that was rerun. Readings of that attempt or an older one
    /// are what GitHub still shows before the new attempt starts, not its result.
    pub after_attempt: Option<u64>,
}

impl RunRef {
    pub fn new(repo: Repo, id: u64) -> Self {
        RunRef {
            repo,
            id,
            after_attempt: None,
        }
    }

    /// `OWNER/REPO/RUN_ID`, an API or web address of the run (with `/attempts/N` or
    /// `/job/ID` after it), or `github:OWNER/REPO/RUN_ID`.
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::usage(format!(
                "RUN must be OWNER/REPO/RUN_ID or the run's web address (https://github.com/OWNER/REPO/actions/runs/ID), not `{}`: {why}",
                raw.trim().escape_debug()
            ))
        };
        let text = raw.trim();
        let text = text.strip_prefix("github:").unwrap_or(text);
        let text = text.split(['?', '#']).next().unwrap_or(text);
        let (repo, id) = if text.contains("://") {
            let segments = WebAddress::parse(text)
                .map(|a| run_address(&a))
                .transpose()?
                .flatten()
                .ok_or_else(|| {
                    bad(&format!(
                        "it is not the address of a run on {} or {} (set {SERVER_VAR} or {API_VAR} for another GitHub)",
                        web_url().unwrap_or_else(|_| DEFAULT_SERVER.to_string()),
                        api_url().unwrap_or_else(|_| DEFAULT_API.to_string())
                    ))
                })?;
            segments
        } else {
            match text.rsplit_once('/') {
                Some((repo, id)) => (repo.to_string(), id.to_string()),
                None => return Err(bad("it names no repository")),
            }
        };
        let id = run_id(&id).ok_or_else(|| bad("RUN_ID is the run's number in its address"))?;
        let repo = Repo::parse(&repo).map_err(|_| bad("OWNER/REPO is not a repository"))?;
        Ok(RunRef::new(repo, id))
    }
}

impl std::fmt::Display for RunRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.repo, self.id)
    }
}

/// A run id: a positive whole number.
fn run_id(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|id| *id > 0)
}

/// `OWNER/REPO` and the run id of a run's address: its web page on this GitHub's web host
/// (`/OWNER/REPO/actions/runs/ID`, with `/attempts/N` or `/job/ID` after it) or its API
/// address (`…/repos/OWNER/REPO/actions/runs/ID`); `None` for anything else.
fn run_address(a: &WebAddress) -> Result<Option<(String, String)>> {
    let run = |rest: &[String]| match rest {
        [owner, repo, actions, runs, id, ..] if actions == "actions" && runs == "runs" => {
            Some((format!("{owner}/{repo}"), id.clone()))
        }
        _ => None,
    };
    // GitHub Enterprise Server serves both on one host, the API under /api/v3.
    if let Some(api) = WebAddress::parse(&api_url()?) {
        let mut prefix: Vec<&str> = api.segments.iter().map(String::as_str).collect();
        prefix.push("repos");
        if a.host == api.host {
            if let Some(found) = a.after(&prefix).and_then(run) {
                return Ok(Some(found));
            }
        }
    }
    Ok(a.on_host_of(&web_url()?)
        .then(|| run(&a.segments))
        .flatten())
}

/// `GITHUB_API_URL`, checked; GitHub's own API when unset.
pub fn api_url() -> Result<String> {
    let url = match env_first(&[API_VAR]) {
        Some((_, raw)) => {
            crate::url::Host::parse(
                API_VAR,
                &raw,
                "https://api.github.com (GitHub Enterprise Server: https://HOST/api/v3)",
            )?
            .url
        }
        None => DEFAULT_API.to_string(),
    };
    Ok(url)
}

/// Where links point: `GITHUB_SERVER_URL`, else the web host of `GITHUB_API_URL`.
pub fn web_url() -> Result<String> {
    match env_first(&[SERVER_VAR]) {
        Some((_, raw)) => Ok(crate::url::Host::parse(
            SERVER_VAR,
            &raw,
            "https://github.com (GitHub Enterprise Server: https://HOST)",
        )?
        .url),
        None => Ok(web_of(&api_url()?)),
    }
}

/// The web host of an API: `api.github.com` → `github.com`, GitHub Enterprise Server's
/// `HOST/api/v3` → `HOST`, GHE.com's `api.SUB.ghe.com` → `SUB.ghe.com`; else the same host.
pub fn web_of(api: &str) -> String {
    if let Some(host) = api.strip_suffix("/api/v3") {
        return host.to_string();
    }
    let (scheme, rest) = api.split_once("://").unwrap_or(("https", api));
    match rest.strip_prefix("api.") {
        Some(host) => format!("{scheme}://{host}"),
        None => api.to_string(),
    }
}

/// A workflow as the API takes it: its file name (`deploy.yml`, also given as
/// `.github/workflows/deploy.yml`) or its numeric id.
pub fn workflow(raw: &str) -> Result<String> {
    let text = raw.trim();
    let text = text.strip_prefix("./").unwrap_or(text);
    let text = text.strip_prefix(".github/workflows/").unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    let file = (lower.ends_with(".yml") || lower.ends_with(".yaml"))
        && !text.contains('/')
        && !text.chars().any(char::is_control)
        && text.len() > 4;
    if file || run_id(text).is_some() {
        Ok(text.to_string())
    } else {
        Err(Error::usage(format!(
            "WORKFLOW must be the workflow's file name (deploy.yml, under .github/workflows) or its numeric id, not `{}` (a workflow's display name is not accepted by GitHub's API)",
            raw.trim().escape_debug()
        )))
    }
}

/// What `github trigger` is asked to start, checked.
pub struct Dispatch {
    pub repo: Repo,
    pub workflow: String,
    /// `None`: the repository's default branch.
    pub git_ref: Option<String>,
    pub inputs: Map<String, Value>,
}

/// Where `github restart-latest` looks, and how it reruns.
pub struct Restart {
    pub repo: Repo,
    pub workflow: String,
    /// `None`: the repository's default branch.
    pub branch: Option<String>,
    pub failed_only: bool,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.branch {
            Some(b) => write!(f, "{} on `{b}` of {}", self.workflow, self.repo),
            None => write!(
                f,
                "{} on the default branch of {}",
                self.workflow, self.repo
            ),
        }
    }
}

/// Where `github builds` lists.
pub struct Listing {
    pub repo: Repo,
    pub workflow: Option<String>,
}

/// A ref or branch as the user gave it, refused when it could not be one (empty, a control
/// character).
fn git_ref(raw: &str, flag: &str) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() || text.chars().any(char::is_control) || text.len() > 255 {
        return Err(Error::usage(format!(
            "{flag} must be a branch or tag name, not `{}`",
            raw.escape_debug()
        )));
    }
    Ok(text.to_string())
}

impl Provider for GitHub {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "trigger, status, wait, cancel, restart-latest, logs, builds";
    const ENV: &'static [EnvVar] = &[
        EnvVar::new(
            "GITHUB_TOKEN",
            "required: a token (alias GH_TOKEN; the first set wins), sent as `Authorization: Bearer …`",
        ),
        EnvVar::new(
            API_VAR,
            "the API [https://api.github.com]; GitHub Enterprise Server: https://HOST/api/v3",
        ),
        EnvVar::new(
            SERVER_VAR,
            "where links point [https://github.com, or the web host of GITHUB_API_URL]",
        ),
    ];
    const COMMANDS: &'static [Command] = COMMANDS;

    type BuildRef = RunRef;
    type Start = Dispatch;
    type Scope = Restart;
    type Newest = api::Run;
    type ListScope = Listing;

    fn build_ref(raw: &str) -> Result<RunRef> {
        RunRef::parse(raw)
    }

    fn list_scope(args: &Args) -> Result<Listing> {
        Ok(Listing {
            repo: Repo::parse(args.positional(0).unwrap_or_default())?,
            workflow: args.given("--workflow").map(workflow).transpose()?,
        })
    }

    // Everything the user can get wrong is checked before the token is read.
    fn start_request(args: &Args) -> Result<Dispatch> {
        let repo = Repo::parse(args.positional(0).unwrap_or_default())?;
        let workflow = workflow(args.positional(1).unwrap_or_default())?;
        let git_ref = args
            .value("--ref")
            .map(|r| git_ref(r, "--ref"))
            .transpose()?;
        let mut inputs = Map::new();
        for raw in args.values("--input") {
            let (k, v) = parse_key_value(raw).map_err(|e| Error::usage(format!("--input {e}")))?;
            inputs.insert(k, Value::String(v));
        }
        if inputs.len() > MAX_INPUTS {
            return Err(Error::usage(format!(
                "--input was given for {} inputs; GitHub takes at most {MAX_INPUTS} (pass several values in one input, as JSON)",
                inputs.len()
            )));
        }
        Ok(Dispatch {
            repo,
            workflow,
            git_ref,
            inputs,
        })
    }

    fn scope(args: &Args) -> Result<Restart> {
        let branch = match args.given("--branch") {
            Some(b) => Some(git_ref(b, "--branch")?),
            None => env_first(&[REF_NAME_VAR])
                .map(|(var, b)| git_ref(&b, var))
                .transpose()?,
        };
        Ok(Restart {
            repo: Repo::parse(args.positional(0).unwrap_or_default())?,
            workflow: workflow(args.positional(1).unwrap_or_default())?,
            branch,
            failed_only: args.on("--failed-only"),
        })
    }

    fn connect(_ctx: &Ctx) -> Result<Self> {
        Ok(GitHub {
            api: Api::from_env()?,
        })
    }

    fn read(&self, ctx: &Ctx, run: &RunRef) -> Result<Reading> {
        runs::read(ctx, &self.api, run)
    }

    fn watch<'a>(&'a self, ctx: &Ctx, run: &RunRef) -> Result<Tracked<'a, RunRef>> {
        runs::watch(ctx, &self.api, run)
    }

    fn stop(&self, ctx: &Ctx, run: &RunRef) -> Result<(Build, Stopped)> {
        runs::cancel(ctx, &self.api, run)
    }

    fn start<'a>(&'a self, ctx: &Ctx, request: &Dispatch) -> Result<Tracked<'a, RunRef>> {
        runs::trigger(ctx, &self.api, request)
    }

    fn newest(&self, ctx: &Ctx, scope: &Restart) -> Result<(api::Run, Build)> {
        runs::newest(ctx, &self.api, scope)
    }

    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &Restart,
        newest: api::Run,
    ) -> Result<Tracked<'a, RunRef>> {
        runs::restart(ctx, &self.api, scope, newest)
    }

    fn builds(&self, ctx: &Ctx, scope: &Listing, filter: &Filter) -> Result<Vec<Listed>> {
        runs::list(ctx, &self.api, scope, filter)
    }

    fn logs<'a>(&'a self, _ctx: &Ctx, run: &RunRef) -> Result<Option<Box<dyn Logs + Send + 'a>>> {
        Ok(Some(Box::new(job_logs::JobLogs::new(&self.api, run))))
    }

    fn own_build() -> Option<(&'static str, String)> {
        env_first(&[OWN_RUN_VAR])
    }

    fn claims(address: &str) -> bool {
        WebAddress::parse(address)
            .and_then(|a| run_address(&a).ok().flatten())
            .is_some()
    }

    fn instead_of_own_restart(scope: &Restart) -> Option<String> {
        Some(format!(
            "use `cirelay github trigger {} {}` to start a new run instead",
            scope.repo, scope.workflow
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        let r = Repo::parse("acme/deploy.tools").unwrap();
        assert_eq!(
            (r.owner.as_str(), r.name.as_str()),
            ("acme", "deploy.tools")
        );
        assert_eq!(r.path(), "/repos/acme/deploy.tools");
        for bad in [
            "",
            "acme",
            "acme/",
            "/deploy",
            "acme/deploy/x",
            "acme/..",
            "../deploy",
            "acme/de ploy",
            "acme/deploy\nGITHUB_TOKEN=x",
            "ac%2Fme/deploy",
        ] {
            assert_eq!(Repo::parse(bad).unwrap_err().exit_code(), 4, "{bad:?}");
        }
    }

    #[test]
    fn runs_by_id_and_by_address() {
        let want = RunRef::new(Repo::parse("acme/deploy").unwrap(), 9876543210);
        for raw in [
            "acme/deploy/9876543210",
            " github:acme/deploy/9876543210 ",
            "https://github.com/acme/deploy/actions/runs/9876543210",
            "https://github.com/acme/deploy/actions/runs/9876543210/",
            "https://github.com/acme/deploy/actions/runs/9876543210/attempts/2",
            "https://github.com/acme/deploy/actions/runs/9876543210/job/123?pr=4#step:2:1",
            "https://api.github.com/repos/acme/deploy/actions/runs/9876543210",
        ] {
            assert_eq!(RunRef::parse(raw).unwrap(), want, "{raw}");
        }
        assert_eq!(want.to_string(), "acme/deploy/9876543210");
        for bad in [
            "9876543210",
            "acme/deploy/0",
            "acme/deploy/12x",
            "acme/deploy/-1",
            "acme/deploy/99999999999999999999999",
            "https://github.com/acme/deploy/pull/12",
            "https://evil.example/acme/deploy/actions/runs/1",
            "https://github.com.evil.example/acme/deploy/actions/runs/1",
            "acme/../1",
        ] {
            assert_eq!(RunRef::parse(bad).unwrap_err().exit_code(), 4, "{bad:?}");
        }
    }

    #[test]
    fn web_hosts_of_apis() {
        assert_eq!(web_of("https://api.github.com"), "https://github.com");
        assert_eq!(
            web_of("https://ghes.example.com/api/v3"),
            "https://ghes.example.com"
        );
        assert_eq!(
            web_of("https://api.octocorp.ghe.com"),
            "https://octocorp.ghe.com"
        );
        assert_eq!(web_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn workflows_are_file_names_or_ids() {
        assert_eq!(workflow("deploy.yml").unwrap(), "deploy.yml");
        assert_eq!(workflow(".github/workflows/ci.yaml").unwrap(), "ci.yaml");
        assert_eq!(workflow("161335").unwrap(), "161335");
        for bad in [
            "",
            "Deploy",
            ".yml",
            "a/b.yml",
            "../x.yml",
            "0",
            "x\u{1b}.yml",
        ] {
            assert_eq!(workflow(bad).unwrap_err().exit_code(), 4, "{bad:?}");
        }
    }
}
