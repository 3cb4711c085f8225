//! CircleCI API v2: trigger pipelines with typed parameters, wait on all their workflows,
//! cancel, restart-latest.
//!
//! A CircleCI pipeline has no result of its own: it is set up (`setup-pending` → `created`,
//! or `errored`; with dynamic config, `setup` while a setup workflow runs and continues it),
//! then its workflows appear, a little later, and each one finishes on its own. So "the
//! build" a user waits on is the pipeline, and its result is the result of every workflow
//! (see [`watch`]).

mod api;
mod commands;
mod insights;
mod logs;
mod watch;

use crate::build::{Build, Reading, Stopped, Tracked};
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{
    EnvVar, Flag, BRANCH, DETACH, FAILED_ONLY, FORCE, LIMIT, LIST_BRANCH, LIST_STATUS, LOGS,
    LOG_LINES, WAIT,
};
use crate::cli::{env_first, parse_key_value, typed_parameter};
use crate::error::{Error, Result};
use crate::listing::{Filter, Listed};
use crate::provider::{Command, Provider, Verb};
use crate::url::WebAddress;
use crate::Ctx;

#[cfg(fuzzing)]
pub(crate) use api::read_answers;
pub use api::Api;
#[cfg(fuzzing)]
pub(crate) use logs::read_output;

pub const TOKEN_VARS: &[&str] = &["CIRCLE_TOKEN", "CIRCLECI_TOKEN"];
pub const HOST_VAR: &str = "CIRCLECI_HOST";
pub const DEFAULT_HOST: &str = "https://circleci.com";
/// The pipeline this job runs in. CircleCI does not set it by itself: a job exports it from
/// the `<< pipeline.id >>` pipeline value (see the README).
pub const OWN_PIPELINE_VAR: &str = "CIRCLE_PIPELINE_ID";
const VCS_NAMES: &[&str] = &["gh", "github", "bb", "bitbucket", "circleci"];

pub const NAME: &str = "circleci";

/// CircleCI, connected with a personal API token.
pub struct CircleCi {
    api: Api,
}

const SLUG_ARG: Arg = Arg::optional("SLUG");

