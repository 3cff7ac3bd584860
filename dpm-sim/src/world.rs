//! The simulated world: one sub-state per domain, and what is common to
//! them (clock, ids, pending transitions, counters, request log, faults).
//!
//! This is the one module that knows every domain. The domains never
//! import each other or this module; what one needs from another it reads
//! through a narrow view assembled here:
//!
//! - the HMC's start job checks the boot path through [`hmc::BootView`],
//!   implemented by [`BootFacts`] on the SAN and Cinder;
//! - Cinder drives its storage backend through [`cinder::Backend`],
//!   implemented by [`SanBackend`] on the SAN, with each initiator's fabric
//!   login read from the HMC ([`logged_in_fabric`]): a vHBA's port while
//!   its partition runs, or the candidate port a storage group's WWPN is
//!   bound to while its partition runs or the group is being discovered;
//! - storage management ([`dsm`]) reads the CPC, ports, partitions, the SAN
//!   and Cinder through [`DsmFacts`], and draws ids from [`Ids`]; the start
//!   job's storage-volume boot check is decided by it, here, just before
//!   the HMC finishes the job.
//!
//! Domains return the transitions they start ([`hmc::Later`],
//! [`cinder::Later`]) and this module schedules and applies them.
//!
//! Callers (`client.rs`, `serve`) call a domain directly for what stays
//! inside it (`w.hmc.get_cpc(..)`, `w.hmc.create_hba(&mut w.ids, ..)`,
//! `w.cinder.get_volume(..)`); the operations on [`World`] below are those
//! that need more: a transition to schedule, or Cinder's clock and backend.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use cinder_client::{
    Attachment, AttachmentId, CinderError, ConnectionInfo, Connector, FcData, InstanceId,
    VolumeCreate, VolumeId,
};
use fc_types::{FcpLun, Wwpn};
use hmc_client::{
    AdapterType, BootDevice, HbaCreate, HbaUri, HmcError, JobUri, LunPath, Partition,
    PartitionStatus, PartitionUpdate, PartitionUri, StorageGroupCreate, StorageGroupCreated,
    StorageGroupModify, StorageGroupUri, StoragePortUri, StorageVolumeUri,
};

use crate::cinder::{self, CinderState};
use crate::clock::{Clock, ClockMode};
use crate::dsm::{self, DsmState};
use crate::harness::{Fault, Harness};
use crate::hmc::{self, HmcState, PartitionState};
use crate::ids::Ids;
use crate::notify::Notifier;
use crate::ops::Op;
use crate::spec::{SpecError, Timings, WorldSpec};
use crate::storage::{Storage, StorageRefusal};

/// The transport failure a lost reply shows to an in-memory client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LostReply(pub String);

/// A transition that finishes at a point in simulated time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Hmc(hmc::Later),
    Cinder(cinder::Later),
    /// A storage group's discovery job ends (after `discovery_ms`).
    DiscoveryJobEnds {
        job: String,
    },
    /// A storage group's automatic discovery round (every
    /// `auto_discovery_ms`); background.
    AutoDiscovery {
        group: String,
    },
}

impl Action {
    /// Background transitions (periodic rounds) never end, so
    /// [`World::next_due_time`] and with it `Sim::run_until_idle` and
    /// `Sim::is_busy` do not wait for them; they run when time passes them.
    fn is_background(&self) -> bool {
        matches!(self, Self::AutoDiscovery { .. })
    }
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub due: Duration,
    pub seq: u64,
    pub action: Action,
}

