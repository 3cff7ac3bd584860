//! What Nova's compute manager does around the DPM virt driver, for
//! everyone who runs without Nova: the `dpm` CLI, crate consumers, the
//! demo, the chaos run.
//!
//! [`Compute`] holds a [`dpm_driver::DpmDriver`] (which talks to the HMC
//! alone) and a [`cinder_client::CinderApi`]. It reserves volumes,
//! creates and updates attachments with the connector the driver returns,
//! calls the driver in Nova's order (`prepare_for_spawn`, the attachment
//! updates, `spawn`; `get_volume_connector`, the update, `attach_volume`;
//! `detach_volume`, then the attachment's delete), completes or deletes the
//! attachments, and undoes everything on failure. Both of Cinder's flows
//! (the attachments API of 3.44, and the legacy actions of older servers)
//! sit behind one seam. One instance's operations run one at a time in a
//! process; a running guest keeps its disks: a finished instance is never
//! spawned again, and its boot volume is never detached.
//!
//! Everything it knows it reads from the HMC (through the driver) and from
//! Cinder; nothing is kept in memory between calls.
//!
//! ```no_run
//! use cinder_client::VolumeId;
//! use dpm_compute::{BlockDevice, Compute};
//! use dpm_driver::{DpmDriver, DriverConfig, Instance};
//!
//! # async fn demo(hmc: impl hmc_client::HmcApi + 'static, cinder: impl cinder_client::CinderApi + 'static)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let config = DriverConfig::from_toml(&std::fs::read_to_string("dpm.toml")?)?;
//! let compute = Compute::new(DpmDriver::new(hmc, config), cinder);
//! compute.init_host().await?;
//! let vm = Instance::new("8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse()?, 2, 4096);
//! let boot: VolumeId = "2bb89d80-a0be-4a57-a939-7395967d790c".parse()?;
//! let spawned = compute.spawn(&vm, &[BlockDevice::boot(boot)]).await?;
//! println!("{} boots from {:?}", spawned.partition, spawned.boot);
//! let data: VolumeId = "2bb89d80-a0be-4a57-a939-7395967d790d".parse()?;
//! compute.attach_volume(&vm.uuid, &data).await?;
//! compute.detach_volume(&vm.uuid, &data).await?;
//! compute.destroy(&vm.uuid).await?;
//! # Ok(()) }
//! ```

mod error;
mod flow;
mod ops;
mod spawn;
mod teardown;
mod volumes;

use cinder_client::{CinderApi, InstanceId, VolumeId};
use dpm_driver::DpmDriver;
use hmc_client::HmcApi;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use error::{
    AttachError, AttachStep, DestroyError, DetachError, DetachStep, ReleaseError, SpawnError,
    SpawnStep, UndoError, VolumeStep,
};

/// A volume to attach at spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// The Cinder volume.
    pub volume_id: VolumeId,
    /// Boot order; 0 is the boot volume, `None` a data volume.
    pub boot_index: Option<u32>,
}

impl BlockDevice {
    /// The boot volume (boot index 0).
    pub fn boot(volume_id: VolumeId) -> Self {
        Self {
            volume_id,
            boot_index: Some(0),
        }
    }

    /// A data volume.
    pub fn data(volume_id: VolumeId) -> Self {
        Self {
            volume_id,
            boot_index: None,
        }
    }
}

/// The compute layer: Nova's compute-manager role over the virt driver.
#[derive(Debug)]
pub struct Compute<H, C> {
    driver: DpmDriver<H>,
    cinder: C,
    /// One lock per instance: operations on one instance run one at a
    /// time in this process; different instances run concurrently.
    locks: Mutex<HashMap<InstanceId, Arc<tokio::sync::Mutex<()>>>>,
}

impl<H: HmcApi + 'static, C: CinderApi + 'static> Compute<H, C> {
    /// The compute layer over this virt driver and Cinder client. Call
    /// [`Compute::init_host`] first.
    pub fn new(driver: DpmDriver<H>, cinder: C) -> Self {
        Self {
            driver,
            cinder,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The virt driver.
    pub fn driver(&self) -> &DpmDriver<H> {
        &self.driver
    }

    /// The HMC client.
    pub fn hmc(&self) -> &H {
        self.driver.hmc()
    }

    /// The Cinder client.
    pub fn cinder(&self) -> &C {
        &self.cinder
    }

    /// The driver's configuration.
    pub fn config(&self) -> &dpm_driver::DriverConfig {
        self.driver.config()
    }

    /// Waits for the instance's lock; other instances are not held up.
    pub(crate) async fn lock_instance(
        &self,
        instance: &InstanceId,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Forget the locks nobody holds or waits for.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(instance.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }
}
