//! A pipeline's job traces (`GET /projects/P/jobs/JOB/trace`), through the log seam.
//!
//! `follow` reads, after each poll, only what each job's trace gained: it asks for the bytes
//! after what it has read (`Range: bytes=N-`); a server that ignores the range (GitLab's
//! trace endpoint sends the whole trace) has the bytes already read skipped. A line is
//! printed once it is complete, so a trace that grows mid-line is not cut in two.
//!
//! GitLab frames collapsible sections with `section_start:TIME:NAME[options]\r\e[0K` and
//! `section_end:TIME:NAME\r\e[0K`, which its web page hides: so does cirelay.

use std::collections::HashMap;

use super::api::{Api, Job};
use super::PipelineRef;
use crate::error::Result;
use crate::logs::{Logs, Printer, Tail, MAX_LINE};
use crate::Ctx;

/// A longer line without an end is printed as it is, so memory stays bounded.
const MAX_PARTIAL: usize = MAX_LINE * 4;

/// Job statuses whose trace cannot have begun.
const NOT_STARTED: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "manual",
    "scheduled",
    "skipped",
];

fn finished(status: &str) -> bool {
    matches!(status, "success" | "failed" | "canceled" | "skipped")
}

pub struct Traces<'a> {
    api: &'a Api,
    pipeline: PipelineRef,
    /// What `follow` has read of each job so far.
    read: HashMap<u64, Trace>,
    /// The job whose lines were printed last: another job's lines get their header first.
    last_printed: Option<u64>,
}

impl<'a> Traces<'a> {
    pub fn new(api: &'a Api, pipeline: PipelineRef) -> Self {
        Traces {
            api,
            pipeline,
            read: HashMap::new(),
            last_printed: None,
        }
    }

    fn jobs(&self, ctx: &Ctx, failed: bool) -> Result<Vec<Job>> {
        self.api
            .jobs(ctx, &self.pipeline.project, self.pipeline.id, failed)
    }

    /// A whole trace into `each`, line by line.
    fn whole(&self, ctx: &Ctx, job: &Job, each: &mut dyn FnMut(&str)) -> Result<()> {
        let mut trace = Trace::default();
        trace.read_more(ctx, self.api, &self.pipeline, job.id, each)?;
        trace.flush(each);
        Ok(())
    }
}

fn result_of(job: &Job) -> String {
    match (job.status.as_str(), job.allow_failure) {
        ("failed", true) => "failed, allowed to fail".to_string(),
        (status, _) => status.to_string(),
    }
}

impl Logs for Traces<'_> {
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        for job in self.jobs(ctx, false)? {
            if NOT_STARTED.contains(&job.status.as_str()) {
                continue;
            }
            let trace = self.read.entry(job.id).or_default();
            if trace.done {
                continue;
            }
            // Each line printed as it is read (a read that breaks off later keeps what it
            // printed: the offset has moved past it), under the job's header once it has one.
            let last_printed = &mut self.last_printed;
            let mut print = |l: &str| {
                if *last_printed != Some(job.id) {
                    out.section(&job.name, &result_of(&job), job.web_url.as_deref());
                    *last_printed = Some(job.id);
                }
                out.line(l);
            };
            trace.read_more(ctx, self.api, &self.pipeline, job.id, &mut print)?;
            if finished(&job.status) {
                trace.flush(&mut print);
                trace.done = true;
            }
        }
        Ok(())
    }

    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()> {
        for job in self.jobs(ctx, true)? {
            let mut tail = Tail::new(lines);
            self.whole(ctx, &job, &mut |l| tail.push(l))?;
            out.section(&job.name, &result_of(&job), job.web_url.as_deref());
            out.tail(tail);
        }
        Ok(())
    }

    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()> {
        for job in self.jobs(ctx, false)? {
            if NOT_STARTED.contains(&job.status.as_str()) {
                continue;
            }
            out.section(&job.name, &result_of(&job), job.web_url.as_deref());
            match lines {
                Some(n) => {
                    let mut tail = Tail::new(n);
                    self.whole(ctx, &job, &mut |l| tail.push(l))?;
                    out.tail(tail);
                }
                None => self.whole(ctx, &job, &mut |l| out.line(l))?,
            }
        }
        Ok(())
    }
}

/// How much of one job's trace has been read, and the start of a line not yet complete.
#[derive(Debug, Default)]
struct Trace {
    offset: u64,
    partial: Vec<u8>,
    done: bool,
}

