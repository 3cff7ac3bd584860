//! The test harness around the world: what tests and the control port do
//! to the clients' requests, apart from the modelled systems. Request
//! counters and the call log, faults armed on an operation or drawn at a
//! seeded rate, severing the clients, stalling an operation's jobs, and
//! the latency of each side.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::ops::{Counters, Op, Side};

/// A failure to inject into the next `count` requests of an operation:
/// either a refusal with this HTTP status (and, on the HMC, reason code)
/// before anything happens, or a lost reply: the operation takes effect and
/// then the connection is reset (served) or the client sees a transport
/// error that says the request may have been acted on (in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status (of a refusal).
    pub status: u16,
    /// HMC reason code (ignored for Cinder).
    pub reason: u16,
    /// Message.
    pub message: String,
    /// The operation takes effect, and its reply is lost.
    pub lost_reply: bool,
}

impl Fault {
    /// A refusal with this status and reason; nothing changes.
    pub fn new(status: u16, reason: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
            lost_reply: false,
        }
    }

    /// The operation takes effect, then its reply is lost (a reset
    /// connection, a timeout).
    pub fn lost_reply() -> Self {
        Self {
            status: 0,
            reason: 0,
            message: "dpm-sim: the connection was reset after the request took effect".into(),
            lost_reply: true,
        }
    }
}

/// A fault armed on one operation.
#[derive(Debug, Clone)]
pub(crate) struct ArmedFault {
    /// Requests to let through before failing.
    pub skip: u32,
    /// Requests to fail then.
    pub count: u32,
    /// How they fail.
    pub fault: Fault,
}

/// The harness's state: one per world.
#[derive(Debug)]
pub(crate) struct Harness {
    pub counters: Counters,
    /// Every request, in order, for call-order checks.
    pub log: Vec<Op>,
    /// Armed faults: requests of the operation to let through first, how
    /// many to fail then, and how.
    pub faults: BTreeMap<Op, ArmedFault>,
    /// After this many more requests the clients are cut off: no request
    /// reaches the world (the client process died) until `Sim::reconnect`.
    pub sever_after: Option<u64>,
    /// The operations whose jobs, started from now on, never end.
    pub stall_jobs: BTreeSet<Op>,
    /// Latency of each HMC and Cinder request.
    pub latency: (Duration, Duration),
    /// Probability that a request fails at random, and the seeded source.
    pub fault_rate: f64,
    pub fault_rng: fastrand::Rng,
    /// How many requests failed at random.
    pub random_faults: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Self {
            counters: Counters::default(),
            log: Vec::new(),
            faults: BTreeMap::new(),
            sever_after: None,
            stall_jobs: BTreeSet::new(),
            latency: (Duration::ZERO, Duration::ZERO),
            fault_rate: 0.0,
            fault_rng: fastrand::Rng::with_seed(0),
            random_faults: 0,
        }
    }
}

impl Harness {
    /// The latency of a request to `side`.
    pub(crate) fn latency(&self, side: Side) -> Duration {
        match side {
            Side::Hmc => self.latency.0,
            Side::Cinder => self.latency.1,
        }
    }

    /// Whether the jobs of `op` started from now on never end.
    pub(crate) fn stalls(&self, op: Op) -> bool {
        self.stall_jobs.contains(&op)
    }

    /// Whether the clients are cut off; counts the requests that still get
    /// through.
    pub(crate) fn severed(&mut self) -> bool {
        match &mut self.sever_after {
            None => false,
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
        }
    }

    /// Counts a request that is not a world operation.
    pub(crate) fn count(&mut self, op: Op) {
        *self.counters.0.entry(op).or_insert(0) += 1;
    }

    /// Counts and logs a request and returns the injected fault: the one
    /// armed on the operation, else one drawn at the configured rate.
    pub(crate) fn enter(&mut self, op: Op) -> Option<Fault> {
        self.count(op);
        self.log.push(op);
        let Some(slot) = self.faults.get_mut(&op) else {
            return self.random_fault(op);
        };
        if slot.skip > 0 {
            slot.skip -= 1;
            return None;
        }
        slot.count -= 1;
        let fault = slot.fault.clone();
        if slot.count == 0 {
            self.faults.remove(&op);
        }
        Some(fault)
    }

    /// A fault drawn at the configured rate (logon and the version query
    /// are spared, so that a client can always start).
    fn random_fault(&mut self, op: Op) -> Option<Fault> {
        if self.fault_rate <= 0.0 || matches!(op, Op::Logon | Op::Logoff | Op::ApiVersion) {
            return None;
        }
        if self.fault_rng.f64() >= self.fault_rate {
            return None;
        }
        self.random_faults += 1;
        Some(match self.fault_rng.u8(..4) {
            0 => Fault::new(500, 0, "dpm-sim: a random internal error"),
            1 => Fault::new(409, 2, "dpm-sim: the object is busy (random)"),
            2 => Fault::new(503, 0, "dpm-sim: unavailable (random)"),
            _ => Fault::lost_reply(),
        })
    }
}
