//! The operator commands: the driver against real (or served) endpoints.

use std::error::Error;
use std::time::Duration;

use cinder_client::{
    AttachmentFilter, CinderApi, HttpCinder, ImageId, InstanceId, VolumeCreate, VolumeId,
    VolumeStatus,
};
use dpm_driver::{BlockDevice, Boot, DpmDriver, Instance, StorageInfo};
use hmc_client::{HmcApi, HttpHmc};
use serde_json::{json, Value};

use crate::config::CliConfig;
use crate::table;

pub type Driver = DpmDriver<HttpHmc, HttpCinder>;

/// A parsed operator command.
#[derive(Debug)]
pub enum Command {
    Check,
    Spawn {
        name: String,
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
    },
    List,
    Info {
        instance: String,
    },
    Resources,
    VolumeCreate {
        name: String,
        size: u64,
        image: Option<ImageId>,
    },
    VolumeList,
}

pub fn driver(cfg: CliConfig) -> Result<Driver, Box<dyn Error>> {
    let hmc = HttpHmc::new(cfg.hmc)?;
    let cinder = HttpCinder::new(cfg.cinder)?;
    Ok(DpmDriver::new(hmc, cinder, cfg.driver))
}

/// An instance argument: a UUID, or a name that stands for the UUID derived
/// from it (so `dpm spawn --name web1` and `dpm destroy web1` agree).
pub fn instance_id(arg: &str) -> InstanceId {
    arg.parse().unwrap_or_else(|_| {
        let h = |offset: u64| {
            arg.bytes().fold(offset, |acc, b| {
                (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        let v = (u128::from(h(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(h(0x6c62_272e_07bb_0142));
        // Version 5-like bits, so it reads as a name-based UUID.
        InstanceId::from_u128(
            (v & !(0xf000 << 64) & !(0xc000 << 48)) | (0x5000 << 64) | (0x8000 << 48),
        )
    })
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

/// Runs one command; the HMC session ends with it, whether it succeeded or
/// not. `progress`: say on stderr what takes time (not under `-q` or `-o
/// json`).
pub async fn run(
    d: &Driver,
    cmd: Command,
    json_out: bool,
    progress: bool,
) -> Result<(), Box<dyn Error>> {
    let result = run_command(d, cmd, json_out, progress).await;
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
) -> Result<(), Box<dyn Error>> {
    // What an instance is made of (vHBAs or a storage group) depends on the
    // CPC, which init_host reads.
    if matches!(
        cmd,
        Command::Attach { .. }
            | Command::Detach { .. }
            | Command::Destroy { .. }
            | Command::Info { .. }
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
            let vm = Instance {
                uuid: instance_id(&name),
                vcpus,
                memory_mb,
            };
            let mut devices = vec![BlockDevice {
                volume_id: boot,
                boot_index: Some(0),
            }];
            devices.extend(volumes.into_iter().map(|v| BlockDevice {
                volume_id: v,
                boot_index: None,
            }));
            let s = d.spawn(&vm, &devices).await?;
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
            let id = instance_id(&instance);
            let paths = d.attach_volume(&id, &volume).await?;
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
            let id = instance_id(&instance);
            d.detach_volume(&id, &volume).await?;
            print(
                json_out,
                &json!({"instance": id, "volume": volume, "detached": true}),
                || {
                    println!("Volume {volume} is detached from {instance}.");
                },
            );
        }
        Command::Destroy { instance } => {
            let id = instance_id(&instance);
            d.destroy(&id).await?;
            print(
                json_out,
                &json!({"instance": id, "destroyed": true}),
                || println!("Instance {instance} is gone (or never existed)."),
            );
        }
        Command::List => {
            let mut rows = Vec::new();
            let mut out = Vec::new();
            for id in d.list_instances().await? {
                let i = d.get_info(&id).await?;
                rows.push(vec![
                    id.to_string(),
                    i.status.to_string(),
                    format!("{:?}", i.state),
                    i.vcpus.to_string(),
                    format!("{} MiB", i.memory_mb),
                ]);
                out.push(json!({"instance": id, "status": i.status, "power_state": format!("{:?}", i.state), "vcpus": i.vcpus, "memory_mb": i.memory_mb, "partition": i.partition}));
            }
            print(json_out, &json!({"instances": out}), || {
                table::print(
                    "Instances",
                    &["instance", "status", "power", "vCPUs", "memory"],
                    &rows,
                )
            });
        }
        Command::Info { instance } => {
            let id = instance_id(&instance);
            let i = d.get_info(&id).await?;
            let attached = d
                .cinder()
                .list_attachments(&AttachmentFilter {
                    instance_id: Some(id.clone()),
                    volume_id: None,
                })
                .await?;
            let storage = d.storage_info(&id).await?;
            let v = json!({"instance": id, "partition": i.partition, "status": i.status, "power_state": format!("{:?}", i.state),
                "vcpus": i.vcpus, "memory_mb": i.memory_mb,
                "volumes": attached.iter().map(|a| json!({"volume": a.volume_id, "attachment": a.id, "status": a.status})).collect::<Vec<_>>(),
                "storage": storage_json(&storage)});
            print(json_out, &v, || {
                println!(
                    "Instance {instance} ({id}): partition {} is {} ({:?}), {} vCPUs, {} MiB.",
                    i.partition, i.status, i.state, i.vcpus, i.memory_mb
                );
                for a in &attached {
                    println!("  volume {} ({})", a.volume_id, a.status);
                }
                print_storage(&storage);
            });
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
