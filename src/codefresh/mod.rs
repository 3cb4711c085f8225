//! Codefresh: `codefresh run` as a drop-in for the Codefresh CLI (same flags, same exit
//! codes: 0 success, 1 error, 2 terminated), and wait, status, terminate, restart-latest.

mod api;
mod cfconfig;
mod firebase;
mod format;
mod logs;
mod resources;
mod spec;
mod wait;

#[cfg(fuzzing)]
pub(crate) use api::read_answers;
use api::{state_of, Api, RunRequest, BUILD_ID_VAR, KEY_VAR, URL_VAR};
#[cfg(fuzzing)]
pub(crate) use logs::read_log_answers;
#[cfg(fuzzing)]
pub(crate) use spec::read_spec;

use crate::build::{Build, Reading, Stopped, Tracked, Watch};
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{
    EnvVar, Flag, BRANCH, DETACH, FAILED_ONLY, FORCE, LIMIT, LIST_BRANCH, LIST_STATUS, LOGS,
    LOG_LINES, SPEC_FILE, TIMEOUT, WAIT,
};
use crate::cli::{env_first, parse_key_value, read_var_file};
use crate::error::{Error, Result};
use crate::http::PageBudget;
use crate::listing::{self, Filter, Listed};
use crate::logs::LogMode;
use crate::output;
use crate::provider::{Command, Provider, Verb};
use crate::url::WebAddress;
use crate::wait::{BuildState, Observation};
use crate::Ctx;

pub const NAME: &str = "codefresh";

pub struct Codefresh {
    api: Api,
}

/// The Codefresh CLI's `-o`, for the commands that print resources as it does.
const CLI_OUTPUT: Flag = Flag::value(
    "--output",
    "FORMAT",
    "json, yaml, wide, id, name, jsonArray or yamlArray, as in the Codefresh CLI; a table when left out",
)
.short("-o");
const CLI_LIMIT: Flag = LIMIT.short("-l").default("25");
const SKIP_TRIGGER_VALIDATION: Flag = Flag::switch(
    "--skip-trigger-validation",
    "let Codefresh take triggers it cannot check (as the Codefresh CLI's flag)",
);
/// Builds listed per request while `builds` follows pages.
const LIST_PAGE: usize = 50;

const CF_BRANCH: Flag = BRANCH.short("-b");
const RUN_FLAGS: &[Flag] = &[
    CF_BRANCH.help("the branch to build (the trigger's default branch when left out)"),
    Flag::value("--sha", "SHA", "the commit to build").short("-s"),
    Flag::value(
        "--trigger",
        "TRIGGER",
        "the pipeline trigger to run (its repository and settings)",
    )
    .short("-t"),
    Flag::value(
        "--variable",
        "KEY=VALUE",
        "a build variable; the value is everything after the first `=`",
    )
    .short("-v")
    .repeats(),
    Flag::value(
        "--var-file",
        "FILE",
        "variables from a JSON object or KEY=VALUE lines; -v overrides them",
    ),
    Flag::value(
        "--context",
        "CONTEXT",
        "a shared configuration context to attach",
    )
    .short("-c")
    .repeats(),
    Flag::switch("--no-cache", "ignore the last build's cache"),
    Flag::switch("--no-cf-cache", "ignore Codefresh's Docker layer cache"),
    Flag::switch("--reset-volume", "start on an empty shared volume"),
    Flag::switch(
        "--enable-notifications",
        "send the pipeline's notifications for this build",
    ),
    Flag::value("--skip", "STEP", "skip this step").repeats(),
    Flag::value("--only", "STEP", "run only this step").repeats(),
    DETACH.short("-d"),
    Flag::switch(
        "--terminate-on-timeout",
        "terminate the build when --timeout is reached (the exit code stays 3)",
    ),
    LOGS.default("follow"),
    LOG_LINES,
];

