//! Nova's `destroy` and the power operations.

use cinder_client::InstanceId;
use hmc_client::{HmcApi, PartitionStatus, PartitionUri};

use crate::driver::DpmDriver;
use crate::error::{CleanupError, DestroyError, LookupError, PowerError};

/// Nova's reboot types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RebootKind {
    /// `SOFT`: ask the guest; here the partition is stopped and started.
    Soft,
    /// `HARD`: stop and start the partition.
    Hard,
}

impl<H: HmcApi> DpmDriver<H> {
    /// Nova's `destroy` (and `failed_spawn_cleanup`): stops the partition,
    /// deletes it (its vHBAs go with it, and it leaves its storage groups),
    /// then deletes the instance's storage group, found by name. An
    /// instance with nothing left is success; `Ok(true)` when a partition
    /// existed. When the partition cannot be stopped nothing is deleted.
    #[tracing::instrument(name = "destroy", skip(self), fields(instance = %instance))]
    pub async fn destroy(&self, instance: &InstanceId) -> Result<bool, DestroyError> {
        let fail = |failures| DestroyError {
            instance: instance.clone(),
            failures,
        };
        let ready = self
            .ready()
            .map_err(|e| fail(vec![CleanupError::Lookup(e)]))?;
        let partition = self
            .find_partition(instance)
            .await
            .map_err(|e| fail(vec![e.into()]))?;
        if let Some(p) = &partition {
            self.delete_partition(p).await.map_err(|e| fail(vec![e]))?;
        }
        let failures = ready.storage.remove(&self.host, instance).await;
        if !failures.is_empty() {
            return Err(fail(failures));
        }
        tracing::info!(existed = partition.is_some(), "instance destroyed");
        Ok(partition.is_some())
    }

    /// Deletes a partition: sent at once (one request for a stopped
    /// partition); when the HMC refuses it as not stopped, the partition
    /// is stopped first. A partition already gone is no error, and a lost
    /// reply is settled by looking again.
    async fn delete_partition(&self, p: &hmc_client::PartitionUri) -> Result<(), CleanupError> {
        let delete = |source| CleanupError::DeletePartition {
            partition: p.clone(),
            source,
        };
        for _ in 0..2 {
            match self.hmc.delete_partition(p).await {
                Ok(()) => {
                    tracing::debug!(partition = %p, "partition deleted");
                    return Ok(());
                }
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if e.status_reason() == Some((409, 1)) => match self.ensure_stopped(p).await
                {
                    Ok(()) => {}
                    // Stopped and deleted meanwhile by another process.
                    Err(s) if s.is_not_found() => return Ok(()),
                    Err(s) => return Err(s.into()),
                },
                Err(e) if e.may_have_taken_effect() => {
                    return match self.hmc.get_partition(p).await {
                        Err(g) if g.is_not_found() => Ok(()),
                        _ => Err(delete(e)),
                    };
                }
                Err(e) => return Err(delete(e)),
            }
        }
        self.hmc.delete_partition(p).await.map_err(delete)
    }

    /// Nova's `power_off`: stops the instance's partition; a stopped one is
    /// left alone.
    #[tracing::instrument(name = "power_off", skip(self), fields(instance = %instance))]
    pub async fn power_off(&self, instance: &InstanceId) -> Result<(), PowerError> {
        let uri = self.require_partition(instance).await?;
        self.stop_partition(&uri).await
    }

    /// Brings a partition [`Self::locate`] or [`Self::partition_of`] found
    /// to `stopped` (one request for a running partition).
    pub async fn stop_partition(&self, partition: &PartitionUri) -> Result<(), PowerError> {
        self.ensure_stopped(partition).await?;
        Ok(())
    }

    /// The instance's partition, if it has one (one request).
    pub async fn partition_of(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<PartitionUri>, LookupError> {
        self.find_partition(instance).await
    }

    /// Nova's `power_on`: starts the instance's partition; waits out
    /// `starting`/`stopping`, stops a `paused` or `terminated` one first,
    /// starts a `reservation-error` one as it is, and leaves a running one
    /// alone.
    #[tracing::instrument(name = "power_on", skip(self), fields(instance = %instance))]
    pub async fn power_on(&self, instance: &InstanceId) -> Result<(), PowerError> {
        let uri = self.require_partition(instance).await?;
        let status = self.settle(&uri).await?;
        if matches!(status, PartitionStatus::Active | PartitionStatus::Degraded) {
            return Ok(());
        }
        // A stopped partition, or one that could not reserve its
        // resources at activation, starts as it is; a paused or
        // terminated one is stopped first.
        if !matches!(
            status,
            PartitionStatus::Stopped | PartitionStatus::ReservationError
        ) {
            self.ensure_stopped(&uri).await?;
        }
        self.start_and_wait(&uri)
            .await
            .map_err(|source| PowerError::StartPartition {
                partition: uri,
                source,
            })
    }

    /// Nova's `reboot`: stops (if running) and starts the partition.
    #[tracing::instrument(name = "reboot", skip(self), fields(instance = %instance))]
    pub async fn reboot(&self, instance: &InstanceId, kind: RebootKind) -> Result<(), PowerError> {
        tracing::debug!(?kind, "rebooting");
        self.power_off(instance).await?;
        self.power_on(instance).await
    }

    /// Whether the instance has a partition (Nova's `instance_exists`).
    pub async fn instance_exists(&self, instance: &InstanceId) -> Result<bool, LookupError> {
        Ok(self.find_partition(instance).await?.is_some())
    }
}
