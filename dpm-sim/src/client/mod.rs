//! The API traits, implemented on the shared world.
//!
//! Each call locks the world, lets due transitions finish, counts the
//! request, answers an injected fault if one is armed, and then runs the
//! operation. Nothing is canned: every answer is read from the state.

use std::sync::Mutex;

use async_trait::async_trait;
use hmc_client::{
    Adapter, AdapterFilter, AdapterSummary, AdapterUri, ApiVersion, Cpc, CpcSummary, CpcUri,
    Credentials, Hba, HbaCreate, HbaUri, HmcApi, HmcError, Job, JobAnnouncement, JobUri,
    LogonResponse, LunPath, Partition, PartitionCreate, PartitionFilter, PartitionListProperty,
    PartitionSummary, PartitionUpdate, PartitionUri, StorageGroup, StorageGroupCreate,
    StorageGroupCreated, StorageGroupFilter, StorageGroupModify, StorageGroupSummary,
    StorageGroupUri, StoragePort, StoragePortUri, StorageVolume, StorageVolumeFilter,
    StorageVolumeSummary, StorageVolumeUri, Vsr, VsrSummary, VsrUri,
};
use hmc_client::{Console, HmcOp, OsMessageFilter, OsMessageSubscription, OsMessages, VsrFilter};

use crate::ops::{Op, Side};
use crate::pipeline::{hmc_call, latency, lock, Shared, SEVERED};
use crate::world::World;

mod cinder;
mod notices;

pub use cinder::SimCinder;

/// An HMC client of the simulated world, with its own session. Like
/// `HttpHmc`, it waits for a job by the world's completion notification
/// ([`HmcApi::job_announced`]) unless made with
/// [`SimHmc::without_notifications`].
pub struct SimHmc {
    shared: Shared,
    credentials: Credentials,
    session: Mutex<Option<String>>,
    notifications: bool,
}

impl std::fmt::Debug for SimHmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHmc")
            .field("userid", &self.credentials.userid)
            .field("logged_on", &self.session().is_some())
            .finish()
    }
}

impl SimHmc {
    /// The configured HMC latency, on tokio time.
    async fn delay(&self) {
        latency(&self.shared, Side::Hmc).await;
    }

    pub(crate) fn new(shared: Shared, credentials: Credentials) -> Self {
        Self {
            shared,
            credentials,
            session: Mutex::new(None),
            notifications: true,
        }
    }

    /// The client without job notifications: every job is polled.
    #[must_use]
    pub fn without_notifications(mut self) -> Self {
        self.notifications = false;
        self
    }

    fn session(&self) -> Option<String> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs one session-bound request.
    /// Runs one session-bound request on `op`'s path with these ids (by
    /// hmc-client's route table).
    fn call<T>(
        &self,
        op: Op,
        ids: &[&str],
        f: impl FnOnce(&mut World) -> Result<T, HmcError>,
    ) -> Result<T, HmcError> {
        let path = op.hmc().map(|h| h.path(ids)).unwrap_or_default();
        hmc_call(&self.shared, op, self.session().as_deref(), &path, f)
    }
}

#[async_trait]
impl HmcApi for SimHmc {
    async fn logon(&self) -> Result<LogonResponse, HmcError> {
        self.delay().await;
        let (userid, password) = (&self.credentials.userid, self.credentials.password.expose());
        let r = hmc_call(
            &self.shared,
            Op::Logon,
            None,
            HmcOp::Logon.template(),
            |w| {
                let now = w.now();
                w.hmc.logon(&mut w.ids, userid, password, now)
            },
        )?;
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(r.api_session.expose().to_owned());
        Ok(r)
    }

    async fn logoff(&self) -> Result<(), HmcError> {
        self.delay().await;
        let session = self.session();
        self.call(Op::Logoff, &[], |w| {
            if let Some(s) = &session {
                w.hmc.logoff(s);
            }
            Ok(())
        })?;
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Ok(())
    }

