//! A CircleCI pipeline's log in the calling job's log. API v2 lists each workflow's jobs
//! (`GET /workflow/ID/job`); only API v1.1 has a job's steps
//! (`GET /api/v1.1/project/VCS/ORG/REPO/NUMBER` → `steps[].actions[]`, one action per
//! parallel container), and each action's output is a signed download on another host
//! (`output_url`): a JSON array of `{message, time, type}`, fetched without the token and
//! read as it arrives. `follow` prints each job's steps once the job ended; `failed` the
//! last lines of each failed step of each failed job.

use std::collections::HashSet;
use std::io::BufRead;

use super::api::{Action, Api, Job, Workflow};
use super::watch::current_attempts;
use crate::error::{Error, Result};
use crate::logs::json::{Reader, Value};
use crate::logs::{self, Chunks, Logs, Printer, Tail};
use crate::output;
use crate::Ctx;

/// Job statuses that end a job; and of those, the ones that fail it.
const ENDED: &[&str] = &[
    "success",
    "failed",
    "infrastructure_fail",
    "timedout",
    "canceled",
    "terminated-unknown",
    "unauthorized",
    "not_run",
];
const FAILED: &[&str] = &[
    "failed",
    "infrastructure_fail",
    "timedout",
    "terminated-unknown",
    "unauthorized",
];

pub struct PipelineLog<'a> {
    api: &'a Api,
    pipeline: String,
    /// Jobs whose steps `follow` printed.
    printed: HashSet<String>,
}

impl<'a> PipelineLog<'a> {
    pub fn new(api: &'a Api, pipeline: &str) -> Self {
        PipelineLog {
            api,
            pipeline: pipeline.to_string(),
            printed: HashSet::new(),
        }
    }

    /// Every job of the newest attempt of each workflow (as the wait, or the read before,
    /// just listed them), with its workflow.
    fn jobs(&self, ctx: &Ctx) -> Result<Vec<(Workflow, Job)>> {
        let workflows = match self.api.workflows_seen(&self.pipeline) {
            Some(seen) => seen,
            None => self.api.workflows(ctx, &self.pipeline)?,
        };
        let mut all = Vec::new();
        for w in current_attempts(workflows) {
            for job in self.api.jobs(ctx, &w.id)? {
                all.push((w.clone(), job));
            }
        }
        Ok(all)
    }

    /// A job's steps, each under its header: every line, or the last `lines`; with
    /// `only_failed`, the failed steps only. A step whose output cannot be read is one
    /// warning line; the others are printed still.
    fn print_job(
        &self,
        ctx: &Ctx,
        out: &mut Printer,
        w: &Workflow,
        job: &Job,
        lines: Option<usize>,
        only_failed: bool,
    ) -> Result<()> {
        let Some(number) = job.job_number else {
            return Ok(());
        };
        let details = self.api.job_details(ctx, &job.project_slug, number)?;
        let link = self.api.job_url(w, number);
        let parallel = details.steps.iter().any(|s| s.actions.len() > 1);
        let mut shown = 0;
        for step in &details.steps {
            for action in &step.actions {
                if only_failed && !failed(action) {
                    continue;
                }
                shown += 1;
                let step_name = if step.name.is_empty() {
                    &action.name
                } else {
                    &step.name
                };
                let mut name = format!("{} › {step_name}", job.name);
                if parallel {
                    name.push_str(&format!(" [node {}]", action.index));
                }
                let status = action.status.as_deref().unwrap_or("unknown");
                let Some(url) = action.output_url.as_deref() else {
                    out.section(&name, status, Some(&link));
                    continue;
                };
                if let Err(e) = print_output(ctx, url, out, &name, status, &link, lines) {
                    logs::warn_unreadable(&name, &e);
                }
            }
        }
        if only_failed && shown == 0 {
            output::event(format!(
                "job {} ({}): no step is marked failed; see {link}",
                job.name, job.status
            ));
        }
        Ok(())
    }
}

fn failed(action: &Action) -> bool {
    action.failed == Some(true)
        || matches!(
            action.status.as_deref(),
            Some("failed" | "timedout" | "infrastructure_fail")
        )
}

fn is_build_job(job: &Job) -> bool {
    job.kind.as_deref() != Some("approval") && job.job_number.is_some()
}

