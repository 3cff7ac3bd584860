//! Part of `cargo xtask bench`: many instances at once, and how soon a
//! job's end is seen.
//!
//! - `concurrent_spawn`: against `dpm-sim serve` (in this process, over
//!   HTTPS and HTTP) with 20 ms of latency on every HMC and Cinder request
//!   and the default job durations, N = 1, 10, 100 concurrent spawns, then
//!   as many destroys, through one driver, on both storage models: the
//!   makespan, its ratio to one spawn's, HMC logons, Keystone
//!   authentications, HMC requests per spawn (job reads apart) and job
//!   reads per spawn.
//! - `job_wait`: a partition start of a known simulated length; the delay
//!   between the job's end in the simulator and the client seeing it, with
//!   job notifications and with polling.
//!
//! `--json` prints one JSON object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cinder_client::{
    CinderApi, CinderAuth, CinderHttpConfig, HttpCinder, InstanceId, VolumeCreate, VolumeId,
    VolumeStatus,
};
use dpm_compute::{BlockDevice, Compute};
use dpm_driver::{DpmDriver, DriverConfig, Instance};
use dpm_sim::{Endpoints, Op, ServeConfig, Server, Side, Sim, WorldSpec};
use hmc_client::{
    Credentials, HmcApi, HttpConfig, HttpHmc, JobAnnouncement, PartitionCreate, PollPolicy, Secret,
    TlsVerify,
};
use serde_json::{json, Value};

const LATENCY: Duration = Duration::from_millis(20);
const SIZES: [usize; 3] = [1, 10, 100];

type Driver = Compute<HttpHmc, HttpCinder>;

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench: {what}: {e}");
    std::process::exit(1)
}

/// A world with room for 100 partitions of 1 IFL and 1 GiB.
fn spec(model: &str) -> WorldSpec {
    let mut spec = WorldSpec::named(model).unwrap_or_else(|e| die("world", e));
    spec.cpc.maximum_partitions = 200;
    spec.with_memory_mib(512 * 1024)
}

async fn serve(sim: &Sim) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "dpm-bench-concurrency-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    ));
    sim.serve(&ServeConfig::any_ports(dir))
        .await
        .unwrap_or_else(|e| die("serve", e))
}

fn hmc(e: &Endpoints, notifications: bool) -> HttpHmc {
    let mut cfg = HttpConfig::new(
        &e.hmc.url,
        Credentials {
            userid: e.hmc.userid.clone(),
            password: Secret::new(e.hmc.password.clone()),
        },
        TlsVerify::CaFile(e.hmc.ca_cert.clone()),
    );
    cfg.notification_port = notifications.then_some(e.hmc.notification_port);
    HttpHmc::new(cfg).unwrap_or_else(|err| die("HMC client", err))
}

fn cinder(e: &Endpoints) -> HttpCinder {
    let k = &e.keystone;
    HttpCinder::new(CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url: k.auth_url.clone(),
        username: k.username.clone(),
        password: cinder_client::Secret::new(k.password.clone()),
        project_name: k.project_name.clone(),
        user_domain_name: k.user_domain_name.clone(),
        project_domain_name: k.project_domain_name.clone(),
    }))
    .unwrap_or_else(|err| die("Cinder client", err))
}

fn driver(e: &Endpoints) -> Driver {
    let mappings: Vec<String> = e
        .fcp_adapters
        .iter()
        .map(|a| format!("\"{}:0\"", a.object_id))
        .collect();
    let text = format!(
        "[dpm]\nhost = \"bench\"\nhmc = \"{}\"\nhmc_username = \"{}\"\nhmc_password = \"{}\"\ncpc_object_id = \"{}\"\n\
         max_processors = 8\nmax_memory = 262144\nphysical_storage_adapter_mappings = [{}]\n",
        e.hmc.url,
        e.hmc.userid,
        e.hmc.password,
        e.cpc.object_id,
        mappings.join(", ")
    );
    let cfg = DriverConfig::from_toml(&text).unwrap_or_else(|err| die("driver config", err));
    Compute::new(DpmDriver::new(hmc(e, true), cfg), cinder(e))
}

