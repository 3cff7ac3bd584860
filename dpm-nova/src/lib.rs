//! Nova's DPM virt driver, as a Python extension module: the Rust virt
//! driver ([`dpm_driver::DpmDriver`] over the HMC's HTTPS API) behind the
//! `dpm_nova._native` module that `dpm_nova.DPMDriver` (Python, a
//! `nova.virt.driver.ComputeDriver`) calls.
//!
//! - One tokio runtime and one HMC session per `Driver`; every call
//!   releases the GIL while it runs and blocks only its own thread, so
//!   calls from several Python threads run at once.
//! - Values cross as Python strings and numbers, and structured ones as
//!   JSON text (block device mappings in, connectors and resources out):
//!   the Python layer owns the mapping to Nova's objects.
//! - Every failure is a `dpm_nova._native.DriverError` with
//!   `(kind, message, causes)`: `kind` says what Nova should make of it
//!   (`not_found`, `refused`, `invalid`, `config`, `error`, `panic`);
//!   `causes` is the error's source chain. A panic is caught and reported
//!   the same way; it never unwinds into Python.
//! - Tracing events are queued and drained into Python's `logging` by
//!   `drain_logs` (see [`logs`]).

#![deny(unsafe_code)]

pub mod logs;

use std::error::Error as StdError;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use std::time::Duration;

use dpm_driver::{
    DpmDriver, DpmOptions, DriverConfig, DriverVolume, Instance, PlannedVolume, PowerOff,
    PowerState, RebootKind, DEFAULT_GUEST_SHUTDOWN_COMMAND,
};
use hmc_client::{Credentials, HttpConfig, HttpHmc, Secret, TlsVerify};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use serde_json::{json, Value};

create_exception!(
    _native,
    DriverError,
    PyException,
    "A failed driver call: args are (kind, message, causes)."
);

/// What went wrong, as it crosses into Python.
#[derive(Debug)]
struct Failure {
    kind: &'static str,
    message: String,
    causes: Vec<String>,
}

impl Failure {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    /// The error's message and its source chain (each distinct line once:
    /// a transparent wrapper repeats its source's).
    fn of(kind: &'static str, e: &(dyn StdError + 'static)) -> Self {
        let message = e.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut next = e.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if text != message && causes.last() != Some(&text) {
                causes.push(text);
            }
            next = cause.source();
        }
        Self {
            kind,
            message,
            causes,
        }
    }

    fn into_py(self) -> PyErr {
        DriverError::new_err((self.kind, self.message, self.causes))
    }
}

fn not_found_or(not_found: bool, refusal: bool) -> &'static str {
    if not_found {
        "not_found"
    } else if refusal {
        "refused"
    } else {
        "error"
    }
}

fn parse_instance(uuid: &str) -> Result<InstanceId, Failure> {
    uuid.parse()
        .map_err(|_| Failure::new("invalid", format!("{uuid:?} is not an instance UUID")))
}

fn parse_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::new("invalid", format!("{what}: {e}")))
}

