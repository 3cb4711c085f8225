//! Finding the build a trigger or restart started. Codeship answers both with 202 and no
//! body, so the project's builds are listed again until the started one shows up: on Pro a
//! restart is a new build of the same branch and commit, on Basic the same build runs again.

use std::collections::HashSet;

use super::{Api, Build, CLOCK_SKEW, FIND_WINDOW};
use crate::build::Polls;
use crate::error::{Error, Result};
use crate::output;
use crate::time::rfc3339 as unix_time;
use crate::wait::{self, BuildState, Observation, Waited};
use crate::Ctx;

impl Api {
    /// Lists the builds until the one a trigger or restart started shows up.
    pub(super) fn find_started(&self, ctx: &Ctx, expect: &Expect, what: &str) -> Result<Build> {
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
        let waited = {
            let mut watch = Polls(|ctx: &Ctx| {
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
            });
            wait::until_finished(ctx, config, &label, &mut watch)?
        };
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
pub(super) struct Expect<'a> {
    pub(super) branch: &'a str,
    /// The commit the started build must be of (a restart keeps its commit).
    pub(super) sha: Option<&'a str>,
    pub(super) before: &'a [Build],
    /// Builds that Codeship Basic would run again in place.
    pub(super) rerun: Vec<String>,
    /// When the request was sent (Unix seconds, this machine's clock).
    pub(super) sent_at: i64,
}

/// The build a trigger or restart started, and how: a build not listed before, on the branch
/// and of the expected commit (Pro, or a new commit), or one listed before that runs again
/// (Basic restarts a build in place).
pub(super) fn started_build(expect: &Expect, now: &[Build]) -> Option<(Build, &'static str)> {
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

/// The branch a build is of: its `heads/…` ref, else its `branch` field.
pub(super) fn branch_of(b: &Build) -> Option<&str> {
    b.git_ref
        .as_deref()
        .map(|r| r.strip_prefix("refs/").unwrap_or(r))
        .and_then(|r| r.strip_prefix("heads/"))
        .or(b.branch.as_deref())
}

/// `main`, `heads/main` and `refs/heads/main` all name the branch `main`.
pub fn branch_name(input: &str) -> &str {
    let input = input.trim();
    let r = input.strip_prefix("refs/").unwrap_or(input);
    r.strip_prefix("heads/").unwrap_or(r)
}

/// Full and abbreviated SHAs match each other.
pub(super) fn sha_matches(b: &Build, sha: Option<&str>) -> bool {
    match (sha, b.commit_sha.as_deref()) {
        (None, _) => true,
        (Some(want), Some(have)) => {
            let (want, have) = (want.to_ascii_lowercase(), have.to_ascii_lowercase());
            have.starts_with(&want) || want.starts_with(&have)
        }
        (Some(_), None) => false,
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
            allocated_at: None,
            finished_at: Some("2026-11-01T10:05:00Z".into()),
        }
    }

    const T0: &str = "2026-11-01T10:00:00.000Z";

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
