//! Downstream logs: pipeline A's log shows what pipeline B printed. A provider says how to
//! read its builds' logs ([`Logs`]); this module prints them the one way every provider's
//! are printed: to stderr (stdout keeps only the id), under one header line per step or job
//! (its name, result and link), each line redacted and cleaned to keep SGR colour only, and
//! never longer than [`MAX_LINE`]. A log is someone else's text: nothing in it can rewrite
//! cirelay's own lines, leak a registered secret, or hold memory (lines are streamed; a
//! tail keeps only the lines it will print).

pub mod json;
mod lines;

pub use lines::Chunks;

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::output;
use crate::sanitize;
use crate::secrets::redact;
use crate::Ctx;

/// How much of a downstream build's log a waiting command prints (`--logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// Each step's or job's lines as they become available.
    Follow,
    /// Once the build failed, the last lines of each failed step or job.
    Failed,
    None,
}

impl LogMode {
    pub fn parse(raw: &str, source: &str) -> Result<Self> {
        match raw.trim() {
            "follow" => Ok(LogMode::Follow),
            "failed" => Ok(LogMode::Failed),
            "none" => Ok(LogMode::None),
            other => Err(Error::usage(format!(
                "{source}: `{other}` is not follow, failed or none"
            ))),
        }
    }
}

/// `--log-lines`: the lines of each failed step or job that `failed` prints.
pub const DEFAULT_LOG_LINES: usize = 200;
/// A longer line is cut: a log that never ends a line must not grow cirelay's memory.
pub const MAX_LINE: usize = 4096;

/// A build's log as its provider can read it.
pub trait Logs {
    /// Prints what became available since the last call (`--logs follow`): called after each
    /// poll while the build runs, and once more when it finished.
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()>;

    /// Waits up to `pause` for more of the log, printing it as it arrives. A provider whose
    /// log is read by polling simply sleeps.
    fn stream(&mut self, _ctx: &Ctx, _out: &mut Printer, pause: Duration) -> Result<()> {
        crate::abort::sleep(pause);
        Ok(())
    }

    /// The build finished: prints what the log still holds and anything held back (a last
    /// line without its line break). A log that streams reads it all once more here, as the
    /// build's end may reach the API before its last lines are streamed.
    fn finish(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        self.follow(ctx, out)
    }

    /// The last `lines` lines of each failed step or job.
    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()>;

    /// Every step or job, each its last `lines` lines when given (`PROVIDER logs BUILD`).
    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()>;
}

/// Prints downstream log sections and lines to stderr.
#[derive(Debug, Default)]
pub struct Printer {
    /// Lines printed, for the tests of what reached the log (and the benchmarks).
    pub printed: usize,
    /// The build the sections belong to, when several builds' logs are printed together.
    pub scope: Option<String>,
}

impl Printer {
    /// The header of one step or job: `── log of STEP (RESULT) LINK`.
    pub fn section(&mut self, name: &str, result: &str, link: Option<&str>) {
        let link = link.map(|l| format!(" {l}")).unwrap_or_default();
        let name = match &self.scope {
            Some(scope) => format!("{scope} › {name}"),
            None => name.to_string(),
        };
        output::event(format!("── log of {name} ({result}){link}"));
    }

    /// One line of a downstream log, as it was written there (colour kept).
    pub fn line(&mut self, text: &str) {
        let line = log_line(text);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "  {line}");
        self.printed += 1;
    }

    /// Prints what a tail kept, saying first how many lines came before it.
    pub fn tail(&mut self, tail: Tail) {
        if tail.skipped > 0 {
            self.line(&format!("… ({} earlier lines)", tail.skipped));
        }
        for line in tail.lines {
            self.line(&line);
        }
    }
}

/// A downstream line as it may be printed: cut to [`MAX_LINE`], control characters but SGR
/// colour and tab removed, secrets redacted (before and after cleaning, as removing a
/// character could join a secret again).
pub fn log_line(text: &str) -> String {
    let cut: String = text.chars().take(MAX_LINE).collect();
    let cut = cut.trim_end_matches(['\r', '\n']);
    redact(&sanitize::log_line(&redact(cut)).replace('\n', " "))
}

/// The last lines of a log read from the start: only they are kept.
#[derive(Debug)]
pub struct Tail {
    lines: VecDeque<String>,
    keep: usize,
    skipped: usize,
}

impl Tail {
    pub fn new(keep: usize) -> Self {
        Tail {
            lines: VecDeque::new(),
            keep,
            skipped: 0,
        }
    }

    pub fn push(&mut self, line: &str) {
        if self.keep == 0 {
            self.skipped += 1;
            return;
        }
        if self.lines.len() == self.keep {
            self.lines.pop_front();
            self.skipped += 1;
        }
        self.lines.push_back(line.chars().take(MAX_LINE).collect());
    }
}

/// A log that cannot be read (an expired token, a 403 on a signed URL, a log host that is
/// down) is one warning line: the command's result stays the build's.
pub fn warn_unreadable(what: &str, e: &Error) {
    output::event(format!("warning: could not read the log of {what}: {e}"));
}

/// A URL from an API answer that a log is read from (a signed download, a log database):
/// absolute http(s), one line, no space. Plain http leaves only for this machine (the HTTP
/// layer refuses it otherwise, unless `CIRELAY_ALLOW_HTTP=1`).
pub fn checked_url(url: &str) -> std::result::Result<&str, String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return Err(format!("{}, which is not an http(s) URL", shown(url)));
    };
    let host = url[scheme..].split(['/', '?', '#']).next().unwrap_or("");
    if url.len() > 8192
        || host.is_empty()
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("{}, which is not a usable URL", shown(url)));
    }
    Ok(url)
}

