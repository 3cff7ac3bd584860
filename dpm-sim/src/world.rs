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
//!   read from the HMC's cabling ([`initiator_fabric`]).
//!
//! Domains return the transitions they start ([`hmc::Later`],
//! [`cinder::Later`]) and this module schedules and applies them.
//!
//! Callers (`client.rs`, `serve`) call a domain directly for what stays
//! inside it (`w.hmc.get_cpc(..)`, `w.hmc.create_hba(&mut w.ids, ..)`,
//! `w.cinder.get_volume(..)`); the operations on [`World`] below are those
//! that need more: a transition to schedule, or Cinder's clock and backend.

use std::collections::BTreeMap;
use std::time::Duration;

use cinder_client::{
    Attachment, AttachmentId, CinderError, ConnectionInfo, Connector, FcData, InstanceId, Volume,
    VolumeCreate, VolumeId,
};
use fc_types::Wwpn;
use hmc_client::{HmcError, JobUri, PartitionUri};

use crate::cinder::{self, CinderState};
use crate::clock::{Clock, ClockMode};
use crate::hmc::{self, HmcState};
use crate::ids::Ids;
use crate::ops::{Counters, Op};
use crate::spec::{SpecError, Timings, WorldSpec};
use crate::storage::{Storage, StorageRefusal};

/// A failure to inject: the next `count` requests of an operation answer
/// with this HTTP status (and, on the HMC, reason code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status.
    pub status: u16,
    /// HMC reason code (ignored for Cinder).
    pub reason: u16,
    /// Message.
    pub message: String,
}

impl Fault {
    /// A fault with this status and reason.
    pub fn new(status: u16, reason: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }
}

/// A transition that finishes at a point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Hmc(hmc::Later),
    Cinder(cinder::Later),
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub due: Duration,
    pub seq: u64,
    pub action: Action,
}

/// The whole simulated world: one sub-state per domain, and what they
/// share.
///
/// The DPM storage-management domain (storage groups and their volumes, on
/// a CPC with the dpm-storage-management feature) goes here as one more
/// sub-state, in its own module, reaching the SAN and the HMC only through
/// views assembled in this file.
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
    pub pending: Vec<Pending>,
    pub counters: Counters,
    /// Every request, in order, for call-order checks.
    pub log: Vec<Op>,
    pub faults: BTreeMap<Op, (u32, Fault)>,
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
            pending: Vec::new(),
            counters: Counters::default(),
            log: Vec::new(),
            faults: BTreeMap::new(),
        })
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    // ----- transitions ----------------------------------------------------------

    /// Schedules `action` to finish after its configured duration.
    fn schedule(&mut self, action: Action) {
        let after = match &action {
            Action::Hmc(l) => l.after(&self.timings),
            Action::Cinder(l) => l.after(&self.timings),
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

    /// When the next pending transition is due.
    pub(crate) fn next_due_time(&self) -> Option<Duration> {
        self.pending.iter().map(|p| p.due).min()
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Hmc(later) => {
                let view = BootFacts {
                    san: &self.san,
                    cinder: &self.cinder,
                };
                self.hmc.finish(later, &view);
            }
            Action::Cinder(later) => self.with_cinder(|c, cx| c.finish(cx, later)),
        }
    }

    /// Counts a request and returns the injected fault, if one is armed.
    pub(crate) fn enter(&mut self, op: Op) -> Option<Fault> {
        self.settle();
        *self.counters.0.entry(op).or_insert(0) += 1;
        self.log.push(op);
        let slot = self.faults.get_mut(&op)?;
        slot.0 -= 1;
        let fault = slot.1.clone();
        if slot.0 == 0 {
            self.faults.remove(&op);
        }
        Some(fault)
    }

    // ----- HMC operations that schedule -----------------------------------------

    pub(crate) fn start_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let (job, later) = self.hmc.start_partition(&mut self.ids, uri)?;
        self.schedule(Action::Hmc(later));
        Ok(job)
    }

    pub(crate) fn stop_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let (job, later) = self.hmc.stop_partition(&mut self.ids, uri)?;
        self.schedule(Action::Hmc(later));
        Ok(job)
    }

    // ----- Cinder operations that change something --------------------------------

    /// Runs `f` on Cinder with what it borrows from the rest of the world.
    fn with_cinder<T>(&mut self, f: impl FnOnce(&mut CinderState, &mut cinder::Cx<'_>) -> T) -> T {
        let mut backend = SanBackend {
            san: &mut self.san,
            hmc: &self.hmc,
        };
        let mut cx = cinder::Cx {
            ids: &mut self.ids,
            clock: &self.clock,
            backend: &mut backend,
        };
        f(&mut self.cinder, &mut cx)
    }

    pub(crate) fn create_volume(
        &mut self,
        project: &str,
        req: &VolumeCreate,
    ) -> Result<Volume, CinderError> {
        let (volume, later) = self.with_cinder(|c, cx| c.create_volume(cx, project, req))?;
        self.schedule(Action::Cinder(later));
        Ok(volume)
    }

    pub(crate) fn delete_volume(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let later = self.with_cinder(|c, cx| c.delete_volume(cx, project, id))?;
        self.schedule(Action::Cinder(later));
        Ok(())
    }

    pub(crate) fn create_attachment(
        &mut self,
        project: &str,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.create_attachment(cx, project, volume, instance, connector))
    }

    pub(crate) fn update_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.update_attachment(cx, project, id, connector))
    }

    pub(crate) fn complete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.complete_attachment(cx, project, id))
    }

    pub(crate) fn delete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<Vec<Attachment>, CinderError> {
        self.with_cinder(|c, cx| c.delete_attachment(cx, project, id))
    }

    pub(crate) fn reserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.reserve(cx, project, id))
    }

    pub(crate) fn unreserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.unreserve(cx, project, id))
    }

    pub(crate) fn initialize_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        self.with_cinder(|c, cx| c.initialize_connection(cx, project, id, connector))
    }

    pub(crate) fn attach(
        &mut self,
        project: &str,
        id: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&str>,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.attach(cx, project, id, instance, mountpoint, host_name))
    }

    pub(crate) fn begin_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.begin_detaching(cx, project, id))
    }

    pub(crate) fn roll_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.roll_detaching(cx, project, id))
    }

    pub(crate) fn terminate_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.terminate_connection(cx, project, id, connector))
    }

    pub(crate) fn detach(
        &mut self,
        project: &str,
        id: &VolumeId,
        attachment: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.detach(cx, project, id, attachment))
    }
}

