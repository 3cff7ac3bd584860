//! Wire types: serde structs that use the HMC's own property names.
//!
//! Objects returned by `GET` keep the properties this project reads; unknown
//! properties are ignored. Properties that a `?properties=` filter may leave
//! out, or that only some machine generations carry, are `Option`.
//! Request bodies skip unset fields, so an update sends exactly what changes.

use fc_types::{DeviceNumber, FcpLun, Wwnn, Wwpn};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{
    AdapterUri, CpcUri, HbaUri, JobUri, PartitionUri, StorageGroupUri, StoragePortUri,
    StorageVolumeUri,
};
use crate::strenum::string_enum;
use dpm_secret::{serialize_exposed, Secret};

/// Reads `null` and `""` as `None`: the HMC uses both for "not set"
/// (e.g. `boot-world-wide-port-name: ""`, `boot-storage-device: null`).
pub(crate) fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        // The value's own wire form (a LUN reads short forms, say).
        Some(s) => T::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(&s)).map(Some),
    }
}

/// Writes an unset value as `""`, as the HMC writes its unset boot WWPN
/// and LUN (its unset URIs are `null`).
pub(crate) fn none_as_empty<S, T>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: Serialize,
{
    match v {
        Some(v) => v.serialize(s),
        None => s.serialize_str(""),
    }
}

string_enum!(
    /// CPC `status`.
    CpcStatus {
        Operating = "operating",
        Active = "active",
        ServiceRequired = "service-required",
        Degraded = "degraded",
        Exceptions = "exceptions",
        NotOperating = "not-operating",
        NoPower = "no-power",
        NotCommunicating = "not-communicating",
        StatusCheck = "status-check",
        Service = "service",
    }
);

impl CpcStatus {
    /// Whether partitions can be managed on a CPC in this status.
    pub fn is_usable(&self) -> bool {
        matches!(
            self,
            Self::Active
                | Self::Operating
                | Self::ServiceRequired
                | Self::Degraded
                | Self::Exceptions
        )
    }
}

string_enum!(
    /// Adapter `type`.
    AdapterType {
        /// An FCP channel: the only type that hosts vHBAs.
        Fcp = "fcp",
        /// A FICON channel.
        Fc = "fc",
        NotConfigured = "not-configured",
        Osd = "osd",
        Hipersockets = "hipersockets",
        Roce = "roce",
        Crypto = "crypto",
        Zedc = "zedc",
        Cna = "cna",
        Nvme = "nvme",
    }
);

string_enum!(
    /// Partition `status`.
    PartitionStatus {
        Stopped = "stopped",
        Starting = "starting",
        Active = "active",
        Stopping = "stopping",
        Degraded = "degraded",
        Paused = "paused",
        Terminated = "terminated",
        ReservationError = "reservation-error",
        CommunicationsNotActive = "communications-not-active",
        StatusCheck = "status-check",
    }
);

string_enum!(
    /// Partition `boot-device`.
    BootDevice {
        None = "none",
        /// Boot from an FCP LUN through an HBA (CPCs without storage management).
        StorageAdapter = "storage-adapter",
        /// Boot from a storage-group volume (z14+ with storage management).
        StorageVolume = "storage-volume",
        NetworkAdapter = "network-adapter",
        Ftp = "ftp",
        RemovableMedia = "removable-media",
        IsoImage = "iso-image",
        TestOperatingSystem = "test-operating-system",
    }
);

string_enum!(
    /// Job `status`.
    JobStatus {
        Running = "running",
        CancelPending = "cancel-pending",
        Canceled = "canceled",
        Complete = "complete",
    }
);

/// `POST /api/sessions` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogonRequest {
    /// HMC user id.
    pub userid: String,
    /// Password; never shown by `Debug`. The body exists to carry it, so
    /// it serializes.
    #[serde(serialize_with = "serialize_exposed")]
    pub password: Secret,
}

/// `POST /api/sessions` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogonResponse {
    /// The session id to send in `X-API-Session`; never shown by `Debug`.
    /// A server's answer carries it, so it serializes.
    #[serde(serialize_with = "serialize_exposed")]
    pub api_session: Secret,
    /// The session credential; never shown by `Debug`.
    #[serde(serialize_with = "serialize_exposed")]
    pub session_credential: Secret,
    /// Notification topic of this session.
    pub notification_topic: String,
    /// Job notification topic of this session.
    pub job_notification_topic: String,
    /// API major version.
    pub api_major_version: u32,
    /// API minor version.
    pub api_minor_version: u32,
    /// Days until the password expires, when the HMC says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_expires: Option<i64>,
}

