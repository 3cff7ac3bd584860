//! The one request pipeline of the simulated services: what every HMC and
//! Cinder request goes through, in memory ([`SimHmc`](crate::SimHmc),
//! [`SimCinder`](crate::SimCinder)) and served (the HTTP layer) alike.
//!
//! In order: the configured latency ([`latency`], on tokio's clock, so a
//! paused test clock runs it at once); then, under the world's lock, a
//! severed client's transport error, settling due transitions, counting,
//! an armed or random fault, the session (HMC) or project (Cinder) check,
//! Cinder's microversion gate ([`Op::cinder_since`]), the operation, and,
//! for an operation whose jobs are stalled, holding the jobs it started.
//!
//! The world (the modelled systems) and the [`Harness`] (what the tests do
//! to the requests) are apart, each under its own lock, in [`Shared`]: the
//! harness's is always taken first.

use std::sync::{Arc, Mutex, MutexGuard};

use cinder_client::CinderError;
use hmc_client::{HmcError, Sent};

use crate::harness::{Fault, Harness};
use crate::ops::{Op, Side};
use crate::world::{LostReply, World};

pub(crate) use crate::world::lock;

/// What `Sim` owns and its clients share: the world and the harness.
#[derive(Clone)]
pub(crate) struct Shared {
    pub world: Arc<Mutex<World>>,
    pub harness: Arc<Mutex<Harness>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(world: World) -> Self {
        Self {
            world: Arc::new(Mutex::new(world)),
            harness: Arc::new(Mutex::new(Harness::default())),
        }
    }

    /// The harness, locked (a panic elsewhere cannot leave it half-changed).
    pub(crate) fn harness(&self) -> MutexGuard<'_, Harness> {
        self.harness.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request that got through the harness: the world locked and brought
/// up to now, and what the harness decided for it.
struct Entered<'a> {
    world: crate::world::WorldGuard<'a>,
    fault: Option<Fault>,
    /// Set when the operation's jobs are stalled: the first transition
    /// the request may schedule.
    hold_from: Option<u64>,
}

/// Severed (None), or counted with its fault drawn and the world locked.
fn enter(shared: &Shared, op: Op) -> Option<Entered<'_>> {
    let mut h = shared.harness();
    if h.severed() {
        return None;
    }
    let mut world = lock(&shared.world);
    world.settle();
    let fault = h.enter(op);
    let hold_from = h.stalls(op).then(|| world.next_transition());
    Some(Entered {
        world,
        fault,
        hold_from,
    })
}

impl Entered<'_> {
    /// After the operation: a stalled operation's jobs stay running.
    fn hold(&mut self, op: Op) {
        if let Some(since) = self.hold_from {
            self.world.hold_jobs(op, since);
        }
    }
}

/// What a cut-off client sees.
pub(crate) const SEVERED: &str = "dpm-sim: the client is cut off (its process died)";

