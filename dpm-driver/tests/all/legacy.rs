//! Against a Cinder without microversion 3.44 the driver uses the legacy
//! volume actions, in Nova's legacy order, with the same guarantees.

use cinder_client::VolumeStatus;
use dpm_driver::SpawnStep;
use dpm_sim::{Op, Side, WorldSpec};
use hmc_client::{HmcApi, PartitionStatus};

use crate::support::{boot_from, env_from, instance};

fn old_cinder() -> WorldSpec {
    let mut spec = WorldSpec::default();
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

#[tokio::test(start_paused = true)]
async fn spawn_attach_detach_destroy_with_legacy_actions() {
    let env = env_from(old_cinder(), "").await;
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
    assert!(env.sim.counters().requests(Side::Hmc) <= 8);
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

    let paths = env.driver.attach_volume(&vm.uuid, &data).await.unwrap();
    assert_eq!(paths.len(), 4);
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
            && snap.hosts.is_empty()
            && snap.zones.is_empty()
            && snap.attachments.is_empty()
    );
    assert!(snap
        .volumes
        .iter()
        .all(|v| v.status == VolumeStatus::Available));
}

#[tokio::test(start_paused = true)]
async fn legacy_rollback_leaves_nothing() {
    let env = env_from(old_cinder(), "").await;
    let boot = env.volume("boot", true).await;
    env.sim.set_zoning(false);
    let before = env.sim.snapshot();
    let err = env
        .driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap_err();
    assert!(
        matches!(err.step, SpawnStep::StartPartition { .. }),
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