/// `GET /api/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ApiVersion {
    /// API major version.
    pub api_major_version: u32,
    /// API minor version.
    pub api_minor_version: u32,
    /// HMC version, e.g. "2.16.0".
    pub hmc_version: String,
    /// HMC name.
    pub hmc_name: String,
}

/// One entry of `available-features-list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// Feature name, e.g. `dpm-storage-management`.
    pub name: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Whether the feature is enabled.
    pub state: bool,
}

/// The storage-management feature that replaces HBAs with storage groups.
pub const FEATURE_DPM_STORAGE_MANAGEMENT: &str = "dpm-storage-management";

/// An entry of `GET /api/cpcs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CpcSummary {
    /// CPC URI.
    pub object_uri: CpcUri,
    /// CPC name.
    pub name: String,
    /// CPC status.
    pub status: CpcStatus,
    /// Whether the status is one the CPC is told not to accept.
    #[serde(default)]
    pub has_unacceptable_status: bool,
    /// Whether the CPC runs in DPM mode.
    #[serde(default)]
    pub dpm_enabled: bool,
    /// Support element version.
    #[serde(default)]
    pub se_version: Option<String>,
}

/// `GET /api/cpcs/{id}`: the properties this project reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cpc {
    /// Object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Object URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_uri: Option<CpcUri>,
    /// `"cpc"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// CPC name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CpcStatus>,
    /// DPM mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpm_enabled: Option<bool>,
    /// `"dpm"` or `"lpar"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iml_mode: Option<String>,
    /// Installed IFLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_count_ifl: Option<u32>,
    /// Installed general purpose processors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_count_general_purpose: Option<u32>,
    /// Customer memory in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_customer: Option<u64>,
    /// Customer memory not in use by active partitions, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_customer_available: Option<u64>,
    /// Most partitions the CPC can define.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_partitions: Option<u32>,
    /// Machine type, e.g. "3932".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<String>,
    /// Machine model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_model: Option<String>,
    /// Support element version, "a.b.c".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_version: Option<String>,
    /// Firmware features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_features_list: Option<Vec<Feature>>,
}

impl Cpc {
    /// Whether the named firmware feature is present and enabled.
    pub fn has_feature(&self, name: &str) -> bool {
        self.available_features_list
            .iter()
            .flatten()
            .any(|f| f.name == name && f.state)
    }
}

/// An entry of `GET /api/cpcs/{id}/adapters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AdapterSummary {
    /// Adapter URI.
    pub object_uri: AdapterUri,
    /// Adapter name.
    pub name: String,
    /// PCHID, hex string.
    #[serde(default)]
    pub adapter_id: Option<String>,
    /// Family, e.g. `ficon`.
    #[serde(default)]
    pub adapter_family: Option<String>,
    /// Type, e.g. `fcp`.
    #[serde(rename = "type")]
    pub adapter_type: AdapterType,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/adapters/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Adapter {
    /// Object id.
    pub object_id: String,
    /// Object URI.
    pub object_uri: AdapterUri,
    /// The CPC.
    pub parent: CpcUri,
    /// `"adapter"`.
    pub class: String,
    /// Adapter name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// PCHID, hex string like "118".
    pub adapter_id: String,
    /// Family, e.g. `ficon`.
    pub adapter_family: String,
    /// Type: only `fcp` hosts vHBAs.
    #[serde(rename = "type")]
    pub adapter_type: AdapterType,
    /// Card type.
    #[serde(default)]
    pub detected_card_type: Option<String>,
    /// Number of ports.
    #[serde(default)]
    pub port_count: Option<u32>,
    /// Status, e.g. `active`.
    pub status: String,
    /// State, e.g. `online`.
    #[serde(default)]
    pub state: Option<String>,
    /// The ports of a storage (FICON-family) adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_port_uris: Option<Vec<StoragePortUri>>,
}

/// `GET /api/adapters/{id}/storage-ports/{n}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoragePort {
    /// Element id ("0").
    pub element_id: String,
    /// Element URI.
    pub element_uri: StoragePortUri,
    /// The adapter.
    pub parent: AdapterUri,
    /// `"storage-port"`.
    pub class: String,
    /// Port index.
    pub index: u32,
    /// Port name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The WWN of the SAN fabric the port is logged into, if any.
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub fabric_id: Option<Wwnn>,
}

