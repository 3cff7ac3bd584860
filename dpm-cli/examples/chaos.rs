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
// Its one report line is for xtask, not the operator: std's println is fine.
#![allow(clippy::disallowed_macros)]

use std::error::Error;
use std::time::Duration;

use cinder_client::{
    CinderApi, CinderAuth, CinderHttpConfig, HttpCinder, InstanceId, VolumeCreate, VolumeId,
};
use dpm_compute::{BlockDevice, Compute};
use dpm_driver::{DpmDriver, DriverConfig, Instance};
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

type Driver = Compute<HttpHmc, HttpCinder>;

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
    Ok(Compute::new(DpmDriver::new(hmc, cfg), cinder))
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

/// Arms one random fault: a refusal, busy, unavailable, a lost reply on an
/// operation the driver has used so far in this run (so that faults land
/// where they can hurt), or every HMC session ending.
async fn inject(rng: &mut fastrand::Rng, ctl: &Control) -> Result<String, Box<dyn Error>> {
    let used = ctl.get("/sim/counters").await?;
    let used: Vec<String> = used["counts"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut ops: Vec<String> = dpm_sim::Op::ALL
        .iter()
        .map(|o| o.name().to_owned())
        .filter(|n| !matches!(n.as_str(), "hmc.logon" | "hmc.logoff" | "hmc.api_version"))
        .filter(|n| used.is_empty() || used.contains(n))
        .collect();
    if ops.is_empty() {
        ops.push("hmc.get_partition".into());
    }
    let op = ops[rng.usize(..ops.len())].clone();
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

/// One random operation on an instance (the index names one of its two
/// data volumes).
#[derive(Clone, Copy)]
enum Op {
    Spawn,
    Attach(usize),
    Detach(usize),
    Destroy,
    Power,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Spawn => "spawn",
            Op::Attach(_) => "attach",
            Op::Detach(_) => "detach",
            Op::Destroy => "destroy",
            Op::Power => "power off and on",
        }
    }
}

/// How an operation ended, when it did not succeed.
enum Outcome {
    /// Refused before anything changed (the error's own classification).
    Refused(String),
    /// A step failed on the way; `kept` when the error names what it left.
    Failed { why: String, kept: bool },
}

impl Outcome {
    fn of(refused: bool, kept: bool, e: &(dyn Error + 'static)) -> Self {
        if refused {
            Outcome::Refused(chain(e))
        } else {
            Outcome::Failed {
                why: chain(e),
                kept,
            }
        }
    }
}

/// What the run knows of an instance: `None` where a failure left it
/// unknown (it is learned again from the next outcome).
#[derive(Clone, Default)]
struct Model {
    spawned: Option<bool>,
    attached: [Option<bool>; 2],
    /// A destroy failed (or a failure kept something): until a destroy
    /// succeeds, only destroy is expected to work, as in Nova, where such
    /// an instance is in ERROR and only deleted.
    doomed: bool,
}

enum Verdict {
    Expected,
    /// A failure of an instance a failed destroy left.
    Doomed,
    Unexplained(String),
}

impl Model {
    fn forget(&mut self) {
        self.spawned = None;
        self.attached = [None, None];
    }

    fn gone(&mut self) {
        self.spawned = Some(false);
        self.attached = [Some(false), Some(false)];
        self.doomed = false;
    }

    /// The operation is known to be refused.
    fn refuses(&self, op: Op) -> bool {
        match op {
            Op::Destroy => false,
            _ if self.doomed => true,
            Op::Spawn => self.spawned == Some(true),
            Op::Attach(v) => self.spawned == Some(false) || self.attached[v] == Some(true),
            Op::Detach(v) => self.spawned == Some(false) || self.attached[v] == Some(false),
            Op::Power => self.spawned == Some(false),
        }
    }

