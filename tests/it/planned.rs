//! Polls planned around a build's usual end, where the provider keeps the history: after
//! the first poll of a build that is still going, one read of the recent successful builds
//! of its pipeline (or workflow) on its branch; then polls are sparse until just before
//! their median duration is up, every 2 s around it, and grow again after it. Each case
//! runs against every provider that has such a history (one row per fake below).
//!
//! The builds here go by the clock, from their first read, and a case asserts the exact
//! requests and counts. Where a duration is asserted, the planned schedule and the growing
//! one are far apart (seconds against `--interval 30s`), so a loaded machine cannot turn
//! one into the other.

use std::time::{Duration, Instant};

use crate::fakes::codefresh::Codefresh;
use crate::fakes::github::GitHub;
use crate::fakes::gitlab::Gitlab;
use crate::fakes::{Ending, Fake, Histories};
use crate::support::{cirelay, Cli, Reply, Run};

/// `PROVIDER wait ID ARGS…` with the fake's environment.
fn wait(fake: &impl Histories, id: &str, args: &[&str]) -> Cli {
    cirelay(&[fake.provider(), "wait", id])
        .args(args)
        .env_all(fake.env())
}

/// The requests the wait sent for the build and its history: a followed log's own reads
/// (Codefresh follows by default: its progress job and log token) are the logs suite's.
fn polls(fake: &(impl Fake + ?Sized)) -> Vec<String> {
    fake.server()
        .lines()
        .into_iter()
        .filter(|l| {
            !l.starts_with("GET /api/progress/") && !l.starts_with("GET /api/user/firebaseAuth")
        })
        .collect()
}

fn checked(fake: &impl Fake, cli: Cli) -> Run {
    let run = cli.run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.assert_no_secret(&fake.secrets());
    run
}

/// A build that takes as long as its branch's builds usually do is read once, then its
/// history once, then just before its usual end and every 2 s from there: the end is
/// noticed within 2 s, although `--interval 30s` would read it again only after 30 s.
pub fn the_usual_end_gets_a_poll_within_seconds_though_the_interval_is_long<H: Histories>() {
    let fake = H::whose_builds_end(Ending::Succeeds);
    fake.add_history("main", &[4, 5, 6, 5, 5]);
    let id = fake.add_timed_build("main", Duration::from_secs(5));
    let began = Instant::now();
    let run = checked(
        &fake,
        wait(&fake, &id, &["--interval", "30s", "--timeout", "60s"]),
    );
    let took = began.elapsed();
    run.assert_code(0);
    let lines = polls(&fake);
    let read = fake.timed_read_line();
    assert_eq!(lines[..2], [read.clone(), fake.history_line("main")]);
    assert!(lines[2..].iter().all(|l| *l == read), "{lines:#?}");
    // The first read, one just before the usual end (2 s before it, as timestamps count
    // whole seconds), then one every 2 s until the end shows: 3 or 4 reads (5 if the
    // history took seconds to read, so that the sparse poll was skipped).
    let reads = lines.len() - 1;
    assert!((3..=5).contains(&reads), "{reads} reads: {lines:#?}");
    assert!(
        took < Duration::from_secs(15),
        "took {took:?}: {}",
        run.stderr
    );
}

/// A build whose branch's builds take an hour is read sparsely: at `--interval 100ms` the
/// growing schedule reads it five times in its first second, the planned one not again
/// before `--timeout` (a minute at most, and never past `--timeout`).
pub fn far_from_its_usual_end_a_build_is_read_sparsely<H: Histories>() {
    let fake = H::whose_builds_end(Ending::Succeeds);
    fake.add_history("main", &[3600, 3500, 3700]);
    let id = fake.add_timed_build("main", Duration::from_millis(500));
    let run = checked(
        &fake,
        wait(&fake, &id, &["--interval", "100ms", "--timeout", "4s"]),
    );
    run.assert_code(0);
    let read = fake.timed_read_line();
    assert_eq!(
        polls(&fake),
        [read.clone(), fake.history_line("main"), read]
    );
}

/// Without history on its branch (another branch has it) the schedule grows from
/// `--interval` as it always did: the build is read many times in its half second.
pub fn without_history_on_its_branch_the_schedule_grows_as_before<H: Histories>() {
    let fake = H::whose_builds_end(Ending::Succeeds);
    fake.add_history("main", &[3600, 3600, 3600]);
    let id = fake.add_timed_build("feature", Duration::from_millis(500));
    let run = checked(
        &fake,
        wait(&fake, &id, &["--interval", "50ms", "--timeout", "30s"]),
    );
    run.assert_code(0);
    let lines = polls(&fake);
    assert_eq!(lines[1], fake.history_line("feature"));
    // Planned around the other branch's hour, it would be read twice in 30 s.
    let reads = lines
        .iter()
        .filter(|l| **l == fake.timed_read_line())
        .count();
    assert!(reads >= 3, "{lines:#?}");
}

/// A fan-out of the pipeline: eleven builds of it still running, newer than every success
/// of its history, do not push that history off the one page read (only successes are
/// asked for), so the wait is still planned.
pub fn running_builds_of_the_pipeline_do_not_hide_its_history<H: Histories>() {
    let fake = H::whose_builds_end(Ending::Succeeds);
    fake.add_history("main", &[4, 5, 6, 5, 5]);
    let id = fake.add_timed_build("main", Duration::from_secs(5));
    for n in 1..=11 {
        fake.add_other_build("main", n, Duration::from_secs(3600));
    }
    let began = Instant::now();
    let run = checked(
        &fake,
        wait(&fake, &id, &["--interval", "30s", "--timeout", "60s"]),
    );
    let took = began.elapsed();
    run.assert_code(0);
    assert!(
        took < Duration::from_secs(15),
        "took {took:?}: {}",
        run.stderr
    );
}

