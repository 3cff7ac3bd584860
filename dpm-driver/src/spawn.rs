//! Spawn: boot a partition from a Cinder FCP volume, all or nothing.
//!
//! The order the design spec requires: the initiator WWPNs exist only once
//! the partition and its vHBAs exist, so the partition comes first, then the
//! vHBAs, then Cinder (attachment create and update with the connector:
//! zoning and LUN masking), then the boot properties, the start job, and the
//! attachments' completion. Any failure undoes every step done so far.

use cinder_client::{CinderApi, VolumeId};
use dpm_volume::{
    boot_candidates, boot_parameters, connector, connector_for, BootPath, FcPath, Vhba,
    VolumeError, BOOT_OS_SPECIFIC_PARAMETERS_MAX,
};
use hmc_client::{
    get_many, HbaCreate, HmcApi, HmcError, PartitionCreate, PartitionStatus, PartitionUpdate,
    PartitionUri, StoragePort, StoragePortUri,
};
use tracing::Instrument;

use crate::driver::{BlockDevice, DpmDriver, Instance, Ready};
use crate::error::{FailedBoot, GroupStep, SpawnError, SpawnStep, VolumeStep};
use crate::groups::Request;
use crate::link::Connected;
use crate::names::{partition_description, InstanceName};
use crate::storage::{Boot, GroupInfo, Initiators, StorageModel};

/// A running instance, as spawn left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    /// The partition.
    pub partition: PartitionUri,
    /// Whether the partition was left by an earlier try and taken over.
    pub adopted: bool,
    /// The vHBAs, in adapter-mapping order (HBA model; empty with storage
    /// groups); `boot` names the one the partition booted over.
    pub vhbas: Vec<Vhba>,
    /// The instance's storage group (storage-group model).
    pub group: Option<GroupInfo>,
    /// What the partition boots from.
    pub boot: Boot,
    /// Each volume's LUN paths, in boot order.
    pub volumes: Vec<(VolumeId, Vec<FcPath>)>,
}

/// What spawn has done so far, to undo on failure.
#[derive(Debug, Default)]
struct Done {
    partition: Option<PartitionUri>,
    volumes: Vec<Connected>,
    /// A storage group may exist (it is found by name to undo it).
    group: bool,
    /// The connector Cinder was given, for legacy undo.
    connector: Option<cinder_client::Connector>,
}