/// An entry of `GET /api/cpcs/{id}/partitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartitionSummary {
    /// Partition URI.
    pub object_uri: PartitionUri,
    /// Partition name.
    pub name: String,
    /// Status.
    pub status: PartitionStatus,
    /// Partition type, e.g. `linux`.
    #[serde(rename = "type", default)]
    pub partition_type: Option<String>,
    /// IFLs, when the list was asked for them
    /// ([`PartitionListProperty::IflProcessors`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifl_processors: Option<u32>,
    /// General purpose processors, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cp_processors: Option<u32>,
    /// Memory at start, MiB, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_memory: Option<u64>,
    /// Maximum memory, MiB, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_memory: Option<u64>,
    /// Description, when asked for
    /// ([`PartitionListProperty::Description`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl PartitionSummary {
    /// An entry with the list's standard properties only.
    pub fn new(
        object_uri: PartitionUri,
        name: String,
        status: PartitionStatus,
        partition_type: Option<String>,
    ) -> Self {
        Self {
            object_uri,
            name,
            status,
            partition_type,
            ifl_processors: None,
            cp_processors: None,
            initial_memory: None,
            maximum_memory: None,
            description: None,
        }
    }
}

/// A property a partition list entry can carry besides the standard ones,
/// asked for with `additional-properties` (see
/// [`crate::HmcApi::list_partitions_with`]). Only the ones
/// [`PartitionSummary`] can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartitionListProperty {
    /// `ifl-processors`.
    IflProcessors,
    /// `cp-processors`.
    CpProcessors,
    /// `initial-memory`.
    InitialMemory,
    /// `maximum-memory`.
    MaximumMemory,
    /// `description`.
    Description,
}

impl PartitionListProperty {
    /// The HMC's name of the property.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IflProcessors => "ifl-processors",
            Self::CpProcessors => "cp-processors",
            Self::InitialMemory => "initial-memory",
            Self::MaximumMemory => "maximum-memory",
            Self::Description => "description",
        }
    }
}

/// `GET /api/partitions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Partition {
    /// Object id.
    pub object_id: String,
    /// Object URI.
    pub object_uri: PartitionUri,
    /// The CPC.
    pub parent: CpcUri,
    /// `"partition"`.
    pub class: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Status.
    pub status: PartitionStatus,
    /// Partition type, e.g. `linux`.
    #[serde(rename = "type", default)]
    pub partition_type: Option<String>,
    /// IFLs.
    #[serde(default)]
    pub ifl_processors: u32,
    /// General purpose processors.
    #[serde(default)]
    pub cp_processors: u32,
    /// Memory at start, MiB.
    pub initial_memory: u64,
    /// Maximum memory, MiB.
    pub maximum_memory: u64,
    /// `shared` or `dedicated`.
    #[serde(default)]
    pub processor_mode: Option<String>,
    /// The partition's vHBAs.
    #[serde(default)]
    pub hba_uris: Vec<HbaUri>,
    /// The partition's NICs.
    #[serde(default)]
    pub nic_uris: Vec<String>,
    /// What the partition boots from.
    #[serde(default = "default_boot_device")]
    pub boot_device: BootDevice,
    /// The boot HBA (`storage-adapter` boot).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub boot_storage_device: Option<HbaUri>,
    /// The boot target port (unset: `""`, as the HMC writes it).
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        serialize_with = "none_as_empty"
    )]
    pub boot_world_wide_port_name: Option<Wwpn>,
    /// The boot LUN (unset: `""`).
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        serialize_with = "none_as_empty"
    )]
    pub boot_logical_unit_number: Option<FcpLun>,
    /// The storage groups attached to the partition (storage-management
    /// CPCs; absent elsewhere).
    #[serde(default)]
    pub storage_group_uris: Vec<StorageGroupUri>,
    /// The boot volume (`storage-volume` boot).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub boot_storage_volume: Option<StorageVolumeUri>,
}

impl PartitionCreate {
    /// A partition named `name` with `ifl_processors` IFLs and `memory_mib`
    /// MiB of memory (initial and maximum); the HMC's defaults for the rest.
    ///
    /// ```
    /// let p = hmc_client::PartitionCreate {
    ///     partition_type: Some("linux".into()),
    ///     ..hmc_client::PartitionCreate::new("web1", 2, 4096)
    /// };
    /// assert_eq!(
    ///     serde_json::to_value(&p)?,
    ///     serde_json::json!({"name": "web1", "type": "linux", "ifl-processors": 2,
    ///                        "initial-memory": 4096, "maximum-memory": 4096})
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn new(name: impl Into<String>, ifl_processors: u32, memory_mib: u64) -> Self {
        Self {
            name: name.into(),
            description: None,
            partition_type: None,
            ifl_processors: Some(ifl_processors),
            cp_processors: None,
            initial_memory: memory_mib,
            maximum_memory: memory_mib,
            processor_mode: None,
        }
    }
}

