//! The real `cirelay` binary, run with a clean environment (also under its multi-call
//! names), and what a run left: exit code, stdout, stderr.

use std::path::PathBuf;
use std::process::Command;

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

    /// The seconds on the clock of the first stderr line that says `text`.
    pub fn said_at(&self, text: &str) -> Option<f64> {
        self.stderr
            .lines()
            .find(|l| l.contains(text))
            .and_then(|l| l.strip_prefix('[')?.split_once("s]")?.0.trim().parse().ok())
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
        let out = command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .output()
            .expect("run cirelay");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The peak resident memory, in KiB, of the largest child process this test binary has
/// waited for: runs that read a large answer or log show they never held it.
pub fn largest_child_rss_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    usage.ru_maxrss
}
