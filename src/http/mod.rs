//! The one place that talks HTTP.
//!
//! Every request has a timeout. A request that only reads (or whose repetition is harmless)
//! is retried on connection errors, 5xx and rate limits with exponential backoff and jitter,
//! honouring `Retry-After` and `RateLimit-Reset`; no pause runs past `--timeout`. A request
//! that starts or restarts a build is never sent twice once it may have reached the server:
//! only a failure before its first byte left, or a rate-limit answer (the server says it did
//! nothing), is retried; anything else — including an accepted answer that cannot be read —
//! is an unknown outcome, and the user is told where to look.
//!
//! Redirects are refused, plain http leaves only for loopback (or `CIRELAY_ALLOW_HTTP=1`),
//! and a proxy value that cannot be used is an error, never a silent direct connection.

mod proxy;
mod tap;

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector};
use ureq::Agent;

use crate::error::{Error, Result};
use crate::lock;
use crate::output;
// Providers reach these through the HTTP layer they build requests with.
pub use crate::secrets::{redact, register_secret};
pub use crate::url::{encode, percent_decode};

/// Larger answers are refused: every answer cirelay reads is a page of builds.
pub const MAX_BODY: u64 = 8 * 1024 * 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A server asking for a longer pause than this is waited on for this long, then asked again.
const MAX_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(300);
const DEFAULT_RETRIES: u32 = 4;
/// However close the deadline, a request gets this long.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest a streamed answer is read without `--timeout`.
const MAX_STREAM: Duration = Duration::from_secs(6 * 3600);
/// After `--timeout`, the requests that clean up (terminating a build that timed out) still
/// get this long for their retries.
pub const CLEANUP_BUDGET: Duration = Duration::from_secs(30);

