//! Public views of the storage groups, for tests (`Sim::storage_groups`,
//! `WorldSnapshot`).

use cinder_client::VolumeId;
use fc_types::{DeviceNumber, Wwpn};
use hmc_client::{
    FulfillmentState, PartitionUri, StorageGroupUri, StoragePortUri, StorageVolumeUri, VolumeUsage,
    VsrUri, WwpnStatus,
};

use super::group::wwpn_status;
use super::DsmState;

/// A storage group, as the world sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StorageGroupView {
    /// URI.
    pub uri: StorageGroupUri,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Whether more than one partition may attach it.
    pub shared: bool,
    /// Paths per partition.
    pub connectivity: u32,
    /// Most partitions.
    pub max_partitions: u32,
    /// Who is told about fulfillment.
    pub email_to_addresses: Option<Vec<String>>,
    /// Derived fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Every WWPN of the group (slot by slot, path by path).
    pub wwpns: Vec<GroupWwpnView>,
    /// Candidate adapter ports, in the order they were added.
    pub candidate_ports: Vec<StoragePortUri>,
    /// Volumes, in creation order.
    pub volumes: Vec<StorageVolumeView>,
    /// Virtual storage resources.
    pub vsrs: Vec<VsrView>,
    /// Attached partitions, in attach order.
    pub partitions: Vec<PartitionUri>,
}

/// A WWPN of a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupWwpnView {
    /// The WWPN.
    pub wwpn: Wwpn,
    /// Whether discovery saw storage through it.
    pub status: WwpnStatus,
    /// The candidate port it is bound to.
    pub port: Option<StoragePortUri>,
}

/// A storage volume of a group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StorageVolumeView {
    /// URI.
    pub uri: StorageVolumeUri,
    /// Name.
    pub name: String,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Requested size, GiB.
    pub size: f64,
    /// Size of the LUN that fulfills it, GiB.
    pub active_size: Option<f64>,
    /// Usage.
    pub usage: VolumeUsage,
    /// The Cinder volume behind the LUN discovery matched to it.
    pub cinder_volume: Option<VolumeId>,
}

/// A virtual storage resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VsrView {
    /// URI.
    pub uri: VsrUri,
    /// The partition.
    pub partition: PartitionUri,
    /// Device number in the partition.
    pub device_number: DeviceNumber,
    /// Its WWPN.
    pub wwpn: Wwpn,
}

impl DsmState {
    /// Every group, in creation order.
    pub(crate) fn views(&self) -> Vec<StorageGroupView> {
        self.groups
            .iter()
            .map(|g| StorageGroupView {
                uri: g.uri(),
                name: g.name.clone(),
                description: g.description.clone(),
                shared: g.shared,
                connectivity: g.connectivity,
                max_partitions: g.max_partitions,
                email_to_addresses: g.email_to_addresses.clone(),
                fulfillment_state: g.fulfillment(),
                wwpns: g
                    .wwpns
                    .iter()
                    .map(|w| GroupWwpnView {
                        wwpn: w.wwpn,
                        status: wwpn_status(w),
                        port: w.port.clone(),
                    })
                    .collect(),
                candidate_ports: g.candidates.clone(),
                volumes: g
                    .volumes
                    .iter()
                    .map(|v| StorageVolumeView {
                        uri: g.volume_uri(v),
                        name: v.name.clone(),
                        fulfillment_state: v.state.clone(),
                        size: v.size,
                        active_size: v.active_size,
                        usage: v.usage.clone(),
                        cinder_volume: v.lun.as_ref().map(|l| l.cinder.clone()),
                    })
                    .collect(),
                vsrs: g
                    .vsrs
                    .iter()
                    .filter_map(|v| {
                        Some(VsrView {
                            uri: g.vsr_uri(v),
                            partition: v.partition.clone(),
                            device_number: v.device_number,
                            wwpn: g.vsr_wwpn(v)?.wwpn,
                        })
                    })
                    .collect(),
                partitions: g.attached.iter().map(|(p, _)| p.clone()).collect(),
            })
            .collect()
    }
}
