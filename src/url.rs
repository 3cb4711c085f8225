//! URLs: the API hosts users configure, and the path segments built from names and ids.
//!
//! A host variable is checked once, where it is read: it must be `https://` (plain `http://`
//! only for a loopback address, or with `CIRELAY_ALLOW_HTTP=1`: keys must not travel in
//! clear), and a `user:password@` in it is a secret that no link or message carries.

use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::secrets::register_secret;

/// Percent-encodes `s` as one URL path segment or query value. `.` and `..` are encoded
/// too: as a segment they would climb the path (`run/..` is `POST /api/pipelines`).
pub fn encode(s: &str) -> String {
    if s == "." || s == ".." {
        return s.replace('.', "%2E");
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `key=value&…` for a form body or query string, each part encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `%XX` back to bytes (invalid UTF-8 replaced); a lone or malformed `%` stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An API host as a user configured it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `scheme://host[:port][/path]` without a trailing slash and without credentials.
    pub url: String,
}

impl Host {
    /// Reads `raw` (from the variable `var`): a `scheme://host…` URL whose scheme is https,
    /// or http to a loopback address or with `CIRELAY_ALLOW_HTTP=1`. Credentials in it are
    /// registered as secrets and dropped: the API key authenticates, and links must not
    /// carry a password.
    pub fn parse(var: &str, raw: &str, example: &str) -> Result<Self> {
        let trimmed = raw.trim().trim_end_matches('/');
        let bad = |why: &str| {
            Error::usage(format!(
                "{var} must be a URL such as {example}, not `{}`: {why}",
                crate::secrets::redact(raw.trim())
            ))
        };
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| bad("it has no https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(bad("only https:// is supported"));
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains a space or a control character"));
        }
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                register_secret(userinfo);
                if let Some((user, password)) = userinfo.split_once(':') {
                    register_secret(password);
                    register_secret(&percent_decode(password));
                    let _ = user;
                }
                host
            }
            None => authority,
        };
        if authority.is_empty() || authority.starts_with(':') {
            return Err(bad("it names no host"));
        }
        if scheme == "http" && !is_loopback(authority) && !allow_http()? {
            return Err(Error::usage(format!(
                "{var} is plain http:// ({}): keys must not travel in clear — use https://, or set CIRELAY_ALLOW_HTTP=1 if this network is trusted",
                host_of(authority)
            )));
        }
        Ok(Host {
            url: format!("{scheme}://{authority}{path}"),
        })
    }
}

/// `CIRELAY_ALLOW_HTTP=1` lets plain http reach hosts other than loopback.
pub fn allow_http() -> Result<bool> {
    crate::cli::env_flag("CIRELAY_ALLOW_HTTP")
}

/// The host of an authority (`host:port`, `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// A web address as a build reference: its host (lower case, with its port) and path
/// segments; `None` for anything that is not an http(s) address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAddress {
    pub host: String,
    pub segments: Vec<String>,
}

impl WebAddress {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (scheme, rest) = raw.split_once("://")?;
        if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
            return None;
        }
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if authority.is_empty() {
            return None;
        }
        Some(WebAddress {
            host: authority.to_ascii_lowercase(),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(percent_decode)
                .collect(),
        })
    }

    /// Whether this address is on the host of `base` (a URL such as a host variable's).
    pub fn on_host_of(&self, base: &str) -> bool {
        WebAddress::parse(base).is_some_and(|b| b.host == self.host)
    }

    /// The path segments after `prefix` (a run of segments such as `["projects"]`), when
    /// the path starts with it.
    pub fn after(&self, prefix: &[&str]) -> Option<&[String]> {
        let n = prefix.len();
        (self.segments.len() >= n && self.segments[..n].iter().zip(prefix).all(|(a, b)| a == b))
            .then(|| &self.segments[n..])
    }
}

/// `127.0.0.0/8`, `::1` and `localhost`: what never leaves this machine.
pub fn is_loopback(authority: &str) -> bool {
    let host = host_of(authority).to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The `scheme://authority` part of a URL and whether it is http to a host that is not
/// loopback; for the last check before a request leaves.
pub fn is_plain_http_off_machine(url: &str) -> bool {
    let Some(rest) = url
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    !is_loopback(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode("proj/pipe line"), "proj%2Fpipe%20line");
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode(".."), "%2E%2E");
        assert_eq!(encode("."), "%2E");
        assert_eq!(encode("..."), "...");
        assert_eq!(encode("a..b"), "a..b");
    }

    #[test]
    fn hosts() {
        let h = Host::parse(
            "CF_URL",
            "https://cf.example.com/",
            "https://g.codefresh.io",
        )
        .unwrap();
        assert_eq!(h.url, "https://cf.example.com");
        let h = Host::parse("CF_URL", "HTTPS://cf.example.com:8443/base/", "x").unwrap();
        assert_eq!(h.url, "https://cf.example.com:8443/base");
        for loopback in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:4000",
            "http://127.9.9.9",
        ] {
            assert_eq!(Host::parse("V", loopback, "x").unwrap().url, loopback);
        }
        for bad in [
            "cf.example.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://:80",
        ] {
            assert_eq!(
                Host::parse("V", bad, "x").unwrap_err().exit_code(),
                4,
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_in_a_host_are_secrets_and_dropped() {
        let h = Host::parse(
            "CIRCLECI_HOST",
            "https://bot:hunter2-in-url@circleci.example.com",
            "x",
        )
        .unwrap();
        assert_eq!(h.url, "https://circleci.example.com");
        assert_eq!(crate::secrets::redact("pw hunter2-in-url"), "pw ***");
    }

    #[test]
    fn web_addresses() {
        let a = WebAddress::parse(
            "https://App.CircleCI.com/pipelines/gh/acme/app/41/workflows/x?y=1#z",
        )
        .unwrap();
        assert_eq!(a.host, "app.circleci.com");
        assert_eq!(
            a.after(&["pipelines"]).unwrap(),
            ["gh", "acme", "app", "41", "workflows", "x"]
        );
        assert!(a.after(&["projects"]).is_none());
        assert!(a.on_host_of("https://app.circleci.com"));
        assert_eq!(
            WebAddress::parse("http://127.0.0.1:9/build/a%2Fb")
                .unwrap()
                .segments,
            ["build", "a/b"]
        );
        assert!(WebAddress::parse("codefresh:abc").is_none());
        assert!(WebAddress::parse("https:///x").is_none());
    }

    #[test]
    fn plain_http_off_this_machine() {
        assert!(is_plain_http_off_machine("http://ci.example.com/x"));
        assert!(is_plain_http_off_machine("HTTP://u:p@ci.example.com"));
        assert!(!is_plain_http_off_machine("http://127.0.0.1:9/x"));
        assert!(!is_plain_http_off_machine("https://ci.example.com"));
        assert!(is_loopback("[::1]:80"));
        assert!(!is_loopback("10.0.0.1:80"));
    }
}
