//! The IBM Z Hardware Management Console Web Services API, DPM subset.
//!
//! This crate is the contract between the compute driver and an HMC: the
//! [`HmcApi`] trait (one method per HMC request), its wire types (serde
//! structs with the HMC's own kebab-case property names), typed resource
//! URIs, and [`HmcError`]. It does no I/O of its own apart from
//! [`wait_for_job`], which polls through the trait. The HTTPS client and the
//! `dpm-sim` simulator both implement [`HmcApi`].
//!
//! Both of DPM's storage models are covered: HBAs (partitions' virtual HBAs,
//! boot from `storage-adapter`; CPCs without the `dpm-storage-management`
//! feature, such as a z13) and storage groups (groups with their storage
//! volumes and virtual storage resources, candidate ports, FCP discovery,
//! attach and detach, boot from `storage-volume`; z14 and later), see
//! [`StorageGroup`] and the storage-group methods of [`HmcApi`].
//!
//! ```
//! use hmc_client::{Partition, PartitionStatus};
//!
//! // A partition as the HMC returns it (trimmed).
//! let json = r#"{
//!   "object-id": "p1", "object-uri": "/api/partitions/p1",
//!   "parent": "/api/cpcs/c1", "class": "partition", "name": "web1",
//!   "status": "stopped", "initial-memory": 4096, "maximum-memory": 4096,
//!   "boot-device": "storage-adapter",
//!   "boot-storage-device": "/api/partitions/p1/hbas/h1",
//!   "boot-world-wide-port-name": "500507680B2155AB",
//!   "boot-logical-unit-number": "0001000000000000"
//! }"#;
//! let p: Partition = serde_json::from_str(json)?;
//! assert_eq!(p.status, PartitionStatus::Stopped);
//! assert_eq!(p.boot_world_wide_port_name.unwrap().to_string(), "500507680b2155ab");
//! assert_eq!(p.boot_logical_unit_number.unwrap().to_target_lun(), 1);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Testing code written against `HmcApi`
//!
//! With the `mock` feature (for a consumer's tests: put it on the
//! `hmc-client` of `[dev-dependencies]`), `MockHmcApi` is a
//! [mockall](https://docs.rs/mockall) mock of [`HmcApi`]: each method has an
//! `expect_<method>` that says what it is called with, how often, in which
//! order, and what it answers. The simulator (`dpm-sim`) is the better
//! fake for whole flows; a mock suits a narrow check of what is sent.
//!
#![cfg_attr(feature = "mock", doc = "```")]
#![cfg_attr(not(feature = "mock"), doc = "```ignore")]
//! use hmc_client::{HmcApi, HmcError, MockHmcApi, PartitionFilter, PartitionStatus,
//!     PartitionSummary, PartitionUri, CpcUri};
//!
//! // The consumer's code, generic over the trait.
//! async fn active_names(hmc: &impl HmcApi, cpc: &CpcUri) -> Result<Vec<String>, HmcError> {
//!     let all = hmc.list_partitions(cpc, &PartitionFilter::default()).await?;
//!     Ok(all.into_iter().filter(|p| p.status == PartitionStatus::Active).map(|p| p.name).collect())
//! }
//!
//! // Its test.
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cpc = CpcUri::from_object_id("c1")?;
//! let listed = vec![
//!     PartitionSummary::new(PartitionUri::from_object_id("p1")?, "web".into(),
//!         PartitionStatus::Active, None),
//!     PartitionSummary::new(PartitionUri::from_object_id("p2")?, "db".into(),
//!         PartitionStatus::Stopped, None),
//! ];
//! let mut hmc = MockHmcApi::new();
//! hmc.expect_list_partitions()
//!     .withf(move |c, filter| *c == cpc && filter.name.is_none())
//!     .times(1)
//!     .returning(move |_, _| Ok(listed.clone()));
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! # rt.block_on(async {
//! let cpc = CpcUri::from_object_id("c1")?;
//! assert_eq!(active_names(&hmc, &cpc).await?, ["web"]);
//! # Ok(()) })
//! # }
//! ```

mod api;
mod bulk;
mod console;
mod error;
#[cfg(feature = "http")]
mod http;
mod ids;
mod job;
#[cfg(feature = "http")]
mod notifications;
pub mod route;
pub mod stomp;
mod storage_group;
mod strenum;
#[cfg(feature = "http")]
mod tls;
mod wire;

#[cfg(feature = "mock")]
pub use api::MockHmcApi;
pub use api::{
    AdapterFilter, HmcApi, JobAnnouncement, PartitionFilter, StorageGroupFilter,
    StorageVolumeFilter, VsrFilter, LIST_ADDITIONAL_PROPERTIES_SINCE, NOTIFICATION_PORT,
};
pub use bulk::get_many;
pub use console::{
    Console, MachineInfo, OsCommand, OsMessage, OsMessageChannel, OsMessageChannelOpen,
    OsMessageEvent, OsMessageFilter, OsMessageNotification, OsMessageSubscription, OsMessages,
    CONSOLE_URI,
};
/// The one secret type, shared with `cinder-client` (`cinder_client::Secret`
/// is the same type).
pub use dpm_secret::Secret;
pub use error::{HmcError, Sent};
#[cfg(feature = "http")]
pub use http::{HttpConfig, HttpHmc, HttpSetupError, TlsVerify};
pub use ids::{
    AdapterUri, CpcUri, HbaUri, JobUri, PartitionUri, StorageGroupUri, StoragePortUri,
    StorageVolumeUri, UriError, VsrUri,
};
pub use job::{wait_for_job, Naps, PollPolicy};
pub use route::{HmcOp, Method, Resolution};
pub use storage_group::*;
pub use wire::*;

/// Credentials for HMC logon. The password is a [`Secret`].
#[derive(Debug, Clone)]
pub struct Credentials {
    /// HMC user id.
    pub userid: String,
    /// HMC password.
    pub password: Secret,
}
