//! The simulator handle: API clients on one side, and on the other the
//! control interface that tests use (clock, counters, faults, inspection).
//! None of the controls are on the API traits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_client::{AttachStatus, AttachmentId, ImageId, InstanceId, VolumeId, VolumeStatus};
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{
    AdapterUri, CpcUri, Credentials, PartitionStatus, PartitionUri, Secret, StoragePortUri,
};

use crate::client::{SimCinder, SimHmc};
use crate::clock::ClockMode;
use crate::dsm::StorageGroupView;
use crate::harness::{ArmedFault, Fault};
use crate::notify::Notice;
use crate::ops::{Counters, Op, Side};
use crate::pipeline::{lock, Shared};
use crate::spec::{SpecError, WorldSpec};
use crate::storage::{Host, Storage, StorageEvent, Zone};
use crate::world::World;

/// One LUN path a partition's operating system would discover.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GuestPath {
    /// The vHBA's device number.
    pub device_number: DeviceNumber,
    /// The storage target port.
    pub target: Wwpn,
    /// The LUN.
    pub lun: FcpLun,
    /// The volume behind it.
    pub volume: VolumeId,
}

/// A vHBA, as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HbaView {
    /// Partition name.
    pub partition: String,
    /// HBA name.
    pub name: String,
    /// WWPN.
    pub wwpn: Wwpn,
    /// Device number.
    pub device_number: DeviceNumber,
    /// Backing adapter port.
    pub port: StoragePortUri,
}

/// A partition, as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionView {
    /// URI.
    pub uri: PartitionUri,
    /// Name.
    pub name: String,
    /// Status.
    pub status: PartitionStatus,
    /// IFLs.
    pub ifl: u32,
    /// Initial memory, MiB.
    pub memory_mib: u64,
    /// Description.
    pub description: String,
    /// `boot-os-specific-parameters`.
    pub boot_os_specific_parameters: String,
    /// `boot-device`.
    pub boot_device: hmc_client::BootDevice,
    /// `boot-storage-device`: the vHBA it boots over (z13).
    pub boot_storage_device: Option<hmc_client::HbaUri>,
    /// `boot-world-wide-port-name` (z13).
    pub boot_world_wide_port_name: Option<Wwpn>,
    /// `boot-logical-unit-number` (z13).
    pub boot_logical_unit_number: Option<fc_types::FcpLun>,
    /// `boot-storage-volume` (storage groups).
    pub boot_storage_volume: Option<hmc_client::StorageVolumeUri>,
}

/// A volume, across all projects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VolumeView {
    /// Id.
    pub id: VolumeId,
    /// Name.
    pub name: Option<String>,
    /// Status.
    pub status: VolumeStatus,
    /// Bootable.
    pub bootable: bool,
    /// Size, GiB.
    pub size: u64,
}

/// An attachment, across all projects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttachmentView {
    /// Id.
    pub id: AttachmentId,
    /// Volume.
    pub volume: VolumeId,
    /// Instance.
    pub instance: Option<InstanceId>,
    /// Status.
    pub status: AttachStatus,
}

/// Everything an operation may change, for "the world is exactly as
/// before" assertions. Ids the world hands out (WWPNs, object ids) are not
/// reused, so a snapshot compares what exists, not what counters say.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorldSnapshot {
    /// Partitions.
    pub partitions: Vec<PartitionView>,
    /// vHBAs.
    pub hbas: Vec<HbaView>,
    /// Storage host objects with their mappings.
    pub hosts: Vec<Host>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// Volumes.
    pub volumes: Vec<VolumeView>,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
    /// CPC memory held by partitions, MiB.
    pub memory_held_mib: u64,
    /// Storage groups with their WWPNs, volumes, VSRs and partitions.
    pub storage_groups: Vec<StorageGroupView>,
}

/// An FCP adapter of the world, for wiring a driver's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcpAdapterInfo {
    /// Adapter URI.
    pub uri: AdapterUri,
    /// Adapter name.
    pub name: String,
    /// Number of ports.
    pub ports: u32,
}

/// A simulated DPM world. Cloning gives another handle to the same world.
#[derive(Clone)]
pub struct Sim {
    shared: Shared,
    spec: Arc<WorldSpec>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("cpc", &self.spec.cpc.name)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A world whose transitions finish on tokio time.
    pub fn new(spec: WorldSpec) -> Result<Self, SpecError> {
        Self::with_clock(spec, ClockMode::Auto)
    }

