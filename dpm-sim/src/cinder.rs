//! The Cinder side of the world: volumes and attachments with Cinder's
//! status machines and refusals, on top of the storage backend.
//!
//! Attachments API: create (`reserved`) → update with a connector
//! (`attaching`; zoning and LUN masking) → complete (`attached`, volume
//! `in-use`) → delete (unmask; volume status recomputed). Legacy actions:
//! reserve, initialize_connection, attach / begin_detaching,
//! terminate_connection, detach, with unreserve and roll_detaching.
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

use crate::clock::{timestamp, Clock};
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
        timestamp(self.clock.now())
    }
}

/// A Cinder transition that finishes at a later point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Later {
    VolumeCreated { volume: VolumeId },
    VolumeDeleted { volume: VolumeId },
}

impl Later {
    /// How long after it begins the transition finishes.
    pub(crate) fn after(&self, timings: &Timings) -> Duration {
        match self {
            Self::VolumeCreated { .. } => timings.volume_create(),
            Self::VolumeDeleted { .. } => timings.volume_delete(),
        }
    }
}

/// Cinder's objects and configuration.
#[derive(Debug)]
pub(crate) struct CinderState {
    pub images: BTreeMap<ImageId, String>,
    pub projects: Vec<String>,
    /// Cinder's highest microversion.
    pub max_version: (u32, u32),
    pub volumes: BTreeMap<VolumeId, VolumeState>,
    pub attachments: BTreeMap<AttachmentId, AttachmentState>,
}

#[derive(Debug, Clone)]
pub(crate) struct VolumeState {
    pub id: VolumeId,
    pub project: String,
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
    pub mountpoint: Option<String>,
    pub host_name: Option<String>,
}

fn bad(op: &str, msg: impl Into<String>) -> CinderError {
    CinderError::api(op, 400, msg)
}

/// The most initiator WWPNs a connector may have (dpm-sim's own limit).
const MAX_CONNECTOR_WWPNS: usize = 64;

/// The volume types the simulated backend offers; none is multiattach.
const DEFAULT_VOLUME_TYPE: &str = "svc-fc";

impl CinderState {
    pub(crate) fn new(spec: &WorldSpec) -> Result<Self, SpecError> {
        Ok(Self {
            images: spec
                .images
                .iter()
                .map(|i| (i.id.clone(), i.name.clone()))
                .collect(),
            projects: spec.projects.iter().map(|p| p.name.clone()).collect(),
            max_version: spec.cinder.max()?,
            volumes: BTreeMap::new(),
            attachments: BTreeMap::new(),
        })
    }

    /// Finishes a transition that is due.
    pub(crate) fn finish(&mut self, cx: &mut Cx<'_>, later: Later) {
        match later {
            Later::VolumeCreated { volume } => self.finish_volume_create(cx, &volume),
            Later::VolumeDeleted { volume } => self.finish_volume_delete(cx, &volume),
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

    pub(crate) fn attachment_view(a: &AttachmentState) -> Attachment {
        Attachment {
            id: a.id.clone(),
            status: a.status,
            instance: a.instance.clone(),
            volume_id: a.volume.clone(),
            attached_at: a.attached_at.clone(),
            detached_at: None,
            attach_mode: Some("rw".into()),
            connection_info: a.connection.clone(),
        }
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

    /// Creates a volume; it becomes available with the returned transition.
    pub(crate) fn create_volume(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        req: &VolumeCreate,
    ) -> Result<(Volume, Later), CinderError> {
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
        };
        self.volumes.insert(id.clone(), v);
        if image_name.is_some() {
            // Image deployment, done by Cinder alone: mask the new volume to
            // the Cinder node's own WWPNs; the copy and the unmasking finish
            // with the creation.
            let node = cx.backend.node_wwpns();
            let result = cx.backend.connect(&id, &node, "cinder-node");
            if let Err(refusal) = result {
                self.set_volume_status(cx, &id, VolumeStatus::Error);
                tracing::warn!(volume = %id, reason = %refusal.message, "image deployment could not map the volume");
            }
        }
        let view = self.volume_view(&self.volumes[&id]);
        Ok((view, Later::VolumeCreated { volume: id }))
    }

    fn finish_volume_create(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
        let Some(v) = self.volumes.get(id) else {
            return;
        };
        if v.status != VolumeStatus::Creating {
            return;
        }
        if let Some(image) = v.image.clone() {
            let name = self.images.get(&image).cloned().unwrap_or_default();
            cx.backend.image_written(id, &name);
            let node = cx.backend.node_wwpns();
            cx.backend.disconnect(id, &node);
            if let Some(v) = self.volumes.get_mut(id) {
                v.bootable = true;
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
        // Without multiattach only an available volume can be reserved.
        if v.status != VolumeStatus::Available {
            return Err(bad(op, format!("Invalid volume: Volume {volume} status must be available or in-use (multiattach) to reserve, but the status is {}.", v.status)));
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
                mountpoint: None,
                host_name: None,
            },
        );
        self.recompute_volume_status(cx, volume);
        match connector {
            None => Ok(Self::attachment_view(&self.attachments[&id])),
            Some(c) => self
                .update_attachment(cx, project, &id, c)
                .inspect_err(|_| {
                    // Cinder creates the attachment and its connection in one
                    // call: a refused connector leaves nothing behind.
                    self.attachments.remove(&id);
                    self.recompute_volume_status(cx, volume);
                }),
        }
    }

    /// Zoning and LUN masking for a connector; no state changes on refusal.
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
                CinderError::api(op, if r.bad_connector { 400 } else { 500 }, r.message)
            })?;
        Ok(ConnectionInfo::from_fc(&data))
    }

