//! The proxy every request goes through, from the environment. ureq alone skips a value it
//! cannot parse and connects directly, which on a network that only lets the proxy out
//! fails later with a misleading error, or worse, sends the request past a proxy the user
//! relies on. Here every proxy variable that is set must be usable (exit 4 naming it
//! otherwise), and the one chosen must be an HTTP CONNECT proxy.

use ureq::Proxy;

use crate::error::{Error, Result};

/// In the order a value is chosen: every API host is https, so `HTTPS_PROXY` comes first
/// (as curl does), then `ALL_PROXY`, then `HTTP_PROXY` (some setups name only that one).
const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
];
const NO_PROXY_VARS: &[&str] = &["NO_PROXY", "no_proxy"];

/// The proxy to use, if any variable names one.
pub fn from_env() -> Result<Option<Proxy>> {
    let mut chosen: Option<(&str, Proxy)> = None;
    for var in PROXY_VARS {
        let Ok(raw) = std::env::var(var) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        let proxy = parse(var, &raw)?;
        if chosen.is_none() {
            chosen = Some((var, proxy));
        }
    }
    let Some((var, proxy)) = chosen else {
        return Ok(None);
    };
    if !matches!(
        proxy.protocol(),
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
    ) {
        return Err(Error::usage(format!(
            "{var} names a SOCKS proxy, which cirelay does not support: set HTTPS_PROXY to an HTTP proxy (http://host:port) that allows CONNECT"
        )));
    }
    let mut builder = Proxy::builder(proxy.protocol())
        .host(proxy.host())
        .port(proxy.port());
    if let Some(user) = proxy.username() {
        builder = builder.username(user);
    }
    if let Some(password) = proxy.password() {
        crate::secrets::register_secret(password);
        builder = builder.password(password);
    }
    let no_proxy = NO_PROXY_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    for entry in no_proxy.iter().flat_map(|list| list.split(',')) {
        let entry = entry.trim();
        if !entry.is_empty() {
            builder = builder.no_proxy(entry);
        }
    }
    builder
        .build()
        .map(Some)
        .map_err(|_| unusable(var, &crate::secrets::redact(&proxy.uri().to_string()), ""))
}

fn parse(var: &str, raw: &str) -> Result<Proxy> {
    // The value may carry a password: register it before any message could show it.
    if let Some((userinfo, _)) = raw
        .split_once("://")
        .map_or(raw, |(_, rest)| rest)
        .split('/')
        .next()
        .and_then(|authority| authority.rsplit_once('@'))
    {
        crate::secrets::register_secret(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            crate::secrets::register_secret(password);
        }
    }
    let shown = crate::secrets::redact(raw);
    if raw != raw.trim() {
        return Err(unusable(var, &shown, ": it starts or ends with a space"));
    }
    let proxy = Proxy::new(raw).map_err(|_| unusable(var, &shown, ""))?;
    let scheme = raw.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let known = match scheme.as_deref() {
        None => true,
        Some(s) => [
            "http", "https", "socks", "socks4", "socks4a", "socks5", "socks5h",
        ]
        .contains(&s),
    };
    if !known || proxy.host().is_empty() {
        return Err(unusable(var, &shown, ""));
    }
    Ok(proxy)
}

fn unusable(var: &str, shown: &str, why: &str) -> Error {
    Error::usage(format!(
        "{var}=`{shown}` is not a usable proxy{why}: write it as http://host:port (or http://user:password@host:port), or unset it"
    ))
}
