//! The seam between Cinder's two ways of tying a volume to an instance:
//! the [`Flow`] trait, with one implementation each.
//!
//! - [`attachments::Attachments`]: the attachments API of 3.44, what
//!   current Nova uses (create, update with the connector, complete,
//!   delete);
//! - [`legacy::Legacy`]: on a Cinder without 3.44, the legacy volume
//!   actions in Nova's legacy order (reserve, initialize_connection,
//!   attach; begin_detaching, terminate_connection, detach or unreserve).
//!
//! Each operation picks one from the server's microversions
//! ([`choose`]); spawn, attach, detach and destroy are written once
//! against the trait.

pub(crate) mod attachments;
pub(crate) mod legacy;

use async_trait::async_trait;
use cinder_client::{
    AttachmentId, CinderApi, CinderError, ConnectionInfo, Connector, InstanceId, VolumeId,
};

use crate::error::{AttachStep, DetachStep, ReleaseError, VolumeStep};

/// One volume tied to an instance in Cinder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Link {
    /// The volume.
    pub volume: VolumeId,
    /// The attachment (attachments API).
    pub attachment: Option<AttachmentId>,
    /// The connector it was initialized with, when known (legacy, which
    /// needs it to terminate the connection).
    pub connector: Option<Connector>,
}

impl Link {
    /// Whether both name the same tie in Cinder.
    pub(crate) fn same_as(&self, other: &Link) -> bool {
        self.volume == other.volume && self.attachment == other.attachment
    }
}

/// What a detach releases: the volume's ties to the instance, and the
/// connection info Cinder recorded (with vHBAs it tells the boot LUN).
#[derive(Debug, Clone)]
pub(crate) struct DetachPlan {
    pub links: Vec<Link>,
    pub info: Option<ConnectionInfo>,
}

/// The Cinder flow for a server: the attachments API when it has 3.44,
/// else the legacy actions.
pub(crate) async fn choose<C: CinderApi + 'static>(
    cinder: &C,
) -> Result<&'static dyn Flow<C>, CinderError> {
    Ok(if cinder.attachments_api().await? {
        &attachments::Attachments
    } else {
        &legacy::Legacy
    })
}

/// The steps that differ between Cinder's two flows.
#[async_trait]
pub(crate) trait Flow<C: CinderApi>: Send + Sync + std::fmt::Debug {
    /// Whether releasing needs the instance's connector (the legacy
    /// terminate does).
    fn needs_connector(&self) -> bool;

    /// Reserves the volume for the instance and hands Cinder the connector
    /// (Cinder zones and masks); what Cinder holds is pushed to `made` as
    /// soon as it exists, for undo.
    async fn connect(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        connector: &Connector,
        made: &mut Vec<Link>,
    ) -> Result<ConnectionInfo, VolumeStep>;

    /// Marks the volume in use (`os-complete`, or the legacy `os-attach`
    /// with the `index`-th device name).
    async fn complete(
        &self,
        cinder: &C,
        instance: &InstanceId,
        link: &Link,
        index: usize,
        host: &str,
    ) -> Result<(), VolumeStep>;

    /// Releases one tie (which unmasks, and unzones with the host's last
    /// LUN); returns what failed. With `every_step` (undo and destroy, the
    /// partition stopped) each step is tried even after one fails; without
    /// it (detach from a running guest) a failed terminate stops there, so
    /// a volume still masked is never marked free.
    async fn release(
        &self,
        cinder: &C,
        instance: &InstanceId,
        link: &Link,
        every_step: bool,
    ) -> Vec<ReleaseError>;

    /// Every volume Cinder holds for the instance (never process memory).
    async fn find_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError>;

    /// What an unfinished earlier spawn left: [`Flow::find_links`] and, with
    /// the legacy actions, the spawn's volumes reserved and never attached.
    async fn earlier_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volumes: &[VolumeId],
        connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError>;

    /// Whether the instance finished spawning: Cinder reports one of its
    /// volumes attached to it.
    async fn spawn_finished(&self, cinder: &C, instance: &InstanceId) -> Result<bool, CinderError>;

    /// Finishes what a spawn that booted left unfinished in Cinder (its
    /// process died before every completion); failures are only logged.
    async fn finish_completions(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volumes: &[VolumeId],
        connector: Option<&Connector>,
        host: &str,
    );

    /// Before an attach: refuses a volume attached to the instance, and
    /// releases what an unfinished attach of it left.
    async fn check_attach(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<(), AttachStep>;

    /// After a failed attach: every tie of the volume to the instance
    /// (a lost reply may have made more than the attach knows of).
    async fn volume_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        connector: Option<&Connector>,
    ) -> Vec<Link>;

    /// Before a detach: the volume's ties to the instance; refuses a volume
    /// not attached to it, and the boot volume where the flow tells it.
    async fn detach_plan(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        connector: Option<&Connector>,
    ) -> Result<DetachPlan, DetachStep>;

    /// Tells Cinder a detach begins (legacy `os-begin_detaching`).
    async fn begin_detach(&self, cinder: &C, volume: &VolumeId) -> Result<(), DetachStep>;

    /// Tells Cinder a detach did not finish (legacy `os-roll_detaching`).
    async fn abort_detach(&self, cinder: &C, volume: &VolumeId);

    /// The volumes attached to the instance with their connection info,
    /// for `describe` (the legacy records carry none).
    async fn attached_volumes(
        &self,
        cinder: &C,
        instance: &InstanceId,
    ) -> Vec<(VolumeId, ConnectionInfo)>;
}
