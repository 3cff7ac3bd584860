//! The `CinderApi` trait.

use async_trait::async_trait;

use crate::connection::ConnectionInfo;
use crate::error::CinderError;
use crate::ids::{AttachmentId, InstanceId, VolumeId};
use crate::types::{Attachment, Connector, Volume, VolumeCreate};

/// Filter for [`CinderApi::list_attachments`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttachmentFilter {
    /// Only attachments of this volume.
    pub volume_id: Option<VolumeId>,
    /// Only attachments of this instance.
    pub instance_id: Option<InstanceId>,
}

/// Cinder v3, scoped to one project: volumes, the attachments API (3.44) and
/// the legacy volume actions.
///
/// Implemented by the HTTP client and by the simulator (`dpm-sim`).
///
/// ```no_run
/// # async fn demo(cinder: &dyn cinder_client::CinderApi,
/// #   vol: &cinder_client::VolumeId, vm: &cinder_client::InstanceId,
/// #   connector: &cinder_client::Connector) -> Result<(), cinder_client::CinderError> {
/// let a = cinder.create_attachment(vol, vm, None).await?;
/// let a = cinder.update_attachment(&a.id, connector).await?;
/// let fc = a.connection_info.expect("set once a connector is given").fibre_channel();
/// cinder.complete_attachment(&a.id).await?;
/// # Ok(()) }
/// ```
// mockall's attribute goes before async_trait's, so that it sees the
// trait as written.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait CinderApi: Send + Sync {
    /// Whether the server has the attachments API of microversion 3.44.
    /// When it does not, callers use the legacy volume actions.
    async fn attachments_api(&self) -> Result<bool, CinderError>;

    /// `GET /volumes/{id}`.
    async fn get_volume(&self, id: &VolumeId) -> Result<Volume, CinderError>;
    /// `GET /volumes/detail`.
    async fn list_volumes(&self) -> Result<Vec<Volume>, CinderError>;
    /// `POST /volumes`; the volume starts `creating`.
    async fn create_volume(&self, req: &VolumeCreate) -> Result<Volume, CinderError>;
    /// `DELETE /volumes/{id}`.
    async fn delete_volume(&self, id: &VolumeId) -> Result<(), CinderError>;

    /// `POST /attachments`: reserve the volume for the instance, and with a
    /// connector also connect it.
    // The named lifetimes here and below are for mockall, which cannot
    // mock an elided lifetime inside an `Option`.
    async fn create_attachment<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&'a Connector>,
    ) -> Result<Attachment, CinderError>;
    /// `PUT /attachments/{id}` with a connector: zoning and LUN masking; the
    /// answer carries the connection info, on the attachment as Cinder had
    /// it before the call (`reserved` on the first update).
    async fn update_attachment(
        &self,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError>;
    /// `POST /attachments/{id}/action {"os-complete": null}`.
    async fn complete_attachment(&self, id: &AttachmentId) -> Result<(), CinderError>;
    /// `DELETE /attachments/{id}`: unmask, and return the volume's remaining
    /// attachments.
    async fn delete_attachment(&self, id: &AttachmentId) -> Result<Vec<Attachment>, CinderError>;
    /// `GET /attachments/{id}`.
    async fn get_attachment(&self, id: &AttachmentId) -> Result<Attachment, CinderError>;
    /// `GET /attachments/detail[?volume_id=&instance_id=]`.
    async fn list_attachments(
        &self,
        filter: &AttachmentFilter,
    ) -> Result<Vec<Attachment>, CinderError>;

    /// `os-reserve`: `available` → `attaching`.
    async fn reserve(&self, volume: &VolumeId) -> Result<(), CinderError>;
    /// `os-unreserve`: `attaching` → `available` (or `in-use`).
    async fn unreserve(&self, volume: &VolumeId) -> Result<(), CinderError>;
    /// `os-initialize_connection`: zoning and LUN masking.
    async fn initialize_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError>;
    /// `os-attach`: record the attachment; the volume becomes `in-use`.
    async fn attach<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&'a str>,
    ) -> Result<(), CinderError>;
    /// `os-begin_detaching`: `in-use` → `detaching`.
    async fn begin_detaching(&self, volume: &VolumeId) -> Result<(), CinderError>;
    /// `os-roll_detaching`: `detaching` → `in-use`.
    async fn roll_detaching(&self, volume: &VolumeId) -> Result<(), CinderError>;
    /// `os-terminate_connection`: unmask (and unzone when the host has no
    /// mappings left), then unreserve (`attaching` → `available`, or
    /// `in-use` when attached).
    async fn terminate_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError>;
    /// `os-detach`: remove the attachment.
    async fn detach(&self, volume: &VolumeId, attachment: &AttachmentId)
        -> Result<(), CinderError>;
}
