//! The driver object, `init_host`, and the helpers every operation shares.

use cinder_client::{CinderApi, InstanceId, VolumeId};
use dpm_volume::{FcPath, FcVolumeDriver, Vhba};
use hmc_client::{
    wait_for_job, AdapterType, CpcUri, HbaUri, HmcApi, HmcError, Partition, PartitionFilter,
    PartitionStatus, PartitionUri, PollPolicy, StoragePortUri, FEATURE_DPM_STORAGE_MANAGEMENT,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::{AdapterMapping, DriverConfig};
use crate::error::{CleanupError, DriverError, InitError};
use crate::storage::StorageModel;

/// What `init_host` learned and every later operation uses.
#[derive(Debug, Clone)]
pub(crate) struct Ready {
    /// The storage port of each adapter mapping, in configuration order.
    pub ports: Vec<(AdapterMapping, StoragePortUri)>,
    /// The CPC's support element version, "a.b.c".
    pub se_version: String,
    /// HBAs or storage groups, from the CPC's features.
    pub model: StorageModel,
    /// The HMC's API version (major, minor), from the logon.
    pub api_version: (u32, u32),
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
}

/// A volume to attach at spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// Boot order; 0 is the boot volume, `None` a data volume.
    pub boot_index: Option<u32>,
}

