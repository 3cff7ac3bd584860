//! The HMC operations that need more than the HMC domain: a transition to
//! schedule, the SAN, or storage management.

use hmc_client::{
    BootDevice, HbaCreate, HbaUri, HmcError, JobUri, LunPath, Partition, PartitionUpdate,
    PartitionUri, StorageGroupCreate, StorageGroupCreated, StorageGroupModify, StorageGroupUri,
    StoragePortUri, StorageVolumeUri,
};

use super::{Action, DsmFacts, World};
use crate::dsm::{self, DsmState};
use crate::hmc::{self};
use crate::ids::Ids;

impl World {
    // ----- HMC operations that schedule -----------------------------------------

    pub(crate) fn start_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let (job, later) = self.hmc.start_partition(&mut self.ids, uri)?;
        self.schedule(Action::Hmc(later));
        Ok(job)
    }

    pub(crate) fn stop_partition(&mut self, uri: &PartitionUri) -> Result<JobUri, HmcError> {
        let (job, later) = self.hmc.stop_partition(&mut self.ids, uri)?;
        self.schedule(Action::Hmc(later));
        Ok(job)
    }

    /// "Send OS Command"; a shutdown command schedules the guest's halt.
    pub(crate) fn send_os_command(
        &mut self,
        uri: &PartitionUri,
        text: &str,
    ) -> Result<(), HmcError> {
        let now = self.now();
        if let Some(later) = self.hmc.send_os_command(&mut self.ids, uri, text, now)? {
            self.schedule(Action::Hmc(later));
        }
        Ok(())
    }

    /// "Get Partitions Assigned to Adapter": the partitions with a vHBA on
    /// one of the adapter's ports, or a VSR through one.
    pub(crate) fn partitions_on_adapter(
        &self,
        adapter: &hmc_client::AdapterUri,
    ) -> Result<Vec<hmc_client::PartitionSummary>, HmcError> {
        self.hmc.get_adapter(adapter)?;
        let mut uris: Vec<PartitionUri> = Vec::new();
        for p in self.hmc.partitions.values() {
            if p.hbas.iter().any(|h| &h.port.parent() == adapter) {
                uris.push(p.uri());
            }
        }
        for g in self.dsm.views() {
            for v in &g.vsrs {
                let on_adapter = self
                    .dsm
                    .get_vsr(&v.uri)
                    .ok()
                    .and_then(|r| r.adapter_port_uri)
                    .is_some_and(|port| &port.parent() == adapter);
                if on_adapter && !uris.contains(&v.partition) {
                    uris.push(v.partition.clone());
                }
            }
        }
        let cpc = self.hmc.cpc.uri();
        let all = self
            .hmc
            .list_partitions(&cpc, &hmc_client::PartitionFilter::default())?;
        Ok(all
            .into_iter()
            .filter(|p| uris.contains(&p.object_uri))
            .collect())
    }

    /// `GET /api/partitions/{id}`, with the storage groups attached to it.
    pub(crate) fn get_partition(&self, uri: &PartitionUri) -> Result<Partition, HmcError> {
        let mut p = self.hmc.get_partition(uri)?;
        p.storage_group_uris = self.dsm.groups_of(uri);
        Ok(p)
    }

    /// `POST /api/partitions/{id}`: a `boot-storage-volume` must exist
    /// (404.2) and be in a group attached to the partition (400.7,
    /// inferred); the HMC checks the rest.
    pub(crate) fn update_partition(
        &mut self,
        uri: &PartitionUri,
        u: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        let p = self.hmc.partition("POST", uri)?;
        let bad =
            |status, reason, msg: String| HmcError::api("POST", uri.as_str(), status, reason, msg);
        if u.boot_storage_volume.is_some() && !self.hmc.cpc.storage_management {
            return Err(bad(
                400,
                dsm::rules::reason::INVALID_VALUE,
                "boot-storage-volume needs the dpm-storage-management feature.".into(),
            ));
        }
        // What the partition boots from once the update is applied: the
        // volume must exist and be in a group attached to the partition
        // whenever it is the boot source, also when only boot-device
        // changes (inferred rule 14).
        let device = u.boot_device.as_ref().unwrap_or(&p.boot_device);
        let volume = match &u.boot_storage_volume {
            Some(v) => v.as_ref(),
            None => p.boot_storage_volume.as_ref(),
        };
        let names_volume = matches!(&u.boot_storage_volume, Some(Some(_)));
        if *device == BootDevice::StorageVolume || names_volume {
            match volume {
                None if *device == BootDevice::StorageVolume => {
                    return Err(bad(
                        400,
                        dsm::rules::reason::INVALID_VALUE,
                        "boot-device storage-volume needs a boot-storage-volume.".into(),
                    ))
                }
                None => {}
                Some(v) => {
                    let (group, _) = self.dsm.volume(v).ok_or_else(|| {
                        bad(
                            404,
                            dsm::rules::reason::REFERENCED_NOT_FOUND,
                            format!("boot-storage-volume {v} does not exist."),
                        )
                    })?;
                    if !group.is_attached_to(uri) {
                        return Err(bad(
                            400,
                            dsm::rules::reason::INVALID_VALUE,
                            format!(
                                "boot-storage-volume {v} is not in a storage group attached to the partition."
                            ),
                        ));
                    }
                }
            }
        }
        // A stored setting an update body names (the served HMC reads the
        // settings from the body itself; the in-memory client has only the
        // update): checked before, stored after.
        let settings = match &u.boot_os_specific_parameters {
            Some(b) => Some(self.hmc.checked_settings(
                uri,
                &crate::hmc::SettingsUpdate {
                    boot_os_specific_parameters: Some(b.clone()),
                    ..Default::default()
                },
            )?),
            None => None,
        };
        self.hmc.update_partition(uri, u)?;
        if let Some(s) = settings {
            self.hmc.set_settings(uri, s);
        }
        Ok(())
    }

    /// `DELETE /api/partitions/{id}`: its vHBAs go with it, and its storage
    /// groups are detached (their VSRs removed; the groups stay).
    pub(crate) fn delete_partition(&mut self, uri: &PartitionUri) -> Result<(), HmcError> {
        self.freeing_wwpns(|w| {
            w.hmc.delete_partition(uri)?;
            w.dsm.partition_deleted(uri);
            Ok(())
        })
    }

    /// The answers of a bulk read: each GET as if it were sent alone.
    pub(crate) fn bulk(
        &self,
        requests: &[hmc_client::BulkRequest],
    ) -> Vec<hmc_client::BulkResponse> {
        requests
            .iter()
            .map(|r| {
                let answer = if r.method.eq_ignore_ascii_case("GET") {
                    self.get_any(&r.uri)
                } else {
                    Err(HmcError::api(
                        "POST",
                        r.uri.clone(),
                        400,
                        hmc::reason::INVALID_VALUE,
                        "dpm-sim takes only GET requests in a bulk read.",
                    ))
                };
                let (status, body) = match answer {
                    Ok(v) => (200, v),
                    Err(HmcError::Api {
                        status,
                        reason,
                        message,
                        ..
                    }) => (
                        status,
                        serde_json::to_value(hmc_client::ErrorBody {
                            http_status: status,
                            reason,
                            message,
                            request_method: Some("GET".into()),
                            request_uri: Some(r.uri.clone()),
                        })
                        .unwrap_or_default(),
                    ),
                    Err(other) => (500, serde_json::json!({"message": other.to_string()})),
                };
                hmc_client::BulkResponse {
                    id: r.id.clone(),
                    status,
                    headers: serde_json::json!({}),
                    body,
                }
            })
            .collect()
    }

    /// `GET` of any object the simulator models, by its URI (404.1 for
    /// one it does not know).
    fn get_any(&self, uri: &str) -> Result<serde_json::Value, HmcError> {
        fn json<T: serde::Serialize>(v: T) -> Result<serde_json::Value, HmcError> {
            Ok(serde_json::to_value(v).unwrap_or_default())
        }
        if uri == hmc_client::CONSOLE_URI {
            return json(self.hmc.console());
        }
        if let Ok(u) = uri.parse::<hmc_client::CpcUri>() {
            return json(self.hmc.cpc_properties(&u)?);
        }
        if let Ok(u) = uri.parse::<hmc_client::AdapterUri>() {
            return json(self.adapter_properties(&u)?);
        }
        if let Ok(u) = uri.parse::<PartitionUri>() {
            return json(self.hmc.partition_properties(self.get_partition(&u)?)?);
        }
        if let Ok(u) = uri.parse::<JobUri>() {
            return json(self.hmc.get_job(&u)?);
        }
        if let Ok(u) = uri.parse::<StorageGroupUri>() {
            return json(self.dsm.group_properties(&u)?);
        }
        if let Ok(u) = uri.parse::<StoragePortUri>() {
            return json(self.get_storage_port(&u)?);
        }
        if let Ok(u) = uri.parse::<HbaUri>() {
            return json(self.hmc.get_hba(&u)?);
        }
        if let Ok(u) = uri.parse::<StorageVolumeUri>() {
            return json(self.dsm.volume_properties(&u)?);
        }
        if let Ok(u) = uri.parse::<hmc_client::VsrUri>() {
            return json(self.dsm.get_vsr(&u)?);
        }
        Err(HmcError::api(
            "GET",
            uri,
            404,
            hmc::reason::NOT_FOUND,
            format!("GET {uri} is not modelled by dpm-sim."),
        ))
    }

    /// `DELETE /api/partitions/{pid}/hbas/{hid}`.
    pub(crate) fn delete_hba(&mut self, uri: &HbaUri) -> Result<(), HmcError> {
        self.freeing_wwpns(|w| w.hmc.delete_hba(uri))
    }

    /// Runs an operation that may free NPIV WWPNs (a vHBA or a group goes,
    /// a group is reshaped) and gives the freed ones back to the pool.
    fn freeing_wwpns<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, HmcError>,
    ) -> Result<T, HmcError> {
        let before = self.wwpns_in_use();
        let out = f(self)?;
        let after = self.wwpns_in_use();
        self.ids.free_npiv(before.difference(&after).copied());
        Ok(out)
    }

    /// Every NPIV WWPN a vHBA or a storage group holds.
    fn wwpns_in_use(&self) -> std::collections::BTreeSet<fc_types::Wwpn> {
        self.hmc
            .partitions
            .values()
            .flat_map(|p| p.hbas.iter().map(|h| h.wwpn))
            .chain(self.dsm.all_wwpns())
            .collect()
    }

    /// `POST /api/partitions/{id}/hbas`: refused on a CPC with the
    /// dpm-storage-management feature (dpm-sim's own reason code).
    pub(crate) fn create_hba(
        &mut self,
        uri: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError> {
        if self.hmc.cpc.storage_management {
            return Err(HmcError::api(
                "POST",
                format!("{uri}/hbas"),
                409,
                dsm::rules::reason::HBAS_NOT_ON_STORAGE_MANAGEMENT,
                "HBAs do not exist on a CPC with the dpm-storage-management feature; use storage groups.",
            ));
        }
        self.hmc.create_hba(&mut self.ids, uri, props)
    }

    // ----- storage management ---------------------------------------------------------

    /// What storage management reads from the other domains.
    /// A storage port as the HMC shows it: `fabric-id` is the fabric the
    /// port is logged in to, so it is empty while that fabric is down.
    pub(crate) fn get_storage_port(
        &self,
        uri: &StoragePortUri,
    ) -> Result<hmc_client::StoragePort, HmcError> {
        let mut port = self.hmc.get_storage_port(uri)?;
        if self
            .hmc
            .port_fabric(uri)
            .is_some_and(|f| self.san.down.contains(&f))
        {
            port.fabric_id = None;
        }
        Ok(port)
    }

    pub(crate) fn dsm_facts(&self) -> DsmFacts<'_> {
        DsmFacts {
            hmc: &self.hmc,
            san: &self.san,
            cinder: &self.cinder,
        }
    }

    /// Runs `f` on storage management with its view of the world and the
    /// id allocator.
    pub(crate) fn with_dsm<T>(
        &mut self,
        f: impl FnOnce(&mut DsmState, &DsmFacts<'_>, &mut Ids) -> T,
    ) -> T {
        let env = DsmFacts {
            hmc: &self.hmc,
            san: &self.san,
            cinder: &self.cinder,
        };
        f(&mut self.dsm, &env, &mut self.ids)
    }

    /// `POST /api/storage-groups`; the group's automatic discovery rounds
    /// begin.
    pub(crate) fn create_storage_group(
        &mut self,
        req: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError> {
        self.create_storage_group_with(req, &dsm::GroupSettings::default())
    }

    /// Create, with the fields beyond hmc-client's type that a request
    /// body may hold.
    pub(crate) fn create_storage_group_with(
        &mut self,
        req: &StorageGroupCreate,
        settings: &dsm::GroupSettings,
    ) -> Result<StorageGroupCreated, HmcError> {
        let created = self.with_dsm(|d, env, ids| d.create_group_with(req, settings, env, ids))?;
        self.schedule(Action::AutoDiscovery {
            group: created.object_uri.object_id().to_owned(),
        });
        Ok(created)
    }

    pub(crate) fn modify_storage_group(
        &mut self,
        uri: &StorageGroupUri,
        req: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        self.modify_storage_group_with(uri, req, &dsm::GroupSettings::default())
    }

    /// Modify, with the fields beyond hmc-client's type.
    pub(crate) fn modify_storage_group_with(
        &mut self,
        uri: &StorageGroupUri,
        req: &StorageGroupModify,
        settings: &dsm::GroupSettings,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        self.freeing_wwpns(|w| {
            w.with_dsm(|d, env, ids| d.modify_group_with(uri, req, settings, env, ids))
        })
    }

    /// `POST .../operations/delete`; a discovery still running on it is
    /// canceled.
    pub(crate) fn delete_storage_group(&mut self, uri: &StorageGroupUri) -> Result<(), HmcError> {
        if let Some(job) = self.freeing_wwpns(|w| w.dsm.delete_group(uri))? {
            self.hmc.cancel_job(
                &job,
                canceled("The job was canceled: its storage group was deleted."),
            );
        }
        Ok(())
    }

    pub(crate) fn add_candidate_ports(
        &mut self,
        uri: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        self.with_dsm(|d, env, _| d.add_candidate_ports(uri, ports, env))
    }

    /// `POST .../operations/start-fcp-storage-discovery`: a job that ends
    /// after `discovery_ms`, when discovery runs; a forced restart cancels
    /// the running one.
    pub(crate) fn start_discovery(
        &mut self,
        uri: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError> {
        let started = self
            .dsm
            .start_discovery(uri, force_restart, &mut self.ids)?;
        if let Some(old) = &started.superseded {
            self.hmc.cancel_job(
                old,
                canceled("The job was canceled: a forced restart superseded it."),
            );
        }
        let job = self.hmc.new_job_elsewhere(&started.job);
        self.schedule(Action::DiscoveryJobEnds { job: started.job });
        Ok(job)
    }

    pub(crate) fn attach_storage_group(
        &mut self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.with_dsm(|d, env, ids| d.attach(partition, group, env, ids))
    }

    pub(crate) fn detach_storage_group(
        &mut self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.with_dsm(|d, env, _| d.detach(partition, group, env))
    }

    pub(crate) fn validate_lun_path(
        &self,
        cpc: &hmc_client::CpcUri,
        path: &LunPath,
    ) -> Result<(), HmcError> {
        self.dsm.validate_lun_path(cpc, path, &self.dsm_facts())
    }
}

/// How a canceled discovery job ends (status and reason are dpm-sim's
/// choice, see `dsm::rules::CANCELED_JOB_STATUS`).
fn canceled(message: &str) -> hmc::JobOutcome {
    hmc::JobOutcome {
        status: dsm::rules::CANCELED_JOB_STATUS,
        reason: Some(dsm::rules::reason::WRONG_STATE),
        message: Some(message.into()),
    }
}
