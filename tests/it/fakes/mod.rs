//! Each provider's fake vendor API: a stateful server on 127.0.0.1 that behaves like the
//! real one for every request cirelay sends, and the [`Fake`] trait through which the
//! contract suite (and the fault suite) drive any of them the same way.

pub mod circleci;
pub mod codefresh;
pub mod codeship_v1;
pub mod codeship_v2;
pub mod firebase;
pub mod github;
pub mod gitlab;

use std::time::{Duration, Instant};

use crate::support::{FakeServer, Recorded, Reply};

/// How the builds a fake starts (or restarts) end, as the step waiting on them sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Succeeds,
    Fails,
    /// Terminated, canceled or stopped, in the vendor's own word.
    IsStopped,
    /// Still running whenever it is read: only `--timeout` ends the wait.
    NeverEnds,
}

impl Ending {
    pub const ALL: [Ending; 4] = [
        Ending::Succeeds,
        Ending::Fails,
        Ending::IsStopped,
        Ending::NeverEnds,
    ];

    /// The exit code of a step that waits for such a build.
    pub fn exit_code(self) -> i32 {
        match self {
            Ending::Succeeds => 0,
            Ending::Fails => 1,
            Ending::IsStopped => 2,
            Ending::NeverEnds => 3,
        }
    }

    /// The vendor's status word for it, from `[success, failure, stopped, running]`: the
    /// status a build ends with, or (never ending) stays in.
    pub fn in_words(self, [success, failure, stopped, running]: [&'static str; 4]) -> &'static str {
        match self {
            Ending::Succeeds => success,
            Ending::Fails => failure,
            Ending::IsStopped => stopped,
            Ending::NeverEnds => running,
        }
    }

    /// The `result` of the JSON report of such a wait.
    pub fn result(self) -> &'static str {
        match self {
            Ending::Succeeds => "success",
            Ending::Fails => "failed",
            Ending::IsStopped => "terminated",
            Ending::NeverEnds => "timeout",
        }
    }
}

/// A request as a test names it: its method and the start of its path (or of its whole
/// target, with a query), as [`FakeServer::inject`] and [`FakeServer::count`] take them.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
}

impl Request {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
        }
    }

    pub fn matches(&self, r: &Recorded) -> bool {
        r.is(self.method, &self.path)
    }

    /// How many of these the fake received.
    pub fn count(&self, server: &FakeServer) -> usize {
        server.count(self.method, &self.path)
    }

    /// The next `replies.len()` of these get `replies` instead of the fake's own answer.
    pub fn inject(&self, server: &FakeServer, replies: Vec<Reply>) {
        server.inject(self.method, &self.path, replies);
    }
}

/// A started build as cirelay hands it to the steps after it: the id it prints and exports,
/// and its link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    pub id: String,
    pub url: String,
}

/// What any suite needs from a provider's fake to run the same case against every provider.
/// A new provider's fake implements this and gets every case of the contract suite (and the
/// fault suite's faults on its start) by one row in `contract.rs`.
pub trait Fake {
    /// A fake, already serving, whose new builds end this way.
    fn whose_builds_end(ending: Ending) -> Self
    where
        Self: Sized;

    /// The server: every request it received, and faults to inject.
    fn server(&self) -> &FakeServer;

    /// The variables a step sets to use this fake: credentials, and the host pointing here.
    fn env(&self) -> Vec<(&'static str, String)>;

    /// What must never appear in any output. Asked after a run: some secrets (access
    /// tokens) exist only once the fake issued them.
    fn secrets(&self) -> Vec<String>;

    /// The command line that starts a build and waits for it. Codeship API v1 can only
    /// restart: its start is `restart-latest --wait`.
    fn start_line(&self) -> &'static [&'static str];

    /// The request of the start line that starts the build.
    fn start_request(&self) -> Request;

    /// A read the start line sends, and repeats while it waits.
    fn read_request(&self) -> Request;

    /// The build the start line starts in a fresh fake.
    fn started(&self) -> Started;

