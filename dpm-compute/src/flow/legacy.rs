//! The legacy volume actions, for a Cinder without the attachments API
//! (before 3.44), in Nova's legacy order: `os-reserve`,
//! `os-initialize_connection` with the connector (Cinder masks and zones),
//! `os-attach`; and `os-begin_detaching`, `os-terminate_connection`,
//! `os-detach` (or `os-unreserve` for a volume only reserved),
//! `os-roll_detaching` when a detach fails.

use async_trait::async_trait;
use cinder_client::{
    AttachmentId, CinderApi, CinderError, ConnectionInfo, Connector, InstanceId, VolumeId,
    VolumeStatus,
};

use super::{DetachPlan, Flow, Link};
use crate::error::{AttachStep, DetachStep, ReleaseError, VolumeStep};

/// The legacy mount point of an instance's boot volume: the boot volume is
/// completed first, as `/dev/sda`.
const ROOT_DEVICE: &str = "/dev/sda";

/// The legacy actions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Legacy;

fn link(volume: VolumeId, connector: Option<&Connector>) -> Link {
    Link {
        volume,
        attachment: None,
        connector: connector.cloned(),
    }
}

/// The legacy attachment of `volume` to `instance`, if Cinder has one.
async fn attachment_of<C: CinderApi>(
    cinder: &C,
    instance: &InstanceId,
    volume: &VolumeId,
) -> Result<Option<AttachmentId>, CinderError> {
    let v = cinder.get_volume(volume).await?;
    Ok(v.attachments
        .into_iter()
        .find(|a| a.server_id.as_ref() == Some(instance))
        .map(|a| a.attachment_id))
}

/// `os-detach` of an attached volume, or `os-unreserve` of one only
/// reserved (no trace of the instance holds it); a lost detach is settled
/// by asking Cinder.
async fn detach_or_unreserve<C: CinderApi>(
    cinder: &C,
    instance: &InstanceId,
    volume: &VolumeId,
    terminated: bool,
) -> Result<(), CinderError> {
    match attachment_of(cinder, instance, volume).await? {
        // An attached volume whose connection could not be terminated
        // stays attached: it may still be masked, and attached is how the
        // next destroy finds it.
        Some(_) if !terminated => Ok(()),
        Some(a) => match cinder.detach(volume, &a).await {
            Err(e)
                if e.may_have_taken_effect()
                    && matches!(attachment_of(cinder, instance, volume).await, Ok(None)) =>
            {
                Ok(())
            }
            r => r,
        },
        None => cinder.unreserve(volume).await,
    }
}

#[async_trait]
impl<C: CinderApi> Flow<C> for Legacy {
    fn needs_connector(&self) -> bool {
        true
    }

    async fn connect(
        &self,
        cinder: &C,
        _instance: &InstanceId,
        volume: &VolumeId,
        connector: &Connector,
        made: &mut Vec<Link>,
    ) -> Result<ConnectionInfo, VolumeStep> {
        if let Err(e) = cinder.reserve(volume).await {
            // The reserve may have happened (its reply was lost), or an
            // unfinished attach of this volume to this instance left it
            // reserved (its process died): a reservation names no
            // instance, so `attaching` with no attachment, for the volume
            // this instance asks for, under its lock, is taken as this
            // instance's.
            match cinder.get_volume(volume).await {
                Ok(v) if v.status == VolumeStatus::Attaching && v.attachments.is_empty() => {
                    tracing::info!(volume = %volume, error = %e, "taking over the volume's reservation");
                }
                _ => {
                    return Err(VolumeStep::CreateAttachment {
                        volume: volume.clone(),
                        source: e,
                    })
                }
            }
        }
        made.push(link(volume.clone(), Some(connector)));
        cinder
            .initialize_connection(volume, connector)
            .await
            .map_err(|source| VolumeStep::UpdateAttachment {
                volume: volume.clone(),
                source,
            })
    }

    async fn complete(
        &self,
        cinder: &C,
        instance: &InstanceId,
        link: &Link,
        index: usize,
        host: &str,
    ) -> Result<(), VolumeStep> {
        // Device names only label the attachment in Cinder; the guest finds
        // the LUN by auto-discovery. The boot volume is completed first, so
        // it is ROOT_DEVICE.
        let letter = u8::try_from(index % 26).unwrap_or(0);
        let mountpoint = format!("/dev/sd{}", char::from(b'a' + letter));
        cinder
            .attach(&link.volume, instance, &mountpoint, Some(host))
            .await
            .map_err(|source| VolumeStep::CompleteAttachment {
                volume: link.volume.clone(),
                source,
            })
    }

    async fn release(
        &self,
        cinder: &C,
        instance: &InstanceId,
        link: &Link,
        every_step: bool,
    ) -> Vec<ReleaseError> {
        let volume = &link.volume;
        let mut failures = Vec::new();
        let mut terminated = true;
        if let Some(conn) = &link.connector {
            if let Err(source) = cinder.terminate_connection(volume, conn).await {
                failures.push(ReleaseError::TerminateConnection {
                    volume: volume.clone(),
                    source,
                });
                if !every_step {
                    return failures;
                }
                terminated = false;
            }
        }
        if let Err(source) = detach_or_unreserve(cinder, instance, volume, terminated).await {
            failures.push(ReleaseError::DetachVolume {
                volume: volume.clone(),
                source,
            });
        }
        failures
    }

