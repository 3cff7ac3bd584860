//! The hardware and services of a simulated world, from TOML or from Rust.
//!
//! ```
//! use dpm_sim::WorldSpec;
//!
//! let spec = WorldSpec::from_toml(r#"
//!     [cpc]
//!     name = "Z1"
//!     model = "z16"
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
//! assert!(spec.cpc.storage_management);
//! let sim = dpm_sim::Sim::new(spec)?;
//! # Ok::<(), dpm_sim::SpecError>(())
//! ```

use std::time::Duration;

use cinder_client::ImageId;
use fc_types::{Wwnn, Wwpn};
use serde::{Deserialize, Serialize};

mod hmc;

use hmc::generation;
pub use hmc::{CpcSpec, HmcSpec};

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
    /// A CPC model dpm-sim does not know.
    #[error("cpc model {model:?} is not one of z13, z14, z15, z16, z17")]
    UnknownModel {
        /// The model named.
        model: String,
    },
    /// A named world dpm-sim does not have.
    #[error("there is no world named {name:?}; the named worlds are z13 and z16")]
    UnknownWorld {
        /// The name asked for.
        name: String,
    },
    /// The CPC's generation and its dpm-storage-management feature do not
    /// go together: a z13 never has it, every z14 and later has it.
    #[error("a CPC at SE {se_version} (generation z{generation}) {}", if *storage_management { "cannot have the dpm-storage-management feature (only z14 and later have it)" } else { "must have the dpm-storage-management feature (every z14 and later has it)" })]
    FeatureMismatch {
        /// The CPC's SE version.
        se_version: String,
        /// Its generation (13 for a z13).
        generation: u32,
        /// What the spec says about the feature.
        storage_management: bool,
    },
    /// The HMC does not manage the CPC: an HMC manages its own generation
    /// and the two before it, and needs at least the CPC's SE level.
    #[error("HMC {hmc_version} does not manage a CPC at SE {se_version}: an HMC 2.N manages z(N-2) to zN at an SE level up to its own")]
    HmcCannotManage {
        /// The HMC's version.
        hmc_version: String,
        /// The CPC's SE version.
        se_version: String,
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
    /// `type`: `fcp`, `fc` (FICON), `not-configured` (a FICON card not
    /// configured), `osd` (OSA), `network-express-hybrid`, `cna`, `roce`,
    /// `hipersockets`, `crypto`, `zedc` or `nvme`.
    #[serde(default = "default_adapter_type", rename = "type")]
    pub adapter_type: String,
    /// For each port, the fabric it is cabled to (`""` for none; network
    /// ports are never cabled to one); none for a crypto, zEDC or NVMe
    /// card.
    #[serde(default)]
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
    /// A guest told to shut down (Send OS Command): from the command to
    /// the partition `terminated`.
    pub guest_shutdown_ms: u64,
    /// `creating` → `available`. From an image, the first half is
    /// `creating` and the rest `downloading` (image deployment).
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
            guest_shutdown_ms: 4_000,
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
    pub(crate) fn guest_shutdown(&self) -> Duration {
        Duration::from_millis(self.guest_shutdown_ms)
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

/// The named worlds, as TOML.
const Z13_TOML: &str = include_str!("../../worlds/z13.toml");
const Z16_TOML: &str = include_str!("../../worlds/z16.toml");

impl Default for WorldSpec {
    /// [`WorldSpec::z16`].
    fn default() -> Self {
        Self::z16()
    }
}

impl WorldSpec {
    /// A z13 (2964, SE 2.13.1) in DPM mode without storage management,
    /// managed by an HMC 2.15.0 (API 3.1; the minor is unconfirmed): the
    /// HBA model. 8 IFLs, 64 GiB, two FCP adapters each cabled to its own
    /// fabric, a FICON adapter, one storage system with two target ports on
    /// each fabric, two images and the project `demo`
    /// (`worlds/z13.toml`).
    pub fn z13() -> Self {
        Self::builtin("z13", Z13_TOML)
    }

    /// A z16 (3931, SE 2.16.0) with the dpm-storage-management feature
    /// (storage groups; no HBAs), managed by an HMC 2.16.0 (API 4.10), with
    /// the same hardware as [`WorldSpec::z13`] (`worlds/z16.toml`). The
    /// default world.
    pub fn z16() -> Self {
        Self::builtin("z16", Z16_TOML)
    }

    /// A named world: `"z13"` or `"z16"`.
    pub fn named(name: &str) -> Result<Self, SpecError> {
        match name {
            "z13" => Ok(Self::z13()),
            "z16" => Ok(Self::z16()),
            _ => Err(SpecError::UnknownWorld { name: name.into() }),
        }
    }

    /// A world built into the crate; its TOML is checked by the tests, so
    /// this never panics.
    fn builtin(name: &str, toml: &str) -> Self {
        Self::from_toml(toml)
            .unwrap_or_else(|e| panic!("dpm-sim's built-in world {name} does not parse: {e}"))
    }

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

    /// A z13 never has the dpm-storage-management feature and every z14
    /// and later has it; the HMC manages the CPC (its own generation and
    /// the two before it, at an SE level up to its own).
    fn check_generations(&self) -> Result<(), SpecError> {
        let bad_version = |what: &str, v: &str| SpecError::Invalid {
            what: format!("{what} {v:?} is not a version 2.N.x"),
        };
        let se = generation(&self.cpc.se_version)
            .ok_or_else(|| bad_version("cpc se_version", &self.cpc.se_version))?;
        let hmc = generation(&self.hmc.version)
            .ok_or_else(|| bad_version("hmc version", &self.hmc.version))?;
        if (se.0 >= 14) != self.cpc.storage_management {
            return Err(SpecError::FeatureMismatch {
                se_version: self.cpc.se_version.clone(),
                generation: se.0,
                storage_management: self.cpc.storage_management,
            });
        }
        if hmc < se || hmc.0 > se.0 + 2 {
            return Err(SpecError::HmcCannotManage {
                hmc_version: self.hmc.version.clone(),
                se_version: self.cpc.se_version.clone(),
            });
        }
        Ok(())
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

    /// An adapter of a type dpm-sim knows, with ports as its family has
    /// them: 1 to 4 for a card with ports, none for a crypto, zEDC or NVMe
    /// card; only a FICON-family card's (storage) ports are cabled to a
    /// SAN fabric.
    fn check_adapter(&self, a: &AdapterSpec) -> Result<(), SpecError> {
        let invalid = |what: String| Err(SpecError::Invalid { what });
        let t = hmc_client::AdapterType::from(a.adapter_type.as_str());
        let Some(family) = crate::hmc::Family::of(&t) else {
            return invalid(format!(
                "adapter {:?} has type {:?}, which dpm-sim does not know",
                a.name, a.adapter_type
            ));
        };
        if a.pchid.is_empty()
            || a.pchid.len() > 3
            || !a.pchid.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return invalid(format!(
                "adapter {:?} has PCHID {:?}, not 1 to 3 hex digits",
                a.name, a.pchid
            ));
        }
        if !family.has_ports() {
            if !a.ports.is_empty() {
                return invalid(format!(
                    "adapter {:?} of type {} has no ports",
                    a.name, a.adapter_type
                ));
            }
            return Ok(());
        }
        if a.ports.is_empty() || a.ports.len() > 4 {
            return invalid(format!("adapter {:?} must have 1 to 4 ports", a.name));
        }
        for f in a.ports.iter().filter(|f| !f.is_empty()) {
            if !family.has_storage_ports() {
                return invalid(format!(
                    "adapter {:?} of type {} has network ports, which are not cabled to a SAN fabric",
                    a.name, a.adapter_type
                ));
            }
            self.fabric_index(f, &format!("adapter {:?}", a.name))?;
        }
        Ok(())
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
        // A periodic round must move time forward, or settling would never
        // end.
        if self.timings.auto_discovery_ms == 0 {
            return Err(SpecError::Invalid {
                what: "timings auto_discovery_ms must be at least 1".into(),
            });
        }
        for a in &self.adapters {
            self.check_adapter(a)?;
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
        self.hmc.api()?;
        self.check_generations()?;
        if self.cpc.memory_mib == 0 || self.cpc.ifl == 0 {
            return Err(SpecError::Invalid {
                what: "the CPC needs IFLs and memory".into(),
            });
        }
        Ok(())
    }
}
