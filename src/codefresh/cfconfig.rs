//! `~/.cfconfig`, the Codefresh CLI's authentication contexts, so that a workstation set up
//! for that CLI works unchanged: without `CF_API_KEY` the file's current context is used, and
//! `codefresh auth create-context` writes it as the Codefresh CLI does (YAML: `contexts` by
//! name, each `type: APIKey` with `name`, `url`, `token`, `beta`, `onPrem`, and
//! `current-context`), readable by its owner only.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::cli::env_first;
use crate::error::{Error, Result};

/// Names the file instead of `$HOME/.cfconfig`, as in the Codefresh CLI.
pub const FILE_VAR: &str = "CFCONFIG";
/// The kind of context a key makes; the Codefresh CLI also knows `JWT` (a browser login).
const API_KEY_TYPE: &str = "APIKey";
/// A config file is a few contexts; anything larger is not one.
const MAX_SIZE: u64 = 1 << 20;

/// One context: where it points and the key it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub url: String,
    pub token: String,
}

/// `$CFCONFIG`, else `$HOME/.cfconfig`; `None` without a home.
pub fn path() -> Option<PathBuf> {
    if let Some((_, path)) = env_first(&[FILE_VAR]) {
        return Some(PathBuf::from(path));
    }
    env_first(&["HOME"]).map(|(_, home)| Path::new(&home).join(".cfconfig"))
}

/// The current context of the file, or `None` when there is no file or it names none.
pub fn current() -> Result<Option<Context>> {
    let Some(path) = path() else {
        return Ok(None);
    };
    let Some(config) = load(&path)? else {
        return Ok(None);
    };
    current_of(&config, &path.display().to_string())
}

/// The current context of a parsed file; `file` names it in errors.
pub fn current_of(config: &Value, file: &str) -> Result<Option<Context>> {
    let Some(name) = config
        .get("current-context")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let bad = |why: &str| {
        Error::usage(format!(
            "{file}: the current context `{name}` {why}: run `codefresh auth create-context --api-key KEY`, or set CF_API_KEY"
        ))
    };
    let context = config
        .get("contexts")
        .and_then(|c| c.get(name))
        .ok_or_else(|| bad("is not among its contexts"))?;
    let kind = context.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != API_KEY_TYPE {
        return Err(bad(&format!(
            "is of type `{kind}`, and cirelay uses API keys (type {API_KEY_TYPE}) only"
        )));
    }
    let token = context
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad("has no token"))?;
    let url = context
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
        .unwrap_or(super::api::DEFAULT_URL);
    Ok(Some(Context {
        name: name.to_string(),
        url: url.to_string(),
        token: token.trim().to_string(),
    }))
}

/// The file as YAML, `None` when it does not exist. Whatever is in it beyond the contexts is
/// kept when it is written back.
fn load(path: &Path) -> Result<Option<Value>> {
    let shown = path.display();
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::usage(format!("cannot read {shown}: {e}"))),
    };
    let mut text = String::new();
    file.take(MAX_SIZE + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::usage(format!("cannot read {shown}: {e}")))?;
    if text.len() as u64 > MAX_SIZE {
        return Err(Error::usage(format!(
            "{shown} is larger than 1 MiB: it is not a Codefresh CLI config"
        )));
    }
    parse(&text).map_err(|why| Error::usage(format!("{shown}: {why}")))
}

/// A config file's text: an empty one has no contexts yet.
pub fn parse(text: &str) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    match value {
        Value::Mapping(_) => Ok(Some(value)),
        Value::Null => Ok(None),
        _ => Err("it is not a mapping of contexts".to_string()),
    }
}

/// What writing a context did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
}

/// Adds or replaces the context and makes it the current one, as `codefresh auth
/// create-context` does. The file is replaced whole, by renaming a new one readable by its
/// owner only over it: a key must not be readable by others, and a reader never sees half a
/// file.
pub fn write(path: &Path, context: &Context, on_prem: bool) -> Result<Written> {
    let mut config = match load(path)? {
        Some(Value::Mapping(m)) => m,
        _ => Mapping::new(),
    };
    let written = with_context(&mut config, context, on_prem);
    let text = crate::yaml::to_string(&Value::Mapping(config));
    replace_file(path, &text)
        .map_err(|e| Error::usage(format!("cannot write {}: {e}", path.display())))?;
    Ok(written)
}

