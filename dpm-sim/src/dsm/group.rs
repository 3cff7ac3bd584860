//! Storage groups: create, read, modify and delete (candidate ports are in
//! `candidates.rs`).

use std::collections::BTreeSet;

use hmc_client::{
    FulfillmentState, GroupWwpn, HmcError, PartitionStatus, PartitionSummary, StorageGroup,
    StorageGroupCreate, StorageGroupCreated, StorageGroupFilter, StorageGroupModify,
    StorageGroupSummary, StorageGroupType, StorageVolumeUri, VolumeCreate, VolumeRequest,
    VolumeUsage, WwpnStatus,
};

use super::rules::{self, reason};
use super::{
    anchored, Alloc, DsmState, Env, GroupSettings, GroupState, IdKind, VolumeState, WwpnState,
};
use hmc_client::StorageGroupUri;

const GROUPS: &str = "/api/storage-groups";

impl DsmState {
    /// The group a URI names (404.1).
    pub(crate) fn group_at(
        &self,
        method: &'static str,
        at: &str,
        uri: &StorageGroupUri,
    ) -> Result<&GroupState, HmcError> {
        self.group(uri.object_id()).ok_or_else(|| {
            HmcError::api(
                method,
                at,
                404,
                reason::NOT_FOUND,
                format!("No storage group {uri}."),
            )
        })
    }

    pub(super) fn group_mut_at(
        &mut self,
        method: &'static str,
        at: &str,
        uri: &StorageGroupUri,
    ) -> Result<&mut GroupState, HmcError> {
        self.groups
            .iter_mut()
            .find(|g| g.object_id == uri.object_id())
            .ok_or_else(|| {
                HmcError::api(
                    method,
                    at,
                    404,
                    reason::NOT_FOUND,
                    format!("No storage group {uri}."),
                )
            })
    }

    /// `GET /api/storage-groups`.
    pub(crate) fn list_groups(
        &self,
        filter: &StorageGroupFilter,
        env: &dyn Env,
    ) -> Result<Vec<StorageGroupSummary>, HmcError> {
        if let Some(cpc) = &filter.cpc {
            let facts = env.cpc();
            if *cpc == facts.uri && !facts.storage_management {
                return Err(no_feature("GET", GROUPS, &facts.name));
            }
        }
        let name_re = filter
            .name
            .as_deref()
            .map(|p| anchored("GET", GROUPS, p))
            .transpose()?;
        Ok(self
            .groups
            .iter()
            .filter(|g| filter.cpc.as_ref().is_none_or(|c| *c == g.cpc))
            .filter(|g| name_re.as_ref().is_none_or(|re| re.is_match(&g.name)))
            .map(|g| StorageGroupSummary {
                object_uri: g.uri(),
                cpc_uri: g.cpc.clone(),
                name: g.name.clone(),
                fulfillment_state: g.fulfillment(),
                group_type: g.group_type.clone(),
            })
            .collect())
    }

    /// `GET /api/storage-groups/{id}`.
    pub(crate) fn get_group(&self, uri: &StorageGroupUri) -> Result<StorageGroup, HmcError> {
        let g = self.group_at("GET", uri.as_str(), uri)?;
        let used: BTreeSet<usize> = g.vsrs.iter().map(|v| v.wwpn_index).collect();
        Ok(StorageGroup {
            object_id: g.object_id.clone(),
            object_uri: g.uri(),
            parent: "/api/console".into(),
            class: "storage-group".into(),
            cpc_uri: g.cpc.clone(),
            name: g.name.clone(),
            description: g.description.clone(),
            group_type: g.group_type.clone(),
            shared: g.shared,
            connectivity: g.connectivity,
            max_partitions: Some(g.max_partitions),
            active_connectivity: Some(g.connectivity),
            active_max_partitions: Some(g.max_partitions),
            fulfillment_state: g.fulfillment(),
            storage_volume_uris: g.volumes.iter().map(|v| g.volume_uri(v)).collect(),
            virtual_storage_resource_uris: g.vsrs.iter().map(|v| g.vsr_uri(v)).collect(),
            candidate_adapter_port_uris: g.candidates.clone(),
            unassigned_world_wide_port_names: g
                .wwpns
                .iter()
                .enumerate()
                .filter(|(i, _)| !used.contains(i))
                .map(|(_, w)| GroupWwpn {
                    world_wide_port_name: w.wwpn,
                    status: wwpn_status(w),
                })
                .collect(),
            email_to_addresses: g.email_to_addresses.clone(),
        })
    }

