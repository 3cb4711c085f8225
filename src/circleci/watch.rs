//! A pipeline's result: first its setup (`GET /pipeline/ID` until `created` or
//! `errored`), then all of its workflows (`GET /pipeline/ID/workflow`) until every one has
//! finished. An empty workflow list is *not* success: workflows appear a little after the
//! pipeline is created, so waiting goes on until one shows up or `--timeout` is reached.
//!
//! Dynamic config (`setup: true`): the pipeline stays `setup` while its setup workflow
//! (tagged `setup`) runs, so the workflows are read in that state too. A job of the setup
//! workflow may continue the pipeline, at most once; it is then `created`, and the workflows
//! it continued to are added to it a little later, the setup workflow staying in the list.
//! A setup workflow that succeeded is only the prelude: the pipeline's result is that of
//! what followed it, and when nothing does within a few readings, nothing ran.

use std::collections::{HashMap, HashSet};

use super::api::{Api, Pipeline, Workflow};
use crate::error::Result;
use crate::output;
use crate::wait::{BuildState, Observation};
use crate::Ctx;

/// The pipeline state in which its setup workflow runs.
pub const SETUP: &str = "setup";

/// Readings in a row that see the setup workflow succeeded and nothing after it, before
/// cirelay stops waiting for a continuation: about 25 s at the default `--interval`. A job
/// continues the pipeline before its workflow can finish, so by the time the setup workflow
/// is `success`, a continuation is on its way; this covers the moment before CircleCI lists
/// the continued workflows.
pub const CONTINUATION_READINGS: u32 = 4;

/// What one workflow status means for the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Success,
    Failed,
    Canceled,
    /// Did not run (e.g. all its jobs were filtered out). Ignored, unless nothing ran at all.
    NotRun,
    /// Still going: `running`, `failing` (will fail, but jobs still run), `on_hold` (waits
    /// for an approval), and any status this version does not know.
    Active,
}

pub fn kind(status: &str) -> Kind {
    match status {
        "success" => Kind::Success,
        "failed" | "error" | "unauthorized" => Kind::Failed,
        "canceled" => Kind::Canceled,
        "not_run" => Kind::NotRun,
        _ => Kind::Active,
    }
}

/// The pipeline's state from its workflows' statuses: finished only when every one is; a
/// failure outranks a cancel, which outranks success.
pub fn overall<'a>(statuses: impl IntoIterator<Item = &'a str>) -> BuildState {
    let kinds: Vec<Kind> = statuses.into_iter().map(kind).collect();
    if kinds.is_empty() || kinds.contains(&Kind::Active) {
        BuildState::Running
    } else if kinds.contains(&Kind::Failed) {
        BuildState::Failed
    } else if kinds.contains(&Kind::Canceled) {
        BuildState::Terminated
    } else if kinds.iter().all(|k| *k == Kind::NotRun) {
        // Nothing ran: whatever the caller chained this for did not happen.
        BuildState::Failed
    } else {
        BuildState::Success
    }
}

/// The one word for the report's `status`: the worst workflow status, or what is going on.
pub fn summary_word<'a>(statuses: impl IntoIterator<Item = &'a str> + Clone) -> String {
    let first = |pred: &dyn Fn(Kind) -> bool| {
        statuses
            .clone()
            .into_iter()
            .find(|s| pred(kind(s)))
            .map(str::to_string)
    };
    match overall(statuses.clone()) {
        BuildState::Success => "success".into(),
        BuildState::Terminated => "canceled".into(),
        BuildState::Failed => first(&|k| k == Kind::Failed).unwrap_or_else(|| "not_run".into()),
        BuildState::Running => {
            if statuses.clone().into_iter().any(|s| s == "failing") {
                "failing".into()
            } else if statuses.clone().into_iter().any(|s| s == "on_hold") {
                "on_hold".into()
            } else if statuses.into_iter().next().is_none() {
                "created".into()
            } else {
                "running".into()
            }
        }
    }
}

/// A status as the progress line shows it: the ones that need a word of explanation get it.
pub fn describe(status: &str) -> String {
    match status {
        "on_hold" => "on_hold (waiting for an approval)".into(),
        "failing" => "failing (jobs still running; it will fail)".into(),
        other => other.into(),
    }
}

/// What a pipeline's workflows say about it, setup workflows apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// No workflow listed yet.
    NoneYet,
    /// Its setup workflow succeeded and nothing is listed after it (yet).
    SetupAlone,
    Is(BuildState),
}

/// A setup workflow that succeeded only led to the others, so it does not count towards the
/// pipeline's result; one that failed, was canceled or still runs does.
fn counts(setup: bool, status: &str) -> bool {
    !(setup && kind(status) == Kind::Success)
}

