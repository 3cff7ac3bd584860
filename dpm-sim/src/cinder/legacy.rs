//! The legacy volume actions (`os-reserve`, `os-initialize_connection`,
//! `os-attach`, `os-begin_detaching`, `os-terminate_connection`,
//! `os-detach`, with `os-unreserve` and `os-roll_detaching`).

use cinder_client::{
    AttachStatus, AttachmentId, CinderError, ConnectionInfo, Connector, InstanceId, VolumeId,
    VolumeStatus,
};

use super::{bad, AttachmentState, CinderState, Cx, MODE_RW};

impl CinderState {
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