    /// `POST /api/storage-groups`.
    pub(crate) fn create_group_with(
        &mut self,
        req: &StorageGroupCreate,
        settings: &GroupSettings,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> Result<StorageGroupCreated, HmcError> {
        let bad = |status, reason, msg: String| HmcError::api("POST", GROUPS, status, reason, msg);
        let cpc = env.cpc();
        if req.cpc_uri != cpc.uri {
            return Err(bad(
                404,
                reason::REFERENCED_NOT_FOUND,
                format!("cpc-uri {} does not name a CPC.", req.cpc_uri),
            ));
        }
        if !cpc.storage_management {
            return Err(no_feature("POST", GROUPS, &cpc.name));
        }
        self.check_name("POST", GROUPS, &req.name, None)?;
        match req.group_type {
            StorageGroupType::Fcp | StorageGroupType::Fc | StorageGroupType::Nvme => {}
            ref t => {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    format!("type {:?} is not fcp, fc or nvme.", t.as_str()),
                ))
            }
        }
        let connectivity = req.connectivity.unwrap_or(rules::DEFAULT_CONNECTIVITY);
        // STORAGE-GROUPS.md: shared by default, but not with one partition;
        // an unshared group is for one partition.
        let max_partitions = req.max_partitions.unwrap_or(if req.shared == Some(false) {
            1
        } else {
            rules::DEFAULT_MAX_PARTITIONS
        });
        let shared = req.shared.unwrap_or(max_partitions > 1);
        check_shape("POST", GROUPS, shared, connectivity, max_partitions)?;
        let mut creates = Vec::new();
        for v in &req.storage_volumes {
            match v {
                VolumeRequest::Create(c) => {
                    check_volume("POST", GROUPS, Some(c.size), c.usage.as_ref())?;
                    creates.push(c);
                }
                _ => {
                    return Err(bad(
                        400,
                        reason::INVALID_VALUE,
                        "storage-volumes of a create may only hold create operations.".into(),
                    ))
                }
            }
        }
        // Accepted: allocate and build.
        let object_id = alloc.object_id(IdKind::Group);
        let wwpns = new_wwpns(alloc, connectivity, max_partitions);
        let volumes: Vec<VolumeState> = creates.iter().map(|c| new_volume(alloc, c)).collect();
        let g = GroupState {
            object_id,
            cpc: cpc.uri,
            name: req.name.clone(),
            description: req.description.clone().unwrap_or_default(),
            group_type: req.group_type.clone(),
            shared,
            connectivity,
            max_partitions,
            direct_connection_count: settings
                .direct_connection_count
                .unwrap_or(rules::DEFAULT_DIRECT_CONNECTION_COUNT),
            email_to_addresses: req.email_to_addresses.clone(),
            wwpns,
            candidates: Vec::new(),
            volumes,
            vsrs: Vec::new(),
            attached: Vec::new(),
            discovery_job: None,
            forced_pending: true,
        };
        let created = StorageGroupCreated {
            object_uri: g.uri(),
            element_uris: g.volumes.iter().map(|v| g.volume_uri(v)).collect(),
        };
        self.groups.push(g);
        Ok(created)
    }

    fn check_name(
        &self,
        method: &'static str,
        at: &str,
        name: &str,
        this: Option<&str>,
    ) -> Result<(), HmcError> {
        let len = name.chars().count();
        if len == 0 || len > rules::MAX_NAME_LEN {
            return Err(HmcError::api(
                method,
                at,
                400,
                reason::INVALID_VALUE,
                "name must be 1 to 64 characters.",
            ));
        }
        if self
            .groups
            .iter()
            .any(|g| g.name == name && Some(g.object_id.as_str()) != this)
        {
            return Err(HmcError::api(
                method,
                at,
                409,
                reason::DUPLICATE_NAME,
                format!("A storage group named {name:?} already exists."),
            ));
        }
        Ok(())
    }

    /// `POST /api/storage-groups/{id}/operations/modify`.
    pub(crate) fn modify_group_with(
        &mut self,
        uri: &StorageGroupUri,
        req: &StorageGroupModify,
        settings: &GroupSettings,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        let at = format!("{uri}/operations/modify");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", at.clone(), status, reason, msg);
        let g = self.group_at("POST", &at, uri)?;
        if let Some(name) = &req.name {
            self.check_name("POST", &at, name, Some(&g.object_id))?;
        }
        let connectivity = req.connectivity.unwrap_or(g.connectivity);
        let max_partitions = req.max_partitions.unwrap_or(g.max_partitions);
        let shared = req.shared.unwrap_or(g.shared);
        let reshape = connectivity != g.connectivity || max_partitions != g.max_partitions;
        if reshape || shared != g.shared {
            check_shape("POST", &at, shared, connectivity, max_partitions)?;
        }
        if reshape && !g.attached.is_empty() {
            return Err(bad(
                409,
                reason::WRONG_STATE,
                format!(
                    "Storage group {} is attached to a partition; connectivity and max-partitions cannot change.",
                    g.name
                ),
            ));
        }
        let partitions = env.partitions();
        let mut named = BTreeSet::new();
        for v in &req.storage_volumes {
            let target = match v {
                VolumeRequest::Create(c) => {
                    check_volume("POST", &at, Some(c.size), c.usage.as_ref())?;
                    continue;
                }
                VolumeRequest::Modify(m) => {
                    check_volume("POST", &at, m.size, m.usage.as_ref())?;
                    &m.element_uri
                }
                VolumeRequest::Delete { element_uri } => element_uri,
            };
            if !named.insert(target.clone()) {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    format!("storage volume {target} is named twice."),
                ));
            }
            let exists = target.parent() == *uri
                && g.volumes
                    .iter()
                    .any(|v| v.element_id == target.element_id());
            if !exists {
                return Err(bad(
                    404,
                    reason::REFERENCED_NOT_FOUND,
                    format!("No storage volume {target} in storage group {}.", g.name),
                ));
            }
            if let VolumeRequest::Delete { .. } = v {
                let booting = partitions.iter().find(|p| {
                    p.boot_storage_volume.as_ref() == Some(target)
                        && !matches!(
                            p.status,
                            PartitionStatus::Stopped | PartitionStatus::ReservationError
                        )
                });
                if let Some(p) = booting {
                    return Err(bad(
                        409,
                        reason::WRONG_STATE,
                        format!(
                            "Storage volume {target} is the boot volume of partition {}, which is {}.",
                            p.name, p.status
                        ),
                    ));
                }
            }
        }
        // Accepted: apply in request order.
        let new_wwpns = reshape.then(|| new_wwpns(alloc, connectivity, max_partitions));
        let mut created_volumes = Vec::new();
        for v in &req.storage_volumes {
            if let VolumeRequest::Create(c) = v {
                created_volumes.push(new_volume(alloc, c));
            }
        }
        let g = self.group_mut_at("POST", &at, uri)?;
        if let Some(n) = &req.name {
            g.name = n.clone();
        }
        if let Some(d) = &req.description {
            g.description = d.clone();
        }
        g.shared = shared;
        if let Some(n) = settings.direct_connection_count {
            g.direct_connection_count = n;
        }
        if let Some(e) = &req.email_to_addresses {
            g.email_to_addresses = Some(e.clone());
        }
        if let Some(w) = new_wwpns {
            g.connectivity = connectivity;
            g.max_partitions = max_partitions;
            g.wwpns = w;
            rules::rebind(&mut g.wwpns, g.connectivity, &g.candidates);
            g.forced_pending = true;
        }
        let mut created = created_volumes.into_iter();
        let mut uris = Vec::new();
        for v in &req.storage_volumes {
            match v {
                VolumeRequest::Create(_) => {
                    if let Some(nv) = created.next() {
                        uris.push(g.volume_uri(&nv));
                        g.volumes.push(nv);
                    }
                }
                VolumeRequest::Modify(m) => {
                    let id = m.element_uri.element_id();
                    if let Some(vol) = g.volumes.iter_mut().find(|v| v.element_id == id) {
                        vol.modify(m);
                    }
                }
                VolumeRequest::Delete { element_uri } => {
                    let id = element_uri.element_id();
                    g.volumes.retain(|v| v.element_id != id);
                }
            }
        }
        Ok(uris)
    }

    /// `POST /api/storage-groups/{id}/operations/delete`. Returns the
    /// discovery job that was running on it, which ends with the group.
    pub(crate) fn delete_group(
        &mut self,
        uri: &StorageGroupUri,
    ) -> Result<Option<String>, HmcError> {
        let at = format!("{uri}/operations/delete");
        let g = self.group_at("POST", &at, uri)?;
        if !g.attached.is_empty() {
            return Err(HmcError::api(
                "POST",
                at,
                409,
                reason::WRONG_STATE,
                format!(
                    "Storage group {} is attached to {} partition(s).",
                    g.name,
                    g.attached.len()
                ),
            ));
        }
        let job = g.discovery_job.clone();
        self.groups.retain(|g| g.object_id != uri.object_id());
        Ok(job)
    }

    /// `GET .../operations/get-partitions`.
    pub(crate) fn group_partitions(
        &self,
        uri: &StorageGroupUri,
        env: &dyn Env,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        let at = format!("{uri}/operations/get-partitions");
        let g = self.group_at("GET", &at, uri)?;
        Ok(g.attached
            .iter()
            .filter_map(|(p, _)| env.partition(p))
            .map(|p| PartitionSummary::new(p.uri, p.name, p.status, Some(p.partition_type)))
            .collect())
    }
}

