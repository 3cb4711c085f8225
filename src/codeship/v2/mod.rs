//! Codeship API v2: a machine user's email and password are exchanged for an access token
//! (`POST /v2/auth`, see [`auth`]) that names the organizations the user may act in;
//! everything else lives under `/v2/organizations/:org/projects/:project`. Triggers and
//! restarts answer 202 with no body, so the build they started is found by listing the
//! project's builds again (see [`finding`]).

mod auth;
mod finding;
mod projects;

use std::sync::Mutex;

use serde::Deserialize;
use serde_json::json;

use super::{base_url, short_commit, state_of, ORG_VARS, PROJECT_UUID_VARS};
use crate::build::{self, Reading, Stopped, Tracked, Watch};
use crate::cli::env_first;
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, PageBudget, Request, Response};
use crate::listing::{self, Filter, Listed};
use crate::output;
use crate::provider::About;
use crate::time::now_unix;
use crate::wait::{BuildState, Observation};
use crate::Ctx;
use auth::{base64, Session};
pub use finding::branch_name;
use finding::{branch_of, sha_matches, Expect};

const DEFAULT_URL: &str = "https://api.codeship.com";
pub const WEB_URL: &str = "https://app.codeship.com";
const PER_PAGE: usize = 50;
/// The newest 1,000 builds. A branch not built within them is almost certainly misspelled,
/// and reading further costs the 60-requests-a-minute budget every other step shares.
const MAX_PAGES: usize = 20;
/// How long a trigger or restart may take to show up in the build list. Codeship queues
/// within seconds; longer means it dropped the request (e.g. a ref it did not recognise).
const FIND_WINDOW: std::time::Duration = std::time::Duration::from_secs(180);
/// The runner's clock and Codeship's may disagree; a build queued this long before the
/// request was sent is still accepted as the one it started.
const CLOCK_SKEW: i64 = 300;

