//! The same scenarios on both of DPM's storage models: a z13 (vHBAs) and a
//! z16 (storage groups). Each test body runs on both worlds and asserts
//! the world: partitions, vHBAs or groups with their volumes and VSRs, LUN
//! mappings, zones and Cinder statuses, ending with nothing left behind.

use std::collections::BTreeSet;

use cinder_client::{CinderApi, VolumeId, VolumeStatus};
use dpm_compute::SpawnStep;
use dpm_driver::{Boot, StorageInfo, StorageModel};
use dpm_sim::{Fault, Op, Side, WorldSnapshot, WorldSpec};
use hmc_client::{
    BootDevice, FulfillmentState, HmcApi, HmcError, PartitionStatus, StorageGroupCreate,
    StorageGroupType, VolumeCreate, VolumeRequest, VolumeUsage,
};
use rstest::rstest;

use crate::support::{
    boot_from, driver_for, earlier_try_partition, env_from, instance, make_partition, Env,
};

fn world(name: &str) -> WorldSpec {
    WorldSpec::named(name).unwrap()
}

/// Nothing an instance had is left: no partition, vHBA, storage group, LUN
/// mapping, zone or attachment, and every volume is available.
fn assert_nothing_left(s: &WorldSnapshot) {
    assert!(s.partitions.is_empty(), "{:?}", s.partitions);
    assert!(s.hbas.is_empty(), "{:?}", s.hbas);
    assert!(s.storage_groups.is_empty(), "{:?}", s.storage_groups);
    assert!(s.hosts.is_empty(), "{:?}", s.hosts);
    assert!(s.zones.is_empty(), "{:?}", s.zones);
    assert!(s.attachments.is_empty(), "{:?}", s.attachments);
    assert!(s
        .volumes
        .iter()
        .all(|v| v.status == VolumeStatus::Available));
    assert_eq!(s.memory_held_mib, 0);
}

