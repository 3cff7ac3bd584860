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
//! its storage backend through [`Backend`], which `world.rs` implements on
//! the SAN (resolving each initiator's fabric from the HMC's cabling).
//! Operations that change something take a [`Cx`]; creating and deleting a
//! volume return the [`Later`] transition for the world to schedule.

use std::collections::BTreeMap;
use std::time::Duration;

use cinder_client::{
    AttachStatus, Attachment, AttachmentFilter, AttachmentId, CinderError, ConnectionInfo,
    Connector, FcData, ImageId, InstanceId, Volume, VolumeAttachment, VolumeCreate, VolumeId,
    VolumeStatus,
};
use fc_types::Wwpn;

use crate::clock::Clock;
use crate::ids::Ids;
use crate::spec::{SpecError, Timings, WorldSpec};

/// Cinder's storage backend: the storage system and the FC zone manager.
/// `world.rs` implements it on the SAN.
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
/// the world; `world.rs` assembles it.
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

    /// Creates a volume for `user` (when known); it becomes available with
    /// the returned transition.
    pub(crate) fn create_volume(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        user: Option<&str>,
        req: &VolumeCreate,
    ) -> Result<(VolumeDetail, Later), CinderError> {
        let op = "create volume";
        // Cinder keeps names, descriptions and metadata in 255-character
        // columns.
        let long = |s: &Option<String>| s.as_ref().is_some_and(|s| s.chars().count() > 255);
        if long(&req.name) || long(&req.description) {
            return Err(bad(
                op,
                "Invalid input received: name and description are at most 255 characters.",
            ));
        }
        if req
            .metadata
            .iter()
            .any(|(k, v)| k.chars().count() > 255 || v.chars().count() > 255)
        {
            return Err(bad(
                op,
                "Invalid input received: metadata keys and values are at most 255 characters.",
            ));
        }
        if req.size == 0 {
            return Err(bad(
                op,
                "Invalid input received: size must be a positive integer.",
            ));
        }
        if let Some(t) = &req.volume_type {
            if t != DEFAULT_VOLUME_TYPE {
                return Err(CinderError::api(
                    op,
                    404,
                    format!("Volume type with name {t} could not be found."),
                ));
            }
        }
        let image_name = match &req.image_ref {
            Some(img) => Some(self.images.get(img).cloned().ok_or_else(|| {
                bad(
                    op,
                    format!("Invalid image identifier or unable to access requested image: {img}"),
                )
            })?),
            None => None,
        };
        let id = VolumeId::from_u128(cx.ids.new_uuid(0x1));
        let v = VolumeState {
            id: id.clone(),
            project: project.into(),
            user: user.map(Into::into),
            name: req.name.clone(),
            description: req.description.clone(),
            size: req.size,
            volume_type: DEFAULT_VOLUME_TYPE.into(),
            status: VolumeStatus::Creating,
            bootable: false,
            image: req.image_ref.clone(),
            created_at: cx.stamp(),
            updated_at: None,
            metadata: req.metadata.clone(),
            image_metadata: BTreeMap::new(),
            replication_status: "disabled",
            service_uuid: None,
            shared_targets: true,
            host: self.host.clone(),
        };
        self.volumes.insert(id.clone(), v);
        let view = self.volume_detail(&self.volumes[&id]);
        let later = if image_name.is_some() {
            Later::DownloadStarts { volume: id }
        } else {
            Later::VolumeCreated { volume: id }
        };
        Ok((view, later))
    }

    /// A blank volume is created: `creating` → `available`.
    fn finish_volume_create(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
        if self
            .volumes
            .get(id)
            .is_some_and(|v| v.status == VolumeStatus::Creating)
        {
            self.made_by_backend(id);
            self.set_volume_status(cx, id, VolumeStatus::Available);
        }
    }

    /// What the backend and the volume service record once the backend
    /// made the volume: Storwize's `not-capable` replication, the service,
    /// and no shared targets (FC).
    fn made_by_backend(&mut self, id: &VolumeId) {
        if let Some(v) = self.volumes.get_mut(id) {
            v.replication_status = "not-capable";
            v.service_uuid = Some(SERVICE_UUID);
            v.shared_targets = false;
        }
    }

    /// Image deployment, done by Cinder alone, begins: the volume is
    /// `downloading` and masked to the Cinder node's own WWPNs while the
    /// image is copied. A refused mapping ends the volume in `error`.
    fn start_download(&mut self, cx: &mut Cx<'_>, id: &VolumeId) -> Option<Later> {
        if self.volumes.get(id)?.status != VolumeStatus::Creating {
            return None;
        }
        let node = cx.backend.node_wwpns();
        if let Err(refusal) = cx.backend.connect(id, &node, CINDER_NODE) {
            self.set_volume_status(cx, id, VolumeStatus::Error);
            tracing::warn!(volume = %id, reason = %refusal.message, "image deployment could not map the volume");
            return None;
        }
        // The backend made the volume; the image is copied onto it.
        self.made_by_backend(id);
        self.set_volume_status(cx, id, VolumeStatus::Downloading);
        Some(Later::ImageDownloaded { volume: id.clone() })
    }

    /// The image is written: unmask the Cinder node, mark the volume
    /// bootable and `available`. Cinder sets `available` whatever happened
    /// meanwhile (a volume may be reserved while `downloading`: Cinder's
    /// own race), and so does dpm-sim.
    fn finish_download(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
        let Some(v) = self.volumes.get(id) else {
            return;
        };
        let image = v.image.clone();
        let name = image
            .as_ref()
            .and_then(|i| self.images.get(i))
            .cloned()
            .unwrap_or_default();
        cx.backend.image_written(id, &name);
        let node = cx.backend.node_wwpns();
        cx.backend.disconnect(id, &node);
        // Cinder marks the volume bootable and keeps the image's
        // properties with it; dpm-sim's images have an id and a name.
        if let Some(v) = self.volumes.get_mut(id) {
            v.bootable = true;
            if let Some(image) = image {
                v.image_metadata = BTreeMap::from([
                    ("image_id".to_owned(), image.to_string()),
                    ("image_name".to_owned(), name),
                ]);
            }
        }
        self.set_volume_status(cx, id, VolumeStatus::Available);
    }

    /// Starts deleting a volume; it goes with the returned transition.
    pub(crate) fn delete_volume(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<Later, CinderError> {
        let op = "delete volume";
        let v = self.volume_in(project, id, op)?;
        if self.attachments.values().any(|a| &a.volume == id) {
            return Err(bad(op, format!("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer, but the volume {id} has attachments.")));
        }
        if !v.status.is_deletable() {
            return Err(bad(op, format!("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing, but current status is: {}.", v.status)));
        }
        self.set_volume_status(cx, id, VolumeStatus::Deleting);
        Ok(Later::VolumeDeleted { volume: id.clone() })
    }

    fn finish_volume_delete(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
        cx.backend.unmap_everywhere(id);
        self.volumes.remove(id);
    }

    // ----- attachments API ----------------------------------------------------

    /// `POST /attachments`: reserve the volume for the instance
    /// (`_attachment_reserve`), and with a connector also connect it.
    pub(crate) fn create_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Attachment, CinderError> {
        let op = "create attachment";
        let v = self.volume_in(project, volume, op)?;
        if v.status.as_str().contains("error") {
            return Err(bad(op, format!("Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume {volume} currently has a status of: {} ", v.status)));
        }
        // Without multiattach (no volume type here has it) an `available`
        // or `downloading` volume becomes `reserved`; the same instance may
        // reserve again a volume it already holds, which leaves the volume
        // status as it is.
        let status = match v.status {
            VolumeStatus::Available | VolumeStatus::Downloading => Some(VolumeStatus::Reserved),
            VolumeStatus::Reserved | VolumeStatus::InUse
                if self
                    .attachments_of(volume)
                    .any(|a| a.instance.as_ref() == Some(instance)) =>
            {
                None
            }
            other => {
                return Err(bad(op, format!("Invalid volume: Volume {volume} status must be available or downloading to reserve, but the current status is {other}.")));
            }
        };
        if let Some(s) = status {
            self.set_volume_status(cx, volume, s);
        }
        let id = AttachmentId::from_u128(cx.ids.new_uuid(0x2));
        self.attachments.insert(
            id.clone(),
            AttachmentState {
                id: id.clone(),
                project: project.into(),
                volume: volume.clone(),
                instance: Some(instance.clone()),
                status: AttachStatus::Reserved,
                connector: None,
                connection: None,
                attached_at: None,
                attach_mode: MODE_UNSET.into(),
                mountpoint: None,
                host_name: None,
            },
        );
        let Some(c) = connector else {
            return Ok(Self::attachment_view(&self.attachments[&id]));
        };
        // The reservation is made and stays whatever the backend says:
        // Cinder answers any failure to connect with a 500 and leaves the
        // attachment `reserved` (the caller deletes it).
        let before = self.attachments[&id].clone();
        let info = Self::connect_for(cx, op, volume, c).map_err(|e| {
            CinderError::api(
                op,
                500,
                format!("Unable to create attachment for volume ({}).", message(&e)),
            )
        })?;
        self.connected(cx, &id, c, info.clone());
        // Cinder saves the attachment object it answers with after the
        // backend call, and with it the `attach_mode` of the request
        // ("null"), over the "rw" the connection set.
        if let Some(a) = self.attachments.get_mut(&id) {
            a.attach_mode = MODE_UNSET.into();
        }
        Ok(Self::attachment_view(&AttachmentState {
            connection: Some(info),
            ..before
        }))
    }

    /// Zoning and LUN masking for a connector, and the connection options
    /// Cinder adds to the driver's answer (`_parse_connection_options`);
    /// no state changes on refusal. A connector the backend cannot use is
    /// 400 ("Invalid input received"), any other failure 500.
    fn connect_for(
        cx: &mut Cx<'_>,
        op: &str,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        // A host has a handful of initiator ports; dpm-sim refuses an
        // absurd connector instead of doing work in its size (its own
        // limit: no public source gives Cinder's or Storwize's).
        if connector.wwpns.len() > MAX_CONNECTOR_WWPNS {
            return Err(bad(
                op,
                format!(
                    "Invalid input received: a connector of {} WWPNs (at most {MAX_CONNECTOR_WWPNS}).",
                    connector.wwpns.len()
                ),
            ));
        }
        let data = cx
            .backend
            .connect(volume, &connector.wwpns, &connector.host)
            .map_err(|r| {
                if r.bad_connector {
                    bad(op, format!("Invalid input received: {}", r.message))
                } else {
                    CinderError::api(op, 500, r.message)
                }
            })?;
        let mut info = ConnectionInfo::from_fc(&data);
        connection_options(&mut info);
        Ok(info)
    }

    /// Records a connection on an attachment (`volume_attached`, not yet
    /// marked attached): attachment and volume `attaching`.
    fn connected(
        &mut self,
        cx: &Cx<'_>,
        id: &AttachmentId,
        connector: &Connector,
        info: ConnectionInfo,
    ) {
        let stamp = cx.stamp();
        let Some(a) = self.attachments.get_mut(id) else {
            return;
        };
        a.status = AttachStatus::Attaching;
        a.connector = Some(connector.clone());
        a.connection = Some(info);
        // `volume_attached` with the connector's host and mountpoint
        // (`na` when it has none), as the volume manager records them.
        a.host_name = Some(connector.host.clone());
        a.mountpoint = Some(
            connector
                .mountpoint
                .clone()
                .unwrap_or_else(|| NO_MOUNTPOINT.into()),
        );
        a.attached_at = Some(stamp);
        a.attach_mode = MODE_RW.into();
        let volume = a.volume.clone();
        self.set_volume_status(cx, &volume, VolumeStatus::Attaching);
    }

    /// `PUT /attachments/{id}`: no attach-status precondition (a second
    /// update connects again). Answers the attachment as it was loaded
    /// before the backend call, with the new connection info.
    pub(crate) fn update_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        let op = "update attachment";
        let before = self.attachment_in(project, id, op)?.clone();
        let volume = before.volume.clone();
        let status = self.volumes.get(&volume).map(|v| v.status);
        if let Some(s) = status.filter(|s| s.as_str().contains("error")) {
            return Err(CinderError::api(op, 409, format!("Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume {volume} currently has a status of: {s} ")));
        }
        // Not multiattach: with more than one attachment, none may carry a
        // connection already (this one included).
        if self.attachments_of(&volume).count() > 1
            && self.attachments_of(&volume).any(|a| a.connection.is_some())
        {
            return Err(CinderError::api(
                op,
                409,
                format!("Resource conflict: duplicate connectors detected on volume {volume}"),
            ));
        }
        let info = Self::connect_for(cx, op, &volume, connector).map_err(|e| match e.status() {
            Some(500) => CinderError::api(
                op,
                500,
                format!("Unable to update attachment ({}).", message(&e)),
            ),
            _ => e,
        })?;
        self.connected(cx, id, connector, info.clone());
        Ok(Self::attachment_view(&AttachmentState {
            connection: Some(info),
            ..before
        }))
    }

    /// `os-complete`: no precondition; attachment `attached`, volume
    /// `in-use`.
    pub(crate) fn complete_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &AttachmentId,
    ) -> Result<(), CinderError> {
        let op = "complete attachment";
        let volume = self.attachment_in(project, id, op)?.volume.clone();
        if let Some(a) = self.attachments.get_mut(id) {
            a.status = AttachStatus::Attached;
        }
        self.set_volume_status(cx, &volume, VolumeStatus::InUse);
        Ok(())
    }

    /// `DELETE /attachments/{id}`: unmask (unless only reserved), recompute
    /// the volume status, and answer the volume's remaining attachments in
    /// the summary form.
    pub(crate) fn delete_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &AttachmentId,
    ) -> Result<Vec<Attachment>, CinderError> {
        let op = "delete attachment";
        self.attachment_in(project, id, op)?;
        let Some(a) = self.attachments.remove(id) else {
            return Ok(Vec::new());
        };
        // A reserved attachment has no connection to undo.
        if let Some(c) = &a.connector {
            cx.backend.disconnect(&a.volume, &c.wwpns);
        }
        self.recompute_volume_status(cx, &a.volume);
        Ok(self
            .attachments_of(&a.volume)
            .map(Self::attachment_summary)
            .collect())
    }
    pub(crate) fn get_attachment(
        &self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<Attachment, CinderError> {
        Ok(Self::attachment_view(self.attachment_in(
            project,
            id,
            "get attachment",
        )?))
    }

    pub(crate) fn list_attachments(&self, project: &str, f: &AttachmentFilter) -> Vec<Attachment> {
        self.attachments
            .values()
            .filter(|a| a.project == project)
            .filter(|a| f.volume_id.as_ref().is_none_or(|v| *v == a.volume))
            .filter(|a| {
                f.instance_id
                    .as_ref()
                    .is_none_or(|i| a.instance.as_ref() == Some(i))
            })
            .map(Self::attachment_view)
            .collect()
    }

    // ----- legacy actions -----------------------------------------------------

    pub(crate) fn reserve(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let op = "os-reserve";
        let v = self.volume_in(project, id, op)?;
        if v.status != VolumeStatus::Available {
            return Err(bad(op, format!("Invalid volume: Volume status must be available to reserve, but the status is {}.", v.status)));
        }
        self.set_volume_status(cx, id, VolumeStatus::Attaching);
        Ok(())
    }

    /// `os-unreserve`: `attaching` → `in-use` when the volume has an
    /// attachment, else `available`; any other status is left alone.
    pub(crate) fn unreserve(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.volume_in(project, id, "os-unreserve")?;
        self.unreserve_volume(cx, id);
        Ok(())
    }

    fn unreserve_volume(&mut self, cx: &Cx<'_>, id: &VolumeId) {
        if self
            .volumes
            .get(id)
            .is_none_or(|v| v.status != VolumeStatus::Attaching)
        {
            return;
        }
        let status = if self.attachments_of(id).next().is_some() {
            VolumeStatus::InUse
        } else {
            VolumeStatus::Available
        };
        self.set_volume_status(cx, id, status);
    }

    /// `os-initialize_connection`: refuses only a volume in `maintenance`.
    pub(crate) fn initialize_connection(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        let op = "os-initialize_connection";
        let v = self.volume_in(project, id, op)?;
        if v.status == VolumeStatus::Maintenance {
            return Err(bad(
                op,
                "Invalid volume: The volume connection cannot be initialized in maintenance mode.",
            ));
        }
        let mut info = Self::connect_for(cx, op, id, connector)?;
        info.data.insert(
            "enforce_multipath".into(),
            serde_json::Value::Bool(connector.enforce_multipath),
        );
        Ok(info)
    }

    /// `os-attach`: no reserve needed. Refuses `maintenance` and, without
    /// multiattach, an `in-use` volume; an instance that already has an
    /// attachment of the volume gets it again (the volume `in-use`).
    pub(crate) fn attach(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&str>,
    ) -> Result<(), CinderError> {
        let op = "os-attach";
        let v = self.volume_in(project, id, op)?;
        if v.status == VolumeStatus::Maintenance {
            return Err(bad(
                op,
                "Invalid volume: The volume cannot be attached in maintenance mode.",
            ));
        }
        let status = v.status;
        if self
            .attachments_of(id)
            .any(|a| a.instance.as_ref() == Some(instance))
        {
            self.set_volume_status(cx, id, VolumeStatus::InUse);
            return Ok(());
        }
        if status == VolumeStatus::InUse {
            return Err(bad(op, "Invalid volume: volume is already attached and multiple attachments are not enabled"));
        }
        let aid = AttachmentId::from_u128(cx.ids.new_uuid(0x2));
        let stamp = cx.stamp();
        self.attachments.insert(
            aid.clone(),
            AttachmentState {
                id: aid,
                project: project.into(),
                volume: id.clone(),
                instance: Some(instance.clone()),
                status: AttachStatus::Attached,
                connector: None,
                connection: None,
                attached_at: Some(stamp),
                attach_mode: MODE_RW.into(),
                mountpoint: Some(mountpoint.into()),
                host_name: host_name.map(Into::into),
            },
        );
        self.set_volume_status(cx, id, VolumeStatus::InUse);
        Ok(())
    }

    pub(crate) fn begin_detaching(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let op = "os-begin_detaching";
        let v = self.volume_in(project, id, op)?;
        if v.status != VolumeStatus::InUse {
            return Err(bad(op, format!("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach, but the status is {}.", v.status)));
        }
        self.set_volume_status(cx, id, VolumeStatus::Detaching);
        Ok(())
    }

    /// `os-roll_detaching`: `detaching` → `in-use`; otherwise nothing.
    pub(crate) fn roll_detaching(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let v = self.volume_mut(project, id, "os-roll_detaching")?;
        if v.status == VolumeStatus::Detaching {
            self.set_volume_status(cx, id, VolumeStatus::InUse);
        }
        Ok(())
    }

    /// `os-terminate_connection`: unmask (and unzone with the host's last
    /// mapping), then unreserve. A volume with several attachments is 409
    /// for a caller without a service token (OSSA-2023-003: Cinder cannot
    /// tell which one goes).
    pub(crate) fn terminate_connection(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        let op = "os-terminate_connection";
        self.volume_in(project, id, op)?;
        if self.attachments_of(id).count() > 1 {
            return Err(CinderError::api(
                op,
                409,
                "Detach volume from instance  using the Compute API",
            ));
        }
        cx.backend.disconnect(id, &connector.wwpns);
        self.unreserve_volume(cx, id);
        Ok(())
    }

    /// `os-detach`: no status precondition beyond `maintenance`; the
    /// attachment decides. An id of null is the volume's only attachment
    /// (none: the volume is made `available`). An unknown attachment is
    /// 409 for a caller without a service token (OSSA-2023-003), another
    /// volume's is 400.
    pub(crate) fn detach(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        attachment: Option<&AttachmentId>,
    ) -> Result<(), CinderError> {
        let op = "os-detach";
        let v = self.volume_in(project, id, op)?;
        let maintenance = v.status == VolumeStatus::Maintenance;
        let mine: Vec<AttachmentId> = self.attachments_of(id).map(|a| a.id.clone()).collect();
        let attachment = match attachment {
            Some(a) if mine.contains(a) => Some(a.clone()),
            Some(a) if self.attachments.contains_key(a) => {
                return Err(bad(
                    op,
                    "Invalid input received: Mismatched volume and attachment",
                ))
            }
            Some(_) => {
                return Err(CinderError::api(
                    op,
                    409,
                    "Detach volume from instance  using the Compute API",
                ))
            }
            None => match mine.as_slice() {
                [] => None,
                [only] => Some(only.clone()),
                _ => {
                    return Err(bad(
                        op,
                        "Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.",
                    ))
                }
            },
        };
        if maintenance {
            return Err(bad(
                op,
                "Invalid volume: The volume cannot be detached in maintenance mode.",
            ));
        }
        match attachment {
            Some(a) => {
                self.attachments.remove(&a);
                self.recompute_volume_status(cx, id);
            }
            // Nothing attached: Cinder makes the volume available.
            None => self.set_volume_status(cx, id, VolumeStatus::Available),
        }
        Ok(())
    }
}

/// The message of a Cinder error, without the operation.
fn message(e: &CinderError) -> String {
    match e {
        CinderError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// What Cinder adds to a driver's connection info
/// (`_parse_connection_options`): no front-end QoS, read-write access, not
/// encrypted, not cacheable (the volume type says nothing), and discard
/// (dpm-sim's Cinder reports discard support); keys the driver set are
/// kept.
fn connection_options(info: &mut ConnectionInfo) {
    use serde_json::Value;
    let d = &mut info.data;
    d.insert("qos_specs".into(), Value::Null);
    d.insert("access_mode".into(), Value::String(MODE_RW.into()));
    d.entry("encrypted").or_insert(Value::Bool(false));
    d.entry("cacheable").or_insert(Value::Bool(false));
    d.entry("discard").or_insert(Value::Bool(true));
}
