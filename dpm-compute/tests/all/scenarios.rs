//! The end-to-end scenarios of the drivers issue, on the simulator.

use std::collections::BTreeSet;

use cinder_client::VolumeStatus;
use dpm_compute::BlockDevice;
use dpm_compute::{SpawnStep, VolumeStep};
use dpm_driver::InitError;
use dpm_sim::{Fault, Op, WorldSpec};
use hmc_client::{BootDevice, HmcApi, HmcError, PartitionStatus};

use crate::support::{boot_from, driver_for, env, env_from, instance};

/// Scenarios 1 to 3: spawn from an image volume, attach and detach a data
/// volume on the running instance, destroy.
#[tokio::test(start_paused = true)]
async fn spawn_attach_detach_destroy() {
    let env = env().await;
    let sim = &env.sim;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);

    // 1. Spawn.
    let spawned = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let hmc = env.driver.hmc();
    let p = hmc.get_partition(&spawned.partition).await.unwrap();
    assert_eq!(p.status, PartitionStatus::Active);
    assert_eq!(p.name, format!("OpenStack-compute-1-{}", vm.uuid));
    assert_eq!(
        (p.ifl_processors, p.initial_memory, p.maximum_memory),
        (2, 4096, 4096)
    );
    assert_eq!(p.hba_uris.len(), 2);
    // Boot properties: the first adapter's vHBA, a target on its fabric,
    // the 16-hex-digit LUN.
    assert_eq!(p.boot_device, BootDevice::StorageAdapter);
    let boot_hba = hmc
        .get_hba(p.boot_storage_device.as_ref().unwrap())
        .await
        .unwrap();
    let first_adapter = &sim.fcp_adapters()[0];
    assert_eq!(boot_hba.adapter_port_uri.parent(), first_adapter.uri);
    let fabric = sim.port_fabric(&boot_hba.adapter_port_uri).unwrap();
    let target = p.boot_world_wide_port_name.unwrap();
    assert!(sim.target_ports().contains(&(target, fabric)));
    let lun = p.boot_logical_unit_number.unwrap();
    assert_eq!(lun.to_string().len(), 16);
    let host = sim
        .hosts()
        .into_iter()
        .find(|h| h.wwpns.contains(&boot_hba.wwpn))
        .unwrap();
    assert_eq!(
        host.mappings.get(&(lun.to_target_lun() as u32)),
        Some(&boot)
    );
    // The volume is in use, and the guest sees the boot LUN on both vHBAs.
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
    let paths = sim.guest_paths(&spawned.partition);
    let devices: BTreeSet<_> = paths
        .iter()
        .filter(|x| x.volume == boot)
        .map(|x| x.device_number)
        .collect();
    assert_eq!(devices.len(), 2);
    assert!(paths.iter().all(|x| x.lun == lun));

    // 2. Attach a second volume to the running instance.
    let data = env.volume("data", false).await;
    let attached = env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    let paths = sim.guest_paths(&spawned.partition);
    let data_paths: Vec<_> = paths.iter().filter(|x| x.volume == data).collect();
    let devices: BTreeSet<_> = data_paths.iter().map(|x| x.device_number).collect();
    assert_eq!(devices.len(), 2, "visible on both vHBAs");
    let data_lun = data_paths[0].lun;
    assert_ne!(data_lun, lun);
    assert!(data_paths.iter().all(|x| x.lun == data_lun));
    // The paths Cinder's map offers (all-to-all: 2 vHBAs x 4 ports) hold
    // every path the guest finds (each vHBA reaches the 2 on its fabric).
    assert_eq!(attached.len(), 8);
    assert_eq!(data_paths.len(), 4);
    for g in &data_paths {
        assert!(attached
            .iter()
            .any(|a| (a.device_number, a.target, a.lun) == (g.device_number, g.target, g.lun)));
    }
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    assert_eq!(
        env.driver.describe(&vm.uuid).await.unwrap().volumes.len(),
        2
    );
    // Then detach it.
    env.driver.detach_volume(&vm.uuid, &data).await.unwrap();
    assert!(sim
        .guest_paths(&spawned.partition)
        .iter()
        .all(|x| x.volume != data));
    assert!(sim
        .hosts()
        .iter()
        .all(|h| h.mappings.values().all(|v| *v != data)));
    assert_eq!(env.status(&data).await, VolumeStatus::Available);
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);

    // 3. Destroy.
    env.driver.destroy(&vm.uuid).await.unwrap();
    let s = sim.snapshot();
    assert!(s.partitions.is_empty());
    assert!(s.hbas.is_empty());
    assert!(s.hosts.is_empty());
    assert!(s.zones.is_empty());
    assert!(s.attachments.is_empty());
    assert!(s
        .volumes
        .iter()
        .all(|v| v.status == VolumeStatus::Available));
    assert_eq!(s.memory_held_mib, 0);
}

