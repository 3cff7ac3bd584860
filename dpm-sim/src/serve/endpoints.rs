//! How to reach a served world: the endpoints (printed as one JSON line
//! and written to `endpoints.json`), the `dpm` CLI's configuration for it
//! (`dpm.toml`), and writing those state files for their owner alone.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ServeError;

/// How to reach the served world: printed as one JSON line and written to
/// `endpoints.json`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Endpoints {
    /// The HMC.
    pub hmc: HmcEndpoint,
    /// Keystone.
    pub keystone: KeystoneEndpoint,
    /// Cinder.
    pub cinder: CinderEndpoint,
    /// The CPC.
    pub cpc: CpcInfo,
    /// The FCP adapters.
    pub fcp_adapters: Vec<AdapterInfo>,
    /// The control routes, when served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlEndpoint>,
    /// The images.
    pub images: Vec<ImageInfo>,
}

/// The HMC endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct HmcEndpoint {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// User id.
    pub userid: String,
    /// Password (the simulator's; not a real secret).
    pub password: String,
    /// The CA file to verify the server with.
    pub ca_cert: PathBuf,
    /// The port of its notification service (STOMP over TLS, same host).
    #[serde(default)]
    pub notification_port: u16,
}

/// The Keystone endpoint and user.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct KeystoneEndpoint {
    /// `http://127.0.0.1:<port>/v3`.
    pub auth_url: String,
    /// User.
    pub username: String,
    /// Password.
    pub password: String,
    /// Project.
    pub project_name: String,
    /// `Default`.
    pub user_domain_name: String,
    /// `Default`.
    pub project_domain_name: String,
}

/// The Cinder endpoint.
/// Where the simulator's control routes are.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ControlEndpoint {
    /// `http://127.0.0.1:port`; the routes are under `/sim/`.
    pub url: String,
}

/// The Cinder endpoint of the served world, for clients without Keystone.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CinderEndpoint {
    /// `http://127.0.0.1:<port>/v3/<project id>`.
    pub endpoint: String,
}

/// The CPC.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CpcInfo {
    /// Name.
    pub name: String,
    /// Object id.
    pub object_id: String,
}

/// An FCP adapter.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AdapterInfo {
    /// Object id.
    pub object_id: String,
    /// Number of ports.
    pub ports: u32,
}

/// An image.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ImageInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A TOML basic string, quoted and escaped (JSON's string escapes are a
/// subset of TOML's).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The `dpm` CLI's configuration for the served world (`dpm.toml` next
/// to `endpoints.json`): the HMC with its CA and notification port, the
/// CPC, port 0 of every FCP adapter, and Cinder through Keystone (or its
/// endpoint, when the world serves Cinder without Keystone).
pub fn dpm_toml(e: &Endpoints, spec: &crate::WorldSpec) -> String {
    let mappings: Vec<String> = e
        .fcp_adapters
        .iter()
        .map(|a| format!("  {},", quoted(&format!("{}:0", a.object_id))))
        .collect();
    let cinder = if spec.cinder.noauth {
        format!("endpoint = {}\n", quoted(&e.cinder.endpoint))
    } else {
        let k = &e.keystone;
        format!(
            "auth_url = {}\nusername = {}\npassword = {}\nproject_name = {}\n\
             user_domain_name = {}\nproject_domain_name = {}\n",
            quoted(&k.auth_url),
            quoted(&k.username),
            quoted(&k.password),
            quoted(&k.project_name),
            quoted(&k.user_domain_name),
            quoted(&k.project_domain_name),
        )
    };
    format!(
        "# Written by dpm-sim serve for this run: dpm --config <this file> check\n\
         # (the simulator's own credentials, not secrets).\n\n\
         [dpm]\nhost = \"dpm-sim\"\nhmc = {}\nhmc_username = {}\nhmc_password = {}\n\
         cpc_object_id = {}\nmax_processors = {}\nmax_memory = {}\n\
         physical_storage_adapter_mappings = [\n{}\n]\n\n\
         [hmc]\nca_file = {}\nnotification_port = {}\n\n[cinder]\n{cinder}",
        quoted(&e.hmc.url),
        quoted(&e.hmc.userid),
        quoted(&e.hmc.password),
        quoted(&e.cpc.object_id),
        spec.cpc.ifl,
        spec.cpc.memory_mib,
        mappings.join("\n"),
        quoted(&e.hmc.ca_cert.to_string_lossy()),
        e.hmc.notification_port,
    )
}

/// Writes a state file readable by its owner alone (mode 0600):
/// `endpoints.json` and `dpm.toml` hold the world's passwords. A file
/// that was there is made 0600 before it is written.
pub(super) fn write(path: &Path, text: &str) -> Result<(), ServeError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |source| ServeError::Write {
        path: path.to_owned(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}
