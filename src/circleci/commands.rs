//! The `cirelay circleci …` commands.

use serde_json::Value;

use super::api::{Api, Pipeline, Workflow};
use super::watch::{self, describe, kind, Judged, Kind, Watch, SETUP};
use super::{GitRef, Slug, OWN_PIPELINE_VAR};
use crate::cli::{env_first, CircleciTrigger};
use crate::error::{Error, Result};
use crate::output::{self, Outcome, Report};
use crate::wait;
use crate::Ctx;

const PROVIDER: &str = "circleci";

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

pub fn trigger(
    ctx: &Ctx,
    api: &Api,
    slug: &Slug,
    git_ref: GitRef,
    args: &CircleciTrigger,
) -> Result<Report> {
    let pipeline_run = args.definition_id.is_some() || slug.needs_pipeline_run();
    let body = trigger_body(
        pipeline_run,
        &git_ref,
        args.definition_id.as_deref(),
        &args.parameters,
    );
    output::event(format!(
        "triggering a pipeline of {slug} on {}",
        git_ref.describe()
    ));
    let started = api.trigger(ctx, slug, pipeline_run, &body)?;
    let (id, number) = (started.id, started.number);
    let url = api.pipeline_url(&slug.to_string(), number);
    let report = Report {
        provider: PROVIDER,
        action: "trigger",
        id: id.clone(),
        number: Some(number),
        url: Some(url.clone()),
        status: started.state.unwrap_or_else(|| "setup-pending".into()),
        result: Outcome::Started,
    };
    ctx.out.started(&report)?;
    output::event(format!("started pipeline #{number} ({id}): {url}"));
    if args.detach {
        return Ok(report);
    }
    let mut watch = Watch::new(api, &id);
    wait_on(ctx, &mut watch, &format!("pipeline #{number}"), report)
}

pub fn wait(ctx: &Ctx, api: &Api, id: &str) -> Result<Report> {
    let pipeline = api.pipeline(ctx, id)?;
    let report = pipeline_report(api, &pipeline, "wait");
    let what = format!("pipeline #{}", pipeline.number);
    let mut watch = Watch::new(api, id).with_pipeline(pipeline);
    wait_on(ctx, &mut watch, &what, report)
}

/// Polls until the pipeline (or the watched workflows) finished or `--timeout`; the
/// report's result is the outcome.
fn wait_on(ctx: &Ctx, watch: &mut Watch, what: &str, mut report: Report) -> Result<Report> {
    let waited = wait::until_finished(ctx.wait, what, || watch.poll(ctx))?;
    report.status = watch.status_word();
    report.result = waited.outcome().1;
    Ok(report)
}

fn pipeline_report(api: &Api, p: &Pipeline, action: &'static str) -> Report {
    Report {
        provider: PROVIDER,
        action,
        id: p.id.clone(),
        number: Some(p.number),
        url: Some(api.pipeline_url(&p.project_slug, p.number)),
        status: p.state.clone(),
        result: Outcome::Started,
    }
}