type Var = (&'static str, String);

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Build {
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
    /// When a machine took it: the build's start.
    #[serde(default)]
    allocated_at: Option<String>,
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

/// The newest build of a branch, and every build read on the way (what the project looked
/// like before the restart, to recognise the build the restart starts).
pub struct Newest {
    build: Build,
    seen: Vec<Build>,
}

/// What `codeship trigger` is asked to build.
pub struct Trigger {
    pub branch: String,
    pub sha: Option<String>,
}

pub struct Api {
    base: String,
    user: Var,
    password_var: &'static str,
    /// `base64(user:password)`.
    basic: String,
    org: Option<Var>,
    project: Var,
    /// Behind a Mutex so that builds of one project can be polled from several threads.
    session: Mutex<Option<Session>>,
}

impl Api {
    /// Reads the configuration, for `project` when given (`codeship builds PROJECT_UUID`),
    /// else the project variables; every secret is registered before anything can print it.
    pub fn for_project(user: Var, password: Var, project: Option<&str>) -> Result<Self> {
        register_secret(&password.1);
        let project = match project {
            Some(raw) => (
                "PROJECT_UUID",
                uuid_arg(raw, "PROJECT_UUID", "Project Settings → General")?,
            ),
            None => {
                let (project_var, raw) = env_first(PROJECT_UUID_VARS).ok_or_else(|| {
                    Error::usage(format!(
                        "{} is not set: use the project's uuid from Codeship's Project Settings → General",
                        PROJECT_UUID_VARS[0]
                    ))
                })?;
                (
                    project_var,
                    uuid_arg(&raw, project_var, "Project Settings → General")?,
                )
            }
        };
        Self::signing_in(user, password, project)
    }

    /// For the organization's own commands (`projects`, `project get|create`), which name
    /// their project themselves or none: no project variable is read, and they send only
    /// through [`call_org`](Self::call_org).
    pub fn for_organization(user: Var, password: Var) -> Result<Self> {
        register_secret(&password.1);
        Self::signing_in(user, password, (PROJECT_UUID_VARS[0], String::new()))
    }

    fn signing_in(user: Var, password: Var, project: Var) -> Result<Self> {
        let basic = base64(format!("{}:{}", user.1, password.1).as_bytes());
        register_secret(&basic);
        // Codeship's own clients configure `https://api.codeship.com/v2`; accept that form too.
        let base = base_url(DEFAULT_URL)?;
        let base = base.strip_suffix("/v2").unwrap_or(&base).to_string();
        Ok(Api {
            base,
            user,
            password_var: password.0,
            basic,
            org: env_first(ORG_VARS).map(|(n, v)| (n, v.trim().to_string())),
            project,
            session: Mutex::new(None),
        })
    }

    fn project_page(&self) -> String {
        format!("{WEB_URL}/projects/{}", self.project.1)
    }

    fn build_url(&self, uuid: &str) -> String {
        format!("{}/builds/{uuid}", self.project_page())
    }

    /// Names the id or setting to fix for each refusal.
    fn check(&self, resp: &Response, about: About, scope: &str) -> Result<()> {
        if resp.is_success() {
            return Ok(());
        }
        let (org, scopes) = self.org_label();
        let (project_var, project) = (&self.project.0, &self.project.1);
        let user = &self.user.1;
        Err(match (resp.status, about) {
            (401, _) => resp.error(&format!(
                "Codeship refused a fresh access token for {user}: check that the machine user still has access to {org}"
            )),
            (403, _) => resp.error(&format!(
                "{user} may not do this in {org}: it needs the {scope} scope there (it has: {scopes})"
            )),
            // The organization's own commands name their project themselves.
            (404, About::Project(p)) if project.is_empty() => resp.error(&match p.to_string() {
                p if p.is_empty() => {
                    format!("Codeship does not know the projects of {org}: check CODESHIP_API_ORG")
                }
                p => format!(
                    "project {p} was not found in {org}: check the uuid (`codeship projects` lists them) and CODESHIP_API_ORG"
                ),
            }),
            (404, About::Project(_)) => resp.error(&format!(
                "project {project} was not found in {org}: check {project_var} (Project Settings → General) and CODESHIP_API_ORG"
            )),
            (404, About::Build(uuid)) => resp.error(&format!(
                "build {uuid} was not found in project {project} ({project_var}) of {org}: check the build uuid"
            )),
            _ => resp.error(""),
        })
    }

    fn list(&self, ctx: &Ctx, page: usize) -> Result<BuildPage> {
        Ok(self.list_answer(ctx, page)?.0)
    }

    /// A page of the project's builds, and the answer it came in (its size counts against
    /// a list's [`PageBudget`](crate::http::PageBudget)).
    fn list_answer(&self, ctx: &Ctx, page: usize) -> Result<(BuildPage, Response)> {
        let resp = self.call(ctx, |prefix| {
            Request::get(format!("{prefix}/builds?page={page}&per_page={PER_PAGE}"))
        })?;
        self.check(&resp, About::Project(&self.project.1), "build.read")?;
        let page: BuildPage = resp.decode()?;
        for b in &page.builds {
            checked_uuid(&resp, &b.uuid, "a build")?;
        }
        Ok((page, resp))
    }

    fn build(&self, ctx: &Ctx, uuid: &str) -> Result<Build> {
        let resp = self.call(ctx, |prefix| {
            Request::get(format!("{prefix}/builds/{}", encode(uuid)))
        })?;
        self.check(&resp, About::Build(uuid), "build.read")?;
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
}

impl Api {
    /// The project's newest builds that pass `filter`, page by page (Codeship has no
    /// filters of its own), at most the newest 1,000.
    pub fn builds(&self, ctx: &Ctx, filter: &Filter) -> Result<Vec<Listed>> {
        let mut budget = PageBudget::default();
        let (mut rows, mut seen) = (Vec::new(), 0);
        for page in 1..=MAX_PAGES {
            let (listed, resp) = self.list_answer(ctx, page)?;
            budget.spend(&resp, "the build list")?;
            let count = listed.builds.len();
            seen += count;
            rows.extend(
                listed
                    .builds
                    .iter()
                    .map(|b| self.listed(b))
                    .filter(|r| filter.keeps(r)),
            );
            if rows.len() >= filter.limit
                || is_last_page(count, seen, listed.total, listed.per_page)
            {
                break;
            }
        }
        rows.truncate(filter.limit);
        Ok(rows)
    }

    fn listed(&self, b: &Build) -> Listed {
        let started = b.allocated_at.as_deref().or(b.queued_at.as_deref());
        Listed {
            provider: super::NAME,
            id: b.uuid.clone(),
            number: None,
            pipeline: Some(self.project.1.clone()),
            branch: branch_of(b).map(str::to_string),
            commit: b.commit_sha.clone(),
            status: b.status().to_string(),
            result: listing::result_word(b.state()),
            created_at: b.queued_at.clone(),
            finished_at: b.finished_at.clone(),
            duration_s: listing::duration_s(started, b.finished_at.as_deref()),
            url: Some(self.build_url(&b.uuid)),
        }
    }

    /// The branch's newest build, reading the project's builds newest first.
    pub fn newest(&self, ctx: &Ctx, branch: &str) -> Result<(Newest, build::Build)> {
        let (newest, seen) = self.newest_on_branch(ctx, branch)?;
        let found = self.seam_build(&newest);
        Ok((
            Newest {
                build: newest,
                seen,
            },
            found,
        ))
    }

    pub fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        branch: &str,
        newest: Newest,
    ) -> Result<Tracked<'a, String>> {
        let Newest {
            build: newest,
            seen,
        } = newest;
        output::event(format!(
            "restarting build {} of `{branch}` (commit {}, {})",
            newest.uuid,
            newest.commit(),
            newest.status()
        ));
        let sent_at = now_unix() as i64;
        let resp = self.call(ctx, |prefix| {
            Request::post(format!("{prefix}/builds/{}/restart", encode(&newest.uuid))).starts_build(
                format!("the builds of `{branch}` at {}", self.project_page()),
            )
        })?;
        self.check(&resp, About::Build(&newest.uuid), "build.write")?;
        let started = if newest.state().is_finished() {
            self.find_started(
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
        Ok(self.started(&started))
    }

    pub fn trigger<'a>(&'a self, ctx: &Ctx, request: &Trigger) -> Result<Tracked<'a, String>> {
        let (branch, sha) = (request.branch.as_str(), request.sha.as_deref());
        let before = self.list(ctx, 1)?.builds;
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
        let resp = self.call(ctx, |prefix| {
            Request::post(format!("{prefix}/builds"))
                .json(&body)
                .starts_build(format!(
                    "the builds of `{branch}` at {}",
                    self.project_page()
                ))
        })?;
        self.check(&resp, About::Project(&self.project.1), "build.write")?;
        let rerun = before
            .iter()
            .filter(|b| branch_of(b) == Some(branch) && sha_matches(b, sha))
            .map(|b| b.uuid.clone())
            .collect();
        let started = self.find_started(
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
        Ok(self.started(&started))
    }

    /// The build and the line that describes it: branch, commit, status, link.
    pub fn read(&self, ctx: &Ctx, uuid: &str) -> Result<Reading> {
        let b = self.build(ctx, uuid)?;
        let found = self.seam_build(&b);
        let line = format!(
            "build {uuid} of `{}` (commit {}): {} {}",
            branch_of(&b).unwrap_or("unknown branch"),
            b.commit(),
            b.status(),
            found.url.as_deref().unwrap_or("")
        );
        Ok(Reading {
            build: found,
            lines: vec![line],
        })
    }

    /// A build known only by its uuid, to be followed.
    pub fn watch(&self, uuid: &str) -> Tracked<'_, String> {
        let unread = Build {
            uuid: uuid.to_string(),
            ..Build::default()
        };
        self.tracked(&unread, None)
    }

    /// Stops a running build; a finished one is left alone.
    pub fn stop(&self, ctx: &Ctx, uuid: &str) -> Result<(build::Build, Stopped)> {
        let b = self.build(ctx, uuid)?;
        if b.state().is_finished() {
            let status = b.status().to_string();
            return Ok((
                self.seam_build(&b),
                Stopped::AlreadyFinished { status, why: None },
            ));
        }
        let resp = self.call(ctx, |prefix| {
            Request::post(format!("{prefix}/builds/{}/stop", encode(uuid)))
        })?;
        self.check(&resp, About::Build(uuid), "build.write")?;
        let after = self.build(ctx, uuid)?;
        let status = after.status().to_string();
        let line = format!("asked Codeship to stop build {uuid}; it is {status}");
        Ok((
            self.seam_build(&after),
            Stopped::Asked {
                status,
                line: Some(line),
            },
        ))
    }

    fn seam_build(&self, b: &Build) -> build::Build {
        build::Build {
            id: b.uuid.clone(),
            number: None,
            url: Some(self.build_url(&b.uuid)),
            status: b.status().to_string(),
            state: b.state(),
            label: format!("build {}", b.uuid),
            aliases: Vec::new(),
        }
    }

    /// A build a trigger or restart started: its link goes to the log once it is known.
    fn started(&self, b: &Build) -> Tracked<'_, String> {
        let line = format!("build {}: {}", b.uuid, self.build_url(&b.uuid));
        self.tracked(b, Some(line))
    }

    fn tracked(&self, b: &Build, line: Option<String>) -> Tracked<'_, String> {
        Tracked {
            build: self.seam_build(b),
            reference: b.uuid.clone(),
            line,
            watch: Box::new(Reads {
                api: self,
                uuid: b.uuid.clone(),
            }),
        }
    }
}

