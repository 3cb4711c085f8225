//! The seam every CI system sits behind, and the one registry of them.
//!
//! A provider says only what is its own: its commands and flags (as data), how to read
//! its credentials, how to start a build, find the newest build of a branch, read one build
//! into the shared status, follow it, stop it, and which build the calling step runs in.
//! Everything else — the own-build guard, announcing and exporting a started build,
//! waiting, reporting, exit codes — is the shared [`lifecycle`](crate::lifecycle), so no
//! provider has it twice.
//!
//! Adding a provider: its module (implementing [`Provider`]), one line in [`PROVIDERS`],
//! its fake under `tests/it/fakes/`, and one row in the contract suite's table.

use crate::build::{Build, Reading, Stopped, Tracked};
use crate::cli::args::{Arg, Args};
use crate::cli::flags::{EnvVar, Flag};
use crate::error::Result;
use crate::listing::{Filter, Listed};
use crate::logs::{LogMode, Logs};
use crate::output::Report;
use crate::remote::{Prepared, Remote};
use crate::Ctx;

/// What a command does, which decides the part of the lifecycle that runs it.
#[derive(Clone, Copy)]
pub enum Verb {
    /// Start a build and wait for it, unless `--detach`.
    Start,
    /// Restart the newest build of a branch; wait with `--wait`.
    RestartLatest,
    /// Read one build: its status word on stdout, details on stderr.
    Status,
    /// Wait for one build to finish.
    Wait,
    /// Stop (cancel, terminate) one build.
    Stop,
    /// Print one build's log.
    Logs,
    /// List recent builds (for dashboards).
    Builds,
    /// A command only this provider has (Codefresh `wait --status`).
    Own(fn(&Ctx, &Args) -> Result<Report>),
}

/// One command of a provider, as data: parsing, help and the README come from it.
pub struct Command {
    pub name: &'static str,
    pub args: &'static [Arg],
    pub flags: &'static [Flag],
    /// The variables this command reads besides the provider's own.
    pub env: &'static [EnvVar],
    /// One line, for the provider's list of commands.
    pub about: &'static str,
    /// More for the command's `--help`: what it sends, how it ends.
    pub details: &'static str,
    pub example: &'static str,
    pub verb: Verb,
    /// Under the provider's own command name (the `codefresh` multi-call name), a bare
    /// number given to `--timeout`/`-t` counts minutes, as in that vendor's CLI.
    pub timeout_in_minutes: bool,
}

impl Command {
    /// `PIPELINE [-b B] …` as usage shows it.
    pub fn usage(&self) -> String {
        let mut parts: Vec<String> = self.args.iter().map(Arg::usage).collect();
        parts.extend(self.flags.iter().map(|f| format!("[{}]", f.usage())));
        parts.join(" ")
    }
}

/// A CI system. The associated types are what its commands' arguments become once they
/// are checked — before any credential is read or anything is sent.
pub trait Provider: Sized + Sync + 'static {
    const NAME: &'static str;
    /// For `cirelay --help` and the README's provider table.
    const ABOUT: &'static str;
    /// The variables every command of this provider reads (credentials, hosts).
    const ENV: &'static [EnvVar];
    const COMMANDS: &'static [Command];
    /// Other names of commands, as the vendor's own CLI accepts them (`get build` for
    /// `get builds`): `(alias, command)`. Parsing resolves them; help names them.
    const ALIASES: &'static [(&'static str, &'static str)] = &[];

    /// One build as commands name it.
    /// Send: builds are polled from a small pool of threads when several are followed.
    type BuildRef: Clone + Send;
    /// What a start is asked to start.
    type Start;
    /// Where restart-latest looks for the newest build, and how it restarts it.
    type Scope: std::fmt::Display;
    /// What a restart needs to know of the newest build it found.
    type Newest;

    /// Where `builds` lists, checked.
    type ListScope;

    fn build_ref(raw: &str) -> Result<Self::BuildRef>;
    fn list_scope(args: &Args) -> Result<Self::ListScope>;
    fn start_request(args: &Args) -> Result<Self::Start>;
    fn scope(args: &Args) -> Result<Self::Scope>;

    /// Reads the credentials and host; nothing is sent.
    fn connect(ctx: &Ctx) -> Result<Self>;

    /// Connects for `builds` in `scope`: where a list's scope names what connecting would
    /// otherwise read from the environment (Codeship's project), it wins.
    fn connect_for_list(ctx: &Ctx, _scope: &Self::ListScope) -> Result<Self> {
        Self::connect(ctx)
    }

    fn read(&self, ctx: &Ctx, build: &Self::BuildRef) -> Result<Reading>;
    /// Gets ready to follow a build until it finishes.
    fn watch<'a>(
        &'a self,
        ctx: &Ctx,
        build: &Self::BuildRef,
    ) -> Result<Tracked<'a, Self::BuildRef>>;
    /// Stops a build unless it finished already (then nothing is sent).
    fn stop(&self, ctx: &Ctx, build: &Self::BuildRef) -> Result<(Build, Stopped)>;
    fn start<'a>(&'a self, ctx: &Ctx, request: &Self::Start)
        -> Result<Tracked<'a, Self::BuildRef>>;
    /// The newest build in `scope`: what a restart needs of it, and the build.
    fn newest(&self, ctx: &Ctx, scope: &Self::Scope) -> Result<(Self::Newest, Build)>;
    fn restart<'a>(
        &'a self,
        ctx: &Ctx,
        scope: &Self::Scope,
        newest: Self::Newest,
    ) -> Result<Tracked<'a, Self::BuildRef>>;

    /// The newest builds in `scope` that pass `filter`, newest first, at most
    /// `filter.limit`, following pages within the provider's rate limits.
    fn builds(&self, ctx: &Ctx, scope: &Self::ListScope, filter: &Filter) -> Result<Vec<Listed>>;

    /// How much of a downstream log `--logs` prints when not told.
    const DEFAULT_LOGS: LogMode = LogMode::Failed;

    /// Where a build's log is read; `None` when the provider has no log API (then only the
    /// build's link is shown).
    fn logs<'a>(
        &'a self,
        _ctx: &Ctx,
        _build: &Self::BuildRef,
    ) -> Result<Option<Box<dyn Logs + Send + 'a>>> {
        Ok(None)
    }

    /// The build the calling step runs in (`CF_BUILD_ID`, `CI_BUILD_ID`, …): the variable
    /// and its value. Restarting it would restart this step, again and again.
    fn own_build() -> Option<(&'static str, String)>;
    /// Whether a web address (`https://…`) is one of this provider's build pages, on its
    /// default host or the one its host variable names; `cirelay wait URL` finds the
    /// provider by asking each.
    fn claims(_address: &str) -> bool {
        false
    }

    /// What to do instead of restarting the own build, where there is something.
    fn instead_of_own_restart(_scope: &Self::Scope) -> Option<String> {
        None
    }
}

