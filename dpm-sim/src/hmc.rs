//! The HMC side of the world: CPC, adapters, partitions, vHBAs and jobs,
//! with the status machine and refusals of the real HMC.
//!
//! Partition status: `stopped` → (start) `starting` → `active` →
//! (stop) `stopping` → `stopped`. Start and stop are jobs that finish after
//! the configured durations. A start job checks memory and, when the
//! partition boots from an HBA, the boot path; a failed check fails the job
//! and the partition returns to `stopped`.

use fc_types::DeviceNumber;
use hmc_client::{
    Adapter, AdapterFilter, AdapterType, AdapterUri, ApiVersion, BootDevice, Cpc, CpcStatus,
    CpcSummary, CpcUri, Feature, Hba, HbaCreate, HbaUri, HmcError, Job, JobStatus, JobUri,
    LogonResponse, Partition, PartitionCreate, PartitionFilter, PartitionStatus, PartitionSummary,
    PartitionUpdate, PartitionUri, Secret, StoragePort, StoragePortUri,
    FEATURE_DPM_STORAGE_MANAGEMENT,
};

use crate::world::{unreachable_uri, Action, HbaState, JobState, PartitionState, World};

/// Reason codes this simulator answers with. Where HMC.md marks a code
/// unconfirmed, the stricter reading is taken and named here.
pub(crate) mod reason {
    pub const BAD_QUERY: u16 = 1;
    pub const MISSING_FIELD: u16 = 5;
    pub const INVALID_VALUE: u16 = 7;
    pub const NOT_FOUND: u16 = 1;
    pub const REFERENCED_NOT_FOUND: u16 = 2;
    pub const WRONG_STATE: u16 = 1;
    /// Duplicate name: unconfirmed, 8 is HMC.md's fair choice.
    pub const DUPLICATE_NAME: u16 = 8;
    pub const NOT_DPM: u16 = 5;
    pub const JOB_NOT_ENDED: u16 = 40;
    /// Wrong password at logon: unconfirmed, 0 is HMC.md's fair choice.
    pub const BAD_LOGON: u16 = 0;
    pub const NO_SESSION: u16 = 4;
    pub const BAD_SESSION: u16 = 5;
    /// Job reason code of a failed start (unconfirmed; any non-2xx status
    /// with a message is what clients read).
    pub const JOB_START_FAILED: u16 = 263;
}

pub(crate) fn refuse(
    method: &'static str,
    uri: impl Into<String>,
    status: u16,
    reason: u16,
    message: impl Into<String>,
) -> HmcError {
    HmcError::Api {
        method,
        uri: uri.into(),
        status,
        reason,
        message: message.into(),
    }
}

fn regex(method: &'static str, uri: &str, pattern: &str) -> Result<regex_lite::Regex, HmcError> {
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        refuse(
            method,
            uri,
            400,
            reason::BAD_QUERY,
            format!("query value {pattern:?} is not a valid regular expression: {e}"),
        )
    })
}

const HBA_FIRST_DEVICE_NUMBER: u16 = 0x1900;

impl World {
    // ----- sessions -------------------------------------------------------

    pub(crate) fn logon(
        &mut self,
        userid: &str,
        password: &str,
    ) -> Result<LogonResponse, HmcError> {
        if userid != self.hmc_userid || password != self.hmc_password {
            return Err(refuse(
                "POST",
                "/api/sessions",
                403,
                reason::BAD_LOGON,
                "Logon failed: the user ID or password is not valid.",
            ));
        }
        let n = self.next_seq();
        let session = format!("sim-session-{n:08x}-{:016x}", crate::world::unguessable());
        self.sessions.insert(session.clone());
        Ok(LogonResponse {
            api_session: Secret::new(session),
            session_credential: Secret::new(format!("sim-credential-{n:08x}")),
            notification_topic: format!("topic-{n}"),
            job_notification_topic: format!("job-topic-{n}"),
            api_major_version: 4,
            api_minor_version: 10,
            password_expires: None,
        })
    }

    pub(crate) fn logoff(&mut self, session: &str) {
        self.sessions.remove(session);
    }

