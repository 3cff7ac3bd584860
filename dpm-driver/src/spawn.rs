//! Nova's `spawn`: boot the prepared partition from the boot volume's
//! `connection_info`, start it and wait. A failure undoes what spawn did
//! (the partition is stopped, the storage group's spawn-time changes
//! reverted); what `prepare_for_spawn` made stays for `destroy` or
//! `failed_spawn_cleanup`, as Nova's compensation expects. Cinder is
//! never called.

use cinder_client::VolumeId;
use dpm_volume::{
    boot_parameters, BootPath, FcPath, Vhba, VolumeError, BOOT_OS_SPECIFIC_PARAMETERS_MAX,
};
use hmc_client::{HmcApi, HmcError, PartitionStatus, PartitionUpdate, PartitionUri};
use tracing::Instrument;

use crate::driver::DpmDriver;
use crate::values::{Boot, DriverVolume, GroupInfo, Instance, Located};

use crate::error::{CleanupError, FailedBoot, LookupError, SpawnError, SpawnStep, StopFailure};
use crate::name::partition_description;
use crate::storage::Change;

/// A running instance, as spawn left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    /// The partition.
    pub partition: PartitionUri,
    /// Whether anything of the instance (its partition, or its storage
    /// group) existed before this spawn's preparation: an earlier try left
    /// it, and it was taken over.
    pub adopted: bool,
    /// The vHBAs, in adapter-mapping order (empty with storage groups);
    /// `boot` names the one the partition booted over.
    pub vhbas: Vec<Vhba>,
    /// The instance's storage group (storage groups).
    pub group: Option<GroupInfo>,
    /// What the partition boots from.
    pub boot: Boot,
    /// Each volume's LUN paths, in boot order.
    pub volumes: Vec<(VolumeId, Vec<FcPath>)>,
}

/// One spawn: what it has done so far, to undo on failure.
struct SpawnOp<'a, H> {
    drv: &'a DpmDriver<H>,
    instance: &'a Instance,
    /// The partition, once found.
    partition: Option<PartitionUri>,
    /// The storage model's changes.
    changes: Vec<Change>,
}

/// The boot volume's paths for the SCSI IPL loader: `rd.zfcp=` entries,
/// the path booted over first, as many as fit the HMC's 256 characters.
/// The ones that do not fit are dropped, with a warning.
fn loader_parameters(boot: &Boot, vhbas: &[Vhba], boot_paths: &[FcPath]) -> String {
    let (first, all) = boot.loader_paths(vhbas, boot_paths);
    let p = boot_parameters(first.as_ref(), &all, BOOT_OS_SPECIFIC_PARAMETERS_MAX);
    if !p.dropped.is_empty() {
        tracing::warn!(
            included = p.included.len(),
            dropped = p.dropped.len(),
            "the boot volume has more paths than boot-os-specific-parameters holds (256 characters); the SCSI IPL loader gets the first ones"
        );
    }
    p.text
}

impl<H: HmcApi> DpmDriver<H> {
    /// Nova's `spawn`: boots the instance's prepared partition from the
    /// volume with boot index 0 (z13: a target WWPN and LUN of its
    /// connection info, reachable first; z14+: requests, discovery,
    /// matching by paths, the group attached, `boot-storage-volume`),
    /// then starts it and waits. `located` is what `prepare_for_spawn`
    /// returned, when the caller has it (Nova's layer passes none: the
    /// partition is found by name).
    ///
    /// A running partition is never touched (a refusal). On failure what
    /// spawn did is undone and the error says what could not be.
    #[tracing::instrument(name = "spawn", skip_all, fields(instance = %instance.uuid, partition = tracing::field::Empty))]
    pub async fn spawn(
        &self,
        instance: &Instance,
        volumes: &[DriverVolume],
        located: Option<&Located>,
    ) -> Result<Spawned, SpawnError> {
        let mut op = SpawnOp {
            drv: self,
            instance,
            partition: None,
            changes: Vec::new(),
        };
        match op.run(volumes, located).await {
            Ok(s) => {
                tracing::info!(partition = %s.partition, "instance spawned");
                Ok(s)
            }
            Err(step) => {
                let undo = if step.is_refusal() {
                    tracing::warn!(error = %step, "spawn refused");
                    Vec::new()
                } else {
                    tracing::warn!(error = %step, "spawn failed; undoing");
                    op.undo().instrument(tracing::info_span!("rollback")).await
                };
                Err(SpawnError {
                    instance: instance.uuid.clone(),
                    step,
                    undo,
                })
            }
        }
    }
}

