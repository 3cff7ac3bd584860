//! The driver's configuration: nova-dpm's `[dpm]` options, for parity.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use fc_types::Wwpn;
use hmc_client::{AdapterUri, CpcUri, Secret};
use serde::Deserialize;

/// A configuration that cannot be used. Each says what to fix.
/// The longest `host`: `OpenStack-` + host + `-` + a 36-character UUID must
/// fit the HMC's 64-character names (partitions and storage groups).
pub const MAX_HOST_LEN: usize = 64 - "OpenStack-".len() - 1 - 36;

/// The `[dpm]` configuration cannot be used. No variant quotes the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not TOML of the expected shape. The parser's own error
    /// is not kept: it quotes the whole input, password included.
    #[error("the configuration is not valid for the [dpm] section (line {line}): {message}")]
    Toml {
        /// The parser's message, or a redacted one when it concerns the
        /// password.
        message: String,
        /// The 1-based line, 0 when unknown.
        line: usize,
    },
    /// `hmc_password` is not in the file, and the caller has none.
    #[error("[dpm] hmc_password is missing")]
    MissingHmcPassword,
    /// `host` is empty.
    #[error("[dpm] host must name this compute host")]
    MissingHost,
    /// `host` does not fit in a partition (or storage group) name.
    #[error("[dpm] host {value:?} is {len} characters; partition names are OpenStack-<host>-<instance uuid> and at most 64 long, so host may have at most {MAX_HOST_LEN} printable ASCII characters")]
    BadHost {
        /// The value given.
        value: String,
        /// Its length in characters.
        len: usize,
    },
    /// `cpc_object_id` is not a UUID.
    #[error("[dpm] cpc_object_id {value:?} is not a CPC object id (a UUID)")]
    BadCpcObjectId {
        /// The value given.
        value: String,
    },
    /// `max_processors` is zero.
    #[error("[dpm] max_processors must be at least 1")]
    NoProcessors,
    /// `max_boot_attempts` is zero.
    #[error("[dpm] max_boot_attempts must be at least 1")]
    NoBootAttempts,
    /// `max_memory` below 512 MiB.
    #[error("[dpm] max_memory is {value} MiB; it must be at least 512")]
    MaxMemoryTooSmall {
        /// The value given.
        value: u64,
    },
    /// No adapter mappings.
    #[error("[dpm] physical_storage_adapter_mappings is empty: name at least one \"<adapter object-id>:<port>\"")]
    NoAdapterMappings,
    /// A mapping that does not parse.
    #[error("[dpm] physical_storage_adapter_mappings entry {value:?} is not \"<adapter object-id>:<port 0-3>\"")]
    BadAdapterMapping {
        /// The value given.
        value: String,
    },
    /// A `target_wwpn_ignore_list` entry that is not a WWPN.
    #[error("[dpm] target_wwpn_ignore_list entry {entry}, {value:?}, is not a WWPN")]
    BadTargetWwpn {
        /// The entry's 1-based position.
        entry: usize,
        /// The value given.
        value: String,
    },
    /// `guest_shutdown_command` is empty or more than one line.
    #[error("[dpm] guest_shutdown_command {value:?} must be one non-empty command line (no line breaks)")]
    BadGuestShutdownCommand {
        /// The value given (at most 80 characters of it).
        value: String,
    },
    /// The same adapter port twice.
    #[error("[dpm] physical_storage_adapter_mappings names {value} twice")]
    DuplicateAdapterMapping {
        /// The repeated mapping.
        value: String,
    },
}

/// One FCP adapter port assigned to the OpenStack domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdapterMapping {
    /// The adapter.
    pub adapter: AdapterUri,
    /// The port index, 0 to 3.
    pub port: u8,
}

impl FromStr for AdapterMapping {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadAdapterMapping { value: s.into() };
        let (id, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let port: u8 = port.parse().map_err(|_| bad())?;
        if port > 3 || !is_uuid(id) {
            return Err(bad());
        }
        Ok(Self {
            adapter: AdapterUri::from_object_id(&id.to_ascii_lowercase()).map_err(|_| bad())?,
            port,
        })
    }
}

impl fmt::Display for AdapterMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.adapter.object_id(), self.port)
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// The driver's configuration.
#[derive(Clone)]
pub struct DriverConfig {
    /// This compute host's name, used in partition names.
    pub host: String,
    /// HMC address.
    pub hmc: String,
    /// HMC user id.
    pub hmc_username: String,
    /// HMC password; never printed.
    pub hmc_password: Secret,
    /// The CPC this host manages.
    pub cpc: CpcUri,
    /// Most IFLs for this host's partitions together.
    pub max_processors: u32,
    /// Most memory for this host's partitions together, MiB.
    pub max_memory: u64,
    /// FCP adapter ports assigned to the domain; the first is the boot path.
    pub adapter_mappings: Vec<AdapterMapping>,
    /// Storage target ports never used for boot.
    pub target_wwpn_ignore_list: Vec<Wwpn>,
    /// On a CPC without storage management: how many boot paths (vHBA,
    /// target) a spawn tries before it gives up, each a start that failed.
    /// Cinder's map may list targets the boot vHBA cannot reach (Storwize
    /// answers a partition that has not logged in with every port).
    pub max_boot_attempts: u32,
    /// The longest wait for one HMC job.
    pub job_timeout: Duration,
    /// Whether spawn hands the boot volume's paths to the SCSI IPL loader
    /// as `rd.zfcp=` entries in the partition's
    /// `boot-os-specific-parameters` (in the update that sets the boot
    /// properties), so that a prepared image finds its root volume on
    /// every path. On by default.
    pub boot_os_specific_parameters: bool,
    /// The command line a clean shutdown sends the guest (Send OS
    /// Command) before its partition is stopped: `shutdown -h now` by
    /// default.
    pub guest_shutdown_command: String,
}