/// The order of `n` things by `compare` of their indices: one sort for every list a log is
/// put in order by (entries, steps), compiled once rather than once per kind of list.
pub fn order(n: usize, compare: &dyn Fn(usize, usize) -> std::cmp::Ordering) -> Vec<usize> {
    let mut at: Vec<usize> = (0..n).collect();
    at.sort_unstable_by(|a, b| compare(*a, *b));
    at
}

/// The request that downloads a log from a URL an answer named (a signed link on another
/// host): no header of the API's, so no credential goes along; one redirect is followed.
/// The link's query (its signature) is a credential of its own and never printed.
pub fn download(url: &str) -> std::result::Result<crate::http::Request, String> {
    let url = checked_url(url)?;
    if let Some((_, query)) = url.split_once('?') {
        crate::secrets::register_secret(query);
    }
    Ok(crate::http::Request::get(url).follows_one_redirect())
}

/// A value from an answer as an error line may show it: escaped, short, redacted.
fn shown(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    redact(&format!("{short:?}"))
}

/// The logs of several builds followed at once (`codefresh wait ID…`): each section names
/// its build, and a pause is shared out in short turns so no build's lines wait long.
pub struct Several<'a> {
    logs: Vec<(String, Box<dyn Logs + Send + 'a>)>,
}

/// A turn of one build's log in a shared pause.
const TURN: Duration = Duration::from_millis(50);

impl<'a> Several<'a> {
    pub fn new(logs: Vec<(String, Box<dyn Logs + Send + 'a>)>) -> Self {
        Several { logs }
    }

    /// Runs `step` on each build's log; one that cannot be read is said once and dropped,
    /// the others go on.
    fn each(
        &mut self,
        out: &mut Printer,
        mut step: impl FnMut(&mut dyn Logs, &mut Printer) -> Result<()>,
    ) -> Result<()> {
        let scope = out.scope.take();
        self.logs.retain_mut(|(name, log)| {
            out.scope = Some(name.clone());
            match step(log.as_mut(), out) {
                Ok(()) => true,
                Err(e) => {
                    warn_unreadable(name, &e);
                    false
                }
            }
        });
        out.scope = scope;
        Ok(())
    }
}

impl Logs for Several<'_> {
    fn follow(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        self.each(out, |log, out| log.follow(ctx, out))
    }

    fn stream(&mut self, ctx: &Ctx, out: &mut Printer, pause: Duration) -> Result<()> {
        let until = std::time::Instant::now() + pause;
        let turn = TURN
            .checked_div(self.logs.len().max(1) as u32)
            .unwrap_or(TURN);
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            let slice = turn.min(left);
            self.each(out, |log, out| log.stream(ctx, out, slice))?;
        }
    }

    fn finish(&mut self, ctx: &Ctx, out: &mut Printer) -> Result<()> {
        self.each(out, |log, out| log.finish(ctx, out))
    }

    fn failed(&mut self, ctx: &Ctx, out: &mut Printer, lines: usize) -> Result<()> {
        self.each(out, |log, out| log.failed(ctx, out, lines))
    }

    fn all(&mut self, ctx: &Ctx, out: &mut Printer, lines: Option<usize>) -> Result<()> {
        self.each(out, |log, out| log.all(ctx, out, lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(LogMode::parse("follow", "--logs").unwrap(), LogMode::Follow);
        assert_eq!(LogMode::parse(" none", "--logs").unwrap(), LogMode::None);
        let err = LogMode::parse("all", "CIRELAY_LOGS").unwrap_err();
        assert_eq!(err.exit_code(), 4);
        assert!(err.to_string().contains("CIRELAY_LOGS"), "{err}");
    }

    #[test]
    fn a_tail_keeps_only_the_last_lines() {
        let mut tail = Tail::new(2);
        for n in 0..1000 {
            tail.push(&format!("line {n}"));
        }
        assert_eq!(tail.skipped, 998);
        assert_eq!(tail.lines, ["line 998", "line 999"]);
        let mut none = Tail::new(0);
        none.push("x");
        assert_eq!((none.skipped, none.lines.len()), (1, 0));
    }

    #[test]
    fn log_urls_from_answers() {
        for good in [
            "https://storage.example.com/logs/1?sig=abc",
            "http://127.0.0.1:9/x",
            "HTTPS://x",
        ] {
            assert_eq!(checked_url(good), Ok(good));
        }
        for bad in [
            "",
            "ftp://x/y",
            "//evil/x",
            "https://",
            "https:///path",
            "https://a b",
            "https://x/\nCF_API_KEY=1",
            "https://x/\u{1b}]0;t",
        ] {
            assert!(checked_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_lines_keep_colour_and_nothing_else() {
        crate::secrets::register_secret("log-secret-0123456789");
        assert_eq!(
            log_line("\u{1b}[32mok\u{1b}[0m token log-secret-0123456789\r\n"),
            "\u{1b}[32mok\u{1b}[0m token ***"
        );
        assert_eq!(log_line("\rfake\u{1b}]0;title\u{7}\u{1b}[2K"), "fake");
        assert_eq!(log_line(&"x".repeat(10_000)).len(), MAX_LINE);
    }
}