#[rstest]
#[case::z13("z13", StorageModel::Hbas)]
#[case::z16("z16", StorageModel::StorageGroups)]
#[tokio::test(start_paused = true)]
async fn spawn_attach_detach_destroy(#[case] name: &str, #[case] model: StorageModel) {
    let env = env_from(world(name), "").await;
    assert_eq!(env.driver.storage_model(), Some(model));
    let sim = &env.sim;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);

    // Spawn.
    let spawned = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let hmc = env.driver.hmc();
    let p = hmc.get_partition(&spawned.partition).await.unwrap();
    assert_eq!(p.status, PartitionStatus::Active);
    assert_eq!(p.name, format!("OpenStack-compute-1-{}", vm.uuid));
    let (target, lun) = spawned.boot.target_lun().unwrap();
    match model {
        StorageModel::Hbas => {
            assert_eq!(p.boot_device, BootDevice::StorageAdapter);
            assert_eq!(p.hba_uris.len(), 2);
            assert!(p.storage_group_uris.is_empty());
            assert!(matches!(spawned.boot, Boot::San(_)));
        }
        _ => {
            assert_eq!(p.boot_device, BootDevice::StorageVolume);
            assert!(p.hba_uris.is_empty());
            let group = spawned.group.clone().unwrap();
            assert_eq!(p.storage_group_uris, vec![group.uri.clone()]);
            assert_eq!(group.name, p.name, "the group is named after the instance");
            assert_eq!(group.wwpns.len(), 2);
            let Boot::Volume { volume, paths } = &spawned.boot else {
                panic!("{:?}", spawned.boot)
            };
            assert_eq!(p.boot_storage_volume.as_ref(), Some(volume));
            let devices: BTreeSet<_> = paths.iter().map(|x| x.device_number).collect();
            assert_eq!(devices.len(), 2, "a path through each adapter's VSR");
            let groups = sim.snapshot().storage_groups;
            assert_eq!(groups.len(), 1);
            let g = &groups[0];
            assert_eq!(g.fulfillment_state, FulfillmentState::Complete);
            assert_eq!(g.volumes.len(), 1);
            assert_eq!(g.volumes[0].fulfillment_state, FulfillmentState::Complete);
            assert_eq!(g.volumes[0].cinder_volume.as_ref(), Some(&boot));
            assert_eq!(g.vsrs.len(), 2);
        }
    }
    // The LUN is masked at the boot LUN to the initiators, and the guest sees
    // it on both paths.
    let host = sim
        .hosts()
        .into_iter()
        .find(|h| h.mappings.values().any(|v| *v == boot))
        .unwrap();
    assert_eq!(
        host.mappings.get(&(lun.to_target_lun() as u32)),
        Some(&boot)
    );
    assert!(sim.zones().iter().any(|z| z.target == target));
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
    let paths = sim.guest_paths(&spawned.partition);
    let devices: BTreeSet<_> = paths
        .iter()
        .filter(|x| x.volume == boot)
        .map(|x| x.device_number)
        .collect();
    assert_eq!(devices.len(), 2);

    // Attach a data volume to the running instance.
    let data = env.volume("data", false).await;
    let attached = env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    let data_paths: Vec<_> = sim
        .guest_paths(&spawned.partition)
        .into_iter()
        .filter(|x| x.volume == data)
        .collect();
    let devices: BTreeSet<_> = data_paths.iter().map(|x| x.device_number).collect();
    assert_eq!(devices.len(), 2, "visible on both paths");
    // The guest finds a subset of the paths reported: with vHBAs those are
    // Cinder's all-to-all map, some over the other fabric; with storage
    // groups the HMC reports what it discovered.
    for g in &data_paths {
        assert!(attached
            .iter()
            .any(|a| (a.device_number, a.target, a.lun) == (g.device_number, g.target, g.lun)));
    }
    if model == StorageModel::StorageGroups {
        assert_eq!(attached.len(), data_paths.len());
    }
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    assert_eq!(
        env.driver.describe(&vm.uuid).await.unwrap().volumes.len(),
        2
    );
    if model == StorageModel::StorageGroups {
        let g = &sim.snapshot().storage_groups[0];
        assert_eq!(
            g.volumes.len(),
            2,
            "a request was added for the data volume"
        );
        assert!(g
            .volumes
            .iter()
            .all(|v| v.fulfillment_state == FulfillmentState::Complete));
        let StorageInfo::Group { volumes, vsrs, .. } =
            env.driver.storage_info(&vm.uuid).await.unwrap()
        else {
            panic!("info shows the group")
        };
        assert_eq!(volumes.len(), 2);
        for v in &volumes {
            let devices: BTreeSet<_> = v.paths.iter().map(|x| x.device_number).collect();
            assert_eq!(devices.len(), 2, "{v:?}");
        }
        assert_eq!(vsrs.len(), 2);
    }

    // Detach it.
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
    if model == StorageModel::StorageGroups {
        let g = &sim.snapshot().storage_groups[0];
        assert_eq!(g.volumes.len(), 1, "the data request left the group");
    }

    // Destroy.
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&sim.snapshot());
}

/// A fault at each HMC and Cinder request a spawn makes: the spawn fails at
/// that step and the world is exactly as before.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn rollback_at_every_step_of_spawn(#[case] name: &str) {
    // The requests of a successful spawn, in order.
    let steps: Vec<Op> = {
        let env = env_from(world(name), "").await;
        let boot = env.volume("boot", true).await;
        let data = env.volume("data", false).await;
        env.sim.reset_counters();
        let mut devices = boot_from(&boot);
        devices.push(dpm_compute::BlockDevice::data(data));
        env.driver.spawn(&instance(1), &devices).await.unwrap();
        let mut seen = Vec::new();
        for op in env.sim.op_log() {
            if !seen.contains(&op) {
                seen.push(op);
            }
        }
        seen
    };
    assert!(steps.len() >= 8, "{steps:?}");
    for op in steps {
        let env = env_from(world(name), "").await;
        let boot = env.volume("boot", true).await;
        let data = env.volume("data", false).await;
        let before = env.sim.snapshot();
        env.sim
            .fail_next(op, 1, Fault::new(500, 0, "injected by the test"));
        let mut devices = boot_from(&boot);
        devices.push(dpm_compute::BlockDevice::data(data));
        let err = match env.driver.spawn(&instance(1), &devices).await {
            Err(e) => e,
            // Deleting a finished job is housekeeping: the job's outcome is
            // known, so a refused delete does not fail the operation.
            Ok(_) if op == Op::DeleteJob => continue,
            // Reading the adapter ports' fabric logins only orders the
            // boot paths: without it the mapping order stands.
            Ok(_) if op == Op::SubmitRequests && name == "z13" => continue,
            Ok(s) => panic!("a fault at {op} did not fail the spawn: {s:?}"),
        };
        assert!(err.undo.is_empty(), "{op}: {:?}", err.undo);
        let after = env.sim.snapshot();
        assert_eq!(after, before, "{op}: {err}");
        assert_nothing_left(&after);
    }
}