/// What a request is about, so that a provider's refusal names the thing to check (a 404
/// on a build names the build id, on a project the project).
#[derive(Clone, Copy)]
pub enum About<'a> {
    Project(&'a dyn std::fmt::Display),
    /// A pipeline definition of a project (CircleCI).
    Definition(&'a dyn std::fmt::Display, &'a str),
    Build(&'a str),
    Workflow(&'a str),
    /// A job by its number (CircleCI).
    Job(u64),
}

/// A provider in the registry: its data and the lifecycle compiled for it.
pub struct Entry {
    pub name: &'static str,
    pub about: &'static str,
    pub env: &'static [EnvVar],
    pub commands: &'static [Command],
    pub aliases: &'static [(&'static str, &'static str)],
    pub run: fn(&Ctx, &Command, &Args) -> Result<Report>,
    /// One of several builds named by REF (`cirelay wait REF…`).
    pub open: fn(&Ctx, &str) -> Result<Box<dyn Remote>>,
    /// One start of a fan-out plan, checked.
    pub prepare: fn(&Ctx, &Command, &Args) -> Result<Box<dyn Prepared>>,
    pub claims: fn(&str) -> bool,
}

impl Entry {
    pub const fn of<P: Provider>() -> Entry {
        Entry {
            name: P::NAME,
            about: P::ABOUT,
            env: P::ENV,
            commands: P::COMMANDS,
            aliases: P::ALIASES,
            run: crate::lifecycle::run::<P>,
            open: crate::remote::open::<P>,
            prepare: crate::remote::prepare::<P>,
            claims: P::claims,
        }
    }

    /// The command by its name (one word, or two: `get builds`) or by an alias.
    pub fn command(&self, name: &str) -> Option<&'static Command> {
        let name = self
            .aliases
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, command)| command);
        self.commands.iter().find(|c| c.name == name)
    }

    /// The second words that follow `first` in commands of two words (`builds` and
    /// `pipeline` after `get`), aliases included.
    pub fn second_words(&self, first: &str) -> Vec<&'static str> {
        let names = self.commands.iter().map(|c| c.name);
        let aliases = self.aliases.iter().map(|(alias, _)| *alias);
        let mut words: Vec<&'static str> = names
            .chain(aliases)
            .filter_map(|name| name.strip_prefix(first)?.strip_prefix(' '))
            .collect();
        words.dedup();
        words
    }

    /// The aliases of a command, for its help.
    pub fn aliases_of(&self, command: &str) -> Vec<&'static str> {
        self.aliases
            .iter()
            .filter(|(_, c)| *c == command)
            .map(|(alias, _)| *alias)
            .collect()
    }
}

/// Every provider. Dispatch, the multi-call names, `cirelay help`, the provider list in
/// errors and the README's provider table all come from here.
pub static PROVIDERS: &[Entry] = &[
    Entry::of::<crate::codeship::Codeship>(),
    Entry::of::<crate::codefresh::Codefresh>(),
    Entry::of::<crate::circleci::CircleCi>(),
    Entry::of::<crate::github::GitHub>(),
    Entry::of::<crate::gitlab::Gitlab>(),
];

/// Names the binary may be called by, and the words they stand for (busybox-style):
/// `codefresh run …` is `cirelay codefresh run …`.
pub static MULTI_CALL: &[(&str, &[&str])] = &[
    ("codeship_restart_build", &["codeship", "restart-latest"]),
    ("codefresh", &["codefresh"]),
];

pub fn find(name: &str) -> Option<&'static Entry> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// `codeship, codefresh or circleci`, for errors.
pub fn names() -> String {
    let names: Vec<&str> = PROVIDERS.iter().map(|p| p.name).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