/// Follows a build by reading it.
struct Reads<'a> {
    api: &'a Api,
    uuid: String,
}

impl Watch for Reads<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let b = self.api.build(ctx, &self.uuid)?;
        Ok(Observation::new(b.state(), b.status()))
    }
}

/// The last page: an empty one, or `total` reached, or (without `total`) a short page.
fn is_last_page(count: usize, seen: usize, total: Option<u64>, per_page: Option<u64>) -> bool {
    count == 0
        || match total {
            Some(total) => seen as u64 >= total,
            None => (count as u64) < per_page.unwrap_or(PER_PAGE as u64),
        }
}

pub fn sha_arg(sha: &str) -> Result<String> {
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

/// A project's uuid given on the line.
pub fn project_arg(project: &str) -> Result<String> {
    uuid_arg(
        project,
        "UUID",
        "Project Settings → General, or `cirelay codeship projects`",
    )
}

#[cfg(fuzzing)]
pub(crate) use projects::parse_spec as parse_project_spec;
pub use projects::read_spec as read_project_spec;

pub fn build_arg(build: &str) -> Result<String> {
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

/// Everything cirelay reads from a Codeship API v2 answer, without a server: the sign-in
/// (token, organization, expiry), a page of builds (newest on a branch, the build a trigger
/// or restart started, statuses, timestamps) and one build. For the fuzz targets.
#[cfg(any(test, fuzzing))]
pub(crate) fn read_answers(body: &str) {
    use crate::time::rfc3339 as unix_time;
    use finding::started_build;
    let resp = Response::received(200, Vec::new(), body.to_string(), "POST /v2/auth");
    auth::read_answers(&resp);
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
    fn last_page_is_decided_by_total_when_given() {
        // Codeship may cap per_page below 50: a full page of 30 with more to come is not the end.
        assert!(!is_last_page(30, 30, Some(75), Some(30)));
        assert!(is_last_page(15, 75, Some(75), Some(30)));
        assert!(!is_last_page(50, 50, None, None));
        assert!(is_last_page(20, 70, None, None));
        assert!(is_last_page(0, 100, Some(500), None));
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
}
