//! Virtual storage resources: attach and detach of a group, and reads.

use fc_types::DeviceNumber;
use hmc_client::{
    HmcError, PartitionStatus, PartitionUri, StorageGroupType, StorageGroupUri, Vsr, VsrSummary,
    VsrUri, WwpnInfo,
};

use super::group::wwpn_status;
use super::rules::{self, reason};
use super::{Alloc, DsmState, Env, IdKind, VsrState};

impl DsmState {
    /// `POST /api/partitions/{id}/operations/attach-storage-group`.
    pub(crate) fn attach(
        &mut self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> Result<(), HmcError> {
        let at = format!("{partition}/operations/attach-storage-group");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", at.clone(), status, reason, msg);
        let p = env
            .partition(partition)
            .ok_or_else(|| bad(404, reason::NOT_FOUND, format!("No partition {partition}.")))?;
        let g = self.group(group.object_id()).ok_or_else(|| {
            bad(
                404,
                reason::REFERENCED_NOT_FOUND,
                format!("No storage group {group}."),
            )
        })?;
        let wrong = |msg: String| bad(409, reason::WRONG_STATE, msg);
        if g.cpc != env.cpc().uri {
            return Err(wrong(format!(
                "Storage group {} belongs to another CPC.",
                g.name
            )));
        }
        if g.group_type != StorageGroupType::Fcp {
            return Err(wrong(format!(
                "Storage group {} is of type {}, not fcp.",
                g.name, g.group_type
            )));
        }
        if g.is_attached_to(partition) {
            return Err(wrong(format!(
                "Storage group {} is already attached to partition {}.",
                g.name, p.name
            )));
        }
        if g.attached.len() >= g.max_partitions as usize {
            return Err(wrong(format!(
                "Storage group {} is attached to its maximum of {} partition(s).",
                g.name, g.max_partitions
            )));
        }
        if matches!(
            p.status,
            PartitionStatus::Starting | PartitionStatus::Stopping
        ) {
            return Err(wrong(format!("Partition {} is {}.", p.name, p.status)));
        }
        let slot = (0..g.max_partitions as usize)
            .find(|s| g.attached.iter().all(|(_, used)| used != s))
            .ok_or_else(|| wrong(format!("Storage group {} has no free slot.", g.name)))?;
        let mut used = p.device_numbers.clone();
        used.extend(self.vsr_device_numbers(partition));
        let c = g.connectivity as usize;
        let numbers = rules::free_device_numbers(&used, c)
            .ok_or_else(|| wrong(format!("Partition {} has no free device numbers.", p.name)))?;
        let gname = g.name.clone();
        // Accepted.
        let vsrs: Vec<VsrState> = numbers
            .into_iter()
            .enumerate()
            .map(|(k, device_number)| VsrState {
                element_id: alloc.object_id(IdKind::Vsr),
                name: rules::vsr_name(&gname, k),
                description: String::new(),
                partition: partition.clone(),
                device_number,
                wwpn_index: slot * c + k,
            })
            .collect();
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.object_id == group.object_id())
        {
            g.attached.push((partition.clone(), slot));
            g.vsrs.extend(vsrs);
        }
        Ok(())
    }

    /// `POST /api/partitions/{id}/operations/detach-storage-group`.
    pub(crate) fn detach(
        &mut self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
        env: &dyn Env,
    ) -> Result<(), HmcError> {
        let at = format!("{partition}/operations/detach-storage-group");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", at.clone(), status, reason, msg);
        let p = env
            .partition(partition)
            .ok_or_else(|| bad(404, reason::NOT_FOUND, format!("No partition {partition}.")))?;
        let g = self.group(group.object_id()).ok_or_else(|| {
            bad(
                404,
                reason::REFERENCED_NOT_FOUND,
                format!("No storage group {group}."),
            )
        })?;
        let wrong = |msg: String| bad(409, reason::WRONG_STATE, msg);
        if !g.is_attached_to(partition) {
            return Err(wrong(format!(
                "Storage group {} is not attached to partition {}.",
                g.name, p.name
            )));
        }
        // reservation-error holds no resources: as stopped.
        if !matches!(
            p.status,
            PartitionStatus::Stopped | PartitionStatus::ReservationError
        ) {
            return Err(wrong(format!(
                "Partition {} is {}; a storage group is detached only from a stopped partition.",
                p.name, p.status
            )));
        }
        if p.boot_storage_volume
            .as_ref()
            .is_some_and(|v| v.parent() == *group)
        {
            return Err(wrong(format!(
                "Partition {} boots from a volume of storage group {}.",
                p.name, g.name
            )));
        }
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.object_id == group.object_id())
        {
            g.attached.retain(|(a, _)| a != partition);
            g.vsrs.retain(|v| v.partition != *partition);
        }
        Ok(())
    }

    /// `GET /api/storage-groups/{id}/virtual-storage-resources`.
    pub(crate) fn list_vsrs(
        &self,
        group: &StorageGroupUri,
        partition: Option<&PartitionUri>,
        device_number: Option<DeviceNumber>,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        let at = format!("{group}/virtual-storage-resources");
        let g = self.group_at("GET", &at, group)?;
        Ok(g.vsrs
            .iter()
            .filter(|v| partition.is_none_or(|p| *p == v.partition))
            .filter(|v| device_number.is_none_or(|d| d == v.device_number))
            .map(|v| VsrSummary {
                element_uri: g.vsr_uri(v),
                name: v.name.clone(),
                device_number: v.device_number,
                partition_uri: v.partition.clone(),
                adapter_port_uri: g.vsr_wwpn(v).and_then(|w| w.port.clone()),
            })
            .collect())
    }

    /// The VSR list with every filter the HMC takes: `name` (a regular
    /// expression), `partition-uri`, `device-number`, `adapter-port-uri`.
    pub(crate) fn list_vsrs_filtered(
        &self,
        group: &StorageGroupUri,
        filter: &hmc_client::VsrFilter,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        let at = format!("{group}/virtual-storage-resources");
        let name_re = filter
            .name
            .as_deref()
            .map(|p| super::anchored("GET", &at, p))
            .transpose()?;
        let mut list = self.list_vsrs(group, filter.partition.as_ref(), filter.device_number)?;
        list.retain(|v| name_re.as_ref().is_none_or(|re| re.is_match(&v.name)));
        if let Some(port) = &filter.adapter_port {
            list.retain(|v| v.adapter_port_uri.as_ref() == Some(port));
        }
        Ok(list)
    }

    /// `GET /api/storage-groups/{sg}/virtual-storage-resources/{vsr}`.
    pub(crate) fn get_vsr(&self, uri: &VsrUri) -> Result<Vsr, HmcError> {
        let not_found = || {
            HmcError::api(
                "GET",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No virtual storage resource {uri}."),
            )
        };
        let g = self.group(uri.parent().object_id()).ok_or_else(not_found)?;
        let v = g
            .vsrs
            .iter()
            .find(|v| v.element_id == uri.element_id())
            .ok_or_else(not_found)?;
        let w = g.vsr_wwpn(v).ok_or_else(not_found)?;
        Ok(Vsr {
            element_id: v.element_id.clone(),
            element_uri: uri.clone(),
            parent: g.uri(),
            class: "virtual-storage-resource".into(),
            name: v.name.clone(),
            description: v.description.clone(),
            partition_uri: v.partition.clone(),
            device_number: v.device_number,
            adapter_port_uri: w.port.clone(),
            world_wide_port_name: w.wwpn,
            world_wide_port_name_info: WwpnInfo {
                status: wwpn_status(w),
                world_wide_port_name: w.wwpn,
            },
        })
    }
}
