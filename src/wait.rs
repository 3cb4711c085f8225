//! The one polling loop. Providers say how to read a build's state once; this loop decides
//! when to ask again, prints each change, and gives up at `--timeout`.

use std::time::{Duration, Instant};

use crate::build::Watch;
use crate::error::{Error, Result};
use crate::output::{self, Outcome};
use crate::Ctx;

/// Every provider's status words map into this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildState {
    Running,
    Success,
    Failed,
    Terminated,
}

impl BuildState {
    pub fn is_finished(self) -> bool {
        self != BuildState::Running
    }
}

/// One reading of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub state: BuildState,
    /// What the user sees when it changes, e.g. `testing` or `build: running, test: success`.
    pub status: String,
}

impl Observation {
    pub fn new(state: BuildState, status: impl Into<String>) -> Self {
        Observation {
            state,
            status: status.into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WaitConfig {
    /// When waiting ends (`--timeout` from the command's start); `None`: no limit.
    pub deadline: Option<Instant>,
    /// `--timeout` as given, for the message that says it was reached.
    pub timeout: Option<Duration>,
    pub interval: Duration,
}

impl WaitConfig {
    /// The same waiting, but over after `limit` at the latest.
    pub fn within(self, limit: Duration) -> Self {
        let end = Instant::now() + limit;
        WaitConfig {
            deadline: Some(self.deadline.map_or(end, |d| d.min(end))),
            timeout: Some(self.timeout.map_or(limit, |t| t.min(limit))),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    Finished(Observation),
    TimedOut(Observation),
}

impl Waited {
    /// The last reading, and how the command ends: by the build's result, or `Timeout`.
    pub fn outcome(self) -> (Observation, Outcome) {
        match self {
            Waited::Finished(seen) => {
                let result = Outcome::of(seen.state);
                (seen, result)
            }
            Waited::TimedOut(seen) => (seen, Outcome::Timeout),
        }
    }
}

/// Polls unchanged readings ever more slowly (×1.5 each time, to at most a minute), so a
/// long build costs few requests and stays under the providers' rate limits.
const GROWTH: f64 = 1.5;
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// Polls `watch` until the build finishes or `config.timeout` passes, pausing between polls
/// through the watch (a watch that streams the build's log reads it meanwhile). `what` names
/// the build in progress lines (`build 1234`).
pub fn until_finished(
    ctx: &Ctx,
    config: WaitConfig,
    what: &str,
    watch: &mut dyn Watch,
) -> Result<Waited> {
    let deadline = config.deadline;
    let mut schedule = Schedule::new(config.interval);
    let mut last_status: Option<String> = None;
    loop {
        let seen = match watch.poll(ctx) {
            Ok(seen) => seen,
            // A rate limit that asks for a pause past --timeout ends the wait like the
            // deadline itself does.
            Err(Error::OutOfTime(why)) => {
                let status = last_status.unwrap_or_else(|| "unknown".to_string());
                output::event(format!(
                    "{what}: gave up waiting (--timeout): {why}; it is still {status}"
                ));
                return Ok(Waited::TimedOut(Observation::new(
                    BuildState::Running,
                    status,
                )));
            }
            Err(e) => return Err(e),
        };
        let changed = last_status.as_deref() != Some(seen.status.as_str());
        if changed {
            output::event(format!("{what}: {}", seen.status));
            last_status = Some(seen.status.clone());
        }
        if seen.state.is_finished() {
            return Ok(Waited::Finished(seen));
        }
        let pause = schedule.next(changed, crate::pace::take());
        let pause = match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    output::event(format!(
                        "{what}: gave up waiting after {} (--timeout); it is still {}",
                        output::seconds(config.timeout.unwrap_or_default()),
                        seen.status
                    ));
                    return Ok(Waited::TimedOut(seen));
                }
                pause.min(deadline - now)
            }
            None => pause,
        };
        watch.pause(ctx, pause)?;
        crate::abort::check()?;
    }
}

/// The pause before the next poll.
#[derive(Debug)]
pub struct Schedule {
    first: Duration,
    current: Duration,
}

impl Schedule {
    pub fn new(first: Duration) -> Self {
        Schedule {
            first,
            current: first,
        }
    }

    /// A change starts over at the first interval; an unchanged reading grows it; a
    /// rate-limit answer stretches it to at least what the server asked for.
    pub fn next(&mut self, changed: bool, rate_limit_pause: Option<Duration>) -> Duration {
        let cap = MAX_INTERVAL.max(self.first);
        self.current = if changed {
            self.first
        } else {
            self.current.mul_f64(GROWTH).min(cap)
        };
        if let Some(asked) = rate_limit_pause {
            self.current = self
                .current
                .max(asked)
                .max(self.current * 2)
                .min(cap.max(asked));
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_grows_on_unchanged_polls_and_resets_on_change() {
        let mut s = Schedule::new(Duration::from_secs(4));
        assert_eq!(s.next(true, None), Duration::from_secs(4));
        assert_eq!(s.next(false, None), Duration::from_secs(6));
        assert_eq!(s.next(false, None), Duration::from_secs(9));
        for _ in 0..20 {
            s.next(false, None);
        }
        assert_eq!(s.next(false, None), MAX_INTERVAL);
        assert_eq!(s.next(true, None), Duration::from_secs(4));
    }

    /// Codeship allows 60 requests a minute, CircleCI and Codefresh similar: at the default
    /// interval the loop alone stays far below, even when every poll sees a change.
    #[test]
    fn the_default_interval_keeps_polling_under_rate_limits() {
        for changing in [false, true] {
            let mut s = Schedule::new(Duration::from_secs(5));
            let mut elapsed = Duration::ZERO;
            let mut polls = 1;
            while elapsed < Duration::from_secs(60) {
                elapsed += s.next(changing, None);
                polls += 1;
            }
            assert!(
                polls <= 13,
                "{polls} polls in a minute (changing: {changing})"
            );
        }
    }

    #[test]
    fn rate_limits_stretch_the_interval() {
        let mut s = Schedule::new(Duration::from_secs(5));
        assert_eq!(
            s.next(true, Some(Duration::from_secs(1))),
            Duration::from_secs(10)
        );
        assert_eq!(
            s.next(true, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
    }

    #[test]
    fn a_long_first_interval_is_not_cut_to_the_cap() {
        let mut s = Schedule::new(Duration::from_secs(120));
        assert_eq!(s.next(false, None), Duration::from_secs(120));
    }
}