/// Judges `(is a setup workflow, status)` pairs.
pub fn judge<'a>(workflows: impl IntoIterator<Item = (bool, &'a str)>) -> Judged {
    let mut any = false;
    let counted: Vec<&str> = workflows
        .into_iter()
        .inspect(|_| any = true)
        .filter(|(setup, status)| counts(*setup, status))
        .map(|(_, status)| status)
        .collect();
    match (any, counted.is_empty()) {
        (false, _) => Judged::NoneYet,
        (true, true) => Judged::SetupAlone,
        (true, false) => Judged::Is(overall(counted)),
    }
}

/// Reruns leave the old attempt in the pipeline's list under the same name: the pipeline's
/// result is the newest attempt of each workflow. Keeps the list's order.
fn newest_per_name(workflows: Vec<Workflow>) -> Vec<Workflow> {
    let mut out: Vec<Workflow> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for w in workflows {
        match at.get(&w.name) {
            // RFC 3339 times in one zone (CircleCI answers UTC) order as strings.
            Some(&i) if w.created_at > out[i].created_at => out[i] = w,
            Some(_) => {}
            None => {
                at.insert(w.name.clone(), out.len());
                out.push(w);
            }
        }
    }
    out
}

/// The newest attempt of each workflow, in the order they started (whatever order the
/// pages came in), so progress lines and reruns are stable.
pub fn current_attempts(workflows: Vec<Workflow>) -> Vec<Workflow> {
    in_start_order(newest_per_name(workflows))
}

fn in_start_order(mut workflows: Vec<Workflow>) -> Vec<Workflow> {
    workflows.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
    workflows
}

/// One reading of the pipeline, and what the watcher remembers between readings.
pub struct PipelineWatch<'a> {
    api: &'a Api,
    pipeline_id: String,
    /// Set once known: the pipeline as last read.
    pipeline: Option<Pipeline>,
    /// A reading already made (by `status`/`wait` before waiting) to use instead of a GET.
    prefetched: Option<Pipeline>,
    created: bool,
    /// After a rerun: only these workflows count.
    only: Option<Vec<String>>,
    /// Workflows whose link was printed; `None` while the links are not wanted (`status`
    /// prints them on stdout instead).
    announced: Option<HashSet<String>>,
    /// Setup workflows by id: those tagged `setup`, and whatever was listed while the
    /// pipeline was in `setup` (nothing else can run then), in case a server leaves the tag
    /// out.
    setup_ids: HashSet<String>,
    /// Readings in a row on which the setup workflow had succeeded and nothing followed.
    setup_alone: u32,
    /// The workflows of the last reading, for the report and `status`.
    pub workflows: Vec<Workflow>,
}

impl<'a> PipelineWatch<'a> {
    pub fn new(api: &'a Api, pipeline_id: &str) -> Self {
        PipelineWatch {
            api,
            pipeline_id: pipeline_id.to_string(),
            pipeline: None,
            prefetched: None,
            created: false,
            only: None,
            announced: Some(HashSet::new()),
            setup_ids: HashSet::new(),
            setup_alone: 0,
            workflows: Vec::new(),
        }
    }