    async fn api_version(&self) -> Result<ApiVersion, HmcError> {
        self.delay().await;
        hmc_call(
            &self.shared,
            Op::ApiVersion,
            None,
            HmcOp::ApiVersion.template(),
            |w| Ok(w.hmc.api_version()),
        )
    }

    async fn get_console(&self) -> Result<Console, HmcError> {
        self.delay().await;
        self.call(Op::GetConsole, &[], |w| w.hmc.console_view())
    }

    async fn list_os_messages(
        &self,
        partition: &PartitionUri,
        filter: &OsMessageFilter,
    ) -> Result<OsMessages, HmcError> {
        self.delay().await;
        self.call(Op::ListOsMessages, &[partition.object_id()], |w| {
            w.hmc.list_os_messages(partition, filter)
        })
    }

    async fn send_os_command(
        &self,
        partition: &PartitionUri,
        text: &str,
        _is_priority: bool,
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::SendOsCommand, &[partition.object_id()], |w| {
            w.send_os_command(partition, text)
        })
    }

    async fn open_os_message_channel(
        &self,
        partition: &PartitionUri,
        include_refresh_messages: bool,
    ) -> Result<String, HmcError> {
        self.delay().await;
        self.call(Op::OpenOsMessageChannel, &[partition.object_id()], |w| {
            w.hmc
                .open_os_message_channel(partition, include_refresh_messages)
        })
    }

    /// As the notification service would: live at once, fed from the
    /// world's notices; it ends when the world drops its notification
    /// connections ([`crate::Sim::drop_notification_connections`]) or when
    /// it falls too far behind.
    async fn subscribe_os_messages(
        &self,
        partition: &PartitionUri,
        topic: &str,
    ) -> Result<OsMessageSubscription, HmcError> {
        let unavailable = |why: &'static str| HmcError::Notifications {
            topic: topic.to_owned(),
            source: why.into(),
        };
        if !self.notifications {
            return Err(unavailable("this client was made without notifications"));
        }
        let (notices, drops, object_topic) = {
            if self.shared.harness().severed() {
                return Err(unavailable(SEVERED));
            }
            let mut w = lock(&self.shared.world);
            let session = self.session().ok_or_else(|| unavailable("not logged on"))?;
            let object_topic = w
                .hmc
                .sessions
                .get(&session)
                .map(|s| s.object_topic.clone())
                .ok_or_else(|| unavailable("the session is no longer known"))?;
            crate::world::ensure_ticker(&self.shared.world, &mut w);
            (w.notifier.subscribe(), w.notifier.drops(), object_topic)
        };
        Ok(notices::os_messages(
            notices,
            drops,
            topic,
            object_topic,
            partition,
        ))
    }

    async fn list_vsrs_filtered(
        &self,
        group: &StorageGroupUri,
        filter: &VsrFilter,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListVsrs, &[group.object_id()], |w| {
            w.dsm.list_vsrs_filtered(group, filter)
        })
    }

    async fn list_cpcs<'a>(&self, name: Option<&'a str>) -> Result<Vec<CpcSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListCpcs, &[], |w| w.hmc.list_cpcs(name))
    }

    async fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.delay().await;
        self.call(Op::GetCpc, &[cpc.object_id()], |w| w.hmc.get_cpc(cpc))
    }

    async fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<AdapterSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListAdapters, &[cpc.object_id()], |w| {
            w.hmc.list_adapters(cpc, filter)
        })
    }

    async fn get_adapter(&self, adapter: &AdapterUri) -> Result<Adapter, HmcError> {
        self.delay().await;
        self.call(Op::GetAdapter, &[adapter.object_id()], |w| {
            w.hmc.get_adapter(adapter)
        })
    }

    async fn get_storage_port(&self, port: &StoragePortUri) -> Result<StoragePort, HmcError> {
        self.delay().await;
        self.call(
            Op::GetStoragePort,
            &[port.parent().object_id(), port.element_id()],
            |w| w.get_storage_port(port),
        )
    }

    async fn list_partitions(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.list_partitions_with(cpc, filter, &[]).await
    }

    async fn list_partitions_with(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
        additional: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListPartitions, &[cpc.object_id()], |w| {
            w.hmc.list_partitions_with(cpc, filter, additional)
        })
    }

    async fn create_partition(
        &self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        self.delay().await;
        self.call(Op::CreatePartition, &[cpc.object_id()], |w| {
            w.hmc.create_partition(&mut w.ids, cpc, props)
        })
    }

    async fn get_partition(&self, partition: &PartitionUri) -> Result<Partition, HmcError> {
        self.delay().await;
        self.call(Op::GetPartition, &[partition.object_id()], |w| {
            w.get_partition(partition)
        })
    }

    async fn update_partition(
        &self,
        partition: &PartitionUri,
        props: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::UpdatePartition, &[partition.object_id()], |w| {
            w.update_partition(partition, props)
        })
    }

    async fn delete_partition(&self, partition: &PartitionUri) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::DeletePartition, &[partition.object_id()], |w| {
            w.delete_partition(partition)
        })
    }

    async fn start_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.delay().await;
        self.call(Op::StartPartition, &[partition.object_id()], |w| {
            w.start_partition(partition)
        })
    }

    async fn stop_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.delay().await;
        self.call(Op::StopPartition, &[partition.object_id()], |w| {
            w.stop_partition(partition)
        })
    }

    async fn create_hba(
        &self,
        partition: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError> {
        self.delay().await;
        self.call(Op::CreateHba, &[partition.object_id()], |w| {
            w.create_hba(partition, props)
        })
    }

    async fn get_hba(&self, hba: &HbaUri) -> Result<Hba, HmcError> {
        self.delay().await;
        self.call(
            Op::GetHba,
            &[hba.parent().object_id(), hba.element_id()],
            |w| w.hmc.get_hba(hba),
        )
    }

    async fn delete_hba(&self, hba: &HbaUri) -> Result<(), HmcError> {
        self.delay().await;
        self.call(
            Op::DeleteHba,
            &[hba.parent().object_id(), hba.element_id()],
            |w| w.delete_hba(hba),
        )
    }

    // ----- storage groups ---------------------------------------------------

    async fn list_storage_groups(
        &self,
        filter: &StorageGroupFilter,
    ) -> Result<Vec<StorageGroupSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListStorageGroups, &[], |w| {
            w.dsm.list_groups(filter, &w.dsm_facts())
        })
    }

    async fn create_storage_group(
        &self,
        props: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError> {
        self.delay().await;
        self.call(Op::CreateStorageGroup, &[], |w| {
            w.create_storage_group(props)
        })
    }

    async fn get_storage_group(&self, group: &StorageGroupUri) -> Result<StorageGroup, HmcError> {
        self.delay().await;
        self.call(Op::GetStorageGroup, &[group.object_id()], |w| {
            w.dsm.get_group(group)
        })
    }

    async fn modify_storage_group(
        &self,
        group: &StorageGroupUri,
        props: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        self.delay().await;
        self.call(Op::ModifyStorageGroup, &[group.object_id()], |w| {
            w.modify_storage_group(group, props)
        })
    }

    async fn delete_storage_group(&self, group: &StorageGroupUri) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::DeleteStorageGroup, &[group.object_id()], |w| {
            w.delete_storage_group(group)
        })
    }

    async fn add_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::AddCandidateAdapterPorts, &[group.object_id()], |w| {
            w.add_candidate_ports(group, ports)
        })
    }

    async fn remove_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::RemoveCandidateAdapterPorts, &[group.object_id()], |w| {
            w.dsm.remove_candidate_ports(group, ports)
        })
    }

    async fn get_storage_group_partitions(
        &self,
        group: &StorageGroupUri,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.delay().await;
        self.call(Op::GetStorageGroupPartitions, &[group.object_id()], |w| {
            w.dsm.group_partitions(group, &w.dsm_facts())
        })
    }

    async fn start_fcp_storage_discovery(
        &self,
        group: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError> {
        self.delay().await;
        self.call(Op::StartFcpStorageDiscovery, &[group.object_id()], |w| {
            w.start_discovery(group, force_restart)
        })
    }

    async fn accept_mismatched_storage_volumes(
        &self,
        group: &StorageGroupUri,
        volumes: &[StorageVolumeUri],
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(
            Op::AcceptMismatchedStorageVolumes,
            &[group.object_id()],
            |w| w.dsm.accept_mismatched(group, volumes),
        )
    }

    async fn list_storage_volumes(
        &self,
        group: &StorageGroupUri,
        filter: &StorageVolumeFilter,
    ) -> Result<Vec<StorageVolumeSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListStorageVolumes, &[group.object_id()], |w| {
            w.dsm.list_volumes(group, filter)
        })
    }

    async fn get_storage_volume(
        &self,
        volume: &StorageVolumeUri,
    ) -> Result<StorageVolume, HmcError> {
        self.delay().await;
        self.call(
            Op::GetStorageVolume,
            &[volume.parent().object_id(), volume.element_id()],
            |w| w.dsm.get_volume(volume),
        )
    }

    async fn list_vsrs<'a>(
        &self,
        group: &StorageGroupUri,
        partition: Option<&'a PartitionUri>,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        self.delay().await;
        self.call(Op::ListVsrs, &[group.object_id()], |w| {
            w.dsm.list_vsrs(group, partition, None)
        })
    }

    async fn get_vsr(&self, vsr: &VsrUri) -> Result<Vsr, HmcError> {
        self.delay().await;
        self.call(
            Op::GetVsr,
            &[vsr.parent().object_id(), vsr.element_id()],
            |w| w.dsm.get_vsr(vsr),
        )
    }

    async fn attach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::AttachStorageGroup, &[partition.object_id()], |w| {
            w.attach_storage_group(partition, group)
        })
    }

    async fn detach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::DetachStorageGroup, &[partition.object_id()], |w| {
            w.detach_storage_group(partition, group)
        })
    }

    async fn validate_lun_path(&self, cpc: &CpcUri, path: &LunPath) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::ValidateLunPath, &[cpc.object_id()], |w| {
            w.validate_lun_path(cpc, path)
        })
    }

    async fn submit_requests(
        &self,
        requests: &[hmc_client::BulkRequest],
    ) -> Result<Vec<hmc_client::BulkResponse>, HmcError> {
        self.delay().await;
        self.call(Op::SubmitRequests, &[], |w| Ok(w.bulk(requests)))
    }

    async fn get_job(&self, job: &JobUri) -> Result<Job, HmcError> {
        self.delay().await;
        self.call(Op::GetJob, &[job.object_id()], |w| w.hmc.get_job(job))
    }

    async fn delete_job(&self, job: &JobUri) -> Result<(), HmcError> {
        self.delay().await;
        self.call(Op::DeleteJob, &[job.object_id()], |w| w.hmc.delete_job(job))
    }

    /// Not a request: the world's notifications, heard in-process (none
    /// can be missed), unless the client is cut off.
    async fn job_announced(&self, job: &JobUri, deadline: tokio::time::Instant) -> JobAnnouncement {
        if !self.notifications {
            return JobAnnouncement::NotWatched;
        }
        let ended = |w: &World| w.hmc.jobs.get(job.object_id()).map(|j| j.outcome.is_some());
        let mut rx = {
            if self.shared.harness().severed() {
                return JobAnnouncement::NotWatched;
            }
            let mut w = lock(&self.shared.world);
            crate::world::ensure_ticker(&self.shared.world, &mut w);
            let rx = w.notifier.subscribe();
            match ended(&w) {
                // Unknown (or deleted): the poll says what it is.
                None => return JobAnnouncement::NotWatched,
                Some(true) => return JobAnnouncement::Ended,
                Some(false) => rx,
            }
        };
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) => return JobAnnouncement::NotYet,
                Ok(Ok(n)) if n.header("job-uri") == Some(job.as_str()) => {
                    return JobAnnouncement::Ended
                }
                Ok(Ok(_)) => {}
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                    if ended(&lock(&self.shared.world)) != Some(false) {
                        return JobAnnouncement::Ended;
                    }
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                    return JobAnnouncement::NotWatched
                }
            }
        }
    }
}
