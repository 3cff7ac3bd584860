//! Against a Cinder without microversion 3.44 the driver uses the legacy
//! volume actions, in Nova's legacy order, with the same guarantees, on
//! both storage models.

use cinder_client::VolumeStatus;
use dpm_driver::SpawnStep;
use dpm_sim::{Op, Side, WorldSpec};
use hmc_client::{HmcApi, PartitionStatus};

use rstest::rstest;

use crate::support::{boot_from, env_from, instance};

fn old_cinder(world: &str) -> WorldSpec {
    let mut spec = WorldSpec::named(world).unwrap();
    spec.cinder.max_microversion = "3.0".into();
    spec
}

fn no_attachments_api(log: &[Op]) -> bool {
    !log.iter().any(|o| {
        matches!(
            o,
            Op::CreateAttachment
                | Op::UpdateAttachment
                | Op::CompleteAttachment
                | Op::DeleteAttachment
                | Op::ListAttachments
        )
    })
}

#[rstest]
#[case::z13("z13", 8)]
#[case::z16("z16", 9)]
#[tokio::test(start_paused = true)]
async fn spawn_attach_detach_destroy_with_legacy_actions(
    #[case] world: &str,
    #[case] spawn_budget: u64,
) {
    let env = env_from(old_cinder(world), "").await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);

    env.sim.reset_counters();
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let log = env.sim.op_log();
    assert!(no_attachments_api(&log), "{log:?}");
    let pos = |op| log.iter().position(|o| *o == op).unwrap();
    assert!(pos(Op::Reserve) < pos(Op::InitializeConnection));
    assert!(pos(Op::InitializeConnection) < pos(Op::StartPartition));
    assert!(pos(Op::StartPartition) < pos(Op::Attach));
    assert!(env.sim.counters().requests(Side::Hmc) <= spawn_budget);
    assert_eq!(
        env.driver
            .hmc()
            .get_partition(&s.partition)
            .await
            .unwrap()
            .status,
        PartitionStatus::Active
    );
    assert_eq!(env.status(&boot).await, VolumeStatus::InUse);
    assert!(env
        .sim
        .guest_paths(&s.partition)
        .iter()
        .any(|p| p.volume == boot));

    let before = env.sim.snapshot();
    assert!(
        matches!(
            env.driver.detach_volume(&vm.uuid, &boot).await,
            Err(dpm_compute::DetachError {
                step: dpm_compute::DetachStep::RootVolume { .. },
                ..
            })
        ),
        "the root disk stays"
    );
    assert_eq!(env.sim.snapshot(), before);
    let paths = env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    let expected = if world == "z13" {
        // Storwize's all-to-all map: 2 initiators x 4 target ports.
        8
    } else {
        // What the HMC discovered: 2 initiators x the 2 ports each reaches.
        4
    };
    assert_eq!(paths.len(), expected);
    assert_eq!(env.status(&data).await, VolumeStatus::InUse);
    assert!(env
        .sim
        .guest_paths(&s.partition)
        .iter()
        .any(|p| p.volume == data));
    assert!(
        env.driver.attach_volume(&vm.uuid, &data).await.is_err(),
        "twice is refused"
    );

    env.sim.reset_counters();
    env.driver.detach_volume(&vm.uuid, &data).await.unwrap();
    let log = env.sim.op_log();
    let pos = |op| log.iter().position(|o| *o == op).unwrap();
    assert!(pos(Op::BeginDetaching) < pos(Op::TerminateConnection));
    assert!(pos(Op::TerminateConnection) < pos(Op::Detach));
    assert_eq!(env.status(&data).await, VolumeStatus::Available);
    assert!(env
        .sim
        .guest_paths(&s.partition)
        .iter()
        .all(|p| p.volume != data));
    assert!(
        env.driver.detach_volume(&vm.uuid, &data).await.is_err(),
        "not attached"
    );

    env.driver.destroy(&vm.uuid).await.unwrap();
    let snap = env.sim.snapshot();
    assert!(
        snap.partitions.is_empty()
            && snap.storage_groups.is_empty()
            && snap.hosts.is_empty()
            && snap.zones.is_empty()
            && snap.attachments.is_empty()
    );
    assert!(snap
        .volumes
        .iter()
        .all(|v| v.status == VolumeStatus::Available));
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn legacy_rollback_leaves_nothing(#[case] world: &str) {
    let env = env_from(old_cinder(world), "").await;
    let boot = env.volume("boot", true).await;
    env.sim.set_zoning(false);
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    // vHBAs: the start job's boot check fails; storage groups: discovery
    // finds no LUN, before any boot.
    assert!(
        matches!(
            err.step.driver_step(),
            Some(
                SpawnStep::StartPartition { .. }
                    | SpawnStep::NoBootPathStarted { .. }
                    | SpawnStep::Group(dpm_driver::GroupStep::NotDiscovered { .. })
            )
        ),
        "{err}"
    );
    assert!(err.undo.is_empty(), "{:?}", err.undo);
    assert_eq!(env.sim.snapshot(), before);
    assert!(no_attachments_api(&env.sim.op_log()));

    // A second instance cannot reserve an in-use volume.
    env.sim.set_zoning(true);
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
    assert!(err.to_string().contains("everything it did was undone"));
    assert_eq!(env.sim.snapshot(), before);
}
