//! A running Codefresh build's log, where Codefresh's engine writes it: a Firebase Realtime
//! Database, read through its REST API the way Codefresh's own SDK reads it
//! (`lib/logic/logs.logic.js`) and its task logger writes it. Under the build's node
//! (`<url>/<progressId>`, or `<url>/build-logs/<progressId>` in the older layout) are its
//! `status` and `steps`, keyed by step name; each step has `name`, `status`,
//! `creationTimeStamp` (Unix seconds) and `logs`, chunks of text under push ids, which sort
//! in the order they were written.
//!
//! Reads are queries that keep what cirelay holds small: the steps `?shallow=true`, each
//! step's fields `?shallow=true`, and a step's log entries after the last one printed
//! (`orderBy="$key"&startAt=…&limitToFirst=N`, sorted here: Firebase's REST answers to
//! queries are unordered). The live log is the node as an event stream
//! (`Accept: text/event-stream`): `put` and `patch` events carry `{path, data}`; a snapshot
//! (the first event, and again after every reconnect) only says which steps have entries to
//! read, which the queries then read from where they were left, so a cut stream resumes
//! without printing anything twice and a 50 MB snapshot is never held.

use std::cmp::Ordering;
use std::fmt;
use std::io::{self, BufRead};

use super::api::FirebaseAuth;
use crate::error::{Error, Result};
use crate::http::{encode, Request, Response};
use crate::logs::json::{Reader, Value};

/// Entries read per query; halved while an answer would be too large to sort.
pub const BATCH: usize = 1000;
/// What one query's entries may hold together: they are sorted before they are printed.
const BATCH_BYTES: usize = 8 << 20;

/// One build's node in the log database, and the token that reads it.
#[derive(Clone)]
pub struct Firebase {
    /// `<url>[/build-logs]/<progressId>`, without `.json`.
    node: String,
    token: String,
}

impl fmt::Debug for Firebase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Firebase")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Firebase {
    pub fn new(auth: &FirebaseAuth, progress: &str) -> Self {
        let base = auth.url.trim_end_matches('/');
        let node = if auth.new_structure {
            format!("{base}/{}", encode(progress))
        } else {
            format!("{base}/build-logs/{}", encode(progress))
        };
        Firebase {
            node,
            token: auth.access_token.clone(),
        }
    }

    /// `<node>/<path…>.json?auth=TOKEN&<query>`; each path segment encoded.
    fn url(&self, path: &[&str], query: &str) -> String {
        let mut url = self.node.clone();
        for segment in path {
            url.push('/');
            url.push_str(&encode(segment));
        }
        url.push_str(".json?auth=");
        url.push_str(&encode(&self.token));
        if !query.is_empty() {
            url.push('&');
            url.push_str(query);
        }
        url
    }

    /// The build's step keys (`steps.json?shallow=true`).
    pub fn steps_request(&self) -> Request {
        Request::get(self.url(&["steps"], "shallow=true"))
    }

    /// A step's fields, its log reduced to `true` (`steps/KEY.json?shallow=true`).
    pub fn step_request(&self, key: &str) -> Request {
        Request::get(self.url(&["steps", key], "shallow=true"))
    }

    /// One field of a step, where a shallow read gave only `true` for it.
    pub fn field_request(&self, key: &str, field: &str) -> Request {
        Request::get(self.url(&["steps", key, field], ""))
    }

    /// Up to `limit` log entries of a step from `after` on (Firebase has `startAt`, which
    /// includes `after` itself; the caller skips it).
    pub fn entries_request(&self, key: &str, after: Option<&str>, limit: usize) -> Request {
        let mut query = format!("orderBy=%22%24key%22&limitToFirst={limit}");
        if let Some(after) = after {
            let quoted = serde_json::Value::String(after.to_string()).to_string();
            query.push_str(&format!("&startAt={}", encode(&quoted)));
        }
        Request::get(self.url(&["steps", key, "logs"], &query))
    }

    /// The build's node as an event stream. Firebase may answer with a 307 to the server
    /// that holds the data; that one redirect is followed.
    pub fn stream_request(&self) -> Request {
        Request::get(self.url(&[], ""))
            .header("Accept", "text/event-stream")
            .follows_one_redirect()
    }
}