/// The history is a nicety: a refused read of it is sent once and the wait goes on as
/// without it; a rate limit on it is waited out like on any read, and then it is used.
pub fn a_history_read_that_fails_never_fails_the_wait<H: Histories>() {
    let baseline = {
        let fake = H::whose_builds_end(Ending::Succeeds);
        checked(
            &fake,
            cirelay(fake.start_line())
                .args(&["--interval", "20ms"])
                .env_all(fake.env()),
        )
        .assert_code(0);
        polls(&fake)
    };
    let history = fake_history_line::<H>();
    assert_eq!(
        baseline.iter().filter(|l| **l == history).count(),
        1,
        "{baseline:#?}"
    );
    for (replies, sent) in [
        (vec![Reply::text(403, "Forbidden"); 3], 1),
        (vec![Reply::text(404, "Not Found"); 3], 1),
        (vec![Reply::text(200, "{not json"); 3], 1),
        (
            vec![Reply::text(429, "slow down").header("Retry-After", "0")],
            2,
        ),
    ] {
        let fake = H::whose_builds_end(Ending::Succeeds);
        let target = history.strip_prefix("GET ").unwrap();
        fake.server().inject("GET", target, replies.clone());
        let run = checked(
            &fake,
            cirelay(fake.start_line())
                .args(&["--interval", "20ms"])
                .env_all(fake.env()),
        );
        run.assert_code(0);
        let mut expected = baseline.clone();
        let at = expected.iter().position(|l| *l == history).unwrap();
        for _ in 1..sent {
            expected.insert(at, history.clone());
        }
        assert_eq!(polls(&fake), expected, "{replies:?}");
    }
}

fn fake_history_line<H: Histories>() -> String {
    H::whose_builds_end(Ending::Succeeds).history_line("main")
}

/// `cirelay wait REF…` plans each build's polls from its own history: two builds of each
/// of three providers, each as long as its branch's builds usually are, all noticed within
/// seconds at `--interval 30s`; each pipeline's history is read once.
#[test]
fn a_wait_on_several_builds_plans_each_from_its_own_history() {
    let github = GitHub::whose_builds_end(Ending::Succeeds);
    let gitlab = Gitlab::whose_builds_end(Ending::Succeeds);
    let codefresh = Codefresh::whose_builds_end(Ending::Succeeds);
    let fakes: [&dyn HistoryFake; 3] = [&github, &gitlab, &codefresh];
    let mut refs = Vec::new();
    let mut cli = cirelay(&["wait"]);
    for (fake, lasts) in fakes.iter().zip([4, 5, 6]) {
        fake.history(lasts);
        // Two builds of the pipeline: its history is read for the first and used for both.
        let lasts = Duration::from_secs(lasts);
        for id in [fake.timed(lasts), fake.other(lasts)] {
            refs.push(format!("{}:{id}", fake.as_fake().provider()));
        }
        cli = cli.env_all(fake.as_fake().env());
    }
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let began = Instant::now();
    let run = cli
        .args(&refs)
        .args(&["--interval", "30s", "--timeout", "60s"])
        .run();
    let took = began.elapsed();
    run.assert_code(0);
    for fake in fakes {
        let lines = polls(fake.as_fake());
        // After a first read of a build that is still going; once for both builds.
        let at = lines.iter().position(|l| *l == fake.history_line());
        assert!(at.is_some_and(|at| at >= 1), "{lines:#?}");
        assert_eq!(
            lines.iter().filter(|l| **l == fake.history_line()).count(),
            1,
            "{lines:#?}"
        );
        run.assert_no_secret(&fake.as_fake().secrets());
    }
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}: {}",
        run.stderr
    );
}

/// [`Histories`] as an object, for a case over several providers at once.
trait HistoryFake {
    fn as_fake(&self) -> &dyn Fake;
    fn history(&self, usual: u64);
    fn timed(&self, lasts: Duration) -> String;
    fn other(&self, lasts: Duration) -> String;
    fn history_line(&self) -> String;
}

impl<H: Histories> HistoryFake for H {
    fn as_fake(&self) -> &dyn Fake {
        self
    }

    fn history(&self, usual: u64) {
        self.add_history("main", &[usual - 1, usual, usual + 1]);
    }

    fn timed(&self, lasts: Duration) -> String {
        self.add_timed_build("main", lasts)
    }

    fn other(&self, lasts: Duration) -> String {
        self.add_other_build("main", 1, lasts)
    }

    fn history_line(&self) -> String {
        Histories::history_line(self, "main")
    }
}

/// One row a provider with history: a module of its own with every case above.
macro_rules! planned {
    ($($provider:ident: $fake:ty,)*) => {
        $(
            mod $provider {
                planned!(@cases $fake:
                    the_usual_end_gets_a_poll_within_seconds_though_the_interval_is_long,
                    far_from_its_usual_end_a_build_is_read_sparsely,
                    without_history_on_its_branch_the_schedule_grows_as_before,
                    a_history_read_that_fails_never_fails_the_wait,
                    running_builds_of_the_pipeline_do_not_hide_its_history,
                );
            }
        )*
    };
    (@cases $fake:ty: $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                super::$case::<$fake>();
            }
        )*
    };
}

planned! {
    codefresh: crate::fakes::codefresh::Codefresh,
    github: crate::fakes::github::GitHub,
    gitlab: crate::fakes::gitlab::Gitlab,
}
