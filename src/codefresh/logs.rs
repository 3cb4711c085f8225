//! A Codefresh build's log in pipeline A's log, as `codefresh run` shows it: found the way
//! Codefresh's SDK finds it (the build's `progress` job → `GET /api/progress/ID` →
//! `location`), live from the log database while the build runs ([`super::firebase`]), or
//! downloaded from `location.url` once Codefresh archived it (`{"steps": [{name, status,
//! creationTimeStamp, logs}]}`, read without credentials).
//!
//! The live log is an event stream, which blocks while it waits for the next event. The
//! polling loop must not block past its pause, so ONE reader thread per followed build reads
//! the stream and hands its events over a bounded queue that [`Logs::stream`] drains with a
//! timeout. The thread holds nothing but the stream: it ends when the stream ends, when the
//! queue is dropped, or at `--timeout` (the stream's read is bounded by it), and as it is
//! not the main thread it never keeps the process alive.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::api::Api;
use super::firebase::{self, Batch, Change, Event, Firebase};
use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::logs::json::{Reader, Value};
use crate::logs::{Chunks, Logs, Printer, Tail};
use crate::output;
use crate::Ctx;

/// A build has a handful of steps; a node that claims more is not read further.
const MAX_STEPS: usize = 500;
/// Events waiting for the polling loop: the reader thread waits when they are not taken.
const QUEUE: usize = 256;
/// Times the stream is opened again after it broke off, before the log is read by polling.
const MAX_RECONNECTS: u32 = 8;
/// Firebase sends a keep-alive every 30 s or so; a stream silent for longer is dead.
const SILENCE: Duration = Duration::from_secs(90);
/// The longest the live stream is waited on before a signal is looked for.
const SLICE: Duration = Duration::from_millis(100);

/// Step statuses of Codefresh's task logger that end a step, and those that fail it.
const FINAL: &[&str] = &[
    "success",
    "error",
    "failure",
    "skipped",
    "approved",
    "denied",
    "terminated",
];
const FAILED: &[&str] = &["error", "failure", "denied"];

/// One build's log.
pub struct BuildLog<'a> {
    api: &'a Api,
    build: String,
    link: String,
    source: Source,
    steps: Steps,
    live: Live,
    reconnects: u32,
    /// The step whose lines were printed last: another step's line gets a header first.
    current: Option<String>,
    /// When the stream said the build's status is final: the wait reads the build at once
    /// rather than at its next poll, and, while the API has not caught up, every
    /// [`RECHECK`] for [`API_LAG`] (the API's answer stays the result).
    ended_at: Option<Instant>,
    /// The stream just said so: the pause ends now.
    wake: bool,
}

/// How often a build the log stream says has ended is read again while the API still says
/// it runs, and for how long at most.
const RECHECK: Duration = Duration::from_secs(1);
const API_LAG: Duration = Duration::from_secs(15);

enum Source {
    /// The build has no progress job yet.
    Unknown,
    Firebase(Db),
    Archive(String),
}

enum Live {
    /// Not streaming yet, or to be opened again.
    Idle,
    On {
        events: Events,
        heard: Instant,
        /// The token's renewals when the stream was opened with it.
        token: u32,
    },
    /// The stream cannot be used: the log is read by polling.
    Off,
}

/// What the reader thread hands over.
enum Message {
    Event(Event),
    /// The stream ended, or broke off.
    Ended,
}

impl<'a> BuildLog<'a> {
    pub fn new(api: &'a Api, build: &str) -> Self {
        BuildLog {
            api,
            build: build.to_string(),
            link: api.build_url(build),
            source: Source::Unknown,
            steps: Steps::default(),
            live: Live::Idle,
            reconnects: 0,
            current: None,
            ended_at: None,
            wake: false,
        }
    }

