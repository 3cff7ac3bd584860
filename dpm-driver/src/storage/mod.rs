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
use dpm_volume::FcPath;
use hmc_client::{HmcApi, Partition, PartitionUri, StorageGroupUri, StorageVolumeUri};

use crate::host::{Host, Ports};
use crate::values::{
    Boot, DriverVolume, Initiators, InstanceVolume, Located, PlannedVolume, StorageInfo,
    StorageModel,
};

use crate::error::{AttachStep, CleanupError, ConnectorStep, DetachStep, LookupError, SpawnStep};

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
        drv: &Host<H>,
        ports: &Ports,
        instance: &InstanceId,
    ) -> Result<Option<Located>, LookupError>;

    /// Makes the partition's initiators (reusing what exists, found by
    /// name), with requests for the planned volumes where the model takes
    /// them. `fresh`: the partition was just made, so nothing of it exists.
    /// Returns them and whether anything of them existed before.
    async fn ensure(
        &self,
        drv: &Host<H>,
        ports: &Ports,
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
        drv: &Host<H>,
        ports: &Ports,
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
        drv: &Host<H>,
        located: &Located,
        volume: &DriverVolume,
    ) -> Result<Vec<FcPath>, (AttachStep, Vec<CleanupError>)>;

    /// Takes the volume from the instance's guest, before Cinder unmasks
    /// it; refuses the instance's boot volume. A volume the instance does
    /// not have is no error (Nova's detach is idempotent).
    async fn detach(
        &self,
        drv: &Host<H>,
        instance: &InstanceId,
        volume: &VolumeId,
        info: Option<&ConnectionInfo>,
    ) -> Result<(), DetachStep>;

    /// Removes what outlives the partition (the instance's storage group),
    /// found by name; the partition is gone.
    async fn remove(&self, drv: &Host<H>, instance: &InstanceId) -> Vec<CleanupError>;

    /// Reverts the boot preparation's changes on a stopped partition.
    async fn undo(&self, drv: &Host<H>, changes: Vec<Change>) -> Vec<CleanupError>;

    /// The instance's storage, for `info`.
    async fn storage_info(
        &self,
        drv: &Host<H>,
        ports: &Ports,
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