impl Trace {
    /// Reads what the trace gained since the last read; each complete line goes to `each`.
    fn read_more(
        &mut self,
        ctx: &Ctx,
        api: &Api,
        pipeline: &PipelineRef,
        job: u64,
        each: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let Some((mut opened, mut skip)) = api.trace(ctx, &pipeline.project, job, self.offset)?
        else {
            return Ok(());
        };
        while let Some(chunk) = opened.next_chunk()? {
            let mut chunk = chunk.as_slice();
            if skip > 0 {
                let n = chunk.len().min(usize::try_from(skip).unwrap_or(usize::MAX));
                chunk = &chunk[n..];
                skip -= n as u64;
            }
            self.offset += chunk.len() as u64;
            self.take(chunk, each);
        }
        Ok(())
    }

    /// Splits bytes into lines; what follows the last newline waits for the next read.
    fn take(&mut self, mut bytes: &[u8], each: &mut dyn FnMut(&str)) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&bytes[..end]);
            emit(&std::mem::take(&mut self.partial), each);
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        if self.partial.len() > MAX_PARTIAL {
            emit(&std::mem::take(&mut self.partial), each);
        }
    }

    /// The trace is complete: its last line, if it has no newline.
    fn flush(&mut self, each: &mut dyn FnMut(&str)) {
        if !self.partial.is_empty() {
            emit(&std::mem::take(&mut self.partial), each);
        }
    }
}

fn emit(line: &[u8], each: &mut dyn FnMut(&str)) {
    if let Some(text) = without_sections(&String::from_utf8_lossy(line)) {
        each(&text);
    }
}

/// The line without GitLab's section markers; `None` when nothing else was on it.
pub fn without_sections(line: &str) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    let mut had_marker = false;
    loop {
        let next = ["section_start:", "section_end:"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            break;
        };
        match marker_end(&rest[at + len..]) {
            Some(end) => {
                out.push_str(&rest[..at]);
                rest = &rest[at + len + end..];
                had_marker = true;
            }
            None => {
                out.push_str(&rest[..at + len]);
                rest = &rest[at + len..];
            }
        }
    }
    let blank = crate::sanitize::printable(&out).trim().is_empty();
    (!(had_marker && blank)).then_some(out)
}

/// After `section_start:`: `TIME:NAME[options]\r` and an optional `\e[0K`; its length.
fn marker_end(s: &str) -> Option<usize> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || s.as_bytes().get(digits) != Some(&b':') {
        return None;
    }
    let name = &s[digits + 1..];
    let name_len = name
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    if name_len == 0 {
        return None;
    }
    let mut i = digits + 1 + name_len;
    if s[i..].starts_with('[') {
        i += s[i..].find(']')? + 1;
    }
    if !s[i..].starts_with('\r') {
        return None;
    }
    i += 1;
    if s[i..].starts_with("\u{1b}[0K") {
        i += 4;
    }
    Some(i)
}

/// How a trace's bytes become printed lines, without a server; for the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn read_trace(bytes: &[u8]) {
    let mut trace = Trace::default();
    let mut sink = |l: &str| {
        let _ = crate::logs::log_line(l);
    };
    for chunk in bytes.chunks(7) {
        trace.take(chunk, &mut sink);
    }
    trace.flush(&mut sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(chunks: &[&[u8]]) -> Vec<String> {
        let mut trace = Trace::default();
        let mut out = Vec::new();
        for chunk in chunks {
            trace.take(chunk, &mut |l| out.push(l.to_string()));
        }
        trace.flush(&mut |l| out.push(l.to_string()));
        out
    }

    #[test]
    fn lines_are_whole_across_reads() {
        assert_eq!(
            lines_of(&[b"one\ntw", b"o\nthr", "ee é".as_bytes()]),
            ["one", "two", "three é"]
        );
        // A character split between two reads is joined before it is decoded.
        let e = "é".as_bytes();
        assert_eq!(lines_of(&[&[b'a', e[0]], &[e[1], b'\n']]), ["aé"]);
        let long = vec![b'x'; MAX_PARTIAL + 10];
        let out = lines_of(&[&long]);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn section_markers_are_hidden() {
        assert_eq!(
            without_sections("\u{1b}[0Ksection_start:1560896352:step_script[collapsed=true]\r\u{1b}[0K\u{1b}[0K\u{1b}[36;1mExecuting\u{1b}[0;m"),
            Some("\u{1b}[0K\u{1b}[0K\u{1b}[36;1mExecuting\u{1b}[0;m".to_string())
        );
        assert_eq!(
            without_sections("section_end:1560896353:step_script\r\u{1b}[0K"),
            None
        );
        assert_eq!(
            without_sections("\u{1b}[0Ksection_end:1:a\r\u{1b}[0K"),
            None
        );
        assert_eq!(without_sections(""), Some(String::new()));
        for kept in [
            "section_start: not a marker",
            "echo section_end:12",
            "section_start:1:x no cr",
        ] {
            assert_eq!(without_sections(kept).as_deref(), Some(kept));
        }
    }
}