/// Scenario 4a: the boot LUN is not visible to the boot vHBA (the fabric
/// is not zoned), so the start job fails; the world is as before.
#[tokio::test(start_paused = true)]
async fn rollback_when_the_start_job_fails() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    env.sim.set_zoning(false);
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    match err.step.driver_step().and_then(|s| s.start_failure()) {
        Some(HmcError::JobFailed { message, .. }) => {
            assert!(message.contains("not reachable"), "{message}")
        }
        _ => panic!("{:?}", err.step),
    }
    assert!(err.undo.is_empty(), "{:?}", err.undo);
    assert_eq!(env.sim.snapshot(), before);
    assert_eq!(env.status(&boot).await, VolumeStatus::Available);
}

/// Scenario 4b: Cinder refuses the connector.
#[tokio::test(start_paused = true)]
async fn rollback_when_cinder_refuses_the_connector() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let before = env.sim.snapshot();
    env.sim.fail_next(
        Op::UpdateAttachment,
        1,
        Fault::new(
            400,
            0,
            "Invalid input received: connector has no usable wwpns",
        ),
    );
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    match &err.step {
        SpawnStep::Volume(VolumeStep::UpdateAttachment { volume, source }) => {
            assert_eq!(volume, &boot);
            assert_eq!(source.status(), Some(400));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.undo.is_empty());
    assert_eq!(env.sim.snapshot(), before);
}

