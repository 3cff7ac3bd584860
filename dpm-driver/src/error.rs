//! The virt driver's errors: one enum of steps per operation, the cause in
//! `#[source]`, and [`LookupError`] for the failures many steps share
//! (finding and reading what an instance has on the HMC). Operations that
//! undo their work on failure carry the undo steps that failed as
//! [`CleanupError`]s.
//!
//! Every `is_refusal` matches each variant by name, with no catch-all arm:
//! a new step must say whether it is a refusal (nothing was changed) or a
//! failure.

use cinder_client::{FcInfoError, InstanceId, VolumeId};
use dpm_volume::{BootPath, VolumeError};
use hmc_client::{
    AdapterUri, CpcUri, FulfillmentState, HmcError, PartitionUri, StorageGroupUri, StorageVolumeUri,
};

/// `init_host` found the host unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// HMC logon failed.
    #[error("could not log on to the HMC")]
    Logon(#[source] HmcError),
    /// The configured CPC does not exist.
    #[error("CPC {cpc} does not exist on the HMC; check cpc_object_id")]
    CpcNotFound {
        /// The CPC.
        cpc: CpcUri,
    },
    /// Reading the CPC failed.
    #[error("could not read CPC {cpc}")]
    GetCpc {
        /// The CPC.
        cpc: CpcUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The CPC does not report a property the driver needs.
    #[error("CPC {cpc} does not report {property}")]
    CpcPropertyMissing {
        /// The CPC.
        cpc: CpcUri,
        /// The property.
        property: &'static str,
    },
    /// The CPC is not in DPM mode.
    #[error("CPC {cpc} is not in DPM mode")]
    CpcNotDpm {
        /// The CPC.
        cpc: CpcUri,
    },
    /// The CPC's status does not allow managing partitions.
    #[error("CPC {cpc} has status {status}, in which partitions cannot be managed")]
    CpcUnusable {
        /// The CPC.
        cpc: CpcUri,
        /// Its status.
        status: String,
    },
    /// `max_processors` exceeds the CPC's IFLs.
    #[error("max_processors is {configured}, but the CPC has only {available} IFLs")]
    MaxProcessorsExceeded {
        /// Configured.
        configured: u32,
        /// Installed.
        available: u32,
    },
    /// `max_memory` exceeds the CPC's customer memory.
    #[error("max_memory is {configured} MiB, but the CPC has only {available} MiB")]
    MaxMemoryExceeded {
        /// Configured.
        configured: u64,
        /// Installed.
        available: u64,
    },
    /// A mapped adapter does not exist.
    #[error("adapter {adapter} in physical_storage_adapter_mappings does not exist")]
    AdapterNotFound {
        /// The adapter.
        adapter: AdapterUri,
    },
    /// Reading an adapter failed.
    #[error("could not read adapter {adapter}")]
    GetAdapter {
        /// The adapter.
        adapter: AdapterUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading one of an adapter's ports failed.
    #[error("could not read a port of adapter {adapter}")]
    GetAdapterPort {
        /// The adapter.
        adapter: AdapterUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A mapped adapter belongs to another CPC.
    #[error("adapter {adapter} belongs to CPC {parent}, not to the configured CPC")]
    AdapterOnOtherCpc {
        /// The adapter.
        adapter: AdapterUri,
        /// Its CPC.
        parent: CpcUri,
    },
    /// A mapped adapter is not an FCP adapter.
    #[error("adapter {adapter} ({name}) is of type {adapter_type}, not fcp")]
    AdapterNotFcp {
        /// The adapter.
        adapter: AdapterUri,
        /// Its name.
        name: String,
        /// Its type.
        adapter_type: String,
    },
    /// A mapped adapter has no such port.
    #[error("adapter {adapter} has no port {port} (it has {ports})")]
    AdapterPortMissing {
        /// The adapter.
        adapter: AdapterUri,
        /// The port asked for.
        port: u8,
        /// How many ports it has.
        ports: usize,
    },
}

/// What many operations share: finding and reading what an instance has
/// on the HMC.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// `init_host` has not succeeded, so the storage model is unknown.
    #[error("the driver is not initialized (init_host has not succeeded)")]
    NotInitialized,
    /// No partition of this host has the instance's name.
    #[error("instance {instance} not found: no partition of this host has its name")]
    InstanceNotFound {
        /// The instance.
        instance: InstanceId,
    },
    /// A partition has the instance's name, but its description names
    /// another instance or host (or is not one this driver or nova-dpm
    /// writes): it is not this instance's, and is left alone.
    #[error("partition {partition} has the name of instance {instance} but its description {description:?} does not name it: a foreign partition, left alone")]
    ForeignPartition {
        /// The instance.
        instance: InstanceId,
        /// The partition.
        partition: PartitionUri,
        /// Its description.
        description: String,
    },
    /// Listing the host's partitions failed.
    #[error("could not list the partitions of this host")]
    ListPartitions(#[source] HmcError),
    /// Reading a partition failed.
    #[error("could not read partition {partition}")]
    GetPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A partition stayed `starting` or `stopping` too long.
    #[error("partition {partition} stayed {status} for longer than the job timeout")]
    StatusTimeout {
        /// The partition.
        partition: PartitionUri,
        /// Its status.
        status: String,
    },
    /// Reading the partition's vHBAs failed.
    #[error("could not read the vHBAs of partition {partition}")]
    ReadHbas {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading the partition's OS messages failed.
    #[error("could not read the OS messages of partition {partition}")]
    ReadConsole {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A storage-group lookup or read failed.
    #[error(transparent)]
    Group(Box<GroupStep>),
}

impl From<GroupStep> for LookupError {
    fn from(e: GroupStep) -> Self {
        Self::Group(Box::new(e))
    }
}

impl LookupError {
    /// Whether this is a refusal: nothing was looked at that could change.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::NotInitialized
            | Self::InstanceNotFound { .. }
            | Self::ForeignPartition { .. } => true,
            Self::ListPartitions(_)
            | Self::GetPartition { .. }
            | Self::StatusTimeout { .. }
            | Self::ReadHbas { .. }
            | Self::ReadConsole { .. }
            | Self::Group(_) => false,
        }
    }

    /// Whether the instance does not exist, or its partition went away
    /// while it was being read (another process deleted it).
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::InstanceNotFound { .. } => true,
            Self::GetPartition { source, .. } => source.is_not_found(),
            Self::NotInitialized
            | Self::ForeignPartition { .. }
            | Self::ListPartitions(_)
            | Self::StatusTimeout { .. }
            | Self::ReadHbas { .. }
            | Self::ReadConsole { .. }
            | Self::Group(_) => false,
        }
    }
}

/// A storage-group step (z14 and later) failed; shared by every operation
/// that touches the instance's group.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupStep {
    /// More adapter mappings than a group's connectivity holds.
    #[error("{count} adapter mappings are more than a storage group's connectivity can hold")]
    TooManyAdapters {
        /// Mappings.
        count: usize,
    },
    /// Listing the storage groups failed.
    #[error("could not look up storage group {name}")]
    FindGroup {
        /// The group's name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Creating the group failed.
    #[error("could not create storage group {name}")]
    CreateGroup {
        /// The group's name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A group of the instance's name is attached to another partition.
    #[error("storage group {group} already exists and is attached to {}", partitions.join(", "))]
    GroupInUse {
        /// The group.
        group: StorageGroupUri,
        /// The partitions using it.
        partitions: Vec<String>,
    },
    /// Asking which partitions use the group failed.
    #[error("could not read which partitions use storage group {group}")]
    GroupPartitions {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Adding the mapped ports as candidates failed.
    #[error("could not add the mapped adapter ports to storage group {group} as candidates")]
    AddCandidatePorts {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading the group (or its VSRs) failed.
    #[error("could not read storage group {group}")]
    ReadGroup {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The group does not have one WWPN per adapter mapping.
    #[error(
        "storage group {group} has {found} WWPNs; expected {expected}, one per adapter mapping"
    )]
    WrongWwpnCount {
        /// The group.
        group: StorageGroupUri,
        /// Mappings.
        expected: usize,
        /// WWPNs found.
        found: usize,
    },
    /// Attaching the group to the partition failed.
    #[error("could not attach storage group {group} to partition {partition}")]
    AttachGroup {
        /// The group.
        group: StorageGroupUri,
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// FCP discovery failed.
    #[error("FCP storage discovery of storage group {group} failed")]
    Discovery {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading storage volumes failed.
    #[error("could not read the storage volumes of storage group {group}")]
    ReadStorageVolumes {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Cinder's connection info cannot be read as Fibre Channel.
    #[error("Cinder's connection info for volume {volume} is not usable")]
    ConnectionInfo {
        /// The Cinder volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: FcInfoError,
    },
    /// Discovery found no storage volume with the connection's paths.
    #[error("DPM discovered no path to Cinder volume {volume} in storage group {group}: is the LUN masked and zoned to the group's WWPNs?")]
    NotDiscovered {
        /// The Cinder volume.
        volume: VolumeId,
        /// The group.
        group: StorageGroupUri,
    },
    /// The matched storage volume is not `complete`.
    #[error("storage volume {storage_volume} for Cinder volume {volume} is {state}, not complete")]
    NotFulfilled {
        /// The Cinder volume.
        volume: VolumeId,
        /// The storage volume.
        storage_volume: StorageVolumeUri,
        /// Its state.
        state: FulfillmentState,
    },
    /// Renaming requests fulfilled crosswise failed.
    #[error("could not rename the volume requests of storage group {group}")]
    RenameRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Adding volume requests failed.
    #[error("could not add volume requests to storage group {group}")]
    AddRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The modify created fewer requests than it was asked for.
    #[error("storage group {group} created {created} volume requests; {asked} were asked for")]
    RequestsNotCreated {
        /// The group.
        group: StorageGroupUri,
        /// Asked for.
        asked: usize,
        /// Created.
        created: usize,
    },
    /// Listing the group's requests failed.
    #[error("could not list the volume requests of storage group {group}")]
    ListRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Removing a request failed.
    #[error("could not remove volume request {request} from storage group {group}")]
    RemoveRequest {
        /// The group.
        group: StorageGroupUri,
        /// The request.
        request: StorageVolumeUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

/// A failure while undoing or tearing down; attached to the error that
/// caused the undo, or returned by `destroy`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CleanupError {
    /// Finding or reading the instance failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// Stopping the partition failed.
    #[error("could not stop partition {partition}")]
    StopPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Deleting the partition failed.
    #[error("could not delete partition {partition}")]
    DeletePartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Deleting the instance's storage group failed.
    #[error("could not delete storage group {group}")]
    DeleteGroup {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Detaching the group from the partition failed.
    #[error("could not detach storage group {group} from partition {partition}")]
    DetachGroup {
        /// The group.
        group: StorageGroupUri,
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Removing volume requests failed.
    #[error("could not remove volume requests from storage group {group}")]
    RemoveRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

fn undo_summary(refused: bool, undo: &[CleanupError]) -> String {
    match (refused, undo.len()) {
        (true, 0) => "refused, nothing was changed".into(),
        (false, 0) => "failed; everything it did was undone".into(),
        (_, n) => format!("failed; {n} undo step(s) failed and may have left resources behind"),
    }
}

/// The flavor exceeds the host's limits; nothing was asked of the HMC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the flavor asks for {vcpus} vCPUs and {memory_mb} MiB; this host offers at most {max_processors} and {max_memory} MiB")]
pub struct FlavorTooLarge {
    /// Asked.
    pub vcpus: u32,
    /// Asked, MiB.
    pub memory_mb: u64,
    /// Offered.
    pub max_processors: u32,
    /// Offered, MiB.
    pub max_memory: u64,
}

/// `get_volume_connector` / `prepare_for_spawn` could not make the
/// instance's partition and initiators.
#[derive(Debug, thiserror::Error)]
#[error("could not prepare instance {instance}'s partition and initiators")]
pub struct ConnectorError {
    /// The instance.
    pub instance: InstanceId,
    /// What failed.
    #[source]
    pub step: ConnectorStep,
    /// Whether this call made the partition before the failure (so that
    /// whoever undoes knows the partition is the call's).
    pub made_partition: bool,
}

impl ConnectorError {
    /// Whether nothing was changed because the request was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal() && !self.made_partition
    }
}

/// The steps of making an instance's partition and initiators.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorStep {
    /// Finding or reading what exists failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The flavor exceeds the host's limits.
    #[error(transparent)]
    FlavorTooLarge(#[from] FlavorTooLarge),
    /// Creating the partition failed.
    #[error("could not create partition {name}")]
    CreatePartition {
        /// Its name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Creating a vHBA failed.
    #[error("could not create the vHBA on adapter port {mapping}")]
    CreateHba {
        /// The adapter mapping.
        mapping: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
    /// No initiator WWPNs to build a connector from.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
}

impl ConnectorStep {
    /// Whether nothing was changed because the request was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::FlavorTooLarge(_) => true,
            Self::Group(GroupStep::GroupInUse { .. }) => true,
            Self::CreatePartition { .. }
            | Self::CreateHba { .. }
            | Self::Group(_)
            | Self::Connector(_) => false,
        }
    }
}

/// `spawn` failed; what it had done was undone (see `undo`).
#[derive(Debug, thiserror::Error)]
#[error("spawn of instance {instance} {}", undo_summary(step.is_refusal(), undo))]
pub struct SpawnError {
    /// The instance.
    pub instance: InstanceId,
    /// The step that failed.
    #[source]
    pub step: SpawnStep,
    /// Undo steps that failed.
    pub undo: Vec<CleanupError>,
}

impl SpawnError {
    /// What the failed undo steps may have left.
    pub fn left_behind(&self) -> &[CleanupError] {
        &self.undo
    }

    /// Whether nothing was changed because the spawn was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// One boot path that did not start, after the first.
#[derive(Debug)]
pub struct FailedBoot {
    /// The path.
    pub path: BootPath,
    /// The start job's failure.
    pub error: HmcError,
}

/// The steps of `spawn`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnStep {
    /// Finding or reading the instance failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// No volume has boot index 0.
    #[error("no block device has boot_index 0; DPM instances boot from a volume, not an image")]
    BootFromImageNotSupported,
    /// The flavor exceeds the host's limits.
    #[error(transparent)]
    FlavorTooLarge(#[from] FlavorTooLarge),
    /// The partition runs: a spawn never touches a running guest.
    #[error("partition {partition} is {status}; a spawn never touches a running instance")]
    AlreadyRunning {
        /// The partition.
        partition: PartitionUri,
        /// Its status.
        status: String,
    },
    /// Stopping the partition an earlier try left failed.
    #[error("could not stop partition {partition}, which an earlier try left")]
    StopEarlierTry {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Resizing or renaming the partition failed.
    #[error("could not update partition {partition} to the flavor")]
    UpdatePartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A volume's connection info is not usable.
    #[error("volume {volume} cannot be connected")]
    ConnectVolume {
        /// The Cinder volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: VolumeError,
    },
    /// No boot path for the boot volume.
    #[error("no boot path for volume {volume}")]
    BootPath {
        /// The boot volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: VolumeError,
    },
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
    /// Setting the boot properties failed.
    #[error("could not set the boot properties of partition {partition}")]
    SetBootProperties {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The start failed.
    #[error("partition {partition} did not start")]
    StartPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Every boot path tried failed to start.
    #[error("partition {partition} did not start over any of the {} boot paths tried; over the first ({} → {})", then.len() + 1, first.hba, first.target)]
    NoBootPathStarted {
        /// The partition.
        partition: PartitionUri,
        /// The first path tried.
        first: BootPath,
        /// Its failure.
        #[source]
        source: HmcError,
        /// The later paths and their failures.
        then: Vec<FailedBoot>,
    },
    /// Stopping after a failed boot, to try the next path, failed.
    #[error(
        "could not stop partition {partition} after a failed start, to try the next boot path"
    )]
    StopAfterFailedBoot {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: CleanupError,
    },
}

impl SpawnStep {
    /// The start job's failure, when the partition did not start.
    pub fn start_failure(&self) -> Option<&HmcError> {
        match self {
            Self::StartPartition { source, .. } | Self::NoBootPathStarted { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }

    /// Whether nothing was changed because the spawn was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::BootFromImageNotSupported
            | Self::FlavorTooLarge(_)
            | Self::AlreadyRunning { .. } => true,
            Self::StopEarlierTry { .. }
            | Self::UpdatePartition { .. }
            | Self::ConnectVolume { .. }
            | Self::BootPath { .. }
            | Self::Group(_)
            | Self::SetBootProperties { .. }
            | Self::StartPartition { .. }
            | Self::NoBootPathStarted { .. }
            | Self::StopAfterFailedBoot { .. } => false,
        }
    }
}

/// `attach_volume` failed; what it had done was undone (see `undo`).
#[derive(Debug, thiserror::Error)]
#[error("attach of volume {volume} to instance {instance} {}", undo_summary(step.is_refusal(), undo))]
pub struct AttachError {
    /// The instance.
    pub instance: InstanceId,
    /// The Cinder volume.
    pub volume: VolumeId,
    /// The step that failed.
    #[source]
    pub step: AttachStep,
    /// Undo steps that failed.
    pub undo: Vec<CleanupError>,
}

impl AttachError {
    /// Whether nothing was changed because the attach was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// The steps of `attach_volume`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachStep {
    /// Finding or reading the instance failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The connection info is not usable.
    #[error("volume {volume} cannot be connected")]
    ConnectVolume {
        /// The Cinder volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: VolumeError,
    },
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
}

impl AttachStep {
    /// Whether nothing was changed because the attach was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            // Nothing is changed before the connection info is read.
            Self::ConnectVolume { .. } => true,
            Self::Group(_) => false,
        }
    }
}

/// `detach_volume` failed.
#[derive(Debug, thiserror::Error)]
#[error("detach of volume {volume} from instance {instance} failed")]
pub struct DetachError {
    /// The instance.
    pub instance: InstanceId,
    /// The Cinder volume.
    pub volume: VolumeId,
    /// The step that failed.
    #[source]
    pub step: DetachStep,
}

impl DetachError {
    /// Whether nothing was changed because the detach was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// The steps of `detach_volume`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetachStep {
    /// Finding or reading the instance failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The instance boots from this volume.
    #[error("volume {volume} is the root disk of instance {instance} and cannot be detached while the instance exists")]
    RootVolume {
        /// The instance.
        instance: InstanceId,
        /// The volume.
        volume: VolumeId,
    },
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
}

impl DetachStep {
    /// Whether nothing was changed because the detach was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::RootVolume { .. } => true,
            Self::Group(_) => false,
        }
    }
}

/// `destroy` (or `failed_spawn_cleanup`) could not remove everything.
#[derive(Debug, thiserror::Error)]
#[error("destroy of instance {instance} failed: {} step(s) could not be done", failures.len())]
pub struct DestroyError {
    /// The instance.
    pub instance: InstanceId,
    /// What could not be done.
    pub failures: Vec<CleanupError>,
}

/// A power operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PowerError {
    /// Finding or reading the instance failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The stop failed.
    #[error("could not stop partition {partition}")]
    StopPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The start failed.
    #[error("could not start partition {partition}")]
    StartPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Asking the guest to shut down (Send OS Command) failed, not because
    /// the partition had stopped running (that 409 falls through to the
    /// stop) and not with a reply that may have been lost after it took
    /// effect (then the status is watched as usual). Nothing was stopped.
    #[error("could not ask the guest of partition {partition} to shut down")]
    SendOsCommand {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading the partition's status while its guest shut down failed.
    /// The partition was not stopped.
    #[error("could not read the status of partition {partition} while its guest shut down")]
    WatchShutdown {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

impl PowerError {
    /// Whether the partition is not there (any more).
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_not_found(),
            Self::StopPartition { source, .. }
            | Self::StartPartition { source, .. }
            | Self::SendOsCommand { source, .. }
            | Self::WatchShutdown { source, .. } => source.is_not_found(),
        }
    }

    /// Whether nothing was changed because the request was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::StopPartition { .. }
            | Self::StartPartition { .. }
            | Self::SendOsCommand { .. }
            | Self::WatchShutdown { .. } => false,
        }
    }
}

/// How bringing a partition to `stopped` fails: the two ways every
/// caller maps into its own step.
#[derive(Debug)]
pub(crate) enum StopFailure {
    /// Reading its status failed, or it stayed in transition.
    Lookup(LookupError),
    /// The stop failed.
    Stop {
        partition: PartitionUri,
        source: HmcError,
    },
}

impl StopFailure {
    /// Whether the partition is not there (any more).
    pub(crate) fn is_not_found(&self) -> bool {
        match self {
            Self::Lookup(l) => l.is_not_found(),
            Self::Stop { source, .. } => source.is_not_found(),
        }
    }
}

impl From<StopFailure> for CleanupError {
    fn from(e: StopFailure) -> Self {
        match e {
            StopFailure::Lookup(l) => Self::Lookup(l),
            StopFailure::Stop { partition, source } => Self::StopPartition { partition, source },
        }
    }
}

impl From<StopFailure> for PowerError {
    fn from(e: StopFailure) -> Self {
        match e {
            StopFailure::Lookup(l) => Self::Lookup(l),
            StopFailure::Stop { partition, source } => Self::StopPartition { partition, source },
        }
    }
}
