//! How a volume is tied to an instance in Cinder, in either of Cinder's two
//! ways: the attachments API (3.44, what current Nova uses) or, on a server
//! without it, the legacy volume actions in Nova's legacy order. Spawn,
//! attach, detach and destroy all go through here, so the two ways cannot
//! drift apart.

use cinder_client::{
    AttachmentFilter, AttachmentId, CinderApi, ConnectionInfo, Connector, InstanceId, VolumeId,
    VolumeStatus,
};
use dpm_volume::{connector_for, FcPath, FcVolumeDriver};
use hmc_client::{HmcApi, PartitionUri};

use crate::driver::DpmDriver;
use crate::error::{CleanupError, VolumeStep};
use crate::storage::Initiators;

/// The legacy mount point of an instance's boot volume.
pub(crate) const ROOT_DEVICE: &str = "/dev/sda";

/// Cinder's record of a volume connected to an instance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Link {
    /// An attachment of the attachments API.
    Attachment(AttachmentId),
    /// Legacy: reserved and initialized with this connector; once attached,
    /// Cinder holds an attachment for it.
    Legacy {
        /// The connector it was initialized with, when known.
        connector: Option<Connector>,
    },
}

/// A volume and how it is tied to the instance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Connected {
    pub volume: VolumeId,
    pub link: Link,
}

