//! The Cinder side of the world: volumes and attachments with Cinder's
//! status machines and refusals, on top of the storage backend.
//!
//! Attachments API: create (`reserved`) → update with a connector
//! (`attaching`; zoning and LUN masking) → complete (`attached`, volume
//! `in-use`) → delete (unmask; volume status recomputed). Legacy actions:
//! reserve, initialize_connection, attach / begin_detaching,
//! terminate_connection, detach, with unreserve and roll_detaching.
//!
//! The preconditions are Cinder's own (`volume/api.py`,
//! `api/v3/attachments.py`, the volume manager), not a tidier machine:
//! - reserving (`POST /attachments`) takes an `available` or `downloading`
//!   volume, or one `reserved`/`in-use` that already has an attachment of
//!   the same instance (LP 1694530: a new reserved attachment, the volume
//!   status unchanged); a status containing `error` is refused;
//! - updating has no attach-status precondition: 409 when the volume is in
//!   error or already has another attachment and one of them carries
//!   connection info; it answers the attachment as it was before the
//!   backend call (with the new connection info);
//! - completing has no precondition;
//! - a backend failure while creating an attachment with a connector is a
//!   500 and leaves the reserved attachment behind;
//! - `os-terminate_connection` unreserves (`attaching` → `in-use` or
//!   `available`); `os-attach` refuses only `maintenance` and an `in-use`
//!   volume (it needs no reserve); `os-initialize_connection` refuses only
//!   `maintenance`;
//! - a volume from an image goes `creating` → `downloading` → `available`,
//!   and ends `available` whatever a reservation did meanwhile (Cinder's
//!   own race, its FIXME in `_attachment_reserve`).
//!
//! This module knows nothing of the HMC or of how the SAN works: it drives
//! its storage backend through [`Backend`], which `world` implements on
//! the SAN (resolving each initiator's fabric from the HMC's cabling).
//! Operations that change something take a [`Cx`]; creating and deleting a
//! volume return the [`Later`] transition for the world to schedule.

use std::collections::BTreeMap;
use std::time::Duration;

use cinder_client::{
    AttachStatus, Attachment, AttachmentId, CinderError, ConnectionInfo, Connector, FcData,
    ImageId, InstanceId, Volume, VolumeAttachment, VolumeId, VolumeStatus,
};
use fc_types::Wwpn;

use crate::clock::Clock;
use crate::ids::Ids;
use crate::spec::{SpecError, Timings, WorldSpec};

mod attachments;
mod legacy;
mod volumes;

/// Cinder's storage backend: the storage system and the FC zone manager.
/// `world` implements it on the SAN.
pub(crate) trait Backend {
    /// The Cinder node's own WWPNs (image deployment masks to them).
    fn node_wwpns(&self) -> Vec<Wwpn>;
    /// Maps `volume` to the host of `initiators` (named after `host` when
    /// new) and zones them; nothing changes on refusal.
    fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host: &str,
    ) -> Result<FcData, BackendRefusal>;
    /// Unmaps `volume` from the host of `initiators`; idempotent.
    fn disconnect(&mut self, volume: &VolumeId, initiators: &[Wwpn]);
    /// Unmaps `volume` from every host (the volume is deleted).
    fn unmap_everywhere(&mut self, volume: &VolumeId);
    /// Records that `image` was written to `volume`.
    fn image_written(&mut self, volume: &VolumeId, image: &str);
}

/// Why the backend refused a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackendRefusal {
    /// The connector itself is unusable (400); otherwise the backend
    /// failed (500).
    pub bad_connector: bool,
    /// The backend's message.
    pub message: String,
}

/// What a Cinder operation that changes something borrows from the rest of
/// the world; `world` assembles it.
pub(crate) struct Cx<'a> {
    /// The id allocator.
    pub ids: &'a mut Ids,
    /// The clock, for timestamps.
    pub clock: &'a Clock,
    /// The storage backend.
    pub backend: &'a mut dyn Backend,
}

impl Cx<'_> {
    fn stamp(&self) -> String {
        self.clock.stamp_now()
    }
}

