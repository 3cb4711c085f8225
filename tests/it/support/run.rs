//! The real `cirelay` binary, run with a clean environment (also under its multi-call
//! names), and what a run left: exit code, stdout, stderr.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::TempDir;

/// The text of a stderr event line without its clock: `[    0.4s] text` → `text`.
fn event_text(line: &str) -> Option<&str> {
    line.split_once("] ")
        .filter(|(clock, _)| clock.starts_with('['))
        .map(|(_, text)| text)
}

/// `[   0.4s] cirelay: error: …`: the line a failed run ends with.
pub fn is_error_line(line: &str) -> bool {
    event_text(line).is_some_and(|text| text.starts_with("cirelay: error:"))
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts none of `secrets` appears anywhere cirelay wrote.
    pub fn assert_no_secret<S: AsRef<str>>(&self, secrets: &[S]) {
        for secret in secrets.iter().map(AsRef::as_ref) {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "secret {secret:?} leaked:\nstdout: {}\nstderr: {}",
                self.stdout,
                self.stderr
            );
        }
    }

    /// The error line: exactly one line starting `cirelay: error:`.
    pub fn error_line(&self) -> &str {
        let errors: Vec<&str> = self.stderr.lines().filter(|l| is_error_line(l)).collect();
        assert_eq!(
            errors.len(),
            1,
            "expected one error line in:\n{}",
            self.stderr
        );
        errors[0]
    }

    /// Asserts the run exited `code` with its one error line saying each of `parts`;
    /// returns the line.
    pub fn assert_fails(&self, code: i32, parts: &[&str]) -> &str {
        self.assert_code(code);
        let line = self.error_line();
        for part in parts {
            assert!(line.contains(part), "the error line lacks {part:?}: {line}");
        }
        line
    }

    /// For runs whose result is not the point: any of these codes, else the stderr.
    pub fn assert_code_in(&self, codes: &[i32]) -> i32 {
        assert!(
            codes.contains(&self.code),
            "exited {} (expected one of {codes:?}): {}",
            self.code,
            self.stderr
        );
        self.code
    }

    /// stderr's lines without their clocks.
    pub fn events(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .map(|l| event_text(l).unwrap_or(l))
            .collect()
    }

    /// The downstream log as it reached stderr: each section header (`── log of …`, its
    /// clock removed) and each log line (indented by two spaces), in order.
    pub fn downstream_log(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| match event_text(l) {
                Some(text) if text.starts_with("── log of ") => Some(text),
                Some(_) => None,
                None => l.strip_prefix("  "),
            })
            .collect()
    }

    /// The one warning line (`warning: …`, without its clock) the run printed.
    pub fn warning(&self) -> &str {
        let warnings: Vec<&str> = self
            .events()
            .into_iter()
            .filter(|l| l.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning line in:\n{}", self.stderr);
        warnings[0]
    }

    /// The downstream log's lines, without their section headers.
    pub fn log_lines(&self) -> Vec<&str> {
        self.downstream_log()
            .into_iter()
            .filter(|l| !l.starts_with("── log of "))
            .collect()
    }

    /// What each section header of the downstream log says: `STEP (STATUS) LINK`.
    pub fn log_sections(&self) -> Vec<&str> {
        self.downstream_log()
            .into_iter()
            .filter_map(|l| l.strip_prefix("── log of "))
            .collect()
    }

    /// The seconds on the clock of the first stderr line that says `text`.
    pub fn said_at(&self, text: &str) -> Option<f64> {
        self.stderr
            .lines()
            .find(|l| l.contains(text))
            .and_then(|l| l.strip_prefix('[')?.split_once("s]")?.0.trim().parse().ok())
    }

    /// For a run inside GitHub Actions: asserts that workflow commands were stopped before
    /// anything else was printed and resumed after everything, with a token of 32 hex digits
    /// that appears nowhere else; returns the token.
    pub fn assert_workflow_commands_stopped(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let token = lines
            .first()
            .and_then(|l| l.strip_prefix("::stop-commands::"))
            .unwrap_or_else(|| {
                panic!(
                    "stderr does not start by stopping commands:\n{}",
                    self.stderr
                )
            });
        assert!(
            token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
            "{token:?}"
        );
        assert_eq!(
            lines.last(),
            Some(&format!("::{token}::").as_str()),
            "{}",
            self.stderr
        );
        assert_eq!(self.stderr.matches(token).count(), 2, "{}", self.stderr);
        assert!(!self.stdout.contains(token), "{}", self.stdout);
        token.to_string()
    }

    /// Asserts stderr says `text` somewhere.
    pub fn assert_says(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A run of the real binary with an empty environment plus what the test sets.
pub struct Cli {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Runs the binary under this umask (through `sh`, which sets it before `exec`).
    umask: Option<&'static str>,
    /// The folder holding the multi-call name's link, kept until the run is over.
    alias: Option<TempDir>,
}

/// The binary under test; set for integration tests, not for the `fake-ci` binary that
/// shares this module.
fn binary() -> &'static str {
    match option_env!("CARGO_BIN_EXE_cirelay") {
        Some(path) => path,
        None => panic!("only integration tests run the binary"),
    }
}

/// `cirelay ARGS…`
pub fn cirelay(args: &[&str]) -> Cli {
    Cli {
        program: PathBuf::from(binary()),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        umask: None,
        alias: None,
    }
}

/// The binary under one of its multi-call names (`codefresh`, `codeship_restart_build`).
pub fn called_as(name: &str, args: &[&str]) -> Cli {
    // A link of its own for each run: removed with the run, and no race between tests
    // that make the same name at once.
    let dir = TempDir::new("alias");
    let link = dir.join(name);
    std::os::unix::fs::symlink(binary(), &link)
        .unwrap_or_else(|e| panic!("cannot link {}: {e}", link.display()));
    let mut cli = cirelay(args);
    cli.program = link;
    cli.alias = Some(dir);
    cli
}

impl Cli {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn envs(mut self, vars: &[(&str, &str)]) -> Self {
        for (n, v) in vars {
            self.env.push((n.to_string(), v.to_string()));
        }
        self
    }

    /// A fake's environment (`Fake::env()`): its credentials and base URL.
    pub fn env_all(mut self, vars: Vec<(&'static str, String)>) -> Self {
        self.env
            .extend(vars.into_iter().map(|(n, v)| (n.to_string(), v)));
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Runs under `mask` (e.g. `000`), as a step whose shell set it would.
    pub fn umask(mut self, mask: &'static str) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Runs until the binary printed a line on stdout (the id of the build it started, or
    /// the first `[REF]` line on stderr when it starts nothing), then sends `signal`, as a
    /// CI system does to a cancelled step; returns the run and how long it took to end
    /// after the signal.
    pub fn run_and_signal(self, signal: i32) -> (Run, std::time::Duration) {
        use std::io::{BufRead, BufReader, Read};
        use std::process::Stdio;
        use std::sync::mpsc;
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cirelay");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let ready = tx.clone();
        let out = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = ready.send(());
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let err = std::thread::spawn(move || {
            let mut all = String::new();
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line.contains("] [") {
                    let _ = tx.send(());
                }
                all.push_str(&line);
                line.clear();
            }
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            all + &rest
        });
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("cirelay printed nothing to signal on");
        // Let it reach its wait; a signal before it is simply earlier in the same wait.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let signalled = std::time::Instant::now();
        // SAFETY: kill(2) with the pid of a child this test spawned and still holds.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill");
        let status = child.wait().expect("wait for cirelay");
        let took = signalled.elapsed();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        };
        (run, took)
    }

    pub fn run(self) -> Run {
        let mut command = match self.umask {
            Some(mask) => {
                let mut sh = Command::new("/bin/sh");
                sh.arg("-c")
                    .arg(format!("umask {mask}; exec \"$0\" \"$@\""))
                    .arg(&self.program);
                sh
            }
            None => Command::new(&self.program),
        };
        let mut child = command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cirelay");
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut all);
                }
                String::from_utf8_lossy(&all).into_owned()
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        // The child's own peak memory, sampled while it runs: what `getrusage` reports for a
        // child counts the memory of this test process it was forked from as well.
        let status = loop {
            if let Some(peak) = peak_kib(child.id()) {
                PEAK_KIB.fetch_max(peak, Ordering::Relaxed);
            }
            if let Some(status) = child.try_wait().expect("wait for cirelay") {
                break status;
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().expect("stdout"),
            stderr: stderr.join().expect("stderr"),
        }
    }
}

/// The largest peak memory (VmHWM) seen of any run of the binary so far.
static PEAK_KIB: AtomicU64 = AtomicU64::new(0);

/// A running process's peak resident memory so far, from `/proc/PID/status`; `None` until it
/// has exec'd (until then it is a copy of this test process, and its figures are ours; its
/// name is that of the test's thread, so the program it runs is what tells).
fn peak_kib(pid: u32) -> Option<u64> {
    static OURS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let ours = OURS.get_or_init(|| std::env::current_exe().ok()).as_ref()?;
    if std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == *ours {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The peak resident memory, in KiB, of the largest run of the binary so far in this test
/// process: runs that read a large answer or log show they never held it. Sampled from each
/// run's own `/proc/PID/status` while it runs (every 25 ms; the peak only grows), since what
/// `getrusage` reports for a child includes the memory of the test process it was forked
/// from, which other tests running at the same time make larger.
pub fn largest_child_rss_kib() -> i64 {
    PEAK_KIB.load(Ordering::Relaxed) as i64
}
