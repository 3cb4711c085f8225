//! Codeship. API v1 (an API key and a numeric project id: what the original
//! `codeship_restart_build` used) and API v2 (a machine user's email and password).
//! v2 is chosen when a user and password are set, otherwise v1 when an API key is.

pub(crate) mod v1;
pub(crate) mod v2;

use crate::build::{Build, Reading, Stopped, Tracked};
use crate::cli::args::{Arg, Args};
use crate::cli::env_first;
use crate::cli::flags::{
    EnvVar, Flag, BRANCH, DETACH, FAILED_ONLY, FORCE, LIMIT, LIST_BRANCH, LIST_STATUS, LOGS,
    LOG_LINES, SPEC_FILE, WAIT,
};
use crate::cli::OutputMode;
use crate::error::{Error, Result};
use crate::listing::{self, Filter, Listed};
use crate::output::{self, Report};
use crate::provider::{Command, Provider, Verb};
use crate::url::WebAddress;
use crate::wait::BuildState;
use crate::Ctx;

/// Both generations of Codeship's script spelled these differently; the first set wins.
pub const USER_VARS: &[&str] = &[
    "CODESHIP_API_USER",
    "CODESHIP_MACHINE_USER_EMAIL",
    "BUILD_RESTART_MACHINE_USER_EMAIL",
];
pub const PASSWORD_VARS: &[&str] = &[
    "CODESHIP_API_PASSWORD",
    "CODESHIP_MACHINE_USER_PASSWORD",
    "BUILD_RESTART_MACHINE_USER_PASSWORD",
];
pub const BRANCH_VARS: &[&str] = &["CODESHIP_API_BRANCH", "BUILD_RESTART_API_BRANCH"];
/// API v2 only: the organization by name or uuid, and the project by uuid.
pub const ORG_VARS: &[&str] = &[
    "CODESHIP_API_ORG",
    "CODESHIP_ORG_NAME",
    "BUILD_RESTART_ORG_NAME",
];
pub const PROJECT_UUID_VARS: &[&str] = &[
    "CODESHIP_API_PROJECT_UUID",
    "BUILD_RESTART_API_PROJECT_UUID",
];
pub const KEY_VAR: &str = "CODESHIP_API_KEY";

pub const NAME: &str = "codeship";

/// Codeship, by API version: chosen by the credentials that are set.
pub enum Codeship {
    V1(v1::Api),
    V2(Box<v2::Api>),
}

