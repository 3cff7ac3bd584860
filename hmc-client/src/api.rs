//! The `HmcApi` trait: every HMC operation the driver needs.

use async_trait::async_trait;

use crate::console::{Console, OsMessageFilter, OsMessageSubscription, OsMessages};
use crate::error::HmcError;
use crate::ids::{
    AdapterUri, CpcUri, HbaUri, JobUri, PartitionUri, StorageGroupUri, StoragePortUri,
    StorageVolumeUri, VsrUri,
};
use crate::storage_group::{
    FulfillmentState, LunPath, StorageGroup, StorageGroupCreate, StorageGroupCreated,
    StorageGroupModify, StorageGroupSummary, StorageVolume, StorageVolumeSummary, VolumeUsage, Vsr,
    VsrSummary,
};
use crate::wire::{
    Adapter, AdapterSummary, AdapterType, ApiVersion, BulkRequest, BulkResponse, Cpc, CpcSummary,
    Hba, HbaCreate, Job, LogonResponse, Partition, PartitionCreate, PartitionListProperty,
    PartitionStatus, PartitionSummary, PartitionUpdate, StoragePort,
};

/// The first HMC API version whose List Partitions of a CPC takes
/// `additional-properties`: 4.1, HMC 2.16.0 (zhmcclient documents the
/// parameter as "requires HMC 2.16.0 or higher", and zhmccli sends it only
/// from API 4.1 on). An older HMC refuses the unknown query parameter with
/// 400.1.
pub const LIST_ADDITIONAL_PROPERTIES_SINCE: (u32, u32) = (4, 1);

/// The port of the HMC's notification service (STOMP over TLS).
pub const NOTIFICATION_PORT: u16 = 61612;

/// What [`HmcApi::job_announced`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobAnnouncement {
    /// The HMC announced the job's end.
    Ended,
    /// The deadline passed with the subscription live: the job has not
    /// ended (nothing was missed).
    NotYet,
    /// Nobody was listening for the whole of the job: poll it.
    NotWatched,
}

/// Filter for [`HmcApi::list_adapters`]. `name` is a regular expression
/// anchored at both ends, as the HMC's query parameters are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdapterFilter {
    /// Only adapters of this type.
    pub adapter_type: Option<AdapterType>,
    /// Only adapters whose name matches this pattern.
    pub name: Option<String>,
}

/// Filter for [`HmcApi::list_partitions`]. `name` is a regular expression
/// anchored at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionFilter {
    /// Only partitions whose name matches this pattern.
    pub name: Option<String>,
    /// Only partitions in this status.
    pub status: Option<PartitionStatus>,
}

/// Filter for [`HmcApi::list_storage_groups`]. `name` is a regular
/// expression anchored at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageGroupFilter {
    /// Only groups of this CPC.
    pub cpc: Option<CpcUri>,
    /// Only groups whose name matches this pattern.
    pub name: Option<String>,
}

/// Filter for [`HmcApi::list_storage_volumes`]. `name` is a regular
/// expression anchored at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageVolumeFilter {
    /// Only volumes whose name matches this pattern.
    pub name: Option<String>,
    /// Only volumes of this usage.
    pub usage: Option<VolumeUsage>,
    /// Only volumes in this fulfillment state.
    pub fulfillment_state: Option<FulfillmentState>,
    /// Only volumes of at least this size, GiB (`minimum-size`).
    pub minimum_size: Option<f64>,
    /// Only volumes of at most this size, GiB (`maximum-size`).
    pub maximum_size: Option<f64>,
}

/// Filter for [`HmcApi::list_vsrs_filtered`]: the query parameters of
/// "List Virtual Storage Resources of a Storage Group". `name` is a
/// regular expression anchored at both ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VsrFilter {
    /// Only VSRs whose name matches this pattern.
    pub name: Option<String>,
    /// Only the VSRs of this partition.
    pub partition: Option<PartitionUri>,
    /// Only the VSR of this device number.
    pub device_number: Option<fc_types::DeviceNumber>,
    /// Only VSRs on this adapter port.
    pub adapter_port: Option<StoragePortUri>,
}