pub(super) fn wwpn_status(w: &WwpnState) -> WwpnStatus {
    if w.validated {
        WwpnStatus::Validated
    } else {
        WwpnStatus::NotValidated
    }
}

pub(super) fn no_feature(method: &'static str, at: &str, cpc: &str) -> HmcError {
    HmcError::api(
        method,
        at,
        409,
        reason::WRONG_STATE,
        format!("CPC {cpc} lacks the dpm-storage-management feature; it has no storage groups."),
    )
}

fn check_shape(
    method: &'static str,
    at: &str,
    shared: bool,
    connectivity: u32,
    max_partitions: u32,
) -> Result<(), HmcError> {
    let bad = |msg: String| HmcError::api(method, at, 400, reason::INVALID_VALUE, msg);
    if !(1..=rules::MAX_CONNECTIVITY).contains(&connectivity) {
        return Err(bad(format!(
            "connectivity {connectivity} is not 1 to {}.",
            rules::MAX_CONNECTIVITY
        )));
    }
    if !(1..=rules::MAX_MAX_PARTITIONS).contains(&max_partitions) {
        return Err(bad(format!(
            "max-partitions {max_partitions} is not 1 to {}.",
            rules::MAX_MAX_PARTITIONS
        )));
    }
    if !shared && max_partitions > 1 {
        return Err(bad(
            "a group that is not shared has max-partitions 1.".into()
        ));
    }
    Ok(())
}

