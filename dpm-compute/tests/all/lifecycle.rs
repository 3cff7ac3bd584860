//! Adoption, attach and detach refusals, destroy, power, info and
//! resources.

use cinder_client::{CinderApi, VolumeStatus};
use dpm_compute::{AttachStep, BlockDevice, DetachStep, SpawnStep, UndoError, VolumeStep};
use dpm_driver::{PowerOff, PowerState, RebootKind};
use dpm_sim::{Fault, Op};
use hmc_client::{HbaCreate, HmcApi, PartitionStatus, StoragePortUri};

use crate::support::{boot_from, earlier_try_partition, env, instance, make_partition};

#[tokio::test(start_paused = true)]
async fn spawn_adopts_the_partition_of_an_earlier_try() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    // An earlier try made the partition and one vHBA, reserved the volume,
    // and died.
    let hmc = env.driver.hmc();
    let p = earlier_try_partition(&env, &vm).await;
    let a0 = &env.sim.fcp_adapters()[0];
    hmc.create_hba(
        &p,
        &HbaCreate {
            name: format!("OpenStack_Port_{}_0", a0.uri.object_id()),
            adapter_port_uri: StoragePortUri::new(&a0.uri, "0").unwrap(),
            description: None,
            device_number: None,
        },
    )
    .await
    .unwrap();
    env.cinder()
        .create_attachment(&boot, &vm.uuid, None)
        .await
        .unwrap();

    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    assert!(s.adopted);
    assert_eq!(s.partition, p);
    let got = hmc.get_partition(&p).await.unwrap();
    assert_eq!(got.status, PartitionStatus::Active);
    assert_eq!((got.ifl_processors, got.initial_memory), (2, 4096));
    assert_eq!(got.hba_uris.len(), 2, "the existing vHBA was reused");
    let snap = env.sim.snapshot();
    assert_eq!(
        snap.attachments.len(),
        1,
        "the stale reservation was replaced"
    );
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
}

#[tokio::test(start_paused = true)]
async fn spawn_refuses_image_boot_and_oversized_flavors() {
    let env = env().await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    let err = env
        .driver
        .spawn(
            &vm,
            &[BlockDevice {
                volume_id: data.clone(),
                boot_index: None,
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err.step, SpawnStep::BootFromImageNotSupported));
    let mut big = instance(2);
    big.vcpus = 9;
    let err = env.driver.spawn(&big, &boot_from(&data)).await.unwrap_err();
    assert!(matches!(
        err.step,
        SpawnStep::FlavorTooLarge(dpm_driver::FlavorTooLarge { vcpus: 9, .. })
    ));
    assert!(env.sim.snapshot().partitions.is_empty());
    assert_eq!(env.status(&data).await, VolumeStatus::Available);
}

#[tokio::test(start_paused = true)]
async fn a_non_bootable_volume_fails_at_start_and_rolls_back() {
    let env = env().await;
    let blank = env.volume("blank", false).await;
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&blank))
        .await
        .unwrap_err();
    // Every boot path fails the same way, up to the bound.
    assert!(
        matches!(err.step.driver_step(), Some(dpm_driver::SpawnStep::NoBootPathStarted { then, .. }) if then.len() + 1 == 4)
    );
    assert!(err.to_string().contains("everything it did was undone"));
    assert_eq!(env.sim.snapshot(), before);
}

#[tokio::test(start_paused = true)]
async fn spawn_with_data_volumes_and_a_failing_undo() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    let devices = vec![
        BlockDevice {
            volume_id: data.clone(),
            boot_index: None,
        },
        BlockDevice {
            volume_id: boot.clone(),
            boot_index: Some(0),
        },
    ];
    // Completing fails after the partition started; undo then has to stop
    // it, and one attachment delete fails on the way.
    env.sim
        .fail_next(Op::CompleteAttachment, 1, Fault::new(503, 0, "busy"));
    env.sim
        .fail_next(Op::DeleteAttachment, 1, Fault::new(503, 0, "busy"));
    let err = env.driver.spawn(&vm, &devices).await.unwrap_err();
    assert!(matches!(
        err.step,
        SpawnStep::Volume(VolumeStep::CompleteAttachment { .. })
    ));
    // The undo that failed is reported, and so is the partition it kept:
    // the LUN may still be masked to its WWPNs, which must not go to
    // another partition.
    assert_eq!(err.undo.len(), 2, "{:?}", err.undo);
    assert!(matches!(
        &err.undo[0],
        UndoError::Cinder(dpm_compute::ReleaseError::DeleteAttachment { .. })
    ));
    assert!(matches!(&err.undo[1], UndoError::PartitionKept { .. }));
    let snap = env.sim.snapshot();
    assert_eq!(snap.partitions.len(), 1);
    assert_eq!(snap.partitions[0].status, PartitionStatus::Stopped);
    assert_eq!(snap.hbas.len(), 2, "the WWPNs stay with the partition");
    assert_eq!(
        snap.attachments.len(),
        1,
        "what is left is what was reported"
    );
    // Destroy finishes the job: it finds the partition on the HMC and the
    // attachment in Cinder.
    env.driver.destroy(&vm.uuid).await.unwrap();
    let snap = env.sim.snapshot();
    assert!(snap.partitions.is_empty() && snap.hbas.is_empty());
    assert!(snap.attachments.is_empty() && snap.hosts.is_empty() && snap.zones.is_empty());

    // And a good spawn with both: boot volume first in the paths.
    let s = env.driver.spawn(&vm, &devices).await.unwrap();
    assert_eq!(s.volumes[0].0, boot);
    assert_eq!(s.volumes.len(), 2);
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    assert_eq!(env.sim.guest_paths(&s.partition).len(), 8);
}

