//! Codeship API v2: a machine user's email and password are exchanged for an access token
//! (`POST /v2/auth`) that names the organizations the user may act in; everything else lives
//! under `/v2/organizations/:org/projects/:project`. Triggers and restarts answer 202 with no
//! body, so the build they started is found by listing the project's builds again: on Pro a
//! restart is a new build, on Basic the same build runs again.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{
    base_url, branch, refuse_own_build, short_commit, state_of, BRANCH_VARS, ORG_VARS,
    PROJECT_UUID_VARS,
};
use crate::cli::{env_first, CodeshipCommand};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::output::{self, Outcome, Report};
use crate::time::{now_unix, rfc3339 as unix_time};
use crate::wait::{self, BuildState, Observation, Waited};
use crate::Ctx;

const DEFAULT_URL: &str = "https://api.codeship.com";
const WEB_URL: &str = "https://app.codeship.com";
const PER_PAGE: usize = 50;
/// The newest 1,000 builds. A branch not built within them is almost certainly misspelled,
/// and reading further costs the 60-requests-a-minute budget every other step shares.
const MAX_PAGES: usize = 20;
/// A token is renewed this long before it expires (at most half its lifetime), so a request
/// is never sent with a token about to lapse on the way.
const REFRESH_BEFORE: u64 = 60;
/// How long a trigger or restart may take to show up in the build list. Codeship queues
/// within seconds; longer means it dropped the request (e.g. a ref it did not recognise).
const FIND_WINDOW: Duration = Duration::from_secs(180);
/// The runner's clock and Codeship's may disagree; a build queued this long before the
/// request was sent is still accepted as the one it started.
const CLOCK_SKEW: i64 = 300;