const COMMANDS: &[Command] = &[
    Command {
        name: "run",
        args: &[Arg::required("PIPELINE")],
        flags: RUN_FLAGS,
        env: &[EnvVar::new(
            BUILD_ID_VAR,
            "set by Codefresh: the new build is annotated cf_predecessor=<id>, as the Codefresh CLI does",
        )],
        about: "start a pipeline build and wait for it",
        details: "Starts PIPELINE (`project/pipeline` or its id) and waits for the build: exit 0 success,\n1 error, 2 terminated, 3 timeout. A variable's value is everything after the first `=`.\n--var-file is a JSON object or KEY=VALUE lines; -v overrides it.",
        example: "codefresh run acme/pipeline-b -b=main -t pipeline-b-trigger -v IMAGE_TAG=1.4.2",
        verb: Verb::Start,
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[Arg::many("ID")],
        flags: &[
            Flag::value("--status", "S", "the status every build must reach").short("-s").default("success"),
            TIMEOUT.short("-t").help("limit for waiting; under the `codefresh` name a bare number counts minutes (0.5 too), as in the Codefresh CLI; 90s or 5m mean what they say"),
            // The Codefresh CLI's "show each status" switches: cirelay always does.
            Flag::switch("-v", "accepted from the Codefresh CLI: each status change is always shown"),
            Flag::switch("-d", "accepted from the Codefresh CLI, as -v"),
            Flag::switch("--debug", "accepted from the Codefresh CLI, as -v"),
            LOGS.default("follow"),
            LOG_LINES,
        ],
        env: &[],
        about: "wait until every build reaches S [success]",
        details: "Waits until every build reaches status S (default success); a build that finishes otherwise\nends the wait with its own code. Under the `codefresh` name a bare number given to\n-t/--timeout counts minutes (0.5 too), as in the Codefresh CLI; 90s or 5m mean what they say.\nThe Codefresh CLI's -v/-d/--debug are accepted: each status change is always shown.",
        example: "codefresh wait 5f1a2b3c4d5e6f7a8b9c0d1e -t 30",
        verb: Verb::Own(wait::wait),
        timeout_in_minutes: true,
    },
    Command {
        name: "status",
        args: &[Arg::required("ID")],
        flags: &[],
        env: &[],
        about: "print a build's status",
        details: "Prints the status word on stdout, the pipeline, branch and link on stderr, and exits like\nwait would for a finished build (0 while it runs).",
        example: "S=$(codefresh status 5f1a2b3c4d5e6f7a8b9c0d1e)",
        verb: Verb::Status,
        timeout_in_minutes: false,
    },
    Command {
        name: "terminate",
        args: &[Arg::required("ID")],
        flags: &[],
        env: &[],
        about: "terminate a build",
        details: "Terminates a running build (deletes its progress job); a finished build is left alone.",
        example: "codefresh terminate 5f1a2b3c4d5e6f7a8b9c0d1e",
        verb: Verb::Stop,
        timeout_in_minutes: false,
    },
    Command {
        name: "restart-latest",
        args: &[Arg::required("PIPELINE")],
        flags: &[
            CF_BRANCH.help("the newest build on this branch [default: on any branch]"),
            WAIT,
            FORCE,
            LOGS.default("follow"),
            LOG_LINES,
        ],
        env: &[EnvVar::new(BUILD_ID_VAR, "set by Codefresh: the build this step runs in is not rebuilt unless --force")],
        about: "rebuild the newest build of the pipeline",
        details: "Rebuilds the newest build of PIPELINE (on BRANCH when given) and prints the new build's id.",
        example: "codefresh restart-latest acme/pipeline-b -b main --wait",
        verb: Verb::RestartLatest,
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[Arg::required("ID")],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print a build's log",
        details: "Prints each step's log to stderr under a header line (name, result, link) and exits like\nstatus; --failed only the failed steps, their last --log-lines lines.",
        example: "codefresh logs 5f1a2b3c4d5e6f7a8b9c0d1e --failed",
        verb: Verb::Logs,
        timeout_in_minutes: false,
    },
    Command {
        name: "builds",
        args: &[],
        flags: &[
            Flag::value("--pipeline", "NAME", "only builds of this pipeline (`project/pipeline` or its id) [default: every pipeline of the account]"),
            LIST_BRANCH,
            LIST_STATUS,
            LIMIT,
        ],
        env: &[],
        about: "list recent builds, for dashboards",
        details: "Lists the newest builds (of PIPELINE when given) as a table on stdout, or with --output json\none JSON object per line, the same keys for every provider: provider, id, number, pipeline,\nbranch, commit, status, result, created_at, finished_at, duration_s, url. Pages are followed\nup to --limit.",
        example: "codefresh builds --pipeline acme/deploy --branch main --limit 50 --output json",
        verb: Verb::Builds,
        timeout_in_minutes: false,
    },
    Command {
        name: "get builds",
        args: &[Arg::optional_many("ID")],
        flags: &[
            CLI_OUTPUT,
            Flag::value("--pipeline-name", "NAME", "only builds of this pipeline").repeats(),
            Flag::value("--pipeline-id", "ID", "only builds of the pipeline with this id").repeats(),
            LIST_BRANCH.short("-b").repeats(),
            Flag::value("--status", "S", "only builds in this status").short("-s").repeats(),
            Flag::value("--commit-id", "SHA", "only builds of this commit").short("-r").repeats(),
            CLI_LIMIT,
            Flag::value("--page", "N", "the page of the list").short("-p").default("1"),
        ],
        env: &[],
        about: "show builds as the Codefresh CLI does",
        details: "With IDs, those builds (GET /api/builds/ID); without, the newest builds that pass the\nfilters (GET /api/workflow), one page of --limit. The table has the Codefresh CLI's columns;\n-o json|yaml prints its build objects.",
        example: "codefresh get builds 5f1a2b3c4d5e6f7a8b9c0d1e -o json",
        verb: Verb::Own(resources::get_builds),
        timeout_in_minutes: false,
    },
    Command {
        name: "get pipeline",
        args: &[Arg::optional_many("NAME")],
        flags: &[CLI_OUTPUT, CLI_LIMIT],
        env: &[],
        about: "show pipelines, or a pipeline's spec",
        details: "With -o yaml or -o json, the spec of each pipeline (version, kind, metadata, spec) exactly\nas `codefresh create -f`, `replace -f` and `apply -f` take it back; a table of names and\ndates otherwise. Without NAME, the account's pipelines (--limit).",
        example: "codefresh get pipeline acme/deploy -o yaml > spec.yml",
        verb: Verb::Own(resources::get_pipeline),
        timeout_in_minutes: false,
    },
    Command {
        name: "create project",
        args: &[Arg::required("NAME")],
        flags: &[Flag::value("--tag", "TAG", "a tag of the project").short("-t").repeats()],
        env: &[],
        about: "create a project",
        details: "Creates the project (POST /api/projects); a project of that name is refused (exit 5).",
        example: "codefresh create project acme",
        verb: Verb::Own(resources::create_project),
        timeout_in_minutes: false,
    },
    Command {
        name: "create",
        args: &[],
        flags: &[SPEC_FILE],
        env: &[],
        about: "create the pipeline or project a spec file describes",
        details: "Reads FILE (YAML or JSON; `kind: pipeline` or `kind: project`), checks it (exit 4 naming the\nline and the field, before anything is sent) and creates it. A pipeline that exists is refused\nwith Codefresh's message (exit 5): `replace -f` or `apply -f` changes it.",
        example: "codefresh create -f spec.yml",
        verb: Verb::Own(resources::create_any),
        timeout_in_minutes: false,
    },
    Command {
        name: "create pipeline",
        args: &[],
        flags: &[SPEC_FILE],
        env: &[],
        about: "create a pipeline from a spec file",
        details: "Reads FILE (YAML or JSON, `kind: pipeline`), checks it (exit 4 naming the line and the\nfield, before anything is sent) and creates the pipeline (POST /api/pipelines). One that\nexists is refused with Codefresh's message (exit 5).",
        example: "codefresh create pipeline -f spec.yml",
        verb: Verb::Own(resources::create_pipeline),
        timeout_in_minutes: false,
    },
    Command {
        name: "replace",
        args: &[],
        flags: &[SPEC_FILE, SKIP_TRIGGER_VALIDATION],
        env: &[],
        about: "replace a pipeline with a spec file",
        details: "Reads FILE (YAML or JSON, `kind: pipeline`), checks it and replaces the pipeline it names\n(PUT /api/pipelines/NAME?disableRevisionCheck=true, as the Codefresh CLI does).",
        example: "codefresh replace -f spec.yml",
        verb: Verb::Own(resources::replace),
        timeout_in_minutes: false,
    },
    Command {
        name: "apply",
        args: &[],
        flags: &[SPEC_FILE, SKIP_TRIGGER_VALIDATION],
        env: &[],
        about: "create or replace a pipeline from a spec file",
        details: "Reads FILE (YAML or JSON, `kind: pipeline`), checks it, and creates the pipeline when it does\nnot exist, replaces it otherwise: the one command an automation needs.",
        example: "codefresh apply -f spec.yml",
        verb: Verb::Own(resources::apply),
        timeout_in_minutes: false,
    },
    Command {
        name: "auth create-context",
        args: &[Arg::optional("NAME")],
        flags: &[
            Flag::value("--api-key", "KEY", "the API key (User Settings → API Keys); never printed"),
            Flag::value("--url", "URL", "the Codefresh address [default: $CF_URL, else https://g.codefresh.io]"),
            Flag::value("--cfconfig", "FILE", "the config file [default: $CFCONFIG, else ~/.cfconfig]"),
        ],
        env: &[EnvVar::new(cfconfig::FILE_VAR, "the config file instead of ~/.cfconfig, as in the Codefresh CLI")],
        about: "save an API key as the current context of ~/.cfconfig",
        details: "Checks the key with Codefresh (GET /api/user), then writes it to ~/.cfconfig as context NAME\n[default] in the Codefresh CLI's format and makes it the current one; the file is readable by\nits owner only. Without CF_API_KEY, every command uses the current context of that file.",
        example: "codefresh auth create-context --api-key \"$KEY\"",
        verb: Verb::Own(resources::create_context),
        timeout_in_minutes: false,
    },
];

