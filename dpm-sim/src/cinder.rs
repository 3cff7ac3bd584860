//! The Cinder side of the world: volumes and attachments with Cinder's
//! status machines and refusals, on top of the storage backend.
//!
//! Attachments API: create (`reserved`) → update with a connector
//! (`attaching`; zoning and LUN masking) → complete (`attached`, volume
//! `in-use`) → delete (unmask; volume status recomputed). Legacy actions:
//! reserve, initialize_connection, attach / begin_detaching,
//! terminate_connection, detach, with unreserve and roll_detaching.

use std::collections::BTreeMap;

use cinder_client::{
    AttachStatus, Attachment, AttachmentFilter, AttachmentId, CinderError, ConnectionInfo,
    Connector, ImageId, InstanceId, Volume, VolumeAttachment, VolumeCreate, VolumeId, VolumeStatus,
};

use crate::storage::StorageEvent;
use crate::world::{Action, World};

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

/// The volume types the simulated backend offers; none is multiattach.
const DEFAULT_VOLUME_TYPE: &str = "svc-fc";

impl World {
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

    fn set_volume_status(&mut self, id: &VolumeId, status: VolumeStatus) {
        let stamp = self.now_stamp();
        if let Some(v) = self.volumes.get_mut(id) {
            v.status = status;
            v.updated_at = Some(stamp);
        }
    }

    /// The status a volume has from its attachments: `in-use` when one is
    /// attached, `attaching`/`reserved` while one is on its way, else
    /// `available`.
    fn recompute_volume_status(&mut self, id: &VolumeId) {
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
        self.set_volume_status(id, status);
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

    pub(crate) fn create_volume(
        &mut self,
        project: &str,
        req: &VolumeCreate,
    ) -> Result<Volume, CinderError> {
        let op = "create volume";
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
        let id = VolumeId::from_u128(self.new_uuid(0x1));
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
            created_at: self.now_stamp(),
            updated_at: None,
            metadata: req.metadata.clone(),
        };
        self.volumes.insert(id.clone(), v);
        if image_name.is_some() {
            // Image deployment, done by Cinder alone: mask the new volume to
            // the Cinder node's own WWPNs; the copy and the unmasking finish
            // with the creation.
            let node = self.storage.node_wwpns();
            let node_fabric = |w| self.storage.node_port_fabric(w);
            let fabrics: Vec<(fc_types::Wwpn, Option<usize>)> =
                node.iter().map(|w| (*w, node_fabric(*w))).collect();
            let result = self.storage.connect(&id, &node, "cinder-node", |w| {
                fabrics.iter().find(|(x, _)| *x == w).and_then(|(_, f)| *f)
            });
            if let Err(refusal) = result {
                self.set_volume_status(&id, VolumeStatus::Error);
                tracing::warn!(volume = %id, reason = %refusal.message(), "image deployment could not map the volume");
            }
        }
        let after = self.timings.volume_create();
        self.schedule(after, Action::VolumeCreated { volume: id.clone() });
        Ok(self.volume_view(&self.volumes[&id]))
    }

    pub(crate) fn finish_volume_create(&mut self, id: &VolumeId) {
        let Some(v) = self.volumes.get(id) else {
            return;
        };
        if v.status != VolumeStatus::Creating {
            return;
        }
        if let Some(image) = v.image.clone() {
            let name = self.images.get(&image).cloned().unwrap_or_default();
            self.storage.events.push(StorageEvent::ImageWritten {
                volume: id.clone(),
                image: name,
            });
            let node = self.storage.node_wwpns();
            self.storage.disconnect(id, &node);
            if let Some(v) = self.volumes.get_mut(id) {
                v.bootable = true;
            }
        }
        self.set_volume_status(id, VolumeStatus::Available);
    }

    pub(crate) fn delete_volume(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let op = "delete volume";
        let v = self.volume_in(project, id, op)?;
        if self.attachments.values().any(|a| &a.volume == id) {
            return Err(bad(op, format!("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer, but the volume {id} has attachments.")));
        }
        if !v.status.is_deletable() {
            return Err(bad(op, format!("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing, but current status is: {}.", v.status)));
        }
        self.set_volume_status(id, VolumeStatus::Deleting);
        let after = self.timings.volume_delete();
        self.schedule(after, Action::VolumeDeleted { volume: id.clone() });
        Ok(())
    }

    pub(crate) fn finish_volume_delete(&mut self, id: &VolumeId) {
        self.storage.unmap_everywhere(id);
        self.volumes.remove(id);
    }

    // ----- attachments API ----------------------------------------------------

