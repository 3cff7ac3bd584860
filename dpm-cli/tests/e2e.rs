//! End to end across processes: `dpm-sim serve` runs as its own process,
//! and every step is a `dpm` command over HTTPS and HTTP, as an operator
//! would run it. The world is checked through the HMC API as well as
//! through the commands' JSON output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hmc_client::{
    AdapterFilter, BootDevice, CpcUri, Credentials, HmcApi, HttpConfig, HttpHmc, PartitionStatus,
    Secret, TlsVerify,
};
use serde_json::{json, Value};

struct Served {
    child: Child,
    endpoints: Value,
    dir: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn sim_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("DPM_SIM_BIN") {
        return p.into();
    }
    let dpm = PathBuf::from(env!("CARGO_BIN_EXE_dpm"));
    let sim = dpm.with_file_name(format!("dpm-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sim.exists(),
        "{} is not built: run `cargo build -p dpm-sim` (cargo xtask e2e does)",
        sim.display()
    );
    sim
}

/// Starts `dpm-sim serve` on a named world (`z13` or `z16`) on free ports
/// with fast transitions and any `extra` arguments, and reads its one JSON
/// line.
fn serve(name: &str, world: &str, extra: &[&str]) -> Served {
    let dir = std::env::temp_dir().join(format!("dpm-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = match world {
        "z13" => include_str!("../../dpm-sim/worlds/z13.toml"),
        _ => include_str!("../../dpm-sim/worlds/z16.toml"),
    };
    let world = text
        .replace("partition_start_ms = 3000", "partition_start_ms = 300")
        .replace("partition_stop_ms = 1500", "partition_stop_ms = 200")
        .replace("guest_shutdown_ms = 4000", "guest_shutdown_ms = 200")
        .replace("volume_create_ms = 2000", "volume_create_ms = 200")
        .replace("discovery_ms = 5000", "discovery_ms = 300");
    std::fs::write(dir.join("world.toml"), world).unwrap();
    let mut child = Command::new(sim_binary())
        .args([
            "serve",
            "--hmc-port",
            "0",
            "--keystone-port",
            "0",
            "--cinder-port",
            "0",
            "--notification-port",
            "0",
            "--world",
        ])
        .arg(dir.join("world.toml"))
        .args(extra)
        .arg("--state-dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoints: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON line: {line:?}: {e}"));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("endpoints.json")).unwrap())
            .unwrap();
    assert_eq!(endpoints, written);
    Served {
        child,
        endpoints,
        dir,
    }
}

