//! A storage group's and a storage volume's full property sets, as
//! `GET /api/storage-groups/{id}` and `GET .../storage-volumes/{id}`
//! return them on a real HMC, and the create and modify fields beyond
//! hmc-client's types.
//!
//! Sources: the recorded export in `hmc-client/tests/data` (a real HMC
//! 2.17) holds a FICON group (`type: fc`) and its ECKD volumes;
//! zhmc-ansible-modules documents a real FCP group (HMC 2.14) with its
//! volume, and STORAGE-GROUPS.md lists the FCP properties. So:
//!
//! - every group has the recorded group's 13 properties, `capacity` (the
//!   sum of its volumes' sizes, GiB) among them;
//! - an FCP group has besides what only FCP groups have:
//!   `max-partitions`, `active-connectivity`, `active-max-partitions`,
//!   `direct-connection-count`, `candidate-adapter-port-uris`,
//!   `unassigned-world-wide-port-names` and
//!   `virtual-storage-resource-uris` (none is in the FICON recording);
//! - every volume has the properties the recorded ECKD volume and the
//!   documented FCP volume share; an FCP volume has `paths` and `uuid`
//!   (`null` until discovery matches a LUN) besides. The ECKD properties
//!   (`active-model`, `control-unit-uri`, `cylinders`, `device-number`,
//!   `eckd-type`, `model`, `ssid`, `storage-subsystem-name`,
//!   `unit-address`) are left out: the simulator does not model ECKD
//!   volumes, so a FICON group's volumes have the shared set alone.
//!
//! `email-to-addresses`, `email-cc-addresses` and `email-insert` are
//! request fields of create, modify and delete (whom the HMC tells), not
//! properties: neither recording has them. They are taken and not shown.
//!
//! Create defaults (the HMC's, as zhmccli documents them for the options
//! it leaves out of its request): `shared` true, `connectivity` 2,
//! `max-partitions` 2, `direct-connection-count` 0, `description` `""`
//! (see `rules.rs`; a group given `shared: false` alone gets
//! `max-partitions` 1, and one given `max-partitions: 1` alone is not
//! shared, STORAGE-GROUPS.md).

use hmc_client::{
    CpcUri, FulfillmentState, GroupWwpn, HmcError, StorageGroupCreate, StorageGroupModify,
    StorageGroupType, StorageGroupUri, StoragePortUri, StorageVolumeUri, VolumePath, VolumeUsage,
    VsrUri,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::DsmState;

/// The create and modify fields hmc-client's types do not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct GroupSettings {
    /// Extra VSR connections a host may give its guests directly (0: off).
    pub direct_connection_count: Option<u32>,
    /// Request only: copied on the HMC's mail.
    #[serde(default)]
    pub email_cc_addresses: Option<Vec<String>>,
    /// Request only: text the HMC puts in its mail.
    #[serde(default)]
    pub email_insert: Option<String>,
}

/// The names [`GroupSettings`] takes from a body.
const SETTINGS: [&str; 3] = [
    "direct-connection-count",
    "email-cc-addresses",
    "email-insert",
];

/// Splits a body into the [`GroupSettings`] and the rest, which `T` reads
/// (hmc-client's types refuse names they do not know).
fn split<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<(T, GroupSettings), D::Error> {
    use serde::de::Error;
    let mut body = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    let mut settings = serde_json::Map::new();
    for k in SETTINGS {
        if let Some(v) = body.remove(k) {
            settings.insert(k.to_owned(), v);
        }
    }
    let rest = serde_json::from_value(serde_json::Value::Object(body)).map_err(D::Error::custom)?;
    let settings =
        serde_json::from_value(serde_json::Value::Object(settings)).map_err(D::Error::custom)?;
    Ok((rest, settings))
}

/// A `POST /api/storage-groups` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupCreateBody {
    pub create: StorageGroupCreate,
    pub settings: GroupSettings,
}

impl<'de> Deserialize<'de> for GroupCreateBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (create, settings) = split(d)?;
        Ok(Self { create, settings })
    }
}

/// A `POST .../operations/modify` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupModifyBody {
    pub modify: StorageGroupModify,
    pub settings: GroupSettings,
}