    /// A world whose time moves only when stepped.
    pub fn stepped(spec: WorldSpec) -> Result<Self, SpecError> {
        Self::with_clock(spec, ClockMode::Stepped)
    }

    /// A world with the given clock.
    pub fn with_clock(spec: WorldSpec, mode: ClockMode) -> Result<Self, SpecError> {
        let world = World::new(&spec, mode)?;
        Ok(Self {
            shared: Shared::new(world),
            spec: Arc::new(spec),
        })
    }

    /// The world and the harness, for the HTTP layer.
    #[cfg(feature = "serve")]
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The world's handle.
    fn world(&self) -> &Arc<Mutex<World>> {
        &self.shared.world
    }

    /// The HMC's notifications from now on: job completions on each
    /// session's job topic, partition status changes on every session's
    /// object topic. On the automatic clock a task is started (once) that
    /// ends transitions at their due time, so that they are announced
    /// then; call this inside a tokio runtime.
    pub fn notices(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        let mut w = lock(self.world());
        crate::world::ensure_ticker(self.world(), &mut w);
        w.notifier.subscribe()
    }

    /// Drops every connection to the HMC's notification service (served):
    /// clients must notice and fall back to polling.
    pub fn drop_notification_connections(&self) {
        lock(self.world()).notifier.drop_connections();
    }

    /// Changes when [`Sim::drop_notification_connections`] is called.
    #[cfg(feature = "serve")]
    pub(crate) fn notification_drops(&self) -> tokio::sync::watch::Receiver<u64> {
        lock(self.world()).notifier.drops()
    }

    /// Whether `login`/`passcode` may connect to the HMC's notification
    /// service: the HMC user and password, or a live session's id and
    /// credential.
    pub fn notification_login(&self, login: &str, passcode: &str) -> bool {
        lock(self.world()).hmc.notification_login(login, passcode)
    }

    /// The spec the world was built from.
    pub fn spec(&self) -> &WorldSpec {
        &self.spec
    }

    // ----- API clients --------------------------------------------------------

    /// An HMC client with the world's credentials (not yet logged on).
    pub fn hmc(&self) -> SimHmc {
        self.hmc_with(Credentials {
            userid: self.spec.hmc.userid.clone(),
            password: Secret::new(self.spec.hmc.password.clone()),
        })
    }

    /// An HMC client with other credentials.
    pub fn hmc_with(&self, credentials: Credentials) -> SimHmc {
        SimHmc::new(self.shared.clone(), credentials)
    }

    /// A Cinder client scoped to `project`.
    pub fn cinder(&self, project: &str) -> SimCinder {
        SimCinder::new(self.shared.clone(), project.into())
    }

    /// A Cinder client scoped to the first project of the spec.
    pub fn default_cinder(&self) -> SimCinder {
        let p = self
            .spec
            .projects
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        self.cinder(&p)
    }

    // ----- facts for wiring ---------------------------------------------------

    /// The CPC's URI.
    pub fn cpc_uri(&self) -> CpcUri {
        lock(self.world()).hmc.cpc.uri()
    }

    /// The FCP adapters, in spec order.
    pub fn fcp_adapters(&self) -> Vec<FcpAdapterInfo> {
        let w = lock(self.world());
        w.hmc
            .adapters
            .iter()
            .filter(|a| a.adapter_type == hmc_client::AdapterType::Fcp)
            .map(|a| FcpAdapterInfo {
                uri: a.uri(),
                name: a.name.clone(),
                ports: u32::try_from(a.ports.len()).unwrap_or(u32::MAX),
            })
            .collect()
    }

    /// Every adapter URI and type, in spec order.
    pub fn adapters(&self) -> Vec<(AdapterUri, String)> {
        let w = lock(self.world());
        w.hmc
            .adapters
            .iter()
            .map(|a| (a.uri(), a.adapter_type.to_string()))
            .collect()
    }

    /// The images volumes can be made from.
    pub fn images(&self) -> Vec<(ImageId, String)> {
        self.spec
            .images
            .iter()
            .map(|i| (i.id.clone(), i.name.clone()))
            .collect()
    }

    // ----- clock --------------------------------------------------------------

    /// Simulated time since the world was made.
    pub fn now(&self) -> Duration {
        lock(self.world()).now()
    }