    /// Finds where the log is, once the build has a progress job (the lifecycle's reads of
    /// the build note it); false while it has none.
    fn ready(&mut self, ctx: &Ctx) -> Result<bool> {
        if !matches!(self.source, Source::Unknown) {
            return Ok(true);
        }
        let Some(progress) = self.api.progress_job(&self.build) else {
            return Ok(false);
        };
        let location = self.api.progress(ctx, &progress, &self.build)?;
        self.source = match (location.kind.as_str(), location.url) {
            ("firebase", _) => {
                let auth = self.api.firebase_auth(ctx, &progress)?;
                Source::Firebase(Db {
                    fb: Firebase::new(&auth, &progress),
                    progress,
                    limit: firebase::BATCH,
                    renewals: 0,
                })
            }
            (_, Some(url)) => {
                crate::logs::checked_url(&url).map_err(|why| {
                    Error::api(format!(
                        "the progress job {progress} names its log at {why}"
                    ))
                })?;
                Source::Archive(url)
            }
            (kind, None) => {
                return Err(Error::api(format!(
                    "build {}'s log is kept where cirelay cannot read it (location `{}`): see {}",
                    self.build,
                    crate::output::printable_line(kind),
                    self.link
                )))
            }
        };
        Ok(true)
    }

    /// Reads every step again (the steps, the fields of those not finished) and prints what
    /// their logs gained.
    fn refresh(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        let Source::Firebase(db) = &mut self.source else {
            return Ok(());
        };
        let resp = db.get(ctx, self.api, |fb| fb.steps_request())?;
        for key in firebase::shallow_keys(&resp)? {
            if !firebase::is_step_key(&key) {
                continue;
            }
            let Some(step) = self.steps.get(&key) else {
                continue;
            };
            if step.finished() && step.read {
                continue;
            }
            let fields = db.step_fields(ctx, self.api, &key)?;
            let step = self.steps.get(&key).expect("just added");
            step.read = true;
            step.stale = true;
            if fields.name.is_some() {
                step.name = fields.name;
            }
            if fields.status.is_some() {
                step.status = fields.status;
            }
            if fields.created.is_some() {
                step.created = fields.created;
            }
        }
        self.catch_up(ctx, out)
    }

    /// Prints, step by step in the order they started, what the logs of the steps whose
    /// log changed as a whole hold past what was printed.
    fn catch_up(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        let Source::Firebase(db) = &mut self.source else {
            return Ok(());
        };
        for key in self.steps.in_order() {
            let step = self.steps.find(&key).expect("listed");
            if step.stale {
                let after = step.last.clone();
                let current = &mut self.current;
                let link = &self.link;
                let last = db.each_entry(ctx, self.api, &key, after, &mut |_, text| {
                    print_chunk(out, current, link, &key, step, text);
                })?;
                step.last = last;
                step.stale = false;
            }
            if step.finished() {
                flush(out, &mut self.current, &self.link, &key, step);
            }
        }
        Ok(())
    }

    fn apply(&mut self, ctx: &Ctx, out: &mut Printer, message: Message) -> Result<()> {
        let event = match message {
            Message::Event(event) => event,
            Message::Ended => return self.reconnect_later(),
        };
        if let Live::On { heard, .. } = &mut self.live {
            *heard = Instant::now();
        }
        let change = match event {
            Event::Change(change) => change,
            Event::KeepAlive => return Ok(()),
            Event::AuthRevoked => {
                // The token expired: a new one, and the stream opened again with it; unless
                // a query it refused meanwhile has already had it renewed.
                let token = match &self.live {
                    Live::On { token, .. } => Some(*token),
                    _ => None,
                };
                if let Source::Firebase(db) = &mut self.source {
                    if token.is_none_or(|t| t == db.renewals) {
                        db.renew(ctx, self.api)?;
                    }
                }
                return self.reconnect_later();
            }
            Event::Cancel => {
                self.live = Live::Off;
                return Ok(());
            }
        };
        match change {
            Change::Entry { step, key, text } => {
                let Some(s) = self.steps.get(&step) else {
                    return Ok(());
                };
                let newer = s
                    .last
                    .as_deref()
                    .is_none_or(|last| firebase::key_order(&key, last).is_gt());
                // A step whose log changed as a whole gets this entry by query, with the
                // rest of it; an older key was printed already.
                if newer && !s.stale {
                    print_chunk(out, &mut self.current, &self.link, &step, s, &text);
                    s.last = Some(key);
                }
            }
            Change::Status { step, status } => {
                if let Some(s) = self.steps.get(&step) {
                    s.status = Some(status);
                    if s.finished() && !s.stale {
                        flush(out, &mut self.current, &self.link, &step, s);
                    }
                }
            }
            Change::Created { step, at } => {
                if let Some(s) = self.steps.get(&step) {
                    s.created = Some(at);
                }
            }
            Change::Named { step, name } => {
                if let Some(s) = self.steps.get(&step) {
                    s.name = Some(name);
                }
            }
            Change::Replaced(step) => {
                if let Some(s) = self.steps.get(&step) {
                    s.stale = true;
                }
            }
            Change::Everything => self.steps.resync = true,
            Change::BuildStatus(status) => {
                if !super::api::state_of(&status).is_finished() {
                    self.ended_at = None;
                } else if self.ended_at.is_none() {
                    self.ended_at = Some(Instant::now());
                    self.wake = true;
                }
            }
        }
        Ok(())
    }

