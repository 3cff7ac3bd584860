//! `dpm`: the command-line front end of the DPM boot-from-volume driver.

mod config;
mod credentials;
#[cfg(feature = "demo")]
mod demo;
mod logs;
mod operator;
mod out;
mod output;
mod picture;
mod schema;
mod table;

use std::collections::BTreeMap;
use std::error::Error;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use cinder_client::{ImageId, VolumeId};
use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use operator::{Command, Confirm, GuestForm};

const AFTER_HELP: &str = "\
INSTANCE is the name given to `dpm spawn` (unique on the host) or the
instance's UUID; either must be one of this host's instances.

The configuration file holds the [dpm] driver options (as nova-dpm's), [hmc]
TLS settings and, optionally, [cinder] auth. Cinder's credentials come from,
in this order: --os-cloud NAME (clouds.yaml), the [cinder] section, OS_CLOUD
(clouds.yaml), the OS_* variables (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
OS_PROJECT_NAME, ...). The HMC password comes from [dpm] hmc_password, else
DPM_HMC_PASSWORD, else a prompt on a terminal.

Output is for people (-o table) or one JSON object on stdout (-o json, or
--json); under -o json a failure is a JSON object {\"error\": {...}} on stdout
too. Logs and progress go to stderr; RUST_LOG (e.g. RUST_LOG=debug) sets the
log filter, else -v/-q. Exit status: 0 done, 1 failed, 2 usage error (a
--trace FILE that cannot be written among them, said before anything is
done), 141 stdout closed (e.g. by `| head`) before all was written.";

/// Boot IBM Z partitions in DPM mode from Cinder FCP volumes, through the
/// HMC Web Services API: the nova-dpm compute driver's operations, run by
/// hand.
#[derive(Debug, Parser)]
#[command(name = "dpm", version, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
struct Global {
    /// The configuration file
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "DPM_CONFIG",
        default_value = "dpm.toml"
    )]
    config: PathBuf,
    /// Output format: table (for people) or json (one object on stdout)
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// The same as -o json
    #[arg(long, global = true)]
    json: bool,
    /// More log output on stderr: -v info, -vv debug, -vvv trace
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Less output: no progress, only errors in the log (-qq: no log)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "verbose")]
    quiet: u8,
    /// Take Cinder's credentials from this cloud of clouds.yaml (before
    /// the config file's cinder section and the OS_* variables)
    #[arg(long, global = true, value_name = "NAME")]
    os_cloud: Option<String>,
    /// Write the requests the command made as a sequence diagram to FILE:
    /// seqdiag (the design spec's notation) for FILE.diag, Mermaid
    /// (sequenceDiagram) otherwise, e.g. run.mmd
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Validate the configuration against the HMC and Cinder (init_host):
    /// the CPC, the limits and every adapter mapping
    Check,
    /// Boot a new partition from a Cinder volume
    Spawn(SpawnArgs),
    /// Attach a data volume to an instance
    Attach {
        /// The instance (UUID or name)
        instance: String,
        /// The Cinder volume id
        volume: VolumeId,
    },
    /// Detach a data volume from an instance
    Detach {
        /// The instance (UUID or name)
        instance: String,
        /// The Cinder volume id
        volume: VolumeId,
    },
    /// Stop and delete an instance, releasing every volume (asks first on
    /// a terminal; elsewhere it needs -y)
    Destroy {
        /// The instance (name or UUID)
        instance: String,
        /// Do not ask; needed when stdin is not a terminal
        #[arg(short, long)]
        yes: bool,
    },
    /// Start an instance's partition (a stopped, paused or terminated one;
    /// a running one is left alone)
    Start {
        /// The instance (name or UUID)
        instance: String,
    },
    /// Stop an instance's partition (a stopped one is left alone); with
    /// --timeout, ask its guest to shut down first (the HMC's Send OS
    /// Command with the configuration's guest_shutdown_command) and stop the partition
    /// once the guest has halted or the timeout has passed
    Stop {
        /// The instance (name or UUID)
        instance: String,
        /// Seconds the guest has to shut down by itself before the
        /// partition is stopped; 0 stops it at once
        #[arg(long, value_name = "S", default_value_t = 0)]
        timeout: u64,
        /// Seconds between sends of the shutdown command while the guest
        /// has not halted; 0 sends it once
        #[arg(long, value_name = "S", default_value_t = 0)]
        retry_interval: u64,
    },
    /// Stop and start an instance's partition; a SOFT reboot (the default)
    /// asks the guest to shut down first, as `stop --timeout` does
    Reboot {
        /// The instance (name or UUID)
        instance: String,
        /// Nova's HARD reboot: stop the partition at once, without asking
        /// the guest
        #[arg(long)]
        hard: bool,
        /// SOFT: seconds the guest has to shut down by itself before the
        /// partition is stopped (Nova's shutdown_timeout default); 0 stops
        /// it at once
        #[arg(long, value_name = "S", default_value_t = 60, conflicts_with = "hard")]
        timeout: u64,
    },
    /// The guest's console messages (the HMC's OS messages of the
    /// partition)
    Console {
        /// The instance (name or UUID)
        instance: String,
        /// Then keep printing each new message as the guest writes it (the
        /// HMC's OS message channel), until Ctrl-C or the instance's
        /// deletion; --json prints one object per line per message
        #[arg(short, long)]
        follow: bool,
    },
    /// This host's instances
    List,
    /// Everything about an instance: partition and status, boot volume,
    /// each volume with its paths, and its storage (vHBAs, or its storage
    /// group with volumes and VSRs)
    Info {
        /// The instance (name or UUID)
        instance: String,
    },
    /// What the guest's Linux needs for the instance's volumes: each LUN
    /// path as rd.zfcp= kernel parameters, chzdev commands and udev rules
    GuestConfig {
        /// The instance (name or UUID)
        instance: String,
        /// Print only one form (plain, for scripts)
        #[arg(long, value_enum, default_value_t = GuestForm::All)]
        form: GuestForm,
    },
    /// Capacity and use of this host
    Resources,
    /// Cinder volumes, for trying things out
    #[command(subcommand)]
    Volume(VolumeCmd),
    /// Print a shell completion script (e.g. `dpm completions bash >
    /// ~/.local/share/bash-completion/completions/dpm`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// The whole flow on an embedded simulated world, narrated
    #[cfg(feature = "demo")]
    Demo {
        /// z16: storage groups; z13: vHBAs
        #[arg(long, default_value = "z16", value_parser = ["z16", "z13"])]
        world: String,
    },
}

