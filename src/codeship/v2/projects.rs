//! The organization's projects (API v2), for dashboards and automatic project creation:
//! `GET /v2/organizations/:org/projects` (page by page), `GET …/projects/:uuid` and
//! `POST …/projects`, with the same sign-in and rate-limit handling as builds. A Pro
//! project's `aes_key` decrypts its secrets: it is registered as a secret and never shown.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{checked_uuid, is_last_page, Api, PER_PAGE, WEB_URL};
use crate::document::{self, Checked};
use crate::error::{Error, Result};
use crate::http::{encode, register_secret, PageBudget, Request, Response};
use crate::provider::About;
use crate::Ctx;

/// A project as `codeship projects` shows it: what identifies it, nothing secret.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Project {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub repository_url: Option<String>,
    #[serde(default)]
    pub repository_provider: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Project {
    /// Its page in the web app.
    pub fn url(&self) -> String {
        format!("{WEB_URL}/projects/{}", self.uuid)
    }
}

#[derive(Debug, Deserialize)]
struct ProjectPage {
    #[serde(default)]
    projects: Vec<Project>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    per_page: Option<u64>,
}

/// The organization's projects may be many; past this many pages, the list is cut.
const MAX_PROJECT_PAGES: usize = 40;

impl Api {
    /// Every project of the organization the machine user may see.
    pub fn projects(&self, ctx: &Ctx) -> Result<Vec<Project>> {
        let mut budget = PageBudget::default();
        let mut all: Vec<Project> = Vec::new();
        for page in 1..=MAX_PROJECT_PAGES {
            let resp = self.call_org(ctx, |org| {
                Request::get(format!("{org}/projects?page={page}&per_page={PER_PAGE}"))
            })?;
            self.check(&resp, About::Project(&""), "project.read")?;
            budget.spend(&resp, "the project list")?;
            forget_keys(&resp);
            let listed: ProjectPage = resp.decode()?;
            for p in &listed.projects {
                checked_uuid(&resp, &p.uuid, "a project")?;
            }
            let count = listed.projects.len();
            all.extend(listed.projects);
            if is_last_page(count, all.len(), listed.total, listed.per_page) {
                break;
            }
        }
        Ok(all)
    }

    /// One project as Codeship describes it, without its `aes_key`.
    pub fn project(&self, ctx: &Ctx, uuid: &str) -> Result<Value> {
        let resp = self.call_org(ctx, |org| {
            Request::get(format!("{org}/projects/{}", encode(uuid)))
        })?;
        self.check(&resp, About::Project(&uuid), "project.read")?;
        one_project(&resp)
    }

    /// `POST …/projects` with the spec; the new project. Sent once: a second one could make
    /// a second project.
    pub fn create_project(&self, ctx: &Ctx, spec: &Value) -> Result<Value> {
        let resp = self.call_org(ctx, |org| {
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
#[derive(Deserialize)]
#[allow(dead_code)] // read for their checks
struct ProjectSpec {
    repository_url: Url,
    #[serde(rename = "type")]
    kind: ProjectType,
    team_ids: Vec<u64>,
    #[serde(default)]
    setup_commands: Option<Vec<String>>,
    #[serde(default)]
    test_pipelines: Option<Vec<TestPipeline>>,
    #[serde(default)]
    notification_rules: Option<Vec<serde_norway::Mapping>>,
    #[serde(default)]
    environment_variables: Option<Vec<EnvironmentVariable>>,
}

struct Url;

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(Checked(|url: &str| {
            if url.trim().is_empty() || url.chars().any(char::is_control) {
                Err("the repository_url is empty or holds a control character".to_string())
            } else {
                Ok(Url)
            }
        }))
    }
}

struct ProjectType;

impl<'de> Deserialize<'de> for ProjectType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(Checked(|kind: &str| match kind {
            "basic" | "pro" => Ok(ProjectType),
            other => Err(format!(
                "`{other}` is not a project type: use `basic` or `pro`"
            )),
        }))
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TestPipeline {
    name: String,
    commands: Vec<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct EnvironmentVariable {
    name: String,
    value: String,
}

/// The project spec in `path` (JSON, or YAML), checked: exit 4 naming the line and the field.
pub fn read_spec(path: &str) -> Result<Value> {
    let text = document::read(path, "the project spec")?;
    parse_spec(&text).map_err(|why| Error::usage(format!("{path}: {why}")))
}

pub fn parse_spec(text: &str) -> std::result::Result<Value, String> {
    let _: ProjectSpec = document::parse(text)?;
    let spec: serde_norway::Value = document::parse(text)?;
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
                "team_ids[0]: invalid type: string \"a\"",
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