    /// The stream ended or must be opened again (a new token): next time, within limits.
    fn reconnect_later(&mut self) -> Result<()> {
        self.reconnects += 1;
        self.live = if self.reconnects > MAX_RECONNECTS {
            Live::Off
        } else {
            Live::Idle
        };
        Ok(())
    }

    /// Opens the live stream and starts its reader thread; a stream that cannot be had
    /// leaves the log to polling.
    fn connect(&mut self, ctx: &Ctx) {
        let Source::Firebase(db) = &self.source else {
            return;
        };
        self.live = match open_stream(ctx, &db.fb) {
            Some(events) => Live::On {
                events,
                heard: Instant::now(),
                token: db.renewals,
            },
            None => Live::Off,
        };
    }

    /// What the live stream brought so far, without waiting.
    fn drain(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        while let Some(message) = self.next_message() {
            self.apply(ctx, out, message)?;
        }
        self.after_events(ctx, out)
    }

    fn next_message(&self) -> Option<Message> {
        match &self.live {
            Live::On { events, .. } => events.take(Duration::ZERO),
            _ => None,
        }
    }

    fn after_events(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        if std::mem::take(&mut self.steps.resync) {
            self.steps.all_stale();
            return self.refresh(ctx, out);
        }
        self.catch_up(ctx, out)
    }

    /// The whole log from the start (`failed`, `logs BUILD`): each chosen step in the order
    /// they started, its lines or their tail.
    fn whole(
        &mut self,
        ctx: &Ctx,
        out: &mut Printer,
        lines: Option<usize>,
        only_failed: bool,
    ) -> Result<()> {
        if !self.ready(ctx)? {
            output::event(format!(
                "build {} has not started any step yet: {}",
                self.build, self.link
            ));
            return Ok(());
        }
        match &self.source {
            Source::Archive(url) => {
                let url = url.clone();
                read_archive(ctx, &url, out, &self.link, lines, only_failed, &self.build)
            }
            Source::Firebase(_) => self.whole_from_database(ctx, out, lines, only_failed),
            Source::Unknown => Ok(()),
        }
    }

    fn whole_from_database(
        &mut self,
        ctx: &Ctx,
        out: &mut Printer,
        lines: Option<usize>,
        only_failed: bool,
    ) -> Result<()> {
        let Source::Firebase(db) = &mut self.source else {
            return Ok(());
        };
        let resp = db.get(ctx, self.api, |fb| fb.steps_request())?;
        let mut steps = Steps::default();
        for key in firebase::shallow_keys(&resp)? {
            if !firebase::is_step_key(&key) {
                continue;
            }
            let fields = db.step_fields(ctx, self.api, &key)?;
            if let Some(step) = steps.get(&key) {
                step.name = fields.name;
                step.status = fields.status;
                step.created = fields.created;
            }
        }
        let chosen: Vec<String> = steps
            .in_order()
            .into_iter()
            .filter(|k| !only_failed || steps.find(k).is_some_and(|s| s.failed()))
            .collect();
        if only_failed && chosen.is_empty() {
            no_failed_step(&self.build, &self.link);
        }
        for key in chosen {
            let Some(step) = steps.find(&key) else {
                continue;
            };
            let (name, status) = (step.shown_name(&key), step.status_word());
            let mut chunks = Chunks::default();
            match lines {
                Some(n) => {
                    let mut tail = Tail::new(n);
                    db.each_entry(ctx, self.api, &key, None, &mut |_, text| {
                        chunks.push(text, |l| tail.push(l));
                    })?;
                    chunks.flush(|l| tail.push(l));
                    out.section(&name, &status, Some(&self.link));
                    out.tail(tail);
                }
                None => {
                    out.section(&name, &status, Some(&self.link));
                    db.each_entry(ctx, self.api, &key, None, &mut |_, text| {
                        chunks.push(text, |l| out.line(l));
                    })?;
                    chunks.flush(|l| out.line(l));
                }
            }
        }
        Ok(())
    }
}