// ----- views between domains ------------------------------------------------------

/// The fabric an initiator WWPN is logged into: one of the Cinder node's
/// ports, or a vHBA through its adapter port's cable.
fn initiator_fabric(san: &Storage, hmc: &HmcState, wwpn: Wwpn) -> Option<usize> {
    san.node_port_fabric(wwpn).or_else(|| hmc.vhba_fabric(wwpn))
}

/// What the HMC's boot check reads: zones and mappings from the SAN,
/// bootability from Cinder.
struct BootFacts<'a> {
    san: &'a Storage,
    cinder: &'a CinderState,
}

impl hmc::BootView for BootFacts<'_> {
    fn zoned(&self, initiator: Wwpn, target: Wwpn) -> bool {
        self.san.zoned(initiator, target)
    }

    fn mapped_volume(&self, initiator: Wwpn, scsi_id: u32) -> Option<VolumeId> {
        self.san.host_of(initiator)?.mappings.get(&scsi_id).cloned()
    }

    fn bootable(&self, volume: &VolumeId) -> bool {
        self.cinder.volumes.get(volume).is_some_and(|v| v.bootable)
    }
}

/// Cinder's backend: the SAN, with each initiator's fabric read from the
/// HMC's cabling.
struct SanBackend<'a> {
    san: &'a mut Storage,
    hmc: &'a HmcState,
}

impl cinder::Backend for SanBackend<'_> {
    fn node_wwpns(&self) -> Vec<Wwpn> {
        self.san.node_wwpns()
    }

    fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host: &str,
    ) -> Result<FcData, cinder::BackendRefusal> {
        // Resolved before the SAN changes, so the lookup borrows nothing.
        let fabrics: Vec<(Wwpn, Option<usize>)> = initiators
            .iter()
            .map(|w| (*w, initiator_fabric(self.san, self.hmc, *w)))
            .collect();
        self.san
            .connect(volume, initiators, host, |w| {
                fabrics.iter().find(|(x, _)| *x == w).and_then(|(_, f)| *f)
            })
            .map_err(|r| cinder::BackendRefusal {
                bad_connector: matches!(r, StorageRefusal::NoInitiators),
                message: r.message(),
            })
    }

    fn disconnect(&mut self, volume: &VolumeId, initiators: &[Wwpn]) {
        self.san.disconnect(volume, initiators);
    }

    fn unmap_everywhere(&mut self, volume: &VolumeId) {
        self.san.unmap_everywhere(volume);
    }

    fn image_written(&mut self, volume: &VolumeId, image: &str) {
        self.san.image_written(volume, image);
    }
}
