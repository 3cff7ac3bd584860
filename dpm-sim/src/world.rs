//! The state of a simulated world, and the transitions that move it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cinder_client::{AttachmentId, ImageId, VolumeId};
use fc_types::{DeviceNumber, FcpLun, Wwnn, Wwpn};
use hmc_client::{
    AdapterType, BootDevice, CpcUri, HbaUri, PartitionStatus, PartitionUri, StoragePortUri,
};

use crate::cinder::{AttachmentState, VolumeState};
use crate::clock::{Clock, ClockMode};
use crate::ops::{Counters, Op};
use crate::spec::{SpecError, Timings, WorldSpec};
use crate::storage::Storage;

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

#[derive(Debug)]
pub(crate) struct CpcState {
    pub object_id: String,
    pub name: String,
    pub dpm: bool,
    pub storage_management: bool,
    pub status: String,
    pub ifl: u32,
    pub memory_mib: u64,
    pub se_version: String,
    pub machine_type: String,
    pub maximum_partitions: u32,
}

impl CpcState {
    pub fn uri(&self) -> CpcUri {
        CpcUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }
}

/// 64 bits no other process can predict (the standard library's per-process
/// random hash keys), so that served session ids and tokens are not
/// guessable. Not for cryptography.
pub(crate) fn unguessable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// Ids the simulator makes are always valid URI segments; this is never
/// reached, and exists so that no `unwrap` is needed.
#[cold]
pub(crate) fn unreachable_uri<T>() -> T {
    panic!("dpm-sim built an invalid URI from its own id")
}

#[derive(Debug)]
pub(crate) struct PortState {
    pub index: u32,
    pub fabric: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct AdapterState {
    pub object_id: String,
    pub name: String,
    pub pchid: String,
    pub adapter_type: AdapterType,
    pub ports: Vec<PortState>,
}

#[derive(Debug, Clone)]
pub(crate) struct HbaState {
    pub element_id: String,
    pub name: String,
    pub description: String,
    pub wwpn: Wwpn,
    pub port: StoragePortUri,
    pub device_number: DeviceNumber,
}

#[derive(Debug)]
pub(crate) struct PartitionState {
    pub object_id: String,
    pub name: String,
    pub description: String,
    pub status: PartitionStatus,
    pub partition_type: String,
    pub ifl: u32,
    pub cp: u32,
    pub initial_memory: u64,
    pub maximum_memory: u64,
    pub processor_mode: String,
    pub hbas: Vec<HbaState>,
    pub boot_device: BootDevice,
    pub boot_storage_device: Option<HbaUri>,
    pub boot_wwpn: Option<Wwpn>,
    pub boot_lun: Option<FcpLun>,
    /// Memory is held from start until stop, as PR/SM does.
    pub memory_held: bool,
}

impl PartitionState {
    pub fn uri(&self) -> PartitionUri {
        PartitionUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }
    pub fn hba_uri(&self, hba: &HbaState) -> HbaUri {
        HbaUri::new(&self.uri(), &hba.element_id).unwrap_or_else(|_| unreachable_uri())
    }
}

#[derive(Debug)]
pub(crate) struct JobState {
    pub partition: String,
    /// `None` while running; the status code, reason and message once done.
    pub outcome: Option<(u16, Option<u16>, Option<String>)>,
}

/// A transition that finishes at a point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    PartitionStarted { job: String },
    PartitionStopped { job: String },
    VolumeCreated { volume: VolumeId },
    VolumeDeleted { volume: VolumeId },
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub due: Duration,
    pub seq: u64,
    pub action: Action,
}

/// The whole simulated world.
#[derive(Debug)]
pub(crate) struct World {
    pub clock: Clock,
    pub timings: Timings,
    seq: u64,
    pub hmc_userid: String,
    pub hmc_password: String,
    pub sessions: BTreeSet<String>,
    pub cpc: CpcState,
    pub fabrics: Vec<Wwnn>,
    pub adapters: Vec<AdapterState>,
    pub partitions: BTreeMap<String, PartitionState>,
    pub jobs: BTreeMap<String, JobState>,
    next_npiv: u64,
    pub storage: Storage,
    pub images: BTreeMap<ImageId, String>,
    pub projects: Vec<String>,
    /// Cinder's highest microversion.
    pub cinder_max: (u32, u32),
    pub volumes: BTreeMap<VolumeId, VolumeState>,
    pub attachments: BTreeMap<AttachmentId, AttachmentState>,
    pub pending: Vec<Pending>,
    pub counters: Counters,
    /// Every request, in order, for call-order checks.
    pub log: Vec<Op>,
    pub faults: BTreeMap<Op, (u32, Fault)>,
}