/// A Cinder transition that finishes at a later point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Later {
    /// A blank volume: `creating` → `available`.
    VolumeCreated {
        volume: VolumeId,
    },
    /// A volume from an image: `creating` → `downloading` (masked to the
    /// Cinder node); then [`Later::ImageDownloaded`].
    DownloadStarts {
        volume: VolumeId,
    },
    /// `downloading` → `available` (written, unmasked, bootable).
    ImageDownloaded {
        volume: VolumeId,
    },
    VolumeDeleted {
        volume: VolumeId,
    },
}

impl Later {
    /// How long after it begins the transition finishes. A volume from an
    /// image takes `volume_create_ms` in all: the first half `creating`,
    /// the rest `downloading`.
    pub(crate) fn after(&self, timings: &Timings) -> Duration {
        let create = timings.volume_create();
        match self {
            Self::VolumeCreated { .. } => create,
            Self::DownloadStarts { .. } => create / 2,
            Self::ImageDownloaded { .. } => create - create / 2,
            Self::VolumeDeleted { .. } => timings.volume_delete(),
        }
    }
}

/// Cinder's objects and configuration.
#[derive(Debug)]
pub(crate) struct CinderState {
    pub images: BTreeMap<ImageId, String>,
    pub projects: Vec<String>,
    /// The volume service's host, `host@backend#pool`: the Cinder node, a
    /// backend named after the storage system, and its one pool.
    pub host: String,
    /// Cinder's highest microversion.
    pub max_version: (u32, u32),
    pub volumes: BTreeMap<VolumeId, VolumeState>,
    pub attachments: BTreeMap<AttachmentId, AttachmentState>,
}

#[derive(Debug, Clone)]
pub(crate) struct VolumeState {
    pub id: VolumeId,
    pub project: String,
    /// The Keystone user who created it, when known.
    pub user: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub size: u64,
    pub volume_type: String,
    pub status: VolumeStatus,
    pub bootable: bool,
    pub image: Option<ImageId>,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The image's properties Cinder keeps with a volume made from it
    /// (its glance metadata), from when the image is written; empty
    /// otherwise.
    pub image_metadata: BTreeMap<String, String>,
    /// `disabled` when the API creates it (the type is not replicated),
    /// `not-capable` once Storwize made it.
    pub replication_status: &'static str,
    /// Set by the volume service once the backend made the volume: the
    /// service's uuid, and `shared_targets` false (an FC backend; Cinder
    /// shares targets only for iSCSI). Before that, the column defaults:
    /// no service, shared targets true.
    pub service_uuid: Option<&'static str>,
    pub shared_targets: bool,
    /// The service's host, once scheduled (at once: one backend).
    pub host: String,
}

