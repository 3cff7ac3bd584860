//! The simulated world: one sub-state per domain, and what is common to
//! them (clock, ids, pending transitions, counters, request log, faults).
//!
//! This is the one module that knows every domain. The domains never
//! import each other or this module; what one needs from another it reads
//! through a narrow view assembled here:
//!
//! - the HMC's start job checks the boot path through [`hmc::BootView`],
//!   implemented by [`BootFacts`] on the SAN and Cinder;
//! - Cinder drives its storage backend through [`cinder::Backend`],
//!   implemented by [`SanBackend`] on the SAN, with each initiator's fabric
//!   login read from the HMC ([`views::logged_in_fabric`]): a vHBA's port while
//!   its partition runs, or the candidate port a storage group's WWPN is
//!   bound to while its partition runs or the group is being discovered;
//! - storage management ([`crate::dsm`]) reads the CPC, ports, partitions, the SAN
//!   and Cinder through [`DsmFacts`], and draws ids from [`Ids`]; the start
//!   job's storage-volume boot check is decided by it, here, just before
//!   the HMC finishes the job.
//!
//! Domains return the transitions they start ([`hmc::Later`],
//! [`cinder::Later`]) and this module schedules and applies them.
//!
//! Callers (`client.rs`, `serve`) call a domain directly for what stays
//! inside it (`w.hmc.get_cpc(..)`, `w.hmc.create_hba(&mut w.ids, ..)`,
//! `w.cinder.get_volume(..)`); the operations on [`World`] below are those
//! that need more: a transition to schedule, or Cinder's clock and backend
//! (`hmc_ops.rs`, `cinder_ops.rs`); `views.rs` holds the views.

mod cinder_ops;
mod hmc_ops;
mod properties;
mod views;

use views::{partition_facts, BootFacts, DsmFacts, SanBackend};

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use hmc_client::BootDevice;

use crate::cinder::{self, CinderState};
use crate::clock::{Clock, ClockMode};
use crate::dsm::DsmState;
use crate::hmc::{self, HmcState};
use crate::ids::Ids;
use crate::notify::Notifier;
use crate::ops::Op;
use crate::spec::{SpecError, Timings, WorldSpec};
use crate::storage::Storage;

/// The transport failure a lost reply shows to an in-memory client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LostReply(pub String);

/// A transition that finishes at a point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Hmc(hmc::Later),
    Cinder(cinder::Later),
    /// A storage group's discovery job ends (after `discovery_ms`).
    DiscoveryJobEnds {
        job: String,
    },
    /// A storage group's automatic discovery round (every
    /// `auto_discovery_ms`); background.
    AutoDiscovery {
        group: String,
    },
}

impl Action {
    /// The operation whose job this transition ends, if it ends one.
    fn ends_job_of(&self) -> Option<Op> {
        match self {
            Action::Hmc(hmc::Later::PartitionStarted { .. }) => Some(Op::StartPartition),
            Action::Hmc(hmc::Later::PartitionStopped { .. }) => Some(Op::StopPartition),
            Action::DiscoveryJobEnds { .. } => Some(Op::StartFcpStorageDiscovery),
            _ => None,
        }
    }

    /// Background transitions (periodic rounds) never end, so
    /// [`World::next_due_time`] and with it `Sim::run_until_idle` and
    /// `Sim::is_busy` do not wait for them; they run when time passes them.
    fn is_background(&self) -> bool {
        matches!(self, Self::AutoDiscovery { .. })
    }
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub due: Duration,
    pub seq: u64,
    pub action: Action,
}

/// The whole simulated world: one sub-state per domain, and what they
/// share.
#[derive(Debug)]
pub(crate) struct World {
    pub clock: Clock,
    pub timings: Timings,
    /// The one id allocator every domain draws from.
    pub ids: Ids,
    /// The HMC: sessions, CPC, adapters, partitions with their vHBAs, jobs.
    pub hmc: HmcState,
    /// The SAN and the storage system: host objects, mappings, zones.
    pub san: Storage,
    /// Cinder: volumes, attachments, images, projects.
    pub cinder: CinderState,
    /// DPM storage management: storage groups, their volumes and VSRs
    /// (CPCs with the dpm-storage-management feature).
    pub dsm: DsmState,
    pub pending: Vec<Pending>,
    /// The notifications it publishes.
    pub notifier: Notifier,
    /// Whether a task ends transitions at their due time (see
    /// [`run_ticker`]).
    pub ticking: bool,
}