const COMMANDS: &[Command] = &[
    Command {
        name: "trigger",
        args: &[SLUG_ARG],
        flags: &[
            BRANCH.help("the branch to build [default: $CIRCLE_BRANCH, else the project's default branch]"),
            Flag::value("--tag", "T", "the tag to build (instead of a branch)"),
            Flag::value("--param", "K=V", "a pipeline parameter: true/false become booleans, integers numbers").repeats(),
            Flag::value("--param-string", "K=V", "a pipeline parameter that stays a string").repeats(),
            Flag::value("--definition-id", "UUID", "the pipeline definition to run (Project Settings → Pipelines); sends POST …/pipeline/run"),
            DETACH.help("print the pipeline's id and exit 0 without waiting"),
            LOGS,
            LOG_LINES,
        ],
        env: &[
            EnvVar::new("CIRCLE_PROJECT_USERNAME", "set by CircleCI: with CIRCLE_PROJECT_REPONAME, the default SLUG gh/ORG/REPO"),
            EnvVar::new("CIRCLE_PROJECT_REPONAME", "set by CircleCI"),
            EnvVar::new("CIRCLE_BRANCH", "set by CircleCI: the default branch"),
        ],
        about: "start a pipeline and wait until every workflow finished",
        details: "Starts a pipeline and waits until every workflow finished: exit 0 when all succeeded.\n--param values true/false become booleans and integers numbers; --param-string keeps a string.",
        example: "cirelay circleci trigger gh/acme/integration --branch main --param deploy=true",
        verb: Verb::Start,
        timeout_in_minutes: false,
    },
    Command {
        name: "status",
        args: &[Arg::required("PIPELINE_ID")],
        flags: &[],
        env: &[],
        about: "print a pipeline's overall status",
        details: "Prints the pipeline's overall word on stdout and each workflow on stderr; exits like wait\nwould for a finished pipeline (0 while it runs).\nPIPELINE_ID is the pipeline's UUID or its web address (https://app.circleci.com/pipelines/SLUG/NUMBER).",
        example: "S=$(cirelay circleci status 5034460f-c7c4-4c43-9457-de07e2029e7b)",
        verb: Verb::Status,
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[Arg::required("PIPELINE_ID")],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "wait until every workflow of a pipeline finished",
        details: "Waits until every workflow of the pipeline finished and exits by the pipeline's result.\nPIPELINE_ID is the pipeline's UUID or its web address (https://app.circleci.com/pipelines/SLUG/NUMBER).",
        example: "cirelay circleci wait \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Wait,
        timeout_in_minutes: false,
    },
    Command {
        name: "cancel",
        args: &[Arg::required("PIPELINE_ID")],
        flags: &[],
        env: &[],
        about: "cancel every workflow of a pipeline still going",
        details: "Cancels every workflow of the pipeline that has not finished, a setup workflow too.\nPIPELINE_ID is the pipeline's UUID or its web address (https://app.circleci.com/pipelines/SLUG/NUMBER).",
        example: "cirelay circleci cancel \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Stop,
        timeout_in_minutes: false,
    },
    Command {
        name: "restart-latest",
        args: &[SLUG_ARG],
        flags: &[
            BRANCH.help("the branch [default: $CIRCLE_BRANCH]"),
            Flag::switch("--from-failed", "rerun only the failed workflows, from their failed jobs"),
            WAIT,
            FORCE.help("rerun even the pipeline this job runs in (CIRCLE_PIPELINE_ID)"),
            LOGS,
            LOG_LINES,
        ],
        env: &[
            EnvVar::new("CIRCLE_BRANCH", "set by CircleCI: the default branch"),
            EnvVar::new(OWN_PIPELINE_VAR, "not set by CircleCI: set it to << pipeline.id >> so the pipeline this job runs in is not rerun"),
        ],
        about: "rerun the workflows of the newest pipeline on the branch",
        details: "Reruns the workflows of the newest pipeline on the branch.",
        example: "cirelay circleci restart-latest gh/acme/app --branch main --from-failed --wait",
        verb: Verb::RestartLatest,
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[Arg::required("PIPELINE_ID")],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print a build's log",
        details: "Prints each job's steps to stderr under a header line (name, result, link) and exits like\nstatus; --failed only the failed steps, their last --log-lines lines.\nPIPELINE_ID is the pipeline's UUID or its web address (https://app.circleci.com/pipelines/SLUG/NUMBER).",
        example: "cirelay circleci logs \"$CIRELAY_BUILD_ID\" --failed",
        verb: Verb::Logs,
        timeout_in_minutes: false,
    },
    Command {
        name: "builds",
        args: &[SLUG_ARG],
        flags: &[LIST_BRANCH, LIST_STATUS.help("only pipelines whose overall word (as `status` prints it: success, failed, running, …) is S"), LIMIT],
        env: &[
            EnvVar::new("CIRCLE_PROJECT_USERNAME", "set by CircleCI: with CIRCLE_PROJECT_REPONAME, the default SLUG gh/ORG/REPO"),
            EnvVar::new("CIRCLE_PROJECT_REPONAME", "set by CircleCI"),
        ],
        about: "list recent pipelines, for dashboards",
        details: "Lists the project's newest pipelines with the result of their workflows (GET\n/api/v2/project/SLUG/pipeline, page by page, and each pipeline's workflows) as a table on stdout,\nor with --output json one JSON object per line, the same keys for every provider.",
        example: "cirelay circleci builds gh/acme/app --branch main --limit 20 --output json",
        verb: Verb::Builds,
        timeout_in_minutes: false,
    },
    Command {
        name: "insights",
        args: &[SLUG_ARG],
        flags: &[
            Flag::value("--workflow", "NAME", "the jobs of this workflow instead of the project's workflows"),
            BRANCH.help("the branch [default: CircleCI's, the project's default branch]"),
            Flag::value("--reporting-window", "W", "last-24-hours, last-7-days, last-30-days, last-60-days or last-90-days [default: CircleCI's, last-90-days]"),
        ],
        env: &[],
        about: "success rate, throughput and duration of each workflow (or job)",
        details: "Prints CircleCI's insights (GET /api/v2/insights/SLUG/workflows, or …/workflows/NAME/jobs with\n--workflow): success rate, total runs, throughput (runs a day), duration p50 and p95, as a table,\nor with --output json one object per line.",
        example: "cirelay circleci insights gh/acme/app --workflow build-and-test --branch main",
        verb: Verb::Own(insights::insights),
        timeout_in_minutes: false,
    },
];

