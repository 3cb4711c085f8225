//! A build as cirelay speaks of it, whatever the provider calls it (a Codeship build, a
//! Codefresh build, a CircleCI pipeline, a GitHub workflow run, a GitLab pipeline), and what
//! the shared lifecycle gets back from a provider when it reads, starts or stops one.

use std::time::Duration;

use crate::error::Result;
use crate::wait::{BuildState, Observation};
use crate::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// What is printed on stdout and exported: the id later commands take.
    pub id: String,
    /// The number the web app shows, where it differs from the id.
    pub number: Option<u64>,
    pub url: Option<String>,
    /// The provider's own status word.
    pub status: String,
    pub state: BuildState,
    /// How progress lines name it: `build 6200…`, `pipeline #41`, `build #2000`.
    pub label: String,
    /// Other ids of the same build (a Codeship v1 build has a number and a uuid), so the
    /// own-build guard recognises it by any of them.
    pub aliases: Vec<String>,
}

impl Build {
    /// Whether `id` names this build.
    pub fn is(&self, id: &str) -> bool {
        self.id.eq_ignore_ascii_case(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

/// One reading of a build for `status`: the build, and the lines that describe it on stderr.
#[derive(Debug, Clone)]
pub struct Reading {
    pub build: Build,
    pub lines: Vec<String>,
}

/// Follows one build until it finishes. Most providers read the build each time; CircleCI
/// reads a pipeline and then all of its workflows, remembering what it printed.
pub trait Watch {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation>;

    /// The report's status word after the last poll.
    fn status_word(&self, last: &Observation) -> String {
        last.status.clone()
    }

    /// When the build is expected to end, from the history of its pipeline or workflow on
    /// its branch (typically one list request, made once after the first poll), so that
    /// polls can be planned around it; `None` without history.
    fn plan(&mut self, _ctx: &Ctx) -> Option<std::time::SystemTime> {
        None
    }

    /// Waits `pause` before the next poll. A watch that follows the build's log live reads
    /// it meanwhile.
    fn pause(&mut self, _ctx: &Ctx, pause: Duration) -> Result<()> {
        crate::abort::sleep(pause);
        Ok(())
    }
}

/// A watch made of one function that reads the build.
pub struct Polls<F>(pub F);

impl<F: FnMut(&Ctx) -> Result<Observation>> Watch for Polls<F> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        (self.0)(ctx)
    }
}

/// A build being followed: as it is known so far, how commands name it, and how to
/// follow it. A start or restart returns one, and so does getting ready to wait.
pub struct Tracked<'a, R> {
    pub build: Build,
    pub reference: R,
    /// What the log says once the build is known (`started build ID: URL`).
    pub line: Option<String>,
    /// Send: several builds are polled from a small pool of threads.
    pub watch: Box<dyn Watch + Send + 'a>,
}

impl<'a, R> Tracked<'a, R> {
    /// The same build, as commands name it in another form.
    pub fn named<S>(self, name: impl FnOnce(R) -> S) -> Tracked<'a, S> {
        Tracked {
            build: self.build,
            reference: name(self.reference),
            line: self.line,
            watch: self.watch,
        }
    }
}

/// What asking a provider to stop a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The provider took the request: the build's status as it now reads, and what the log
    /// says about it (`terminating build ID: URL`) where the provider has not said it yet.
    Asked {
        status: String,
        line: Option<String>,
    },
    /// The build had finished already: nothing was sent. `why` says more where the
    /// provider knows more (CircleCI: each workflow's status).
    AlreadyFinished { status: String, why: Option<String> },
}
