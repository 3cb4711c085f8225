//! Command-line parsing: `argv` and the environment into plain structs.
//!
//! The names here are public API (see the README and the command-line contract): users put
//! them into pipelines, so a rename breaks builds.

use std::ffi::OsString;
use std::time::Duration;

use pico_args::Arguments;
use serde_json::Value;

use crate::error::{Error, Result};

/// Which name the binary was called by (multi-call, like busybox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    Cirelay,
    /// `codeship_restart_build`: Codeship's helper script, `cirelay codeship restart-latest`.
    CodeshipRestartBuild,
    /// `codefresh`: the Codefresh CLI, `cirelay codefresh`.
    Codefresh,
}

impl Personality {
    pub fn from_argv0(argv0: &str) -> Self {
        let name = argv0.rsplit(['/', '\\']).next().unwrap_or(argv0);
        let name = name.strip_suffix(".exe").unwrap_or(name);
        match name {
            "codeship_restart_build" => Personality::CodeshipRestartBuild,
            "codefresh" => Personality::Codefresh,
            _ => Personality::Cirelay,
        }
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
}

#[derive(Debug)]
pub enum Action {
    Help(String),
    Version,
    Run(Globals, Box<Command>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Codeship(CodeshipCommand),
    Codefresh(CodefreshCommand),
    Circleci(CircleciCommand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CodeshipCommand {
    RestartLatest {
        branch: Option<String>,
        wait: bool,
        force: bool,
    },
    Trigger {
        branch: Option<String>,
        sha: Option<String>,
        detach: bool,
    },
    Status {
        build: String,
    },
    Wait {
        build: String,
    },
    Stop {
        build: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum CodefreshCommand {
    Run(CodefreshRun),
    Wait {
        ids: Vec<String>,
        /// The status every build must reach; Codefresh's CLI defaults to `success`.
        status: String,
    },
    Status {
        id: String,
    },
    Terminate {
        id: String,
    },
    RestartLatest {
        pipeline: String,
        branch: Option<String>,
        wait: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodefreshRun {
    pub pipeline: String,
    pub branch: Option<String>,
    pub sha: Option<String>,
    pub trigger: Option<String>,
    /// In the order given: `--var-file` first, then each `-v`, so a later one wins.
    pub variables: Vec<(String, String)>,
    pub contexts: Vec<String>,
    pub no_cache: bool,
    pub no_cf_cache: bool,
    pub reset_volume: bool,
    pub enable_notifications: bool,
    pub skip: Vec<String>,
    pub only: Vec<String>,
    pub detach: bool,
    pub terminate_on_timeout: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CircleciCommand {
    Trigger(CircleciTrigger),
    Status {
        pipeline: String,
    },
    Wait {
        pipeline: String,
    },
    Cancel {
        pipeline: String,
    },
    RestartLatest {
        slug: Option<String>,
        branch: Option<String>,
        from_failed: bool,
        wait: bool,
        force: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CircleciTrigger {
    pub slug: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    /// Typed as CircleCI expects them: `true`/`false` are booleans, integers are numbers.
    pub parameters: serde_json::Map<String, Value>,
    pub definition_id: Option<String>,
    pub detach: bool,
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Parses the arguments after `argv[0]`. Reads the environment only for the documented
/// `CIRELAY_*` defaults and for `--var-file`'s file.
pub fn parse(personality: Personality, args: Vec<OsString>) -> Result<Action> {
    let mut p = Arguments::from_vec(args);
    let help = p.contains(["-h", "--help"]);
    let version = p.contains(["-V", "--version"]);
    let timeout_flag: Option<String> = opt_string(&mut p, "--timeout")?;
    let interval = opt_string(&mut p, "--interval")?;
    let request_timeout = opt_string(&mut p, "--request-timeout")?;
    let output = opt_string(&mut p, "--output")?;
    let dry_run = p.contains("--dry-run");
    let verbose = p.contains("--verbose");

    let provider = match personality {
        Personality::Cirelay => p.subcommand().map_err(pico_error)?,
        Personality::CodeshipRestartBuild => Some("codeship".to_string()),
        Personality::Codefresh => Some("codefresh".to_string()),
    };
    let command = match personality {
        Personality::CodeshipRestartBuild => Some("restart-latest".to_string()),
        _ if provider.is_some() => p.subcommand().map_err(pico_error)?,
        _ => None,
    };

    // `cirelay help [PROVIDER [COMMAND]]` and `cirelay PROVIDER help [COMMAND]`, as in git.
    if provider.as_deref() == Some("help") && personality == Personality::Cirelay {
        let provider = command;
        let command = p.subcommand().map_err(pico_error)?;
        return Ok(Action::Help(help_text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if command.as_deref() == Some("help") {
        let command = p.subcommand().map_err(pico_error)?;
        return Ok(Action::Help(help_text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if help {
        return Ok(Action::Help(help_text(
            provider.as_deref(),
            command.as_deref(),
        )?));
    }
    if version {
        return Ok(Action::Version);
    }
    let Some(provider) = provider else {
        return Err(misplaced_flag(p, "cirelay PROVIDER COMMAND").unwrap_or_else(|| {
            Error::usage(
                "missing provider: use `cirelay codeship|codefresh|circleci COMMAND` (see `cirelay --help`)",
            )
        }));
    };
    let Some(command) = command else {
        let usage = format!("cirelay {provider} COMMAND");
        return Err(misplaced_flag(p, &usage).unwrap_or_else(|| {
            Error::usage(format!(
                "missing command: use `cirelay {provider} COMMAND` (see `cirelay {provider} --help`)"
            ))
        }));
    };

    // The Codefresh CLI's `wait -t N` counts minutes; keep that meaning under its name.
    let minutes_timeout = provider == "codefresh" && command == "wait";
    let mut timeout_flag = timeout_flag;
    if minutes_timeout {
        if let Some(t) = opt_string(&mut p, "-t")? {
            timeout_flag = Some(t);
        }
    }
    let timeout = match timeout_flag {
        Some(raw) => {
            let bare_unit = if minutes_timeout && personality == Personality::Codefresh {
                60
            } else {
                1
            };
            parse_duration_with_unit(&raw, bare_unit)
                .map_err(|e| Error::usage(format!("--timeout: {e}")))?
        }
        None => duration_from_env("CIRELAY_TIMEOUT", "30m")?,
    };
    let globals = Globals {
        timeout: (!timeout.is_zero()).then_some(timeout),
        interval: positive(
            match interval {
                Some(raw) => {
                    parse_duration(&raw).map_err(|e| Error::usage(format!("--interval: {e}")))?
                }
                None => duration_from_env("CIRELAY_INTERVAL", "5s")?,
            },
            "--interval / CIRELAY_INTERVAL",
        )?,
        request_timeout: positive(
            match request_timeout {
                Some(raw) => parse_duration(&raw)
                    .map_err(|e| Error::usage(format!("--request-timeout: {e}")))?,
                None => duration_from_env("CIRELAY_REQUEST_TIMEOUT", "30s")?,
            },
            "--request-timeout / CIRELAY_REQUEST_TIMEOUT",
        )?,
        output: parse_output(output, std::env::var("CIRELAY_OUTPUT").ok())?,
        dry_run,
        verbose: verbose || env_flag("CIRELAY_VERBOSE")?,
    };

    let parsed = match provider.as_str() {
        "codeship" => Command::Codeship(parse_codeship(&command, &mut p)?),
        "codefresh" => Command::Codefresh(parse_codefresh(&command, &mut p)?),
        "circleci" => Command::Circleci(parse_circleci(&command, &mut p)?),
        other => {
            return Err(Error::usage(format!(
                "unknown provider `{other}`: use codeship, codefresh or circleci"
            )))
        }
    };
    Ok(Action::Run(globals, Box::new(parsed)))
}

fn parse_codeship(command: &str, p: &mut Arguments) -> Result<CodeshipCommand> {
    let name = format!("codeship {command}");
    Ok(match command {
        "restart-latest" => {
            let cmd = CodeshipCommand::RestartLatest {
                branch: opt_string(p, "--branch")?,
                wait: p.contains("--wait"),
                force: p.contains("--force"),
            };
            positionals(p, &name, 0)?;
            cmd
        }
        "trigger" => {
            let cmd = CodeshipCommand::Trigger {
                branch: opt_string(p, "--branch")?,
                sha: opt_string(p, "--sha")?,
                detach: p.contains("--detach"),
            };
            positionals(p, &name, 0)?;
            cmd
        }
        "status" | "wait" | "stop" => {
            let build = one_positional(p, &name, "BUILD")?;
            match command {
                "status" => CodeshipCommand::Status { build },
                "wait" => CodeshipCommand::Wait { build },
                _ => CodeshipCommand::Stop { build },
            }
        }
        other => return Err(unknown_command("codeship", other)),
    })
}

fn parse_codefresh(command: &str, p: &mut Arguments) -> Result<CodefreshCommand> {
    let name = format!("codefresh {command}");
    Ok(match command {
        "run" => {
            let mut run = CodefreshRun {
                branch: opt_string(p, ["-b", "--branch"])?,
                sha: opt_string(p, ["-s", "--sha"])?,
                trigger: opt_string(p, ["-t", "--trigger"])?,
                contexts: strings(p, ["-c", "--context"])?,
                no_cache: p.contains("--no-cache"),
                no_cf_cache: p.contains("--no-cf-cache"),
                reset_volume: p.contains("--reset-volume"),
                enable_notifications: p.contains("--enable-notifications"),
                skip: strings(p, "--skip")?,
                only: strings(p, "--only")?,
                detach: p.contains(["-d", "--detach"]),
                terminate_on_timeout: p.contains("--terminate-on-timeout"),
                ..CodefreshRun::default()
            };
            if let Some(path) = opt_string(p, "--var-file")? {
                run.variables = read_var_file(&path)?;
            }
            for raw in strings(p, ["-v", "--variable"])? {
                run.variables
                    .push(parse_key_value(&raw).map_err(|e| Error::usage(format!("-v {e}")))?);
            }
            run.pipeline = one_positional(p, &name, "PIPELINE")?;
            CodefreshCommand::Run(run)
        }
        "wait" => {
            // `-s` as in the Codefresh CLI, so its `wait ID -s terminated` lines work unchanged.
            let status =
                opt_string(p, ["-s", "--status"])?.unwrap_or_else(|| "success".to_string());
            // The Codefresh CLI's `-v`/`-d`/`--debug` ask it to show each status on the way;
            // cirelay's wait always does, so they are accepted and change nothing. (`|`, not
            // `||`: each one must be taken off the line, or it reads as an unknown flag.)
            let _descriptive = p.contains("-v") | p.contains("-d") | p.contains("--debug");
            let ids = positionals(p, &name, usize::MAX)?;
            if ids.is_empty() {
                return Err(Error::usage("codefresh wait needs at least one build ID"));
            }
            CodefreshCommand::Wait { ids, status }
        }
        "status" => CodefreshCommand::Status {
            id: one_positional(p, &name, "ID")?,
        },
        "terminate" => CodefreshCommand::Terminate {
            id: one_positional(p, &name, "ID")?,
        },
        "restart-latest" => {
            let branch = opt_string(p, ["-b", "--branch"])?;
            let wait = p.contains("--wait");
            CodefreshCommand::RestartLatest {
                pipeline: one_positional(p, &name, "PIPELINE")?,
                branch,
                wait,
            }
        }
        other => return Err(unknown_command("codefresh", other)),
    })
}

fn parse_circleci(command: &str, p: &mut Arguments) -> Result<CircleciCommand> {
    let name = format!("circleci {command}");
    Ok(match command {
        "trigger" => {
            let mut trigger = CircleciTrigger {
                branch: opt_string(p, "--branch")?,
                tag: opt_string(p, "--tag")?,
                definition_id: opt_string(p, "--definition-id")?,
                detach: p.contains("--detach"),
                ..CircleciTrigger::default()
            };
            if trigger.branch.is_some() && trigger.tag.is_some() {
                return Err(Error::usage(
                    "circleci trigger takes --branch or --tag, not both",
                ));
            }
            for raw in strings(p, "--param")? {
                let (k, v) =
                    parse_key_value(&raw).map_err(|e| Error::usage(format!("--param {e}")))?;
                trigger.parameters.insert(k, typed_parameter(&v));
            }
            for raw in strings(p, "--param-string")? {
                let (k, v) = parse_key_value(&raw)
                    .map_err(|e| Error::usage(format!("--param-string {e}")))?;
                trigger.parameters.insert(k, Value::String(v));
            }
            trigger.slug = optional_positional(p, &name)?;
            CircleciCommand::Trigger(trigger)
        }
        "status" | "wait" | "cancel" => {
            let pipeline = one_positional(p, &name, "PIPELINE_ID")?;
            match command {
                "status" => CircleciCommand::Status { pipeline },
                "wait" => CircleciCommand::Wait { pipeline },
                _ => CircleciCommand::Cancel { pipeline },
            }
        }
        "restart-latest" => {
            let branch = opt_string(p, "--branch")?;
            let from_failed = p.contains("--from-failed");
            let wait = p.contains("--wait");
            let force = p.contains("--force");
            CircleciCommand::RestartLatest {
                slug: optional_positional(p, &name)?,
                branch,
                from_failed,
                wait,
                force,
            }
        }
        other => return Err(unknown_command("circleci", other)),
    })
}

/// `true`/`false` become booleans and integers numbers, as CircleCI's typed pipeline
/// parameters expect; everything else stays a string (`--param-string` forces one).
pub fn typed_parameter(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match raw.parse::<i64>() {
            Ok(n) if !raw.starts_with('+') => Value::from(n),
            _ => Value::String(raw.to_string()),
        },
    }
}

/// `KEY=VALUE`: the value is everything after the first `=` and may itself contain `=`.
pub fn parse_key_value(raw: &str) -> std::result::Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.to_string(), value.to_string())),
        Some(_) => Err(format!("`{raw}`: the key before `=` is empty")),
        None => Err(format!("`{raw}`: expected KEY=VALUE")),
    }
}

fn read_var_file(path: &str) -> Result<Vec<(String, String)>> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        return Err(Error::usage(format!(
            "--var-file {path}: YAML is not supported; write the variables as a JSON object ({{\"KEY\": \"VALUE\"}}) or as KEY=VALUE lines"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("--var-file {path}: cannot read it: {e}")))?;
    parse_var_file(&text).map_err(|e| Error::usage(format!("--var-file {path}: {e}")))
}

/// A var file is a JSON object of scalars, or `KEY=VALUE` lines (blank lines and `#`
/// comments skipped). The Codefresh CLI accepts both spellings in the wild.
pub fn parse_var_file(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    if text.trim_start().starts_with('{') {
        // `Map` keeps the file's order only with serde_json's preserve_order feature;
        // sorted order is still deterministic, which is what the request needs.
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        return object
            .into_iter()
            .map(|(k, v)| match v {
                _ if k.trim().is_empty() => Err("a variable's name is empty".to_string()),
                Value::String(s) => Ok((k, s)),
                Value::Number(_) | Value::Bool(_) => Ok((k, v.to_string())),
                _ => Err(format!(
                    "the value of `{k}` must be a string, number or boolean"
                )),
            })
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(n, line)| parse_key_value(line.trim()).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// `250ms`, `10s`, `5m`, `1h`, or a bare number of seconds; a decimal (`1.5m`, `0.5`) as well.
pub fn parse_duration(raw: &str) -> std::result::Result<Duration, String> {
    parse_duration_with_unit(raw, 1)
}

/// Like [`parse_duration`], but a bare number counts `bare_unit_secs` seconds each.
/// Anything finer than a millisecond is dropped.
pub fn parse_duration_with_unit(
    raw: &str,
    bare_unit_secs: u64,
) -> std::result::Result<Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let bad =
        || format!("`{raw}` is not a duration: use 250ms, 10s, 5m, 1h or a number of seconds");
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(bad());
    }
    let millis_per: u64 = match unit {
        "" => bare_unit_secs.checked_mul(1000).ok_or_else(bad)?,
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let whole_millis = whole
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per))
        .ok_or_else(bad)?;
    // The fraction in millis: at most the first 9 digits count (nanosecond precision of
    // the unit, more than enough), computed in u128 so no unit can overflow it.
    let digits = &fraction[..fraction.len().min(9)];
    let fraction_millis = if digits.is_empty() {
        0
    } else {
        let scale = 10u128.pow(digits.len() as u32);
        let value: u128 = digits.parse().map_err(|_| bad())?;
        u64::try_from(value * u128::from(millis_per) / scale).map_err(|_| bad())?
    };
    whole_millis
        .checked_add(fraction_millis)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

fn duration_from_env(name: &str, default: &str) -> Result<Duration> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => {
            parse_duration(&raw).map_err(|e| Error::usage(format!("{name}: {e}")))
        }
        _ => Ok(parse_duration(default).expect("built-in default parses")),
    }
}

fn positive(d: Duration, what: &str) -> Result<Duration> {
    if d.is_zero() {
        return Err(Error::usage(format!("{what} must be greater than 0")));
    }
    Ok(d)
}

fn parse_output(flag: Option<String>, env: Option<String>) -> Result<OutputMode> {
    let (raw, source) = match (flag, env) {
        (Some(f), _) => (f, "--output"),
        (None, Some(e)) if !e.is_empty() => (e, "CIRELAY_OUTPUT"),
        _ => return Ok(OutputMode::Text),
    };
    match raw.as_str() {
        "text" => Ok(OutputMode::Text),
        "json" => Ok(OutputMode::Json),
        other => Err(Error::usage(format!(
            "{source}: `{other}` is not text or json"
        ))),
    }
}

pub fn env_flag(name: &str) -> Result<bool> {
    match std::env::var(name)
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "0" | "false" | "no" => Ok(false),
        "1" | "true" | "yes" => Ok(true),
        other => Err(Error::usage(format!("{name}: `{other}` is not 1 or 0"))),
    }
}

/// The first of `names` that is set to a non-empty value, with the name that supplied it
/// (errors name the variable the user actually set).
pub fn env_first(names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Some((*name, v.trim().to_string())),
        _ => None,
    })
}

fn opt_string<K: Into<pico_args::Keys>>(p: &mut Arguments, keys: K) -> Result<Option<String>> {
    p.opt_value_from_str(keys).map_err(pico_error)
}

fn strings<K: Into<pico_args::Keys> + Copy>(p: &mut Arguments, keys: K) -> Result<Vec<String>> {
    p.values_from_str(keys).map_err(pico_error)
}

fn pico_error(e: pico_args::Error) -> Error {
    Error::usage(format!("{e} (see --help)"))
}

/// What is left after the command's flags: positionals, or an unknown flag.
fn positionals(p: &mut Arguments, command: &str, max: usize) -> Result<Vec<String>> {
    let rest = std::mem::replace(p, Arguments::from_vec(Vec::new())).finish();
    let mut out = Vec::new();
    for arg in rest {
        let arg = arg
            .into_string()
            .map_err(|_| Error::usage(format!("{command}: an argument is not valid UTF-8")))?;
        if arg.starts_with('-') && arg.len() > 1 {
            return Err(Error::usage(format!(
                "unknown or repeated flag `{}` for `{command}` (see `cirelay {command} --help`)",
                arg.split('=').next().unwrap_or(&arg)
            )));
        }
        out.push(arg);
    }
    if out.len() > max {
        return Err(Error::usage(format!(
            "unexpected argument `{}` for `{command}` (see `cirelay {command} --help`)",
            out[max]
        )));
    }
    Ok(out)
}

fn one_positional(p: &mut Arguments, command: &str, what: &str) -> Result<String> {
    positionals(p, command, 1)?.pop().ok_or_else(|| {
        Error::usage(format!(
            "`{command}` needs {what} (see `cirelay {command} --help`)"
        ))
    })
}

fn optional_positional(p: &mut Arguments, command: &str) -> Result<Option<String>> {
    Ok(positionals(p, command, 1)?.pop())
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

fn unknown_command(provider: &str, command: &str) -> Error {
    Error::usage(format!(
        "unknown command `{provider} {command}` (see `cirelay {provider} --help`)"
    ))
}

const GLOBAL_HELP: &str = "\
GLOBAL OPTIONS (each also from an environment variable):
  --timeout DUR          limit for waiting on a downstream build; 0 = no limit [CIRELAY_TIMEOUT, 30m]
  --interval DUR         first poll interval, grows x1.5 per unchanged poll up to 60s [CIRELAY_INTERVAL, 5s]
  --request-timeout DUR  limit for one HTTP exchange [CIRELAY_REQUEST_TIMEOUT, 30s]
  --output text|json     text: the build id on stdout; json: one object at the end [CIRELAY_OUTPUT]
  --dry-run              print each request that would be sent (secrets redacted); send nothing
  --verbose              log each request to stderr [CIRELAY_VERBOSE=1]
  -h, --help             help for the binary, a provider, or a command
  -V, --version          print the version

DUR is 250ms, 10s, 5m, 1h, or a bare number of seconds.
EXIT CODES: 0 success, 1 build failed, 2 build terminated, 3 timeout, 4 usage/config error,
            5 API refused or answered something unusable, 6 API unreachable or trigger outcome unknown";

fn help_text(provider: Option<&str>, command: Option<&str>) -> Result<String> {
    let body = match (provider, command) {
        (None, _) => "\
cirelay: trigger, wait on, stop and restart builds on Codeship, Codefresh and CircleCI.

USAGE: cirelay [GLOBAL OPTIONS] <PROVIDER> <COMMAND> [ARGS]

PROVIDERS:
  codeship    restart-latest, trigger, status, wait, stop
  codefresh   run, wait, status, terminate, restart-latest
  circleci    trigger, status, wait, cancel, restart-latest

Called as `codeship_restart_build` it is `cirelay codeship restart-latest`;
called as `codefresh` it is `cirelay codefresh`.",
        (Some("codeship"), None) => "\
USAGE: cirelay codeship <COMMAND>

COMMANDS:
  restart-latest [--branch B] [--wait] [--force]   restart the newest build of the branch
  trigger [--branch B] [--sha SHA] [--detach]      start a build (API v2)
  status BUILD | wait BUILD | stop BUILD           one build by uuid (API v2)

API v1: CODESHIP_API_KEY, CODESHIP_API_PROJECT_ID, CODESHIP_API_BRANCH.
API v2 (used when a user and password are set): CODESHIP_API_USER, CODESHIP_API_PASSWORD,
CODESHIP_API_ORG, CODESHIP_API_PROJECT_UUID, CODESHIP_API_BRANCH (and the legacy names).
CODESHIP_API_URL overrides the API host.",
        (Some("codeship"), Some("restart-latest")) => "\
USAGE: cirelay codeship restart-latest [--branch B] [--wait] [--force]
       codeship_restart_build [--branch B] [--wait] [--force]

Finds the newest build of the branch and restarts it; prints the new build's id on stdout.
  --branch B   the branch [default: CODESHIP_API_BRANCH]
  --wait       wait for the restarted build and exit by its result
  --force      restart even the build this command runs in (CI_BUILD_ID)",
        (Some("codeship"), Some("trigger")) => "\
USAGE: cirelay codeship trigger [--branch B] [--sha SHA] [--detach]

Starts a build of the branch (API v2) and waits for it unless --detach.
  --branch B   the branch [default: CODESHIP_API_BRANCH]
  --sha SHA    build this commit of the branch
  --detach     print the build's uuid and exit 0 without waiting",
        (Some("codeship"), Some("status" | "wait" | "stop")) => "\
USAGE: cirelay codeship status BUILD | wait BUILD | stop BUILD

status prints the build's status; wait waits until it finishes and exits by its result;
stop stops it. BUILD is the build's uuid (API v2).",
        (Some("codefresh"), None) => "\
USAGE: cirelay codefresh <COMMAND>     (or `codefresh <COMMAND>` via the multi-call name)

COMMANDS:
  run PIPELINE [flags]                  start a pipeline build and wait for it
  wait ID... [-s S] [-t N]              wait until every build reaches S [success]
  status ID                             print a build's status
  terminate ID                          terminate a build
  restart-latest PIPELINE [-b B] [--wait]  rebuild the newest build of the pipeline

ENV: CF_API_KEY (required), CF_URL [https://g.codefresh.io], CF_BUILD_ID (annotates runs).",
        (Some("codefresh"), Some("run")) => "\
USAGE: codefresh run PIPELINE [-b BRANCH] [-s SHA] [-t TRIGGER] [-v KEY=VALUE]... [--var-file FILE]
       [-c CONTEXT]... [--no-cache] [--no-cf-cache] [--reset-volume] [--enable-notifications]
       [--skip STEP]... [--only STEP]... [-d|--detach] [--terminate-on-timeout]

Starts PIPELINE (`project/pipeline` or its id) and waits for the build: exit 0 success,
1 error, 2 terminated, 3 timeout. A variable's value is everything after the first `=`.
--var-file is a JSON object or KEY=VALUE lines; -v overrides it.",
        (Some("codefresh"), Some("wait")) => "\
USAGE: codefresh wait ID... [-s|--status S] [-t|--timeout N]

Waits until every build reaches status S (default success). Under the `codefresh` name a bare
number given to -t/--timeout counts minutes (0.5 too), as in the Codefresh CLI; 90s or 5m mean
what they say. The Codefresh CLI's -v/-d/--debug are accepted: each status change is always shown.",
        (Some("codefresh"), Some("status" | "terminate")) => "\
USAGE: codefresh status ID | terminate ID",
        (Some("codefresh"), Some("restart-latest")) => "\
USAGE: codefresh restart-latest PIPELINE [-b BRANCH] [--wait]

Rebuilds the newest build of PIPELINE (on BRANCH when given) and prints the new build's id.",
        (Some("circleci"), None) => "\
USAGE: cirelay circleci <COMMAND>

COMMANDS:
  trigger [SLUG] [--branch B | --tag T] [--param K=V]... [--param-string K=V]...
          [--definition-id UUID] [--detach]
  status PIPELINE_ID | wait PIPELINE_ID | cancel PIPELINE_ID
  restart-latest [SLUG] [--branch B] [--from-failed] [--wait] [--force]

ENV: CIRCLE_TOKEN (or CIRCLECI_TOKEN), CIRCLECI_HOST [https://circleci.com].
Inside a CircleCI job SLUG defaults to gh/$CIRCLE_PROJECT_USERNAME/$CIRCLE_PROJECT_REPONAME
and the branch to $CIRCLE_BRANCH.",
        (Some("circleci"), Some("trigger")) => "\
USAGE: cirelay circleci trigger [SLUG] [--branch B | --tag T] [--param K=V]... [--param-string K=V]...
       [--definition-id UUID] [--detach]

Starts a pipeline and waits until every workflow finished: exit 0 when all succeeded.
--param values true/false become booleans and integers numbers; --param-string keeps a string.",
        (Some("circleci"), Some("status" | "wait" | "cancel")) => "\
USAGE: cirelay circleci status PIPELINE_ID | wait PIPELINE_ID | cancel PIPELINE_ID",
        (Some("circleci"), Some("restart-latest")) => "\
USAGE: cirelay circleci restart-latest [SLUG] [--branch B] [--from-failed] [--wait] [--force]

Reruns the workflows of the newest pipeline on the branch.",
        (Some(p @ ("codeship" | "codefresh" | "circleci")), Some(c)) => {
            return Err(unknown_command(p, c))
        }
        (Some(other), _) => {
            return Err(Error::usage(format!(
                "unknown provider `{other}`: use codeship, codefresh or circleci"
            )))
        }
    };
    Ok(format!("{body}\n\n{GLOBAL_HELP}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn command(p: Personality, list: &[&str]) -> Command {
        match parse(p, args(list)).unwrap() {
            Action::Run(_, c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("42"), Ok(Duration::from_secs(42)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration_with_unit("3", 60),
            Ok(Duration::from_secs(180))
        );
        assert_eq!(
            parse_duration_with_unit("90s", 60),
            Ok(Duration::from_secs(90))
        );
        // Found by fuzzing: a bare unit too large for milliseconds overflowed.
        assert!(parse_duration_with_unit("737464438981918716", 71_788_209_565_797_119).is_err());
        assert!(parse_duration_with_unit("1", u64::MAX / 999).is_err());
        assert_eq!(
            parse_duration_with_unit("0", u64::MAX / 1000),
            Ok(Duration::ZERO)
        );
        // Decimals, as the Codefresh CLI's `wait -t 0.5` (minutes) allows.
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(
            parse_duration_with_unit("0.5", 60),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(parse_duration("1.0005s"), Ok(Duration::from_millis(1000)));
        assert_eq!(
            parse_duration("2.999999999999999999999h"),
            Ok(Duration::from_millis(3 * 3_600_000 - 1))
        );
        for bad in [
            "",
            "s",
            "5x",
            "-1",
            ".5",
            "5.",
            "1.2.3",
            "1.5.m",
            "5 m",
            "99999999999999999999",
            "18446744073709551615h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn key_values_split_at_the_first_equals() {
        assert_eq!(parse_key_value("A=b=c d"), Ok(("A".into(), "b=c d".into())));
        assert_eq!(parse_key_value("A="), Ok(("A".into(), "".into())));
        assert!(parse_key_value("A").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    #[test]
    fn var_files() {
        let json = parse_var_file(r#"{"A": "1=2", "B": 3, "C": true}"#).unwrap();
        assert_eq!(
            json,
            vec![
                ("A".into(), "1=2".into()),
                ("B".into(), "3".into()),
                ("C".into(), "true".into())
            ]
        );
        let lines = parse_var_file("# c\nA=x y\n\nB=\n").unwrap();
        assert_eq!(
            lines,
            vec![("A".into(), "x y".into()), ("B".into(), "".into())]
        );
        assert!(parse_var_file("{\"A\": [1]}").is_err());
        assert!(parse_var_file("{broken").is_err());
        assert!(parse_var_file("NOEQUALS").unwrap_err().contains("line 1"));
        // Found by fuzzing: a JSON file could name a variable with nothing.
        for blank in [r#"  {"": "x", "K": 1.5e3}"#, r#"{"A": "1", " ": true}"#] {
            assert!(
                parse_var_file(blank).unwrap_err().contains("name is empty"),
                "{blank}"
            );
        }
    }

    #[test]
    fn typed_parameters() {
        assert_eq!(typed_parameter("true"), Value::Bool(true));
        assert_eq!(typed_parameter("false"), Value::Bool(false));
        assert_eq!(typed_parameter("-12"), Value::from(-12));
        assert_eq!(typed_parameter("+12"), Value::from("+12"));
        assert_eq!(typed_parameter("1.5"), Value::from("1.5"));
        assert_eq!(typed_parameter("True"), Value::from("True"));
    }

    #[test]
    fn multi_call_names() {
        assert_eq!(
            Personality::from_argv0("/usr/bin/codefresh"),
            Personality::Codefresh
        );
        assert_eq!(
            Personality::from_argv0("codeship_restart_build"),
            Personality::CodeshipRestartBuild
        );
        assert_eq!(Personality::from_argv0("./cirelay"), Personality::Cirelay);
    }

    #[test]
    fn codefresh_seed_line_and_equals_forms() {
        let c = command(
            Personality::Codefresh,
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
        let Command::Codefresh(CodefreshCommand::Run(run)) = c else {
            panic!()
        };
        assert_eq!(run.pipeline, "proj/pipeB");
        assert_eq!(run.branch.as_deref(), Some("main"));
        assert_eq!(run.trigger.as_deref(), Some("trig"));
        assert_eq!(
            run.variables,
            vec![("A".into(), "1=2".into()), ("B".into(), "x y".into())]
        );
        assert!(run.detach);
    }

    #[test]
    fn globals_anywhere() {
        let a = parse(
            Personality::Cirelay,
            args(&[
                "codeship",
                "restart-latest",
                "--timeout=0",
                "--branch",
                "dev",
                "--interval",
                "250ms",
            ]),
        )
        .unwrap();
        let Action::Run(g, c) = a else { panic!() };
        assert_eq!(g.timeout, None);
        assert_eq!(g.interval, Duration::from_millis(250));
        assert_eq!(
            *c,
            Command::Codeship(CodeshipCommand::RestartLatest {
                branch: Some("dev".into()),
                wait: false,
                force: false
            })
        );
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
            let Action::Run(g, c) = parse(Personality::Cirelay, args(line)).unwrap() else {
                panic!("{line:?}")
            };
            assert!(g.verbose && g.output == OutputMode::Json, "{line:?}");
            assert_eq!(
                *c,
                Command::Codeship(CodeshipCommand::RestartLatest {
                    branch: None,
                    wait: true,
                    force: false
                }),
                "{line:?}"
            );
        }
    }

    #[test]
    fn codefresh_wait_timeout_counts_minutes_only_under_its_name() {
        let minutes = parse(Personality::Codefresh, args(&["wait", "-t", "2", "abc"])).unwrap();
        let Action::Run(g, _) = minutes else { panic!() };
        assert_eq!(g.timeout, Some(Duration::from_secs(120)));
        let unit = parse(
            Personality::Codefresh,
            args(&["wait", "--timeout", "90s", "abc"]),
        )
        .unwrap();
        let Action::Run(g, _) = unit else { panic!() };
        assert_eq!(g.timeout, Some(Duration::from_secs(90)));
        let seconds = parse(
            Personality::Cirelay,
            args(&["codefresh", "wait", "--timeout", "2", "abc"]),
        )
        .unwrap();
        let Action::Run(g, _) = seconds else { panic!() };
        assert_eq!(g.timeout, Some(Duration::from_secs(2)));
        // A Codefresh CLI line with fractional minutes and its "show progress" flags.
        let line = parse(
            Personality::Codefresh,
            args(&["wait", "abc", "-t", "0.5", "-v", "-d", "--debug"]),
        )
        .unwrap();
        let Action::Run(g, c) = line else { panic!() };
        assert_eq!(g.timeout, Some(Duration::from_secs(30)));
        assert_eq!(
            *c,
            Command::Codefresh(CodefreshCommand::Wait {
                ids: vec!["abc".into()],
                status: "success".into()
            })
        );
    }

    #[test]
    fn unknown_flags_and_missing_arguments_are_usage_errors() {
        for bad in [
            &["codeship", "restart-latest", "--brnach", "x"][..],
            &["codefresh", "run"],
            &["codefresh", "run", "p", "-v", "NOEQUALS"],
            &["circleci", "trigger", "--branch", "a", "--tag", "b"],
            &["circleci", "trigger", "a", "b"],
            &["nosuch", "x"],
            &["codeship", "nosuch"],
            &[],
            &["codeship", "restart-latest", "--interval", "0"],
            &["codeship", "restart-latest", "--output", "yaml"],
        ] {
            let err = parse(Personality::Cirelay, args(bad)).unwrap_err();
            assert_eq!(err.exit_code(), 4, "{bad:?}: {err}");
        }
    }

    #[test]
    fn circleci_parameters_are_typed() {
        let c = command(
            Personality::Cirelay,
            &[
                "circleci",
                "trigger",
                "gh/o/r",
                "--param",
                "deploy=true",
                "--param",
                "n=3",
                "--param-string",
                "s=3",
            ],
        );
        let Command::Circleci(CircleciCommand::Trigger(t)) = c else {
            panic!()
        };
        assert_eq!(t.slug.as_deref(), Some("gh/o/r"));
        assert_eq!(t.parameters["deploy"], Value::Bool(true));
        assert_eq!(t.parameters["n"], Value::from(3));
        assert_eq!(t.parameters["s"], Value::from("3"));
    }

    #[test]
    fn help_as_a_word() {
        for (line, wanted) in [
            (&["help"][..], "PROVIDERS:"),
            (&["help", "circleci"], "COMMANDS:"),
            (&["help", "codefresh", "run"], "--terminate-on-timeout"),
            (&["circleci", "help"], "COMMANDS:"),
            (&["codeship", "help", "trigger"], "--sha SHA"),
        ] {
            match parse(Personality::Cirelay, args(line)).unwrap() {
                Action::Help(h) => assert!(h.contains(wanted), "{line:?}: {h}"),
                other => panic!("{line:?}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(Personality::Codefresh, args(&["help", "wait"])).unwrap(),
            Action::Help(h) if h.contains("counts minutes")
        ));
        assert!(parse(Personality::Cirelay, args(&["help", "nosuch"])).is_err());
    }

    #[test]
    fn a_commands_flag_before_the_command_says_where_it_goes() {
        for line in [
            &["--branch", "main", "codeship", "restart-latest"][..],
            &["codeship", "--branch=main", "restart-latest"],
        ] {
            let err = parse(Personality::Cirelay, args(line)).unwrap_err();
            assert_eq!(err.exit_code(), 4);
            let msg = err.to_string();
            assert!(msg.contains("`--branch` is not a global option"), "{msg}");
            assert!(msg.contains("after the command"), "{msg}");
        }
        let err = parse(Personality::Cirelay, args(&["codeship"])).unwrap_err();
        assert!(err.to_string().contains("missing command"), "{err}");
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(
            parse(Personality::Cirelay, args(&["--help"])).unwrap(),
            Action::Help(_)
        ));
        assert!(matches!(
            parse(Personality::Cirelay, args(&["codefresh", "run", "-h"])).unwrap(),
            Action::Help(h) if h.contains("--terminate-on-timeout")
        ));
        assert!(matches!(
            parse(Personality::Cirelay, args(&["-V"])).unwrap(),
            Action::Version
        ));
    }
}
