//! Attach, detach, destroy, power, info, resources and the connector.

use cinder_client::{AttachmentFilter, CinderApi, Connector, InstanceId, VolumeId, VolumeStatus};
use dpm_volume::{connector_for, FcPath};
use hmc_client::{
    HmcApi, PartitionFilter, PartitionStatus, PartitionUri, StorageGroupUri, StorageVolumeUri,
    VolumeUsage,
};

use crate::driver::{regex_escape, DpmDriver, Ready};
use crate::error::{AttachError, AttachStep, CleanupError, DriverError, GroupStep};
use crate::link::{Connected, Link};
use crate::storage::{Initiators, StorageInfo, StorageModel};

/// Whether a partition boots (from a vHBA) from the LUN of this connection.
pub(crate) fn boots_from(p: &hmc_client::Partition, info: &cinder_client::ConnectionInfo) -> bool {
    let (Some(target), Some(lun)) = (p.boot_world_wide_port_name, p.boot_logical_unit_number)
    else {
        return false;
    };
    p.boot_device == hmc_client::BootDevice::StorageAdapter
        && info
            .fibre_channel()
            .is_ok_and(|fc| fc.targets.iter().any(|t| t.wwpn == target && t.lun == lun))
}

/// `init_host` has not succeeded (becomes [`DriverError::NotInitialized`]).
#[derive(Debug)]
pub(crate) struct NotInitialized;

impl From<NotInitialized> for DriverError {
    fn from(_: NotInitialized) -> Self {
        Self::NotInitialized
    }
}

/// Nova's power states (the ones a DPM partition maps to; Nova has more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PowerState {
    /// active, degraded.
    Running,
    /// stopped, paused, terminated.
    Shutdown,
    /// starting, stopping.
    Paused,
    /// Any other HMC status.
    NoState,
}

impl PowerState {
    /// The power state for an HMC partition status.
    pub fn from_status(s: &PartitionStatus) -> Self {
        match s {
            PartitionStatus::Active | PartitionStatus::Degraded => Self::Running,
            PartitionStatus::Stopped | PartitionStatus::Paused | PartitionStatus::Terminated => {
                Self::Shutdown
            }
            PartitionStatus::Starting | PartitionStatus::Stopping => Self::Paused,
            _ => Self::NoState,
        }
    }
}

/// `get_info`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Nova power state.
    pub state: PowerState,
    /// The HMC status it came from.
    pub status: PartitionStatus,
    /// The partition.
    pub partition: PartitionUri,
    /// IFLs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mb: u64,
}

/// `get_available_resource`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `max_processors`.
    pub vcpus: u32,
    /// `max_memory`, MiB.
    pub memory_mb: u64,
    /// The sum of this host's partitions' IFLs.
    pub vcpus_used: u32,
    /// The sum of this host's partitions' initial memory, MiB.
    pub memory_mb_used: u64,
    /// `PRSM`.
    pub hypervisor_type: &'static str,
    /// The SE version a.b.c as a·10⁶ + b·10³ + c.
    pub hypervisor_version: u64,
    /// This host's name.
    pub hypervisor_hostname: String,
    /// `s390x`.
    pub cpu_arch: &'static str,
}