/// The whole simulated world: one sub-state per domain, and what they
/// share.
#[derive(Debug)]
pub(crate) struct World {
    pub clock: Clock,
    pub timings: Timings,
    /// The one id allocator every domain draws from.
    pub ids: Ids,
    /// The HMC: sessions, CPC, adapters, partitions with their vHBAs, jobs.
    pub hmc: HmcState,
    /// The SAN and the storage system: host objects, mappings, zones.
    pub san: Storage,
    /// Cinder: volumes, attachments, images, projects.
    pub cinder: CinderState,
    /// DPM storage management: storage groups, their volumes and VSRs
    /// (CPCs with the dpm-storage-management feature).
    pub dsm: DsmState,
    pub pending: Vec<Pending>,
    /// What the tests and the control port do to the clients' requests:
    /// counters, faults, severing, stalls, latency.
    pub harness: Harness,
    /// The notifications it publishes.
    pub notifier: Notifier,
    /// Whether a task ends transitions at their due time (see
    /// [`crate::notify::run_ticker`]).
    pub ticking: bool,
}

impl World {
    pub(crate) fn new(spec: &WorldSpec, mode: ClockMode) -> Result<Self, SpecError> {
        spec.validate()?;
        let san = Storage::new(spec)?;
        let cinder = CinderState::new(spec)?;
        let mut ids = Ids::default();
        let hmc = HmcState::new(spec, &mut ids)?;
        Ok(Self {
            clock: Clock::new(mode),
            timings: spec.timings.clone(),
            ids,
            hmc,
            san,
            cinder,
            dsm: DsmState::default(),
            pending: Vec::new(),
            harness: Harness::default(),
            notifier: Notifier::default(),
            ticking: false,
        })
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    // ----- transitions ----------------------------------------------------------

    /// Schedules `action` to finish after its configured duration.
    /// Publishes the jobs that ended and the statuses that changed.
    pub(crate) fn publish(&mut self) {
        let now = self.now();
        let dsm = &self.dsm;
        let groups = || dsm.groups.iter().map(|g| g.uri().to_string()).collect();
        self.notifier.publish(&mut self.hmc, groups, now);
    }

    /// When the next transition is due, on tokio time (automatic clock
    /// only).
    pub(crate) fn next_due_instant(&self) -> Option<tokio::time::Instant> {
        self.clock.instant_at(self.next_due_time()?)
    }

    fn schedule(&mut self, action: Action) {
        // A ticker waiting for the next due time looks again.
        self.notifier.changed.notify_one();
        // A stalled operation's jobs (a partition start or stop, a
        // discovery) never end: they stay running.
        let op = match &action {
            Action::Hmc(hmc::Later::PartitionStarted { .. }) => Some(Op::StartPartition),
            Action::Hmc(hmc::Later::PartitionStopped { .. }) => Some(Op::StopPartition),
            Action::DiscoveryJobEnds { .. } => Some(Op::StartFcpStorageDiscovery),
            _ => None,
        };
        if op.is_some_and(|op| self.harness.stalls(op)) {
            return;
        }
        let after = match &action {
            Action::Hmc(l) => l.after(&self.timings),
            Action::Cinder(l) => l.after(&self.timings),
            Action::DiscoveryJobEnds { .. } => self.timings.discovery(),
            Action::AutoDiscovery { .. } => self.timings.auto_discovery(),
        };
        let due = self.now() + after;
        let seq = self.ids.next_seq();
        self.pending.push(Pending { due, seq, action });
    }

    /// Applies every transition that is due, in order.
    pub(crate) fn settle(&mut self) {
        let now = self.now();
        while let Some(i) = self.next_due(now) {
            let p = self.pending.swap_remove(i);
            self.apply(p.action);
        }
    }

    fn next_due(&self, now: Duration) -> Option<usize> {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due <= now)
            .min_by_key(|(_, p)| (p.due, p.seq))
            .map(|(i, _)| i)
    }

