//! The hardware and services of a simulated world, from TOML or from Rust.
//!
//! ```
//! use dpm_sim::WorldSpec;
//!
//! let spec = WorldSpec::from_toml(r#"
//!     [cpc]
//!     name = "Z1"
//!     ifl = 4
//!     memory_mib = 8192
//!
//!     [[fabric]]
//!     name = "A"
//!     wwn = "100000051e000001"
//!
//!     [[adapter]]
//!     name = "FCP 0118"
//!     pchid = "118"
//!     ports = ["A"]
//!
//!     [storage]
//!     name = "svc1"
//!     node_ports = [{ wwpn = "2100000e1e000001", fabric = "A" }]
//!     target_ports = [{ wwpn = "500507680b2155ab", fabric = "A" }]
//!
//!     [[image]]
//!     id = "3f1c6a5e-6f0b-4c1e-9d47-9b8f1b1a0001"
//!     name = "rhel-9.4"
//! "#)?;
//! assert_eq!(spec.cpc.ifl, 4);
//! let sim = dpm_sim::Sim::new(spec)?;
//! # Ok::<(), dpm_sim::SpecError>(())
//! ```

use std::time::Duration;

use cinder_client::ImageId;
use fc_types::{Wwnn, Wwpn};
use serde::{Deserialize, Serialize};

/// A world spec that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The TOML text does not parse into a spec.
    #[error("world spec is not valid TOML for a world")]
    Toml(#[source] toml::de::Error),
    /// A reference to a fabric that is not defined.
    #[error("{what} names fabric {fabric:?}, which is not defined")]
    UnknownFabric {
        /// Where the reference is.
        what: String,
        /// The missing fabric.
        fabric: String,
    },
    /// Two things share a name or WWN that must be unique.
    #[error("{what} {value} is defined twice")]
    Duplicate {
        /// Kind of thing.
        what: &'static str,
        /// The repeated value.
        value: String,
    },
    /// A value out of its range.
    #[error("{what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
}

/// The whole world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// HMC logon credentials the simulator accepts.
    #[serde(default)]
    pub hmc: HmcSpec,
    /// The Keystone user the simulator accepts.
    #[serde(default)]
    pub keystone: KeystoneSpec,
    /// What the simulated Cinder offers.
    #[serde(default)]
    pub cinder: CinderSpec,
    /// The CPC.
    pub cpc: CpcSpec,
    /// SAN fabrics.
    #[serde(default, rename = "fabric")]
    pub fabrics: Vec<FabricSpec>,
    /// Adapters of the CPC.
    #[serde(default, rename = "adapter")]
    pub adapters: Vec<AdapterSpec>,
    /// The storage system behind Cinder.
    pub storage: StorageSpec,
    /// Images volumes can be created from.
    #[serde(default, rename = "image")]
    pub images: Vec<ImageSpec>,
    /// Cinder projects.
    #[serde(default = "default_projects", rename = "project")]
    pub projects: Vec<ProjectSpec>,
    /// How long transitions take in automatic clock mode.
    #[serde(default)]
    pub timings: Timings,
}

/// HMC credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmcSpec {
    /// User id.
    pub userid: String,
    /// Password.
    pub password: String,
}

impl Default for HmcSpec {
    fn default() -> Self {
        Self {
            userid: "admin".into(),
            password: "dpm-sim-password".into(),
        }
    }
}

/// The Keystone user (in domain `Default`) and its tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeystoneSpec {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// How long a token lives, in seconds.
    pub token_lifetime_s: u64,
}

impl Default for KeystoneSpec {
    fn default() -> Self {
        Self {
            username: "admin".into(),
            password: "dpm-sim-password".into(),
            token_lifetime_s: 3600,
        }
    }
}

/// What the simulated Cinder offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CinderSpec {
    /// The highest microversion, "3.N" (3.71 by default; below 3.44 there
    /// is no complete attachments API and clients use the legacy actions).
    pub max_microversion: String,
    /// Serve Cinder without Keystone (`auth_strategy = noauth`): the
    /// project comes from the URL and no token is asked for.
    pub noauth: bool,
}

impl Default for CinderSpec {
    fn default() -> Self {
        Self {
            max_microversion: "3.71".into(),
            noauth: false,
        }
    }
}

impl CinderSpec {
    /// The highest microversion as (3, N).
    pub fn max(&self) -> Result<(u32, u32), SpecError> {
        self.max_microversion
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .filter(|v: &(u32, u32)| v.0 == 3)
            .ok_or_else(|| SpecError::Invalid {
                what: format!(
                    "cinder max_microversion {:?} is not 3.N",
                    self.max_microversion
                ),
            })
    }
}

/// The CPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpcSpec {
    /// CPC name.
    pub name: String,
    /// Installed IFLs.
    pub ifl: u32,
    /// Customer memory, MiB.
    pub memory_mib: u64,
    /// DPM mode.
    #[serde(default = "yes")]
    pub dpm: bool,
    /// Whether the `dpm-storage-management` feature is on (z14+ storage
    /// groups; HBAs do not exist then).
    #[serde(default)]
    pub storage_management: bool,
    /// `status`.
    #[serde(default = "default_cpc_status")]
    pub status: String,
    /// Support element version.
    #[serde(default = "default_se_version")]
    pub se_version: String,
    /// Machine type.
    #[serde(default = "default_machine_type")]
    pub machine_type: String,
    /// Most partitions.
    #[serde(default = "default_max_partitions")]
    pub maximum_partitions: u32,
}

