//! The virt driver object, the values Nova hands it, and the partition
//! steps every operation shares (find by name, read, settle, start, stop).

use cinder_client::{ConnectionInfo, Connector, InstanceId, VolumeId};
use dpm_volume::{connector_for, VolumeError};
use hmc_client::{
    wait_for_job, CpcUri, HmcApi, HmcError, Partition, PartitionFilter, PartitionStatus,
    PartitionUri, PollPolicy, StoragePortUri,
};
use std::sync::{Arc, Mutex};

use crate::config::{AdapterMapping, DriverConfig};
use crate::error::{LookupError, StopFailure};
use crate::names::InstanceName;
use crate::storage::{Initiators, Storage, StorageModel};

/// What `init_host` learned and every later operation uses.
#[derive(Debug)]
pub(crate) struct Ready<H> {
    /// The storage port of each adapter mapping, in configuration order.
    pub ports: Vec<(AdapterMapping, StoragePortUri)>,
    /// The CPC's support element version, "a.b.c".
    pub se_version: String,
    /// The HMC's API version (major, minor), from the logon.
    pub api_version: (u32, u32),
    /// The storage model's steps, chosen once from the CPC's features.
    pub storage: Arc<dyn Storage<H>>,
}

/// A Nova instance, as far as the driver cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance UUID.
    pub uuid: InstanceId,
    /// Flavor vCPUs: the partition's IFLs.
    pub vcpus: u32,
    /// Flavor memory, MiB: the partition's initial and maximum memory.
    pub memory_mb: u64,
    /// The name it is known by, kept in the partition's description.
    pub name: Option<InstanceName>,
}

impl Instance {
    /// An instance of this flavor, without a name.
    pub fn new(uuid: InstanceId, vcpus: u32, memory_mb: u64) -> Self {
        Self {
            uuid,
            vcpus,
            memory_mb,
            name: None,
        }
    }
}

/// A volume planned for an instance before Cinder connected it: with
/// storage groups, `prepare_for_spawn` requests it in the instance's group
/// (its id names the request, its size sizes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// Its size, GiB.
    pub size_gib: u64,
    /// Whether it is the boot volume.
    pub boot: bool,
}

/// A volume as Nova hands it to the virt driver: the block device
/// mapping's volume, the `connection_info` Cinder returned for the
/// driver's connector, its size and boot index.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverVolume {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// What Cinder answered the attachment update (or
    /// `os-initialize_connection`) with.
    pub connection_info: ConnectionInfo,
    /// Its size, GiB (the storage-group request's size).
    pub size_gib: u64,
    /// Boot order; 0 is the boot volume, `None` a data volume.
    pub boot_index: Option<u32>,
}

/// What an instance has on the HMC: its partition and the initiators that
/// reach its volumes. Found by name on the HMC (never kept in memory);
/// handing it back to the next call saves finding it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The instance.
    pub instance: InstanceId,
    /// Its partition.
    pub partition: PartitionUri,
    /// Its vHBAs, or its storage group and the group's WWPNs.
    pub initiators: Initiators,
    /// Whether this call made the partition (and its initiators): nothing
    /// of the instance existed before.
    pub created: bool,
}

/// The DPM virt driver: Nova's calls, through the HMC alone.
///
/// ```no_run
/// # async fn demo<H: hmc_client::HmcApi + 'static>(hmc: H, config: dpm_driver::DriverConfig,
/// #     vm: dpm_driver::Instance) -> Result<(), Box<dyn std::error::Error>> {
/// use dpm_driver::DpmDriver;
///
/// let driver = DpmDriver::new(hmc, config);
/// driver.init_host().await?;
/// // Nova hands this to Cinder's attachment update.
/// let connector = driver.get_volume_connector(&vm).await?;
/// println!("initiators {:?}", connector.wwpns);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DpmDriver<H> {
    pub(crate) hmc: H,
    pub(crate) config: DriverConfig,
    pub(crate) ready: Mutex<Option<Arc<Ready<H>>>>,
}

