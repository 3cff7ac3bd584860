//! `dpm demo`: scenarios 1 to 3 on an embedded default simulator world,
//! narrated step by step, with the world's state in tables.

use std::error::Error;

use cinder_client::{CinderApi, InstanceId, VolumeCreate, VolumeStatus};
use dpm_driver::{BlockDevice, DpmDriver, DriverConfig, Instance};
use dpm_sim::{Sim, WorldSpec};
use hmc_client::{Credentials, HmcApi};

use crate::narrate::{say, NarratedCinder, NarratedHmc, StorageWatch, Voice};
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

/// Runs the demo. Returns an error if any scenario does not end as it must.
pub async fn run() -> Result<(), Box<dyn Error>> {
    let sim = Sim::new(WorldSpec::z13())?;
    let spec = sim.spec();
    println!(
        "dpm demo: boot an IBM Z partition from a Cinder FCP volume, on a simulated DPM world"
    );
    println!(
        "  CPC {} (DPM, {} IFLs, {} MiB), FCP adapters: {}; storage {} with {} target ports on fabrics {}",
        spec.cpc.name,
        spec.cpc.ifl,
        spec.cpc.memory_mib,
        sim.fcp_adapters().iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
        spec.storage.name,
        spec.storage.target_ports.len(),
        spec.fabrics.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(" and "),
    );

    let cfg = config_for(&sim)?;
    let hmc = NarratedHmc {
        inner: sim.hmc_with(Credentials {
            userid: cfg.hmc_username.clone(),
            password: cfg.hmc_password.clone(),
        }),
        voice: Voice::Demo(sim.clone()),
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
            &format!("connect_volume {}: {} paths", &v.as_str()[..8], paths.len()),
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
    println!("Nothing is left behind: no partition, vHBA, LUN mapping, zone or attachment; every volume is available.");
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
            (Some(h), Some(w), Some(l)) => format!("HBA {} → {w} LUN {l}", &h.element_id()[..8]),
            _ => full.boot_device.to_string(),
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
                format!("{} ({name})", &v.as_str()[..8]),
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
