//! Credentials where operators keep them.
//!
//! Cinder (Keystone v3 password auth), the first of:
//! 1. `--os-cloud NAME`: that cloud of `clouds.yaml`;
//! 2. the `[cinder]` section of the configuration file;
//! 3. `OS_CLOUD`: that cloud of `clouds.yaml`;
//! 4. the `OS_*` variables: `OS_AUTH_URL`, `OS_USERNAME`, `OS_PASSWORD`,
//!    `OS_PROJECT_NAME`, `OS_USER_DOMAIN_NAME`, `OS_PROJECT_DOMAIN_NAME`
//!    (both `Default` when unset), `OS_REGION_NAME`, `OS_INTERFACE`,
//!    `OS_CACERT`.
//!
//! A cloud takes what it lacks (often the password, kept out of the file)
//! from the `OS_*` variables. `clouds.yaml` is the first of
//! `$OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`,
//! `$XDG_CONFIG_HOME/openstack/clouds.yaml` (or
//! `~/.config/openstack/clouds.yaml`), `/etc/openstack/clouds.yaml`, as the
//! openstack CLI searches.
//!
//! The HMC password: `[dpm] hmc_password`, else `DPM_HMC_PASSWORD`, else a
//! prompt when stdin is a terminal (not echoed).
//!
//! The environment is passed in as a map, so that tests do not change the
//! process's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cinder_client::Secret;
use serde::Deserialize;

/// The environment variables, by name.
pub type Env = BTreeMap<String, String>;

/// Where credentials may come from, besides the configuration file.
#[derive(Debug)]
pub struct Sources<'a> {
    pub env: &'a Env,
    /// `--os-cloud`.
    pub os_cloud: Option<&'a str>,
    /// The working directory, where `./clouds.yaml` is looked for.
    pub cwd: Option<PathBuf>,
    /// Whether a password may be asked for (stdin is a terminal).
    pub terminal: bool,
}

/// Keystone v3 password auth, wherever it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keystone {
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub project_name: Option<String>,
    pub user_domain_name: Option<String>,
    pub project_domain_name: Option<String>,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// Complete Keystone credentials and where they came from.
#[derive(Debug)]
pub struct Resolved {
    pub auth_url: String,
    pub username: String,
    pub password: Secret,
    pub project_name: String,
    pub user_domain_name: String,
    pub project_domain_name: String,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// Said in messages: "cloud \"x\" of /path/clouds.yaml", "the OS_*
    /// environment variables".
    pub source: String,
}

/// Credentials that cannot be found or used; says which source was used
/// and what it lacks.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("Cinder credentials from {from} lack {}", missing.join(", "))]
    Incomplete {
        from: String,
        missing: Vec<&'static str>,
    },
    #[error("cloud {name:?} was asked for ({by}), but there is no clouds.yaml: looked at {}", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoCloudsFile {
        name: String,
        by: &'static str,
        searched: Vec<PathBuf>,
    },
    #[error("{file} has no cloud {name:?} (it has: {})", known.join(", "))]
    NoSuchCloud {
        name: String,
        file: PathBuf,
        known: Vec<String>,
    },
    #[error("cannot read {file}")]
    ReadClouds {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} is not a usable clouds.yaml: {message}")]
    BadClouds { file: PathBuf, message: String },
    #[error("no HMC password: [dpm] hmc_password is not in {file}, DPM_HMC_PASSWORD is not set, and there is no terminal to ask on")]
    NoHmcPassword { file: PathBuf },
    #[error("could not read the HMC password from the terminal")]
    Prompt(#[source] std::io::Error),
}

#[derive(Debug, Default, Deserialize)]
struct CloudsFile {
    #[serde(default)]
    clouds: BTreeMap<String, Cloud>,
}

