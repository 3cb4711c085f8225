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

/// A pipeline's recent successful builds on one branch: each one's id, and the seconds it
/// took.
pub type History = Vec<(String, u64)>;

/// `read`'s answer for `key` (the provider, its pipeline and the branch), read once per
/// process: `cirelay wait` on fifty builds of one pipeline plans them from one list
/// request, and a read that failed is not sent again. Concurrent polls of builds of the
/// same pipeline wait for the one read.
fn history_once(key: String, read: impl FnOnce() -> Option<History>) -> Option<History> {
    type Cell = std::sync::Arc<std::sync::OnceLock<Option<History>>>;
    static READ: std::sync::Mutex<Vec<(String, Cell)>> = std::sync::Mutex::new(Vec::new());
    let cell = {
        let mut read = crate::lock(&READ);
        match read.iter().find(|(k, _)| *k == key) {
            Some((_, cell)) => cell.clone(),
            None => {
                let cell = Cell::default();
                read.push((key, cell.clone()));
                cell
            }
        }
    };
    cell.get_or_init(read).clone()
}

/// When build `own`, begun at `began`, ends if it takes the median duration of its
/// pipeline's recent successes on its branch, which `read` lists (once per run for `key`):
/// what a [`Watch::plan`] answers.
pub fn planned_end(
    key: String,
    own: &str,
    began: Option<&str>,
    read: impl FnOnce() -> Option<History>,
) -> Option<std::time::SystemTime> {
    let history = history_once(key, read)?;
    expected_end(began, durations_but(&history, own))
}

/// The durations of `history` but build `own`'s.
fn durations_but(history: &History, own: &str) -> Vec<u64> {
    history
        .iter()
        .filter(|(id, _)| id != own)
        .map(|(_, took)| *took)
        .collect()
}

/// Start times are read in whole seconds, cut down: a build that takes its usual time ends
/// within this long after its start as read plus that time.
const WHOLE_SECONDS: Duration = Duration::from_secs(1);

/// When a build that began at `began` (an RFC 3339 time of the provider's; now, when it
/// has none) has ended if it takes the median of `durations` (seconds). `None` without
/// durations.
fn expected_end(began: Option<&str>, durations: Vec<u64>) -> Option<std::time::SystemTime> {
    let usual = median(durations)?;
    let began = began
        .and_then(crate::time::rfc3339)
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| std::time::UNIX_EPOCH + Duration::from_secs(s))
        .unwrap_or_else(std::time::SystemTime::now);
    Some(began + Duration::from_secs(usual) + WHOLE_SECONDS)
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

    /// From now on, polls are planned around `end`: sparse at first (a quarter of the time
    /// left, growing, at most a minute), one just before `end`, every [`NEAR_END`] for a
    /// while after it, then growing again. Status changes no longer reset the interval:
    /// a build going from pending to running says nothing about when it ends.
    pub fn plan(&mut self, end: Instant) {
        self.plan_at(end, Instant::now());
    }

    fn plan_at(&mut self, end: Instant, now: Instant) {
        let left = end.saturating_duration_since(now);
        // A quarter: on a one-minute build, two polls before the one just before its end,
        // so that with the history read it costs no more than the growing schedule.
        self.current = (left / 4).clamp(self.first, MAX_INTERVAL.max(self.first));
        self.plan = Some(Plan { end });
    }

    /// A change starts over at the first interval; an unchanged reading grows it; a
    /// rate-limit answer stretches it to at least what the server asked for.
    pub fn next(&mut self, changed: bool, rate_limit_pause: Option<Duration>) -> Duration {
        self.next_at(changed, rate_limit_pause, Instant::now())
    }

    fn next_at(
        &mut self,
        changed: bool,
        rate_limit_pause: Option<Duration>,
        now: Instant,
    ) -> Duration {
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
            Some(plan) => self.planned(plan, now),
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

/// How the polling loop would follow one build, replayed on a clock of its own: what
/// the benchmarks report for builds too long to wait for (`fake-ci schedule`).
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// When each poll is sent, from the start of the wait.
    pub polls: Vec<Duration>,
    /// Requests in all: the polls, and the history read when there is a history.
    pub requests: usize,
    /// From the build's end to the poll that sees it.
    pub delay: Duration,
}