#[derive(Debug, Args)]
struct SpawnArgs {
    /// The instance's name, unique on the host (the instance gets a random
    /// UUID; both name it afterwards)
    #[arg(long)]
    name: dpm_driver::InstanceName,
    /// IFL processors
    #[arg(long)]
    vcpus: u32,
    /// Memory in MiB
    #[arg(long, value_name = "MIB")]
    memory_mb: u64,
    /// The Cinder volume to boot from
    #[arg(long, value_name = "VOLUME")]
    boot_volume: VolumeId,
    /// A data volume to attach as well (repeatable)
    #[arg(long = "volume", value_name = "VOLUME")]
    volumes: Vec<VolumeId>,
}

#[derive(Debug, Subcommand)]
enum VolumeCmd {
    /// Create a volume and wait until it is available
    Create {
        /// Its name
        #[arg(long)]
        name: String,
        /// Its size in GiB
        #[arg(long, value_name = "GIB")]
        size: u64,
        /// The image to create it from (makes it bootable)
        #[arg(long, value_name = "IMAGE")]
        image: Option<ImageId>,
    },
    /// The project's volumes
    List,
    /// A volume and its attachments
    Show {
        /// The Cinder volume id
        volume: VolumeId,
    },
    /// Delete a volume (Cinder refuses one in use; asks first on a
    /// terminal, elsewhere it needs -y)
    Delete {
        /// The Cinder volume id
        volume: VolumeId,
        /// Do not ask; needed when stdin is not a terminal
        #[arg(short, long)]
        yes: bool,
    },
}

/// `-y` goes on; otherwise a terminal is asked, and anything else refuses.
fn confirm_mode(yes: bool, terminal: bool) -> Confirm {
    match (yes, terminal) {
        (true, _) => Confirm::Yes,
        (false, true) => Confirm::Ask,
        (false, false) => Confirm::Refuse,
    }
}

