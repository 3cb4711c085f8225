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
    let mut first_poll = true;
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
        if first_poll {
            first_poll = false;
            if let Some(end) = watch.plan(ctx).and_then(instant_of) {
                schedule.plan(end);
            }
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

/// A moment on the wall clock (a provider's timestamps) as a moment to sleep until; `None`
/// when it is long past.
pub fn instant_of(at: std::time::SystemTime) -> Option<Instant> {
    let now = std::time::SystemTime::now();
    match at.duration_since(now) {
        Ok(ahead) => Some(Instant::now() + ahead),
        Err(_) => None,
    }
}

/// The middle value (the lower of the two middle ones); `None` for no values.
pub fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

/// The pause before the next poll.
#[derive(Debug)]
pub struct Schedule {
    first: Duration,
    current: Duration,
    /// When the build is expected to end, from the history of its pipeline: polls are
    /// then planned around that moment instead of growing blindly.
    plan: Option<Plan>,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    end: Instant,
}

/// A planned schedule polls this long before the expected end, and as often from then on
/// for [`AFTER_END`]: a build that ends on time is noticed within this long.
const NEAR_END: Duration = Duration::from_secs(2);
const AFTER_END: Duration = Duration::from_secs(10);

impl Schedule {
    pub fn new(first: Duration) -> Self {
        Schedule {
            first,
            current: first,
            plan: None,
        }
    }

    /// From now on, polls are planned around `end`: sparse at first (a sixth of the time
    /// left, growing, at most a minute), one just before `end`, every [`NEAR_END`] for a
    /// while after it, then growing again. Status changes no longer reset the interval:
    /// a build going from pending to running says nothing about when it ends.
    pub fn plan(&mut self, end: Instant) {
        self.plan_at(end, Instant::now());
    }

    fn plan_at(&mut self, end: Instant, now: Instant) {
        let left = end.saturating_duration_since(now);
        self.current = (left / 6).clamp(self.first, MAX_INTERVAL.max(self.first));
        self.plan = Some(Plan { end });
    }

    /// A change starts over at the first interval; an unchanged reading grows it; a
    /// rate-limit answer stretches it to at least what the server asked for.
    pub fn next(&mut self, changed: bool, rate_limit_pause: Option<Duration>) -> Duration {
        let cap = MAX_INTERVAL.max(self.first);
        let pause = match self.plan {
            None => {
                self.current = if changed {
                    self.first
                } else {
                    self.current.mul_f64(GROWTH).min(cap)
                };
                self.current
            }
            Some(plan) => self.planned(plan, Instant::now()),
        };
        match rate_limit_pause {
            Some(asked) => {
                self.current = pause.max(asked).max(pause * 2).min(cap.max(asked));
                self.current
            }
            None => pause,
        }
    }

    fn planned(&mut self, plan: Plan, now: Instant) -> Duration {
        let near = plan.end.checked_sub(NEAR_END).unwrap_or(plan.end);
        if now < near {
            // Sparse early polls, but the last one lands just before the end.
            let pause = self.current.min(near - now);
            self.current = self
                .current
                .mul_f64(GROWTH)
                .min(MAX_INTERVAL.max(self.first));
            return pause.max(Duration::from_millis(100));
        }
        if now < plan.end + AFTER_END {
            // As often as --interval allows, if that is more often.
            self.current = NEAR_END.min(self.first.max(Duration::from_millis(100)));
            return self.current;
        }
        // Later than its pipeline's builds: growing again.
        self.current = self
            .current
            .mul_f64(GROWTH)
            .min(MAX_INTERVAL.max(self.first));
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

    /// A 60 s build on its pipeline's usual time: fewer polls than the growing schedule's 7,
    /// and the end noticed within 2 s (measured against the fakes in scripts/bench.sh).
    #[test]
    fn a_planned_schedule_lands_polls_around_the_expected_end() {
        let start = Instant::now();
        let mut s = Schedule::new(Duration::from_secs(5));
        s.plan_at(start + Duration::from_secs(60), start);
        let mut t = Duration::ZERO;
        let mut polls = vec![t];
        while t < Duration::from_secs(61) {
            let now = start + t;
            let plan = s.plan.unwrap();
            t += s.planned(plan, now);
            polls.push(t);
        }
        let ms: Vec<u128> = polls.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![0, 10_000, 25_000, 47_500, 58_000, 60_000, 62_000]);
    }

    #[test]
    fn a_long_first_interval_is_not_cut_to_the_cap() {
        let mut s = Schedule::new(Duration::from_secs(120));
        assert_eq!(s.next(false, None), Duration::from_secs(120));
    }
}
