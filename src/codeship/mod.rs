//! Codeship. API v1 (an API key and a numeric project id: what the original
//! `codeship_restart_build` used) and API v2 (a machine user's email and password).
//! v2 is chosen when a user and password are set, otherwise v1 when an API key is.

pub(crate) mod v1;
pub(crate) mod v2;

use crate::cli::{env_first, CodeshipCommand};
use crate::error::{Error, Result};
use crate::output::Report;
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

pub fn run(ctx: &Ctx, command: CodeshipCommand) -> Result<Report> {
    let user = env_first(USER_VARS);
    let password = env_first(PASSWORD_VARS);
    match (user, password) {
        (Some(user), Some(password)) => v2::run(ctx, command, user, password),
        _ if env_first(&[KEY_VAR]).is_some() => v1::run(ctx, command),
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

/// `--branch`, else the branch variables; required.
pub fn branch(flag: Option<String>, vars: &[&'static str]) -> Result<String> {
    if let Some(b) = flag.filter(|b| !b.trim().is_empty()) {
        return Ok(b);
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

/// Refuses to restart the build this step runs in: it would restart itself forever.
pub fn refuse_own_build(ids: &[&str], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    if let Some((_, own)) = env_first(&["CI_BUILD_ID"]) {
        if ids.iter().any(|id| *id == own) {
            return Err(Error::usage(format!(
                "the newest build of the branch is the one running this step (CI_BUILD_ID={own}); restarting it would loop — pass --force to restart it anyway"
            )));
        }
    }
    Ok(())
}

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