impl Logs for BuildLog<'_> {
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        if !self.ready(ctx)? {
            return Ok(());
        }
        match self.live {
            Live::On { .. } => self.drain(ctx, out),
            _ => self.refresh(ctx, out),
        }
    }

    fn stream(&mut self, ctx: &Ctx, out: &mut Printer, pause: Duration) -> Result<()> {
        let pause = match self.ended_at {
            Some(at) if at.elapsed() < API_LAG => pause.min(RECHECK),
            _ => pause,
        };
        let until = Instant::now() + pause;
        let streams = self.ready(ctx)? && matches!(self.source, Source::Firebase(_));
        loop {
            if streams && matches!(self.live, Live::Idle) {
                self.connect(ctx);
                // What the stream missed while it was being opened is read by query.
                self.steps.all_stale();
            }
            let left = until.saturating_duration_since(Instant::now());
            let message = match &self.live {
                Live::On { events, heard, .. } if streams => {
                    if heard.elapsed() > SILENCE {
                        self.reconnect_later()?;
                        continue;
                    }
                    // In slices, so that a signal to the calling job is seen at once.
                    match events.take(left.min(SLICE)) {
                        Some(m) => m,
                        None if left <= SLICE || crate::abort::received().is_some() => {
                            return Ok(())
                        }
                        None => continue,
                    }
                }
                _ => {
                    crate::abort::sleep(left);
                    return Ok(());
                }
            };
            self.apply(ctx, out, message)?;
            self.drain(ctx, out)?;
            if std::mem::take(&mut self.wake) || Instant::now() >= until {
                return Ok(());
            }
        }
    }

    /// The build finished: its log is read by query once more to its end (the end of the
    /// build can reach the API before the last entries reach the stream), and every step's
    /// last line is printed.
    fn finish(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        self.live = Live::Off;
        if !self.ready(ctx)? {
            return Ok(());
        }
        if let Source::Archive(_) = self.source {
            // Archived before anything was followed: it is printed whole.
            if self.steps.known.is_empty() {
                return self.whole(ctx, out, None, false);
            }
            return Ok(());
        }
        self.steps.all_stale();
        self.steps.refresh_all();
        // What is left is printed after the build's final status line: under a header again.
        self.current = None;
        self.refresh(ctx, out)?;
        for key in self.steps.in_order() {
            let step = self.steps.find(&key).expect("listed");
            flush(out, &mut self.current, &self.link, &key, step);
        }
        Ok(())
    }

    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()> {
        self.whole(ctx, out, Some(lines), true)
    }

    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()> {
        self.whole(ctx, out, lines, false)
    }
}

fn no_failed_step(build: &str, link: &str) {
    output::event(format!(
        "build {build}: no step is marked failed in its log; see {link}"
    ));
}

/// Prints a chunk of a step's log, a header first when the step changes.
fn print_chunk(
    out: &mut Printer,
    current: &mut Option<String>,
    link: &str,
    key: &str,
    step: &mut Step,
    text: &str,
) {
    print_lines(out, current, link, key, step, |chunks, each| {
        chunks.push(text, each)
    });
}

/// A step's last line, when its log ended without a line break.
fn flush(out: &mut Printer, current: &mut Option<String>, link: &str, key: &str, step: &mut Step) {
    if !step.chunks.is_empty() {
        print_lines(out, current, link, key, step, |chunks, each| {
            chunks.flush(each)
        });
    }
}

/// Prints the lines `feed` makes of the step's chunks, its header first when the log
/// switches to this step; the header's words are only made then, not for every entry.
fn print_lines(
    out: &mut Printer,
    current: &mut Option<String>,
    link: &str,
    key: &str,
    step: &mut Step,
    feed: impl FnOnce(&mut Chunks, &mut dyn FnMut(&str)),
) {
    let Step {
        name,
        status,
        chunks,
        ..
    } = step;
    feed(chunks, &mut |line| {
        if current.as_deref() != Some(key) {
            let name = name.as_deref().unwrap_or(key);
            out.section(name, status.as_deref().unwrap_or(RUNNING), Some(link));
            *current = Some(key.to_string());
        }
        out.line(line);
    });
}

