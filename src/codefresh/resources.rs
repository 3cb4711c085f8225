//! The Codefresh CLI's commands besides `run`, under the `codefresh` name, as that CLI does
//! them: `get builds`, `get pipeline`, `create project`, `create|replace|apply -f FILE` and
//! `auth create-context`. Each prints what the Codefresh CLI prints on stdout (text mode),
//! and its report in JSON mode.

use serde_norway::{Mapping, Value as YamlValue};

use super::api::{state_of, Api, Build, BuildQuery, DEFAULT_URL};
use super::cfconfig::{self, Context, Written};
use super::format::{self, Entity, Format};
use super::spec::{self, Kind};
use crate::cli::args::Args;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::Ctx;

const NAME: &str = super::NAME;
/// `codefresh get builds` and `get pipeline` list this many unless `--limit`, as the
/// Codefresh CLI does.
pub const CLI_LIMIT: usize = 25;

/// A report for a command that changed or showed a resource: no build, so `id` names the
/// resource.
fn report(action: &'static str, id: &str, status: &str) -> Report {
    Report::resource(NAME, action, id, None, status.to_string())
}

/// `codefresh get builds ID…`, or without ids the newest builds that pass the filters.
pub fn get_builds(ctx: &Ctx, args: &Args) -> Result<Report> {
    let format = Format::from_args(args)?;
    let limit = limit(args)?;
    let page = match args.value("--page") {
        None => 1,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| Error::usage(format!("--page: `{raw}` is not a page number from 1")))?,
    };
    let api = Api::from_env()?;
    let builds = if args.positionals.is_empty() {
        let mut pipelines: Vec<String> = args
            .values("--pipeline-id")
            .into_iter()
            .map(String::from)
            .collect();
        for name in args.values("--pipeline-name") {
            pipelines.push(api.pipeline_id(ctx, name)?);
        }
        let query = BuildQuery {
            pipelines,
            branches: owned(args.values("--branch")),
            statuses: owned(args.values("--status")),
            revisions: owned(args.values("--commit-id")),
            limit,
            page,
        };
        api.build_page(ctx, &query)?.builds
    } else {
        let mut found = Vec::new();
        for id in &args.positionals {
            found.push(api.build(ctx, id)?);
        }
        found
    };
    let entities: Vec<Entity> = builds.iter().map(|b| build_entity(&api, b)).collect();
    ctx.out.answer(&format::render(format, &entities)?);
    Ok(report(
        "get builds",
        "",
        &format!("{} builds", builds.len()),
    ))
}

fn owned(values: Vec<&str>) -> Vec<String> {
    values.into_iter().map(String::from).collect()
}

fn limit(args: &Args) -> Result<usize> {
    Ok(crate::listing::Filter::with_default(args, CLI_LIMIT)?.limit)
}

