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
mod watch;

use crate::cli::{env_first, CircleciCommand};
use crate::error::{Error, Result};
use crate::output::Report;
use crate::Ctx;

pub(crate) use api::read_answers;
pub use api::Api;

pub const TOKEN_VARS: &[&str] = &["CIRCLE_TOKEN", "CIRCLECI_TOKEN"];
pub const HOST_VAR: &str = "CIRCLECI_HOST";
pub const DEFAULT_HOST: &str = "https://circleci.com";
/// The pipeline this job runs in. CircleCI does not set it by itself: a job exports it from
/// the `<< pipeline.id >>` pipeline value (see the README).
pub const OWN_PIPELINE_VAR: &str = "CIRCLE_PIPELINE_ID";
const VCS_NAMES: &[&str] = &["gh", "github", "bb", "bitbucket", "circleci"];

pub fn run(ctx: &Ctx, command: CircleciCommand) -> Result<Report> {
    match command {
        CircleciCommand::Trigger(trigger) => {
            // Everything the user can get wrong is checked before the token is needed.
            let slug = Slug::resolve(trigger.slug.as_deref())?;
            let git_ref = GitRef::resolve(trigger.branch.clone(), trigger.tag.clone());
            if let Some(id) = &trigger.definition_id {
                if !is_uuid(id) {
                    return Err(Error::usage(format!(
                        "--definition-id must be the pipeline definition's UUID (Project Settings → Pipelines), not `{id}`"
                    )));
                }
            }
            let api = Api::from_env()?;
            commands::trigger(ctx, &api, &slug, git_ref, &trigger)
        }
        CircleciCommand::Status { pipeline } => {
            let pipeline = pipeline_id(pipeline)?;
            commands::status(ctx, &Api::from_env()?, &pipeline)
        }
        CircleciCommand::Wait { pipeline } => {
            let pipeline = pipeline_id(pipeline)?;
            commands::wait(ctx, &Api::from_env()?, &pipeline)
        }
        CircleciCommand::Cancel { pipeline } => {
            let pipeline = pipeline_id(pipeline)?;
            commands::cancel(ctx, &Api::from_env()?, &pipeline)
        }
        CircleciCommand::RestartLatest {
            slug,
            branch,
            from_failed,
            wait,
            force,
        } => {
            let slug = Slug::resolve(slug.as_deref())?;
            let branch = branch
                .filter(|b| !b.trim().is_empty())
                .or_else(|| env_first(&["CIRCLE_BRANCH"]).map(|(_, b)| b))
                .ok_or_else(|| {
                    Error::usage(
                        "no branch: pass --branch B (inside a CircleCI job it defaults to $CIRCLE_BRANCH)",
                    )
                })?;
            let api = Api::from_env()?;
            commands::restart_latest(
                ctx,
                &api,
                &slug,
                &branch,
                commands::Restart {
                    from_failed,
                    wait,
                    force,
                },
            )
        }
    }
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
fn pipeline_id(raw: String) -> Result<String> {
    let raw = raw.trim().to_string();
    if is_uuid(&raw) {
        Ok(raw)
    } else {
        Err(Error::usage(format!(
            "PIPELINE_ID must be the pipeline's UUID (what `cirelay circleci trigger` prints), not `{raw}`"
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