impl Provider for CircleCi {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "trigger, status, wait, cancel, restart-latest";
    const ENV: &'static [EnvVar] = &[
        EnvVar::new(
            "CIRCLE_TOKEN",
            "required: a personal API token (alias CIRCLECI_TOKEN), sent as Circle-Token",
        ),
        EnvVar::new(HOST_VAR, "CircleCI server [https://circleci.com]"),
    ];
    const COMMANDS: &'static [Command] = COMMANDS;

    type BuildRef = PipelineRef;
    type Start = commands::Trigger;
    type Scope = commands::Restart;
    type Newest = api::Pipeline;

    type ListScope = Slug;

    fn list_scope(args: &Args) -> Result<Slug> {
        Slug::resolve(args.positional(0))
    }

    fn builds(&self, ctx: &Ctx, slug: &Slug, filter: &Filter) -> Result<Vec<Listed>> {
        insights::builds(ctx, &self.api, slug, filter)
    }

    fn build_ref(raw: &str) -> Result<PipelineRef> {
        PipelineRef::parse(raw)
    }

    // Everything the user can get wrong is checked before the token is needed.
    fn start_request(args: &Args) -> Result<commands::Trigger> {
        let (branch, tag) = (args.value("--branch"), args.value("--tag"));
        if branch.is_some() && tag.is_some() {
            return Err(Error::usage(
                "circleci trigger takes --branch or --tag, not both",
            ));
        }
        let mut parameters = serde_json::Map::new();
        for raw in args.values("--param") {
            let (k, v) = parse_key_value(raw).map_err(|e| Error::usage(format!("--param {e}")))?;
            parameters.insert(k, typed_parameter(&v));
        }
        for raw in args.values("--param-string") {
            let (k, v) =
                parse_key_value(raw).map_err(|e| Error::usage(format!("--param-string {e}")))?;
            parameters.insert(k, serde_json::Value::String(v));
        }
        let slug = Slug::resolve(args.positional(0))?;
        let git_ref = GitRef::resolve(branch.map(String::from), tag.map(String::from));
        let definition_id = args.value("--definition-id").map(str::to_string);
        if let Some(id) = &definition_id {
            if !is_uuid(id) {
                return Err(Error::usage(format!(
                    "--definition-id must be the pipeline definition's UUID (Project Settings → Pipelines), not `{id}`"
                )));
            }
        }
        Ok(commands::Trigger {
            slug,
            git_ref,
            definition_id,
            parameters,
        })
    }

    fn scope(args: &Args) -> Result<commands::Restart> {
        let slug = Slug::resolve(args.positional(0))?;
        let branch = args
            .given("--branch")
            .map(str::to_string)
            .or_else(|| env_first(&["CIRCLE_BRANCH"]).map(|(_, b)| b))
            .ok_or_else(|| {
                Error::usage(
                    "no branch: pass --branch B (inside a CircleCI job it defaults to $CIRCLE_BRANCH)",
                )
            })?;
        Ok(commands::Restart {
            slug,
            branch,
            from_failed: args.on("--from-failed"),
        })
    }

    fn connect(_ctx: &Ctx) -> Result<Self> {
        Ok(CircleCi {
            api: Api::from_env()?,
        })
    }

    fn read(&self, ctx: &Ctx, pipeline: &PipelineRef) -> Result<Reading> {
        commands::read(ctx, &self.api, self.pipeline(ctx, pipeline)?)
    }

    fn watch<'a>(&'a self, ctx: &Ctx, pipeline: &PipelineRef) -> Result<Tracked<'a, PipelineRef>> {
        let found = self.pipeline(ctx, pipeline)?;
        Ok(commands::watch(&self.api, found).named(PipelineRef::Id))
    }

    fn stop(&self, ctx: &Ctx, pipeline: &PipelineRef) -> Result<(Build, Stopped)> {
        commands::cancel(ctx, &self.api, self.pipeline(ctx, pipeline)?)
    }

    fn start<'a>(
        &'a self,
        ctx: &Ctx,
        request: &commands::Trigger,
    ) -> Result<Tracked<'a, PipelineRef>> {
        Ok(commands::trigger(ctx, &self.api, request)?.named(PipelineRef::Id))
    }

    fn newest(&self, ctx: &Ctx, scope: &commands::Restart) -> Result<(api::Pipeline, Build)> {
        commands::newest(ctx, &self.api, scope)
    }

    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &commands::Restart,
        newest: api::Pipeline,
    ) -> Result<Tracked<'a, PipelineRef>> {
        Ok(commands::restart(ctx, &self.api, scope, newest)?.named(PipelineRef::Id))
    }

    fn logs<'a>(
        &'a self,
        ctx: &Ctx,
        pipeline: &PipelineRef,
    ) -> Result<Option<Box<dyn crate::logs::Logs + Send + 'a>>> {
        // The jobs are listed by the pipeline's id: a web address gives its number.
        let id = match pipeline {
            PipelineRef::Id(id) => id.clone(),
            PipelineRef::Numbered { .. } => self.pipeline(ctx, pipeline)?.id,
        };
        Ok(Some(Box::new(logs::PipelineLog::new(&self.api, &id))))
    }

    fn own_build() -> Option<(&'static str, String)> {
        env_first(&[OWN_PIPELINE_VAR])
    }

    fn claims(address: &str) -> bool {
        let Ok(host) = api::host() else {
            return false;
        };
        WebAddress::parse(address)
            .filter(|a| a.on_host_of(&app_url(&host)))
            .and_then(|a| numbered(&a))
            .is_some_and(|found| found.is_ok())
    }
}

