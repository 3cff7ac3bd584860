//! The values the driver's calls take and return: Nova's instance and
//! volumes, what an instance has on the HMC, its storage, its state. No
//! behaviour beyond reading them.

use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::{BootPath, FcPath, Vhba};
use fc_types::Wwpn;
use hmc_client::{
    FulfillmentState, PartitionStatus, PartitionUri, StorageGroupUri, StorageVolumeUri, VolumeUsage,
};

use crate::name::InstanceName;

/// A Nova instance, as far as the driver cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance UUID.
    pub uuid: InstanceId,
    /// Flavor vCPUs: the partition's IFLs.
    pub vcpus: u32,
    /// Flavor memory, MiB: the partition's initial and maximum memory.
    pub memory_mb: u64,
    /// The name it is known by, kept in the partition's description.
    pub name: Option<InstanceName>,
}

impl Instance {
    /// An instance of this flavor, without a name.
    pub fn new(uuid: InstanceId, vcpus: u32, memory_mb: u64) -> Self {
        Self {
            uuid,
            vcpus,
            memory_mb,
            name: None,
        }
    }
}

/// A volume planned for an instance before Cinder connected it: with
/// storage groups, `prepare_for_spawn` requests it in the instance's group
/// (its id names the request, its size sizes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// Its size, GiB.
    pub size_gib: u64,
    /// Whether it is the boot volume.
    pub boot: bool,
}

/// A volume as Nova hands it to the virt driver: the block device
/// mapping's volume, the `connection_info` Cinder returned for the
/// driver's connector, its size and boot index.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverVolume {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// What Cinder answered the attachment update (or
    /// `os-initialize_connection`) with.
    pub connection_info: ConnectionInfo,
    /// Its size, GiB (the storage-group request's size).
    pub size_gib: u64,
    /// Boot order; 0 is the boot volume, `None` a data volume.
    pub boot_index: Option<u32>,
}

/// What an instance has on the HMC: its partition and the initiators that
/// reach its volumes. Found by name on the HMC (never kept in memory);
/// handing it back to the next call saves finding it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The instance.
    pub instance: InstanceId,
    /// Its partition.
    pub partition: PartitionUri,
    /// Its vHBAs, or its storage group and the group's WWPNs.
    pub initiators: Initiators,
    /// Whether this call made the partition (and its initiators): nothing
    /// of the instance existed before.
    pub created: bool,
}

/// The storage model of the managed CPC, read at `init_host` from its
/// `available-features-list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageModel {
    /// vHBAs on the partition (no `dpm-storage-management` feature).
    Hbas,
    /// Storage groups attached to the partition (the feature is on).
    StorageGroups,
}

impl std::fmt::Display for StorageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hbas => "HBAs",
            Self::StorageGroups => "storage groups",
        })
    }
}

/// An instance's storage group, as the driver made and read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group.
    pub uri: StorageGroupUri,
    /// Its name (the partition's name).
    pub name: String,
    /// Its WWPNs: the initiators Cinder masks the LUNs to.
    pub wwpns: Vec<Wwpn>,
    /// The volume requests this call made, by Cinder volume (empty when
    /// the group was found rather than made).
    pub requested: Vec<(VolumeId, StorageVolumeUri)>,
    /// The partition it is attached to, if it is.
    pub partition: Option<PartitionUri>,
}

/// What reaches an instance's volumes: the partition's vHBAs, or its
/// storage group's WWPNs.
#[derive(Debug, Clone, PartialEq)]
pub enum Initiators {
    /// vHBAs, in adapter-mapping order.
    Vhbas(Vec<Vhba>),
    /// The instance's storage group.
    Group(GroupInfo),
    /// None yet: an earlier try stopped after making the partition.
    None,
}

impl Initiators {
    /// The initiator WWPNs, for the connector.
    pub fn wwpns(&self) -> Vec<Wwpn> {
        match self {
            Self::Vhbas(v) => v.iter().map(|h| h.wwpn).collect(),
            Self::Group(g) => g.wwpns.clone(),
            Self::None => Vec::new(),
        }
    }