fn default_boot_device() -> BootDevice {
    BootDevice::None
}

/// `POST /api/cpcs/{id}/partitions` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartitionCreate {
    /// Name, unique on the CPC.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Partition type, e.g. `linux`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub partition_type: Option<String>,
    /// IFLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifl_processors: Option<u32>,
    /// General purpose processors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cp_processors: Option<u32>,
    /// Memory at start, MiB.
    pub initial_memory: u64,
    /// Maximum memory, MiB.
    pub maximum_memory: u64,
    /// `shared` or `dedicated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_mode: Option<String>,
}

/// `POST /api/partitions/{id}` body: the properties to change. Unset fields
/// are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartitionUpdate {
    /// New name (a rename; unique on the CPC, 1 to 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New IFL count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifl_processors: Option<u32>,
    /// New initial memory, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_memory: Option<u64>,
    /// New maximum memory, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_memory: Option<u64>,
    /// Boot device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_device: Option<BootDevice>,
    /// Boot HBA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_storage_device: Option<HbaUri>,
    /// Boot target port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_world_wide_port_name: Option<Wwpn>,
    /// Boot LUN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_logical_unit_number: Option<FcpLun>,
    /// Boot volume (`storage-volume` boot): `Some(None)` is sent as `null`
    /// and clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "set_or_clear"
    )]
    pub boot_storage_volume: Option<Option<StorageVolumeUri>>,
    /// Parameters the SCSI IPL loader passes to the operating system (at
    /// most 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_os_specific_parameters: Option<String>,
}

/// A field of an update that may be left out (`None`), cleared with `null`
/// (`Some(None)`) or set (`Some(Some(v))`).
fn set_or_clear<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl PartitionUpdate {
    /// The one update that makes a partition boot from an FCP LUN.
    pub fn boot_from_san(hba: HbaUri, target: Wwpn, lun: FcpLun) -> Self {
        Self {
            boot_device: Some(BootDevice::StorageAdapter),
            boot_storage_device: Some(hba),
            boot_world_wide_port_name: Some(target),
            boot_logical_unit_number: Some(lun),
            ..Self::default()
        }
    }

    /// The one update that makes a partition boot from a storage volume of
    /// an attached storage group (storage-management CPCs).
    pub fn boot_from_volume(volume: StorageVolumeUri) -> Self {
        Self {
            boot_device: Some(BootDevice::StorageVolume),
            boot_storage_volume: Some(Some(volume)),
            ..Self::default()
        }
    }
}

/// `POST /api/cpcs/{id}/partitions` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CreatedObject<U> {
    /// URI of the new object.
    pub object_uri: U,
}

/// `POST /api/partitions/{id}/hbas` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HbaCreate {
    /// HBA name, unique in the partition.
    pub name: String,
    /// The FCP adapter port that backs the vHBA.
    pub adapter_port_uri: StoragePortUri,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Device number; the HMC picks one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_number: Option<DeviceNumber>,
}

impl HbaCreate {
    /// A vHBA named `name` on the FCP adapter port `adapter_port_uri`; the
    /// HMC picks the device number.
    pub fn new(name: impl Into<String>, adapter_port_uri: StoragePortUri) -> Self {
        Self {
            name: name.into(),
            adapter_port_uri,
            description: None,
            device_number: None,
        }
    }
}

/// `POST /api/partitions/{id}/hbas` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CreatedElement<U> {
    /// URI of the new element.
    pub element_uri: U,
}

/// `GET /api/partitions/{pid}/hbas/{hid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Hba {
    /// Element id.
    pub element_id: String,
    /// Element URI.
    pub element_uri: HbaUri,
    /// The partition.
    pub parent: PartitionUri,
    /// `"hba"`.
    pub class: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The NPIV WWPN the HMC assigned.
    pub wwpn: Wwpn,
    /// The backing adapter port.
    pub adapter_port_uri: StoragePortUri,
    /// Device number.
    pub device_number: DeviceNumber,
}

/// `202` response of start and stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobStarted {
    /// The job to poll.
    pub job_uri: JobUri,
}