impl World {
    pub(crate) fn new(spec: &WorldSpec, mode: ClockMode) -> Result<Self, SpecError> {
        spec.validate()?;
        let san = Storage::new(spec)?;
        let cinder = CinderState::new(spec)?;
        let mut ids = Ids::default();
        let hmc = HmcState::new(spec, &mut ids)?;
        Ok(Self {
            clock: Clock::new(mode),
            timings: spec.timings.clone(),
            ids,
            hmc,
            san,
            cinder,
            dsm: DsmState::default(),
            pending: Vec::new(),
            notifier: Notifier::default(),
            ticking: false,
        })
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    // ----- transitions ----------------------------------------------------------

    /// Schedules `action` to finish after its configured duration.
    /// Publishes the jobs that ended and the statuses that changed.
    pub(crate) fn publish(&mut self) {
        let now = self.now();
        let dsm = &self.dsm;
        let groups = || dsm.groups.iter().map(|g| g.uri().to_string()).collect();
        self.notifier.publish(&mut self.hmc, groups, now);
    }

    /// When the next transition is due, on tokio time (automatic clock
    /// only).
    pub(crate) fn next_due_instant(&self) -> Option<tokio::time::Instant> {
        self.clock.instant_at(self.next_due_time()?)
    }

    fn schedule(&mut self, action: Action) {
        // A ticker waiting for the next due time looks again.
        self.notifier.changed.notify_one();
        let after = match &action {
            Action::Hmc(l) => l.after(&self.timings),
            Action::Cinder(l) => l.after(&self.timings),
            Action::DiscoveryJobEnds { .. } => self.timings.discovery(),
            Action::AutoDiscovery { .. } => self.timings.auto_discovery(),
        };
        let due = self.now() + after;
        let seq = self.ids.next_seq();
        self.pending.push(Pending { due, seq, action });
    }

    /// Applies every transition that is due, in order.
    pub(crate) fn settle(&mut self) {
        let now = self.now();
        while let Some(i) = self.next_due(now) {
            let p = self.pending.swap_remove(i);
            self.apply(p.action);
        }
    }

    fn next_due(&self, now: Duration) -> Option<usize> {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due <= now)
            .min_by_key(|(_, p)| (p.due, p.seq))
            .map(|(i, _)| i)
    }

    /// When the next pending transition is due (background rounds left
    /// out: see [`Action::is_background`]).
    pub(crate) fn next_due_time(&self) -> Option<Duration> {
        self.pending
            .iter()
            .filter(|p| !p.action.is_background())
            .map(|p| p.due)
            .min()
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Hmc(later) => {
                let volume_boot = match &later {
                    hmc::Later::PartitionStarted { job } => self.volume_boot_verdict(job),
                    hmc::Later::PartitionStopped { .. } | hmc::Later::GuestHalted { .. } => None,
                };
                let view = BootFacts {
                    san: &self.san,
                    cinder: &self.cinder,
                    volume_boot,
                };
                let now = self.clock.now();
                self.hmc.finish(later, &view, now);
            }
            Action::Cinder(later) => {
                // A volume from an image has a second step (downloading).
                if let Some(next) = self.with_cinder(|c, cx| c.finish(cx, later)) {
                    self.schedule(Action::Cinder(next));
                }
            }
            Action::DiscoveryJobEnds { job } => {
                self.with_dsm(|d, env, ids| d.finish_discovery_job(&job, env, ids));
                self.hmc.end_job(&job, hmc::no_content_outcome());
            }
            Action::AutoDiscovery { group } => {
                if self.with_dsm(|d, env, ids| d.auto_discover(&group, env, ids)) {
                    self.schedule(Action::AutoDiscovery { group });
                }
            }
        }
    }

    /// The storage-volume boot check of the partition a start job starts,
    /// decided now (when the job ends); `None` when it does not boot from a
    /// storage volume.
    fn volume_boot_verdict(&self, job: &str) -> Option<Result<(), String>> {
        let pid = self.hmc.jobs.get(job)?.partition.as_deref()?;
        let p = self.hmc.partitions.get(pid)?;
        if p.boot_device != BootDevice::StorageVolume {
            return None;
        }
        let env = self.dsm_facts();
        Some(self.dsm.boot_check(&partition_facts(p), &env))
    }

    /// The sequence number the next scheduled transition gets.
    pub(crate) fn next_transition(&self) -> u64 {
        self.ids.seq() + 1
    }

    /// Drops the transitions scheduled from `since` on that would end a
    /// job of `op` (a partition start or stop, a discovery): those jobs
    /// stay running, as a hung HMC job does. The harness asks for it
    /// after a request of a stalled operation.
    pub(crate) fn hold_jobs(&mut self, op: Op, since: u64) {
        self.pending
            .retain(|p| p.seq < since || p.action.ends_job_of() != Some(op));
    }
}

// ----- the lock, and the ticker ---------------------------------------------------

pub(crate) fn lock(world: &Mutex<World>) -> WorldGuard<'_> {
    // A panic while holding the lock cannot leave a half-applied change
    // (each operation validates before it mutates), so keep going.
    WorldGuard(world.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The world, locked. When it is released, the world publishes what
/// changed (see [`crate::notify`]).
pub(crate) struct WorldGuard<'a>(MutexGuard<'a, World>);

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.0
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.0
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        self.0.publish();
    }
}

/// Starts [`run_ticker`] for `world` once (automatic clock only); call
/// inside a tokio runtime.
pub(crate) fn ensure_ticker(world: &Arc<Mutex<World>>, w: &mut World) {
    if !w.ticking && w.clock.mode() == crate::ClockMode::Auto {
        w.ticking = true;
        tokio::spawn(run_ticker(Arc::downgrade(world)));
    }
}

/// Ends transitions at their due time (automatic clock), so that a job's
/// completion is announced when it happens and not when someone next
/// looks. Runs until the world is gone.
pub(crate) async fn run_ticker(world: Weak<Mutex<World>>) {
    loop {
        let (due, changed) = {
            let Some(w) = world.upgrade() else { return };
            let mut w = lock(&w);
            w.settle();
            (w.next_due_instant(), w.notifier.changed.clone())
        };
        match due {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = changed.notified() => {}
                }
            }
            None => changed.notified().await,
        }
    }
}
