//! The attachments API (microversion 3.27 and later): create, update with
//! a connector (zoning and masking through the backend), complete, delete,
//! get and list.

use cinder_client::{
    AttachStatus, Attachment, AttachmentFilter, AttachmentId, CinderError, ConnectionInfo,
    Connector, InstanceId, VolumeId, VolumeStatus,
};

use super::{
    bad, AttachmentState, CinderState, Cx, MAX_CONNECTOR_WWPNS, MODE_RW, MODE_UNSET, NO_MOUNTPOINT,
};

impl CinderState {
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
    pub(super) fn connect_for(
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
