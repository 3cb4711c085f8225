//! Every flag, defined once: its names, value, environment variable, default and help line.
//! Parsing, `--help` and the README's reference tables are all made from these definitions
//! (a test checks the README against them), so they cannot drift apart.
//!
//! Flags that more than one provider's commands take are defined here; a provider's own
//! flags are defined in its module, next to the code that reads them.

use std::time::Duration;

/// One command-line flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// `--branch`: also the key its value is found by.
    pub long: &'static str,
    /// `-b`, where the provider's own CLI has one.
    pub short: Option<&'static str>,
    /// The value's name in help (`B`, `DUR`); `None` for a switch.
    pub value: Option<&'static str>,
    /// May be given more than once (`-v K=V -v K2=V2`).
    pub repeats: bool,
    /// The environment variable that sets it when the flag is not given.
    pub env: Option<&'static str>,
    /// The default as help shows it.
    pub default: Option<&'static str>,
    pub help: &'static str,
}

impl Flag {
    /// A switch (`--wait`).
    pub const fn switch(long: &'static str, help: &'static str) -> Self {
        Flag {
            long,
            short: None,
            value: None,
            repeats: false,
            env: None,
            default: None,
            help,
        }
    }

    /// A flag with a value (`--branch B`).
    pub const fn value(long: &'static str, value: &'static str, help: &'static str) -> Self {
        Flag {
            long,
            short: None,
            value: Some(value),
            repeats: false,
            env: None,
            default: None,
            help,
        }
    }

    pub const fn short(self, short: &'static str) -> Self {
        Flag {
            short: Some(short),
            ..self
        }
    }

    pub const fn repeats(self) -> Self {
        Flag {
            repeats: true,
            ..self
        }
    }

    pub const fn env(self, env: &'static str) -> Self {
        Flag {
            env: Some(env),
            ..self
        }
    }

    pub const fn default(self, default: &'static str) -> Self {
        Flag {
            default: Some(default),
            ..self
        }
    }

    pub const fn help(self, help: &'static str) -> Self {
        Flag { help, ..self }
    }

    /// `-b|--branch B` as a usage line shows it.
    pub fn usage(&self) -> String {
        self.names().replacen(", ", "|", 1)
    }

    /// `-b, --branch B` as help shows it.
    pub fn names(&self) -> String {
        let mut names = match self.short {
            Some(short) => format!("{short}, {}", self.long),
            None => self.long.to_string(),
        };
        if let Some(value) = self.value {
            names.push(' ');
            names.push_str(value);
        }
        if self.repeats {
            names.push('…');
        }
        names
    }
}

/// An environment variable a command reads, for its help and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub help: &'static str,
}

impl EnvVar {
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        EnvVar { name, help }
    }
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub const TIMEOUT: Flag = Flag::value(
    "--timeout",
    "DUR",
    "limit for waiting on a downstream build; 0 = no limit",
)
.env("CIRELAY_TIMEOUT")
.default("30m");
pub const INTERVAL: Flag = Flag::value(
    "--interval",
    "DUR",
    "first poll interval; ×1.5 per unchanged poll up to 60s; back to the first interval when the status changes; a rate-limit answer stretches it; on Codefresh, GitHub and GitLab, planned around the build's usual end from its pipeline's recent successes (README: Waiting)",
)
.env("CIRELAY_INTERVAL")
.default("5s");
pub const REQUEST_TIMEOUT: Flag = Flag::value(
    "--request-timeout",
    "DUR",
    "limit for one HTTP exchange (connect, send, answer)",
)
.env("CIRELAY_REQUEST_TIMEOUT")
.default("30s");
pub const OUTPUT: Flag = Flag::value("--output", "text|json", "see Output")
    .env("CIRELAY_OUTPUT")
    .default("text");
pub const DRY_RUN: Flag = Flag::switch(
    "--dry-run",
    "print each request that would be sent (method, URL, body; secrets redacted) to stderr and send nothing",
);
pub const VERBOSE: Flag = Flag::switch(
    "--verbose",
    "log each request to stderr: method, redacted URL, status, milliseconds, attempt",
)
.env("CIRELAY_VERBOSE=1");
pub const CANCEL_ON_ABORT: Flag = Flag::switch(
    "--cancel-on-abort",
    "when the calling job is cancelled while cirelay waits (SIGTERM, SIGINT, SIGHUP), cancel the downstream builds it started, then exit 128 + signal",
)
.env("CIRELAY_CANCEL_ON_ABORT=1");
pub const HELP: Flag =
    Flag::switch("--help", "help for the binary, a provider or a command").short("-h");
pub const VERSION: Flag = Flag::switch("--version", "print the version").short("-V");

/// The options every command takes, anywhere on the line.
pub const GLOBAL: &[Flag] = &[
    TIMEOUT,
    INTERVAL,
    REQUEST_TIMEOUT,
    OUTPUT,
    DRY_RUN,
    VERBOSE,
    CANCEL_ON_ABORT,
    HELP,
    VERSION,
];

/// A setting that has no flag, only a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub env: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const DEFAULT_RETRIES: u32 = 4;

pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "CIRELAY_RETRIES",
        default: "4",
        help: "retries of a request that may be repeated (see Network)",
    },
    Setting {
        env: "CIRELAY_DOTENV",
        default: "unset",
        help: "a file that every start appends `CIRELAY_BUILD_ID=…` and `CIRELAY_BUILD_URL=…` to (GitLab's `artifacts:reports:dotenv`)",
    },
    Setting {
        env: "CIRELAY_ALLOW_HTTP=1",
        default: "off",
        help: "let plain `http://` reach hosts other than loopback (see Network)",
    },
];

// Flags several providers' commands take, each with the help line most of them need; a
// command that means something more specific gives its own with `.help(…)`.

pub const BRANCH: Flag = Flag::value("--branch", "B", "the branch");
pub const WAIT: Flag = Flag::switch(
    "--wait",
    "wait for the restarted build and exit by its result",
);
pub const FORCE: Flag = Flag::switch(
    "--force",
    "restart even the build this step runs in (it would restart itself, again and again)",
);
pub const DETACH: Flag = Flag::switch(
    "--detach",
    "print the build's id and exit 0 without waiting",
);

/// On every command that waits: how much of the downstream build's log to print.
pub const LOGS: Flag = Flag::value(
    "--logs",
    "follow|failed|none",
    "the downstream build's log on stderr: follow it as it is written, the failed steps' last lines once it failed, or none",
)
.env("CIRELAY_LOGS");
pub const LOG_LINES: Flag = Flag::value(
    "--log-lines",
    "N",
    "the lines of each failed step or job that are printed",
)
.default("200");
/// `PROVIDER logs BUILD --failed`.
pub const FAILED_ONLY: Flag = Flag::switch(
    "--failed",
    "only the failed steps or jobs, their last --log-lines lines",
);

/// `PROVIDER builds`: the flags [`crate::listing::Filter`] reads besides `--branch`.
pub const LIMIT: Flag =
    Flag::value("--limit", "N", "the most builds to list, newest first").default("20");
pub const LIST_STATUS: Flag = Flag::value(
    "--status",
    "S",
    "only builds with this status (the provider's own word)",
);

/// `PROVIDER builds --branch B`.
pub const LIST_BRANCH: Flag = Flag::value("--branch", "B", "only builds of this branch");

/// A file that describes a resource to create (a pipeline spec, a project): `-f`, as in the
/// vendors' CLIs.
pub const SPEC_FILE: Flag =
    Flag::value("--filename", "FILE", "the spec file: YAML or JSON").short("-f");