/// Everything Cinder's volume view shows that the [`Volume`] type does not
/// carry, from the volume's state; `serve` renders it per microversion.
#[derive(Debug, Clone)]
pub(crate) struct VolumeDetail {
    pub volume: Volume,
    /// Keystone's id of the volume's project.
    pub project_id: String,
    pub user_id: Option<String>,
    pub volume_type_id: &'static str,
    pub replication_status: &'static str,
    pub shared_targets: bool,
    pub service_uuid: Option<&'static str>,
    pub host: String,
    pub image_metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AttachmentState {
    pub id: AttachmentId,
    pub project: String,
    pub volume: VolumeId,
    pub instance: Option<InstanceId>,
    pub status: AttachStatus,
    pub connector: Option<Connector>,
    pub connection: Option<ConnectionInfo>,
    pub attached_at: Option<String>,
    /// `"null"` until a connector is given (Cinder's own spelling for "not
    /// chosen"), then `"rw"`.
    pub attach_mode: String,
    pub mountpoint: Option<String>,
    pub host_name: Option<String>,
}

/// `attach_mode` before a connector chose one.
const MODE_UNSET: &str = "null";
/// `attach_mode` once connected: dpm-sim attaches read-write only.
const MODE_RW: &str = "rw";
/// The mountpoint Cinder records for a connector without one.
const NO_MOUNTPOINT: &str = "na";

fn bad(op: &str, msg: impl Into<String>) -> CinderError {
    CinderError::api(op, 400, msg)
}

/// The most initiator WWPNs a connector may have (dpm-sim's own limit).
const MAX_CONNECTOR_WWPNS: usize = 64;

/// The volume types the simulated backend offers; none is multiattach.
const DEFAULT_VOLUME_TYPE: &str = "svc-fc";
/// Its id (dpm-sim's own, fixed: the types are configuration).
const DEFAULT_VOLUME_TYPE_ID: &str = "00000000-0003-4000-8000-000000000001";
/// The uuid of the one volume service (dpm-sim's own, fixed).
const SERVICE_UUID: &str = "00000000-0004-4000-8000-000000000001";
/// The host name of the Cinder node (the host object image deployment
/// masks to is named after it).
const CINDER_NODE: &str = "cinder-node";

impl CinderState {
    pub(crate) fn new(spec: &WorldSpec) -> Result<Self, SpecError> {
        Ok(Self {
            images: spec
                .images
                .iter()
                .map(|i| (i.id.clone(), i.name.clone()))
                .collect(),
            projects: spec.projects.iter().map(|p| p.name.clone()).collect(),
            host: format!("{CINDER_NODE}@{0}#{0}", spec.storage.name),
            max_version: spec.cinder.max()?,
            volumes: BTreeMap::new(),
            attachments: BTreeMap::new(),
        })
    }

    /// Finishes a transition that is due; returns the one it starts.
    pub(crate) fn finish(&mut self, cx: &mut Cx<'_>, later: Later) -> Option<Later> {
        match later {
            Later::VolumeCreated { volume } => {
                self.finish_volume_create(cx, &volume);
                None
            }
            Later::DownloadStarts { volume } => self.start_download(cx, &volume),
            Later::ImageDownloaded { volume } => {
                self.finish_download(cx, &volume);
                None
            }
            Later::VolumeDeleted { volume } => {
                self.finish_volume_delete(cx, &volume);
                None
            }
        }
    }

    // ----- lookups ------------------------------------------------------------

    fn volume_in(
        &self,
        project: &str,
        id: &VolumeId,
        op: &str,
    ) -> Result<&VolumeState, CinderError> {
        self.volumes
            .get(id)
            .filter(|v| v.project == project)
            .ok_or_else(|| CinderError::api(op, 404, format!("Volume {id} could not be found.")))
    }

    fn volume_mut(
        &mut self,
        project: &str,
        id: &VolumeId,
        op: &str,
    ) -> Result<&mut VolumeState, CinderError> {
        self.volumes
            .get_mut(id)
            .filter(|v| v.project == project)
            .ok_or_else(|| CinderError::api(op, 404, format!("Volume {id} could not be found.")))
    }

    fn attachment_in(
        &self,
        project: &str,
        id: &AttachmentId,
        op: &str,
    ) -> Result<&AttachmentState, CinderError> {
        self.attachments
            .get(id)
            .filter(|a| a.project == project)
            .ok_or_else(|| {
                CinderError::api(
                    op,
                    404,
                    format!("VolumeAttachment {id} could not be found."),
                )
            })
    }

    pub(crate) fn volume_view(&self, v: &VolumeState) -> Volume {
        let attachments = self
            .attachments
            .values()
            .filter(|a| a.volume == v.id && a.status == AttachStatus::Attached)
            .map(|a| VolumeAttachment {
                id: v.id.clone(),
                attachment_id: a.id.clone(),
                volume_id: v.id.clone(),
                server_id: a.instance.clone(),
                host_name: a.host_name.clone(),
                device: a.mountpoint.clone(),
                attached_at: a.attached_at.clone(),
            })
            .collect();
        Volume {
            id: v.id.clone(),
            status: v.status,
            size: v.size,
            name: v.name.clone(),
            description: v.description.clone(),
            volume_type: Some(v.volume_type.clone()),
            bootable: v.bootable,
            multiattach: false,
            attachments,
            created_at: Some(v.created_at.clone()),
            updated_at: v.updated_at.clone(),
            metadata: v.metadata.clone(),
            availability_zone: Some("nova".into()),
        }
    }

