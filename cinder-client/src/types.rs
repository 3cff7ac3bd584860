//! Cinder v3 resources: volumes, attachments and the connector.

use std::collections::BTreeMap;

use fc_types::{Wwnn, Wwpn};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::connection::ConnectionInfo;
use crate::ids::{AttachmentId, ImageId, InstanceId, VolumeId};

/// Volume `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VolumeStatus {
    /// `creating`.
    #[serde(rename = "creating")]
    Creating,
    /// `available`.
    #[serde(rename = "available")]
    Available,
    /// `reserved`.
    #[serde(rename = "reserved")]
    Reserved,
    /// `attaching`.
    #[serde(rename = "attaching")]
    Attaching,
    /// `detaching`.
    #[serde(rename = "detaching")]
    Detaching,
    /// `in-use`.
    #[serde(rename = "in-use")]
    InUse,
    /// `maintenance`.
    #[serde(rename = "maintenance")]
    Maintenance,
    /// `deleting`.
    #[serde(rename = "deleting")]
    Deleting,
    /// `awaiting-transfer`.
    #[serde(rename = "awaiting-transfer")]
    AwaitingTransfer,
    /// `error`.
    #[serde(rename = "error")]
    Error,
    /// `error_deleting`.
    #[serde(rename = "error_deleting")]
    ErrorDeleting,
    /// `backing-up`.
    #[serde(rename = "backing-up")]
    BackingUp,
    /// `restoring-backup`.
    #[serde(rename = "restoring-backup")]
    RestoringBackup,
    /// `error_backing-up`.
    #[serde(rename = "error_backing-up")]
    ErrorBackingUp,
    /// `error_restoring`.
    #[serde(rename = "error_restoring")]
    ErrorRestoring,
    /// `error_extending`.
    #[serde(rename = "error_extending")]
    ErrorExtending,
    /// `error_managing`.
    #[serde(rename = "error_managing")]
    ErrorManaging,
    /// `downloading`.
    #[serde(rename = "downloading")]
    Downloading,
    /// `uploading`.
    #[serde(rename = "uploading")]
    Uploading,
    /// `retyping`.
    #[serde(rename = "retyping")]
    Retyping,
    /// `extending`.
    #[serde(rename = "extending")]
    Extending,
    /// A status this crate does not know.
    #[serde(other)]
    Unknown,
}

impl VolumeStatus {
    /// Cinder's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Reserved => "reserved",
            Self::Attaching => "attaching",
            Self::Detaching => "detaching",
            Self::InUse => "in-use",
            Self::Maintenance => "maintenance",
            Self::Deleting => "deleting",
            Self::AwaitingTransfer => "awaiting-transfer",
            Self::Error => "error",
            Self::ErrorDeleting => "error_deleting",
            Self::BackingUp => "backing-up",
            Self::RestoringBackup => "restoring-backup",
            Self::ErrorBackingUp => "error_backing-up",
            Self::ErrorRestoring => "error_restoring",
            Self::ErrorExtending => "error_extending",
            Self::ErrorManaging => "error_managing",
            Self::Downloading => "downloading",
            Self::Uploading => "uploading",
            Self::Retyping => "retyping",
            Self::Extending => "extending",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a volume in this status may be deleted (if not attached).
    pub fn is_deletable(self) -> bool {
        matches!(
            self,
            Self::Available
                | Self::Error
                | Self::ErrorRestoring
                | Self::ErrorExtending
                | Self::ErrorManaging
        )
    }
}

impl std::fmt::Display for VolumeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Attachment `attach_status` (the `status` field of an attachment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttachStatus {
    /// `reserved`: the volume is reserved for the instance, not connected.
    Reserved,
    /// `attaching`.
    Attaching,
    /// `attached`.
    Attached,
    /// `detached`.
    Detached,
    /// `error_attaching`.
    ErrorAttaching,
    /// `error_detaching`.
    ErrorDetaching,
    /// `deleted`.
    Deleted,
    /// A status this crate does not know.
    #[serde(other)]
    Unknown,
}

impl AttachStatus {
    /// Cinder's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Attaching => "attaching",
            Self::Attached => "attached",
            Self::Detached => "detached",
            Self::ErrorAttaching => "error_attaching",
            Self::ErrorDetaching => "error_detaching",
            Self::Deleted => "deleted",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for AttachStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cinder sends `bootable` as the string `"true"` or `"false"`.
fn bool_string<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *v { "true" } else { "false" })
}

fn string_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Str(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        B::Str(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        B::Str(s) => Err(serde::de::Error::custom(format!(
            "bootable {s:?} is neither \"true\" nor \"false\""
        ))),
    }
}

/// Cinder writes an unset time as `""`.
fn empty_string_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// An entry of a volume's `attachments`: one attached instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeAttachment {
    /// The volume id (Cinder repeats it here).
    pub id: VolumeId,
    /// The attachment.
    pub attachment_id: AttachmentId,
    /// The volume.
    pub volume_id: VolumeId,
    /// The instance.
    #[serde(default)]
    pub server_id: Option<InstanceId>,
    /// The compute host.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Mount point.
    #[serde(default)]
    pub device: Option<String>,
    /// When it was attached.
    #[serde(default)]
    pub attached_at: Option<String>,
}

