//! `dpm demo`: scenarios 1 to 3 on an embedded simulated world (a z16 with
//! storage groups by default, or a z13 with vHBAs), narrated step by step,
//! with the world's state in tables.

use std::error::Error;

use cinder_client::{CinderApi, InstanceId, VolumeCreate, VolumeStatus};
use dpm_driver::{BlockDevice, DpmDriver, DriverConfig, Instance};
use dpm_sim::{Sim, WorldSpec};
use hmc_client::{Credentials, HmcApi};

use crate::narrate::{say, NarratedCinder, NarratedHmc, StorageWatch};
use crate::operator::wait_available;
use crate::table;

fn heading(s: &str) {
    println!("\n== {s} ==");
}

fn config_for(sim: &Sim) -> Result<DriverConfig, Box<dyn Error>> {
    let mappings: Vec<String> = sim
        .fcp_adapters()
        .iter()
        .map(|a| format!("\"{}:0\"", a.uri.object_id()))
        .collect();
    let text = format!(
        "[dpm]\nhost = \"demo-compute\"\nhmc = \"dpm-sim (in memory)\"\nhmc_username = \"{}\"\nhmc_password = \"{}\"\n\
         cpc_object_id = \"{}\"\nmax_processors = 8\nmax_memory = 32768\nphysical_storage_adapter_mappings = [{}]\n",
        sim.spec().hmc.userid,
        sim.spec().hmc.password,
        sim.cpc_uri().object_id(),
        mappings.join(", ")
    );
    Ok(DriverConfig::from_toml(&text)?)
}