    /// The vHBAs (none with storage groups).
    pub fn vhbas(&self) -> &[Vhba] {
        match self {
            Self::Vhbas(v) => v,
            Self::Group(_) | Self::None => &[],
        }
    }

    /// The storage group (none with vHBAs).
    pub fn group(&self) -> Option<&GroupInfo> {
        match self {
            Self::Vhbas(_) | Self::None => None,
            Self::Group(g) => Some(g),
        }
    }
}

/// What a partition boots from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// `boot-device: storage-adapter`: a vHBA, a target port and a LUN.
    San(BootPath),
    /// `boot-device: storage-volume`: a storage volume of the instance's
    /// group; the HMC picks one of its paths.
    Volume {
        /// The storage volume.
        volume: StorageVolumeUri,
        /// Its paths into the partition, as the HMC reports them.
        paths: Vec<FcPath>,
    },
}

impl Boot {
    /// The target port and LUN booted from: the SAN boot path, or the
    /// first path of the boot volume.
    pub fn target_lun(&self) -> Option<(Wwpn, fc_types::FcpLun)> {
        match self {
            Self::San(b) => Some((b.target, b.lun)),
            Self::Volume { paths, .. } => paths.first().map(|p| (p.target, p.lun)),
        }
    }

    /// The partition update that boots from it.
    pub(crate) fn update(&self) -> hmc_client::PartitionUpdate {
        match self {
            Self::San(b) => {
                hmc_client::PartitionUpdate::boot_from_san(b.hba.clone(), b.target, b.lun)
            }
            Self::Volume { volume, .. } => {
                hmc_client::PartitionUpdate::boot_from_volume(volume.clone())
            }
        }
    }

    /// The SAN path, when another one may be tried after a failed start
    /// (with a storage volume the HMC picks the path itself).
    pub(crate) fn san_path(&self) -> Option<&BootPath> {
        match self {
            Self::San(b) => Some(b),
            Self::Volume { .. } => None,
        }
    }

    /// The paths for the SCSI IPL loader, the one booted over first: the
    /// SAN path through its vHBA, then the volume's other paths; with a
    /// storage volume every path DPM discovered (the HMC picks the path).
    pub(crate) fn loader_paths(
        &self,
        vhbas: &[Vhba],
        volume_paths: &[FcPath],
    ) -> (Option<FcPath>, Vec<FcPath>) {
        match self {
            Self::San(b) => (
                vhbas.iter().find(|v| v.uri == b.hba).map(|v| FcPath {
                    device_number: v.device_number,
                    target: b.target,
                    lun: b.lun,
                }),
                volume_paths.to_vec(),
            ),
            Self::Volume { paths, .. } => (None, paths.clone()),
        }
    }
}

/// A storage volume of an instance's group, for `info`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupVolume {
    /// The storage volume.
    pub uri: StorageVolumeUri,
    /// Its name: the Cinder volume id it was requested for.
    pub name: String,
    /// Boot or data.
    pub usage: VolumeUsage,
    /// Size, GiB.
    pub size: f64,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Its paths into the partition.
    pub paths: Vec<FcPath>,
}

/// A VSR of an instance's group, for `info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPath {
    /// Device number in the partition.
    pub device_number: fc_types::DeviceNumber,
    /// The WWPN.
    pub wwpn: Wwpn,
    /// The adapter port, once assigned.
    pub adapter_port: Option<hmc_client::StoragePortUri>,
}

/// An instance's storage, as `info` reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageInfo {
    /// The partition's vHBAs.
    Vhbas(Vec<Vhba>),
    /// The instance's storage group.
    Group {
        /// The group.
        group: GroupInfo,
        /// Its fulfillment state.
        fulfillment_state: FulfillmentState,
        /// Its volumes.
        volumes: Vec<GroupVolume>,
        /// Its VSRs in the partition.
        vsrs: Vec<GroupPath>,
    },
}