    /// Moves a stepped clock forward by `d` and finishes what is due.
    pub fn advance(&self, d: Duration) {
        let mut w = lock(self.world());
        let t = w.now() + d;
        w.clock.step_to(t);
        w.settle();
    }

    /// Finishes every pending transition (a stepped clock jumps to each
    /// one's due time; an automatic clock finishes only what is due).
    /// Background rounds (automatic discovery every 10 simulated minutes)
    /// are not waited for; they run when time passes them.
    pub fn run_until_idle(&self) {
        let mut w = lock(self.world());
        if w.clock.mode() == ClockMode::Stepped {
            while let Some(t) = w.next_due_time() {
                w.clock.step_to(t);
                w.settle();
            }
        } else {
            w.settle();
        }
    }

    /// Whether transitions are still pending (background rounds such as
    /// automatic discovery do not count).
    pub fn is_busy(&self) -> bool {
        lock(self.world()).next_due_time().is_some()
    }

    // ----- counters and faults --------------------------------------------------

    /// Request counts so far.
    pub fn counters(&self) -> Counters {
        self.shared.harness().counters.clone()
    }

    /// Every request since the last reset, in order (job traffic
    /// included), for checks of call order across the HMC and Cinder.
    pub fn op_log(&self) -> Vec<Op> {
        self.shared.harness().log.clone()
    }

    /// Resets the request counts and the request log.
    pub fn reset_counters(&self) {
        let mut h = self.shared.harness();
        h.counters = Counters::default();
        h.log.clear();
    }

    /// Makes the next `count` requests of `op` fail with `fault`: refused
    /// without changing anything, or, for [`Fault::lost_reply`], carried
    /// out with the reply lost.
    pub fn fail_next(&self, op: Op, count: u32, fault: Fault) {
        self.fail_after(op, 0, count, fault);
    }

    /// Lets `skip` requests of `op` through, then fails the next `count`
    /// with `fault` (to hit one particular request of an operation).
    pub fn fail_after(&self, op: Op, skip: u32, count: u32, fault: Fault) {
        if count > 0 {
            let armed = ArmedFault { skip, count, fault };
            self.shared.harness().faults.insert(op, armed);
        }
    }

    /// Lets `n` more requests reach the world, then cuts the clients off:
    /// every later request fails without reaching it, as when the process
    /// that drives them dies. [`Sim::reconnect`] ends it.
    pub fn sever_after(&self, n: u64) {
        self.shared.harness().sever_after = Some(n);
    }

    /// Lets requests reach the world again (a new process).
    pub fn reconnect(&self) {
        self.shared.harness().sever_after = None;
    }

    /// Whether NPIV WWPNs that a deleted vHBA or storage group freed are
    /// handed out again, as a real DPM's WWPN pool does (off by default, so
    /// every WWPN of a run is unique). With it on, a LUN still masked to a
    /// freed WWPN shows up in whichever partition gets that WWPN next.
    pub fn set_wwpn_reuse(&self, on: bool) {
        lock(self.world()).ids.reuse_npiv = on;
    }

    /// Takes a SAN fabric (by its index in the spec) down or brings it back:
    /// its zones carry nothing while it is down, so LUNs behind it are not
    /// seen, discovered or booted from.
    pub fn set_fabric_down(&self, fabric: usize, down: bool) {
        let mut w = lock(self.world());
        if down {
            w.san.down.insert(fabric);
        } else {
            w.san.down.remove(&fabric);
        }
    }

    /// Jobs that requests of `op` start from now on never end (they stay
    /// `running`), as a hung HMC job does: `Op::StartPartition`,
    /// `Op::StopPartition` or `Op::StartFcpStorageDiscovery`. `false` lets
    /// new ones end again.
    pub fn stall_jobs(&self, op: Op, on: bool) {
        let mut h = self.shared.harness();
        if on {
            h.stall_jobs.insert(op);
        } else {
            h.stall_jobs.remove(&op);
        }
    }

    /// Each request of one API takes this long before it is answered (in
    /// memory on tokio time, served on the real clock).
    pub fn set_latency(&self, side: Side, latency: Duration) {
        let mut h = self.shared.harness();
        match side {
            Side::Hmc => h.latency.0 = latency,
            Side::Cinder => h.latency.1 = latency,
        }
    }