fn yes() -> bool {
    true
}
fn default_cpc_status() -> String {
    "active".into()
}
fn default_se_version() -> String {
    "2.13.1".into()
}
fn default_machine_type() -> String {
    "2964".into()
}
fn default_max_partitions() -> u32 {
    85
}

/// A SAN fabric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSpec {
    /// Name used in references.
    pub name: String,
    /// Fabric WWN, reported as `fabric-id`.
    pub wwn: Wwnn,
}

/// An adapter card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterSpec {
    /// Adapter name.
    pub name: String,
    /// PCHID, hex.
    pub pchid: String,
    /// `type`: `fcp`, `fc` (FICON), `osd`, ...
    #[serde(default = "default_adapter_type", rename = "type")]
    pub adapter_type: String,
    /// For each port, the fabric it is cabled to (`""` for none).
    pub ports: Vec<String>,
}

fn default_adapter_type() -> String {
    "fcp".into()
}

/// A port on a fabric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricPort {
    /// Port WWPN.
    pub wwpn: Wwpn,
    /// Fabric name.
    pub fabric: String,
}

/// The storage system (an SVC/Storwize-like backend) and the Cinder node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// System name.
    pub name: String,
    /// The Cinder node's own initiator ports, used for image deployment.
    pub node_ports: Vec<FabricPort>,
    /// The storage system's target ports.
    pub target_ports: Vec<FabricPort>,
}

/// An image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    /// Image id (`imageRef`).
    pub id: ImageId,
    /// Name.
    pub name: String,
}

/// A Cinder project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// Project name.
    pub name: String,
}

impl ProjectSpec {
    /// The project id Keystone reports: 32 hex digits derived from the name,
    /// so that it is the same in every run.
    pub fn id(&self) -> String {
        // FNV-1a, twice with different offsets, for 128 bits.
        let h = |offset: u64| {
            self.name.bytes().fold(offset, |acc, b| {
                (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        format!(
            "{:016x}{:016x}",
            h(0xcbf2_9ce4_8422_2325),
            h(0x6c62_272e_07bb_0142)
        )
    }
}

fn default_projects() -> Vec<ProjectSpec> {
    vec![ProjectSpec {
        name: "demo".into(),
    }]
}

/// Durations of the simulated transitions (automatic clock mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timings {
    /// `starting` → `active`, in milliseconds.
    pub partition_start_ms: u64,
    /// `stopping` → `stopped`.
    pub partition_stop_ms: u64,
    /// `creating` → `available` (image deployment included).
    pub volume_create_ms: u64,
    /// `deleting` → gone.
    pub volume_delete_ms: u64,
    /// A storage group's FCP discovery job, from start to end.
    pub discovery_ms: u64,
    /// The interval of automatic discovery of storage groups that are not
    /// complete (10 simulated minutes).
    pub auto_discovery_ms: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            partition_start_ms: 3_000,
            partition_stop_ms: 1_500,
            volume_create_ms: 2_000,
            volume_delete_ms: 500,
            discovery_ms: 5_000,
            auto_discovery_ms: 600_000,
        }
    }
}

impl Timings {
    pub(crate) fn start(&self) -> Duration {
        Duration::from_millis(self.partition_start_ms)
    }
    pub(crate) fn stop(&self) -> Duration {
        Duration::from_millis(self.partition_stop_ms)
    }
    pub(crate) fn volume_create(&self) -> Duration {
        Duration::from_millis(self.volume_create_ms)
    }
    pub(crate) fn volume_delete(&self) -> Duration {
        Duration::from_millis(self.volume_delete_ms)
    }
    pub(crate) fn discovery(&self) -> Duration {
        Duration::from_millis(self.discovery_ms)
    }
    pub(crate) fn auto_discovery(&self) -> Duration {
        Duration::from_millis(self.auto_discovery_ms)
    }
}

fn wwpn(s: &str) -> Wwpn {
    Wwpn::from_u64(u64::from_str_radix(s, 16).unwrap_or_default())
}

impl Default for WorldSpec {
    /// One DPM CPC without storage management (8 IFLs, 64 GiB), two FCP
    /// adapters each cabled to its own fabric, a FICON adapter, one storage
    /// system with two target ports on each fabric, two images and the
    /// project `demo`.
    fn default() -> Self {
        let port = |w: &str, f: &str| FabricPort {
            wwpn: wwpn(w),
            fabric: f.into(),
        };
        Self {
            hmc: HmcSpec::default(),
            keystone: KeystoneSpec::default(),
            cinder: CinderSpec::default(),
            cpc: CpcSpec {
                name: "CPC1".into(),
                ifl: 8,
                memory_mib: 65_536,
                dpm: true,
                storage_management: false,
                status: default_cpc_status(),
                se_version: default_se_version(),
                machine_type: default_machine_type(),
                maximum_partitions: default_max_partitions(),
            },
            fabrics: vec![
                FabricSpec {
                    name: "A".into(),
                    wwn: Wwnn::from_u64(0x1000_0005_1e00_000a),
                },
                FabricSpec {
                    name: "B".into(),
                    wwn: Wwnn::from_u64(0x1000_0005_1e00_000b),
                },
            ],
            adapters: vec![
                AdapterSpec {
                    name: "FCP 0118 A13B-D104".into(),
                    pchid: "118".into(),
                    adapter_type: "fcp".into(),
                    ports: vec!["A".into()],
                },
                AdapterSpec {
                    name: "FCP 0119 A13B-D105".into(),
                    pchid: "119".into(),
                    adapter_type: "fcp".into(),
                    ports: vec!["B".into()],
                },
                AdapterSpec {
                    name: "FICON 0150 A23B-07".into(),
                    pchid: "150".into(),
                    adapter_type: "fc".into(),
                    ports: vec!["A".into()],
                },
            ],
            storage: StorageSpec {
                name: "svc1".into(),
                node_ports: vec![port("2100000e1e0a0001", "A"), port("2100000e1e0b0001", "B")],
                target_ports: vec![
                    port("500507680b2155ab", "A"),
                    port("500507680b2155ac", "A"),
                    port("500507680b2255ab", "B"),
                    port("500507680b2255ac", "B"),
                ],
            },
            images: vec![
                ImageSpec {
                    id: ImageId::from_u128(0x3f1c_6a5e_6f0b_4c1e_9d47_9b8f_1b1a_0001),
                    name: "rhel-9.4-s390x".into(),
                },
                ImageSpec {
                    id: ImageId::from_u128(0x3f1c_6a5e_6f0b_4c1e_9d47_9b8f_1b1a_0002),
                    name: "ubuntu-24.04-s390x".into(),
                },
            ],
            projects: default_projects(),
            timings: Timings::default(),
        }
    }
}

impl WorldSpec {
    /// Reads a spec from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, SpecError> {
        toml::from_str(text).map_err(SpecError::Toml)
    }

