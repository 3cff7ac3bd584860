//! The operator commands: the driver against real (or served) endpoints.

use std::error::Error;
use std::time::Duration;

use cinder_client::{
    AttachmentFilter, CinderApi, HttpCinder, ImageId, InstanceId, VolumeCreate, VolumeId,
    VolumeStatus,
};
use dpm_compute::BlockDevice;
use dpm_driver::{
    Boot, DpmDriver, Instance, InstanceDetails, InstanceName, InstanceSummary, StorageInfo,
};
use hmc_client::{HmcApi, HttpHmc};
use serde_json::{json, Value};

use crate::config::CliConfig;
use crate::out::println;
use crate::table;

pub type Driver = dpm_compute::Compute<HttpHmc, HttpCinder>;

/// A parsed operator command.
#[derive(Debug)]
pub enum Command {
    Check,
    Spawn {
        name: InstanceName,
        vcpus: u32,
        memory_mb: u64,
        boot: VolumeId,
        volumes: Vec<VolumeId>,
    },
    Attach {
        instance: String,
        volume: VolumeId,
    },
    Detach {
        instance: String,
        volume: VolumeId,
    },
    Destroy {
        instance: String,
        confirm: Confirm,
    },
    Start {
        instance: String,
    },
    Stop {
        instance: String,
        how: dpm_driver::PowerOff,
    },
    Reboot {
        instance: String,
        kind: dpm_driver::RebootKind,
    },
    Console {
        instance: String,
        follow: bool,
    },
    List,
    Info {
        instance: String,
    },
    GuestConfig {
        instance: String,
        form: GuestForm,
    },
    Resources,
    VolumeCreate {
        name: String,
        size: u64,
        image: Option<ImageId>,
    },
    VolumeList,
    VolumeShow {
        volume: VolumeId,
    },
    VolumeDelete {
        volume: VolumeId,
        confirm: Confirm,
    },
}

/// How a command that deletes asks before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// `-y/--yes`: it does not ask.
    Yes,
    /// stdin is a terminal: it asks there.
    Ask,
    /// Neither: it refuses, and says to pass `-y`.
    Refuse,
}

/// Which form `guest-config` prints (all of them by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GuestForm {
    /// Every form, under headings.
    All,
    /// `rd.zfcp=` kernel parameters, on one line.
    Kernel,
    /// `chzdev -e zfcp-lun` commands, one a line.
    Chzdev,
    /// The udev rules files, each after a `# FILE` line.
    Udev,
}

/// A refusal of the CLI's own: the instance named is not there, a name is
/// taken, or a deletion was not confirmed. Each names what the user typed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No instance of this host has that name or UUID.
    #[error("no instance {arg:?} on host {host} (`dpm list` shows them)")]
    NotFound { arg: String, host: String },
    /// More than one instance has that name (made by another tool).
    #[error("{} instances on host {host} are named {arg:?} ({}); give the UUID", instances.len(), join(instances))]
    Ambiguous {
        arg: String,
        host: String,
        instances: Vec<InstanceId>,
    },
    /// Spawn of a name another instance of the host has.
    #[error("an instance named {name:?} exists on host {host} already ({instance}); choose another name, or `dpm destroy {name}` first")]
    NameTaken {
        name: String,
        host: String,
        instance: InstanceId,
    },
    /// Not on a terminal, and no `-y`.
    #[error("{what} needs confirmation: pass -y (--yes) to do it without asking (stdin is not a terminal)")]
    NeedsYes { what: String },
    /// The answer was not yes.
    #[error("{what}: not confirmed, nothing done")]
    NotConfirmed { what: String },
    /// The terminal could not be read.
    #[error("could not read the answer to the confirmation")]
    Prompt(#[source] std::io::Error),
}

