//! What cirelay prints. stderr: one line per event with the elapsed time (CI logs are not
//! terminals, so no spinners). stdout: only the id of a started build (text), or one JSON
//! object at the end (json), so `ID=$(cirelay …)` works.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::build::Build;
use crate::cli::OutputMode;
use crate::error::{Error, Result};
use crate::lock;
use crate::sanitize;
use crate::secrets::redact;
use crate::wait::BuildState;

static START: OnceLock<Instant> = OnceLock::new();

/// Starts the clock that event lines count from.
pub fn start_clock() {
    START.get_or_init(Instant::now);
}

/// Inside a GitHub Actions job the runner acts on workflow commands in every line a step
/// prints, on stdout and stderr alike: `::set-output name=…::` at the start of a line (after
/// spaces), and the older `##[add-mask]…` anywhere in it. What cirelay prints carries text
/// from other systems (downstream logs, names, error answers), which must not set the
/// caller's outputs or masks; so while cirelay runs, command processing is stopped with a
/// token nobody can guess (`::stop-commands::TOKEN`) and resumed (`::TOKEN::`) at the end.
/// Outside GitHub Actions nothing is printed.
pub struct WorkflowCommands {
    resume: Option<String>,
}

impl WorkflowCommands {
    pub fn stop() -> Self {
        if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
            return WorkflowCommands { resume: None };
        }
        let token = unguessable_token();
        write_stderr(&format!("::stop-commands::{token}"));
        WorkflowCommands {
            resume: Some(token),
        }
    }

    /// Called on every way out (the process exits without unwinding, so not a `Drop`).
    pub fn resume(self) {
        if let Some(token) = self.resume {
            let _ = std::io::stdout().lock().flush();
            write_stderr(&format!("::{token}::"));
        }
    }
}

/// 128 random bits as hex, from the keys std seeds its hash maps with (the OS's random
/// source, `getrandom(2)`: no `/dev/urandom` needed in an empty root).
fn unguessable_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(0);
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

fn write_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints one progress line to stderr, secrets and control characters removed.
pub fn event(message: impl AsRef<str>) {
    let elapsed = START.get_or_init(Instant::now).elapsed();
    let line = printable_line(message.as_ref());
    // A closed stderr (a log collector gone) must not abort the command: the build it
    // started still deserves its exit code.
    let _ = writeln!(
        std::io::stderr().lock(),
        "[{:>7.1}s] {line}",
        elapsed.as_secs_f64()
    );
}

/// `text` as one printable line: redacted, free of control characters (a newline becomes a
/// space), and redacted once more, since removing a character may join a secret again.
pub fn printable_line(text: &str) -> String {
    redact(&sanitize::printable(&redact(text)).replace('\n', " "))
}

/// The one line a failed command ends with; `cirelay: error:` keeps it easy to find in a log.
pub fn error(message: impl AsRef<str>) {
    event(format!("cirelay: error: {}", message.as_ref()));
}

/// `1.5s`, `2m05s`: durations as people read them in a log.
pub fn seconds(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// How a command ended, as the JSON `result` and the exit code say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failed,
    Terminated,
    Timeout,
    /// Started (or read) without waiting for the end.
    Started,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Terminated => "terminated",
            Outcome::Timeout => "timeout",
            Outcome::Started => "started",
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success | Outcome::Started => 0,
            Outcome::Failed => 1,
            Outcome::Terminated => 2,
            Outcome::Timeout => 3,
        }
    }

    /// A finished build's outcome; a build still running was only started (or read).
    pub fn of(state: BuildState) -> Self {
        match state {
            BuildState::Success => Outcome::Success,
            BuildState::Failed => Outcome::Failed,
            BuildState::Terminated => Outcome::Terminated,
            BuildState::Running => Outcome::Started,
        }
    }
}

/// The end of a command: what JSON mode prints and what decides the exit code.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub provider: &'static str,
    pub action: &'static str,
    pub id: String,
    pub number: Option<u64>,
    pub url: Option<String>,
    /// The provider's own status word (`success`, `error`, `canceled`, …).
    pub status: String,
    pub result: Outcome,
}

impl Report {
    /// The report of `action` on `build`, ending with `result`.
    pub fn of(
        provider: &'static str,
        action: &'static str,
        build: &Build,
        result: Outcome,
    ) -> Self {
        Report {
            provider,
            action,
            id: build.id.clone(),
            number: build.number,
            url: build.url.clone(),
            status: build.status.clone(),
            result,
        }
    }

    /// The report of a command that showed, listed or changed something other than a build
    /// (a pipeline, a project, a list): `id` names it, and it succeeded.
    pub fn resource(
        provider: &'static str,
        action: &'static str,
        id: &str,
        url: Option<String>,
        status: String,
    ) -> Self {
        Report {
            provider,
            action,
            id: id.to_string(),
            number: None,
            url,
            status,
            result: Outcome::Success,
        }
    }
}

