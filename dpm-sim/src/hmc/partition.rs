//! Partitions: list, create, read, update and delete (starting and
//! stopping them is `power.rs`).

use fc_types::{FcpLun, Wwpn};
use hmc_client::{
    BootDevice, CpcUri, HbaUri, HmcError, Partition, PartitionCreate, PartitionFilter,
    PartitionListProperty, PartitionStatus, PartitionSummary, PartitionUpdate, PartitionUri,
    StorageVolumeUri, LIST_ADDITIONAL_PROPERTIES_SINCE,
};

use super::power::resources;
use super::properties::{self, PartitionProperties, ReadOnly, Settings, SettingsUpdate};
use super::{reason, regex, status, HbaState, HmcState};
use crate::ids::{unreachable_uri, Ids};

/// What a partition has beyond [`PartitionState`]: the writable
/// properties the simulator stores without acting on them, and the
/// partition id it holds while it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PartitionExtras {
    pub settings: Settings,
    /// Assigned at start, given up at stop (`autogenerate-partition-id`).
    pub partition_id: Option<u8>,
}

#[derive(Debug)]
pub(crate) struct PartitionState {
    pub object_id: String,
    pub name: String,
    pub description: String,
    pub status: PartitionStatus,
    pub partition_type: String,
    pub ifl: u32,
    pub cp: u32,
    pub initial_memory: u64,
    pub maximum_memory: u64,
    pub processor_mode: String,
    pub hbas: Vec<HbaState>,
    pub boot_device: BootDevice,
    pub boot_storage_device: Option<HbaUri>,
    pub boot_wwpn: Option<Wwpn>,
    pub boot_lun: Option<FcpLun>,
    /// The boot volume (`storage-volume` boot, storage-management CPCs).
    pub boot_storage_volume: Option<StorageVolumeUri>,
    /// Memory is held from start until stop, as PR/SM does.
    pub memory_held: bool,
}

impl PartitionState {
    pub fn uri(&self) -> PartitionUri {
        PartitionUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }
    pub fn hba_uri(&self, hba: &HbaState) -> HbaUri {
        HbaUri::new(&self.uri(), &hba.element_id).unwrap_or_else(|_| unreachable_uri())
    }
}

impl HmcState {
    pub(crate) fn partition(
        &self,
        method: &'static str,
        uri: &PartitionUri,
    ) -> Result<&PartitionState, HmcError> {
        self.partitions.get(uri.object_id()).ok_or_else(|| {
            HmcError::api(
                method,
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No partition {uri}."),
            )
        })
    }

    pub(super) fn partition_mut(
        &mut self,
        method: &'static str,
        uri: &PartitionUri,
    ) -> Result<&mut PartitionState, HmcError> {
        self.partitions.get_mut(uri.object_id()).ok_or_else(|| {
            HmcError::api(
                method,
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No partition {uri}."),
            )
        })
    }

    pub(crate) fn list_partitions(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.list_partitions_with(cpc, filter, &[])
    }

    /// `additional-properties` on List Partitions exists from HMC API 4.1
    /// (HMC 2.16.0) on; an older HMC does not know the query parameter:
    /// 400.1.
    pub(crate) fn check_list_additional_properties(&self, uri: &str) -> Result<(), HmcError> {
        if self.api < LIST_ADDITIONAL_PROPERTIES_SINCE {
            return Err(HmcError::api(
                "GET",
                uri,
                400,
                reason::BAD_QUERY,
                format!(
                    "Query parameter \"additional-properties\" is not supported at API version {}.{}.",
                    self.api.0, self.api.1
                ),
            ));
        }
        Ok(())
    }