/// Where restart-latest looks: a pipeline, on one branch or any.
pub struct Scope {
    pipeline: String,
    branch: Option<String>,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.branch {
            Some(b) => write!(f, "pipeline {} on branch `{b}`", self.pipeline),
            None => write!(f, "pipeline {}", self.pipeline),
        }
    }
}

impl Provider for Codefresh {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "run, wait, status, terminate, restart-latest (also as the `codefresh` multi-call name)";
    const ENV: &'static [EnvVar] = &[
        EnvVar::new(
            KEY_VAR,
            "required: an API key (User Settings → API Keys), sent as `Authorization: <key>`",
        ),
        EnvVar::new(URL_VAR, "the Codefresh address [https://g.codefresh.io]"),
    ];
    const COMMANDS: &'static [Command] = COMMANDS;
    /// As the Codefresh CLI spells them too.
    const ALIASES: &'static [(&'static str, &'static str)] = &[
        ("get build", "get builds"),
        ("get pipelines", "get pipeline"),
        ("get pip", "get pipeline"),
        ("replace pipeline", "replace"),
    ];

    const DEFAULT_LOGS: LogMode = LogMode::Follow;

    type BuildRef = String;
    type Start = RunRequest;
    type Scope = Scope;
    /// The build to rebuild, and how it was when found.
    type Newest = api::Build;

    /// A pipeline's name, or every build of the account.
    type ListScope = Option<String>;

    fn list_scope(args: &Args) -> Result<Option<String>> {
        Ok(args.given("--pipeline").map(str::to_string))
    }

    fn builds(&self, ctx: &Ctx, pipeline: &Option<String>, filter: &Filter) -> Result<Vec<Listed>> {
        let pipelines = match pipeline {
            Some(name) => vec![self.api.pipeline_id(ctx, name)?],
            None => Vec::new(),
        };
        let per_page = filter.limit.min(LIST_PAGE);
        let mut budget = PageBudget::default();
        let mut rows: Vec<Listed> = Vec::new();
        for page in 1..=listing::MAX_LIMIT.div_ceil(per_page) {
            let query = api::BuildQuery {
                pipelines: pipelines.clone(),
                branches: filter.branch.iter().cloned().collect(),
                statuses: filter.status.iter().cloned().collect(),
                revisions: Vec::new(),
                limit: per_page,
                page,
            };
            let got = self.api.build_page(ctx, &query)?;
            budget.spend(&got.response, "the build list")?;
            let count = got.builds.len();
            rows.extend(
                got.builds
                    .iter()
                    .map(|b| self.listed(b))
                    .filter(|r| filter.keeps(r)),
            );
            let seen = (page * per_page) as u64;
            if rows.len() >= filter.limit
                || count < per_page
                || got.total.is_some_and(|t| seen >= t)
            {
                break;
            }
        }
        rows.truncate(filter.limit);
        Ok(rows)
    }

    /// A build id, or its web address (`https://g.codefresh.io/build/ID`).
    fn build_ref(raw: &str) -> Result<String> {
        let Some(address) = WebAddress::parse(raw) else {
            return Ok(raw.trim().to_string());
        };
        match address.after(&["build"]) {
            Some([id]) if Self::claims(raw) => Ok(id.clone()),
            _ => Err(Error::usage(format!(
                "`{raw}` is not a Codefresh build's address: it looks like {}/build/ID",
                api::web_address()?
            ))),
        }
    }

    fn claims(address: &str) -> bool {
        let (Some(a), Ok(web)) = (WebAddress::parse(address), api::web_address()) else {
            return false;
        };
        a.on_host_of(&web) && a.after(&["build"]).is_some()
    }

    fn start_request(args: &Args) -> Result<RunRequest> {
        let text = |long: &str| args.value(long).map(str::to_string);
        let mut run = RunRequest {
            pipeline: args.positional(0).unwrap_or_default().to_string(),
            branch: text("--branch"),
            sha: text("--sha"),
            trigger: text("--trigger"),
            contexts: args
                .values("--context")
                .into_iter()
                .map(String::from)
                .collect(),
            no_cache: args.on("--no-cache"),
            no_cf_cache: args.on("--no-cf-cache"),
            reset_volume: args.on("--reset-volume"),
            enable_notifications: args.on("--enable-notifications"),
            skip: args
                .values("--skip")
                .into_iter()
                .map(String::from)
                .collect(),
            only: args
                .values("--only")
                .into_iter()
                .map(String::from)
                .collect(),
            ..RunRequest::default()
        };
        // `--var-file` first, then each `-v`, so a later one wins.
        if let Some(path) = args.value("--var-file") {
            run.variables = read_var_file(path)?;
        }
        for raw in args.values("--variable") {
            run.variables
                .push(parse_key_value(raw).map_err(|e| Error::usage(format!("-v {e}")))?);
        }
        Ok(run)
    }

    fn scope(args: &Args) -> Result<Scope> {
        Ok(Scope {
            pipeline: args.positional(0).unwrap_or_default().to_string(),
            branch: args.given("--branch").map(str::to_string),
        })
    }

    fn connect(_ctx: &Ctx) -> Result<Self> {
        Ok(Codefresh {
            api: Api::from_env()?,
        })
    }

    fn read(&self, ctx: &Ctx, id: &String) -> Result<Reading> {
        let found = self.api.build(ctx, id)?;
        let mut line = format!("build {id}: {}", found.status);
        match (found.pipeline_name.as_deref(), found.branch_name.as_deref()) {
            (Some(p), Some(b)) => line.push_str(&format!(" (pipeline {p}, branch {b})")),
            (Some(p), None) => line.push_str(&format!(" (pipeline {p})")),
            _ => {}
        }
        line.push_str(&format!(" {}", self.api.build_url(id)));
        Ok(Reading {
            build: self.build(id, &found.status),
            lines: vec![line],
        })
    }

    fn watch<'a>(&'a self, _ctx: &Ctx, id: &String) -> Result<Tracked<'a, String>> {
        Ok(self.tracked(id, "pending", None))
    }

    /// Terminating a build is deleting its progress job, which the build names.
    fn stop(&self, ctx: &Ctx, id: &String) -> Result<(Build, Stopped)> {
        let found = self.api.build(ctx, id)?;
        let build = self.build(id, &found.status);
        if state_of(&found.status).is_finished() {
            let status = found.status;
            return Ok((build, Stopped::AlreadyFinished { status, why: None }));
        }
        let progress = found
            .progress
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                Error::api(format!(
                    "build {id} ({}) has no progress job to terminate yet: try again in a moment, or terminate it at {}",
                    found.status,
                    self.api.build_url(id)
                ))
            })?;
        self.api.terminate_progress(ctx, progress, id)?;
        let line = format!("terminating build {id}: {}", self.api.build_url(id));
        let status = "terminating".to_string();
        Ok((
            build,
            Stopped::Asked {
                status,
                line: Some(line),
            },
        ))
    }

    fn start<'a>(&'a self, ctx: &Ctx, run: &RunRequest) -> Result<Tracked<'a, String>> {
        let predecessor = env_first(&[BUILD_ID_VAR]).map(|(_, id)| id);
        let body = api::run_body(run, predecessor.as_deref());
        let mut what = vec![];
        if let Some(b) = run.branch.as_deref().filter(|b| !b.is_empty()) {
            what.push(format!("branch {b}"));
        }
        if let Some(t) = run.trigger.as_deref().filter(|t| !t.is_empty()) {
            what.push(format!("trigger {t}"));
        }
        output::event(if what.is_empty() {
            format!("running pipeline {}", run.pipeline)
        } else {
            format!("running pipeline {} ({})", run.pipeline, what.join(", "))
        });
        let id = self.api.run(ctx, &run.pipeline, &body)?;
        Ok(self.started(&id))
    }

    fn newest(&self, ctx: &Ctx, scope: &Scope) -> Result<(api::Build, Build)> {
        let pipeline = &scope.pipeline;
        let pipeline_id = self.api.pipeline_id(ctx, pipeline)?;
        let newest = self
            .api
            .newest_build(ctx, &pipeline_id, scope.branch.as_deref())?
            .ok_or_else(|| {
                Error::api(match &scope.branch {
                    Some(b) => format!(
                        "pipeline {pipeline} has no builds on branch `{b}`: run it once (`codefresh run {pipeline} -b {b}`) or check -b"
                    ),
                    None => format!(
                        "pipeline {pipeline} has no builds yet: run it once with `codefresh run {pipeline}`"
                    ),
                })
            })?;
        let old = newest.id().ok_or_else(|| {
            Error::api(format!(
                "Codefresh listed the newest build of pipeline {pipeline} without an id: see {}",
                self.api.builds_page()
            ))
        })?;
        let build = self.build(old, &newest.status);
        Ok((newest, build))
    }

    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &Scope,
        newest: api::Build,
    ) -> Result<Tracked<'a, String>> {
        let old = newest.id().unwrap_or_default();
        output::event(format!(
            "rebuilding build {old} ({}) of pipeline {}{}",
            newest.status,
            scope.pipeline,
            newest
                .branch_name
                .as_deref()
                .map(|b| format!(" on branch {b}"))
                .unwrap_or_default()
        ));
        let id = self.api.rebuild(ctx, old, &scope.pipeline)?;
        Ok(self.started(&id))
    }

    fn logs<'a>(
        &'a self,
        _ctx: &Ctx,
        id: &String,
    ) -> Result<Option<Box<dyn crate::logs::Logs + Send + 'a>>> {
        Ok(Some(Box::new(logs::BuildLog::new(&self.api, id))))
    }

    fn own_build() -> Option<(&'static str, String)> {
        env_first(&[BUILD_ID_VAR])
    }

    fn instead_of_own_restart(scope: &Scope) -> Option<String> {
        Some(format!(
            "use `codefresh run {}` to start a new build instead",
            scope.pipeline
        ))
    }
}