    pub fn with_pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline.clone());
        self.prefetched = Some(pipeline);
        self
    }

    /// Reads without printing each workflow's link.
    pub fn quiet(mut self) -> Self {
        self.announced = None;
        self
    }

    /// Watches only these workflows of an already created pipeline (the new attempts a
    /// rerun started).
    pub fn only(mut self, workflow_ids: Vec<String>) -> Self {
        self.only = Some(workflow_ids);
        self.created = true;
        self
    }

    pub fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        if !self.created {
            let p = match self.prefetched.take() {
                Some(p) => p,
                None => self.api.pipeline(ctx, &self.pipeline_id)?,
            };
            self.pipeline = Some(p.clone());
            match p.state.as_str() {
                "created" => self.created = true,
                "errored" => return Ok(errored(&p, self.announced.is_some())),
                // Its setup workflow runs, and may fail, be canceled or never continue.
                SETUP => {}
                // setup-pending, pending, and states this version does not know.
                other => return Ok(Observation::new(BuildState::Running, other)),
            }
        }
        let listed = self.api.workflows(ctx, &self.pipeline_id)?;
        for w in &listed {
            if !self.created || w.tag.as_deref() == Some(SETUP) {
                self.setup_ids.insert(w.id.clone());
            }
        }
        let workflows: Vec<Workflow> = match &self.only {
            Some(ids) => {
                in_start_order(listed.into_iter().filter(|w| ids.contains(&w.id)).collect())
            }
            None => current_attempts(listed),
        };
        for w in &workflows {
            if self
                .announced
                .as_mut()
                .is_some_and(|seen| seen.insert(w.id.clone()))
            {
                output::event(format!(
                    "{}workflow {} ({}): {}",
                    if self.is_setup(w) { "setup " } else { "" },
                    w.name,
                    w.id,
                    self.api.workflow_url(w)
                ));
            }
        }
        self.workflows = workflows;
        self.setup_alone = match self.judged() {
            Judged::SetupAlone => self.setup_alone + 1,
            _ => 0,
        };
        Ok(self.observation())
    }

    fn observation(&self) -> Observation {
        if let Some(ids) = &self.only {
            if self.workflows.len() < ids.len() {
                return Observation::new(
                    BuildState::Running,
                    "waiting for the rerun workflows to be listed",
                );
            }
        }
        let list = self
            .workflows
            .iter()
            .map(|w| format!("{}: {}", self.name(w), describe(&w.status)))
            .collect::<Vec<_>>()
            .join(", ");
        match self.judged() {
            Judged::NoneYet => Observation::new(
                BuildState::Running,
                format!("{}, no workflows yet", self.pipeline_state()),
            ),
            Judged::SetupAlone if self.gave_up_on_continuation() => {
                let why = if self.created {
                    "the configuration it continued to has no workflow"
                } else {
                    "it did not continue the pipeline"
                };
                Observation::new(
                    BuildState::Failed,
                    format!("{list}, but {why}: nothing ran after setup"),
                )
            }
            Judged::SetupAlone => Observation::new(
                BuildState::Running,
                format!("{list}; waiting for the workflows it continues to"),
            ),
            Judged::Is(state) => Observation::new(state, list),
        }
    }

    /// A workflow as progress lines name it: a setup workflow says so.
    pub fn name(&self, w: &Workflow) -> String {
        if self.is_setup(w) {
            format!("{} (setup)", w.name)
        } else {
            w.name.clone()
        }
    }

    pub fn is_setup(&self, w: &Workflow) -> bool {
        self.setup_ids.contains(&w.id)
    }

    pub fn judged(&self) -> Judged {
        judge(
            self.workflows
                .iter()
                .map(|w| (self.is_setup(w), w.status.as_str())),
        )
    }

    /// The setup workflow succeeded, and nothing followed it for long enough.
    pub fn gave_up_on_continuation(&self) -> bool {
        self.setup_alone >= CONTINUATION_READINGS
    }

    fn pipeline_state(&self) -> &str {
        match &self.pipeline {
            Some(p) if !self.created => &p.state,
            _ => "created",
        }
    }

    /// The statuses that make the pipeline's result.
    fn counted_statuses(&self) -> impl Iterator<Item = &str> + Clone {
        self.workflows
            .iter()
            .filter(|w| counts(self.is_setup(w), &w.status))
            .map(|w| w.status.as_str())
    }

    /// The report's status word for the last reading.
    pub fn status_word(&self) -> String {
        match &self.pipeline {
            Some(p) if p.state == "errored" => "errored".into(),
            Some(p) if !self.created && p.state != SETUP => p.state.clone(),
            _ => match self.judged() {
                Judged::NoneYet => self.pipeline_state().to_string(),
                Judged::SetupAlone if self.gave_up_on_continuation() => "not_run".into(),
                Judged::SetupAlone => self.pipeline_state().to_string(),
                Judged::Is(_) => summary_word(self.counted_statuses()),
            },
        }
    }
}

impl crate::build::Watch for PipelineWatch<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        PipelineWatch::poll(self, ctx)
    }

    fn status_word(&self, _last: &Observation) -> String {
        PipelineWatch::status_word(self)
    }
}