/// A build as the Codefresh CLI's `Workflow` entity shows it.
fn build_entity(api: &Api, b: &Build) -> Entity {
    let id = b.id().unwrap_or_default().to_string();
    let now = crate::time::now_unix() as i64;
    let at = |t: &Option<String>| t.as_deref().and_then(crate::time::rfc3339);
    let (created, started, finished) = (at(&b.created), at(&b.started), at(&b.finished));
    // As that CLI counts them: to the end, or to now while the build runs.
    let total = created.map(|c| clock(finished.unwrap_or(now) - c));
    let build_time = started.map(|s| clock(finished.unwrap_or(now) - s));
    let repository = match (&b.repo_owner, &b.repo_name) {
        (Some(o), Some(n)) => Some(format!("{o}/{n}")),
        _ => None,
    };
    let webhook = b
        .webhook
        .as_ref()
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let mut info = Mapping::new();
    let mut put = |key: &str, value: Option<YamlValue>| {
        info.insert(key.into(), value.unwrap_or(YamlValue::Null));
    };
    let text = |v: &Option<String>| v.as_deref().map(YamlValue::from);
    put("id", Some(id.as_str().into()));
    put("created", text(&b.created));
    put("started", text(&b.started));
    put("finished", text(&b.finished));
    put("totalTime", total.as_deref().map(YamlValue::from));
    put("buildTime", build_time.as_deref().map(YamlValue::from));
    put("status", Some(b.status.as_str().into()));
    put("pipeline-name", text(&b.pipeline_name));
    put("repository", repository.as_deref().map(YamlValue::from));
    put("branch", text(&b.branch_name));
    put("trigger", text(&b.trigger_name));
    put("webhook", Some(webhook.into()));
    put("progress", text(&b.progress));
    put("pipeline-Id", text(&b.pipeline_id));
    put("commit-Id", text(&b.revision));
    put("pipeline-trigger-id", text(&b.trigger_id));
    let shown = |t: Option<i64>| t.map(crate::time::utc_datetime).unwrap_or_default();
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    Entity {
        columns: vec![
            ("id", id.clone()),
            ("pipeline-name", or_empty(&b.pipeline_name)),
            ("status", b.status.clone()),
            ("created", shown(created)),
            ("started", shown(started)),
            ("finished", shown(finished)),
            ("totalTime", total.unwrap_or_default()),
            ("trigger", or_empty(&b.trigger_name)),
            ("webhook", webhook.to_string()),
            ("repository", repository.unwrap_or_default()),
            ("branch", or_empty(&b.branch_name)),
        ],
        wide: vec![
            (
                Some("pipeline-name"),
                "pipeline-Id",
                or_empty(&b.pipeline_id),
            ),
            (
                Some("finished"),
                "buildTime",
                build_time.unwrap_or_default(),
            ),
            (Some("branch"), "commit-Id", or_empty(&b.revision)),
            (
                Some("commit-Id"),
                "pipeline-trigger-id",
                or_empty(&b.trigger_id),
            ),
            (Some("pipeline-trigger-id"), "link", api.build_url(&id)),
        ],
        info,
        // The Codefresh CLI's JSON leaves out what a build does not have; its YAML says null.
        json_drops_nulls: true,
        name: format!("workflow/{id}"),
        id,
    }
}

/// `HH:MM:SS`, as the Codefresh CLI shows build times.
fn clock(secs: i64) -> String {
    let secs = secs.max(0);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `codefresh get pipeline NAME… -o yaml|json`: the spec (`version`, `kind`, `metadata`,
/// `spec`) that `create`/`replace -f` take back unchanged; without a name, the account's
/// pipelines.
pub fn get_pipeline(ctx: &Ctx, args: &Args) -> Result<Report> {
    let format = Format::from_args(args)?;
    let limit = limit(args)?;
    let api = Api::from_env()?;
    let documents = if args.positionals.is_empty() {
        api.pipeline_documents(ctx, limit)?
    } else {
        let mut found = Vec::new();
        for name in &args.positionals {
            let doc = api.pipeline_document(ctx, name)?.ok_or_else(|| {
                Error::api(format!(
                    "pipeline {name} was not found: use its full name as Codefresh shows it (`project/pipeline`) or its id"
                ))
            })?;
            found.push(doc);
        }
        found
    };
    let entities: Vec<Entity> = documents.iter().map(pipeline_entity).collect();
    ctx.out.answer(&format::render(format, &entities)?);
    let names: Vec<&str> = entities.iter().map(|e| e.name.as_str()).collect();
    Ok(report("get pipeline", &names.join(","), "found"))
}

/// A pipeline as the Codefresh CLI's `Pipeline` entity shows it: `id`, `version`, `kind`,
/// `metadata` and `spec` of the answer, in that order, nothing else.
fn pipeline_entity(doc: &YamlValue) -> Entity {
    let mut info = Mapping::new();
    for key in ["id", "version", "kind", "metadata", "spec"] {
        if let Some(v) = doc.get(key) {
            info.insert(key.into(), v.clone());
        }
    }
    let meta = |key: &str| {
        doc.get("metadata")
            .and_then(|m| m.get(key))
            .and_then(YamlValue::as_str)
            .map(str::to_string)
    };
    let when = |key: &str| {
        meta(key)
            .as_deref()
            .and_then(crate::time::rfc3339)
            .map(crate::time::utc_datetime)
            .unwrap_or_default()
    };
    let name = meta("name").unwrap_or_default();
    let id = meta("id").unwrap_or_default();
    Entity {
        info,
        columns: vec![
            ("name", name.clone()),
            ("updated", when("updated_at")),
            ("created", when("created_at")),
        ],
        wide: vec![(None, "id", id.clone())],
        json_drops_nulls: false,
        id,
        name: format!("pipeline/{name}"),
    }
}

/// `codefresh create project NAME [-t TAG]…`: refused when the project exists, as the
/// Codefresh CLI checks first.
pub fn create_project(ctx: &Ctx, args: &Args) -> Result<Report> {
    let name = args.positional(0).unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "`codefresh create project` needs a project name, not {name:?}"
        )));
    }
    let tags = owned(args.values("--tag"));
    let api = Api::from_env()?;
    make_project(ctx, &api, &name, &tags)
}