/// The default of `guest_shutdown_command`.
pub const DEFAULT_GUEST_SHUTDOWN_COMMAND: &str = "shutdown -h now";

impl fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverConfig")
            .field("host", &self.host)
            .field("hmc", &self.hmc)
            .field("hmc_username", &self.hmc_username)
            .field("hmc_password", &self.hmc_password)
            .field("cpc", &self.cpc)
            .field("max_processors", &self.max_processors)
            .field("max_memory", &self.max_memory)
            .field("adapter_mappings", &self.adapter_mappings)
            .field("target_wwpn_ignore_list", &self.target_wwpn_ignore_list)
            .field("max_boot_attempts", &self.max_boot_attempts)
            .field("job_timeout", &self.job_timeout)
            .field(
                "boot_os_specific_parameters",
                &self.boot_os_specific_parameters,
            )
            .field("guest_shutdown_command", &self.guest_shutdown_command)
            .finish()
    }
}

/// The `[dpm]` options as given, before they are checked: one set of
/// names for every front end (the `dpm` CLI reads them from TOML, Nova's
/// driver from `nova.conf` through oslo.config). Each field is the option
/// of the same name; [`DriverConfig::from_options`] checks them all.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DpmOptions {
    /// This compute host's name (Nova: `[DEFAULT] host`).
    pub host: String,
    /// The HMC's address, `https://host[:port]`.
    pub hmc: String,
    /// The HMC user id.
    pub hmc_username: String,
    /// The HMC password.
    #[serde(default)]
    pub hmc_password: Option<Secret>,
    /// The CPC's object id (a UUID).
    pub cpc_object_id: String,
    /// Most IFLs for this host's partitions together.
    pub max_processors: u32,
    /// Most memory for this host's partitions together, MiB.
    pub max_memory: u64,
    /// `"<adapter object-id>:<port>"`, one per FCP adapter port.
    #[serde(default)]
    pub physical_storage_adapter_mappings: Vec<String>,
    /// Storage target WWPNs never used for boot.
    #[serde(default)]
    pub target_wwpn_ignore_list: Vec<String>,
    /// Boot paths a z13 spawn tries before it gives up.
    #[serde(default = "default_boot_attempts")]
    pub max_boot_attempts: u32,
    /// The longest wait for one HMC job, seconds.
    #[serde(default = "default_job_timeout")]
    pub job_timeout_seconds: u64,
    /// Whether spawn hands the boot volume's paths to the loader.
    #[serde(default = "default_true")]
    pub boot_os_specific_parameters: bool,
    /// The command a clean shutdown sends the guest.
    #[serde(default = "default_guest_shutdown_command")]
    pub guest_shutdown_command: String,
}

impl DpmOptions {
    /// The required options, every other at its default.
    pub fn new(
        host: impl Into<String>,
        hmc: impl Into<String>,
        hmc_username: impl Into<String>,
        cpc_object_id: impl Into<String>,
        max_processors: u32,
        max_memory: u64,
    ) -> Self {
        Self {
            host: host.into(),
            hmc: hmc.into(),
            hmc_username: hmc_username.into(),
            hmc_password: None,
            cpc_object_id: cpc_object_id.into(),
            max_processors,
            max_memory,
            physical_storage_adapter_mappings: Vec::new(),
            target_wwpn_ignore_list: Vec::new(),
            max_boot_attempts: default_boot_attempts(),
            job_timeout_seconds: default_job_timeout(),
            boot_os_specific_parameters: true,
            guest_shutdown_command: default_guest_shutdown_command(),
        }
    }
}

impl fmt::Debug for DpmOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpmOptions")
            .field("host", &self.host)
            .field("hmc", &self.hmc)
            .field("hmc_username", &self.hmc_username)
            .field("hmc_password", &self.hmc_password)
            .field("cpc_object_id", &self.cpc_object_id)
            .finish_non_exhaustive()
    }
}

fn default_guest_shutdown_command() -> String {
    DEFAULT_GUEST_SHUTDOWN_COMMAND.to_owned()
}

fn default_true() -> bool {
    true
}

