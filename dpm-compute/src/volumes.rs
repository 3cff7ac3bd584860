//! Attach and detach on a running (or stopped) instance, in Nova's order:
//! attach is the connector, the attachment made and updated (Cinder masks
//! and zones), the driver's `attach_volume`, the attachment completed;
//! detach is the driver's `detach_volume`, then Cinder releases the volume
//! (which unmasks).

use cinder_client::{CinderApi, ConnectionInfo, InstanceId, VolumeId};
use dpm_driver::{DriverVolume, Located, LookupError};
use dpm_volume::FcPath;
use hmc_client::HmcApi;

use crate::error::{AttachError, AttachStep, DetachError, DetachStep, UndoError, VolumeStep};
use crate::flow::{self, Flow, Link};
use crate::Compute;

/// One attach, with its record of what it did.
struct AttachRun<'a, H, C> {
    compute: &'a Compute<H, C>,
    instance: &'a InstanceId,
    volume: &'a VolumeId,
    located: Option<Located>,
    links: Vec<Link>,
    /// The connection info, once the driver made the volume reachable.
    attached: Option<ConnectionInfo>,
}

impl<H: HmcApi + 'static, C: CinderApi + 'static> Compute<H, C> {
    /// Attaches a volume to an instance (running or not): Cinder masks and
    /// zones the LUN to every initiator; with storage groups a volume
    /// request is added to the instance's group and DPM discovers the LUN.
    /// The guest finds it by auto-discovery. Returns the LUN paths. Uses
    /// the attachments API, or the legacy actions when Cinder lacks 3.44.
    #[tracing::instrument(name = "attach_volume", skip(self), fields(instance = %instance, volume = %volume))]
    pub async fn attach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<Vec<FcPath>, AttachError> {
        let _held = self.lock_instance(instance).await;
        let fail = |step, undo| AttachError {
            instance: instance.clone(),
            volume: volume.clone(),
            step,
            undo,
        };
        let flow = flow::choose(&self.cinder)
            .await
            .map_err(|e| fail(AttachStep::CinderApi(e), Vec::new()))?;
        let mut run = AttachRun {
            compute: self,
            instance,
            volume,
            located: None,
            links: Vec::new(),
            attached: None,
        };
        match run.steps(flow).await {
            Ok(paths) => {
                tracing::info!(paths = paths.len(), "volume attached");
                Ok(paths)
            }
            Err(step) if step.is_refusal() => Err(fail(step, Vec::new())),
            Err(step) => {
                let undo = run.undo(flow).await;
                Err(fail(step, undo))
            }
        }
    }

    /// Detaches a volume: the driver takes it from the guest (with storage
    /// groups its request leaves the group), then Cinder releases it
    /// (which unmasks, and unzones with the last LUN). A volume not
    /// attached to this instance is refused and changes nothing; so is the
    /// instance's boot volume.
    #[tracing::instrument(name = "detach_volume", skip(self), fields(instance = %instance, volume = %volume))]
    pub async fn detach_volume(
        &self,
        instance: &InstanceId,
        volume: &VolumeId,
    ) -> Result<(), DetachError> {
        let _held = self.lock_instance(instance).await;
        let fail = |step| DetachError {
            instance: instance.clone(),
            volume: volume.clone(),
            step,
        };
        let flow = flow::choose(&self.cinder)
            .await
            .map_err(|e| fail(DetachStep::CinderApi(e)))?;
        // The legacy terminate_connection needs the connector.
        let connector = if flow.needs_connector() {
            let located = self
                .driver
                .locate(instance)
                .await
                .map_err(|e| fail(e.into()))?
                .ok_or_else(|| {
                    fail(
                        LookupError::InstanceNotFound {
                            instance: instance.clone(),
                        }
                        .into(),
                    )
                })?;
            Some(
                self.driver
                    .connector(&located)
                    .map_err(|e| fail(DetachStep::Connector(e)))?,
            )
        } else {
            None
        };
        let plan = flow
            .detach_plan(&self.cinder, instance, volume, connector.as_ref())
            .await
            .map_err(fail)?;
        flow.begin_detach(&self.cinder, volume)
            .await
            .map_err(fail)?;
        if let Err(e) = self
            .driver
            .detach_volume(instance, volume, plan.info.as_ref())
            .await
        {
            flow.abort_detach(&self.cinder, volume).await;
            return Err(fail(e.into()));
        }
        for l in &plan.links {
            if let Some(source) = flow
                .release(&self.cinder, instance, l, false)
                .await
                .into_iter()
                .next()
            {
                flow.abort_detach(&self.cinder, volume).await;
                return Err(fail(DetachStep::Release {
                    volume: volume.clone(),
                    source,
                }));
            }
        }
        tracing::info!("volume detached");
        Ok(())
    }
}

impl<H: HmcApi + 'static, C: CinderApi + 'static> AttachRun<'_, H, C> {
    async fn steps(&mut self, flow: &dyn Flow<C>) -> Result<Vec<FcPath>, AttachStep> {
        let c = self.compute;
        let located =
            c.driver
                .locate(self.instance)
                .await?
                .ok_or_else(|| LookupError::InstanceNotFound {
                    instance: self.instance.clone(),
                })?;
        flow.check_attach(&c.cinder, self.instance, self.volume)
            .await?;
        let size = c
            .cinder
            .get_volume(self.volume)
            .await
            .map_err(|source| VolumeStep::ReadVolume {
                volume: self.volume.clone(),
                source,
            })?
            .size;
        let connector = c
            .driver
            .connector(&located)
            .map_err(AttachStep::Connector)?;
        self.located = Some(located.clone());
        let info = flow
            .connect(
                &c.cinder,
                self.instance,
                self.volume,
                &connector,
                &mut self.links,
            )
            .await?;
        let v = DriverVolume {
            volume_id: self.volume.clone(),
            connection_info: info.clone(),
            size_gib: size,
            boot_index: None,
        };
        let paths = c
            .driver
            .attach_volume(self.instance, &v, Some(&located))
            .await?;
        self.attached = Some(info);
        for l in &self.links {
            // A letter past the boot disk, for the legacy mount point.
            flow.complete(&c.cinder, self.instance, l, 1, &c.config().host)
                .await?;
        }
        Ok(paths)
    }

    /// Takes the volume back from the guest if the driver made it
    /// reachable, then releases what Cinder holds of it for the instance
    /// (Cinder held nothing of it before, checked first: whatever it holds
    /// now is this attach's, even when a reply was lost).
    async fn undo(self, flow: &dyn Flow<C>) -> Vec<UndoError> {
        let c = self.compute;
        let mut undo = Vec::new();
        if let Some(info) = &self.attached {
            if let Err(e) = c
                .driver
                .detach_volume(self.instance, self.volume, Some(info))
                .await
            {
                // The guest may still use it: Cinder must not unmask it.
                return vec![UndoError::Detach(e)];
            }
        }
        let connector = self
            .located
            .as_ref()
            .and_then(|l| c.driver.connector(l).ok());
        let mut links = self.links;
        for f in flow
            .volume_links(&c.cinder, self.instance, self.volume, connector.as_ref())
            .await
        {
            if !links.iter().any(|l| l.same_as(&f)) {
                links.push(f);
            }
        }
        for l in links.iter().rev() {
            undo.extend(
                flow.release(&c.cinder, self.instance, l, true)
                    .await
                    .into_iter()
                    .map(UndoError::Cinder),
            );
        }
        undo
    }
}