const COMMANDS: &[Command] = &[
    Command {
        name: "restart-latest",
        args: &[],
        flags: &[
            BRANCH.help("the branch [default: CODESHIP_API_BRANCH]"),
            WAIT,
            FORCE.help("restart even the build this step runs in (CI_BUILD_ID)"),
            LOGS,
            LOG_LINES,
        ],
        env: &[
            EnvVar::new("CODESHIP_API_BRANCH", "the branch (API v2 also: BUILD_RESTART_API_BRANCH)"),
            EnvVar::new("CI_BUILD_ID", "set by Codeship: the build this step runs in is not restarted unless --force"),
        ],
        about: "restart the newest build of the branch",
        details: "Finds the newest build of the branch and restarts it; prints the new build's id on stdout.",
        example: "cirelay codeship restart-latest --branch main --wait",
        verb: Verb::RestartLatest,
        timeout_in_minutes: false,
    },
    Command {
        name: "trigger",
        args: &[],
        flags: &[
            BRANCH.help("the branch [default: CODESHIP_API_BRANCH]"),
            Flag::value("--sha", "SHA", "build this commit of the branch"),
            DETACH.help("print the build's uuid and exit 0 without waiting"),
            LOGS,
            LOG_LINES,
        ],
        env: &[EnvVar::new("CODESHIP_API_BRANCH", "the branch (also: BUILD_RESTART_API_BRANCH)")],
        about: "start a build (API v2)",
        details: "Starts a build of the branch (API v2) and waits for it unless --detach.",
        example: "cirelay codeship trigger --branch main --sha 81d2282b --timeout 45m",
        verb: Verb::Start,
        timeout_in_minutes: false,
    },
    Command {
        name: "status",
        args: &[Arg::required("BUILD")],
        flags: &[],
        env: &[],
        about: "print a build's status (API v2)",
        details: "Prints the build's status word on stdout; exits 1/2 once it failed/stopped. BUILD is the\nbuild's uuid (API v2).",
        example: "cirelay codeship status \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Status,
        timeout_in_minutes: false,
    },
    Command {
        name: "wait",
        args: &[Arg::required("BUILD")],
        flags: &[LOGS, LOG_LINES],
        env: &[],
        about: "wait for a build and exit by its result (API v2)",
        details: "Waits until the build finishes and exits by its result. BUILD is the build's uuid (API v2).",
        example: "cirelay codeship wait \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Wait,
        timeout_in_minutes: false,
    },
    Command {
        name: "stop",
        args: &[Arg::required("BUILD")],
        flags: &[],
        env: &[],
        about: "stop a build (API v2)",
        details: "Stops the build if it is still running. BUILD is the build's uuid (API v2).",
        example: "cirelay codeship stop \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Stop,
        timeout_in_minutes: false,
    },
    Command {
        name: "logs",
        args: &[Arg::required("BUILD")],
        flags: &[FAILED_ONLY, LOG_LINES],
        env: &[],
        about: "print a build's log",
        details: "Codeship has no log API: this prints the build's link (API v2; BUILD is its uuid) and exits\nlike status.",
        example: "cirelay codeship logs \"$CIRELAY_BUILD_ID\"",
        verb: Verb::Logs,
        timeout_in_minutes: false,
    },
    Command {
        name: "builds",
        args: &[Arg::optional("PROJECT")],
        flags: &[LIST_BRANCH, LIST_STATUS, LIMIT],
        env: &[],
        about: "list recent builds, for dashboards",
        details: "Lists the project's newest builds (PROJECT: its uuid with API v2, its number with API v1;\n[default: CODESHIP_API_PROJECT_UUID or CODESHIP_API_PROJECT_ID]) as a table on stdout, or with\n--output json one JSON object per line, the same keys for every provider. API v2 reads pages of\n50 up to --limit (at most 1,000 builds) within the 60-requests-a-minute limit; API v1 lists the\nbuilds its project read returns.",
        example: "cirelay codeship builds --branch main --limit 50 --output json",
        verb: Verb::Builds,
        timeout_in_minutes: false,
    },
    Command {
        name: "projects",
        args: &[],
        flags: &[],
        env: &[],
        about: "list the organization's projects (API v2)",
        details: "Lists every project of the organization the machine user may see (GET\n/v2/organizations/ORG/projects, page by page): uuid, name, type, repository. With --output json,\none object per line.",
        example: "cirelay codeship projects --output json",
        verb: Verb::Own(projects_list),
        timeout_in_minutes: false,
    },
    Command {
        name: "project get",
        args: &[Arg::required("UUID")],
        flags: &[],
        env: &[],
        about: "show a project (API v2)",
        details: "Prints the project as Codeship describes it (GET /v2/organizations/ORG/projects/UUID), as\nJSON, without its aes_key.",
        example: "cirelay codeship project get 0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        verb: Verb::Own(project_get),
        timeout_in_minutes: false,
    },
    Command {
        name: "project create",
        args: &[],
        flags: &[SPEC_FILE.help("the project: JSON (or YAML) with repository_url, type (basic or pro), team_ids, and optionally setup_commands, test_pipelines, notification_rules, environment_variables")],
        env: &[],
        about: "create a project from a spec file (API v2)",
        details: "Checks the spec (exit 4 naming the line and the field, before anything is sent), creates the\nproject (POST /v2/organizations/ORG/projects; sent once) and prints its uuid on stdout.",
        example: "cirelay codeship project create -f project.json",
        verb: Verb::Own(project_create),
        timeout_in_minutes: false,
    },
];