/// The instance Nova describes: its UUID, flavor and display name (a name
/// the HMC's description cannot carry is left out, not refused).
fn instance(
    uuid: &str,
    vcpus: u32,
    memory_mb: u64,
    name: Option<&str>,
) -> Result<Instance, Failure> {
    let mut i = Instance::new(parse_instance(uuid)?, vcpus, memory_mb);
    i.name = name.and_then(|n| n.parse().ok());
    Ok(i)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VolumeIn {
    volume_id: String,
    connection_info: Value,
    size_gib: u64,
    #[serde(default)]
    boot_index: Option<u32>,
}

fn volume_id(s: &str) -> Result<VolumeId, Failure> {
    s.parse()
        .map_err(|_| Failure::new("invalid", format!("{s:?} is not a volume id")))
}

fn connection_info(v: Value) -> Result<ConnectionInfo, Failure> {
    serde_json::from_value(v).map_err(|e| Failure::new("invalid", format!("connection_info: {e}")))
}

fn driver_volume(v: VolumeIn) -> Result<DriverVolume, Failure> {
    Ok(DriverVolume {
        volume_id: volume_id(&v.volume_id)?,
        connection_info: connection_info(v.connection_info)?,
        size_gib: v.size_gib,
        boot_index: v.boot_index,
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannedIn {
    volume_id: String,
    size_gib: u64,
    boot: bool,
}

fn power_state(s: PowerState) -> &'static str {
    match s {
        PowerState::Running => "running",
        PowerState::Shutdown => "shutdown",
        PowerState::Paused => "paused",
        _ => "nostate",
    }
}

/// The DPM virt driver for one compute host: its configuration, its HMC
/// session and its runtime.
#[pyclass(module = "dpm_nova._native", frozen)]
struct Driver {
    rt: tokio::runtime::Runtime,
    drv: DpmDriver<HttpHmc>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("config", self.drv.config())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Runs one call with the GIL released, on this driver's runtime;
    /// a panic becomes a `panic` failure.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        what: &'static str,
        fut: impl Future<Output = Result<T, Failure>> + Send,
    ) -> PyResult<T> {
        let out = py.detach(|| catch_unwind(AssertUnwindSafe(|| self.rt.block_on(fut))));
        match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(failure)) => Err(failure.into_py()),
            Err(panic) => {
                let detail = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                tracing::error!(call = what, %detail, "the driver panicked");
                Err(Failure::new(
                    "panic",
                    format!("the DPM driver failed internally in {what}: {detail}"),
                )
                .into_py())
            }
        }
    }
}