    pub(crate) fn create_attachment(
        &mut self,
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
        let id = AttachmentId::from_u128(self.new_uuid(0x2));
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
        self.recompute_volume_status(volume);
        match connector {
            None => Ok(Self::attachment_view(&self.attachments[&id])),
            Some(c) => self.update_attachment(project, &id, c).inspect_err(|_| {
                // Cinder creates the attachment and its connection in one
                // call: a refused connector leaves nothing behind.
                self.attachments.remove(&id);
                self.recompute_volume_status(volume);
            }),
        }
    }

    /// Zoning and LUN masking for a connector; no state changes on refusal.
    fn connect_for(
        &mut self,
        op: &str,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        let fabrics: Vec<(fc_types::Wwpn, Option<usize>)> = connector
            .wwpns
            .iter()
            .map(|w| (*w, self.initiator_fabric(*w)))
            .collect();
        let data = self
            .storage
            .connect(volume, &connector.wwpns, &connector.host, |w| {
                fabrics.iter().find(|(x, _)| *x == w).and_then(|(_, f)| *f)
            })
            .map_err(|r| {
                CinderError::api(
                    op,
                    if matches!(r, crate::storage::StorageRefusal::NoInitiators) {
                        400
                    } else {
                        500
                    },
                    r.message(),
                )
            })?;
        Ok(ConnectionInfo::from_fc(&data))
    }

    pub(crate) fn update_attachment(
        &mut self,
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
        let info = self.connect_for(op, &volume, connector)?;
        let stamp = self.now_stamp();
        if let Some(a) = self.attachments.get_mut(id) {
            a.status = AttachStatus::Attaching;
            a.connector = Some(connector.clone());
            a.connection = Some(info);
            a.host_name = Some(connector.host.clone());
            a.attached_at = Some(stamp);
        }
        self.recompute_volume_status(&volume);
        Ok(Self::attachment_view(&self.attachments[id]))
    }

    pub(crate) fn complete_attachment(
        &mut self,
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
        self.recompute_volume_status(&volume);
        Ok(())
    }

    pub(crate) fn delete_attachment(
        &mut self,
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
            self.storage.disconnect(&a.volume, &c.wwpns);
        }
        self.recompute_volume_status(&a.volume);
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

    pub(crate) fn reserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        let op = "os-reserve";
        let v = self.volume_in(project, id, op)?;
        if v.status != VolumeStatus::Available {
            return Err(bad(op, format!("Invalid volume: Volume status must be available to reserve, but the status is {}.", v.status)));
        }
        self.set_volume_status(id, VolumeStatus::Attaching);
        Ok(())
    }

    pub(crate) fn unreserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        let op = "os-unreserve";
        let v = self.volume_in(project, id, op)?;
        if v.status == VolumeStatus::Attaching {
            self.recompute_volume_status(id);
        }
        Ok(())
    }

    pub(crate) fn initialize_connection(
        &mut self,
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
        self.connect_for(op, id, connector)
    }

    pub(crate) fn attach(
        &mut self,
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
        let aid = AttachmentId::from_u128(self.new_uuid(0x2));
        let stamp = self.now_stamp();
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
        self.set_volume_status(id, VolumeStatus::InUse);
        Ok(())
    }

    pub(crate) fn begin_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let op = "os-begin_detaching";
        let v = self.volume_in(project, id, op)?;
        if v.status != VolumeStatus::InUse {
            return Err(bad(op, format!("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach, but the status is {}.", v.status)));
        }
        self.set_volume_status(id, VolumeStatus::Detaching);
        Ok(())
    }

    pub(crate) fn roll_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let v = self.volume_mut(project, id, "os-roll_detaching")?;
        if v.status == VolumeStatus::Detaching {
            self.recompute_volume_status(id);
        }
        Ok(())
    }

    pub(crate) fn terminate_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.volume_in(project, id, "os-terminate_connection")?;
        self.storage.disconnect(id, &connector.wwpns);
        Ok(())
    }

    pub(crate) fn detach(
        &mut self,
        project: &str,
        id: &VolumeId,
        attachment: &AttachmentId,
    ) -> Result<(), CinderError> {
        let op = "os-detach";
        let v = self.volume_in(project, id, op)?;
        if !matches!(v.status, VolumeStatus::Detaching | VolumeStatus::InUse) {
            return Err(bad(op, format!("Invalid volume: Volume status must be in-use or detaching to detach, but the status is {}.", v.status)));
        }
        match self.attachments.get(attachment) {
            Some(a) if &a.volume == id => {}
            _ => {
                return Err(CinderError::api(
                    op,
                    404,
                    format!("VolumeAttachment {attachment} could not be found."),
                ))
            }
        }
        self.attachments.remove(attachment);
        self.recompute_volume_status(id);
        Ok(())
    }
}