/// An errored pipeline fails with every message CircleCI gave, one event line each.
pub(super) fn errored(p: &Pipeline, print: bool) -> Observation {
    for e in p.errors.iter().filter(|_| print) {
        let kind = if e.kind.is_empty() { "error" } else { &e.kind };
        output::event(format!(
            "pipeline #{} error ({kind}): {}",
            p.number, e.message
        ));
    }
    let messages: Vec<&str> = p.errors.iter().map(|e| e.message.as_str()).collect();
    let text = if messages.is_empty() {
        "errored".to_string()
    } else {
        format!("errored: {}", messages.join("; "))
    };
    Observation::new(BuildState::Failed, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_statuses() {
        assert_eq!(kind("success"), Kind::Success);
        for failed in ["failed", "error", "unauthorized"] {
            assert_eq!(kind(failed), Kind::Failed, "{failed}");
        }
        assert_eq!(kind("canceled"), Kind::Canceled);
        assert_eq!(kind("not_run"), Kind::NotRun);
        for active in [
            "running",
            "failing",
            "on_hold",
            "queued",
            "something_new",
            crate::circleci::api::UNKNOWN_STATUS,
        ] {
            assert_eq!(kind(active), Kind::Active, "{active}");
        }
    }

    #[test]
    fn the_pipeline_result_needs_every_workflow() {
        use BuildState::*;
        let cases: &[(&[&str], BuildState)] = &[
            (&[], Running),
            (&["success"], Success),
            (&["success", "success", "success"], Success),
            (&["success", "failed", "success"], Failed),
            (&["success", "running"], Running),
            (&["failing", "success"], Running),
            (&["on_hold"], Running),
            (&["failed", "on_hold"], Running),
            (&["brand_new_status"], Running),
            (&["error"], Failed),
            (&["unauthorized", "success"], Failed),
            (&["canceled", "success"], Terminated),
            (&["canceled", "failed"], Failed),
            (&["not_run"], Failed),
            (&["not_run", "not_run"], Failed),
            (&["not_run", "success"], Success),
            (&["not_run", "canceled"], Terminated),
        ];
        for (statuses, want) in cases {
            assert_eq!(overall(statuses.iter().copied()), *want, "{statuses:?}");
        }
    }

    #[test]
    fn summary_words() {
        let word = |s: &[&str]| summary_word(s.iter().copied());
        assert_eq!(word(&["success", "not_run"]), "success");
        assert_eq!(word(&["success", "error", "failed"]), "error");
        assert_eq!(word(&["not_run"]), "not_run");
        assert_eq!(word(&["canceled", "success"]), "canceled");
        assert_eq!(word(&["running", "failing"]), "failing");
        assert_eq!(word(&["running", "on_hold"]), "on_hold");
        assert_eq!(word(&["running"]), "running");
        assert_eq!(word(&[]), "created");
    }

    fn wf(id: &str, name: &str, created_at: &str, status: &str) -> Workflow {
        Workflow {
            id: id.into(),
            name: name.into(),
            status: status.into(),
            created_at: created_at.into(),
            pipeline_number: 1,
            project_slug: "gh/o/r".into(),
            tag: None,
            stopped_at: None,
        }
    }

    #[test]
    fn a_setup_workflow_that_succeeded_only_leads_to_the_others() {
        use BuildState::*;
        let setup = |s| (true, s);
        let other = |s| (false, s);
        let cases: &[(&[(bool, &str)], Judged)] = &[
            (&[], Judged::NoneYet),
            (&[setup("running")], Judged::Is(Running)),
            (&[setup("failed")], Judged::Is(Failed)),
            (&[setup("canceled")], Judged::Is(Terminated)),
            (&[setup("not_run")], Judged::Is(Failed)),
            (&[setup("success")], Judged::SetupAlone),
            (&[setup("success"), other("running")], Judged::Is(Running)),
            (&[setup("success"), other("success")], Judged::Is(Success)),
            (&[setup("success"), other("failed")], Judged::Is(Failed)),
            // Continued, then everything it continued to was filtered out: nothing ran.
            (&[setup("success"), other("not_run")], Judged::Is(Failed)),
            (&[setup("running"), other("success")], Judged::Is(Running)),
            (&[setup("failed"), other("success")], Judged::Is(Failed)),
            (&[other("success")], Judged::Is(Success)),
        ];
        for (workflows, want) in cases {
            assert_eq!(judge(workflows.iter().copied()), *want, "{workflows:?}");
        }
    }

    #[test]
    fn reruns_replace_the_older_attempt_of_a_workflow() {
        let list = vec![
            wf("new-test", "test", "2026-11-01T10:05:00Z", "success"),
            wf("build", "build", "2026-11-01T10:00:00Z", "success"),
            wf("old-test", "test", "2026-11-01T10:00:00Z", "failed"),
        ];
        let ids: Vec<String> = newest_per_name(list).into_iter().map(|w| w.id).collect();
        assert_eq!(ids, vec!["new-test", "build"]);

        let list = vec![
            wf("old-test", "test", "2026-11-01T10:00:00Z", "failed"),
            wf("new-test", "test", "2026-11-01T10:05:00Z", "running"),
        ];
        let ids: Vec<String> = newest_per_name(list).into_iter().map(|w| w.id).collect();
        assert_eq!(ids, vec!["new-test"]);
    }

    #[test]
    fn statuses_that_need_explaining() {
        assert_eq!(describe("on_hold"), "on_hold (waiting for an approval)");
        assert!(describe("failing").contains("it will fail"));
        assert_eq!(describe("running"), "running");
    }
}