    /// When the next pending transition is due (background rounds left
    /// out: see [`Action::is_background`]).
    pub(crate) fn next_due_time(&self) -> Option<Duration> {
        self.pending
            .iter()
            .filter(|p| !p.action.is_background())
            .map(|p| p.due)
            .min()
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Hmc(later) => {
                let volume_boot = match &later {
                    hmc::Later::PartitionStarted { job } => self.volume_boot_verdict(job),
                    hmc::Later::PartitionStopped { .. } | hmc::Later::GuestHalted { .. } => None,
                };
                let view = BootFacts {
                    san: &self.san,
                    cinder: &self.cinder,
                    volume_boot,
                };
                let now = self.clock.now();
                self.hmc.finish(later, &view, now);
            }
            Action::Cinder(later) => {
                // A volume from an image has a second step (downloading).
                if let Some(next) = self.with_cinder(|c, cx| c.finish(cx, later)) {
                    self.schedule(Action::Cinder(next));
                }
            }
            Action::DiscoveryJobEnds { job } => {
                self.with_dsm(|d, env, ids| d.finish_discovery_job(&job, env, ids));
                self.hmc.end_job(&job, hmc::no_content_outcome());
            }
            Action::AutoDiscovery { group } => {
                if self.with_dsm(|d, env, ids| d.auto_discover(&group, env, ids)) {
                    self.schedule(Action::AutoDiscovery { group });
                }
            }
        }
    }

    /// The storage-volume boot check of the partition a start job starts,
    /// decided now (when the job ends); `None` when it does not boot from a
    /// storage volume.
    fn volume_boot_verdict(&self, job: &str) -> Option<Result<(), String>> {
        let pid = self.hmc.jobs.get(job)?.partition.as_deref()?;
        let p = self.hmc.partitions.get(pid)?;
        if p.boot_device != BootDevice::StorageVolume {
            return None;
        }
        let env = self.dsm_facts();
        Some(self.dsm.boot_check(&partition_facts(p), &env))
    }

    /// Whether the clients are cut off; counts the requests that still get
    /// through.
    pub(crate) fn severed(&mut self) -> bool {
        self.harness.severed()
    }

    /// Counts a request that is not a world operation (a Keystone
    /// authentication).
    pub(crate) fn count(&mut self, op: Op) {
        self.harness.count(op);
    }

    /// Brings the world up to now, counts a request and returns the
    /// injected fault, if one is armed or drawn.
    pub(crate) fn enter(&mut self, op: Op) -> Option<Fault> {
        self.settle();
        self.harness.enter(op)
    }

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
            return json(self.hmc.get_cpc(&u)?);
        }
        if let Ok(u) = uri.parse::<hmc_client::AdapterUri>() {
            return json(self.hmc.get_adapter(&u)?);
        }
        if let Ok(u) = uri.parse::<PartitionUri>() {
            return json(self.hmc.partition_properties(self.get_partition(&u)?)?);
        }
        if let Ok(u) = uri.parse::<JobUri>() {
            return json(self.hmc.get_job(&u)?);
        }
        if let Ok(u) = uri.parse::<StorageGroupUri>() {
            return json(self.dsm.get_group(&u)?);
        }
        if let Ok(u) = uri.parse::<StoragePortUri>() {
            return json(self.get_storage_port(&u)?);
        }
        if let Ok(u) = uri.parse::<HbaUri>() {
            return json(self.hmc.get_hba(&u)?);
        }
        if let Ok(u) = uri.parse::<StorageVolumeUri>() {
            return json(self.dsm.get_volume(&u)?);
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
        let created = self.with_dsm(|d, env, ids| d.create_group(req, env, ids))?;
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
        self.freeing_wwpns(|w| w.with_dsm(|d, env, ids| d.modify_group(uri, req, env, ids)))
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

    // ----- Cinder operations that change something --------------------------------

    /// Runs `f` on Cinder with what it borrows from the rest of the world.
    fn with_cinder<T>(&mut self, f: impl FnOnce(&mut CinderState, &mut cinder::Cx<'_>) -> T) -> T {
        let mut backend = SanBackend {
            san: &mut self.san,
            hmc: &self.hmc,
            dsm: &self.dsm,
        };
        let mut cx = cinder::Cx {
            ids: &mut self.ids,
            clock: &self.clock,
            backend: &mut backend,
        };
        f(&mut self.cinder, &mut cx)
    }

    pub(crate) fn create_volume(
        &mut self,
        project: &str,
        user: Option<&str>,
        req: &VolumeCreate,
    ) -> Result<cinder::VolumeDetail, CinderError> {
        let (volume, later) = self.with_cinder(|c, cx| c.create_volume(cx, project, user, req))?;
        self.schedule(Action::Cinder(later));
        Ok(volume)
    }

    pub(crate) fn delete_volume(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let later = self.with_cinder(|c, cx| c.delete_volume(cx, project, id))?;
        self.schedule(Action::Cinder(later));
        Ok(())
    }

    pub(crate) fn create_attachment(
        &mut self,
        project: &str,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.create_attachment(cx, project, volume, instance, connector))
    }

    pub(crate) fn update_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.update_attachment(cx, project, id, connector))
    }

    pub(crate) fn complete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.complete_attachment(cx, project, id))
    }

    pub(crate) fn delete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<Vec<Attachment>, CinderError> {
        self.with_cinder(|c, cx| c.delete_attachment(cx, project, id))
    }

    pub(crate) fn reserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.reserve(cx, project, id))
    }

    pub(crate) fn unreserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.unreserve(cx, project, id))
    }

    pub(crate) fn initialize_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        self.with_cinder(|c, cx| c.initialize_connection(cx, project, id, connector))
    }

    pub(crate) fn attach(
        &mut self,
        project: &str,
        id: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&str>,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.attach(cx, project, id, instance, mountpoint, host_name))
    }

    pub(crate) fn begin_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.begin_detaching(cx, project, id))
    }

    pub(crate) fn roll_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.roll_detaching(cx, project, id))
    }

    pub(crate) fn terminate_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.terminate_connection(cx, project, id, connector))
    }

    pub(crate) fn detach(
        &mut self,
        project: &str,
        id: &VolumeId,
        attachment: Option<&AttachmentId>,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.detach(cx, project, id, attachment))
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

