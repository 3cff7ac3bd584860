//! Nova's `attach_volume` and `detach_volume` on a running (or stopped)
//! instance, from the `connection_info` Cinder gave for the driver's
//! connector.

use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::FcPath;
use hmc_client::HmcApi;

use crate::driver::DpmDriver;
use crate::values::{DriverVolume, Located};

use crate::error::{AttachError, DetachError, LookupError};

impl<H: HmcApi> DpmDriver<H> {
    /// Nova's `attach_volume`: makes the volume Cinder connected to the
    /// instance's initiators reachable by its guest (z13: nothing to do on
    /// the HMC, Cinder masked and zoned the LUN to every vHBA; z14+: a
    /// request in the instance's group, discovery, the storage volume
    /// matched by its paths). Returns the LUN paths. On failure its own
    /// changes are undone; Cinder is never called. `located`: what
    /// [`Self::locate`] returned, when the caller has it.
    #[tracing::instrument(name = "attach_volume", skip_all, fields(instance = %instance, volume = %volume.volume_id))]
    pub async fn attach_volume(
        &self,
        instance: &InstanceId,
        volume: &DriverVolume,
        located: Option<&Located>,
    ) -> Result<Vec<FcPath>, AttachError> {
        let fail = |step, undo| AttachError {
            instance: instance.clone(),
            volume: volume.volume_id.clone(),
            step,
            undo,
        };
        let ready = self.ready().map_err(|e| fail(e.into(), Vec::new()))?;
        let found;
        let located = match located {
            Some(l) => l,
            None => {
                found = self
                    .locate(instance)
                    .await
                    .and_then(|l| {
                        l.ok_or_else(|| LookupError::InstanceNotFound {
                            instance: instance.clone(),
                        })
                    })
                    .map_err(|e| fail(e.into(), Vec::new()))?;
                &found
            }
        };
        let paths = ready
            .storage
            .attach(&self.host, located, volume)
            .await
            .map_err(|(step, undo)| fail(step, undo))?;
        tracing::info!(paths = paths.len(), "volume attached");
        Ok(paths)
    }

    /// Nova's `detach_volume`: takes the volume from the instance's guest
    /// before Cinder unmasks it (z14+: its request leaves the group; z13:
    /// the guest lets the LUN go when Cinder unmasks). The instance's boot
    /// volume is refused (from the partition's boot LUN and `info`, or its
    /// `boot` request). A volume the instance does not have is no error.
    #[tracing::instrument(name = "detach_volume", skip_all, fields(instance = %instance, volume = %volume))]
    pub async fn detach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
        info: Option<&ConnectionInfo>,
    ) -> Result<(), DetachError> {
        let fail = |step| DetachError {
            instance: instance.clone(),
            volume: volume.clone(),
            step,
        };
        let ready = self.ready().map_err(|e| fail(e.into()))?;
        ready
            .storage
            .detach(&self.host, instance, volume, info)
            .await
            .map_err(fail)?;
        tracing::info!("volume detached from the guest");
        Ok(())
    }
}