/// What repeating a request would do, which decides whether it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reading, or an action that is harmless to repeat (authenticate, stop, cancel).
    Repeatable,
    /// Starts or restarts a build: sending it twice could start two builds.
    StartsBuild,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    effect: Effect,
    /// For an unknown outcome: where the user can see whether the build started.
    check_hint: String,
    /// What an unknown outcome may have done: a build-starting request may have started a
    /// build; a request that creates a resource (a pipeline) may have created it.
    may_have: &'static str,
    /// A log download: one redirect is followed, to https (or loopback http), without
    /// any of this request's headers — the signed URL carries its own permission, and the
    /// token must never reach another host.
    follows_one_redirect: bool,
    /// The shortest pause after a rate-limit answer that names no pause of its own but says
    /// these words, growing ×2 with each one: GitHub asks for at least a minute after a
    /// "secondary rate limit" without `Retry-After`, where the usual backoff would ask again
    /// within seconds.
    rate_limit_floor: Option<(Duration, &'static str)>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            effect: Effect::Repeatable,
            check_hint: String::new(),
            may_have: "the build may have started",
            follows_one_redirect: false,
            rate_limit_floor: None,
        }
    }

    /// A rate-limit answer without `Retry-After` or a reset time whose body says `says`
    /// (case-insensitive) is waited out for at least `floor`, doubling each time it comes
    /// again (at most 5 minutes a pause, and never past `--timeout`).
    pub fn rate_limit_floor(mut self, floor: Duration, says: &'static str) -> Self {
        self.rate_limit_floor = Some((floor, says));
        self
    }

    /// Marks the request as a log download (see [`Http::open`]).
    pub fn follows_one_redirect(mut self) -> Self {
        self.follows_one_redirect = true;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self.header("Content-Type", "application/json")
    }

    /// A form body (`key=value&…`), each part percent-encoded.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        self.body = Some(crate::url::form(pairs));
        self.header("Content-Type", "application/x-www-form-urlencoded")
    }

    /// Marks the request as one that starts a build; `check_hint` says where to look when
    /// its outcome is unknown (e.g. "the project's builds at https://…").
    pub fn starts_build(mut self, check_hint: impl Into<String>) -> Self {
        self.effect = Effect::StartsBuild;
        self.check_hint = check_hint.into();
        self
    }

    /// Marks the request as one that creates a resource (a pipeline, a project): sent at
    /// most once, like a build start, since a second one would answer that the first
    /// created it; `check_hint` says where to look when its outcome is unknown.
    pub fn creates(self, check_hint: impl Into<String>) -> Self {
        Request {
            may_have: "it may have been created",
            ..self.starts_build(check_hint)
        }
    }

    pub fn method(&self) -> Method {
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
        format!("{} {}", self.method.as_str(), redact(&self.url))
    }

    fn check_hint(&self) -> &str {
        if self.check_hint.is_empty() {
            "the provider's build list"
        } else {
            &self.check_hint
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The status line's reason phrase, when the server sent one.
    pub reason: Option<String>,
    headers: Vec<(String, String)>,
    pub body: String,
    /// `METHOD url`, redacted, for messages.
    request: String,
    /// The answer to a build-starting request: what it may have done and where to check,
    /// should the answer be unusable.
    started_check: Option<String>,
}

impl Response {
    /// An answer as if received for `request` (`METHOD url`): for exercising the code that
    /// reads answers without a server (the fuzz targets).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn received(
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        request: &str,
    ) -> Self {
        Response {
            status,
            reason: None,
            headers,
            body,
            request: redact(request),
            started_check: None,
        }
    }

    /// An answer with these headers and body, for the unit tests that read answers.
    #[cfg(test)]
    pub(crate) fn answered(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Self::received(status, headers, body.to_string(), "GET x")
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

    /// Decodes the body whatever the status. An accepted build-starting request whose
    /// answer cannot be read is an unknown outcome: the build may exist.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.body)
            .map_err(|e| self.unusable(&format!("with unusable JSON ({e}): {}", self.snippet())))
    }

    /// The answer is not what it should be (`what`: "without a build id", …): exit 5, or
    /// exit 6 for an accepted build-starting request, since the build may then exist.
    pub fn unusable(&self, what: &str) -> Error {
        match (&self.started_check, self.is_success()) {
            (Some(check), true) => Error::UnknownOutcome(format!(
                "{} answered {} {what}; {check} before retrying",
                self.request, self.status
            )),
            _ => Error::api(format!("{} answered {} {what}", self.request, self.status)),
        }
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

    /// The start of the body on one line, secrets removed first (a secret straddling the
    /// cut would otherwise print its first part).
    pub fn snippet(&self) -> String {
        snippet(&self.body, 160)
    }

    pub fn request(&self) -> &str {
        &self.request
    }
}

/// `text` redacted, on one line, cut to `max` characters.
pub fn snippet(text: &str, max: usize) -> String {
    let flat: String = redact(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let flat = redact(&flat);
    let mut short: String = flat.chars().take(max).collect();
    if short.len() < flat.len() {
        short.push('…');
    }
    short
}

/// Bounds what a list read page by page keeps: the pages together, not only each one.
#[derive(Debug)]
pub struct PageBudget {
    left: u64,
}

impl Default for PageBudget {
    fn default() -> Self {
        PageBudget { left: MAX_BODY }
    }
}

impl PageBudget {
    /// Counts one page; the list is unusable once its pages together pass 8 MiB.
    pub fn spend(&mut self, page: &Response, what: &str) -> Result<()> {
        let size = page.body.len() as u64;
        match self.left.checked_sub(size) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Error::api(format!(
                "{what} is larger than {} MiB over all its pages; cirelay stops reading it",
                MAX_BODY >> 20
            ))),
        }
    }
}

pub struct Http {
    agent: Agent,
    request_timeout: Duration,
    verbose: bool,
    dry_run: bool,
    retries: u32,
    /// `--timeout` as a point in time: no pause runs past it.
    deadline: Mutex<Option<Instant>>,
}

impl Http {
    pub fn new(
        request_timeout: Duration,
        verbose: bool,
        dry_run: bool,
        deadline: Option<Instant>,
    ) -> Result<Self> {
        let retries = match std::env::var("CIRELAY_RETRIES") {
            Ok(raw) if !raw.is_empty() => raw.trim().parse().map_err(|_| {
                Error::usage(format!("CIRELAY_RETRIES: `{raw}` is not a whole number"))
            })?,
            _ => DEFAULT_RETRIES,
        };
        let config = Agent::config_builder()
            // Status codes are answers to interpret (Retry-After, error bodies), not errors.
            .http_status_as_error(false)
            .timeout_global(Some(request_timeout))
            .timeout_connect(Some(request_timeout))
            // Following a redirect could carry a key in the query string to another host.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(proxy::from_env()?)
            .user_agent(format!("cirelay/{}", crate::cli::VERSION))
            .accept("application/json")
            .build();
        let agent = Agent::with_parts(
            config,
            DefaultConnector::new().chain(tap::Tap),
            DefaultResolver::default(),
        );
        Ok(Http {
            agent,
            request_timeout,
            verbose,
            dry_run,
            retries,
            deadline: Mutex::new(deadline),
        })
    }