/// `n` bootable volumes, made in memory before the latency is on.
async fn volumes(sim: &Sim, n: usize) -> Vec<VolumeId> {
    let c = sim.default_cinder();
    let image = sim.images()[0].0.clone();
    let mut ids = Vec::new();
    for i in 0..n {
        let req = VolumeCreate {
            size: 10,
            name: Some(format!("boot-{i}")),
            image_ref: Some(image.clone()),
            ..VolumeCreate::default()
        };
        ids.push(
            c.create_volume(&req)
                .await
                .unwrap_or_else(|e| die("volume", e))
                .id,
        );
    }
    loop {
        let all = c.list_volumes().await.unwrap_or_else(|e| die("volumes", e));
        if all.iter().all(|v| v.status == VolumeStatus::Available) {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Round {
    n: usize,
    makespan: Duration,
    destroy: Duration,
    logons: u64,
    keystone_auths: u64,
    hmc_requests_per_spawn: f64,
    job_reads_per_spawn: f64,
    /// Reads that found a job still running.
    job_polls_per_spawn: f64,
}

/// N spawns at once, then N destroys at once, through one driver.
async fn round(model: &str, n: usize) -> Round {
    let sim = Sim::new(spec(model)).unwrap_or_else(|e| die("world", e));
    let boots = volumes(&sim, n).await;
    let server = serve(&sim).await;
    sim.set_latency(Side::Hmc, LATENCY);
    sim.set_latency(Side::Cinder, LATENCY);
    sim.reset_counters();
    let d = Arc::new(driver(server.endpoints()));
    d.init_host().await.unwrap_or_else(|e| die("init_host", e));
    let before_spawn = sim.counters();
    let t0 = Instant::now();
    let spawns = boots.iter().enumerate().map(|(i, v)| {
        let d = Arc::clone(&d);
        let v = v.clone();
        tokio::spawn(async move {
            let vm = Instance::new(InstanceId::from_u128(0x7000 + i as u128), 1, 1024);
            let dev = [BlockDevice::boot(v)];
            d.spawn(&vm, &dev).await.map(|_| vm.uuid)
        })
    });
    let mut instances = Vec::new();
    for r in futures_util::future::join_all(spawns).await {
        match r {
            Ok(Ok(id)) => instances.push(id),
            Ok(Err(e)) => die("spawn", e),
            Err(e) => die("spawn task", e),
        }
    }
    let makespan = t0.elapsed();
    let c = sim.counters();
    let spawn_hmc = c.requests(Side::Hmc) - before_spawn.requests(Side::Hmc);
    let spawn_reads = c.get(Op::GetJob) - before_spawn.get(Op::GetJob);
    let jobs = |c: &dpm_sim::Counters| {
        c.get(Op::StartPartition) + c.get(Op::StopPartition) + c.get(Op::StartFcpStorageDiscovery)
    };
    let spawn_jobs = jobs(&c) - jobs(&before_spawn);
    let t1 = Instant::now();
    let destroys = instances.iter().map(|id| {
        let d = Arc::clone(&d);
        let id = id.clone();
        tokio::spawn(async move { d.destroy(&id).await })
    });
    for r in futures_util::future::join_all(destroys).await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => die("destroy", e),
            Err(e) => die("destroy task", e),
        }
    }
    let destroy = t1.elapsed();
    let c = sim.counters();
    let leaks = sim.snapshot();
    if !leaks.partitions.is_empty() || !leaks.attachments.is_empty() {
        die("leak", "partitions or attachments left behind");
    }
    server.shutdown().await;
    Round {
        n,
        makespan,
        destroy,
        logons: c.get(Op::Logon),
        keystone_auths: c.get(Op::KeystoneAuth),
        hmc_requests_per_spawn: spawn_hmc as f64 / n as f64,
        job_reads_per_spawn: spawn_reads as f64 / n as f64,
        job_polls_per_spawn: spawn_reads.saturating_sub(spawn_jobs) as f64 / n as f64,
    }
}

struct Seen {
    delay: Duration,
    reads: u64,
    job: Duration,
}

/// Starts a partition (a job of the world's `partition_start_ms`) and
/// measures when the client sees it end, after its end in the simulator.
async fn job_wait(notifications: bool) -> Seen {
    let sim = Sim::new(WorldSpec::z13()).unwrap_or_else(|e| die("world", e));
    let job_len = Duration::from_millis(sim.spec().timings.partition_start_ms);
    let server = serve(&sim).await;
    let h = hmc(server.endpoints(), notifications);
    h.logon().await.unwrap_or_else(|e| die("logon", e));
    let p = h
        .create_partition(&sim.cpc_uri(), &PartitionCreate::new("wait", 1, 1024))
        .await
        .unwrap_or_else(|e| die("partition", e));
    sim.set_latency(Side::Hmc, LATENCY);
    // The job begins when the world takes the request: after the latency,
    // as the reply leaves.
    let job = h
        .start_partition(&p)
        .await
        .unwrap_or_else(|e| die("start", e));
    let began = Instant::now();
    sim.reset_counters();
    let seen = if notifications {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        match h.job_announced(&job, deadline).await {
            JobAnnouncement::Ended => began.elapsed(),
            other => die("job wait", format!("{other:?}")),
        }
    } else {
        // The client's own polling: the moment a read finds it ended.
        let mut naps = PollPolicy::default().naps();
        loop {
            let j = h.get_job(&job).await.unwrap_or_else(|e| die("poll", e));
            if j.is_finished() {
                break began.elapsed();
            }
            if !naps.wait().await {
                die("poll", "the job did not end");
            }
        }
    };
    let reads = sim.counters().get(Op::GetJob);
    server.shutdown().await;
    Seen {
        delay: seen.saturating_sub(job_len),
        reads,
        job: job_len,
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let json_out = std::env::args().any(|a| a == "--json");
    let mut concurrent = serde_json::Map::new();
    let mut text = String::from(
        "\nMany instances at once (dpm-sim serve in process, 20 ms per request, default job lengths)\n",
    );
    for model in ["z16", "z13"] {
        let mut rows = Vec::new();
        let mut single = None;
        for n in SIZES {
            let r = round(model, n).await;
            let one = *single.get_or_insert(r.makespan);
            let ratio = r.makespan.as_secs_f64() / one.as_secs_f64();
            text.push_str(&format!(
                "  {model} n={:<3} makespan {:>8.1} ms  ratio {ratio:>4.2}  destroys {:>8.1} ms  logons {}  keystone auths {}  HMC requests/spawn {:.1}  job reads/spawn {:.1} (polls {:.1})\n",
                r.n,
                ms(r.makespan),
                ms(r.destroy),
                r.logons,
                r.keystone_auths,
                r.hmc_requests_per_spawn,
                r.job_reads_per_spawn,
                r.job_polls_per_spawn
            ));
            rows.push(json!({
                "n": r.n,
                "makespan_ms": ms(r.makespan),
                "ratio": (ratio * 100.0).round() / 100.0,
                "destroy_makespan_ms": ms(r.destroy),
                "hmc_logons": r.logons,
                "keystone_auths": r.keystone_auths,
                "hmc_requests_per_spawn": r.hmc_requests_per_spawn,
                "job_reads_per_spawn": r.job_reads_per_spawn,
                "job_polls_per_spawn": r.job_polls_per_spawn,
            }));
        }
        concurrent.insert(model.into(), Value::Array(rows));
    }
    let notified = job_wait(true).await;
    let polled = job_wait(false).await;
    text.push_str(&format!(
        "\nA job's end seen (start job of {:.0} ms, 20 ms per request)\n  notifications: {:>6.1} ms late, {} job reads\n  polling:       {:>6.1} ms late, {} job reads ({:.1} % of the job)\n",
        ms(polled.job),
        ms(notified.delay),
        notified.reads,
        ms(polled.delay),
        polled.reads,
        100.0 * polled.delay.as_secs_f64() / polled.job.as_secs_f64()
    ));
    if json_out {
        let out = json!({
            "concurrent_spawn": Value::Object(concurrent),
            "job_wait": {
                "notifications": {"delay_ms": ms(notified.delay), "polls": notified.reads},
                "polling": {"delay_ms": ms(polled.delay), "polls": polled.reads, "job_ms": ms(polled.job)},
            },
        });
        println!("{out}");
    } else {
        print!("{text}");
    }
}