impl CircleCi {
    /// The pipeline a reference names, read: by its id, or by its project and number.
    fn pipeline(&self, ctx: &Ctx, pipeline: &PipelineRef) -> Result<api::Pipeline> {
        match pipeline {
            PipelineRef::Id(id) => self.api.pipeline(ctx, id),
            PipelineRef::Numbered { slug, number } => {
                self.api.numbered_pipeline(ctx, slug, *number)
            }
        }
    }
}

/// A pipeline as commands name it: its id, or its address in the web app, which names the
/// project and the pipeline's number (one read finds the id). An address is what people
/// copy from the browser or from `$CIRELAY_BUILD_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineRef {
    Id(String),
    Numbered { slug: Slug, number: u64 },
}

impl PipelineRef {
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        if !raw.contains("://") {
            return pipeline_id(raw).map(PipelineRef::Id);
        }
        let app = app_url(&api::host()?);
        let not_one = || {
            Error::usage(format!(
                "`{raw}` is not a pipeline's address in CircleCI's web app at {app}: expected {app}/pipelines/VCS/ORG/REPO/NUMBER (a workflow's or job's address under it works too; {HOST_VAR} names another CircleCI server)"
            ))
        };
        WebAddress::parse(raw)
            .filter(|a| a.on_host_of(&app))
            .and_then(|a| numbered(&a))
            .ok_or_else(not_one)?
    }
}