fn join(ids: &[InstanceId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Asks on the terminal whether to go on with `what`; only `y` or `yes`
/// goes on.
fn confirm(confirm: Confirm, what: &str) -> Result<(), CliError> {
    match confirm {
        Confirm::Yes => Ok(()),
        Confirm::Refuse => Err(CliError::NeedsYes { what: what.into() }),
        Confirm::Ask => {
            use std::io::Write;
            eprint!("{what}? [y/N] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            std::io::stdin()
                .read_line(&mut answer)
                .map_err(CliError::Prompt)?;
            if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                Ok(())
            } else {
                Err(CliError::NotConfirmed { what: what.into() })
            }
        }
    }
}

/// An instance argument as the host's instances resolve it: a UUID of one
/// of them, or the name one was spawned with.
pub fn resolve(
    arg: &str,
    host: &str,
    instances: &[InstanceSummary],
) -> Result<InstanceSummary, CliError> {
    let not_found = || CliError::NotFound {
        arg: arg.into(),
        host: host.into(),
    };
    if let Ok(id) = arg.parse::<InstanceId>() {
        return instances
            .iter()
            .find(|i| i.instance == id)
            .cloned()
            .ok_or_else(not_found);
    }
    let named: Vec<&InstanceSummary> = instances
        .iter()
        .filter(|i| i.name.as_ref().is_some_and(|n| n.as_str() == arg))
        .collect();
    match named.as_slice() {
        [] => Err(not_found()),
        [one] => Ok((*one).clone()),
        many => Err(CliError::Ambiguous {
            arg: arg.into(),
            host: host.into(),
            instances: many.iter().map(|i| i.instance.clone()).collect(),
        }),
    }
}

async fn find(d: &Driver, arg: &str) -> Result<InstanceSummary, Box<dyn Error>> {
    let all = d.list_instances_named().await?;
    Ok(resolve(arg, &d.config().host, &all)?)
}

/// `name (uuid)`, or the UUID of an instance without a name.
fn label(id: &InstanceId, name: Option<&InstanceName>) -> String {
    match name {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    }
}

pub fn driver(cfg: CliConfig) -> Result<Driver, Box<dyn Error>> {
    let hmc = HttpHmc::new(cfg.hmc)?;
    let cinder = HttpCinder::new(cfg.cinder)?;
    Ok(dpm_compute::Compute::new(
        DpmDriver::new(hmc, cfg.driver),
        cinder,
    ))
}

/// `dpm start` and `dpm stop` (`stop`: how, with the clean shutdown's
/// timeout): the partition's status after, and for a stop what became of
/// the guest.
async fn power(
    d: &Driver,
    instance: &str,
    stop: Option<dpm_driver::PowerOff>,
    json_out: bool,
) -> Result<(), Box<dyn Error>> {
    let id = find(d, instance).await?.instance;
    let guest = match stop {
        None => {
            d.power_on(&id).await?;
            None
        }
        Some(how) => Some((d.power_off(&id, how).await?, how.timeout)),
    };
    let info = d.get_info(&id).await?;
    let mut v =
        json!({"instance": id, "status": info.status, "power_state": format!("{:?}", info.state)});
    if let Some((g, _)) = guest {
        v["guest_shutdown"] = json!(g.as_str());
    }
    let done = if stop.is_some() { "stopped" } else { "started" };
    print(json_out, &v, || {
        println!(
            "{done} {id}: partition {}{}",
            info.status,
            guest.map_or_else(String::new, |(g, t)| format!(" ({})", told(g, t)))
        )
    });
    Ok(())
}

/// What became of the guest, in words.
fn told(g: dpm_driver::GuestShutdown, timeout: std::time::Duration) -> String {
    use dpm_driver::GuestShutdown as G;
    match g {
        G::Clean => "the guest shut down by itself".into(),
        G::TimedOut => format!(
            "the guest did not shut down within {} s: the partition was stopped under it",
            timeout.as_secs()
        ),
        G::NotRunning => "the guest was not running".into(),
        G::NotAsked => "stopped at once, the guest not asked".into(),
    }
}

fn print(json_out: bool, v: &Value, human: impl FnOnce()) {
    if json_out {
        println!("{v}");
    } else {
        human();
    }
}

/// Waits until a new volume leaves `creating` (and, from an image,
/// `downloading`), and requires it to be `available`. `progress` says each status change on stderr.
pub async fn wait_available(
    cinder: &impl CinderApi,
    id: &VolumeId,
    progress: bool,
) -> Result<cinder_client::Volume, Box<dyn Error>> {
    let mut last = None;
    for _ in 0..600 {
        let v = cinder.get_volume(id).await?;
        match v.status {
            VolumeStatus::Available => return Ok(v),
            VolumeStatus::Creating | VolumeStatus::Downloading => {}
            other => return Err(format!("volume {id} ended {other}, not available").into()),
        }
        if progress && last != Some(v.status) {
            eprintln!("… volume {id} is {}", v.status);
            last = Some(v.status);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("volume {id} is still being created after 5 minutes").into())
}

/// `dpm console --follow`: each message once, as the guest writes it,
/// one line (or one JSON object) per message, until the partition is
/// deleted (said on stderr, status 0), stdout is closed (quietly: `main`
/// exits 141), or a signal ends the command.
async fn follow_console(d: &Driver, id: &InstanceId, json_out: bool) -> Result<(), Box<dyn Error>> {
    let mut follow = d.driver().follow_console(id, None).await?;
    while let Some(m) = follow.next().await? {
        if json_out {
            println!(
                "{}",
                json!({"sequence_number": m.sequence_number, "text": m.message_text})
            );
        } else {
            println!("{}", m.message_text.trim_end_matches('\n'));
        }
        if crate::out::lost().is_some() {
            return Ok(());
        }
    }
    eprintln!("instance {id}: its partition was deleted; nothing more to follow");
    Ok(())
}

/// Runs one command; the HMC session ends with it, whether it succeeded or
/// not. `progress`: say on stderr what takes time (not under `-q` or `-o
/// json`).
/// What an interrupted command undoes: its own work, nothing more.
#[derive(Debug, Clone, Default)]
enum Undo {
    /// Nothing changed yet.
    #[default]
    Nothing,
    /// A spawn of this new instance (its UUID was made for it).
    Spawn(InstanceId),
    /// An attach of a volume that was not attached before.
    Attach {
        instance: InstanceId,
        volume: VolumeId,
    },
}

/// SIGINT or SIGTERM during a command that changes things.
#[derive(Debug, thiserror::Error)]
pub enum Interrupted {
    /// The command stopped and what it did was undone.
    #[error("interrupted by {signal}; {undone}")]
    Undone {
        /// The signal.
        signal: &'static str,
        /// What was undone.
        undone: String,
    },
    /// The undo failed; the command that finishes it is named.
    #[error("interrupted by {signal}; the undo failed: run `{cleanup}` to finish it")]
    UndoFailed {
        /// The signal.
        signal: &'static str,
        /// The command that cleans up.
        cleanup: String,
        /// Why.
        #[source]
        source: Box<dyn Error>,
    },
    /// A second signal during the undo: nothing more is done.
    #[error("interrupted by {signal} again while undoing; run `{cleanup}` to clean up")]
    Again {
        /// The signal.
        signal: &'static str,
        /// The command that cleans up.
        cleanup: String,
    },
}

impl Interrupted {
    /// 128 + the signal's number, as shells report a command a signal ended.
    pub fn exit_code(&self) -> u8 {
        let signal = match self {
            Self::Undone { signal, .. }
            | Self::UndoFailed { signal, .. }
            | Self::Again { signal, .. } => *signal,
        };
        if signal == "SIGTERM" {
            143
        } else {
            130
        }
    }
}

/// The next SIGINT or SIGTERM, by name.
async fn next_signal(
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
) -> &'static str {
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// Runs the command; on SIGINT or SIGTERM it stops where it is (the
/// operation is dropped at its next await, as a crash would end it) and
/// undoes what this command did with the operation that does so from what
/// the HMC and Cinder hold (a spawn: destroy of its new instance; an
/// attach: detach of its volume). A second signal ends the undo at once.
async fn run_interruptible(
    d: &Driver,
    cmd: Command,
    json_out: bool,
    progress: bool,
) -> Result<(), Box<dyn Error>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let undo = std::cell::RefCell::new(Undo::Nothing);
    let following = matches!(cmd, Command::Console { follow: true, .. });
    let raced = tokio::select! {
        r = run_command(d, cmd, json_out, progress, &undo) => Ok(r),
        s = next_signal(&mut int, &mut term) => Err(s),
    };
    let signal = match raced {
        Ok(r) => return r,
        Err(s) => s,
    };
    let (what, cleanup) = match undo.take() {
        Undo::Nothing => {
            let undone = if following {
                "stopped following the console (nothing to undo)"
            } else {
                "nothing had been changed"
            };
            return Err(Interrupted::Undone {
                signal,
                undone: undone.into(),
            }
            .into());
        }
        Undo::Spawn(id) => (Undo::Spawn(id.clone()), format!("dpm destroy -y {id}")),
        Undo::Attach { instance, volume } => (
            Undo::Attach {
                instance: instance.clone(),
                volume: volume.clone(),
            },
            format!("dpm detach {instance} {volume}"),
        ),
    };
    eprintln!(
        "interrupted by {signal}: undoing (a second signal stops at once; `{cleanup}` cleans up)"
    );
    let undone = async {
        match &what {
            Undo::Spawn(id) => d
                .destroy(id)
                .await
                .map(|()| {
                    format!("the spawn was undone: instance {id} destroyed, its volumes released")
                })
                .map_err(|e| Box::new(e) as Box<dyn Error>),
            Undo::Attach { instance, volume } => match d.detach_volume(instance, volume).await {
                Ok(()) => Ok(format!(
                    "the attach was undone: volume {volume} detached and released"
                )),
                // The attach had not reached Cinder: nothing holds it.
                Err(e) if matches!(e.step, dpm_compute::DetachStep::NotAttached { .. }) => {
                    Ok(format!(
                        "the attach had not begun: volume {volume} was never tied to {instance}"
                    ))
                }
                Err(e) => Err(Box::new(e) as Box<dyn Error>),
            },
            Undo::Nothing => Ok(String::new()),
        }
    };
    let r = tokio::select! {
        r = undone => r,
        again = next_signal(&mut int, &mut term) => {
            return Err(Interrupted::Again { signal: again, cleanup }.into())
        }
    };
    match r {
        Ok(undone) => Err(Interrupted::Undone { signal, undone }.into()),
        Err(source) => Err(Interrupted::UndoFailed {
            signal,
            cleanup,
            source,
        }
        .into()),
    }
}

pub async fn run(
    d: &Driver,
    cmd: Command,
    json_out: bool,
    progress: bool,
) -> Result<(), Box<dyn Error>> {
    let result = run_interruptible(d, cmd, json_out, progress).await;
    if let Err(e) = d.hmc().logoff().await {
        tracing::warn!(error = %e, "could not log off from the HMC");
    }
    result
}

async fn run_command(
    d: &Driver,
    cmd: Command,
    json_out: bool,
    progress: bool,
    undo: &std::cell::RefCell<Undo>,
) -> Result<(), Box<dyn Error>> {
    // What an instance is made of (vHBAs or a storage group) depends on the
    // CPC, which init_host reads.
    if matches!(
        cmd,
        Command::Attach { .. }
            | Command::Detach { .. }
            | Command::Destroy { .. }
            | Command::Start { .. }
            | Command::Stop { .. }
            | Command::Reboot { .. }
            | Command::Console { .. }
            | Command::List
            | Command::Info { .. }
            | Command::GuestConfig { .. }
    ) {
        d.init_host().await?;
    }
    match cmd {
        Command::Check => {
            d.init_host().await?;
            let cpc = d.hmc().get_cpc(&d.config().cpc).await?;
            let v = json!({
                "ok": true,
                "cpc": {"uri": d.config().cpc, "name": cpc.name, "se_version": cpc.se_version, "ifls": cpc.processor_count_ifl, "memory_mb": cpc.storage_customer},
                "adapter_mappings": d.config().adapter_mappings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "cinder_attachments_api": d.cinder().attachments_api().await?,
            });
            print(json_out, &v, || {
                println!("OK: CPC {} is usable: DPM mode, {} IFLs, {} MiB; max_processors and max_memory fit.",
                    cpc.name.unwrap_or_default(), cpc.processor_count_ifl.unwrap_or(0), cpc.storage_customer.unwrap_or(0));
                for m in &d.config().adapter_mappings {
                    println!("OK: adapter port {m} is an FCP port of this CPC.");
                }
                println!(
                    "OK: Cinder answers{}.",
                    if v["cinder_attachments_api"] == true {
                        " with the attachments API (3.44)"
                    } else {
                        " without the attachments API"
                    }
                );
            });
        }
        Command::Spawn {
            name,
            vcpus,
            memory_mb,
            boot,
            volumes,
        } => {
            d.init_host().await?;
            // Names are unique per host, so that a name stands for one
            // instance. (Two spawns of one name at the same moment both
            // pass this check: the CLI holds no lock across processes.)
            let all = d.list_instances_named().await?;
            if let Some(other) = all.iter().find(|i| i.name.as_ref() == Some(&name)) {
                return Err(CliError::NameTaken {
                    name: name.to_string(),
                    host: d.config().host.clone(),
                    instance: other.instance.clone(),
                }
                .into());
            }
            let vm = Instance::new(InstanceId::from(uuid::Uuid::new_v4()), vcpus, memory_mb);
            let mut devices = vec![BlockDevice::boot(boot)];
            devices.extend(volumes.into_iter().map(BlockDevice::data));
            // From here on, a signal undoes this spawn: its instance is new.
            undo.replace(Undo::Spawn(vm.uuid.clone()));
            let s = d.spawn_named(&vm, Some(&name), &devices).await?;
            undo.take();
            let v = json!({
                "instance": vm.uuid, "name": name, "partition": s.partition, "adopted": s.adopted,
                "boot": boot_json(&s.boot),
                "vhbas": s.vhbas.iter().map(|h| json!({"uri": h.uri, "wwpn": h.wwpn, "device_number": h.device_number})).collect::<Vec<_>>(),
                "storage_group": s.group.as_ref().map(|g| json!({"uri": g.uri, "name": g.name, "wwpns": g.wwpns})),
                "volumes": s.volumes.iter().map(|(id, p)| json!({"volume": id, "paths": paths_json(p)})).collect::<Vec<_>>(),
            });
            print(json_out, &v, || {
                println!(
                    "Instance {name} ({}) is running in partition {}.",
                    vm.uuid, s.partition
                );
                match &s.boot {
                    Boot::San(b) => println!(
                        "It boots from target {} LUN {} through vHBA {}.",
                        b.target, b.lun, b.hba
                    ),
                    Boot::Volume { volume, paths } => println!(
                        "It boots from storage volume {volume} ({} path(s)).",
                        paths.len()
                    ),
                }
                for h in &s.vhbas {
                    println!("  vHBA {} WWPN {}", h.device_number, h.wwpn);
                }
                if let Some(g) = &s.group {
                    println!("  storage group {} ({})", g.name, g.uri);
                    for w in &g.wwpns {
                        println!("    WWPN {w}");
                    }
                }
            });
        }
        Command::Attach { instance, volume } => {
            let id = find(d, &instance).await?.instance;
            // A signal undoes the attach only of a volume this command
            // ties: one attached before is refused, and stays.
            let before = d.cinder().get_volume(&volume).await?;
            if !before
                .attachments
                .iter()
                .any(|a| a.server_id.as_ref() == Some(&id))
            {
                undo.replace(Undo::Attach {
                    instance: id.clone(),
                    volume: volume.clone(),
                });
            }
            let paths = d.attach_volume(&id, &volume).await?;
            undo.take();
            let v = json!({"instance": id, "volume": volume, "paths": paths_json(&paths)});
            print(json_out, &v, || {
                println!(
                    "Volume {volume} is attached to {instance}; the guest finds it on {} paths:",
                    paths.len()
                );
                for p in &paths {
                    println!(
                        "  device {} target {} LUN {}",
                        p.device_number, p.target, p.lun
                    );
                }
            });
        }
        Command::Detach { instance, volume } => {
            let id = find(d, &instance).await?.instance;
            d.detach_volume(&id, &volume).await?;
            print(
                json_out,
                &json!({"instance": id, "volume": volume, "detached": true}),
                || {
                    println!("Volume {volume} is detached from {instance}.");
                },
            );
        }
        Command::Destroy {
            instance,
            confirm: c,
        } => {
            let found = find(d, &instance).await?;
            let id = found.instance.clone();
            confirm(
                c,
                &format!(
                    "Destroy instance {}, partition {} ({}), and release its volumes",
                    label(&id, found.name.as_ref()),
                    found.partition,
                    found.status
                ),
            )?;
            d.destroy(&id).await?;
            print(
                json_out,
                &json!({"instance": id, "name": found.name, "destroyed": true}),
                || println!("Instance {instance} is gone."),
            );
        }
        Command::List => {
            let mut rows = Vec::new();
            let mut out = Vec::new();
            let mut all = d.list_instances_named().await?;
            all.sort_by(|a, b| a.name.cmp(&b.name).then(a.instance.cmp(&b.instance)));
            for i in all {
                let state = format!("{:?}", dpm_driver::PowerState::from_status(&i.status));
                rows.push(vec![
                    i.name.as_ref().map(ToString::to_string).unwrap_or_default(),
                    i.instance.to_string(),
                    i.status.to_string(),
                    state.clone(),
                    i.vcpus.to_string(),
                    format!("{} MiB", i.memory_mb),
                ]);
                out.push(json!({"instance": i.instance, "name": i.name, "status": i.status, "power_state": state, "vcpus": i.vcpus, "memory_mb": i.memory_mb, "partition": i.partition}));
            }
            print(json_out, &json!({"instances": out}), || {
                table::print(
                    "Instances",
                    &["name", "instance", "status", "power", "vCPUs", "memory"],
                    &rows,
                )
            });
        }
        Command::Start { instance } => power(d, &instance, None, json_out).await?,
        Command::Stop { instance, how } => power(d, &instance, Some(how), json_out).await?,
        Command::Reboot { instance, kind } => {
            let id = find(d, &instance).await?.instance;
            let guest = d.reboot(&id, kind).await?;
            let info = d.get_info(&id).await?;
            let (hard, timeout) = match kind {
                dpm_driver::RebootKind::Soft(how) => (false, how.timeout),
                _ => (true, std::time::Duration::ZERO),
            };
            let v = json!({"instance": id, "rebooted": true, "hard": hard, "status": info.status, "guest_shutdown": guest.as_str()});
            print(json_out, &v, || {
                println!(
                    "rebooted {id}: partition {} ({})",
                    info.status,
                    told(guest, timeout)
                )
            });
        }
        Command::Console {
            instance,
            follow: true,
        } => {
            let id = find(d, &instance).await?.instance;
            follow_console(d, &id, json_out).await?;
        }
        Command::Console {
            instance,
            follow: false,
        } => {
            let id = find(d, &instance).await?.instance;
            let messages = d.console_messages(&id, None).await?;
            let v = json!({"instance": id, "messages": messages.iter().map(|m| json!({"sequence_number": m.sequence_number, "text": m.message_text})).collect::<Vec<_>>()});
            print(json_out, &v, || {
                for m in &messages {
                    println!("{}", m.message_text.trim_end_matches('\n'));
                }
            });
        }
        Command::Info { instance } => {
            let id = find(d, &instance).await?.instance;
            let x = d.describe(&id).await?;
            // Cinder's attachments, for their ids and statuses (none from a
            // Cinder without the attachments API).
            let attached = if d.cinder().attachments_api().await? {
                d.cinder()
                    .list_attachments(&AttachmentFilter {
                        instance_id: Some(id.clone()),
                        volume_id: None,
                    })
                    .await?
            } else {
                Vec::new()
            };
            let v = info_json(&x, &attached);
            print(json_out, &v, || print_info(&x, &attached));
        }
        Command::GuestConfig { instance, form } => {
            let id = find(d, &instance).await?.instance;
            let x = d.describe(&id).await?;
            let all: Vec<dpm_volume::FcPath> =
                x.volumes.iter().flat_map(|v| v.paths.clone()).collect();
            let g = dpm_volume::guest_config(&all);
            let v = json!({
                "instance": x.instance, "name": x.name,
                "volumes": x.volumes.iter().map(|v| json!({"volume": v.volume, "boot": v.boot, "paths": paths_json(&v.paths)})).collect::<Vec<_>>(),
                "devices": g.devices.iter().map(|d| dpm_volume::bus_id(*d)).collect::<Vec<_>>(),
                "kernel_parameters": g.kernel_parameters,
                "chzdev": g.chzdev,
                "udev_rules": g.udev_rules.iter().map(|r| json!({"file": r.file_name, "text": r.text})).collect::<Vec<_>>(),
            });
            print(json_out, &v, || print_guest(&x, &g, form));
        }
        Command::Resources => {
            d.init_host().await?;
            let r = d.get_available_resource().await?;
            let v = json!({"vcpus": r.vcpus, "vcpus_used": r.vcpus_used, "memory_mb": r.memory_mb, "memory_mb_used": r.memory_mb_used,
                "hypervisor_type": r.hypervisor_type, "hypervisor_version": r.hypervisor_version,
                "hypervisor_hostname": r.hypervisor_hostname, "cpu_arch": r.cpu_arch});
            print(json_out, &v, || {
                println!(
                    "{}: {}/{} vCPUs and {}/{} MiB used; {} {} on {}.",
                    r.hypervisor_hostname,
                    r.vcpus_used,
                    r.vcpus,
                    r.memory_mb_used,
                    r.memory_mb,
                    r.hypervisor_type,
                    r.hypervisor_version,
                    r.cpu_arch
                );
            });
        }
        Command::VolumeCreate { name, size, image } => {
            let v = d
                .cinder()
                .create_volume(&VolumeCreate {
                    size,
                    name: Some(name),
                    image_ref: image,
                    ..Default::default()
                })
                .await?;
            let v = wait_available(d.cinder(), &v.id, progress).await?;
            print(json_out, &volume_json(&v), || {
                println!(
                    "Volume {} is available ({} GiB{}).",
                    v.id,
                    v.size,
                    if v.bootable { ", bootable" } else { "" }
                );
            });
        }
        Command::VolumeList => {
            let vols = d.cinder().list_volumes().await?;
            let out: Vec<Value> = vols.iter().map(volume_json).collect();
            print(json_out, &json!({"volumes": out}), || table::volumes(&vols));
        }
        Command::VolumeShow { volume } => {
            let v = d.cinder().get_volume(&volume).await?;
            let mut out = volume_json(&v);
            out["attachments"] = v
                .attachments
                .iter()
                .map(|a| json!({"attachment": a.attachment_id, "instance": a.server_id, "device": a.device}))
                .collect();
            print(json_out, &out, || {
                println!(
                    "Volume {} ({}): {}, {} GiB{}.",
                    v.id,
                    v.name.as_deref().unwrap_or("no name"),
                    v.status,
                    v.size,
                    if v.bootable { ", bootable" } else { "" }
                );
                for a in &v.attachments {
                    println!(
                        "  attached to instance {} (attachment {})",
                        a.server_id
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_else(|| "?".into()),
                        a.attachment_id
                    );
                }
            });
        }
        Command::VolumeDelete { volume, confirm: c } => {
            // Read first: a volume that does not exist is Cinder's 404
            // before anyone is asked.
            let v = d.cinder().get_volume(&volume).await?;
            confirm(
                c,
                &format!(
                    "Delete volume {} ({}, {}, {} GiB)",
                    v.id,
                    v.name.as_deref().unwrap_or("no name"),
                    v.status,
                    v.size
                ),
            )?;
            // Cinder refuses a volume in use (or otherwise busy) itself;
            // its refusal is the error.
            d.cinder().delete_volume(&volume).await?;
            print(
                json_out,
                &json!({"volume": volume, "deleted": true}),
                || println!("Volume {volume} is being deleted."),
            );
        }
    }
    Ok(())
}

/// A Cinder volume, the same in every command.
fn volume_json(v: &cinder_client::Volume) -> Value {
    json!({"id": v.id, "name": v.name, "status": v.status, "bootable": v.bootable, "size_gib": v.size})
}

/// The boot source as JSON: the SAN path, or the storage volume.
fn boot_json(b: &Boot) -> serde_json::Value {
    match b {
        Boot::San(p) => {
            json!({"device": "storage-adapter", "hba": p.hba, "target_wwpn": p.target, "lun": p.lun})
        }
        Boot::Volume { volume, paths } => json!({
            "device": "storage-volume", "storage_volume": volume,
            "paths": paths_json(paths),
        }),
    }
}

fn paths_json(paths: &[dpm_volume::FcPath]) -> Vec<Value> {
    paths
        .iter()
        .map(|p| json!({"device_number": p.device_number, "target_wwpn": p.target, "lun": p.lun}))
        .collect()
}

/// An instance's vHBAs, or its storage group with volumes and VSRs.
fn storage_json(s: &StorageInfo) -> Value {
    match s {
        StorageInfo::Vhbas(v) => json!({
            "model": "hbas",
            "vhbas": v.iter().map(|h| json!({"uri": h.uri, "wwpn": h.wwpn, "device_number": h.device_number})).collect::<Vec<_>>(),
        }),
        StorageInfo::Group {
            group,
            fulfillment_state,
            volumes,
            vsrs,
        } => json!({
            "model": "storage-groups",
            "storage_group": {"uri": group.uri, "name": group.name, "fulfillment_state": fulfillment_state, "wwpns": group.wwpns},
            "storage_volumes": volumes.iter().map(|v| json!({
                "uri": v.uri, "name": v.name, "usage": v.usage, "size_gib": v.size,
                "fulfillment_state": v.fulfillment_state, "paths": paths_json(&v.paths),
            })).collect::<Vec<_>>(),
            "vsrs": vsrs.iter().map(|r| json!({"device_number": r.device_number, "wwpn": r.wwpn, "adapter_port": r.adapter_port})).collect::<Vec<_>>(),
        }),
    }
}

fn print_storage(s: &StorageInfo) {
    match s {
        StorageInfo::Vhbas(v) => {
            for h in v {
                println!("  vHBA {} WWPN {}", h.device_number, h.wwpn);
            }
        }
        StorageInfo::Group {
            group,
            fulfillment_state,
            volumes,
            vsrs,
        } => {
            println!("  storage group {} ({fulfillment_state})", group.name);
            for r in vsrs {
                println!(
                    "    VSR device {} WWPN {} on {}",
                    r.device_number,
                    r.wwpn,
                    r.adapter_port
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "no port yet".into())
                );
            }
            for v in volumes {
                println!(
                    "    {} volume {} ({} GiB, {}), {} path(s)",
                    v.usage,
                    v.name,
                    v.size,
                    v.fulfillment_state,
                    v.paths.len()
                );
                for p in &v.paths {
                    println!(
                        "      device {} target {} LUN {}",
                        p.device_number, p.target, p.lun
                    );
                }
            }
        }
    }
}

/// `info`'s JSON: the instance, its partition, boot source, volumes with
/// their paths, and storage.
fn info_json(x: &InstanceDetails, attached: &[cinder_client::Attachment]) -> Value {
    let boot_volume = x.volumes.iter().find(|v| v.boot).map(|v| v.volume.clone());
    let mut boot = x.boot.as_ref().map(boot_json).unwrap_or(Value::Null);
    if let Some(b) = boot.as_object_mut() {
        b.insert("volume".into(), json!(boot_volume));
    }
    json!({
        "instance": x.instance, "name": x.name,
        "partition": x.info.partition, "partition_name": x.partition_name,
        "status": x.info.status, "power_state": format!("{:?}", x.info.state),
        "vcpus": x.info.vcpus, "memory_mb": x.info.memory_mb,
        "boot": boot,
        "volumes": x.volumes.iter().map(|v| {
            let a = attached.iter().find(|a| a.volume_id == v.volume);
            json!({"volume": v.volume, "boot": v.boot,
                   "attachment": a.map(|a| a.id.clone()), "status": a.map(|a| a.status),
                   "paths": paths_json(&v.paths)})
        }).collect::<Vec<_>>(),
        "storage": storage_json(&x.storage),
    })
}

fn print_info(x: &InstanceDetails, attached: &[cinder_client::Attachment]) {
    println!(
        "Instance {}: partition {} is {} ({:?}), {} vCPUs, {} MiB.",
        label(&x.instance, x.name.as_ref()),
        x.partition_name,
        x.info.status,
        x.info.state,
        x.info.vcpus,
        x.info.memory_mb
    );
    println!("  partition URI {}", x.info.partition);
    let boot_volume = x
        .volumes
        .iter()
        .find(|v| v.boot)
        .map(|v| v.volume.to_string())
        .unwrap_or_else(|| "?".into());
    match &x.boot {
        Some(Boot::San(b)) => println!(
            "  boots from volume {boot_volume}: target {} LUN {} through vHBA {}",
            b.target, b.lun, b.hba
        ),
        Some(Boot::Volume { volume, paths }) => println!(
            "  boots from volume {boot_volume}: storage volume {volume} ({} path(s))",
            paths.len()
        ),
        None => println!("  no boot source set"),
    }
    let rows: Vec<Vec<String>> = x
        .volumes
        .iter()
        .map(|v| {
            let a = attached.iter().find(|a| a.volume_id == v.volume);
            vec![
                v.volume.to_string(),
                if v.boot { "boot" } else { "data" }.into(),
                a.map(|a| a.status.to_string()).unwrap_or_default(),
                v.paths.len().to_string(),
            ]
        })
        .collect();
    table::print(
        "Volumes",
        &["volume", "usage", "attachment", "paths"],
        &rows,
    );
    let rows: Vec<Vec<String>> = x
        .volumes
        .iter()
        .flat_map(|v| {
            v.paths.iter().map(move |p| {
                vec![
                    v.volume.to_string(),
                    p.device_number.to_string(),
                    p.target.to_string(),
                    p.lun.to_string(),
                ]
            })
        })
        .collect();
    table::print("Paths", &["volume", "device", "target WWPN", "LUN"], &rows);
    println!("\nStorage");
    print_storage(&x.storage);
}

fn print_guest(x: &InstanceDetails, g: &dpm_volume::GuestConfig, form: GuestForm) {
    match form {
        GuestForm::Kernel => println!("{}", g.kernel_parameters.join(" ")),
        GuestForm::Chzdev => {
            for c in &g.chzdev {
                println!("{c}");
            }
        }
        GuestForm::Udev => {
            for r in &g.udev_rules {
                println!("# {}\n{}", r.file_name, r.text);
            }
        }
        GuestForm::All => {
            println!(
                "Instance {}: {} path(s) over {} FCP device(s).",
                label(&x.instance, x.name.as_ref()),
                g.paths.len(),
                g.devices.len()
            );
            println!(
                "\nKernel parameters (dracut):\n  {}",
                g.kernel_parameters.join(" ")
            );
            println!("\nchzdev (s390-tools; enables each path now and at every boot):");
            for c in &g.chzdev {
                println!("  {c}");
            }
            println!("\nudev rules (/etc/udev/rules.d):");
            for r in &g.udev_rules {
                println!("# {}\n{}", r.file_name, r.text);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hmc_client::PartitionStatus;

    fn summary(n: u128, name: Option<&str>) -> InstanceSummary {
        InstanceSummary {
            instance: InstanceId::from_u128(n),
            name: name.map(|s| s.parse().unwrap()),
            partition: hmc_client::PartitionUri::from_object_id(&format!("{n:x}")).unwrap(),
            status: PartitionStatus::Active,
            vcpus: 1,
            memory_mb: 1024,
        }
    }

    #[test]
    fn an_argument_is_a_uuid_or_a_name_of_this_host() {
        let all = [
            summary(1, Some("web1")),
            summary(2, None),
            summary(3, Some("db")),
        ];
        assert_eq!(
            resolve("web1", "h", &all).unwrap().instance,
            all[0].instance
        );
        let uuid = all[1].instance.to_string();
        assert_eq!(resolve(&uuid, "h", &all).unwrap().instance, all[1].instance);
        let e = resolve("web2", "h", &all).unwrap_err();
        assert!(e.to_string().contains("\"web2\""), "{e}");
        let other = InstanceId::from_u128(9).to_string();
        let e = resolve(&other, "h", &all).unwrap_err();
        assert!(e.to_string().contains(&other), "{e}");
        let twice = [summary(1, Some("web1")), summary(2, Some("web1"))];
        assert!(matches!(
            resolve("web1", "h", &twice),
            Err(CliError::Ambiguous { .. })
        ));
    }

    #[test]
    fn without_a_terminal_a_deletion_needs_yes() {
        assert!(confirm(Confirm::Yes, "Destroy x").is_ok());
        let e = confirm(Confirm::Refuse, "Destroy x").unwrap_err();
        assert!(e.to_string().contains("-y"), "{e}");
    }
}