#[pymethods]
impl Driver {
    /// Checks the `[dpm]` options (every error names the option) and
    /// makes the driver; nothing is sent to the HMC until `init_host`.
    #[new]
    #[pyo3(signature = (*, host, hmc, hmc_username, hmc_password, cpc_object_id,
        max_processors, max_memory, physical_storage_adapter_mappings,
        target_wwpn_ignore_list=Vec::new(), max_boot_attempts=4,
        boot_os_specific_parameters=true,
        guest_shutdown_command=DEFAULT_GUEST_SHUTDOWN_COMMAND.to_owned(), hmc_ca_file=None,
        hmc_notification_port=61612, job_timeout_seconds=900, debug=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        host: String,
        hmc: String,
        hmc_username: String,
        hmc_password: String,
        cpc_object_id: String,
        max_processors: u32,
        max_memory: u64,
        physical_storage_adapter_mappings: Vec<String>,
        target_wwpn_ignore_list: Vec<String>,
        max_boot_attempts: u32,
        boot_os_specific_parameters: bool,
        guest_shutdown_command: String,
        hmc_ca_file: Option<PathBuf>,
        hmc_notification_port: u16,
        job_timeout_seconds: u64,
        debug: bool,
    ) -> PyResult<Self> {
        logs::install(debug);
        let url = if hmc.contains("://") {
            hmc
        } else {
            format!("https://{hmc}:6794")
        };
        let mut options = DpmOptions::new(
            host,
            url,
            hmc_username,
            cpc_object_id,
            max_processors,
            max_memory,
        );
        options.hmc_password = Some(Secret::new(hmc_password));
        options.physical_storage_adapter_mappings = physical_storage_adapter_mappings;
        options.target_wwpn_ignore_list = target_wwpn_ignore_list;
        options.max_boot_attempts = max_boot_attempts;
        options.boot_os_specific_parameters = boot_os_specific_parameters;
        options.guest_shutdown_command = guest_shutdown_command;
        options.job_timeout_seconds = job_timeout_seconds;
        let config = DriverConfig::from_options(options, None)
            .map_err(|e| Failure::of("config", &e).into_py())?;
        let tls = match hmc_ca_file {
            Some(path) => TlsVerify::CaFile(path),
            None => TlsVerify::SystemRoots,
        };
        let mut http = HttpConfig::new(
            config.hmc.clone(),
            Credentials {
                userid: config.hmc_username.clone(),
                password: config.hmc_password.clone(),
            },
            tls,
        );
        http.notification_port = (hmc_notification_port != 0).then_some(hmc_notification_port);
        let client = HttpHmc::new(http).map_err(|e| Failure::of("config", &e).into_py())?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dpm-nova")
            .enable_all()
            .build()
            .map_err(|e| Failure::of("error", &e).into_py())?;
        Ok(Self {
            rt,
            drv: DpmDriver::new(client, config),
        })
    }

    /// Validates the CPC, the limits and the adapter mappings against the
    /// HMC, and reads the storage model.
    fn init_host(&self, py: Python<'_>) -> PyResult<()> {
        let d = &self.drv;
        self.call(py, "init_host", async move {
            d.init_host().await.map_err(|e| Failure::of("config", &e))
        })
    }

    /// The storage model the HMC's CPC has: `"HBAs"` or `"storage groups"`
    /// (None before `init_host`).
    fn storage_model(&self) -> Option<String> {
        self.drv.storage_model().map(|m| m.to_string())
    }

    /// This host's resources, as JSON: vcpus, memory_mb, their used
    /// parts, hypervisor type, version and host name, cpu_arch.
    fn get_available_resource(&self, py: Python<'_>) -> PyResult<String> {
        let d = &self.drv;
        self.call(py, "get_available_resource", async move {
            let r = d
                .get_available_resource()
                .await
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), e.is_refusal()), &e))?;
            Ok(json!({
                "vcpus": r.vcpus,
                "memory_mb": r.memory_mb,
                "vcpus_used": r.vcpus_used,
                "memory_mb_used": r.memory_mb_used,
                "hypervisor_type": r.hypervisor_type,
                "hypervisor_version": r.hypervisor_version,
                "hypervisor_hostname": r.hypervisor_hostname,
                "cpu_arch": r.cpu_arch,
            })
            .to_string())
        })
    }

    /// The names of this host's instances (their partitions' names).
    fn list_instances(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let d = &self.drv;
        self.call(py, "list_instances", async move {
            d.list_instances()
                .await
                .map_err(|e| Failure::of("error", &e))
        })
    }

    /// The UUIDs of this host's instances.
    fn list_instance_uuids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let d = &self.drv;
        self.call(py, "list_instance_uuids", async move {
            d.list_instance_uuids()
                .await
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(|e| Failure::of("error", &e))
        })
    }

    /// Whether the instance's partition exists.
    fn instance_exists(&self, py: Python<'_>, uuid: &str) -> PyResult<bool> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "instance_exists", async move {
            d.instance_exists(&id)
                .await
                .map_err(|e| Failure::of("error", &e))
        })
    }

    /// `(power state, HMC status)`: power state is one of `running`,
    /// `shutdown`, `paused`, `nostate`.
    fn get_info(&self, py: Python<'_>, uuid: &str) -> PyResult<(String, String)> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "get_info", async move {
            let info = d
                .get_info(&id)
                .await
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), false), &e))?;
            Ok((
                power_state(info.state).to_owned(),
                info.status.as_str().to_owned(),
            ))
        })
    }

    /// Makes (or finds) the partition and its initiators; `planned` is a
    /// JSON list of `{volume_id, size_gib, boot}`. Returns the connector
    /// as JSON.
    #[pyo3(signature = (uuid, vcpus, memory_mb, name, planned="[]"))]
    fn prepare_for_spawn(
        &self,
        py: Python<'_>,
        uuid: &str,
        vcpus: u32,
        memory_mb: u64,
        name: Option<&str>,
        planned: &str,
    ) -> PyResult<String> {
        let inst = instance(uuid, vcpus, memory_mb, name).map_err(Failure::into_py)?;
        let planned: Vec<PlannedIn> =
            parse_json("planned volumes", planned).map_err(Failure::into_py)?;
        let planned = planned
            .into_iter()
            .map(|p| {
                Ok(PlannedVolume {
                    volume_id: volume_id(&p.volume_id)?,
                    size_gib: p.size_gib,
                    boot: p.boot,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()
            .map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "prepare_for_spawn", async move {
            let located = d
                .prepare_for_spawn(&inst, &planned)
                .await
                .map_err(|e| Failure::of(not_found_or(false, e.is_refusal()), &e))?;
            let connector = d
                .connector(&located)
                .map_err(|e| Failure::of("error", &e))?;
            serde_json::to_string(&connector).map_err(|e| Failure::of("error", &e))
        })
    }

    /// Removes what `prepare_for_spawn` made; nothing left is success.
    fn failed_spawn_cleanup(&self, py: Python<'_>, uuid: &str) -> PyResult<()> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "failed_spawn_cleanup", async move {
            d.failed_spawn_cleanup(&id)
                .await
                .map_err(|e| Failure::of("error", &e))
        })
    }

    /// The connector (JSON) for the instance's initiators, made when they
    /// are not there yet.
    #[pyo3(signature = (uuid, vcpus, memory_mb, name))]
    fn get_volume_connector(
        &self,
        py: Python<'_>,
        uuid: &str,
        vcpus: u32,
        memory_mb: u64,
        name: Option<&str>,
    ) -> PyResult<String> {
        let inst = instance(uuid, vcpus, memory_mb, name).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "get_volume_connector", async move {
            let c = d
                .get_volume_connector(&inst)
                .await
                .map_err(|e| Failure::of(not_found_or(false, e.is_refusal()), &e))?;
            serde_json::to_string(&c).map_err(|e| Failure::of("error", &e))
        })
    }

    /// Boots the instance from its volumes (a JSON list of
    /// `{volume_id, connection_info, size_gib, boot_index}`) and starts it;
    /// returns the partition's URI.
    #[pyo3(signature = (uuid, vcpus, memory_mb, name, volumes))]
    fn spawn(
        &self,
        py: Python<'_>,
        uuid: &str,
        vcpus: u32,
        memory_mb: u64,
        name: Option<&str>,
        volumes: &str,
    ) -> PyResult<String> {
        let inst = instance(uuid, vcpus, memory_mb, name).map_err(Failure::into_py)?;
        let volumes: Vec<VolumeIn> = parse_json("volumes", volumes).map_err(Failure::into_py)?;
        let volumes = volumes
            .into_iter()
            .map(driver_volume)
            .collect::<Result<Vec<_>, Failure>>()
            .map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "spawn", async move {
            d.spawn(&inst, &volumes, None)
                .await
                .map(|s| s.partition.to_string())
                .map_err(|e| Failure::of(not_found_or(false, e.is_refusal()), &e))
        })
    }

    /// Stops and deletes the instance's partition and its initiators;
    /// true when there was one.
    fn destroy(&self, py: Python<'_>, uuid: &str) -> PyResult<bool> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "destroy", async move {
            d.destroy(&id).await.map_err(|e| Failure::of("error", &e))
        })
    }

    /// Stops the partition; with `timeout` seconds (Nova's), asks the
    /// guest to shut down first, sending the command again every
    /// `retry_interval` seconds (0: once). Returns what became of the
    /// guest: `clean`, `timed_out`, `not_running` or `not_asked`.
    #[pyo3(signature = (uuid, timeout=0, retry_interval=0))]
    fn power_off(
        &self,
        py: Python<'_>,
        uuid: &str,
        timeout: u64,
        retry_interval: u64,
    ) -> PyResult<&'static str> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let how = PowerOff::clean(
            Duration::from_secs(timeout),
            Duration::from_secs(retry_interval),
        );
        let d = &self.drv;
        self.call(py, "power_off", async move {
            d.power_off(&id, how)
                .await
                .map(|g| g.as_str())
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), e.is_refusal()), &e))
        })
    }

    /// Starts the partition.
    fn power_on(&self, py: Python<'_>, uuid: &str) -> PyResult<()> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "power_on", async move {
            d.power_on(&id)
                .await
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), e.is_refusal()), &e))
        })
    }

    /// Stops and starts the partition; a soft reboot (`hard` false) asks
    /// the guest to shut down first, giving it `timeout` seconds and
    /// sending the command again every `retry_interval` seconds. Returns
    /// what became of the guest, as `power_off` does.
    #[pyo3(signature = (uuid, hard, timeout=0, retry_interval=0))]
    fn reboot(
        &self,
        py: Python<'_>,
        uuid: &str,
        hard: bool,
        timeout: u64,
        retry_interval: u64,
    ) -> PyResult<&'static str> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let kind = if hard {
            RebootKind::Hard
        } else {
            RebootKind::Soft(PowerOff::clean(
                Duration::from_secs(timeout),
                Duration::from_secs(retry_interval),
            ))
        };
        let d = &self.drv;
        self.call(py, "reboot", async move {
            d.reboot(&id, kind)
                .await
                .map(|g| g.as_str())
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), e.is_refusal()), &e))
        })
    }

    /// Makes the volume (JSON `{volume_id, connection_info, size_gib}`)
    /// reachable by the running guest.
    fn attach_volume(&self, py: Python<'_>, uuid: &str, volume: &str) -> PyResult<()> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let v: VolumeIn = parse_json("volume", volume).map_err(Failure::into_py)?;
        let v = driver_volume(v).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "attach_volume", async move {
            d.attach_volume(&id, &v, None)
                .await
                .map(drop)
                .map_err(|e| Failure::of(not_found_or(false, e.is_refusal()), &e))
        })
    }

    /// Takes the volume from the guest before Cinder unmasks it;
    /// `connection_info` is JSON (or None when Nova has none).
    #[pyo3(signature = (uuid, volume_id, connection_info=None))]
    fn detach_volume(
        &self,
        py: Python<'_>,
        uuid: &str,
        volume_id: &str,
        connection_info: Option<&str>,
    ) -> PyResult<()> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let vol = self::volume_id(volume_id).map_err(Failure::into_py)?;
        let info = match connection_info {
            Some(text) => Some(
                parse_json::<Value>("connection_info", text)
                    .and_then(self::connection_info)
                    .map_err(Failure::into_py)?,
            ),
            None => None,
        };
        let d = &self.drv;
        self.call(py, "detach_volume", async move {
            d.detach_volume(&id, &vol, info.as_ref())
                .await
                .map_err(|e| Failure::of(not_found_or(false, e.is_refusal()), &e))
        })
    }

    /// The operating system's messages, as the console's text.
    fn get_console_output(&self, py: Python<'_>, uuid: &str) -> PyResult<String> {
        let id = parse_instance(uuid).map_err(Failure::into_py)?;
        let d = &self.drv;
        self.call(py, "get_console_output", async move {
            d.get_console_output(&id)
                .await
                .map_err(|e| Failure::of(not_found_or(e.is_not_found(), false), &e))
        })
    }

    /// The longest wait for one HMC job, seconds.
    #[getter]
    fn job_timeout(&self) -> u64 {
        self.drv.config().job_timeout.as_secs()
    }
}

/// The queued tracing records, `[(level, target, message)]`, and how many
/// were dropped since the last drain.
#[pyfunction]
fn drain_logs() -> (Vec<(u8, String, String)>, u64) {
    let (records, dropped) = logs::drain();
    (
        records
            .into_iter()
            .map(|r| (r.level, r.target, r.message))
            .collect(),
        dropped,
    )
}

/// The extension module `dpm_nova._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Driver>()?;
    m.add("DriverError", m.py().get_type::<DriverError>())?;
    m.add_function(wrap_pyfunction!(drain_logs, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