/// The keys of a shallow read (`{"key": true, …}`, or `null` when there is nothing).
pub fn shallow_keys(resp: &Response) -> Result<Vec<String>> {
    match resp.decode::<serde_json::Value>()? {
        serde_json::Value::Object(map) => Ok(map.into_iter().map(|(k, _)| k).collect()),
        serde_json::Value::Null => Ok(Vec::new()),
        _ => Err(resp.unusable("with something else than the build's steps")),
    }
}

/// A step key from the database, before it goes into a request path: what Firebase allows
/// in a key (no `.`, `$`, `#`, `[`, `]`, `/`, at most 768 bytes), and one line.
pub fn is_step_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 768
        && !key
            .chars()
            .any(|c| c.is_control() || matches!(c, '.' | '$' | '#' | '[' | ']' | '/'))
}

/// A log entry's key, before it goes into a query.
pub fn is_entry_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 768 && !key.chars().any(char::is_control)
}

/// Firebase's `$key` order: keys that are 32-bit integers first, by value, then the others
/// as strings. Push ids are never integers, so for them this is the string order.
pub fn key_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<i32>(), b.parse::<i32>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// What one query for log entries gave.
pub enum Batch {
    /// Entries in key order, and whether the query was answered in full (`limit` entries,
    /// so more may follow).
    Entries(Vec<(String, String)>, bool),
    /// The entries together were more than cirelay sorts at once: ask for fewer.
    TooLarge,
}

/// Reads the answer to an entries query (`{"key": "text", …}`), keeping at most
/// [`BATCH_BYTES`] of it; values that are not text are skipped.
pub fn read_batch(body: &mut dyn BufRead, limit: usize) -> io::Result<Batch> {
    let mut r = Reader::new(body);
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut bytes = 0usize;
    let mut keep = |key: String, text: String, entries: &mut Vec<(String, String)>| {
        bytes += key.len() + text.len();
        entries.push((key, text));
        bytes <= BATCH_BYTES
    };
    match r.value()? {
        Value::Object => {
            while let Some(key) = r.next_key()? {
                if !is_entry_key(&key) {
                    r.skip()?;
                    continue;
                }
                if let Some(text) = r.text()? {
                    if !keep(key, text, &mut entries) {
                        return Ok(Batch::TooLarge);
                    }
                }
            }
        }
        // An answer with integer keys may come as an array.
        Value::Array => {
            let mut i = 0usize;
            while r.next_item()? {
                if let Some(text) = r.text()? {
                    if !keep(i.to_string(), text, &mut entries) {
                        return Ok(Batch::TooLarge);
                    }
                }
                i += 1;
            }
        }
        Value::Null => {}
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not log entries",
            ))
        }
    }
    let full = entries.len() >= limit;
    let sorted = crate::logs::order(entries.len(), &|a, b| {
        key_order(&entries[a].0, &entries[b].0)
    });
    let entries = sorted
        .into_iter()
        .map(|i| std::mem::take(&mut entries[i]))
        .collect();
    Ok(Batch::Entries(entries, full))
}

/// A step's fields as a shallow read of it gives them: a field that is `true` there was
/// an object, or a server that shortens every value, and is read on its own.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StepFields {
    pub name: Option<String>,
    pub status: Option<String>,
    pub created: Option<f64>,
    /// Fields the shallow read did not give, to read one by one.
    pub missing: Vec<&'static str>,
}

pub fn step_fields(value: &serde_json::Value) -> StepFields {
    let mut fields = StepFields::default();
    let Some(map) = value.as_object() else {
        return fields;
    };
    for (field, name) in [
        (map.get("name"), "name"),
        (map.get("status"), "status"),
        (map.get("creationTimeStamp"), "creationTimeStamp"),
    ] {
        match (name, field) {
            (_, Some(serde_json::Value::Bool(true))) => fields.missing.push(name),
            ("name", Some(v)) => fields.name = v.as_str().map(short),
            ("status", Some(v)) => fields.status = v.as_str().map(short),
            ("creationTimeStamp", Some(v)) => fields.created = time_of(v),
            _ => {}
        }
    }
    fields
}

