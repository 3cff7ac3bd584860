//! What every step stands on: the HMC client, the configuration, and the
//! partition steps every operation shares (find by name, read, settle,
//! start, stop). The storage models' steps and the driver's operations are
//! written over it.

use cinder_client::InstanceId;
use hmc_client::{
    wait_for_job, CpcUri, HmcApi, HmcError, Partition, PartitionFilter, PartitionListProperty,
    PartitionStatus, PartitionSummary, PartitionUri, PollPolicy, StoragePortUri,
};

use crate::config::{AdapterMapping, DriverConfig};
use crate::error::{LookupError, StopFailure};
use crate::name::names_instance;

/// The storage port of each adapter mapping, in configuration order (what
/// `init_host` resolved).
pub(crate) type Ports = [(AdapterMapping, StoragePortUri)];

/// The HMC client and the configuration, with the shared partition steps.
#[derive(Debug)]
pub struct Host<H> {
    pub(crate) hmc: H,
    pub(crate) config: DriverConfig,
    /// Whether the HMC's partition list takes `additional-properties`
    /// (API 4.1 and later; set by `init_host` from the logon).
    pub(crate) lists_properties: std::sync::atomic::AtomicBool,
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

impl<H: HmcApi> Host<H> {
    pub(crate) fn cpc(&self) -> &CpcUri {
        &self.config.cpc
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

    /// The description spawn gives an instance's partition when it has no
    /// name (one the lookup accepts as the instance's).
    pub fn partition_description(&self, instance: &InstanceId) -> String {
        crate::name::partition_description(&self.config.host, instance, None)
    }

    // ----- the partition steps every operation shares ----------------------

    /// The partition of an instance, if it exists: the one with its name,
    /// when its description names the instance ([`names_instance`]); a
    /// partition with the name and another's description is
    /// [`LookupError::ForeignPartition`], and nothing is done to it.
    ///
    /// One HMC request at API 4.1 and later (the list by name with
    /// `additional-properties=description`); an older HMC gets the list,
    /// then the partition read.
    pub(crate) async fn find_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<PartitionUri>, LookupError> {
        Ok(self
            .find_partition_read(instance)
            .await?
            .map(|(uri, _)| uri))
    }

    /// The partitions `filter` selects, each entry with `properties` when
    /// the HMC lists them (`additional-properties`, API 4.1 and later: one
    /// request). An older HMC, or one that refuses the parameter all the
    /// same (400.1), gets the plain list, its entries without them: the
    /// caller reads those partitions in bulk.
    pub(crate) async fn list_partitions_with(
        &self,
        filter: &PartitionFilter,
        properties: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, LookupError> {
        use std::sync::atomic::Ordering;
        if self.lists_properties.load(Ordering::Relaxed) {
            match self
                .hmc
                .list_partitions_with(self.cpc(), filter, properties)
                .await
            {
                Ok(found) => return Ok(found),
                Err(e) if e.status_reason() == Some((400, 1)) => {
                    tracing::debug!(error = %e, "the HMC refused additional-properties; listing without");
                }
                Err(e) => return Err(LookupError::ListPartitions(e)),
            }
        }
        self.hmc
            .list_partitions(self.cpc(), filter)
            .await
            .map_err(LookupError::ListPartitions)
    }

    /// [`Self::find_partition`], with the partition's properties when it
    /// had to read them (an HMC before API 4.1), so that a caller about to
    /// read the partition need not ask twice.
    pub(crate) async fn find_partition_read(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<(PartitionUri, Option<Partition>)>, LookupError> {
        let filter = PartitionFilter {
            name: Some(regex_escape(&self.partition_name(instance))),
            status: None,
        };
        let found = self
            .list_partitions_with(&filter, &[PartitionListProperty::Description])
            .await?;
        let Some(p) = found.into_iter().next() else {
            return Ok(None);
        };
        let (description, read) = match p.description {
            Some(d) => (d, None),
            None => match self.get_partition(&p.object_uri).await {
                Ok(full) => (full.description.clone(), Some(full)),
                // Deleted between the list and the read.
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        if names_instance(&description, &self.config.host, instance) {
            Ok(Some((p.object_uri, read)))
        } else {
            tracing::warn!(partition = %p.object_uri, %description, "a partition with the instance's name is not the instance's; left alone");
            Err(LookupError::ForeignPartition {
                instance: instance.clone(),
                partition: p.object_uri,
                description,
            })
        }
    }

    /// The instance's partition, read (one request more than
    /// [`Self::find_partition`] at API 4.1 and later, none before).
    pub(crate) async fn find_and_read_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<(PartitionUri, Partition)>, LookupError> {
        match self.find_partition_read(instance).await? {
            None => Ok(None),
            Some((uri, Some(p))) => Ok(Some((uri, p))),
            Some((uri, None)) => match self.get_partition(&uri).await {
                Ok(p) => Ok(Some((uri, p))),
                // Deleted between the list and the read.
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// [`Self::find_and_read_partition`]; a missing partition is
    /// [`LookupError::InstanceNotFound`].
    pub(crate) async fn require_read_partition(
        &self,
        instance: &InstanceId,
    ) -> Result<(PartitionUri, Partition), LookupError> {
        self.find_and_read_partition(instance)
            .await?
            .ok_or_else(|| LookupError::InstanceNotFound {
                instance: instance.clone(),
            })
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
