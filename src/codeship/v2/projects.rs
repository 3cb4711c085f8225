//! The organization's projects (API v2), for dashboards and automatic project creation:
//! `GET /v2/organizations/:org/projects` (page by page), `GET …/projects/:uuid` and
//! `POST …/projects`, with the same sign-in and rate-limit handling as builds. A Pro
//! project's `aes_key` decrypts its secrets: it is registered as a secret and never shown.

use serde_json::Value;

use super::{checked_uuid, is_last_page, Api, PER_PAGE, WEB_URL};
use crate::document::{self, At, Problem};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, PageBudget, Request, Response};
use crate::provider::About;
use crate::Ctx;

/// What `codeship projects` shows of a project: what identifies it, nothing secret.
pub const SHOWN: [&str; 7] = [
    "uuid",
    "name",
    "type",
    "repository_url",
    "repository_provider",
    "created_at",
    "updated_at",
];

/// The organization's projects may be many; past this many pages, the list is cut.
const MAX_PROJECT_PAGES: usize = 40;

impl Api {
    /// Every project of the organization the machine user may see, each as `SHOWN` of it.
    pub fn projects(&self, ctx: &Ctx) -> Result<Vec<Value>> {
        let mut budget = PageBudget::default();
        let mut all: Vec<Value> = Vec::new();
        for page in 1..=MAX_PROJECT_PAGES {
            let resp = self.call_org(ctx, &|org| {
                Request::get(format!("{org}/projects?page={page}&per_page={PER_PAGE}"))
            })?;
            self.check(&resp, About::Project(&""), "project.read")?;
            budget.spend(&resp, "the project list")?;
            forget_keys(&resp);
            let listed: Value = resp.decode()?;
            let projects = listed["projects"].as_array().cloned().unwrap_or_default();
            let count = projects.len();
            for p in projects {
                checked_uuid(&resp, p["uuid"].as_str().unwrap_or(""), "a project")?;
                let shown: serde_json::Map<String, Value> = SHOWN
                    .iter()
                    .map(|k| (k.to_string(), p.get(*k).cloned().unwrap_or(Value::Null)))
                    .collect();
                all.push(Value::Object(shown));
            }
            let number = |k: &str| listed[k].as_u64();
            if is_last_page(count, all.len(), number("total"), number("per_page")) {
                break;
            }
        }
        Ok(all)
    }

    /// One project as Codeship describes it, without its `aes_key`.
    pub fn project(&self, ctx: &Ctx, uuid: &str) -> Result<Value> {
        let resp = self.call_org(ctx, &|org| {
            Request::get(format!("{org}/projects/{}", encode(uuid)))
        })?;
        self.check(&resp, About::Project(&uuid), "project.read")?;
        one_project(&resp)
    }

    /// `POST …/projects` with the spec; the new project. Sent once: a second one could make
    /// a second project.
    pub fn create_project(&self, ctx: &Ctx, spec: &Value) -> Result<Value> {
        let resp = self.call_org(ctx, &|org| {
            Request::post(format!("{org}/projects"))
                .json(spec)
                .creates(format!("the organization's projects at {WEB_URL}/projects"))
        })?;
        self.check(&resp, About::Project(&""), "project.write")?;
        one_project(&resp)
    }
}

/// A Pro project's key decrypts its encrypted variables: hidden before anything could
/// print the answer.
fn forget_keys(resp: &Response) {
    let Ok(value) = serde_json::from_str::<Value>(&resp.body) else {
        return;
    };
    let mut keys = Vec::new();
    collect_keys(&value, &mut keys);
    for key in keys {
        register_secret(&key);
    }
}

