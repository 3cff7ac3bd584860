//! The `dpm` configuration file: the driver's `[dpm]` section, plus how to
//! reach the HMC (`[hmc]`: TLS) and Cinder (`[cinder]`: Keystone or a
//! fixed endpoint; or clouds.yaml, or the `OS_*` variables: see
//! [`credentials`]).

use std::path::{Path, PathBuf};

use cinder_client::{CinderAuth, CinderHttpConfig};
use dpm_driver::{ConfigError, DriverConfig};
use hmc_client::{Credentials, HttpConfig, TlsVerify};
use serde::Deserialize;

use crate::credentials::{self, CredentialsError, Keystone, Sources};
use crate::schema::{self, Problem};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HmcSection {
    /// CA certificates (PEM) to trust for the HMC.
    #[serde(default)]
    ca_file: Option<PathBuf>,
    /// Trust the platform's roots instead of a CA file.
    #[serde(default)]
    system_roots: bool,
    /// Do not verify the HMC's certificate at all.
    #[serde(default)]
    danger_accept_invalid_certs: bool,
    /// The port of the HMC's notification service (61612); 0 polls every
    /// job instead.
    #[serde(default)]
    notification_port: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CinderSection {
    #[serde(default)]
    auth_url: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    project_name: Option<String>,
    #[serde(default = "default_domain")]
    user_domain_name: String,
    #[serde(default = "default_domain")]
    project_domain_name: String,
    /// Without Keystone: the volume endpoint with the project id.
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    /// The catalog's region (all regions when unset).
    #[serde(default)]
    region_name: Option<String>,
    /// The catalog's interface (public when unset).
    #[serde(default)]
    interface: Option<String>,
}

fn default_domain() -> String {
    "Default".into()
}

#[derive(Debug, Deserialize)]
struct DpmPeek {
    #[serde(default)]
    hmc_password: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    hmc_username: Option<String>,
    #[serde(default)]
    hmc: Option<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    dpm: Option<DpmPeek>,
    #[serde(default)]
    hmc: HmcSection,
    #[serde(default)]
    cinder: Option<CinderSection>,
}

/// Everything `dpm` needs to talk to a site.
#[derive(Debug)]
pub struct CliConfig {
    pub driver: DriverConfig,
    pub hmc: HttpConfig,
    pub cinder: CinderHttpConfig,
}

/// A configuration problem, said as what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliConfigError {
    #[error("cannot read the configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the [dpm] section of {path} is not usable")]
    Driver {
        path: PathBuf,
        #[source]
        source: ConfigError,
    },
    /// A key or section the file may not hold, or a value of the wrong
    /// type or range (checked before anything else reads the file).
    #[error("{problem} (in {path})")]
    Invalid { path: PathBuf, problem: Problem },
    #[error("{path} is not valid (line {line}): {message}")]
    Toml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("[cinder] in {path} needs either auth_url, username, password and project_name (Keystone), or endpoint alone (no auth); it lacks {}", missing.join(", "))]
    CinderSection {
        path: PathBuf,
        missing: Vec<&'static str>,
    },
    #[error("no Cinder credentials: {path} has no [cinder] section, no cloud is named (--os-cloud, OS_CLOUD), and no OS_* variable is set (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME)")]
    NoCinder { path: PathBuf },
    #[error("[hmc] in {path} needs ca_file (the HMC's CA certificate), or system_roots = true; turning verification off takes danger_accept_invalid_certs = true")]
    HmcTrust { path: PathBuf },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

impl CliConfig {
    pub fn load(path: &Path, src: &Sources<'_>) -> Result<Self, CliConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| CliConfigError::Read {
            path: path.into(),
            source,
        })?;
        let toml_err = |e: toml::de::Error| match dpm_driver::toml_error(&text, &e) {
            ConfigError::Toml { message, line } => CliConfigError::Toml {
                path: path.into(),
                line,
                message,
            },
            other => CliConfigError::Driver {
                path: path.into(),
                source: other,
            },
        };
        let table: toml::Table = toml::from_str(&text).map_err(toml_err)?;
        // Said of a file that is wrong as well: its password is exposed.
        warn_if_readable(path, &table);
        schema::check(&table).map_err(|problem| CliConfigError::Invalid {
            path: path.into(),
            problem,
        })?;
        let file: File = toml::from_str(&text).map_err(toml_err)?;
        let driver_err = |source| CliConfigError::Driver {
            path: path.into(),
            source,
        };
        let password = match &file.dpm {
            Some(d) if d.hmc_password.is_none() => {
                let user = d.hmc_username.as_deref().unwrap_or_default();
                let hmc = d.hmc.as_deref().unwrap_or_default();
                Some(credentials::hmc_password(src, path, user, hmc)?)
            }
            _ => {
                tracing::debug!(file = %path.display(), "HMC password from [dpm] hmc_password");
                None
            }
        };
        let driver = DriverConfig::from_toml_with_password(&text, password).map_err(driver_err)?;
        let base = |p: PathBuf| {
            if p.is_relative() {
                path.parent().map(|d| d.join(&p)).unwrap_or(p)
            } else {
                p
            }
        };
        let tls = match (
            file.hmc.ca_file,
            file.hmc.system_roots,
            file.hmc.danger_accept_invalid_certs,
        ) {
            (_, _, true) => TlsVerify::DangerAcceptInvalidCertificates,
            (Some(ca), _, false) => TlsVerify::CaFile(base(ca)),
            (None, true, false) => TlsVerify::SystemRoots,
            (None, false, false) => return Err(CliConfigError::HmcTrust { path: path.into() }),
        };
        let mut hmc = HttpConfig::new(
            driver.hmc.clone(),
            Credentials {
                userid: driver.hmc_username.clone(),
                password: driver.hmc_password.clone(),
            },
            tls,
        );
        if let Some(port) = file.hmc.notification_port {
            hmc.notification_port = (port != 0).then_some(port);
        }
        let cinder = cinder_config(path, file.cinder, src, &base)?;
        Ok(Self {
            driver,
            hmc,
            cinder,
        })
    }
}