    /// Checks an outcome against what is known and learns from it. A
    /// refusal must be the one the state predicts; a failure needs a fault;
    /// a success must have been possible.
    fn check(&mut self, op: Op, r: &Result<(), Outcome>, faulted: bool) -> Verdict {
        // Before: a fresh run starts with no instance.
        let spawned = self.spawned;
        let odd = |why: &str| Verdict::Unexplained(why.to_owned());
        // An instance a failed destroy left has lost some of what it used
        // (its root disk among them): anything but destroy may fail on it
        // or be refused.
        if self.doomed && r.is_err() && !matches!(op, Op::Destroy | Op::Spawn) {
            return Verdict::Doomed;
        }
        match r {
            Err(Outcome::Failed { why, kept }) => {
                if !faulted {
                    return odd(&format!("failed with no fault armed: {why}"));
                }
                if *kept {
                    // What a failure keeps is named in its error and
                    // removed by the next destroy; nothing else is known.
                    self.forget();
                    self.doomed = true;
                    return Verdict::Expected;
                }
                match op {
                    // A failed spawn of a new instance undid everything; of
                    // an existing one, it touched nothing; of one that may
                    // be an unfinished try, either.
                    Op::Spawn => match spawned {
                        Some(false) => self.gone(),
                        Some(true) => {}
                        None => self.forget(),
                    },
                    // A failed attach leaves the volume as it was.
                    Op::Attach(_) | Op::Power => {}
                    // A failed detach is either undone or finished by the
                    // next try; a failed destroy is finished by the next.
                    Op::Detach(v) => self.attached[v] = None,
                    Op::Destroy => self.forget(),
                }
                Verdict::Expected
            }
            Err(Outcome::Refused(why)) => {
                let not_found = why.contains("not found");
                match op {
                    Op::Spawn if spawned == Some(false) => {
                        odd(&format!("refused although it does not exist: {why}"))
                    }
                    Op::Spawn => {
                        self.spawned = Some(true);
                        Verdict::Expected
                    }
                    _ if not_found => {
                        if spawned == Some(true) {
                            odd(&format!("not found although it exists: {why}"))
                        } else {
                            self.gone();
                            Verdict::Expected
                        }
                    }
                    Op::Attach(v) if self.attached[v] == Some(false) => {
                        odd(&format!("refused although not attached: {why}"))
                    }
                    Op::Attach(v) => {
                        self.spawned = Some(true);
                        self.attached[v] = Some(true);
                        Verdict::Expected
                    }
                    Op::Detach(v) if self.attached[v] == Some(true) => {
                        odd(&format!("refused although attached: {why}"))
                    }
                    // (Not attached says nothing of the instance.)
                    Op::Detach(v) => {
                        self.attached[v] = Some(false);
                        Verdict::Expected
                    }
                    Op::Destroy | Op::Power => odd(&format!("refused: {why}")),
                }
            }
            Ok(()) => match op {
                Op::Spawn if spawned == Some(true) => odd("spawned although it existed"),
                Op::Spawn => {
                    self.spawned = Some(true);
                    self.attached = [Some(false), Some(false)];
                    self.doomed = false;
                    Verdict::Expected
                }
                _ if spawned == Some(false) && !matches!(op, Op::Destroy) => {
                    odd("succeeded although the instance does not exist")
                }
                Op::Attach(v) if self.attached[v] == Some(true) => {
                    odd("attached although attached already")
                }
                Op::Attach(v) => {
                    self.spawned = Some(true);
                    self.attached[v] = Some(true);
                    Verdict::Expected
                }
                Op::Detach(v) if self.attached[v] == Some(false) => {
                    odd("detached although not attached")
                }
                Op::Detach(v) => {
                    self.spawned = Some(true);
                    self.attached[v] = Some(false);
                    Verdict::Expected
                }
                Op::Destroy => {
                    self.gone();
                    Verdict::Expected
                }
                Op::Power => {
                    self.spawned = Some(true);
                    Verdict::Expected
                }
            },
        }
    }
}

#[derive(Default)]
struct Tally {
    faults: usize,
    ok: usize,
    refused: usize,
    failed_by_fault: usize,
    failed_after_failed_destroy: usize,
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
        .map(|i| Instance::new(InstanceId::from_u128(0xc4a0_5000 + i as u128), 1, 1024))
        .collect();
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let mut model: Vec<Model> = vec![Model::default(); INSTANCES];
    let mut tally = Tally::default();
    let mut failures: Vec<String> = Vec::new();
    let mut unexplained: Vec<String> = Vec::new();
    // Each instance's last operations, to explain an unexplained outcome.
    let mut history: Vec<Vec<String>> = vec![Vec::new(); INSTANCES];
    for n in 0..a.ops {
        let i = rng.usize(..INSTANCES);
        let vm = &vms[i];
        let fault = if rng.f64() < a.rate {
            tally.faults += 1;
            Some(inject(&mut rng, &ctl).await?)
        } else {
            None
        };
        let which = rng.usize(..2);
        let data = &datas[i][which];
        // Mostly operations that can succeed: one the model says would be
        // refused is drawn again, four times in five.
        let draw = |rng: &mut fastrand::Rng| match rng.u8(..6) {
            0 | 1 => Op::Spawn,
            2 => Op::Attach(which),
            3 => Op::Detach(which),
            4 => Op::Destroy,
            _ => Op::Power,
        };
        let mut op = draw(&mut rng);
        for _ in 0..3 {
            if !model[i].refuses(op) || rng.f64() < 0.2 {
                break;
            }
            op = draw(&mut rng);
        }
        let r: Result<(), Outcome> = match op {
            Op::Spawn => d
                .spawn(vm, &[BlockDevice::boot(boots[i].clone())])
                .await
                .map(drop)
                .map_err(|e| Outcome::of(e.is_refusal(), !e.left_behind().is_empty(), &e)),
            Op::Attach(_) => d
                .attach_volume(&vm.uuid, data)
                .await
                .map(drop)
                .map_err(|e| Outcome::of(e.is_refusal(), !e.left_behind().is_empty(), &e)),
            // A detach leaves nothing to undo: a failure changes no more
            // than its refused step.
            Op::Detach(_) => d
                .detach_volume(&vm.uuid, data)
                .await
                .map_err(|e| Outcome::of(e.is_refusal(), false, &e)),
            // A destroy never refuses: an instance that is not there is
            // success.
            Op::Destroy => d
                .destroy(&vm.uuid)
                .await
                .map_err(|e| Outcome::of(false, !e.left_behind().is_empty(), &e)),
            Op::Power => match d.power_off(&vm.uuid, dpm_driver::PowerOff::IMMEDIATE).await {
                Ok(_) => d.power_on(&vm.uuid).await,
                Err(e) => Err(e),
            }
            .map_err(|e| Outcome::of(e.is_refusal(), false, &e)),
        };
        ctl.delete("/sim/faults").await?;
        // Expired sessions are not a fault the driver may fail on: the
        // client logs on again.
        let faulted = fault.as_deref().is_some_and(|f| f != "sessions expired");
        let what = format!(
            "#{n} {} of instance {i}{}",
            op.name(),
            fault
                .as_ref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        );
        let line = match &r {
            Ok(()) => format!("{what}: ok"),
            Err(Outcome::Refused(why) | Outcome::Failed { why, .. }) => format!("{what}: {why}"),
        };
        let verdict = model[i].check(op, &r, faulted);
        if let Verdict::Unexplained(why) = &verdict {
            let past = history[i].join(" | ");
            unexplained.push(format!("{what}: {why} [before: {past}]"));
        }
        history[i].push(line);
        if history[i].len() > 6 {
            history[i].remove(0);
        }
        match verdict {
            Verdict::Expected => match &r {
                Ok(()) => tally.ok += 1,
                Err(Outcome::Refused(_)) => tally.refused += 1,
                Err(Outcome::Failed { why, .. }) => {
                    tally.failed_by_fault += 1;
                    if failures.len() < 10 {
                        failures.push(format!("{what}: {why}"));
                    }
                }
            },
            Verdict::Doomed => tally.failed_after_failed_destroy += 1,
            Verdict::Unexplained(_) => {}
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
        "faults_injected": tally.faults,
        "failed_ops": a.ops - tally.ok,
        "ok": tally.ok,
        "refused_as_expected": tally.refused,
        "failed_by_fault": tally.failed_by_fault,
        "failed_after_failed_destroy": tally.failed_after_failed_destroy,
        "unexplained": unexplained,
        "leaks": leaks,
        "some_failures_by_fault": failures,
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
            let odd = v["unexplained"].as_array().is_some_and(|u| !u.is_empty());
            if leaked || odd {
                eprintln!(
                    "chaos (seed {}): leaks {}; unexplained outcomes {}",
                    a.seed, v["leaks"], v["unexplained"]
                );
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