/// The status word of a step whose status is not known yet.
const RUNNING: &str = "running";

#[derive(Default)]
struct Step {
    name: Option<String>,
    status: Option<String>,
    created: Option<f64>,
    /// The key of the last entry printed.
    last: Option<String>,
    /// Its log may hold entries past `last` that only a query will give.
    stale: bool,
    /// Its fields were read at least once.
    read: bool,
    chunks: Chunks,
}

impl Step {
    fn finished(&self) -> bool {
        self.status.as_deref().is_some_and(|s| FINAL.contains(&s))
    }

    fn failed(&self) -> bool {
        self.status.as_deref().is_some_and(|s| FAILED.contains(&s))
    }

    fn shown_name(&self, key: &str) -> String {
        self.name.clone().unwrap_or_else(|| key.to_string())
    }

    fn status_word(&self) -> String {
        self.status.clone().unwrap_or_else(|| RUNNING.to_string())
    }
}

/// A build's steps by key, in the order they were first seen (a handful: a list does).
#[derive(Default)]
struct Steps {
    known: Vec<(String, Step)>,
    /// An event could not be placed: every step is read again.
    resync: bool,
}

impl Steps {
    /// The step, known from now on; `None` past [`MAX_STEPS`].
    fn get(&mut self, key: &str) -> Option<&mut Step> {
        let at = match self.known.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None if self.known.len() >= MAX_STEPS => return None,
            None => {
                self.known.push((key.to_string(), Step::default()));
                self.known.len() - 1
            }
        };
        Some(&mut self.known[at].1)
    }

    /// A step already known.
    fn find(&mut self, key: &str) -> Option<&mut Step> {
        self.known
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s)
    }

    /// Keys in the order the steps started (a step not started yet last), then as seen.
    fn in_order(&self) -> Vec<String> {
        let at = |i: usize| self.known[i].1.created.unwrap_or(f64::INFINITY);
        crate::logs::order(self.known.len(), &|a, b| {
            at(a).total_cmp(&at(b)).then(a.cmp(&b))
        })
        .into_iter()
        .map(|i| self.known[i].0.clone())
        .collect()
    }

    fn all_stale(&mut self) {
        for (_, step) in &mut self.known {
            step.stale = true;
        }
    }

    /// Every step's fields are read again, finished ones too.
    fn refresh_all(&mut self) {
        for (_, step) in &mut self.known {
            step.read = false;
        }
    }
}

/// The log database with its token, renewed once when Firebase refuses it.
struct Db {
    fb: Firebase,
    progress: String,
    /// Entries asked for per query.
    limit: usize,
    /// How often the token was renewed.
    renewals: u32,
}

impl Db {
    fn renew(&mut self, ctx: &Ctx, api: &Api) -> Result<()> {
        let auth = api.firebase_auth(ctx, &self.progress)?;
        self.fb = Firebase::new(&auth, &self.progress);
        self.renewals += 1;
        Ok(())
    }

    /// A read; a token that expired (401) is renewed once and the read sent again.
    fn get(
        &mut self,
        ctx: &Ctx,
        api: &Api,
        make: impl Fn(&Firebase) -> Request,
    ) -> Result<Response> {
        let resp = ctx.http.send(&make(&self.fb))?;
        let resp = if resp.status == 401 {
            self.renew(ctx, api)?;
            ctx.http.send(&make(&self.fb))?
        } else {
            resp
        };
        if !resp.is_success() {
            return Err(firebase::refused(&resp));
        }
        Ok(resp)
    }

    fn step_fields(&mut self, ctx: &Ctx, api: &Api, key: &str) -> Result<firebase::StepFields> {
        let resp = self.get(ctx, api, |fb| fb.step_request(key))?;
        let mut fields = firebase::step_fields(&resp.decode()?);
        for field in std::mem::take(&mut fields.missing) {
            let resp = self.get(ctx, api, |fb| fb.field_request(key, field))?;
            let value: serde_json::Value = resp.decode()?;
            match field {
                "name" => fields.name = value.as_str().map(str::to_string),
                "status" => fields.status = value.as_str().map(str::to_string),
                _ => fields.created = firebase::time_of(&value),
            }
        }
        Ok(fields)
    }

