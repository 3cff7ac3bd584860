//! The HMC and its CPC: credentials and versions, the CPC models by
//! generation, the CPC's own properties.

use serde::{Deserialize, Serialize};

use super::SpecError;

/// The HMC: logon credentials, and the versions it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmcSpec {
    /// User id.
    pub userid: String,
    /// Password.
    pub password: String,
    /// HMC version, e.g. "2.16.0" (`GET /api/version`'s `hmc-version`).
    #[serde(default = "default_hmc_version")]
    pub version: String,
    /// API version "major.minor" that `GET /api/version` and logon report.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// The API features the console and the CPC report ("List Console API
    /// Features", "List CPC API Features"; API 4.10 and later). None by
    /// default: dpm-sim models none of the operations they enable.
    #[serde(default)]
    pub api_features: Vec<String>,
}

fn default_hmc_version() -> String {
    "2.16.0".into()
}
fn default_api_version() -> String {
    "4.10".into()
}

impl Default for HmcSpec {
    fn default() -> Self {
        Self {
            userid: "admin".into(),
            password: "dpm-sim-password".into(),
            version: default_hmc_version(),
            api_version: default_api_version(),
            api_features: Vec::new(),
        }
    }
}

impl HmcSpec {
    /// The API version as (major, minor).
    pub fn api(&self) -> Result<(u32, u32), SpecError> {
        self.api_version
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| SpecError::Invalid {
                what: format!("hmc api_version {:?} is not MAJOR.MINOR", self.api_version),
            })
    }
}

/// What a CPC model fills in: machine type, SE version, and whether it has
/// the dpm-storage-management feature (every z14 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpcModel {
    /// The model's name, e.g. "z16".
    pub name: &'static str,
    /// Machine type.
    pub machine_type: &'static str,
    /// Machine model (one of the model's; the CPC reports it as
    /// `machine-model`).
    pub machine_model: &'static str,
    /// SE version.
    pub se_version: &'static str,
    /// Whether the dpm-storage-management feature is on.
    pub storage_management: bool,
}

/// The models `[cpc] model` may name. The z17's machine type, model and SE
/// level are unconfirmed in the public sources; each generation has more
/// models than the one named here (z13: N30 to NE1, z14: M01 to M05).
pub const CPC_MODELS: &[CpcModel] = &[
    CpcModel {
        name: "z13",
        machine_type: "2964",
        machine_model: "N63",
        se_version: "2.13.1",
        storage_management: false,
    },
    CpcModel {
        name: "z14",
        machine_type: "3906",
        machine_model: "M03",
        se_version: "2.14.1",
        storage_management: true,
    },
    CpcModel {
        name: "z15",
        machine_type: "8561",
        machine_model: "T01",
        se_version: "2.15.0",
        storage_management: true,
    },
    CpcModel {
        name: "z16",
        machine_type: "3931",
        machine_model: "A01",
        se_version: "2.16.0",
        storage_management: true,
    },
    CpcModel {
        name: "z17",
        machine_type: "9175",
        machine_model: "ME1",
        se_version: "2.17.0",
        storage_management: true,
    },
];

impl CpcModel {
    /// The model of this name.
    pub fn named(name: &str) -> Result<Self, SpecError> {
        CPC_MODELS
            .iter()
            .find(|m| m.name == name)
            .copied()
            .ok_or_else(|| SpecError::UnknownModel { model: name.into() })
    }
}

/// A version "2.N.x" as (N, x), e.g. "2.16.0" → (16, 0).
pub(super) fn generation(version: &str) -> Option<(u32, u32)> {
    let mut it = version.split('.');
    if it.next()? != "2" {
        return None;
    }
    let n = it.next()?.parse().ok()?;
    let x = it.next().map_or(Some(0), |x| x.parse().ok())?;
    Some((n, x))
}

/// The CPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CpcToml")]
pub struct CpcSpec {
    /// CPC name.
    pub name: String,
    /// The model ("z13" to "z17") that filled in the machine type, SE
    /// version and feature, if the spec named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Installed IFLs.
    pub ifl: u32,
    /// Customer memory, MiB.
    pub memory_mib: u64,
    /// DPM mode.
    pub dpm: bool,
    /// Whether the `dpm-storage-management` feature is on (z14+ storage
    /// groups; HBAs do not exist then).
    pub storage_management: bool,
    /// `status`.
    pub status: String,
    /// Support element version.
    pub se_version: String,
    /// Machine type.
    pub machine_type: String,
    /// Machine model (`machine-model`).
    pub machine_model: String,
    /// Serial number (`machine-serial-number` and `cpc-serial-number`).
    pub serial: String,
    /// Most partitions.
    pub maximum_partitions: u32,
}

/// `[cpc]` as written: `model` fills in what is left out; without a model
/// the CPC is a z13 (2964, SE 2.13.1, no storage management).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CpcToml {
    name: String,
    #[serde(default)]
    model: Option<String>,
    ifl: u32,
    memory_mib: u64,
    #[serde(default = "yes")]
    dpm: bool,
    #[serde(default)]
    storage_management: Option<bool>,
    #[serde(default = "default_cpc_status")]
    status: String,
    #[serde(default)]
    se_version: Option<String>,
    #[serde(default)]
    machine_type: Option<String>,
    #[serde(default)]
    machine_model: Option<String>,
    #[serde(default)]
    serial: Option<String>,
    #[serde(default = "default_max_partitions")]
    maximum_partitions: u32,
}

impl TryFrom<CpcToml> for CpcSpec {
    type Error = SpecError;
    fn try_from(t: CpcToml) -> Result<Self, SpecError> {
        let model = t
            .model
            .as_deref()
            .map(CpcModel::named)
            .transpose()?
            .unwrap_or(CPC_MODELS[0]);
        let serial = t.serial.unwrap_or_else(|| default_serial(&t.name));
        if serial.is_empty()
            || serial.len() > 12
            || !serial
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(SpecError::Invalid {
                what: format!("cpc serial {serial:?} is not 1 to 12 of A-Z and 0-9"),
            });
        }
        Ok(Self {
            serial,
            machine_model: t
                .machine_model
                .unwrap_or_else(|| model.machine_model.into()),
            name: t.name,
            model: t.model,
            ifl: t.ifl,
            memory_mib: t.memory_mib,
            dpm: t.dpm,
            storage_management: t.storage_management.unwrap_or(model.storage_management),
            status: t.status,
            se_version: t.se_version.unwrap_or_else(|| model.se_version.into()),
            machine_type: t.machine_type.unwrap_or_else(|| model.machine_type.into()),
            maximum_partitions: t.maximum_partitions,
        })
    }
}

/// A CPC's serial number when the spec gives none: 12 characters, zeros
/// then four hex digits drawn from the name, so a world keeps its serial
/// from run to run (the shape of the serials zhmcclient's mock and
/// recorded data show: 12 characters, zero-padded; the real numbering is
/// IBM's own).
fn default_serial(name: &str) -> String {
    let h = name.bytes().fold(0x811c_9dc5_u32, |acc, b| {
        (acc ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("00000002{:04X}", h & 0xffff)
}

fn yes() -> bool {
    true
}
fn default_cpc_status() -> String {
    "active".into()
}
fn default_max_partitions() -> u32 {
    85
}
