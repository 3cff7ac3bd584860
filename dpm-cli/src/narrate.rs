//! API clients that tell what they do, in the words of the design spec's
//! sequence diagrams: `nova-driver → HMC`, `nova-driver → cinder`, and,
//! read from the simulated storage system, `cinder → storage`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use cinder_client::{
    Attachment, AttachmentFilter, AttachmentId, CinderApi, CinderError, ConnectionInfo, Connector,
    InstanceId, Volume, VolumeCreate, VolumeId,
};
use dpm_sim::{Sim, StorageEvent, Zone};
use hmc_client::{
    Adapter, AdapterFilter, AdapterSummary, AdapterUri, ApiVersion, Cpc, CpcSummary, CpcUri, Hba,
    HbaCreate, HbaUri, HmcApi, HmcError, Job, JobUri, LogonResponse, LunPath, Partition,
    PartitionCreate, PartitionFilter, PartitionListProperty, PartitionSummary, PartitionUpdate,
    PartitionUri, StorageGroup, StorageGroupCreate, StorageGroupCreated, StorageGroupFilter,
    StorageGroupModify, StorageGroupSummary, StorageGroupUri, StoragePort, StoragePortUri,
    StorageVolume, StorageVolumeFilter, StorageVolumeSummary, StorageVolumeUri, VolumeRequest, Vsr,
    VsrSummary, VsrUri,
};

/// Prints one line of the flow, stamped with simulated time.
pub fn say(sim: &Sim, from_to: &str, what: &str) {
    println!("  [{:>6.1}s] {from_to:<26} {what}", sim.now().as_secs_f64());
}

/// What the storage side did since the last look.
#[derive(Debug, Default)]
struct Seen {
    events: usize,
    zones: BTreeSet<Zone>,
}

/// Narrates storage events and zone changes since the last call.
#[derive(Debug)]
pub struct StorageWatch {
    sim: Sim,
    seen: Mutex<Seen>,
    fabrics: Vec<String>,
}

impl StorageWatch {
    pub fn new(sim: &Sim) -> Self {
        let fabrics = sim.spec().fabrics.iter().map(|f| f.name.clone()).collect();
        let seen = Seen {
            events: sim.storage_events().len(),
            zones: sim.zones().into_iter().collect(),
        };
        Self {
            sim: sim.clone(),
            seen: Mutex::new(seen),
            fabrics,
        }
    }

    pub fn report(&self) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let events = self.sim.storage_events();
        for e in &events[seen.events.min(events.len())..] {
            let what = match e {
                StorageEvent::Mapped {
                    host,
                    volume,
                    scsi_id,
                } => {
                    format!(
                        "LUN masking: map volume {} to host {host} at SCSI id {scsi_id}",
                        short(volume)
                    )
                }
                StorageEvent::ImageWritten { volume, image } => {
                    format!("write image {image} to volume {}", short(volume))
                }
                StorageEvent::Unmapped { host, volume } => format!(
                    "LUN masking: unmap volume {} from host {host}",
                    short(volume)
                ),
                StorageEvent::HostRemoved { host } => {
                    format!("remove host {host} (no mappings left)")
                }
            };
            say(&self.sim, "cinder → storage", &what);
        }
        seen.events = events.len();
        let now: BTreeSet<Zone> = self.sim.zones().into_iter().collect();
        let fabric = |z: &Zone| self.fabrics.get(z.fabric).cloned().unwrap_or_default();
        for z in now.difference(&seen.zones) {
            say(
                &self.sim,
                "cinder → storage",
                &format!(
                    "zoning: add zone on fabric {}: {} ↔ {}",
                    fabric(z),
                    z.initiator,
                    z.target
                ),
            );
        }
        for z in seen.zones.difference(&now) {
            say(
                &self.sim,
                "cinder → storage",
                &format!(
                    "zoning: remove zone on fabric {}: {} ↔ {}",
                    fabric(z),
                    z.initiator,
                    z.target
                ),
            );
        }
        seen.zones = now;
    }
}

/// The first group of a UUID's text, enough to tell volumes apart.
fn short(v: &VolumeId) -> String {
    let mut s = v.to_string();
    s.truncate(8);
    s
}

