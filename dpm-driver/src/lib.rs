//! The DPM compute driver: boot IBM Z partitions from FCP LUNs that Cinder
//! serves, and attach and detach data volumes, through the HMC.
//!
//! [`DpmDriver`] is generic over [`hmc_client::HmcApi`] and
//! [`cinder_client::CinderApi`], so it runs unchanged against a real HMC
//! and Cinder, or against the `dpm-sim` simulator. It never names an HTTP
//! library or the simulator.
//!
//! Both of DPM's storage models are first-class ([`StorageModel`]): on a
//! z13 the partition gets vHBAs; on z14 and later (`dpm-storage-management`)
//! it gets a storage group of its own.
//!
//! - [`DpmDriver::init_host`] validates the CPC, the capacity limits and
//!   every adapter mapping, and reads the CPC's storage model.
//! - [`DpmDriver::spawn`] creates the partition and its initiators (one vHBA
//!   per adapter mapping, or a storage group with one WWPN per mapping and a
//!   volume request per Cinder volume), gives Cinder the WWPNs, makes the
//!   partition boot from the boot volume (a target WWPN and LUN, or the
//!   storage volume DPM discovered), and starts it; on failure it undoes
//!   everything.
//! - [`DpmDriver::attach_volume`], [`DpmDriver::detach_volume`],
//!   [`DpmDriver::destroy`], power, info and resources follow
//!   `spec/DRIVER.md`.
//!
//! ```no_run
//! use cinder_client::{InstanceId, VolumeId};
//! use dpm_driver::{BlockDevice, DpmDriver, DriverConfig, Instance};
//!
//! # async fn demo(hmc: impl hmc_client::HmcApi, cinder: impl cinder_client::CinderApi)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let config = DriverConfig::from_toml(&std::fs::read_to_string("dpm.toml")?)?;
//! let driver = DpmDriver::new(hmc, cinder, config);
//! driver.init_host().await?;
//! let vm = Instance { uuid: "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse()?, vcpus: 2, memory_mb: 4096 };
//! let boot: VolumeId = "2bb89d80-a0be-4a57-a939-7395967d790c".parse()?;
//! let spawned = driver.spawn(&vm, &[BlockDevice { volume_id: boot, boot_index: Some(0) }]).await?;
//! if let Some((target, lun)) = spawned.boot.target_lun() {
//!     println!("{} boots from {target} LUN {lun}", spawned.partition);
//! }
//! let data: VolumeId = "2bb89d80-a0be-4a57-a939-7395967d790d".parse()?;
//! driver.attach_volume(&vm.uuid, &data).await?;
//! driver.detach_volume(&vm.uuid, &data).await?;
//! driver.destroy(&vm.uuid).await?;
//! # Ok(()) }
//! ```

mod config;
mod driver;
mod error;
mod groups;
mod link;
mod names;
mod ops;
mod spawn;
mod storage;

pub use config::{toml_error, AdapterMapping, ConfigError, DriverConfig, MAX_HOST_LEN};
pub use driver::{BlockDevice, DpmDriver, Instance};
pub use error::{
    AttachError, AttachStep, CleanupError, DriverError, FailedBoot, GroupStep, InitError,
    SpawnError, SpawnStep, VolumeStep,
};
pub use names::{
    parse_description, InstanceDetails, InstanceName, InstanceSummary, InstanceVolume, NameError,
    MAX_NAME_LEN,
};
pub use ops::{hypervisor_version, InstanceInfo, PowerState, Resources};
pub use spawn::Spawned;
pub use storage::{Boot, GroupInfo, GroupPath, GroupVolume, StorageInfo, StorageModel};
