//! Attach, detach, destroy, power, info, resources and the connector.

use cinder_client::{AttachmentFilter, CinderApi, Connector, InstanceId, VolumeId};
use dpm_volume::{connector, FcPath, Vhba};
use hmc_client::{HmcApi, PartitionFilter, PartitionStatus, PartitionUri};

use crate::driver::{regex_escape, DpmDriver};
use crate::error::{AttachError, AttachStep, DriverError, VolumeStep};
use crate::link::{Connected, Link};

/// Nova's power states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    a * 1_000_000 + b * 1_000 + c
}

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// The partition and its vHBAs (boot vHBA first).
    async fn partition_vhbas(
        &self,
        instance: &InstanceId,
    ) -> Result<(PartitionUri, Vec<Vhba>), DriverError> {
        let uri = self.require_partition(instance).await?;
        let p = self.get_partition(&uri).await?;
        let vhbas = self
            .read_vhbas(&p.hba_uris)
            .await
            .map_err(|(hba, source)| DriverError::ReadHba {
                hba: hba.to_string(),
                source,
            })?;
        Ok((uri, vhbas.into_iter().map(|(_, v)| v).collect()))
    }

    /// The connector Cinder needs for this instance: its partition's vHBAs.
    #[tracing::instrument(name = "get_volume_connector", skip(self), fields(instance = %instance))]
    pub async fn get_volume_connector(
        &self,
        instance: &InstanceId,
    ) -> Result<Connector, DriverError> {
        let (_, vhbas) = self.partition_vhbas(instance).await?;
        connector(&vhbas, &self.config.host).map_err(DriverError::Connector)
    }

    /// Attaches a volume to an instance (running or not): Cinder masks and
    /// zones the LUN to every vHBA, and the guest finds it by
    /// auto-discovery. Returns the LUN paths, which are also recorded. Uses
    /// the attachments API, or the legacy actions when Cinder lacks 3.44.
    #[tracing::instrument(name = "attach_volume", skip(self), fields(instance = %instance, volume = %volume, partition = tracing::field::Empty))]
    pub async fn attach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<Vec<FcPath>, DriverError> {
        let (partition, vhbas) = self.partition_vhbas(instance).await?;
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
            !self
                .cinder
                .list_attachments(&AttachmentFilter {
                    volume_id: Some(volume.clone()),
                    instance_id: Some(instance.clone()),
                })
                .await
                .map_err(list)?
                .is_empty()
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
        let conn = connector(&vhbas, &self.config.host)
            .map_err(|e| fail(AttachStep::Connector(e), Vec::new()))?;
        let mut created = Vec::new();
        let result: Result<Vec<FcPath>, VolumeStep> = async {
            let (_, paths) = self
                .connect_one(instance, volume, &conn, &vhbas, &mut created, legacy)
                .await?;
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
                let undo = self.teardown(instance, None, &created).await;
                Err(fail(AttachStep::Volume(step), undo).into())
            }
        }
    }

    /// Detaches a volume: the volume driver forgets its paths, then Cinder
    /// releases it (which unmasks, and unzones with the last LUN). A volume
    /// not attached to this instance is an error and changes nothing.
    #[tracing::instrument(name = "detach_volume", skip(self), fields(instance = %instance, volume = %volume))]
    pub async fn detach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<(), DriverError> {
        let legacy = !self
            .cinder
            .attachments_api()
            .await
            .map_err(DriverError::ListAttachments)?;
        if !legacy {
            self.require_partition(instance).await?;
            let attachments = self
                .cinder
                .list_attachments(&AttachmentFilter {
                    volume_id: Some(volume.clone()),
                    instance_id: Some(instance.clone()),
                })
                .await
                .map_err(DriverError::ListAttachments)?;
            if attachments.is_empty() {
                return Err(DriverError::NotAttached {
                    instance: instance.clone(),
                    volume: volume.clone(),
                });
            }
            for a in attachments {
                let c = Connected {
                    volume: volume.clone(),
                    link: Link::Attachment(a.id),
                };
                self.release(instance, &c)
                    .await
                    .map_err(|source| DriverError::Release {
                        volume: volume.clone(),
                        source,
                    })?;
            }
        } else {
            // Nova's legacy order: begin_detaching, disconnect,
            // terminate_connection, detach; roll_detaching on failure.
            let (_, vhbas) = self.partition_vhbas(instance).await?;
            if self
                .legacy_attachment(instance, volume)
                .await
                .map_err(DriverError::ListAttachments)?
                .is_none()
            {
                return Err(DriverError::NotAttached {
                    instance: instance.clone(),
                    volume: volume.clone(),
                });
            }
            let conn = connector(&vhbas, &self.config.host).map_err(DriverError::Connector)?;
            self.cinder
                .begin_detaching(volume)
                .await
                .map_err(|source| DriverError::BeginDetaching {
                    volume: volume.clone(),
                    source,
                })?;
            let c = Connected {
                volume: volume.clone(),
                link: Link::Legacy {
                    connector: Some(conn),
                },
            };
            if let Err(source) = self.release(instance, &c).await {
                if let Err(e) = self.cinder.roll_detaching(volume).await {
                    tracing::warn!(error = %e, "roll_detaching failed");
                }
                return Err(DriverError::Release {
                    volume: volume.clone(),
                    source,
                });
            }
        }
        tracing::info!("volume detached");
        Ok(())
    }

    /// Destroys an instance: stops its partition, releases its volumes in
    /// Cinder (found in Cinder, not in process memory), and deletes the
    /// partition with its vHBAs. An instance that does not exist is a no-op.
    #[tracing::instrument(name = "destroy", skip(self), fields(instance = %instance, partition = tracing::field::Empty))]
    pub async fn destroy(&self, instance: &InstanceId) -> Result<(), DriverError> {
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
                let part = self.get_partition(p).await?;
                let vhbas = self
                    .read_vhbas(&part.hba_uris)
                    .await
                    .map_err(|(hba, source)| DriverError::ReadHba {
                        hba: hba.to_string(),
                        source,
                    })?;
                let vhbas: Vec<_> = vhbas.into_iter().map(|(_, v)| v).collect();
                conn = connector(&vhbas, &self.config.host).ok();
            }
        }
        let links = self
            .find_links(instance, conn)
            .await
            .map_err(|e| DriverError::Destroy {
                instance: instance.clone(),
                failures: vec![e],
            })?;
        let failures = self.teardown(instance, partition.as_ref(), &links).await;
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

    /// Stops the instance's partition; a stopped one is left alone.
    #[tracing::instrument(name = "power_off", skip(self), fields(instance = %instance))]
    pub async fn power_off(&self, instance: &InstanceId) -> Result<(), DriverError> {
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
        self.power_off(instance).await?;
        self.power_on(instance).await
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

    fn own_partitions_filter(&self) -> PartitionFilter {
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
        let parts = self
            .hmc
            .list_partitions(self.cpc(), &self.own_partitions_filter())
            .await
            .map_err(DriverError::ListPartitions)?;
        let (mut vcpus_used, mut memory_mb_used) = (0u32, 0u64);
        for s in parts {
            let p = self.get_partition(&s.object_uri).await?;
            vcpus_used += p.ifl_processors;
            memory_mb_used += p.initial_memory;
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