    async fn find_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError> {
        let volumes =
            cinder
                .list_volumes()
                .await
                .map_err(|source| ReleaseError::ListAttachments {
                    instance: instance.clone(),
                    source,
                })?;
        Ok(volumes
            .into_iter()
            .filter(|v| {
                v.attachments
                    .iter()
                    .any(|a| a.server_id.as_ref() == Some(instance))
            })
            .map(|v| link(v.id, connector))
            .collect())
    }

    /// A legacy reservation names no instance: a volume of this spawn's
    /// that is `attaching` with no attachment, while an unfinished try of
    /// this instance is being taken over (under the instance's lock), is
    /// that try's.
    async fn earlier_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volumes: &[VolumeId],
        connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError> {
        let mut links = Flow::<C>::find_links(self, cinder, instance, connector).await?;
        for id in volumes {
            if links.iter().any(|l| &l.volume == id) {
                continue;
            }
            let v = cinder
                .get_volume(id)
                .await
                .map_err(|source| ReleaseError::ReadVolume {
                    volume: id.clone(),
                    source,
                })?;
            if v.status == VolumeStatus::Attaching && v.attachments.is_empty() {
                tracing::info!(volume = %id, "releasing the reservation an earlier try left");
                links.push(link(id.clone(), connector));
            }
        }
        Ok(links)
    }

    async fn spawn_finished(&self, cinder: &C, instance: &InstanceId) -> Result<bool, CinderError> {
        let volumes = cinder.list_volumes().await?;
        Ok(volumes.iter().any(|v| {
            v.attachments
                .iter()
                .any(|a| a.server_id.as_ref() == Some(instance))
        }))
    }

    /// A volume of the spawn (`volumes`, in its order) that is reserved
    /// (`attaching`, no attachment) was left by the spawn's process before
    /// `os-attach`: it is connected again (idempotent: the same masking)
    /// and attached.
    async fn finish_completions(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volumes: &[VolumeId],
        connector: Option<&Connector>,
        host: &str,
    ) {
        let Some(conn) = connector else { return };
        for (index, id) in volumes.iter().enumerate() {
            let reserved = cinder
                .get_volume(id)
                .await
                .is_ok_and(|v| v.status == VolumeStatus::Attaching && v.attachments.is_empty());
            if !reserved {
                continue;
            }
            let r = match cinder.initialize_connection(id, conn).await {
                Ok(_) => Flow::<C>::complete(
                    self,
                    cinder,
                    instance,
                    &link(id.clone(), Some(conn)),
                    index,
                    host,
                )
                .await
                .map_err(|e| e.to_string()),
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

    async fn check_attach(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<(), AttachStep> {
        let attached = attachment_of(cinder, instance, volume)
            .await
            .map_err(|source| AttachStep::ListAttachments {
                volume: volume.clone(),
                source,
            })?;
        match attached {
            Some(_) => Err(AttachStep::AlreadyAttached {
                volume: volume.clone(),
            }),
            None => Ok(()),
        }
    }

    async fn volume_links(
        &self,
        _cinder: &C,
        _instance: &InstanceId,
        _volume: &VolumeId,
        _connector: Option<&Connector>,
    ) -> Vec<Link> {
        // A reservation names no instance: what the attach made is what it
        // knows of (its reserve is pushed before the reply is read).
        Vec::new()
    }

    async fn detach_plan(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        connector: Option<&Connector>,
    ) -> Result<DetachPlan, DetachStep> {
        let v = cinder
            .get_volume(volume)
            .await
            .map_err(|source| DetachStep::ListAttachments {
                volume: volume.clone(),
                source,
            })?;
        let Some(attached) = v
            .attachments
            .into_iter()
            .find(|a| a.server_id.as_ref() == Some(instance))
        else {
            return Err(DetachStep::NotAttached {
                instance: instance.clone(),
                volume: volume.clone(),
            });
        };
        // Legacy attachments carry the mount point spawn gave them; the
        // boot volume's is the first.
        if attached.device.as_deref() == Some(ROOT_DEVICE) {
            return Err(DetachStep::RootVolume {
                instance: instance.clone(),
                volume: volume.clone(),
            });
        }
        Ok(DetachPlan {
            links: vec![link(volume.clone(), connector)],
            info: None,
        })
    }

    async fn begin_detach(&self, cinder: &C, volume: &VolumeId) -> Result<(), DetachStep> {
        // A volume already `detaching` is what an earlier detach left (its
        // process died, or the reply was lost): carry on with it.
        let detaching = |v: Result<cinder_client::Volume, CinderError>| {
            v.is_ok_and(|v| v.status == VolumeStatus::Detaching)
        };
        if detaching(cinder.get_volume(volume).await) {
            return Ok(());
        }
        match cinder.begin_detaching(volume).await {
            Ok(()) => Ok(()),
            Err(e) if e.may_have_taken_effect() && detaching(cinder.get_volume(volume).await) => {
                Ok(())
            }
            Err(source) => Err(DetachStep::BeginDetaching {
                volume: volume.clone(),
                source,
            }),
        }
    }

    async fn abort_detach(&self, cinder: &C, volume: &VolumeId) {
        if let Err(e) = cinder.roll_detaching(volume).await {
            tracing::warn!(error = %e, "roll_detaching failed");
        }
    }

    async fn attached_volumes(
        &self,
        _cinder: &C,
        _instance: &InstanceId,
    ) -> Vec<(VolumeId, ConnectionInfo)> {
        // The legacy records carry no connection info.
        Vec::new()
    }
}