/// A TOML error without the input text; an error about a line that holds a
/// password does not repeat the value. Callers that read other sections of
/// the same file use it too.
pub fn toml_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, line_text) = match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            (line, text.lines().nth(line - 1).unwrap_or_default())
        }
        None => (0, ""),
    };
    let key = line_text.split('=').next().unwrap_or_default().trim();
    let message = if key.contains("password") {
        format!("{key} must be a string (value not shown)")
    } else {
        e.message().to_owned()
    };
    ConfigError::Toml { message, line }
}

fn default_boot_attempts() -> u32 {
    4
}

fn default_job_timeout() -> u64 {
    900
}

#[derive(Deserialize)]
struct RawFile {
    dpm: DpmOptions,
}

impl DriverConfig {
    /// Reads the `[dpm]` section of a TOML file (other sections are left to
    /// their owners) and validates it.
    ///
    /// ```
    /// let cfg = dpm_driver::DriverConfig::from_toml(r#"
    ///     [dpm]
    ///     host = "compute-1"
    ///     hmc = "https://hmc.example.com:6794"
    ///     hmc_username = "nova"
    ///     hmc_password = "s3cret"
    ///     cpc_object_id = "C0000001-63D7-11F0-8067-FA163ED76C47"
    ///     max_processors = 4
    ///     max_memory = 16384
    ///     physical_storage_adapter_mappings = ["a0000002-63d7-11f0-8067-fa163ed76c47:0"]
    /// "#)?;
    /// assert_eq!(cfg.cpc.object_id(), "c0000001-63d7-11f0-8067-fa163ed76c47");
    /// assert!(!format!("{cfg:?}").contains("s3cret"));
    /// # Ok::<(), dpm_driver::ConfigError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_with_password(text, None)
    }

    /// [`from_toml`](Self::from_toml), with the HMC password to use when
    /// `[dpm]` has no `hmc_password` (one from the environment or a
    /// prompt); the file's wins.
    pub fn from_toml_with_password(
        text: &str,
        hmc_password: Option<Secret>,
    ) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        Self::from_options(raw.dpm, hmc_password)
    }

    /// Checks the options and makes the configuration; `fallback_password`
    /// is used when the options hold none. Every error names the option.
    pub fn from_options(
        r: DpmOptions,
        fallback_password: Option<Secret>,
    ) -> Result<Self, ConfigError> {
        let hmc_password = r
            .hmc_password
            .or(fallback_password)
            .ok_or(ConfigError::MissingHmcPassword)?;
        if r.host.trim().is_empty() {
            return Err(ConfigError::MissingHost);
        }
        let len = r.host.chars().count();
        if len > MAX_HOST_LEN || !r.host.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ConfigError::BadHost {
                value: r.host.chars().take(80).collect(),
                len,
            });
        }
        let cpc_id = r.cpc_object_id.to_ascii_lowercase();
        if !is_uuid(&cpc_id) {
            return Err(ConfigError::BadCpcObjectId {
                value: r.cpc_object_id,
            });
        }
        let cpc = CpcUri::from_object_id(&cpc_id).map_err(|_| ConfigError::BadCpcObjectId {
            value: r.cpc_object_id.clone(),
        })?;
        if r.max_processors == 0 {
            return Err(ConfigError::NoProcessors);
        }
        if r.max_boot_attempts == 0 {
            return Err(ConfigError::NoBootAttempts);
        }
        if r.max_memory < 512 {
            return Err(ConfigError::MaxMemoryTooSmall {
                value: r.max_memory,
            });
        }
        if r.physical_storage_adapter_mappings.is_empty() {
            return Err(ConfigError::NoAdapterMappings);
        }
        let mut seen = BTreeSet::new();
        let mut adapter_mappings = Vec::new();
        for m in &r.physical_storage_adapter_mappings {
            let m: AdapterMapping = m.parse()?;
            if !seen.insert(m.clone()) {
                return Err(ConfigError::DuplicateAdapterMapping {
                    value: m.to_string(),
                });
            }
            adapter_mappings.push(m);
        }
        let mut target_wwpn_ignore_list = Vec::new();
        for (i, w) in r.target_wwpn_ignore_list.iter().enumerate() {
            let wwpn = w.parse().map_err(|_| ConfigError::BadTargetWwpn {
                entry: i + 1,
                value: w.chars().take(80).collect(),
            })?;
            target_wwpn_ignore_list.push(wwpn);
        }
        let command = &r.guest_shutdown_command;
        if command.trim().is_empty() || command.contains(['\n', '\r']) {
            return Err(ConfigError::BadGuestShutdownCommand {
                value: command.chars().take(80).collect(),
            });
        }
        Ok(Self {
            host: r.host,
            hmc: r.hmc,
            hmc_username: r.hmc_username,
            hmc_password,
            cpc,
            max_processors: r.max_processors,
            max_memory: r.max_memory,
            adapter_mappings,
            target_wwpn_ignore_list,
            max_boot_attempts: r.max_boot_attempts,
            job_timeout: Duration::from_secs(r.job_timeout_seconds),
            boot_os_specific_parameters: r.boot_os_specific_parameters,
            guest_shutdown_command: r.guest_shutdown_command.trim().to_owned(),
        })
    }
}
