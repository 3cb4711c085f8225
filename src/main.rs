//! Multi-call entry point: `cirelay`, `codeship_restart_build` and `codefresh` are one binary.

use cirelay::cli::{self, Action, Personality};
use cirelay::{execute, output};

fn main() {
    output::start_clock();
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let personality = Personality::from_argv0(&argv0.to_string_lossy());
    let code = match cli::parse(personality, args.collect()) {
        Ok(Action::Help(text)) => {
            output::stdout_text(&text);
            0
        }
        Ok(Action::Version) => {
            output::stdout_line(&format!("cirelay {}", cli::VERSION));
            0
        }
        Ok(Action::Run(globals, invocation)) => {
            let commands = output::WorkflowCommands::stop();
            let code = match execute(&globals, invocation) {
                Ok(report) => report.result.exit_code(),
                Err(e) => fail(&e),
            };
            commands.resume();
            code
        }
        Err(e) => fail(&e),
    };
    std::process::exit(code);
}

fn fail(e: &cirelay::error::Error) -> i32 {
    if e.exit_code() == 0 {
        output::event(e.to_string());
    } else {
        output::error(e.to_string());
    }
    e.exit_code()
}