/// Nova's power states (the ones a DPM partition maps to; Nova has more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PowerState {
    /// active, degraded.
    Running,
    /// stopped, paused, terminated, reservation-error.
    Shutdown,
    /// starting, stopping.
    Paused,
    /// Any other HMC status.
    NoState,
}

impl PowerState {
    /// The power state for an HMC partition status.
    pub fn from_status(s: &PartitionStatus) -> Self {
        match s {
            PartitionStatus::Active | PartitionStatus::Degraded => Self::Running,
            // reservation-error: the partition could not reserve its
            // resources at activation (after a CPC restart, say); it holds
            // none and runs nothing.
            PartitionStatus::Stopped
            | PartitionStatus::Paused
            | PartitionStatus::Terminated
            | PartitionStatus::ReservationError => Self::Shutdown,
            PartitionStatus::Starting | PartitionStatus::Stopping => Self::Paused,
            _ => Self::NoState,
        }
    }
}

/// `get_info`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Nova power state.
    pub state: PowerState,
    /// The HMC status it came from.
    pub status: PartitionStatus,
    /// The partition.
    pub partition: PartitionUri,
    /// IFLs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mb: u64,
}

/// `get_available_resource`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `max_processors`.
    pub vcpus: u32,
    /// `max_memory`, MiB.
    pub memory_mb: u64,
    /// The sum of this host's partitions' IFLs.
    pub vcpus_used: u32,
    /// The sum of this host's partitions' initial memory, MiB.
    pub memory_mb_used: u64,
    /// `PRSM`.
    pub hypervisor_type: &'static str,
    /// The SE version a.b.c as a·10⁶ + b·10³ + c.
    pub hypervisor_version: u64,
    /// This host's name.
    pub hypervisor_hostname: String,
    /// `s390x`.
    pub cpu_arch: &'static str,
}

/// An SE version "a.b.c" as a·10⁶ + b·10³ + c (missing parts count 0).
pub fn hypervisor_version(se: &str) -> u64 {
    let mut parts = se.split('.').map(|p| p.trim().parse::<u64>().unwrap_or(0));
    let a = parts.next().unwrap_or(0);
    let b = parts.next().unwrap_or(0);
    let c = parts.next().unwrap_or(0);
    a.saturating_mul(1_000_000)
        .saturating_add(b.saturating_mul(1_000))
        .saturating_add(c)
}

/// One of this host's instances, as the partition list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    /// The instance.
    pub instance: InstanceId,
    /// The name it was spawned with, if it was given one.
    pub name: Option<InstanceName>,
    /// Its partition.
    pub partition: PartitionUri,
    /// The partition's status.
    pub status: PartitionStatus,
    /// Its IFLs.
    pub vcpus: u32,
    /// Its initial memory, MiB.
    pub memory_mb: u64,
}

/// A volume of an instance with its LUN paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceVolume {
    /// The Cinder volume.
    pub volume: VolumeId,
    /// Whether the instance boots from it.
    pub boot: bool,
    /// Its paths into the partition: Cinder's map through every vHBA
    /// (vHBAs; on Storwize the map is all-to-all, so some paths lead to
    /// the other fabric), or the paths DPM discovered (storage groups).
    pub paths: Vec<FcPath>,
}

/// Everything about one instance (`dpm info`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetails {
    /// The instance.
    pub instance: InstanceId,
    /// The name it was spawned with.
    pub name: Option<InstanceName>,
    /// The partition's name.
    pub partition_name: String,
    /// Its state, partition, vCPUs and memory.
    pub info: InstanceInfo,
    /// What it boots from, as the partition's boot properties say.
    pub boot: Option<Boot>,
    /// Its volumes with their paths (the boot volume first). With vHBAs
    /// the paths come from Cinder's attachments, so a Cinder without the
    /// attachments API (3.44) gives none here.
    pub volumes: Vec<InstanceVolume>,
    /// Its vHBAs, or its storage group with volumes and VSRs.
    pub storage: StorageInfo,
}
