//! The CircleCI side of each verb: what a trigger sends, how a pipeline is read, followed,
//! cancelled and rerun. The shared lifecycle does the rest.

use serde_json::Value;

use super::api::{Api, Pipeline, Workflow};
use super::watch::{self, describe, kind, Judged, Kind, PipelineWatch, SETUP};
use super::{GitRef, Slug};
use crate::build::{Build, Reading, Stopped, Tracked};
use crate::error::{Error, Result};
use crate::output::{self, Outcome, Report};
use crate::wait::BuildState;
use crate::Ctx;

/// What `circleci trigger` is asked to start, checked.
pub struct Trigger {
    pub slug: Slug,
    pub git_ref: GitRef,
    pub definition_id: Option<String>,
    /// Typed as CircleCI expects them: `true`/`false` are booleans, integers are numbers.
    pub parameters: serde_json::Map<String, Value>,
}

/// Where `circleci restart-latest` looks, and what it reruns.
pub struct Restart {
    pub slug: Slug,
    pub branch: String,
    pub from_failed: bool,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` of {}", self.branch, self.slug)
    }
}

/// The trigger body. `pipeline/run` names the branch twice: where the config comes from
/// and what the checkout step checks out; cirelay builds one ref, so both are the same.
pub fn trigger_body(
    pipeline_run: bool,
    git_ref: &GitRef,
    definition_id: Option<&str>,
    parameters: &serde_json::Map<String, Value>,
) -> Value {
    let mut body = serde_json::Map::new();
    if pipeline_run {
        if let Some(id) = definition_id {
            body.insert("definition_id".into(), id.into());
        }
        let fields = git_ref.fields();
        if !fields.is_empty() {
            body.insert("config".into(), Value::Object(fields.clone()));
            body.insert("checkout".into(), Value::Object(fields));
        }
    } else {
        body.extend(git_ref.fields());
    }
    if !parameters.is_empty() {
        body.insert("parameters".into(), Value::Object(parameters.clone()));
    }
    Value::Object(body)
}

/// A pipeline as the lifecycle speaks of it.
fn build_of(api: &Api, p: &Pipeline, status: String, state: BuildState) -> Build {
    Build {
        id: p.id.clone(),
        number: Some(p.number),
        url: Some(api.pipeline_url(&p.project_slug, p.number)),
        status,
        state,
        label: format!("pipeline #{}", p.number),
        aliases: Vec::new(),
    }
}

pub fn trigger<'a>(ctx: &Ctx, api: &'a Api, request: &Trigger) -> Result<Tracked<'a, String>> {
    let slug = &request.slug;
    let pipeline_run = request.definition_id.is_some() || slug.needs_pipeline_run();
    let body = trigger_body(
        pipeline_run,
        &request.git_ref,
        request.definition_id.as_deref(),
        &request.parameters,
    );
    output::event(format!(
        "triggering a pipeline of {slug} on {}",
        request.git_ref.describe()
    ));
    let started = api.trigger(ctx, slug, pipeline_run, &body)?;
    let (id, number) = (started.id, started.number);
    let url = api.pipeline_url(&slug.to_string(), number);
    let build = Build {
        id: id.clone(),
        number: Some(number),
        url: Some(url.clone()),
        status: started.state.unwrap_or_else(|| "setup-pending".into()),
        state: BuildState::Running,
        label: format!("pipeline #{number}"),
        aliases: Vec::new(),
    };
    Ok(Tracked {
        build,
        reference: id.clone(),
        line: Some(format!("started pipeline #{number} ({id}): {url}")),
        watch: Box::new(PipelineWatch::new(api, &id)),
    })
}

/// Gets ready to wait on the pipeline as just read (for its number and link).
pub fn watch(api: &Api, pipeline: Pipeline) -> Tracked<'_, String> {
    let build = build_of(api, &pipeline, pipeline.state.clone(), BuildState::Running);
    let id = pipeline.id.clone();
    Tracked {
        build,
        reference: id.clone(),
        line: None,
        watch: Box::new(PipelineWatch::new(api, &id).with_pipeline(pipeline)),
    }
}

/// The pipeline and each workflow, as `status` describes them on stderr, and its overall
/// word (the one `status` prints on stdout) and state.
pub fn read(ctx: &Ctx, api: &Api, pipeline: Pipeline) -> Result<Reading> {
    let id = &pipeline.id.clone();
    let url = api.pipeline_url(&pipeline.project_slug, pipeline.number);
    let head = format!("pipeline #{} {}", pipeline.number, pipeline.project_slug);
    let mut watch = PipelineWatch::new(api, id)
        .with_pipeline(pipeline.clone())
        .quiet();
    let seen = watch.poll(ctx)?;
    let word = watch.status_word();
    let mut lines = Vec::new();
    match pipeline.state.as_str() {
        state @ ("created" | SETUP) => {
            lines.push(match watch.judged() {
                Judged::NoneYet => format!("{head}: {state}, no workflows yet {url}"),
                Judged::SetupAlone => format!(
                    "{head}: {state} (its setup workflow succeeded; nothing has followed it yet) {url}"
                ),
                Judged::Is(_) => format!("{head}: {word} ({state}) {url}"),
            });
            for w in &watch.workflows {
                lines.push(format!(
                    "  workflow {}: {} {}",
                    watch.name(w),
                    describe(&w.status),
                    api.workflow_url(w)
                ));
            }
        }
        state => {
            lines.push(format!("{head}: {state} {url}"));
            for e in &pipeline.errors {
                let kind = if e.kind.is_empty() { "error" } else { &e.kind };
                lines.push(format!(
                    "  error ({kind}): {}",
                    e.message.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    Ok(Reading {
        build: build_of(api, &pipeline, word, seen.state),
        lines,
    })
}

/// Cancels every workflow of the pipeline that is still going, a setup workflow too (the
/// pipeline then never continues); finished ones are left.
pub fn cancel(ctx: &Ctx, api: &Api, pipeline: Pipeline) -> Result<(Build, Stopped)> {
    let id = &pipeline.id.clone();
    // The same reading as `status`: the workflows of a `created` or `setup` pipeline.
    let mut watch = PipelineWatch::new(api, id)
        .with_pipeline(pipeline.clone())
        .quiet();
    let seen = watch.poll(ctx)?;
    let running: Vec<&Workflow> = watch
        .workflows
        .iter()
        .filter(|w| kind(&w.status) == Kind::Active)
        .collect();
    if running.is_empty() {
        let why = format!(
            "no workflow of pipeline #{} is running (pipeline {}, workflows: {})",
            pipeline.number,
            pipeline.state,
            if watch.workflows.is_empty() {
                "none yet".to_string()
            } else {
                watch
                    .workflows
                    .iter()
                    .map(|w| format!("{} {}", watch.name(w), w.status))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        let status = watch.status_word();
        let build = build_of(api, &pipeline, status.clone(), seen.state);
        return Ok((
            build,
            Stopped::AlreadyFinished {
                status,
                why: Some(why),
            },
        ));
    }
    for w in &running {
        api.cancel(ctx, w)?;
        let setup = if watch.is_setup(w) { "setup " } else { "" };
        output::event(format!("canceled {setup}workflow {} ({})", w.name, w.id));
    }
    let status = "canceled".to_string();
    let build = build_of(api, &pipeline, status.clone(), seen.state);
    Ok((build, Stopped::Asked { status, line: None }))
}

/// The newest pipeline on the branch.
pub fn newest(ctx: &Ctx, api: &Api, scope: &Restart) -> Result<(Pipeline, Build)> {
    let (slug, branch) = (&scope.slug, &scope.branch);
    let pipelines = api.project_pipelines(ctx, slug, branch)?;
    let newest = pipelines
        .into_iter()
        .max_by_key(|p| p.number)
        .ok_or_else(|| {
            Error::api(format!(
                "no pipelines on branch `{branch}` of {slug}: push to it once, or check --branch"
            ))
        })?;
    let build = build_of(api, &newest, newest.state.clone(), BuildState::Running);
    Ok((newest, build))
}

/// Reruns the workflows of the newest pipeline on the branch. The pipeline keeps its id
/// and number, so that id is what is printed: `status`/`wait` on it see the new attempts.
pub fn restart<'a>(
    ctx: &Ctx,
    api: &'a Api,
    scope: &Restart,
    newest: Pipeline,
) -> Result<Tracked<'a, String>> {
    let (slug, branch) = (&scope.slug, &scope.branch);
    let url = api.pipeline_url(&newest.project_slug, newest.number);
    let listed = watch::current_attempts(api.workflows(ctx, &newest.id)?);
    // CircleCI continues a pipeline only once, so the rerun of a continued pipeline's setup
    // workflow fails; one that never continued (the pipeline is still `setup`) can run again.
    let (setup_done, workflows): (Vec<Workflow>, Vec<Workflow>) = listed
        .into_iter()
        .partition(|w| newest.state != SETUP && w.tag.as_deref() == Some(SETUP));
    for w in &setup_done {
        output::event(format!(
            "leaving setup workflow {} alone: the pipeline was already continued, and CircleCI continues a pipeline only once; trigger a new pipeline to run its setup again",
            w.name
        ));
    }
    if workflows.is_empty() {
        return Err(Error::api(format!(
            "pipeline #{} on `{branch}` of {slug} has no workflows to rerun{}: see {url}",
            newest.number,
            if setup_done.is_empty() {
                ""
            } else {
                " but its setup workflow (trigger a new pipeline to run it again)"
            }
        )));
    }
    let chosen: Vec<&Workflow> = if scope.from_failed {
        workflows
            .iter()
            .filter(|w| kind(&w.status) == Kind::Failed)
            .collect()
    } else {
        workflows.iter().collect()
    };
    if chosen.is_empty() {
        return Err(Error::api(format!(
            "no workflow of pipeline #{} on `{branch}` failed ({}), so there is nothing to rerun from failed: drop --from-failed to rerun them all",
            newest.number,
            workflows
                .iter()
                .map(|w| format!("{} {}", w.name, w.status))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for w in workflows
        .iter()
        .filter(|w| !chosen.iter().any(|c| c.id == w.id))
    {
        output::event(format!(
            "leaving workflow {} alone: it is {}, not failed",
            w.name, w.status
        ));
    }

    let mut build = build_of(api, &newest, "running".into(), BuildState::Running);
    let mut new_ids = Vec::new();
    for w in &chosen {
        output::event(format!(
            "rerunning workflow {} ({}, {}){} of pipeline #{}",
            w.name,
            w.id,
            w.status,
            if scope.from_failed {
                " from failed"
            } else {
                ""
            },
            newest.number
        ));
        let new_id = api.rerun(ctx, w, scope.from_failed)?;
        if new_ids.is_empty() {
            // As soon as anything was started: a later failure must not hide it.
            let started = Report::of(super::NAME, "restart-latest", &build, Outcome::Started);
            ctx.out.started(&started)?;
        }
        output::event(format!("rerun of {} started as workflow {new_id}", w.name));
        new_ids.push(new_id);
    }
    build.label = format!("pipeline #{} rerun", newest.number);
    Ok(Tracked {
        build,
        reference: newest.id.clone(),
        line: None,
        watch: Box::new(PipelineWatch::new(api, &newest.id).only(new_ids)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params() -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("deploy".into(), Value::Bool(true));
        m
    }

    #[test]
    fn trigger_bodies() {
        let branch = GitRef::Branch("main".into());
        assert_eq!(
            trigger_body(false, &branch, None, &params()),
            json!({"branch": "main", "parameters": {"deploy": true}})
        );
        assert_eq!(
            trigger_body(false, &GitRef::Tag("v1".into()), None, &Default::default()),
            json!({"tag": "v1"})
        );
        assert_eq!(
            trigger_body(false, &GitRef::Default, None, &Default::default()),
            json!({})
        );
        assert_eq!(
            trigger_body(true, &branch, Some("d-1"), &params()),
            json!({
                "definition_id": "d-1",
                "config": {"branch": "main"},
                "checkout": {"branch": "main"},
                "parameters": {"deploy": true}
            })
        );
        assert_eq!(
            trigger_body(true, &GitRef::Tag("v2".into()), None, &Default::default()),
            json!({"config": {"tag": "v2"}, "checkout": {"tag": "v2"}})
        );
    }
}