/// A creation time: Unix seconds as a number, or as text.
pub fn time_of(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => crate::logs::json::number(s),
        _ => None,
    }
    .filter(|t: &f64| t.is_finite())
}

/// Names and statuses go into header lines: one short line.
pub(super) fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

/// What the live stream says, event by event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new log entry of a step.
    Entry {
        step: String,
        key: String,
        text: String,
    },
    Status {
        step: String,
        status: String,
    },
    Created {
        step: String,
        at: f64,
    },
    Named {
        step: String,
        name: String,
    },
    /// A step's log was set as a whole (a snapshot, a reconnect, logs cleared): it is read
    /// again by query from where it was left.
    Replaced(String),
    /// An event the log cannot place (its data before its path): every step is read again.
    Everything,
    /// The build's own status.
    BuildStatus(String),
}

/// One event of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Change(Change),
    KeepAlive,
    /// The token expired: a new one is needed before reading on.
    AuthRevoked,
    /// The server stopped the stream (the token may no longer read the node).
    Cancel,
}

/// Where a value sits in the build's node.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    Node,
    Steps,
    Step(String),
    Logs(String),
    Entry(String, String),
    Field(String, &'static str),
    BuildStatus,
    Elsewhere,
}

impl Place {
    fn at<'k>(segments: impl IntoIterator<Item = &'k str>) -> Place {
        segments
            .into_iter()
            .filter(|s| !s.is_empty())
            .fold(Place::Node, |place, s| place.child(s))
    }

    fn child(&self, key: &str) -> Place {
        match self {
            Place::Node => match key {
                "steps" => Place::Steps,
                "status" => Place::BuildStatus,
                _ => Place::Elsewhere,
            },
            Place::Steps if is_step_key(key) => Place::Step(key.to_string()),
            Place::Step(s) => match key {
                "logs" => Place::Logs(s.clone()),
                "status" => Place::Field(s.clone(), "status"),
                "name" => Place::Field(s.clone(), "name"),
                "creationTimeStamp" => Place::Field(s.clone(), "creationTimeStamp"),
                _ => Place::Elsewhere,
            },
            Place::Logs(s) if is_entry_key(key) => Place::Entry(s.clone(), key.to_string()),
            _ => Place::Elsewhere,
        }
    }
}

type Sink<'s> = &'s mut dyn FnMut(Change);

/// The data of a `put` at `place`: it replaces what was there.
fn put(r: &mut Reader, place: Place, sink: Sink) -> io::Result<()> {
    match place {
        Place::Elsewhere => return r.skip(),
        // A whole log is never held: it is read by query afterwards.
        Place::Logs(step) => {
            sink(Change::Replaced(step));
            return r.skip();
        }
        _ => {}
    }
    let value = r.value()?;
    let change = match (place, value) {
        (place @ (Place::Node | Place::Steps | Place::Step(_)), Value::Object) => {
            if let Place::Step(step) = &place {
                // A step set as a whole: whatever its log held is read by query.
                sink(Change::Replaced(step.clone()));
            }
            while let Some(key) = r.next_key()? {
                put(r, place.child(&key), sink)?;
            }
            return Ok(());
        }
        (Place::Entry(step, key), Value::Text(text)) => Change::Entry { step, key, text },
        (Place::Field(step, "status"), Value::Text(v)) => Change::Status {
            step,
            status: short(&v),
        },
        (Place::Field(step, "name"), Value::Text(v)) => Change::Named {
            step,
            name: short(&v),
        },
        (Place::Field(step, _), Value::Number(at)) => Change::Created { step, at },
        (Place::Field(step, _), Value::Text(v)) => match crate::logs::json::number(&v) {
            Some(at) => Change::Created { step, at },
            None => return Ok(()),
        },
        (Place::BuildStatus, Value::Text(v)) => Change::BuildStatus(short(&v)),
        // Anything else than the value the place holds: an entry or a step that was removed
        // or replaced by something odd is read again.
        (Place::Entry(step, _) | Place::Step(step), other) => {
            r.close(&other)?;
            Change::Replaced(step)
        }
        (_, other) => return r.close(&other),
    };
    if let Change::Created { at, .. } = &change {
        if !at.is_finite() {
            return Ok(());
        }
    }
    sink(change);
    Ok(())
}