/// The project and number of `…/pipelines/VCS/ORG/REPO/NUMBER[/workflows/ID[/jobs/N]]`;
/// `None` for an address of anything else.
fn numbered(a: &WebAddress) -> Option<Result<PipelineRef>> {
    let [pipelines, vcs, org, repo, number, ..] = a.segments.as_slice() else {
        return None;
    };
    if pipelines != "pipelines" {
        return None;
    }
    let number = number.parse::<u64>().ok()?;
    Some(
        Slug::parse(&format!("{vcs}/{org}/{repo}"))
            .map(|slug| PipelineRef::Numbered { slug, number }),
    )
}

/// A project slug `VCS/ORG/REPO`: `gh/acme/app`, or `circleci/<org-id>/<project-id>` for
/// GitHub App and GitLab projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug {
    pub vcs: String,
    pub org: String,
    pub repo: String,
}

impl Slug {
    /// The SLUG argument, else the project this CircleCI job builds.
    pub fn resolve(arg: Option<&str>) -> Result<Self> {
        if let Some(raw) = arg {
            return Self::parse(raw);
        }
        match (
            env_first(&["CIRCLE_PROJECT_USERNAME"]),
            env_first(&["CIRCLE_PROJECT_REPONAME"]),
        ) {
            (Some((_, org)), Some((_, repo))) => Self::parse(&format!("gh/{org}/{repo}")),
            _ => Err(Error::usage(
                "no project: pass SLUG as VCS/ORG/REPO (e.g. gh/my-org/my-repo); inside a CircleCI job it defaults to gh/$CIRCLE_PROJECT_USERNAME/$CIRCLE_PROJECT_REPONAME",
            )),
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        let bad = || {
            Error::usage(format!(
                "project slug `{raw}` must be VCS/ORG/REPO with VCS one of {} (e.g. gh/my-org/my-repo)",
                VCS_NAMES.join(", ")
            ))
        };
        let parts: Vec<&str> = raw.trim().split('/').collect();
        let [vcs, org, repo] = parts.as_slice() else {
            return Err(bad());
        };
        if [org, repo].iter().any(|p| matches!(**p, "." | "..")) {
            return Err(Error::usage(format!(
                "project slug `{raw}`: ORG and REPO are the names of an organization and a repository (e.g. gh/my-org/my-repo), not `.` or `..`"
            )));
        }
        if !VCS_NAMES.contains(vcs) || !usable_slug_part(org) || !usable_slug_part(repo) {
            return Err(bad());
        }
        Ok(Slug {
            vcs: vcs.to_string(),
            org: org.to_string(),
            repo: repo.to_string(),
        })
    }

    /// Only the GitHub App / GitLab kind of project has to be triggered through
    /// `pipeline/run`: the older endpoint does not know it.
    pub fn needs_pipeline_run(&self) -> bool {
        self.vcs == "circleci"
    }

    /// The slug in a URL path: three segments, each encoded, the slashes kept.
    pub fn path(&self) -> String {
        use crate::http::encode;
        format!(
            "{}/{}/{}",
            encode(&self.vcs),
            encode(&self.org),
            encode(&self.repo)
        )
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.vcs, self.org, self.repo)
    }
}

/// A part of a slug that can stand in a request path and an exported URL: not empty, not
/// `.` or `..` (a path segment that climbs out of the project), and without a control
/// character (it would end the line of a CI export file).
pub(crate) fn usable_slug_part(part: &str) -> bool {
    !part.trim().is_empty() && !matches!(part, "." | "..") && !part.chars().any(char::is_control)
}

/// What to build: a branch, a tag, or (neither) the project's default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    Branch(String),
    Tag(String),
    Default,
}

impl GitRef {
    /// `--branch` or `--tag` (the CLI already refuses both), else `$CIRCLE_BRANCH`.
    pub fn resolve(branch: Option<String>, tag: Option<String>) -> Self {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        if let Some(t) = given(tag) {
            return GitRef::Tag(t);
        }
        match given(branch).or_else(|| env_first(&["CIRCLE_BRANCH"]).map(|(_, b)| b)) {
            Some(b) => GitRef::Branch(b),
            None => GitRef::Default,
        }
    }