    /// Where the error of a start that may have happened tells the user to look
    /// (`… may have started — check WHERE before retrying`).
    fn where_to_check(&self) -> String;

    /// `restart-latest` of the newest build of a branch, without `--wait`.
    fn restart_line(&self) -> &'static [&'static str];

    /// The request (one or several) with which `restart-latest` restarts it.
    fn restart_request(&self) -> Request;

    /// The id `restart-latest` prints in a fresh fake: the new build, or the restarted one
    /// where the vendor restarts in place.
    fn restarted_id(&self) -> String;

    /// The variable that names the build a step runs in, with the value that names the
    /// newest build `restart-latest` finds: restarting it would restart the step itself.
    fn own_build(&self) -> (&'static str, String);

    /// The provider's word on the command line (`PROVIDER:ID` references use it).
    fn provider(&self) -> &'static str;

    /// The request that stops (cancels, terminates) the build the start line started;
    /// `None` where the provider's API cannot stop builds (Codeship API v1).
    fn stop_request(&self) -> Option<Request>;

    /// The ways this vendor says "too many requests", without `Retry-After`.
    fn rate_limit_answers(&self) -> Vec<Reply> {
        vec![Reply::text(429, "Too Many Requests")]
    }
}

/// A fake whose vendor keeps the history cirelay plans a wait's polls from: the recent
/// builds of the start line's pipeline (or workflow) on a branch, in one list request.
pub trait Histories: Fake {
    /// Successful builds of that pipeline on `branch` that took `durations` (seconds), the
    /// newest ending a minute ago.
    fn add_history(&self, branch: &str, durations: &[u64]);

    /// A build of that pipeline on `branch` that starts when it is first read and runs for
    /// `lasts`, then succeeds. Its id as the provider's `wait` takes it (`PROVIDER:ID` for
    /// `cirelay wait`).
    fn add_timed_build(&self, branch: &str, lasts: std::time::Duration) -> String;

    /// Another build like that one (the `n`th, from 1), newer than the rest; its id as
    /// `add_timed_build` gives it.
    fn add_other_build(&self, branch: &str, n: u64, lasts: std::time::Duration) -> String;

    /// The request line that reads that build.
    fn timed_read_line(&self) -> String;

    /// The request line that reads the history of `branch`.
    fn history_line(&self, branch: &str) -> String;
}

/// A build that goes by the clock: `lasts` from its start, then it ends as `ending` says (a
/// final status, or GitHub's conclusion). It starts when it is first read, unless it already
/// has (`began`: one a trigger started), and shows its first status until its second read,
/// running from then on, as a wait started with the build sees it.
#[derive(Debug, Clone)]
pub struct Timed {
    pub lasts: Duration,
    pub began: Option<Instant>,
    pub ending: String,
    pub reads: u32,
}

/// Where a [`Timed`] build stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Unstarted,
    /// Started, and read once at most: its first status.
    Queued,
    Running,
    Over,
}

impl Timed {
    pub fn new(lasts: Duration, began: Option<Instant>, ending: &str) -> Self {
        Timed {
            lasts,
            began,
            ending: ending.to_string(),
            reads: 0,
        }
    }

    /// A read of the build (`read`), or a look at it in a list; true when this read
    /// started it.
    pub fn tick(&mut self, read: bool) -> bool {
        if !read {
            return false;
        }
        self.reads += 1;
        let starts = self.began.is_none();
        self.began.get_or_insert_with(Instant::now);
        starts
    }

    pub fn clock(&self) -> Clock {
        match self.began {
            None => Clock::Unstarted,
            Some(began) if began.elapsed() >= self.lasts => Clock::Over,
            Some(_) if self.reads >= 2 => Clock::Running,
            Some(_) => Clock::Queued,
        }
    }
}

/// A time as Codefresh and GitLab write it: RFC 3339 with milliseconds.
pub fn rfc3339_ms(unix: u64) -> String {
    cirelay::time::rfc3339_utc(unix).replace('Z', ".000Z")
}
