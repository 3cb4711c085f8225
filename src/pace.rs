//! How fast the servers let cirelay go. When a rate-limit answer asks for a pause, the HTTP
//! layer notes it here and the polling loop reads it after that poll, so polling slows down
//! by itself. The note is kept per thread: a poll runs on one thread, start to finish, so
//! concurrent polls of several builds (each maybe of another provider, with limits of its
//! own) each see only the pauses their own requests were asked for.

use std::cell::Cell;
use std::time::Duration;

thread_local! {
    static ASKED: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// A server asked for this pause; the longest since the last [`take`] is kept.
pub fn note(pause: Duration) {
    ASKED.with(|a| a.set(Some(a.get().map_or(pause, |p| p.max(pause)))));
}

/// The longest pause asked for on this thread since the last call, once.
pub fn take() -> Option<Duration> {
    ASKED.with(|a| a.take())
}
