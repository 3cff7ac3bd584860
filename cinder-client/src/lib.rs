//! OpenStack Cinder v3, the subset a DPM compute driver needs.
//!
//! This crate is the contract between the compute driver and Cinder: the
//! [`CinderApi`] trait (the attachments API of microversion 3.44 and the
//! legacy volume actions), typed ids, [`Volume`] and [`Attachment`] with their
//! real status values, the [`Connector`] the compute side sends, and
//! [`ConnectionInfo`] with its typed Fibre Channel reading. The HTTP client and
//! the `dpm-sim` simulator both implement [`CinderApi`].
//!
//! ```
//! use cinder_client::ConnectionInfo;
//!
//! // The flat shape of the attachments API...
//! let flat: ConnectionInfo = serde_json::from_str(r#"{
//!     "driver_volume_type": "fibre_channel", "attachment_id": "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63",
//!     "enforce_multipath": false, "target_discovered": false, "target_lun": 1,
//!     "target_wwn": ["500507680B2155AB"],
//!     "initiator_target_map": {"c05076ffe5000a10": ["500507680b2155ab"]}
//! }"#)?;
//! // ...and the nested shape of os-initialize_connection are one value.
//! let nested: ConnectionInfo = serde_json::from_str(r#"{
//!     "driver_volume_type": "fibre_channel",
//!     "data": {"target_discovered": false, "target_lun": 1,
//!              "target_wwn": ["500507680B2155AB"],
//!              "initiator_target_map": {"c05076ffe5000a10": ["500507680b2155ab"]}}
//! }"#)?;
//! assert_eq!(flat, nested);
//! let fc = flat.fibre_channel().expect("valid FC info");
//! assert_eq!(fc.targets[0].lun.to_string(), "0001000000000000");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Testing code written against `CinderApi`
//!
//! With the `mock` feature (for a consumer's tests: put it on the
//! `cinder-client` of `[dev-dependencies]`), `MockCinderApi` is a
//! [mockall](https://docs.rs/mockall) mock of [`CinderApi`]: each method has
//! an `expect_<method>` that says what it is called with, how often, in
//! which order, and what it answers. The simulator (`dpm-sim`) is the better
//! fake for whole flows; a mock suits a narrow check of what is sent.
//!
#![cfg_attr(feature = "mock", doc = "```")]
#![cfg_attr(not(feature = "mock"), doc = "```ignore")]
//! use cinder_client::{AttachmentFilter, CinderApi, CinderError, MockCinderApi, VolumeId};
//!
//! // The consumer's code, generic over the trait: drop every attachment
//! // of a volume.
//! async fn release(cinder: &impl CinderApi, volume: &VolumeId) -> Result<usize, CinderError> {
//!     let filter = AttachmentFilter { volume_id: Some(volume.clone()), ..Default::default() };
//!     let attachments = cinder.list_attachments(&filter).await?;
//!     for a in &attachments {
//!         cinder.delete_attachment(&a.id).await?;
//!     }
//!     Ok(attachments.len())
//! }
//!
//! // Its test: a volume with no attachment is left alone.
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let volume = VolumeId::from_u128(7);
//! let wanted = volume.clone();
//! let mut cinder = MockCinderApi::new();
//! cinder.expect_list_attachments()
//!     .withf(move |f| f.volume_id.as_ref() == Some(&wanted))
//!     .times(1)
//!     .returning(|_| Ok(Vec::new()));
//! cinder.expect_delete_attachment().never();
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! # rt.block_on(async {
//! assert_eq!(release(&cinder, &volume).await?, 0);
//! # Ok(()) })
//! # }
//! ```

mod api;
mod connection;
mod error;
#[cfg(feature = "http")]
mod http;
mod ids;
mod types;

#[cfg(feature = "mock")]
pub use api::MockCinderApi;
pub use api::{AttachmentFilter, CinderApi};
pub use connection::{ConnectionInfo, FcConnection, FcData, FcInfoError, FcTarget, FIBRE_CHANNEL};
/// The one secret type, shared with `hmc-client` (`hmc_client::Secret` is
/// the same type).
pub use dpm_secret::Secret;
pub use error::{CinderError, FaultKind};
#[cfg(feature = "http")]
pub use http::{CinderAuth, CinderHttpConfig, CinderSetupError, HttpCinder, MICROVERSION};
pub use ids::{AttachmentId, IdError, ImageId, InstanceId, VolumeId};
pub use types::{
    AttachStatus, Attachment, Connector, Volume, VolumeAttachment, VolumeCreate, VolumeStatus,
};
