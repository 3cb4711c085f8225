//! The calling job being cancelled: a CI system stops a step with SIGTERM (Docker gives it
//! about 10 s before SIGKILL), a person with SIGINT, a lost session with SIGHUP. While
//! cirelay waits, such a signal is noted instead of killing it at once, so that it can
//! cancel the downstream builds it started (`--cancel-on-abort`) or at least print where
//! they still run, and then exit 128 + signal. A second signal kills it outright, as usual.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

const SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
];

static RECEIVED: AtomicUsize = AtomicUsize::new(0);
static WATCHING: AtomicBool = AtomicBool::new(false);

/// From now on a signal is noted, not fatal (once per process).
pub fn watch() -> Result<()> {
    if WATCHING.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let armed = Arc::new(AtomicBool::new(false));
    for signal in SIGNALS {
        // A second signal: the default action (termination), as the user expects.
        signal_hook::flag::register_conditional_default(signal, armed.clone())
            .and_then(|_| signal_hook::flag::register(signal, armed.clone()))
            .and_then(|_| signal_hook::flag::register_usize(signal, &RECEIVED, signal as usize))
            .map_err(|e| Error::usage(format!("cannot watch for signal {signal}: {e}")))?;
    }
    Ok(())
}

/// The signal received since [`watch`], if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n as i32),
    }
}

/// An error for the signal received, if any: the command ends with 128 + signal.
pub fn check() -> Result<()> {
    match received() {
        Some(signal) => Err(Error::Aborted(signal)),
        None => Ok(()),
    }
}

/// Sleeps `pause`, waking within a moment of a signal.
pub fn sleep(pause: Duration) {
    const SLICE: Duration = Duration::from_millis(50);
    let until = Instant::now() + pause;
    loop {
        if received().is_some() {
            return;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// `SIGTERM`, as people read it.
pub fn name(signal: i32) -> String {
    match signal {
        s if s == signal_hook::consts::SIGTERM => "SIGTERM".into(),
        s if s == signal_hook::consts::SIGINT => "SIGINT".into(),
        s if s == signal_hook::consts::SIGHUP => "SIGHUP".into(),
        other => format!("signal {other}"),
    }
}