/// Runs the demo on the named world. Returns an error if any scenario does
/// not end as it must.
pub async fn run(world: &str) -> Result<(), Box<dyn Error>> {
    let sim = Sim::new(WorldSpec::named(world)?)?;
    let spec = sim.spec();
    let groups = spec.cpc.storage_management;
    println!(
        "dpm demo: boot an IBM Z partition from a Cinder FCP volume, on a simulated DPM world"
    );
    println!(
        "  CPC {} (machine type {}, SE {}, DPM, {} IFLs, {} MiB), storage model: {}",
        spec.cpc.name,
        spec.cpc.machine_type,
        spec.cpc.se_version,
        spec.cpc.ifl,
        spec.cpc.memory_mib,
        if groups {
            "storage groups (dpm-storage-management)"
        } else {
            "vHBAs"
        },
    );
    println!(
        "  FCP adapters: {}; storage {} with {} target ports on fabrics {}",
        sim.fcp_adapters()
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        spec.storage.name,
        spec.storage.target_ports.len(),
        spec.fabrics
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
    );

    let cfg = config_for(&sim)?;
    let hmc = NarratedHmc {
        inner: sim.hmc_with(Credentials {
            userid: cfg.hmc_username.clone(),
            password: cfg.hmc_password.clone(),
        }),
        sim: sim.clone(),
    };
    let cinder = NarratedCinder {
        inner: sim.default_cinder(),
        sim: sim.clone(),
        storage: StorageWatch::new(&sim),
    };
    let driver = DpmDriver::new(hmc, cinder, cfg);

    heading("Image deployment: Cinder alone, no Nova");
    let (image, image_name) = sim
        .images()
        .into_iter()
        .next()
        .ok_or("the world has no image")?;
    say(
        &sim,
        "user → cinder",
        &format!("create a 10 GiB volume from image {image_name}"),
    );
    let boot = driver
        .cinder()
        .create_volume(&VolumeCreate {
            size: 10,
            name: Some("boot".into()),
            image_ref: Some(image),
            ..Default::default()
        })
        .await?;
    wait_available(driver.cinder(), &boot.id, false).await?;
    driver.cinder().storage.report();
    say(
        &sim,
        "cinder → user",
        &format!("volume {} available, bootable", boot.id),
    );

    heading("init_host");
    driver.init_host().await?;

    heading("1. Spawn: boot from the volume (2 IFLs, 4 GiB, 2 adapters)");
    let vm = Instance {
        uuid: InstanceId::from_u128(0x0d3d_0000_0000_4000_8000_0000_0000_0001),
        vcpus: 2,
        memory_mb: 4096,
    };
    say(
        &sim,
        "nova → nova-driver",
        &format!("spawn instance {}", vm.uuid),
    );
    sim.reset_counters();
    let spawned = driver
        .spawn(
            &vm,
            &[BlockDevice {
                volume_id: boot.id.clone(),
                boot_index: Some(0),
            }],
        )
        .await?;
    for (v, paths) in &spawned.volumes {
        say(
            &sim,
            "nova-driver → nova-volume",
            &format!(
                "connect_volume {}: {} paths",
                short_id(&v.to_string()),
                paths.len()
            ),
        );
    }
    let spawn_counts = sim.counters();
    let active = driver.get_info(&vm.uuid).await?;
    say(
        &sim,
        "nova-driver → nova",
        &format!("instance {:?} ({})", active.state, active.status),
    );

    heading("2. Attach a data volume to the running instance");
    let data = driver
        .cinder()
        .create_volume(&VolumeCreate {
            size: 20,
            name: Some("data".into()),
            ..Default::default()
        })
        .await?;
    wait_available(driver.cinder(), &data.id, false).await?;
    say(
        &sim,
        "nova → nova-driver",
        &format!("attach_volume {}", data.id),
    );
    let paths = driver.attach_volume(&vm.uuid, &data.id).await?;
    say(
        &sim,
        "nova-driver → nova-volume",
        &format!("connect_volume: {} paths", paths.len()),
    );
    let guest = sim.guest_paths(&spawned.partition);
    say(
        &sim,
        "guest (auto-discovery)",
        &format!("{} LUN paths visible", guest.len()),
    );
    print_world(
        &sim,
        "World with the instance running and both volumes attached",
    )
    .await?;

    heading("2b. Detach the data volume from the running instance");
    say(
        &sim,
        "nova → nova-driver",
        &format!("detach_volume {}", data.id),
    );
    driver.detach_volume(&vm.uuid, &data.id).await?;
    if sim
        .guest_paths(&spawned.partition)
        .iter()
        .any(|p| p.volume == data.id)
    {
        return Err("the detached volume is still visible to the guest".into());
    }

    heading("3. Destroy");
    say(
        &sim,
        "nova → nova-driver",
        &format!("destroy instance {}", vm.uuid),
    );
    driver.destroy(&vm.uuid).await?;
    print_world(&sim, "World at the end").await?;

    let s = sim.snapshot();
    if !(s.partitions.is_empty()
        && s.hbas.is_empty()
        && s.storage_groups.is_empty()
        && s.hosts.is_empty()
        && s.zones.is_empty()
        && s.attachments.is_empty())
        || s.volumes
            .iter()
            .any(|v| v.status != VolumeStatus::Available)
    {
        return Err("destroy left something behind".into());
    }
    println!(
        "\nSpawn made {} HMC requests (plus {} job polls) and {} Cinder requests; simulated time {:.1}s.",
        spawn_counts.requests(dpm_sim::Side::Hmc),
        spawn_counts.job_traffic(),
        spawn_counts.requests(dpm_sim::Side::Cinder),
        sim.now().as_secs_f64()
    );
    println!("Nothing is left behind: no partition, vHBA, storage group, LUN mapping, zone or attachment; every volume is available.");
    Ok(())
}