/// The data of a `patch` at `place`: each key (a child, or a deeper path `a/b`) is set.
fn patch(r: &mut Reader, place: Place, sink: Sink) -> io::Result<()> {
    match r.value()? {
        Value::Object => {
            while let Some(key) = r.next_key()? {
                let at = key
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .fold(place.clone(), |p, s| p.child(s));
                put(r, at, sink)?;
            }
            Ok(())
        }
        other => r.close(&other),
    }
}

/// `{"path": …, "data": …}` of a `put` or `patch`.
fn event_data(r: &mut Reader, is_patch: bool, sink: Sink) -> io::Result<()> {
    if r.value()? != Value::Object {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not an event's {path, data}",
        ));
    }
    let mut place: Option<Place> = None;
    while let Some(key) = r.next_key()? {
        match key.as_str() {
            "path" => place = r.text()?.map(|path| Place::at(path.split('/'))),
            "data" => match place.take() {
                Some(place) if is_patch => patch(r, place, sink)?,
                Some(place) => put(r, place, sink)?,
                // Data before its path cannot be placed as it streams by; everything is read
                // again instead of holding it.
                None => {
                    r.skip()?;
                    sink(Change::Everything);
                }
            },
            _ => r.skip()?,
        }
    }
    Ok(())
}

/// The longest event name or field name read; longer ones are not Firebase's.
const MAX_NAME: usize = 64;

/// Reads an event stream (Server-Sent Events as Firebase sends them) to its end, handing
/// each event to `on` as it is parsed; `on` returns false to stop. A `data:` line is parsed
/// as it is read, never held whole.
pub fn read_events(body: &mut dyn BufRead, on: &mut dyn FnMut(Event) -> bool) -> io::Result<()> {
    let mut event = String::new();
    let mut go_on = true;
    while go_on {
        let Some((field, colon)) = field_name(body)? else {
            return Ok(());
        };
        if !colon {
            // A line without a colon: a blank line ends an event; anything else names a
            // field with no value.
            if field.is_empty() {
                event.clear();
            }
            continue;
        }
        match field.as_str() {
            "event" => {
                event = short_value(body)?;
            }
            "data" => {
                skip_one_space(body)?;
                match event.as_str() {
                    "put" | "patch" => {
                        let mut line = Reader::line(body);
                        let mut sink = |c: Change| {
                            if go_on {
                                go_on = on(Event::Change(c));
                            }
                        };
                        event_data(&mut line, event == "patch", &mut sink)?;
                        line.finish_line()?;
                    }
                    name => {
                        let what = match name {
                            "keep-alive" => Some(Event::KeepAlive),
                            "auth_revoked" => Some(Event::AuthRevoked),
                            "cancel" => Some(Event::Cancel),
                            _ => None,
                        };
                        Reader::line(body).finish_line()?;
                        if let Some(what) = what {
                            go_on = on(what);
                        }
                    }
                }
            }
            // A comment (`: …`), `id:`, `retry:`: nothing cirelay uses.
            _ => Reader::line(body).finish_line()?,
        }
    }
    Ok(())
}