fn check_volume(
    method: &'static str,
    at: &str,
    size: Option<f64>,
    usage: Option<&VolumeUsage>,
) -> Result<(), HmcError> {
    let bad = |msg: String| HmcError::api(method, at, 400, reason::INVALID_VALUE, msg);
    if let Some(size) = size.filter(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(bad(format!("size {size} is not a positive number of GiB.")));
    }
    if let Some(VolumeUsage::Other(u)) = usage {
        return Err(bad(format!("usage {u:?} is not boot or data.")));
    }
    Ok(())
}

fn new_wwpns(alloc: &mut dyn Alloc, connectivity: u32, max_partitions: u32) -> Vec<WwpnState> {
    (0..rules::wwpn_count(connectivity, max_partitions))
        .map(|_| WwpnState {
            wwpn: alloc.npiv_wwpn(),
            validated: false,
            port: None,
        })
        .collect()
}

fn new_volume(alloc: &mut dyn Alloc, c: &VolumeCreate) -> VolumeState {
    VolumeState {
        element_id: alloc.object_id(IdKind::Volume),
        name: c.name.clone().unwrap_or_default(),
        description: c.description.clone().unwrap_or_default(),
        size: c.size,
        usage: c.usage.clone().unwrap_or(VolumeUsage::Data),
        state: FulfillmentState::Pending,
        active_size: None,
        lun: None,
    }
}