#[derive(Debug, Default, Deserialize)]
struct Cloud {
    #[serde(default)]
    auth: CloudAuth,
    #[serde(default)]
    region_name: Option<String>,
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    cacert: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct CloudAuth {
    #[serde(default)]
    auth_url: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    project_name: Option<String>,
    #[serde(default)]
    user_domain_name: Option<String>,
    #[serde(default)]
    project_domain_name: Option<String>,
}

/// A variable, when set and not empty.
pub fn var_of(env: &Env, name: &str) -> Option<String> {
    var(env, name)
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.get(name).filter(|v| !v.is_empty()).cloned()
}

/// The `OS_*` variables.
pub fn from_env(env: &Env) -> Keystone {
    Keystone {
        auth_url: var(env, "OS_AUTH_URL"),
        username: var(env, "OS_USERNAME"),
        password: var(env, "OS_PASSWORD"),
        project_name: var(env, "OS_PROJECT_NAME"),
        user_domain_name: var(env, "OS_USER_DOMAIN_NAME"),
        project_domain_name: var(env, "OS_PROJECT_DOMAIN_NAME"),
        region_name: var(env, "OS_REGION_NAME"),
        interface: var(env, "OS_INTERFACE"),
        ca_file: var(env, "OS_CACERT").map(PathBuf::from),
    }
}

/// Whether any `OS_*` auth variable is set.
pub fn env_is_set(env: &Env) -> bool {
    from_env(env) != Keystone::default()
}

/// Where `clouds.yaml` is looked for, in order.
pub fn clouds_search_path(env: &Env, cwd: Option<&Path>) -> Vec<PathBuf> {
    if let Some(f) = var(env, "OS_CLIENT_CONFIG_FILE") {
        return vec![PathBuf::from(f)];
    }
    let mut out = Vec::new();
    if let Some(d) = cwd {
        out.push(d.join("clouds.yaml"));
    }
    match (var(env, "XDG_CONFIG_HOME"), var(env, "HOME")) {
        (Some(x), _) => out.push(Path::new(&x).join("openstack/clouds.yaml")),
        (None, Some(h)) => out.push(Path::new(&h).join(".config/openstack/clouds.yaml")),
        (None, None) => {}
    }
    out.push(PathBuf::from("/etc/openstack/clouds.yaml"));
    out
}

/// The cloud `name` of the first `clouds.yaml` on the search path, with
/// what it lacks taken from the `OS_*` variables.
pub fn from_cloud(
    name: &str,
    by: &'static str,
    src: &Sources<'_>,
) -> Result<Resolved, CredentialsError> {
    let searched = clouds_search_path(src.env, src.cwd.as_deref());
    let Some(file) = searched.iter().find(|p| p.is_file()).cloned() else {
        return Err(CredentialsError::NoCloudsFile {
            name: name.into(),
            by,
            searched,
        });
    };
    let text = std::fs::read_to_string(&file).map_err(|source| CredentialsError::ReadClouds {
        file: file.clone(),
        source,
    })?;
    // The message of a YAML error names a place, never the value.
    let mut clouds: CloudsFile =
        serde_norway::from_str(&text).map_err(|e| CredentialsError::BadClouds {
            file: file.clone(),
            message: e
                .location()
                .map(|l| format!("line {} column {}", l.line(), l.column()))
                .unwrap_or_else(|| "not YAML".into()),
        })?;
    let Some(c) = clouds.clouds.remove(name) else {
        return Err(CredentialsError::NoSuchCloud {
            name: name.into(),
            file,
            known: clouds.clouds.into_keys().collect(),
        });
    };
    let env = from_env(src.env);
    let base = |p: PathBuf| match (p.is_relative(), file.parent()) {
        (true, Some(d)) => d.join(p),
        _ => p,
    };
    let k = Keystone {
        auth_url: c.auth.auth_url.or(env.auth_url),
        username: c.auth.username.or(env.username),
        password: c.auth.password.or(env.password),
        project_name: c.auth.project_name.or(env.project_name),
        user_domain_name: c.auth.user_domain_name.or(env.user_domain_name),
        project_domain_name: c.auth.project_domain_name.or(env.project_domain_name),
        region_name: c.region_name.or(env.region_name),
        interface: c.interface.or(env.interface),
        ca_file: c.cacert.map(base).or(env.ca_file),
    };
    complete(
        k,
        format!("cloud {name:?} of {} ({by})", file.display()),
        CLOUD_NAMES,
    )
}

/// What a missing field is called, per source.
pub type Names = [&'static str; 4];
/// The fields of `[cinder]`.
pub const SECTION_NAMES: Names = ["auth_url", "username", "password", "project_name"];
/// The `OS_*` variables.
pub const ENV_NAMES: Names = [
    "OS_AUTH_URL",
    "OS_USERNAME",
    "OS_PASSWORD",
    "OS_PROJECT_NAME",
];
const CLOUD_NAMES: Names = [
    "auth.auth_url",
    "auth.username",
    "auth.password (or OS_PASSWORD)",
    "auth.project_name",
];

/// Requires the four fields Keystone password auth needs, naming the
/// missing ones as `names` spells them.
pub fn complete(k: Keystone, source: String, names: Names) -> Result<Resolved, CredentialsError> {
    let missing: Vec<&'static str> = [
        k.auth_url.is_none(),
        k.username.is_none(),
        k.password.is_none(),
        k.project_name.is_none(),
    ]
    .iter()
    .zip(names)
    .filter(|(m, _)| **m)
    .map(|(_, n)| n)
    .collect();
    match (k.auth_url, k.username, k.password, k.project_name) {
        (Some(auth_url), Some(username), Some(password), Some(project_name)) => Ok(Resolved {
            auth_url,
            username,
            password: Secret::new(password),
            project_name,
            user_domain_name: k.user_domain_name.unwrap_or_else(|| "Default".into()),
            project_domain_name: k.project_domain_name.unwrap_or_else(|| "Default".into()),
            region_name: k.region_name,
            interface: k.interface,
            ca_file: k.ca_file,
            source,
        }),
        _ => Err(CredentialsError::Incomplete {
            from: source,
            missing,
        }),
    }
}

/// The HMC password when `[dpm]` has none: `DPM_HMC_PASSWORD`, else a
/// prompt on the terminal.
pub fn hmc_password(
    src: &Sources<'_>,
    file: &Path,
    user: &str,
    hmc: &str,
) -> Result<hmc_client::Secret, CredentialsError> {
    if let Some(p) = var(src.env, "DPM_HMC_PASSWORD") {
        tracing::info!("HMC password from DPM_HMC_PASSWORD");
        return Ok(hmc_client::Secret::new(p));
    }
    if !src.terminal {
        return Err(CredentialsError::NoHmcPassword { file: file.into() });
    }
    tracing::info!("HMC password from the terminal");
    rpassword::prompt_password(format!("HMC password for {user} at {hmc}: "))
        .map(hmc_client::Secret::new)
        .map_err(CredentialsError::Prompt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dpm-cred-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const CLOUDS: &str = "\
clouds:
  prod:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: nova
      project_name: service
      user_domain_name: ops
    region_name: RegionTwo
    interface: internal
    cacert: ca.pem
  other:
    auth:
      auth_url: http://x/v3
";

    #[test]
    fn os_variables_are_a_source_and_name_what_they_lack() {
        let e = env(&[
            ("OS_AUTH_URL", "http://ks:5000/v3"),
            ("OS_USERNAME", "admin"),
            ("OS_PASSWORD", "pw"),
            ("OS_PROJECT_NAME", "demo"),
            ("OS_REGION_NAME", "RegionOne"),
        ]);
        let r = complete(from_env(&e), "env".into(), ENV_NAMES).unwrap();
        assert_eq!(r.auth_url, "http://ks:5000/v3");
        assert_eq!(r.password.expose(), "pw");
        assert_eq!(r.user_domain_name, "Default");
        assert_eq!(r.region_name.as_deref(), Some("RegionOne"));
        let e = env(&[
            ("OS_AUTH_URL", "http://ks:5000/v3"),
            ("OS_USERNAME", "admin"),
        ]);
        let err = complete(from_env(&e), "the OS_* variables".into(), ENV_NAMES).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cinder credentials from the OS_* variables lack OS_PASSWORD, OS_PROJECT_NAME"
        );
        assert!(env_is_set(&e));
        assert!(!env_is_set(&env(&[("HOME", "/root")])));
    }

    #[test]
    fn the_search_path_is_the_openstack_clis() {
        let cwd = Path::new("/w");
        assert_eq!(
            clouds_search_path(&env(&[("HOME", "/home/op")]), Some(cwd)),
            vec![
                PathBuf::from("/w/clouds.yaml"),
                PathBuf::from("/home/op/.config/openstack/clouds.yaml"),
                PathBuf::from("/etc/openstack/clouds.yaml"),
            ]
        );
        assert_eq!(
            clouds_search_path(&env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]), None)[0],
            PathBuf::from("/x/openstack/clouds.yaml")
        );
        assert_eq!(
            clouds_search_path(&env(&[("OS_CLIENT_CONFIG_FILE", "/c.yaml")]), Some(cwd)),
            vec![PathBuf::from("/c.yaml")]
        );
    }

    #[test]
    fn a_cloud_of_clouds_yaml_takes_its_password_from_os_password() {
        let d = tmp("cloud");
        std::fs::write(d.join("clouds.yaml"), CLOUDS).unwrap();
        let e = env(&[("OS_PASSWORD", "from-env"), ("OS_USERNAME", "not-used")]);
        let src = Sources {
            env: &e,
            os_cloud: Some("prod"),
            cwd: Some(d.clone()),
            terminal: false,
        };
        let r = from_cloud("prod", "--os-cloud", &src).unwrap();
        assert_eq!(r.username, "nova", "the cloud's own value wins");
        assert_eq!(r.password.expose(), "from-env");
        assert_eq!(r.user_domain_name, "ops");
        assert_eq!(r.project_domain_name, "Default");
        assert_eq!(r.interface.as_deref(), Some("internal"));
        assert_eq!(r.region_name.as_deref(), Some("RegionTwo"));
        assert_eq!(r.ca_file, Some(d.join("ca.pem")));
        assert!(r.source.contains("cloud \"prod\""), "{}", r.source);

        // "other" lacks a user and a project; OS_USERNAME fills one.
        let err = from_cloud("other", "OS_CLOUD", &src).unwrap_err();
        assert!(err.to_string().ends_with("lack auth.project_name"), "{err}");
        let err = from_cloud("nope", "OS_CLOUD", &src).unwrap_err();
        assert!(
            err.to_string()
                .contains("has no cloud \"nope\" (it has: other, prod)"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_clouds_yaml_says_where_it_was_looked_for() {
        let d = tmp("nocloud");
        let e = env(&[(
            "OS_CLIENT_CONFIG_FILE",
            d.join("none.yaml").to_str().unwrap(),
        )]);
        let src = Sources {
            env: &e,
            os_cloud: None,
            cwd: Some(d.clone()),
            terminal: false,
        };
        let err = from_cloud("prod", "OS_CLOUD", &src).unwrap_err();
        assert!(err.to_string().contains("none.yaml"), "{err}");
        std::fs::write(d.join("none.yaml"), "clouds: [1, 2\n  password: hunter2").unwrap();
        let err = from_cloud("prod", "OS_CLOUD", &src).unwrap_err();
        assert!(matches!(err, CredentialsError::BadClouds { .. }), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn the_hmc_password_comes_from_the_environment_or_is_missing() {
        let e = env(&[("DPM_HMC_PASSWORD", "hmc-pw")]);
        let src = Sources {
            env: &e,
            os_cloud: None,
            cwd: None,
            terminal: false,
        };
        let p = hmc_password(&src, Path::new("dpm.toml"), "u", "h").unwrap();
        assert_eq!(p.expose(), "hmc-pw");
        let e = Env::new();
        let src = Sources { env: &e, ..src };
        let err = hmc_password(&src, Path::new("dpm.toml"), "u", "h").unwrap_err();
        assert!(
            err.to_string().contains("DPM_HMC_PASSWORD is not set"),
            "{err}"
        );
    }
}
