//! The seam between DPM's two storage models.
//!
//! - **HBAs** (z13, and later machines without `dpm-storage-management`):
//!   one vHBA per adapter mapping on the partition; the partition boots with
//!   `boot-device: storage-adapter` from a target WWPN and LUN the driver
//!   picks from Cinder's connection info.
//! - **Storage groups** (z14 and later, feature on): one storage group per
//!   instance, named after it, with one volume request per Cinder volume;
//!   the group's WWPNs are the initiators; DPM discovers the LUNs Cinder
//!   masked, the group is attached (one VSR per adapter), and the partition
//!   boots with `boot-device: storage-volume` from the boot volume's request.
//!
//! Spawn, attach, detach and destroy are written once against
//! [`Initiators`] and [`Boot`]; only the steps in `hbas` (in `spawn.rs`)
//! and `groups.rs` know which model they are in.

use dpm_volume::{BootPath, FcPath, Vhba};
use fc_types::Wwpn;
use hmc_client::{FulfillmentState, StorageGroupUri, StorageVolumeUri, VolumeUsage};

/// The storage model of the managed CPC, read at `init_host` from its
/// `available-features-list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageModel {
    /// vHBAs on the partition (no `dpm-storage-management` feature).
    Hbas,
    /// Storage groups attached to the partition (the feature is on).
    StorageGroups,
}

impl std::fmt::Display for StorageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hbas => "HBAs",
            Self::StorageGroups => "storage groups",
        })
    }
}

/// An instance's storage group, as the driver made and read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group.
    pub uri: StorageGroupUri,
    /// Its name (the partition's name).
    pub name: String,
    /// Its WWPNs: the initiators Cinder masks the LUNs to.
    pub wwpns: Vec<Wwpn>,
}

/// What reaches an instance's volumes: the partition's vHBAs, or its
/// storage group's WWPNs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Initiators {
    /// vHBAs, boot vHBA (first adapter mapping) first.
    Vhbas(Vec<Vhba>),
    /// The instance's storage group.
    Group(GroupInfo),
}

impl Initiators {
    /// The initiator WWPNs, for the connector.
    pub(crate) fn wwpns(&self) -> Vec<Wwpn> {
        match self {
            Self::Vhbas(v) => v.iter().map(|h| h.wwpn).collect(),
            Self::Group(g) => g.wwpns.clone(),
        }
    }

    pub(crate) fn vhbas(&self) -> &[Vhba] {
        match self {
            Self::Vhbas(v) => v,
            Self::Group(_) => &[],
        }
    }

    pub(crate) fn group(&self) -> Option<&GroupInfo> {
        match self {
            Self::Vhbas(_) => None,
            Self::Group(g) => Some(g),
        }
    }
}

/// What a partition boots from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// `boot-device: storage-adapter`: a vHBA, a target port and a LUN.
    San(BootPath),
    /// `boot-device: storage-volume`: a storage volume of the instance's
    /// group; the HMC picks one of its paths.
    Volume {
        /// The storage volume.
        volume: StorageVolumeUri,
        /// Its paths into the partition, as the HMC reports them.
        paths: Vec<FcPath>,
    },
}

impl Boot {
    /// The target port and LUN booted from: the SAN boot path, or the
    /// first path of the boot volume.
    pub fn target_lun(&self) -> Option<(Wwpn, fc_types::FcpLun)> {
        match self {
            Self::San(b) => Some((b.target, b.lun)),
            Self::Volume { paths, .. } => paths.first().map(|p| (p.target, p.lun)),
        }
    }
}

/// A storage volume of an instance's group, for `info`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupVolume {
    /// The storage volume.
    pub uri: StorageVolumeUri,
    /// Its name: the Cinder volume id it was requested for.
    pub name: String,
    /// Boot or data.
    pub usage: VolumeUsage,
    /// Size, GiB.
    pub size: f64,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Its paths into the partition.
    pub paths: Vec<FcPath>,
}

/// A VSR of an instance's group, for `info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPath {
    /// Device number in the partition.
    pub device_number: fc_types::DeviceNumber,
    /// The WWPN.
    pub wwpn: Wwpn,
    /// The adapter port, once assigned.
    pub adapter_port: Option<hmc_client::StoragePortUri>,
}

/// An instance's storage, as `info` reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageInfo {
    /// The partition's vHBAs.
    Vhbas(Vec<Vhba>),
    /// The instance's storage group.
    Group {
        /// The group.
        group: GroupInfo,
        /// Its fulfillment state.
        fulfillment_state: FulfillmentState,
        /// Its volumes.
        volumes: Vec<GroupVolume>,
        /// Its VSRs in the partition.
        vsrs: Vec<GroupPath>,
    },
}
