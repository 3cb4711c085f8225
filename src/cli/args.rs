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

    /// `[REF...]`: any number, none too.
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
/// `spec`, or an unknown flag (with the nearest of `flags` it may have meant).
pub fn take_positionals(
    p: Arguments,
    command: &str,
    spec: &[Arg],
    flags: &[Flag],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for arg in p.finish() {
        let arg = arg
            .into_string()
            .map_err(|_| Error::usage(format!("{command}: an argument is not valid UTF-8")))?;
        if arg.starts_with('-') && arg.len() > 1 {
            let flag = arg.split('=').next().unwrap_or(&arg);
            let hint = nearest(flag, flags)
                .map(|f| format!("; did you mean `{f}`?"))
                .unwrap_or_default();
            return Err(Error::usage(format!(
                "unknown or repeated flag `{flag}` for `{command}`{hint} (see `cirelay {command} --help`)"
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

/// The flag `typed` most likely means: one or two letters off (`--branchh`, `--brnach`).
fn nearest(typed: &str, flags: &[Flag]) -> Option<&'static str> {
    flags
        .iter()
        .flat_map(|f| [Some(f.long), f.short])
        .flatten()
        .filter(|name| name.len() > 2)
        .map(|name| (distance(typed, name), name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

pub fn pico_error(e: pico_args::Error) -> Error {
    Error::usage(format!("{e} (see --help)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::flags::{BRANCH, GLOBAL, WAIT};

    #[test]
    fn a_flag_one_or_two_letters_off_is_named() {
        let flags = [BRANCH, WAIT];
        assert_eq!(nearest("--branchh", &flags), Some("--branch"));
        assert_eq!(nearest("--brnach", &flags), Some("--branch"));
        assert_eq!(nearest("--wiat", &flags), Some("--wait"));
        assert_eq!(nearest("--timout", GLOBAL), Some("--timeout"));
        assert_eq!(nearest("--color", &flags), None);
    }
}
