//! Codeship API v2: machine-user authentication, organizations, projects by uuid.

use crate::cli::CodeshipCommand;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::Ctx;

pub fn run(
    _ctx: &Ctx,
    _command: CodeshipCommand,
    _user: (&'static str, String),
    _password: (&'static str, String),
) -> Result<Report> {
    Err(Error::usage(
        "Codeship API v2 is not available in this build yet; set CODESHIP_API_KEY for API v1",
    ))
}
