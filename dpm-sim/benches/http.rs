//! Part of `cargo xtask bench`: 100 sequential partition create + vHBA
//! create + partition delete cycles over HTTPS through hmc-client, and,
//! when `DPM_BENCH_PYTHON` and `DPM_BENCH_SCRIPT` name a Python with
//! zhmcclient and the cycle script, the same through zhmcclient against the
//! same server in the same run. `--json` prints one JSON object.

use std::time::{Duration, Instant};

use dpm_sim::{Endpoints, ServeConfig, Sim, WorldSpec};
use hmc_client::{
    AdapterFilter, AdapterType, Credentials, HbaCreate, HmcApi, HttpConfig, HttpHmc,
    PartitionCreate, Secret, TlsVerify,
};
use serde_json::{json, Value};

const CYCLES: usize = 100;

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench: {what}: {e}");
    std::process::exit(1)
}

/// Serves a default world from a thread of its own, so that a Python
/// client can use it while this thread waits.
fn start_server() -> Endpoints {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| die("runtime", e));
        rt.block_on(async move {
            let sim = Sim::new(WorldSpec::z13()).unwrap_or_else(|e| die("world", e));
            let dir = std::env::temp_dir().join(format!("dpm-bench-{}", std::process::id()));
            let server = sim
                .serve(&ServeConfig::any_ports(dir))
                .await
                .unwrap_or_else(|e| die("serve", e));
            let _ = tx.send(server.endpoints().clone());
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap_or_else(|e| die("server did not start", e))
}

/// The cycle times, and the loop's total (setup not counted, as in the
/// Python script).
async fn rust_cycles(e: &Endpoints) -> (Vec<Duration>, Duration) {
    let hmc = HttpHmc::new(HttpConfig::new(
        &e.hmc.url,
        Credentials {
            userid: e.hmc.userid.clone(),
            password: Secret::new(e.hmc.password.clone()),
        },
        TlsVerify::CaFile(e.hmc.ca_cert.clone()),
    ))
    .unwrap_or_else(|err| die("client", err));
    hmc.logon().await.unwrap_or_else(|err| die("logon", err));
    let cpc = hmc
        .list_cpcs(None)
        .await
        .unwrap_or_else(|err| die("list cpcs", err))[0]
        .object_uri
        .clone();
    let adapter = &hmc
        .list_adapters(
            &cpc,
            &AdapterFilter {
                adapter_type: Some(AdapterType::Fcp),
                name: None,
            },
        )
        .await
        .unwrap_or_else(|err| die("list adapters", err))[0];
    let port = hmc
        .get_adapter(&adapter.object_uri)
        .await
        .unwrap_or_else(|err| die("adapter", err))
        .storage_port_uris
        .unwrap_or_default()[0]
        .clone();
    let mut times = Vec::with_capacity(CYCLES);
    let start = Instant::now();
    for i in 0..CYCLES {
        let t = Instant::now();
        let props = PartitionCreate {
            name: format!("bench-rust-{i}"),
            description: None,
            partition_type: None,
            ifl_processors: Some(1),
            cp_processors: None,
            initial_memory: 1024,
            maximum_memory: 1024,
            processor_mode: None,
        };
        let p = hmc
            .create_partition(&cpc, &props)
            .await
            .unwrap_or_else(|err| die("create", err));
        let hba = HbaCreate {
            name: "hba0".into(),
            adapter_port_uri: port.clone(),
            description: None,
            device_number: None,
        };
        hmc.create_hba(&p, &hba)
            .await
            .unwrap_or_else(|err| die("hba", err));
        hmc.delete_partition(&p)
            .await
            .unwrap_or_else(|err| die("delete", err));
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    let _ = hmc.logoff().await;
    (times, total)
}

fn python_cycles(e: &Endpoints) -> Option<Value> {
    let (python, script) = (
        std::env::var_os("DPM_BENCH_PYTHON")?,
        std::env::var_os("DPM_BENCH_SCRIPT")?,
    );
    let dir = e.hmc.ca_cert.parent()?.to_owned();
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(dir.join("endpoints.json"))
        .arg(CYCLES.to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "bench: the zhmcclient run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn main() {
    let json_out = std::env::args().any(|a| a == "--json");
    let e = start_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| die("runtime", err));
    let (mut times, total) = rt.block_on(rust_cycles(&e));
    let total = total.as_secs_f64();
    times.sort();
    let median = times[times.len() / 2].as_secs_f64();
    let py = python_cycles(&e);
    let ratio = py
        .as_ref()
        .and_then(|p| p["total_s"].as_f64())
        .map(|t| t / total);
    let median_ratio = py
        .as_ref()
        .and_then(|p| p["median_s"].as_f64())
        .map(|m| m / median);
    if json_out {
        println!(
            "{}",
            json!({"http_cycles": {
                "cycles": CYCLES,
                "hmc_client": {"median_s": median, "total_s": total},
                "zhmcclient": py,
                "zhmcclient_over_hmc_client_total": ratio,
                "zhmcclient_over_hmc_client_median": median_ratio,
            }})
        );
        return;
    }
    println!("\n{CYCLES} sequential partition create + vHBA create + partition delete cycles over HTTPS, one dpm-sim server");
    println!(
        "  hmc-client   median {:>8.3} ms   total {:>7.3} s",
        median * 1e3,
        total
    );
    match (&py, ratio) {
        (Some(p), Some(r)) => {
            println!(
                "  zhmcclient   median {:>8.3} ms   total {:>7.3} s",
                p["median_s"].as_f64().unwrap_or(0.0) * 1e3,
                p["total_s"].as_f64().unwrap_or(0.0)
            );
            println!(
                "  ratio zhmcclient / hmc-client: total {r:.2}, median {:.2}",
                median_ratio.unwrap_or(0.0)
            );
        }
        _ => println!(
            "  zhmcclient   skipped (no Python with zhmcclient; `cargo xtask bench` sets one up)"
        ),
    }
}
