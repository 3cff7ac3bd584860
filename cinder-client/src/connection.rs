//! `connection_info`: what Cinder returns once a connector is given, and its
//! typed Fibre Channel reading.
//!
//! Cinder returns it in two shapes. The legacy `os-initialize_connection`
//! action nests the driver's keys: `{"driver_volume_type", "data": {...}}`.
//! The attachments API returns it flat: the driver's keys beside
//! `driver_volume_type`, `attachment_id` and `enforce_multipath`. Both
//! deserialize to the same [`ConnectionInfo`]; serialization gives the
//! nested shape, and [`ConnectionInfo::to_flat`] the flat one.
//!
//! FC drivers disagree on the keys: `target_wwn` (one string or a list) with
//! `target_lun`, or `target_wwns` with a parallel `target_luns`, an optional
//! `initiator_target_map`, WWNs in any case, and LUNs as integers or numeric
//! strings. [`ConnectionInfo::fibre_channel`] reads all of them into one
//! [`FcConnection`], or says exactly what is wrong.

use std::collections::BTreeMap;

use fc_types::{FcpLun, Wwpn};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::ids::{AttachmentId, VolumeId};

/// The `driver_volume_type` of Fibre Channel volumes.
pub const FIBRE_CHANNEL: &str = "fibre_channel";

/// Keys the attachments API adds beside the driver's keys in the flat shape.
const FLAT_ENVELOPE: [&str; 3] = ["driver_volume_type", "attachment_id", "enforce_multipath"];

/// Connection info in its driver-neutral form.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    /// e.g. `fibre_channel`.
    pub driver_volume_type: String,
    /// The driver's keys.
    pub data: Map<String, Value>,
}

impl ConnectionInfo {
    /// The flat shape of the attachments API.
    pub fn to_flat(&self, attachment_id: &AttachmentId) -> Value {
        let mut m = self.data.clone();
        m.insert(
            "driver_volume_type".into(),
            Value::String(self.driver_volume_type.clone()),
        );
        m.insert(
            "attachment_id".into(),
            Value::String(attachment_id.to_string()),
        );
        m.insert("enforce_multipath".into(), Value::Bool(false));
        Value::Object(m)
    }

    /// Builds the connection info an FC driver returns.
    pub fn from_fc(data: &FcData) -> Self {
        let data = match serde_json::to_value(data) {
            Ok(Value::Object(m)) => m,
            // FcData always serializes to an object.
            _ => Map::new(),
        };
        Self {
            driver_volume_type: FIBRE_CHANNEL.into(),
            data,
        }
    }

    /// Reads the Fibre Channel view, validating every key it uses.
    pub fn fibre_channel(&self) -> Result<FcConnection, FcInfoError> {
        if self.driver_volume_type != FIBRE_CHANNEL {
            return Err(FcInfoError::NotFibreChannel {
                driver_volume_type: self.driver_volume_type.clone(),
            });
        }
        let d = &self.data;
        let wwns = match (d.get("target_wwns"), d.get("target_wwn")) {
            (Some(v), _) => wwpn_list(v, "target_wwns")?,
            (None, Some(v)) => wwpn_list(v, "target_wwn")?,
            (None, None) => Vec::new(),
        };
        if wwns.is_empty() {
            return Err(FcInfoError::MissingTargets);
        }
        let luns = match (d.get("target_luns"), d.get("target_lun")) {
            (Some(Value::Array(items)), _) => items
                .iter()
                .map(|v| lun(v, "target_luns"))
                .collect::<Result<Vec<_>, _>>()?,
            (Some(_), _) => {
                return Err(FcInfoError::BadShape {
                    field: "target_luns",
                    expected: "a list of LUNs",
                })
            }
            (None, Some(v)) => vec![lun(v, "target_lun")?],
            (None, None) => Vec::new(),
        };
        let targets = match luns.len() {
            0 => return Err(FcInfoError::MissingLun),
            1 => wwns
                .iter()
                .map(|&wwpn| FcTarget { wwpn, lun: luns[0] })
                .collect(),
            n if n == wwns.len() => wwns
                .iter()
                .zip(&luns)
                .map(|(&wwpn, &lun)| FcTarget { wwpn, lun })
                .collect(),
            n => {
                return Err(FcInfoError::LengthMismatch {
                    wwns: wwns.len(),
                    luns: n,
                })
            }
        };
        let initiator_target_map = match d.get("initiator_target_map") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    let initiator = parse_wwpn(k, "initiator_target_map")?;
                    out.insert(initiator, wwpn_list(v, "initiator_target_map")?);
                }
                Some(out)
            }
            Some(_) => {
                return Err(FcInfoError::BadShape {
                    field: "initiator_target_map",
                    expected: "an object of WWPN lists",
                })
            }
        };
        let volume_id = match d.get("volume_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse().map_err(|_| FcInfoError::BadShape {
                field: "volume_id",
                expected: "a volume UUID",
            })?),
            Some(_) => {
                return Err(FcInfoError::BadShape {
                    field: "volume_id",
                    expected: "a volume UUID",
                })
            }
        };
        let target_discovered = d
            .get("target_discovered")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(FcConnection {
            targets,
            initiator_target_map,
            volume_id,
            target_discovered,
        })
    }
}

fn parse_wwpn(s: &str, field: &'static str) -> Result<Wwpn, FcInfoError> {
    s.parse()
        .map_err(|source| FcInfoError::BadWwpn { field, source })
}

fn wwpn_list(v: &Value, field: &'static str) -> Result<Vec<Wwpn>, FcInfoError> {
    let bad = || FcInfoError::BadShape {
        field,
        expected: "a WWPN string or a list of them",
    };
    match v {
        Value::String(s) => Ok(vec![parse_wwpn(s, field)?]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(bad)
                    .and_then(|s| parse_wwpn(s, field))
            })
            .collect(),
        _ => Err(bad()),
    }
}

