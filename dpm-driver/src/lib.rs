//! The DPM virt driver: Nova's `ComputeDriver` calls for IBM Z partitions
//! in DPM mode that boot from FCP LUNs Cinder serves, through the HMC
//! alone.
//!
//! [`DpmDriver`] is generic over [`hmc_client::HmcApi`], so it runs
//! unchanged against a real HMC or against the `dpm-sim` simulator. It
//! never talks to Cinder: it reads the `connection_info` Cinder returned
//! to its caller and builds the connector Cinder needs, nothing more. The
//! Cinder work around it (what Nova's compute manager does) is the
//! `dpm-compute` crate's, for everyone who runs without Nova.
//!
//! Both of DPM's storage models are first-class ([`StorageModel`]): on a
//! z13 the partition gets vHBAs; on z14 and later (`dpm-storage-management`)
//! it gets a storage group of its own. `init_host` picks the model's steps
//! once; every operation is written once against them.
//!
//! In Nova's order:
//! - [`DpmDriver::init_host`] validates the CPC, the capacity limits and
//!   every adapter mapping, and reads the CPC's storage model;
//! - [`DpmDriver::prepare_for_spawn`] and [`DpmDriver::get_volume_connector`]
//!   make (or find, by name) the partition and its initiators and return
//!   the connector;
//! - [`DpmDriver::spawn`] boots from the boot volume's connection info and
//!   starts the partition; [`DpmDriver::failed_spawn_cleanup`] and
//!   [`DpmDriver::destroy`] remove everything of the instance;
//! - [`DpmDriver::attach_volume`] and [`DpmDriver::detach_volume`] on a
//!   running instance; power, info and resources follow `spec/DRIVER.md`.
//!
//! ```no_run
//! use dpm_driver::{DpmDriver, DriverConfig, DriverVolume, Instance};
//!
//! # async fn demo(hmc: impl hmc_client::HmcApi + 'static, info: cinder_client::ConnectionInfo)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let config = DriverConfig::from_toml(&std::fs::read_to_string("dpm.toml")?)?;
//! let driver = DpmDriver::new(hmc, config);
//! driver.init_host().await?;
//! let vm = Instance::new("8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse()?, 2, 4096);
//! let connector = driver.get_volume_connector(&vm).await?;
//! // ... Cinder: attachment update with `connector` gives `info` ...
//! let boot = DriverVolume {
//!     volume_id: "2bb89d80-a0be-4a57-a939-7395967d790c".parse()?,
//!     connection_info: info,
//!     size_gib: 10,
//!     boot_index: Some(0),
//! };
//! let spawned = driver.spawn(&vm, &[boot], None).await?;
//! println!("{} boots from {:?}", spawned.partition, spawned.boot);
//! driver.destroy(&vm.uuid).await?;
//! # Ok(()) }
//! ```

mod config;
mod driver;
mod error;
mod follow;
mod host;
mod info;
mod init;
mod lifecycle;
mod name;
mod names;
mod prepare;
mod spawn;
mod storage;
mod values;
mod volumes;

pub use config::{
    toml_error, AdapterMapping, ConfigError, DpmOptions, DriverConfig,
    DEFAULT_GUEST_SHUTDOWN_COMMAND, MAX_HOST_LEN,
};
pub use driver::DpmDriver;
pub use error::{
    AttachError, AttachStep, CleanupError, ConnectorError, ConnectorStep, DestroyError,
    DetachError, DetachStep, FailedBoot, FlavorTooLarge, GroupStep, InitError, LookupError,
    PowerError, SpawnError, SpawnStep,
};
pub use follow::{ConsoleFollow, FollowError};
pub use host::Host;
pub use lifecycle::{GuestShutdown, PowerOff, RebootKind};
pub use name::{parse_description, InstanceName, NameError, MAX_NAME_LEN};
pub use spawn::Spawned;
pub use values::{
    hypervisor_version, Boot, DriverVolume, GroupInfo, GroupPath, GroupVolume, Initiators,
    Instance, InstanceDetails, InstanceInfo, InstanceSummary, InstanceVolume, Located,
    PlannedVolume, PowerState, Resources, StorageInfo, StorageModel,
};