/// An HMC client that narrates every request of the demo on stdout, with
/// simulated time.
#[derive(Debug)]
pub struct NarratedHmc<H> {
    pub inner: H,
    pub sim: Sim,
}

impl<H> NarratedHmc<H> {
    fn say(&self, what: String) {
        say(&self.sim, "nova-driver → HMC", &what);
    }

    /// Progress of something that takes time (start, stop, job polls).
    fn progress(&self, what: String) {
        self.say(what);
    }
}

#[async_trait]
impl<H: HmcApi> HmcApi for NarratedHmc<H> {
    async fn logon(&self) -> Result<LogonResponse, HmcError> {
        self.say("POST /api/sessions (logon)".into());
        self.inner.logon().await
    }
    async fn logoff(&self) -> Result<(), HmcError> {
        self.say("DELETE /api/sessions/this-session (logoff)".into());
        self.inner.logoff().await
    }
    async fn api_version(&self) -> Result<ApiVersion, HmcError> {
        self.inner.api_version().await
    }
    async fn list_cpcs<'a>(&self, name: Option<&'a str>) -> Result<Vec<CpcSummary>, HmcError> {
        self.say("GET /api/cpcs".into());
        self.inner.list_cpcs(name).await
    }
    async fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.say(format!("GET {cpc} (capacity, mode, features)"));
        self.inner.get_cpc(cpc).await
    }
    async fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<AdapterSummary>, HmcError> {
        self.say(format!("GET {cpc}/adapters"));
        self.inner.list_adapters(cpc, filter).await
    }
    async fn get_adapter(&self, adapter: &AdapterUri) -> Result<Adapter, HmcError> {
        self.say(format!("GET {adapter} (check FCP adapter)"));
        self.inner.get_adapter(adapter).await
    }
    async fn get_storage_port(&self, port: &StoragePortUri) -> Result<StoragePort, HmcError> {
        self.say(format!("GET {port}"));
        self.inner.get_storage_port(port).await
    }
    async fn list_partitions(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.say(format!(
            "GET {cpc}/partitions?name={}",
            filter.name.as_deref().unwrap_or("")
        ));
        self.inner.list_partitions(cpc, filter).await
    }
    async fn list_partitions_with(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
        additional: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        let names: Vec<&str> = additional.iter().map(|p| p.as_str()).collect();
        self.say(format!(
            "GET {cpc}/partitions?name={}&additional-properties={}",
            filter.name.as_deref().unwrap_or(""),
            names.join(",")
        ));
        self.inner
            .list_partitions_with(cpc, filter, additional)
            .await
    }
    async fn create_partition(
        &self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        self.say(format!(
            "POST {cpc}/partitions (create {}: {} IFL, {} MiB)",
            props.name,
            props.ifl_processors.unwrap_or(0),
            props.initial_memory
        ));
        self.inner.create_partition(cpc, props).await
    }
    async fn get_partition(&self, partition: &PartitionUri) -> Result<Partition, HmcError> {
        self.say(format!("GET {partition}"));
        self.inner.get_partition(partition).await
    }
    async fn update_partition(
        &self,
        partition: &PartitionUri,
        props: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        let what = match (
            &props.boot_storage_device,
            props.boot_world_wide_port_name,
            props.boot_logical_unit_number,
        ) {
            (Some(hba), Some(wwpn), Some(lun)) => format!(
                "POST {partition} (boot from storage-adapter: HBA {}, target {wwpn}, LUN {lun})",
                hba.element_id()
            ),
            _ => match &props.boot_storage_volume {
                Some(Some(sv)) => format!(
                    "POST {partition} (boot from storage-volume {})",
                    sv.element_id()
                ),
                _ => format!("POST {partition} (update properties)"),
            },
        };
        self.say(what);
        self.inner.update_partition(partition, props).await
    }
    async fn delete_partition(&self, partition: &PartitionUri) -> Result<(), HmcError> {
        self.say(format!(
            "DELETE {partition} (its vHBAs go with it; its storage groups are detached)"
        ));
        self.inner.delete_partition(partition).await
    }
    async fn start_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.progress(format!("POST {partition}/operations/start"));
        self.inner.start_partition(partition).await
    }
    async fn stop_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.progress(format!("POST {partition}/operations/stop"));
        self.inner.stop_partition(partition).await
    }
    async fn create_hba(
        &self,
        partition: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError> {
        self.say(format!(
            "POST {partition}/hbas (vHBA {} on {})",
            props.name, props.adapter_port_uri
        ));
        self.inner.create_hba(partition, props).await
    }
    async fn get_hba(&self, hba: &HbaUri) -> Result<Hba, HmcError> {
        let r = self.inner.get_hba(hba).await;
        match &r {
            Ok(h) => self.say(format!(
                "GET {hba} → WWPN {}, device {}",
                h.wwpn, h.device_number
            )),
            Err(_) => self.say(format!("GET {hba}")),
        }
        r
    }
    async fn delete_hba(&self, hba: &HbaUri) -> Result<(), HmcError> {
        self.say(format!("DELETE {hba}"));
        self.inner.delete_hba(hba).await
    }
    async fn get_job(&self, job: &JobUri) -> Result<Job, HmcError> {
        let r = self.inner.get_job(job).await;
        if let Ok(j) = &r {
            self.progress(format!(
                "GET {job} → {}{}",
                j.status,
                j.job_status_code
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            ));
        }
        r
    }
    async fn delete_job(&self, job: &JobUri) -> Result<(), HmcError> {
        self.inner.delete_job(job).await
    }
    async fn job_announced(
        &self,
        job: &JobUri,
        deadline: tokio::time::Instant,
    ) -> hmc_client::JobAnnouncement {
        self.inner.job_announced(job, deadline).await
    }
    async fn list_storage_groups(
        &self,
        filter: &StorageGroupFilter,
    ) -> Result<Vec<StorageGroupSummary>, HmcError> {
        self.say(format!(
            "GET /api/storage-groups?name={}",
            filter.name.as_deref().unwrap_or("")
        ));
        self.inner.list_storage_groups(filter).await
    }
    async fn create_storage_group(
        &self,
        props: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError> {
        let volumes: Vec<String> = props
            .storage_volumes
            .iter()
            .filter_map(|v| match v {
                VolumeRequest::Create(c) => Some(format!(
                    "{} {} GiB",
                    c.usage.as_ref().map(|u| u.as_str()).unwrap_or("data"),
                    c.size
                )),
                _ => None,
            })
            .collect();
        self.say(format!(
            "POST /api/storage-groups (create {}: fcp, {} paths, volumes: {})",
            props.name,
            props.connectivity.unwrap_or(0),
            volumes.join(", ")
        ));
        self.inner.create_storage_group(props).await
    }
    async fn get_storage_group(&self, group: &StorageGroupUri) -> Result<StorageGroup, HmcError> {
        let r = self.inner.get_storage_group(group).await;
        match &r {
            Ok(g) => {
                let free: Vec<String> = g
                    .unassigned_world_wide_port_names
                    .iter()
                    .map(|w| w.world_wide_port_name.to_string())
                    .collect();
                self.say(format!(
                    "GET {group} → {}, {}",
                    g.fulfillment_state,
                    if free.is_empty() {
                        format!(
                            "{} VSRs use its WWPNs",
                            g.virtual_storage_resource_uris.len()
                        )
                    } else {
                        format!("WWPNs {}", free.join(", "))
                    }
                ))
            }
            Err(_) => self.say(format!("GET {group}")),
        }
        r
    }
    async fn modify_storage_group(
        &self,
        group: &StorageGroupUri,
        props: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        let ops: Vec<&str> = props
            .storage_volumes
            .iter()
            .map(|v| match v {
                VolumeRequest::Create(_) => "add a volume request",
                VolumeRequest::Modify(_) => "rename a volume request",
                VolumeRequest::Delete { .. } => "remove a volume request",
            })
            .collect();
        self.say(format!(
            "POST {group}/operations/modify ({})",
            ops.join(", ")
        ));
        self.inner.modify_storage_group(group, props).await
    }
    async fn delete_storage_group(&self, group: &StorageGroupUri) -> Result<(), HmcError> {
        self.say(format!("POST {group}/operations/delete"));
        self.inner.delete_storage_group(group).await
    }
    async fn add_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        self.say(format!(
            "POST {group}/operations/add-candidate-adapter-ports ({} ports)",
            ports.len()
        ));
        self.inner.add_candidate_adapter_ports(group, ports).await
    }
    async fn remove_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        self.say(format!(
            "POST {group}/operations/remove-candidate-adapter-ports"
        ));
        self.inner
            .remove_candidate_adapter_ports(group, ports)
            .await
    }
    async fn get_storage_group_partitions(
        &self,
        group: &StorageGroupUri,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.say(format!("GET {group}/operations/get-partitions"));
        self.inner.get_storage_group_partitions(group).await
    }
    async fn start_fcp_storage_discovery(
        &self,
        group: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError> {
        self.progress(format!(
            "POST {group}/operations/start-fcp-storage-discovery"
        ));
        self.inner
            .start_fcp_storage_discovery(group, force_restart)
            .await
    }
    async fn accept_mismatched_storage_volumes(
        &self,
        group: &StorageGroupUri,
        volumes: &[StorageVolumeUri],
    ) -> Result<(), HmcError> {
        self.say(format!(
            "POST {group}/operations/accept-mismatched-storage-volumes"
        ));
        self.inner
            .accept_mismatched_storage_volumes(group, volumes)
            .await
    }
    async fn list_storage_volumes(
        &self,
        group: &StorageGroupUri,
        filter: &StorageVolumeFilter,
    ) -> Result<Vec<StorageVolumeSummary>, HmcError> {
        self.say(format!("GET {group}/storage-volumes"));
        self.inner.list_storage_volumes(group, filter).await
    }
    async fn get_storage_volume(
        &self,
        volume: &StorageVolumeUri,
    ) -> Result<StorageVolume, HmcError> {
        let r = self.inner.get_storage_volume(volume).await;
        match &r {
            Ok(v) => self.say(format!(
                "GET storage volume {} → {}, {} path(s)",
                volume.element_id(),
                v.fulfillment_state,
                v.paths.len()
            )),
            Err(_) => self.say(format!("GET {volume}")),
        }
        r
    }
    async fn list_vsrs<'a>(
        &self,
        group: &StorageGroupUri,
        partition: Option<&'a PartitionUri>,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        self.say(format!("GET {group}/virtual-storage-resources"));
        self.inner.list_vsrs(group, partition).await
    }
    async fn get_vsr(&self, vsr: &VsrUri) -> Result<Vsr, HmcError> {
        let r = self.inner.get_vsr(vsr).await;
        match &r {
            Ok(v) => self.say(format!(
                "GET VSR {} → WWPN {}, device {}",
                vsr.element_id(),
                v.world_wide_port_name,
                v.device_number
            )),
            Err(_) => self.say(format!("GET {vsr}")),
        }
        r
    }
    async fn attach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.say(format!(
            "POST {partition}/operations/attach-storage-group (one VSR per adapter)"
        ));
        self.inner.attach_storage_group(partition, group).await
    }
    async fn detach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.say(format!("POST {partition}/operations/detach-storage-group"));
        self.inner.detach_storage_group(partition, group).await
    }
    async fn submit_requests(
        &self,
        requests: &[hmc_client::BulkRequest],
    ) -> Result<Vec<hmc_client::BulkResponse>, HmcError> {
        self.say(format!(
            "POST /api/services/aggregation/submit ({} GETs in one request)",
            requests.len()
        ));
        self.inner.submit_requests(requests).await
    }
    async fn validate_lun_path(&self, cpc: &CpcUri, path: &LunPath) -> Result<(), HmcError> {
        self.say(format!("POST {cpc}/operations/validate-lun-path"));
        self.inner.validate_lun_path(cpc, path).await
    }
}

