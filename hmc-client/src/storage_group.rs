//! Wire types of DPM storage management (CPCs with the
//! `dpm-storage-management` feature, z14 and later): storage groups, their
//! storage volumes (requests for LUNs) and virtual storage resources (the
//! paths of an attached group into a partition).
//!
//! ```
//! use hmc_client::{FulfillmentState, StorageVolume, VolumeUsage};
//!
//! let json = r#"{
//!   "element-id": "v1",
//!   "element-uri": "/api/storage-groups/g1/storage-volumes/v1",
//!   "parent": "/api/storage-groups/g1", "class": "storage-volume",
//!   "name": "boot", "size": 20.0, "usage": "boot",
//!   "fulfillment-state": "complete",
//!   "uuid": "600507681081001D4800000000000083",
//!   "paths": [{"partition-uri": "/api/partitions/p1", "device-number": "0100",
//!              "target-world-wide-port-name": "500507680b2155ab",
//!              "logical-unit-number": "0000000000000000"}]
//! }"#;
//! let v: StorageVolume = serde_json::from_str(json)?;
//! assert_eq!(v.fulfillment_state, FulfillmentState::Complete);
//! assert_eq!(v.usage, VolumeUsage::Boot);
//! assert_eq!(v.paths[0].logical_unit_number.to_target_lun(), 0);
//! # Ok::<(), serde_json::Error>(())
//! ```

use fc_types::{DeviceNumber, FcpLun, Wwpn};
use serde::{Deserialize, Serialize};

use crate::ids::{CpcUri, PartitionUri, StorageGroupUri, StoragePortUri, StorageVolumeUri, VsrUri};
use crate::strenum::string_enum;

string_enum!(
    /// Storage group `type`.
    StorageGroupType {
        /// FCP (SCSI) storage: the type this project uses.
        Fcp = "fcp",
        /// FICON (ECKD) storage.
        Fc = "fc",
        /// NVMe storage.
        Nvme = "nvme",
    }
);

string_enum!(
    /// `fulfillment-state` of a storage group or a storage volume.
    FulfillmentState {
        /// Requested; the storage administrator has not provided it yet.
        Pending = "pending",
        /// Discovered as requested.
        Complete = "complete",
        /// Discovered, but not as requested (a different size); needs
        /// `accept-mismatched-storage-volumes`.
        PendingWithMismatches = "pending-with-mismatches",
        /// Some of it is missing.
        Incomplete = "incomplete",
        /// A group being checked for migration.
        CheckingMigration = "checking-migration",
        /// A LUN that no request asked for.
        Overprovisioned = "overprovisioned",
        /// A volume whose configuration is in error.
        ConfigurationError = "configuration-error",
        /// A volume being deleted.
        Deleting = "deleting",
    }
);

string_enum!(
    /// Storage volume `usage`.
    VolumeUsage {
        /// A volume a partition boots from.
        Boot = "boot",
        /// A data volume.
        Data = "data",
    }
);

string_enum!(
    /// `status` of a WWPN of a storage group or VSR.
    WwpnStatus {
        /// Discovery found storage through it.
        Validated = "validated",
        /// Not (yet) seen to reach storage.
        NotValidated = "not-validated",
    }
);

/// An entry of `GET /api/storage-groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageGroupSummary {
    /// Group URI.
    pub object_uri: StorageGroupUri,
    /// The CPC the group belongs to.
    pub cpc_uri: CpcUri,
    /// Name, unique on the HMC.
    pub name: String,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Type.
    #[serde(rename = "type")]
    pub group_type: StorageGroupType,
}

/// A WWPN of a storage group that no VSR uses yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct GroupWwpn {
    /// The WWPN.
    pub world_wide_port_name: Wwpn,
    /// Whether discovery saw storage through it.
    pub status: WwpnStatus,
}

/// `GET /api/storage-groups/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageGroup {
    /// Object id.
    pub object_id: String,
    /// Object URI.
    pub object_uri: StorageGroupUri,
    /// `"/api/console"`: groups are console-level objects.
    pub parent: String,
    /// `"storage-group"`.
    pub class: String,
    /// The CPC.
    pub cpc_uri: CpcUri,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Type.
    #[serde(rename = "type")]
    pub group_type: StorageGroupType,
    /// Whether more than one partition may attach it.
    #[serde(default)]
    pub shared: bool,
    /// Paths (adapters) each attached partition gets.
    pub connectivity: u32,
    /// Most partitions that may attach it (configuration exports may leave
    /// it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_partitions: Option<u32>,
    /// Connectivity in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_connectivity: Option<u32>,
    /// Max partitions in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_max_partitions: Option<u32>,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Its storage volumes.
    #[serde(default)]
    pub storage_volume_uris: Vec<StorageVolumeUri>,
    /// Its virtual storage resources.
    #[serde(default)]
    pub virtual_storage_resource_uris: Vec<VsrUri>,
    /// The adapter ports DPM may use for it.
    #[serde(default)]
    pub candidate_adapter_port_uris: Vec<StoragePortUri>,
    /// The group's WWPNs that no VSR uses yet.
    #[serde(default)]
    pub unassigned_world_wide_port_names: Vec<GroupWwpn>,
    /// Who is told about fulfillment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to_addresses: Option<Vec<String>>,
}