impl Codefresh {
    /// A build as `builds` lists it.
    fn listed(&self, b: &api::Build) -> Listed {
        let id = b.id().unwrap_or_default().to_string();
        let from = b.started.as_deref().or(b.created.as_deref());
        Listed {
            provider: NAME,
            number: None,
            pipeline: b.pipeline_name.clone(),
            branch: b.branch_name.clone(),
            commit: b.revision.clone(),
            status: b.status.clone(),
            result: resources::result_of(b),
            created_at: b.created.clone(),
            finished_at: b.finished.clone(),
            duration_s: listing::duration_s(from, b.finished.as_deref()),
            url: Some(self.api.build_url(&id)),
            id,
        }
    }

    fn build(&self, id: &str, status: &str) -> Build {
        Build {
            id: id.to_string(),
            number: None,
            url: Some(self.api.build_url(id)),
            status: status.to_string(),
            state: state_of(status),
            label: format!("build {id}"),
            aliases: Vec::new(),
        }
    }

    fn started(&self, id: &str) -> Tracked<'_, String> {
        let line = format!("started build {id}: {}", self.api.build_url(id));
        self.tracked(id, "pending", Some(line))
    }

    fn tracked(&self, id: &str, status: &str, line: Option<String>) -> Tracked<'_, String> {
        Tracked {
            build: self.build(id, status),
            reference: id.to_string(),
            line,
            watch: Box::new(Reads {
                codefresh: self,
                id: id.to_string(),
                last: None,
            }),
        }
    }
}