impl World {
    pub(crate) fn new(spec: &WorldSpec, mode: ClockMode) -> Result<Self, SpecError> {
        spec.validate()?;
        let mut w = Self {
            clock: Clock::new(mode),
            timings: spec.timings.clone(),
            seq: 0,
            hmc_userid: spec.hmc.userid.clone(),
            hmc_password: spec.hmc.password.clone(),
            sessions: BTreeSet::new(),
            cpc: CpcState {
                object_id: String::new(),
                name: spec.cpc.name.clone(),
                dpm: spec.cpc.dpm,
                storage_management: spec.cpc.storage_management,
                status: spec.cpc.status.clone(),
                ifl: spec.cpc.ifl,
                memory_mib: spec.cpc.memory_mib,
                se_version: spec.cpc.se_version.clone(),
                machine_type: spec.cpc.machine_type.clone(),
                maximum_partitions: spec.cpc.maximum_partitions,
            },
            fabrics: spec.fabrics.iter().map(|f| f.wwn).collect(),
            adapters: Vec::new(),
            partitions: BTreeMap::new(),
            jobs: BTreeMap::new(),
            next_npiv: 0,
            storage: Storage::new(spec)?,
            images: spec
                .images
                .iter()
                .map(|i| (i.id.clone(), i.name.clone()))
                .collect(),
            projects: spec.projects.iter().map(|p| p.name.clone()).collect(),
            cinder_max: spec.cinder.max()?,
            volumes: BTreeMap::new(),
            attachments: BTreeMap::new(),
            pending: Vec::new(),
            counters: Counters::default(),
            log: Vec::new(),
            faults: BTreeMap::new(),
        };
        w.cpc.object_id = w.new_object_id(0xc);
        for a in &spec.adapters {
            let mut ports = Vec::new();
            for (i, f) in a.ports.iter().enumerate() {
                let fabric = if f.is_empty() {
                    None
                } else {
                    Some(spec.fabric_index(f, &a.name)?)
                };
                ports.push(PortState {
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    fabric,
                });
            }
            let object_id = w.new_object_id(0xa);
            w.adapters.push(AdapterState {
                object_id,
                name: a.name.clone(),
                pchid: a.pchid.clone(),
                adapter_type: AdapterType::from(a.adapter_type.as_str()),
                ports,
            });
        }
        Ok(w)
    }

    /// A fresh sequence number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A fresh HMC object id in the HMC's UUID-like shape.
    pub(crate) fn new_object_id(&mut self, kind: u8) -> String {
        let n = self.next_seq();
        format!("{kind:x}{n:07x}-63d7-11f0-8067-fa163ed76c47")
    }

    /// A fresh UUID for Cinder objects: the sequence number leads, so ids
    /// differ in their first digits; `kind` tells volumes from attachments.
    pub(crate) fn new_uuid(&mut self, kind: u8) -> u128 {
        let n = u128::from(self.next_seq());
        (n << 96) | (u128::from(kind) << 80) | (0x4000_u128 << 64) | (0x8000_u128 << 48) | n
    }

    /// A world-unique NPIV WWPN, in the range the HMC assigns.
    pub(crate) fn new_npiv_wwpn(&mut self) -> Wwpn {
        self.next_npiv += 1;
        Wwpn::from_u64(0xc050_76ff_e500_0000 + self.next_npiv)
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    pub(crate) fn now_stamp(&self) -> String {
        crate::clock::timestamp(self.now())
    }

    /// Schedules `action` to finish `after` from now.
    pub(crate) fn schedule(&mut self, after: Duration, action: Action) {
        let due = self.now() + after;
        let seq = self.next_seq();
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
            Action::PartitionStarted { job } => self.finish_start(&job),
            Action::PartitionStopped { job } => self.finish_stop(&job),
            Action::VolumeCreated { volume } => self.finish_volume_create(&volume),
            Action::VolumeDeleted { volume } => self.finish_volume_delete(&volume),
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

    /// The fabric an initiator WWPN is logged into: a vHBA through its
    /// adapter port's cable, or one of the Cinder node's ports.
    pub(crate) fn initiator_fabric(&self, wwpn: Wwpn) -> Option<usize> {
        if let Some(f) = self.storage.node_port_fabric(wwpn) {
            return Some(f);
        }
        self.partitions
            .values()
            .flat_map(|p| &p.hbas)
            .find(|h| h.wwpn == wwpn)
            .and_then(|h| self.port_fabric(&h.port))
    }

    /// The fabric an adapter port is cabled to.
    pub(crate) fn port_fabric(&self, port: &StoragePortUri) -> Option<usize> {
        let (adapter, index) = self.find_port(port)?;
        adapter.ports.get(index)?.fabric
    }

    /// The adapter and port index a storage port URI names.
    pub(crate) fn find_port(&self, port: &StoragePortUri) -> Option<(&AdapterState, usize)> {
        let adapter = self
            .adapters
            .iter()
            .find(|a| a.object_id == port.parent().object_id())?;
        let index: usize = port.element_id().parse().ok()?;
        (index < adapter.ports.len()).then_some((adapter, index))
    }

    /// Memory held by partitions that are starting or running, MiB.
    pub(crate) fn memory_held(&self) -> u64 {
        self.partitions
            .values()
            .filter(|p| p.memory_held)
            .map(|p| p.initial_memory)
            .sum()
    }
}