/// The JSON object, its keys in the contract's order.
#[derive(Serialize)]
struct JsonReport<'a> {
    provider: &'a str,
    action: &'a str,
    id: &'a str,
    number: Option<u64>,
    url: Option<&'a str>,
    status: &'a str,
    result: &'a str,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string(&JsonReport {
            provider: self.provider,
            action: self.action,
            id: &self.id,
            number: self.number,
            url: self.url.as_deref(),
            status: &self.status,
            result: self.result.as_str(),
        })
        .expect("a report is plain data")
    }
}

#[derive(Debug)]
pub struct Output {
    pub mode: OutputMode,
    /// The build this command started, kept so that JSON mode can still print it when the
    /// command fails afterwards (the id must not be lost with the error).
    started: Mutex<Option<Report>>,
    /// The command wrote its answer on stdout itself (a list of builds): JSON mode adds no
    /// report object after it.
    answered: std::sync::atomic::AtomicBool,
}

impl Output {
    pub fn new(mode: OutputMode) -> Self {
        Output {
            mode,
            started: Mutex::new(None),
            answered: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Lines that are the command's whole answer (a table, JSON Lines), on stdout.
    pub fn answer(&self, lines: &[String]) {
        for line in lines {
            stdout_text(line);
        }
        self.answered
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// A build was started or restarted: its id goes to stdout at once (text mode), and
    /// its id and URL are exported the CI-native way. `build` is the report as it stands at
    /// the start (result `Started`), which JSON mode prints should the command fail later.
    /// Providers check ids and links where they read them; a value that still carries a
    /// control character is refused here, never written into a file later steps source.
    /// Announcing the same build twice (a provider that announces it as soon as the first
    /// of several requests started it) prints and exports it once.
    pub fn started(&self, build: &Report) -> Result<()> {
        debug_assert_eq!(build.result, Outcome::Started);
        if lock(&self.started)
            .as_ref()
            .is_some_and(|b| b.id == build.id)
        {
            return Ok(());
        }
        let url = build.url.as_deref().unwrap_or("");
        for (what, value) in [("id", build.id.as_str()), ("link", url)] {
            if !exportable(value) {
                return Err(Error::UnknownOutcome(format!(
                    "{} answered a build {what} with a control character or a space (`{}`), which cirelay will not write into the CI's export files; the build may have started — check the provider's build list",
                    build.provider,
                    value.escape_debug()
                )));
            }
        }
        if self.mode == OutputMode::Text {
            stdout_line(&build.id);
        }
        export_build(&build.id, url);
        *lock(&self.started) = Some(build.clone());
        Ok(())
    }

    /// One of several builds a fan-out started: its id on stdout at once (text mode). The
    /// CI export files name one build, so they are left to single starts.
    pub fn started_one_of_several(&self, build: &Report) -> Result<()> {
        if !exportable(&build.id) {
            return Err(Error::UnknownOutcome(format!(
                "{} answered a build id with a control character or a space (`{}`); the build may have started — check the provider's build list",
                build.provider,
                build.id.escape_debug()
            )));
        }
        if self.mode == OutputMode::Text {
            stdout_line(&build.id);
        }
        Ok(())
    }

    /// A command's own answer in text mode (e.g. `status` prints the status word).
    pub fn text(&self, line: &str) {
        if self.mode == OutputMode::Text {
            stdout_line(line);
        }
    }

    pub fn finish(&self, report: &Report) {
        if self.mode == OutputMode::Json
            && !self.answered.load(std::sync::atomic::Ordering::Relaxed)
        {
            stdout_line(&report.to_json());
        }
    }

    /// The command failed (exit 4–6). In JSON mode, a build it had started is still
    /// printed, as far as it was known (`result: started`); otherwise stdout stays empty.
    pub fn finish_after_error(&self) {
        if self.mode == OutputMode::Json {
            if let Some(build) = lock(&self.started).as_ref() {
                stdout_line(&build.to_json());
            }
        }
    }
}

/// One line on stdout; a closed pipe (`cirelay … | head -1`) is not an error of cirelay's.
pub fn stdout_line(line: &str) {
    write_stdout(&printable_line(line));
}

/// Text of several lines on stdout (help, a table), printable and redacted.
pub fn stdout_text(text: &str) {
    write_stdout(&redact(&sanitize::printable(&redact(text))));
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// A value that may go into an export file: no control character (a newline would add a
/// variable of the API's choosing), no space, no bidi override.
fn exportable(value: &str) -> bool {
    sanitize::printable(value) == value && !value.contains(['\n', '\t', ' '])
}

/// Where the CI system running cirelay lets a step hand values to later steps.
fn export_build(id: &str, url: &str) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(volume) = env("CF_VOLUME_PATH") {
        append(
            &format!("{volume}/env_vars_to_export"),
            &format!("CIRELAY_BUILD_ID={id}\nCIRELAY_BUILD_URL={url}\n"),
        );
    }
    // BASH_ENV alone is an ordinary bash feature; only CircleCI sources it between steps.
    if let (Some(_), Some(bash_env)) = (env("CIRCLECI"), env("BASH_ENV")) {
        append(
            &bash_env,
            &format!(
                "export CIRELAY_BUILD_ID={}\nexport CIRELAY_BUILD_URL={}\n",
                shell_quote(id),
                shell_quote(url)
            ),
        );
    }
    if let Some(github_output) = env("GITHUB_OUTPUT") {
        append(&github_output, &format!("build_id={id}\nbuild_url={url}\n"));
    }
    // Any CI: GitLab hands a job's `artifacts:reports:dotenv` file to later jobs, other
    // systems read such a file with `set -a; . FILE`.
    if let Some(dotenv) = env(DOTENV_VAR) {
        append(
            &dotenv,
            &format!("CIRELAY_BUILD_ID={id}\nCIRELAY_BUILD_URL={url}\n"),
        );
    }
}

/// Names a `KEY=VALUE` file that a start appends the build's id and link to.
pub const DOTENV_VAR: &str = "CIRELAY_DOTENV";

fn append(path: &str, text: &str) {
    if let Err(e) = append_to_regular_file(path, text) {
        event(format!(
            "warning: could not export the build id to {path}: {e}"
        ));
    }
}

/// One downstream build in the calling GitHub run's summary page.
#[derive(Debug, Clone)]
pub struct Summarized {
    pub provider: &'static str,
    pub build: String,
    pub result: Outcome,
    pub duration: Duration,
    pub url: Option<String>,
}

/// With `GITHUB_STEP_SUMMARY` set (inside GitHub Actions), a finished wait appends a
/// Markdown table of the downstream builds, so the calling run's summary page shows them.
pub fn step_summary(builds: &[Summarized]) {
    let Some(path) = std::env::var("GITHUB_STEP_SUMMARY")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        return;
    };
    // Values come from API answers: a `|` or a newline would break the table's rows.
    let cell = |s: &str| {
        printable_line(s)
            .replace('|', "\\|")
            .replace(['<', '>'], "")
    };
    let mut table =
        String::from("\n| provider | build | result | duration | link |\n|---|---|---|---|---|\n");
    for b in builds {
        let link = b
            .url
            .as_deref()
            .map(|u| format!("[{}]({})", cell(&b.build), cell(u)))
            .unwrap_or_default();
        table.push_str(&format!(
            "| {} | {} | {} | {} | {link} |\n",
            b.provider,
            cell(&b.build),
            b.result.as_str(),
            seconds(b.duration)
        ));
    }
    if let Err(e) = append_to_regular_file(&path, &table) {
        event(format!(
            "warning: could not write the step summary to {path}: {e}"
        ));
    }
}

/// Opening a FIFO for writing blocks until a reader comes: never, after the build started.
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(target_os = "linux"))]
const O_NONBLOCK: i32 = 0;

