//! The chaos run behind `cargo xtask chaos`: random operations (spawn,
//! attach, detach, destroy, power off and on) over several instances,
//! through the HTTP clients against a `dpm-sim serve` in its own process,
//! with seeded faults of every kind armed through its control routes
//! (refusals, busy, unavailable, lost replies, expired sessions). Then every
//! instance is destroyed and the world is audited for leaks: partitions,
//! vHBAs and VSRs, storage groups, host mappings, zones, attachments, and
//! volumes that are not `available`.
//!
//! usage: chaos ENDPOINTS_JSON --seed S --ops N --fault-rate P
//!
//! Prints one JSON object (`seed`, `ops`, `faults_injected`, `failed_ops`,
//! `leaks`) and exits 1 when anything leaked.

use std::error::Error;
use std::time::Duration;

use cinder_client::{
    CinderApi, CinderAuth, CinderHttpConfig, HttpCinder, InstanceId, VolumeCreate, VolumeId,
};
use dpm_driver::{BlockDevice, DpmDriver, DriverConfig, Instance};
use hmc_client::{Credentials, HttpConfig, HttpHmc, Secret, TlsVerify};
use serde_json::{json, Value};

const INSTANCES: usize = 4;

struct Args {
    endpoints: String,
    seed: u64,
    ops: usize,
    rate: f64,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let endpoints = it
        .next()
        .ok_or("usage: chaos ENDPOINTS_JSON --seed S --ops N --fault-rate P")?;
    let mut a = Args {
        endpoints,
        seed: 1,
        ops: 200,
        rate: 0.05,
    };
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: {v:?} is not a number");
        match flag.as_str() {
            "--seed" => a.seed = v.parse().map_err(|_| bad())?,
            "--ops" => a.ops = v.parse().map_err(|_| bad())?,
            "--fault-rate" => a.rate = v.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

type Driver = DpmDriver<HttpHmc, HttpCinder>;

fn driver(e: &Value) -> Result<Driver, Box<dyn Error>> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut hc = HttpConfig::new(
        s(&e["hmc"]["url"]),
        Credentials {
            userid: s(&e["hmc"]["userid"]),
            password: Secret::new(s(&e["hmc"]["password"])),
        },
        TlsVerify::CaFile(s(&e["hmc"]["ca_cert"]).into()),
    );
    hc.backoff = Duration::from_millis(5);
    let hmc = HttpHmc::new(hc)?;
    let k = &e["keystone"];
    let cinder = HttpCinder::new(CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url: s(&k["auth_url"]),
        username: s(&k["username"]),
        password: cinder_client::Secret::new(s(&k["password"])),
        project_name: s(&k["project_name"]),
        user_domain_name: s(&k["user_domain_name"]),
        project_domain_name: s(&k["project_domain_name"]),
    }))?;
    let mappings: Vec<String> = e["fcp_adapters"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("\"{}:0\"", s(&x["object_id"])))
                .collect()
        })
        .unwrap_or_default();
    let cfg = DriverConfig::from_toml(&format!(
        "[dpm]\nhost = \"chaos\"\nhmc = \"{}\"\nhmc_username = \"{}\"\nhmc_password = \"{}\"\n\
         cpc_object_id = \"{}\"\nmax_processors = 8\nmax_memory = 32768\n\
         physical_storage_adapter_mappings = [{}]\njob_timeout_seconds = 60\n",
        s(&e["hmc"]["url"]),
        s(&e["hmc"]["userid"]),
        s(&e["hmc"]["password"]),
        s(&e["cpc"]["object_id"]),
        mappings.join(", ")
    ))?;
    Ok(DpmDriver::new(hmc, cinder, cfg))
}

/// An error with its causes, on one line.
fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The control routes of the served simulator.
struct Control {
    http: reqwest::Client,
    url: String,
}

impl Control {
    async fn post(&self, path: &str, body: Value) -> Result<(), Box<dyn Error>> {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("control {path}: {}", r.status()).into());
        }
        Ok(())
    }
    async fn delete(&self, path: &str) -> Result<(), Box<dyn Error>> {
        self.http
            .delete(format!("{}{path}", self.url))
            .send()
            .await?;
        Ok(())
    }
    async fn get(&self, path: &str) -> Result<Value, Box<dyn Error>> {
        Ok(self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await?
            .json()
            .await?)
    }
}

