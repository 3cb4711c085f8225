//! `codefresh wait`: the Codefresh CLI's own wait, which takes several builds and the status
//! each must reach (`-s terminated`), unlike the one-build wait every provider has.

use super::api::{self, state_of, Api, STATUSES};
use super::logs::BuildLog;
use crate::build::Watch;
use crate::cli::args::Args;
use crate::error::{Error, Result};
use crate::lifecycle::{wait_showing_log, LogWanted};
use crate::logs::{LogMode, Logs, Several};
use crate::output::{self, Outcome, Report};
use crate::wait::{BuildState, Observation, Waited};
use crate::Ctx;

/// How one build stands against the status `wait` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Standing {
    Waiting(String),
    Reached(String),
    /// Finished in another final status than the one asked for.
    Missed(String),
}

impl Standing {
    pub(super) fn of(status: &str, want: &str) -> Self {
        if status == want {
            Standing::Reached(status.to_string())
        } else if state_of(status).is_finished() {
            Standing::Missed(status.to_string())
        } else {
            Standing::Waiting(status.to_string())
        }
    }

    fn status(&self) -> &str {
        match self {
            Standing::Waiting(s) | Standing::Reached(s) | Standing::Missed(s) => s,
        }
    }
}

/// The combined reading of every build `wait` watches: done when all reached the status,
/// or as soon as one finished otherwise (its result decides the exit code, as the
/// Codefresh CLI stops at the first build that cannot reach it).
pub(super) fn combine(ids: &[String], standings: &[Standing]) -> Observation {
    let status = if ids.len() == 1 {
        standings[0].status().to_string()
    } else {
        ids.iter()
            .zip(standings)
            .map(|(id, s)| format!("{id}: {}", s.status()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missed = standings.iter().find_map(|s| match s {
        Standing::Missed(status) => Some(status.as_str()),
        _ => None,
    });
    let state = match missed {
        // A build that succeeded when another status was asked for did not do what the
        // caller waited for.
        Some(status) => match state_of(status) {
            BuildState::Terminated => BuildState::Terminated,
            _ => BuildState::Failed,
        },
        None if standings.iter().all(|s| matches!(s, Standing::Reached(_))) => BuildState::Success,
        None => BuildState::Running,
    };
    Observation::new(state, status)
}

/// Reads every build that is still waiting for the status.
struct Waits<'a> {
    api: &'a Api,
    ids: &'a [String],
    want: &'a str,
    standings: &'a mut [Standing],
    /// The build as last read, when there is one.
    last: Option<api::Build>,
}

impl Watch for Waits<'_> {
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        for (id, standing) in self.ids.iter().zip(self.standings.iter_mut()) {
            // A build that reached the status (or missed it) is not asked again.
            if matches!(standing, Standing::Waiting(_)) {
                let build = self.api.build(ctx, id)?;
                *standing = Standing::of(&build.status, self.want);
                self.last = Some(build);
            }
        }
        Ok(combine(self.ids, self.standings))
    }

    /// Planned around the build's usual end when that end is what is waited for: one
    /// build, and a final status.
    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        if self.ids.len() != 1 || !state_of(self.want).is_finished() {
            return None;
        }
        super::usual_end(self.api, ctx, &self.ids[0], self.last.as_ref()?)
    }
}

/// `codefresh wait ID… [-s S]`: the Codefresh CLI's wait, for any number of builds and any
/// status. Several builds are polled together; one that reached the status (or can no
/// longer) is not asked again.
pub fn wait(ctx: &Ctx, args: &Args) -> Result<Report> {
    let want = args.value("--status").unwrap_or("success");
    // Checked before the key so that a typo is reported even where no key is set.
    if !STATUSES.contains(&want) {
        return Err(Error::usage(format!(
            "--status `{want}` is not a Codefresh build status: use one of {}",
            STATUSES.join(", ")
        )));
    }
    let wanted = LogWanted::read(args, LogMode::Follow)?;
    let api = Api::from_env()?;
    wait_for(ctx, &api, &args.positionals, want, wanted)
}

