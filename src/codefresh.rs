//! Codefresh: `codefresh run` as a drop-in for the Codefresh CLI, and wait, status,
//! terminate, restart-latest.

use crate::cli::CodefreshCommand;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::Ctx;

pub fn run(_ctx: &Ctx, _command: CodefreshCommand) -> Result<Report> {
    Err(Error::usage(
        "codefresh commands are not available in this build yet",
    ))
}
