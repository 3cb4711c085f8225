//! The one error type. Every variant is one documented exit code (see `exit_code`),
//! so a provider chooses the code by choosing the variant, never by number.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad flag, or a missing or malformed environment variable. Nothing was sent.
    #[error("{0}")]
    Usage(String),

    /// The API answered, but with a refusal (401, 403, 404, 400) or something unusable
    /// (malformed JSON, a missing field, no build on the branch).
    #[error("{0}")]
    Api(String),

    /// The API could not be reached, even after retries.
    #[error("{0}")]
    Unreachable(String),

    /// A request that starts or restarts a build failed after it may have reached the
    /// server, so the build may or may not exist. It is never re-sent.
    #[error("{0}")]
    UnknownOutcome(String),

    /// A retry would have to wait past `--timeout` (a rate limit asking for a long pause).
    /// While waiting on a build that ends the wait (exit 3); anywhere else the API was not
    /// reached in time, like [`Error::Unreachable`].
    #[error("{0}")]
    OutOfTime(String),

    /// The calling job was cancelled (SIGTERM, SIGINT, SIGHUP) while cirelay waited.
    #[error("interrupted by {}", crate::abort::name(*.0))]
    Aborted(i32),

    /// `--dry-run` printed the request whose answer the next step would need.
    #[error(
        "dry run: nothing was sent; what would follow {0} needs its answer, so cirelay stops here"
    )]
    DryRunStop(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::DryRunStop(_) => 0,
            Error::Usage(_) => 4,
            Error::Aborted(signal) => 128 + signal,
            Error::Api(_) => 5,
            Error::Unreachable(_) | Error::UnknownOutcome(_) | Error::OutOfTime(_) => 6,
        }
    }

    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub fn api(msg: impl fmt::Display) -> Self {
        Error::Api(msg.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
