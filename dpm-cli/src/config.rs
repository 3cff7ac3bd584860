//! The `dpm` configuration file: the driver's `[dpm]` section, plus how to
//! reach the HMC (`[hmc]`: TLS) and Cinder (`[cinder]`: Keystone or a
//! fixed endpoint).

use std::path::PathBuf;

use cinder_client::{CinderAuth, CinderHttpConfig};
use dpm_driver::{ConfigError, DriverConfig};
use hmc_client::{Credentials, HttpConfig, TlsVerify};
use serde::Deserialize;

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
}

fn default_domain() -> String {
    "Default".into()
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    hmc: HmcSection,
    cinder: CinderSection,
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
    #[error("the [dpm] section is not usable")]
    Driver(#[source] ConfigError),
    #[error("the [hmc] or [cinder] section is not usable")]
    Sections(#[source] ConfigError),
    #[error("[cinder] needs either auth_url, username, password and project_name (Keystone), or endpoint (no auth)")]
    CinderAuth,
    #[error("[hmc] needs ca_file (the HMC's CA certificate), or system_roots = true; turning verification off takes danger_accept_invalid_certs = true")]
    HmcTrust,
}

impl CliConfig {
    pub fn load(path: &std::path::Path) -> Result<Self, CliConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| CliConfigError::Read {
            path: path.into(),
            source,
        })?;
        let driver = DriverConfig::from_toml(&text).map_err(CliConfigError::Driver)?;
        let file: File = toml::from_str(&text)
            .map_err(|e| CliConfigError::Sections(dpm_driver::toml_error(&text, &e)))?;
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
            (None, false, false) => return Err(CliConfigError::HmcTrust),
        };
        let hmc = HttpConfig::new(
            driver.hmc.clone(),
            Credentials {
                userid: driver.hmc_username.clone(),
                password: driver.hmc_password.clone(),
            },
            tls,
        );
        let c = file.cinder;
        let auth = match (
            c.auth_url,
            c.username,
            c.password,
            c.project_name,
            c.endpoint.clone(),
        ) {
            (Some(auth_url), Some(username), Some(password), Some(project_name), _) => {
                CinderAuth::Keystone {
                    auth_url,
                    username,
                    password: cinder_client::Secret::new(password),
                    project_name,
                    user_domain_name: c.user_domain_name,
                    project_domain_name: c.project_domain_name,
                }
            }
            (None, None, None, None, Some(endpoint)) => CinderAuth::NoAuth { endpoint },
            _ => return Err(CliConfigError::CinderAuth),
        };
        let mut cinder = CinderHttpConfig::new(auth);
        if matches!(cinder.auth, CinderAuth::Keystone { .. }) {
            cinder.endpoint_override = c.endpoint;
        }
        cinder.ca_file = c.ca_file.map(base);
        Ok(Self {
            driver,
            hmc,
            cinder,
        })
    }
}
