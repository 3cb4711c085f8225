//! One build among several, whatever its provider: what `cirelay status|wait|cancel|logs
//! REF…` and `cirelay fan-out` hold for each build, so that one loop can follow builds of
//! different providers side by side. Each provider's code is reached through the same
//! [`Provider`] seam as a single build's; this only erases the provider's types.

use std::any::Any;
use std::sync::Mutex;

use crate::build::{Build, Reading, Stopped, Tracked};
use crate::cli::args::Args;
use crate::error::{Error, Result};
use crate::logs::{Printer, DEFAULT_LOG_LINES};
use crate::output;
use crate::provider::{Command, Provider, Verb};
use crate::wait::Observation;
use crate::Ctx;

/// A build of some provider, ready to be read, followed, stopped or shown.
pub trait Remote: Send {
    fn provider(&self) -> &'static str;
    /// The build as last known.
    fn build(&self) -> &Build;
    fn read(&mut self, ctx: &Ctx) -> Result<Reading>;
    /// Gets ready to follow it (a provider may read it first).
    fn track(&mut self, ctx: &Ctx) -> Result<()>;
    fn poll(&mut self, ctx: &Ctx) -> Result<Observation>;
    /// When it is expected to end, from its pipeline's history (see [`crate::build::Watch::plan`]).
    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime>;
    fn status_word(&self, last: &Observation) -> String;
    fn stop(&mut self, ctx: &Ctx) -> Result<Stopped>;
    /// Prints its log: every step's, or only the failed ones' last `lines`.
    fn print_logs(&mut self, ctx: &Ctx, failed_only: bool, lines: Option<usize>) -> Result<()>;
    /// This process started it (`fan-out`): `--cancel-on-abort` may cancel it.
    fn started_here(&self) -> bool;
}

/// A connected provider lives as long as the process: the builds of one provider share
/// one connection (one sign-in), and each build's watch borrows it.
fn connected<P: Provider>(ctx: &Ctx) -> Result<&'static P> {
    static CONNECTIONS: Mutex<Vec<&'static (dyn Any + Sync)>> = Mutex::new(Vec::new());
    let mut all = crate::lock(&CONNECTIONS);
    if let Some(p) = all
        .iter()
        .find_map(|c| (*c as &dyn Any).downcast_ref::<P>())
    {
        return Ok(p);
    }
    let p: &'static P = Box::leak(Box::new(P::connect(ctx)?));
    all.push(p);
    Ok(p)
}

struct Handle<P: Provider> {
    api: &'static P,
    reference: P::BuildRef,
    build: Build,
    tracked: Option<Tracked<'static, P::BuildRef>>,
    started: bool,
}

impl<P: Provider> Handle<P> {
    fn tracked(&mut self, ctx: &Ctx) -> Result<&mut Tracked<'static, P::BuildRef>> {
        if self.tracked.is_none() {
            let t = self.api.watch(ctx, &self.reference)?;
            self.build = t.build.clone();
            self.tracked = Some(t);
        }
        Ok(self.tracked.as_mut().expect("just set"))
    }
}

impl<P: Provider> Remote for Handle<P> {
    fn provider(&self) -> &'static str {
        P::NAME
    }

    fn build(&self) -> &Build {
        &self.build
    }

    fn read(&mut self, ctx: &Ctx) -> Result<Reading> {
        let reading = self.api.read(ctx, &self.reference)?;
        self.build = reading.build.clone();
        Ok(reading)
    }

    fn track(&mut self, ctx: &Ctx) -> Result<()> {
        self.tracked(ctx).map(|_| ())
    }

    fn poll(&mut self, ctx: &Ctx) -> Result<Observation> {
        let seen = self.tracked(ctx)?.watch.poll(ctx)?;
        self.build.status = seen.status.clone();
        self.build.state = seen.state;
        Ok(seen)
    }

    fn plan(&mut self, ctx: &Ctx) -> Option<std::time::SystemTime> {
        self.tracked.as_mut()?.watch.plan(ctx)
    }

    fn status_word(&self, last: &Observation) -> String {
        match &self.tracked {
            Some(t) => t.watch.status_word(last),
            None => last.status.clone(),
        }
    }

    fn stop(&mut self, ctx: &Ctx) -> Result<Stopped> {
        let (build, stopped) = self.api.stop(ctx, &self.reference)?;
        self.build = build;
        Ok(stopped)
    }

    fn print_logs(&mut self, ctx: &Ctx, failed_only: bool, lines: Option<usize>) -> Result<()> {
        let mut printer = Printer::default();
        match self.api.logs(ctx, &self.reference)? {
            None => output::event(format!(
                "{} has no log API: see {}",
                P::NAME,
                self.build.url.as_deref().unwrap_or("the build's page")
            )),
            Some(mut log) if failed_only => {
                log.failed(ctx, &mut printer, lines.unwrap_or(DEFAULT_LOG_LINES))?
            }
            Some(mut log) => log.all(ctx, &mut printer, lines)?,
        }
        Ok(())
    }

    fn started_here(&self) -> bool {
        self.started
    }
}

/// A build named by REF (without its `PROVIDER:`), checked and connected; nothing read yet.
pub fn open<P: Provider>(ctx: &Ctx, raw: &str) -> Result<Box<dyn Remote>> {
    let reference = P::build_ref(raw)?;
    let api = connected::<P>(ctx)?;
    Ok(Box::new(Handle {
        api,
        reference,
        build: unread(raw),
        tracked: None,
        started: false,
    }))
}

fn unread(raw: &str) -> Build {
    Build {
        id: raw.to_string(),
        number: None,
        url: None,
        status: "unknown".into(),
        state: crate::wait::BuildState::Running,
        label: raw.to_string(),
        aliases: Vec::new(),
    }
}

/// A start of a fan-out plan, checked (arguments and credentials) but not sent.
pub trait Prepared {
    fn start(self: Box<Self>, ctx: &Ctx) -> Result<Box<dyn Remote>>;
}

struct PreparedStart<P: Provider> {
    api: &'static P,
    request: P::Start,
}

impl<P: Provider> Prepared for PreparedStart<P> {
    fn start(self: Box<Self>, ctx: &Ctx) -> Result<Box<dyn Remote>> {
        let tracked = self.api.start(ctx, &self.request)?;
        if let Some(line) = &tracked.line {
            output::event(line);
        }
        Ok(Box::new(Handle {
            api: self.api,
            reference: tracked.reference.clone(),
            build: tracked.build.clone(),
            tracked: Some(tracked),
            started: true,
        }))
    }
}

/// Checks one start of a plan: it must be a command that starts a build.
pub fn prepare<P: Provider>(
    ctx: &Ctx,
    command: &Command,
    args: &Args,
) -> Result<Box<dyn Prepared>> {
    if !matches!(command.verb, Verb::Start) {
        return Err(Error::usage(format!(
            "`{} {}` does not start a build; a fan-out plan lists commands that do (trigger, run)",
            P::NAME,
            command.name
        )));
    }
    let request = P::start_request(args)?;
    let api = connected::<P>(ctx)?;
    Ok(Box::new(PreparedStart { api, request }))
}