    /// 403.4 without a session, 403.5 with one the HMC does not know.
    pub(crate) fn check_session(
        &self,
        session: Option<&str>,
        method: &'static str,
        uri: &str,
    ) -> Result<(), HmcError> {
        match session {
            None => Err(refuse(
                method,
                uri,
                403,
                reason::NO_SESSION,
                "The request does not have an X-API-Session header.",
            )),
            Some(s) if !self.sessions.contains(s) => Err(refuse(
                method,
                uri,
                403,
                reason::BAD_SESSION,
                "The session is not valid or has expired.",
            )),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn api_version(&self) -> ApiVersion {
        ApiVersion {
            api_major_version: 4,
            api_minor_version: 10,
            hmc_version: "2.16.0".into(),
            hmc_name: "dpm-sim".into(),
        }
    }

    // ----- CPC and adapters -------------------------------------------------

    fn cpc_status(&self) -> CpcStatus {
        CpcStatus::from(self.cpc.status.as_str())
    }

    pub(crate) fn list_cpcs(&self, name: Option<&str>) -> Result<Vec<CpcSummary>, HmcError> {
        if let Some(pattern) = name {
            if !regex("GET", "/api/cpcs", pattern)?.is_match(&self.cpc.name) {
                return Ok(Vec::new());
            }
        }
        Ok(vec![CpcSummary {
            object_uri: self.cpc.uri(),
            name: self.cpc.name.clone(),
            status: self.cpc_status(),
            has_unacceptable_status: !self.cpc_status().is_usable(),
            dpm_enabled: self.cpc.dpm,
            se_version: Some(self.cpc.se_version.clone()),
        }])
    }

    fn check_cpc(&self, method: &'static str, cpc: &CpcUri) -> Result<(), HmcError> {
        if *cpc != self.cpc.uri() {
            return Err(refuse(
                method,
                cpc.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No CPC {cpc}."),
            ));
        }
        Ok(())
    }

    pub(crate) fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.check_cpc("GET", cpc)?;
        let c = &self.cpc;
        Ok(Cpc {
            object_id: Some(c.object_id.clone()),
            object_uri: Some(c.uri()),
            class: Some("cpc".into()),
            name: Some(c.name.clone()),
            description: Some(format!("Simulated CPC {}", c.name)),
            status: Some(self.cpc_status()),
            dpm_enabled: Some(c.dpm),
            iml_mode: Some(if c.dpm { "dpm" } else { "lpar" }.into()),
            processor_count_ifl: Some(c.ifl),
            processor_count_general_purpose: Some(2),
            storage_customer: Some(c.memory_mib),
            storage_customer_available: Some(c.memory_mib.saturating_sub(self.memory_held())),
            maximum_partitions: Some(c.maximum_partitions),
            machine_type: Some(c.machine_type.clone()),
            machine_model: Some("N63".into()),
            se_version: Some(c.se_version.clone()),
            available_features_list: Some(vec![Feature {
                name: FEATURE_DPM_STORAGE_MANAGEMENT.into(),
                description: "The DPM storage management approach in which FCP and FICON storage resources are defined in Storage Groups, which are attached to Partitions.".into(),
                state: c.storage_management,
            }]),
        })
    }

    pub(crate) fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<hmc_client::AdapterSummary>, HmcError> {
        let uri = format!("{cpc}/adapters");
        self.check_cpc("GET", cpc)?;
        let name_re = filter
            .name
            .as_deref()
            .map(|p| regex("GET", &uri, p))
            .transpose()?;
        Ok(self
            .adapters
            .iter()
            .filter(|a| {
                filter
                    .adapter_type
                    .as_ref()
                    .is_none_or(|t| *t == a.adapter_type)
            })
            .filter(|a| name_re.as_ref().is_none_or(|re| re.is_match(&a.name)))
            .map(|a| {
                let full = self.adapter_view(a);
                hmc_client::AdapterSummary {
                    object_uri: full.object_uri,
                    name: full.name,
                    adapter_id: Some(full.adapter_id),
                    adapter_family: Some(full.adapter_family),
                    adapter_type: full.adapter_type,
                    status: Some(full.status),
                }
            })
            .collect())
    }

    fn adapter_view(&self, a: &crate::world::AdapterState) -> Adapter {
        let uri = AdapterUri::from_object_id(&a.object_id).unwrap_or_else(|_| unreachable_uri());
        let storage = matches!(a.adapter_type, AdapterType::Fcp | AdapterType::Fc);
        let (family, card) = match a.adapter_type {
            AdapterType::Fcp | AdapterType::Fc => ("ficon", "ficon-express-16s"),
            AdapterType::Osd => ("osa", "osa-express-6s-10gb"),
            _ => ("other", "unknown"),
        };
        Adapter {
            object_id: a.object_id.clone(),
            object_uri: uri.clone(),
            parent: self.cpc.uri(),
            class: "adapter".into(),
            name: a.name.clone(),
            description: String::new(),
            adapter_id: a.pchid.clone(),
            adapter_family: family.into(),
            adapter_type: a.adapter_type.clone(),
            detected_card_type: Some(card.into()),
            port_count: Some(u32::try_from(a.ports.len()).unwrap_or(u32::MAX)),
            status: "active".into(),
            state: Some("online".into()),
            storage_port_uris: storage.then(|| {
                a.ports
                    .iter()
                    .map(|p| {
                        StoragePortUri::new(&uri, &p.index.to_string())
                            .unwrap_or_else(|_| unreachable_uri())
                    })
                    .collect()
            }),
        }
    }

    pub(crate) fn get_adapter(&self, uri: &AdapterUri) -> Result<Adapter, HmcError> {
        self.adapters
            .iter()
            .find(|a| a.object_id == uri.object_id())
            .map(|a| self.adapter_view(a))
            .ok_or_else(|| {
                refuse(
                    "GET",
                    uri.as_str(),
                    404,
                    reason::NOT_FOUND,
                    format!("No adapter {uri}."),
                )
            })
    }

    pub(crate) fn get_storage_port(&self, uri: &StoragePortUri) -> Result<StoragePort, HmcError> {
        let (adapter, index) = self
            .find_port(uri)
            .filter(|(a, _)| matches!(a.adapter_type, AdapterType::Fcp | AdapterType::Fc))
            .ok_or_else(|| {
                refuse(
                    "GET",
                    uri.as_str(),
                    404,
                    reason::NOT_FOUND,
                    format!("No storage port {uri}."),
                )
            })?;
        let port = &adapter.ports[index];
        Ok(StoragePort {
            element_id: port.index.to_string(),
            element_uri: uri.clone(),
            parent: uri.parent(),
            class: "storage-port".into(),
            index: port.index,
            name: format!("Port {}", port.index),
            description: String::new(),
            fabric_id: port.fabric.map(|f| self.fabrics[f]),
        })
    }

    // ----- partitions -----------------------------------------------------

    pub(crate) fn partition(
        &self,
        method: &'static str,
        uri: &PartitionUri,
    ) -> Result<&PartitionState, HmcError> {
        self.partitions.get(uri.object_id()).ok_or_else(|| {
            refuse(
                method,
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No partition {uri}."),
            )
        })
    }

    fn partition_mut(
        &mut self,
        method: &'static str,
        uri: &PartitionUri,
    ) -> Result<&mut PartitionState, HmcError> {
        self.partitions.get_mut(uri.object_id()).ok_or_else(|| {
            refuse(
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
        let uri = format!("{cpc}/partitions");
        self.check_cpc("GET", cpc)?;
        let name_re = filter
            .name
            .as_deref()
            .map(|p| regex("GET", &uri, p))
            .transpose()?;
        Ok(self
            .partitions
            .values()
            .filter(|p| name_re.as_ref().is_none_or(|re| re.is_match(&p.name)))
            .filter(|p| filter.status.as_ref().is_none_or(|s| *s == p.status))
            .map(|p| PartitionSummary {
                object_uri: p.uri(),
                name: p.name.clone(),
                status: p.status.clone(),
                partition_type: Some(p.partition_type.clone()),
            })
            .collect())
    }

    pub(crate) fn create_partition(
        &mut self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        let uri = format!("{cpc}/partitions");
        let bad = |status, reason, msg: String| refuse("POST", uri.clone(), status, reason, msg);
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
        if props.ifl_processors.is_none() && props.cp_processors.is_none() {
            return Err(bad(
                400,
                reason::MISSING_FIELD,
                "ifl-processors or cp-processors is required.".into(),
            ));
        }
        let ifl = props.ifl_processors.unwrap_or(0);
        let cp = props.cp_processors.unwrap_or(0);
        if ifl + cp == 0 {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                "a partition needs at least one processor.".into(),
            ));
        }
        // Unconfirmed which code the HMC uses; a shared-processor partition
        // may not have more logical IFLs than the CPC has physical ones.
        if ifl > self.cpc.ifl {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                format!(
                    "ifl-processors {ifl} exceeds the {} IFLs of CPC {}.",
                    self.cpc.ifl, self.cpc.name
                ),
            ));
        }
        if props.initial_memory == 0 || props.initial_memory > props.maximum_memory {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                "initial-memory must be positive and at most maximum-memory.".into(),
            ));
        }
        if props.maximum_memory > self.cpc.memory_mib {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                format!(
                    "maximum-memory {} MiB exceeds the CPC's {} MiB.",
                    props.maximum_memory, self.cpc.memory_mib
                ),
            ));
        }
        if self.partitions.len() >= self.cpc.maximum_partitions as usize {
            return Err(bad(
                409,
                reason::WRONG_STATE,
                "The CPC has its maximum number of partitions.".into(),
            ));
        }
        let object_id = self.new_object_id(0xf);
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
            storage_group_uris: Vec::new(),
            boot_storage_volume: None,
        })
    }

    pub(crate) fn update_partition(
        &mut self,
        uri: &PartitionUri,
        u: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        let bad = |status, reason, msg: String| refuse("POST", uri.as_str(), status, reason, msg);
        let cpc_ifl = self.cpc.ifl;
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
            if *b == BootDevice::StorageVolume && !self.cpc.storage_management {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    "boot-device storage-volume needs the dpm-storage-management feature.".into(),
                ));
            }
        }
        let p = self.partition_mut("POST", uri)?;
        let resources =
            u.ifl_processors.is_some() || u.initial_memory.is_some() || u.maximum_memory.is_some();
        if resources && p.status != PartitionStatus::Stopped {
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
        if u.ifl_processors.is_some_and(|n| n > cpc_ifl) {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                format!("ifl-processors exceeds the CPC's {cpc_ifl} IFLs."),
            ));
        }
        let initial = u.initial_memory.unwrap_or(p.initial_memory);
        let maximum = u.maximum_memory.unwrap_or(p.maximum_memory);
        if initial == 0 || initial > maximum {
            return Err(bad(
                400,
                reason::INVALID_VALUE,
                "initial-memory must be positive and at most maximum-memory.".into(),
            ));
        }
        // All checks passed: apply the whole update at once.
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
        Ok(())
    }

    pub(crate) fn delete_partition(&mut self, uri: &PartitionUri) -> Result<(), HmcError> {
        let p = self.partition("DELETE", uri)?;
        if p.status != PartitionStatus::Stopped {
            return Err(refuse(
                "DELETE",
                uri.as_str(),
                409,
                reason::WRONG_STATE,
                format!("Partition {} is {}, not stopped.", p.name, p.status),
            ));
        }
        // The vHBAs go with the partition.
        self.partitions.remove(uri.object_id());
        Ok(())
    }

    fn new_job(&mut self, partition: &str) -> JobUri {
        let id = self.new_object_id(0x7);
        self.jobs.insert(
            id.clone(),
            JobState {
                partition: partition.into(),
                outcome: None,
            },
        );
        JobUri::from_object_id(&id).unwrap_or_else(|_| unreachable_uri())
    }

    pub(crate) fn start_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let p = self.partition("POST", uri)?;
        if p.status != PartitionStatus::Stopped {
            return Err(refuse(
                "POST",
                format!("{uri}/operations/start"),
                409,
                reason::WRONG_STATE,
                format!("Partition {} is {}, not stopped.", p.name, p.status),
            ));
        }
        let need = p.initial_memory;
        let free = self.cpc.memory_mib.saturating_sub(self.memory_held());
        let job = self.new_job(uri.object_id());
        let p = self.partition_mut("POST", uri)?;
        p.status = PartitionStatus::Starting;
        // PR/SM takes the memory when the partition starts; without enough
        // free memory the start job fails when it ends.
        p.memory_held = need <= free;
        let after = self.timings.start();
        self.schedule(
            after,
            Action::PartitionStarted {
                job: job.object_id().into(),
            },
        );
        Ok(job)
    }

    pub(crate) fn stop_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let p = self.partition("POST", uri)?;
        let ok = matches!(
            p.status,
            PartitionStatus::Active
                | PartitionStatus::Paused
                | PartitionStatus::Terminated
                | PartitionStatus::Degraded
        );
        if !ok {
            return Err(refuse("POST", format!("{uri}/operations/stop"), 409, reason::WRONG_STATE, format!("Partition {} is {}; only an active, paused, terminated or degraded partition can stop.", p.name, p.status)));
        }
        let job = self.new_job(uri.object_id());
        self.partition_mut("POST", uri)?.status = PartitionStatus::Stopping;
        let after = self.timings.stop();
        self.schedule(
            after,
            Action::PartitionStopped {
                job: job.object_id().into(),
            },
        );
        Ok(job)
    }

    pub(crate) fn finish_start(&mut self, job: &str) {
        let Some(pid) = self.jobs.get(job).map(|j| j.partition.clone()) else {
            return;
        };
        let verdict = match self.partitions.get(&pid) {
            None => Err("the partition no longer exists".to_owned()),
            Some(p) if !p.memory_held => Err(format!(
                "Insufficient memory: partition {} needs {} MiB, but only {} MiB of the CPC's memory are free.",
                p.name,
                p.initial_memory,
                self.cpc.memory_mib.saturating_sub(self.memory_held())
            )),
            Some(p) => self.boot_check(p),
        };
        if let Some(p) = self.partitions.get_mut(&pid) {
            match &verdict {
                Ok(()) => p.status = PartitionStatus::Active,
                Err(_) => {
                    p.status = PartitionStatus::Stopped;
                    p.memory_held = false;
                }
            }
        }
        if let Some(j) = self.jobs.get_mut(job) {
            j.outcome = Some(match verdict {
                Ok(()) => (200, None, None),
                Err(msg) => (500, Some(reason::JOB_START_FAILED), Some(msg)),
            });
        }
    }

    pub(crate) fn finish_stop(&mut self, job: &str) {
        let Some(pid) = self.jobs.get(job).map(|j| j.partition.clone()) else {
            return;
        };
        if let Some(p) = self.partitions.get_mut(&pid) {
            p.status = PartitionStatus::Stopped;
            p.memory_held = false;
        }
        if let Some(j) = self.jobs.get_mut(job) {
            j.outcome = Some((204, None, None));
        }
    }

    /// The SCSI IPL check of a partition that boots from an HBA: the boot
    /// HBA is the partition's, its WWPN is zoned with the boot target, and a
    /// bootable volume is mapped to that WWPN at the boot LUN.
    pub(crate) fn boot_check(&self, p: &PartitionState) -> Result<(), String> {
        if p.boot_device != BootDevice::StorageAdapter {
            return Ok(());
        }
        let hba_uri = p
            .boot_storage_device
            .as_ref()
            .ok_or("boot-device is storage-adapter but boot-storage-device is not set")?;
        let hba = (hba_uri.parent() == p.uri())
            .then(|| p.hbas.iter().find(|h| h.element_id == hba_uri.element_id()))
            .flatten()
            .ok_or_else(|| {
                format!(
                    "Boot failed: boot-storage-device {hba_uri} is not an HBA of partition {}.",
                    p.name
                )
            })?;
        let target = p
            .boot_wwpn
            .ok_or("Boot failed: boot-world-wide-port-name is not set.")?;
        let lun = p
            .boot_lun
            .ok_or("Boot failed: boot-logical-unit-number is not set.")?;
        if !self.storage.zoned(hba.wwpn, target) {
            return Err(format!(
                "Boot failed: HBA {} (WWPN {}) is not zoned with target port {target}.",
                hba.name, hba.wwpn
            ));
        }
        let mapped = self.storage.host_of(hba.wwpn).and_then(|h| {
            u32::try_from(lun.to_target_lun())
                .ok()
                .and_then(|id| h.mappings.get(&id))
        });
        let Some(volume) = mapped else {
            return Err(format!(
                "Boot failed: no volume is mapped to WWPN {} at LUN {lun}.",
                hba.wwpn
            ));
        };
        match self.volumes.get(volume) {
            Some(v) if v.bootable => Ok(()),
            _ => Err(format!(
                "Boot failed: volume {volume} at LUN {lun} is not bootable."
            )),
        }
    }

    // ----- HBAs -----------------------------------------------------------

    pub(crate) fn create_hba(
        &mut self,
        uri: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError> {
        let at = format!("{uri}/hbas");
        let bad = |status, reason, msg: String| refuse("POST", at.clone(), status, reason, msg);
        if self.cpc.storage_management {
            return Err(bad(409, reason::WRONG_STATE, "HBAs do not exist on a CPC with the dpm-storage-management feature; use storage groups.".into()));
        }
        let p = self.partition("POST", uri)?;
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
        match self.find_port(&props.adapter_port_uri) {
            None => {
                return Err(bad(
                    404,
                    reason::REFERENCED_NOT_FOUND,
                    format!(
                        "adapter-port-uri {} does not exist.",
                        props.adapter_port_uri
                    ),
                ))
            }
            Some((a, _)) if a.adapter_type != AdapterType::Fcp => {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    format!("Adapter {} is of type {}, not fcp.", a.name, a.adapter_type),
                ))
            }
            Some(_) => {}
        }
        if p.hbas.iter().any(|h| h.name == props.name) {
            return Err(bad(
                409,
                reason::DUPLICATE_NAME,
                format!(
                    "Partition {} already has an HBA named {:?}.",
                    p.name, props.name
                ),
            ));
        }
        let device_number = match props.device_number {
            Some(d) if p.hbas.iter().any(|h| h.device_number == d) => {
                return Err(bad(
                    400,
                    reason::INVALID_VALUE,
                    format!("device-number {d} is in use in partition {}.", p.name),
                ))
            }
            Some(d) => d,
            None => (HBA_FIRST_DEVICE_NUMBER..=u16::MAX)
                .map(DeviceNumber::new)
                .find(|d| p.hbas.iter().all(|h| h.device_number != *d))
                .ok_or_else(|| bad(409, reason::WRONG_STATE, "no free device number".into()))?,
        };
        let element_id = self.new_object_id(0xb);
        let wwpn = self.new_npiv_wwpn();
        let hba = HbaState {
            element_id,
            name: props.name.clone(),
            description: props.description.clone().unwrap_or_default(),
            wwpn,
            port: props.adapter_port_uri.clone(),
            device_number,
        };
        let p = self.partition_mut("POST", uri)?;
        let hba_uri = p.hba_uri(&hba);
        p.hbas.push(hba);
        Ok(hba_uri)
    }

    fn hba(
        &self,
        method: &'static str,
        uri: &HbaUri,
    ) -> Result<(&PartitionState, &HbaState), HmcError> {
        let not_found = || {
            refuse(
                method,
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No HBA {uri}."),
            )
        };
        let p = self
            .partitions
            .get(uri.parent().object_id())
            .ok_or_else(not_found)?;
        let h = p
            .hbas
            .iter()
            .find(|h| h.element_id == uri.element_id())
            .ok_or_else(not_found)?;
        Ok((p, h))
    }

    pub(crate) fn get_hba(&self, uri: &HbaUri) -> Result<Hba, HmcError> {
        let (p, h) = self.hba("GET", uri)?;
        Ok(Hba {
            element_id: h.element_id.clone(),
            element_uri: uri.clone(),
            parent: p.uri(),
            class: "hba".into(),
            name: h.name.clone(),
            description: h.description.clone(),
            wwpn: h.wwpn,
            adapter_port_uri: h.port.clone(),
            device_number: h.device_number,
        })
    }

    pub(crate) fn delete_hba(&mut self, uri: &HbaUri) -> Result<(), HmcError> {
        let (p, _) = self.hba("DELETE", uri)?;
        if matches!(
            p.status,
            PartitionStatus::Starting | PartitionStatus::Stopping
        ) {
            return Err(refuse(
                "DELETE",
                uri.as_str(),
                409,
                reason::WRONG_STATE,
                format!("Partition {} is {}.", p.name, p.status),
            ));
        }
        if let Some(p) = self.partitions.get_mut(uri.parent().object_id()) {
            p.hbas.retain(|h| h.element_id != uri.element_id());
        }
        Ok(())
    }

    // ----- jobs -------------------------------------------------------------

    pub(crate) fn get_job(&self, uri: &JobUri) -> Result<Job, HmcError> {
        let j = self.jobs.get(uri.object_id()).ok_or_else(|| {
            refuse(
                "GET",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No job {uri}."),
            )
        })?;
        Ok(match &j.outcome {
            None => Job {
                status: JobStatus::Running,
                job_status_code: None,
                job_reason_code: None,
                job_results: None,
            },
            Some((code, reason, message)) => Job {
                status: JobStatus::Complete,
                job_status_code: Some(*code),
                job_reason_code: *reason,
                job_results: message
                    .as_ref()
                    .map(|m| serde_json::json!({ "message": m })),
            },
        })
    }

    pub(crate) fn delete_job(&mut self, uri: &JobUri) -> Result<(), HmcError> {
        let j = self.jobs.get(uri.object_id()).ok_or_else(|| {
            refuse(
                "DELETE",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No job {uri}."),
            )
        })?;
        if j.outcome.is_none() {
            return Err(refuse(
                "DELETE",
                uri.as_str(),
                409,
                reason::JOB_NOT_ENDED,
                "The job has not ended.",
            ));
        }
        self.jobs.remove(uri.object_id());
        Ok(())
    }
}