/// Replays [`until_finished`]'s schedule, with `--interval first`, for a build that starts
/// as the wait does and ends after `lasts`. The first poll sees it pending, every later one
/// running until it has ended (as the fakes' builds go). With `usual` (its history's
/// median duration), the polls are planned after the first one, around the provider's start
/// time plus `usual`; that time reads `early` before the real start (providers write whole
/// seconds). Requests take no time; rate limits do not come.
pub fn replay(
    first: Duration,
    lasts: Duration,
    usual: Option<Duration>,
    early: Duration,
) -> Replayed {
    let start = Instant::now();
    let mut schedule = Schedule::new(first);
    let mut polls = Vec::new();
    let mut at = Duration::ZERO;
    // A day of polls at most, whatever the arguments.
    while polls.len() < 100_000 {
        polls.push(at);
        if at >= lasts {
            break;
        }
        let changed = polls.len() <= 2;
        let now = start + at;
        if polls.len() == 1 {
            if let Some(end) = usual.and_then(|u| (start + u + WHOLE_SECONDS).checked_sub(early)) {
                if end > now {
                    schedule.plan_at(end, now);
                }
            }
        }
        at += schedule.next_at(changed, None, now);
    }
    Replayed {
        requests: polls.len() + usize::from(usual.is_some()),
        delay: at.saturating_sub(lasts),
        polls,
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
        assert_eq!(ms, vec![0, 15_000, 37_500, 58_000, 60_000, 62_000]);
    }

    fn secs(polls: &[Duration]) -> Vec<f64> {
        polls.iter().map(Duration::as_secs_f64).collect()
    }

    /// The numbers: on a 60 s build the growing schedule polls at 0, 5, 10, 17.5,
    /// 28.8, 45.6 and 70.9 s (the second poll sees it running), almost 11 s after the end.
    #[test]
    fn the_growing_schedule_replayed() {
        let r = replay(
            Duration::from_secs(5),
            Duration::from_secs(60),
            None,
            Duration::ZERO,
        );
        assert_eq!(
            secs(&r.polls),
            [0.0, 5.0, 10.0, 17.5, 28.75, 45.625, 70.9375]
        );
        assert_eq!(r.requests, 7);
        assert_eq!(
            r.delay,
            Duration::from_millis(10_937) + Duration::from_micros(500)
        );
    }

    /// Builds of 1, 5 and 30 minutes that take their usual time: whatever fraction of a
    /// second their start time was cut by, the end is seen within a second, with the
    /// history read and all no more requests than the growing schedule sends (7, 12, 37).
    #[test]
    fn planned_polls_see_a_build_on_its_usual_time_within_a_second() {
        let first = Duration::from_secs(5);
        for (minutes, growing) in [(1, 7), (5, 12), (30, 37)] {
            let d = Duration::from_secs(60 * minutes);
            assert_eq!(replay(first, d, None, Duration::ZERO).requests, growing);
            for tenths in 0..10 {
                let early = Duration::from_millis(100 * tenths);
                let r = replay(first, d, Some(d), early);
                assert!(r.requests <= growing, "{minutes} min: {r:?}");
                assert!(r.delay <= Duration::from_secs(1), "{minutes} min: {r:?}");
            }
        }
    }

    /// A build a few seconds off its usual time is still seen within 2 s; one far off is
    /// seen by polls that grow again (after) or by the sparse ones (before), as late as the
    /// growing schedule's minute at most.
    #[test]
    fn planned_polls_around_an_end_that_comes_early_or_late() {
        let first = Duration::from_secs(5);
        for minutes in [1, 5, 30] {
            let usual = Duration::from_secs(60 * minutes);
            for off in [-2i64, -1, 1, 2, 5, 10] {
                let lasts = Duration::from_secs((usual.as_secs() as i64 + off) as u64);
                let r = replay(first, lasts, Some(usual), Duration::from_millis(500));
                assert!(
                    r.delay <= Duration::from_secs(2),
                    "{minutes} min {off:+} s: {r:?}"
                );
            }
            for off in [-600i64, -40, -20, 20, 40, 600] {
                let Some(lasts) = usual.as_secs().checked_add_signed(off) else {
                    continue;
                };
                let r = replay(
                    first,
                    Duration::from_secs(lasts),
                    Some(usual),
                    Duration::ZERO,
                );
                assert!(r.delay <= MAX_INTERVAL, "{minutes} min {off:+} s: {r:?}");
                let gaps = r.polls.windows(2).map(|w| w[1] - w[0]);
                assert!(gaps.into_iter().all(|g| g <= MAX_INTERVAL), "{r:?}");
            }
        }
    }

    /// The median of the history from the start as the provider wrote it, and a second
    /// more: the start was cut to whole seconds.
    #[test]
    fn the_expected_end_of_a_build() {
        let at = |s: u64| std::time::UNIX_EPOCH + Duration::from_secs(s);
        let start = "2026-11-01T10:00:00Z";
        let t0 = crate::time::rfc3339(start).unwrap() as u64;
        assert_eq!(
            expected_end(Some(start), vec![30, 10, 20, 90]),
            Some(at(t0 + 20 + 1))
        );
        assert_eq!(expected_end(Some(start), vec![]), None);
        assert_eq!(median(vec![3, 1, 2]), Some(2));
    }

    #[test]
    fn a_long_first_interval_is_not_cut_to_the_cap() {
        let mut s = Schedule::new(Duration::from_secs(120));
        assert_eq!(s.next(false, None), Duration::from_secs(120));
    }
}