// ----- views between domains ------------------------------------------------------

/// The fabric an initiator WWPN is logged in to now (what `lsfabric`
/// shows), if any; never a fabric that is down:
/// - one of the Cinder node's ports, always;
/// - a vHBA, while its partition runs (from the start of its IPL until it
///   has stopped; paused and terminated partitions keep their resources,
///   channels included), over its adapter port's cable;
/// - a storage group's WWPN, while the partition of its VSR runs or while
///   the group's discovery runs, over the candidate port it is bound to.
fn logged_in_fabric(san: &Storage, hmc: &HmcState, dsm: &DsmState, wwpn: Wwpn) -> Option<usize> {
    let runs = |p: &PartitionState| {
        matches!(
            p.status,
            PartitionStatus::Starting
                | PartitionStatus::Active
                | PartitionStatus::Degraded
                | PartitionStatus::Paused
                | PartitionStatus::Terminated
                | PartitionStatus::Stopping
        )
    };
    let fabric = san.node_port_fabric(wwpn).or_else(|| {
        if let Some((p, hba)) = hmc
            .partitions
            .values()
            .find_map(|p| Some((p, p.hbas.iter().find(|h| h.wwpn == wwpn)?)))
        {
            return runs(p).then(|| hmc.port_fabric(&hba.port)).flatten();
        }
        let (group, index) = dsm
            .groups
            .iter()
            .find_map(|g| Some((g, g.wwpns.iter().position(|w| w.wwpn == wwpn)?)))?;
        let active = group.discovery_job.is_some()
            || group.vsrs.iter().any(|v| {
                v.wwpn_index == index
                    && hmc
                        .partitions
                        .get(v.partition.object_id())
                        .is_some_and(&runs)
            });
        active
            .then(|| hmc.port_fabric(group.wwpns[index].port.as_ref()?))
            .flatten()
    })?;
    (!san.down.contains(&fabric)).then_some(fabric)
}