/// A Cinder volume (`GET /v3/{p}/volumes/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Id.
    pub id: VolumeId,
    /// Status.
    pub status: VolumeStatus,
    /// Size in GiB.
    pub size: u64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Volume type.
    #[serde(default)]
    pub volume_type: Option<String>,
    /// Whether the volume holds a bootable image.
    #[serde(serialize_with = "bool_string", deserialize_with = "string_bool")]
    pub bootable: bool,
    /// Whether more than one instance may attach it (from the volume type).
    #[serde(default)]
    pub multiattach: bool,
    /// The attached instances.
    #[serde(default)]
    pub attachments: Vec<VolumeAttachment>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Availability zone.
    #[serde(default)]
    pub availability_zone: Option<String>,
}

impl Volume {
    /// A volume of `size` GiB in `status`, not bootable, not attached, with
    /// no name, type, times or metadata (set the fields that matter after).
    pub fn new(id: VolumeId, status: VolumeStatus, size: u64) -> Self {
        Self {
            id,
            status,
            size,
            name: None,
            description: None,
            volume_type: None,
            bootable: false,
            multiattach: false,
            attachments: Vec::new(),
            created_at: None,
            updated_at: None,
            metadata: BTreeMap::new(),
            availability_zone: None,
        }
    }
}

/// `POST /v3/{p}/volumes` body (the inner `volume` object).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeCreate {
    /// Size in GiB.
    pub size: u64,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Volume type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    /// Create from this image; the volume ends up bootable.
    #[serde(rename = "imageRef", default, skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<ImageId>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl VolumeCreate {
    /// A blank volume of `size` GiB; the default type, no name.
    pub fn new(size: u64) -> Self {
        Self {
            size,
            ..Self::default()
        }
    }

    /// A volume of `size` GiB holding `image` (it ends up bootable).
    pub fn from_image(size: u64, image: ImageId) -> Self {
        Self {
            image_ref: Some(image),
            ..Self::new(size)
        }
    }
}

/// A volume attachment (attachments API, 3.27+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Id.
    pub id: AttachmentId,
    /// The attach status.
    pub status: AttachStatus,
    /// The instance.
    #[serde(default)]
    pub instance: Option<InstanceId>,
    /// The volume.
    pub volume_id: VolumeId,
    /// When it was attached (Cinder sends `""` when unset: read as none).
    #[serde(default, deserialize_with = "empty_string_as_none")]
    pub attached_at: Option<String>,
    /// When it was detached (`""` when unset: read as none).
    #[serde(default, deserialize_with = "empty_string_as_none")]
    pub detached_at: Option<String>,
    /// `rw` or `ro`; `"null"` (a string) until a connector chose one.
    #[serde(default)]
    pub attach_mode: Option<String>,
    /// The connection info, once a connector was given (`{}` before).
    #[serde(
        default,
        deserialize_with = "crate::connection::empty_object_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub connection_info: Option<ConnectionInfo>,
}

impl Attachment {
    /// An attachment of `volume` in `status`, with no instance, times,
    /// mode or connection info (set the fields that matter after).
    pub fn new(id: AttachmentId, volume_id: VolumeId, status: AttachStatus) -> Self {
        Self {
            id,
            status,
            instance: None,
            volume_id,
            attached_at: None,
            detached_at: None,
            attach_mode: None,
            connection_info: None,
        }
    }
}

/// What the compute side tells Cinder about its initiators. On DPM the
/// initiators are the partition's vHBAs, not the compute host's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    /// Initiator WWPNs, canonical form.
    pub wwpns: Vec<Wwpn>,
    /// Initiator node names.
    #[serde(default)]
    pub wwnns: Vec<Wwnn>,
    /// The host name Cinder records.
    pub host: String,
    /// `s390x`.
    #[serde(default)]
    pub platform: Option<String>,
    /// `linux`.
    #[serde(default)]
    pub os_type: Option<String>,
    /// Whether the host runs multipath.
    #[serde(default)]
    pub multipath: bool,
    /// Whether Cinder must enforce multipath.
    #[serde(default)]
    pub enforce_multipath: bool,
    /// Where the compute side attaches the volume (Nova sets it on an
    /// attachment update); Cinder records it as the attachment's mountpoint
    /// and shows it as the volume attachment's `device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mountpoint: Option<String>,
}

impl Connector {
    /// The connector of `host` with initiator ports `wwpns`; no node names,
    /// platform, OS type or mountpoint, no multipath (set the fields that
    /// apply after).
    ///
    /// ```
    /// use cinder_client::Connector;
    /// let wwpn = "c05076ffe5000a10".parse()?;
    /// let c = Connector {
    ///     platform: Some("s390x".into()),
    ///     ..Connector::new("compute-1", vec![wwpn])
    /// };
    /// assert_eq!(
    ///     serde_json::to_value(&c).unwrap()["wwpns"],
    ///     serde_json::json!(["c05076ffe5000a10"])
    /// );
    /// # Ok::<(), fc_types::ParseError>(())
    /// ```
    pub fn new(host: impl Into<String>, wwpns: Vec<Wwpn>) -> Self {
        Self {
            wwpns,
            wwnns: Vec::new(),
            host: host.into(),
            platform: None,
            os_type: None,
            multipath: false,
            enforce_multipath: false,
            mountpoint: None,
        }
    }
}
