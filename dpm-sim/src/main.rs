//! `dpm-sim serve`: run a simulated DPM world as network services;
//! `dpm-sim world`: print the world of a running one.

mod show;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};
use dpm_sim::{ServeConfig, Sim, WorldSpec};
use tracing_subscriber::EnvFilter;

/// An in-memory IBM Z DPM world (HMC, FC adapters, SAN fabrics, storage,
/// Keystone and Cinder), served on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "dpm-sim", version, propagate_version = true)]
struct Cli {
    /// More log output on stderr: -v debug (every request's details), -vv
    /// trace; RUST_LOG, when set, wins
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Less log output: -q warnings only (no request log), -qq errors only
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "verbose")]
    quiet: u8,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serve the world: the HMC Web Services API over HTTPS with its
    /// notification service, Keystone v3 and Cinder v3
    #[command(after_help = SERVE_HELP, args_override_self = true)]
    Serve(Serve),
    /// Print the live world of a running `dpm-sim serve` (partitions, vHBAs
    /// or storage groups with volumes and VSRs, host mappings, zones,
    /// volumes, attachments), read over its control routes
    World(WorldArgs),
}

#[derive(Debug, Args)]
struct WorldArgs {
    /// The control URL (http://127.0.0.1:PORT, from `serve
    /// --control-port`); without it, read from DIR/endpoints.json
    #[arg(long, value_name = "URL")]
    control: Option<String>,
    /// The state directory of the running server
    #[arg(long, value_name = "DIR", default_value = "dpm-sim-state")]
    state_dir: PathBuf,
    /// Output format: table (for people) or json (the world as one object)
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

fn world(args: &WorldArgs) -> Result<(), Box<dyn std::error::Error>> {
    let url = match &args.control {
        Some(u) => u.clone(),
        None => show::control_url(&args.state_dir)?,
    };
    let w = show::fetch(&url)?;
    let text = match args.output {
        Format::Json => serde_json::to_string_pretty(&w)? + "\n",
        Format::Table => show::tables(&w),
    };
    stdout(&text)
}

/// A closed stdout (`dpm-sim world | head`): the reader went away, so
/// the command ends quietly, with status 141 (128 + SIGPIPE).
#[derive(Debug, thiserror::Error)]
#[error("stdout is closed")]
struct StdoutClosed;

/// Writes to stdout; a closed one is [`StdoutClosed`], never a panic.
fn stdout(text: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(format!("cannot write to stdout: {e}").into()),
        Ok(()) => Ok(()),
    }
}

const SERVE_HELP: &str = "\
When ready it prints one JSON line with the endpoints and credentials, and
writes the same to DIR/endpoints.json with the CA certificate in DIR/ca.pem
and a ready configuration for the dpm CLI in DIR/dpm.toml
(dpm --config DIR/dpm.toml check).
It logs one line per request on stderr (method, path, status, latency) and
runs until SIGINT or SIGTERM.";

#[derive(Debug, Args)]
struct Serve {
    /// The world: z16 (storage groups), z13 (vHBAs) or a TOML world file
    #[arg(long, value_name = "z16|z13|FILE", default_value = "z16")]
    world: String,
    /// The HMC's port (HTTPS); 0 picks a free port
    #[arg(long, value_name = "PORT", default_value_t = 6794)]
    hmc_port: u16,
    /// Keystone's port; 0 picks a free port
    #[arg(long, value_name = "PORT", default_value_t = 5000)]
    keystone_port: u16,
    /// Cinder's port; 0 picks a free port
    #[arg(long, value_name = "PORT", default_value_t = 8776)]
    cinder_port: u16,
    /// The port of the HMC's notification service (STOMP over TLS, job
    /// completions and status changes); 0 picks a free port
    #[arg(long, value_name = "PORT", default_value_t = 61612)]
    notification_port: u16,
    /// Serve the simulator's controls (/sim/faults, /sim/sever,
    /// /sim/counters, /sim/zoning, /sim/expire-sessions, /sim/leaks) over
    /// plain HTTP on this port, for fault injection across processes; off
    /// without it
    #[arg(long, value_name = "PORT")]
    control_port: Option<u16>,
    /// Serve Cinder under a path, as devstack and mod_wsgi do (/volume: the
    /// endpoint is http://127.0.0.1:PORT/volume/v3/..., the host root
    /// answers 404)
    #[arg(long, value_name = "/PREFIX", default_value = "")]
    cinder_path: String,
    /// Where ca.pem and endpoints.json are written
    #[arg(long, value_name = "DIR", default_value = "dpm-sim-state")]
    state_dir: PathBuf,
}