/// Scenario 4c: the CPC lacks memory for the partition when it starts.
#[tokio::test(start_paused = true)]
async fn rollback_when_the_cpc_lacks_memory() {
    let env = env_from(WorldSpec::default().with_memory_mib(32768), "").await;
    let boot = env.volume("boot", true).await;
    // Another workload holds most of the CPC's memory.
    env.hold_memory(30720).await;
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    match err.step.driver_step() {
        Some(dpm_driver::SpawnStep::StartPartition {
            source: HmcError::JobFailed { message, .. },
            ..
        }) => {
            assert!(message.contains("Insufficient memory"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sim.snapshot(), before);
}

/// Scenario 5: a second instance booting from the same volume is refused by
/// Cinder, and leaves nothing behind.
#[tokio::test(start_paused = true)]
async fn a_second_instance_cannot_boot_from_the_same_volume() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    env.driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap();
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(2), &boot_from(&boot))
        .await
        .unwrap_err();
    match &err.step {
        SpawnStep::Volume(VolumeStep::CreateAttachment { source, .. }) => {
            assert_eq!(source.status(), Some(400))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sim.snapshot(), before);
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
}

/// Scenario 6: init_host refuses a non-FCP adapter, a missing adapter and a
/// capacity above the CPC's, each with its own error.
#[tokio::test(start_paused = true)]
async fn init_host_refusals() {
    let sim = dpm_sim::Sim::new(WorldSpec::default()).unwrap();
    let ficon = sim
        .adapters()
        .into_iter()
        .find(|(_, t)| t == "fc")
        .unwrap()
        .0;
    let fcp = &sim.fcp_adapters()[0].uri;

    let swap = |from: &str, to: &str| {
        let text = crate::support::config_toml(&sim, "").replace(from, to);
        crate::support::driver_with(&sim, dpm_driver::DriverConfig::from_toml(&text).unwrap())
    };
    let d = swap(fcp.object_id(), ficon.object_id());
    assert!(
        matches!(d.init_host().await, Err(InitError::AdapterNotFcp { adapter_type, .. }) if adapter_type == "fc")
    );
    let d = swap(fcp.object_id(), "0badc0de-0000-4000-8000-000000000000");
    assert!(matches!(
        d.init_host().await,
        Err(InitError::AdapterNotFound { .. })
    ));
    let d = swap(
        &format!("{}:0", fcp.object_id()),
        &format!("{}:3", fcp.object_id()),
    );
    assert!(matches!(
        d.init_host().await,
        Err(InitError::AdapterPortMissing {
            port: 3,
            ports: 1,
            ..
        })
    ));
    let d = swap("max_processors = 8", "max_processors = 9");
    assert!(matches!(
        d.init_host().await,
        Err(InitError::MaxProcessorsExceeded {
            configured: 9,
            available: 8
        })
    ));
    let d = swap("max_memory = 32768", "max_memory = 65537");
    assert!(matches!(
        d.init_host().await,
        Err(InitError::MaxMemoryExceeded { .. })
    ));
    let d = swap(
        sim.cpc_uri().object_id(),
        "0badc0de-0000-4000-8000-000000000000",
    );
    assert!(matches!(
        d.init_host().await,
        Err(InitError::CpcNotFound { .. })
    ));
    let d = swap(
        &format!("password = \"{}\"", sim.spec().hmc.password),
        "password = \"nope\"",
    );
    assert!(matches!(d.init_host().await, Err(InitError::Logon(_))));
    // And an uninitialized driver refuses to spawn.
    let d = driver_for(&sim, "");
    let err = d
        .spawn(
            &instance(1),
            &[BlockDevice {
                volume_id: cinder_client::VolumeId::from_u128(1),
                boot_index: Some(0),
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err.step, SpawnStep::NotInitialized));
    assert!(sim.snapshot().partitions.is_empty());
}

/// The HMC request budget: spawn with two adapters at most 8 (not counting
/// job polls), attach and detach at most 4 each.
#[tokio::test(start_paused = true)]
async fn request_budget() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    env.sim.reset_counters();
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let c = env.sim.counters();
    assert!(
        c.requests(dpm_sim::Side::Hmc) <= 8,
        "spawn made {} HMC requests",
        c.requests(dpm_sim::Side::Hmc)
    );
    env.sim.reset_counters();
    env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    assert!(env.sim.counters().requests(dpm_sim::Side::Hmc) <= 4);
    env.sim.reset_counters();
    env.driver.detach_volume(&vm.uuid, &data).await.unwrap();
    assert!(env.sim.counters().requests(dpm_sim::Side::Hmc) <= 4);
    assert_eq!(env.status(&data).await, VolumeStatus::Available);
}

/// A storage system whose ports on the second fabric come first: Storwize
/// answers a partition that has not started with every port, in its own
/// order, so the boot vHBA's first targets are ones it cannot reach. The
/// driver moves past them to a reachable one and boots; the ignore list
/// still keeps a target out.
#[tokio::test(start_paused = true)]
async fn boots_through_a_reachable_target_when_the_map_lists_others_first() {
    let mut spec = WorldSpec::z13();
    spec.storage.target_ports.reverse();
    let on_a: Vec<fc_types::Wwpn> = spec
        .storage
        .target_ports
        .iter()
        .filter(|p| p.fabric == spec.fabrics[0].name)
        .map(|p| p.wwpn)
        .collect();
    assert_eq!(on_a.len(), 2);
    assert_ne!(spec.storage.target_ports[0].fabric, spec.fabrics[0].name);
    let env = env_from(spec.clone(), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    env.sim.reset_counters();
    let spawned = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let dpm_driver::Boot::San(path) = &spawned.boot else {
        panic!("{:?}", spawned.boot)
    };
    assert_eq!(path.hba, spawned.vhbas[0].uri, "the first adapter's vHBA");
    assert_eq!(path.target, on_a[0], "the first target it reaches");
    // Two starts failed (the two ports on the other fabric), the third ran.
    assert_eq!(env.sim.counters().get(Op::StartPartition), 3);
    let p = env
        .driver
        .hmc()
        .get_partition(&spawned.partition)
        .await
        .unwrap();
    assert_eq!(p.status, PartitionStatus::Active);
    assert_eq!(p.boot_world_wide_port_name, Some(on_a[0]));
    env.driver.destroy(&vm.uuid).await.unwrap();

    // With the first reachable target on the ignore list, the second one.
    let ignore = format!("target_wwpn_ignore_list = [\"{}\"]", on_a[0]);
    let env = env_from(spec, &ignore).await;
    let boot = env.volume("boot", true).await;
    let spawned = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let dpm_driver::Boot::San(path) = &spawned.boot else {
        panic!("{:?}", spawned.boot)
    };
    assert_eq!(path.target, on_a[1]);
    env.driver.destroy(&vm.uuid).await.unwrap();

    // A bound of two attempts gives up before it reaches fabric A, and
    // undoes everything.
    let mut spec = WorldSpec::z13();
    spec.storage.target_ports.reverse();
    let env = env_from(spec, "max_boot_attempts = 2").await;
    let boot = env.volume("boot", true).await;
    let before = env.sim.snapshot();
    let err = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap_err();
    match err.step.driver_step() {
        Some(dpm_driver::SpawnStep::NoBootPathStarted { then, .. }) => {
            assert_eq!(then.len() + 1, 2)
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("everything it did was undone"),
        "{err}"
    );
    assert!(err.undo.is_empty(), "{:?}", err.undo);
    assert_eq!(env.sim.snapshot(), before);
}
