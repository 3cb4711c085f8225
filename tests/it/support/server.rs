//! A fake HTTP API on 127.0.0.1 that records every request and answers with the provider
//! fake's handler, or with a fault a test injected.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
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

    /// Whether it is a request of `method` to `prefix`: the start of its path, or of its
    /// whole target when `prefix` has a query (two lists of the same path with different
    /// filters are different requests).
    pub fn is(&self, method: &str, prefix: &str) -> bool {
        let of = if prefix.contains('?') {
            self.target.as_str()
        } else {
            self.path()
        };
        self.method == method && of.starts_with(prefix)
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
    /// A status and headers, then a body `write` produces as it goes, for as long as it
    /// likes (an event stream, a log that grows, a 50 MB log), without a length: the
    /// connection closes when it returns.
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        write: Writer,
    },
}

/// What writes a streamed body; it gets the connection, and stops when a write fails.
#[derive(Clone)]
pub struct Writer(pub Arc<WriteBody>);

type WriteBody = dyn Fn(&mut dyn Write) + Send + Sync;

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
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
        if let Reply::Answer { headers, .. } | Reply::Stream { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// A 200 whose body `write` streams.
    pub fn stream(write: impl Fn(&mut dyn Write) + Send + Sync + 'static) -> Self {
        Reply::Stream {
            status: 200,
            headers: Vec::new(),
            write: Writer(Arc::new(write)),
        }
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
    /// (whose target does, when it has a query) get these replies instead of the fake's
    /// normal answer.
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
            .filter(|r| r.is(method, path_prefix))
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
            .find(|i| req.is(&i.method, &i.path_prefix) && !i.replies.is_empty())
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
        Reply::Stream {
            status,
            headers,
            write,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
                reason(status)
            );
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            if stream.write_all(head.as_bytes()).is_ok() {
                let mut out = std::io::BufWriter::new(&mut stream);
                (write.0)(&mut out);
                let _ = out.flush();
            }
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

pub(super) fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
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