impl Provider for Codeship {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "restart-latest, trigger, status, wait, stop (also as the `codeship_restart_build` multi-call name)";
    const ENV: &'static [EnvVar] = &[
        EnvVar::new(KEY_VAR, "API v1: the account's API key"),
        EnvVar::new("CODESHIP_API_PROJECT_ID", "API v1: the project's number, from its Codeship URL"),
        EnvVar::new("CODESHIP_API_USER", "API v2 (used when a user and password are set): the machine user's email (or CODESHIP_MACHINE_USER_EMAIL, BUILD_RESTART_MACHINE_USER_EMAIL)"),
        EnvVar::new("CODESHIP_API_PASSWORD", "API v2: its password (or CODESHIP_MACHINE_USER_PASSWORD, BUILD_RESTART_MACHINE_USER_PASSWORD)"),
        EnvVar::new("CODESHIP_API_ORG", "API v2: the organization's name or uuid (or CODESHIP_ORG_NAME, BUILD_RESTART_ORG_NAME)"),
        EnvVar::new("CODESHIP_API_PROJECT_UUID", "API v2: the project's uuid (or BUILD_RESTART_API_PROJECT_UUID)"),
        EnvVar::new(URL_VAR, "another API host [https://codeship.com for v1, https://api.codeship.com for v2]"),
    ];
    const COMMANDS: &'static [Command] = COMMANDS;

    type BuildRef = String;
    type Start = v2::Trigger;
    /// The branch.
    type Scope = Branch;
    type Newest = Newest;

    /// The project named on the line, else the configured one.
    type ListScope = Option<String>;

    fn list_scope(args: &Args) -> Result<Option<String>> {
        Ok(args.positional(0).map(str::to_string))
    }

    fn connect_for_list(_ctx: &Ctx, project: &Option<String>) -> Result<Self> {
        connect_to(project.as_deref())
    }

    fn builds(&self, ctx: &Ctx, _project: &Option<String>, filter: &Filter) -> Result<Vec<Listed>> {
        match self {
            Codeship::V1(api) => api.builds(ctx, filter),
            Codeship::V2(api) => api.builds(ctx, filter),
        }
    }

    /// A build's uuid, or its web address
    /// (`https://app.codeship.com/projects/PROJECT_UUID/builds/BUILD_UUID`), whose project
    /// must be the one configured.
    fn build_ref(raw: &str) -> Result<String> {
        needs_v2("status|wait|stop|logs")?;
        let Some(address) = WebAddress::parse(raw) else {
            return v2::build_arg(raw);
        };
        let Some([project, builds, build]) =
            address.after(&["projects"]).filter(|_| Self::claims(raw))
        else {
            return Err(Error::usage(format!(
                "`{raw}` is not a Codeship build's address: it looks like {}/projects/PROJECT_UUID/builds/BUILD_UUID",
                v2::WEB_URL
            )));
        };
        if builds != "builds" {
            return Err(Error::usage(format!(
                "`{raw}` is not a Codeship build's address"
            )));
        }
        if let Some((var, configured)) = env_first(PROJECT_UUID_VARS) {
            if !configured.eq_ignore_ascii_case(project) {
                return Err(Error::usage(format!(
                    "`{raw}` is a build of project {project}, but {var} is {configured}: cirelay reads builds of that project only"
                )));
            }
        }
        v2::build_arg(build)
    }

    fn claims(address: &str) -> bool {
        WebAddress::parse(address).is_some_and(|a| {
            a.on_host_of(v2::WEB_URL) && a.after(&["projects"]).is_some_and(|rest| rest.len() == 3)
        })
    }

    fn start_request(args: &Args) -> Result<v2::Trigger> {
        needs_v2("trigger")?;
        let name = branch(args.value("--branch"), BRANCH_VARS)?;
        let sha = args.value("--sha").map(v2::sha_arg).transpose()?;
        Ok(v2::Trigger {
            branch: v2::branch_name(&name).to_string(),
            sha,
        })
    }

    fn scope(args: &Args) -> Result<Branch> {
        let name = branch(args.value("--branch"), BRANCH_VARS)?;
        Ok(Branch(name))
    }

    fn connect(_ctx: &Ctx) -> Result<Self> {
        connect_to(None)
    }

    fn read(&self, ctx: &Ctx, build: &String) -> Result<Reading> {
        self.v2("status")?.read(ctx, build)
    }

    fn watch<'a>(&'a self, _ctx: &Ctx, build: &String) -> Result<Tracked<'a, String>> {
        Ok(self.v2("wait")?.watch(build))
    }

    fn stop(&self, ctx: &Ctx, build: &String) -> Result<(Build, Stopped)> {
        self.v2("stop")?.stop(ctx, build)
    }

    fn start<'a>(&'a self, ctx: &Ctx, request: &v2::Trigger) -> Result<Tracked<'a, String>> {
        self.v2("trigger")?.trigger(ctx, request)
    }

    fn newest(&self, ctx: &Ctx, scope: &Branch) -> Result<(Newest, Build)> {
        match self {
            Codeship::V1(api) => {
                let (newest, build) = api.newest(ctx, &scope.0)?;
                Ok((Newest::V1(newest), build))
            }
            Codeship::V2(api) => {
                let (newest, build) = api.newest(ctx, v2::branch_name(&scope.0))?;
                Ok((Newest::V2(newest), build))
            }
        }
    }

    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &Branch,
        newest: Newest,
    ) -> Result<Tracked<'a, String>> {
        match (self, newest) {
            (Codeship::V1(api), Newest::V1(newest)) => api.restart(ctx, &scope.0, newest),
            (Codeship::V2(api), Newest::V2(newest)) => {
                api.restart(ctx, v2::branch_name(&scope.0), newest)
            }
            _ => unreachable!("the newest build was found with the same API version"),
        }
    }

    fn own_build() -> Option<(&'static str, String)> {
        env_first(&["CI_BUILD_ID"])
    }
}

