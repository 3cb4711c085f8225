//! `--help` for the binary, a provider and a command, and the README's reference tables:
//! all made from the flag definitions and the provider registry.

use std::fmt::Write as _;

use super::flags::{Flag, GLOBAL, SETTINGS};
use super::{unknown_command, unknown_provider};
use crate::error::Result;
use crate::provider::{self, Command, Entry, MULTI_CALL, PROVIDERS};

/// The help page for `cirelay [PROVIDER [COMMAND]]`.
pub fn text(provider: Option<&str>, command: Option<&str>) -> Result<String> {
    let body = match (provider, command) {
        (None, _) => binary(),
        (Some(name), _) if provider::find(name).is_none() && super::across(name).is_some() => {
            across_page(super::across(name).expect("just found"))
        }
        (Some(name), None) => {
            let entry = provider::find(name).ok_or_else(|| unknown_provider(name))?;
            provider_page(entry)
        }
        (Some(name), Some(command)) => {
            let entry = provider::find(name).ok_or_else(|| unknown_provider(name))?;
            let command = entry
                .command(command)
                .ok_or_else(|| unknown_command(name, command))?;
            command_page(entry, command)
        }
    };
    Ok(format!("{body}\n\n{}", global_options()))
}

fn binary() -> String {
    let mut out = String::from(
        "cirelay: trigger, wait on, stop and restart builds on other CI systems from a CI step.\n\n\
         USAGE: cirelay [GLOBAL OPTIONS] <PROVIDER> <COMMAND> [ARGS]\n\nPROVIDERS:\n",
    );
    let width = PROVIDERS.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in PROVIDERS {
        let commands: Vec<&str> = p.commands.iter().map(|c| c.name).collect();
        let _ = writeln!(out, "  {:width$}  {}", p.name, commands.join(", "));
    }
    out.push_str("\nACROSS PROVIDERS (REF: a build's web address, or PROVIDER:ID):\n");
    let line = |c: &Command| {
        let args: Vec<String> = c.args.iter().map(|a| a.usage()).collect();
        format!("{} {}", c.name, args.join(" "))
    };
    let width = crate::several::COMMANDS
        .iter()
        .map(|c| line(c).len())
        .max()
        .unwrap_or(0);
    for c in crate::several::COMMANDS {
        let _ = writeln!(out, "  {:width$}  {}", line(c), c.about);
    }
    out.push('\n');
    for (name, words) in MULTI_CALL {
        let _ = writeln!(
            out,
            "Called as `{name}` it is `cirelay {}`.",
            words.join(" ")
        );
    }
    out.push_str("`cirelay help PROVIDER [COMMAND]` and `cirelay help wait` tell more.");
    out
}

/// A command that takes builds of any providers (`cirelay wait REF…`).
fn across_page(c: &Command) -> String {
    let mut out = format!(
        "USAGE: cirelay {} {}\n\n{}\n\n{}",
        c.name,
        c.usage(),
        sentence(c.about),
        c.details
    );
    if !c.flags.is_empty() {
        out.push_str("\n\nOPTIONS:\n");
        out.push_str(&flag_list(c.flags));
    }
    let _ = write!(out, "\nEXAMPLE:\n  {}", c.example);
    out
}

fn provider_page(p: &Entry) -> String {
    let mut out = format!(
        "USAGE: cirelay {} <COMMAND>{}\n\nCOMMANDS:\n",
        p.name,
        multi_call_note(p)
    );
    let width = p.commands.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in p.commands {
        let _ = writeln!(out, "  {:width$}  {}", c.name, c.about);
    }
    out.push_str("\nENV:\n");
    out.push_str(&env_list(p.env.iter().map(|e| (e.name, e.help))));
    out.trim_end().to_string()
}

