//! A fake Firebase Realtime Database, where Codefresh's engine writes a running build's
//! log: a JSON tree served through the REST API as Firebase serves it. Reads of any path
//! (`<path>.json`), `shallow=true` (a primitive as it is; an object with each key's value
//! cut to `true`, as Firebase's documentation says),
//! `orderBy="$key"` with `startAt` and `limitToFirst` (answered in reverse key order: a
//! query's answer is unordered in Firebase's REST API, so the client must sort), `401
//! {"error": "Permission denied"}` for a token it did not issue or revoked, and a path as
//! an event stream (`Accept: text/event-stream`): first a `put` of the whole value, then a
//! `put` for every write under it as it happens, with `keep-alive`s, until the client goes.
//! A stream can be cut in the middle of an event, or end with `auth_revoked` (its token no
//! longer valid), once each, to test resuming.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::support::{percent_decode, FakeServer, Recorded, Reply};

#[derive(Debug, Default)]
pub struct Db {
    pub tree: Value,
    /// Every write, in order: its path's segments and the value written.
    pub writes: Vec<(Vec<String>, Value)>,
    /// Tokens that read; a revoked one is removed.
    pub tokens: Vec<String>,
    pub issued: usize,
    pushed: u64,
    /// The next stream breaks off in the middle of an event after this many writes.
    pub cut_after: Option<usize>,
    /// The next stream ends with `auth_revoked` after this many writes, revoking its token.
    pub revoke_after: Option<usize>,
    /// Event streams opened.
    pub streams: usize,
    /// Every token is refused, also new ones.
    pub refuses_all: bool,
    /// Streams send their headers, then nothing at all.
    pub silent_streams: bool,
    /// A log too long for the test to keep: made up when a query asks for it.
    pub generated: Option<Generated>,
    /// Woken on every write: the streams wait on it rather than poll.
    pub written: Arc<Condvar>,
}

/// A step's log of `count` entries of `text` (keys `-S00000000`, …), at `path`: answered
/// to queries without ever being held, so a test of a 50 MB log holds none of it either.
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: Vec<String>,
    pub count: usize,
    pub text: String,
}

impl Generated {
    fn answer(&self, req: &Recorded) -> Reply {
        let start: usize = req
            .query("startAt")
            .and_then(|s| serde_json::from_str::<String>(&s).ok())
            .and_then(|k| k.strip_prefix("-S").and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let limit: usize = req
            .query("limitToFirst")
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        let text = Value::String(self.text.clone()).to_string();
        let end = self.count.min(start.saturating_add(limit));
        // Written as it goes: the fake holds no more of it than the client does.
        Reply::stream(move |out| {
            let _ = out.write_all(b"{");
            for n in (start..end).rev() {
                let sep = if n + 1 == end { "" } else { "," };
                if write!(out, "{sep}\"-S{n:08}\":{text}").is_err() {
                    return;
                }
            }
            let _ = out.write_all(b"}");
        })
        .header("Content-Type", "application/json")
    }
}

impl Db {
    /// Issues a new token (what `firebaseAuth` hands out).
    pub fn issue(&mut self) -> String {
        self.issued += 1;
        let token = format!("fb-token-{}-secret-0123456789", self.issued);
        self.tokens.push(token.clone());
        token
    }

    /// Sets `path` to `value`, as the task logger's REST client does with PUT.
    pub fn set(&mut self, path: &[&str], value: Value) {
        let mut node = &mut self.tree;
        for segment in path {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node = node
                .as_object_mut()
                .unwrap()
                .entry(segment.to_string())
                .or_insert(Value::Null);
        }
        *node = value.clone();
        self.writes
            .push((path.iter().map(|s| s.to_string()).collect(), value));
        self.written.notify_all();
    }

    /// Adds `value` under a new push id at `path`, as POST does; the id sorts after every
    /// earlier one.
    pub fn push(&mut self, path: &[&str], value: Value) -> String {
        self.pushed += 1;
        let key = format!("-Nfake{:012}", self.pushed);
        let mut full: Vec<&str> = path.to_vec();
        full.push(&key);
        self.set(&full, value);
        key
    }