/// An SE version "a.b.c" as a·10⁶ + b·10³ + c (missing parts count 0).
pub fn hypervisor_version(se: &str) -> u64 {
    let mut parts = se.split('.').map(|p| p.trim().parse::<u64>().unwrap_or(0));
    let a = parts.next().unwrap_or(0);
    let b = parts.next().unwrap_or(0);
    let c = parts.next().unwrap_or(0);
    a.saturating_mul(1_000_000)
        .saturating_add(b.saturating_mul(1_000))
        .saturating_add(c)
}

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// The partition and the initiators that reach its volumes: its vHBAs
    /// (boot vHBA first), or its storage group with the WWPNs its VSRs use.
    pub(crate) async fn instance_initiators(
        &self,
        instance: &InstanceId,
    ) -> Result<(PartitionUri, Initiators), DriverError> {
        if self.model()? == StorageModel::StorageGroups {
            let a = match self.attached_group(instance).await {
                Ok(a) => a,
                // A group no partition holds is what a failed destroy or
                // spawn left: without a partition the instance is gone.
                Err(e @ GroupStep::GroupNotAttached { .. }) => {
                    self.require_partition(instance).await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            };
            let a = a.ok_or_else(|| DriverError::InstanceNotFound {
                instance: instance.clone(),
            })?;
            return Ok((a.partition, Initiators::Group(a.info)));
        }
        let uri = self.require_partition(instance).await?;
        let p = self.get_partition(&uri).await?;
        let vhbas = self
            .read_vhbas(&p.hba_uris)
            .await
            .map_err(|(hba, source)| DriverError::ReadHba {
                hba: hba.to_string(),
                source,
            })?;
        Ok((
            uri,
            Initiators::Vhbas(vhbas.into_iter().map(|(_, v)| v).collect()),
        ))
    }

    /// The storage model `init_host` found; before it has run, which model
    /// an instance uses is unknown, so the operations refuse.
    pub(crate) fn model(&self) -> Result<StorageModel, NotInitialized> {
        self.storage_model().ok_or(NotInitialized)
    }

    /// The connector Cinder needs for this instance: its partition's vHBAs,
    /// or its storage group's WWPNs.
    #[tracing::instrument(name = "get_volume_connector", skip(self), fields(instance = %instance))]
    pub async fn get_volume_connector(
        &self,
        instance: &InstanceId,
    ) -> Result<Connector, DriverError> {
        let (_, initiators) = self.instance_initiators(instance).await?;
        connector_for(&initiators.wwpns(), &self.config.host).map_err(DriverError::Connector)
    }

    /// What reaches the instance's volumes: its vHBAs, or its storage group
    /// with its volumes (fulfillment state and paths) and VSRs.
    pub async fn storage_info(&self, instance: &InstanceId) -> Result<StorageInfo, DriverError> {
        if self.model()? == StorageModel::StorageGroups {
            let a = self.attached_group(instance).await?.ok_or_else(|| {
                DriverError::InstanceNotFound {
                    instance: instance.clone(),
                }
            })?;
            return Ok(self.group_storage(a).await?);
        }
        let (_, initiators) = self.instance_initiators(instance).await?;
        Ok(StorageInfo::Vhbas(initiators.vhbas().to_vec()))
    }

    /// Attaches a volume to an instance (running or not): Cinder masks and
    /// zones the LUN to every initiator; with storage groups a volume
    /// request is added to the instance's group and DPM discovers the LUN
    /// first. The guest finds it by auto-discovery. Returns the LUN paths,
    /// which are also recorded. Uses the attachments API, or the legacy
    /// actions when Cinder lacks 3.44.
    #[tracing::instrument(name = "attach_volume", skip(self), fields(instance = %instance, volume = %volume, partition = tracing::field::Empty))]
    pub async fn attach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<Vec<FcPath>, DriverError> {
        let _held = self.lock_instance(instance).await;
        let (partition, initiators) = self.instance_initiators(instance).await?;
        tracing::Span::current().record("partition", tracing::field::display(&partition));
        let fail = |step, undo| AttachError {
            instance: instance.clone(),
            volume: volume.clone(),
            step,
            undo,
        };
        let legacy = !self
            .cinder
            .attachments_api()
            .await
            .map_err(|e| fail(AttachStep::CinderApi(e), Vec::new()))?;
        let list = |source| {
            fail(
                AttachStep::ListAttachments {
                    volume: volume.clone(),
                    source,
                },
                Vec::new(),
            )
        };
        let attached = if legacy {
            self.legacy_attachment(instance, volume)
                .await
                .map_err(list)?
                .is_some()
        } else {
            let found = self
                .cinder
                .list_attachments(&AttachmentFilter {
                    volume_id: Some(volume.clone()),
                    instance_id: Some(instance.clone()),
                })
                .await
                .map_err(list)?;
            // When the volume is not attached, attachments not completed are
            // what an unfinished attach left (its process died): release
            // them and start over. (A request it left is found after
            // discovery, below.)
            let (done, unfinished): (Vec<_>, Vec<_>) = found
                .into_iter()
                .partition(|a| a.status == cinder_client::AttachStatus::Attached);
            if done.is_empty() {
                let mut left = Vec::new();
                for a in unfinished {
                    let c = Connected {
                        volume: volume.clone(),
                        link: Link::Attachment(a.id),
                    };
                    left.extend(self.release(instance, &c, true).await);
                }
                if let Some(e) = left.into_iter().next() {
                    return Err(fail(AttachStep::Leftovers(Box::new(e)), Vec::new()).into());
                }
            }
            !done.is_empty()
        };
        if attached {
            return Err(fail(
                AttachStep::AlreadyAttached {
                    volume: volume.clone(),
                },
                Vec::new(),
            )
            .into());
        }
        let conn = connector_for(&initiators.wwpns(), &self.config.host)
            .map_err(|e| fail(AttachStep::Connector(e), Vec::new()))?;
        let mut created = Vec::new();
        let mut request = None;
        let result: Result<Vec<FcPath>, AttachStep> = async {
            if let Some(g) = initiators.group() {
                request = Some(self.add_request(&g.uri, volume).await?);
            }
            let (info, mut paths) = self
                .connect_one(instance, volume, &conn, &initiators, &mut created, legacy)
                .await?;
            if let (Some(g), Some(r)) = (initiators.group(), &request) {
                self.discover(&g.uri).await?;
                let connected = [(volume.clone(), info, false)];
                let matched = match self
                    .match_volumes(&g.uri, &partition, std::slice::from_ref(r), &connected)
                    .await
                {
                    Ok(m) => m,
                    // An unfinished attach of this volume may have left a
                    // request that DPM fulfilled instead: take the one that
                    // holds the LUN, drop the others.
                    Err(GroupStep::NotDiscovered { .. } | GroupStep::NotFulfilled { .. }) => {
                        let named = self.requests_named(&g.uri, volume).await?;
                        let m = self
                            .match_volumes(&g.uri, &partition, &named, &connected)
                            .await?;
                        for other in named
                            .iter()
                            .filter(|n| m.iter().all(|x| &x.storage_volume != *n))
                        {
                            self.remove_request(&g.uri, other).await.map_err(|source| {
                                GroupStep::AddRequest {
                                    group: g.uri.clone(),
                                    source,
                                }
                            })?;
                        }
                        if let Some(x) = m.first() {
                            request = Some(x.storage_volume.clone());
                        }
                        m
                    }
                    Err(e) => return Err(e.into()),
                };
                paths = matched.into_iter().flat_map(|m| m.paths).collect();
                self.volumes.record_paths(instance, volume, paths.clone());
            }
            for c in &created {
                // A letter past the boot disk, for the legacy mount point.
                self.complete(instance, c, 1).await?;
            }
            Ok(paths)
        }
        .await;
        match result {
            Ok(paths) => {
                tracing::info!(paths = paths.len(), "volume attached");
                Ok(paths)
            }
            Err(step) => {
                // Cinder held nothing of this volume for the instance before
                // (checked above): whatever it holds now is this attach's,
                // even when a reply was lost.
                if !legacy {
                    if let Ok(found) = self
                        .cinder
                        .list_attachments(&AttachmentFilter {
                            volume_id: Some(volume.clone()),
                            instance_id: Some(instance.clone()),
                        })
                        .await
                    {
                        for a in found {
                            let f = Connected {
                                volume: volume.clone(),
                                link: Link::Attachment(a.id),
                            };
                            if !created.iter().any(|c| c.same_as(&f)) {
                                created.push(f);
                            }
                        }
                    }
                }
                let mut undo = self.teardown(instance, None, &created, false).await;
                // The volume's request, even when the modify's reply was lost.
                let request = match (initiators.group(), request) {
                    (Some(_), Some(r)) => Some(r),
                    (Some(g), None) => self
                        .find_request(&g.uri, volume)
                        .await
                        .ok()
                        .flatten()
                        .map(|(r, _)| r),
                    _ => None,
                };
                if let (Some(g), Some(r)) = (initiators.group(), request) {
                    if let Err(source) = self.remove_request(&g.uri, &r).await {
                        undo.push(CleanupError::RemoveRequest {
                            group: g.uri.clone(),
                            request: r,
                            source,
                        });
                    }
                }
                Err(fail(step, undo).into())
            }
        }
    }

    /// Detaches a volume: the volume driver forgets its paths, then Cinder
    /// releases it (which unmasks, and unzones with the last LUN), and with
    /// storage groups its volume request leaves the group. A volume not
    /// attached to this instance is an error and changes nothing; so is the
    /// instance's boot volume.
    #[tracing::instrument(name = "detach_volume", skip(self), fields(instance = %instance, volume = %volume))]
    pub async fn detach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<(), DriverError> {
        let _held = self.lock_instance(instance).await;
        let legacy = !self
            .cinder
            .attachments_api()
            .await
            .map_err(DriverError::ListAttachments)?;
        // With storage groups, the request says whether it is the root disk.
        let mut request = None;
        let model = self.model()?;
        if model == StorageModel::StorageGroups {
            let group =
                self.find_group(instance)
                    .await?
                    .ok_or_else(|| DriverError::InstanceNotFound {
                        instance: instance.clone(),
                    })?;
            match self.find_request(&group, volume).await? {
                Some((_, VolumeUsage::Boot)) => {
                    return Err(DriverError::RootVolume {
                        instance: instance.clone(),
                        volume: volume.clone(),
                    })
                }
                Some((r, _)) => request = Some((group, r)),
                None => {}
            }
        }
        let root = || DriverError::RootVolume {
            instance: instance.clone(),
            volume: volume.clone(),
        };
        // An earlier detach released the volume in Cinder but could not
        // remove its request: finish that detach, or say it is not attached.
        let not_attached = |request: Option<(StorageGroupUri, StorageVolumeUri)>| async move {
            let Some((group, r)) = request else {
                return Err(DriverError::NotAttached {
                    instance: instance.clone(),
                    volume: volume.clone(),
                });
            };
            self.request_leaves_group(volume, group, r).await?;
            tracing::info!("finished an earlier detach: the request left the group");
            Ok(())
        };
        if !legacy {
            let boot = match model {
                StorageModel::Hbas => {
                    let uri = self.require_partition(instance).await?;
                    Some(self.get_partition(&uri).await?)
                }
                _ => None,
            };
            let attachments = self
                .cinder
                .list_attachments(&AttachmentFilter {
                    volume_id: Some(volume.clone()),
                    instance_id: Some(instance.clone()),
                })
                .await
                .map_err(DriverError::ListAttachments)?;
            if attachments.is_empty() {
                return not_attached(request).await;
            }
            // With vHBAs, the partition boots from this volume when its boot
            // target and LUN are the volume's.
            if let Some(p) = &boot {
                if attachments
                    .iter()
                    .any(|a| a.connection_info.as_ref().is_some_and(|i| boots_from(p, i)))
                {
                    return Err(root());
                }
            }
            for a in attachments {
                let c = Connected {
                    volume: volume.clone(),
                    link: Link::Attachment(a.id),
                };
                if let Some(source) = self.release(instance, &c, false).await.into_iter().next() {
                    return Err(DriverError::Release {
                        volume: volume.clone(),
                        source,
                    });
                }
            }
        } else {
            // Nova's legacy order: begin_detaching, disconnect,
            // terminate_connection, detach; roll_detaching on failure.
            let (_, initiators) = self.instance_initiators(instance).await?;
            let v = self
                .cinder
                .get_volume(volume)
                .await
                .map_err(DriverError::ListAttachments)?;
            let detaching = v.status == VolumeStatus::Detaching;
            let attached = v
                .attachments
                .into_iter()
                .find(|a| a.server_id.as_ref() == Some(instance));
            let Some(attached) = attached else {
                return not_attached(request).await;
            };
            // Legacy attachments carry the mount point spawn gave them; the
            // boot volume's is the first.
            if attached.device.as_deref() == Some(crate::link::ROOT_DEVICE) {
                return Err(root());
            }
            let conn = connector_for(&initiators.wwpns(), &self.config.host)
                .map_err(DriverError::Connector)?;
            // A volume already `detaching` is what an earlier detach left
            // (its process died, or the reply was lost): carry on with it.
            if !detaching {
                match self.cinder.begin_detaching(volume).await {
                    Ok(()) => {}
                    Err(e)
                        if e.may_have_taken_effect()
                            && self
                                .cinder
                                .get_volume(volume)
                                .await
                                .is_ok_and(|v| v.status == VolumeStatus::Detaching) => {}
                    Err(source) => {
                        return Err(DriverError::BeginDetaching {
                            volume: volume.clone(),
                            source,
                        })
                    }
                }
            }
            let c = Connected {
                volume: volume.clone(),
                link: Link::Legacy {
                    connector: Some(conn),
                },
            };
            if let Some(source) = self.release(instance, &c, false).await.into_iter().next() {
                if let Err(e) = self.cinder.roll_detaching(volume).await {
                    tracing::warn!(error = %e, "roll_detaching failed");
                }
                return Err(DriverError::Release {
                    volume: volume.clone(),
                    source,
                });
            }
        }
        // The LUN is unmasked: its request can leave the group.
        if let Some((group, r)) = request {
            self.request_leaves_group(volume, group, r).await?;
        }
        tracing::info!("volume detached");
        Ok(())
    }

    /// Destroys an instance: stops its partition, releases its volumes in
    /// Cinder (found in Cinder, not in process memory), and deletes the
    /// partition with its vHBAs. An instance that does not exist is a no-op.
    #[tracing::instrument(name = "destroy", skip(self), fields(instance = %instance, partition = tracing::field::Empty))]
    pub async fn destroy(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let _held = self.lock_instance(instance).await;
        let partition = self
            .find_partition(instance)
            .await
            .map_err(DriverError::ListPartitions)?;
        let mut conn = None;
        if let Some(p) = &partition {
            tracing::Span::current().record("partition", tracing::field::display(p));
            // The legacy terminate_connection needs the connector.
            if !self
                .cinder
                .attachments_api()
                .await
                .map_err(DriverError::ListAttachments)?
            {
                let (_, initiators) = self.instance_initiators(instance).await?;
                conn = connector_for(&initiators.wwpns(), &self.config.host).ok();
            }
        }
        let links = self
            .find_links(instance, conn)
            .await
            .map_err(|e| DriverError::Destroy {
                instance: instance.clone(),
                failures: vec![e],
            })?;
        let groups = self.model()? == StorageModel::StorageGroups;
        let failures = self
            .teardown(instance, partition.as_ref(), &links, groups)
            .await;
        self.volumes.forget_instance(instance);
        if failures.is_empty() {
            tracing::info!(existed = partition.is_some(), "instance destroyed");
            Ok(())
        } else {
            Err(DriverError::Destroy {
                instance: instance.clone(),
                failures,
            })
        }
    }

    /// A detached volume's request leaves the instance's storage group
    /// (Cinder has released the volume already).
    async fn request_leaves_group(
        &self,
        volume: &VolumeId,
        group: StorageGroupUri,
        request: StorageVolumeUri,
    ) -> Result<(), DriverError> {
        self.remove_request(&group, &request)
            .await
            .map_err(|source| DriverError::RemoveRequest {
                volume: volume.clone(),
                source: CleanupError::RemoveRequest {
                    group,
                    request,
                    source,
                },
            })
    }

    /// Stops the instance's partition; a stopped one is left alone.
    #[tracing::instrument(name = "power_off", skip(self), fields(instance = %instance))]
    pub async fn power_off(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let _held = self.lock_instance(instance).await;
        self.power_off_locked(instance).await
    }

    async fn power_off_locked(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let uri = self.require_partition(instance).await?;
        match self.settle(&uri).await? {
            PartitionStatus::Stopped => Ok(()),
            _ => self
                .stop_and_wait(&uri)
                .await
                .map_err(|source| DriverError::StopPartition {
                    partition: uri,
                    source,
                }),
        }
    }

    /// Starts the instance's partition: waits out `starting`/`stopping`,
    /// stops a `paused` one first, and leaves a running one alone.
    #[tracing::instrument(name = "power_on", skip(self), fields(instance = %instance))]
    pub async fn power_on(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let _held = self.lock_instance(instance).await;
        self.power_on_locked(instance).await
    }

    async fn power_on_locked(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let uri = self.require_partition(instance).await?;
        let status = self.settle(&uri).await?;
        if matches!(status, PartitionStatus::Active | PartitionStatus::Degraded) {
            return Ok(());
        }
        if status != PartitionStatus::Stopped {
            self.stop_and_wait(&uri)
                .await
                .map_err(|source| DriverError::StopPartition {
                    partition: uri.clone(),
                    source,
                })?;
        }
        self.start_and_wait(&uri)
            .await
            .map_err(|source| DriverError::StartPartition {
                partition: uri,
                source,
            })
    }

    /// Stops (if running) and starts the instance's partition.
    #[tracing::instrument(name = "reboot", skip(self), fields(instance = %instance))]
    pub async fn reboot(&self, instance: &InstanceId) -> Result<(), DriverError> {
        let _held = self.lock_instance(instance).await;
        self.power_off_locked(instance).await?;
        self.power_on_locked(instance).await
    }

    /// The instance's power state. A missing partition is
    /// [`DriverError::InstanceNotFound`], not a state.
    pub async fn get_info(&self, instance: &InstanceId) -> Result<InstanceInfo, DriverError> {
        let uri = self.require_partition(instance).await?;
        let p = self.get_partition(&uri).await?;
        Ok(InstanceInfo {
            state: PowerState::from_status(&p.status),
            status: p.status,
            partition: uri,
            vcpus: p.ifl_processors,
            memory_mb: p.initial_memory,
        })
    }

    /// The IFLs and initial memory of each of this host's partitions.
    ///
    /// One request on an HMC at API 4.1 (HMC 2.16.0) or later: the list
    /// with `additional-properties=ifl-processors,initial-memory`. An older
    /// HMC (the API version comes from the logon at `init_host`) does not
    /// have that query parameter: the list, then one bulk read of the
    /// partitions, two requests, still none per partition. Should an HMC
    /// refuse the parameter all the same (400.1), the list is read again
    /// without it. Entries that come back without the two properties are
    /// read in bulk too.
    async fn own_partition_sizes(&self, ready: &Ready) -> Result<Vec<(u32, u64)>, DriverError> {
        use hmc_client::PartitionListProperty::{IflProcessors, InitialMemory};
        let filter = self.own_partitions_filter();
        let plain = || async {
            self.hmc
                .list_partitions(self.cpc(), &filter)
                .await
                .map_err(DriverError::ListPartitions)
        };
        let parts = if ready.api_version >= hmc_client::LIST_ADDITIONAL_PROPERTIES_SINCE {
            match self
                .hmc
                .list_partitions_with(self.cpc(), &filter, &[IflProcessors, InitialMemory])
                .await
            {
                Ok(parts) => parts,
                Err(e) if e.status_reason() == Some((400, 1)) => plain().await?,
                Err(e) => return Err(DriverError::ListPartitions(e)),
            }
        } else {
            plain().await?
        };
        let mut sizes = Vec::with_capacity(parts.len());
        let mut unsized_uris: Vec<PartitionUri> = Vec::new();
        for p in parts {
            match (p.ifl_processors, p.initial_memory) {
                (Some(ifl), Some(memory)) => sizes.push((ifl, memory)),
                _ => unsized_uris.push(p.object_uri),
            }
        }
        // The rest in one bulk read, not one GET each.
        let full: Vec<hmc_client::Partition> = hmc_client::get_many(&self.hmc, &unsized_uris)
            .await
            .map_err(DriverError::ListPartitions)?;
        sizes.extend(
            full.into_iter()
                .map(|p| (p.ifl_processors, p.initial_memory)),
        );
        Ok(sizes)
    }

    pub(crate) fn own_partitions_filter(&self) -> PartitionFilter {
        PartitionFilter {
            name: Some(format!(
                "OpenStack-{}-[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}",
                regex_escape(&self.config.host)
            )),
            status: None,
        }
    }

    /// The instances of this host: the partitions named for it.
    pub async fn list_instances(&self) -> Result<Vec<InstanceId>, DriverError> {
        let prefix = format!("OpenStack-{}-", self.config.host);
        let parts = self
            .hmc
            .list_partitions(self.cpc(), &self.own_partitions_filter())
            .await
            .map_err(DriverError::ListPartitions)?;
        Ok(parts
            .iter()
            .filter_map(|p| p.name.strip_prefix(&prefix)?.parse().ok())
            .collect())
    }

    /// What this host offers and uses: the configured limits, and the sums
    /// of its partitions' IFLs and memory.
    pub async fn get_available_resource(&self) -> Result<Resources, DriverError> {
        let ready = self.ready().ok_or(DriverError::NotInitialized)?;
        let (mut vcpus_used, mut memory_mb_used) = (0u32, 0u64);
        for (ifl, memory) in self.own_partition_sizes(&ready).await? {
            // The HMC's numbers are outside data: never overflow on them.
            vcpus_used = vcpus_used.saturating_add(ifl);
            memory_mb_used = memory_mb_used.saturating_add(memory);
        }
        Ok(Resources {
            vcpus: self.config.max_processors,
            memory_mb: self.config.max_memory,
            vcpus_used,
            memory_mb_used,
            hypervisor_type: "PRSM",
            hypervisor_version: hypervisor_version(&ready.se_version),
            hypervisor_hostname: self.config.host.clone(),
            cpu_arch: "s390x",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::hypervisor_version;

    #[test]
    fn se_versions_never_overflow() {
        assert_eq!(hypervisor_version("2.16.0"), 2_016_000);
        assert_eq!(hypervisor_version("2.13"), 2_013_000);
        assert_eq!(hypervisor_version("junk"), 0);
        assert_eq!(hypervisor_version("18446744073709551615.9.9"), u64::MAX);
    }
}
