//! Secrets never show: a whole spawn, attach, detach and destroy over HTTPS
//! and HTTP against `dpm-sim serve` (z16: storage groups), logged at TRACE
//! by every crate, client and server side. The HMC password, the session
//! ids the HMC hands out and the Keystone password and tokens appear in no
//! log line, no Debug output and no error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use cinder_client::{CinderApi, CinderAuth, CinderHttpConfig, HttpCinder};
use cinder_client::{VolumeCreate, VolumeStatus};
use dpm_compute::{BlockDevice, Compute};
use dpm_driver::{DpmDriver, DriverConfig, Instance};
use dpm_sim::{ServeConfig, Sim, WorldSpec};
use hmc_client::{Credentials, HmcApi, HttpConfig, HttpHmc, Secret, TlsVerify};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn no_secret_in_any_log_debug_output_or_error() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _installed = tracing::subscriber::set_default(subscriber);

    // Transitions finish at once, so that nothing waits on the real clock.
    let mut spec = WorldSpec::z16();
    spec.timings.partition_start_ms = 0;
    spec.timings.partition_stop_ms = 0;
    spec.timings.guest_shutdown_ms = 0;
    spec.timings.volume_create_ms = 0;
    spec.timings.volume_delete_ms = 0;
    spec.timings.discovery_ms = 0;
    let hmc_password = spec.hmc.password.clone();
    let keystone_password = spec.keystone.password.clone();
    let sim = Sim::new(spec).unwrap();
    let dir = std::env::temp_dir().join(format!("dpm-secrets-{}", std::process::id()));
    let server = sim.serve(&ServeConfig::any_ports(&dir)).await.unwrap();
    let e = server.endpoints().clone();

    let hmc = HttpHmc::new(HttpConfig::new(
        &e.hmc.url,
        Credentials {
            userid: e.hmc.userid.clone(),
            password: Secret::new(hmc_password.clone()),
        },
        TlsVerify::CaFile(e.hmc.ca_cert.clone()),
    ))
    .unwrap();
    let cinder = HttpCinder::new(CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url: e.keystone.auth_url.clone(),
        username: e.keystone.username.clone(),
        password: cinder_client::Secret::new(keystone_password.clone()),
        project_name: e.keystone.project_name.clone(),
        user_domain_name: "Default".into(),
        project_domain_name: "Default".into(),
    }))
    .unwrap();
    let mappings: Vec<String> = sim
        .fcp_adapters()
        .iter()
        .map(|a| format!("\"{}:0\"", a.uri.object_id()))
        .collect();
    let cfg = DriverConfig::from_toml(&format!(
        "[dpm]\nhost = \"secrets\"\nhmc = \"{}\"\nhmc_username = \"{}\"\nhmc_password = \"{hmc_password}\"\n\
         cpc_object_id = \"{}\"\nmax_processors = 8\nmax_memory = 32768\nphysical_storage_adapter_mappings = [{}]\n",
        e.hmc.url,
        e.hmc.userid,
        sim.cpc_uri().object_id(),
        mappings.join(", ")
    ))
    .unwrap();
    let driver = Compute::new(DpmDriver::new(hmc, cfg), cinder);
    let mut shown = Vec::new();
    driver.init_host().await.unwrap();

    let mk = |name: &str, image: bool| VolumeCreate {
        size: 10,
        name: Some(name.into()),
        image_ref: image.then(|| sim.images()[0].0.clone()),
        ..VolumeCreate::default()
    };
    let boot = driver
        .cinder()
        .create_volume(&mk("boot", true))
        .await
        .unwrap();
    let data = driver
        .cinder()
        .create_volume(&mk("data", false))
        .await
        .unwrap();
    for v in [&boot.id, &data.id] {
        let status = driver.cinder().get_volume(v).await.unwrap().status;
        assert_eq!(status, VolumeStatus::Available);
    }
    let vm = Instance::new(cinder_client::InstanceId::from_u128(0x5ec7e7), 1, 2048);
    let spawned = driver
        .spawn(&vm, &[BlockDevice::boot(boot.id.clone())])
        .await
        .unwrap();
    shown.push(format!("{spawned:?}"));
    driver.attach_volume(&vm.uuid, &data.id).await.unwrap();
    // Errors too: a refused detach of the root disk, a bad volume.
    shown.push(format!(
        "{:?}",
        driver.detach_volume(&vm.uuid, &boot.id).await.unwrap_err()
    ));
    let nosuch = cinder_client::VolumeId::from_u128(0xdead);
    let e1 = driver.attach_volume(&vm.uuid, &nosuch).await.unwrap_err();
    shown.push(format!("{e1} {e1:?}"));
    driver.detach_volume(&vm.uuid, &data.id).await.unwrap();
    // A session the HMC drops is logged on again; its id must not show.
    sim.expire_sessions();
    driver.destroy(&vm.uuid).await.unwrap();
    shown.push(format!(
        "{:?} {:?} {driver:?}",
        driver.hmc(),
        driver.cinder()
    ));
    // A wrong password is refused without being repeated.
    let bad = HttpHmc::new(HttpConfig::new(
        &e.hmc.url,
        Credentials {
            userid: e.hmc.userid.clone(),
            password: Secret::new("wrong-secret-pw"),
        },
        TlsVerify::CaFile(e.hmc.ca_cert.clone()),
    ))
    .unwrap();
    let e2 = bad.logon().await.unwrap_err();
    shown.push(format!("{e2} {e2:?}"));
    driver.hmc().logoff().await.unwrap();
    server.shutdown().await;

    let logged = log.text();
    assert!(logged.lines().count() > 100, "TRACE logging is on");
    assert!(
        logged.contains("POST") || logged.contains("spawn"),
        "the flow is in the log"
    );
    let everything = format!("{logged}\n{}", shown.join("\n"));
    for (what, secret) in [
        ("the HMC password", hmc_password.as_str()),
        ("the Keystone password", keystone_password.as_str()),
        ("a wrong password", "wrong-secret-pw"),
        // dpm-sim's session ids and tokens have these shapes.
        ("an HMC session id", "sim-session-"),
        ("an HMC session credential", "sim-credential-"),
        ("a Keystone token", "gAAAAAsim"),
    ] {
        assert!(
            !everything.contains(secret),
            "{what} shows: {}",
            everything
                .lines()
                .find(|l| l.contains(secret))
                .unwrap_or_default()
        );
    }
}