/// What the HMC's boot check reads: zones and mappings from the SAN,
/// bootability from Cinder, and storage management's verdict for a
/// storage-volume boot.
struct BootFacts<'a> {
    san: &'a Storage,
    cinder: &'a CinderState,
    volume_boot: Option<Result<(), String>>,
}

impl hmc::BootView for BootFacts<'_> {
    fn reachable(&self, initiator: Wwpn, fabric: usize, target: Wwpn) -> bool {
        self.san.reachable(initiator, fabric, target)
    }

    fn mapped_volume(&self, initiator: Wwpn, scsi_id: u32) -> Option<VolumeId> {
        self.san.host_of(initiator)?.mappings.get(&scsi_id).cloned()
    }

    fn bootable(&self, volume: &VolumeId) -> bool {
        self.cinder.volumes.get(volume).is_some_and(|v| v.bootable)
    }

    fn storage_volume_boot(&self, p: &PartitionState) -> Result<(), String> {
        self.volume_boot.clone().unwrap_or_else(|| {
            Err(format!(
                "Boot failed: partition {} does not boot from a storage volume.",
                p.name
            ))
        })
    }
}

/// What storage management reads: the CPC, its ports and partitions from
/// the HMC, zones and masking from the SAN, volumes from Cinder.
pub(crate) struct DsmFacts<'a> {
    hmc: &'a HmcState,
    san: &'a Storage,
    cinder: &'a CinderState,
}

fn partition_facts(p: &PartitionState) -> dsm::PartitionFacts {
    dsm::PartitionFacts {
        uri: p.uri(),
        name: p.name.clone(),
        status: p.status.clone(),
        partition_type: p.partition_type.clone(),
        // The volume it boots from: `boot-storage-volume` counts only while
        // `boot-device` is `storage-volume`.
        boot_storage_volume: (p.boot_device == BootDevice::StorageVolume)
            .then(|| p.boot_storage_volume.clone())
            .flatten(),
        device_numbers: p.hbas.iter().map(|h| h.device_number).collect(),
    }
}

impl dsm::CpcView for DsmFacts<'_> {
    fn cpc(&self) -> dsm::CpcFacts {
        dsm::CpcFacts {
            uri: self.hmc.cpc.uri(),
            name: self.hmc.cpc.name.clone(),
            storage_management: self.hmc.cpc.storage_management,
        }
    }
}

impl dsm::PortView for DsmFacts<'_> {
    fn port(&self, port: &StoragePortUri) -> Option<dsm::PortFacts> {
        let (adapter, index) = self.hmc.find_port(port)?;
        Some(dsm::PortFacts {
            fcp: adapter.adapter_type == AdapterType::Fcp,
            ficon: adapter.adapter_type == AdapterType::Fc,
            fabric: adapter.ports.get(index)?.fabric,
        })
    }
}

impl dsm::PartitionsView for DsmFacts<'_> {
    fn partition(&self, uri: &PartitionUri) -> Option<dsm::PartitionFacts> {
        self.hmc
            .partitions
            .get(uri.object_id())
            .map(partition_facts)
    }

    fn partitions(&self) -> Vec<dsm::PartitionFacts> {
        self.hmc.partitions.values().map(partition_facts).collect()
    }
}

