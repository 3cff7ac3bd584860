//! Partitions: list, create, read, update, delete, and the start and stop
//! operations, whose status rules are the small functions at the end
//! ([`start`], [`finish_start`], [`stop`], [`finish_stop`]), testable
//! without a world.

use std::time::Duration;

use fc_types::{FcpLun, Wwpn};
use hmc_client::{
    BootDevice, CpcUri, HbaUri, HmcError, JobUri, Partition, PartitionCreate, PartitionFilter,
    PartitionListProperty, PartitionStatus, PartitionSummary, PartitionUpdate, PartitionUri,
    StorageVolumeUri, LIST_ADDITIONAL_PROPERTIES_SINCE,
};

use super::job::{self, JobState};
use super::properties::{self, PartitionProperties, ReadOnly, Settings, SettingsUpdate};
use super::{boot, reason, regex, status, BootView, HbaState, HmcState, Later, Refusal};
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
    fn free_partition_id(&self) -> u8 {
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

    /// `operations/start`: the partition becomes `starting`; the job ends
    /// with the returned transition.
    pub(crate) fn start_partition(
        &mut self,
        ids: &mut Ids,
        uri: &PartitionUri,
    ) -> Result<(JobUri, Later), HmcError> {
        let p = self.partition("POST", uri)?;
        let free = self.memory_free();
        let power = start(&p.name, &p.status, p.initial_memory, free)
            .map_err(|r| r.at("POST", format!("{uri}/operations/start")))?;
        let job = self.new_job(ids, uri.object_id());
        let id = self.free_partition_id();
        if let Some(e) = self.extras.get_mut(uri.object_id()) {
            e.partition_id = Some(id);
        }
        let p = self.partition_mut("POST", uri)?;
        p.status = power.status;
        p.memory_held = power.memory_held;
        let later = Later::PartitionStarted {
            job: job.object_id().into(),
        };
        Ok((job, later))
    }

    /// `operations/stop`: the partition becomes `stopping`; the job ends
    /// with the returned transition.
    pub(crate) fn stop_partition(
        &mut self,
        ids: &mut Ids,
        uri: &PartitionUri,
    ) -> Result<(JobUri, Later), HmcError> {
        let p = self.partition("POST", uri)?;
        let status =
            stop(&p.name, &p.status).map_err(|r| r.at("POST", format!("{uri}/operations/stop")))?;
        let job = self.new_job(ids, uri.object_id());
        self.partition_mut("POST", uri)?.status = status;
        self.cancel_halt(uri.object_id());
        let later = Later::PartitionStopped {
            job: job.object_id().into(),
        };
        Ok((job, later))
    }

    fn new_job(&mut self, ids: &mut Ids, partition: &str) -> JobUri {
        let id = ids.new_object_id(0x7);
        self.begin_job(&id, JobState::running(partition))
    }

    /// The end of a start job: the memory check, then the boot check.
    pub(super) fn finish_start(&mut self, job: &str, view: &impl BootView, now: Duration) {
        let Some(pid) = self.jobs.get(job).and_then(|j| j.partition.clone()) else {
            return;
        };
        let verdict = match self.partitions.get(&pid) {
            None => Err("the partition no longer exists".to_owned()),
            Some(p) => {
                let memory = if p.memory_held {
                    Ok(())
                } else {
                    Err(format!(
                        "Insufficient memory: partition {} needs {} MiB, but only {} MiB of the CPC's memory are free.",
                        p.name,
                        p.initial_memory,
                        self.memory_free()
                    ))
                };
                let (power, verdict) = finish_start(memory, || {
                    boot::check(p, view, |port| self.port_fabric(port))
                });
                let active = power.status == PartitionStatus::Active;
                if let Some(p) = self.partitions.get_mut(&pid) {
                    p.status = power.status;
                    p.memory_held = power.memory_held;
                }
                if !power.memory_held {
                    self.give_up_partition_id(&pid);
                }
                if active {
                    self.write_boot_messages(&pid, now);
                }
                verdict
            }
        };
        self.complete_job(job, job::start_outcome(verdict), false);
    }

    /// A partition that stops gives up its partition id.
    fn give_up_partition_id(&mut self, pid: &str) {
        if let Some(e) = self.extras.get_mut(pid) {
            e.partition_id = None;
        }
    }

    /// The end of a stop job.
    pub(super) fn finish_stop(&mut self, job: &str) {
        let Some(pid) = self.jobs.get(job).and_then(|j| j.partition.clone()) else {
            return;
        };
        if let Some(p) = self.partitions.get_mut(&pid) {
            let power = finish_stop();
            p.status = power.status;
            p.memory_held = power.memory_held;
        }
        self.give_up_partition_id(&pid);
        self.complete_job(job, job::stop_outcome(), false);
    }
}

