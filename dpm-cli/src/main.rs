//! `dpm`: the command-line front end of the DPM boot-from-volume driver.

mod config;
mod demo;
mod narrate;
mod operator;
mod table;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use operator::Command;

const USAGE: &str = "\
usage: dpm [--config FILE] [--json] <command>

commands:
  demo [--world z16|z13]        the whole flow on an embedded simulated world
                                (z16: storage groups, the default; z13: vHBAs)
  check                         validate the configuration against the HMC (init_host)
  spawn --name N --vcpus V --memory-mb M --boot-volume ID [--volume ID ...]
                                boot a new partition from a Cinder volume
  attach INSTANCE VOLUME        attach a volume to an instance
  detach INSTANCE VOLUME        detach it
  destroy INSTANCE              stop and delete an instance, releasing its volumes
  list                          this host's instances
  info INSTANCE                 an instance's state and volumes
  resources                     capacity and use of this host
  volume create --name N --size GIB [--image ID]
  volume list

INSTANCE is an instance UUID, or the name given to spawn. The configuration
(default ./dpm.toml, or $DPM_CONFIG) holds the [dpm] driver options, [hmc]
TLS settings and [cinder] auth; see the README. --json prints one JSON object.";

/// Prints an error and every cause under it, then what it left behind.
fn report(e: &(dyn Error + 'static)) {
    eprintln!("error: {e}");
    causes(e, "  ");
    let left = if let Some(s) = e.downcast_ref::<dpm_driver::SpawnError>() {
        s.left_behind()
    } else if let Some(d) = e.downcast_ref::<dpm_driver::DriverError>() {
        d.left_behind()
    } else {
        &[]
    };
    if !left.is_empty() {
        eprintln!("left behind (run `dpm destroy` again once the cause is fixed):");
        for l in left {
            eprintln!("  - {l}");
            causes(l, "      ");
        }
    }
}

fn causes(e: &dyn Error, indent: &str) {
    let mut cause = e.source();
    while let Some(c) = cause {
        eprintln!("{indent}because: {c}");
        cause = c.source();
    }
}

struct Cli {
    config: PathBuf,
    json: bool,
    command: Vec<String>,
}

fn parse_cli(args: Vec<String>) -> Result<Cli, String> {
    let mut cli = Cli {
        config: std::env::var_os("DPM_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("dpm.toml")),
        json: false,
        command: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => cli.config = PathBuf::from(it.next().ok_or("--config needs a file")?),
            "--json" => cli.json = true,
            _ => cli.command.push(a),
        }
    }
    Ok(cli)
}

fn parse_command(words: &[String]) -> Result<Command, String> {
    let id = |s: &str| s.parse().map_err(|e: cinder_client::IdError| e.to_string());
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut it = words.iter().skip(1);
    while let Some(w) = it.next() {
        if let Some(flag) = w.strip_prefix("--") {
            let v = it.next().ok_or_else(|| format!("--{flag} needs a value"))?;
            flags.push((flag.to_owned(), v.clone()));
        } else {
            positional.push(w);
        }
    }
    let one = |name: &str| -> Result<String, String> {
        let vals: Vec<&String> = flags
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        match vals.as_slice() {
            [v] => Ok((*v).clone()),
            [] => Err(format!("--{name} is required")),
            _ => Err(format!("--{name} is given more than once")),
        }
    };
    let known = |allowed: &[&str]| match flags.iter().find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        Some((k, _)) => Err(format!("unknown option --{k}")),
        None => Ok(()),
    };
    let number = |name: &str| -> Result<u64, String> {
        let v = one(name)?;
        v.parse()
            .map_err(|_| format!("--{name} wants a whole number, not {v:?}"))
    };
    let cmd = words.first().map(String::as_str).unwrap_or_default();
    let sub = positional.first().copied();
    let positionals = |n: usize| -> Result<Vec<&str>, String> {
        if positional.len() == n {
            Ok(positional.clone())
        } else {
            Err(format!("`dpm {cmd}` takes {n} argument(s)"))
        }
    };
    Ok(match cmd {
        "check" => {
            known(&[])?;
            positionals(0)?;
            Command::Check
        }
        "spawn" => {
            known(&["name", "vcpus", "memory-mb", "boot-volume", "volume"])?;
            positionals(0)?;
            let vcpus =
                u32::try_from(number("vcpus")?).map_err(|_| "--vcpus is too large".to_owned())?;
            Command::Spawn {
                name: one("name")?,
                vcpus,
                memory_mb: number("memory-mb")?,
                boot: id(&one("boot-volume")?)?,
                volumes: flags
                    .iter()
                    .filter(|(k, _)| k == "volume")
                    .map(|(_, v)| id(v))
                    .collect::<Result<_, _>>()?,
            }
        }
        "attach" | "detach" => {
            known(&[])?;
            let p = positionals(2)?;
            let (instance, volume) = (p[0].to_owned(), id(p[1])?);
            if cmd == "attach" {
                Command::Attach { instance, volume }
            } else {
                Command::Detach { instance, volume }
            }
        }
        "destroy" | "info" => {
            known(&[])?;
            let instance = positionals(1)?[0].to_owned();
            if cmd == "destroy" {
                Command::Destroy { instance }
            } else {
                Command::Info { instance }
            }
        }
        "list" => {
            known(&[])?;
            positionals(0)?;
            Command::List
        }
        "resources" => {
            known(&[])?;
            positionals(0)?;
            Command::Resources
        }
        "volume" if sub == Some("create") => {
            known(&["name", "size", "image"])?;
            let image = match flags.iter().find(|(k, _)| k == "image") {
                Some((_, v)) => Some(
                    v.parse()
                        .map_err(|e: cinder_client::IdError| e.to_string())?,
                ),
                None => None,
            };
            Command::VolumeCreate {
                name: one("name")?,
                size: number("size")?,
                image,
            }
        }
        "volume" if sub == Some("list") => {
            known(&[])?;
            Command::VolumeList
        }
        other => return Err(format!("unknown command {other:?}")),
    })
}

fn runtime(paused: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.enable_all();
    if paused {
        b.start_paused(true);
    }
    b.build()
}

fn main() -> ExitCode {
    let cli = match parse_cli(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dpm: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let first = cli.command.first().map(String::as_str);
    if matches!(first, None | Some("help" | "--help" | "-h")) {
        println!("{USAGE}");
        return if first.is_some() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    if first == Some("demo") {
        let world = match cli.command.get(1..).unwrap_or_default() {
            [] => "z16".to_owned(),
            [flag, name] if flag == "--world" => name.clone(),
            _ => {
                eprintln!("dpm: usage: dpm demo [--world z16|z13]");
                return ExitCode::from(2);
            }
        };
        // The paused clock jumps to the simulator's next transition
        // whenever the flow waits, so the demo takes real milliseconds.
        return match runtime(true)
            .map_err(|e| Box::new(e) as Box<dyn Error>)
            .and_then(|rt| rt.block_on(demo::run(&world)))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report(e.as_ref());
                ExitCode::FAILURE
            }
        };
    }
    let command = match parse_command(&cli.command) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dpm: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = (|| -> Result<(), Box<dyn Error>> {
        let cfg = config::CliConfig::load(&cli.config)?;
        let driver = operator::driver(cfg)?;
        runtime(false)?.block_on(operator::run(&driver, command, cli.json))
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(e.as_ref());
            ExitCode::FAILURE
        }
    }
}