impl Codeship {
    /// Only API v2 has these commands; API v1 only restarts builds.
    fn v2(&self, command: &str) -> Result<&v2::Api> {
        match self {
            Codeship::V2(api) => Ok(api),
            Codeship::V1(_) => Err(only_restarts(command)),
        }
    }
}

/// The machine user of API v2, for the organization's own commands.
#[inline(never)]
fn organization(command: &str) -> Result<v2::Api> {
    needs_v2(command)?;
    match (env_first(USER_VARS), env_first(PASSWORD_VARS)) {
        (Some(user), Some(password)) => v2::Api::for_organization(user, password),
        _ => Err(Error::usage(format!(
            "`codeship {command}` needs Codeship API v2: set CODESHIP_API_USER and CODESHIP_API_PASSWORD (a machine user's email and password)"
        ))),
    }
}

/// `codeship projects`: a table, or one JSON object per line.
fn projects_list(ctx: &Ctx, _args: &Args) -> Result<Report> {
    let api = organization("projects")?;
    let projects = api.projects(ctx)?;
    let lines = match ctx.out.mode {
        OutputMode::Json => projects.iter().map(|p| p.to_string()).collect(),
        OutputMode::Text => {
            let rows: Vec<Vec<String>> = projects
                .iter()
                .map(|p| {
                    let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                    let url = format!("{}/projects/{}", v2::WEB_URL, text("uuid"));
                    vec![
                        text("uuid"),
                        text("name"),
                        text("type"),
                        text("repository_url"),
                        url,
                    ]
                })
                .collect();
            vec![listing::columns(
                &["UUID", "NAME", "TYPE", "REPOSITORY", "LINK"],
                &rows,
                2,
            )]
        }
    };
    ctx.out.answer(&lines);
    let count = format!("{} projects", projects.len());
    Ok(resource_report("projects", "", &count, None))
}

/// `codeship project get UUID`: the project as JSON.
fn project_get(ctx: &Ctx, args: &Args) -> Result<Report> {
    let uuid = v2::project_arg(args.positional(0).unwrap_or_default())?;
    let api = organization("project get")?;
    let project = api.project(ctx, &uuid)?;
    ctx.out.answer(&[project.to_string()]);
    let url = format!("{}/projects/{uuid}", v2::WEB_URL);
    Ok(resource_report("project get", &uuid, "found", Some(url)))
}

/// `codeship project create -f SPEC.json`: the new project's uuid on stdout.
fn project_create(ctx: &Ctx, args: &Args) -> Result<Report> {
    let path = args.given("--filename").ok_or_else(|| {
        Error::usage("no project spec: pass -f SPEC.json (repository_url, type, team_ids)")
    })?;
    let spec = v2::read_project_spec(path)?;
    let api = organization("project create")?;
    let project = api.create_project(ctx, &spec)?;
    let uuid = project["uuid"].as_str().unwrap_or_default().to_string();
    let url = format!("{}/projects/{uuid}", v2::WEB_URL);
    let name = project["name"].as_str().unwrap_or("the project");
    output::event(format!("created project {name}: {url}"));
    ctx.out.text(&uuid);
    Ok(resource_report(
        "project create",
        &uuid,
        "created",
        Some(url),
    ))
}