    /// Every entry of a step's log after `after`, in order, query by query; the key of the
    /// last one.
    fn each_entry(
        &mut self,
        ctx: &Ctx,
        api: &Api,
        key: &str,
        mut after: Option<String>,
        on: &mut dyn FnMut(&str, &str),
    ) -> Result<Option<String>> {
        loop {
            let limit = self.limit;
            let mut opened =
                ctx.http
                    .open(&self.fb.entries_request(key, after.as_deref(), limit))?;
            if opened.response.status == 401 {
                self.renew(ctx, api)?;
                opened = ctx
                    .http
                    .open(&self.fb.entries_request(key, after.as_deref(), limit))?;
            }
            if !opened.response.is_success() {
                return Err(firebase::refused(&opened.response));
            }
            let batch =
                firebase::read_batch(&mut opened, limit).map_err(|e| opened.broke_off(&e))?;
            let (entries, full) = match batch {
                Batch::TooLarge if limit > 1 => {
                    self.limit = (limit / 2).max(1);
                    continue;
                }
                Batch::TooLarge => {
                    return Err(Error::api(format!(
                        "{} answered a log entry too large to read",
                        opened.response.request()
                    )))
                }
                Batch::Entries(entries, full) => (entries, full),
            };
            let mut advanced = false;
            for (k, text) in entries {
                // `startAt` gives the last entry printed once more.
                if after
                    .as_deref()
                    .is_some_and(|a| firebase::key_order(&k, a).is_le())
                {
                    continue;
                }
                on(&k, &text);
                after = Some(k);
                advanced = true;
            }
            if !full || !advanced {
                return Ok(after);
            }
        }
    }
}

/// Opens the build's node as an event stream and starts the thread that reads it; `None`
/// when the answer is not a stream (then the log is read by polling).
fn open_stream(ctx: &Ctx, fb: &Firebase) -> Option<Events> {
    let opened = ctx.http.open(&fb.stream_request()).ok()?;
    if !opened.response.is_success() || !firebase::is_event_stream(&opened.response) {
        return None;
    }
    let events = Events(Arc::default());
    let queue = events.0.clone();
    std::thread::Builder::new()
        .name("codefresh-log".into())
        .spawn(move || {
            let mut opened = opened;
            // However the stream ends, it is opened again (or polled) from the main thread.
            let _ =
                firebase::read_events(&mut opened, &mut |event| queue.put(Message::Event(event)));
            queue.put(Message::Ended);
        })
        .ok()?;
    Some(events)
}

/// The events the reader thread read and the polling loop has not taken yet: at most
/// [`QUEUE`] (then the thread waits, and so does the stream), so memory stays flat.
#[derive(Default)]
struct Queue {
    state: Mutex<(VecDeque<Message>, bool)>,
    changed: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, (VecDeque<Message>, bool)> {
        crate::lock(&self.state)
    }