/// The boot volume's paths for the SCSI IPL loader: `rd.zfcp=` entries,
/// the path booted over first (vHBAs; with storage groups the HMC picks
/// the path, and every path DPM discovered is given), as many as fit the
/// HMC's 256 characters. The ones that do not fit are dropped, with a
/// warning.
fn loader_parameters(boot: &Boot, vhbas: &[Vhba], boot_paths: &[FcPath]) -> String {
    let (first, all) = match boot {
        Boot::San(b) => (
            vhbas.iter().find(|v| v.uri == b.hba).map(|v| FcPath {
                device_number: v.device_number,
                target: b.target,
                lun: b.lun,
            }),
            boot_paths,
        ),
        Boot::Volume { paths, .. } => (None, paths.as_slice()),
    };
    let p = boot_parameters(first.as_ref(), all, BOOT_OS_SPECIFIC_PARAMETERS_MAX);
    if !p.dropped.is_empty() {
        tracing::warn!(
            included = p.included.len(),
            dropped = p.dropped.len(),
            "the boot volume has more paths than boot-os-specific-parameters holds (256 characters); the SCSI IPL loader gets the first ones"
        );
    }
    p.text
}

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// Boots a new partition for `instance` from the block device with boot
    /// index 0, with the other block devices attached as data volumes.
    ///
    /// All or nothing: on failure, every step done is undone (attachments
    /// deleted, which unmasks and unzones; the partition stopped and deleted
    /// with its vHBAs) and the first error is returned, with any undo errors
    /// attached. A partition left by an earlier try of the same instance is
    /// adopted, so a retry works.
    pub async fn spawn(
        &self,
        instance: &Instance,
        devices: &[BlockDevice],
    ) -> Result<Spawned, SpawnError> {
        self.spawn_named(instance, None, devices).await
    }

    /// [`spawn`](Self::spawn), with the name the instance is known by,
    /// stored in its partition's description (see
    /// [`crate::parse_description`]), where
    /// [`list_instances_named`](Self::list_instances_named) and
    /// [`describe`](Self::describe) find it. The driver does not require
    /// names to be unique (Nova does not); a caller that resolves names
    /// does.
    #[tracing::instrument(name = "spawn", skip_all, fields(instance = %instance.uuid, partition = tracing::field::Empty))]
    pub async fn spawn_named(
        &self,
        instance: &Instance,
        name: Option<&InstanceName>,
        devices: &[BlockDevice],
    ) -> Result<Spawned, SpawnError> {
        let _held = self.lock_instance(&instance.uuid).await;
        let mut done = Done::default();
        match self.spawn_steps(instance, name, devices, &mut done).await {
            Ok(s) => {
                tracing::info!(partition = %s.partition, "instance spawned");
                Ok(s)
            }
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
                // What Cinder holds for the instance counts too: a request
                // whose reply was lost may have taken effect. Cinder holds
                // nothing of this spawn before its partition exists (and an
                // instance that already exists never gets this far).
                let mut links = done.volumes.clone();
                if done.partition.is_some() {
                    if let Ok(found) = self
                        .find_links(&instance.uuid, done.connector.clone())
                        .await
                    {
                        for f in found {
                            if !links.iter().any(|l| l.same_as(&f)) {
                                links.push(f);
                            }
                        }
                    }
                }
                let undo = self
                    .teardown(&instance.uuid, done.partition.as_ref(), &links, done.group)
                    .instrument(tracing::info_span!("rollback"))
                    .await;
                self.volumes.forget_instance(&instance.uuid);
                Err(SpawnError {
                    instance: instance.uuid.clone(),
                    step,
                    undo,
                })
            }
        }
    }

    async fn spawn_steps(
        &self,
        instance: &Instance,
        name: Option<&InstanceName>,
        devices: &[BlockDevice],
        done: &mut Done,
    ) -> Result<Spawned, SpawnStep> {
        let ready = self.ready().ok_or(SpawnStep::NotInitialized)?;
        let mut ordered: Vec<&BlockDevice> = devices.iter().collect();
        ordered.sort_by_key(|d| d.boot_index.unwrap_or(u32::MAX));
        let boot_volume = ordered
            .iter()
            .find(|d| d.boot_index == Some(0))
            .map(|d| d.volume_id.clone())
            .ok_or(SpawnStep::BootFromImageNotSupported)?;
        let cfg = &self.config;
        if instance.vcpus == 0
            || instance.vcpus > cfg.max_processors
            || instance.memory_mb > cfg.max_memory
        {
            return Err(SpawnStep::FlavorTooLarge {
                vcpus: instance.vcpus,
                memory_mb: instance.memory_mb,
                max_processors: cfg.max_processors,
                max_memory: cfg.max_memory,
            });
        }

        // 1. The partition, or the one an earlier try left.
        let description = partition_description(&cfg.host, &instance.uuid, name);
        let name = self.partition_name(&instance.uuid);
        let spawn_volumes: Vec<VolumeId> = ordered.iter().map(|d| d.volume_id.clone()).collect();
        let (partition, adopted, existing) = self
            .create_or_adopt(instance, &name, &description, ready.model, &spawn_volumes)
            .await?;
        tracing::Span::current().record("partition", tracing::field::display(&partition));
        done.partition = Some(partition.clone());

        // 2. The initiators: one vHBA per adapter mapping, or the
        //    instance's storage group with one WWPN per mapping and a
        //    volume request per Cinder volume.
        let (initiators, requests) = match ready.model {
            StorageModel::Hbas => (
                Initiators::Vhbas(
                    self.create_vhbas(&ready, instance, &partition, &existing)
                        .await?,
                ),
                Vec::new(),
            ),
            StorageModel::StorageGroups => {
                let requests: Vec<Request> = ordered
                    .iter()
                    .map(|d| Request {
                        volume: d.volume_id.clone(),
                        boot: d.volume_id == boot_volume,
                    })
                    .collect();
                // From here on a group of the instance's name may exist
                // (even when the reply to its create is lost); undo finds
                // it by name. A group in use by another partition is not
                // this spawn's, and undo leaves it alone.
                done.group = true;
                let (group, created) =
                    match self.create_group(&ready, &instance.uuid, &requests).await {
                        Ok(g) => g,
                        Err(e @ GroupStep::GroupInUse { .. }) => {
                            done.group = false;
                            return Err(e.into());
                        }
                        Err(e) => return Err(e.into()),
                    };
                (Initiators::Group(group), created)
            }
        };

        // 3. Cinder: reserve, then connect with those WWPNs as initiators
        //    (Cinder zones and masks).
        let conn = connector_for(&initiators.wwpns(), &cfg.host).map_err(SpawnStep::Connector)?;
        let legacy = !self
            .cinder
            .attachments_api()
            .await
            .map_err(SpawnStep::CinderApi)?;
        let mut connected = Vec::new();
        let mut volumes = Vec::new();
        for d in &ordered {
            let volume = &d.volume_id;
            let span = tracing::info_span!("connect_volume", volume = %volume);
            let (info, paths) = self
                .connect_one(
                    &instance.uuid,
                    volume,
                    &conn,
                    &initiators,
                    &mut done.volumes,
                    legacy,
                )
                .instrument(span)
                .await?;
            connected.push((volume.clone(), info, *volume == boot_volume));
            volumes.push((volume.clone(), paths));
        }

        // 4. What the partition can boot from: the boot paths worth trying
        //    (HBA model), or the boot volume (storage groups).
        let (first, rest): (Boot, Vec<Boot>) = match &initiators {
            Initiators::Vhbas(vhbas) => {
                let info = connected
                    .iter()
                    .find(|(v, _, _)| *v == boot_volume)
                    .map(|(_, i, _)| i)
                    .ok_or_else(|| VolumeStep::NoConnectionInfo {
                        volume: boot_volume.clone(),
                    })?;
                let ordered = self.logged_in_first(&ready, vhbas).await;
                let candidates = boot_candidates(info, &ordered, &cfg.target_wwpn_ignore_list)
                    .map_err(|source| SpawnStep::BootPath {
                        volume: boot_volume.clone(),
                        source,
                    })?;
                let bound = usize::try_from(cfg.max_boot_attempts.max(1)).unwrap_or(usize::MAX);
                let mut paths = candidates.into_iter().take(bound).map(Boot::San);
                // boot_candidates never answers an empty list.
                let first = paths.next().ok_or_else(|| SpawnStep::BootPath {
                    volume: boot_volume.clone(),
                    source: VolumeError::NoPaths,
                })?;
                (first, paths.collect())
            }
            Initiators::Group(group) => {
                // Attach first, so that the volumes' paths name this
                // partition's VSRs; then discover and match.
                self.hmc
                    .attach_storage_group(&partition, &group.uri)
                    .await
                    .map_err(|source| GroupStep::AttachGroup {
                        group: group.uri.clone(),
                        partition: partition.clone(),
                        source,
                    })?;
                self.discover(&group.uri).await?;
                let matched = self
                    .match_volumes(&group.uri, &partition, &requests, &connected)
                    .await?;
                let mut boot = None;
                for m in matched {
                    self.volumes
                        .record_paths(&instance.uuid, &m.volume, m.paths.clone());
                    if let Some(slot) = volumes.iter_mut().find(|(v, _)| *v == m.volume) {
                        slot.1 = m.paths.clone();
                    }
                    if m.volume == boot_volume {
                        boot = Some(Boot::Volume {
                            volume: m.storage_volume,
                            paths: m.paths,
                        });
                    }
                }
                let boot = boot.ok_or_else(|| GroupStep::NotDiscovered {
                    volume: boot_volume.clone(),
                    group: group.uri.clone(),
                })?;
                (boot, Vec::new())
            }
        };

        // 5. Set the boot properties in one update and start; when the
        //    start job fails and another boot path is left, try that one.
        let boot_paths: Vec<FcPath> = volumes
            .iter()
            .find(|(v, _)| *v == boot_volume)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let boot = self
            .boot_over(&partition, first, rest, initiators.vhbas(), &boot_paths)
            .await?;

        // 6. Complete the attachments.
        for (i, c) in done.volumes.iter().enumerate() {
            self.complete(&instance.uuid, c, i).await?;
        }
        Ok(Spawned {
            partition,
            adopted,
            vhbas: initiators.vhbas().to_vec(),
            group: initiators.group().cloned(),
            boot,
            volumes,
        })
    }

    /// The vHBAs (one per adapter mapping, in mapping order) with those
    /// whose adapter port is logged in to a fabric (its `fabric-id` is set)
    /// first: a vHBA on a fabric that is down cannot boot. One bulk read of
    /// the ports; when it fails, or there is one vHBA, the mapping order
    /// stands.
    async fn logged_in_first(&self, ready: &Ready, vhbas: &[Vhba]) -> Vec<Vhba> {
        if vhbas.len() < 2 {
            return vhbas.to_vec();
        }
        let ports: Vec<&StoragePortUri> = ready.ports.iter().map(|(_, p)| p).collect();
        let read: Vec<StoragePort> = match get_many(&self.hmc, &ports).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the adapter ports' fabric logins; keeping the mapping order");
                return vhbas.to_vec();
            }
        };
        let dark = |port: &StoragePortUri| {
            read.iter()
                .any(|p| p.element_uri == *port && p.fabric_id.is_none())
        };
        let mut paired: Vec<(bool, &Vhba)> = vhbas
            .iter()
            .zip(&ports)
            .map(|(v, port)| (dark(port), v))
            .collect();
        if paired.iter().any(|(d, _)| *d) {
            tracing::warn!(
                "an adapter port is not logged in to a fabric; booting over the others first"
            );
        }
        // Stable: the mapping order stands among the lit and the dark.
        paired.sort_by_key(|(d, _)| *d);
        paired.into_iter().map(|(_, v)| v.clone()).collect()
    }

    /// Sets a boot path and starts the partition; when the start job fails
    /// (the target was not reachable, say) and another path is left, tries
    /// that one. Any other failure ends the spawn.
    async fn boot_over(
        &self,
        partition: &PartitionUri,
        first: Boot,
        rest: Vec<Boot>,
        vhbas: &[Vhba],
        boot_paths: &[FcPath],
    ) -> Result<Boot, SpawnStep> {
        let total = rest.len() + 1;
        let mut rest = rest.into_iter();
        // The first failed path is the cause; the later ones go along.
        let mut first_failure: Option<(BootPath, HmcError)> = None;
        let mut then: Vec<FailedBoot> = Vec::new();
        let mut boot = first;
        loop {
            let mut update = match &boot {
                Boot::San(b) => PartitionUpdate::boot_from_san(b.hba.clone(), b.target, b.lun),
                Boot::Volume { volume, .. } => PartitionUpdate::boot_from_volume(volume.clone()),
            };
            if self.config.boot_os_specific_parameters {
                update.boot_os_specific_parameters =
                    Some(loader_parameters(&boot, vhbas, boot_paths));
            }
            self.hmc
                .update_partition(partition, &update)
                .await
                .map_err(|source| SpawnStep::SetBootProperties {
                    partition: partition.clone(),
                    source,
                })?;
            let attempt = usize::from(first_failure.is_some()) + then.len() + 1;
            tracing::info!(boot = ?boot, attempt, of = total, "boot properties set");
            let error = match self.start_and_wait(partition).await {
                Ok(()) => return Ok(boot),
                Err(error @ HmcError::JobFailed { .. }) => error,
                Err(source) => {
                    return Err(SpawnStep::StartPartition {
                        partition: partition.clone(),
                        source,
                    })
                }
            };
            let Boot::San(path) = boot else {
                return Err(SpawnStep::StartPartition {
                    partition: partition.clone(),
                    source: error,
                });
            };
            let Some(next) = rest.next() else {
                return Err(match first_failure {
                    None => SpawnStep::StartPartition {
                        partition: partition.clone(),
                        source: error,
                    },
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
            self.ensure_stopped(partition).await.map_err(|source| {
                SpawnStep::StopAfterFailedBoot {
                    partition: partition.clone(),
                    source,
                }
            })?;
        }
    }

    /// One vHBA for each adapter mapping, in mapping order; the ones an
    /// earlier try left are reused.
    async fn create_vhbas(
        &self,
        ready: &Ready,
        instance: &Instance,
        partition: &PartitionUri,
        existing: &[(String, Vhba)],
    ) -> Result<Vec<Vhba>, SpawnStep> {
        let mut vhbas = Vec::new();
        for (mapping, port) in &ready.ports {
            let hba_name = Self::hba_name(mapping);
            if let Some((_, v)) = existing.iter().find(|(n, _)| *n == hba_name) {
                vhbas.push(v.clone());
                continue;
            }
            let props = HbaCreate {
                description: Some(format!("OpenStack instance {}", instance.uuid)),
                ..HbaCreate::new(hba_name.clone(), port.clone())
            };
            let uri = self
                .hmc
                .create_hba(partition, &props)
                .await
                .map_err(|source| SpawnStep::CreateHba {
                    mapping: mapping.to_string(),
                    source,
                })?;
            let h = self
                .hmc
                .get_hba(&uri)
                .await
                .map_err(|source| SpawnStep::ReadHba {
                    hba: uri.to_string(),
                    source,
                })?;
            tracing::debug!(hba = %uri, wwpn = %h.wwpn, "vHBA created");
            vhbas.push(Vhba {
                uri,
                wwpn: h.wwpn,
                device_number: h.device_number,
            });
        }
        Ok(vhbas)
    }

    /// Creates the partition. When the reply is lost (the create may have
    /// taken effect), the HMC is asked: the partition of this instance's
    /// name is this create's (the instance's operations are serialized).
    async fn create_partition_reconciled(
        &self,
        instance: &Instance,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, hmc_client::HmcError> {
        match self.hmc.create_partition(self.cpc(), props).await {
            Ok(uri) => Ok(uri),
            Err(e) if e.may_have_taken_effect() => {
                match self.find_partition(&instance.uuid).await {
                    Ok(Some(uri)) => {
                        tracing::info!(partition = %uri, "the create's reply was lost; the partition exists");
                        Ok(uri)
                    }
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the partition, or takes over the one an earlier try of this
    /// instance left: stopped, with its earlier attachments deleted.
    async fn create_or_adopt(
        &self,
        instance: &Instance,
        name: &str,
        description: &str,
        model: StorageModel,
        volumes: &[VolumeId],
    ) -> Result<(PartitionUri, bool, Vec<(String, Vhba)>), SpawnStep> {
        let props = PartitionCreate {
            description: Some(description.to_owned()),
            partition_type: Some("linux".into()),
            processor_mode: Some("shared".into()),
            ..PartitionCreate::new(name, instance.vcpus, instance.memory_mb)
        };
        let create_err = match self.create_partition_reconciled(instance, &props).await {
            Ok(uri) => return Ok((uri, false, Vec::new())),
            Err(e) => e,
        };
        // A duplicate name is a 409; only then can there be one to adopt.
        if create_err.status_reason().map(|(s, _)| s) != Some(409) {
            return Err(SpawnStep::CreatePartition {
                name: name.to_owned(),
                source: create_err,
            });
        }
        let adopt = |source| SpawnStep::AdoptPartition {
            name: name.to_owned(),
            source,
        };
        let Some(uri) = self.find_partition(&instance.uuid).await.map_err(adopt)? else {
            return Err(SpawnStep::CreatePartition {
                name: name.to_owned(),
                source: create_err,
            });
        };
        // A spawn that finished completed its attachments (its last step);
        // an earlier try that died never did. A finished instance is never
        // touched: its guest may be running.
        let finished = self
            .spawn_finished(&instance.uuid)
            .await
            .map_err(|source| SpawnStep::CheckEarlierTry {
                partition: uri.clone(),
                source,
            })?;
        if finished {
            // Its guest runs: nothing of it is touched, but completions its
            // spawn did not get to (its process died after the boot volume's)
            // are finished, so the instance is whole.
            self.finish_completions(&instance.uuid, volumes).await;
            return Err(SpawnStep::AlreadyExists {
                instance: instance.uuid.clone(),
                partition: uri,
            });
        }
        tracing::info!(partition = %uri, "adopting the partition of an earlier try");
        if model == StorageModel::StorageGroups {
            // The earlier try's group holds requests for its volumes, not
            // necessarily this spawn's: tear the whole try down (stop,
            // release in Cinder, delete partition and group) and start over.
            let conn =
                connector_for(&self.group_wwpns(&instance.uuid).await, &self.config.host).ok();
            let stale = self
                .earlier_links(&instance.uuid, volumes, conn)
                .await
                .map_err(|source| SpawnStep::AdoptAttachments {
                    partition: uri.clone(),
                    source,
                })?;
            let failures = self
                .teardown(&instance.uuid, Some(&uri), &stale, true)
                .await;
            if let Some(source) = failures.into_iter().next() {
                return Err(SpawnStep::AdoptAttachments {
                    partition: uri,
                    source,
                });
            }
            let fresh = self
                .create_partition_reconciled(instance, &props)
                .await
                .map_err(|source| SpawnStep::CreatePartition {
                    name: name.to_owned(),
                    source,
                })?;
            return Ok((fresh, true, Vec::new()));
        }
        // Bring it back to a clean, stopped state with the flavor's sizes.
        self.ensure_stopped(&uri)
            .await
            .map_err(|source| SpawnStep::AdoptStop {
                partition: uri.clone(),
                source,
            })?;
        let p = self.hmc.get_partition(&uri).await.map_err(adopt)?;
        // Someone else may have started it since: then it is not ours to
        // resize.
        if p.status != PartitionStatus::Stopped {
            return Err(SpawnStep::AdoptStop {
                partition: uri.clone(),
                source: crate::error::CleanupError::PartitionStuck {
                    partition: uri,
                    status: p.status.to_string(),
                },
            });
        }
        let resize = p.ifl_processors != instance.vcpus || p.initial_memory != instance.memory_mb;
        // This try's name, in the same update as the sizes.
        let renamed = p.description != description;
        if resize || renamed {
            let u = PartitionUpdate {
                ifl_processors: resize.then_some(instance.vcpus),
                initial_memory: resize.then_some(instance.memory_mb),
                maximum_memory: resize.then_some(instance.memory_mb),
                description: renamed.then(|| description.to_owned()),
                ..PartitionUpdate::default()
            };
            self.hmc.update_partition(&uri, &u).await.map_err(adopt)?;
        }
        let existing = self
            .read_vhbas(&p.hba_uris)
            .await
            .map_err(|(hba, source)| SpawnStep::ReadHba {
                hba: hba.to_string(),
                source,
            })?;
        // What an earlier try left in Cinder for this instance goes first,
        // so that the volumes can be reserved again.
        let vhbas: Vec<Vhba> = existing.iter().map(|(_, v)| v.clone()).collect();
        let conn = connector(&vhbas, &self.config.host).ok();
        let stale = self
            .earlier_links(&instance.uuid, volumes, conn)
            .await
            .map_err(|source| SpawnStep::AdoptAttachments {
                partition: uri.clone(),
                source,
            })?;
        for c in &stale {
            if let Some(source) = self
                .release(&instance.uuid, c, true)
                .await
                .into_iter()
                .next()
            {
                return Err(SpawnStep::AdoptAttachments {
                    partition: uri.clone(),
                    source,
                });
            }
        }
        Ok((uri, true, existing))
    }
}
