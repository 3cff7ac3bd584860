//! The in-memory Cinder client.

use async_trait::async_trait;
use cinder_client::{
    Attachment, AttachmentFilter, AttachmentId, CinderApi, CinderError, ConnectionInfo, Connector,
    InstanceId, Volume, VolumeCreate, VolumeId,
};

use crate::ops::{Op, Side};
use crate::pipeline::{cinder_call, latency, lock, Shared};
use crate::world::World;

/// The method and path the HTTP client sends for a Cinder operation.
fn cinder_route(op: Op, project: &str, id: &dyn std::fmt::Display) -> (&'static str, String) {
    let (method, tail) = match op {
        Op::GetVolume => ("GET", format!("volumes/{id}")),
        Op::ListVolumes => ("GET", "volumes/detail".to_owned()),
        Op::CreateVolume => ("POST", "volumes".to_owned()),
        Op::DeleteVolume => ("DELETE", format!("volumes/{id}")),
        Op::CreateAttachment => ("POST", "attachments".to_owned()),
        Op::UpdateAttachment => ("PUT", format!("attachments/{id}")),
        Op::CompleteAttachment => ("POST", format!("attachments/{id}/action")),
        Op::DeleteAttachment => ("DELETE", format!("attachments/{id}")),
        Op::GetAttachment => ("GET", format!("attachments/{id}")),
        Op::ListAttachments => ("GET", "attachments/detail".to_owned()),
        _ => ("POST", format!("volumes/{id}/action")),
    };
    (method, format!("/v3/{project}/{tail}"))
}

/// A Cinder client of the simulated world, scoped to one project.
#[derive(Debug)]
pub struct SimCinder {
    shared: Shared,
    project: String,
}

impl SimCinder {
    /// The configured Cinder latency, on tokio time.
    async fn delay(&self) {
        latency(&self.shared, Side::Cinder).await;
    }

    pub(crate) fn new(shared: Shared, project: String) -> Self {
        Self { shared, project }
    }

    /// Like the HTTP client, the in-memory client speaks the highest
    /// microversion both sides know (up to 3.44): on a Cinder below 3.27
    /// the attachments API does not exist, and below 3.44 it cannot
    /// complete an attachment.
    fn call<T>(
        &self,
        op: Op,
        id: &dyn std::fmt::Display,
        f: impl FnOnce(&mut World, &str) -> Result<T, CinderError>,
    ) -> Result<T, CinderError> {
        let (method, path) = cinder_route(op, &self.project, id);
        cinder_call(&self.shared, op, &self.project, None, (method, &path), f)
    }
}

#[async_trait]
impl CinderApi for SimCinder {
    async fn attachments_api(&self) -> Result<bool, CinderError> {
        self.delay().await;
        Ok(lock(&self.shared.world).cinder.max_version >= (3, 44))
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume, CinderError> {
        self.delay().await;
        self.call(Op::GetVolume, id, |w, p| w.cinder.get_volume(p, id))
    }

    async fn list_volumes(&self) -> Result<Vec<Volume>, CinderError> {
        self.delay().await;
        self.call(Op::ListVolumes, &"", |w, p| Ok(w.cinder.list_volumes(p)))
    }

    async fn create_volume(&self, req: &VolumeCreate) -> Result<Volume, CinderError> {
        self.delay().await;
        // No Keystone in memory: the creating user is not known.
        self.call(Op::CreateVolume, &"", |w, p| {
            w.create_volume(p, None, req).map(|d| d.volume)
        })
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::DeleteVolume, id, |w, p| w.delete_volume(p, id))
    }

    async fn create_attachment<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&'a Connector>,
    ) -> Result<Attachment, CinderError> {
        self.delay().await;
        self.call(Op::CreateAttachment, &"", |w, p| {
            w.create_attachment(p, volume, instance, connector)
        })
    }

    async fn update_attachment(
        &self,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        self.delay().await;
        self.call(Op::UpdateAttachment, id, |w, p| {
            w.update_attachment(p, id, connector)
        })
    }

    async fn complete_attachment(&self, id: &AttachmentId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::CompleteAttachment, id, |w, p| {
            w.complete_attachment(p, id)
        })
    }

    async fn delete_attachment(&self, id: &AttachmentId) -> Result<Vec<Attachment>, CinderError> {
        self.delay().await;
        self.call(Op::DeleteAttachment, id, |w, p| w.delete_attachment(p, id))
    }

    async fn get_attachment(&self, id: &AttachmentId) -> Result<Attachment, CinderError> {
        self.delay().await;
        self.call(Op::GetAttachment, id, |w, p| w.cinder.get_attachment(p, id))
    }

    async fn list_attachments(
        &self,
        filter: &AttachmentFilter,
    ) -> Result<Vec<Attachment>, CinderError> {
        self.delay().await;
        self.call(Op::ListAttachments, &"", |w, p| {
            Ok(w.cinder.list_attachments(p, filter))
        })
    }

    async fn reserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::Reserve, volume, |w, p| w.reserve(p, volume))
    }

    async fn unreserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::Unreserve, volume, |w, p| w.unreserve(p, volume))
    }

    async fn initialize_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        self.delay().await;
        self.call(Op::InitializeConnection, volume, |w, p| {
            w.initialize_connection(p, volume, connector)
        })
    }

    async fn attach<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&'a str>,
    ) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::Attach, volume, |w, p| {
            w.attach(p, volume, instance, mountpoint, host_name)
        })
    }

    async fn begin_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::BeginDetaching, volume, |w, p| {
            w.begin_detaching(p, volume)
        })
    }

    async fn roll_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::RollDetaching, volume, |w, p| {
            w.roll_detaching(p, volume)
        })
    }

    async fn terminate_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::TerminateConnection, volume, |w, p| {
            w.terminate_connection(p, volume, connector)
        })
    }

    async fn detach(
        &self,
        volume: &VolumeId,
        attachment: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.delay().await;
        self.call(Op::Detach, volume, |w, p| {
            w.detach(p, volume, Some(attachment))
        })
    }
}