fn lun(v: &Value, field: &'static str) -> Result<FcpLun, FcInfoError> {
    let out_of_range = |input: String| FcInfoError::LunOutOfRange { field, input };
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Ok(FcpLun::from_target_lun(u))
            } else if n.is_i64() {
                Err(out_of_range(n.to_string()))
            } else {
                Err(FcInfoError::BadLun {
                    field,
                    input: n.to_string(),
                })
            }
        }
        Value::String(s) => match s.trim().parse::<i128>() {
            Ok(i) => u64::try_from(i)
                .map(FcpLun::from_target_lun)
                .map_err(|_| out_of_range(s.clone())),
            Err(_) => Err(FcInfoError::BadLun {
                field,
                input: s.clone(),
            }),
        },
        other => Err(FcInfoError::BadLun {
            field,
            input: other.to_string(),
        }),
    }
}

impl Serialize for ConnectionInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Nested<'a> {
            driver_volume_type: &'a str,
            data: &'a Map<String, Value>,
        }
        Nested {
            driver_volume_type: &self.driver_volume_type,
            data: &self.data,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ConnectionInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Map::<String, Value>::deserialize(d)?;
        let driver_volume_type = match m.get("driver_volume_type") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(serde::de::Error::custom(
                    "connection_info lacks a driver_volume_type string",
                ))
            }
        };
        let data = match m.remove("data") {
            Some(Value::Object(data)) => data,
            Some(_) => {
                return Err(serde::de::Error::custom(
                    "connection_info data is not an object",
                ))
            }
            None => {
                for k in FLAT_ENVELOPE {
                    m.remove(k);
                }
                m
            }
        };
        Ok(Self {
            driver_volume_type,
            data,
        })
    }
}

/// Reads `{}` (an attachment without a connector yet) as `None`.
pub(crate) fn empty_object_as_none<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ConnectionInfo>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(Value::Object(m)) if m.is_empty() => Ok(None),
        Some(v) => ConnectionInfo::deserialize(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// One storage target port and the LUN the volume has behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FcTarget {
    /// Target port WWPN.
    pub wwpn: Wwpn,
    /// LUN behind that port.
    pub lun: FcpLun,
}

/// The typed FC reading of a connection info.
#[derive(Debug, Clone, PartialEq)]
pub struct FcConnection {
    /// Target ports with their LUNs, in Cinder's order.
    pub targets: Vec<FcTarget>,
    /// For each initiator, the target ports it can reach, when the backend
    /// zones.
    pub initiator_target_map: Option<BTreeMap<Wwpn, Vec<Wwpn>>>,
    /// The volume, when the driver says.
    pub volume_id: Option<VolumeId>,
    /// `target_discovered`.
    pub target_discovered: bool,
}

impl FcConnection {
    /// The LUN of the volume behind `target`: the paired LUN when the target
    /// is listed, else the LUN shared by all targets.
    pub fn lun_for(&self, target: Wwpn) -> Option<FcpLun> {
        if let Some(t) = self.targets.iter().find(|t| t.wwpn == target) {
            return Some(t.lun);
        }
        let first = self.targets.first()?.lun;
        self.targets.iter().all(|t| t.lun == first).then_some(first)
    }
}

/// The data an FC driver returns, in the form this project's simulator
/// produces: one LUN for every target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FcData {
    /// Always false for FC.
    pub target_discovered: bool,
    /// The SCSI id of the volume on the host.
    pub target_lun: u64,
    /// Storage ports that reach the initiators.
    pub target_wwn: Vec<Wwpn>,
    /// Per initiator, the reachable storage ports.
    pub initiator_target_map: BTreeMap<Wwpn, Vec<Wwpn>>,
    /// The volume.
    pub volume_id: VolumeId,
}

/// A connection info that is not a usable Fibre Channel one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FcInfoError {
    /// Another kind of volume (iSCSI, RBD, ...).
    #[error("volume is of type {driver_volume_type:?}, not fibre_channel")]
    NotFibreChannel {
        /// The type Cinder gave.
        driver_volume_type: String,
    },
    /// Neither `target_wwn` nor `target_wwns` names a target port.
    #[error("connection info names no target port (target_wwn / target_wwns)")]
    MissingTargets,
    /// Neither `target_lun` nor `target_luns` is present.
    #[error("connection info has no target_lun / target_luns")]
    MissingLun,
    /// A WWPN that does not parse.
    #[error("{field} holds a bad WWPN")]
    BadWwpn {
        /// The key.
        field: &'static str,
        /// The cause.
        #[source]
        source: fc_types::ParseError,
    },
    /// A LUN that is not an integer.
    #[error("{field} value {input} is not an integer LUN")]
    BadLun {
        /// The key.
        field: &'static str,
        /// The value.
        input: String,
    },
    /// A LUN that is negative or too large.
    #[error("{field} value {input} is out of range (0 to 2^64-1)")]
    LunOutOfRange {
        /// The key.
        field: &'static str,
        /// The value.
        input: String,
    },
    /// `target_luns` neither pairs one to one with the WWNs nor is one LUN.
    #[error("{wwns} target WWNs but {luns} target LUNs: they must pair up one to one, or one LUN must serve all")]
    LengthMismatch {
        /// Number of WWNs.
        wwns: usize,
        /// Number of LUNs.
        luns: usize,
    },
    /// A key of the wrong JSON type.
    #[error("{field} is not {expected}")]
    BadShape {
        /// The key.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
}