/// Prints the world's state as tables.
async fn print_world(sim: &Sim, title: &str) -> Result<(), Box<dyn Error>> {
    println!("\n-- {title} --");
    let hmc = sim.hmc();
    hmc.logon().await?;
    let s = sim.snapshot();
    let mut rows = Vec::new();
    for p in &s.partitions {
        let full = hmc.get_partition(&p.uri).await?;
        let boot = match (
            &full.boot_storage_device,
            full.boot_world_wide_port_name,
            full.boot_logical_unit_number,
        ) {
            (Some(h), Some(w), Some(l)) => {
                format!("HBA {} → {w} LUN {l}", short_id(h.element_id()))
            }
            _ => match &full.boot_storage_volume {
                Some(v) => format!("storage volume {}", short_id(v.element_id())),
                None => full.boot_device.to_string(),
            },
        };
        rows.push(vec![
            p.name.clone(),
            p.status.to_string(),
            p.ifl.to_string(),
            format!("{} MiB", p.memory_mib),
            boot,
        ]);
    }
    table::print(
        "Partitions",
        &["name", "status", "IFLs", "memory", "boot"],
        &rows,
    );

    let fabric_names: Vec<String> = sim.spec().fabrics.iter().map(|f| f.name.clone()).collect();
    let fabric = |i: usize| fabric_names.get(i).cloned().unwrap_or_default();
    if sim.spec().cpc.storage_management {
        print_groups(sim, &s, &fabric);
    } else {
        let rows: Vec<Vec<String>> = s
            .hbas
            .iter()
            .map(|h| {
                let adapter = sim
                    .fcp_adapters()
                    .into_iter()
                    .find(|a| a.uri == h.port.parent())
                    .map(|a| a.name)
                    .unwrap_or_default();
                vec![
                    h.partition.clone(),
                    h.device_number.to_string(),
                    h.wwpn.to_string(),
                    format!("{adapter} port {}", h.port.element_id()),
                    sim.port_fabric(&h.port).map(fabric).unwrap_or_default(),
                ]
            })
            .collect();
        table::print(
            "vHBAs",
            &["partition", "device", "WWPN", "adapter port", "fabric"],
            &rows,
        );
    }

    let mut rows = Vec::new();
    for h in &s.hosts {
        for (id, v) in &h.mappings {
            let wwpns: Vec<String> = h.wwpns.iter().map(ToString::to_string).collect();
            let name = s
                .volumes
                .iter()
                .find(|x| &x.id == v)
                .and_then(|x| x.name.clone())
                .unwrap_or_default();
            rows.push(vec![
                h.name.clone(),
                wwpns.join(","),
                id.to_string(),
                format!("{} ({name})", short_id(&v.to_string())),
            ]);
        }
    }
    table::print(
        "LUN mappings (storage host objects)",
        &["host", "WWPNs", "SCSI id", "volume"],
        &rows,
    );

    let rows: Vec<Vec<String>> = s
        .zones
        .iter()
        .map(|z| {
            vec![
                fabric(z.fabric),
                z.initiator.to_string(),
                z.target.to_string(),
            ]
        })
        .collect();
    table::print("Zones", &["fabric", "initiator", "target"], &rows);

    table::volumes(&sim.default_cinder().list_volumes().await?);
    hmc.logoff().await?;
    Ok(())
}

/// The first 8 characters of an id, for tables.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The storage groups, their volumes and their VSRs.
fn print_groups(sim: &Sim, s: &dpm_sim::WorldSnapshot, fabric: &dyn Fn(usize) -> String) {
    let rows: Vec<Vec<String>> = s
        .storage_groups
        .iter()
        .map(|g| {
            let wwpns: Vec<String> = g
                .wwpns
                .iter()
                .map(|w| format!("{} ({})", w.wwpn, w.status))
                .collect();
            vec![
                g.name.clone(),
                g.fulfillment_state.to_string(),
                wwpns.join(", "),
            ]
        })
        .collect();
    table::print("Storage groups", &["name", "fulfillment", "WWPNs"], &rows);
    let mut rows = Vec::new();
    for g in &s.storage_groups {
        for v in &g.volumes {
            rows.push(vec![
                short_id(g.uri.object_id()).to_owned(),
                short_id(&v.name).to_owned(),
                v.usage.to_string(),
                format!("{} GiB", v.size),
                v.fulfillment_state.to_string(),
                v.cinder_volume
                    .as_ref()
                    .map(|c| short_id(&c.to_string()).to_owned())
                    .unwrap_or_default(),
            ]);
        }
    }
    table::print(
        "Storage volumes (requests, fulfilled by discovery)",
        &[
            "group",
            "name",
            "usage",
            "size",
            "fulfillment",
            "Cinder volume",
        ],
        &rows,
    );
    let mut rows = Vec::new();
    for g in &s.storage_groups {
        for r in &g.vsrs {
            let port = g
                .wwpns
                .iter()
                .find(|w| w.wwpn == r.wwpn)
                .and_then(|w| w.port.clone());
            let partition = s
                .partitions
                .iter()
                .find(|p| p.uri == r.partition)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            rows.push(vec![
                partition,
                r.device_number.to_string(),
                r.wwpn.to_string(),
                port.as_ref()
                    .and_then(|p| {
                        sim.fcp_adapters()
                            .into_iter()
                            .find(|a| a.uri == p.parent())
                            .map(|a| format!("{} port {}", a.name, p.element_id()))
                    })
                    .unwrap_or_default(),
                port.as_ref()
                    .and_then(|p| sim.port_fabric(p))
                    .map(fabric)
                    .unwrap_or_default(),
            ]);
        }
    }
    table::print(
        "Virtual storage resources (the group's paths into the partition)",
        &["partition", "device", "WWPN", "adapter port", "fabric"],
        &rows,
    );
}