impl Cmd {
    fn into_operator(self, terminal: bool) -> Option<Command> {
        Some(match self {
            Cmd::Check => Command::Check,
            Cmd::Spawn(s) => Command::Spawn {
                name: s.name,
                vcpus: s.vcpus,
                memory_mb: s.memory_mb,
                boot: s.boot_volume,
                volumes: s.volumes,
            },
            Cmd::Attach { instance, volume } => Command::Attach { instance, volume },
            Cmd::Detach { instance, volume } => Command::Detach { instance, volume },
            Cmd::Destroy { instance, yes } => Command::Destroy {
                instance,
                confirm: confirm_mode(yes, terminal),
            },
            Cmd::Start { instance } => Command::Start { instance },
            Cmd::Stop {
                instance,
                timeout,
                retry_interval,
            } => Command::Stop {
                instance,
                how: dpm_driver::PowerOff::clean(
                    std::time::Duration::from_secs(timeout),
                    std::time::Duration::from_secs(retry_interval),
                ),
            },
            Cmd::Reboot {
                instance,
                hard,
                timeout,
            } => Command::Reboot {
                instance,
                kind: if hard {
                    dpm_driver::RebootKind::Hard
                } else {
                    dpm_driver::RebootKind::Soft(dpm_driver::PowerOff::clean(
                        std::time::Duration::from_secs(timeout),
                        std::time::Duration::ZERO,
                    ))
                },
            },
            Cmd::Console { instance, follow } => Command::Console { instance, follow },
            Cmd::List => Command::List,
            Cmd::Info { instance } => Command::Info { instance },
            Cmd::GuestConfig { instance, form } => Command::GuestConfig { instance, form },
            Cmd::Resources => Command::Resources,
            Cmd::Volume(VolumeCmd::Create { name, size, image }) => {
                Command::VolumeCreate { name, size, image }
            }
            Cmd::Volume(VolumeCmd::List) => Command::VolumeList,
            Cmd::Volume(VolumeCmd::Show { volume }) => Command::VolumeShow { volume },
            Cmd::Volume(VolumeCmd::Delete { volume, yes }) => Command::VolumeDelete {
                volume,
                confirm: confirm_mode(yes, terminal),
            },
            Cmd::Completions { .. } => return None,
            #[cfg(feature = "demo")]
            Cmd::Demo { .. } => return None,
        })
    }
}