impl<H: HmcApi> SpawnOp<'_, H> {
    async fn run(
        &mut self,
        volumes: &[DriverVolume],
        located: Option<&Located>,
    ) -> Result<Spawned, SpawnStep> {
        let drv = self.drv;
        let ready = drv.ready()?;
        let mut ordered: Vec<&DriverVolume> = volumes.iter().collect();
        ordered.sort_by_key(|d| d.boot_index.unwrap_or(u32::MAX));
        let boot = *ordered
            .iter()
            .find(|d| d.boot_index == Some(0))
            .ok_or(SpawnStep::BootFromImageNotSupported)?;
        drv.check_flavor(self.instance)?;
        let located = match located {
            Some(l) => l.clone(),
            None => drv.locate(&self.instance.uuid).await?.ok_or_else(|| {
                LookupError::InstanceNotFound {
                    instance: self.instance.uuid.clone(),
                }
            })?,
        };
        let partition = located.partition.clone();
        tracing::Span::current().record("partition", tracing::field::display(&partition));
        if !located.created {
            self.take_over(&partition).await?;
        }
        self.partition = Some(partition.clone());
        let plan = ready
            .storage
            .boot_plan(
                &drv.host,
                &ready.ports,
                &located,
                &ordered,
                boot,
                &mut self.changes,
            )
            .await?;
        let boot_paths: Vec<FcPath> = plan
            .paths
            .iter()
            .find(|(v, _)| *v == boot.volume_id)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let mut boots = plan.boots.into_iter();
        let first = boots.next().ok_or_else(|| SpawnStep::BootPath {
            volume: boot.volume_id.clone(),
            source: VolumeError::NoPaths,
        })?;
        let booted = self
            .boot_over(
                &partition,
                first,
                boots.collect(),
                located.initiators.vhbas(),
                &boot_paths,
            )
            .await?;
        Ok(Spawned {
            partition,
            adopted: !located.created,
            vhbas: located.initiators.vhbas().to_vec(),
            group: located.initiators.group().cloned(),
            boot: booted,
            volumes: plan.paths,
        })
    }

    /// A partition that existed before this spawn's preparation: refused
    /// while it runs; otherwise stopped (a paused or terminated guest) and
    /// given the flavor's sizes and this instance's description.
    async fn take_over(&mut self, partition: &PartitionUri) -> Result<(), SpawnStep> {
        let drv = self.drv;
        let status = drv.settle(partition).await?;
        if matches!(status, PartitionStatus::Active | PartitionStatus::Degraded) {
            return Err(SpawnStep::AlreadyRunning {
                partition: partition.clone(),
                status: status.to_string(),
            });
        }
        self.partition = Some(partition.clone());
        if !matches!(
            status,
            PartitionStatus::Stopped | PartitionStatus::ReservationError
        ) {
            drv.ensure_stopped(partition).await.map_err(|e| match e {
                StopFailure::Stop { partition, source } => {
                    SpawnStep::StopEarlierTry { partition, source }
                }
                StopFailure::Lookup(l) => SpawnStep::Lookup(l),
            })?;
        }
        let p = drv.get_partition(partition).await?;
        let i = self.instance;
        let description = partition_description(&drv.config.host, &i.uuid, i.name.as_ref());
        let resize = p.ifl_processors != i.vcpus || p.initial_memory != i.memory_mb;
        let renamed = p.description != description;
        if resize || renamed {
            let u = PartitionUpdate {
                ifl_processors: resize.then_some(i.vcpus),
                initial_memory: resize.then_some(i.memory_mb),
                maximum_memory: resize.then_some(i.memory_mb),
                description: renamed.then_some(description),
                ..PartitionUpdate::default()
            };
            drv.hmc
                .update_partition(partition, &u)
                .await
                .map_err(|source| SpawnStep::UpdatePartition {
                    partition: partition.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Sets a boot source and starts the partition; when the start job
    /// fails over a SAN path (the target was not reachable, say) and
    /// another path is left, tries that one. Any other failure ends the
    /// spawn.
    async fn boot_over(
        &self,
        partition: &PartitionUri,
        first: Boot,
        rest: Vec<Boot>,
        vhbas: &[Vhba],
        boot_paths: &[FcPath],
    ) -> Result<Boot, SpawnStep> {
        let drv = self.drv;
        let total = rest.len() + 1;
        let mut rest = rest.into_iter();
        let mut boot = first;
        // The first failed path is the cause; the later ones go along.
        let mut first_failure: Option<(BootPath, HmcError)> = None;
        let mut then: Vec<FailedBoot> = Vec::new();
        loop {
            let mut update = boot.update();
            if drv.config.boot_os_specific_parameters {
                update.boot_os_specific_parameters =
                    Some(loader_parameters(&boot, vhbas, boot_paths));
            }
            drv.hmc
                .update_partition(partition, &update)
                .await
                .map_err(|source| SpawnStep::SetBootProperties {
                    partition: partition.clone(),
                    source,
                })?;
            let attempt = usize::from(first_failure.is_some()) + then.len() + 1;
            tracing::info!(boot = ?boot, attempt, of = total, "boot properties set");
            let error = match drv.start_and_wait(partition).await {
                Ok(()) => return Ok(boot),
                Err(error @ HmcError::JobFailed { .. }) => error,
                Err(source) => {
                    return Err(SpawnStep::StartPartition {
                        partition: partition.clone(),
                        source,
                    })
                }
            };
            let start_failed = |source| SpawnStep::StartPartition {
                partition: partition.clone(),
                source,
            };
            let Some(path) = boot.san_path().cloned() else {
                return Err(start_failed(error));
            };
            let Some(next) = rest.next() else {
                return Err(match first_failure {
                    None => start_failed(error),
                    Some((first, source)) => {
                        then.push(FailedBoot { path, error });
                        SpawnStep::NoBootPathStarted {
                            partition: partition.clone(),
                            first,
                            source,
                            then,
                        }
                    }
                });
            };
            tracing::warn!(hba = %path.hba, target = %path.target, error = %error, "the partition did not start over this boot path; trying the next");
            match first_failure {
                None => first_failure = Some((path, error)),
                Some(_) => then.push(FailedBoot { path, error }),
            }
            boot = next;
            // A failed start may leave the partition not quite stopped.
            drv.ensure_stopped(partition)
                .await
                .map_err(|e| SpawnStep::StopAfterFailedBoot {
                    partition: partition.clone(),
                    source: e.into(),
                })?;
        }
    }

    /// Stops the partition, then reverts the storage model's changes. When
    /// the partition cannot be stopped nothing else is touched, so a
    /// running guest never loses its LUNs.
    async fn undo(self) -> Vec<CleanupError> {
        let Some(partition) = &self.partition else {
            return Vec::new();
        };
        match self.drv.ensure_stopped(partition).await {
            Ok(()) => {}
            // Gone: another process deleted it meanwhile; nothing of it runs.
            Err(StopFailure::Stop { source, .. }) if source.is_not_found() => {}
            Err(StopFailure::Lookup(l)) if l.is_not_found() => {}
            Err(e) => return vec![e.into()],
        }
        match self.drv.ready() {
            Ok(ready) => ready.storage.undo(&self.drv.host, self.changes).await,
            Err(e) => vec![e.into()],
        }
    }
}