    /// `{"branch": B}`, `{"tag": T}` or nothing: the shape every trigger body uses.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        match self {
            GitRef::Branch(b) => {
                map.insert("branch".into(), b.clone().into());
            }
            GitRef::Tag(t) => {
                map.insert("tag".into(), t.clone().into());
            }
            GitRef::Default => {}
        }
        map
    }

    pub fn describe(&self) -> String {
        match self {
            GitRef::Branch(b) => format!("branch {b}"),
            GitRef::Tag(t) => format!("tag {t}"),
            GitRef::Default => "the default branch".to_string(),
        }
    }
}

/// Pipeline ids are UUIDs; a pipeline *number* (`25`) is the usual mistake.
fn pipeline_id(raw: &str) -> Result<String> {
    let raw = raw.trim().to_string();
    if is_uuid(&raw) {
        Ok(raw)
    } else {
        Err(Error::usage(format!(
            "PIPELINE_ID must be the pipeline's UUID (what `cirelay circleci trigger` prints) or its web address, not `{raw}`"
        )))
    }
}

pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where people look at pipelines for an API host. CircleCI cloud's web app is
/// `app.circleci.com`; a CircleCI server installation serves its web app on `app.<domain>`.
/// A host given as an IP address, `localhost` or already `app.…` has no such sibling, so
/// links point at the host itself.
pub fn app_url(host: &str) -> String {
    let (scheme, rest) = host.split_once("://").unwrap_or(("https", host));
    let authority = rest.split('/').next().unwrap_or(rest);
    let hostname = if authority.starts_with('[') {
        authority // an IPv6 literal
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    if matches!(hostname, "circleci.com" | "www.circleci.com") {
        return "https://app.circleci.com".to_string();
    }
    let literal = hostname.starts_with('[') || hostname.parse::<std::net::IpAddr>().is_ok();
    if literal || hostname == "localhost" || hostname.starts_with("app.") {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://app.{authority}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_name_a_pipeline_by_project_and_number() {
        let at = |raw: &str| numbered(&WebAddress::parse(raw).unwrap());
        for (raw, vcs) in [
            ("https://app.circleci.com/pipelines/gh/acme/app/12", "gh"),
            (
                "https://app.circleci.com/pipelines/github/acme/app/12/workflows/0e530003-521a-4c40-9042-000000000003/jobs/7?tab=tests",
                "github",
            ),
        ] {
            let slug = Slug::parse(&format!("{vcs}/acme/app")).unwrap();
            assert_eq!(
                at(raw).unwrap().unwrap(),
                PipelineRef::Numbered { slug, number: 12 }
            );
        }
        for other in [
            "https://app.circleci.com/pipelines/gh/acme/app",
            "https://app.circleci.com/pipelines/gh/acme/app/latest",
            "https://app.circleci.com/settings/project/gh/acme/app",
        ] {
            assert!(at(other).is_none(), "{other}");
        }
        assert!(at("https://app.circleci.com/pipelines/svn/acme/app/3")
            .unwrap()
            .is_err());
        // CircleCI cloud's web app, when no server is named.
        if std::env::var_os(HOST_VAR).is_none() {
            assert!(CircleCi::claims(
                "https://app.circleci.com/pipelines/gh/acme/app/12"
            ));
            assert!(!CircleCi::claims("https://circleci.com/gh/acme/app/12"));
            assert!(!CircleCi::claims(
                "https://app.circleci.example.com/pipelines/gh/acme/app/12"
            ));
        }
    }

    fn trigger_args(line: &[&str]) -> Result<commands::Trigger> {
        let args: Vec<std::ffi::OsString> = ["circleci", "trigger"]
            .iter()
            .chain(line)
            .map(std::ffi::OsString::from)
            .collect();
        match crate::cli::parse(crate::cli::Personality::CIRELAY, args)? {
            crate::cli::Action::Run(_, i) => CircleCi::start_request(&i.args),
            _ => panic!("{line:?}: not a command"),
        }
    }

    #[test]
    fn circleci_parameters_are_typed() {
        let t = trigger_args(&[
            "gh/o/r",
            "--param",
            "deploy=true",
            "--param",
            "n=3",
            "--param-string",
            "s=3",
        ])
        .unwrap();
        assert_eq!(t.slug.to_string(), "gh/o/r");
        assert_eq!(t.parameters["deploy"], serde_json::Value::Bool(true));
        assert_eq!(t.parameters["n"], serde_json::Value::from(3));
        assert_eq!(t.parameters["s"], serde_json::Value::from("3"));
    }

    #[test]
    fn branch_and_tag_are_not_both_given() {
        let err = trigger_args(&["gh/o/r", "--branch", "a", "--tag", "b"])
            .err()
            .unwrap();
        assert_eq!(err.exit_code(), 4);
    }

    #[test]
    fn slugs() {
        let s = Slug::parse("gh/acme/app").unwrap();
        assert_eq!(s.to_string(), "gh/acme/app");
        assert_eq!(s.path(), "gh/acme/app");
        assert!(!s.needs_pipeline_run());
        for vcs in ["github", "bb", "bitbucket", "circleci"] {
            assert!(Slug::parse(&format!("{vcs}/o/r")).is_ok(), "{vcs}");
        }
        assert!(Slug::parse("circleci/org-id/proj-id")
            .unwrap()
            .needs_pipeline_run());
        assert_eq!(
            Slug::parse("gh/my org/r#1").unwrap().path(),
            "gh/my%20org/r%231"
        );
        for bad in [
            "",
            "acme/app",
            "gh/acme/app/x",
            "gitlab/acme/app",
            "gh//app",
            "gh/acme/",
            "GH/acme/app",
            "gh/acme/..",
            "gh/../app",
            "gh/./app",
            "gh/acme/.",
            "circleci/./..",
            "gh/acme/app\nCIRCLE_TOKEN=x",
            "gh/ac\x1bme/app",
        ] {
            let err = Slug::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 4, "{bad:?}");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("5034460f-c7c4-4c43-9457-de07e2029e7b"));
        assert!(is_uuid("5034460F-C7C4-4C43-9457-DE07E2029E7B"));
        for bad in [
            "25",
            "5034460f-c7c4-4c43-9457-de07e2029e7",
            "5034460f-c7c4-4c43-9457de07e2029e7b",
            "g034460f-c7c4-4c43-9457-de07e2029e7b",
            "",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn web_app_urls_follow_the_host() {
        assert_eq!(app_url("https://circleci.com"), "https://app.circleci.com");
        assert_eq!(
            app_url("https://www.circleci.com"),
            "https://app.circleci.com"
        );
        assert_eq!(
            app_url("https://circleci.example.com"),
            "https://app.circleci.example.com"
        );
        assert_eq!(
            app_url("https://app.circleci.example.com/"),
            "https://app.circleci.example.com"
        );
        assert_eq!(
            app_url("https://ci.example.com:8443/base"),
            "https://app.ci.example.com:8443"
        );
        assert_eq!(app_url("http://127.0.0.1:4000"), "http://127.0.0.1:4000");
        assert_eq!(app_url("http://localhost:4000"), "http://localhost:4000");
        assert_eq!(app_url("http://[::1]:4000"), "http://[::1]:4000");
    }

    #[test]
    fn git_ref_bodies() {
        assert_eq!(
            serde_json::Value::Object(GitRef::Branch("main".into()).fields()),
            serde_json::json!({"branch": "main"})
        );
        assert_eq!(
            serde_json::Value::Object(GitRef::Tag("v1".into()).fields()),
            serde_json::json!({"tag": "v1"})
        );
        assert!(GitRef::Default.fields().is_empty());
    }
}
