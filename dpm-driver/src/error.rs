//! The driver's errors: one variant for each step that can fail, the cause
//! in `#[source]`, and for operations that undo their work on failure, the
//! errors of the undo steps attached.

use cinder_client::FcInfoError;
use cinder_client::{AttachmentId, CinderError, InstanceId, VolumeId};
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
    /// Reading an adapter or its port failed.
    #[error("could not read adapter {adapter}")]
    GetAdapter {
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

/// A failure while undoing or tearing down: these are attached to the
/// error that caused the undo, or returned by `destroy`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CleanupError {
    /// Reading the partition's status failed.
    #[error("could not read partition {partition}")]
    GetPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The partition stayed in a transitional status.
    #[error("partition {partition} stayed {status} for longer than the job timeout")]
    PartitionStuck {
        /// The partition.
        partition: PartitionUri,
        /// The status it stayed in.
        status: String,
    },
    /// Stopping the partition failed.
    #[error("could not stop partition {partition}")]
    StopPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Listing the instance's attachments failed.
    #[error("could not list the Cinder attachments of instance {instance}")]
    ListAttachments {
        /// The instance.
        instance: InstanceId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Deleting an attachment failed; its LUN may still be masked.
    #[error("could not delete Cinder attachment {attachment} of volume {volume}")]
    DeleteAttachment {
        /// The attachment.
        attachment: AttachmentId,
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Legacy: unmasking a volume failed.
    #[error("could not terminate the connection of volume {volume}")]
    TerminateConnection {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Legacy: detaching or unreserving a volume failed.
    #[error("could not detach volume {volume} in Cinder")]
    DetachVolume {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
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
    /// The partition was kept because a volume could not be released: its
    /// WWPNs may still see the volume, so they must not go to another
    /// partition. Destroy the instance again once Cinder answers.
    #[error("partition {partition} was kept (with its vHBAs or storage group), because a volume could not be released from its WWPNs")]
    PartitionKept {
        /// The partition.
        partition: PartitionUri,
    },
    /// Looking up the instance's storage group failed.
    #[error("could not look up the instance's storage group")]
    FindGroup(#[source] GroupStep),
    /// Deleting the instance's storage group failed.
    #[error("could not delete storage group {group}")]
    DeleteGroup {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Removing a volume request from the group failed.
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

/// A step of connecting one volume to a partition's vHBAs, shared by spawn
/// and attach.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VolumeStep {
    /// Cinder refused to reserve the volume.
    #[error("Cinder could not reserve volume {volume}")]
    CreateAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Cinder refused the connector (zoning or LUN masking).
    #[error("Cinder could not connect volume {volume} to the partition's vHBAs")]
    UpdateAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Cinder's answer had no connection info.
    #[error("Cinder returned no connection info for volume {volume}")]
    NoConnectionInfo {
        /// The volume.
        volume: VolumeId,
    },
    /// The volume driver could not use the connection info.
    #[error("volume {volume} cannot be connected")]
    ConnectVolume {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: VolumeError,
    },
    /// Completing the attachment failed.
    #[error("Cinder could not complete the attachment of volume {volume}")]
    CompleteAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
}

/// A step of the storage-group model (CPCs with `dpm-storage-management`)
/// that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupStep {
    /// Reading a Cinder volume's size for its request failed.
    #[error("could not read the size of Cinder volume {volume}")]
    ReadVolumeSize {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// More adapter mappings than a group's connectivity can hold.
    #[error("{count} adapter mappings are more than a storage group's connectivity can hold")]
    TooManyAdapters {
        /// How many mappings.
        count: usize,
    },
    /// Looking up the instance's group by name failed.
    #[error("could not look up storage group {name}")]
    FindGroup {
        /// The group name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The instance has no storage group.
    #[error("storage group {name} does not exist")]
    GroupNotFound {
        /// The group name.
        name: String,
    },
    /// The instance's group is attached to no partition.
    #[error("storage group {group} is not attached to a partition")]
    GroupNotAttached {
        /// The group.
        group: StorageGroupUri,
    },
    /// Creating the group failed.
    #[error("could not create storage group {name}")]
    CreateGroup {
        /// The group name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A group of the instance's name is in use by a partition, so spawn
    /// cannot replace it.
    #[error("storage group {group} already exists and is attached to {}", partitions.join(", "))]
    GroupInUse {
        /// The group.
        group: StorageGroupUri,
        /// The partitions using it.
        partitions: Vec<String>,
    },
    /// Removing the group an earlier try left failed.
    #[error("could not remove storage group {group}, which an earlier try left")]
    RemoveStaleGroup {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Releasing what Cinder held for an earlier try failed.
    #[error("could not release the volumes an earlier try left in Cinder")]
    StaleAttachments(#[source] Box<CleanupError>),
    /// Making the mapped adapter ports the group's candidates failed.
    #[error("could not add the mapped adapter ports to storage group {group} as candidates")]
    AddCandidatePorts {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading the group (or one of its VSRs) failed.
    #[error("could not read storage group {group}")]
    ReadGroup {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The group does not have one WWPN per adapter mapping.
    #[error("storage group {group} has {found} unassigned WWPNs; expected {expected}, one per adapter mapping")]
    WrongWwpnCount {
        /// The group.
        group: StorageGroupUri,
        /// One per adapter mapping.
        expected: usize,
        /// What the group has.
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
    /// FCP discovery could not be started or its job failed.
    #[error("FCP storage discovery of storage group {group} failed")]
    Discovery {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading a storage volume failed.
    #[error("could not read storage volume {volume}")]
    ReadStorageVolume {
        /// The storage volume.
        volume: StorageVolumeUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Cinder's connection info could not be read as FC.
    #[error("Cinder's connection info for volume {volume} is not usable")]
    ConnectionInfo {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: FcInfoError,
    },
    /// Discovery found no storage volume with the volume's target and LUN.
    #[error("DPM discovered no path to Cinder volume {volume} in storage group {group}: is the LUN masked and zoned to the group's WWPNs?")]
    NotDiscovered {
        /// The volume.
        volume: VolumeId,
        /// The group.
        group: StorageGroupUri,
    },
    /// The volume's request is not fulfilled as asked.
    #[error("storage volume {storage_volume} for Cinder volume {volume} is {state}, not complete")]
    NotFulfilled {
        /// The volume.
        volume: VolumeId,
        /// Its storage volume.
        storage_volume: StorageVolumeUri,
        /// Its fulfillment state.
        state: FulfillmentState,
    },
    /// Renaming crosswise-fulfilled requests failed.
    #[error("could not rename the volume requests of storage group {group}")]
    RenameRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Adding a volume request failed.
    #[error("could not add a volume request to storage group {group}")]
    AddRequest {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The HMC created no volume for the request.
    #[error("storage group {group} created no volume for the request")]
    NoRequestCreated {
        /// The group.
        group: StorageGroupUri,
    },
    /// Listing the group's volume requests failed.
    #[error("could not list the volume requests of storage group {group}")]
    ListRequests {
        /// The group.
        group: StorageGroupUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

/// The step of a spawn that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnStep {
    /// `init_host` has not succeeded.
    #[error("the driver is not initialized (init_host has not succeeded)")]
    NotInitialized,
    /// No block device has boot index 0: booting from an image is not
    /// supported on DPM.
    #[error("no block device has boot_index 0; DPM instances boot from a volume, not an image")]
    BootFromImageNotSupported,
    /// The flavor asks for more than the host offers.
    #[error("the flavor asks for {vcpus} vCPUs and {memory_mb} MiB; this host offers at most {max_processors} and {max_memory} MiB")]
    FlavorTooLarge {
        /// vCPUs asked.
        vcpus: u32,
        /// Memory asked.
        memory_mb: u64,
        /// Configured maximum.
        max_processors: u32,
        /// Configured maximum.
        max_memory: u64,
    },
    /// Creating the partition failed.
    #[error("could not create partition {name}")]
    CreatePartition {
        /// The partition name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Taking over a partition left by an earlier try failed.
    #[error("could not adopt existing partition {name}")]
    AdoptPartition {
        /// The partition name.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The instance exists and finished spawning; spawn touches nothing of
    /// it.
    #[error("instance {instance} already exists (partition {partition} finished spawning); destroy it first")]
    AlreadyExists {
        /// The instance.
        instance: InstanceId,
        /// Its partition.
        partition: PartitionUri,
    },
    /// Finding out whether an earlier try finished failed.
    #[error("could not tell whether partition {partition} is an unfinished earlier try")]
    CheckEarlierTry {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The adopted partition could not be brought to `stopped`.
    #[error("could not stop adopted partition {partition}")]
    AdoptStop {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: CleanupError,
    },
    /// The attachments an earlier try left could not be removed.
    #[error("could not remove the attachments an earlier try left for partition {partition}")]
    AdoptAttachments {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: CleanupError,
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
    /// Reading a vHBA's WWPN failed.
    #[error("could not read vHBA {hba}")]
    ReadHba {
        /// The HBA.
        hba: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Building the connector failed.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// No boot path could be chosen.
    #[error("no boot path for volume {volume}")]
    BootPath {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: VolumeError,
    },
    /// Setting the boot properties failed.
    #[error("could not set the boot properties of partition {partition}")]
    SetBootProperties {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Starting the partition failed (including a failed start job).
    #[error("partition {partition} did not start")]
    StartPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The partition did not start over any of the boot paths tried (each
    /// start job failed). The cause is the failure over the first, best
    /// path; `then` holds the later paths with their failures.
    #[error("partition {partition} did not start over any of the {} boot paths tried; over the first ({} → {})", then.len() + 1, first.hba, first.target)]
    NoBootPathStarted {
        /// The partition.
        partition: PartitionUri,
        /// The first path tried.
        first: BootPath,
        /// Why the start over the first path failed.
        #[source]
        source: HmcError,
        /// The paths tried after it, each with its failure.
        then: Vec<FailedBoot>,
    },
    /// After a failed start, the partition could not be brought to
    /// `stopped` to try the next boot path.
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
    /// Cinder's API version could not be read.
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// Connecting or completing a volume failed.
    #[error(transparent)]
    Volume(#[from] VolumeStep),
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
}

fn undo_summary(refused: bool, undo: &[CleanupError]) -> String {
    match (refused, undo.len()) {
        (true, 0) => "refused, nothing was changed".into(),
        (false, 0) => "failed; everything it did was undone".into(),
        (_, n) => format!("failed; {n} undo step(s) failed and may have left resources behind"),
    }
}

/// A spawn failed. Everything it did was undone, unless `undo` lists what
/// could not be.
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

/// A boot path whose start failed, and how.
#[derive(Debug)]
pub struct FailedBoot {
    /// The boot path.
    pub path: BootPath,
    /// The start's failure.
    pub error: HmcError,
}

impl SpawnStep {
    /// Why the start failed, when the spawn failed at starting the
    /// partition: over its one boot path, or over the first of those it
    /// tried.
    pub fn start_failure(&self) -> Option<&HmcError> {
        match self {
            Self::StartPartition { source, .. } | Self::NoBootPathStarted { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }

    /// The spawn was refused before it changed anything: the request
    /// itself cannot be done (bad input, the instance exists, the driver is
    /// not ready), as opposed to a step that failed on the way.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::NotInitialized
                | Self::BootFromImageNotSupported
                | Self::FlavorTooLarge { .. }
                | Self::AlreadyExists { .. }
        )
    }
}

impl SpawnError {
    /// What the undo could not do: what is left behind, and why.
    pub fn left_behind(&self) -> &[CleanupError] {
        &self.undo
    }

    /// The spawn was refused and changed nothing (see
    /// [`SpawnStep::is_refusal`]).
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// The step of an attach that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachStep {
    /// The volume is already attached to the instance.
    #[error("volume {volume} is already attached to this instance")]
    AlreadyAttached {
        /// The volume.
        volume: VolumeId,
    },
    /// Looking up the volume's attachments failed.
    #[error("could not list the attachments of volume {volume}")]
    ListAttachments {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Building the connector failed.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// What an unfinished earlier attach of the volume left could not be
    /// released.
    #[error("could not release what an unfinished attach of this volume left")]
    Leftovers(#[source] Box<CleanupError>),
    /// Cinder's API version could not be read.
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// Connecting or completing the volume failed.
    #[error(transparent)]
    Volume(#[from] VolumeStep),
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
}

/// An attach failed; its attachment was deleted unless `undo` says not.
#[derive(Debug, thiserror::Error)]
#[error(
    "attach of volume {volume} to instance {instance} {}",
    undo_summary(step.is_refusal(), undo)
)]
pub struct AttachError {
    /// The instance.
    pub instance: InstanceId,
    /// The volume.
    pub volume: VolumeId,
    /// The step that failed.
    #[source]
    pub step: AttachStep,
    /// Undo steps that failed.
    pub undo: Vec<CleanupError>,
}

impl AttachStep {
    /// The attach was refused before it changed anything.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::AlreadyAttached { .. })
    }
}

impl AttachError {
    /// What the undo could not do: what is left behind, and why.
    pub fn left_behind(&self) -> &[CleanupError] {
        &self.undo
    }

    /// The attach was refused and changed nothing.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// Any other driver operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// `init_host` has not succeeded.
    #[error("the driver is not initialized (init_host has not succeeded)")]
    NotInitialized,
    /// The instance has no partition.
    #[error("instance {instance} not found: no partition of this host has its name")]
    InstanceNotFound {
        /// The instance.
        instance: InstanceId,
    },
    /// Looking up partitions failed.
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
    /// Reading a vHBA failed.
    #[error("could not read vHBA {hba}")]
    ReadHba {
        /// The HBA.
        hba: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Building the connector failed.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// An attach failed.
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// The volume is not attached to the instance.
    #[error("volume {volume} is not attached to instance {instance}")]
    NotAttached {
        /// The instance.
        instance: InstanceId,
        /// The volume.
        volume: VolumeId,
    },
    /// Listing attachments failed.
    #[error("could not list Cinder attachments")]
    ListAttachments(#[source] CinderError),
    /// Legacy detach: marking the volume detaching failed.
    #[error("Cinder refused to begin detaching volume {volume}")]
    BeginDetaching {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Releasing a volume failed.
    #[error("could not release volume {volume} in Cinder")]
    Release {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CleanupError,
    },
    /// Deleting an attachment failed.
    #[error("could not delete Cinder attachment {attachment}")]
    DeleteAttachment {
        /// The attachment.
        attachment: AttachmentId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Starting the partition failed.
    #[error("could not start partition {partition}")]
    StartPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Stopping the partition failed.
    #[error("could not stop partition {partition}")]
    StopPartition {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// The partition did not leave a transitional status in time.
    #[error("partition {partition} stayed {status} for longer than the job timeout")]
    StatusTimeout {
        /// The partition.
        partition: PartitionUri,
        /// The status it stayed in.
        status: String,
    },
    /// Destroy could not remove everything.
    #[error("destroy of instance {instance} failed: {} step(s) could not be done", failures.len())]
    Destroy {
        /// The instance.
        instance: InstanceId,
        /// What failed, in order.
        failures: Vec<CleanupError>,
    },
    /// Reading the CPC failed.
    #[error("could not read the CPC")]
    GetCpc(#[source] HmcError),
    /// A storage-group step failed.
    #[error(transparent)]
    Group(#[from] GroupStep),
    /// The detached volume's request could not leave the instance's group
    /// (Cinder has already released the volume).
    #[error("volume {volume} is detached in Cinder, but its request stays in the storage group")]
    RemoveRequest {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CleanupError,
    },
    /// The volume is the instance's root disk; it cannot be detached while
    /// the instance exists (as Nova says: "Can't detach root device volume").
    #[error("volume {volume} is the root disk of instance {instance} and cannot be detached while the instance exists")]
    RootVolume {
        /// The instance.
        instance: InstanceId,
        /// The volume.
        volume: VolumeId,
    },
}

impl DriverError {
    /// The operation was refused and changed nothing: the instance or the
    /// attachment it names does not exist (or already does), or it asks
    /// for what is never done (detaching a root disk). Any other error is
    /// a step that failed on the way.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::NotInitialized
            | Self::InstanceNotFound { .. }
            | Self::NotAttached { .. }
            | Self::RootVolume { .. } => true,
            Self::Attach(e) => e.is_refusal(),
            _ => false,
        }
    }

    /// What the operation or its undo could not do: what is left behind.
    pub fn left_behind(&self) -> &[CleanupError] {
        match self {
            Self::Attach(e) => e.left_behind(),
            Self::Destroy { failures, .. } => failures,
            _ => &[],
        }
    }
}
