//! CircleCI API v2: trigger pipelines with typed parameters, wait on all their workflows,
//! cancel, restart-latest.

use crate::cli::CircleciCommand;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::Ctx;

pub fn run(_ctx: &Ctx, _command: CircleciCommand) -> Result<Report> {
    Err(Error::usage(
        "circleci commands are not available in this build yet",
    ))
}