/// Warns when a file that holds a password can be read by its group or by
/// others (the mode is said, the password is not).
fn warn_if_readable(path: &Path, table: &toml::Table) {
    use std::os::unix::fs::PermissionsExt;
    let holds = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .is_some_and(toml::Value::is_str)
    };
    if !holds("dpm", "hmc_password") && !holds("cinder", "password") {
        return;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o044 != 0 {
        tracing::warn!(
            file = %path.display(),
            mode = %format!("{mode:04o}"),
            "the configuration file holds a password and can be read by others than its owner; \
             chmod 600 it"
        );
    }
}

/// Cinder's connection, from the first source there is (see
/// [`credentials`]).
fn cinder_config(
    path: &Path,
    section: Option<CinderSection>,
    src: &Sources<'_>,
    base: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<CinderHttpConfig, CliConfigError> {
    let keystone = |r: credentials::Resolved| {
        tracing::info!(source = %r.source, "Cinder credentials");
        let mut c = CinderHttpConfig::new(CinderAuth::Keystone {
            auth_url: r.auth_url,
            username: r.username,
            password: r.password,
            project_name: r.project_name,
            user_domain_name: r.user_domain_name,
            project_domain_name: r.project_domain_name,
        });
        c.region_name = r.region_name;
        if let Some(i) = r.interface {
            c.interface = i.trim_end_matches("URL").to_owned();
        }
        c.ca_file = r.ca_file;
        c
    };
    if let Some(name) = src.os_cloud {
        return Ok(keystone(credentials::from_cloud(name, "--os-cloud", src)?));
    }
    if let Some(c) = section {
        let source = format!("the [cinder] section of {}", path.display());
        let ca_file = c.ca_file.map(base);
        let k = Keystone {
            auth_url: c.auth_url,
            username: c.username,
            password: c.password,
            project_name: c.project_name,
            user_domain_name: Some(c.user_domain_name),
            project_domain_name: Some(c.project_domain_name),
            region_name: c.region_name,
            interface: c.interface,
            ca_file: ca_file.clone(),
        };
        let none = k.auth_url.is_none()
            && k.username.is_none()
            && k.password.is_none()
            && k.project_name.is_none();
        let mut cfg = match (none, c.endpoint.clone()) {
            (true, Some(endpoint)) => {
                tracing::info!(source = %source, "Cinder without Keystone");
                let mut cfg = CinderHttpConfig::new(CinderAuth::NoAuth { endpoint });
                cfg.ca_file = ca_file;
                cfg
            }
            _ => match credentials::complete(k, source, credentials::SECTION_NAMES) {
                Ok(r) => keystone(r),
                Err(CredentialsError::Incomplete { missing, .. }) => {
                    return Err(CliConfigError::CinderSection {
                        path: path.into(),
                        missing,
                    })
                }
                Err(e) => return Err(e.into()),
            },
        };
        if matches!(cfg.auth, CinderAuth::Keystone { .. }) {
            cfg.endpoint_override = c.endpoint;
        }
        return Ok(cfg);
    }
    if let Some(name) = credentials::var_of(src.env, "OS_CLOUD") {
        return Ok(keystone(credentials::from_cloud(&name, "OS_CLOUD", src)?));
    }
    if credentials::env_is_set(src.env) {
        return Ok(keystone(credentials::complete(
            credentials::from_env(src.env),
            "the OS_* variables".into(),
            credentials::ENV_NAMES,
        )?));
    }
    Err(CliConfigError::NoCinder { path: path.into() })
}