fn write_config(s: &Served, mappings: &[String]) -> PathBuf {
    let e = &s.endpoints;
    let maps: Vec<String> = mappings.iter().map(|m| format!("\"{m}\"")).collect();
    let text = format!(
        "[dpm]\nhost = \"e2e\"\nhmc = \"{}\"\nhmc_username = \"{}\"\nhmc_password = \"{}\"\ncpc_object_id = \"{}\"\n\
         max_processors = 8\nmax_memory = 32768\nphysical_storage_adapter_mappings = [{}]\njob_timeout_seconds = 60\n\n\
         [hmc]\nca_file = \"{}\"\nnotification_port = {}\n\n[cinder]\nauth_url = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\nproject_name = \"{}\"\n",
        e["hmc"]["url"].as_str().unwrap(),
        e["hmc"]["userid"].as_str().unwrap(),
        e["hmc"]["password"].as_str().unwrap(),
        e["cpc"]["object_id"].as_str().unwrap(),
        maps.join(", "),
        e["hmc"]["ca_cert"].as_str().unwrap(),
        e["hmc"]["notification_port"].as_u64().unwrap(),
        e["keystone"]["auth_url"].as_str().unwrap(),
        e["keystone"]["username"].as_str().unwrap(),
        e["keystone"]["password"].as_str().unwrap(),
        e["keystone"]["project_name"].as_str().unwrap(),
    );
    let path = s.dir.join(format!(
        "dpm-{}.toml",
        mappings.len() + mappings.iter().map(String::len).sum::<usize>()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

struct Out {
    ok: bool,
    json: Value,
    stderr: String,
}

impl Out {
    /// A failure under --json: its message and causes, from the one JSON
    /// object on stdout.
    fn error(&self) -> String {
        let e = &self.json["error"];
        let mut parts = vec![e["message"].as_str().unwrap_or_default().to_owned()];
        for c in e["causes"].as_array().into_iter().flatten() {
            parts.push(c.as_str().unwrap_or_default().to_owned());
        }
        parts.join("\n")
    }
}

fn dpm(config: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_dpm"))
        .arg("--config")
        .arg(config)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Out {
        ok: out.status.success(),
        json: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(config: &Path, args: &[&str]) -> Value {
    let o = dpm(config, args);
    assert!(o.ok, "dpm {args:?} failed:\n{}", o.stderr);
    o.json
}

fn hmc_of(s: &Served) -> HttpHmc {
    let e = &s.endpoints["hmc"];
    HttpHmc::new(HttpConfig::new(
        e["url"].as_str().unwrap(),
        Credentials {
            userid: e["userid"].as_str().unwrap().into(),
            password: Secret::new(e["password"].as_str().unwrap()),
        },
        TlsVerify::CaFile(e["ca_cert"].as_str().unwrap().into()),
    ))
    .unwrap()
}

#[tokio::test]
async fn scenarios_through_the_cli_on_a_z13() {
    scenarios("z13").await;
}

#[tokio::test]
async fn scenarios_through_the_cli_on_a_z16() {
    scenarios("z16").await;
}

/// The scenarios through the `dpm` CLI and HTTP, one body for both storage
/// models.
async fn scenarios(world: &str) {
    let groups = world != "z13";
    // On z16 Cinder is served under a path, as devstack and mod_wsgi serve
    // it: the CLI finds it through the catalog and its version document
    // under the prefix.
    let extra: &[&str] = if groups {
        &["--cinder-path", "/volume"]
    } else {
        &[]
    };
    let s = serve(&format!("scenarios-{world}"), world, extra);
    if groups {
        let endpoint = s.endpoints["cinder"]["endpoint"].as_str().unwrap();
        assert!(endpoint.contains("/volume/v3/"), "{endpoint}");
    }
    let adapters: Vec<String> = s.endpoints["fcp_adapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}:0", a["object_id"].as_str().unwrap()))
        .collect();
    let cfg = write_config(&s, &adapters);
    let hmc = hmc_of(&s);
    let cpc = CpcUri::from_object_id(s.endpoints["cpc"]["object_id"].as_str().unwrap()).unwrap();

    assert_eq!(ok(&cfg, &["check"])["ok"], true);
    let image = s.endpoints["images"][0]["id"].as_str().unwrap().to_owned();
    let boot = ok(
        &cfg,
        &[
            "volume", "create", "--name", "boot", "--size", "10", "--image", &image,
        ],
    );
    assert_eq!(boot["bootable"], true);
    let boot = boot["id"].as_str().unwrap().to_owned();
    let data = ok(&cfg, &["volume", "create", "--name", "data", "--size", "5"])["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // 1. Spawn.
    let spawned = ok(
        &cfg,
        &[
            "spawn",
            "--name",
            "web1",
            "--vcpus",
            "2",
            "--memory-mb",
            "4096",
            "--boot-volume",
            &boot,
        ],
    );
    let partition = spawned["partition"].as_str().unwrap().parse().unwrap();
    let p = hmc.get_partition(&partition).await.unwrap();
    assert_eq!(p.status, PartitionStatus::Active);
    // The name is stored with the partition, after the instance's random
    // UUID, which names the partition.
    let uuid = spawned["instance"].as_str().unwrap().to_owned();
    assert_eq!(spawned["name"], "web1");
    assert_eq!(p.name, format!("OpenStack-e2e-{uuid}"));
    assert_eq!(
        p.description,
        format!("OpenStack CPCSubset=e2e instance={uuid} name=web1")
    );
    assert_eq!(
        uuid.parse::<uuid::Uuid>().unwrap().get_version_num(),
        4,
        "{uuid}"
    );
    assert_eq!((p.ifl_processors, p.initial_memory), (2, 4096));
    let boot_lun = if groups {
        // Storage groups: the partition boots from the group's volume, and
        // the group's WWPNs are the initiators.
        assert_eq!(p.boot_device, BootDevice::StorageVolume);
        assert!(p.hba_uris.is_empty());
        assert_eq!(
            p.boot_storage_volume.as_ref().unwrap().as_str(),
            spawned["boot"]["storage_volume"].as_str().unwrap()
        );
        assert_eq!(
            spawned["storage_group"]["wwpns"].as_array().unwrap().len(),
            2
        );
        let group = hmc
            .get_storage_group(&p.storage_group_uris[0])
            .await
            .unwrap();
        assert_eq!(group.fulfillment_state.as_str(), "complete");
        assert_eq!(group.virtual_storage_resource_uris.len(), 2);
        spawned["boot"]["paths"][0]["lun"].clone()
    } else {
        assert_eq!(p.boot_device, BootDevice::StorageAdapter);
        assert_eq!(
            p.boot_logical_unit_number.unwrap().to_string(),
            spawned["boot"]["lun"].as_str().unwrap()
        );
        let boot_hba = hmc
            .get_hba(p.boot_storage_device.as_ref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            boot_hba.adapter_port_uri.parent().object_id(),
            adapters[0].split(':').next().unwrap()
        );
        assert_eq!(spawned["vhbas"].as_array().unwrap().len(), 2);
        spawned["boot"]["lun"].clone()
    };

    // A name is unique on the host: a second spawn of it is refused, and
    // nothing changes.
    let taken = dpm(
        &cfg,
        &[
            "spawn",
            "--name",
            "web1",
            "--vcpus",
            "1",
            "--memory-mb",
            "2048",
            "--boot-volume",
            &data,
        ],
    );
    assert!(!taken.ok);
    assert_eq!(taken.json["error"]["kind"], "refused", "{}", taken.json);
    assert!(
        taken.error().contains("\"web1\"") && taken.error().contains(&uuid),
        "{}",
        taken.json
    );
    let listed = ok(&cfg, &["list"]);
    let instances = listed["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1, "{listed}");
    assert_eq!(instances[0]["name"], "web1");
    assert_eq!(instances[0]["instance"], uuid.as_str());
    assert_eq!(instances[0]["vcpus"], 2);
    // The UUID names it as well as the name does.
    assert_eq!(ok(&cfg, &["info", &uuid])["name"], "web1");

    // 2. Attach and detach on the running instance.
    let attached = ok(&cfg, &["attach", "web1", &data]);
    let paths = attached["paths"].as_array().unwrap();
    let devices: std::collections::BTreeSet<&str> = paths
        .iter()
        .map(|p| p["device_number"].as_str().unwrap())
        .collect();
    assert_eq!(devices.len(), 2, "on both paths");
    assert_ne!(paths[0]["lun"], boot_lun);
    let info = ok(&cfg, &["info", "web1"]);
    assert_eq!(info["volumes"].as_array().unwrap().len(), 2);
    assert_eq!(info["instance"], uuid.as_str());
    assert_eq!(info["partition_name"], p.name.as_str());
    assert_eq!(info["boot"]["volume"], boot.as_str());
    let vols = info["volumes"].as_array().unwrap();
    assert_eq!(vols[0]["volume"], boot.as_str());
    assert_eq!(vols[0]["boot"], true);
    assert_eq!(vols[1]["volume"], data.as_str());
    assert_eq!(vols[1]["paths"], attached["paths"]);
    assert!(vols
        .iter()
        .all(|v| !v["paths"].as_array().unwrap().is_empty()));

    // The guest's configuration: one entry per path of every volume.
    let guest = ok(&cfg, &["guest-config", "web1"]);
    let all_paths: Vec<&Value> = vols
        .iter()
        .flat_map(|v| v["paths"].as_array().unwrap())
        .collect();
    let kernel = guest["kernel_parameters"].as_array().unwrap();
    assert_eq!(kernel.len(), all_paths.len(), "{guest}");
    for p in &all_paths {
        let entry = format!(
            "rd.zfcp=0.0.{},0x{},0x{}",
            p["device_number"].as_str().unwrap(),
            p["target_wwpn"].as_str().unwrap(),
            p["lun"].as_str().unwrap()
        );
        assert!(kernel.iter().any(|k| k == &entry), "{entry} in {guest}");
        let chzdev = entry
            .replacen("rd.zfcp=", "chzdev -e zfcp-lun ", 1)
            .replace(',', ":");
        assert!(
            guest["chzdev"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == &chzdev),
            "{chzdev} in {guest}"
        );
    }
    let devices = guest["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{guest}");
    let rules = guest["udev_rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(
        rules[0]["file"],
        format!("41-zfcp-lun-{}.rules", devices[0].as_str().unwrap())
    );
    // In use: Cinder refuses to delete it, and says why.
    let refused = dpm(&cfg, &["volume", "delete", &data, "--yes"]);
    assert!(!refused.ok);
    assert_eq!(refused.json["error"]["kind"], "cinder", "{}", refused.json);
    assert!(refused.error().contains("attachments"), "{}", refused.json);
    let shown = ok(&cfg, &["volume", "show", &data]);
    assert_eq!(shown["status"], "in-use");
    assert_eq!(shown["attachments"][0]["instance"], uuid.as_str());
    if groups {
        let storage = &info["storage"];
        assert_eq!(storage["model"], "storage-groups");
        assert_eq!(storage["vsrs"].as_array().unwrap().len(), 2);
        let volumes = storage["storage_volumes"].as_array().unwrap();
        assert_eq!(volumes.len(), 2);
        assert!(volumes
            .iter()
            .all(|v| v["fulfillment_state"] == "complete"
                && !v["paths"].as_array().unwrap().is_empty()));
    } else {
        assert_eq!(info["storage"]["vhbas"].as_array().unwrap().len(), 2);
    }
    ok(&cfg, &["detach", "web1", &data]);
    let info = ok(&cfg, &["info", "web1"]);
    assert_eq!(info["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(info["power_state"], "Running");
    let refused = dpm(&cfg, &["detach", "web1", &data]);
    assert!(
        !refused.ok && refused.error().contains("is not attached"),
        "{} {}",
        refused.json,
        refused.stderr
    );

    // Power and the console, as an operator drives them.
    let stopped = ok(&cfg, &["stop", "web1"]);
    assert_eq!(stopped["status"], "stopped", "{stopped}");
    assert_eq!(ok(&cfg, &["info", "web1"])["power_state"], "Shutdown");
    let started = ok(&cfg, &["start", "web1"]);
    assert_eq!(started["status"], "active", "{started}");
    let rebooted = ok(&cfg, &["reboot", "web1", "--hard"]);
    assert_eq!(rebooted["status"], "active", "{rebooted}");
    let console = ok(&cfg, &["console", "web1"]);
    let messages = console["messages"].as_array().unwrap();
    // Three boots so far (spawn, start, reboot), each with its messages.
    assert!(messages.len() >= 6, "{console}");
    assert!(messages
        .iter()
        .any(|m| m["text"].as_str().unwrap_or("").contains("rd.zfcp=")));

    // 5. A second instance cannot boot from the same volume; nothing is left.
    let second = dpm(
        &cfg,
        &[
            "spawn",
            "--name",
            "web2",
            "--vcpus",
            "1",
            "--memory-mb",
            "2048",
            "--boot-volume",
            &boot,
        ],
    );
    assert!(!second.ok);
    assert_eq!(second.json["error"]["kind"], "spawn", "{}", second.json);
    assert!(
        second.error().contains("everything it did was undone"),
        "{}",
        second.json
    );
    assert!(
        second.error().contains("Cinder could not reserve volume"),
        "{}",
        second.json
    );
    assert_eq!(
        hmc.list_partitions(&cpc, &Default::default())
            .await
            .unwrap()
            .len(),
        1
    );

    let resources = ok(&cfg, &["resources"]);
    assert_eq!(
        (
            resources["vcpus_used"].as_u64(),
            resources["memory_mb_used"].as_u64()
        ),
        (Some(2), Some(4096))
    );

    // 3. Destroy: not on a terminal it needs -y, and refuses without.
    let unconfirmed = dpm(&cfg, &["destroy", "web1"]);
    assert!(!unconfirmed.ok);
    assert_eq!(unconfirmed.json["error"]["kind"], "refused");
    assert!(unconfirmed.error().contains("-y"), "{}", unconfirmed.json);
    assert_eq!(
        ok(&cfg, &["list"])["instances"].as_array().unwrap().len(),
        1
    );
    let destroyed = ok(&cfg, &["destroy", "web1", "-y"]);
    assert_eq!(destroyed["instance"], uuid.as_str());
    assert_eq!(destroyed["name"], "web1");
    assert!(ok(&cfg, &["list"])["instances"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(hmc
        .list_partitions(&cpc, &Default::default())
        .await
        .unwrap()
        .is_empty());
    let vols = ok(&cfg, &["volume", "list"]);
    assert!(
        vols["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "available"),
        "{vols}"
    );
    // Destroying again is an error naming what was typed.
    let again = dpm(&cfg, &["destroy", "web1", "-y"]);
    assert!(!again.ok);
    assert_eq!(again.json["error"]["kind"], "not_found");
    assert!(again.error().contains("\"web1\""), "{}", again.json);
    // An available volume is deleted once confirmed.
    let unconfirmed = dpm(&cfg, &["volume", "delete", &data]);
    assert_eq!(unconfirmed.json["error"]["kind"], "refused");
    assert_eq!(ok(&cfg, &["volume", "show", &data])["status"], "available");
    assert_eq!(
        ok(&cfg, &["volume", "delete", &data, "-y"])["deleted"],
        true
    );

    if groups {
        assert!(hmc
            .list_storage_groups(&Default::default())
            .await
            .unwrap()
            .is_empty());
    }

    // 6. A non-FCP adapter in the mappings is its own error.
    let all = hmc
        .list_adapters(&cpc, &AdapterFilter::default())
        .await
        .unwrap();
    let ficon = all
        .iter()
        .find(|a| a.adapter_type.as_str() == "fc")
        .unwrap();
    let bad = write_config(&s, &[format!("{}:0", ficon.object_uri.object_id())]);
    let check = dpm(&bad, &["check"]);
    assert!(
        !check.ok && check.error().contains("not fcp"),
        "{}",
        check.json
    );

    // Bad input is a usage error (exit 2), not a panic.
    let usage = Command::new(env!("CARGO_BIN_EXE_dpm"))
        .args(["--config"])
        .arg(&cfg)
        .args(["spawn", "--vcpus", "two"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    hmc.logoff().await.unwrap();

    // The server ends cleanly on SIGTERM.
    let mut s = s;
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(s.child.wait().unwrap().success());

    // dpm-sim logged every request, one line each, with no secret.
    let log = std::fs::read_to_string(s.dir.join("serve.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("api=\"hmc\"")
            && l.contains("method=POST")
            && l.contains("path=/api/sessions")
            && l.contains("status=200")
            && l.contains("latency_ms=")),
        "{log}"
    );
    assert!(log.contains("api=\"cinder\""), "{log}");
    for secret in [
        s.endpoints["hmc"]["password"].as_str().unwrap(),
        s.endpoints["keystone"]["password"].as_str().unwrap(),
        "sim-session-",
    ] {
        assert!(!log.contains(secret), "{secret} in the request log");
    }
}

/// `dpm-sim serve` writes a ready `dpm.toml`: `dpm check` works with it at
/// once. With `--trace` the requests are drawn: Mermaid for `.mmd`,
/// seqdiag for `.diag`, the spec's participants, and no secret.
#[test]
fn the_served_dpm_toml_works_at_once_and_trace_draws_the_requests() {
    let s = serve("dpm-toml", "z13", &[]);
    let config = s.dir.join("dpm.toml");
    let check = ok(&config, &["check"]);
    assert_eq!(check["ok"], true, "{check}");
    let mmd = s.dir.join("check.mmd");
    let diag = s.dir.join("check.diag");
    ok(&config, &["--trace", mmd.to_str().unwrap(), "check"]);
    ok(&config, &["check", "--trace", diag.to_str().unwrap()]);
    let m = std::fs::read_to_string(&mmd).unwrap();
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "sequenceDiagram");
    for p in [
        "nova",
        "nova-driver",
        "nova-volume",
        "cinder",
        "HMC",
        "storage",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("    participant ") && l.ends_with(&format!(" as {p}"))),
            "{p} not declared:\n{m}"
        );
    }
    assert!(lines.contains(&"    nova->>driver: init_host"), "{m}");
    assert!(
        lines.contains(&"    driver->>hmc: POST /api/sessions"),
        "{m}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("    driver->>hmc: GET /api/cpcs/")),
        "{m}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("    driver->>cinder: Keystone: POST /v3/auth/tokens")),
        "{m}"
    );
    for l in &lines[1..] {
        assert!(
            l.starts_with("    participant ")
                || l.starts_with("    Note over ")
                || l.contains("->>"),
            "not a statement: {l:?}"
        );
    }
    let d = std::fs::read_to_string(&diag).unwrap();
    assert!(d.starts_with("diagram {\n"), "{d}");
    assert!(
        d.contains("nova-driver -> HMC [label = \"POST /api/sessions\"];"),
        "{d}"
    );
    assert!(d.trim_end().ends_with('}'), "{d}");
    let e = &s.endpoints;
    for secret in [&e["hmc"]["password"], &e["keystone"]["password"]] {
        let secret = secret.as_str().unwrap();
        assert!(!m.contains(secret) && !d.contains(secret));
    }
}

/// A `dpm.toml` for the served world: every FCP adapter's port 0.
fn configured(s: &Served) -> PathBuf {
    let adapters: Vec<String> = s.endpoints["fcp_adapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}:0", a["object_id"].as_str().unwrap()))
        .collect();
    write_config(s, &adapters)
}

/// A bootable volume made from the world's first image, and a data volume.
fn boot_and_data(cfg: &Path, s: &Served) -> (String, String) {
    let image = s.endpoints["images"][0]["id"].as_str().unwrap().to_owned();
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let boot = id(ok(
        cfg,
        &[
            "volume", "create", "--name", "boot", "--size", "10", "--image", &image,
        ],
    ));
    let data = id(ok(
        cfg,
        &["volume", "create", "--name", "data", "--size", "5"],
    ));
    (boot, data)
}

/// Two `dpm` processes on one instance at once (no lock spans processes):
/// each outcome is judged by the world at the end, never by a step the
/// HMC refused because the other was mid-way.
#[tokio::test]
async fn two_processes_on_one_instance_at_once() {
    for world in ["z13", "z16"] {
        let s = serve(&format!("two-{world}"), world, &[]);
        let cfg = configured(&s);
        let hmc = hmc_of(&s);
        let cpc =
            CpcUri::from_object_id(s.endpoints["cpc"]["object_id"].as_str().unwrap()).unwrap();
        let (boot, data) = boot_and_data(&cfg, &s);
        let spawn = || {
            ok(
                &cfg,
                &[
                    "spawn",
                    "--name",
                    "web1",
                    "--vcpus",
                    "1",
                    "--memory-mb",
                    "2048",
                    "--boot-volume",
                    &boot,
                ],
            )
        };
        // Gone at the end: no partition, vHBA or group; every volume
        // available.
        let clean = || async {
            let parts = hmc
                .list_partitions(&cpc, &hmc_client::PartitionFilter::default())
                .await
                .unwrap();
            assert!(parts.is_empty(), "{world}: {parts:?}");
            let groups = hmc
                .list_storage_groups(&hmc_client::StorageGroupFilter::default())
                .await
                .unwrap();
            assert!(groups.is_empty(), "{world}: {groups:?}");
            let vols = ok(&cfg, &["volume", "list"]);
            for v in vols["volumes"].as_array().unwrap() {
                assert_eq!(v["status"], "available", "{world}: {vols}");
            }
        };
        // A process that lost the race either finished the same work, or
        // found the instance gone; it never reports as left behind what
        // the other removed.
        let judged = |o: &Out, what: &str| {
            assert!(
                o.ok || o.json["error"]["kind"] == "not_found",
                "{world} {what}: {} {}",
                o.json,
                o.stderr
            );
            assert!(
                o.json["error"]["left_behind"].is_null(),
                "{world} {what}: {}",
                o.json
            );
        };

        // destroy / destroy
        spawn();
        let (a, b) = std::thread::scope(|t| {
            let a = t.spawn(|| dpm(&cfg, &["destroy", "web1", "-y"]));
            let b = t.spawn(|| dpm(&cfg, &["destroy", "web1", "-y"]));
            (a.join().unwrap(), b.join().unwrap())
        });
        judged(&a, "destroy");
        judged(&b, "destroy");
        assert!(a.ok || b.ok, "{world}: one destroy did it");
        clean().await;

        // destroy / attach: the attach may win or lose; nothing of it
        // outlives the instance.
        spawn();
        let (a, b) = std::thread::scope(|t| {
            let a = t.spawn(|| dpm(&cfg, &["destroy", "web1", "-y"]));
            let b = t.spawn(|| dpm(&cfg, &["attach", "web1", &data]));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert!(a.ok, "{world}: destroy: {} {}", a.json, a.stderr);
        assert!(
            b.ok || b.json["error"]["left_behind"].is_null(),
            "{world}: attach: {}",
            b.json
        );
        clean().await;

        // spawn / destroy: whichever wins, one more destroy (as an
        // operator would run) leaves nothing.
        let (a, b) = std::thread::scope(|t| {
            let a = t.spawn(spawn_out(&cfg, &boot));
            let b = t.spawn(|| dpm(&cfg, &["destroy", "web1", "-y"]));
            (a.join().unwrap(), b.join().unwrap())
        });
        judged(&b, "destroy");
        assert!(
            a.ok || a.json["error"]["left_behind"].is_null(),
            "{world}: spawn: {}",
            a.json
        );
        if a.ok {
            let _ = dpm(&cfg, &["destroy", "web1", "-y"]);
        }
        clean().await;
    }
}

fn spawn_out<'a>(cfg: &'a Path, boot: &'a str) -> impl FnOnce() -> Out + Send + 'a {
    move || {
        dpm(
            cfg,
            &[
                "spawn",
                "--name",
                "web1",
                "--vcpus",
                "1",
                "--memory-mb",
                "2048",
                "--boot-volume",
                boot,
            ],
        )
    }
}

/// The served simulator's control routes.
struct Control {
    http: reqwest::Client,
    url: String,
}

impl Control {
    fn of(s: &Served) -> Self {
        // reqwest is built without a crypto provider; the control routes
        // are plain HTTP, but the client wants one all the same.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::new(),
            url: s.endpoints["control"]["url"].as_str().unwrap().to_owned(),
        }
    }
    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    async fn post(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    async fn reset(&self) {
        self.http
            .delete(format!("{}/sim/counters", self.url))
            .send()
            .await
            .unwrap();
    }
    /// HMC and Cinder requests since the last reset.
    async fn requests(&self) -> u64 {
        let c = self.get("/sim/counters").await;
        c["requests"]["hmc"].as_u64().unwrap_or(0) + c["requests"]["cinder"].as_u64().unwrap_or(0)
    }
}

/// Runs `dpm` and sends it SIGINT once the simulator has answered `after`
/// requests; returns its exit status and its JSON answer.
async fn interrupted(cfg: &Path, ctl: &Control, args: &[&str], after: u64) -> (i32, Value) {
    ctl.reset().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dpm"))
        .arg("--config")
        .arg(cfg)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The simulator's requests are the command's progress: no clock is
    // read, each request takes the latency armed below.
    // (A command that ends first is not waited for.)
    while ctl.requests().await < after && child.try_wait().unwrap().is_none() {
        tokio::task::yield_now().await;
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let json =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

/// SIGINT at every step of a spawn and of an attach: the command stops,
/// undoes what it did, says so, and exits 130; the world is as before.
#[tokio::test]
async fn a_signal_undoes_the_command_at_every_step() {
    for world in ["z13", "z16"] {
        let s = serve(&format!("signal-{world}"), world, &["--control-port", "0"]);
        let ctl = Control::of(&s);
        let cfg = configured(&s);
        let (boot, data) = boot_and_data(&cfg, &s);
        let spawn_args = [
            "spawn",
            "--name",
            "web1",
            "--vcpus",
            "1",
            "--memory-mb",
            "2048",
            "--boot-volume",
            &boot,
        ];
        let empty = ctl.get("/sim/leaks").await;
        // A whole spawn's requests.
        ctl.reset().await;
        ok(&cfg, &spawn_args);
        let spawn_requests = ctl.requests().await;
        ok(&cfg, &["destroy", "web1", "-y"]);
        assert_eq!(ctl.get("/sim/leaks").await, empty);
        ctl.post("/sim/latency", json!({"hmc_ms": 15, "cinder_ms": 15}))
            .await;
        let mut undone = 0;
        for after in (1..spawn_requests).step_by(2) {
            let (code, out) = interrupted(&cfg, &ctl, &spawn_args, after).await;
            match code {
                130 => {
                    undone += 1;
                    assert_eq!(
                        out["error"]["kind"], "interrupted",
                        "{world} after {after}: {out}"
                    );
                    assert!(out["error"]["left_behind"].is_null(), "{out}");
                }
                // The spawn finished before the signal was read.
                0 => {
                    ok(&cfg, &["destroy", "web1", "-y"]);
                }
                other => panic!("{world} spawn, SIGINT after {after}: exit {other}: {out}"),
            }
            assert_eq!(
                ctl.get("/sim/leaks").await,
                empty,
                "{world} spawn, SIGINT after {after} requests: {out}"
            );
        }
        assert!(undone > 0, "{world}: no spawn was interrupted");

        // Attach, on a running instance.
        ctl.post("/sim/latency", json!({"hmc_ms": 0, "cinder_ms": 0}))
            .await;
        ok(&cfg, &spawn_args);
        let running = ctl.get("/sim/leaks").await;
        ctl.reset().await;
        ok(&cfg, &["attach", "web1", &data]);
        let attach_requests = ctl.requests().await;
        ok(&cfg, &["detach", "web1", &data]);
        assert_eq!(ctl.get("/sim/leaks").await, running);
        ctl.post("/sim/latency", json!({"hmc_ms": 15, "cinder_ms": 15}))
            .await;
        for after in 1..attach_requests {
            let (code, out) = interrupted(&cfg, &ctl, &["attach", "web1", &data], after).await;
            match code {
                130 => assert_eq!(out["error"]["kind"], "interrupted", "{out}"),
                0 => {
                    ok(&cfg, &["detach", "web1", &data]);
                }
                other => panic!("{world} attach, SIGINT after {after}: exit {other}: {out}"),
            }
            assert_eq!(
                ctl.get("/sim/leaks").await,
                running,
                "{world} attach, SIGINT after {after} requests: {out}"
            );
        }
        ctl.post("/sim/latency", json!({"hmc_ms": 0, "cinder_ms": 0}))
            .await;
        ok(&cfg, &["destroy", "web1", "-y"]);
        assert_eq!(ctl.get("/sim/leaks").await, empty);
    }
}

/// `dpm stop --timeout` and `dpm reboot`: the guest is asked to shut down
/// (Send OS Command) and halts by itself, a hung one is stopped under it
/// after the timeout, no timeout stops at once; the JSON says which, read
/// against the served simulator's counters and the guest's console.
#[tokio::test]
async fn stop_with_a_timeout_asks_the_guest_first() {
    for world in ["z13", "z16"] {
        let s = serve(
            &format!("shutdown-{world}"),
            world,
            &["--control-port", "0"],
        );
        let ctl = Control::of(&s);
        let cfg = configured(&s);
        let (boot, _) = boot_and_data(&cfg, &s);
        let spawned = ok(
            &cfg,
            &[
                "spawn",
                "--name",
                "web1",
                "--vcpus",
                "1",
                "--memory-mb",
                "2048",
                "--boot-volume",
                &boot,
            ],
        );
        let partition = spawned["partition"].as_str().unwrap().to_owned();
        let sends = |c: &Value| c["counts"]["hmc.send_os_command"].as_u64().unwrap_or(0);

        // A clean shutdown: the guest halts by itself, then the stop.
        ctl.reset().await;
        let stopped = ok(&cfg, &["stop", "web1", "--timeout", "30"]);
        assert_eq!(stopped["guest_shutdown"], "clean", "{world}: {stopped}");
        assert_eq!(stopped["status"], "stopped", "{stopped}");
        let c = ctl.get("/sim/counters").await;
        assert_eq!(sends(&c), 1, "{c}");
        assert_eq!(c["counts"]["hmc.stop_partition"], 1, "{c}");
        let console = ok(&cfg, &["console", "web1"]);
        let texts: Vec<&str> = console["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert!(
            texts.iter().any(|t| t.ends_with("# shutdown -h now")),
            "{console}"
        );
        assert_eq!(texts.last(), Some(&"reboot: Power down"), "{console}");

        // A hung guest: asked at 0 and 1 s, stopped under it at 2 s.
        ok(&cfg, &["start", "web1"]);
        ctl.post(
            "/sim/guest",
            json!({"partition": partition, "responsive": false}),
        )
        .await;
        ctl.reset().await;
        let stopped = ok(
            &cfg,
            &["stop", "web1", "--timeout", "2", "--retry-interval", "1"],
        );
        assert_eq!(stopped["guest_shutdown"], "timed_out", "{stopped}");
        assert_eq!(stopped["status"], "stopped", "{stopped}");
        assert_eq!(sends(&ctl.get("/sim/counters").await), 2);

        // Without a timeout: at once, the guest not asked.
        ok(&cfg, &["start", "web1"]);
        ctl.reset().await;
        let stopped = ok(&cfg, &["stop", "web1"]);
        assert_eq!(stopped["guest_shutdown"], "not_asked", "{stopped}");
        let c = ctl.get("/sim/counters").await;
        assert_eq!(sends(&c), 0, "{c}");
        // Stopped already: nothing to ask, said in words too.
        let out = Command::new(env!("CARGO_BIN_EXE_dpm"))
            .arg("--config")
            .arg(&cfg)
            .args(["stop", "web1", "--timeout", "5"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("partition stopped (the guest was not running)"),
            "{said}"
        );

        // A soft reboot asks the guest (60 s by default); a hard one not.
        ok(&cfg, &["start", "web1"]);
        ctl.post(
            "/sim/guest",
            json!({"partition": partition, "responsive": true}),
        )
        .await;
        let rebooted = ok(&cfg, &["reboot", "web1"]);
        assert_eq!(
            (&rebooted["guest_shutdown"], &rebooted["status"]),
            (&json!("clean"), &json!("active")),
            "{rebooted}"
        );
        let rebooted = ok(&cfg, &["reboot", "web1", "--hard"]);
        assert_eq!(rebooted["guest_shutdown"], "not_asked", "{rebooted}");
        let refused = dpm(&cfg, &["reboot", "web1", "--hard", "--timeout", "5"]);
        assert!(!refused.ok, "--hard takes no --timeout");

        ok(&cfg, &["destroy", "web1", "-y"]);
        assert_eq!(ctl.get("/sim/leaks").await["partitions"], 0);
    }
}

/// A `dpm --json console INSTANCE --follow` in its own process, its stdout
/// read line by line in a thread.
struct Follower {
    child: Child,
    lines: std::sync::mpsc::Receiver<Value>,
}

impl Follower {
    fn start(cfg: &Path, instance: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dpm"))
            .arg("--config")
            .arg(cfg)
            .args(["--json", "console", instance, "--follow"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The messages printed until one whose text satisfies `last`.
    fn until(&self, last: impl Fn(&str) -> bool) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let v = self
                .lines
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("a line within 60 s");
            let done = last(v["text"].as_str().unwrap_or_else(|| panic!("{v}")));
            got.push(v);
            if done {
                return got;
            }
        }
    }
}

/// `dpm console --follow`: the boot lines, then the shutdown lines of a
/// `dpm stop --timeout` run in another process, each once and in order;
/// SIGINT ends it (130); the instance's deletion ends it too (0).
#[tokio::test]
async fn a_followed_console_shows_a_stop_as_it_happens() {
    for world in ["z13", "z16"] {
        let s = serve(&format!("follow-{world}"), world, &[]);
        let cfg = configured(&s);
        let (boot, _) = boot_and_data(&cfg, &s);
        ok(
            &cfg,
            &[
                "spawn",
                "--name",
                "web1",
                "--vcpus",
                "1",
                "--memory-mb",
                "2048",
                "--boot-volume",
                &boot,
            ],
        );
        let mut f = Follower::start(&cfg, "web1");
        let booted = f.until(|t| t.ends_with("login: "));
        assert!(
            booted[0]["text"].as_str().unwrap().starts_with("zIPL"),
            "{world}: {booted:?}"
        );
        let stopped = ok(&cfg, &["stop", "web1", "--timeout", "30"]);
        assert_eq!(stopped["guest_shutdown"], "clean", "{stopped}");
        let shutdown = f.until(|t| t == "reboot: Power down");
        assert!(
            shutdown[0]["text"]
                .as_str()
                .unwrap()
                .ends_with("# shutdown -h now"),
            "{shutdown:?}"
        );
        // Exactly the console's messages, in order, none twice.
        let console = ok(&cfg, &["console", "web1"]);
        let all: Vec<Value> = booted.iter().chain(&shutdown).cloned().collect();
        assert_eq!(Value::Array(all), console["messages"], "{world}");
        Command::new("kill")
            .args(["-INT", &f.child.id().to_string()])
            .status()
            .unwrap();
        let status = f.child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{world}");
        let last = f
            .lines
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert_eq!(last["error"]["kind"], "interrupted", "{last}");

        // A stopped instance cannot be followed; a running one is followed
        // until it is deleted.
        let o = dpm(&cfg, &["console", "web1", "--follow"]);
        assert!(!o.ok);
        assert_eq!(o.json["error"]["kind"], "refused", "{}", o.json);
        ok(&cfg, &["start", "web1"]);
        let mut f = Follower::start(&cfg, "web1");
        f.until(|t| t.ends_with("login: "));
        ok(&cfg, &["destroy", "web1", "-y"]);
        let out = f.child.wait().unwrap();
        assert_eq!(out.code(), Some(0), "{world}");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut f.child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(stderr.contains("was deleted"), "{stderr}");
    }
}
