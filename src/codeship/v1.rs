//! Codeship API v1, as the original `codeship_restart_build` used it: the API key travels in
//! the query string (so every URL is redacted before it is printed), projects have numeric ids.

use serde::Deserialize;

use super::{base_url, short_commit, state_of, KEY_VAR};
use crate::build::{self, Tracked, Watch};
use crate::cli::env_first;
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::listing::{self, Filter};
use crate::output;
use crate::wait::{BuildState, Observation};
use crate::Ctx;

const DEFAULT_URL: &str = "https://codeship.com";
const PROJECT_VAR: &str = "CODESHIP_API_PROJECT_ID";

#[derive(Debug, Deserialize)]
struct Project {
    #[serde(default)]
    repository_name: Option<String>,
    #[serde(default)]
    builds: Vec<Build>,
}

#[derive(Debug, Clone, Deserialize)]
struct Build {
    id: u64,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    commit_id: Option<String>,
    // Only shown, by `builds`.
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
}

pub struct Api {
    base: String,
    key: String,
    project: u64,
}

/// The newest build of a branch, found to be restarted.
pub struct Newest {
    build: Build,
    repository: String,
}

impl Api {
    /// Reads the configuration, for `project` when given (`codeship builds PROJECT`), else
    /// `CODESHIP_API_PROJECT_ID`.
    pub fn for_project(project: Option<&str>) -> Result<Self> {
        let (_, key) =
            env_first(&[KEY_VAR]).ok_or_else(|| Error::usage(format!("{KEY_VAR} is not set")))?;
        register_secret(&key);
        let (var, raw) = match project {
            Some(raw) => ("PROJECT", raw.to_string()),
            None => env_first(&[PROJECT_VAR]).ok_or_else(|| {
                Error::usage(format!(
                    "{PROJECT_VAR} is not set: use the number in the project's Codeship URL"
                ))
            })?,
        };
        let project = raw.trim().parse().map_err(|_| {
            Error::usage(format!(
                "{var} must be the project's number (from its Codeship URL; API v1), not `{raw}`"
            ))
        })?;
        Ok(Api {
            base: base_url(DEFAULT_URL)?,
            key,
            project,
        })
    }

    fn project_url(&self, branch: Option<&str>) -> String {
        let mut url = format!(
            "{}/api/v1/projects/{}.json?api_key={}",
            self.base,
            self.project,
            encode(&self.key)
        );
        if let Some(branch) = branch {
            url.push_str(&format!("&branch={}", encode(branch)));
        }
        url
    }

    fn builds_page(&self) -> String {
        format!("https://app.codeship.com/projects/{}", self.project)
    }

    fn build_url(&self, build: u64) -> String {
        format!("{}/builds/{build}", self.builds_page())
    }

    fn project(&self, ctx: &Ctx, branch: &str) -> Result<Project> {
        self.project_on(ctx, Some(branch))
    }

    fn project_on(&self, ctx: &Ctx, branch: Option<&str>) -> Result<Project> {
        let resp = ctx.http.send(&Request::get(self.project_url(branch)))?;
        self.check(&resp, &format!("project {}", self.project))?;
        resp.decode()
    }

    /// Names the variable to fix for the refusals a wrong setting causes.
    fn check(&self, resp: &Response, what: &str) -> Result<()> {
        match resp.status {
            200..=299 => Ok(()),
            401 | 403 => Err(resp.error(&format!("{KEY_VAR} was rejected: check the key in Codeship's account settings"))),
            404 => Err(resp.error(&format!(
                "{what} was not found: check {PROJECT_VAR}={} and that {KEY_VAR} belongs to an account that can see it",
                self.project
            ))),
            _ => Err(resp.error("")),
        }
    }
}

impl Api {
    /// The builds the project's read lists (API v1 has no pages: its recent builds), newest
    /// first, that pass `filter`.
    pub fn builds(&self, ctx: &Ctx, filter: &Filter) -> Result<Vec<listing::Listed>> {
        let project = self.project_on(ctx, filter.branch.as_deref())?;
        let mut builds = project.builds;
        builds.sort_unstable_by_key(|b| std::cmp::Reverse(b.id));
        let rows = builds.iter().map(|b| listing::Listed {
            provider: super::NAME,
            id: b.id.to_string(),
            number: Some(b.id),
            pipeline: project.repository_name.clone(),
            branch: b.branch.clone(),
            commit: b.commit_id.clone(),
            status: b.status.clone(),
            result: listing::result_word(state_of(&b.status)),
            created_at: b.started_at.clone(),
            finished_at: b.finished_at.clone(),
            duration_s: listing::duration_s(b.started_at.as_deref(), b.finished_at.as_deref()),
            url: Some(self.build_url(b.id)),
        });
        Ok(rows
            .filter(|r| filter.keeps(r))
            .take(filter.limit)
            .collect())
    }

    /// The branch's newest build, from the project's build list.
    pub fn newest(&self, ctx: &Ctx, branch: &str) -> Result<(Newest, build::Build)> {
        let project = self.project(ctx, branch)?;
        let repository = project
            .repository_name
            .clone()
            .unwrap_or_else(|| format!("project {}", self.project));
        let newest = newest_on_branch(&project.builds, branch).ok_or_else(|| {
            Error::api(format!(
                "no builds on branch `{branch}` of {repository}: push to it once, or check CODESHIP_API_BRANCH"
            ))
        })?;
        let mut found = self.seam_build(newest.id, &newest.status);
        found.aliases.extend(newest.uuid.clone());
        let build = newest.clone();
        Ok((Newest { build, repository }, found))
    }