/// The field name at the start of a line, and whether a colon followed it; `None` at the
/// stream's end. A line with no colon is read to its end.
fn field_name(body: &mut dyn BufRead) -> io::Result<Option<(String, bool)>> {
    let mut name = Vec::new();
    loop {
        let buf = body.fill_buf()?;
        if buf.is_empty() {
            return Ok((!name.is_empty()).then(|| (lossy(&name), false)));
        }
        let b = buf[0];
        body.consume(1);
        match b {
            b':' => return Ok(Some((lossy(&name), true))),
            b'\n' => {
                if name.last() == Some(&b'\r') {
                    name.pop();
                }
                return Ok(Some((lossy(&name), false)));
            }
            _ if name.len() < MAX_NAME => name.push(b),
            _ => {}
        }
    }
}

fn skip_one_space(body: &mut dyn BufRead) -> io::Result<()> {
    if body.fill_buf()?.first() == Some(&b' ') {
        body.consume(1);
    }
    Ok(())
}

/// The rest of a line, at most [`MAX_NAME`] bytes of it, trimmed.
fn short_value(body: &mut dyn BufRead) -> io::Result<String> {
    let mut value = Vec::new();
    loop {
        let buf = body.fill_buf()?;
        let Some(&b) = buf.first() else { break };
        body.consume(1);
        if b == b'\n' {
            break;
        }
        if value.len() < MAX_NAME {
            value.push(b);
        }
    }
    Ok(lossy(&value).trim().to_string())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A stream answer that is not an event stream (a proxy that buffers, an old server).
pub fn is_event_stream(resp: &Response) -> bool {
    resp.header("content-type").is_some_and(|t| {
        t.trim()
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
    })
}

/// A Firebase refusal as one line.
pub fn refused(resp: &Response) -> Error {
    match resp.status {
        401 | 403 => resp.error("the log token was refused"),
        404 => resp.error("the build's log is not in the log database"),
        _ => resp.error(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Event> {
        let mut out = Vec::new();
        read_events(&mut text.as_bytes(), &mut |e| {
            out.push(e);
            true
        })
        .unwrap();
        out
    }

    fn change(c: Change) -> Event {
        Event::Change(c)
    }

    fn entry(step: &str, key: &str, text: &str) -> Event {
        change(Change::Entry {
            step: step.into(),
            key: key.into(),
            text: text.into(),
        })
    }

    #[test]
    fn a_snapshot_names_the_steps_and_holds_no_log() {
        let got = events(concat!(
            "event: put\n",
            "data: {\"path\":\"/\",\"data\":{\"status\":\"running\",\"metrics\":{\"m\":[1,2]},",
            "\"steps\":{\"build\":{\"name\":\"build\",\"status\":\"running\",\"creationTimeStamp\":1700000001,",
            "\"logs\":{\"-A\":\"one\\r\\n\",\"-B\":\"two\\r\\n\"}}}}}\n",
            "\n",
        ));
        assert_eq!(
            got,
            [
                change(Change::BuildStatus("running".into())),
                change(Change::Replaced("build".into())),
                change(Change::Named {
                    step: "build".into(),
                    name: "build".into()
                }),
                change(Change::Status {
                    step: "build".into(),
                    status: "running".into()
                }),
                change(Change::Created {
                    step: "build".into(),
                    at: 1_700_000_001.0
                }),
                change(Change::Replaced("build".into())),
            ]
        );
    }

    #[test]
    fn live_entries_puts_and_patches() {
        let got = events(concat!(
            "event: put\r\n",
            "data: {\"path\":\"/steps/test/logs/-C\",\"data\":\"three\\n\"}\r\n",
            "\r\n",
            "event: patch\n",
            "data: {\"path\":\"/steps/test/logs\",\"data\":{\"-D\":\"four\",\"-E\":\"five\"}}\n",
            "\n",
            "event: patch\n",
            "data: {\"path\":\"/\",\"data\":{\"steps/test/status\":\"error\",\"lastUpdate\":5}}\n",
            "\n",
            "event: keep-alive\n",
            "data: null\n",
            "\n",
            ": a comment\n",
            "event: auth_revoked\n",
            "data: \"credential is no longer valid\"\n",
            "\n",
            "event: cancel\n",
            "data: null\n",
            "\n",
        ));
        assert_eq!(
            got,
            [
                entry("test", "-C", "three\n"),
                entry("test", "-D", "four"),
                entry("test", "-E", "five"),
                change(Change::Status {
                    step: "test".into(),
                    status: "error".into()
                }),
                Event::KeepAlive,
                Event::AuthRevoked,
                Event::Cancel,
            ]
        );
    }

    #[test]
    fn data_before_its_path_reads_everything_again() {
        let got = events("event: put\ndata: {\"data\":{\"x\":1},\"path\":\"/steps\"}\n\n");
        assert_eq!(got, [change(Change::Everything)]);
    }

    #[test]
    fn hostile_keys_go_nowhere() {
        let got = events(concat!(
            "event: put\n",
            "data: {\"path\":\"/steps\",\"data\":{\"../x\":{\"logs\":{\"-A\":\"a\"}},\"ok\":{\"status\":\"running\"}}}\n",
            "\n",
        ));
        assert_eq!(
            got,
            [
                change(Change::Replaced("ok".into())),
                change(Change::Status {
                    step: "ok".into(),
                    status: "running".into()
                })
            ]
        );
    }

    #[test]
    fn broken_events_are_errors() {
        let mut seen = 0;
        let err = read_events(
            &mut "event: put\ndata: {\"path\":\"/steps/a/logs/-A\",\"data\":\"x\"\n\n".as_bytes(),
            &mut |_| {
                seen += 1;
                true
            },
        );
        assert!(err.is_err());
    }

    #[test]
    fn batches_are_sorted_and_bounded() {
        let body = r#"{"-B":"two","-A":"one","-C":{"odd":1},"-D":"four"}"#;
        match read_batch(&mut body.as_bytes(), 4).unwrap() {
            Batch::Entries(entries, full) => {
                let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(keys, ["-A", "-B", "-D"]);
                assert!(!full);
            }
            Batch::TooLarge => panic!("small"),
        }
        let big = format!(
            "{{{}}}",
            (0..3)
                .map(|i| format!("\"-{i}\":\"{}\"", "x".repeat(4 << 20)))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(matches!(
            read_batch(&mut big.as_bytes(), 3).unwrap(),
            Batch::TooLarge
        ));
        assert!(matches!(
            read_batch(&mut "null".as_bytes(), 3).unwrap(),
            Batch::Entries(e, false) if e.is_empty()
        ));
    }

    #[test]
    fn keys_order_as_firebase_orders_them() {
        let mut keys = vec!["b", "10", "-A", "2", "a"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["2", "10", "-A", "a", "b"]);
    }

    #[test]
    fn step_fields_from_a_shallow_read() {
        let v = serde_json::json!({"name": "build", "status": "success", "creationTimeStamp": 17, "logs": true});
        let f = step_fields(&v);
        assert_eq!(f.name.as_deref(), Some("build"));
        assert_eq!(f.status.as_deref(), Some("success"));
        assert_eq!(f.created, Some(17.0));
        assert!(f.missing.is_empty());
        let v = serde_json::json!({"name": true, "status": true, "creationTimeStamp": "18"});
        let f = step_fields(&v);
        assert_eq!(f.missing, ["name", "status"]);
        assert_eq!(f.created, Some(18.0));
    }

    #[test]
    fn requests() {
        let fb = Firebase::new(
            &FirebaseAuth {
                url: "https://logs.example.firebaseio.com/".into(),
                access_token: "tok en".into(),
                new_structure: false,
            },
            "p1",
        );
        assert_eq!(
            fb.entries_request("my step", Some("-A"), 10).url(),
            "https://logs.example.firebaseio.com/build-logs/p1/steps/my%20step/logs.json?auth=tok%20en&orderBy=%22%24key%22&limitToFirst=10&startAt=%22-A%22"
        );
        assert_eq!(
            fb.stream_request().url(),
            "https://logs.example.firebaseio.com/build-logs/p1.json?auth=tok%20en"
        );
        assert!(is_step_key("Initializing Process"));
        for bad in ["", "a/b", "a.b", "x\ny", "$x"] {
            assert!(!is_step_key(bad), "{bad:?}");
        }
    }
}