    pub fn get(&self, path: &[String]) -> Value {
        let mut node = &self.tree;
        for segment in path {
            match node.get(segment) {
                Some(child) => node = child,
                None => return Value::Null,
            }
        }
        node.clone()
    }
}

#[derive(Clone)]
pub struct Firebase {
    pub server: FakeServer,
    pub db: Arc<Mutex<Db>>,
}

impl Firebase {
    pub fn start() -> Self {
        let db = Arc::new(Mutex::new(Db::default()));
        let shared = db.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        Firebase { server, db }
    }
}

fn denied() -> Reply {
    Reply::json(401, json!({"error": "Permission denied"}))
}

fn handle(db: &Arc<Mutex<Db>>, req: &Recorded) -> Reply {
    if req.method != "GET" {
        return Reply::json(405, json!({"error": "only reads here"}));
    }
    let Some(path) = req.path().strip_suffix(".json") else {
        return Reply::json(400, json!({"error": "paths end in .json"}));
    };
    let path: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let token = req.query("auth").unwrap_or_default();
    let mut state = db.lock().unwrap();
    if state.refuses_all || !state.tokens.contains(&token) {
        return denied();
    }
    if req.header("accept") == Some("text/event-stream") {
        state.streams += 1;
        let (cut, revoke) = (state.cut_after.take(), state.revoke_after.take());
        if state.silent_streams {
            return Reply::stream(|_| std::thread::sleep(Duration::from_secs(60)))
                .header("Content-Type", "text/event-stream");
        }
        drop(state);
        let db = db.clone();
        return Reply::stream(move |out| event_stream(&db, &path, &token, cut, revoke, out))
            .header("Content-Type", "text/event-stream");
    }
    if let Some(generated) = state.generated.as_ref().filter(|g| g.path == path) {
        return generated.answer(req);
    }
    let value = state.get(&path);
    if req.query("shallow").as_deref() == Some("true") {
        return Reply::json(200, shallow(value));
    }
    if req.query("orderBy").as_deref() == Some("\"$key\"") {
        return by_key(value, req);
    }
    Reply::json(200, value)
}

fn shallow(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, _)| (k, Value::Bool(true)))
                .collect(),
        ),
        other => other,
    }
}

/// `orderBy="$key"&startAt="K"&limitToFirst=N`: the children from K on, the first N,
/// written in reverse key order, as Firebase promises no order for a query's answer.
fn by_key(value: Value, req: &Recorded) -> Reply {
    let Value::Object(map) = value else {
        return Reply::json(200, Value::Null);
    };
    let start: Option<String> = req
        .query("startAt")
        .map(|s| serde_json::from_str(&s).expect("startAt is a JSON string"));
    let limit: usize = req
        .query("limitToFirst")
        .map(|n| n.parse().expect("limitToFirst is a number"))
        .unwrap_or(usize::MAX);
    let mut keys: Vec<&String> = map
        .keys()
        .filter(|k| start.as_ref().is_none_or(|s| k.as_str() >= s.as_str()))
        .collect();
    keys.sort();
    keys.truncate(limit);
    let members: Vec<String> = keys
        .into_iter()
        .rev()
        .map(|k| format!("{}:{}", Value::String(k.clone()), map[k]))
        .collect();
    Reply::text(200, &format!("{{{}}}", members.join(",")))
        .header("Content-Type", "application/json")
}

/// Writes the stream of `path`: the value now, then each write under it, until the client
/// goes away (a write fails) or a minute passes.
fn event_stream(
    db: &Mutex<Db>,
    path: &[String],
    token: &str,
    cut: Option<usize>,
    revoke: Option<usize>,
    out: &mut dyn Write,
) {
    let (first, mut seen, written) = {
        let state = db.lock().unwrap();
        (state.get(path), state.writes.len(), state.written.clone())
    };
    if put(out, "/", &first).is_err() {
        return;
    }
    let mut sent = 0;
    let began = Instant::now();
    let mut quiet = Instant::now();
    while began.elapsed() < Duration::from_secs(60) {
        let news: Vec<(Vec<String>, Value)> = {
            let mut state = db.lock().unwrap();
            if state.writes.len() == seen {
                // Until the next write, or the next keep-alive.
                state = written
                    .wait_timeout(state, Duration::from_millis(200))
                    .unwrap()
                    .0;
            }
            let news = state.writes[seen..].to_vec();
            seen = state.writes.len();
            news
        };
        for (written, value) in news {
            let Some(rest) = written.strip_prefix(path) else {
                continue;
            };
            if cut == Some(sent) {
                // Half an event, then nothing: the connection breaks.
                let _ = out.write_all(b"event: put\ndata: {\"path\":\"/ste");
                let _ = out.flush();
                return;
            }
            if revoke == Some(sent) {
                let _ = out
                    .write_all(b"event: auth_revoked\ndata: \"credential is no longer valid\"\n\n");
                let _ = out.flush();
                db.lock().unwrap().tokens.retain(|t| t != token);
                return;
            }
            if put(out, &format!("/{}", rest.join("/")), &value).is_err() {
                return;
            }
            sent += 1;
            quiet = Instant::now();
        }
        if quiet.elapsed() > Duration::from_millis(200) {
            if out
                .write_all(b"event: keep-alive\ndata: null\n\n")
                .and_then(|_| out.flush())
                .is_err()
            {
                return;
            }
            quiet = Instant::now();
        }
    }
}

/// A `put` event as Firebase writes it: `path` before `data`.
fn put(out: &mut dyn Write, path: &str, data: &Value) -> std::io::Result<()> {
    let path = Value::String(path.to_string());
    write!(
        out,
        "event: put\ndata: {{\"path\":{path},\"data\":{data}}}\n\n"
    )?;
    out.flush()
}