    /// Fails each request with this probability, drawn from `seed`: a
    /// refusal (500, 409.2 busy, 503) or a lost reply, in equal parts.
    /// `0.0` turns it off.
    pub fn set_fault_rate(&self, rate: f64, seed: u64) {
        let mut h = self.shared.harness();
        h.fault_rate = rate.clamp(0.0, 1.0);
        h.fault_rng = fastrand::Rng::with_seed(seed);
    }

    /// How many requests the random fault rate has failed.
    pub fn random_faults(&self) -> u64 {
        self.shared.harness().random_faults
    }

    /// Disarms every injected fault that has not fired yet.
    pub fn clear_faults(&self) {
        self.shared.harness().faults.clear();
    }

    /// Turns the FC zone manager on or off. Off, Cinder still masks LUNs
    /// and returns its `initiator_target_map`, but no zones are made, so
    /// the LUNs are not visible to the initiators (a misconfigured site).
    pub fn set_zoning(&self, enabled: bool) {
        lock(self.world()).san.zoning = enabled;
    }

    /// Sets a volume's status, as an administrator's `cinder reset-state`
    /// would (to put one in `error` or `maintenance`); false when there is
    /// no such volume.
    pub fn set_volume_status(&self, volume: &VolumeId, status: VolumeStatus) -> bool {
        let mut w = lock(self.world());
        w.settle();
        match w.cinder.volumes.get_mut(volume) {
            Some(v) => {
                v.status = status;
                true
            }
            None => false,
        }
    }

    /// Puts a partition in a status a real CPC produces on its own:
    /// `reservation-error` (from `stopped`: an activation that found no
    /// resources), `terminated` or `paused` (the guest halted or waits;
    /// from a partition that holds its resources), `degraded` (from
    /// `active`) and `active` again (from `degraded`). Checked first: a
    /// refusal changes nothing. Announced as a status change, as the HMC
    /// announces it.
    pub fn set_partition_status(
        &self,
        partition: &PartitionUri,
        status: PartitionStatus,
    ) -> Result<(), crate::StatusError> {
        let mut w = lock(self.world());
        w.settle();
        w.hmc.set_partition_status(partition, status)
    }

    /// Whether the partition's guest honours shutdown commands sent to it
    /// (Send OS Command): an unresponsive one is a hung guest, which
    /// echoes the command and goes on running. It stays so, across the
    /// partition's runs, until set again. False when there is no such
    /// partition.
    pub fn set_guest_responsive(&self, partition: &PartitionUri, responsive: bool) -> bool {
        let mut w = lock(self.world());
        w.settle();
        w.hmc.set_guest_responsive(partition, responsive)
    }

    /// Ends every HMC session, as an HMC restart or timeout would.
    pub fn expire_sessions(&self) {
        lock(self.world()).hmc.sessions.clear();
    }

    // ----- inspection -----------------------------------------------------------

    /// The LUN paths the operating system of a running partition would
    /// discover: for each of its FCP channels (vHBAs, or the VSRs of its
    /// attached storage groups), each volume mapped to the channel WWPN's
    /// host at each target port the WWPN is zoned with. A partition that is
    /// not running discovers nothing.
    pub fn guest_paths(&self, partition: &PartitionUri) -> Vec<GuestPath> {
        let mut w = lock(self.world());
        w.settle();
        let Some(p) = w.hmc.partitions.get(partition.object_id()) else {
            return Vec::new();
        };
        if !matches!(
            p.status,
            PartitionStatus::Active | PartitionStatus::Degraded
        ) {
            return Vec::new();
        }
        // Each channel with the fabric its port is cabled to.
        let mut channels: Vec<(DeviceNumber, Wwpn, Option<usize>)> = p
            .hbas
            .iter()
            .map(|h| (h.device_number, h.wwpn, w.hmc.port_fabric(&h.port)))
            .collect();
        channels.extend(w.dsm.vsr_pairs(partition).into_iter().map(|(d, wwpn)| {
            let fabric = w.dsm.bound_port(wwpn).and_then(|p| w.hmc.port_fabric(p));
            (d, wwpn, fabric)
        }));
        paths_through(&w.san, &channels)
    }

    /// The storage groups, in creation order: WWPNs with their status and
    /// bound port, volumes with their state, size, usage and the Cinder
    /// volume discovery matched, VSRs, and the attached partitions.
    pub fn storage_groups(&self) -> Vec<StorageGroupView> {
        let mut w = lock(self.world());
        w.settle();
        w.dsm.views()
    }

