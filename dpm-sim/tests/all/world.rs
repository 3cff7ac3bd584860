//! `dpm-sim world` and `GET /sim/world`: the live world of a running
//! server, read across processes; and the `dpm.toml` that `serve` writes.

use cinder_client::{CinderApi, VolumeCreate};
use dpm_sim::{ServeConfig, Sim, WorldSpec};
use hmc_client::{HmcApi, PartitionCreate};

use crate::conformance::state_dir;

/// Runs the `dpm-sim` binary off the runtime's thread (the server in this
/// process must go on answering).
async fn dpm_sim(args: Vec<String>) -> (bool, String, String) {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dpm-sim"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_world_command_prints_what_exists_as_tables_and_json() {
    let sim = Sim::new(WorldSpec::z16()).unwrap();
    let dir = state_dir();
    let mut cfg = ServeConfig::any_ports(&dir);
    cfg.control_port = Some(0);
    let server = sim.serve(&cfg).await.unwrap();
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    hmc.create_partition(&sim.cpc_uri(), &PartitionCreate::new("world-p1", 2, 4096))
        .await
        .unwrap();
    let v = sim
        .default_cinder()
        .create_volume(&VolumeCreate {
            size: 3,
            name: Some("world-v1".into()),
            ..Default::default()
        })
        .await
        .unwrap();

    let dir_arg = dir.to_string_lossy().into_owned();
    let (ok, out, err) = dpm_sim(vec!["world".into(), "--state-dir".into(), dir_arg.clone()]).await;
    assert!(ok, "{err}");
    for want in [
        "Partitions",
        "world-p1",
        "stopped",
        "Storage groups",
        "Zones",
        "world-v1",
    ] {
        assert!(out.contains(want), "{want} missing in:\n{out}");
    }
    assert!(out.contains(&v.id.to_string()), "{out}");

    let url = server.endpoints().control.clone().unwrap().url;
    let (ok, out, err) = dpm_sim(vec![
        "world".into(),
        "--control".into(),
        url,
        "-o".into(),
        "json".into(),
    ])
    .await;
    assert!(ok, "{err}");
    let w: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(w["partitions"][0]["name"], "world-p1");
    assert_eq!(w["partitions"][0]["ifl"], 2);
    assert_eq!(w["fabrics"], serde_json::json!(["A", "B"]));
    assert!(w["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == v.id.to_string()));
    for key in ["hbas", "storage_groups", "hosts", "zones", "attachments"] {
        assert!(w[key].is_array(), "{key}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_world_command_says_when_there_is_no_control_route() {
    let sim = Sim::new(WorldSpec::z13()).unwrap();
    let dir = state_dir();
    let server = sim.serve(&ServeConfig::any_ports(&dir)).await.unwrap();
    let (ok, _, err) = dpm_sim(vec![
        "world".into(),
        "--state-dir".into(),
        dir.to_string_lossy().into_owned(),
    ])
    .await;
    assert!(!ok);
    assert!(err.contains("--control-port"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn serve_writes_a_dpm_toml_for_the_served_world() {
    let sim = Sim::new(WorldSpec::z16()).unwrap();
    let dir = state_dir();
    let server = sim.serve(&ServeConfig::any_ports(&dir)).await.unwrap();
    let e = server.endpoints().clone();
    let text = std::fs::read_to_string(dir.join("dpm.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(t["dpm"]["hmc"].as_str(), Some(e.hmc.url.as_str()));
    assert_eq!(
        t["dpm"]["cpc_object_id"].as_str(),
        Some(e.cpc.object_id.as_str())
    );
    let maps = t["dpm"]["physical_storage_adapter_mappings"]
        .as_array()
        .unwrap();
    assert_eq!(maps.len(), e.fcp_adapters.len());
    assert_eq!(
        maps[0].as_str().unwrap(),
        format!("{}:0", e.fcp_adapters[0].object_id)
    );
    assert_eq!(
        t["hmc"]["notification_port"].as_integer(),
        Some(i64::from(e.hmc.notification_port))
    );
    assert_eq!(
        t["hmc"]["ca_file"].as_str(),
        Some(e.hmc.ca_cert.to_string_lossy().as_ref())
    );
    assert_eq!(
        t["cinder"]["auth_url"].as_str(),
        Some(e.keystone.auth_url.as_str())
    );
    assert_eq!(
        t["cinder"]["password"].as_str(),
        Some(e.keystone.password.as_str())
    );
    server.shutdown().await;
}
