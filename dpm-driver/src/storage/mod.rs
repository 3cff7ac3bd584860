//! The seam between DPM's two storage models: the [`Storage`] trait, with
//! one implementation each.
//!
//! - [`vhbas::Vhbas`] (z13, and later machines without
//!   `dpm-storage-management`): one vHBA per adapter mapping on the
//!   partition; the partition boots with `boot-device: storage-adapter`
//!   from a target WWPN and LUN picked from Cinder's connection info.
//! - [`groups::Groups`] (z14 and later, feature on): one storage group per
//!   instance, named after it, with one volume request per Cinder volume;
//!   the group's WWPNs are the initiators; DPM discovers the LUNs Cinder
//!   masked, the group is attached (one VSR per adapter), and the partition
//!   boots with `boot-device: storage-volume` from the boot volume's
//!   request.
//!
//! `init_host` picks one from the CPC's features; spawn, attach, detach,
//! destroy and describe are written once against the trait, and nothing
//! outside the two implementations asks which model it is in.

mod group_steps;
pub(crate) mod groups;
pub(crate) mod vhbas;

use async_trait::async_trait;
use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::{BootPath, FcPath, Vhba};
use fc_types::Wwpn;
use hmc_client::{
    FulfillmentState, HmcApi, Partition, PartitionUri, StorageGroupUri, StorageVolumeUri,
    VolumeUsage,
};

use crate::driver::{DpmDriver, DriverVolume, Located, PlannedVolume, Ready};
use crate::error::{AttachStep, CleanupError, ConnectorStep, DetachStep, LookupError, SpawnStep};
use crate::names::InstanceVolume;

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

/// What the partition can boot from, best first, and each volume's paths.
#[derive(Debug)]
pub(crate) struct BootPlan {
    /// The boot sources to try, in order (at least one).
    pub boots: Vec<Boot>,
    /// Each spawn volume's LUN paths, in boot order.
    pub paths: Vec<(VolumeId, Vec<FcPath>)>,
}

/// A change the boot preparation made, to undo when the spawn fails.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// Requests added to the group.
    Requested {
        group: StorageGroupUri,
        requests: Vec<StorageVolumeUri>,
    },
    /// The group was attached to the partition.
    Attached {
        group: StorageGroupUri,
        partition: PartitionUri,
    },
}

/// The steps that differ between the storage models.
#[async_trait]
pub(crate) trait Storage<H: HmcApi>: Send + Sync + std::fmt::Debug {
    /// Which model this is (for reports; no code branches on it).
    fn model(&self) -> StorageModel;

    /// What the instance has on the HMC, read-only; `None` when it has no
    /// partition.
    async fn locate(
        &self,
        drv: &DpmDriver<H>,
        ready: &Ready<H>,
        instance: &InstanceId,
    ) -> Result<Option<Located>, LookupError>;

    /// Makes the partition's initiators (reusing what exists, found by
    /// name), with requests for the planned volumes where the model takes
    /// them. `fresh`: the partition was just made, so nothing of it exists.
    /// Returns them and whether anything of them existed before.
    async fn ensure(
        &self,
        drv: &DpmDriver<H>,
        ready: &Ready<H>,
        instance: &InstanceId,
        partition: &PartitionUri,
        fresh: bool,
        planned: &[PlannedVolume],
    ) -> Result<(Initiators, bool), ConnectorStep>;

    /// What the partition can boot from, for these volumes (boot order,
    /// the boot volume among them); what it changes is pushed to
    /// `changes` as it happens.
    async fn boot_plan(
        &self,
        drv: &DpmDriver<H>,
        ready: &Ready<H>,
        located: &Located,
        volumes: &[&DriverVolume],
        boot: &DriverVolume,
        changes: &mut Vec<Change>,
    ) -> Result<BootPlan, SpawnStep>;

    /// Makes a connected volume reachable by the instance's guest; undoes
    /// its own changes when it fails (their failures are returned beside
    /// the step).
    async fn attach(
        &self,
        drv: &DpmDriver<H>,
        located: &Located,
        volume: &DriverVolume,
    ) -> Result<Vec<FcPath>, (AttachStep, Vec<CleanupError>)>;

    /// Takes the volume from the instance's guest, before Cinder unmasks
    /// it; refuses the instance's boot volume. A volume the instance does
    /// not have is no error (Nova's detach is idempotent).
    async fn detach(
        &self,
        drv: &DpmDriver<H>,
        instance: &InstanceId,
        volume: &VolumeId,
        info: Option<&ConnectionInfo>,
    ) -> Result<(), DetachStep>;

    /// Removes what outlives the partition (the instance's storage group),
    /// found by name; the partition is gone.
    async fn remove(&self, drv: &DpmDriver<H>, instance: &InstanceId) -> Vec<CleanupError>;

    /// Reverts the boot preparation's changes on a stopped partition.
    async fn undo(&self, drv: &DpmDriver<H>, changes: Vec<Change>) -> Vec<CleanupError>;

    /// The instance's storage, for `info`.
    async fn storage_info(
        &self,
        drv: &DpmDriver<H>,
        located: &Located,
    ) -> Result<StorageInfo, LookupError>;

    /// The instance's volumes with their paths and what it boots from,
    /// from the partition, its storage, and what Cinder reports attached
    /// (`attached`: each volume and its connection info).
    fn volumes(
        &self,
        partition: &Partition,
        storage: &StorageInfo,
        attached: &[(VolumeId, ConnectionInfo)],
    ) -> (Option<Boot>, Vec<InstanceVolume>);
}
