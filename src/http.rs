//! The one place that talks HTTP.
//!
//! Every request has a timeout. A request that only reads (or whose repetition is harmless)
//! is retried on connection errors, 5xx and rate limits with exponential backoff and jitter,
//! honouring `Retry-After` and `RateLimit-Reset`. A request that starts or restarts a build is
//! never sent twice once it may have reached the server: only a refused connection or a
//! rate-limit answer (the server says it did nothing) is retried; anything else is an unknown
//! outcome and the user is told where to look.
//!
//! Secrets are registered once ([`register_secret`]) and [`redact`] removes them, and any
//! `api_key=`-style query value, from every line cirelay prints.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use ureq::Agent;

use crate::error::{Error, Result};
use crate::output;

/// Larger answers are refused: every answer cirelay reads is a page of builds.
const MAX_BODY: u64 = 8 * 1024 * 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A server asking for a longer pause than this is waited on for this long, then asked again.
const MAX_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(300);
const DEFAULT_RETRIES: u32 = 4;

/// What repeating a request would do, which decides whether it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reading, or an action that is harmless to repeat (authenticate, stop, cancel).
    Repeatable,
    /// Starts or restarts a build: sending it twice could start two builds.
    StartsBuild,
}

#[derive(Debug, Clone)]
pub struct Request {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    effect: Effect,
    /// For an unknown outcome: where the user can see whether the build started.
    check_hint: String,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }

    fn new(method: &'static str, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            effect: Effect::Repeatable,
            check_hint: String::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self.header("Content-Type", "application/json")
    }

    /// Marks the request as one that starts a build; `check_hint` says where to look when
    /// its outcome is unknown (e.g. "the project's builds at https://…").
    pub fn starts_build(mut self, check_hint: impl Into<String>) -> Self {
        self.effect = Effect::StartsBuild;
        self.check_hint = check_hint.into();
        self
    }

    pub fn method(&self) -> &'static str {
        self.method
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, redact(&self.url))
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: String,
    /// `METHOD url`, redacted, for messages.
    request: String,
}

impl Response {
    /// An answer as if received for `request` (`METHOD url`): for exercising the code that
    /// reads answers without a server (the fuzz targets).
    pub(crate) fn received(
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        request: &str,
    ) -> Self {
        Response {
            status,
            headers,
            body,
            request: redact(request),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decodes a successful answer; a refusal becomes an [`Error::Api`] carrying `hint`.
    pub fn json<T: DeserializeOwned>(&self, hint: &str) -> Result<T> {
        if !self.is_success() {
            return Err(self.error(hint));
        }
        self.decode()
    }

    /// Decodes the body whatever the status.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.body).map_err(|e| {
            Error::api(format!(
                "{} answered {} with unusable JSON ({e}): {}",
                self.request,
                self.status,
                self.snippet()
            ))
        })
    }

    /// A one-line refusal: what was asked, the status, what the API said, and the fix.
    pub fn error(&self, hint: &str) -> Error {
        let mut msg = format!("{} answered {}", self.request, self.status);
        let said = self.snippet();
        if !said.is_empty() {
            let _ = write!(msg, ": {said}");
        }
        if !hint.is_empty() {
            let _ = write!(msg, " — {hint}");
        }
        Error::api(msg)
    }

    /// The start of the body on one line, secrets removed.
    pub fn snippet(&self) -> String {
        let flat: String = self.body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut short: String = flat.chars().take(160).collect();
        if short.len() < flat.len() {
            short.push('…');
        }
        redact(&short)
    }

    pub fn request(&self) -> &str {
        &self.request
    }
}

pub struct Http {
    agent: Agent,
    verbose: bool,
    dry_run: bool,
    retries: u32,
    /// The longest pause a rate-limit answer asked for since the wait loop last looked, so
    /// polling slows down by itself.
    rate_limit_pause: Cell<Option<Duration>>,
}

