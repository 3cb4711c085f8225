//! Test support shared by every provider's tests, the fault suite and the demo: a fake HTTP
//! API on 127.0.0.1 that records every request, lets a test inject faults, and a runner for
//! the real `cirelay` binary (also under its multi-call names) with a clean environment.
#![allow(dead_code)]

pub mod circleci;
pub mod codefresh;
pub mod codeship_v1;
pub mod codeship_v2;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v))
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// `METHOD /path?query`, for asserting the exact sequence of requests.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the fake does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Answer {
        status: u16,
        /// The status line's reason phrase; `None`: the usual one for the status.
        reason: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Reads the request, then says nothing for this long (trips `--request-timeout`).
    Hang(Duration),
    /// Reads the request, then closes the connection without an answer.
    Close,
    /// Writes these bytes as they are (a truncated or broken answer), then closes.
    Raw(Vec<u8>),
    /// A valid 200 whose body is `len` bytes of JSON-ish filler, streamed.
    Huge(usize),
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::text(status, &body.to_string()).header("Content-Type", "application/json")
    }

    pub fn text(status: u16, body: &str) -> Self {
        Reply::Answer {
            status,
            reason: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The same answer with another reason phrase on its status line (Codeship says
    /// `403 Forbidden Rate Limit Exceeded` there).
    pub fn reason(mut self, phrase: &str) -> Self {
        if let Reply::Answer { reason, .. } = &mut self {
            *reason = Some(phrase.to_string());
        }
        self
    }

    pub fn empty(status: u16) -> Self {
        Reply::text(status, "")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct Injection {
    method: String,
    path_prefix: String,
    replies: VecDeque<Reply>,
}

/// A fake API on 127.0.0.1: every request is recorded, then answered by an injected fault
/// (first match wins, used up in order) or by the provider fake's handler. Clones share the
/// running fake.
#[derive(Clone)]
pub struct FakeServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    injections: Arc<Mutex<Vec<Injection>>>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let injections: Arc<Mutex<Vec<Injection>>> = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, inj) = (requests.clone(), injections.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (reqs, inj, handler) = (reqs.clone(), inj.clone(), handler.clone());
                thread::spawn(move || serve(stream, &reqs, &inj, &*handler));
            }
        });
        FakeServer {
            url,
            requests,
            injections,
        }
    }

    /// The next `replies.len()` requests of `method` whose path starts with `path_prefix`
    /// get these replies instead of the fake's normal answer.
    pub fn inject(&self, method: &str, path_prefix: &str, replies: Vec<Reply>) {
        self.injections.lock().unwrap().push(Injection {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            replies: replies.into(),
        });
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Recorded::line).collect()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path().starts_with(path_prefix))
            .count()
    }
}

fn serve(
    mut stream: TcpStream,
    requests: &Mutex<Vec<Recorded>>,
    injections: &Mutex<Vec<Injection>>,
    handler: &Handler,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    // Lets a script (the benchmarks) ask a fake running as a process what it received;
    // neither recorded nor counted.
    if req.method == "GET" && req.target == "/__requests" {
        let lines: Vec<String> = requests
            .lock()
            .unwrap()
            .iter()
            .map(Recorded::line)
            .collect();
        let body = serde_json::to_vec(&lines).unwrap_or_default();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
        return;
    }
    requests.lock().unwrap().push(req.clone());
    let injected = {
        let mut all = injections.lock().unwrap();
        all.iter_mut()
            .find(|i| {
                i.method == req.method
                    && req.path().starts_with(&i.path_prefix)
                    && !i.replies.is_empty()
            })
            .and_then(|i| i.replies.pop_front())
    };
    let reply = injected.unwrap_or_else(|| handler(&req));
    match reply {
        Reply::Answer {
            status,
            reason: phrase,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                phrase.as_deref().unwrap_or(reason(status)),
                body.len()
            );
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Hang(d) => thread::sleep(d),
        Reply::Close => {}
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Huge(len) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let chunk = vec![b' '; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len());
                if stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
                left -= n;
            }
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// The text of a stderr event line without its clock: `[    0.4s] text` → `text`.
pub fn event_text(line: &str) -> Option<&str> {
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
    pub fn assert_no_secret(&self, secrets: &[&str]) {
        for secret in secrets {
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
}

/// The binary under test; set for integration tests, not for the `fake-ci` example that
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
    }
}

/// The binary under one of its multi-call names (`codefresh`, `codeship_restart_build`).
pub fn called_as(name: &str, args: &[&str]) -> Cli {
    let mut cli = cirelay(args);
    cli.program = alias(name);
    cli
}

fn alias(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cirelay-aliases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    if !link.exists() {
        // Tests in parallel may race to make the same link; only a missing link is an error.
        if let Err(e) = std::os::unix::fs::symlink(binary(), &link) {
            assert!(link.exists(), "cannot link {}: {e}", link.display());
        }
    }
    link
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

/// A fresh empty directory for files a test hands to cirelay (var files, export files).
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cirelay-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// An HTTP CONNECT proxy on 127.0.0.1, the kind `HTTPS_PROXY` names: it records each
/// `CONNECT host:port` line and its `Proxy-Authorization`, tunnels the hosts in `routes` to
/// a fake API, and answers any other host `403`.
pub struct Proxy {
    pub url: String,
    connects: Arc<Mutex<Vec<Connect>>>,
}

/// One CONNECT: its `host:port` and its `Proxy-Authorization`, if any.
type Connect = (String, Option<String>);

impl Proxy {
    /// `routes`: `host:port` as the client asks for it → the fake API's URL to tunnel to.
    pub fn start(routes: Vec<(String, String)>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connects = Arc::new(Mutex::new(Vec::new()));
        let seen = connects.clone();
        let routes = Arc::new(routes);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (seen, routes) = (seen.clone(), routes.clone());
                thread::spawn(move || tunnel(client, &seen, &routes));
            }
        });
        Proxy { url, connects }
    }

    /// The `host:port` of every CONNECT received, in order.
    pub fn connects(&self) -> Vec<String> {
        let all = self.connects.lock().unwrap();
        all.iter().map(|(target, _)| target.clone()).collect()
    }

    /// The `Proxy-Authorization` header of every CONNECT received.
    pub fn credentials(&self) -> Vec<Option<String>> {
        let all = self.connects.lock().unwrap();
        all.iter().map(|(_, auth)| auth.clone()).collect()
    }
}

fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<Connect>>, routes: &[(String, String)]) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    // The head is read like any request's; nothing follows it until the tunnel is
    // answered, so nothing the reader buffered is lost.
    let Some(head) = read_request(&mut client) else {
        return;
    };
    if head.method != "CONNECT" {
        return;
    }
    let auth = head.header("proxy-authorization").map(str::to_string);
    seen.lock().unwrap().push((head.target.clone(), auth));
    let upstream = routes
        .iter()
        .find(|(from, _)| *from == head.target)
        .and_then(|(_, to)| TcpStream::connect(to.trim_start_matches("http://")).ok());
    let Some(upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (Ok(mut up_write), Ok(mut up_read), Ok(mut from_client)) = (
        upstream.try_clone(),
        upstream.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    let to_upstream = thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
}
