//! `dpm-sim serve`: run a simulated DPM world as network services.

use std::path::PathBuf;
use std::process::ExitCode;

use dpm_sim::{ServeConfig, Sim, WorldSpec};

const USAGE: &str = "\
usage: dpm-sim serve [--world z16|z13|FILE] [--hmc-port N] [--keystone-port N] [--cinder-port N]
                     [--notification-port N] [--control-port N] [--cinder-path /PREFIX]
                     [--state-dir DIR]

Serves a simulated DPM world on 127.0.0.1: the HMC Web Services API over
HTTPS (default port 6794) with its notification service (STOMP over TLS,
61612), Keystone v3 (5000) and Cinder v3 (8776). Port 0
picks a free port. The world is z16 (storage groups) unless --world names
z13 (the HBA model) or a TOML file. When ready it prints one JSON line with the endpoints and
credentials, and writes the same to DIR/endpoints.json (DIR defaults to
./dpm-sim-state) with the CA certificate in DIR/ca.pem. It runs until
SIGINT or SIGTERM.

--control-port serves the simulator's controls (/sim/faults, /sim/sever,
/sim/counters, /sim/zoning, /sim/expire-sessions, /sim/leaks) over plain
HTTP on 127.0.0.1, for fault injection across processes; they are off
without it.

--cinder-path serves Cinder under a path, as devstack and mod_wsgi do
(--cinder-path /volume: the endpoint is http://127.0.0.1:PORT/volume/v3/...,
and the host root answers 404).";

struct Args {
    world: Option<String>,
    cfg: ServeConfig,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("serve") {
        return Err("the only command is `serve`".into());
    }
    let mut out = Args {
        world: None,
        cfg: ServeConfig::standard_ports("dpm-sim-state"),
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let port = |v: &String| {
            v.parse::<u16>()
                .map_err(|_| format!("{flag} wants a port number, not {v:?}"))
        };
        match flag.as_str() {
            "--world" => out.world = Some(value()?.clone()),
            "--hmc-port" => out.cfg.hmc_port = port(value()?)?,
            "--keystone-port" => out.cfg.keystone_port = port(value()?)?,
            "--cinder-port" => out.cfg.cinder_port = port(value()?)?,
            "--control-port" => out.cfg.control_port = Some(port(value()?)?),
            "--notification-port" => out.cfg.notification_port = port(value()?)?,
            "--state-dir" => out.cfg.state_dir = PathBuf::from(value()?),
            "--cinder-path" => out.cfg.cinder_path = value()?.clone(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(out)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let spec = match args.world.as_deref() {
        None => WorldSpec::default(),
        Some(name @ ("z13" | "z16")) => WorldSpec::named(name)?,
        Some(path) => {
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read world file {}: {e}", path.display()))?;
            WorldSpec::from_toml(&text)?
        }
    };
    let sim = Sim::new(spec)?;
    let server = sim.serve(&args.cfg).await?;
    println!("{}", serde_json::to_string(server.endpoints())?);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {},
    }
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dpm-sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Requests are served on every core; the world itself is one lock.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dpm-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dpm-sim: {e}");
            let mut cause = e.source();
            while let Some(c) = cause {
                eprintln!("  because: {c}");
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}