impl Http {
    pub fn new(request_timeout: Duration, verbose: bool, dry_run: bool) -> Result<Self> {
        let retries = match std::env::var("CIRELAY_RETRIES") {
            Ok(raw) if !raw.is_empty() => raw.trim().parse().map_err(|_| {
                Error::usage(format!("CIRELAY_RETRIES: `{raw}` is not a whole number"))
            })?,
            _ => DEFAULT_RETRIES,
        };
        let agent: Agent = Agent::config_builder()
            // Status codes are answers to interpret (Retry-After, error bodies), not errors.
            .http_status_as_error(false)
            .timeout_global(Some(request_timeout))
            .timeout_connect(Some(request_timeout))
            // Following a redirect could carry a key in the query string to another host.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(format!("cirelay/{}", crate::cli::VERSION))
            .accept("application/json")
            .build()
            .into();
        Ok(Http {
            agent,
            verbose,
            dry_run,
            retries,
            rate_limit_pause: Cell::new(None),
        })
    }

    /// Returns the pause the last rate-limit answer asked for, once.
    pub fn take_rate_limit_pause(&self) -> Option<Duration> {
        self.rate_limit_pause.take()
    }

    /// Sends `req` with the retry rules above. Any status that is not retried is returned
    /// for the caller to interpret, except redirects, which are refused.
    pub fn send(&self, req: &Request) -> Result<Response> {
        if self.dry_run {
            let mut line = format!("dry run: {}", req.describe());
            if let Some(body) = &req.body {
                let _ = write!(line, " {}", redact(body));
            }
            output::event(line);
            return Err(Error::DryRunStop(req.describe()));
        }
        let attempts = self.retries + 1;
        for attempt in 1..=attempts {
            let started = Instant::now();
            let result = self.exchange(req);
            let millis = started.elapsed().as_millis();
            let last = attempt == attempts;
            let retry_note = if attempt > 1 {
                format!(", attempt {attempt}")
            } else {
                String::new()
            };
            match result {
                Ok(resp) => {
                    if self.verbose {
                        output::event(format!(
                            "{} -> {} ({millis} ms{retry_note})",
                            resp.request, resp.status
                        ));
                    }
                    if is_rate_limited(&resp) {
                        let pause = rate_limit_pause(&resp).unwrap_or_else(|| backoff(attempt));
                        self.note_rate_limit(pause);
                        if last {
                            return Err(Error::Unreachable(format!(
                                "{} is still rate-limited after {attempts} attempts; try again later",
                                resp.request
                            )));
                        }
                        output::event(format!(
                            "rate-limited by the API; retrying in {}",
                            output::seconds(pause)
                        ));
                        std::thread::sleep(pause);
                        continue;
                    }
                    if resp.status >= 500 {
                        if req.effect == Effect::StartsBuild {
                            return Err(unknown_outcome(
                                req,
                                &format!("it answered {}", resp.status),
                            ));
                        }
                        if last {
                            return Err(Error::Unreachable(format!(
                                "{} answered {} after {attempts} attempts: {}",
                                resp.request,
                                resp.status,
                                resp.snippet()
                            )));
                        }
                        self.pause_before_retry(attempt, &format!("it answered {}", resp.status));
                        continue;
                    }
                    if (300..400).contains(&resp.status) {
                        return Err(Error::api(format!(
                            "{} answered a redirect ({}) to {}; cirelay does not follow redirects — check the API URL",
                            resp.request,
                            resp.status,
                            redact(resp.header("location").unwrap_or("nowhere"))
                        )));
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    let failure = describe_error(&e);
                    if self.verbose {
                        output::event(format!(
                            "{} -> {failure} ({millis} ms{retry_note})",
                            req.describe()
                        ));
                    }
                    if req.effect == Effect::StartsBuild && !never_sent(&e) {
                        return Err(unknown_outcome(req, &failure));
                    }
                    // An answer too large to read is unusable, not a passing fault: asking
                    // again would only fetch it again.
                    if matches!(e, ureq::Error::BodyExceedsLimit(_)) {
                        return Err(Error::api(format!(
                            "{} answered, but {failure}",
                            req.describe()
                        )));
                    }
                    if last {
                        return Err(Error::Unreachable(format!(
                            "could not reach the API: {} failed after {attempts} attempts: {failure}",
                            req.describe()
                        )));
                    }
                    self.pause_before_retry(attempt, &failure);
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    fn note_rate_limit(&self, pause: Duration) {
        let longest = self.rate_limit_pause.get().map_or(pause, |p| p.max(pause));
        self.rate_limit_pause.set(Some(longest));
    }

    fn pause_before_retry(&self, attempt: u32, why: &str) {
        let pause = backoff(attempt);
        output::event(format!("{why}; retrying in {}", output::seconds(pause)));
        std::thread::sleep(pause);
    }

    fn exchange(&self, req: &Request) -> std::result::Result<Response, ureq::Error> {
        let mut response = match (req.method, &req.body) {
            ("GET", _) => self.with_headers(self.agent.get(&req.url), req).call()?,
            ("DELETE", _) => self.with_headers(self.agent.delete(&req.url), req).call()?,
            (_, Some(body)) => self
                .with_headers(self.agent.post(&req.url), req)
                .send(body.as_str())?,
            (_, None) => self
                .with_headers(self.agent.post(&req.url), req)
                .send_empty()?,
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()?;
        Ok(Response {
            status,
            headers,
            body,
            request: req.describe(),
        })
    }

    fn with_headers<B>(
        &self,
        mut builder: ureq::RequestBuilder<B>,
        req: &Request,
    ) -> ureq::RequestBuilder<B> {
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        builder
    }
}

fn unknown_outcome(req: &Request, failure: &str) -> Error {
    Error::UnknownOutcome(format!(
        "{} failed after it may have reached the server ({failure}); the build may have started — check {} before retrying",
        req.describe(),
        if req.check_hint.is_empty() { "the provider's build list" } else { &req.check_hint }
    ))
}

/// True when the request certainly did not reach the server, so re-sending it cannot
/// start a second build.
fn never_sent(e: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::BadUri(_) => true,
        // The proxy refused the tunnel: the request itself was never written.
        ureq::Error::ConnectProxyFailed(_) => true,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect),
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotFound
        ),
        _ => false,
    }
}

fn describe_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "no answer within --request-timeout".to_string(),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("the answer is larger than {} MiB", MAX_BODY >> 20)
        }
        ureq::Error::HostNotFound => "the host name was not found".to_string(),
        ureq::Error::ConnectProxyFailed(why) => format!(
            "the proxy refused to connect ({}); check HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, or list the API host in NO_PROXY",
            redact(why)
        ),
        ureq::Error::Io(io) => format!("{io}"),
        other => redact(&other.to_string()),
    }
}