fn make_project(ctx: &Ctx, api: &Api, name: &str, tags: &[String]) -> Result<Report> {
    if api.project_exists(ctx, name)? {
        return Err(Error::api(format!("Project already exists: \"{name}\"")));
    }
    api.create_project(ctx, name, tags)?;
    ctx.out.text(&format!("Project: \"{name}\" created"));
    Ok(report("create project", name, "created"))
}

/// What a `-f FILE` command may do with the resource it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Create,
    Replace,
    /// Create when missing, replace otherwise.
    Apply,
}

/// `codefresh create -f FILE`: a pipeline or a project, by the file's `kind`.
pub fn create_any(ctx: &Ctx, args: &Args) -> Result<Report> {
    from_file(ctx, args, Change::Create, &[Kind::Pipeline, Kind::Project])
}

/// `codefresh create pipeline -f FILE`.
pub fn create_pipeline(ctx: &Ctx, args: &Args) -> Result<Report> {
    from_file(ctx, args, Change::Create, &[Kind::Pipeline])
}

/// `codefresh replace [pipeline] -f FILE`.
pub fn replace(ctx: &Ctx, args: &Args) -> Result<Report> {
    from_file(ctx, args, Change::Replace, &[Kind::Pipeline])
}

/// `codefresh apply -f FILE`: what an automation wants, whether the pipeline exists or not.
pub fn apply(ctx: &Ctx, args: &Args) -> Result<Report> {
    from_file(ctx, args, Change::Apply, &[Kind::Pipeline])
}

fn from_file(ctx: &Ctx, args: &Args, change: Change, kinds: &[Kind]) -> Result<Report> {
    let path = args.given("--filename").ok_or_else(|| {
        Error::usage("no spec file: pass -f FILE (YAML or JSON, as `codefresh get pipeline NAME -o yaml` writes it)")
    })?;
    let (spec, body) = spec::read(path)?;
    if !kinds.contains(&spec.kind) {
        let wanted: Vec<&str> = kinds.iter().map(|k| k.word()).collect();
        return Err(Error::usage(format!(
            "{path}: kind is `{}`, and this command takes {}",
            spec.kind.word(),
            wanted.join(" or ")
        )));
    }
    let api = Api::from_env()?;
    if spec.kind == Kind::Project {
        return make_project(ctx, &api, &spec.name, &spec.tags);
    }
    let exists = match change {
        Change::Apply => api.pipeline_document(ctx, &spec.name)?.is_some(),
        Change::Create => false,
        Change::Replace => true,
    };
    let name = &spec.name;
    if exists {
        let skip = args.on("--skip-trigger-validation");
        api.replace_pipeline(ctx, name, &body, skip)?;
        ctx.out.text(&format!("Pipeline '{name}' updated"));
        Ok(report(action(change), name, "updated"))
    } else {
        api.create_pipeline(ctx, name, &body)?;
        ctx.out.text(&format!("Pipeline {name} created"));
        Ok(report(action(change), name, "created"))
    }
}