/// `GET /api/jobs/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    /// `running`, `cancel-pending`, `canceled` or `complete`.
    pub status: JobStatus,
    /// The HTTP status of the finished operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status_code: Option<u16>,
    /// The reason code of the finished operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_reason_code: Option<u16>,
    /// Results; on failure `{"message": "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_results: Option<serde_json::Value>,
}

impl Job {
    /// A job in `status`, with no results yet (as a running job reads).
    pub fn new(status: JobStatus) -> Self {
        Self {
            status,
            job_status_code: None,
            job_reason_code: None,
            job_results: None,
        }
    }

    /// A job that has completed with the operation's HTTP status, e.g. 204
    /// for a successful start or stop.
    pub fn ended(job_status_code: u16) -> Self {
        Self {
            job_status_code: Some(job_status_code),
            ..Self::new(JobStatus::Complete)
        }
    }

    /// Whether the job has ended, one way or another.
    pub fn is_finished(&self) -> bool {
        matches!(self.status, JobStatus::Complete | JobStatus::Canceled)
    }
    /// Whether the job ended with a 2xx status.
    pub fn succeeded(&self) -> bool {
        self.status == JobStatus::Complete
            && self
                .job_status_code
                .is_some_and(|c| (200..300).contains(&c))
    }
    /// What a failed job says: `job-results.message`, else its `error`
    /// (a real HMC sends either, both, or `job-results` absent or `{}`).
    pub fn message(&self) -> Option<&str> {
        let r = self.job_results.as_ref()?;
        ["message", "error"]
            .iter()
            .find_map(|k| r.get(*k).and_then(|v| v.as_str()).filter(|m| !m.is_empty()))
    }
}

/// The HMC's error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ErrorBody {
    /// HTTP status.
    pub http_status: u16,
    /// HMC reason code.
    pub reason: u16,
    /// Message.
    pub message: String,
    /// Method of the failed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_method: Option<String>,
    /// URI of the failed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uri: Option<String>,
}

/// One request of a bulk read (`POST /api/services/aggregation/submit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// `GET` (the only method this project sends in bulk).
    pub method: String,
    /// The object's URI.
    pub uri: String,
    /// The caller's id of the request, echoed in its answer.
    pub id: String,
}

/// The bulk-read body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkSubmit {
    /// The requests, answered in one round trip.
    pub requests: Vec<BulkRequest>,
    /// How many the HMC may run at once (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
}

/// One answer of a bulk read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkResponse {
    /// The request's id.
    pub id: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its headers (none here).
    #[serde(default)]
    pub headers: serde_json::Value,
    /// Its body: the object, or the HMC's error body.
    #[serde(default)]
    pub body: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logon_bodies_carry_their_secrets_on_the_wire_and_nowhere_else() {
        let req: LogonRequest =
            serde_json::from_str(r#"{"userid": "nova", "password": "pw-7f3a"}"#).unwrap();
        assert_eq!(req.password.expose(), "pw-7f3a");
        assert!(!format!("{req:?}").contains("pw-7f3a"));
        // The body exists to send the password.
        assert_eq!(
            serde_json::to_value(&req).unwrap()["password"],
            serde_json::json!("pw-7f3a")
        );

        let resp = LogonResponse {
            api_session: Secret::new("session-9c1e"),
            session_credential: Secret::new("credential-41d0"),
            notification_topic: "t".into(),
            job_notification_topic: "j".into(),
            api_major_version: 4,
            api_minor_version: 10,
            password_expires: None,
        };
        let shown = format!("{resp:?}");
        assert!(!shown.contains("session-9c1e") && !shown.contains("credential-41d0"));
        let back: LogonResponse =
            serde_json::from_value(serde_json::to_value(&resp).unwrap()).unwrap();
        assert_eq!(back.api_session.expose(), "session-9c1e");
        assert_eq!(back.session_credential.expose(), "credential-41d0");
    }

    #[test]
    fn constructed_jobs_read_as_the_hmc_s() {
        let running = Job::new(JobStatus::Running);
        assert!(!running.is_finished());
        let done = Job::ended(204);
        assert!(done.is_finished() && done.succeeded());
        assert!(!Job::ended(409).succeeded());
    }

    #[test]
    fn string_enums_keep_unknown_values() {
        let s: PartitionStatus = serde_json::from_str(r#""hibernating""#).unwrap();
        assert_eq!(s, PartitionStatus::Other("hibernating".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""hibernating""#);
    }
}