impl Connected {
    /// Whether both name the same tie in Cinder (the same attachment, or
    /// the same volume's legacy connection).
    pub(crate) fn same_as(&self, other: &Connected) -> bool {
        match (&self.link, &other.link) {
            (Link::Attachment(a), Link::Attachment(b)) => a == b,
            (Link::Legacy { .. }, Link::Legacy { .. }) => self.volume == other.volume,
            _ => false,
        }
    }
}

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// Connects one volume to the partition's initiators: reserve it, hand
    /// Cinder the connector (Cinder zones and masks), and let the volume
    /// driver check the connection info and, for vHBAs, record the paths
    /// (with a storage group the HMC reports them after discovery). What
    /// Cinder holds is pushed to `created` as soon as it exists, for undo.
    pub(crate) async fn connect_one(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
        conn: &Connector,
        initiators: &Initiators,
        created: &mut Vec<Connected>,
        legacy: bool,
    ) -> Result<(ConnectionInfo, Vec<FcPath>), VolumeStep> {
        let reserve = |source| VolumeStep::CreateAttachment {
            volume: volume.clone(),
            source,
        };
        let connect = |source| VolumeStep::UpdateAttachment {
            volume: volume.clone(),
            source,
        };
        let info = if legacy {
            if let Err(e) = self.cinder.reserve(volume).await {
                // The reserve may have happened (its reply was lost), or an
                // unfinished attach of this volume to this instance left it
                // reserved (its process died): a reservation names no
                // instance, so `attaching` with no attachment, for the
                // volume this instance asks for, under its lock, is taken
                // as this instance's. (The driver reserves its volumes
                // itself, as the attachments flow does.)
                match self.cinder.get_volume(volume).await {
                    Ok(v) if v.status == VolumeStatus::Attaching && v.attachments.is_empty() => {
                        tracing::info!(volume = %volume, error = %e, "taking over the volume's reservation");
                    }
                    _ => return Err(reserve(e)),
                }
            }
            created.push(Connected {
                volume: volume.clone(),
                link: Link::Legacy {
                    connector: Some(conn.clone()),
                },
            });
            self.cinder
                .initialize_connection(volume, conn)
                .await
                .map_err(connect)?
        } else {
            let a = self
                .cinder
                .create_attachment(volume, instance, None)
                .await
                .map_err(reserve)?;
            created.push(Connected {
                volume: volume.clone(),
                link: Link::Attachment(a.id.clone()),
            });
            let a = self
                .cinder
                .update_attachment(&a.id, conn)
                .await
                .map_err(connect)?;
            a.connection_info
                .ok_or_else(|| VolumeStep::NoConnectionInfo {
                    volume: volume.clone(),
                })?
        };
        let bad = |source| VolumeStep::ConnectVolume {
            volume: volume.clone(),
            source,
        };
        let paths = match initiators {
            Initiators::Vhbas(vhbas) => self
                .volumes
                .connect_volume(instance, volume, &info, vhbas)
                .map_err(bad)?,
            Initiators::Group(_) => {
                FcVolumeDriver::check_connection(&info).map_err(bad)?;
                Vec::new()
            }
        };
        Ok((info, paths))
    }

    /// Completes a connection: `os-complete`, or the legacy `os-attach`.
    pub(crate) async fn complete(
        &self,
        instance: &InstanceId,
        c: &Connected,
        index: usize,
    ) -> Result<(), VolumeStep> {
        let r = match &c.link {
            Link::Attachment(id) => self.cinder.complete_attachment(id).await,
            Link::Legacy { .. } => {
                // Device names only label the attachment in Cinder; the
                // guest finds the LUN by auto-discovery. The boot volume is
                // completed first, so it is ROOT_DEVICE.
                let mountpoint = format!("/dev/sd{}", char::from(b'a' + (index % 26) as u8));
                self.cinder
                    .attach(&c.volume, instance, &mountpoint, Some(&self.config.host))
                    .await
            }
        };
        r.map_err(|source| VolumeStep::CompleteAttachment {
            volume: c.volume.clone(),
            source,
        })
    }

    /// The legacy attachment of `volume` to `instance`, if Cinder has one.
    pub(crate) async fn legacy_attachment(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<Option<AttachmentId>, cinder_client::CinderError> {
        let v = self.cinder.get_volume(volume).await?;
        Ok(v.attachments
            .into_iter()
            .find(|a| a.server_id.as_ref() == Some(instance))
            .map(|a| a.attachment_id))
    }

    /// Releases one volume in Cinder (which unmasks, and unzones with the
    /// host's last LUN) and forgets its paths; what failed is returned
    /// (empty when all went well). With `every_step` (undo and destroy,
    /// where the partition is stopped) each legacy step is tried even after
    /// one fails; without it (detach from a running guest) a failed
    /// terminate_connection stops there, so the volume is never marked free
    /// while it may still be masked to the guest.
    pub(crate) async fn release(
        &self,
        instance: &InstanceId,
        c: &Connected,
        every_step: bool,
    ) -> Vec<CleanupError> {
        self.volumes.disconnect_volume(instance, &c.volume);
        let volume = c.volume.clone();
        let mut failures = Vec::new();
        match &c.link {
            Link::Attachment(id) => match self.cinder.delete_attachment(id).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                // The delete may have happened: ask Cinder.
                Err(e)
                    if e.may_have_taken_effect()
                        && self
                            .cinder
                            .get_attachment(id)
                            .await
                            .is_err_and(|g| g.is_not_found()) => {}
                Err(source) => failures.push(CleanupError::DeleteAttachment {
                    attachment: id.clone(),
                    volume,
                    source,
                }),
            },
            Link::Legacy { connector } => {
                let mut terminated = true;
                if let Some(conn) = connector {
                    if let Err(source) = self.cinder.terminate_connection(&c.volume, conn).await {
                        failures.push(CleanupError::TerminateConnection {
                            volume: volume.clone(),
                            source,
                        });
                        if !every_step {
                            return failures;
                        }
                        terminated = false;
                    }
                }
                let done = match self.legacy_attachment(instance, &c.volume).await {
                    // An attached volume whose connection could not be
                    // terminated stays attached: it may still be masked,
                    // and attached is how the next destroy finds it.
                    Ok(Some(_)) if !terminated => Ok(()),
                    Ok(Some(a)) => match self.cinder.detach(&c.volume, &a).await {
                        // The detach may have happened: ask Cinder.
                        Err(e)
                            if e.may_have_taken_effect()
                                && matches!(
                                    self.legacy_attachment(instance, &c.volume).await,
                                    Ok(None)
                                ) =>
                        {
                            Ok(())
                        }
                        r => r,
                    },
                    // Only reserved: no trace of the instance holds it, so
                    // it is released in any case (the failure above says
                    // what may still be masked).
                    Ok(None) => self.cinder.unreserve(&c.volume).await,
                    Err(e) => Err(e),
                };
                if let Err(source) = done {
                    failures.push(CleanupError::DetachVolume { volume, source });
                }
            }
        }
        failures
    }

    /// Whether the instance finished spawning: Cinder reports one of its
    /// volumes attached to it (complete, or legacy `os-attach` done).
    pub(crate) async fn spawn_finished(
        &self,
        instance: &InstanceId,
    ) -> Result<bool, cinder_client::CinderError> {
        if self.cinder.attachments_api().await? {
            let found = self
                .cinder
                .list_attachments(&AttachmentFilter {
                    instance_id: Some(instance.clone()),
                    volume_id: None,
                })
                .await?;
            return Ok(found
                .iter()
                .any(|a| a.status == cinder_client::AttachStatus::Attached));
        }
        let volumes = self.cinder.list_volumes().await?;
        Ok(volumes.iter().any(|v| {
            v.attachments
                .iter()
                .any(|a| a.server_id.as_ref() == Some(instance))
        }))
    }

    /// Completes the instance's attachments that were connected but not
    /// completed (attachments API; a failure is only logged: the instance
    /// exists either way, and a retry completes them).
    pub(crate) async fn finish_completions(&self, instance: &InstanceId, volumes: &[VolumeId]) {
        let Ok(api) = self.cinder.attachments_api().await else {
            return;
        };
        if !api {
            self.finish_legacy_attaches(instance, volumes).await;
            return;
        }
        let Ok(found) = self
            .cinder
            .list_attachments(&AttachmentFilter {
                instance_id: Some(instance.clone()),
                volume_id: None,
            })
            .await
        else {
            return;
        };
        for a in found {
            if a.status == cinder_client::AttachStatus::Attaching {
                match self.cinder.complete_attachment(&a.id).await {
                    Ok(()) => {
                        tracing::info!(volume = %a.volume_id, "completed an attachment an earlier spawn left")
                    }
                    Err(e) => {
                        tracing::warn!(volume = %a.volume_id, error = %e, "could not complete an attachment an earlier spawn left")
                    }
                }
            }
        }
    }

    /// The legacy form of [`Self::finish_completions`]: a volume of the
    /// spawn (`volumes`, in its order) that is reserved (`attaching`, no
    /// attachment) was left by the spawn's process before `os-attach`; it
    /// is connected again (idempotent: the same masking) and attached.
    async fn finish_legacy_attaches(&self, instance: &InstanceId, volumes: &[VolumeId]) {
        let mut conn = None;
        for (index, id) in volumes.iter().enumerate() {
            let reserved = self.cinder.get_volume(id).await.is_ok_and(|v| {
                v.status == cinder_client::VolumeStatus::Attaching && v.attachments.is_empty()
            });
            if !reserved {
                continue;
            }
            if conn.is_none() {
                conn = match self.instance_initiators(instance).await {
                    Ok((_, i)) => connector_for(&i.wwpns(), &self.config.host).ok(),
                    Err(_) => None,
                };
            }
            let Some(c) = &conn else { return };
            let r = match self.cinder.initialize_connection(id, c).await {
                Ok(_) => {
                    let link = Connected {
                        volume: id.clone(),
                        link: Link::Legacy {
                            connector: Some(c.clone()),
                        },
                    };
                    self.complete(instance, &link, index)
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match r {
                Ok(()) => {
                    tracing::info!(volume = %id, "attached a volume an earlier spawn left reserved")
                }
                Err(e) => {
                    tracing::warn!(volume = %id, error = %e, "could not attach a volume an earlier spawn left reserved")
                }
            }
        }
    }

    /// Every volume Cinder holds for the instance, found in Cinder (never in
    /// process memory). `connector` is used to unmask legacy connections.
    pub(crate) async fn find_links(
        &self,
        instance: &InstanceId,
        connector: Option<Connector>,
    ) -> Result<Vec<Connected>, CleanupError> {
        let list = |source| CleanupError::ListAttachments {
            instance: instance.clone(),
            source,
        };
        if self.cinder.attachments_api().await.map_err(list)? {
            let found = self
                .cinder
                .list_attachments(&AttachmentFilter {
                    instance_id: Some(instance.clone()),
                    volume_id: None,
                })
                .await
                .map_err(list)?;
            return Ok(found
                .into_iter()
                .map(|a| Connected {
                    volume: a.volume_id,
                    link: Link::Attachment(a.id),
                })
                .collect());
        }
        let volumes = self.cinder.list_volumes().await.map_err(list)?;
        Ok(volumes
            .into_iter()
            .filter(|v| {
                v.attachments
                    .iter()
                    .any(|a| a.server_id.as_ref() == Some(instance))
            })
            .map(|v| Connected {
                volume: v.id,
                link: Link::Legacy {
                    connector: connector.clone(),
                },
            })
            .collect())
    }

    /// What an unfinished earlier spawn of the instance left in Cinder:
    /// its links ([`Self::find_links`]) and, with the legacy actions, the
    /// spawn's volumes it reserved but never attached. A legacy
    /// reservation names no instance; a volume of this spawn's block
    /// devices that is `attaching` with no attachment, while an unfinished
    /// try of this instance is being taken over (under the instance's
    /// lock), is that try's.
    pub(crate) async fn earlier_links(
        &self,
        instance: &InstanceId,
        volumes: &[VolumeId],
        connector: Option<Connector>,
    ) -> Result<Vec<Connected>, CleanupError> {
        let list = |source| CleanupError::ListAttachments {
            instance: instance.clone(),
            source,
        };
        let mut links = self.find_links(instance, connector.clone()).await?;
        if self.cinder.attachments_api().await.map_err(list)? {
            return Ok(links);
        }
        for id in volumes {
            if links.iter().any(|l| &l.volume == id) {
                continue;
            }
            let v = self.cinder.get_volume(id).await.map_err(list)?;
            if v.status == VolumeStatus::Attaching && v.attachments.is_empty() {
                tracing::info!(volume = %id, "releasing the reservation an earlier try left");
                links.push(Connected {
                    volume: id.clone(),
                    link: Link::Legacy {
                        connector: connector.clone(),
                    },
                });
            }
        }
        Ok(links)
    }

    /// Tears down what an instance has: stops the partition, releases the
    /// volumes (newest first), deletes the partition (its vHBAs go with it,
    /// and it leaves its storage groups), and with `delete_group` the
    /// instance's storage group, found on the HMC by its name. Returns what
    /// could not be done. When the partition cannot be stopped, nothing
    /// else is touched, so a running guest never loses its LUNs.
    pub(crate) async fn teardown(
        &self,
        instance: &InstanceId,
        partition: Option<&PartitionUri>,
        volumes: &[Connected],
        delete_group: bool,
    ) -> Vec<CleanupError> {
        let mut failures = Vec::new();
        if let Some(p) = partition {
            if let Err(e) = self.ensure_stopped(p).await {
                if !matches!(&e, CleanupError::GetPartition { source, .. } if source.is_not_found())
                {
                    return vec![e];
                }
            }
        }
        for c in volumes.iter().rev() {
            failures.extend(self.release(instance, c, true).await);
        }
        if !failures.is_empty() {
            // A LUN may still be masked to the partition's WWPNs: keep the
            // partition (and its group), so that those WWPNs are never handed
            // to another partition, and say so.
            if let Some(p) = partition {
                failures.push(CleanupError::PartitionKept {
                    partition: p.clone(),
                });
            }
            return failures;
        }
        if let Some(p) = partition {
            match self.hmc.delete_partition(p).await {
                Ok(()) => tracing::debug!(partition = %p, "partition deleted"),
                Err(e) if e.is_not_found() => {}
                Err(source) => {
                    // The group stays attached; deleting it would be refused.
                    failures.push(CleanupError::DeletePartition {
                        partition: p.clone(),
                        source,
                    });
                    return failures;
                }
            }
        }
        if delete_group {
            match self.find_group(instance).await {
                Ok(None) => {}
                Ok(Some(g)) => match self.hmc.delete_storage_group(&g).await {
                    Ok(()) => tracing::debug!(group = %g, "storage group deleted"),
                    Err(e) if e.is_not_found() => {}
                    Err(source) => {
                        failures.push(CleanupError::DeleteGroup { group: g, source });
                    }
                },
                Err(e) => failures.push(CleanupError::FindGroup(e)),
            }
        }
        failures
    }
}