// ----- the status machine of one partition ------------------------------------

/// What start and stop change on a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Power {
    pub status: PartitionStatus,
    /// Whether the partition holds its memory (from start until stop).
    pub memory_held: bool,
}

/// Whether a partition named `name` in `status` may start: only a stopped
/// one does, or one whose last activation found no resources
/// (`reservation-error`, which holds none; zhmc-ansible-modules starts
/// from it); 409.1 otherwise. It becomes `starting`; PR/SM takes its
/// memory now if `need` MiB fit in the `free` MiB, and without it the start
/// job fails when it ends.
pub(crate) fn start(
    name: &str,
    status: &PartitionStatus,
    need: u64,
    free: u64,
) -> Result<Power, Refusal> {
    if !status::is_down(status) {
        return Err(Refusal::wrong_state(format!(
            "Partition {name} is {status}, not stopped."
        )));
    }
    Ok(Power {
        status: PartitionStatus::Starting,
        memory_held: need <= free,
    })
}

/// How a start job ends: `memory` says whether PR/SM found the memory at
/// start (or why not); the boot check runs only when it did. Success leaves
/// the partition `active`, holding its memory; a failure leaves it
/// `stopped` with its memory released, and is the job's message.
pub(crate) fn finish_start(
    memory: Result<(), String>,
    boot: impl FnOnce() -> Result<(), String>,
) -> (Power, Result<(), String>) {
    let verdict = memory.and_then(|()| boot());
    let power = match verdict {
        Ok(()) => Power {
            status: PartitionStatus::Active,
            memory_held: true,
        },
        Err(_) => Power {
            status: PartitionStatus::Stopped,
            memory_held: false,
        },
    };
    (power, verdict)
}

/// Whether a partition named `name` in `status` may stop: an active,
/// paused, terminated or degraded one does, and becomes `stopping`; any
/// other status is 409.1.
pub(crate) fn stop(name: &str, status: &PartitionStatus) -> Result<PartitionStatus, Refusal> {
    match status {
        PartitionStatus::Active
        | PartitionStatus::Paused
        | PartitionStatus::Terminated
        | PartitionStatus::Degraded => Ok(PartitionStatus::Stopping),
        _ => Err(Refusal::wrong_state(format!(
            "Partition {name} is {status}; only an active, paused, terminated or degraded partition can stop."
        ))),
    }
}

/// How a stop job ends: `stopped`, the memory released.
pub(crate) fn finish_stop() -> Power {
    Power {
        status: PartitionStatus::Stopped,
        memory_held: false,
    }
}