/// Why a boot fails.
#[derive(Debug, Clone, Copy)]
enum Cause {
    /// The volume holds no image.
    NotBootable,
    /// The CPC has not enough free memory.
    NoMemory,
    /// The SAN is not zoned.
    NotZoned,
}

#[rstest]
#[tokio::test(start_paused = true)]
async fn a_failed_boot_rolls_back(
    #[values("z13", "z16")] name: &str,
    #[values(Cause::NotBootable, Cause::NoMemory, Cause::NotZoned)] cause: Cause,
) {
    let spec = match cause {
        Cause::NoMemory => world(name).with_memory_mib(32768),
        _ => world(name),
    };
    let env = env_from(spec, "").await;
    let boot = env
        .volume("boot", !matches!(cause, Cause::NotBootable))
        .await;
    match cause {
        Cause::NotZoned => env.sim.set_zoning(false),
        Cause::NoMemory => {
            // Another workload holds most of the CPC's memory.
            env.hold_memory(30720).await;
        }
        Cause::NotBootable => {}
    }
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    let text = format!("{:?}", err.step);
    match (
        err.step.driver_step().and_then(|s| s.start_failure()),
        cause,
    ) {
        (Some(HmcError::JobFailed { message, .. }), _) => {
            let want = match cause {
                Cause::NotBootable => "not bootable",
                Cause::NoMemory => "Insufficient memory",
                Cause::NotZoned => "not reachable",
            };
            assert!(message.contains(want), "{message}");
            // Over vHBAs every boot path was tried, up to the bound.
            if let Some(dpm_driver::SpawnStep::NoBootPathStarted { then, .. }) =
                err.step.driver_step()
            {
                assert_eq!(name, "z13");
                assert_eq!(then.len() + 1, 4, "max_boot_attempts");
            }
        }
        // With storage groups an unzoned LUN is never discovered, so the
        // driver stops before it boots.
        (_, Cause::NotZoned)
            if name == "z16"
                && matches!(
                    err.step.driver_step(),
                    Some(dpm_driver::SpawnStep::Group(
                        dpm_driver::GroupStep::NotDiscovered { .. }
                    ))
                ) => {}
        _ => panic!("{name} {cause:?}: {text}"),
    }
    assert!(err.undo.is_empty(), "{:?}", err.undo);
    assert_eq!(env.sim.snapshot(), before);
    assert_eq!(env.status(&boot).await, VolumeStatus::Available);
}

/// HMC requests per operation, two adapters, one boot volume (job polls
/// apart): z13 spawn ≤ 8, attach ≤ 4, detach ≤ 4; z16 spawn ≤ 9,
/// attach ≤ 6, detach ≤ 4, destroy ≤ 7.
#[rstest]
#[case::z13("z13", [8, 4, 4, 7])]
#[case::z16("z16", [9, 6, 4, 7])]
#[tokio::test(start_paused = true)]
async fn request_budget(#[case] name: &str, #[case] budget: [u64; 4]) {
    let env = env_from(world(name), "").await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    let mut used = Vec::new();
    env.sim.reset_counters();
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    used.push(env.sim.counters().requests(Side::Hmc));
    env.sim.reset_counters();
    env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    used.push(env.sim.counters().requests(Side::Hmc));
    env.sim.reset_counters();
    env.driver.detach_volume(&vm.uuid, &data).await.unwrap();
    used.push(env.sim.counters().requests(Side::Hmc));
    env.sim.reset_counters();
    env.driver.destroy(&vm.uuid).await.unwrap();
    used.push(env.sim.counters().requests(Side::Hmc));
    for (u, b) in used.iter().zip(budget) {
        assert!(*u <= b, "{name}: used {used:?}, budget {budget:?}");
    }
    assert_nothing_left(&env.sim.snapshot());
}

/// A driver with no memory of the spawn (a restarted compute service)
/// attaches, detaches and destroys from what the HMC and Cinder hold.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_restarted_driver_finds_everything(#[case] name: &str) {
    let env = env_from(world(name), "").await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let fresh = driver_for(&env.sim, "");
    fresh.init_host().await.unwrap();
    fresh.attach_volume(&vm.uuid, &data).await.unwrap();
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    fresh.detach_volume(&vm.uuid, &data).await.unwrap();
    assert_eq!(env.status(&data).await, VolumeStatus::Available);
    fresh.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&env.sim.snapshot());
}