/// A Cinder client that narrates each request and what the storage did.
#[derive(Debug)]
pub struct NarratedCinder<C> {
    pub inner: C,
    pub sim: Sim,
    pub storage: StorageWatch,
}

impl<C> NarratedCinder<C> {
    fn say(&self, what: String) {
        say(&self.sim, "nova-driver → cinder", &what);
    }
}

#[async_trait]
impl<C: CinderApi> CinderApi for NarratedCinder<C> {
    async fn attachments_api(&self) -> Result<bool, CinderError> {
        self.inner.attachments_api().await
    }
    async fn get_volume(&self, id: &VolumeId) -> Result<Volume, CinderError> {
        self.inner.get_volume(id).await
    }
    async fn list_volumes(&self) -> Result<Vec<Volume>, CinderError> {
        self.inner.list_volumes().await
    }
    async fn create_volume(&self, req: &VolumeCreate) -> Result<Volume, CinderError> {
        let r = self.inner.create_volume(req).await;
        self.storage.report();
        r
    }
    async fn delete_volume(&self, id: &VolumeId) -> Result<(), CinderError> {
        self.inner.delete_volume(id).await
    }
    async fn create_attachment<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&'a Connector>,
    ) -> Result<Attachment, CinderError> {
        self.say(format!(
            "POST /attachments (reserve volume {})",
            short(volume)
        ));
        let r = self
            .inner
            .create_attachment(volume, instance, connector)
            .await;
        self.storage.report();
        r
    }
    async fn update_attachment(
        &self,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        let wwpns: Vec<String> = connector.wwpns.iter().map(ToString::to_string).collect();
        self.say(format!(
            "PUT /attachments/{} (initialize_connection: initiators {})",
            &id.to_string()[..8],
            wwpns.join(", ")
        ));
        let r = self.inner.update_attachment(id, connector).await;
        self.storage.report();
        let fc = r
            .as_ref()
            .ok()
            .and_then(|a| a.connection_info.as_ref())
            .map(ConnectionInfo::fibre_channel);
        if let Some(Ok(fc)) = fc {
            let lun = fc
                .targets
                .first()
                .map(|t| t.lun.to_target_lun())
                .unwrap_or_default();
            let targets: Vec<String> = fc.targets.iter().map(|t| t.wwpn.to_string()).collect();
            say(
                &self.sim,
                "cinder → nova-driver",
                &format!("target WWPNs {}, LUN {lun}", targets.join(", ")),
            );
        }
        r
    }
    async fn complete_attachment(&self, id: &AttachmentId) -> Result<(), CinderError> {
        self.say(format!(
            "POST /attachments/{}/action os-complete",
            &id.to_string()[..8]
        ));
        self.inner.complete_attachment(id).await
    }
    async fn delete_attachment(&self, id: &AttachmentId) -> Result<Vec<Attachment>, CinderError> {
        self.say(format!(
            "DELETE /attachments/{} (terminate_connection)",
            &id.to_string()[..8]
        ));
        let r = self.inner.delete_attachment(id).await;
        self.storage.report();
        r
    }
    async fn get_attachment(&self, id: &AttachmentId) -> Result<Attachment, CinderError> {
        self.inner.get_attachment(id).await
    }
    async fn list_attachments(
        &self,
        filter: &AttachmentFilter,
    ) -> Result<Vec<Attachment>, CinderError> {
        self.say("GET /attachments/detail (this instance's attachments)".into());
        self.inner.list_attachments(filter).await
    }
    async fn reserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.inner.reserve(volume).await
    }
    async fn unreserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.inner.unreserve(volume).await
    }
    async fn initialize_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        let r = self.inner.initialize_connection(volume, connector).await;
        self.storage.report();
        r
    }
    async fn attach<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&'a str>,
    ) -> Result<(), CinderError> {
        self.inner
            .attach(volume, instance, mountpoint, host_name)
            .await
    }
    async fn begin_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.inner.begin_detaching(volume).await
    }
    async fn roll_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.inner.roll_detaching(volume).await
    }
    async fn terminate_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        let r = self.inner.terminate_connection(volume, connector).await;
        self.storage.report();
        r
    }
    async fn detach(
        &self,
        volume: &VolumeId,
        attachment: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.inner.detach(volume, attachment).await
    }
}