/// Appends to `path` only when it is a regular file, or creates it (readable by others,
/// writable by its owner only). A dangling symlink is not followed into creating a file
/// elsewhere, and a FIFO, directory or device is refused rather than waited on.
fn append_to_regular_file(path: &str, text: &str) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    let refuse = |why: &str| Error::new(ErrorKind::InvalidInput, why.to_string());
    let mut file = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(O_NONBLOCK)
            .open(path)?,
        Err(e) => return Err(e),
        Ok(link) => {
            let target = if link.file_type().is_symlink() {
                fs::metadata(path).map_err(|_| refuse("it is a symlink to nothing"))?
            } else {
                link
            };
            if !target.is_file() {
                return Err(refuse("it is not a regular file"));
            }
            OpenOptions::new()
                .append(true)
                .custom_flags(O_NONBLOCK)
                .open(path)?
        }
    };
    // It could have been swapped between the look and the open.
    if !file.metadata()?.is_file() {
        return Err(refuse("it is not a regular file"));
    }
    file.write_all(text.as_bytes())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_logs() {
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
        assert_eq!(seconds(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn json_keys_come_in_the_contracts_order() {
        let report = Report {
            provider: "codefresh",
            action: "run",
            id: "abc".into(),
            number: None,
            url: Some("https://g.codefresh.io/build/abc".into()),
            status: "success".into(),
            result: Outcome::Success,
        };
        assert_eq!(
            report.to_json(),
            r#"{"provider":"codefresh","action":"run","id":"abc","number":null,"url":"https://g.codefresh.io/build/abc","status":"success","result":"success"}"#
        );
    }

    #[test]
    fn outcomes_map_to_documented_exit_codes() {
        let codes: Vec<i32> = [
            Outcome::Success,
            Outcome::Failed,
            Outcome::Terminated,
            Outcome::Timeout,
            Outcome::Started,
        ]
        .iter()
        .map(|o| o.exit_code())
        .collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 0]);
    }
}