/// Waits the latency configured for one API's requests.
pub(crate) async fn latency(shared: &Shared, side: Side) {
    let d = shared.harness().latency(side);
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// One HMC request against the world: settle due transitions, count it,
/// answer an armed fault, check the session, run it. The in-memory client
/// and the HTTP server both go through here.
///
/// Each request is told as the HTTP clients tell theirs, so that a
/// tracing layer sees the same requests in memory and over HTTP: a `debug`
/// span `sim_request` of target `dpm_sim::request` (`api`, `op`, `method`,
/// `path`) around it, and inside it one `debug` event with its `status`
/// (200 when answered, the refusal's status, 0 when no answer came). Never
/// a session id, token or body.
pub(crate) fn hmc_call<T>(
    shared: &Shared,
    op: Op,
    session: Option<&str>,
    uri: &str,
    f: impl FnOnce(&mut World) -> Result<T, HmcError>,
) -> Result<T, HmcError> {
    let method = op.method();
    let span = told(Side::Hmc, op, method, uri);
    let _in = span.enter();
    let out = hmc_call_inner(shared, op, session, method, uri, f);
    let status = match &out {
        Ok(_) => 200,
        Err(e) => e.status_reason().map_or(0, |(s, _)| s),
    };
    tracing::debug!(target: "dpm_sim::request", status, "request");
    out
}

/// The span a request is told in (cheap when nobody listens).
fn told(side: Side, op: Op, method: &str, path: &str) -> tracing::Span {
    let api = match side {
        Side::Hmc => "hmc",
        Side::Cinder => "cinder",
    };
    tracing::debug_span!(
        target: "dpm_sim::request",
        "sim_request",
        api,
        op = op.name(),
        method,
        path
    )
}

fn hmc_call_inner<T>(
    shared: &Shared,
    op: Op,
    session: Option<&str>,
    method: &'static str,
    uri: &str,
    f: impl FnOnce(&mut World) -> Result<T, HmcError>,
) -> Result<T, HmcError> {
    let Some(mut entered) = enter(shared, op) else {
        return Err(HmcError::Transport {
            method,
            uri: uri.to_owned(),
            sent: Sent::No,
            source: Box::new(LostReply(SEVERED.into())),
        });
    };
    let fault = entered.fault.take();
    let w = &mut entered.world;
    if let Some(fault) = fault.as_ref().filter(|f| !f.lost_reply) {
        return Err(HmcError::api(
            method,
            uri,
            fault.status,
            fault.reason,
            fault.message.clone(),
        ));
    }
    if !matches!(op, Op::Logon | Op::ApiVersion) {
        let now = w.now();
        w.hmc.check_session(session, method, uri, now)?;
    }
    let out = f(w);
    entered.hold(op);
    if let Err(e) = &out {
        tracing::debug!(op = %op, error = %e, "dpm-sim refused");
    }
    match fault {
        // It happened (or was refused); the client never hears which.
        Some(lost) => Err(HmcError::Transport {
            method,
            uri: uri.to_owned(),
            sent: Sent::Maybe,
            source: Box::new(LostReply(lost.message)),
        }),
        None => out,
    }
}

/// One Cinder request against the world, scoped to a project; told as
/// [`hmc_call`] tells an HMC request (`method` and `path` as the HTTP
/// client sends them, e.g. `GET /v3/<project>/volumes/<id>`).
///
/// `asked` is the microversion the request asks for (None: the highest
/// this Cinder offers, as the in-memory client negotiates); an operation
/// that needs a later one is refused with 404, as Cinder refuses it.
pub(crate) fn cinder_call<T>(
    shared: &Shared,
    op: Op,
    project: &str,
    asked: Option<(u32, u32)>,
    (method, path): (&str, &str),
    f: impl FnOnce(&mut World, &str) -> Result<T, CinderError>,
) -> Result<T, CinderError> {
    let span = told(Side::Cinder, op, method, path);
    let _in = span.enter();
    let out = cinder_call_inner(shared, op, project, asked, f);
    let status = match &out {
        Ok(_) => 200,
        Err(e) => e.status().unwrap_or(0),
    };
    tracing::debug!(target: "dpm_sim::request", status, "request");
    out
}

fn cinder_call_inner<T>(
    shared: &Shared,
    op: Op,
    project: &str,
    asked: Option<(u32, u32)>,
    f: impl FnOnce(&mut World, &str) -> Result<T, CinderError>,
) -> Result<T, CinderError> {
    let Some(mut entered) = enter(shared, op) else {
        return Err(CinderError::Transport {
            operation: op.name().to_owned(),
            maybe_sent: false,
            source: Box::new(LostReply(SEVERED.into())),
        });
    };
    let fault = entered.fault.take();
    let w = &mut entered.world;
    if let Some(fault) = fault.as_ref().filter(|f| !f.lost_reply) {
        return Err(CinderError::api(
            op.name(),
            fault.status,
            fault.message.clone(),
        ));
    }
    if !w.cinder.projects.iter().any(|p| p == project) {
        return Err(CinderError::api(
            op.name(),
            401,
            format!("The project {project} does not exist."),
        ));
    }
    if let Some(min) = op.cinder_since() {
        let asked = asked.unwrap_or(w.cinder.max_version);
        if asked < min {
            return Err(CinderError::api(
                op.name(),
                404,
                format!(
                    "{op} needs microversion {}.{} or later (asked for {}.{}).",
                    min.0, min.1, asked.0, asked.1
                ),
            ));
        }
    }
    let out = f(w, project);
    entered.hold(op);
    if let Err(e) = &out {
        tracing::debug!(op = %op, error = %e, "dpm-sim refused");
    }
    match fault {
        Some(lost) => Err(CinderError::Transport {
            operation: op.name().to_owned(),
            maybe_sent: true,
            source: Box::new(LostReply(lost.message)),
        }),
        None => out,
    }
}