/// Codeship answers `403 Rate Limit Exceeded` where others answer 429.
fn is_rate_limited(resp: &Response) -> bool {
    resp.status == 429
        || (resp.status == 403
            && resp
                .body
                .to_ascii_lowercase()
                .contains("rate limit exceeded"))
}

/// The pause the server asked for: `Retry-After` (seconds or an HTTP date), else
/// `RateLimit-Reset`/`X-RateLimit-Reset` (seconds, or a Unix time when that large).
fn rate_limit_pause(resp: &Response) -> Option<Duration> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let pause = if let Some(v) = resp.header("retry-after") {
        parse_retry_after(v, now)?
    } else {
        let v = resp
            .header("ratelimit-reset")
            .or_else(|| resp.header("x-ratelimit-reset"))?;
        let n: u64 = v.trim().parse().ok()?;
        Duration::from_secs(if n > 1_000_000_000 {
            n.saturating_sub(now)
        } else {
            n
        })
    };
    Some(pause.min(MAX_RATE_LIMIT_PAUSE))
}

fn parse_retry_after(v: &str, now_unix: u64) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs(at.saturating_sub(now_unix)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (the only form servers send today) to Unix seconds.
fn parse_http_date(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Out of range, the arithmetic below could overflow: such a date is not one.
    let valid = (1..=9999).contains(&year)
        && (1..=31).contains(&day)
        && (0..24).contains(h)
        && (0..60).contains(m)
        && (0..=60).contains(s);
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's algorithm); for the timestamps
/// APIs send. Callers keep `year` to four digits (1..=9999), where nothing can overflow.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Exponential backoff with jitter: 0.5s, 1s, 2s, … up to 30s, each scaled by 50–100%.
fn backoff(attempt: u32) -> Duration {
    let full = FIRST_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + jitter() * 0.5)
}

/// A number in [0, 1) that differs between runs; no RNG crate is worth a dependency here.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as u64;
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % 10_000) as f64 / 10_000.0
}

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Query parameters whose values are secrets wherever they appear.
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "token",
    "circle-token",
    "password",
];

