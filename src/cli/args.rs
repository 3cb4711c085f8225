//! A command's arguments as parsed from its flag definitions: values by flag, switches, and
//! the positional arguments left over. Providers read them by the flag's long name, which
//! the definitions guarantee exists.

use pico_args::Arguments;

use super::flags::Flag;
use crate::error::{Error, Result};

/// A positional argument as usage shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub required: bool,
    /// Takes every remaining argument (`ID...`).
    pub many: bool,
}

impl Arg {
    pub const fn required(name: &'static str) -> Self {
        Arg {
            name,
            required: true,
            many: false,
        }
    }

    pub const fn optional(name: &'static str) -> Self {
        Arg {
            name,
            required: false,
            many: false,
        }
    }

    pub const fn many(name: &'static str) -> Self {
        Arg {
            name,
            required: true,
            many: true,
        }
    }

    /// Any number, none too (`[ID...]`).
    pub const fn optional_many(name: &'static str) -> Self {
        Arg {
            name,
            required: false,
            many: true,
        }
    }

    /// `PIPELINE`, `[SLUG]`, `ID...`.
    pub fn usage(&self) -> String {
        match (self.required, self.many) {
            (true, true) => format!("{}...", self.name),
            (false, true) => format!("[{}...]", self.name),
            (true, false) => self.name.to_string(),
            (false, false) => format!("[{}]", self.name),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// Each value given, under its flag's long name, in the order given.
    values: Vec<(&'static str, String)>,
    switches: Vec<&'static str>,
    pub positionals: Vec<String>,
}

impl Args {
    /// The value of a flag given once (the last one, were it given twice).
    pub fn value(&self, long: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(l, _)| *l == long)
            .map(|(_, v)| v.as_str())
    }

    /// The value, unless it is empty or only spaces (an unset CI variable interpolated).
    pub fn given(&self, long: &str) -> Option<&str> {
        self.value(long).filter(|v| !v.trim().is_empty())
    }

    /// Every value of a repeatable flag, in order.
    pub fn values(&self, long: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(l, _)| *l == long)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn on(&self, long: &str) -> bool {
        self.switches.contains(&long)
    }

    pub fn positional(&self, i: usize) -> Option<&str> {
        self.positionals.get(i).map(String::as_str)
    }

    /// For tests and for commands built from other commands (a fan-out plan).
    pub fn with_value(mut self, long: &'static str, value: &str) -> Self {
        self.values.push((long, value.to_string()));
        self
    }

    pub fn with_switch(mut self, long: &'static str) -> Self {
        self.switches.push(long);
        self
    }
}

/// Takes `flags` off the line wherever they stand.
pub fn take_flags(p: &mut Arguments, flags: &[Flag]) -> Result<Args> {
    let mut args = Args::default();
    for flag in flags {
        match (flag.value, flag.short) {
            (Some(_), short) => {
                let found: Vec<String> = match short {
                    Some(short) => p.values_from_str([short, flag.long]),
                    None => p.values_from_str(flag.long),
                }
                .map_err(pico_error)?;
                if found.len() > 1 && !flag.repeats {
                    return Err(Error::usage(format!(
                        "{} was given {} times; give it once (see --help)",
                        flag.long,
                        found.len()
                    )));
                }
                args.values
                    .extend(found.into_iter().map(|v| (flag.long, v)));
            }
            (None, short) => {
                let on = match short {
                    Some(short) => p.contains([short, flag.long]),
                    None => p.contains(flag.long),
                };
                if on {
                    args.switches.push(flag.long);
                }
            }
        }
    }
    Ok(args)
}

/// What is left after the command's flags: its positional arguments, checked against
/// `spec`, or an unknown flag.
pub fn take_positionals(p: Arguments, command: &str, spec: &[Arg]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for arg in p.finish() {
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
    let max = if spec.iter().any(|a| a.many) {
        usize::MAX
    } else {
        spec.len()
    };
    if out.len() > max {
        return Err(Error::usage(format!(
            "unexpected argument `{}` for `{command}` (see `cirelay {command} --help`)",
            out[max]
        )));
    }
    if let Some(missing) = spec.iter().filter(|a| a.required).nth(out.len()) {
        return Err(Error::usage(format!(
            "`{command}` needs {} (see `cirelay {command} --help`)",
            missing.name
        )));
    }
    Ok(out)
}

pub fn pico_error(e: pico_args::Error) -> Error {
    Error::usage(format!("{e} (see --help)"))
}
