//! DPM storage management (`dpm-storage-management`, z14 and later):
//! storage groups, their storage volumes (requests for LUNs) and virtual
//! storage resources (VSRs, the paths of an attached group into a
//! partition), with discovery, fulfillment and the storage-volume boot check.
//!
//! This domain knows nothing of the world it lives in. What it needs from
//! the other domains (the CPC, adapter ports, partitions, the SAN and
//! Cinder) comes through the small read-only views below ([`Env`]), and the
//! ids it hands out come from the world's allocator through [`Alloc`], so
//! object ids keep the world's shape and no WWPN is handed out twice.
//!
//! Every rule the public sources do not state is in [`rules`], named there
//! as inferred.
//!
//! State machines:
//! - group `fulfillment-state` is derived from its volumes (see
//!   [`rules::group_fulfillment`]); a new group, and one whose
//!   connectivity or max-partitions changed, is `pending` until the next
//!   discovery;
//! - volume: `pending` → (discovery) `complete` | `pending-with-mismatches`
//!   → (accept) `complete`; a bound volume whose LUN vanished →
//!   `incomplete`; a LUN nobody asked for → `overprovisioned` (removed when
//!   it vanishes);
//! - WWPN: `not-validated` → (discovery sees a LUN through it) `validated`.

mod candidates;
mod discovery;
mod group;
mod properties;
pub(crate) mod rules;
#[cfg(test)]
mod tests;
mod view;
mod volume;
mod vsr;

use cinder_client::VolumeId;
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{
    CpcUri, FulfillmentState, PartitionStatus, PartitionUri, StorageGroupType, StorageGroupUri,
    StoragePortUri, StorageVolumeUri, VolumeUsage, VsrUri,
};

pub(crate) use properties::{GroupCreateBody, GroupModifyBody, GroupSettings};
pub use view::{GroupWwpnView, StorageGroupView, StorageVolumeView, VsrView};

// ----- what the domain reads from the rest of the world ------------------

/// The CPC of the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpcFacts {
    pub uri: CpcUri,
    pub name: String,
    pub storage_management: bool,
}

/// An adapter port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortFacts {
    /// Whether the port belongs to an FCP adapter.
    pub fcp: bool,
    /// Whether the port belongs to a FICON adapter.
    pub ficon: bool,
    /// The fabric the port is cabled to.
    pub fabric: Option<usize>,
}

/// A partition, as far as storage management cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionFacts {
    pub uri: PartitionUri,
    pub name: String,
    pub status: PartitionStatus,
    pub partition_type: String,
    /// The volume it boots from (`boot-storage-volume` while `boot-device`
    /// is `storage-volume`).
    pub boot_storage_volume: Option<StorageVolumeUri>,
    /// Device numbers its other devices (vHBAs, NICs) use.
    pub device_numbers: Vec<DeviceNumber>,
}

/// A Cinder volume behind a LUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CinderVolumeFacts {
    /// Size, GiB.
    pub size_gib: u64,
    /// Whether it holds a bootable image.
    pub bootable: bool,
}

/// The CPC.
pub(crate) trait CpcView {
    fn cpc(&self) -> CpcFacts;
}

/// The CPC's adapter ports.
pub(crate) trait PortView {
    /// `None` when no adapter has this port.
    fn port(&self, port: &StoragePortUri) -> Option<PortFacts>;
}

/// The CPC's partitions.
pub(crate) trait PartitionsView {
    fn partition(&self, uri: &PartitionUri) -> Option<PartitionFacts>;
    fn partitions(&self) -> Vec<PartitionFacts>;
}

/// The SAN and the storage system.
pub(crate) trait SanView {
    /// The target ports `initiator` is zoned with on `fabric`.
    fn zoned_targets(&self, initiator: Wwpn, fabric: usize) -> Vec<Wwpn>;
    /// The LUNs masked to the storage host object that holds `initiator`,
    /// with the volume behind each, in LUN order.
    fn masked_luns(&self, initiator: Wwpn) -> Vec<(FcpLun, VolumeId)>;
}

/// Cinder's volumes.
pub(crate) trait CinderView {
    fn cinder_volume(&self, id: &VolumeId) -> Option<CinderVolumeFacts>;
}

/// Everything the domain reads.
pub(crate) trait Env: CpcView + PortView + PartitionsView + SanView + CinderView {}
impl<T: CpcView + PortView + PartitionsView + SanView + CinderView + ?Sized> Env for T {}

/// What an id is for (the world picks the id's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    Group,
    Volume,
    Vsr,
    Job,
}

/// The world's id allocator.
pub(crate) trait Alloc {
    /// A fresh object or element id.
    fn object_id(&mut self, kind: IdKind) -> String;
    /// A world-unique NPIV WWPN (the same allocator as vHBAs use).
    fn npiv_wwpn(&mut self) -> Wwpn;
}

// ----- the state -----------------------------------------------------------

/// One WWPN of a group: slot `s`, path `k` is at index `s × connectivity + k`.
#[derive(Debug, Clone)]
pub(crate) struct WwpnState {
    pub wwpn: Wwpn,
    pub validated: bool,
    /// The candidate port it is bound to (see [`rules::rebind`]).
    pub port: Option<StoragePortUri>,
}

/// One sighting of a LUN at discovery: (initiator, target, LUN).
pub(crate) type Sighting = (Wwpn, Wwpn, FcpLun);