    /// A CPC's partitions, each entry with the `additional` properties.
    pub(crate) fn list_partitions_with(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
        additional: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        let uri = format!("{cpc}/partitions");
        self.check_cpc("GET", cpc)?;
        if !additional.is_empty() {
            self.check_list_additional_properties(&uri)?;
        }
        let name_re = filter
            .name
            .as_deref()
            .map(|p| regex("GET", &uri, p))
            .transpose()?;
        let mut listed = Vec::new();
        for p in self
            .partitions
            .values()
            .filter(|p| name_re.as_ref().is_none_or(|re| re.is_match(&p.name)))
            .filter(|p| filter.status.as_ref().is_none_or(|s| *s == p.status))
        {
            let mut e = PartitionSummary::new(
                p.uri(),
                p.name.clone(),
                p.status.clone(),
                Some(p.partition_type.clone()),
            );
            for a in additional {
                match a {
                    PartitionListProperty::IflProcessors => e.ifl_processors = Some(p.ifl),
                    PartitionListProperty::CpProcessors => e.cp_processors = Some(p.cp),
                    PartitionListProperty::InitialMemory => {
                        e.initial_memory = Some(p.initial_memory)
                    }
                    PartitionListProperty::MaximumMemory => {
                        e.maximum_memory = Some(p.maximum_memory)
                    }
                    PartitionListProperty::Description => {
                        e.description = Some(p.description.clone())
                    }
                    // A property hmc-client learned after this simulator.
                    other => {
                        return Err(HmcError::api(
                            "GET",
                            &uri,
                            400,
                            reason::BAD_QUERY,
                            format!(
                                "additional-properties {:?} is not simulated by dpm-sim.",
                                other.as_str()
                            ),
                        ))
                    }
                }
            }
            listed.push(e);
        }
        Ok(listed)
    }

    pub(crate) fn create_partition(
        &mut self,
        ids: &mut Ids,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        self.create_partition_with(ids, cpc, props, &SettingsUpdate::default())
    }