/// One volume operation of a group create or modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum VolumeRequest {
    /// Request a new volume.
    Create(VolumeCreate),
    /// Change a volume request.
    Modify(VolumeModify),
    /// Remove a volume request. (serde cannot refuse unknown fields of a
    /// struct variant under an internal tag; the other bodies refuse them.)
    Delete {
        /// The volume.
        #[serde(rename = "element-uri")]
        element_uri: StorageVolumeUri,
    },
}

/// A new volume request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct VolumeCreate {
    /// Name (not unique).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Size, GiB.
    pub size: f64,
    /// Boot or data (data when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<VolumeUsage>,
}

impl VolumeCreate {
    /// A request for a volume of `size` GiB used as `usage`, with no name
    /// or description.
    pub fn new(size: f64, usage: VolumeUsage) -> Self {
        Self {
            name: None,
            description: None,
            size,
            usage: Some(usage),
        }
    }
}

/// A change to a volume request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct VolumeModify {
    /// The volume.
    pub element_uri: StorageVolumeUri,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New size, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
    /// New usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<VolumeUsage>,
}

/// `POST /api/storage-groups` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageGroupCreate {
    /// The CPC.
    pub cpc_uri: CpcUri,
    /// Name, unique on the HMC.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub group_type: StorageGroupType,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Shared (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
    /// Paths per partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectivity: Option<u32>,
    /// Most partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_partitions: Option<u32>,
    /// Volume requests (only `create` operations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage_volumes: Vec<VolumeRequest>,
    /// Who is told about fulfillment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to_addresses: Option<Vec<String>>,
}

impl StorageGroupCreate {
    /// A group of `group_type` named `name` on `cpc`, with no volume
    /// requests; the HMC's defaults for sharing, connectivity and max
    /// partitions.
    pub fn new(cpc_uri: CpcUri, name: impl Into<String>, group_type: StorageGroupType) -> Self {
        Self {
            cpc_uri,
            name: name.into(),
            group_type,
            description: None,
            shared: None,
            connectivity: None,
            max_partitions: None,
            storage_volumes: Vec::new(),
            email_to_addresses: None,
        }
    }
}

/// `POST /api/storage-groups` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageGroupCreated {
    /// The new group.
    pub object_uri: StorageGroupUri,
    /// The volumes created with it, in request order.
    #[serde(default)]
    pub element_uris: Vec<StorageVolumeUri>,
}

/// `POST /api/storage-groups/{id}/operations/modify` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageGroupModify {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New connectivity (the group goes back to `pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectivity: Option<u32>,
    /// New max partitions (the group goes back to `pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_partitions: Option<u32>,
    /// Shared or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
    /// Who is told about fulfillment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to_addresses: Option<Vec<String>>,
    /// Volume operations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage_volumes: Vec<VolumeRequest>,
}

/// `POST .../operations/modify` response: the volumes it created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageGroupModified {
    /// Created volumes, in request order.
    #[serde(default)]
    pub element_uris: Vec<StorageVolumeUri>,
}

/// One path of a storage volume into a partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VolumePath {
    /// The partition.
    pub partition_uri: PartitionUri,
    /// The VSR's device number.
    pub device_number: DeviceNumber,
    /// The storage target port.
    pub target_world_wide_port_name: Wwpn,
    /// The LUN, 16 hex digits.
    pub logical_unit_number: FcpLun,
}

/// An entry of `GET /api/storage-groups/{id}/storage-volumes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageVolumeSummary {
    /// Volume URI.
    pub element_uri: StorageVolumeUri,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// Size, GiB.
    pub size: f64,
    /// Usage.
    pub usage: VolumeUsage,
}

/// `GET /api/storage-groups/{sg}/storage-volumes/{sv}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageVolume {
    /// Element id.
    pub element_id: String,
    /// Element URI.
    pub element_uri: StorageVolumeUri,
    /// The group.
    pub parent: StorageGroupUri,
    /// `"storage-volume"`.
    pub class: String,
    /// Name (not unique).
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Requested size, GiB.
    pub size: f64,
    /// Size of the LUN that fulfills it, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_size: Option<f64>,
    /// Usage.
    pub usage: VolumeUsage,
    /// Fulfillment state.
    pub fulfillment_state: FulfillmentState,
    /// The LUN's NAA identifier, once discovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Its paths into the partitions the group is attached to.
    #[serde(default)]
    pub paths: Vec<VolumePath>,
}

/// A VSR's WWPN and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WwpnInfo {
    /// Whether discovery saw storage through it.
    pub status: WwpnStatus,
    /// The WWPN.
    pub world_wide_port_name: Wwpn,
}

/// An entry of `GET /api/storage-groups/{id}/virtual-storage-resources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VsrSummary {
    /// VSR URI.
    pub element_uri: VsrUri,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Device number in the partition.
    pub device_number: DeviceNumber,
    /// The partition.
    pub partition_uri: PartitionUri,
    /// The adapter port, once one is assigned.
    #[serde(
        default,
        deserialize_with = "crate::wire::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub adapter_port_uri: Option<StoragePortUri>,
}

