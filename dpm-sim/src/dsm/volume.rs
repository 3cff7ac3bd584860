//! Storage volumes: requests for LUNs, read, changed and accepted.

use hmc_client::{
    FulfillmentState, HmcError, StorageGroupUri, StorageVolume, StorageVolumeFilter,
    StorageVolumeSummary, StorageVolumeUri, VolumeModify, VolumePath,
};

use super::rules::{self, reason};
use super::{anchored, DsmState, GroupState, VolumeState};

impl VolumeState {
    /// A `modify` volume operation (already validated). A size change of a
    /// volume matched to a LUN re-evaluates the match.
    pub(super) fn modify(&mut self, m: &VolumeModify) {
        if let Some(n) = &m.name {
            self.name = n.clone();
        }
        if let Some(d) = &m.description {
            self.description = d.clone();
        }
        if let Some(u) = &m.usage {
            self.usage = u.clone();
        }
        if let Some(size) = m.size {
            self.size = size;
            let matched = matches!(
                self.state,
                FulfillmentState::Complete | FulfillmentState::PendingWithMismatches
            );
            if let (true, Some(lun)) = (matched, &self.lun) {
                self.state = rules::matched_state(size, lun.size_gib);
            }
        }
    }

    pub(super) fn uuid(&self) -> Option<String> {
        self.lun.as_ref().map(|l| rules::naa_uuid(&l.cinder))
    }
}

impl GroupState {
    /// A volume's `paths`, derived at read time: for every VSR of every
    /// attached partition whose WWPN saw the LUN at the last discovery.
    pub(super) fn volume_paths(&self, v: &VolumeState) -> Vec<VolumePath> {
        let Some(lun) = &v.lun else {
            return Vec::new();
        };
        let mut out: Vec<VolumePath> = self
            .vsrs
            .iter()
            .filter_map(|vsr| Some((vsr, self.vsr_wwpn(vsr)?.wwpn)))
            .flat_map(|(vsr, wwpn)| {
                lun.seen
                    .iter()
                    .filter(move |(i, _, _)| *i == wwpn)
                    .map(move |(_, t, l)| VolumePath {
                        partition_uri: vsr.partition.clone(),
                        device_number: vsr.device_number,
                        target_world_wide_port_name: *t,
                        logical_unit_number: *l,
                    })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn volume_view(&self, v: &VolumeState) -> StorageVolume {
        StorageVolume {
            element_id: v.element_id.clone(),
            element_uri: self.volume_uri(v),
            parent: self.uri(),
            class: "storage-volume".into(),
            name: v.name.clone(),
            description: v.description.clone(),
            size: v.size,
            active_size: v.active_size,
            usage: v.usage.clone(),
            fulfillment_state: v.state.clone(),
            uuid: v.uuid(),
            paths: self.volume_paths(v),
        }
    }

    pub(super) fn volume_by_uri(&self, uri: &StorageVolumeUri) -> Option<&VolumeState> {
        (uri.parent() == self.uri())
            .then(|| {
                self.volumes
                    .iter()
                    .find(|v| v.element_id == uri.element_id())
            })
            .flatten()
    }
}

impl DsmState {
    /// The group and volume a volume URI names.
    pub(crate) fn volume(&self, uri: &StorageVolumeUri) -> Option<(&GroupState, &VolumeState)> {
        let g = self.group(uri.parent().object_id())?;
        Some((g, g.volume_by_uri(uri)?))
    }

    /// `GET /api/storage-groups/{id}/storage-volumes`.
    pub(crate) fn list_volumes(
        &self,
        uri: &StorageGroupUri,
        filter: &StorageVolumeFilter,
    ) -> Result<Vec<StorageVolumeSummary>, HmcError> {
        let at = format!("{uri}/storage-volumes");
        let g = self.group_at("GET", &at, uri)?;
        let name_re = filter
            .name
            .as_deref()
            .map(|p| anchored("GET", &at, p))
            .transpose()?;
        Ok(g.volumes
            .iter()
            .filter(|v| name_re.as_ref().is_none_or(|re| re.is_match(&v.name)))
            .filter(|v| filter.usage.as_ref().is_none_or(|u| *u == v.usage))
            .filter(|v| {
                filter
                    .fulfillment_state
                    .as_ref()
                    .is_none_or(|s| *s == v.state)
            })
            .filter(|v| filter.minimum_size.is_none_or(|m| v.size >= m))
            .filter(|v| filter.maximum_size.is_none_or(|m| v.size <= m))
            .map(|v| StorageVolumeSummary {
                element_uri: g.volume_uri(v),
                name: v.name.clone(),
                fulfillment_state: v.state.clone(),
                size: v.size,
                usage: v.usage.clone(),
            })
            .collect())
    }

    /// `GET /api/storage-groups/{sg}/storage-volumes/{sv}`.
    pub(crate) fn get_volume(&self, uri: &StorageVolumeUri) -> Result<StorageVolume, HmcError> {
        let (g, v) = self.volume(uri).ok_or_else(|| {
            HmcError::api(
                "GET",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No storage volume {uri}."),
            )
        })?;
        Ok(g.volume_view(v))
    }

    /// `POST .../operations/accept-mismatched-storage-volumes`.
    pub(crate) fn accept_mismatched(
        &mut self,
        uri: &StorageGroupUri,
        volumes: &[StorageVolumeUri],
    ) -> Result<(), HmcError> {
        let at = format!("{uri}/operations/accept-mismatched-storage-volumes");
        let g = self.group_at("POST", &at, uri)?;
        for sv in volumes {
            let v = g.volume_by_uri(sv).ok_or_else(|| {
                HmcError::api(
                    "POST",
                    at.clone(),
                    404,
                    reason::REFERENCED_NOT_FOUND,
                    format!("No storage volume {sv} in storage group {}.", g.name),
                )
            })?;
            if !matches!(
                v.state,
                FulfillmentState::PendingWithMismatches | FulfillmentState::Overprovisioned
            ) {
                return Err(HmcError::api(
                    "POST",
                    at.clone(),
                    409,
                    reason::WRONG_STATE,
                    format!(
                        "Storage volume {sv} is {}, not pending-with-mismatches or overprovisioned.",
                        v.state
                    ),
                ));
            }
        }
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.object_id == uri.object_id())
        {
            for v in &mut g.volumes {
                let named = volumes.iter().any(|sv| sv.element_id() == v.element_id);
                if named {
                    v.state = FulfillmentState::Complete;
                    if let Some(a) = v.active_size {
                        v.size = a;
                    }
                }
            }
        }
        Ok(())
    }
}
