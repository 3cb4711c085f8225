//! A transport wrapper that watches each exchange for two facts ureq does not report:
//!
//! - whether the request itself was written. A build-starting request that failed before
//!   its first byte left (name resolution, connect, TLS handshake, a refused proxy tunnel)
//!   cannot have started anything, so it is safe to send again; one that failed after may
//!   have.
//! - the status line's reason phrase. Codeship says `403 Forbidden Rate Limit Exceeded`,
//!   possibly with an empty body, and the phrase is all that tells it from a refusal.
//!
//! ureq is synchronous: an exchange runs on the thread that sent it, so the facts are kept
//! per thread and read right after the call.

use std::cell::RefCell;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// What one exchange showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// The request line went out (some of it at least).
    pub wrote_request: bool,
    /// `HTTP/1.1 403 Forbidden Rate Limit Exceeded`, the first after the request.
    pub status_line: Option<String>,
}

impl Seen {
    /// The reason phrase of the status line (`Forbidden Rate Limit Exceeded`).
    pub fn reason(&self) -> Option<&str> {
        let line = self.status_line.as_deref()?;
        let mut parts = line.splitn(3, ' ');
        parts.next()?;
        parts.next()?;
        parts.next().map(str::trim).filter(|r| !r.is_empty())
    }
}

thread_local! {
    static SEEN: RefCell<Seen> = RefCell::new(Seen::default());
}

/// Starts watching a new exchange on this thread.
pub fn begin() {
    SEEN.with(|s| *s.borrow_mut() = Seen::default());
}

/// What the exchange on this thread showed since [`begin`].
pub fn seen() -> Seen {
    SEEN.with(|s| s.borrow().clone())
}

/// The last link of the agent's connector chain: every transport (TLS or not, tunnelled or
/// not) is wrapped, so every request and answer passes through it.
#[derive(Debug)]
pub struct Tap;

impl<In: Transport> Connector<In> for Tap {
    type Out = Tapped<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Tapped))
    }
}

#[derive(Debug)]
pub struct Tapped<T>(T);

/// A request head starts with its method and a space; a proxy's `CONNECT` line is not the
/// request, and TLS records (which a tunnel's inner transport carries) start with binary.
fn is_request_head(bytes: &[u8]) -> bool {
    let method_len = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method_len > 0 && bytes.get(method_len) == Some(&b' ') && !bytes.starts_with(b"CONNECT ")
}

impl<T: Transport> Transport for Tapped<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let head = &self.0.buffers().output()[..amount.min(16)];
        if is_request_head(head) {
            // Marked before the write: a write that fails halfway may still have arrived.
            SEEN.with(|s| s.borrow_mut().wrote_request = true);
        }
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let made_progress = self.0.await_input(timeout)?;
        SEEN.with(|s| {
            let mut seen = s.borrow_mut();
            if !seen.wrote_request || seen.status_line.is_some() {
                return;
            }
            let input = self.0.buffers().input();
            if !input.starts_with(b"HTTP/") {
                return;
            }
            let head = &input[..input.len().min(512)];
            if let Some(end) = head.windows(2).position(|w| w == b"\r\n") {
                seen.status_line = Some(String::from_utf8_lossy(&head[..end]).into_owned());
            }
        });
        Ok(made_progress)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads() {
        assert!(is_request_head(b"POST /api/pipelines"));
        assert!(is_request_head(b"GET / HTTP/1.1"));
        assert!(!is_request_head(b"CONNECT h:443 HTTP/1.1"));
        assert!(!is_request_head(&[0x16, 0x03, 0x01, 0x02]));
        assert!(!is_request_head(b"{\"ref\":"));
        assert!(!is_request_head(b""));
    }

    #[test]
    fn reason_phrases() {
        let seen = |line: &str| Seen {
            wrote_request: true,
            status_line: Some(line.into()),
        };
        assert_eq!(
            seen("HTTP/1.1 403 Forbidden Rate Limit Exceeded").reason(),
            Some("Forbidden Rate Limit Exceeded")
        );
        assert_eq!(seen("HTTP/1.1 200 OK").reason(), Some("OK"));
        assert_eq!(seen("HTTP/1.1 204").reason(), None);
        assert_eq!(Seen::default().reason(), None);
    }
}