fn collect_keys(value: &Value, keys: &mut Vec<String>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("aes_key", Value::String(key)) => keys.push(key.clone()),
                    _ => collect_keys(v, keys),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

/// `{"project": {…}}` (or the project alone): its uuid checked, its key removed.
fn one_project(resp: &Response) -> Result<Value> {
    forget_keys(resp);
    let value: Value = resp.decode()?;
    let mut project = match value.get("project") {
        Some(p) => p.clone(),
        None => value,
    };
    let uuid = project.get("uuid").and_then(Value::as_str).unwrap_or("");
    checked_uuid(resp, uuid, "a project")?;
    if let Some(o) = project.as_object_mut() {
        o.remove("aes_key");
    }
    Ok(project)
}

/// What `codeship project create -f SPEC.json` sends, checked first: Codeship's required
/// `repository_url`, `type` and `team_ids`, and the shapes of the commands and pipelines.
fn check_spec(spec: &serde_norway::Value) -> std::result::Result<(), Problem> {
    let root = At::root(spec);
    root.mapping()?;
    root.require("repository_url", |u| match u.text()? {
        url if url.trim().is_empty() || url.chars().any(char::is_control) => {
            Err(u.problem("the repository_url is empty or holds a control character"))
        }
        _ => Ok(()),
    })?;
    root.require("type", |t| match t.text()? {
        "basic" | "pro" => Ok(()),
        other => Err(t.problem(format!(
            "`{other}` is not a project type: use `basic` or `pro`"
        ))),
    })?;
    root.require("team_ids", |ids| {
        ids.each(|id| match id.value.as_u64() {
            Some(_) => Ok(()),
            None => Err(id.problem("a team id is a number (Organization Settings → Teams)")),
        })
    })?;
    root.get("setup_commands", |c| c.texts())?;
    root.get("test_pipelines", |pipelines| {
        pipelines.each(|p| {
            p.mapping()?;
            p.require("name", |n| n.text().map(|_| ()))?;
            p.require("commands", |c| c.texts())
        })
    })?;
    root.get("notification_rules", |rules| rules.each(|r| r.mapping()))?;
    root.get("environment_variables", |vars| {
        vars.each(|v| {
            v.mapping()?;
            v.require("name", |n| n.text().map(|_| ()))?;
            v.require("value", |n| n.text().map(|_| ()))
        })
    })?;
    Ok(())
}

/// The project spec in `path` (JSON, or YAML), checked: exit 4 naming the line and the field.
pub fn read_spec(path: &str) -> Result<Value> {
    let text = document::read(path, "the project spec")?;
    parse_spec(&text).map_err(|why| Error::usage(format!("{path}: {why}")))
}

pub fn parse_spec(text: &str) -> std::result::Result<Value, String> {
    let spec: serde_norway::Value = document::parse(text)?;
    check_spec(&spec).map_err(|p| document::explain(text, &p))?;
    serde_json::to_value(spec).map_err(|e| format!("it cannot be sent as JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_specs_are_checked_with_line_and_field() {
        let good = r#"{"repository_url": "git@github.com:acme/app.git", "type": "basic", "team_ids": [61593], "setup_commands": ["bundle install"], "test_pipelines": [{"name": "tests", "commands": ["rake"]}]}"#;
        assert_eq!(parse_spec(good).unwrap()["team_ids"][0], 61593);
        for (text, wanted) in [
            (r#"{"type": "basic", "team_ids": []}"#, "missing field `repository_url`"),
            (
                "{\n  \"repository_url\": \"x\",\n  \"type\": \"enterprise\",\n  \"team_ids\": []\n}",
                "line 3, column 11: type: `enterprise` is not a project type",
            ),
            (
                r#"{"repository_url": "x", "type": "pro", "team_ids": ["a"]}"#,
                "team_ids[0]: a team id is a number",
            ),
            (
                r#"{"repository_url": "x", "type": "pro", "team_ids": [], "test_pipelines": [{"name": "t"}]}"#,
                "test_pipelines[0]: missing field `commands`",
            ),
            (r#"{"repository_url": "", "type": "pro", "team_ids": []}"#, "repository_url: the repository_url is empty"),
        ] {
            let why = parse_spec(text).unwrap_err();
            assert!(why.contains(wanted), "{text}: {why}");
        }
    }

    #[test]
    fn a_projects_key_is_a_secret_and_is_not_shown() {
        let body = r#"{"project": {"uuid": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "name": "acme/app", "aes_key": "aes-key-0123456789abcdef"}}"#;
        let resp = Response::received(200, Vec::new(), body.to_string(), "GET /v2/x");
        let project = one_project(&resp).unwrap();
        assert!(project.get("aes_key").is_none());
        assert_eq!(
            crate::secrets::redact("k=aes-key-0123456789abcdef"),
            "k=***"
        );
        let bad = r#"{"project": {"uuid": "x/../y"}}"#;
        let resp = Response::received(200, Vec::new(), bad.to_string(), "GET /v2/x");
        assert_eq!(one_project(&resp).unwrap_err().exit_code(), 5);
    }
}