/// Arms one random fault: a refusal, busy, unavailable, a lost reply on a
/// random operation, or every HMC session ending.
async fn inject(rng: &mut fastrand::Rng, ctl: &Control) -> Result<String, Box<dyn Error>> {
    let ops: Vec<&str> = dpm_sim::Op::ALL
        .iter()
        .map(|o| o.name())
        .filter(|n| !matches!(*n, "hmc.logon" | "hmc.logoff" | "hmc.api_version"))
        .collect();
    let op = ops[rng.usize(..ops.len())];
    let skip = rng.u32(..3);
    let (what, body) = match rng.u8(..5) {
        0 => ("refused", json!({"op": op, "skip": skip, "status": 500})),
        1 => (
            "busy",
            json!({"op": op, "skip": skip, "status": 409, "reason": 2}),
        ),
        2 => (
            "unavailable",
            json!({"op": op, "skip": skip, "status": 503}),
        ),
        3 => (
            "lost reply",
            json!({"op": op, "skip": skip, "lost_reply": true}),
        ),
        _ => {
            ctl.post("/sim/expire-sessions", json!({})).await?;
            return Ok("sessions expired".into());
        }
    };
    ctl.post("/sim/faults", body).await?;
    Ok(format!("{what} at {op} (after {skip})"))
}

async fn run(a: &Args) -> Result<Value, Box<dyn Error>> {
    let e: Value = serde_json::from_str(&std::fs::read_to_string(&a.endpoints)?)?;
    // (the HMC client installs the TLS provider the control client needs)
    let d = driver(&e)?;
    let ctl = Control {
        http: reqwest::Client::new(),
        url: e["control"]["url"]
            .as_str()
            .ok_or("the simulator serves no control routes (--control-port)")?
            .to_owned(),
    };
    d.init_host().await?;
    let image: cinder_client::ImageId = e["images"][0]["id"]
        .as_str()
        .ok_or("the world has no image")?
        .parse()?;
    let mut boots: Vec<VolumeId> = Vec::new();
    let mut datas: Vec<[VolumeId; 2]> = Vec::new();
    let mk = |image| VolumeCreate {
        size: 10,
        image_ref: image,
        ..VolumeCreate::default()
    };
    for _ in 0..INSTANCES {
        boots.push(d.cinder().create_volume(&mk(Some(image.clone()))).await?.id);
        datas.push([
            d.cinder().create_volume(&mk(None)).await?.id,
            d.cinder().create_volume(&mk(None)).await?.id,
        ]);
    }
    let vms: Vec<Instance> = (0..INSTANCES)
        .map(|i| Instance {
            uuid: InstanceId::from_u128(0xc4a0_5000 + i as u128),
            vcpus: 1,
            memory_mb: 1024,
        })
        .collect();
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let (mut faults, mut failed) = (0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    for n in 0..a.ops {
        let i = rng.usize(..INSTANCES);
        let vm = &vms[i];
        let fault = if rng.f64() < a.rate {
            faults += 1;
            Some(inject(&mut rng, &ctl).await?)
        } else {
            None
        };
        let data = &datas[i][rng.usize(..2)];
        let (name, r): (&str, Result<(), String>) = match rng.u8(..6) {
            0 | 1 => (
                "spawn",
                d.spawn(
                    vm,
                    &[BlockDevice {
                        volume_id: boots[i].clone(),
                        boot_index: Some(0),
                    }],
                )
                .await
                .map(drop)
                .map_err(|e| chain(&e)),
            ),
            2 => (
                "attach",
                d.attach_volume(&vm.uuid, data)
                    .await
                    .map(drop)
                    .map_err(|e| chain(&e)),
            ),
            3 => (
                "detach",
                d.detach_volume(&vm.uuid, data).await.map_err(|e| chain(&e)),
            ),
            4 => (
                "destroy",
                d.destroy(&vm.uuid).await.map_err(|e| e.to_string()),
            ),
            _ => (
                "power",
                match d.power_off(&vm.uuid).await {
                    Ok(()) => d.power_on(&vm.uuid).await,
                    Err(e) => Err(e),
                }
                .map_err(|e| chain(&e)),
            ),
        };
        ctl.delete("/sim/faults").await?;
        if let Err(e) = r {
            failed += 1;
            if failures.len() < 10 && fault.is_some() {
                failures.push(format!("#{n} {name}: {}: {e}", fault.unwrap_or_default()));
            }
        }
    }
    // The end: no faults, every instance destroyed (twice at most: the
    // first may finish what a fault left), then the audit.
    ctl.delete("/sim/faults").await?;
    ctl.delete("/sim/sever").await?;
    for vm in &vms {
        if d.destroy(&vm.uuid).await.is_err() {
            d.destroy(&vm.uuid).await?;
        }
    }
    let leaks = ctl.get("/sim/leaks").await?;
    Ok(json!({
        "seed": a.seed,
        "ops": a.ops,
        "fault_rate": a.rate,
        "faults_injected": faults,
        "failed_ops": failed,
        "leaks": leaks,
        "some_failures": failures,
    }))
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("chaos: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&a)) {
        Ok(v) => {
            println!("{v}");
            let leaked = v["leaks"]
                .as_object()
                .is_some_and(|m| m.values().any(|n| n.as_u64() != Some(0)));
            if leaked {
                eprintln!("chaos: leaks with seed {}: {}", a.seed, v["leaks"]);
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("chaos (seed {}): {e}", a.seed);
            std::process::ExitCode::FAILURE
        }
    }
}