fn action(change: Change) -> &'static str {
    match change {
        Change::Create => "create",
        Change::Replace => "replace",
        Change::Apply => "apply",
    }
}

/// `codefresh auth create-context [NAME] --api-key KEY [--url URL]`: the key is checked with
/// Codefresh first (as the Codefresh CLI does), then written to `~/.cfconfig` as the current
/// context. The key is never printed.
pub fn create_context(ctx: &Ctx, args: &Args) -> Result<Report> {
    let name = args.positional(0).unwrap_or("default").trim().to_string();
    if name.is_empty() || name.contains(['\n', '\r']) || name.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "the context name {name:?} cannot be written: use letters, digits, `-` or `_`"
        )));
    }
    let key = args
        .given("--api-key")
        .ok_or_else(|| {
            Error::usage(
                "--api-key KEY is required: create a key in Codefresh (User Settings → API Keys)",
            )
        })?
        .trim()
        .to_string();
    // An on-premises installation is usually named in CF_URL already.
    let (url_setting, url) = match args.given("--url") {
        Some(url) => ("--url", url.to_string()),
        None => crate::cli::env_first(&[super::api::URL_VAR])
            .unwrap_or(("--url", DEFAULT_URL.to_string())),
    };
    let path = match args.given("--cfconfig") {
        Some(p) => std::path::PathBuf::from(p),
        None => cfconfig::path().ok_or_else(|| {
            Error::usage("neither CFCONFIG nor HOME is set: pass --cfconfig FILE")
        })?,
    };
    let api = Api::with_key(url_setting, &url, &key)?;
    let admin = api.user_is_admin(ctx)?;
    let context = Context {
        name: name.clone(),
        url: api.web().to_string(),
        token: key,
    };
    let written = cfconfig::write(&path, &context, admin)?;
    let said = match written {
        Written::Created => format!("Created new context: {name}"),
        Written::Updated => format!("Updated context: {name}"),
    };
    ctx.out.text(&said);
    ctx.out.text(&format!("Switched to context: {name}"));
    let status = match written {
        Written::Created => "created",
        Written::Updated => "updated",
    };
    Ok(report("auth create-context", &name, status))
}

/// A build's table row and list row read from the same answer: `state_of` decides its
/// result word in both.
pub fn result_of(b: &Build) -> &'static str {
    crate::listing::result_word(state_of(&b.status))
}

/// The spec a file holds, for `--dry-run` checks in tests.
#[cfg(test)]
pub fn spec_of(text: &str) -> spec::Spec {
    spec::parse(text).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_times_as_the_codefresh_cli_shows_them() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(3_725), "01:02:05");
        assert_eq!(clock(-5), "00:00:00");
    }

    #[test]
    fn a_pipeline_entity_holds_only_the_spec_fields_in_order() {
        let doc = format::ordered(
            r#"{"spec":{"steps":{}},"metadata":{"name":"acme/deploy","id":"60aa","updated_at":"2026-11-01T10:00:00.000Z"},"kind":"pipeline","version":"1.0","extra":1}"#,
        )
        .unwrap();
        let e = pipeline_entity(&doc);
        let keys: Vec<&str> = e.info.keys().filter_map(YamlValue::as_str).collect();
        assert_eq!(keys, ["version", "kind", "metadata", "spec"]);
        assert_eq!(e.name, "pipeline/acme/deploy");
        assert_eq!(e.columns[1].1, "2026-11-01, 10:00:00");
        let spec = spec_of(&format::yaml(&YamlValue::Mapping(e.info)).unwrap());
        assert_eq!(spec.name, "acme/deploy");
    }
}
