//! Volumes: create (from an image: `creating` → `downloading` →
//! `available`), and delete, with the transitions the world schedules.

use std::collections::BTreeMap;

use cinder_client::{CinderError, VolumeCreate, VolumeId, VolumeStatus};

use super::{
    bad, CinderState, Cx, Later, VolumeDetail, VolumeState, CINDER_NODE, DEFAULT_VOLUME_TYPE,
    SERVICE_UUID,
};

impl CinderState {
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
    pub(super) fn finish_volume_create(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
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
    pub(super) fn start_download(&mut self, cx: &mut Cx<'_>, id: &VolumeId) -> Option<Later> {
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
    pub(super) fn finish_download(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
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

    pub(super) fn finish_volume_delete(&mut self, cx: &mut Cx<'_>, id: &VolumeId) {
        cx.backend.unmap_everywhere(id);
        self.volumes.remove(id);
    }

    // ----- attachments API ----------------------------------------------------
}