impl VsrFilter {
    /// The query parameters, as the HMC names them.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(n) = &self.name {
            q.push(("name", n.clone()));
        }
        if let Some(p) = &self.partition {
            q.push(("partition-uri", p.as_str().to_owned()));
        }
        if let Some(d) = &self.device_number {
            q.push(("device-number", d.to_string()));
        }
        if let Some(a) = &self.adapter_port {
            q.push(("adapter-port-uri", a.as_str().to_owned()));
        }
        q
    }
}

/// The HMC Web Services API subset for DPM partitions that boot from FCP LUNs.
///
/// Implemented by the HTTPS client and by the simulator (`dpm-sim`), so code
/// written against it runs unchanged on both. Every method is one HMC
/// request; [`crate::wait_for_job`] builds polling on top.
///
/// ```no_run
/// # async fn demo(hmc: &dyn hmc_client::HmcApi, cpc: &hmc_client::CpcUri) -> Result<(), hmc_client::HmcError> {
/// use hmc_client::{PartitionFilter, wait_for_job, PollPolicy};
/// hmc.logon().await?;
/// for p in hmc.list_partitions(cpc, &PartitionFilter::default()).await? {
///     println!("{} {}", p.name, p.status);
/// }
/// # Ok(()) }
/// ```
// mockall's attribute goes before async_trait's, so that it sees the
// trait as written.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait HmcApi: Send + Sync {
    /// `POST /api/sessions` with the credentials the client was built with.
    async fn logon(&self) -> Result<LogonResponse, HmcError>;
    /// `DELETE /api/sessions/this-session`.
    async fn logoff(&self) -> Result<(), HmcError>;
    /// `GET /api/version` (needs no session).
    async fn api_version(&self) -> Result<ApiVersion, HmcError>;

    /// `GET /api/console`: the console's properties (Get Console
    /// Properties), among them its `version`.
    async fn get_console(&self) -> Result<Console, HmcError>;

    /// `GET /api/cpcs[?name=]`.
    // The named lifetimes here and below are for mockall, which cannot
    // mock an elided lifetime inside an `Option`.
    async fn list_cpcs<'a>(&self, name: Option<&'a str>) -> Result<Vec<CpcSummary>, HmcError>;
    /// `GET /api/cpcs/{id}`.
    async fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError>;

    /// `GET /api/cpcs/{id}/adapters[?type=&name=]`.
    async fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<AdapterSummary>, HmcError>;
    /// `GET /api/adapters/{id}`.
    async fn get_adapter(&self, adapter: &AdapterUri) -> Result<Adapter, HmcError>;
    /// `GET /api/adapters/{id}/storage-ports/{n}`.
    async fn get_storage_port(&self, port: &StoragePortUri) -> Result<StoragePort, HmcError>;

    /// `GET /api/cpcs/{id}/partitions[?name=&status=]`.
    async fn list_partitions(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionSummary>, HmcError>;
    /// `GET /api/cpcs/{id}/partitions[?name=&status=]&additional-properties=a,b`:
    /// each entry also carries the named properties, in the optional
    /// fields of [`PartitionSummary`]; with none named it is
    /// [`HmcApi::list_partitions`]. Needs HMC API
    /// [`LIST_ADDITIONAL_PROPERTIES_SINCE`] (4.1, HMC 2.16.0); an older HMC
    /// refuses it with 400.1, and the caller reads the objects instead.
    async fn list_partitions_with(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
        additional: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, HmcError>;
    /// `POST /api/cpcs/{id}/partitions`.
    async fn create_partition(
        &self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError>;
    /// `GET /api/partitions/{id}`.
    async fn get_partition(&self, partition: &PartitionUri) -> Result<Partition, HmcError>;
    /// `POST /api/partitions/{id}`: change properties.
    async fn update_partition(
        &self,
        partition: &PartitionUri,
        props: &PartitionUpdate,
    ) -> Result<(), HmcError>;
    /// `DELETE /api/partitions/{id}`; the partition must be stopped.
    async fn delete_partition(&self, partition: &PartitionUri) -> Result<(), HmcError>;
    /// `POST /api/partitions/{id}/operations/start`; returns the job.
    async fn start_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError>;
    /// `POST /api/partitions/{id}/operations/stop`; returns the job.
    async fn stop_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError>;

    /// `GET /api/partitions/{id}/operations/list-os-messages`: the
    /// messages of the partition's operating system (its console log).
    async fn list_os_messages(
        &self,
        partition: &PartitionUri,
        filter: &OsMessageFilter,
    ) -> Result<OsMessages, HmcError>;
    /// `POST /api/partitions/{id}/operations/send-os-cmd` ("Send OS
    /// Command", SE 2.13.1 and later, the HMC's "Operating System
    /// Messages" task): `text` goes to the partition's operating system as
    /// a command line typed on its console, a priority command when
    /// `is_priority`. 204; 409 when the operating system is not running.
    async fn send_os_command(
        &self,
        partition: &PartitionUri,
        text: &str,
        is_priority: bool,
    ) -> Result<(), HmcError>;

    /// `POST /api/partitions/{id}/operations/open-os-message-channel`
    /// ("Open OS Message Channel", SE 2.13.1 and later; zhmcclient's
    /// `Partition.open_os_message_channel`), body
    /// `{"include-refresh-messages": bool}`: the name of the notification
    /// topic on which the HMC publishes an `os-message` notification for
    /// the messages the partition's operating system writes from then on
    /// (with refresh messages when asked). 409 when the operating system
    /// is not running (the partition is not active).
    async fn open_os_message_channel(
        &self,
        partition: &PartitionUri,
        include_refresh_messages: bool,
    ) -> Result<String, HmcError>;

    /// Subscribes, on the HMC's notification service, to `topic` (one
    /// [`HmcApi::open_os_message_channel`] named) and to the deletion of
    /// `partition` (on the session's object topic). It answers once the
    /// subscription is live: every notification published from then on
    /// arrives, in order, until the subscription ends (see
    /// [`OsMessageSubscription`]). Not an HMC request: no Web Services API
    /// call is made. A client without notifications answers
    /// [`HmcError::Notifications`]; that is the default.
    async fn subscribe_os_messages(
        &self,
        partition: &PartitionUri,
        topic: &str,
    ) -> Result<OsMessageSubscription, HmcError> {
        let _ = partition;
        Err(HmcError::Notifications {
            topic: topic.to_owned(),
            source: "this client receives no notifications".into(),
        })
    }

    /// `POST /api/partitions/{id}/hbas`.
    async fn create_hba(
        &self,
        partition: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError>;
    /// `GET /api/partitions/{pid}/hbas/{hid}`.
    async fn get_hba(&self, hba: &HbaUri) -> Result<Hba, HmcError>;
    /// `DELETE /api/partitions/{pid}/hbas/{hid}`.
    async fn delete_hba(&self, hba: &HbaUri) -> Result<(), HmcError>;

    // ----- storage groups (CPCs with dpm-storage-management) -----------

    /// `GET /api/storage-groups[?cpc-uri=&name=]`.
    async fn list_storage_groups(
        &self,
        filter: &StorageGroupFilter,
    ) -> Result<Vec<StorageGroupSummary>, HmcError>;
    /// `POST /api/storage-groups`: the group, with its volume requests.
    async fn create_storage_group(
        &self,
        props: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError>;
    /// `GET /api/storage-groups/{id}`.
    async fn get_storage_group(&self, group: &StorageGroupUri) -> Result<StorageGroup, HmcError>;
    /// `POST /api/storage-groups/{id}/operations/modify`; returns the
    /// volumes it created, in request order.
    async fn modify_storage_group(
        &self,
        group: &StorageGroupUri,
        props: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError>;
    /// `POST /api/storage-groups/{id}/operations/delete`.
    async fn delete_storage_group(&self, group: &StorageGroupUri) -> Result<(), HmcError>;
    /// `POST .../operations/add-candidate-adapter-ports`.
    async fn add_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError>;
    /// `POST .../operations/remove-candidate-adapter-ports`.
    async fn remove_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError>;
    /// `GET .../operations/get-partitions`: the partitions it is attached to.
    async fn get_storage_group_partitions(
        &self,
        group: &StorageGroupUri,
    ) -> Result<Vec<PartitionSummary>, HmcError>;
    /// `POST .../operations/start-fcp-storage-discovery`; returns the job.
    async fn start_fcp_storage_discovery(
        &self,
        group: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError>;
    /// `POST .../operations/accept-mismatched-storage-volumes`.
    async fn accept_mismatched_storage_volumes(
        &self,
        group: &StorageGroupUri,
        volumes: &[StorageVolumeUri],
    ) -> Result<(), HmcError>;
    /// `GET /api/storage-groups/{id}/storage-volumes[?name=&usage=&fulfillment-state=&minimum-size=&maximum-size=]`.
    async fn list_storage_volumes(
        &self,
        group: &StorageGroupUri,
        filter: &StorageVolumeFilter,
    ) -> Result<Vec<StorageVolumeSummary>, HmcError>;
    /// `GET /api/storage-groups/{sg}/storage-volumes/{sv}`.
    async fn get_storage_volume(
        &self,
        volume: &StorageVolumeUri,
    ) -> Result<StorageVolume, HmcError>;
    /// `GET /api/storage-groups/{id}/virtual-storage-resources[?partition-uri=]`.
    async fn list_vsrs<'a>(
        &self,
        group: &StorageGroupUri,
        partition: Option<&'a PartitionUri>,
    ) -> Result<Vec<VsrSummary>, HmcError>;
    /// `GET /api/storage-groups/{id}/virtual-storage-resources` with every
    /// filter the HMC takes (`name`, `partition-uri`, `device-number`,
    /// `adapter-port-uri`).
    async fn list_vsrs_filtered(
        &self,
        group: &StorageGroupUri,
        filter: &VsrFilter,
    ) -> Result<Vec<VsrSummary>, HmcError>;
    /// `GET /api/storage-groups/{sg}/virtual-storage-resources/{vsr}`.
    async fn get_vsr(&self, vsr: &VsrUri) -> Result<Vsr, HmcError>;
    /// `POST /api/partitions/{id}/operations/attach-storage-group`.
    async fn attach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError>;
    /// `POST /api/partitions/{id}/operations/detach-storage-group`.
    async fn detach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError>;
    /// `POST /api/cpcs/{id}/operations/validate-lun-path`.
    async fn validate_lun_path(&self, cpc: &CpcUri, path: &LunPath) -> Result<(), HmcError>;

    /// `POST /api/services/aggregation/submit`: several GETs in one round
    /// trip; each answer carries its own status and body.
    async fn submit_requests(
        &self,
        requests: &[BulkRequest],
    ) -> Result<Vec<BulkResponse>, HmcError>;

    /// `GET /api/jobs/{id}`.
    async fn get_job(&self, job: &JobUri) -> Result<Job, HmcError>;
    /// `DELETE /api/jobs/{id}`; only once the job has ended.
    async fn delete_job(&self, job: &JobUri) -> Result<(), HmcError>;

    /// Waits until the HMC announces (job notification) that `job` has
    /// ended, or until `deadline`. A client without notifications, or one
    /// whose subscription was not live from before the job began to now,
    /// answers [`JobAnnouncement::NotWatched`] at once, and the caller
    /// polls; that is the default. [`crate::wait_for_job`] uses it.
    async fn job_announced(
        &self,
        _job: &JobUri,
        _deadline: tokio::time::Instant,
    ) -> JobAnnouncement {
        JobAnnouncement::NotWatched
    }
}
