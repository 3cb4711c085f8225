//! Command-line parsing: `argv` and the environment into the command to run.
//!
//! The names here are public API (see the README and the command-line contract): users put
//! them into pipelines, so a rename breaks builds. Every flag is defined once, as data
//! ([`flags`] and each provider's command table); parsing and help are made from that.

pub mod args;
pub mod flags;
pub mod help;
pub mod values;

use std::ffi::OsString;
use std::time::Duration;

use pico_args::Arguments;

use crate::error::{Error, Result};
use crate::provider::{self, Command, Entry};
use args::{pico_error, take_flags, take_positionals, Args};
use flags::{Flag, DEFAULT_INTERVAL, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT, GLOBAL};
use values::{duration_from_env, parse_output, positive};
pub use values::{
    env_first, env_flag, key_value_list, last_wins, parse_duration, parse_duration_with_unit,
    parse_key_value, parse_var_file, read_var_file, typed_parameter,
};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which name the binary was called by (multi-call, like busybox): the words that name
/// stands for, put before the arguments (`codefresh` is `cirelay codefresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Personality {
    /// The multi-call name, or `None` for `cirelay` itself.
    pub name: Option<&'static str>,
    pub words: &'static [&'static str],
}

impl Personality {
    pub const CIRELAY: Personality = Personality {
        name: None,
        words: &[],
    };