/// The DPM compute driver, generic over the HMC and Cinder APIs.
///
/// ```no_run
/// # async fn demo<H: hmc_client::HmcApi, C: cinder_client::CinderApi>(
/// #     hmc: H, cinder: C, config: dpm_driver::DriverConfig,
/// #     vm: dpm_driver::Instance, boot: cinder_client::VolumeId,
/// # ) -> Result<(), Box<dyn std::error::Error>> {
/// use dpm_driver::{BlockDevice, DpmDriver};
///
/// let driver = DpmDriver::new(hmc, cinder, config);
/// driver.init_host().await?;
/// let spawned = driver
///     .spawn(&vm, &[BlockDevice { volume_id: boot, boot_index: Some(0) }])
///     .await?;
/// println!("booting {} from {:?}", spawned.partition, spawned.boot);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DpmDriver<H, C> {
    pub(crate) hmc: H,
    pub(crate) cinder: C,
    pub(crate) config: DriverConfig,
    pub(crate) volumes: FcVolumeDriver,
    pub(crate) ready: Mutex<Option<Arc<Ready>>>,
    /// One lock per instance: operations on one instance run one at a
    /// time in this process; different instances run concurrently.
    locks: Mutex<HashMap<InstanceId, Arc<tokio::sync::Mutex<()>>>>,
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

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// A driver over these clients. Call [`DpmDriver::init_host`] first.
    pub fn new(hmc: H, cinder: C, config: DriverConfig) -> Self {
        Self {
            hmc,
            cinder,
            config,
            volumes: FcVolumeDriver::new(),
            ready: Mutex::new(None),
            locks: Mutex::new(HashMap::new()),
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

    /// The Cinder client.
    pub fn cinder(&self) -> &C {
        &self.cinder
    }

    pub(crate) fn cpc(&self) -> &CpcUri {
        &self.config.cpc
    }

    /// Waits for the instance's lock; other instances are not held up.
    pub(crate) async fn lock_instance(
        &self,
        instance: &InstanceId,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Forget the locks nobody holds or waits for.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(instance.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    pub(crate) fn ready(&self) -> Option<Arc<Ready>> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).clone()
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

    /// The name of the vHBA for an adapter mapping.
    pub(crate) fn hba_name(m: &AdapterMapping) -> String {
        format!("OpenStack_Port_{}_{}", m.adapter.object_id(), m.port)
    }

    /// Logs on and checks the CPC, the capacity limits and every adapter
    /// mapping. Each failure is its own [`InitError`]; nothing exits.
    #[tracing::instrument(name = "init_host", skip(self), fields(host = %self.config.host, cpc = %self.config.cpc))]
    pub async fn init_host(&self) -> Result<(), InitError> {
        let logon = self.hmc.logon().await.map_err(InitError::Logon)?;
        let api_version = (logon.api_major_version, logon.api_minor_version);
        let cpc_uri = self.cpc().clone();
        let cpc = self.hmc.get_cpc(&cpc_uri).await.map_err(|e| {
            if e.is_not_found() {
                InitError::CpcNotFound {
                    cpc: cpc_uri.clone(),
                }
            } else {
                InitError::GetCpc {
                    cpc: cpc_uri.clone(),
                    source: e,
                }
            }
        })?;
        let missing = |property| InitError::CpcPropertyMissing {
            cpc: cpc_uri.clone(),
            property,
        };
        if !cpc.dpm_enabled.ok_or_else(|| missing("dpm-enabled"))? {
            return Err(InitError::CpcNotDpm { cpc: cpc_uri });
        }
        let status = cpc.status.clone().ok_or_else(|| missing("status"))?;
        if !status.is_usable() {
            return Err(InitError::CpcUnusable {
                cpc: cpc_uri,
                status: status.to_string(),
            });
        }
        // z14 and later have the feature (and no HBAs); z13 has neither.
        let model = if cpc.has_feature(FEATURE_DPM_STORAGE_MANAGEMENT) {
            StorageModel::StorageGroups
        } else {
            StorageModel::Hbas
        };
        let ifl = cpc
            .processor_count_ifl
            .ok_or_else(|| missing("processor-count-ifl"))?;
        if self.config.max_processors > ifl {
            return Err(InitError::MaxProcessorsExceeded {
                configured: self.config.max_processors,
                available: ifl,
            });
        }
        let memory = cpc
            .storage_customer
            .ok_or_else(|| missing("storage-customer"))?;
        if self.config.max_memory > memory {
            return Err(InitError::MaxMemoryExceeded {
                configured: self.config.max_memory,
                available: memory,
            });
        }
        let se_version = cpc
            .se_version
            .clone()
            .ok_or_else(|| missing("se-version"))?;

        let mut ports = Vec::new();
        for m in &self.config.adapter_mappings {
            ports.push((m.clone(), self.check_adapter(m).await?));
        }
        tracing::info!(adapters = ports.len(), model = %model, "host initialized");
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Ready {
            ports,
            se_version,
            model,
            api_version,
        }));
        Ok(())
    }

    /// The storage model `init_host` found, once it has succeeded.
    pub fn storage_model(&self) -> Option<StorageModel> {
        self.ready().map(|r| r.model)
    }

    /// The adapter exists on this CPC, is FCP, and has the port. With
    /// storage groups the port becomes a candidate of every instance's
    /// group, so the same checks hold for both models.
    async fn check_adapter(&self, m: &AdapterMapping) -> Result<StoragePortUri, InitError> {
        let adapter = m.adapter.clone();
        let a = self.hmc.get_adapter(&adapter).await.map_err(|e| {
            if e.is_not_found() {
                InitError::AdapterNotFound {
                    adapter: adapter.clone(),
                }
            } else {
                InitError::GetAdapter {
                    adapter: adapter.clone(),
                    source: e,
                }
            }
        })?;
        if &a.parent != self.cpc() {
            return Err(InitError::AdapterOnOtherCpc {
                adapter,
                parent: a.parent,
            });
        }
        if a.adapter_type != AdapterType::Fcp {
            return Err(InitError::AdapterNotFcp {
                adapter,
                name: a.name,
                adapter_type: a.adapter_type.to_string(),
            });
        }
        let uris = a.storage_port_uris.unwrap_or_default();
        for uri in &uris {
            let port = self
                .hmc
                .get_storage_port(uri)
                .await
                .map_err(|e| InitError::GetAdapter {
                    adapter: adapter.clone(),
                    source: e,
                })?;
            if port.index == u32::from(m.port) {
                return Ok(uri.clone());
            }
        }
        Err(InitError::AdapterPortMissing {
            adapter,
            port: m.port,
            ports: uris.len(),
        })
    }

    // ----- lookups shared by the operations --------------------------------

    /// The partition of an instance, if it exists (one HMC request).
    pub(crate) async fn find_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<PartitionUri>, HmcError> {
        let filter = PartitionFilter {
            name: Some(regex_escape(&self.partition_name(instance))),
            status: None,
        };
        let found = self.hmc.list_partitions(self.cpc(), &filter).await?;
        Ok(found.into_iter().next().map(|p| p.object_uri))
    }

    pub(crate) async fn require_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<PartitionUri, DriverError> {
        self.find_partition(instance)
            .await
            .map_err(DriverError::ListPartitions)?
            .ok_or_else(|| DriverError::InstanceNotFound {
                instance: instance.clone(),
            })
    }

    pub(crate) async fn get_partition(&self, uri: &PartitionUri) -> Result<Partition, DriverError> {
        self.hmc
            .get_partition(uri)
            .await
            .map_err(|source| DriverError::GetPartition {
                partition: uri.clone(),
                source,
            })
    }

    /// Reads the vHBAs, ordered as the adapter mappings are (the first is
    /// the boot vHBA); vHBAs the driver did not make come last.
    pub(crate) async fn read_vhbas(
        &self,
        hba_uris: &[HbaUri],
    ) -> Result<Vec<(String, Vhba)>, (HbaUri, HmcError)> {
        let mut out = Vec::new();
        for uri in hba_uris {
            let h = self.hmc.get_hba(uri).await.map_err(|e| (uri.clone(), e))?;
            out.push((
                h.name,
                Vhba {
                    uri: h.element_uri,
                    wwpn: h.wwpn,
                    device_number: h.device_number,
                },
            ));
        }
        let order: Vec<String> = self
            .config
            .adapter_mappings
            .iter()
            .map(Self::hba_name)
            .collect();
        out.sort_by_key(|(name, _)| order.iter().position(|n| n == name).unwrap_or(usize::MAX));
        Ok(out)
    }

    /// Polls the partition until its status is not transitional.
    pub(crate) async fn settle(&self, uri: &PartitionUri) -> Result<PartitionStatus, DriverError> {
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
                return Err(DriverError::StatusTimeout {
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

    /// Stops the partition and waits for the job; a lost reply is settled
    /// like a lost start (see [`Self::start_and_wait`]).
    pub(crate) async fn stop_and_wait(&self, uri: &PartitionUri) -> Result<(), HmcError> {
        let job = match self.hmc.stop_partition(uri).await {
            Ok(job) => job,
            Err(lost) if lost.may_have_taken_effect() => match self.settle(uri).await {
                Ok(PartitionStatus::Stopped) => return Ok(()),
                Ok(
                    PartitionStatus::Active | PartitionStatus::Degraded | PartitionStatus::Paused,
                ) => {
                    tracing::info!(partition = %uri, "the lost stop did not take effect; stopping again");
                    self.hmc.stop_partition(uri).await?
                }
                _ => return Err(lost),
            },
            Err(e) => return Err(e),
        };
        wait_for_job(&self.hmc, &job, &self.poll()).await.map(drop)
    }

    /// Brings the partition to `stopped`, whatever it is doing: waits out a
    /// transition, then stops it if it runs.
    pub(crate) async fn ensure_stopped(&self, uri: &PartitionUri) -> Result<(), CleanupError> {
        let status = self.settle(uri).await.map_err(|e| match e {
            DriverError::GetPartition { partition, source } => {
                CleanupError::GetPartition { partition, source }
            }
            DriverError::StatusTimeout { partition, status } => {
                CleanupError::PartitionStuck { partition, status }
            }
            // settle() fails in no other way.
            _ => CleanupError::PartitionStuck {
                partition: uri.clone(),
                status: "unknown".into(),
            },
        })?;
        if status == PartitionStatus::Stopped {
            return Ok(());
        }
        self.stop_and_wait(uri)
            .await
            .map_err(|source| CleanupError::StopPartition {
                partition: uri.clone(),
                source,
            })
    }

    /// The recorded LUN paths of an instance's volumes.
    pub fn volume_paths(&self, instance: &InstanceId) -> Vec<(VolumeId, Vec<FcPath>)> {
        self.volumes.volumes_of(instance)
    }
}