/// The LUN discovery matched a volume to.
#[derive(Debug, Clone)]
pub(crate) struct LunBinding {
    pub cinder: VolumeId,
    pub size_gib: u64,
    /// (initiator, target, LUN) triples that saw it at the last discovery.
    pub seen: Vec<Sighting>,
}

#[derive(Debug, Clone)]
pub(crate) struct VolumeState {
    pub element_id: String,
    pub name: String,
    pub description: String,
    pub size: f64,
    pub usage: VolumeUsage,
    pub state: FulfillmentState,
    pub active_size: Option<f64>,
    pub lun: Option<LunBinding>,
}

#[derive(Debug, Clone)]
pub(crate) struct VsrState {
    pub element_id: String,
    pub name: String,
    pub description: String,
    pub partition: PartitionUri,
    pub device_number: DeviceNumber,
    /// Index into the group's WWPNs.
    pub wwpn_index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupState {
    pub object_id: String,
    pub cpc: CpcUri,
    pub name: String,
    pub description: String,
    pub group_type: StorageGroupType,
    pub shared: bool,
    pub connectivity: u32,
    pub max_partitions: u32,
    pub direct_connection_count: u32,
    pub email_to_addresses: Option<Vec<String>>,
    pub wwpns: Vec<WwpnState>,
    /// In the order they were added.
    pub candidates: Vec<StoragePortUri>,
    pub volumes: Vec<VolumeState>,
    pub vsrs: Vec<VsrState>,
    /// Attached partitions and the WWPN slot each uses, in attach order.
    pub attached: Vec<(PartitionUri, usize)>,
    /// The discovery job running on the group.
    pub discovery_job: Option<String>,
    /// `pending` until the next discovery (a new group, or a changed
    /// connectivity or max-partitions).
    pub forced_pending: bool,
}

impl GroupState {
    pub fn uri(&self) -> StorageGroupUri {
        StorageGroupUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }
    pub fn volume_uri(&self, v: &VolumeState) -> StorageVolumeUri {
        StorageVolumeUri::new(&self.uri(), &v.element_id).unwrap_or_else(|_| unreachable_uri())
    }
    pub fn vsr_uri(&self, v: &VsrState) -> VsrUri {
        VsrUri::new(&self.uri(), &v.element_id).unwrap_or_else(|_| unreachable_uri())
    }
    pub fn fulfillment(&self) -> FulfillmentState {
        rules::group_fulfillment(
            self.forced_pending,
            self.volumes.iter().map(|v| v.state.clone()),
        )
    }
    pub fn is_attached_to(&self, p: &PartitionUri) -> bool {
        self.attached.iter().any(|(a, _)| a == p)
    }
    pub fn vsr_wwpn(&self, v: &VsrState) -> Option<&WwpnState> {
        self.wwpns.get(v.wwpn_index)
    }
}

/// The storage-management state of the HMC.
#[derive(Debug, Clone, Default)]
pub(crate) struct DsmState {
    pub groups: Vec<GroupState>,
}

impl DsmState {
    pub(crate) fn group(&self, id: &str) -> Option<&GroupState> {
        self.groups.iter().find(|g| g.object_id == id)
    }

    /// The groups attached to a partition (its `storage-group-uris`).
    pub(crate) fn groups_of(&self, partition: &PartitionUri) -> Vec<StorageGroupUri> {
        self.groups
            .iter()
            .filter(|g| g.is_attached_to(partition))
            .map(GroupState::uri)
            .collect()
    }

    /// A partition's VSRs as (device number, WWPN), for the guest view.
    pub(crate) fn vsr_pairs(&self, partition: &PartitionUri) -> Vec<(DeviceNumber, Wwpn)> {
        self.groups
            .iter()
            .flat_map(|g| {
                g.vsrs
                    .iter()
                    .filter(|v| v.partition == *partition)
                    .filter_map(|v| Some((v.device_number, g.vsr_wwpn(v)?.wwpn)))
            })
            .collect()
    }

    /// The device numbers a partition's VSRs use.
    pub(crate) fn vsr_device_numbers(&self, partition: &PartitionUri) -> Vec<DeviceNumber> {
        self.vsr_pairs(partition)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    /// The adapter port a group WWPN is bound to.
    pub(crate) fn bound_port(&self, wwpn: Wwpn) -> Option<&StoragePortUri> {
        self.groups
            .iter()
            .flat_map(|g| &g.wwpns)
            .find(|w| w.wwpn == wwpn)
            .and_then(|w| w.port.as_ref())
    }

    /// Every WWPN of every group.
    pub(crate) fn all_wwpns(&self) -> impl Iterator<Item = Wwpn> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.wwpns.iter().map(|w| w.wwpn))
    }

    /// A partition was deleted: its groups are detached (VSRs removed, the
    /// groups stay).
    pub(crate) fn partition_deleted(&mut self, partition: &PartitionUri) {
        for g in &mut self.groups {
            g.attached.retain(|(p, _)| p != partition);
            g.vsrs.retain(|v| v.partition != *partition);
        }
    }
}

// ----- helpers ---------------------------------------------------------------

pub(crate) use crate::refusal::regex as anchored;

/// Ids the domain builds from the allocator's ids are valid URI segments;
/// this is never reached, and exists so that no `unwrap` is needed.
#[cold]
fn unreachable_uri<T>() -> T {
    panic!("dpm-sim built an invalid storage-group URI from its own id")
}
