//! A run's job logs: `GET …/runs/ID/jobs` (every page) names the jobs of the newest
//! attempt, and `GET …/actions/jobs/JOB/logs` answers 302 to a signed address on another
//! host, which the HTTP layer follows once, without the token. A job's log is there once the
//! job finished, so `follow` prints each job whole when it completes.

use std::collections::HashSet;

use super::api::{Api, Job};
use super::RunRef;
use crate::error::Result;
use crate::logs::{self, Logs, Printer, Tail, MAX_LINE};
use crate::output;
use crate::Ctx;

/// Conclusions of jobs whose log says why the run failed.
const FAILED: &[&str] = &["failure", "timed_out", "startup_failure"];

pub struct JobLogs<'a> {
    api: &'a Api,
    run: RunRef,
    /// Jobs whose log `follow` printed.
    printed: HashSet<u64>,
}

impl<'a> JobLogs<'a> {
    pub fn new(api: &'a Api, run: &RunRef) -> Self {
        JobLogs {
            api,
            run: run.clone(),
            printed: HashSet::new(),
        }
    }

    /// The jobs of the newest attempt; right after a rerun GitHub may still list the jobs
    /// of the attempt that was rerun, which are not this one's.
    fn jobs(&self, ctx: &Ctx) -> Result<Vec<Job>> {
        let jobs = self.api.jobs(ctx, &self.run)?;
        Ok(match self.run.after_attempt {
            Some(rerun) => jobs
                .into_iter()
                .filter(|j| j.run_attempt.is_none_or(|a| a > rerun))
                .collect(),
            None => jobs,
        })
    }

    /// One job under its header: the whole log, or its last `lines` lines. A log that
    /// cannot be read is one warning line; the other jobs' logs are still printed.
    fn print(&self, ctx: &Ctx, out: &mut Printer, job: &Job, lines: Option<usize>) {
        let link = self.api.job_url(&self.run, job.id);
        out.section(&job.name, job.word(), Some(&link));
        if !job.is_completed() {
            out.line("(its log is there once the job finished)");
            return;
        }
        if let Err(e) = self.read(ctx, out, job, lines) {
            logs::warn_unreadable(&format!("job {}", job.name), &e);
        }
    }

    fn read(&self, ctx: &Ctx, out: &mut Printer, job: &Job, lines: Option<usize>) -> Result<()> {
        let mut log = self.api.job_log(ctx, &self.run.repo, job.id)?;
        let mut tail = lines.map(Tail::new);
        while let Some(raw) = log.next_line(MAX_LINE)? {
            let Some(line) = shown(&raw) else { continue };
            match tail.as_mut() {
                Some(t) => t.push(&line),
                None => out.line(&line),
            }
        }
        if let Some(t) = tail {
            out.tail(t);
        }
        Ok(())
    }
}

impl Logs for JobLogs<'_> {
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        for job in self.jobs(ctx)? {
            if job.is_completed() && self.printed.insert(job.id) {
                self.print(ctx, out, &job, None);
            }
        }
        Ok(())
    }

    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()> {
        let jobs = self.jobs(ctx)?;
        let failed: Vec<&Job> = jobs
            .iter()
            .filter(|j| j.conclusion.as_deref().is_some_and(|c| FAILED.contains(&c)))
            .collect();
        if failed.is_empty() {
            output::event(format!(
                "no job of run {} failed with a log to show ({}): see {}",
                self.run.id,
                if jobs.is_empty() {
                    "it has no jobs: the workflow file may be invalid".to_string()
                } else {
                    jobs.iter()
                        .map(|j| format!("{} {}", j.name, j.word()))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                self.api.run_url(&self.run)
            ));
        }
        for job in failed {
            self.print(ctx, out, job, Some(lines));
        }
        Ok(())
    }

    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()> {
        for job in self.jobs(ctx)? {
            self.print(ctx, out, &job, lines);
        }
        Ok(())
    }
}

/// A job log line as the web app shows it: without the timestamp GitHub puts before every
/// line (and the byte-order mark before the first), a group's `##[group]` marker as its
/// title, `##[endgroup]` dropped, `##[error]`/`##[warning]` said in words. The markers are
/// also the older form of workflow commands, which the runner of a calling GitHub job would
/// act on.
pub fn shown(raw: &str) -> Option<String> {
    let line = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let line = match line.split_once(' ') {
        Some((first, rest)) if is_timestamp(first) => rest,
        _ if is_timestamp(line.trim_end()) => "",
        _ => line,
    };
    let Some(marked) = line.strip_prefix("##[") else {
        return Some(line.to_string());
    };
    let Some((marker, text)) = marked.split_once(']') else {
        return Some(line.to_string());
    };
    Some(match marker {
        "endgroup" => return None,
        "group" | "command" | "section" => text.to_string(),
        "error" => format!("Error: {text}"),
        "warning" => format!("Warning: {text}"),
        "notice" => format!("Notice: {text}"),
        "debug" => format!("Debug: {text}"),
        // Not for a runner upstream to act on either.
        other => format!("[{other}] {text}"),
    })
}

/// `2026-03-01T10:00:00.1234567Z`.
fn is_timestamp(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 20
        && b.len() <= 40
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && word.ends_with('Z')
        && crate::time::rfc3339(word).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_the_web_app_shows_them() {
        assert_eq!(
            shown("\u{feff}2026-03-01T10:00:00.1234567Z ##[group]Run make test").as_deref(),
            Some("Run make test")
        );
        assert_eq!(shown("2026-03-01T10:00:01.0000000Z ##[endgroup]"), None);
        assert_eq!(
            shown("2026-03-01T10:00:02.5Z ##[error]Process completed with exit code 2.").as_deref(),
            Some("Error: Process completed with exit code 2.")
        );
        assert_eq!(
            shown("2026-03-01T10:00:02.5Z   indented text").as_deref(),
            Some("  indented text")
        );
        assert_eq!(shown("2026-03-01T10:00:02.5Z").as_deref(), Some(""));
        assert_eq!(
            shown("no timestamp here").as_deref(),
            Some("no timestamp here")
        );
        assert_eq!(
            shown("2026-13-01T10:00:02.5Z text").as_deref(),
            Some("2026-13-01T10:00:02.5Z text")
        );
        assert_eq!(
            shown("##[set-output name=x;]forged").as_deref(),
            Some("[set-output name=x;] forged")
        );
        assert_eq!(shown("##[broken").as_deref(), Some("##[broken"));
    }
}