/// Whether the raw arguments ask for JSON, for the one case clap could not
/// parse them: a usage error.
fn wants_json(args: &[String]) -> bool {
    args.iter().enumerate().any(|(i, a)| {
        a == "--json"
            || a == "-ojson"
            || a == "--output=json"
            || ((a == "-o" || a == "--output") && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let usage = !matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if usage && wants_json(&args) {
                output::usage_json(&e.to_string());
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let g = &cli.global;
    let json = g.json || g.output == Output::Json;
    // A trace file that cannot be written is a usage error, said before
    // anything is done.
    let trace = match g.trace.as_deref().map(picture::TraceFile::open).transpose() {
        Ok(t) => t,
        Err(e) => {
            output::usage_error(&e, json);
            return ExitCode::from(2);
        }
    };
    let env: BTreeMap<String, String> = std::env::vars().collect();
    // The demo tells its own progress.
    #[cfg(feature = "demo")]
    let narrated = matches!(cli.command, Cmd::Demo { .. });
    #[cfg(not(feature = "demo"))]
    let narrated = false;
    let progress = !json && g.quiet == 0 && std::io::stderr().is_terminal();
    let plain_progress = !json && g.quiet == 0;
    // Over HTTP the storage system is out of sight: its part is drawn
    // from Cinder's answers.
    let picture = (narrated || g.trace.is_some()).then(|| picture::Picture::new(!narrated));
    logs::init(
        env.get("RUST_LOG").map(String::as_str),
        g.verbose,
        g.quiet,
        (plain_progress && !narrated).then_some(progress),
        picture.as_ref(),
    );
    let operation = operation(&cli.command);

    let result: Result<(), Box<dyn Error>> = match cli.command {
        Cmd::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "dpm", &mut script);
            out::write_bytes(&script);
            Ok(())
        }
        #[cfg(feature = "demo")]
        Cmd::Demo { world } => match &picture {
            Some(p) => demo_run(&world, p),
            None => Ok(()),
        },
        cmd => match cmd.into_operator(std::io::stdin().is_terminal()) {
            Some(command) => {
                let source = credentials::Sources {
                    env: &env,
                    os_cloud: g.os_cloud.as_deref(),
                    cwd: std::env::current_dir().ok(),
                    terminal: std::io::stdin().is_terminal(),
                };
                (|| -> Result<(), Box<dyn Error>> {
                    let cfg = config::CliConfig::load(&g.config, &source)?;
                    let driver = operator::driver(cfg)?;
                    let (caller, label) = operation;
                    if let Some(label) = &label {
                        picture::tell(picture::Actor::Nova, picture::Actor::NovaDriver, label);
                    }
                    runtime()?.block_on(tracing::Instrument::instrument(
                        operator::run(&driver, command, json, plain_progress),
                        picture::caller_span(caller),
                    ))
                })()
            }
            None => Ok(()),
        },
    };
    // The picture is written whether the command succeeded or not; when
    // it cannot be, that is a warning: the status is the operation's.
    if let (Some(p), Some(to)) = (&picture, trace) {
        let path = to.path().to_owned();
        if let Err(e) = p.write(to) {
            tracing::warn!(
                file = %path.display(),
                error = %output::with_causes(&e),
                "the picture of the run (--trace) could not be written"
            );
        }
    }
    match result {
        // The output could not all be written (a closed pipe: quietly).
        Ok(()) => match out::lost() {
            Some(lost) => ExitCode::from(lost.exit_code()),
            None => ExitCode::SUCCESS,
        },
        Err(e) => {
            if json {
                output::error_json(e.as_ref());
            } else {
                output::error_text(e.as_ref());
            }
            // A signal's status, as a shell reports it: 130, 143.
            match e.downcast_ref::<operator::Interrupted>() {
                Some(i) => ExitCode::from(i.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// Who makes a command's requests in the picture, and what `nova` asks of
/// the driver (none for the volume commands: `nova` asks Cinder itself).
fn operation(cmd: &Cmd) -> (picture::Actor, Option<String>) {
    use picture::Actor;
    let label = match cmd {
        Cmd::Volume(_) | Cmd::Completions { .. } => return (Actor::Nova, None),
        #[cfg(feature = "demo")]
        Cmd::Demo { .. } => return (Actor::Nova, None),
        Cmd::Check => "init_host".to_owned(),
        Cmd::Spawn(s) => format!("spawn {}", s.name),
        Cmd::Attach { instance, volume } => format!("attach_volume {instance} {volume}"),
        Cmd::Detach { instance, volume } => format!("detach_volume {instance} {volume}"),
        Cmd::Destroy { instance, .. } => format!("destroy {instance}"),
        Cmd::Start { instance } => format!("power_on {instance}"),
        Cmd::Stop {
            instance, timeout, ..
        } => format!("power_off {instance} {timeout}"),
        Cmd::Reboot { instance, .. } => format!("reboot {instance}"),
        Cmd::Console { instance, .. } => format!("get_console_output {instance}"),
        Cmd::List => "list_instances".to_owned(),
        Cmd::Info { instance } => format!("get_info {instance}"),
        Cmd::GuestConfig { instance, .. } => format!("guest_config {instance}"),
        Cmd::Resources => "get_available_resource".to_owned(),
    };
    (Actor::NovaDriver, Some(picture::short_ids(&label)))
}

/// `dpm demo`: on a paused clock, which jumps to the simulator's next
/// transition whenever the flow waits, so the demo takes real
/// milliseconds.
#[cfg(feature = "demo")]
fn demo_run(world: &str, picture: &picture::Picture) -> Result<(), Box<dyn Error>> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?
        .block_on(demo::run(world, picture, &demo::Screen::new(true)))
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_option_has_help() {
        fn walk(c: &clap::Command, path: &str) {
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if id != "help" && id != "version" {
                    assert!(a.get_help().is_some(), "{path} {id} has no help");
                }
            }
            for s in c.get_subcommands().filter(|s| s.get_name() != "help") {
                let p = format!("{path} {}", s.get_name());
                assert!(s.get_about().is_some(), "{p} has no help");
                walk(s, &p);
            }
        }
        walk(&Cli::command(), "dpm");
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("dpm").chain(args.iter().copied()))
    }

    #[test]
    fn options_take_the_equals_form_and_json_has_two_spellings() {
        let c = parse(&[
            "--output=json",
            "spawn",
            "--name=web1",
            "--vcpus=2",
            "--memory-mb=4096",
            "--boot-volume=6f1c1a51-5ff0-4ee4-8f88-c86b7d0a8c9e",
        ])
        .unwrap();
        assert_eq!(c.global.output, Output::Json);
        assert!(matches!(
            c.command,
            Cmd::Spawn(SpawnArgs {
                vcpus: 2,
                memory_mb: 4096,
                ..
            })
        ));
        let c = parse(&["list", "--json"]).unwrap();
        assert!(c.global.json);
    }

    #[test]
    fn a_typo_gets_a_suggestion_and_exit_status_2() {
        let e = parse(&["destory", "web1"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("destroy"), "{e}");
        let e = parse(&["spawn", "--vcpu", "2"]).unwrap_err();
        assert!(e.to_string().contains("--vcpus"), "{e}");
    }

    #[test]
    fn help_and_version_are_not_errors() {
        for args in [
            &["spawn", "--help"][..],
            &["--version"],
            &["volume", "create", "-h"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 0, "{args:?}");
        }
    }

    #[test]
    fn json_is_seen_in_arguments_clap_refused() {
        let v = |a: &[&str]| wants_json(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(v(&["dpm", "-o", "json", "spawn"]));
        assert!(v(&["dpm", "spawn", "--json"]));
        assert!(v(&["dpm", "--output=json"]));
        assert!(!v(&["dpm", "-o", "table", "list"]));
    }
}
