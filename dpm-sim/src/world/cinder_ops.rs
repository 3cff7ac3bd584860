//! The Cinder operations that change something, with Cinder's clock and
//! its backend on the SAN.

use cinder_client::{
    Attachment, AttachmentId, CinderError, ConnectionInfo, Connector, InstanceId, VolumeCreate,
    VolumeId,
};

use super::{Action, SanBackend, World};
use crate::cinder::{self, CinderState};

impl World {
    // ----- Cinder operations that change something --------------------------------

    /// Runs `f` on Cinder with what it borrows from the rest of the world.
    pub(super) fn with_cinder<T>(
        &mut self,
        f: impl FnOnce(&mut CinderState, &mut cinder::Cx<'_>) -> T,
    ) -> T {
        let mut backend = SanBackend {
            san: &mut self.san,
            hmc: &self.hmc,
            dsm: &self.dsm,
        };
        let mut cx = cinder::Cx {
            ids: &mut self.ids,
            clock: &self.clock,
            backend: &mut backend,
        };
        f(&mut self.cinder, &mut cx)
    }

    pub(crate) fn create_volume(
        &mut self,
        project: &str,
        user: Option<&str>,
        req: &VolumeCreate,
    ) -> Result<cinder::VolumeDetail, CinderError> {
        let (volume, later) = self.with_cinder(|c, cx| c.create_volume(cx, project, user, req))?;
        self.schedule(Action::Cinder(later));
        Ok(volume)
    }

    pub(crate) fn delete_volume(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        let later = self.with_cinder(|c, cx| c.delete_volume(cx, project, id))?;
        self.schedule(Action::Cinder(later));
        Ok(())
    }

    pub(crate) fn create_attachment(
        &mut self,
        project: &str,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&Connector>,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.create_attachment(cx, project, volume, instance, connector))
    }

    pub(crate) fn update_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        self.with_cinder(|c, cx| c.update_attachment(cx, project, id, connector))
    }

    pub(crate) fn complete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.complete_attachment(cx, project, id))
    }

    pub(crate) fn delete_attachment(
        &mut self,
        project: &str,
        id: &AttachmentId,
    ) -> Result<Vec<Attachment>, CinderError> {
        self.with_cinder(|c, cx| c.delete_attachment(cx, project, id))
    }

    pub(crate) fn reserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.reserve(cx, project, id))
    }

    pub(crate) fn unreserve(&mut self, project: &str, id: &VolumeId) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.unreserve(cx, project, id))
    }

    pub(crate) fn initialize_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        self.with_cinder(|c, cx| c.initialize_connection(cx, project, id, connector))
    }

    pub(crate) fn attach(
        &mut self,
        project: &str,
        id: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&str>,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.attach(cx, project, id, instance, mountpoint, host_name))
    }

    pub(crate) fn begin_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.begin_detaching(cx, project, id))
    }

    pub(crate) fn roll_detaching(
        &mut self,
        project: &str,
        id: &VolumeId,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.roll_detaching(cx, project, id))
    }

    pub(crate) fn terminate_connection(
        &mut self,
        project: &str,
        id: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.terminate_connection(cx, project, id, connector))
    }

    pub(crate) fn detach(
        &mut self,
        project: &str,
        id: &VolumeId,
        attachment: Option<&AttachmentId>,
    ) -> Result<(), CinderError> {
        self.with_cinder(|c, cx| c.detach(cx, project, id, attachment))
    }
}