/// `RUST_LOG=debug dpm check` (and `-vvv`, trace) against a served z16:
/// the HMC and Cinder requests show, one span each with method, path,
/// status and latency; the passwords, session ids and tokens do not. The
/// credentials come from the environment (`DPM_HMC_PASSWORD`, `OS_*`), not
/// the file.
#[tokio::test]
async fn debug_logs_of_dpm_check_show_the_requests_and_no_secret() {
    let spec = WorldSpec::z16();
    let hmc_password = spec.hmc.password.clone();
    let keystone_password = spec.keystone.password.clone();
    let sim = Sim::new(spec).unwrap();
    let dir = std::env::temp_dir().join(format!("dpm-secrets-check-{}", std::process::id()));
    let server = sim.serve(&ServeConfig::any_ports(&dir)).await.unwrap();
    let e = server.endpoints().clone();
    let mappings: Vec<String> = sim
        .fcp_adapters()
        .iter()
        .map(|a| format!("\"{}:0\"", a.uri.object_id()))
        .collect();
    let config = dir.join("dpm.toml");
    std::fs::write(
        &config,
        format!(
            "[dpm]\nhost = \"secrets\"\nhmc = \"{}\"\nhmc_username = \"{}\"\n\
             cpc_object_id = \"{}\"\nmax_processors = 8\nmax_memory = 32768\nphysical_storage_adapter_mappings = [{}]\n\
             [hmc]\nca_file = \"{}\"\n",
            e.hmc.url,
            e.hmc.userid,
            sim.cpc_uri().object_id(),
            mappings.join(", "),
            e.hmc.ca_cert.display(),
        ),
    )
    .unwrap();
    for (how, arg) in [("RUST_LOG", "debug"), ("-vvv", "trace")] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dpm"));
        c.env_clear()
            .arg("--config")
            .arg(&config)
            .env("DPM_HMC_PASSWORD", &hmc_password)
            .env("OS_AUTH_URL", &e.keystone.auth_url)
            .env("OS_USERNAME", &e.keystone.username)
            .env("OS_PASSWORD", &keystone_password)
            .env("OS_PROJECT_NAME", &e.keystone.project_name);
        if how == "RUST_LOG" {
            c.env("RUST_LOG", arg);
        } else {
            c.arg(how);
        }
        c.arg("check");
        // The server runs on this test's runtime: wait off it.
        let out = tokio::task::spawn_blocking(move || c.output())
            .await
            .unwrap()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{how}: {log}");
        for want in [
            "hmc_request{method=\"POST\" path=\"/api/sessions\" attempt=1}",
            "path=\"/api/cpcs/",
            "status=200",
            "latency_ms=",
            "cinder_request{api=\"keystone\" method=\"POST\" path=\"/v3/auth/tokens\" attempt=1}",
            "cinder_request{api=\"cinder\" method=\"GET\"",
            "Cinder credentials source=the OS_* variables",
            "HMC password from DPM_HMC_PASSWORD",
        ] {
            assert!(log.contains(want), "{how}: {want} is not in:\n{log}");
        }
        for (what, secret) in [
            ("the HMC password", hmc_password.as_str()),
            ("the Keystone password", keystone_password.as_str()),
            ("an HMC session id", "sim-session-"),
            ("an HMC session credential", "sim-credential-"),
            ("a Keystone token", "gAAAAAsim"),
        ] {
            assert!(
                !log.contains(secret),
                "{how}: {what} shows: {}",
                log.lines().find(|l| l.contains(secret)).unwrap_or_default()
            );
        }
    }
    server.shutdown().await;
}
