//! Signing in to Codeship API v2: the machine user's email and password for an access
//! token, renewed before it expires (checked before every attempt of every request), and
//! the organization the token may act in.

use serde::Deserialize;

use super::{checked_uuid, Api, ORG_VARS};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, Request, Response};
use crate::output;
use crate::time::now_unix;
use crate::Ctx;

/// A token is renewed this long before it expires (at most half its lifetime), so a request
/// is never sent with a token about to lapse on the way.
const REFRESH_BEFORE: u64 = 60;

#[derive(Debug, Deserialize)]
pub(super) struct Auth {
    #[serde(default)]
    access_token: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    expires_at: Option<f64>,
    #[serde(default)]
    organizations: Vec<Org>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Org {
    uuid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

pub(super) struct Session {
    token: String,
    /// Unix seconds; `None` when Codeship did not say when the token expires.
    refresh_at: Option<u64>,
    org: Org,
}

impl Api {
    fn session(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        crate::lock(&self.session)
    }

    /// Exchanges the email and password for an access token and picks the organization.
    pub(super) fn authenticate(&self, ctx: &Ctx) -> Result<()> {
        let again = self.session().is_some();
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
        *self.session() = Some(Session {
            token,
            refresh_at,
            org,
        });
        Ok(())
    }

    pub(super) fn needs_auth(&self) -> bool {
        match &*self.session() {
            None => true,
            Some(s) => s.refresh_at.is_some_and(|at| now_unix() >= at),
        }
    }

    /// Sends a request under `/v2/organizations/:org/projects/:project` (`make` gets that
    /// prefix) with the access token, signing in first when needed. A 401 mid-run (the token
    /// was revoked or expired early) signs in once more and resends: a 401 means the request
    /// was refused, so even a restart is not sent twice.
    pub(super) fn call(&self, ctx: &Ctx, make: impl Fn(&str) -> Request) -> Result<Response> {
        let project = encode(&self.project.1);
        self.call_org(ctx, &|org| make(&format!("{org}/projects/{project}")))
    }

    /// As [`call`](Self::call), under `/v2/organizations/:org` (`make` gets that prefix): for
    /// what belongs to the organization rather than one project (its projects). `make` is
    /// dynamic so that the sign-in and retry loop exists once in the binary, not once per
    /// request kind.
    pub(super) fn call_org(&self, ctx: &Ctx, make: &dyn Fn(&str) -> Request) -> Result<Response> {
        let fresh = std::cell::Cell::new(false);
        loop {
            let resp = ctx.http.send_each(|| {
                // Before every attempt, retries included: a token can expire while a
                // rate-limit pause runs, and a stale one would come back as a 401.
                if self.needs_auth() {
                    self.authenticate(ctx)?;
                    fresh.set(true);
                }
                let session = self.session();
                let s = session.as_ref().expect("signed in above");
                let prefix = format!("{}/v2/organizations/{}", self.base, encode(&s.org.uuid));
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
    pub(super) fn org_label(&self) -> (String, String) {
        match &*self.session() {
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
}

/// The organization named by uuid or exact name; without one, the user's only organization.
pub(super) fn choose_org(orgs: &[Org], wanted: Option<(&str, &str)>, user: &str) -> Result<Org> {
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
pub(super) fn refresh_time(expires_at: u64, now: u64) -> u64 {
    let life = expires_at.saturating_sub(now);
    expires_at - REFRESH_BEFORE.min(life / 2)
}

/// Standard base64 with padding, for the Basic-auth header; not worth a dependency.
pub(super) fn base64(bytes: &[u8]) -> String {
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

/// What cirelay reads from a sign-in answer, without a server: the organization it picks
/// (alone, by name, by uuid) and when the token is renewed. For the fuzz targets.
#[cfg(any(test, fuzzing))]
pub(super) fn read_answers(resp: &Response) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