    /// The volume with everything else Cinder's view shows of it.
    pub(crate) fn volume_detail(&self, v: &VolumeState) -> VolumeDetail {
        VolumeDetail {
            volume: self.volume_view(v),
            project_id: crate::spec::ProjectSpec {
                name: v.project.clone(),
            }
            .id(),
            user_id: v.user.clone(),
            volume_type_id: DEFAULT_VOLUME_TYPE_ID,
            replication_status: v.replication_status,
            shared_targets: v.shared_targets,
            service_uuid: v.service_uuid,
            host: v.host.clone(),
            image_metadata: v.image_metadata.clone(),
        }
    }

    /// `GET /volumes/{id}` with every field.
    pub(crate) fn get_volume_detail(
        &self,
        project: &str,
        id: &VolumeId,
    ) -> Result<VolumeDetail, CinderError> {
        Ok(self.volume_detail(self.volume_in(project, id, "get volume")?))
    }

    /// `GET /volumes/detail` with every field.
    pub(crate) fn list_volume_details(&self, project: &str) -> Vec<VolumeDetail> {
        self.volumes
            .values()
            .filter(|v| v.project == project)
            .map(|v| self.volume_detail(v))
            .collect()
    }

    pub(crate) fn attachment_view(a: &AttachmentState) -> Attachment {
        Attachment {
            id: a.id.clone(),
            status: a.status,
            instance: a.instance.clone(),
            volume_id: a.volume.clone(),
            attached_at: a.attached_at.clone(),
            detached_at: None,
            attach_mode: Some(a.attach_mode.clone()),
            connection_info: a.connection.clone(),
        }
    }

    /// The summary view (`id`, `status`, `instance`, `volume_id`), as
    /// `GET /attachments` and `DELETE /attachments/{id}` give it.
    pub(crate) fn attachment_summary(a: &AttachmentState) -> Attachment {
        Attachment {
            id: a.id.clone(),
            status: a.status,
            instance: a.instance.clone(),
            volume_id: a.volume.clone(),
            attached_at: None,
            detached_at: None,
            attach_mode: None,
            connection_info: None,
        }
    }

    /// The attachments of a volume.
    fn attachments_of<'a>(
        &'a self,
        volume: &'a VolumeId,
    ) -> impl Iterator<Item = &'a AttachmentState> + 'a {
        self.attachments
            .values()
            .filter(move |a| &a.volume == volume)
    }

    fn set_volume_status(&mut self, cx: &Cx<'_>, id: &VolumeId, status: VolumeStatus) {
        let stamp = cx.stamp();
        if let Some(v) = self.volumes.get_mut(id) {
            v.status = status;
            v.updated_at = Some(stamp);
        }
    }

    /// The status a volume has from its attachments: `in-use` when one is
    /// attached, `attaching`/`reserved` while one is on its way, else
    /// `available`.
    fn recompute_volume_status(&mut self, cx: &Cx<'_>, id: &VolumeId) {
        let statuses: Vec<AttachStatus> = self
            .attachments
            .values()
            .filter(|a| &a.volume == id)
            .map(|a| a.status)
            .collect();
        let status = if statuses.contains(&AttachStatus::Attached) {
            VolumeStatus::InUse
        } else if statuses.contains(&AttachStatus::Attaching) {
            VolumeStatus::Attaching
        } else if statuses.contains(&AttachStatus::Reserved) {
            VolumeStatus::Reserved
        } else {
            VolumeStatus::Available
        };
        self.set_volume_status(cx, id, status);
    }

    // ----- volumes ------------------------------------------------------------

    pub(crate) fn get_volume(&self, project: &str, id: &VolumeId) -> Result<Volume, CinderError> {
        Ok(self.volume_view(self.volume_in(project, id, "get volume")?))
    }

    pub(crate) fn list_volumes(&self, project: &str) -> Vec<Volume> {
        self.volumes
            .values()
            .filter(|v| v.project == project)
            .map(|v| self.volume_view(v))
            .collect()
    }
}
