//! Spawn, in Nova's order: the volumes read, `prepare_for_spawn` (the
//! partition and its initiators, found or made), the attachments made and
//! updated with the driver's connector (Cinder zones and masks), the
//! driver's `spawn`, the attachments completed. All or nothing: on failure
//! everything is undone (see `teardown.rs`). A partition an earlier try
//! left is taken over only when that try never finished (Cinder holds no
//! completed attachment of the instance); a finished instance is refused
//! and never touched.

use cinder_client::{CinderApi, Connector, InstanceId, VolumeId};
use dpm_driver::{DriverVolume, Instance, InstanceName, Located, PlannedVolume, Spawned};
use hmc_client::{HmcApi, PartitionUri};
use tracing::Instrument;

use crate::error::{SpawnError, SpawnStep, UndoError, VolumeStep};
use crate::flow::{self, Flow, Link};
use crate::{BlockDevice, Compute};

/// One spawn, with its record of what it did.
struct SpawnRun<'a, H, C: 'static> {
    compute: &'a Compute<H, C>,
    instance: &'a Instance,
    flow: Option<&'static dyn Flow<C>>,
    /// The instance is this spawn's to undo: its partition was made, or an
    /// unfinished earlier try was taken over.
    owned: bool,
    partition: Option<PartitionUri>,
    connector: Option<Connector>,
    /// What Cinder holds of this spawn, in order.
    links: Vec<Link>,
}

impl<H: HmcApi + 'static, C: CinderApi + 'static> Compute<H, C> {
    /// Boots a new partition for `instance` from the block device with boot
    /// index 0, with the other block devices attached as data volumes.
    ///
    /// All or nothing: on failure, every step done is undone (the partition
    /// stopped, the attachments deleted, which unmasks and unzones; the
    /// partition deleted with its vHBAs or storage group) and the first
    /// error is returned, with any undo errors attached. What an unfinished
    /// earlier try of the same instance left is taken over, so a retry
    /// works.
    pub async fn spawn(
        &self,
        instance: &Instance,
        devices: &[BlockDevice],
    ) -> Result<Spawned, SpawnError> {
        let _held = self.lock_instance(&instance.uuid).await;
        let mut run = SpawnRun {
            compute: self,
            instance,
            flow: None,
            owned: false,
            partition: None,
            connector: None,
            links: Vec::new(),
        };
        let span = tracing::info_span!("spawn", instance = %instance.uuid);
        match run.steps(devices).instrument(span).await {
            Ok(s) => Ok(s),
            Err(step) if step.is_refusal() => {
                tracing::warn!(error = %step, "spawn refused");
                Err(SpawnError {
                    instance: instance.uuid.clone(),
                    step,
                    undo: Vec::new(),
                })
            }
            Err(step) => {
                tracing::warn!(error = %step, "spawn failed; undoing");
                let undo = run.undo().instrument(tracing::info_span!("rollback")).await;
                Err(SpawnError {
                    instance: instance.uuid.clone(),
                    step,
                    undo,
                })
            }
        }
    }

    /// [`spawn`](Self::spawn), with the name the instance is known by,
    /// stored in its partition's description (see
    /// [`dpm_driver::parse_description`]). Names need not be unique (Nova's
    /// are not); a caller that resolves names checks that.
    pub async fn spawn_named(
        &self,
        instance: &Instance,
        name: Option<&InstanceName>,
        devices: &[BlockDevice],
    ) -> Result<Spawned, SpawnError> {
        let mut named = instance.clone();
        named.name = name.cloned();
        self.spawn(&named, devices).await
    }
}