    pub fn from_argv0(argv0: &str) -> Self {
        let name = argv0.rsplit(['/', '\\']).next().unwrap_or(argv0);
        let name = name.strip_suffix(".exe").unwrap_or(name);
        provider::MULTI_CALL
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Self::CIRELAY, |(n, words)| Personality {
                name: Some(n),
                words,
            })
    }

    /// A multi-call name by its name, for tests.
    pub fn called(name: &str) -> Self {
        Self::from_argv0(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Globals {
    /// `None` waits without limit (`--timeout 0`).
    pub timeout: Option<Duration>,
    pub interval: Duration,
    pub request_timeout: Duration,
    pub output: OutputMode,
    pub dry_run: bool,
    pub verbose: bool,
    pub cancel_on_abort: bool,
}

/// One parsed command line: what runs it, the provider (none for the commands that take
/// builds of any provider), its command, and the command's arguments.
pub struct Invocation {
    pub run: fn(&crate::Ctx, &Command, &Args) -> Result<crate::output::Report>,
    pub provider: Option<&'static Entry>,
    pub command: &'static Command,
    pub args: Args,
}

/// The commands without a provider word: they take builds of any providers.
pub fn across(name: &str) -> Option<&'static Command> {
    crate::several::COMMANDS.iter().find(|c| c.name == name)
}

fn run_across(ctx: &crate::Ctx, command: &Command, args: &Args) -> Result<crate::output::Report> {
    match command.verb {
        crate::provider::Verb::Own(handler) => handler(ctx, args),
        _ => unreachable!("the commands across providers are their own verbs"),
    }
}

pub enum Action {
    Help(String),
    Version,
    Run(Globals, Invocation),
}

/// Parses the arguments after `argv[0]`. Reads the environment only for the documented
/// `CIRELAY_*` defaults and for `--var-file`'s file.
pub fn parse(personality: Personality, args: Vec<OsString>) -> Result<Action> {
    let mut words: Vec<OsString> = personality.words.iter().map(OsString::from).collect();
    words.extend(args);
    let mut p = Arguments::from_vec(words);
    let global = take_flags(&mut p, GLOBAL)?;
    let provider = p.subcommand().map_err(pico_error)?;
    // `cirelay help [PROVIDER [COMMAND]]` and `cirelay PROVIDER help [COMMAND]`, as in git.
    let help_first = provider.as_deref() == Some("help") && personality.name.is_none();
    let provider = match help_first {
        true => p.subcommand().map_err(pico_error)?,
        false => provider,
    };
    let entry = provider.as_deref().and_then(provider::find);
    let (command, mut p) = match &provider {
        Some(_) => command_words(entry, p)?,
        None => (None, p),
    };
    if help_first {
        return Ok(Action::Help(help::text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if command.as_deref() == Some("help") {
        let (command, _) = command_words(entry, p)?;
        return Ok(Action::Help(help::text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if global.on("--help") {
        return Ok(Action::Help(help::text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if global.on("--version") {
        return Ok(Action::Version);
    }
    let Some(provider) = provider else {
        return Err(
            misplaced_flag(p, "cirelay PROVIDER COMMAND").unwrap_or_else(|| {
                Error::usage(format!(
                    "missing provider: use `cirelay {} COMMAND` (see `cirelay --help`)",
                    provider::PROVIDERS
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join("|")
                ))
            }),
        );
    };
    if personality.name.is_none() && provider::find(&provider).is_none() {
        if let Some(across) = across(&provider) {
            // `cirelay wait REF…`: the word after it is a REF, not a command.
            let first_ref = command;
            let command = across;
            let mut p = p;
            let mut args = take_flags(&mut p, command.flags)?;
            let mut positionals: Vec<String> = first_ref.into_iter().collect();
            let known: Vec<Flag> = command.flags.iter().chain(GLOBAL).copied().collect();
            // The first argument was taken already, as the command word is elsewhere.
            let rest: &[args::Arg] = match (positionals.is_empty(), command.args) {
                (true, spec) => spec,
                (false, [only]) if only.many => &[args::Arg::optional_many(only.name)],
                (false, [_, rest @ ..]) => rest,
                (false, []) => &[],
            };
            positionals.extend(take_positionals(p, command.name, rest, &known)?);
            if positionals.is_empty() {
                return Err(Error::usage(format!(
                    "`cirelay {}` needs {} (see `cirelay help {}`)",
                    command.name,
                    command.args.first().map_or("REF", |a| a.name),
                    command.name
                )));
            }
            args.positionals = positionals;
            let globals = globals(&global, &args, command, personality)?;
            return Ok(Action::Run(
                globals,
                Invocation {
                    run: run_across,
                    provider: None,
                    command,
                    args,
                },
            ));
        }
    }
    let entry = entry.ok_or_else(|| unknown_provider(&provider))?;
    let Some(command) = command else {
        let usage = format!("cirelay {provider} COMMAND");
        return Err(misplaced_flag(p, &usage).unwrap_or_else(|| {
            Error::usage(format!(
                "missing command: use `cirelay {provider} COMMAND` (see `cirelay {provider} --help`)"
            ))
        }));
    };
    let command = entry
        .command(&command)
        .ok_or_else(|| unknown_command_of(entry, &command))?;
    let name = format!("{provider} {}", command.name);
    let mut args = take_flags(&mut p, command.flags)?;
    let known: Vec<Flag> = command.flags.iter().chain(GLOBAL).copied().collect();
    args.positionals = take_positionals(p, &name, command.args, &known)?;
    if has_own_output(command) && args.value("--output").is_none() {
        // The global `--output` (or CIRELAY_OUTPUT) names the format of a command that has
        // its own (a vendor CLI's `-o json|yaml`), since the line may use either spelling.
        let given = global.value("--output").map(str::to_string);
        let from_env = std::env::var("CIRELAY_OUTPUT").ok();
        if let Some(format) = given.or(from_env).filter(|f| !f.trim().is_empty()) {
            args = args.with_value("--output", &format);
        }
    }
    let globals = globals(&global, &args, command, personality)?;
    Ok(Action::Run(
        globals,
        Invocation {
            run: entry.run,
            provider: Some(entry),
            command,
            args,
        },
    ))
}

fn globals(
    global: &Args,
    args: &Args,
    command: &Command,
    personality: Personality,
) -> Result<Globals> {
    // A command's own `-t/--timeout` (Codefresh `wait`) wins over the global one.
    let timeout = match args.value("--timeout").or(global.value("--timeout")) {
        Some(raw) => {
            // The Codefresh CLI's `wait -t N` counts minutes; keep that meaning under its
            // name.
            let minutes = command.timeout_in_minutes && personality.name.is_some();
            parse_duration_with_unit(raw, if minutes { 60 } else { 1 })
                .map_err(|e| Error::usage(format!("--timeout: {e}")))?
        }
        None => duration_from_env("CIRELAY_TIMEOUT", DEFAULT_TIMEOUT)?,
    };
    let duration = |flag: &str, var: &str, default: Duration| -> Result<Duration> {
        let d = match global.value(flag) {
            Some(raw) => parse_duration(raw).map_err(|e| Error::usage(format!("{flag}: {e}")))?,
            None => duration_from_env(var, default)?,
        };
        positive(d, &format!("{flag} / {var}"))
    };
    Ok(Globals {
        timeout: (!timeout.is_zero()).then_some(timeout),
        interval: duration("--interval", "CIRELAY_INTERVAL", DEFAULT_INTERVAL)?,
        request_timeout: duration(
            "--request-timeout",
            "CIRELAY_REQUEST_TIMEOUT",
            DEFAULT_REQUEST_TIMEOUT,
        )?,
        // A command with its own output formats checks them itself; its JSON is JSON mode.
        output: match has_own_output(command) {
            true if args.value("--output") == Some("json") => OutputMode::Json,
            true => OutputMode::Text,
            false => parse_output(
                global.value("--output").map(str::to_string),
                std::env::var("CIRELAY_OUTPUT").ok(),
            )?,
        },
        dry_run: global.on("--dry-run"),
        verbose: global.on("--verbose") || env_flag("CIRELAY_VERBOSE")?,
        cancel_on_abort: global.on("--cancel-on-abort") || env_flag("CIRELAY_CANCEL_ON_ABORT")?,
    })
}

/// The command the next words name: one word, or two where the provider has commands of
/// two words (`codefresh get builds`, as in the Codefresh CLI). A second word that names no
/// command stays on the line as an argument of the first.
fn command_words(entry: Option<&Entry>, mut p: Arguments) -> Result<(Option<String>, Arguments)> {
    let Some(first) = p.subcommand().map_err(pico_error)? else {
        return Ok((None, p));
    };
    if entry.is_none_or(|e| e.second_words(&first).is_empty()) {
        return Ok((Some(first), p));
    }
    let Some(second) = p.subcommand().map_err(pico_error)? else {
        return Ok((Some(first), p));
    };
    let both = format!("{first} {second}");
    if entry.is_some_and(|e| e.command(&both).is_some()) {
        return Ok((Some(both), p));
    }
    let mut rest = vec![OsString::from(second)];
    rest.extend(p.finish());
    Ok((Some(first), Arguments::from_vec(rest)))
}

/// A command that defines `--output` itself (`codefresh get pipeline -o yaml`).
fn has_own_output(command: &Command) -> bool {
    command.flags.iter().any(|f| f.long == "--output")
}

/// A command of two words named by its first alone (`codefresh get`) says what may follow.
fn unknown_command_of(entry: &Entry, command: &str) -> Error {
    let provider = entry.name;
    let seconds: Vec<&str> = entry
        .commands
        .iter()
        .filter_map(|c| c.name.strip_prefix(command)?.strip_prefix(' '))
        .collect();
    if seconds.is_empty() {
        return unknown_command(provider, command);
    }
    Error::usage(format!(
        "`{provider} {command}` needs one of: {} (see `cirelay {provider} --help`)",
        seconds.join(", ")
    ))
}

/// A command's flag written before the provider or command (`cirelay --branch main codeship
/// restart-latest`) is read as neither: say where it goes instead of "missing provider".
fn misplaced_flag(p: Arguments, usage: &str) -> Option<Error> {
    let first = p.finish().into_iter().next()?;
    let first = first.to_string_lossy();
    let flag = first.split('=').next().unwrap_or(&first);
    flag.starts_with('-').then(|| {
        Error::usage(format!(
            "`{flag}` is not a global option: a command's options go after the command (`{usage} {flag} …`)"
        ))
    })
}

pub fn unknown_provider(name: &str) -> Error {
    let across: Vec<&str> = crate::several::COMMANDS.iter().map(|c| c.name).collect();
    let version = if matches!(name, "version" | "--version") {
        "; the version is `cirelay --version`"
    } else {
        ""
    };
    Error::usage(format!(
        "`{name}` is neither a provider nor a command: the first word is a provider ({}), a command over builds of any provider ({}), or help{version}",
        provider::names(),
        across.join(", ")
    ))
}

pub fn unknown_command(provider: &str, command: &str) -> Error {
    Error::usage(format!(
        "unknown command `{provider} {command}` (see `cirelay {provider} --help`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn run(p: Personality, list: &[&str]) -> (Globals, Invocation) {
        match parse(p, args(list)) {
            Ok(Action::Run(g, i)) => (g, i),
            Ok(_) => panic!("{list:?}: not a command to run"),
            Err(e) => panic!("{list:?}: {e}"),
        }
    }

    fn command(p: Personality, list: &[&str]) -> Invocation {
        run(p, list).1
    }

    fn help(p: Personality, list: &[&str]) -> String {
        match parse(p, args(list)) {
            Ok(Action::Help(h)) => h,
            Ok(_) => panic!("{list:?}: not help"),
            Err(e) => panic!("{list:?}: {e}"),
        }
    }

    #[test]
    fn multi_call_names() {
        assert_eq!(
            Personality::from_argv0("/usr/bin/codefresh").name,
            Some("codefresh")
        );
        assert_eq!(
            Personality::from_argv0("codeship_restart_build").words,
            &["codeship", "restart-latest"]
        );
        assert_eq!(Personality::from_argv0("./cirelay"), Personality::CIRELAY);
    }

    #[test]
    fn codefresh_seed_line_and_equals_forms() {
        let i = command(
            Personality::called("codefresh"),
            &[
                "run",
                "proj/pipeB",
                "-b=main",
                "-t",
                "trig",
                "-v",
                "A=1=2",
                "--variable=B=x y",
                "-d",
            ],
        );
        assert_eq!(
            (i.provider.unwrap().name, i.command.name),
            ("codefresh", "run")
        );
        assert_eq!(i.args.positionals, vec!["proj/pipeB"]);
        assert_eq!(i.args.value("--branch"), Some("main"));
        assert_eq!(i.args.value("--trigger"), Some("trig"));
        assert_eq!(i.args.values("--variable"), vec!["A=1=2", "B=x y"]);
        assert!(i.args.on("--detach"));
    }

    #[test]
    fn builds_of_any_provider_take_one_ref_or_several() {
        let (_, one) = run(Personality::CIRELAY, &["status", "gitlab:acme/app/7"]);
        assert_eq!(one.args.positionals, ["gitlab:acme/app/7"]);
        let (_, two) = run(
            Personality::CIRELAY,
            &["wait", "gitlab:a/b/1", "codefresh:x"],
        );
        assert_eq!(two.args.positionals, ["gitlab:a/b/1", "codefresh:x"]);
        for line in [&["wait"][..], &["fan-out", "plan.json", "extra"][..]] {
            let args = line.iter().map(OsString::from).collect();
            assert!(parse(Personality::CIRELAY, args).is_err(), "{line:?}");
        }
    }

    #[test]
    fn globals_anywhere() {
        let (g, i) = run(
            Personality::CIRELAY,
            &[
                "codeship",
                "restart-latest",
                "--timeout=0",
                "--branch",
                "dev",
                "--interval",
                "250ms",
            ],
        );
        assert_eq!(g.timeout, None);
        assert_eq!(g.interval, Duration::from_millis(250));
        assert_eq!(i.command.name, "restart-latest");
        assert_eq!(i.args.value("--branch"), Some("dev"));
        assert!(!i.args.on("--wait") && !i.args.on("--force"));
        // Before the provider, between provider and command, after everything.
        for line in [
            &[
                "--verbose",
                "--output=json",
                "codeship",
                "restart-latest",
                "--wait",
            ][..],
            &[
                "codeship",
                "--verbose",
                "--output",
                "json",
                "restart-latest",
                "--wait",
            ],
            &[
                "codeship",
                "restart-latest",
                "--wait",
                "--output",
                "json",
                "--verbose",
            ],
        ] {
            let (g, i) = run(Personality::CIRELAY, line);
            assert!(g.verbose && g.output == OutputMode::Json, "{line:?}");
            assert_eq!(i.command.name, "restart-latest", "{line:?}");
            assert!(i.args.on("--wait"), "{line:?}");
            assert_eq!(i.args.value("--branch"), None, "{line:?}");
        }
    }

    #[test]
    fn codefresh_wait_timeout_counts_minutes_only_under_its_name() {
        let codefresh = Personality::called("codefresh");
        let (g, _) = run(codefresh, &["wait", "-t", "2", "abc"]);
        assert_eq!(g.timeout, Some(Duration::from_secs(120)));
        let (g, _) = run(codefresh, &["wait", "--timeout", "90s", "abc"]);
        assert_eq!(g.timeout, Some(Duration::from_secs(90)));
        let (g, _) = run(
            Personality::CIRELAY,
            &["codefresh", "wait", "--timeout", "2", "abc"],
        );
        assert_eq!(g.timeout, Some(Duration::from_secs(2)));
        // A Codefresh CLI line with fractional minutes and its "show progress" flags.
        let (g, i) = run(
            codefresh,
            &["wait", "abc", "-t", "0.5", "-v", "-d", "--debug"],
        );
        assert_eq!(g.timeout, Some(Duration::from_secs(30)));
        assert_eq!(i.command.name, "wait");
        assert_eq!(i.args.positionals, vec!["abc"]);
        assert_eq!(i.args.value("--status"), None);
    }

    #[test]
    fn unknown_flags_and_missing_arguments_are_usage_errors() {
        for bad in [
            &["codeship", "restart-latest", "--brnach", "x"][..],
            &["codefresh", "run"],
            &["codefresh", "wait"],
            &["codefresh", "run", "p", "--branch", "a", "--branch", "b"],
            &["nosuch", "x"],
            &["codeship", "nosuch"],
            &[],
            &["codeship", "restart-latest", "--interval", "0"],
            &["codeship", "restart-latest", "--output", "yaml"],
            &["codeship", "status"],
            &["codeship", "status", "a", "b"],
            &["circleci", "trigger", "a", "b"],
        ] {
            let err = parse(Personality::CIRELAY, args(bad)).err();
            let err = err.unwrap_or_else(|| panic!("{bad:?} parsed"));
            assert_eq!(err.exit_code(), 4, "{bad:?}: {err}");
        }
    }

    #[test]
    fn help_as_a_word() {
        for (line, wanted) in [
            (&["help"][..], "PROVIDERS:"),
            (&["help", "circleci"], "COMMANDS:"),
            (&["help", "codeship"], "COMMANDS:"),
            (&["circleci", "help"], "COMMANDS:"),
            (&["help", "codefresh", "run"], "--terminate-on-timeout"),
            (&["codeship", "help"], "COMMANDS:"),
            (&["codeship", "help", "trigger"], "--sha SHA"),
        ] {
            let h = help(Personality::CIRELAY, line);
            assert!(h.contains(wanted), "{line:?}: {h}");
        }
        let h = help(Personality::called("codefresh"), &["help", "wait"]);
        assert!(h.contains("counts minutes"), "{h}");
        assert!(parse(Personality::CIRELAY, args(&["help", "nosuch"])).is_err());
    }

    #[test]
    fn a_commands_flag_before_the_command_says_where_it_goes() {
        for line in [
            &["--branch", "main", "codeship", "restart-latest"][..],
            &["codeship", "--branch=main", "restart-latest"],
        ] {
            let err = parse(Personality::CIRELAY, args(line)).err().unwrap();
            assert_eq!(err.exit_code(), 4);
            let msg = err.to_string();
            assert!(msg.contains("`--branch` is not a global option"), "{msg}");
            assert!(msg.contains("after the command"), "{msg}");
        }
        let err = parse(Personality::CIRELAY, args(&["codeship"]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("missing command"), "{err}");
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(
            parse(Personality::CIRELAY, args(&["--help"])),
            Ok(Action::Help(_))
        ));
        let h = help(Personality::CIRELAY, &["codefresh", "run", "-h"]);
        assert!(h.contains("--terminate-on-timeout"), "{h}");
        assert!(matches!(
            parse(Personality::CIRELAY, args(&["-V"])),
            Ok(Action::Version)
        ));
    }
}