#[tokio::test(start_paused = true)]
async fn attach_and_detach_refusals() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    // Unknown instance.
    assert!(matches!(
        env.driver.attach_volume(&vm.uuid, &data).await,
        Err(dpm_compute::AttachError {
            step: AttachStep::Lookup(dpm_driver::LookupError::InstanceNotFound { .. }),
            ..
        })
    ));
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    // Not attached.
    assert!(matches!(
        env.driver.detach_volume(&vm.uuid, &data).await,
        Err(dpm_compute::DetachError {
            step: DetachStep::NotAttached { .. },
            ..
        })
    ));
    env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    let before = env.sim.snapshot();
    match env.driver.attach_volume(&vm.uuid, &data).await {
        Err(e) => {
            assert!(matches!(e.step, AttachStep::AlreadyAttached { .. }))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sim.snapshot(), before);
    // A refused connector rolls the attach back.
    let other = env.volume("other", false).await;
    let before = env.sim.snapshot();
    env.sim
        .fail_next(Op::UpdateAttachment, 1, Fault::new(500, 0, "backend"));
    match env.driver.attach_volume(&vm.uuid, &other).await {
        Err(e) => {
            assert!(matches!(
                e.step,
                AttachStep::Volume(VolumeStep::UpdateAttachment { .. })
            ));
            assert!(e.undo.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sim.snapshot(), before);
    assert_eq!(env.status(&other).await, VolumeStatus::Available);
}

#[tokio::test(start_paused = true)]
async fn destroy_is_idempotent_and_power_and_info_follow_the_hmc() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    // Destroying what does not exist is a no-op.
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert!(matches!(
        env.driver.get_info(&vm.uuid).await,
        Err(dpm_driver::LookupError::InstanceNotFound { .. })
    ));

    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let info = env.driver.get_info(&vm.uuid).await.unwrap();
    assert_eq!(
        (info.state, info.vcpus, info.memory_mb),
        (PowerState::Running, 2, 4096)
    );
    assert_eq!(
        env.driver.list_instances().await.unwrap(),
        vec![vm.uuid.clone()]
    );

    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    assert_eq!(
        env.driver.get_info(&vm.uuid).await.unwrap().state,
        PowerState::Shutdown
    );
    assert_eq!(env.sim.memory_held_mib(), 0);
    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap(); // already off: fine
    env.driver.power_on(&vm.uuid).await.unwrap();
    assert_eq!(
        env.driver.get_info(&vm.uuid).await.unwrap().status,
        PartitionStatus::Active
    );
    env.driver.power_on(&vm.uuid).await.unwrap(); // already on: fine
    env.driver.reboot(&vm.uuid, RebootKind::Hard).await.unwrap();
    assert_eq!(
        env.driver.get_info(&vm.uuid).await.unwrap().state,
        PowerState::Running
    );
    // The boot LUN is still there after the reboot.
    let p = env.driver.get_info(&vm.uuid).await.unwrap().partition;
    assert!(env.sim.guest_paths(&p).iter().any(|x| x.volume == boot));

    // power_on waits out a stop in progress.
    let hmc = env.driver.hmc();
    hmc.stop_partition(&p).await.unwrap();
    assert_eq!(
        env.driver.get_info(&vm.uuid).await.unwrap().state,
        PowerState::Paused
    );
    env.driver.power_on(&vm.uuid).await.unwrap();
    assert_eq!(
        env.driver.get_info(&vm.uuid).await.unwrap().state,
        PowerState::Running
    );

    // Destroying a running instance stops it first.
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert!(env.sim.snapshot().partitions.is_empty());
    assert_eq!(env.status(&boot).await, VolumeStatus::Available);
    env.driver.destroy(&vm.uuid).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn resources_sum_our_partitions() {
    let env = env().await;
    let a = env.volume("a", true).await;
    let b = env.volume("b", true).await;
    let mut small = instance(2);
    small.vcpus = 1;
    small.memory_mb = 2048;
    env.driver
        .spawn(&instance(1), &boot_from(&a))
        .await
        .unwrap();
    env.driver.spawn(&small, &boot_from(&b)).await.unwrap();
    // A partition that is not ours does not count.
    let hmc = env.sim.hmc();
    hmc.logon().await.unwrap();
    make_partition(
        &env,
        "OpenStack-compute-2-00000000-0000-0000-0000-000000000001".into(),
        None,
        4,
        1024,
    )
    .await;
    let r = env.driver.get_available_resource().await.unwrap();
    assert_eq!((r.vcpus, r.memory_mb), (8, 32768));
    assert_eq!(
        (r.vcpus_used, r.memory_mb_used),
        (3, 6144),
        "the sum, not the maximum"
    );
    assert_eq!(r.hypervisor_type, "PRSM");
    assert_eq!(r.hypervisor_version, 2_013_001);
    assert_eq!(r.cpu_arch, "s390x");
    assert_eq!(env.driver.list_instances().await.unwrap().len(), 2);
    let c = env
        .driver
        .driver()
        .get_volume_connector(&instance(1))
        .await
        .unwrap();
    assert_eq!(c.wwpns.len(), 2);
    assert_eq!(c.platform.as_deref(), Some("s390x"));
    let _ = env.cinder().list_volumes().await.unwrap();
}

/// The position of the first `op` in the log.
fn first(log: &[Op], op: Op) -> usize {
    log.iter()
        .position(|o| *o == op)
        .unwrap_or_else(|| panic!("{op} not in {log:?}"))
}

/// The position of the last `op` in the log.
fn last(log: &[Op], op: Op) -> usize {
    log.iter()
        .rposition(|o| *o == op)
        .unwrap_or_else(|| panic!("{op} not in {log:?}"))
}

#[tokio::test(start_paused = true)]
async fn call_order_across_hmc_and_cinder() {
    let env = env().await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);

    // Spawn: partition, vHBAs, then Cinder; boot properties only once
    // Cinder answered; attachments completed only after the start job.
    env.sim.reset_counters();
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let log = env.sim.op_log();
    assert!(first(&log, Op::CreatePartition) < first(&log, Op::CreateHba));
    // The vHBAs are read in one bulk request, before Cinder is asked.
    assert!(first(&log, Op::SubmitRequests) < first(&log, Op::CreateAttachment));
    assert!(!log.contains(&Op::GetHba));
    assert!(last(&log, Op::UpdateAttachment) < first(&log, Op::UpdatePartition));
    assert!(first(&log, Op::UpdatePartition) < first(&log, Op::StartPartition));
    assert!(last(&log, Op::GetJob) < first(&log, Op::CompleteAttachment));

    // Destroy: the guest stops before its LUNs are unmasked, and the
    // partition goes last.
    env.sim.reset_counters();
    env.driver.destroy(&vm.uuid).await.unwrap();
    let log = env.sim.op_log();
    assert!(last(&log, Op::GetJob) < first(&log, Op::DeleteAttachment));
    assert!(first(&log, Op::StopPartition) < first(&log, Op::DeleteAttachment));
    assert!(last(&log, Op::DeleteAttachment) < first(&log, Op::DeletePartition));

    // Rollback after a failed start: same order.
    env.sim.set_zoning(false);
    env.sim.reset_counters();
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap_err();
    let log = env.sim.op_log();
    assert!(last(&log, Op::GetJob) < first(&log, Op::DeleteAttachment));
    assert!(last(&log, Op::DeleteAttachment) < first(&log, Op::DeletePartition));
    assert!(!log.contains(&Op::CompleteAttachment));
}

#[tokio::test(start_paused = true)]
async fn init_host_refuses_unusable_cpcs() {
    let mut spec = dpm_sim::WorldSpec::default();
    spec.cpc.dpm = false;
    let sim = dpm_sim::Sim::new(spec).unwrap();
    let d = crate::support::driver_for(&sim, "");
    assert!(matches!(
        d.init_host().await,
        Err(dpm_driver::InitError::CpcNotDpm { .. })
    ));

    // A CPC with dpm-storage-management is no longer refused: it is the
    // storage-group model.
    let sim = dpm_sim::Sim::new(dpm_sim::WorldSpec::z16()).unwrap();
    let d = crate::support::driver_for(&sim, "");
    d.init_host().await.unwrap();
    assert_eq!(
        d.storage_model(),
        Some(dpm_driver::StorageModel::StorageGroups)
    );

    let mut spec = dpm_sim::WorldSpec::default();
    spec.cpc.status = "no-power".into();
    let sim = dpm_sim::Sim::new(spec).unwrap();
    let d = crate::support::driver_for(&sim, "");
    assert!(matches!(
        d.init_host().await,
        Err(dpm_driver::InitError::CpcUnusable { status, .. }) if status == "no-power"
    ));
}

/// `get_available_resource` costs one HMC request whatever the number of
/// partitions on an HMC at API 4.1 or later (the list with
/// `additional-properties`); on the z13 world's HMC (API 3.1, from the
/// logon) the plain list and one bulk read.
#[tokio::test(start_paused = true)]
async fn resources_cost_one_request_from_api_4_1() {
    use dpm_sim::{Side, WorldSpec};
    for (spec, lists, bulk) in [(WorldSpec::z16(), 1, 0), (WorldSpec::z13(), 1, 1)] {
        let env = crate::support::env_from(spec, "").await;
        let hmc = env.sim.hmc();
        hmc.logon().await.unwrap();
        let cpc = env.sim.cpc_uri();
        for n in 1..=3u32 {
            let vm = instance(u128::from(n));
            let p = hmc_client::PartitionCreate {
                name: env.driver.partition_name(&vm.uuid),
                description: Some(env.driver.driver().partition_description(&vm.uuid)),
                partition_type: None,
                ifl_processors: Some(n),
                cp_processors: None,
                initial_memory: 1024 * u64::from(n),
                maximum_memory: 1024 * u64::from(n),
                processor_mode: None,
            };
            hmc.create_partition(&cpc, &p).await.unwrap();
        }
        env.sim.reset_counters();
        let r = env.driver.get_available_resource().await.unwrap();
        assert_eq!((r.vcpus_used, r.memory_mb_used), (6, 6144));
        let c = env.sim.counters();
        assert_eq!(c.get(Op::ListPartitions), lists);
        assert_eq!(c.get(Op::SubmitRequests), bulk);
        assert_eq!(c.requests(Side::Hmc), lists + bulk);
    }
}

/// The statuses a CPC sets on its own: a `reservation-error` partition (its
/// resources could not be reserved at activation) is shut down, starts as
/// it is, and is destroyed without a stop; a `terminated` or `paused` one
/// is stopped before a start or a destroy; `degraded` runs.
#[rstest::rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn statuses_the_cpc_sets(#[case] world: &str) {
    let env = crate::support::env_from(dpm_sim::WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let p = &s.partition;
    let status = || async { env.driver.get_info(&vm.uuid).await.unwrap() };

    env.sim
        .set_partition_status(p, PartitionStatus::Degraded)
        .unwrap();
    assert_eq!(status().await.state, PowerState::Running);
    env.sim
        .set_partition_status(p, PartitionStatus::Active)
        .unwrap();

    env.sim
        .set_partition_status(p, PartitionStatus::Terminated)
        .unwrap();
    assert_eq!(status().await.state, PowerState::Shutdown);
    env.driver.power_on(&vm.uuid).await.unwrap();
    assert_eq!(status().await.status, PartitionStatus::Active);

    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    env.sim
        .set_partition_status(p, PartitionStatus::ReservationError)
        .unwrap();
    assert_eq!(status().await.state, PowerState::Shutdown);
    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    env.driver.power_on(&vm.uuid).await.unwrap();
    assert_eq!(status().await.status, PartitionStatus::Active);

    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    env.sim
        .set_partition_status(p, PartitionStatus::ReservationError)
        .unwrap();
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert!(crate::faults::nothing_left(&env.sim.snapshot()));

    // Paused: a destroy stops it first.
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    env.sim
        .set_partition_status(&s.partition, PartitionStatus::Paused)
        .unwrap();
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert!(crate::faults::nothing_left(&env.sim.snapshot()));
}

/// The guest's console log: none before the partition starts, its boot
/// messages after (with the boot device and the kernel's parameters), and
/// from a sequence number on for a reader that follows it.
#[rstest::rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn console_output_is_the_guests_messages(#[case] world: &str) {
    let env = crate::support::env_from(dpm_sim::WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let d = env.driver.driver();
    d.prepare_for_spawn(&vm, &[]).await.unwrap();
    assert_eq!(d.get_console_output(&vm.uuid).await.unwrap(), "");
    d.destroy(&vm.uuid).await.unwrap();
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let log = env.driver.get_console_output(&vm.uuid).await.unwrap();
    assert!(log.lines().count() >= 2, "{log}");
    assert!(log.contains("rd.zfcp="), "the loader's parameters: {log}");
    let all = env.driver.console_messages(&vm.uuid, None).await.unwrap();
    let last = all.last().unwrap().sequence_number;
    let newer = env
        .driver
        .console_messages(&vm.uuid, Some(last))
        .await
        .unwrap();
    assert_eq!(newer.len(), 1);
    assert!(matches!(
        env.driver.get_console_output(&instance(9).uuid).await,
        Err(dpm_driver::LookupError::InstanceNotFound { .. })
    ));
}