    /// Gives requests that run after `--timeout` (cleaning up) a budget of their own.
    pub fn extend_deadline(&self, budget: Duration) {
        let mut deadline = lock(&self.deadline);
        if deadline.is_some() {
            *deadline = Some(Instant::now() + budget);
        }
    }

    /// Sends `req` with the retry rules above. Any status that is not retried is returned
    /// for the caller to interpret, except redirects, which are refused.
    pub fn send(&self, req: &Request) -> Result<Response> {
        self.send_each(|| Ok(req.clone()))
    }

    /// Like [`send`](Self::send), but `make` builds the request anew for every attempt, so
    /// what it carries (an access token that may expire during a pause) is fresh each time.
    pub fn send_each(&self, make: impl FnMut() -> Result<Request>) -> Result<Response> {
        self.attempts(make, false).map(|(resp, _)| resp)
    }

    /// Sends a request whose answer is read as a stream (a downstream log, possibly long or
    /// still growing): no size limit, read line by line, within `--timeout`. A request
    /// marked [`Request::follows_one_redirect`] follows one redirect without its headers.
    /// The answer is returned whatever its status, for the caller to interpret; only a 2xx
    /// has a body to read.
    pub fn open(&self, req: &Request) -> Result<Opened> {
        let (resp, body) = self.attempts(|| Ok(req.clone()), true)?;
        if !(req.follows_one_redirect && (300..400).contains(&resp.status)) {
            return Ok(Opened::new(resp, body));
        }
        let location = resp.header("location").unwrap_or_default();
        let target = redirect_target(&req.url, location).ok_or_else(|| {
            Error::api(format!(
                "{} answered a redirect ({}) to {}, which cirelay does not follow: only https (or http to this machine) is",
                resp.request,
                resp.status,
                redact(location)
            ))
        })?;
        // The hop carries none of the request's credentials; only what kind of answer is
        // wanted goes along (an event stream: Firebase sends its streams through a 307).
        let hop = match req.header_value("Accept") {
            Some(accept) => Request::get(target).header("Accept", accept),
            None => Request::get(target),
        };
        let (resp, body) = self.attempts(|| Ok(hop.clone()), true)?;
        if (300..400).contains(&resp.status) {
            return Err(Error::api(format!(
                "{} answered another redirect ({}); cirelay follows one only",
                resp.request, resp.status
            )));
        }
        Ok(Opened::new(resp, body))
    }

