//! The attachments API (Cinder 3.44): create, update with the connector
//! (Cinder masks and zones), complete, delete.

use async_trait::async_trait;
use cinder_client::{
    AttachStatus, AttachmentFilter, CinderApi, CinderError, ConnectionInfo, Connector, InstanceId,
    VolumeId,
};

use super::{DetachPlan, Flow, Link};
use crate::error::{AttachStep, DetachStep, ReleaseError, UndoError, VolumeStep};

/// The attachments API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attachments;

fn filter(instance: &InstanceId, volume: Option<&VolumeId>) -> AttachmentFilter {
    AttachmentFilter {
        instance_id: Some(instance.clone()),
        volume_id: volume.cloned(),
    }
}

fn link(volume: VolumeId, id: cinder_client::AttachmentId) -> Link {
    Link {
        volume,
        attachment: Some(id),
        connector: None,
    }
}

#[async_trait]
impl<C: CinderApi> Flow<C> for Attachments {
    fn needs_connector(&self) -> bool {
        false
    }

    async fn connect(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        connector: &Connector,
        made: &mut Vec<Link>,
    ) -> Result<ConnectionInfo, VolumeStep> {
        let a = cinder
            .create_attachment(volume, instance, None)
            .await
            .map_err(|source| VolumeStep::CreateAttachment {
                volume: volume.clone(),
                source,
            })?;
        made.push(link(volume.clone(), a.id.clone()));
        let a = cinder
            .update_attachment(&a.id, connector)
            .await
            .map_err(|source| VolumeStep::UpdateAttachment {
                volume: volume.clone(),
                source,
            })?;
        a.connection_info
            .ok_or_else(|| VolumeStep::NoConnectionInfo {
                volume: volume.clone(),
            })
    }

    async fn complete(
        &self,
        cinder: &C,
        _instance: &InstanceId,
        link: &Link,
        _index: usize,
        _host: &str,
    ) -> Result<(), VolumeStep> {
        let Some(id) = &link.attachment else {
            return Ok(());
        };
        cinder
            .complete_attachment(id)
            .await
            .map_err(|source| VolumeStep::CompleteAttachment {
                volume: link.volume.clone(),
                source,
            })
    }

    async fn release(
        &self,
        cinder: &C,
        _instance: &InstanceId,
        link: &Link,
        _every_step: bool,
    ) -> Vec<ReleaseError> {
        let Some(id) = &link.attachment else {
            return Vec::new();
        };
        match cinder.delete_attachment(id).await {
            Ok(_) => Vec::new(),
            Err(e) if e.is_not_found() => Vec::new(),
            // The delete may have happened: ask Cinder.
            Err(e)
                if e.may_have_taken_effect()
                    && cinder
                        .get_attachment(id)
                        .await
                        .is_err_and(|g| g.is_not_found()) =>
            {
                Vec::new()
            }
            Err(source) => vec![ReleaseError::DeleteAttachment {
                attachment: id.clone(),
                volume: link.volume.clone(),
                source,
            }],
        }
    }

    async fn find_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        _connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError> {
        let found = cinder
            .list_attachments(&filter(instance, None))
            .await
            .map_err(|source| ReleaseError::ListAttachments {
                instance: instance.clone(),
                source,
            })?;
        Ok(found.into_iter().map(|a| link(a.volume_id, a.id)).collect())
    }

    async fn earlier_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        _volumes: &[VolumeId],
        connector: Option<&Connector>,
    ) -> Result<Vec<Link>, ReleaseError> {
        Flow::<C>::find_links(self, cinder, instance, connector).await
    }

    async fn spawn_finished(&self, cinder: &C, instance: &InstanceId) -> Result<bool, CinderError> {
        let found = cinder.list_attachments(&filter(instance, None)).await?;
        Ok(found.iter().any(|a| a.status == AttachStatus::Attached))
    }

    async fn finish_completions(
        &self,
        cinder: &C,
        instance: &InstanceId,
        _volumes: &[VolumeId],
        _connector: Option<&Connector>,
        _host: &str,
    ) {
        let Ok(found) = cinder.list_attachments(&filter(instance, None)).await else {
            return;
        };
        for a in found {
            if a.status != AttachStatus::Attaching {
                continue;
            }
            match cinder.complete_attachment(&a.id).await {
                Ok(()) => {
                    tracing::info!(volume = %a.volume_id, "completed an attachment an earlier spawn left")
                }
                Err(e) => {
                    tracing::warn!(volume = %a.volume_id, error = %e, "could not complete an attachment an earlier spawn left")
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
        let found = cinder
            .list_attachments(&filter(instance, Some(volume)))
            .await
            .map_err(|source| AttachStep::ListAttachments {
                volume: volume.clone(),
                source,
            })?;
        let (done, unfinished): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|a| a.status == AttachStatus::Attached);
        if !done.is_empty() {
            return Err(AttachStep::AlreadyAttached {
                volume: volume.clone(),
            });
        }
        // Attachments never completed are what an unfinished attach left
        // (its process died): release them and start over.
        for a in unfinished {
            let l = link(volume.clone(), a.id);
            if let Some(e) = Flow::<C>::release(self, cinder, instance, &l, true)
                .await
                .into_iter()
                .next()
            {
                return Err(AttachStep::Leftovers(Box::new(UndoError::Cinder(e))));
            }
        }
        Ok(())
    }

    async fn volume_links(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        _connector: Option<&Connector>,
    ) -> Vec<Link> {
        cinder
            .list_attachments(&filter(instance, Some(volume)))
            .await
            .map(|found| {
                found
                    .into_iter()
                    .map(|a| link(volume.clone(), a.id))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn detach_plan(
        &self,
        cinder: &C,
        instance: &InstanceId,
        volume: &VolumeId,
        _connector: Option<&Connector>,
    ) -> Result<DetachPlan, DetachStep> {
        let found = cinder
            .list_attachments(&filter(instance, Some(volume)))
            .await
            .map_err(|source| DetachStep::ListAttachments {
                volume: volume.clone(),
                source,
            })?;
        if found.is_empty() {
            return Err(DetachStep::NotAttached {
                instance: instance.clone(),
                volume: volume.clone(),
            });
        }
        let info = found.iter().find_map(|a| a.connection_info.clone());
        Ok(DetachPlan {
            links: found
                .into_iter()
                .map(|a| link(volume.clone(), a.id))
                .collect(),
            info,
        })
    }

    async fn begin_detach(&self, _cinder: &C, _volume: &VolumeId) -> Result<(), DetachStep> {
        Ok(())
    }

    async fn abort_detach(&self, _cinder: &C, _volume: &VolumeId) {}

    async fn attached_volumes(
        &self,
        cinder: &C,
        instance: &InstanceId,
    ) -> Vec<(VolumeId, ConnectionInfo)> {
        cinder
            .list_attachments(&filter(instance, None))
            .await
            .map(|found| {
                found
                    .into_iter()
                    .filter_map(|a| Some((a.volume_id, a.connection_info?)))
                    .collect()
            })
            .unwrap_or_default()
    }
}