    /// Create Partition with the stored settings the body names too
    /// (weights, capping, short name, ...).
    pub(crate) fn create_partition_with(
        &mut self,
        ids: &mut Ids,
        cpc: &CpcUri,
        props: &PartitionCreate,
        settings: &SettingsUpdate,
    ) -> Result<PartitionUri, HmcError> {
        let uri = format!("{cpc}/partitions");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", uri.clone(), status, reason, msg);
        self.check_cpc("POST", cpc)?;
        if !self.cpc.dpm {
            return Err(bad(
                409,
                reason::NOT_DPM,
                format!("CPC {} is not in DPM mode.", self.cpc.name),
            ));
        }
        if props.name.is_empty() || props.name.len() > 64 {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                "name must be 1 to 64 characters.".into(),
            ));
        }
        if self.partitions.values().any(|p| p.name == props.name) {
            return Err(bad(
                409,
                reason::DUPLICATE_NAME,
                format!("A partition named {:?} already exists.", props.name),
            ));
        }
        // Absent or zero, as zhmcclient's mock reads it.
        if props.ifl_processors.unwrap_or(0) == 0 && props.cp_processors.unwrap_or(0) == 0 {
            return Err(bad(
                400,
                reason::NO_PROCESSORS,
                "At least one of ifl-processors or cp-processors is required.".into(),
            ));
        }
        let ifl = props.ifl_processors.unwrap_or(0);
        let cp = props.cp_processors.unwrap_or(0);
        self.check_resources(ifl, cp, props.initial_memory, props.maximum_memory)
            .map_err(|msg| bad(400, reason::INVALID_VALUE, msg))?;
        if self.partitions.len() >= self.cpc.maximum_partitions as usize {
            return Err(bad(
                409,
                reason::WRONG_STATE,
                "The CPC has its maximum number of partitions.".into(),
            ));
        }
        let short_name = match &settings.short_name {
            Some(s) => s.clone(),
            None => properties::derive_short_name(&props.name, |s| self.short_name_taken(s, None)),
        };
        let settings = Settings::new(short_name)
            .with(settings)
            .map_err(|msg| bad(400, reason::INVALID_VALUE, msg))?;
        if self.short_name_taken(&settings.short_name, None) {
            return Err(bad(
                409,
                reason::DUPLICATE_NAME,
                format!(
                    "A partition with short-name {:?} already exists.",
                    settings.short_name
                ),
            ));
        }
        let object_id = ids.new_object_id(0xf);
        self.extras.insert(
            object_id.clone(),
            PartitionExtras {
                settings,
                partition_id: None,
            },
        );
        let p = PartitionState {
            object_id: object_id.clone(),
            name: props.name.clone(),
            description: props.description.clone().unwrap_or_default(),
            status: PartitionStatus::Stopped,
            partition_type: props
                .partition_type
                .clone()
                .unwrap_or_else(|| "linux".into()),
            ifl,
            cp,
            initial_memory: props.initial_memory,
            maximum_memory: props.maximum_memory,
            processor_mode: props
                .processor_mode
                .clone()
                .unwrap_or_else(|| "shared".into()),
            hbas: Vec::new(),
            boot_device: BootDevice::None,
            boot_storage_device: None,
            boot_wwpn: None,
            boot_lun: None,
            boot_storage_volume: None,
            memory_held: false,
        };
        let uri = p.uri();
        self.partitions.insert(object_id, p);
        Ok(uri)
    }

    pub(crate) fn get_partition(&self, uri: &PartitionUri) -> Result<Partition, HmcError> {
        let p = self.partition("GET", uri)?;
        Ok(Partition {
            object_id: p.object_id.clone(),
            object_uri: p.uri(),
            parent: self.cpc.uri(),
            class: "partition".into(),
            name: p.name.clone(),
            description: p.description.clone(),
            status: p.status.clone(),
            partition_type: Some(p.partition_type.clone()),
            ifl_processors: p.ifl,
            cp_processors: p.cp,
            initial_memory: p.initial_memory,
            maximum_memory: p.maximum_memory,
            processor_mode: Some(p.processor_mode.clone()),
            hba_uris: p.hbas.iter().map(|h| p.hba_uri(h)).collect(),
            nic_uris: Vec::new(),
            boot_device: p.boot_device.clone(),
            boot_storage_device: p.boot_storage_device.clone(),
            boot_world_wide_port_name: p.boot_wwpn,
            boot_logical_unit_number: p.boot_lun,
            // The world adds the attached groups (it knows storage management).
            storage_group_uris: Vec::new(),
            boot_storage_volume: p.boot_storage_volume.clone(),
        })
    }

    /// Whether a partition other than `except` has this short name.
    fn short_name_taken(&self, short_name: &str, except: Option<&str>) -> bool {
        self.extras
            .iter()
            .any(|(id, e)| e.settings.short_name == short_name && Some(id.as_str()) != except)
    }

    /// The full property set of the partition whose `core` properties
    /// (what hmc-client reads, the attached groups filled in by the
    /// world) these are.
    pub(crate) fn partition_properties(
        &self,
        core: Partition,
    ) -> Result<PartitionProperties, HmcError> {
        let uri = core.object_uri.clone();
        self.partition("GET", &uri)?;
        let extras = self
            .extras
            .get(uri.object_id())
            .cloned()
            .unwrap_or_else(|| PartitionExtras {
                settings: Settings::new(properties::derive_short_name(&core.name, |_| false)),
                partition_id: None,
            });
        let features = self
            .get_cpc(&self.cpc.uri())?
            .available_features_list
            .unwrap_or_default();
        let read_only = ReadOnly::new(&core, &extras.settings, extras.partition_id, features);
        Ok(PartitionProperties {
            core,
            settings: extras.settings,
            read_only,
        })
    }

    /// The settings of a partition once `u` is applied, checked (400.7,
    /// and 409.8 for a short name another partition has) without changing
    /// anything; [`HmcState::set_settings`] stores them.
    pub(crate) fn checked_settings(
        &self,
        uri: &PartitionUri,
        u: &SettingsUpdate,
    ) -> Result<Settings, HmcError> {
        self.partition("POST", uri)?;
        let id = uri.object_id();
        let current = self
            .extras
            .get(id)
            .map(|e| e.settings.clone())
            .unwrap_or_else(|| Settings::new("P".into()));
        let s = current
            .with(u)
            .map_err(|msg| properties::invalid("POST", uri.as_str(), msg))?;
        if self.short_name_taken(&s.short_name, Some(id)) {
            return Err(HmcError::api(
                "POST",
                uri.as_str(),
                409,
                reason::DUPLICATE_NAME,
                format!(
                    "A partition with short-name {:?} already exists.",
                    s.short_name
                ),
            ));
        }
        Ok(s)
    }

    /// Stores settings [`HmcState::checked_settings`] returned.
    pub(crate) fn set_settings(&mut self, uri: &PartitionUri, settings: Settings) {
        if let Some(e) = self.extras.get_mut(uri.object_id()) {
            e.settings = settings;
        }
    }

    /// The lowest partition id no running partition holds (two hex
    /// digits; a CPC has at most 85 partitions).
    pub(super) fn free_partition_id(&self) -> u8 {
        (1u8..=0xff)
            .find(|id| !self.extras.values().any(|e| e.partition_id == Some(*id)))
            .unwrap_or(0)
    }

    /// Whether a partition of these processors and memory fits this CPC.
    fn check_resources(&self, ifl: u32, cp: u32, initial: u64, maximum: u64) -> Result<(), String> {
        let cpc = (self.cpc.ifl, self.cpc.memory_mib, self.cpc.name.clone());
        resources(&cpc, ifl, cp, initial, maximum)
    }

    pub(crate) fn update_partition(
        &mut self,
        uri: &PartitionUri,
        u: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        let bad =
            |status, reason, msg: String| HmcError::api("POST", uri.as_str(), status, reason, msg);
        let cpc = (self.cpc.ifl, self.cpc.memory_mib, self.cpc.name.clone());
        // The boot HBA must exist (404.2); whether it belongs to this
        // partition is what the start job's boot check finds out.
        if let Some(hba) = &u.boot_storage_device {
            let exists = self
                .partitions
                .get(hba.parent().object_id())
                .is_some_and(|p| p.hbas.iter().any(|h| h.element_id == hba.element_id()));
            if !exists {
                return Err(bad(
                    404,
                    reason::REFERENCED_NOT_FOUND,
                    format!("boot-storage-device {hba} does not exist."),
                ));
            }
        }
        if let Some(b) = &u.boot_device {
            if let BootDevice::Other(s) = b {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    format!("boot-device {s:?} is not a valid value."),
                ));
            }
            if *b == BootDevice::StorageAdapter && self.cpc.storage_management {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    "boot-device storage-adapter does not exist on a CPC with the dpm-storage-management feature; boot from a storage-volume.".into(),
                ));
            }
            if *b == BootDevice::StorageVolume && !self.cpc.storage_management {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    "boot-device storage-volume needs the dpm-storage-management feature.".into(),
                ));
            }
        }
        if let Some(name) = &u.name {
            if name.is_empty() || name.len() > 64 {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    "name must be 1 to 64 characters.".into(),
                ));
            }
            let taken = self
                .partitions
                .values()
                .any(|p| &p.name == name && p.uri() != *uri);
            if taken {
                return Err(bad(
                    409,
                    reason::DUPLICATE_NAME,
                    format!("A partition named {name:?} already exists."),
                ));
            }
        }
        let p = self.partition_mut("POST", uri)?;
        let resizes =
            u.ifl_processors.is_some() || u.initial_memory.is_some() || u.maximum_memory.is_some();
        if resizes && !status::is_down(&p.status) {
            return Err(bad(
                409,
                reason::WRONG_STATE,
                format!(
                    "Processors and memory of partition {} can change only while it is stopped.",
                    p.name
                ),
            ));
        }
        if matches!(
            p.status,
            PartitionStatus::Starting | PartitionStatus::Stopping
        ) {
            return Err(bad(
                409,
                reason::WRONG_STATE,
                format!("Partition {} is {}.", p.name, p.status),
            ));
        }
        // An update is checked as a create is: the partition as it would
        // be afterwards.
        let ifl = u.ifl_processors.unwrap_or(p.ifl);
        let initial = u.initial_memory.unwrap_or(p.initial_memory);
        let maximum = u.maximum_memory.unwrap_or(p.maximum_memory);
        let cp = p.cp;
        resources(&cpc, ifl, cp, initial, maximum)
            .map_err(|msg| bad(400, reason::INVALID_VALUE, msg))?;
        // All checks passed: apply the whole update at once.
        if let Some(n) = &u.name {
            p.name = n.clone();
        }
        if let Some(d) = &u.description {
            p.description = d.clone();
        }
        if let Some(n) = u.ifl_processors {
            p.ifl = n;
        }
        p.initial_memory = initial;
        p.maximum_memory = maximum;
        if let Some(b) = &u.boot_device {
            p.boot_device = b.clone();
        }
        if let Some(h) = &u.boot_storage_device {
            p.boot_storage_device = Some(h.clone());
        }
        if let Some(w) = u.boot_world_wide_port_name {
            p.boot_wwpn = Some(w);
        }
        if let Some(l) = u.boot_logical_unit_number {
            p.boot_lun = Some(l);
        }
        if let Some(v) = &u.boot_storage_volume {
            p.boot_storage_volume = v.clone();
        }
        Ok(())
    }

    pub(crate) fn delete_partition(&mut self, uri: &PartitionUri) -> Result<(), HmcError> {
        let p = self.partition("DELETE", uri)?;
        // A partition in reservation-error holds nothing: it goes as a
        // stopped one does (other HMC tools treat it as stopped).
        if !status::is_down(&p.status) {
            return Err(HmcError::api(
                "DELETE",
                uri.as_str(),
                409,
                reason::WRONG_STATE,
                format!("Partition {} is {}, not stopped.", p.name, p.status),
            ));
        }
        // The vHBAs go with the partition.
        self.partitions.remove(uri.object_id());
        self.extras.remove(uri.object_id());
        self.forget_guest(uri.object_id());
        Ok(())
    }
}