/// Remembers a secret so that [`redact`] removes it (and its URL-encoded form) from every
/// line cirelay prints. Values shorter than 4 characters are not real keys and would
/// mangle output.
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < 4 {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    for form in [secret.to_string(), encode(secret)] {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret containing another is removed whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Removes every registered secret and every `api_key=…`-style query value.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    // A secret that itself contains `*` (a password may) can be formed again by a `***`
    // and the text around it: repeat until a pass changes nothing. Should some text never
    // settle, none of it is printed.
    for _ in 0..MAX_REDACT_PASSES {
        let before = out.clone();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        for param in SECRET_PARAMS {
            out = redact_param(&out, param);
        }
        if out == before {
            return out;
        }
    }
    "***".to_string()
}

const MAX_REDACT_PASSES: usize = 16;

/// Forgets every registered secret, so a fuzz target can start each input afresh.
pub(crate) fn forget_secrets() {
    SECRETS.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// What the HTTP layer reads from any answer before a provider sees it: whether it is a
/// rate limit, how long it asks to pause, and its one-line error; for the fuzz targets.
pub(crate) fn read_answer(resp: &Response) {
    let _ = is_rate_limited(resp);
    let _ = rate_limit_pause(resp);
    let _ = resp.error("a hint");
}

fn redact_param(text: &str, param: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let needle = format!("{param}=");
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found;
        let value_start = start + needle.len();
        from = value_start;
        let boundary = start == 0
            || matches!(
                text.as_bytes()[start - 1],
                b'?' | b'&' | b' ' | b'"' | b'\''
            );
        if !boundary {
            continue;
        }
        let value_end = text[value_start..]
            .find(|c: char| matches!(c, '&' | '#' | '"' | '\'' | ',') || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        if value_end == value_start || &text[value_start..value_end] == "***" {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str("***");
        copied = value_end;
        from = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Percent-encodes `s` for one URL path segment or query value.
pub fn encode(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_registered_secrets_and_their_encoded_form() {
        register_secret("s3cr3t/key+value");
        let text = "GET /x?k=s3cr3t%2Fkey%2Bvalue failed; said s3cr3t/key+value";
        let red = redact(text);
        assert!(!red.contains("s3cr3t"), "{red}");
        assert_eq!(red, "GET /x?k=*** failed; said ***");
    }

    #[test]
    fn redacts_secret_query_values_even_when_unregistered() {
        assert_eq!(
            redact("https://h/api/v1/projects/1.json?api_key=abc123&branch=main"),
            "https://h/api/v1/projects/1.json?api_key=***&branch=main"
        );
        assert_eq!(redact("x?API_KEY=abc"), "x?API_KEY=***");
        assert_eq!(
            redact("see \"token=zzz\" and circle-token=yy"),
            "see \"token=***\" and circle-token=***"
        );
        // Not a parameter of its own: left alone.
        assert_eq!(redact("my_api_key=value"), "my_api_key=value");
        assert_eq!(redact("api_key=&x=1"), "api_key=&x=1");
    }

    #[test]
    fn secrets_containing_the_mask_do_not_reappear() {
        // Found by fuzzing: replacing "~\0\u{0}4" left "***" next to "\0", which is the other
        // secret again.
        register_secret("~\0\u{0}4");
        register_secret("***\0");
        let red = redact("\0\0a~\0\u{0}4***\0~\0\u{0}4%2A%2A%2A%00\0\0attedn#i");
        assert!(
            !red.contains("***\0") && !red.contains("~\0\u{0}4"),
            "{red:?}"
        );
        assert_eq!(red, "\0\0a************attedn#i");
        register_secret("z***");
        assert_eq!(redact("zzzz***!"), "***!");
    }

    #[test]
    fn short_values_are_not_treated_as_secrets() {
        register_secret("ab");
        assert_eq!(redact("tab"), "tab");
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode("proj/pipe line"), "proj%2Fpipe%20line");
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..8 {
            let full = FIRST_BACKOFF * (1 << (attempt - 1));
            let b = backoff(attempt);
            assert!(
                b >= full.min(MAX_BACKOFF) / 2 && b <= full.min(MAX_BACKOFF),
                "{attempt}: {b:?}"
            );
        }
        assert!(backoff(40) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_forms() {
        let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(now));
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        // Found by fuzzing: a huge year (or hour) overflowed the date arithmetic.
        for bad in [
            "items 06 Nov 184467440737095516 18446744:49:27 GMT",
            "Sun, 06 Nov 1994 9223372036854775807:00:00 GMT",
            "Sun, 06 Nov -9223372036854775807 08:49:37 GMT",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        let r = response(
            429,
            &[("Retry-After", "x 06 Nov 184467440737095516 1:2:3 GMT")],
            "",
        );
        assert_eq!(rate_limit_pause(&r), None);
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
            request: "GET x".into(),
        }
    }

    #[test]
    fn rate_limit_answers() {
        assert!(is_rate_limited(&response(429, &[], "")));
        assert!(is_rate_limited(&response(403, &[], "Rate Limit Exceeded")));
        assert!(!is_rate_limited(&response(
            403,
            &[],
            "{\"errors\":[\"forbidden\"]}"
        )));
        let r = response(429, &[("Retry-After", "3")], "");
        assert_eq!(rate_limit_pause(&r), Some(Duration::from_secs(3)));
        let r = response(429, &[("RateLimit-Reset", "9")], "");
        assert_eq!(rate_limit_pause(&r), Some(Duration::from_secs(9)));
        let r = response(429, &[("X-RateLimit-Reset", "7")], "");
        assert_eq!(rate_limit_pause(&r), Some(Duration::from_secs(7)));
        // Retry-After wins over a reset header.
        let r = response(429, &[("X-RateLimit-Reset", "7"), ("Retry-After", "2")], "");
        assert_eq!(rate_limit_pause(&r), Some(Duration::from_secs(2)));
        // A reset given as a Unix time is that far from now (give or take the clock tick).
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for name in ["RateLimit-Reset", "X-RateLimit-Reset"] {
            let at = (now + 20).to_string();
            let pause = rate_limit_pause(&response(429, &[(name, &at)], "")).unwrap();
            assert!(
                (Duration::from_secs(19)..=Duration::from_secs(20)).contains(&pause),
                "{name}: {pause:?}"
            );
            let past = (now - 5).to_string();
            let pause = rate_limit_pause(&response(429, &[(name, &past)], "")).unwrap();
            assert_eq!(pause, Duration::ZERO, "{name}");
        }
        let r = response(429, &[("Retry-After", "99999")], "");
        assert_eq!(rate_limit_pause(&r), Some(MAX_RATE_LIMIT_PAUSE));
        assert_eq!(rate_limit_pause(&response(429, &[], "")), None);
    }

    #[test]
    fn error_lines_are_one_line_and_redacted() {
        register_secret("hunter2-password");
        let r = response(401, &[], "{\n \"error\": \"bad hunter2-password\"\n}");
        let msg = r.error("check the password").to_string();
        assert_eq!(
            msg,
            "GET x answered 401: { \"error\": \"bad ***\" } — check the password"
        );
    }
}