/// The checks of a partition's processors and memory, for create and
/// update alike. `cpc` is (IFLs, customer memory MiB, name).
fn resources(
    cpc: &(u32, u64, String),
    ifl: u32,
    cp: u32,
    initial: u64,
    maximum: u64,
) -> Result<(), String> {
    if ifl == 0 && cp == 0 {
        return Err("a partition needs at least one processor.".into());
    }
    // Unconfirmed which code the HMC uses; a shared-processor partition
    // may not have more logical IFLs than the CPC has physical ones.
    if ifl > cpc.0 {
        return Err(format!(
            "ifl-processors {ifl} exceeds the {} IFLs of CPC {}.",
            cpc.0, cpc.2
        ));
    }
    if initial == 0 || initial > maximum {
        return Err("initial-memory must be positive and at most maximum-memory.".into());
    }
    if maximum > cpc.1 {
        return Err(format!(
            "maximum-memory {maximum} MiB exceeds the CPC's {} MiB.",
            cpc.1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[PartitionStatus] = &[
        PartitionStatus::Stopped,
        PartitionStatus::Starting,
        PartitionStatus::Active,
        PartitionStatus::Stopping,
        PartitionStatus::Degraded,
        PartitionStatus::Paused,
        PartitionStatus::Terminated,
        PartitionStatus::ReservationError,
        PartitionStatus::CommunicationsNotActive,
        PartitionStatus::StatusCheck,
    ];

    #[test]
    fn a_stopped_partition_starts_and_takes_its_memory_if_it_fits() {
        let s = PartitionStatus::Stopped;
        assert_eq!(
            start("p", &s, 4096, 4096),
            Ok(Power {
                status: PartitionStatus::Starting,
                memory_held: true
            })
        );
        assert_eq!(
            start("p", &s, 4097, 4096),
            Ok(Power {
                status: PartitionStatus::Starting,
                memory_held: false
            })
        );
    }

    #[test]
    fn only_a_stopped_partition_starts() {
        for s in ALL.iter().filter(|s| !status::is_down(s)) {
            let r = start("web1", s, 1, 1).unwrap_err();
            assert_eq!((r.status, r.reason), (409, 1), "{s}");
            assert_eq!(r.message, format!("Partition web1 is {s}, not stopped."));
        }
    }

    #[test]
    fn a_start_with_memory_that_boots_ends_active() {
        let (power, verdict) = finish_start(Ok(()), || Ok(()));
        assert_eq!(
            power,
            Power {
                status: PartitionStatus::Active,
                memory_held: true
            }
        );
        assert_eq!(verdict, Ok(()));
    }

    #[test]
    fn a_failed_start_ends_stopped_with_its_memory_released() {
        let stopped = Power {
            status: PartitionStatus::Stopped,
            memory_held: false,
        };
        let (power, verdict) = finish_start(Ok(()), || Err("no LUN".into()));
        assert_eq!((power, verdict), (stopped.clone(), Err("no LUN".into())));
        let (power, verdict) = finish_start(Err("no memory".into()), || {
            panic!("the boot check runs only with memory")
        });
        assert_eq!((power, verdict), (stopped, Err("no memory".into())));
    }

    #[test]
    fn active_paused_terminated_or_degraded_partitions_stop() {
        for s in [
            PartitionStatus::Active,
            PartitionStatus::Paused,
            PartitionStatus::Terminated,
            PartitionStatus::Degraded,
        ] {
            assert_eq!(stop("p", &s), Ok(PartitionStatus::Stopping), "{s}");
        }
    }

    #[test]
    fn other_partitions_refuse_to_stop() {
        for s in [
            PartitionStatus::Stopped,
            PartitionStatus::Starting,
            PartitionStatus::Stopping,
            PartitionStatus::ReservationError,
            PartitionStatus::CommunicationsNotActive,
            PartitionStatus::StatusCheck,
        ] {
            let r = stop("web1", &s).unwrap_err();
            assert_eq!((r.status, r.reason), (409, 1), "{s}");
            assert!(r.message.starts_with(&format!("Partition web1 is {s};")));
        }
    }

    #[test]
    fn a_stop_ends_stopped_with_its_memory_released() {
        assert_eq!(
            finish_stop(),
            Power {
                status: PartitionStatus::Stopped,
                memory_held: false
            }
        );
    }
}