fn command_page(p: &Entry, c: &Command) -> String {
    let mut out = format!("USAGE: cirelay {} {} {}", p.name, c.name, c.usage());
    for (name, words) in MULTI_CALL {
        let stands_for = match words {
            [provider] => *provider == p.name,
            [provider, command] => *provider == p.name && *command == c.name,
            _ => false,
        };
        if stands_for {
            let shown = if words.len() == 2 {
                format!("{name} {}", c.usage())
            } else {
                format!("{name} {} {}", c.name, c.usage())
            };
            let _ = write!(out, "\n       {}", shown.trim_end());
        }
    }
    let _ = write!(out, "\n\n{}\n\n{}", sentence(c.about), c.details);
    let aliases = p.aliases_of(c.name);
    if !aliases.is_empty() {
        let _ = write!(out, "\nAlso as: {}.", aliases.join(", "));
    }
    if !c.flags.is_empty() {
        out.push_str("\n\nOPTIONS:\n");
        out.push_str(&flag_list(c.flags));
    }
    out.push_str("\nENV:\n");
    out.push_str(&env_list(
        p.env.iter().chain(c.env.iter()).map(|e| (e.name, e.help)),
    ));
    let _ = write!(out, "\nEXAMPLE:\n  {}", c.example);
    out
}

/// `restart the newest build` → `Restarts the newest build.`: the about line as a sentence.
fn sentence(about: &str) -> String {
    let mut chars = about.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

fn multi_call_note(p: &Entry) -> String {
    MULTI_CALL
        .iter()
        .find(|(_, words)| words == &[p.name])
        .map(|(name, _)| format!("     (or `{name} <COMMAND>` via the multi-call name)"))
        .unwrap_or_default()
}

fn flag_list(flags: &[Flag]) -> String {
    let rows: Vec<(String, String)> = flags
        .iter()
        .map(|f| {
            let mut help = f.help.to_string();
            match (f.env, f.default) {
                (Some(env), Some(default)) => {
                    let _ = write!(help, " [{env}, {default}]");
                }
                (Some(env), None) => {
                    let _ = write!(help, " [{env}]");
                }
                (None, Some(default)) => {
                    let _ = write!(help, " [default: {default}]");
                }
                (None, None) => {}
            }
            (f.names(), help)
        })
        .collect();
    table(&rows)
}

fn env_list<'a>(vars: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let rows: Vec<(String, String)> = vars.map(|(n, h)| (n.to_string(), h.to_string())).collect();
    table(&rows)
}

