//! The DPM compute driver: boot IBM Z partitions from FCP LUNs that Cinder
//! serves, and attach and detach data volumes, through the HMC.
//!
//! [`DpmDriver`] is generic over [`hmc_client::HmcApi`] and
//! [`cinder_client::CinderApi`], so it runs unchanged against a real HMC
//! and Cinder, or against the `dpm-sim` simulator. It never names an HTTP
//! library or the simulator.
//!
//! - [`DpmDriver::init_host`] validates the CPC, the capacity limits and
//!   every adapter mapping.
//! - [`DpmDriver::spawn`] creates the partition and one vHBA per adapter
//!   mapping, gives Cinder the vHBA WWPNs, sets the boot properties from
//!   the target WWPN and LUN Cinder returns, and starts the partition; on
//!   failure it undoes everything.
//! - [`DpmDriver::attach_volume`], [`DpmDriver::detach_volume`],
//!   [`DpmDriver::destroy`], power, info and resources follow
//!   `spec/DRIVER.md`.
//!
//! See [`DpmDriver`] for an example.

mod config;
mod driver;
mod error;
mod ops;
mod spawn;

pub use config::{AdapterMapping, ConfigError, DriverConfig};
pub use driver::{BlockDevice, DpmDriver, Instance};
pub use error::{
    AttachError, AttachStep, CleanupError, DriverError, InitError, SpawnError, SpawnStep,
};
pub use ops::{hypervisor_version, InstanceInfo, PowerState, Resources};
pub use spawn::Spawned;
