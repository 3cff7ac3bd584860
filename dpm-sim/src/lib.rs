//! `dpm-sim`: an in-memory IBM Z DPM world that runs the whole
//! boot-from-FCP-LUN flow offline.
//!
//! One shared [`Sim`] holds a CPC in DPM mode with FCP adapters cabled to SAN
//! fabrics, a storage system that does LUN masking (host objects keyed by
//! WWPN, lowest-free SCSI ids, initiator-target zoning), and Cinder's volumes
//! and attachments on top. It implements both API traits: [`SimHmc`] is an
//! [`hmc_client::HmcApi`] and [`SimCinder`] a [`cinder_client::CinderApi`].
//! Every answer comes from the world's state, and it refuses what the real
//! systems refuse, with their status and reason codes.
//!
//! The default world ([`WorldSpec::z16`]) has the `dpm-storage-management`
//! feature: FCP storage comes in storage groups, whose WWPNs Cinder masks
//! and zones, whose volume requests discovery fulfills, and which are
//! attached to partitions as virtual storage resources; partitions boot
//! from a storage volume. [`WorldSpec::z13`] is the HBA model.
//!
//! Tests reach past the APIs through the control interface on [`Sim`]: the
//! clock ([`Sim::advance`], [`Sim::run_until_idle`]), request counters
//! ([`Sim::counters`]), injected faults ([`Sim::fail_next`]), and views of
//! the world ([`Sim::guest_paths`], [`Sim::zones`], [`Sim::hosts`],
//! [`Sim::storage_groups`], [`Sim::snapshot`]).
//!
//! ```
//! use dpm_sim::{Sim, WorldSpec};
//! use hmc_client::{HmcApi, PartitionCreate, PartitionStatus};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let sim = Sim::stepped(WorldSpec::default())?;
//! let hmc = sim.hmc();
//! hmc.logon().await?;
//! let p = hmc.create_partition(&sim.cpc_uri(), &PartitionCreate {
//!     name: "web1".into(), description: None, partition_type: None,
//!     ifl_processors: Some(2), cp_processors: None,
//!     initial_memory: 4096, maximum_memory: 4096, processor_mode: None,
//! }).await?;
//! hmc.start_partition(&p).await?;
//! assert_eq!(hmc.get_partition(&p).await?.status, PartitionStatus::Starting);
//! sim.run_until_idle();
//! assert_eq!(hmc.get_partition(&p).await?.status, PartitionStatus::Active);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
// Without `serve`, the parts of the world only the HTTP routes reach
// (the full property sets, the HMC's feature list) are unused.
#![cfg_attr(not(feature = "serve"), allow(dead_code, unused_imports))]

mod cinder;
mod client;
mod clock;
mod dsm;
mod harness;
mod hmc;
mod ids;
mod notify;
mod ops;
mod pipeline;
mod refusal;
#[cfg(feature = "serve")]
mod serve;
mod sim;
mod spec;
mod storage;
mod world;

pub use client::{SimCinder, SimHmc};
pub use clock::ClockMode;
pub use dsm::{GroupWwpnView, StorageGroupView, StorageVolumeView, VsrView};
pub use harness::Fault;
pub use hmc::StatusError;
pub use notify::Notice;
pub use ops::{Counters, Op, Side};
#[cfg(feature = "serve")]
pub use serve::{
    dpm_toml, AdapterInfo, CinderEndpoint, ControlEndpoint, CpcInfo, Endpoints, HmcEndpoint,
    ImageInfo, KeystoneEndpoint, ServeConfig, ServeError, Server,
};
pub use sim::{
    AttachmentView, FcpAdapterInfo, GuestPath, HbaView, PartitionView, Sim, VolumeView,
    WorldSnapshot,
};
pub use spec::{
    AdapterSpec, CinderSpec, CpcSpec, FabricPort, FabricSpec, HmcSpec, ImageSpec, KeystoneSpec,
    ProjectSpec, SpecError, StorageSpec, Timings, WorldSpec,
};
pub use storage::{Host, StorageEvent, Zone};