    fn attempts(
        &self,
        mut make: impl FnMut() -> Result<Request>,
        stream: bool,
    ) -> Result<(Response, Option<ureq::Body>)> {
        let mut req = make()?;
        if crate::url::is_plain_http_off_machine(&req.url) && !crate::url::allow_http()? {
            return Err(Error::usage(format!(
                "{} is plain http to another machine: keys must not travel in clear — use https://, or set CIRELAY_ALLOW_HTTP=1",
                req.describe()
            )));
        }
        if self.dry_run {
            let mut line = format!("dry run: {}", req.describe());
            if let Some(body) = &req.body {
                let _ = write!(line, " {}", redact(body));
            }
            output::event(line);
            return Err(Error::DryRunStop(req.describe()));
        }
        if self.verbose {
            if let Some(note) = crate::secrets::short_secret_note() {
                output::event(note);
            }
        }
        let attempts = self.retries + 1;
        for attempt in 1..=attempts {
            if attempt > 1 {
                req = make()?;
            }
            let started = Instant::now();
            tap::begin();
            let result = self.exchange(&req, stream);
            let seen = tap::seen();
            let millis = started.elapsed().as_millis();
            let last = attempt == attempts;
            let retry_note = if attempt > 1 {
                format!(", attempt {attempt}")
            } else {
                String::new()
            };
            match result {
                Ok((mut resp, body)) => {
                    resp.reason = seen.reason().map(str::to_string);
                    if self.verbose {
                        output::event(format!(
                            "{} -> {} ({millis} ms{retry_note})",
                            resp.request, resp.status
                        ));
                    }
                    if is_rate_limited(&resp) {
                        let pause = rate_limit_pause(&resp)
                            .or_else(|| floor_pause(&req, &resp, attempt))
                            .unwrap_or_else(|| backoff(attempt));
                        crate::pace::note(pause);
                        let gave_up = || {
                            format!(
                                "{} is still rate-limited after {}; try again later",
                                resp.request,
                                attempts_word(attempt)
                            )
                        };
                        if last {
                            return Err(Error::Unreachable(gave_up()));
                        }
                        self.pause(pause, "rate-limited by the API", gave_up)?;
                        continue;
                    }
                    if resp.status >= 500 {
                        if req.effect == Effect::StartsBuild {
                            return Err(unknown_outcome(
                                &req,
                                &format!("it answered {}", resp.status),
                            ));
                        }
                        let gave_up = || {
                            format!(
                                "{} answered {} after {}: {}",
                                resp.request,
                                resp.status,
                                attempts_word(attempt),
                                resp.snippet()
                            )
                        };
                        if last {
                            return Err(Error::Unreachable(gave_up()));
                        }
                        let why = format!("it answered {}", resp.status);
                        self.pause(backoff(attempt), &why, gave_up)?;
                        continue;
                    }
                    if (300..400).contains(&resp.status) && req.follows_one_redirect {
                        return Ok((resp, None));
                    }
                    if (300..400).contains(&resp.status) {
                        let to = redact(resp.header("location").unwrap_or("nowhere"));
                        if req.effect == Effect::StartsBuild {
                            return Err(unknown_outcome(
                                &req,
                                &format!("it answered a redirect ({}) to {to}", resp.status),
                            ));
                        }
                        return Err(Error::api(format!(
                            "{} answered a redirect ({}) to {to}; cirelay does not follow redirects — check the API URL",
                            resp.request, resp.status
                        )));
                    }
                    if req.effect == Effect::StartsBuild {
                        resp.started_check =
                            Some(format!("{} — check {}", req.may_have, req.check_hint()));
                    }
                    return Ok((resp, body));
                }
                Err(e) => {
                    let failure = describe_error(&e);
                    if self.verbose {
                        output::event(format!(
                            "{} -> {failure} ({millis} ms{retry_note})",
                            req.describe()
                        ));
                    }
                    let not_sent = !seen.wrote_request || never_sent(&e);
                    if req.effect == Effect::StartsBuild && !not_sent {
                        return Err(unknown_outcome(&req, &failure));
                    }
                    // An answer too large to read is unusable, not a passing fault: asking
                    // again would only fetch it again.
                    if matches!(e, ureq::Error::BodyExceedsLimit(_)) {
                        return Err(Error::api(format!(
                            "{} answered, but {failure}",
                            req.describe()
                        )));
                    }
                    let gave_up = || {
                        format!(
                            "could not reach the API: {} failed after {}: {failure}",
                            req.describe(),
                            attempts_word(attempt)
                        )
                    };
                    if last {
                        return Err(Error::Unreachable(gave_up()));
                    }
                    self.pause(backoff(attempt), &failure, gave_up)?;
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Sleeps before a retry, unless the pause would end past `--timeout`: then cirelay gives
    /// up now (with `gave_up`, what the last failure means) rather than sleep only to give up.
    fn pause(&self, pause: Duration, why: &str, gave_up: impl FnOnce() -> String) -> Result<()> {
        if let Some(deadline) = *lock(&self.deadline) {
            let left = deadline.saturating_duration_since(Instant::now());
            if pause > left {
                return Err(Error::OutOfTime(format!(
                    "{}; the next try would come in {}, after --timeout ({} left)",
                    gave_up(),
                    output::seconds(pause),
                    output::seconds(left)
                )));
            }
        }
        output::event(format!("{why}; retrying in {}", output::seconds(pause)));
        std::thread::sleep(pause);
        Ok(())
    }

    /// One exchange. With `stream`, a 2xx answer's body is left to be read as it comes,
    /// bounded by `--timeout` rather than by `--request-timeout` and 8 MiB.
    fn exchange(
        &self,
        req: &Request,
        stream: bool,
    ) -> std::result::Result<(Response, Option<ureq::Body>), ureq::Error> {
        let url = req.url.as_str();
        let mut response = match (req.method, &req.body) {
            (Method::Get, _) => self.prepared(self.agent.get(url), req, stream).call()?,
            (Method::Delete, _) => self.prepared(self.agent.delete(url), req, stream).call()?,
            (Method::Post, Some(body)) => self
                .prepared(self.agent.post(url), req, stream)
                .send(body.as_str())?,
            (Method::Post, None) => self
                .prepared(self.agent.post(url), req, stream)
                .send_empty()?,
            (Method::Put, Some(body)) => self
                .prepared(self.agent.put(url), req, stream)
                .send(body.as_str())?,
            (Method::Put, None) => self
                .prepared(self.agent.put(url), req, stream)
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
        let mut answer = Response {
            status,
            reason: None,
            headers,
            body: String::new(),
            request: req.describe(),
            started_check: None,
        };
        if stream && (200..300).contains(&status) {
            return Ok((answer, Some(response.into_body())));
        }
        answer.body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()?;
        Ok((answer, None))
    }

    /// The request's headers, and for a streamed answer timeouts that let it run as long
    /// as `--timeout` allows.
    fn prepared<B>(
        &self,
        builder: ureq::RequestBuilder<B>,
        req: &Request,
        stream: bool,
    ) -> ureq::RequestBuilder<B> {
        let builder = self.with_headers(builder, req);
        let left = lock(&self.deadline)
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(MAX_STREAM);
        if !stream {
            // Near the deadline (a cancel in the seconds a stopped job has left), an answer
            // is not awaited past it.
            if left >= self.request_timeout {
                return builder;
            }
            return builder
                .config()
                .timeout_global(Some(left.max(MIN_REQUEST_TIMEOUT)))
                .build();
        }
        builder
            .config()
            .timeout_global(None)
            .timeout_recv_response(Some(self.request_timeout))
            .timeout_recv_body(Some(left.min(MAX_STREAM)))
            .build()
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

/// Where a log download's redirect may lead: an absolute https URL, or plain http to this
/// machine (as the test fakes serve them); a path is on the same host.
fn redirect_target(from: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.starts_with('/') && !location.starts_with("//") {
        let origin_end = from.find("://").map(|i| i + 3)?;
        let host_end = from[origin_end..]
            .find('/')
            .map_or(from.len(), |i| origin_end + i);
        return Some(format!("{}{location}", &from[..host_end]));
    }
    let lower = location.to_ascii_lowercase();
    let allowed = lower.starts_with("https://")
        || (lower.starts_with("http://") && !crate::url::is_plain_http_off_machine(location));
    allowed.then(|| location.to_string())
}

/// An answer opened as a stream: its status and headers, and its body line by line.
pub struct Opened {
    pub response: Response,
    body: Option<std::io::BufReader<ureq::BodyReader<'static>>>,
}

impl Opened {
    fn new(response: Response, body: Option<ureq::Body>) -> Self {
        let body =
            body.map(|b| std::io::BufReader::new(b.into_with_config().limit(u64::MAX).reader()));
        Opened { response, body }
    }

    /// The next line of the body, without its line ending, at most `max` characters (the
    /// rest of a longer line is read and dropped); `None` at the end.
    pub fn next_line(&mut self, max: usize) -> Result<Option<String>> {
        use std::io::BufRead;
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        let mut kept: Vec<u8> = Vec::new();
        let mut any = false;
        loop {
            let buf = body.fill_buf().map_err(|e| broke_off(&self.response, &e))?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            let room = (max * 4).saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = found.unwrap_or(buf.len());
            body.consume(used);
            if found.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&kept);
        let line = line.trim_end_matches('\r');
        Ok(Some(line.chars().take(max).collect()))
    }

    /// The next bytes of the body as they arrive, `None` at the end. For a caller that
    /// counts bytes (a GitLab job trace read on from an offset), which lines would hide.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        use std::io::BufRead;
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        let buf = body.fill_buf().map_err(|e| broke_off(&self.response, &e))?;
        if buf.is_empty() {
            return Ok(None);
        }
        let chunk = buf.to_vec();
        body.consume(chunk.len());
        Ok(Some(chunk))
    }
}

fn broke_off(response: &Response, e: &std::io::Error) -> Error {
    Error::Unreachable(format!(
        "{} broke off while its answer was read: {}",
        response.request,
        redact(&e.to_string())
    ))
}

/// The body as bytes, for a caller that parses it as it arrives (a log too long to hold, an
/// event stream): read errors are I/O errors; [`Opened::broke_off`] says them as cirelay does.
impl std::io::Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.body.as_mut() {
            Some(body) => body.read(buf),
            None => Ok(0),
        }
    }
}

impl std::io::BufRead for Opened {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self.body.as_mut() {
            Some(body) => body.fill_buf(),
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, amount: usize) {
        if let Some(body) = self.body.as_mut() {
            body.consume(amount);
        }
    }
}

impl Opened {
    /// A read of the body that failed, as one line naming the request.
    pub fn broke_off(&self, e: &std::io::Error) -> Error {
        broke_off(&self.response, e)
    }

    /// A read of the body as `what` (a log, output) that failed: an answer that could not
    /// be read as one (`InvalidData`, `Other`), else a connection that broke off.
    pub fn read_failed(&self, what: &str, e: &std::io::Error) -> Error {
        match e.kind() {
            std::io::ErrorKind::Other | std::io::ErrorKind::InvalidData => Error::api(format!(
                "{} answered {what} cirelay cannot read: {}",
                self.response.request,
                redact(&e.to_string())
            )),
            _ => self.broke_off(e),
        }
    }
}

fn attempts_word(n: u32) -> String {
    if n == 1 {
        "1 attempt".to_string()
    } else {
        format!("{n} attempts")
    }
}

fn unknown_outcome(req: &Request, failure: &str) -> Error {
    Error::UnknownOutcome(format!(
        "{} failed after it may have reached the server ({failure}); {} — check {} before retrying",
        req.describe(),
        req.may_have,
        req.check_hint()
    ))
}

/// Failures that by their kind happened before anything was sent, whatever the transport
/// watch saw (it sees only what went through it).
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
        ureq::Error::Io(io) => redact(&io.to_string()),
        other => redact(&other.to_string()),
    }
}

/// Codeship answers `403 Forbidden Rate Limit Exceeded` where others answer 429, possibly
/// with an empty body: the reason phrase says it. GitHub's limits are a 403 with
/// `Retry-After` or with `x-ratelimit-remaining: 0`, or a 403 saying "You have exceeded a
/// secondary rate limit" with neither header.
fn is_rate_limited(resp: &Response) -> bool {
    let says = |text: &str| {
        let text = text.to_ascii_lowercase();
        text.contains("rate limit exceeded") || text.contains("secondary rate limit")
    };
    resp.status == 429
        || (resp.status == 403
            && (says(&resp.body)
                || resp.reason.as_deref().is_some_and(says)
                || resp.header("retry-after").is_some()
                || resp.header("x-ratelimit-remaining").map(str::trim) == Some("0")))
}

/// The pause the server asked for: `Retry-After` (seconds or an HTTP date), else
/// `RateLimit-Reset`/`X-RateLimit-Reset` (seconds, or a Unix time when that large).
fn rate_limit_pause(resp: &Response) -> Option<Duration> {
    let now = crate::time::now_unix();
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
    let at = crate::time::http_date(v)?;
    Some(Duration::from_secs(at.saturating_sub(now_unix)))
}

/// The pause a request's floor asks for after a rate-limit answer that names none: the floor,
/// doubled for each attempt after the first, when the answer says the floor's words.
fn floor_pause(req: &Request, resp: &Response, attempt: u32) -> Option<Duration> {
    let (floor, says) = req.rate_limit_floor?;
    resp.body.to_ascii_lowercase().contains(says).then(|| {
        floor
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(MAX_RATE_LIMIT_PAUSE)
    })
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

/// What the HTTP layer reads from any answer before a provider sees it: whether it is a
/// rate limit, how long it asks to pause, and its one-line error; for the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_answer(resp: &Response) {
    let _ = is_rate_limited(resp);
    let _ = rate_limit_pause(resp);
    let _ = resp.error("a hint");
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 9223372036854775807:00:00 GMT", now),
            None
        );
        let r = response(
            429,
            &[("Retry-After", "x 06 Nov 184467440737095516 1:2:3 GMT")],
            "",
        );
        assert_eq!(rate_limit_pause(&r), None);
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::answered(status, headers, body)
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
        // Codeship's limit on the status line alone, with an empty body.
        let mut on_the_status_line = response(403, &[], "");
        assert!(!is_rate_limited(&on_the_status_line));
        on_the_status_line.reason = Some("Forbidden Rate Limit Exceeded".into());
        assert!(is_rate_limited(&on_the_status_line));
        // GitHub's primary and secondary limits.
        assert!(is_rate_limited(&response(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")],
            "{\"message\":\"API rate limit exceeded\"}"
        )));
        assert!(is_rate_limited(&response(
            403,
            &[("retry-after", "60")],
            ""
        )));
        assert!(!is_rate_limited(&response(
            403,
            &[("x-ratelimit-remaining", "4999")],
            "{\"message\":\"Resource not accessible by integration\"}"
        )));
        // GitHub's secondary limit may name no pause at all.
        assert!(is_rate_limited(&response(
            403,
            &[],
            "{\"message\":\"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.\"}"
        )));
        let secondary = response(403, &[], "You have exceeded a SECONDARY RATE LIMIT.");
        let floored =
            Request::get("x").rate_limit_floor(Duration::from_secs(60), "secondary rate limit");
        let pauses: Vec<Option<Duration>> = (1..=5)
            .map(|a| floor_pause(&floored, &secondary, a))
            .collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            pauses,
            [secs(60), secs(120), secs(240), secs(300), secs(300)]
        );
        assert_eq!(
            floor_pause(&floored, &response(429, &[], "slow down"), 1),
            None
        );
        assert_eq!(floor_pause(&Request::get("x"), &secondary, 1), None);
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
        let now = crate::time::now_unix();
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