    /// Hands a message over, waiting for room; false once nobody takes them any more.
    fn put(&self, message: Message) -> bool {
        let mut state = self.lock();
        while state.0.len() >= QUEUE && !state.1 {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.1 {
            return false;
        }
        state.0.push_back(message);
        self.changed.notify_all();
        true
    }
}

/// The polling loop's end of a [`Queue`]; dropping it lets the reader thread go.
struct Events(Arc<Queue>);

impl Events {
    /// The next message, waiting up to `wait` for one.
    fn take(&self, wait: Duration) -> Option<Message> {
        let queue = &self.0;
        let (mut state, _) = queue
            .changed
            .wait_timeout_while(queue.lock(), wait, |s| s.0.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        let message = state.0.pop_front();
        queue.changed.notify_all();
        message
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.0.lock().1 = true;
        self.0.changed.notify_all();
    }
}

/// A step of an archived log, as its first reading found it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Archived {
    name: Option<String>,
    status: Option<String>,
    created: Option<f64>,
}

/// What a reading of an archived log hands over.
enum Seen<'t> {
    Step(Archived),
    Start(usize),
    Chunk(&'t str),
    End(usize),
}

/// Reads an archived log (`{"steps": [...]}` or `{"steps": {KEY: step}}`), handing over
/// each step's fields and, for the steps `print` picks, its chunks.
fn read_archived(
    body: &mut dyn BufRead,
    print: &dyn Fn(usize) -> bool,
    on: &mut dyn FnMut(Seen),
) -> std::io::Result<()> {
    let not_a_log =
        || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an archived build log");
    let mut r = Reader::new(body);
    if r.value()? != Value::Object {
        return Err(not_a_log());
    }
    while let Some(key) = r.next_key()? {
        if key != "steps" {
            r.skip()?;
            continue;
        }
        let listed = r.value()?;
        let mut index = 0;
        loop {
            let step_key = match listed {
                Value::Array if r.next_item()? => None,
                Value::Object => match r.next_key()? {
                    Some(k) => Some(k),
                    None => break,
                },
                Value::Array => break,
                other => {
                    r.close(&other)?;
                    break;
                }
            };
            if index >= MAX_STEPS {
                r.skip()?;
                continue;
            }
            read_step(&mut r, index, step_key, print(index), on)?;
            index += 1;
        }
    }
    Ok(())
}

/// One step of an archived log: its fields, and its log's chunks when it is printed.
fn read_step(
    r: &mut Reader,
    index: usize,
    key: Option<String>,
    print: bool,
    on: &mut dyn FnMut(Seen),
) -> std::io::Result<()> {
    let value = r.value()?;
    if value != Value::Object {
        return r.close(&value);
    }
    let mut step = Archived {
        name: key,
        ..Archived::default()
    };
    if print {
        on(Seen::Start(index));
    }
    let short = |s: String| firebase::short(&s);
    while let Some(field) = r.next_key()? {
        match field.as_str() {
            "name" => step.name = r.text()?.map(short).or(step.name),
            "status" => step.status = r.text()?.map(short),
            "creationTimeStamp" => {
                step.created = match r.value()? {
                    Value::Number(n) => Some(n),
                    Value::Text(t) => crate::logs::json::number(&t),
                    other => {
                        r.close(&other)?;
                        None
                    }
                }
                .filter(|t: &f64| t.is_finite());
            }
            "logs" if print => match r.value()? {
                Value::Array => {
                    while r.next_item()? {
                        if let Some(text) = r.text()? {
                            on(Seen::Chunk(&text));
                        }
                    }
                }
                Value::Object => {
                    while r.next_key()?.is_some() {
                        if let Some(text) = r.text()? {
                            on(Seen::Chunk(&text));
                        }
                    }
                }
                other => r.close(&other)?,
            },
            _ => r.skip()?,
        }
    }
    on(Seen::Step(step));
    if print {
        on(Seen::End(index));
    }
    Ok(())
}

/// Prints an archived log: a first reading finds its steps, then each step is printed in
/// the order the steps started — in one more reading when the archive lists them in that
/// order (as Codefresh writes it), else in as many as it takes, never holding the log.
fn read_archive(
    ctx: &Ctx,
    url: &str,
    out: &mut Printer,
    link: &str,
    lines: Option<usize>,
    only_failed: bool,
    build: &str,
) -> Result<()> {
    let mut steps: Vec<Archived> = Vec::new();
    download(ctx, url, &|_| false, &mut |seen| {
        if let Seen::Step(step) = seen {
            steps.push(step);
        }
    })?;
    let order: Vec<usize> = (0..steps.len())
        .filter(|i| {
            !only_failed
                || steps[*i]
                    .status
                    .as_deref()
                    .is_some_and(|s| FAILED.contains(&s))
        })
        .collect();
    if only_failed && order.is_empty() {
        no_failed_step(build, link);
    }
    let at = |i: usize| steps[order[i]].created.unwrap_or(f64::INFINITY);
    let order: Vec<usize> =
        crate::logs::order(order.len(), &|a, b| at(a).total_cmp(&at(b)).then(a.cmp(&b)))
            .into_iter()
            .map(|i| order[i])
            .collect();
    let mut rest = order.as_slice();
    while !rest.is_empty() {
        // The longest run of the remaining steps that the archive lists in start order.
        let run = 1 + rest.windows(2).take_while(|w| w[0] < w[1]).count();
        let (now, later) = rest.split_at(run);
        rest = later;
        let mut chunks = Chunks::default();
        let mut tail: Option<Tail> = None;
        let shown = |i: usize| {
            let s = &steps[i];
            (
                s.name.clone().unwrap_or_else(|| format!("step {}", i + 1)),
                s.status.clone().unwrap_or_else(|| "finished".into()),
            )
        };
        download(ctx, url, &|i| now.contains(&i), &mut |seen| match seen {
            Seen::Start(i) => match lines {
                Some(n) => tail = Some(Tail::new(n)),
                None => {
                    let (name, status) = shown(i);
                    out.section(&name, &status, Some(link));
                }
            },
            Seen::Chunk(text) => chunks.push(text, |l| match tail.as_mut() {
                Some(t) => t.push(l),
                None => out.line(l),
            }),
            Seen::End(i) => {
                chunks.flush(|l| match tail.as_mut() {
                    Some(t) => t.push(l),
                    None => out.line(l),
                });
                if let Some(t) = tail.take() {
                    let (name, status) = shown(i);
                    out.section(&name, &status, Some(link));
                    out.tail(t);
                }
            }
            Seen::Step(_) => {}
        })?;
    }
    Ok(())
}

/// One reading of the archive at `url`: a signed download, sent without any credential.
fn download(
    ctx: &Ctx,
    url: &str,
    print: &dyn Fn(usize) -> bool,
    on: &mut dyn FnMut(Seen),
) -> Result<()> {
    let request = crate::logs::download(url).map_err(Error::api)?;
    let mut opened = ctx.http.open(&request)?;
    if !opened.response.is_success() {
        return Err(opened
            .response
            .error("the archived log could not be downloaded (its link may have expired)"));
    }
    read_archived(&mut opened, print, on).map_err(|e| opened.read_failed("a log", &e))
}

/// What cirelay reads from the log's answers, without a server: an event stream, a query's
/// entries, an archived log. For the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_log_answers(body: &[u8]) {
    let _ = firebase::read_events(&mut { body }, &mut |_| true);
    let _ = firebase::read_batch(&mut { body }, 10);
    let _ = read_archived(&mut { body }, &|i| i % 2 == 0, &mut |_| {});
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let _ = firebase::step_fields(&v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archived(body: &str, print: &dyn Fn(usize) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        read_archived(&mut body.as_bytes(), print, &mut |s| {
            seen.push(match s {
                Seen::Step(a) => format!("step {:?} {:?} {:?}", a.name, a.status, a.created),
                Seen::Start(i) => format!("start {i}"),
                Seen::Chunk(t) => format!("chunk {t}"),
                Seen::End(i) => format!("end {i}"),
            })
        })
        .unwrap();
        seen
    }

    #[test]
    fn archives_as_the_sdk_reads_them() {
        let body = r#"{"id":"x","steps":[
            {"name":"clone","status":"success","creationTimeStamp":10,"logs":{"-A":"a\n","-B":"b\n"}},
            {"logs":["c\n"],"name":"build","status":"error","creationTimeStamp":"5"}
        ]}"#;
        assert_eq!(
            archived(body, &|_| false),
            [
                "step Some(\"clone\") Some(\"success\") Some(10.0)",
                "step Some(\"build\") Some(\"error\") Some(5.0)"
            ]
        );
        assert_eq!(
            archived(body, &|i| i == 1),
            [
                "step Some(\"clone\") Some(\"success\") Some(10.0)",
                "start 1",
                "chunk c\n",
                "step Some(\"build\") Some(\"error\") Some(5.0)",
                "end 1"
            ]
        );
        let keyed = r#"{"steps":{"main_clone":{"logs":{"-A":"x"}}}}"#;
        assert_eq!(
            archived(keyed, &|_| true),
            [
                "start 0",
                "chunk x",
                "step Some(\"main_clone\") None None",
                "end 0"
            ]
        );
        assert!(read_archived(&mut "[1]".as_bytes(), &|_| true, &mut |_| {}).is_err());
    }

    #[test]
    fn steps_in_the_order_they_started() {
        let mut steps = Steps::default();
        for (key, at) in [
            ("b", Some(20.0)),
            ("a", Some(10.0)),
            ("pending", None),
            ("c", Some(20.0)),
        ] {
            steps.get(key).unwrap().created = at;
        }
        assert_eq!(steps.in_order(), ["a", "b", "c", "pending"]);
        for i in 0..MAX_STEPS {
            steps.get(&format!("s{i}"));
        }
        assert!(steps.get("one-too-many").is_none());
    }
}