/// `GET /api/storage-groups/{sg}/virtual-storage-resources/{vsr}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Vsr {
    /// Element id.
    pub element_id: String,
    /// Element URI.
    pub element_uri: VsrUri,
    /// The group.
    pub parent: StorageGroupUri,
    /// `"virtual-storage-resource"`.
    pub class: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The partition.
    pub partition_uri: PartitionUri,
    /// Device number in the partition.
    pub device_number: DeviceNumber,
    /// The adapter port, once one is assigned.
    #[serde(
        default,
        deserialize_with = "crate::wire::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub adapter_port_uri: Option<StoragePortUri>,
    /// The WWPN (the initiator).
    pub world_wide_port_name: Wwpn,
    /// The WWPN and its status.
    pub world_wide_port_name_info: WwpnInfo,
}

/// Body of attach and detach of a storage group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageGroupRef {
    /// The group.
    pub storage_group_uri: StorageGroupUri,
}

/// Body of add and remove candidate adapter ports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AdapterPorts {
    /// The ports.
    pub adapter_port_uris: Vec<StoragePortUri>,
}

/// Body of `start-fcp-storage-discovery`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StartDiscovery {
    /// Restart a discovery that is running.
    #[serde(default)]
    pub force_restart: bool,
}

/// Body of `accept-mismatched-storage-volumes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AcceptMismatched {
    /// The volumes to accept as they are.
    pub storage_volume_uris: Vec<StorageVolumeUri>,
}

/// Body of `POST /api/cpcs/{id}/operations/validate-lun-path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LunPath {
    /// The initiator WWPN.
    pub host_world_wide_port_name: Wwpn,
    /// The adapter port to try it on.
    pub adapter_port_uri: StoragePortUri,
    /// The storage target port.
    pub target_world_wide_port_name: Wwpn,
    /// The LUN.
    pub logical_unit_number: FcpLun,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_requests_carry_their_operation() {
        let m = StorageGroupModify {
            storage_volumes: vec![
                VolumeRequest::Create(VolumeCreate {
                    name: Some("data".into()),
                    description: None,
                    size: 10.0,
                    usage: Some(VolumeUsage::Data),
                }),
                VolumeRequest::Delete {
                    element_uri: "/api/storage-groups/g/storage-volumes/v".parse().unwrap(),
                },
            ],
            ..StorageGroupModify::default()
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"storage-volumes": [
                {"operation": "create", "name": "data", "size": 10.0, "usage": "data"},
                {"operation": "delete", "element-uri": "/api/storage-groups/g/storage-volumes/v"},
            ]})
        );
        let back: StorageGroupModify = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn group_reads_as_the_hmc_writes_it() {
        let g: StorageGroup = serde_json::from_value(serde_json::json!({
            "object-id": "g1", "object-uri": "/api/storage-groups/g1",
            "parent": "/api/console", "class": "storage-group",
            "cpc-uri": "/api/cpcs/c1", "name": "sg", "description": "",
            "type": "fcp", "shared": false, "connectivity": 2, "max-partitions": 1,
            "fulfillment-state": "pending-with-mismatches",
            "storage-volume-uris": [], "virtual-storage-resource-uris": [],
            "candidate-adapter-port-uris": ["/api/adapters/a1/storage-ports/0"],
            "unassigned-world-wide-port-names": [
                {"world-wide-port-name": "C05076FFE5000001", "status": "not-validated"}
            ],
            "some-future-property": 1
        }))
        .unwrap();
        assert_eq!(g.fulfillment_state, FulfillmentState::PendingWithMismatches);
        assert_eq!(
            g.unassigned_world_wide_port_names[0].status,
            WwpnStatus::NotValidated
        );
        assert_eq!(
            g.unassigned_world_wide_port_names[0]
                .world_wide_port_name
                .to_string(),
            "c05076ffe5000001"
        );
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let typo = serde_json::json!({"cpc-uri": "/api/cpcs/c1", "name": "g", "type": "fcp",
            "conectivity": 4});
        assert!(serde_json::from_value::<StorageGroupCreate>(typo).is_err());
        let typo = serde_json::json!({"storage-volumes": [
            {"operation": "create", "size": 10.0, "usge": "boot"}]});
        assert!(serde_json::from_value::<StorageGroupModify>(typo).is_err());
        let good = serde_json::json!({"storage-volumes": [
            {"operation": "create", "size": 10.0, "usage": "boot"},
            {"operation": "delete", "element-uri": "/api/storage-groups/g/storage-volumes/v"}],
            "shared": false});
        assert!(serde_json::from_value::<StorageGroupModify>(good).is_ok());
    }

    #[test]
    fn vsr_without_a_port_yet() {
        let v: VsrSummary = serde_json::from_value(serde_json::json!({
            "element-uri": "/api/storage-groups/g1/virtual-storage-resources/r1",
            "name": "vsr", "device-number": "0100",
            "partition-uri": "/api/partitions/p1", "adapter-port-uri": null
        }))
        .unwrap();
        assert_eq!(v.adapter_port_uri, None);
    }
}