    /// The storage system's host objects.
    pub fn hosts(&self) -> Vec<Host> {
        lock(self.world()).san.hosts.clone()
    }

    /// The zones on all fabrics.
    pub fn zones(&self) -> Vec<Zone> {
        lock(self.world()).san.zones.iter().cloned().collect()
    }

    /// What the storage system did, in order.
    pub fn storage_events(&self) -> Vec<StorageEvent> {
        lock(self.world()).san.events.clone()
    }

    /// The Cinder node's own WWPNs (used for image deployment).
    pub fn node_wwpns(&self) -> Vec<Wwpn> {
        lock(self.world()).san.node_wwpns()
    }

    /// The target ports on each fabric, by fabric index.
    pub fn target_ports(&self) -> Vec<(Wwpn, usize)> {
        lock(self.world()).san.target_ports.clone()
    }

    /// The fabric an adapter port is cabled to.
    pub fn port_fabric(&self, port: &StoragePortUri) -> Option<usize> {
        lock(self.world()).hmc.port_fabric(port)
    }

    /// Jobs the HMC still holds (not yet deleted).
    pub fn job_count(&self) -> usize {
        lock(self.world()).hmc.jobs.len()
    }

    /// The CPC memory held by partitions, MiB.
    pub fn memory_held_mib(&self) -> u64 {
        lock(self.world()).hmc.memory_held()
    }

    /// The state an operation may change.
    pub fn snapshot(&self) -> WorldSnapshot {
        let mut w = lock(self.world());
        w.settle();
        let partitions = w
            .hmc
            .partitions
            .values()
            .map(|p| PartitionView {
                uri: p.uri(),
                name: p.name.clone(),
                status: p.status.clone(),
                ifl: p.ifl,
                memory_mib: p.initial_memory,
                description: p.description.clone(),
                boot_os_specific_parameters: w
                    .hmc
                    .extras
                    .get(&p.object_id)
                    .map(|e| e.settings.boot_os_specific_parameters.clone())
                    .unwrap_or_default(),
                boot_device: p.boot_device.clone(),
                boot_storage_device: p.boot_storage_device.clone(),
                boot_world_wide_port_name: p.boot_wwpn,
                boot_logical_unit_number: p.boot_lun,
                boot_storage_volume: p.boot_storage_volume.clone(),
            })
            .collect();
        let hbas = w
            .hmc
            .partitions
            .values()
            .flat_map(|p| {
                p.hbas.iter().map(|h| HbaView {
                    partition: p.name.clone(),
                    name: h.name.clone(),
                    wwpn: h.wwpn,
                    device_number: h.device_number,
                    port: h.port.clone(),
                })
            })
            .collect();
        let volumes = w
            .cinder
            .volumes
            .values()
            .map(|v| VolumeView {
                id: v.id.clone(),
                name: v.name.clone(),
                status: v.status,
                bootable: v.bootable,
                size: v.size,
            })
            .collect();
        let attachments = w
            .cinder
            .attachments
            .values()
            .map(|a| AttachmentView {
                id: a.id.clone(),
                volume: a.volume.clone(),
                instance: a.instance.clone(),
                status: a.status,
            })
            .collect();
        WorldSnapshot {
            partitions,
            hbas,
            hosts: w.san.hosts.clone(),
            zones: w.san.zones.iter().cloned().collect(),
            volumes,
            attachments,
            memory_held_mib: w.hmc.memory_held(),
            storage_groups: w.dsm.views(),
        }
    }
}

/// The paths a guest discovers through its FCP channels, each a (device
/// number, WWPN, fabric its port is cabled to) triple: a vHBA and a VSR
/// are looked at the same way, and each finds the targets it reaches.
fn paths_through(
    san: &Storage,
    channels: &[(DeviceNumber, Wwpn, Option<usize>)],
) -> Vec<GuestPath> {
    let mut out = Vec::new();
    for &(device_number, wwpn, fabric) in channels {
        let (Some(host), Some(fabric)) = (san.host_of(wwpn), fabric) else {
            continue;
        };
        for z in san
            .live_zones()
            .filter(|z| z.initiator == wwpn && san.reachable(wwpn, fabric, z.target))
        {
            for (id, volume) in &host.mappings {
                out.push(GuestPath {
                    device_number,
                    target: z.target,
                    lun: FcpLun::from_target_lun(u64::from(*id)),
                    volume: volume.clone(),
                });
            }
        }
    }
    out.sort();
    out
}