fn table(rows: &[(String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (left, right) in rows {
        let pad = width - left.chars().count();
        let _ = writeln!(out, "  {left}{}  {right}", " ".repeat(pad));
    }
    out
}

fn global_options() -> String {
    let mut out = String::from("GLOBAL OPTIONS (each also from an environment variable):\n");
    out.push_str(&flag_list(GLOBAL));
    let settings: Vec<(String, String)> = SETTINGS
        .iter()
        .map(|s| (s.env.to_string(), format!("{} [{}]", s.help, s.default)))
        .collect();
    out.push_str(&table(&settings));
    out.push_str(
        "\nDUR is 250ms, 10s, 5m, 1h, or a bare number of seconds.\n\
         EXIT CODES: 0 success, 1 build failed, 2 build terminated, 3 timeout, 4 usage/config error,\n            \
         5 API refused or answered something unusable, 6 API unreachable or trigger outcome unknown",
    );
    out
}

/// Where the README's generated reference starts and ends.
pub const README_START: &str =
    "<!-- reference: generated from the flag definitions (src/cli); `CIRELAY_BLESS_README=1 cargo test readme` rewrites it -->";
pub const README_END: &str = "<!-- end of the generated reference -->";

/// The README's reference: the providers, the global options table and, per provider, its
/// variables and each command's usage, options and variables. A test keeps the README's
/// copy equal to this.
pub fn markdown_reference() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("### Providers\n\n| provider | commands |\n|---|---|\n");
    for p in PROVIDERS {
        let commands: Vec<String> = p.commands.iter().map(|c| format!("`{}`", c.name)).collect();
        let _ = writeln!(out, "| `{}` | {} |", p.name, commands.join(", "));
    }
    for (name, words) in MULTI_CALL {
        let _ = writeln!(
            out,
            "\nCalled as `{name}`, the binary is `cirelay {}`.",
            words.join(" ")
        );
    }
    out.push_str(
        "\n### Global options\n\n| option | env | default | meaning |\n|---|---|---|---|\n",
    );
    for f in GLOBAL {
        let default = match (f.default, f.value) {
            (Some(d), _) => format!("`{d}`"),
            (None, None) if f.env.is_some() => "off".to_string(),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {default} | {} |",
            cell(&f.names()),
            f.env.map(|e| format!("`{e}`")).unwrap_or_default(),
            cell(f.help)
        );
    }
    for s in SETTINGS {
        let _ = writeln!(out, "| | `{}` | {} | {} |", s.env, s.default, cell(s.help));
    }
    out.push_str(
        "\n### Across providers\n\nREF is a build's web address (as in `$CIRELAY_BUILD_URL`) or `PROVIDER:ID`.\n",
    );
    for c in crate::several::COMMANDS {
        let _ = write!(
            out,
            "\n`cirelay {} {}`\n\n{}.\n",
            c.name,
            c.usage(),
            sentence(c.about).trim_end_matches('.')
        );
        command_options(&mut out, c);
    }
    for p in PROVIDERS {
        let _ = write!(out, "\n### `cirelay {}`\n\n", p.name);
        out.push_str("| variable | meaning |\n|---|---|\n");
        for e in p.env {
            let _ = writeln!(out, "| `{}` | {} |", e.name, cell(e.help));
        }
        for c in p.commands {
            let _ = write!(
                out,
                "\n`{} {} {}`\n\n{}.\n",
                p.name,
                c.name,
                c.usage(),
                sentence(c.about).trim_end_matches('.')
            );
            command_options(&mut out, c);
        }
    }
    out
}

/// A command's options and variables as a table, if it has any.
fn command_options(out: &mut String, c: &Command) {
    let cell = |s: &str| s.replace('|', "\\|");
    if c.flags.is_empty() && c.env.is_empty() {
        return;
    }
    out.push_str("\n| option or variable | meaning |\n|---|---|\n");
    for f in c.flags {
        let mut help = cell(f.help);
        if let Some(d) = f.default {
            let _ = write!(help, " (default `{d}`)");
        }
        if let Some(env) = f.env {
            let _ = write!(help, " (env `{env}`)");
        }
        let _ = writeln!(out, "| `{}` | {help} |", cell(&f.names()));
    }
    for e in c.env {
        let _ = writeln!(out, "| `{}` | {} |", e.name, cell(e.help));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_across_providers_have_pages_and_are_listed() {
        let top = text(None, None).unwrap();
        for c in crate::several::COMMANDS {
            let page = text(Some(c.name), None).unwrap();
            assert!(page.contains("EXAMPLE:"), "{}", c.name);
            assert!(
                top.contains(&format!("  {} {}", c.name, c.args[0].usage())),
                "{top}"
            );
        }
    }

    #[test]
    fn every_command_has_a_page_naming_its_variables_and_an_example() {
        for p in PROVIDERS {
            for c in p.commands {
                let page = text(Some(p.name), Some(c.name)).unwrap();
                assert!(page.contains("EXAMPLE:"), "{} {}", p.name, c.name);
                for e in p.env.iter().chain(c.env) {
                    assert!(page.contains(e.name), "{} {}: {}", p.name, c.name, e.name);
                }
                for f in c.flags {
                    assert!(
                        page.contains(&f.names()),
                        "{} {}: {}",
                        p.name,
                        c.name,
                        f.long
                    );
                }
            }
        }
    }

    /// The README's reference is the definitions: it cannot drift from what the binary
    /// parses. After changing a flag or command, `CIRELAY_BLESS_README=1 cargo test readme`
    /// rewrites it.
    #[test]
    fn the_readme_reference_is_made_from_the_definitions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let start = readme
            .find(README_START)
            .expect("the README has the reference's start marker");
        let end = readme
            .find(README_END)
            .expect("the README has the reference's end marker");
        let body_start = start + README_START.len();
        let written = readme[body_start..end].trim();
        let wanted = markdown_reference();
        if written == wanted.trim() {
            return;
        }
        if std::env::var_os("CIRELAY_BLESS_README").is_some() {
            let updated = format!(
                "{}\n\n{}\n\n{}",
                &readme[..body_start],
                wanted.trim(),
                &readme[end..]
            );
            std::fs::write(path, updated).expect("write README.md");
            return;
        }
        panic!(
            "README.md's generated reference differs from the flag definitions; run `CIRELAY_BLESS_README=1 cargo test readme` and review the change"
        );
    }

    #[test]
    fn the_global_help_names_every_setting() {
        let page = text(None, None).unwrap();
        for var in ["CIRELAY_TIMEOUT", "CIRELAY_RETRIES", "CIRELAY_ALLOW_HTTP"] {
            assert!(page.contains(var), "{var}");
        }
    }
}