/// The context put into the file's contexts, as the current one.
pub fn with_context(config: &mut Mapping, context: &Context, on_prem: bool) -> Written {
    let contexts = config
        .entry("contexts".into())
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !contexts.is_mapping() {
        *contexts = Value::Mapping(Mapping::new());
    }
    let Value::Mapping(contexts) = contexts else {
        unreachable!("made a mapping above")
    };
    let old = contexts.get(context.name.as_str());
    let written = match old {
        Some(_) => Written::Updated,
        None => Written::Created,
    };
    // A context the Codefresh CLI marked for its beta commands stays so.
    let beta = old
        .and_then(|c| c.get("beta"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut entry = Mapping::new();
    entry.insert("type".into(), API_KEY_TYPE.into());
    entry.insert("name".into(), context.name.as_str().into());
    entry.insert("url".into(), context.url.as_str().into());
    entry.insert("token".into(), context.token.as_str().into());
    entry.insert("beta".into(), beta.into());
    entry.insert("onPrem".into(), on_prem.into());
    contexts.insert(context.name.as_str().into(), Value::Mapping(entry));
    config.insert("current-context".into(), context.name.as_str().into());
    written
}

fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".cirelay-{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let _ = fs::remove_file(&temp);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_WRITTEN: &str = "contexts:\n  default:\n    type: APIKey\n    name: default\n    url: 'https://g.codefresh.io'\n    token: 5f0c.abc\n    beta: false\n    onPrem: false\n  onprem:\n    type: APIKey\n    name: onprem\n    url: 'https://cf.example.com'\n    token: 6a1d.def\n    beta: true\n    onPrem: true\ncurrent-context: onprem\n";

    #[test]
    fn the_current_context_of_a_file_the_codefresh_cli_wrote() {
        let config = parse(CLI_WRITTEN).unwrap().unwrap();
        let current = current_of(&config, "~/.cfconfig").unwrap().unwrap();
        assert_eq!(
            current,
            Context {
                name: "onprem".into(),
                url: "https://cf.example.com".into(),
                token: "6a1d.def".into()
            }
        );
    }

    #[test]
    fn files_without_a_usable_current_context() {
        for text in ["", "contexts: {}\n", "current-context: ''\n"] {
            let config = parse(text).unwrap();
            assert_eq!(
                config.map(|c| current_of(&c, "f").unwrap()),
                match text {
                    "" => None,
                    _ => Some(None),
                }
            );
        }
        for (text, why) in [
            ("current-context: gone\ncontexts: {}\n", "is not among"),
            (
                "current-context: web\ncontexts:\n  web: {type: JWT, token: x}\n",
                "of type `JWT`",
            ),
            (
                "current-context: k\ncontexts:\n  k: {type: APIKey}\n",
                "has no token",
            ),
        ] {
            let config = parse(text).unwrap().unwrap();
            let err = current_of(&config, "f").unwrap_err();
            assert_eq!(err.exit_code(), 4);
            assert!(err.to_string().contains(why), "{err}");
        }
        assert!(parse("- a\n- b\n").is_err());
        assert!(parse("contexts: [").is_err());
    }

    #[test]
    fn writing_keeps_the_other_contexts_and_switches_to_the_new_one() {
        let Some(Value::Mapping(mut config)) = parse(CLI_WRITTEN).unwrap() else {
            panic!("a mapping")
        };
        let new = Context {
            name: "ci".into(),
            url: "https://g.codefresh.io".into(),
            token: "7b2e.ghi".into(),
        };
        assert_eq!(with_context(&mut config, &new, false), Written::Created);
        let again = Context {
            token: "7b2e.jkl".into(),
            ..new.clone()
        };
        assert_eq!(with_context(&mut config, &again, false), Written::Updated);
        let text = crate::yaml::to_string(&Value::Mapping(config));
        let back = parse(&text).unwrap().unwrap();
        assert_eq!(current_of(&back, "f").unwrap().unwrap().token, "7b2e.jkl");
        assert_eq!(back["contexts"]["onprem"]["beta"], Value::Bool(true));
        assert_eq!(back["contexts"]["ci"]["type"], Value::from("APIKey"));
    }

    #[test]
    fn the_file_is_written_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("cirelay-cfconfig-{}", std::process::id()));
        let path = dir.join("nested/.cfconfig");
        let _ = fs::remove_dir_all(&dir);
        let context = Context {
            name: "default".into(),
            url: "https://g.codefresh.io".into(),
            token: "5f0c.abc".into(),
        };
        assert_eq!(write(&path, &context, false).unwrap(), Written::Created);
        assert_eq!(write(&path, &context, true).unwrap(), Written::Updated);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let config = load(&path).unwrap().unwrap();
        assert_eq!(config["contexts"]["default"]["onPrem"], Value::Bool(true));
        let _ = fs::remove_dir_all(&dir);
    }
}