    #[test]
    fn a_secret_across_the_cut_is_not_half_printed() {
        let secret = "straddling-secret-0123456789";
        register_secret(secret);
        let body = format!("{}{secret} and more", "x".repeat(150));
        let cut = response(400, &[], &body).snippet();
        assert!(!cut.contains("straddl"), "{cut}");
        assert!(cut.ends_with('…'), "{cut}");
    }

    #[test]
    fn redact_then_collapse_whitespace() {
        register_secret("two  spaces-secret");
        assert_eq!(snippet("said two  spaces-secret.", 160), "said ***.");
        assert_eq!(snippet("said two spaces-secret.", 160), "said ***.");
    }

    #[test]
    fn unusable_answers_to_build_starts_are_unknown_outcomes() {
        let mut r = response(200, &[], "{}");
        assert_eq!(r.unusable("without a build id").exit_code(), 5);
        r.started_check = Some("the build may have started — check the builds at https://x".into());
        let e = r.unusable("without a build id");
        assert_eq!(e.exit_code(), 6);
        assert!(
            e.to_string().contains("check the builds at https://x"),
            "{e}"
        );
        assert_eq!(r.decode::<Vec<u8>>().unwrap_err().exit_code(), 6);
        // A refusal is not: the server said no.
        let mut refused = response(400, &[], "{}");
        refused.started_check = Some("x".into());
        assert_eq!(refused.unusable("x").exit_code(), 5);
    }