    pub(crate) fn update_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        let op = "update attachment";
        let a = self.attachment_in(project, id, op)?;
        if a.status != AttachStatus::Reserved {
            return Err(bad(op, format!("Invalid volume attachment: attachment {id} status must be reserved to update, but it is {}.", a.status)));
        }
        let volume = a.volume.clone();
        let info = Self::connect_for(cx, op, &volume, connector)?;
        let stamp = cx.stamp();
        if let Some(a) = self.attachments.get_mut(id) {
            a.status = AttachStatus::Attaching;
            a.connector = Some(connector.clone());
            a.connection = Some(info);
            a.host_name = Some(connector.host.clone());
            a.attached_at = Some(stamp);
        }
        self.recompute_volume_status(cx, &volume);
        Ok(Self::attachment_view(&self.attachments[id]))
    }

    pub(crate) fn complete_attachment(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &AttachmentId,
    ) -> Result<(), CinderError> {
        let op = "complete attachment";
        let a = self.attachment_in(project, id, op)?;
        if a.status != AttachStatus::Attaching {
            return Err(bad(op, format!("Invalid volume attachment: attachment {id} must be attaching (updated with a connector) to complete, but it is {}.", a.status)));
        }
        let volume = a.volume.clone();
        if let Some(a) = self.attachments.get_mut(id) {
            a.status = AttachStatus::Attached;
        }
        self.recompute_volume_status(cx, &volume);
        Ok(())
    }

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
            .attachments
            .values()
            .filter(|x| x.volume == a.volume)
            .map(Self::attachment_view)
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

    pub(crate) fn unreserve(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let op = "os-unreserve";
        let v = self.volume_in(project, id, op)?;
        if v.status == VolumeStatus::Attaching {
            self.recompute_volume_status(cx, id);
        }
        Ok(())
    }

    pub(crate) fn initialize_connection(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        let op = "os-initialize_connection";
        let v = self.volume_in(project, id, op)?;
        if !matches!(
            v.status,
            VolumeStatus::Attaching
                | VolumeStatus::InUse
                | VolumeStatus::Reserved
                | VolumeStatus::Available
        ) {
            return Err(bad(op, format!("Invalid volume: Volume {id} status must be available, reserved, attaching or in-use to initialize a connection, but the status is {}.", v.status)));
        }
        Self::connect_for(cx, op, id, connector)
    }

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
        if v.status != VolumeStatus::Attaching {
            return Err(bad(op, format!("Invalid volume: Volume status must be attaching (reserved) to attach, but the status is {}.", v.status)));
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

    pub(crate) fn roll_detaching(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let v = self.volume_mut(project, id, "os-roll_detaching")?;
        if v.status == VolumeStatus::Detaching {
            self.recompute_volume_status(cx, id);
        }
        Ok(())
    }

    pub(crate) fn terminate_connection(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.volume_in(project, id, "os-terminate_connection")?;
        cx.backend.disconnect(id, &connector.wwpns);
        Ok(())
    }

    pub(crate) fn detach(
        &mut self,
        cx: &mut Cx<'_>,
        project: &str,
        id: &VolumeId,
        attachment: Option<&AttachmentId>,
    ) -> Result<(), CinderError> {
        let op = "os-detach";
        self.volume_in(project, id, op)?;
        // No status precondition (as Cinder): the attachment decides. An id
        // of null is the volume's only attachment. An unknown attachment is
        // 409 for a caller without a service token (OSSA-2023-003).
        let mine: Vec<AttachmentId> = self
            .attachments
            .iter()
            .filter(|(_, a)| &a.volume == id)
            .map(|(k, _)| k.clone())
            .collect();
        let attachment = match attachment {
            Some(a) if mine.contains(a) => a.clone(),
            Some(a) => {
                return Err(CinderError::api(
                    op,
                    409,
                    format!("Unable to detach: attachment {a} of volume {id} is not known to this caller."),
                ))
            }
            None => match mine.as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(bad(
                        op,
                        format!("Invalid volume: volume {id} has no attachment to detach."),
                    ))
                }
                _ => {
                    return Err(bad(
                        op,
                        format!("Invalid volume: volume {id} has several attachments; an attachment_id is required."),
                    ))
                }
            },
        };
        let attachment = &attachment;
        self.attachments.remove(attachment);
        self.recompute_volume_status(cx, id);
        Ok(())
    }
}