impl<'de> Deserialize<'de> for GroupModifyBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (modify, settings) = split(d)?;
        Ok(Self { modify, settings })
    }
}

/// `GET /api/storage-groups/{id}` in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct GroupProperties {
    pub object_id: String,
    pub object_uri: StorageGroupUri,
    pub parent: String,
    pub class: String,
    pub cpc_uri: CpcUri,
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub group_type: StorageGroupType,
    pub shared: bool,
    pub connectivity: u32,
    pub fulfillment_state: FulfillmentState,
    pub storage_volume_uris: Vec<StorageVolumeUri>,
    /// The sum of the volumes' sizes, GiB.
    pub capacity: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub fcp: Option<FcpGroupProperties>,
}

/// What only an FCP group has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct FcpGroupProperties {
    pub max_partitions: u32,
    pub active_connectivity: u32,
    pub active_max_partitions: u32,
    pub direct_connection_count: u32,
    pub candidate_adapter_port_uris: Vec<StoragePortUri>,
    pub unassigned_world_wide_port_names: Vec<GroupWwpn>,
    pub virtual_storage_resource_uris: Vec<VsrUri>,
}

/// `GET .../storage-volumes/{id}` in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct VolumeProperties {
    pub element_id: String,
    pub element_uri: StorageVolumeUri,
    pub parent: StorageGroupUri,
    pub class: String,
    pub name: String,
    pub description: String,
    pub size: f64,
    /// The size of the LUN that fulfills it; `null` until one does.
    pub active_size: Option<f64>,
    pub usage: VolumeUsage,
    pub fulfillment_state: FulfillmentState,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub fcp: Option<FcpVolumeProperties>,
}

/// What only a volume of an FCP group has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct FcpVolumeProperties {
    /// The LUN's NAA identifier; `null` until discovery matches one.
    pub uuid: Option<String>,
    pub paths: Vec<VolumePath>,
}

impl DsmState {
    /// `GET /api/storage-groups/{id}` in full (404.1).
    pub(crate) fn group_properties(
        &self,
        uri: &StorageGroupUri,
    ) -> Result<GroupProperties, HmcError> {
        let g = self.get_group(uri)?;
        let state = self.group_at("GET", uri.as_str(), uri)?;
        let fcp = (g.group_type == StorageGroupType::Fcp).then_some(FcpGroupProperties {
            max_partitions: state.max_partitions,
            active_connectivity: state.connectivity,
            active_max_partitions: state.max_partitions,
            direct_connection_count: state.direct_connection_count,
            candidate_adapter_port_uris: g.candidate_adapter_port_uris,
            unassigned_world_wide_port_names: g.unassigned_world_wide_port_names,
            virtual_storage_resource_uris: g.virtual_storage_resource_uris,
        });
        Ok(GroupProperties {
            object_id: g.object_id,
            object_uri: g.object_uri,
            parent: g.parent,
            class: g.class,
            cpc_uri: g.cpc_uri,
            name: g.name,
            description: g.description,
            group_type: g.group_type,
            shared: g.shared,
            connectivity: g.connectivity,
            fulfillment_state: g.fulfillment_state,
            storage_volume_uris: g.storage_volume_uris,
            capacity: state.volumes.iter().map(|v| v.size).sum(),
            fcp,
        })
    }

    /// `GET .../storage-volumes/{id}` in full (404.1).
    pub(crate) fn volume_properties(
        &self,
        uri: &StorageVolumeUri,
    ) -> Result<VolumeProperties, HmcError> {
        let v = self.get_volume(uri)?;
        let fcp = self
            .group(uri.parent().object_id())
            .is_some_and(|g| g.group_type == StorageGroupType::Fcp);
        Ok(VolumeProperties {
            element_id: v.element_id,
            element_uri: v.element_uri,
            parent: v.parent,
            class: v.class,
            name: v.name,
            description: v.description,
            size: v.size,
            active_size: v.active_size,
            usage: v.usage,
            fulfillment_state: v.fulfillment_state,
            fcp: fcp.then_some(FcpVolumeProperties {
                uuid: v.uuid,
                paths: v.paths,
            }),
        })
    }
}