/// API v2 when its user and password are set, else API v1 with its key, for `project`
/// when given (`codeship builds PROJECT`), else the configured one.
fn connect_to(project: Option<&str>) -> Result<Codeship> {
    match (env_first(USER_VARS), env_first(PASSWORD_VARS)) {
        (Some(user), Some(password)) => Ok(Codeship::V2(Box::new(v2::Api::for_project(
            user, password, project,
        )?))),
        _ if env_first(&[KEY_VAR]).is_some() => Ok(Codeship::V1(v1::Api::for_project(project)?)),
        (Some((user_var, _)), None) => Err(Error::usage(format!(
            "{user_var} is set but no password: set CODESHIP_API_PASSWORD (API v2), or CODESHIP_API_KEY for API v1"
        ))),
        (None, Some((password_var, _))) => Err(Error::usage(format!(
            "{password_var} is set but no user: set CODESHIP_API_USER (API v2), or CODESHIP_API_KEY for API v1"
        ))),
        (None, None) => Err(Error::usage(
            "no Codeship credentials: set CODESHIP_API_KEY (API v1), or CODESHIP_API_USER and CODESHIP_API_PASSWORD (API v2)",
        )),
    }
}

/// The report of a command about projects: no build, so `id` names the project.
#[inline(never)]
fn resource_report(action: &'static str, id: &str, status: &str, url: Option<String>) -> Report {
    Report::resource(NAME, action, id, url, status.to_string())
}

/// Said before anything else is checked: with only an API v1 key set, the other settings
/// of the command are beside the point.
fn needs_v2(command: &str) -> Result<()> {
    let v2 = env_first(USER_VARS).is_some() && env_first(PASSWORD_VARS).is_some();
    if !v2 && env_first(&[KEY_VAR]).is_some() {
        return Err(only_restarts(command));
    }
    Ok(())
}

fn only_restarts(command: &str) -> Error {
    Error::usage(format!(
        "`codeship {command}` needs Codeship API v2 (API v1 only restarts builds): set CODESHIP_API_USER, CODESHIP_API_PASSWORD and CODESHIP_API_PROJECT_UUID"
    ))
}

/// The newest build of a branch, as the API version in use found it.
pub enum Newest {
    V1(v1::Newest),
    V2(v2::Newest),
}

/// The branch restart-latest looks at.
pub struct Branch(String);

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "branch `{}`", self.0)
    }
}

/// `--branch`, else the branch variables; required.
pub fn branch(flag: Option<&str>, vars: &[&'static str]) -> Result<String> {
    if let Some(b) = flag.filter(|b| !b.trim().is_empty()) {
        return Ok(b.to_string());
    }
    env_first(vars)
        .map(|(_, b)| b)
        .ok_or_else(|| Error::usage(format!("no branch: pass --branch or set {}", vars[0])))
}

/// `CODESHIP_API_URL` overrides the host of either API version.
pub fn base_url(default: &str) -> Result<String> {
    match env_first(&[URL_VAR]) {
        Some((_, url)) => Ok(crate::url::Host::parse(URL_VAR, &url, default)?.url),
        None => Ok(default.to_string()),
    }
}

pub const URL_VAR: &str = "CODESHIP_API_URL";

/// Codeship's status words, the same in both API versions.
pub(crate) fn state_of(status: &str) -> BuildState {
    match status {
        "success" => BuildState::Success,
        "error" | "failed" | "infrastructure_failure" => BuildState::Failed,
        // Codeship's own status badge groups `blocked` (a build the project's settings or
        // plan keep from running) with stopped and ignored: it will not run on its own.
        "stopped" | "ignored" | "blocked" => BuildState::Terminated,
        // initiated, waiting, testing, queued, running, and any status Codeship adds
        // later: keep polling (the wait loop prints it once).
        _ => BuildState::Running,
    }
}

/// A commit id as progress lines show it: its first 8 characters (characters, not bytes:
/// the id is whatever the API sent).
pub fn short_commit(commit: Option<&str>) -> &str {
    commit.map_or("unknown", |c| {
        c.char_indices().nth(8).map_or(c, |(end, _)| &c[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_shortened_by_characters() {
        assert_eq!(short_commit(Some("81d2282b8f1e0000")), "81d2282b");
        assert_eq!(short_commit(Some("abc")), "abc");
        assert_eq!(short_commit(None), "unknown");
        // Found by fuzzing: cutting at byte 8 split a character and panicked.
        assert_eq!(short_commit(Some("80d228日本")), "80d228日本");
        assert_eq!(short_commit(Some("1234567éxyz")), "1234567é");
    }
}