impl Logs for PipelineLog<'_> {
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        for (w, job) in self.jobs(ctx)? {
            if is_build_job(&job)
                && ENDED.contains(&job.status.as_str())
                && !self.printed.contains(&job.id)
            {
                self.print_job(ctx, out, &w, &job, None, false)?;
                self.printed.insert(job.id);
            }
        }
        Ok(())
    }

    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()> {
        let jobs = self.jobs(ctx)?;
        let failed: Vec<_> = jobs
            .iter()
            .filter(|(_, j)| is_build_job(j) && FAILED.contains(&j.status.as_str()))
            .collect();
        // An errored pipeline has no jobs: its errors were said already.
        if failed.is_empty() && !jobs.is_empty() {
            output::event(format!(
                "pipeline {}: no job is marked failed",
                self.pipeline
            ));
        }
        for (w, job) in failed {
            self.print_job(ctx, out, w, job, Some(lines), true)?;
        }
        Ok(())
    }

    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()> {
        for (w, job) in self.jobs(ctx)? {
            if is_build_job(&job) {
                self.print_job(ctx, out, &w, &job, lines, false)?;
            }
        }
        Ok(())
    }
}

/// Downloads one step's output (a signed URL: no token goes with it) and prints it as it
/// arrives, or its last `lines`.
fn print_output(
    ctx: &Ctx,
    url: &str,
    out: &mut Printer,
    name: &str,
    status: &str,
    link: &str,
    lines: Option<usize>,
) -> Result<()> {
    let request = logs::download(url)
        .map_err(|why| Error::api(format!("CircleCI named the step's output at {why}")))?;
    let mut opened = ctx.http.open(&request)?;
    if !opened.response.is_success() {
        return Err(opened.response.error(
            "the step's signed output link was refused (it may have expired; see the job's page)",
        ));
    }
    let mut chunks = Chunks::default();
    let read = match lines {
        Some(n) => {
            let mut tail = Tail::new(n);
            let read = read_output(&mut opened, &mut |m| chunks.push(m, |l| tail.push(l)));
            chunks.flush(|l| tail.push(l));
            out.section(name, status, Some(link));
            out.tail(tail);
            read
        }
        None => {
            out.section(name, status, Some(link));
            let read = read_output(&mut opened, &mut |m| chunks.push(m, |l| out.line(l)));
            chunks.flush(|l| out.line(l));
            read
        }
    };
    read.map_err(|e| opened.read_failed("output", &e))
}

/// Reads a step's output (`[{"message": …, "time": …, "type": "out"}, …]`), handing each
/// message over as it is parsed; anything else in the list is not output.
pub fn read_output(body: &mut dyn BufRead, on: &mut dyn FnMut(&str)) -> std::io::Result<()> {
    let mut r = Reader::new(body);
    match r.value()? {
        Value::Array => {}
        Value::Null => return Ok(()),
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a list of output messages",
            ))
        }
    }
    while r.next_item()? {
        match r.value()? {
            Value::Object => {
                while let Some(key) = r.next_key()? {
                    if key != "message" {
                        r.skip()?;
                    } else if let Some(text) = r.text()? {
                        on(&text);
                    }
                }
            }
            other => r.close(&other)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(body: &str) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        read_output(&mut body.as_bytes(), &mut |m| out.push(m.to_string()))?;
        Ok(out)
    }

    #[test]
    fn output_as_circleci_stores_it() {
        assert_eq!(
            messages(r#"[{"message":"npm test\r\n","time":"2026-11-01T10:00:00Z","type":"out"},{"type":"err","message":"FAIL\r\n"},3,null]"#).unwrap(),
            ["npm test\r\n", "FAIL\r\n"]
        );
        assert!(messages("null").unwrap().is_empty());
        assert!(messages("[{\"message\": 1}]").unwrap().is_empty());
        assert!(messages("[{\"message\":").is_err());
        assert!(messages("{\"message\":\"x\"}").is_err());
    }

    #[test]
    fn failed_actions() {
        let action = |status: Option<&str>, failed_flag: Option<bool>| Action {
            name: "x".into(),
            status: status.map(str::to_string),
            failed: failed_flag,
            index: 0,
            output_url: None,
        };
        assert!(failed(&action(Some("failed"), None)));
        assert!(failed(&action(Some("timedout"), Some(false))));
        assert!(failed(&action(None, Some(true))));
        assert!(!failed(&action(Some("success"), Some(false))));
        assert!(!failed(&action(Some("canceled"), None)));
    }
}