/// The volume an instance boots from cannot be detached while the instance
/// exists (storage groups: its request's usage is `boot`; vHBAs: the
/// partition's boot target and LUN are the volume's); nothing changes.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn detaching_the_root_disk_is_refused(#[case] name: &str) {
    let env: Env = env_from(world(name), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let before = env.sim.snapshot();
    let err = env.driver.detach_volume(&vm.uuid, &boot).await.unwrap_err();
    assert!(
        matches!(
            err.step,
            dpm_compute::DetachStep::RootVolume { .. }
                | dpm_compute::DetachStep::Driver(dpm_driver::DetachError {
                    step: dpm_driver::DetachStep::RootVolume { .. },
                    ..
                })
        ),
        "{err}"
    );
    assert_eq!(env.sim.snapshot(), before);
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
}

/// An instance that finished spawning is never adopted: a second spawn is
/// "already exists" and touches nothing; two spawns at once give one
/// instance.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_finished_instance_is_never_spawned_again(#[case] name: &str) {
    let env = env_from(world(name), "").await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    let devices = boot_from(&boot);
    let (a, b) = tokio::join!(
        env.driver.spawn(&vm, &devices),
        env.driver.spawn(&vm, &devices),
    );
    let (ok, err) = match (a, b) {
        (Ok(s), Err(e)) | (Err(e), Ok(s)) => (s, e),
        (a, b) => panic!("one spawn must win: {a:?} {b:?}"),
    };
    assert!(
        matches!(err.step, SpawnStep::AlreadyExists { ref partition, .. } if *partition == ok.partition),
        "{err}"
    );
    env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    let before = env.sim.snapshot();
    let err = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap_err();
    assert!(matches!(err.step, SpawnStep::AlreadyExists { .. }), "{err}");
    assert!(err.is_refusal());
    assert!(
        err.to_string().contains("refused, nothing was changed"),
        "{err}"
    );
    assert!(err.undo.is_empty());
    assert_eq!(
        env.sim.snapshot(),
        before,
        "the running instance is untouched"
    );
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&env.sim.snapshot());
}

/// Two volumes of one size: each Cinder volume is matched to the storage
/// volume whose paths carry its LUN, the partition boots from the boot
/// volume's, and each request is named after the volume that fulfills it.
#[tokio::test(start_paused = true)]
async fn same_size_volumes_are_matched_by_their_paths() {
    let env = env_from(world("z16"), "").await;
    let data = env.volume("data", false).await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let mut devices = boot_from(&boot);
    devices.push(dpm_compute::BlockDevice::data(data.clone()));
    let spawned = env.driver.spawn(&vm, &devices).await.unwrap();
    assert_eq!(
        env.driver
            .hmc()
            .get_partition(&spawned.partition)
            .await
            .unwrap()
            .status,
        PartitionStatus::Active
    );
    let g = &env.sim.snapshot().storage_groups[0];
    for v in &g.volumes {
        let cinder = v.cinder_volume.clone().unwrap();
        assert_eq!(v.name, cinder.to_string());
        let usage = if cinder == boot { "boot" } else { "data" };
        assert_eq!(v.usage.as_str(), usage);
    }
    // The boot volume's paths carry the LUN the boot volume is masked at.
    let Boot::Volume { volume, paths } = &spawned.boot else {
        panic!("{:?}", spawned.boot)
    };
    let boot_request = g.volumes.iter().find(|v| &v.uri == volume).unwrap();
    assert_eq!(boot_request.cinder_volume.as_ref(), Some(&boot));
    let host = env.sim.hosts().into_iter().next().unwrap();
    let boot_scsi = host
        .mappings
        .iter()
        .find(|(_, v)| **v == boot)
        .map(|(id, _)| u64::from(*id))
        .unwrap();
    assert!(paths.iter().all(|p| p.lun.to_target_lun() == boot_scsi));
    assert_eq!(
        env.cinder().get_volume(&data).await.unwrap().status,
        VolumeStatus::InUse
    );
}