impl dsm::SanView for DsmFacts<'_> {
    fn zoned_targets(&self, initiator: Wwpn, fabric: usize) -> Vec<Wwpn> {
        self.san
            .live_zones()
            .filter(|z| z.initiator == initiator && z.fabric == fabric)
            .map(|z| z.target)
            .collect()
    }

    fn masked_luns(&self, initiator: Wwpn) -> Vec<(FcpLun, VolumeId)> {
        self.san
            .host_of(initiator)
            .map(|h| {
                h.mappings
                    .iter()
                    .map(|(id, v)| (FcpLun::from_target_lun(u64::from(*id)), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl dsm::CinderView for DsmFacts<'_> {
    fn cinder_volume(&self, id: &VolumeId) -> Option<dsm::CinderVolumeFacts> {
        self.cinder.volumes.get(id).map(|v| dsm::CinderVolumeFacts {
            size_gib: v.size,
            bootable: v.bootable,
        })
    }
}

/// Storage management draws its ids from the world's one allocator.
impl dsm::Alloc for Ids {
    fn object_id(&mut self, kind: dsm::IdKind) -> String {
        self.new_object_id(match kind {
            dsm::IdKind::Group => 0x5,
            dsm::IdKind::Volume => 0x6,
            dsm::IdKind::Job => 0x7,
            dsm::IdKind::Vsr => 0x8,
        })
    }

    fn npiv_wwpn(&mut self) -> Wwpn {
        self.new_npiv_wwpn()
    }
}

/// Cinder's backend: the SAN, with each initiator's fabric login read from
/// the HMC's cabling and partition status.
struct SanBackend<'a> {
    san: &'a mut Storage,
    hmc: &'a HmcState,
    dsm: &'a DsmState,
}

impl cinder::Backend for SanBackend<'_> {
    fn node_wwpns(&self) -> Vec<Wwpn> {
        self.san.node_wwpns()
    }

    fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host: &str,
    ) -> Result<FcData, cinder::BackendRefusal> {
        // Resolved before the SAN changes, so the lookup borrows nothing.
        let fabrics: Vec<(Wwpn, Option<usize>)> = initiators
            .iter()
            .map(|w| (*w, logged_in_fabric(self.san, self.hmc, self.dsm, *w)))
            .collect();
        self.san
            .connect(volume, initiators, host, |w| {
                fabrics.iter().find(|(x, _)| *x == w).and_then(|(_, f)| *f)
            })
            .map_err(|r| cinder::BackendRefusal {
                bad_connector: matches!(r, StorageRefusal::NoInitiators),
                message: r.message(),
            })
    }

    fn disconnect(&mut self, volume: &VolumeId, initiators: &[Wwpn]) {
        self.san.disconnect(volume, initiators);
    }

    fn unmap_everywhere(&mut self, volume: &VolumeId) {
        self.san.unmap_everywhere(volume);
    }

    fn image_written(&mut self, volume: &VolumeId, image: &str) {
        self.san.image_written(volume, image);
    }
}

// ----- the lock, and the ticker ---------------------------------------------------

pub(crate) fn lock(world: &Mutex<World>) -> WorldGuard<'_> {
    // A panic while holding the lock cannot leave a half-applied change
    // (each operation validates before it mutates), so keep going.
    WorldGuard(world.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The world, locked. When it is released, the world publishes what
/// changed (see [`crate::notify`]).
pub(crate) struct WorldGuard<'a>(MutexGuard<'a, World>);

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.0
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.0
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        self.0.publish();
    }
}

/// Starts [`run_ticker`] for `world` once (automatic clock only); call
/// inside a tokio runtime.
pub(crate) fn ensure_ticker(world: &Arc<Mutex<World>>, w: &mut World) {
    if !w.ticking && w.clock.mode() == crate::ClockMode::Auto {
        w.ticking = true;
        tokio::spawn(run_ticker(Arc::downgrade(world)));
    }
}

/// Ends transitions at their due time (automatic clock), so that a job's
/// completion is announced when it happens and not when someone next
/// looks. Runs until the world is gone.
pub(crate) async fn run_ticker(world: Weak<Mutex<World>>) {
    loop {
        let (due, changed) = {
            let Some(w) = world.upgrade() else { return };
            let mut w = lock(&w);
            w.settle();
            (w.next_due_instant(), w.notifier.changed.clone())
        };
        match due {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = changed.notified() => {}
                }
            }
            None => changed.notified().await,
        }
    }
}