/// Follows a build by reading it.
struct Reads<'a> {
    codefresh: &'a Codefresh,
    id: String,
    /// The build as last read, for planning polls around its pipeline's usual duration.
    last: Option<api::Build>,
}

/// How many of a pipeline's recent builds its usual duration is taken from.
const HISTORY: usize = 10;

impl Watch for Reads<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let build = self.codefresh.api.build(ctx, &self.id)?;
        let seen = Observation::new(state_of(&build.status), build.status.clone());
        self.last = Some(build);
        Ok(seen)
    }

    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        usual_end(&self.codefresh.api, ctx, &self.id, self.last.as_ref()?)
    }
}

/// When build `id` (as last read) ends if it takes the median duration of its pipeline's
/// recent successful builds on the same branch (one list request), counted from its start.
fn usual_end(
    api: &api::Api,
    ctx: &Ctx,
    id: &str,
    build: &api::Build,
) -> Option<std::time::SystemTime> {
    let pipeline = build.pipeline_id.as_deref()?;
    let branch = build.branch_name.as_deref();
    let key = format!("codefresh {pipeline} {branch:?}");
    crate::wait::planned_end(key, id, build.started.as_deref(), || {
        // Only successes: running builds of the pipeline (a fan-out of it) would fill the
        // page otherwise.
        let recent = api
            .recent_builds(ctx, pipeline, branch, Some("success"), HISTORY)
            .ok()?;
        Some(
            recent
                .iter()
                .filter(|b| state_of(&b.status) == BuildState::Success)
                .filter_map(|b| {
                    let took =
                        crate::listing::duration_s(b.started.as_deref(), b.finished.as_deref())?;
                    Some((b.id()?.to_string(), took))
                })
                .collect(),
        )
    })
}