/// Each build's log; several builds' sections name their build.
fn logs_of<'a>(api: &'a Api, ids: &[String]) -> Box<dyn Logs + Send + 'a> {
    match ids {
        [one] => Box::new(BuildLog::new(api, one)),
        many => Box::new(Several::new(
            many.iter()
                .map(|id| {
                    let log: Box<dyn Logs + Send + 'a> = Box::new(BuildLog::new(api, id));
                    (format!("build {id}"), log)
                })
                .collect(),
        )),
    }
}

fn wait_for(ctx: &Ctx, api: &Api, ids: &[String], want: &str, wanted: LogWanted) -> Result<Report> {
    for id in ids {
        output::event(format!(
            "waiting for build {id} to reach {want}: {}",
            api.build_url(id)
        ));
    }
    let what = if ids.len() == 1 {
        format!("build {}", ids[0])
    } else {
        format!("builds {}", ids.join(", "))
    };
    let mut standings: Vec<Standing> = ids
        .iter()
        .map(|_| Standing::Waiting(String::new()))
        .collect();
    let waited = {
        let mut watch = Waits {
            api,
            ids,
            want,
            standings: &mut standings,
            last: None,
        };
        let log = (wanted.mode != LogMode::None).then(|| logs_of(api, ids));
        // Every build's log can be read, so there is always one to show.
        wait_showing_log(ctx, &what, &mut watch, log, wanted, || {})?
    };
    let mut report = Report {
        provider: "codefresh",
        action: "wait",
        id: ids.join(","),
        number: None,
        url: (ids.len() == 1).then(|| api.build_url(&ids[0])),
        status: String::new(),
        result: Outcome::Started,
    };
    match waited {
        Waited::Finished(seen) => {
            for (id, standing) in ids.iter().zip(&standings) {
                if let Standing::Missed(status) = standing {
                    output::event(format!(
                        "build {id} finished with status {status}, so it will not reach {want}: {}",
                        api.build_url(id)
                    ));
                }
            }
            report.result = match seen.state {
                BuildState::Success => Outcome::Success,
                other => Outcome::of(other),
            };
            report.status = seen.status;
        }
        Waited::TimedOut(seen) => {
            report.result = Outcome::Timeout;
            report.status = seen.status;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn standing_against_the_wanted_status() {
        assert_eq!(
            Standing::of("success", "success"),
            Standing::Reached("success".into())
        );
        assert_eq!(
            Standing::of("running", "running"),
            Standing::Reached("running".into())
        );
        assert_eq!(
            Standing::of("error", "error"),
            Standing::Reached("error".into())
        );
        assert_eq!(
            Standing::of("error", "success"),
            Standing::Missed("error".into())
        );
        assert_eq!(
            Standing::of("success", "terminated"),
            Standing::Missed("success".into())
        );
        assert_eq!(
            Standing::of("pending-approval", "success"),
            Standing::Waiting("pending-approval".into())
        );
    }

    #[test]
    fn combined_reading_of_several_builds() {
        let two = ids(&["a", "b"]);
        let obs = combine(
            &two,
            &[
                Standing::Reached("success".into()),
                Standing::Waiting("running".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Running);
        assert_eq!(obs.status, "a: success, b: running");

        let obs = combine(
            &two,
            &[
                Standing::Reached("success".into()),
                Standing::Reached("success".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Success);

        // One that cannot reach the status ends the wait with its own result.
        let obs = combine(
            &two,
            &[
                Standing::Waiting("running".into()),
                Standing::Missed("terminated".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Terminated);
        let obs = combine(
            &two,
            &[
                Standing::Missed("error".into()),
                Standing::Missed("terminated".into()),
            ],
        );
        assert_eq!(obs.state, BuildState::Failed);

        // Success when something else was asked for is a failure to reach it.
        let one = ids(&["a"]);
        let obs = combine(&one, &[Standing::Missed("success".into())]);
        assert_eq!(obs.state, BuildState::Failed);
        assert_eq!(obs.status, "success");
    }
}