    #[test]
    fn log_redirects_go_to_https_or_this_machine_only() {
        let from = "https://api.github.com/repos/o/r/actions/jobs/1/logs";
        assert_eq!(
            redirect_target(from, "https://logs.example.net/x?sig=1").as_deref(),
            Some("https://logs.example.net/x?sig=1")
        );
        assert_eq!(
            redirect_target(from, "/elsewhere").as_deref(),
            Some("https://api.github.com/elsewhere")
        );
        assert_eq!(
            redirect_target("http://127.0.0.1:9/a", "http://127.0.0.1:10/log").as_deref(),
            Some("http://127.0.0.1:10/log")
        );
        assert_eq!(redirect_target(from, "http://logs.example.net/x"), None);
        assert_eq!(redirect_target(from, "ftp://x"), None);
        assert_eq!(redirect_target(from, "//evil.example/x"), None);
    }

    #[test]
    fn page_budgets_count_every_page() {
        let page = response(200, &[], &"x".repeat(3 << 20));
        let mut budget = PageBudget::default();
        budget.spend(&page, "the list").unwrap();
        budget.spend(&page, "the list").unwrap();
        let err = budget.spend(&page, "the workflow list").unwrap_err();
        assert_eq!(err.exit_code(), 5);
        assert!(err
            .to_string()
            .contains("the workflow list is larger than 8 MiB"));
    }
}