    /// Sets the CPC's customer memory (MiB).
    pub fn with_memory_mib(mut self, mib: u64) -> Self {
        self.cpc.memory_mib = mib;
        self
    }

    /// Sets the CPC's IFL count.
    pub fn with_ifls(mut self, n: u32) -> Self {
        self.cpc.ifl = n;
        self
    }

    /// Adds an image.
    pub fn with_image(mut self, id: ImageId, name: &str) -> Self {
        self.images.push(ImageSpec {
            id,
            name: name.into(),
        });
        self
    }

    /// Adds a Cinder project.
    pub fn with_project(mut self, name: &str) -> Self {
        self.projects.push(ProjectSpec { name: name.into() });
        self
    }

    /// Index of the named fabric.
    pub(crate) fn fabric_index(&self, name: &str, what: &str) -> Result<usize, SpecError> {
        self.fabrics
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| SpecError::UnknownFabric {
                what: what.into(),
                fabric: name.into(),
            })
    }

    /// Checks every cross-reference and uniqueness rule.
    pub fn validate(&self) -> Result<(), SpecError> {
        fn unique<T: Ord + ToString>(
            what: &'static str,
            items: impl IntoIterator<Item = T>,
        ) -> Result<(), SpecError> {
            let mut seen = std::collections::BTreeSet::new();
            for i in items {
                let s = i.to_string();
                if !seen.insert(i) {
                    return Err(SpecError::Duplicate { what, value: s });
                }
            }
            Ok(())
        }
        unique("fabric", self.fabrics.iter().map(|f| f.name.clone()))?;
        unique("adapter", self.adapters.iter().map(|a| a.name.clone()))?;
        unique(
            "adapter PCHID",
            self.adapters.iter().map(|a| a.pchid.clone()),
        )?;
        unique(
            "port WWPN",
            self.storage
                .node_ports
                .iter()
                .chain(&self.storage.target_ports)
                .map(|p| p.wwpn),
        )?;
        unique("image", self.images.iter().map(|i| i.id.clone()))?;
        unique("project", self.projects.iter().map(|p| p.name.clone()))?;
        for a in &self.adapters {
            if a.ports.is_empty() || a.ports.len() > 4 {
                return Err(SpecError::Invalid {
                    what: format!("adapter {:?} must have 1 to 4 ports", a.name),
                });
            }
            for f in a.ports.iter().filter(|f| !f.is_empty()) {
                self.fabric_index(f, &format!("adapter {:?}", a.name))?;
            }
        }
        for p in self
            .storage
            .node_ports
            .iter()
            .chain(&self.storage.target_ports)
        {
            self.fabric_index(&p.fabric, &format!("storage port {}", p.wwpn))?;
        }
        self.cinder.max()?;
        if self.cpc.memory_mib == 0 || self.cpc.ifl == 0 {
            return Err(SpecError::Invalid {
                what: "the CPC needs IFLs and memory".into(),
            });
        }
        Ok(())
    }
}