/// A group named for the instance, left by an earlier try whose cleanup
/// failed, with a reservation in Cinder.
async fn leave_a_group_behind(env: &Env, vm: &dpm_driver::Instance, volume: &VolumeId) {
    let hmc = env.driver.hmc();
    let name = env.driver.partition_name(&vm.uuid);
    hmc.create_storage_group(&StorageGroupCreate {
        cpc_uri: env.sim.cpc_uri(),
        name,
        group_type: StorageGroupType::Fcp,
        description: None,
        shared: Some(false),
        connectivity: Some(2),
        max_partitions: Some(1),
        storage_volumes: vec![VolumeRequest::Create(VolumeCreate {
            name: Some(volume.to_string()),
            description: None,
            size: 10.0,
            usage: Some(VolumeUsage::Boot),
        })],
        email_to_addresses: None,
    })
    .await
    .unwrap();
    env.cinder()
        .create_attachment(volume, &vm.uuid, None)
        .await
        .unwrap();
}

/// With storage groups an earlier try's partition and group are taken
/// over: the partition stopped and resized, the group's requests
/// reconciled with this spawn's volumes (the stale ones removed, the
/// missing ones added), its reservations released and made anew.
#[tokio::test(start_paused = true)]
async fn spawn_adopts_an_earlier_try_with_storage_groups() {
    let env = env_from(world("z16"), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let hmc = env.driver.hmc();
    let old = earlier_try_partition(&env, &vm).await;
    leave_a_group_behind(&env, &vm, &boot).await;
    let old_group = env.sim.storage_groups()[0].uri.clone();
    hmc.attach_storage_group(&old, &old_group).await.unwrap();

    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    assert!(s.adopted);
    let snap = env.sim.snapshot();
    assert_eq!(snap.partitions.len(), 1);
    assert_eq!(snap.partitions[0].status, PartitionStatus::Active);
    assert_eq!(
        (snap.partitions[0].ifl, snap.partitions[0].memory_mib),
        (2, 4096)
    );
    assert_eq!(snap.storage_groups.len(), 1);
    assert_eq!(
        snap.storage_groups[0].uri, old_group,
        "the earlier try's group"
    );
    assert_eq!(
        snap.storage_groups[0].volumes.len(),
        1,
        "{:?}",
        snap.storage_groups
    );
    assert_eq!(
        snap.attachments.len(),
        1,
        "the stale reservation was replaced"
    );
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&env.sim.snapshot());
}

/// A group left behind without its partition is taken over by spawn (its
/// stale reservation released), and removed by destroy.
#[tokio::test(start_paused = true)]
async fn a_group_left_behind_is_replaced_or_destroyed() {
    let env = env_from(world("z16"), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    leave_a_group_behind(&env, &vm, &boot).await;
    let stale = env.sim.storage_groups()[0].uri.clone();
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    assert!(s.adopted, "the group existed");
    let groups = env.sim.storage_groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].uri, stale);
    assert_eq!(env.sim.snapshot().attachments.len(), 1);
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&env.sim.snapshot());

    // Destroy finds a group without a partition by its name, too.
    leave_a_group_behind(&env, &vm, &boot).await;
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert_nothing_left(&env.sim.snapshot());
}

/// A group of the instance's name that a partition uses is not taken away
/// from it: spawn fails, and leaves that group alone.
#[tokio::test(start_paused = true)]
async fn a_group_in_use_is_never_taken() {
    let env = env_from(world("z16"), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    leave_a_group_behind(&env, &vm, &boot).await;
    let hmc = env.driver.hmc();
    let other = make_partition(&env, "someone-else".into(), None, 1, 1024).await;
    let group = env.sim.storage_groups()[0].uri.clone();
    hmc.attach_storage_group(&other, &group).await.unwrap();
    let before = env.sim.snapshot();
    let err = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap_err();
    assert!(
        matches!(
            &err.step,
            SpawnStep::Prepare(dpm_driver::ConnectorError {
                step: dpm_driver::ConnectorStep::Group(dpm_driver::GroupStep::GroupInUse { .. }),
                ..
            })
        ),
        "{err}"
    );
    assert!(err.undo.is_empty(), "{:?}", err.undo);
    // The other partition and the group it uses are as they were; of this
    // instance nothing is left (its stale reservation was its own).
    let after = env.sim.snapshot();
    assert_eq!(after.partitions, before.partitions);
    assert_eq!(after.storage_groups, before.storage_groups);
    assert!(after.attachments.is_empty());
    assert_eq!(env.status(&boot).await, VolumeStatus::Available);
}