    pub fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        branch: &str,
        newest: Newest,
    ) -> Result<Tracked<'a, String>> {
        let Newest { build, repository } = newest;
        let id = build.id;
        output::event(format!(
            "restarting build #{id} (commit {}) on {repository}",
            short_commit(build.commit_id.as_deref())
        ));
        let restart = Request::post(format!(
            "{}/api/v1/builds/{id}/restart.json?api_key={}",
            self.base,
            encode(&self.key)
        ))
        .starts_build(format!(
            "the builds of {repository} at {}",
            self.builds_page()
        ));
        let resp = ctx.http.send(&restart)?;
        self.check(&resp, &format!("build #{id}"))?;
        let restarted: Build = resp.decode().map_err(|_| {
            resp.unusable(&format!(
                "to the restart of build #{id} without saying which build it started ({})",
                resp.snippet()
            ))
        })?;
        let new_id = restarted.id;
        let found = self.seam_build(new_id, &restarted.status);
        let line = format!(
            "restarted as build #{new_id}: {}",
            found.url.as_deref().unwrap_or_default()
        );
        Ok(Tracked {
            build: found,
            reference: new_id.to_string(),
            line: Some(line),
            watch: Box::new(Listed {
                api: self,
                branch: branch.to_string(),
                id: new_id,
            }),
        })
    }

    fn seam_build(&self, id: u64, status: &str) -> build::Build {
        build::Build {
            id: id.to_string(),
            number: Some(id),
            url: Some(self.build_url(id)),
            status: status.to_string(),
            state: state_of(status),
            label: format!("build #{id}"),
            aliases: Vec::new(),
        }
    }
}

/// v1 has no endpoint for one build: the project's build list is where it shows up.
struct Listed<'a> {
    api: &'a Api,
    branch: String,
    id: u64,
}

impl Watch for Listed<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let project = self.api.project(ctx, &self.branch)?;
        Ok(match project.builds.iter().find(|b| b.id == self.id) {
            Some(b) => Observation::new(state_of(&b.status), b.status.clone()),
            None => Observation::new(BuildState::Running, "not listed yet"),
        })
    }
}

/// The branch's newest build: the highest id, whatever order the API lists them in.
fn newest_on_branch<'a>(builds: &'a [Build], branch: &str) -> Option<&'a Build> {
    builds
        .iter()
        .filter(|b| b.branch.as_deref() == Some(branch))
        .max_by_key(|b| b.id)
}

/// Everything cirelay reads from a Codeship API v1 answer, without a server: the project
/// (its newest build on a branch, statuses, commit) and a restart's answer, as a 200 and as
/// a refusal. For the fuzz targets.
#[cfg(any(test, fuzzing))]
pub(crate) fn read_answers(body: &str) {
    let api = Api {
        base: DEFAULT_URL.to_string(),
        key: "fuzz-key".to_string(),
        project: 1,
    };
    let resp = Response::received(200, Vec::new(), body.to_string(), "GET /project");
    if let Ok(project) = resp.decode::<Project>() {
        for b in &project.builds {
            let _ = state_of(&b.status);
            if let Some(newest) =
                newest_on_branch(&project.builds, b.branch.as_deref().unwrap_or(""))
            {
                let _ = short_commit(newest.commit_id.as_deref());
                let _ = api.build_url(newest.id);
            }
        }
    }
    if let Ok(restarted) = resp.decode::<Build>() {
        let _ = state_of(&restarted.status);
        let _ = api.build_url(restarted.id);
    }
    let refused = Response::received(404, Vec::new(), body.to_string(), "GET /project");
    let _ = api.check(&refused, "project 1");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(id: u64, branch: &str) -> Build {
        Build {
            id,
            uuid: None,
            status: "success".into(),
            branch: Some(branch.into()),
            commit_id: None,
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn newest_build_is_the_highest_id_on_the_branch() {
        let builds = [
            build(5, "main"),
            build(9, "dev"),
            build(7, "main"),
            build(6, "main"),
        ];
        assert_eq!(newest_on_branch(&builds, "main").map(|b| b.id), Some(7));
        assert_eq!(newest_on_branch(&builds, "dev").map(|b| b.id), Some(9));
        assert!(newest_on_branch(&builds, "nope").is_none());
    }

    /// Answers the fuzz target reaches that once panicked; each must be read without one.
    #[test]
    fn fuzzed_answers_are_read_without_panicking() {
        // The newest build's commit was cut at byte 8, inside `é`.
        read_answers(
            r#"{"builds": [{"id": 1, "status": "success", "branch": "main", "commit_id": "1234567éxyz"}]}"#,
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(state_of("success"), BuildState::Success);
        assert_eq!(state_of("error"), BuildState::Failed);
        assert_eq!(state_of("failed"), BuildState::Failed);
        assert_eq!(state_of("infrastructure_failure"), BuildState::Failed);
        assert_eq!(state_of("stopped"), BuildState::Terminated);
        assert_eq!(state_of("ignored"), BuildState::Terminated);
        for running in ["initiated", "waiting", "testing", "something_new"] {
            assert_eq!(state_of(running), BuildState::Running);
        }
    }
}
