//! The compute layer's errors: one enum of steps per operation, causes in
//! `#[source]`; the virt driver's errors ride along whole. Undo failures
//! are [`UndoError`]s, on the HMC side or Cinder's.

use cinder_client::{AttachmentId, CinderError, InstanceId, VolumeId};
use dpm_volume::VolumeError;
use hmc_client::PartitionUri;

/// Releasing a volume in Cinder (or finding what Cinder holds) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// Listing what Cinder holds for the instance failed.
    #[error("could not list the Cinder attachments of instance {instance}")]
    ListAttachments {
        /// The instance.
        instance: InstanceId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Reading Cinder's API version failed (which flow to release with is
    /// unknown).
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// Reading a volume (is it reserved by an unfinished try?) failed.
    #[error("could not read Cinder volume {volume}")]
    ReadVolume {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Deleting an attachment failed.
    #[error("could not delete Cinder attachment {attachment} of volume {volume}")]
    DeleteAttachment {
        /// The attachment.
        attachment: AttachmentId,
        /// Its volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The legacy `os-terminate_connection` failed.
    #[error("could not terminate the connection of volume {volume}")]
    TerminateConnection {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The legacy `os-detach` or `os-unreserve` failed.
    #[error("could not detach volume {volume} in Cinder")]
    DetachVolume {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
}

/// A step of an undo or teardown that could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UndoError {
    /// On the HMC (the virt driver's undo, destroy or stop).
    #[error(transparent)]
    Hmc(#[from] dpm_driver::CleanupError),
    /// Stopping the partition failed: nothing else was touched, so a
    /// running guest keeps its LUNs.
    #[error("could not stop the instance's partition")]
    Stop(#[source] dpm_driver::PowerError),
    /// Taking an attached volume back from the guest failed.
    #[error(transparent)]
    Detach(#[from] dpm_driver::DetachError),
    /// In Cinder.
    #[error(transparent)]
    Cinder(#[from] ReleaseError),
    /// The partition was kept because a volume may still be masked to its
    /// WWPNs.
    #[error("partition {partition} was kept (with its vHBAs or storage group), because a volume could not be released from its WWPNs")]
    PartitionKept {
        /// The partition.
        partition: PartitionUri,
    },
}

/// What an undo left: the compute layer's own failures, then the virt
/// driver's (it undoes its own part of a spawn or attach).
fn left<'a>(
    undo: &'a [UndoError],
    driver: &'a [dpm_driver::CleanupError],
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    out.extend(undo.iter().map(|e| e as &(dyn std::error::Error + 'static)));
    out.extend(
        driver
            .iter()
            .map(|e| e as &(dyn std::error::Error + 'static)),
    );
    out
}

fn undo_summary(refused: bool, undo: usize) -> String {
    match (refused, undo) {
        (true, 0) => "refused, nothing was changed".into(),
        (false, 0) => "failed; everything it did was undone".into(),
        (_, n) => format!("failed; {n} undo step(s) failed and may have left resources behind"),
    }
}

/// A Cinder step of tying a volume to an instance failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VolumeStep {
    /// Reading the volume failed (it may not exist).
    #[error("could not read Cinder volume {volume}")]
    ReadVolume {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The attachment create (or legacy `os-reserve`) failed.
    #[error("Cinder could not reserve volume {volume}")]
    CreateAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The attachment update with the connector (or legacy
    /// `os-initialize_connection`) failed: Cinder could not mask and zone.
    #[error("Cinder could not connect volume {volume} to the instance's initiators")]
    UpdateAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Cinder answered without a connection info.
    #[error("Cinder returned no connection info for volume {volume}")]
    NoConnectionInfo {
        /// The volume.
        volume: VolumeId,
    },
    /// `os-complete` (or legacy `os-attach`) failed.
    #[error("Cinder could not complete the attachment of volume {volume}")]
    CompleteAttachment {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
}

/// A spawn failed; what it did was undone (see `undo`).
#[derive(Debug, thiserror::Error)]
#[error("spawn of instance {instance} {}", undo_summary(step.is_refusal(), undo.len() + step.driver_undo().len()))]
pub struct SpawnError {
    /// The instance.
    pub instance: InstanceId,
    /// The step that failed.
    #[source]
    pub step: SpawnStep,
    /// Undo steps that failed.
    pub undo: Vec<UndoError>,
}

impl SpawnError {
    /// What the failed undo steps may have left (this layer's and the
    /// virt driver's).
    pub fn left_behind(&self) -> Vec<&(dyn std::error::Error + 'static)> {
        left(&self.undo, self.step.driver_undo())
    }

    /// Whether nothing was changed because the spawn was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// The steps of a spawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnStep {
    /// `init_host` has not succeeded.
    #[error("the driver is not initialized (init_host has not succeeded)")]
    NotInitialized,
    /// No volume has boot index 0.
    #[error("no block device has boot_index 0; DPM instances boot from a volume, not an image")]
    BootFromImageNotSupported,
    /// The flavor exceeds the host's limits.
    #[error(transparent)]
    FlavorTooLarge(#[from] dpm_driver::FlavorTooLarge),
    /// Reading Cinder's API version failed.
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// The partition and initiators could not be made.
    #[error(transparent)]
    Prepare(#[from] dpm_driver::ConnectorError),
    /// The instance finished spawning before: it is never touched again.
    #[error("instance {instance} already exists (partition {partition} finished spawning); destroy it first")]
    AlreadyExists {
        /// The instance.
        instance: InstanceId,
        /// Its partition.
        partition: PartitionUri,
    },
    /// Whether an existing partition is an unfinished try is unknown.
    #[error("could not tell whether partition {partition} is an unfinished earlier try")]
    CheckEarlierTry {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// Stopping an unfinished earlier try failed.
    #[error("could not stop partition {partition}, which an earlier try left")]
    StopEarlierTry {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: dpm_driver::PowerError,
    },
    /// Releasing what an earlier try left in Cinder failed.
    #[error("could not remove the attachments an earlier try left for partition {partition}")]
    AdoptAttachments {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: UndoError,
    },
    /// The connector could not be built.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// A Cinder step failed.
    #[error(transparent)]
    Volume(#[from] VolumeStep),
    /// The virt driver's spawn failed (it undid its own part).
    #[error(transparent)]
    Boot(#[from] dpm_driver::SpawnError),
}

impl SpawnStep {
    /// Whether nothing was changed because the spawn was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::NotInitialized
            | Self::BootFromImageNotSupported
            | Self::FlavorTooLarge(_)
            | Self::AlreadyExists { .. } => true,
            Self::Prepare(e) => e.is_refusal(),
            Self::Volume(VolumeStep::ReadVolume { source, .. }) => source.is_not_found(),
            Self::CinderApi(_)
            | Self::CheckEarlierTry { .. }
            | Self::StopEarlierTry { .. }
            | Self::AdoptAttachments { .. }
            | Self::Connector(_)
            | Self::Volume(_)
            | Self::Boot(_) => false,
        }
    }

    /// The virt driver's step, when the driver's spawn failed.
    pub fn driver_step(&self) -> Option<&dpm_driver::SpawnStep> {
        match self {
            Self::Boot(e) => Some(&e.step),
            _ => None,
        }
    }

    /// What the virt driver's own undo could not do.
    pub fn driver_undo(&self) -> &[dpm_driver::CleanupError] {
        match self {
            Self::Boot(e) => &e.undo,
            _ => &[],
        }
    }
}

/// An attach failed; what it did was undone (see `undo`).
#[derive(Debug, thiserror::Error)]
#[error("attach of volume {volume} to instance {instance} {}", undo_summary(step.is_refusal(), undo.len() + step.driver_undo().len()))]
pub struct AttachError {
    /// The instance.
    pub instance: InstanceId,
    /// The volume.
    pub volume: VolumeId,
    /// The step that failed.
    #[source]
    pub step: AttachStep,
    /// Undo steps that failed.
    pub undo: Vec<UndoError>,
}

impl AttachError {
    /// What the failed undo steps may have left (this layer's and the
    /// virt driver's).
    pub fn left_behind(&self) -> Vec<&(dyn std::error::Error + 'static)> {
        left(&self.undo, self.step.driver_undo())
    }

    /// Whether nothing was changed because the attach was refused.
    pub fn is_refusal(&self) -> bool {
        self.step.is_refusal()
    }
}

/// The steps of an attach.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachStep {
    /// Finding the instance failed, or it does not exist.
    #[error(transparent)]
    Lookup(#[from] dpm_driver::LookupError),
    /// Reading Cinder's API version failed.
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// The volume is attached to the instance already.
    #[error("volume {volume} is already attached to this instance")]
    AlreadyAttached {
        /// The volume.
        volume: VolumeId,
    },
    /// Listing the volume's attachments failed.
    #[error("could not list the attachments of volume {volume}")]
    ListAttachments {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// What an unfinished attach of the volume left could not be released.
    #[error("could not release what an unfinished attach of this volume left")]
    Leftovers(#[source] Box<UndoError>),
    /// The connector could not be built.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// A Cinder step failed.
    #[error(transparent)]
    Volume(#[from] VolumeStep),
    /// The virt driver's attach failed (it undid its own part).
    #[error(transparent)]
    Driver(#[from] dpm_driver::AttachError),
}

impl AttachStep {
    /// What the virt driver's own undo could not do.
    pub fn driver_undo(&self) -> &[dpm_driver::CleanupError] {
        match self {
            Self::Driver(e) => &e.undo,
            _ => &[],
        }
    }

    /// Whether nothing was changed because the attach was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::AlreadyAttached { .. } => true,
            Self::Volume(VolumeStep::ReadVolume { source, .. }) => source.is_not_found(),
            Self::CinderApi(_)
            | Self::ListAttachments { .. }
            | Self::Leftovers(_)
            | Self::Connector(_)
            | Self::Volume(_)
            | Self::Driver(_) => false,
        }
    }
}

/// A detach failed.
#[derive(Debug, thiserror::Error)]
#[error("detach of volume {volume} from instance {instance} failed")]
pub struct DetachError {
    /// The instance.
    pub instance: InstanceId,
    /// The volume.
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

/// The steps of a detach.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetachStep {
    /// Finding the instance failed, or it does not exist.
    #[error(transparent)]
    Lookup(#[from] dpm_driver::LookupError),
    /// Reading Cinder's API version failed.
    #[error("could not read Cinder's API version")]
    CinderApi(#[source] CinderError),
    /// Reading the volume's attachments failed.
    #[error("could not read the attachments of volume {volume}")]
    ListAttachments {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The volume is not attached to the instance.
    #[error("volume {volume} is not attached to instance {instance}")]
    NotAttached {
        /// The instance.
        instance: InstanceId,
        /// The volume.
        volume: VolumeId,
    },
    /// The instance boots from the volume.
    #[error("volume {volume} is the root disk of instance {instance} and cannot be detached while the instance exists")]
    RootVolume {
        /// The instance.
        instance: InstanceId,
        /// The volume.
        volume: VolumeId,
    },
    /// The legacy `os-begin_detaching` failed.
    #[error("Cinder refused to begin detaching volume {volume}")]
    BeginDetaching {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// The connector (for the legacy terminate) could not be built.
    #[error("could not build the volume connector")]
    Connector(#[source] VolumeError),
    /// The virt driver could not take the volume from the guest.
    #[error(transparent)]
    Driver(#[from] dpm_driver::DetachError),
    /// Cinder could not release the volume.
    #[error("could not release volume {volume} in Cinder")]
    Release {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: ReleaseError,
    },
}

impl DetachStep {
    /// Whether nothing was changed because the detach was refused.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Lookup(e) => e.is_refusal(),
            Self::NotAttached { .. } | Self::RootVolume { .. } => true,
            Self::Driver(e) => e.is_refusal(),
            Self::CinderApi(_)
            | Self::ListAttachments { .. }
            | Self::BeginDetaching { .. }
            | Self::Connector(_)
            | Self::Release { .. } => false,
        }
    }
}

/// A destroy could not remove everything.
#[derive(Debug, thiserror::Error)]
#[error("destroy of instance {instance} failed: {} step(s) could not be done", failures.len())]
pub struct DestroyError {
    /// The instance.
    pub instance: InstanceId,
    /// What could not be done.
    pub failures: Vec<UndoError>,
}

impl DestroyError {
    /// What may be left.
    pub fn left_behind(&self) -> Vec<&(dyn std::error::Error + 'static)> {
        left(&self.failures, &[])
    }
}