/// Prints the status word on stdout (as every provider's `status` does) and the pipeline and
/// each workflow on stderr; exits by the pipeline's result when it finished.
pub fn status(ctx: &Ctx, api: &Api, id: &str) -> Result<Report> {
    let pipeline = api.pipeline(ctx, id)?;
    let mut report = pipeline_report(api, &pipeline, "status");
    let url = report.url.clone().unwrap_or_default();
    let head = format!("pipeline #{} {}", pipeline.number, pipeline.project_slug);
    let mut watch = Watch::new(api, id).with_pipeline(pipeline.clone()).quiet();
    let seen = watch.poll(ctx)?;
    let word = watch.status_word();
    match pipeline.state.as_str() {
        state @ ("created" | SETUP) => {
            match watch.judged() {
                Judged::NoneYet => {
                    output::event(format!("{head}: {state}, no workflows yet {url}"))
                }
                Judged::SetupAlone => output::event(format!(
                    "{head}: {state} (its setup workflow succeeded; nothing has followed it yet) {url}"
                )),
                Judged::Is(_) => output::event(format!("{head}: {word} ({state}) {url}")),
            }
            for w in &watch.workflows {
                output::event(format!(
                    "  workflow {}: {} {}",
                    watch.name(w),
                    describe(&w.status),
                    api.workflow_url(w)
                ));
            }
        }
        state => {
            output::event(format!("{head}: {state} {url}"));
            for e in &pipeline.errors {
                let kind = if e.kind.is_empty() { "error" } else { &e.kind };
                output::event(format!(
                    "  error ({kind}): {}",
                    e.message.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    ctx.out.text(&word);
    report.status = word;
    report.result = Outcome::of(seen.state);
    Ok(report)
}

/// Cancels every workflow of the pipeline that is still going, a setup workflow too (the
/// pipeline then never continues); finished ones are left.
pub fn cancel(ctx: &Ctx, api: &Api, id: &str) -> Result<Report> {
    let pipeline = api.pipeline(ctx, id)?;
    let mut report = pipeline_report(api, &pipeline, "cancel");
    // The same reading as `status`: the workflows of a `created` or `setup` pipeline.
    let mut watch = Watch::new(api, id).with_pipeline(pipeline.clone()).quiet();
    watch.poll(ctx)?;
    let running: Vec<&Workflow> = watch
        .workflows
        .iter()
        .filter(|w| kind(&w.status) == Kind::Active)
        .collect();
    if running.is_empty() {
        output::event(format!(
            "nothing to cancel: no workflow of pipeline #{} is running (pipeline {}, workflows: {})",
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
        ));
        report.status = watch.status_word();
        report.result = Outcome::Success;
        return Ok(report);
    }
    for w in &running {
        api.cancel(ctx, w)?;
        let setup = if watch.is_setup(w) { "setup " } else { "" };
        output::event(format!("canceled {setup}workflow {} ({})", w.name, w.id));
    }
    report.status = "canceled".into();
    report.result = Outcome::Success;
    Ok(report)
}

pub struct Restart {
    pub from_failed: bool,
    pub wait: bool,
    pub force: bool,
}

/// Reruns the workflows of the newest pipeline on the branch. The pipeline keeps its id
/// and number, so that id is what is printed: `status`/`wait` on it see the new attempts.
pub fn restart_latest(
    ctx: &Ctx,
    api: &Api,
    slug: &Slug,
    branch: &str,
    opts: Restart,
) -> Result<Report> {
    let pipelines = api.project_pipelines(ctx, slug, branch)?;
    let newest = pipelines.iter().max_by_key(|p| p.number).ok_or_else(|| {
        Error::api(format!(
            "no pipelines on branch `{branch}` of {slug}: push to it once, or check --branch"
        ))
    })?;
    if !opts.force {
        if let Some((_, own)) = env_first(&[OWN_PIPELINE_VAR]) {
            if own.eq_ignore_ascii_case(&newest.id) {
                return Err(Error::usage(format!(
                    "the newest pipeline on `{branch}` is the one running this job ({OWN_PIPELINE_VAR}={own}); rerunning it would loop — pass --force to rerun it anyway"
                )));
            }
        }
    }
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
    let chosen: Vec<&Workflow> = if opts.from_failed {
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

    let report = Report {
        provider: PROVIDER,
        action: "restart-latest",
        id: newest.id.clone(),
        number: Some(newest.number),
        url: Some(url),
        status: "running".into(),
        result: Outcome::Started,
    };
    let mut new_ids = Vec::new();
    for w in &chosen {
        output::event(format!(
            "rerunning workflow {} ({}, {}){} of pipeline #{}",
            w.name,
            w.id,
            w.status,
            if opts.from_failed { " from failed" } else { "" },
            newest.number
        ));
        let new_id = api.rerun(ctx, w, opts.from_failed)?;
        if new_ids.is_empty() {
            // As soon as anything was started: a later failure must not hide it.
            ctx.out.started(&report)?;
        }
        output::event(format!("rerun of {} started as workflow {new_id}", w.name));
        new_ids.push(new_id);
    }

    if !opts.wait {
        return Ok(report);
    }
    let mut watch = Watch::new(api, &newest.id).only(new_ids);
    wait_on(
        ctx,
        &mut watch,
        &format!("pipeline #{} rerun", newest.number),
        report,
    )
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