impl<H: HmcApi + 'static, C: CinderApi + 'static> SpawnRun<'_, H, C> {
    async fn steps(&mut self, devices: &[BlockDevice]) -> Result<Spawned, SpawnStep> {
        let c = self.compute;
        if c.driver.storage_model().is_none() {
            return Err(SpawnStep::NotInitialized);
        }
        let mut ordered: Vec<&BlockDevice> = devices.iter().collect();
        ordered.sort_by_key(|d| d.boot_index.unwrap_or(u32::MAX));
        if !ordered.iter().any(|d| d.boot_index == Some(0)) {
            return Err(SpawnStep::BootFromImageNotSupported);
        }
        c.driver.check_flavor(self.instance)?;
        let flow = flow::choose(&c.cinder)
            .await
            .map_err(SpawnStep::CinderApi)?;
        self.flow = Some(flow);
        let planned = self.read_volumes(&ordered).await?;
        let located = match c.driver.prepare_for_spawn(self.instance, &planned).await {
            Ok(l) => l,
            Err(e) => {
                // A partition this call made is this spawn's to undo.
                self.owned = e.made_partition;
                return Err(e.into());
            }
        };
        self.partition = Some(located.partition.clone());
        let connector = c.driver.connector(&located).map_err(SpawnStep::Connector)?;
        self.connector = Some(connector.clone());
        if located.created {
            self.owned = true;
        } else {
            self.take_over(flow, &located, &planned).await?;
        }
        let mut volumes = Vec::new();
        for p in &planned {
            let span = tracing::info_span!("connect_volume", volume = %p.volume_id);
            let info = flow
                .connect(
                    &c.cinder,
                    &self.instance.uuid,
                    &p.volume_id,
                    &connector,
                    &mut self.links,
                )
                .instrument(span)
                .await?;
            volumes.push(DriverVolume {
                volume_id: p.volume_id.clone(),
                connection_info: info,
                size_gib: p.size_gib,
                boot_index: ordered
                    .iter()
                    .find(|d| d.volume_id == p.volume_id)
                    .and_then(|d| d.boot_index),
            });
        }
        let spawned = c
            .driver
            .spawn(self.instance, &volumes, Some(&located))
            .await?;
        for (i, l) in self.links.iter().enumerate() {
            flow.complete(&c.cinder, &self.instance.uuid, l, i, &c.config().host)
                .await?;
        }
        tracing::info!(partition = %spawned.partition, "instance spawned");
        Ok(spawned)
    }

    /// Each volume's size (a storage-group request's size), read before
    /// anything is made: a volume Cinder does not have is refused.
    async fn read_volumes(
        &self,
        ordered: &[&BlockDevice],
    ) -> Result<Vec<PlannedVolume>, SpawnStep> {
        let mut planned = Vec::new();
        for d in ordered {
            let v = self
                .compute
                .cinder
                .get_volume(&d.volume_id)
                .await
                .map_err(|source| VolumeStep::ReadVolume {
                    volume: d.volume_id.clone(),
                    source,
                })?;
            planned.push(PlannedVolume {
                volume_id: d.volume_id.clone(),
                size_gib: v.size,
                boot: d.boot_index == Some(0),
            });
        }
        Ok(planned)
    }

    /// The partition existed before this spawn. A finished instance is
    /// refused (what its spawn left uncompleted in Cinder is completed, so
    /// it is whole). An unfinished earlier try is stopped and what it left
    /// in Cinder released, so that its volumes can be reserved again.
    async fn take_over(
        &mut self,
        flow: &dyn Flow<C>,
        located: &Located,
        planned: &[PlannedVolume],
    ) -> Result<(), SpawnStep> {
        let c = self.compute;
        let instance = &self.instance.uuid;
        let partition = located.partition.clone();
        let ids: Vec<VolumeId> = planned.iter().map(|p| p.volume_id.clone()).collect();
        let finished = flow
            .spawn_finished(&c.cinder, instance)
            .await
            .map_err(|source| SpawnStep::CheckEarlierTry {
                partition: partition.clone(),
                source,
            })?;
        if finished {
            flow.finish_completions(
                &c.cinder,
                instance,
                &ids,
                self.connector.as_ref(),
                &c.config().host,
            )
            .await;
            return Err(SpawnStep::AlreadyExists {
                instance: instance.clone(),
                partition,
            });
        }
        tracing::info!(partition = %partition, "taking over the partition of an unfinished earlier try");
        self.owned = true;
        c.driver
            .stop_partition(&partition)
            .await
            .map_err(|source| SpawnStep::StopEarlierTry {
                partition: partition.clone(),
                source,
            })?;
        let adopt = |source| SpawnStep::AdoptAttachments {
            partition: partition.clone(),
            source,
        };
        let stale = flow
            .earlier_links(&c.cinder, instance, &ids, self.connector.as_ref())
            .await
            .map_err(|e| adopt(UndoError::Cinder(e)))?;
        for l in &stale {
            if let Some(e) = flow
                .release(&c.cinder, instance, l, true)
                .await
                .into_iter()
                .next()
            {
                return Err(adopt(UndoError::Cinder(e)));
            }
        }
        Ok(())
    }

    /// Undoes the spawn: what Cinder holds for the instance counts too (a
    /// request whose reply was lost may have taken effect).
    async fn undo(self) -> Vec<UndoError> {
        let (Some(flow), true) = (self.flow, self.owned) else {
            return Vec::new();
        };
        let c = self.compute;
        let instance: &InstanceId = &self.instance.uuid;
        let partition = match self.partition.clone() {
            Some(p) => Some(p),
            None => c.driver.partition_of(instance).await.ok().flatten(),
        };
        let mut links = self.links.clone();
        if let Ok(found) = flow
            .find_links(&c.cinder, instance, self.connector.as_ref())
            .await
        {
            for f in found {
                if !links.iter().any(|l| l.same_as(&f)) {
                    links.push(f);
                }
            }
        }
        c.teardown(flow, instance, partition.as_ref(), &links).await
    }
}