/// The log filter: `RUST_LOG` if set; else the request log (info), `-v`
/// debug, `-vv` trace of the simulator, `-q` warnings, `-qq` errors.
fn filter(rust_log: Option<&str>, verbose: u8, quiet: u8) -> EnvFilter {
    if let Some(spec) = rust_log.filter(|s| !s.trim().is_empty()) {
        return EnvFilter::builder().parse_lossy(spec);
    }
    let level = match (verbose, quiet) {
        (_, 1) => "warn",
        (_, q) if q > 1 => "error",
        (0, _) => "info",
        (1, _) => "debug",
        _ => "trace",
    };
    let others = if quiet > 1 { "error" } else { "warn" };
    EnvFilter::builder().parse_lossy(format!("{others},dpm_sim={level}"))
}

async fn run(args: Serve) -> Result<(), Box<dyn std::error::Error>> {
    let spec = match args.world.as_str() {
        name @ ("z13" | "z16") => WorldSpec::named(name)?,
        path => {
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read world file {}: {e}", path.display()))?;
            WorldSpec::from_toml(&text)?
        }
    };
    let mut cfg = ServeConfig::standard_ports(args.state_dir);
    cfg.hmc_port = args.hmc_port;
    cfg.keystone_port = args.keystone_port;
    cfg.cinder_port = args.cinder_port;
    cfg.notification_port = args.notification_port;
    cfg.control_port = args.control_port;
    cfg.cinder_path = args.cinder_path;
    let sim = Sim::new(spec)?;
    let server = sim.serve(&cfg).await?;
    if let Err(e) = stdout(&(serde_json::to_string(server.endpoints())? + "\n")) {
        server.shutdown().await;
        return Err(e);
    }
    tracing::info!(
        hmc = %server.endpoints().hmc.url,
        keystone = %server.endpoints().keystone.auth_url,
        "serving"
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {},
    }
    tracing::info!("stopping");
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter(rust_log.as_deref(), cli.verbose, cli.quiet))
        .try_init();
    let args = match cli.command {
        Cmd::Serve(args) => args,
        Cmd::World(args) => {
            return match world(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.as_ref()),
            }
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
        Err(e) => fail(e.as_ref()),
    }
}

/// Says what failed, cause by cause, on stderr; a closed stdout quietly.
fn fail(e: &(dyn std::error::Error + 'static)) -> ExitCode {
    if e.is::<StdoutClosed>() {
        return ExitCode::from(141);
    }
    eprintln!("dpm-sim: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        eprintln!("  because: {c}");
        cause = c.source();
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent_and_takes_the_equals_form() {
        Cli::command().debug_assert();
        let c =
            Cli::try_parse_from(["dpm-sim", "-q", "serve", "--hmc-port=0", "--world=z13"]).unwrap();
        let Cmd::Serve(s) = c.command else {
            panic!("not serve")
        };
        assert_eq!((s.hmc_port, s.world.as_str(), c.quiet), (0, "z13", 1));
        // A later option overrides an earlier one (scripts append theirs).
        let c = Cli::try_parse_from(["dpm-sim", "serve", "--hmc-port", "0", "--hmc-port", "6794"])
            .unwrap();
        let Cmd::Serve(s) = c.command else {
            panic!("not serve")
        };
        assert_eq!(s.hmc_port, 6794);
        let c = Cli::try_parse_from(["dpm-sim", "world", "-o", "json", "--state-dir=x"]).unwrap();
        let Cmd::World(w) = c.command else {
            panic!("not world")
        };
        assert_eq!((w.output, w.state_dir), (Format::Json, PathBuf::from("x")));
        let e = Cli::try_parse_from(["dpm-sim", "serve", "--hmc-prot", "1"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--hmc-port"), "{e}");
    }

    #[test]
    fn the_request_log_is_on_by_default() {
        assert!(filter(None, 0, 0).to_string().contains("dpm_sim=info"));
        assert!(filter(None, 0, 1).to_string().contains("dpm_sim=warn"));
        assert_eq!(filter(Some("trace"), 0, 0).to_string(), "trace");
    }
}