type Var = (&'static str, String);

#[derive(Debug, Deserialize)]
struct Auth {
    #[serde(default)]
    access_token: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    expires_at: Option<f64>,
    #[serde(default)]
    organizations: Vec<Org>,
}

#[derive(Debug, Clone, Deserialize)]
struct Org {
    uuid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct Build {
    uuid: String,
    /// `heads/<branch>`.
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    commit_sha: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    queued_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
}

impl Build {
    fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("unknown")
    }

    fn state(&self) -> BuildState {
        state_of(self.status())
    }

    fn commit(&self) -> &str {
        short_commit(self.commit_sha.as_deref())
    }
}

#[derive(Debug, Deserialize)]
struct BuildPage {
    #[serde(default)]
    builds: Vec<Build>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    per_page: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct OneBuild {
    build: Build,
}

struct Session {
    token: String,
    /// Unix seconds; `None` when Codeship did not say when the token expires.
    refresh_at: Option<u64>,
    org: Org,
}

/// What a 404 is about, so the error names the id that was not found.
#[derive(Clone, Copy)]
enum Target<'a> {
    Project,
    Build(&'a str),
}

struct Api {
    base: String,
    user: Var,
    password_var: &'static str,
    /// `base64(user:password)`.
    basic: String,
    org: Option<Var>,
    project: Var,
    session: RefCell<Option<Session>>,
}

pub fn run(
    ctx: &Ctx,
    command: CodeshipCommand,
    user: (&'static str, String),
    password: (&'static str, String),
) -> Result<Report> {
    let api = Api::from_env(user, password)?;
    match command {
        CodeshipCommand::RestartLatest {
            branch: flag,
            wait,
            force,
        } => {
            let name = branch(flag, BRANCH_VARS)?;
            restart_latest(ctx, &api, branch_name(&name), wait, force)
        }
        CodeshipCommand::Trigger {
            branch: flag,
            sha,
            detach,
        } => {
            let name = branch(flag, BRANCH_VARS)?;
            let sha = sha.map(|s| sha_arg(&s)).transpose()?;
            trigger(ctx, &api, branch_name(&name), sha.as_deref(), detach)
        }
        CodeshipCommand::Status { build } => status(ctx, &api, &build_arg(&build)?),
        CodeshipCommand::Wait { build } => {
            let uuid = build_arg(&build)?;
            let unread = Build {
                uuid,
                ..Build::default()
            };
            follow(ctx, &api, report(&api, "wait", &unread))
        }
        CodeshipCommand::Stop { build } => stop(ctx, &api, &build_arg(&build)?),
    }
}

impl Api {
    /// Reads the configuration; every secret is registered before anything can print it.
    fn from_env(user: Var, password: Var) -> Result<Self> {
        register_secret(&password.1);
        let basic = base64(format!("{}:{}", user.1, password.1).as_bytes());
        register_secret(&basic);
        let (project_var, raw) = env_first(PROJECT_UUID_VARS).ok_or_else(|| {
            Error::usage(format!(
                "{} is not set: use the project's uuid from Codeship's Project Settings → General",
                PROJECT_UUID_VARS[0]
            ))
        })?;
        let project = uuid_arg(&raw, project_var, "Project Settings → General")?;
        // Codeship's own clients configure `https://api.codeship.com/v2`; accept that form too.
        let base = base_url(DEFAULT_URL)?;
        let base = base.strip_suffix("/v2").unwrap_or(&base).to_string();
        Ok(Api {
            base,
            user,
            password_var: password.0,
            basic,
            org: env_first(ORG_VARS).map(|(n, v)| (n, v.trim().to_string())),
            project: (project_var, project),
            session: RefCell::new(None),
        })
    }

    fn project_page(&self) -> String {
        format!("{WEB_URL}/projects/{}", self.project.1)
    }

    fn build_url(&self, uuid: &str) -> String {
        format!("{}/builds/{uuid}", self.project_page())
    }

    /// Exchanges the email and password for an access token and picks the organization.
    fn authenticate(&self, ctx: &Ctx) -> Result<()> {
        let again = self.session.borrow().is_some();
        let (user_var, user) = (&self.user.0, &self.user.1);
        let resp = ctx.http.send(
            &Request::post(format!("{}/v2/auth", self.base))
                .header("Authorization", format!("Basic {}", self.basic)),
        )?;
        // The answer carries the token: register it before any message could quote the body.
        let value: Option<serde_json::Value> = serde_json::from_str(&resp.body).ok();
        if let Some(token) = value
            .as_ref()
            .and_then(|v| v.get("access_token"))
            .and_then(|t| t.as_str())
        {
            register_secret(token);
        }
        let said = value
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.as_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if said.contains("two-factor") || said.contains("two factor") {
            return Err(Error::api(format!(
                "Codeship cannot sign in {user} ({user_var}): the account has two-factor authentication enabled, which Codeship's API does not support — use a machine user without it"
            )));
        }
        if !resp.is_success() {
            let hint = match resp.status {
                401 | 403 => format!(
                    "Codeship did not accept the email and password: check {user_var} ({user}) and {}",
                    self.password_var
                ),
                404 => format!(
                    "check CODESHIP_API_URL ({}): it should be Codeship's API host",
                    self.base
                ),
                _ => String::new(),
            };
            return Err(resp.error(&hint));
        }
        let Some(value) = value else {
            return Err(Error::api(format!(
                "{} answered {} with a body that is not JSON: check CODESHIP_API_URL ({})",
                resp.request(),
                resp.status,
                self.base
            )));
        };
        let auth: Auth = serde_json::from_value(value).map_err(|e| {
            Error::api(format!(
                "{} answered {} with unusable JSON ({e})",
                resp.request(),
                resp.status
            ))
        })?;
        let token = auth.access_token.filter(|t| !t.is_empty()).ok_or_else(|| {
            Error::api(format!(
                "{} answered {} without an access_token",
                resp.request(),
                resp.status
            ))
        })?;
        let wanted = self.org.as_ref().map(|(n, v)| (*n, v.as_str()));
        let org = choose_org(&auth.organizations, wanted, user)?;
        checked_uuid(&resp, &org.uuid, "the organization")?;
        let refresh_at = auth
            .expires_at
            .map(|at| refresh_time(at as u64, now_unix()));
        if again {
            output::event(format!("signed in to Codeship again as {user}"));
        } else {
            output::event(format!(
                "signed in to Codeship as {user} (organization {})",
                org.name
            ));
        }
        *self.session.borrow_mut() = Some(Session {
            token,
            refresh_at,
            org,
        });
        Ok(())
    }

    fn needs_auth(&self) -> bool {
        match &*self.session.borrow() {
            None => true,
            Some(s) => s.refresh_at.is_some_and(|at| now_unix() >= at),
        }
    }

    /// Sends a request under `/v2/organizations/:org/projects/:project` (`make` gets that
    /// prefix) with the access token, signing in first when needed. A 401 mid-run (the token
    /// was revoked or expired early) signs in once more and resends: a 401 means the request
    /// was refused, so even a restart is not sent twice.
    fn call(&self, ctx: &Ctx, make: impl Fn(&str) -> Request) -> Result<Response> {
        let fresh = std::cell::Cell::new(false);
        loop {
            let resp = ctx.http.send_each(|| {
                // Before every attempt, retries included: a token can expire while a
                // rate-limit pause runs, and a stale one would come back as a 401.
                if self.needs_auth() {
                    self.authenticate(ctx)?;
                    fresh.set(true);
                }
                let session = self.session.borrow();
                let s = session.as_ref().expect("signed in above");
                let prefix = format!(
                    "{}/v2/organizations/{}/projects/{}",
                    self.base,
                    encode(&s.org.uuid),
                    encode(&self.project.1)
                );
                Ok(make(&prefix).header("Authorization", format!("Bearer {}", s.token)))
            })?;
            if resp.status == 401 && !fresh.get() {
                output::event(
                    "Codeship no longer accepts the access token (401); signing in again",
                );
                self.authenticate(ctx)?;
                fresh.set(true);
                continue;
            }
            return Ok(resp);
        }
    }

    /// `organization NAME (uuid)` and its scopes, for messages.
    fn org_label(&self) -> (String, String) {
        match &*self.session.borrow() {
            Some(s) => (
                format!("organization {} ({})", s.org.name, s.org.uuid),
                if s.org.scopes.is_empty() {
                    "none listed".to_string()
                } else {
                    s.org.scopes.join(", ")
                },
            ),
            None => ("the organization".to_string(), "unknown".to_string()),
        }
    }

    /// Names the id or setting to fix for each refusal.
    fn check(&self, resp: &Response, target: Target, scope: &str) -> Result<()> {
        if resp.is_success() {
            return Ok(());
        }
        let (org, scopes) = self.org_label();
        let (project_var, project) = (&self.project.0, &self.project.1);
        let user = &self.user.1;
        Err(match (resp.status, target) {
            (401, _) => resp.error(&format!(
                "Codeship refused a fresh access token for {user}: check that the machine user still has access to {org}"
            )),
            (403, _) => resp.error(&format!(
                "{user} may not do this in {org}: it needs the {scope} scope there (it has: {scopes})"
            )),
            (404, Target::Project) => resp.error(&format!(
                "project {project} was not found in {org}: check {project_var} (Project Settings → General) and CODESHIP_API_ORG"
            )),
            (404, Target::Build(uuid)) => resp.error(&format!(
                "build {uuid} was not found in project {project} ({project_var}) of {org}: check the build uuid"
            )),
            _ => resp.error(""),
        })
    }

    fn list(&self, ctx: &Ctx, page: usize) -> Result<BuildPage> {
        let resp = self.call(ctx, |prefix| {
            Request::get(format!("{prefix}/builds?page={page}&per_page={PER_PAGE}"))
        })?;
        self.check(&resp, Target::Project, "build.read")?;
        let page: BuildPage = resp.decode()?;
        for b in &page.builds {
            checked_uuid(&resp, &b.uuid, "a build")?;
        }
        Ok(page)
    }

    fn build(&self, ctx: &Ctx, uuid: &str) -> Result<Build> {
        let resp = self.call(ctx, |prefix| {
            Request::get(format!("{prefix}/builds/{}", encode(uuid)))
        })?;
        self.check(&resp, Target::Build(uuid), "build.read")?;
        let build = resp.decode::<OneBuild>()?.build;
        checked_uuid(&resp, &build.uuid, "the build")?;
        Ok(build)
    }

    /// The branch's newest build, reading pages (newest first) until one shows up, and every
    /// build read on the way (what the project looked like before a restart).
    fn newest_on_branch(&self, ctx: &Ctx, branch: &str) -> Result<(Build, Vec<Build>)> {
        let mut seen: Vec<Build> = Vec::new();
        for page in 1..=MAX_PAGES {
            let listed = self.list(ctx, page)?;
            let count = listed.builds.len();
            let found = listed
                .builds
                .iter()
                .find(|b| branch_of(b) == Some(branch))
                .cloned();
            seen.extend(listed.builds);
            if let Some(build) = found {
                if page > 1 {
                    output::event(format!(
                        "the newest build of `{branch}` is on page {page} of the project's builds"
                    ));
                }
                return Ok((build, seen));
            }
            if is_last_page(count, seen.len(), listed.total, listed.per_page) {
                return Err(Error::api(format!(
                    "no builds on branch `{branch}` among the {} builds of project {}: push to it once, or check CODESHIP_API_BRANCH",
                    seen.len(),
                    self.project.1
                )));
            }
        }
        Err(Error::api(format!(
            "no builds on branch `{branch}` among the newest {} builds of project {}: check CODESHIP_API_BRANCH",
            seen.len(),
            self.project.1
        )))
    }

    /// Lists the builds until the one a trigger or restart started shows up.
    fn find_started(&self, ctx: &Ctx, expect: &Expect, what: &str) -> Result<Build> {
        let config = ctx.wait.within(FIND_WINDOW);
        let window = config.timeout.unwrap_or(FIND_WINDOW);
        let mut found = None;
        let label = format!("the {what} of `{}`", expect.branch);
        // The start was accepted: a build may exist whatever goes wrong from here.
        let unknown = |e: Error| {
            match e {
            Error::Api(why) => Error::UnknownOutcome(format!(
                "Codeship accepted the {what} of `{}`, but then {why}; the build may have started — check {} before trying again",
                expect.branch,
                self.project_page()
            )),
            other => other,
        }
        };
        let waited = wait::until_finished(config, &label, || {
            let mut listed = self.list(ctx, 1).map_err(unknown)?.builds;
            // A Basic build restarted in place keeps its place in the list, which may be
            // past page 1.
            for uuid in &expect.rerun {
                if !listed.iter().any(|b| &b.uuid == uuid) {
                    listed.push(self.build(ctx, uuid).map_err(unknown)?);
                }
            }
            Ok(match started_build(expect, &listed) {
                Some((build, how)) => {
                    let seen = Observation::new(
                        BuildState::Success,
                        format!("build {} {how} ({})", build.uuid, build.status()),
                    );
                    found = Some(build);
                    seen
                }
                None => Observation::new(BuildState::Running, "not listed yet"),
            })
        })?;
        match (waited, found) {
            (Waited::Finished(_), Some(build)) => Ok(build),
            _ => Err(Error::UnknownOutcome(format!(
                "Codeship accepted the {what} of `{}` but no build for it appeared within {}; the build may have started — check {} before trying again",
                expect.branch,
                output::seconds(window),
                self.project_page()
            ))),
        }
    }
}

/// What the project looked like before a trigger or restart, to recognise the build it started.
struct Expect<'a> {
    branch: &'a str,
    /// The commit the started build must be of (a restart keeps its commit).
    sha: Option<&'a str>,
    before: &'a [Build],
    /// Builds that Codeship Basic would run again in place.
    rerun: Vec<String>,
    /// When the request was sent (Unix seconds, this machine's clock).
    sent_at: i64,
}

/// The build a trigger or restart started, and how: a build not listed before, on the branch
/// and of the expected commit (Pro, or a new commit), or one listed before that runs again
/// (Basic restarts a build in place).
fn started_build(expect: &Expect, now: &[Build]) -> Option<(Build, &'static str)> {
    let known: HashSet<&str> = expect.before.iter().map(|b| b.uuid.as_str()).collect();
    let new = now.iter().find(|b| {
        !known.contains(b.uuid.as_str())
            && branch_of(b) == Some(expect.branch)
            && sha_matches(b, expect.sha)
            && b.queued_at
                .as_deref()
                .and_then(unix_time)
                .is_none_or(|queued| queued >= expect.sent_at - CLOCK_SKEW)
    });
    if let Some(b) = new {
        return Some((b.clone(), "was queued"));
    }
    now.iter()
        .filter(|b| expect.rerun.contains(&b.uuid))
        .find(|b| {
            expect
                .before
                .iter()
                .find(|old| old.uuid == b.uuid)
                .is_some_and(|old| ran_again(old, b))
        })
        .map(|b| (b.clone(), "runs again"))
}

/// A finished build that is running again, or was queued or finished anew since.
fn ran_again(old: &Build, now: &Build) -> bool {
    (old.state().is_finished() && !now.state().is_finished())
        || old.queued_at != now.queued_at
        || (old.finished_at.is_some() && old.finished_at != now.finished_at)
}

fn restart_latest(ctx: &Ctx, api: &Api, branch: &str, wait: bool, force: bool) -> Result<Report> {
    let (newest, seen) = api.newest_on_branch(ctx, branch)?;
    refuse_own_build(&[&newest.uuid], force)?;
    output::event(format!(
        "restarting build {} of `{branch}` (commit {}, {})",
        newest.uuid,
        newest.commit(),
        newest.status()
    ));
    let sent_at = now_unix() as i64;
    let resp = api.call(ctx, |prefix| {
        Request::post(format!("{prefix}/builds/{}/restart", encode(&newest.uuid))).starts_build(
            format!("the builds of `{branch}` at {}", api.project_page()),
        )
    })?;
    api.check(&resp, Target::Build(&newest.uuid), "build.write")?;
    let started = if newest.state().is_finished() {
        api.find_started(
            ctx,
            &Expect {
                branch,
                sha: newest.commit_sha.as_deref(),
                before: &seen,
                rerun: vec![newest.uuid.clone()],
                sent_at,
            },
            "restart",
        )?
    } else {
        output::event(format!(
            "build {} is still {}, and Codeship ignores restarts of running builds: following it",
            newest.uuid,
            newest.status()
        ));
        newest
    };
    announce(ctx, api, "restart-latest", &started, wait)
}

fn trigger(ctx: &Ctx, api: &Api, branch: &str, sha: Option<&str>, detach: bool) -> Result<Report> {
    let before = api.list(ctx, 1)?.builds;
    // Codeship silently ignores a bare branch name: the ref must be `heads/<branch>`.
    let mut body = json!({ "ref": format!("heads/{branch}") });
    if let Some(sha) = sha {
        body["commit_sha"] = json!(sha);
    }
    output::event(format!(
        "triggering a build of `{branch}`{}",
        sha.map(|s| format!(" at commit {s}")).unwrap_or_default()
    ));
    let sent_at = now_unix() as i64;
    let resp = api.call(ctx, |prefix| {
        Request::post(format!("{prefix}/builds"))
            .json(&body)
            .starts_build(format!(
                "the builds of `{branch}` at {}",
                api.project_page()
            ))
    })?;
    api.check(&resp, Target::Project, "build.write")?;
    let rerun = before
        .iter()
        .filter(|b| branch_of(b) == Some(branch) && sha_matches(b, sha))
        .map(|b| b.uuid.clone())
        .collect();
    let started = api.find_started(
        ctx,
        &Expect {
            branch,
            sha,
            before: &before,
            rerun,
            sent_at,
        },
        "trigger",
    )?;
    announce(ctx, api, "trigger", &started, !detach)
}

/// Prints the started build and, when asked, waits for it; `--timeout` counts from the
/// command's start, so finding the build and waiting for it share one limit.
fn announce(
    ctx: &Ctx,
    api: &Api,
    action: &'static str,
    build: &Build,
    wait: bool,
) -> Result<Report> {
    let report = report(api, action, build);
    let url = report.url.clone().unwrap_or_default();
    ctx.out.started(&report)?;
    output::event(format!("build {}: {url}", build.uuid));
    if wait {
        follow(ctx, api, report)
    } else {
        Ok(report)
    }
}

fn report(api: &Api, action: &'static str, build: &Build) -> Report {
    Report {
        provider: "codeship",
        action,
        id: build.uuid.clone(),
        number: None,
        url: Some(api.build_url(&build.uuid)),
        status: build.status().to_string(),
        result: Outcome::Started,
    }
}

/// Polls the build until it finishes or `--timeout`; the report's result is the outcome.
fn follow(ctx: &Ctx, api: &Api, mut report: Report) -> Result<Report> {
    let uuid = report.id.clone();
    let waited = wait::until_finished(ctx.wait, &format!("build {uuid}"), || {
        let b = api.build(ctx, &uuid)?;
        Ok(Observation::new(b.state(), b.status()))
    })?;
    let (seen, result) = waited.outcome();
    report.status = seen.status;
    report.result = result;
    Ok(report)
}

/// Prints the status word on stdout; exits by the build's result once it finished.
fn status(ctx: &Ctx, api: &Api, uuid: &str) -> Result<Report> {
    let b = api.build(ctx, uuid)?;
    let mut report = report(api, "status", &b);
    ctx.out.text(b.status());
    output::event(format!(
        "build {uuid} of `{}` (commit {}): {} {}",
        branch_of(&b).unwrap_or("unknown branch"),
        b.commit(),
        b.status(),
        report.url.as_deref().unwrap_or("")
    ));
    report.result = Outcome::of(b.state());
    Ok(report)
}

/// Stops a running build; a finished one is left alone (exit 0 either way).
fn stop(ctx: &Ctx, api: &Api, uuid: &str) -> Result<Report> {
    let b = api.build(ctx, uuid)?;
    let mut report = report(api, "stop", &b);
    report.result = Outcome::Success;
    if b.state().is_finished() {
        output::event(format!(
            "nothing to stop: build {uuid} already finished ({})",
            b.status()
        ));
        return Ok(report);
    }
    let resp = api.call(ctx, |prefix| {
        Request::post(format!("{prefix}/builds/{}/stop", encode(uuid)))
    })?;
    api.check(&resp, Target::Build(uuid), "build.write")?;
    let after = api.build(ctx, uuid)?;
    output::event(format!(
        "asked Codeship to stop build {uuid}; it is {}",
        after.status()
    ));
    report.status = after.status().to_string();
    Ok(report)
}

/// The organization named by uuid or exact name; without one, the user's only organization.
fn choose_org(orgs: &[Org], wanted: Option<(&str, &str)>, user: &str) -> Result<Org> {
    if orgs.is_empty() {
        return Err(Error::api(format!(
            "the machine user {user} belongs to no Codeship organization: add it to the organization that owns the project"
        )));
    }
    let names = || {
        orgs.iter()
            .map(|o| format!("`{}` ({})", o.name, o.uuid))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some((var, want)) => orgs
            .iter()
            .find(|o| o.uuid.eq_ignore_ascii_case(want))
            .or_else(|| orgs.iter().find(|o| o.name == want))
            .cloned()
            .ok_or_else(|| {
                Error::api(format!(
                    "{var}=`{want}` is not an organization of {user}; it belongs to {}",
                    names()
                ))
            }),
        None if orgs.len() == 1 => Ok(orgs[0].clone()),
        None => Err(Error::api(format!(
            "{user} belongs to several organizations: set {} to the name or uuid of one of {}",
            ORG_VARS[0],
            names()
        ))),
    }
}

/// When to sign in again: `REFRESH_BEFORE` ahead of expiry, or halfway through a short-lived
/// token's life, so a short token is not renewed before every request.
fn refresh_time(expires_at: u64, now: u64) -> u64 {
    let life = expires_at.saturating_sub(now);
    expires_at - REFRESH_BEFORE.min(life / 2)
}

/// The last page: an empty one, or `total` reached, or (without `total`) a short page.
fn is_last_page(count: usize, seen: usize, total: Option<u64>, per_page: Option<u64>) -> bool {
    count == 0
        || match total {
            Some(total) => seen as u64 >= total,
            None => (count as u64) < per_page.unwrap_or(PER_PAGE as u64),
        }
}

/// The branch a build is of: its `heads/…` ref, else its `branch` field.
fn branch_of(b: &Build) -> Option<&str> {
    b.git_ref
        .as_deref()
        .map(|r| r.strip_prefix("refs/").unwrap_or(r))
        .and_then(|r| r.strip_prefix("heads/"))
        .or(b.branch.as_deref())
}

/// `main`, `heads/main` and `refs/heads/main` all name the branch `main`.
fn branch_name(input: &str) -> &str {
    let input = input.trim();
    let r = input.strip_prefix("refs/").unwrap_or(input);
    r.strip_prefix("heads/").unwrap_or(r)
}

/// Full and abbreviated SHAs match each other.
fn sha_matches(b: &Build, sha: Option<&str>) -> bool {
    match (sha, b.commit_sha.as_deref()) {
        (None, _) => true,
        (Some(want), Some(have)) => {
            let (want, have) = (want.to_ascii_lowercase(), have.to_ascii_lowercase());
            have.starts_with(&want) || want.starts_with(&have)
        }
        (Some(_), None) => false,
    }
}

fn sha_arg(sha: &str) -> Result<String> {
    let sha = sha.trim();
    if (4..=40).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(sha.to_string())
    } else {
        Err(Error::usage(format!(
            "--sha must be a commit SHA (4 to 40 hex digits), not `{sha}`"
        )))
    }
}

/// A uuid from an answer: it goes into request paths and export files, so anything else
/// (a newline that would add a variable, a `/` that would change the path) is refused.
fn checked_uuid(resp: &Response, value: &str, what: &str) -> Result<()> {
    if looks_like_uuid(value) {
        Ok(())
    } else {
        Err(resp.unusable(&format!(
            "with {what} whose uuid is not a uuid (`{}`)",
            value.escape_debug()
        )))
    }
}

/// Hex digits and dashes, as Codeship's uuids are.
fn looks_like_uuid(v: &str) -> bool {
    (8..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn build_arg(build: &str) -> Result<String> {
    uuid_arg(
        build,
        "BUILD",
        "the uuid `cirelay codeship trigger` printed, or from the API; not the number the web app shows",
    )
}

/// Codeship API v2 names projects and builds by uuid; a number is an API v1 id.
fn uuid_arg(value: &str, name: &str, where_to_find: &str) -> Result<String> {
    let v = value.trim();
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::usage(format!(
            "{name}={v} is a number, but Codeship API v2 needs a uuid: {where_to_find}"
        )));
    }
    if !looks_like_uuid(v) {
        return Err(Error::usage(format!(
            "{name} must be a uuid like 0a1b2c3d-4e5f-6789-abcd-ef0123456789, not `{v}`: {where_to_find}"
        )));
    }
    Ok(v.to_ascii_lowercase())
}

/// Standard base64 with padding, for the Basic-auth header; not worth a dependency.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Everything cirelay reads from a Codeship API v2 answer, without a server: the sign-in
/// (token, organization, expiry), a page of builds (newest on a branch, the build a trigger
/// or restart started, statuses, timestamps) and one build. For the fuzz targets.
pub(crate) fn read_answers(body: &str) {
    let resp = Response::received(200, Vec::new(), body.to_string(), "POST /v2/auth");
    if let Ok(auth) = resp.decode::<Auth>() {
        let _ = choose_org(&auth.organizations, None, "bot");
        for org in &auth.organizations {
            let _ = choose_org(&auth.organizations, Some((ORG_VARS[0], &org.name)), "bot");
            let _ = choose_org(&auth.organizations, Some((ORG_VARS[0], &org.uuid)), "bot");
        }
        let _ = auth
            .expires_at
            .map(|at| refresh_time(at as u64, now_unix()));
    }
    let mut builds = Vec::new();
    if let Ok(page) = resp.decode::<BuildPage>() {
        let count = page.builds.len();
        let _ = is_last_page(count, count, page.total, page.per_page);
        builds = page.builds;
    }
    if let Ok(one) = resp.decode::<OneBuild>() {
        builds.push(one.build);
    }
    for b in &builds {
        let _ = (
            b.state(),
            b.commit(),
            b.finished_at.as_deref().map(unix_time),
        );
        let Some(branch) = branch_of(b) else {
            continue;
        };
        // As if the request had been sent at a fixed time, with nothing listed before it,
        // or everything, and this build restarted in place.
        let sent_at = 1_790_000_000;
        for before in [&builds[..0], &builds[..]] {
            let expect = Expect {
                branch,
                sha: b.commit_sha.as_deref(),
                before,
                rerun: vec![b.uuid.clone()],
                sent_at,
            };
            let _ = started_build(&expect, &builds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(uuid: &str, branch: &str, sha: &str, status: &str, queued: &str) -> Build {
        Build {
            uuid: uuid.into(),
            git_ref: Some(format!("heads/{branch}")),
            branch: None,
            commit_sha: Some(sha.into()),
            status: Some(status.into()),
            queued_at: Some(queued.into()),
            finished_at: Some("2026-11-01T10:05:00Z".into()),
        }
    }

    const T0: &str = "2026-11-01T10:00:00.000Z";

    #[test]
    fn statuses() {
        assert_eq!(state_of("success"), BuildState::Success);
        for failed in ["error", "failed", "infrastructure_failure"] {
            assert_eq!(state_of(failed), BuildState::Failed, "{failed}");
        }
        // `blocked` is final: a blocked build does not run by itself (Codeship's badge
        // shows it with stopped and ignored).
        for terminated in ["stopped", "ignored", "blocked"] {
            assert_eq!(state_of(terminated), BuildState::Terminated, "{terminated}");
        }
        for running in [
            "initiated",
            "waiting",
            "testing",
            "queued",
            "running",
            "something_new",
        ] {
            assert_eq!(state_of(running), BuildState::Running, "{running}");
        }
    }

    /// Answers the fuzz target found a panic in; each must be read without one.
    #[test]
    fn fuzzed_answers_are_read_without_panicking() {
        // A finished_at in the year 99999999999999 overflowed.
        read_answers(
            r#"{"build": {"uuid": "u", "status": "success", "finished_at": " 99999999999999-12-31T23:59:59Z"}}"#,
        );
        // The commit was cut at byte 8, inside `日`.
        read_answers(
            r#"{"builds": [{"uuid": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "ren": "heads/main", "branch": "main", "commit_sha": "80d228日本", "status": "testing", "queued_at": "2026-11-00T12:00:01.19300+:00", "finished_at": null}, {"uuid": "old", "ref": "refs/heads/main", "commit_,ha": "81d2", "status": "success", "queued_a+": "2017running19:13:55+02:00", "finished_at": "2017-09-13T12:13:55-0500"}], "total": 75, "per_page": 30, "page": 1}"#,
        );
    }

    #[test]
    fn base64_of_basic_credentials() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(
            base64(b"bot@example.com:p\xc3\xa4ss:word"),
            "Ym90QGV4YW1wbGUuY29tOnDDpHNzOndvcmQ="
        );
    }

    #[test]
    fn branch_names_and_refs() {
        assert_eq!(branch_name("main"), "main");
        assert_eq!(branch_name("heads/main"), "main");
        assert_eq!(branch_name("refs/heads/feature/x"), "feature/x");
        let mut b = build("u", "feature/x", "abc", "success", T0);
        assert_eq!(branch_of(&b), Some("feature/x"));
        b.git_ref = Some("refs/heads/dev".into());
        assert_eq!(branch_of(&b), Some("dev"));
        b.git_ref = None;
        b.branch = Some("legacy".into());
        assert_eq!(branch_of(&b), Some("legacy"));
        b.git_ref = Some("tags/v1".into());
        assert_eq!(branch_of(&b), Some("legacy"));
        b.branch = None;
        assert_eq!(branch_of(&b), None);
    }

    #[test]
    fn last_page_is_decided_by_total_when_given() {
        // Codeship may cap per_page below 50: a full page of 30 with more to come is not the end.
        assert!(!is_last_page(30, 30, Some(75), Some(30)));
        assert!(is_last_page(15, 75, Some(75), Some(30)));
        assert!(!is_last_page(50, 50, None, None));
        assert!(is_last_page(20, 70, None, None));
        assert!(is_last_page(0, 100, Some(500), None));
    }

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        assert_eq!(refresh_time(10_000, 6_400), 9_940);
        // A short-lived token is used for half its life, not renewed before every request.
        assert_eq!(refresh_time(1_010, 1_000), 1_005);
        assert_eq!(refresh_time(900, 1_000), 900);
    }

    fn orgs() -> Vec<Org> {
        vec![
            Org {
                uuid: "aaaa-1111".into(),
                name: "Acme".into(),
                scopes: vec![],
            },
            Org {
                uuid: "bbbb-2222".into(),
                name: "Acme Labs".into(),
                scopes: vec![],
            },
        ]
    }

    #[test]
    fn organization_by_uuid_or_exact_name() {
        let orgs = orgs();
        let pick = |want| choose_org(&orgs, Some(("CODESHIP_API_ORG", want)), "bot");
        assert_eq!(pick("Acme Labs").unwrap().uuid, "bbbb-2222");
        assert_eq!(pick("AAAA-1111").unwrap().name, "Acme");
        let err = pick("acme").unwrap_err().to_string();
        assert!(
            err.contains("CODESHIP_API_ORG=`acme`")
                && err.contains("`Acme` (aaaa-1111), `Acme Labs` (bbbb-2222)"),
            "{err}"
        );
        let err = choose_org(&orgs, None, "bot").unwrap_err().to_string();
        assert!(err.contains("set CODESHIP_API_ORG"), "{err}");
        assert_eq!(choose_org(&orgs[..1], None, "bot").unwrap().name, "Acme");
        assert!(choose_org(&[], None, "bot").is_err());
    }

    #[test]
    fn arguments_are_checked_before_anything_is_sent() {
        assert_eq!(
            build_arg(" 0A1B2C3D-4e5f-6789-abcd-ef0123456789 ").unwrap(),
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        );
        assert!(build_arg("12345")
            .unwrap_err()
            .to_string()
            .contains("is a number"));
        assert!(build_arg("../../x").is_err());
        assert!(build_arg("").is_err());
        assert_eq!(sha_arg("81D2282b").unwrap(), "81D2282b");
        assert!(sha_arg("main").is_err());
        assert!(sha_arg(&"a".repeat(41)).is_err());
    }

    fn expect<'a>(before: &'a [Build], sha: Option<&'a str>, rerun: &[&str]) -> Expect<'a> {
        Expect {
            branch: "main",
            sha,
            before,
            rerun: rerun.iter().map(|s| s.to_string()).collect(),
            sent_at: unix_time("2026-11-01T12:00:00Z").unwrap(),
        }
    }

    #[test]
    fn a_pro_restart_is_the_new_build_of_the_branch_and_commit() {
        let before = [
            build("old-dev", "dev", "d1", "success", T0),
            build("old-main", "main", "m1", "failed", T0),
        ];
        let now = [
            // Someone pushed to main meanwhile: another commit, not our restart.
            build("push", "main", "m2", "testing", "2026-11-01T12:00:02Z"),
            build("other", "dev", "m1", "testing", "2026-11-01T12:00:01Z"),
            build(
                "restarted",
                "main",
                "m1",
                "initiated",
                "2026-11-01T12:00:01Z",
            ),
            before[0].clone(),
            before[1].clone(),
        ];
        let e = expect(&before, Some("m1"), &["old-main"]);
        let (b, how) = started_build(&e, &now).unwrap();
        assert_eq!((b.uuid.as_str(), how), ("restarted", "was queued"));
        // Nothing new yet.
        assert!(started_build(&e, &before).is_none());
    }

    #[test]
    fn a_build_queued_long_before_the_request_is_not_the_one_it_started() {
        let before = [build("old-main", "main", "m1", "failed", T0)];
        let now = [
            build("ancient", "main", "m1", "success", "2026-11-01T11:50:00Z"),
            before[0].clone(),
        ];
        assert!(started_build(&expect(&before, None, &[]), &now).is_none());
        // Within the allowed clock skew it is.
        let now = [
            build(
                "skewed",
                "main",
                "m1",
                "queued",
                "2026-11-01T11:58:00+00:00",
            ),
            before[0].clone(),
        ];
        assert_eq!(
            started_build(&expect(&before, None, &[]), &now)
                .unwrap()
                .0
                .uuid,
            "skewed"
        );
    }

    #[test]
    fn a_basic_restart_is_the_same_build_running_again() {
        let old = build("basic-1", "main", "m1", "failed", T0);
        let before = [old.clone()];
        let e = expect(&before, Some("m1"), &["basic-1"]);
        assert!(started_build(&e, &before).is_none());
        let mut running = old.clone();
        running.status = Some("waiting".into());
        let (b, how) = started_build(&e, &[running]).unwrap();
        assert_eq!((b.uuid.as_str(), how), ("basic-1", "runs again"));
        // Already ran again and finished between two looks: its timestamps moved.
        let mut rerun = old.clone();
        rerun.finished_at = Some("2026-11-01T12:03:00Z".into());
        assert!(started_build(&e, &[rerun.clone()]).is_some());
        // A build that is not the restarted one changing does not count.
        let e = expect(&before, Some("m1"), &[]);
        assert!(started_build(&e, &[rerun]).is_none());
    }
}
