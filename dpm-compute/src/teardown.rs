//! Tearing an instance down, written once for destroy and every undo:
//! stop the partition, release its volumes in Cinder (newest first), then
//! let the virt driver delete the partition and its storage group. When
//! the partition cannot be stopped nothing else is touched, so a running
//! guest never loses its LUNs; when a volume cannot be released the
//! partition is kept, so its WWPNs are never handed to another partition
//! while a LUN may still be masked to them.
//!
//! (Nova's own compensation deletes first and releases after; this layer
//! stops, releases, then deletes, which keeps the WWPNs until Cinder has
//! let go.)

use cinder_client::{CinderApi, InstanceId};
use hmc_client::{HmcApi, PartitionUri};

use crate::error::{DestroyError, ReleaseError, UndoError};
use crate::flow::{self, Flow, Link};
use crate::Compute;

impl<H: HmcApi + 'static, C: CinderApi + 'static> Compute<H, C> {
    /// Stops, releases `links`, deletes; returns what could not be done.
    pub(crate) async fn teardown(
        &self,
        flow: &dyn Flow<C>,
        instance: &InstanceId,
        partition: Option<&PartitionUri>,
        links: &[Link],
    ) -> Vec<UndoError> {
        if let Some(p) = partition {
            match self.driver.stop_partition(p).await {
                Ok(()) => {}
                // Gone: another process deleted it meanwhile.
                Err(e) if e.is_not_found() => {}
                Err(e) => return vec![UndoError::Stop(e)],
            }
        }
        let mut failures: Vec<UndoError> = Vec::new();
        for l in links.iter().rev() {
            failures.extend(
                flow.release(&self.cinder, instance, l, true)
                    .await
                    .into_iter()
                    .map(UndoError::Cinder),
            );
        }
        if !failures.is_empty() {
            if let Some(p) = partition {
                failures.push(UndoError::PartitionKept {
                    partition: p.clone(),
                });
            }
            return failures;
        }
        // A partition found is deleted as found; with none found, the
        // driver looks once more (one made by a reply that was lost).
        let destroyed = match partition {
            Some(p) => self.driver.destroy_found(instance, Some(p)).await,
            None => self.driver.destroy(instance).await,
        };
        if let Err(e) = destroyed {
            failures.extend(e.failures.into_iter().map(UndoError::Hmc));
        }
        failures
    }

    /// Destroys an instance: stops its partition, releases its volumes in
    /// Cinder (found in Cinder, not in process memory), and deletes the
    /// partition with its vHBAs and its storage group. An instance that
    /// does not exist is a no-op (what Cinder or the HMC still hold of it
    /// is released all the same).
    #[tracing::instrument(name = "destroy", skip(self), fields(instance = %instance, partition = tracing::field::Empty))]
    pub async fn destroy(&self, instance: &InstanceId) -> Result<(), DestroyError> {
        let _held = self.lock_instance(instance).await;
        let fail = |failures| DestroyError {
            instance: instance.clone(),
            failures,
        };
        let flow = flow::choose(&self.cinder)
            .await
            .map_err(|e| fail(vec![UndoError::Cinder(ReleaseError::CinderApi(e))]))?;
        let partition = self
            .driver
            .partition_of(instance)
            .await
            .map_err(|e| fail(vec![UndoError::Hmc(dpm_driver::CleanupError::Lookup(e))]))?;
        if let Some(p) = &partition {
            tracing::Span::current().record("partition", tracing::field::display(p));
        }
        // The legacy terminate_connection needs the connector.
        let connector = match (&partition, flow.needs_connector()) {
            (Some(_), true) => self
                .driver
                .locate(instance)
                .await
                .map_err(|e| fail(vec![UndoError::Hmc(dpm_driver::CleanupError::Lookup(e))]))?
                .and_then(|l| self.driver.connector(&l).ok()),
            _ => None,
        };
        let links = flow
            .find_links(&self.cinder, instance, connector.as_ref())
            .await
            .map_err(|e| fail(vec![UndoError::Cinder(e)]))?;
        let mut failures = self
            .teardown(flow, instance, partition.as_ref(), &links)
            .await;
        if failures.is_empty() {
            // Judged by the world at the end: what another process tied to
            // the instance in Cinder while this one tore it down (an attach
            // that found it before it went) is released too; nothing of the
            // instance is left on the HMC to use it.
            match flow
                .find_links(&self.cinder, instance, connector.as_ref())
                .await
            {
                Ok(late) => {
                    for l in late.iter().filter(|l| !links.iter().any(|k| k.same_as(l))) {
                        tracing::info!(volume = %l.volume, "releasing what another process tied to the instance meanwhile");
                        failures.extend(
                            flow.release(&self.cinder, instance, l, true)
                                .await
                                .into_iter()
                                .map(UndoError::Cinder),
                        );
                    }
                }
                Err(e) => failures.push(UndoError::Cinder(e)),
            }
        }
        if failures.is_empty() {
            tracing::info!(existed = partition.is_some(), "instance destroyed");
            Ok(())
        } else {
            Err(fail(failures))
        }
    }
}