/// Escapes regular-expression metacharacters, for the HMC's name filters.
pub(crate) fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl<H: HmcApi> DpmDriver<H> {
    /// A driver over this HMC client. Call [`DpmDriver::init_host`] first.
    pub fn new(hmc: H, config: DriverConfig) -> Self {
        Self {
            hmc,
            config,
            ready: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// The HMC client.
    pub fn hmc(&self) -> &H {
        &self.hmc
    }

    pub(crate) fn cpc(&self) -> &CpcUri {
        &self.config.cpc
    }

    pub(crate) fn ready(&self) -> Result<Arc<Ready<H>>, LookupError> {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(LookupError::NotInitialized)
    }

    /// The storage model `init_host` found, once it has succeeded.
    pub fn storage_model(&self) -> Option<StorageModel> {
        self.ready().ok().map(|r| r.storage.model())
    }

    pub(crate) fn poll(&self) -> PollPolicy {
        PollPolicy {
            timeout: self.config.job_timeout,
            ..PollPolicy::default()
        }
    }

    /// The partition name of an instance: `OpenStack-<host>-<uuid>`.
    pub fn partition_name(&self, instance: &InstanceId) -> String {
        format!("OpenStack-{}-{}", self.config.host, instance)
    }

    /// The connector for what [`Self::locate`] or
    /// [`Self::prepare_for_spawn`] found: the initiators' WWPNs, this host,
    /// `platform: s390x`, `os_type: linux`.
    pub fn connector(&self, located: &Located) -> Result<Connector, VolumeError> {
        connector_for(&located.initiators.wwpns(), &self.config.host)
    }

    /// Refuses a flavor beyond the host's limits (`max_processors`,
    /// `max_memory`) or without vCPUs; no request is made.
    pub fn check_flavor(&self, instance: &Instance) -> Result<(), crate::FlavorTooLarge> {
        let cfg = &self.config;
        if instance.vcpus == 0
            || instance.vcpus > cfg.max_processors
            || instance.memory_mb > cfg.max_memory
        {
            return Err(crate::FlavorTooLarge {
                vcpus: instance.vcpus,
                memory_mb: instance.memory_mb,
                max_processors: cfg.max_processors,
                max_memory: cfg.max_memory,
            });
        }
        Ok(())
    }

    // ----- the partition steps every operation shares ----------------------

    /// The partition of an instance, if it exists (one HMC request).
    pub(crate) async fn find_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<PartitionUri>, LookupError> {
        let filter = PartitionFilter {
            name: Some(regex_escape(&self.partition_name(instance))),
            status: None,
        };
        let found = self
            .hmc
            .list_partitions(self.cpc(), &filter)
            .await
            .map_err(LookupError::ListPartitions)?;
        Ok(found.into_iter().next().map(|p| p.object_uri))
    }

    pub(crate) async fn require_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<PartitionUri, LookupError> {
        self.find_partition(instance)
            .await?
            .ok_or_else(|| LookupError::InstanceNotFound {
                instance: instance.clone(),
            })
    }

    pub(crate) async fn get_partition(&self, uri: &PartitionUri) -> Result<Partition, LookupError> {
        self.hmc
            .get_partition(uri)
            .await
            .map_err(|source| LookupError::GetPartition {
                partition: uri.clone(),
                source,
            })
    }

    /// Polls the partition until its status is not transitional.
    pub(crate) async fn settle(&self, uri: &PartitionUri) -> Result<PartitionStatus, LookupError> {
        let mut naps = self.poll().naps();
        loop {
            let status = self.get_partition(uri).await?.status;
            if !matches!(
                status,
                PartitionStatus::Starting | PartitionStatus::Stopping
            ) {
                return Ok(status);
            }
            if !naps.wait().await {
                return Err(LookupError::StatusTimeout {
                    partition: uri.clone(),
                    status: status.to_string(),
                });
            }
        }
    }

    /// Starts the partition and waits for the job. When the reply to the
    /// start is lost, the partition's status tells whether it took effect:
    /// it is waited out if so, and the start is sent once more if not.
    pub(crate) async fn start_and_wait(&self, uri: &PartitionUri) -> Result<(), HmcError> {
        let job = match self.hmc.start_partition(uri).await {
            Ok(job) => job,
            Err(lost) if lost.may_have_taken_effect() => match self.settle(uri).await {
                Ok(PartitionStatus::Active | PartitionStatus::Degraded) => return Ok(()),
                Ok(PartitionStatus::Stopped) => {
                    tracing::info!(partition = %uri, "the lost start did not take effect; starting again");
                    self.hmc.start_partition(uri).await?
                }
                _ => return Err(lost),
            },
            Err(e) => return Err(e),
        };
        wait_for_job(&self.hmc, &job, &self.poll()).await.map(drop)
    }

    /// Brings the partition to `stopped`, whatever it is doing, in as few
    /// requests as it can: the stop is sent at once (one request for a
    /// running partition); when the HMC refuses it as being in the wrong
    /// state, or its reply is lost, the status tells what to do (already
    /// stopped; wait out a transition and stop again).
    pub(crate) async fn ensure_stopped(&self, uri: &PartitionUri) -> Result<(), StopFailure> {
        let stop = |source| StopFailure::Stop {
            partition: uri.clone(),
            source,
        };
        for _ in 0..3 {
            let refused = match self.hmc.stop_partition(uri).await {
                Ok(job) => {
                    return wait_for_job(&self.hmc, &job, &self.poll())
                        .await
                        .map(drop)
                        .map_err(stop)
                }
                Err(e) if e.status_reason() == Some((409, 1)) || e.may_have_taken_effect() => e,
                Err(e) => return Err(stop(e)),
            };
            match self.settle(uri).await.map_err(StopFailure::Lookup)? {
                // A partition whose resources could not be reserved at
                // activation holds none and cannot be stopped: it is as
                // good as stopped (other HMC tools treat it so too).
                PartitionStatus::Stopped | PartitionStatus::ReservationError => return Ok(()),
                PartitionStatus::Active
                | PartitionStatus::Degraded
                | PartitionStatus::Paused
                | PartitionStatus::Terminated => {
                    tracing::info!(partition = %uri, error = %refused, "stopping again");
                }
                _ => return Err(stop(refused)),
            }
        }
        Err(StopFailure::Lookup(LookupError::StatusTimeout {
            partition: uri.clone(),
            status: "not stopped after three stops".into(),
        }))
    }
}
