//! Concurrent operations through one driver, on both models: many spawns at
//! once, attach racing detach of one volume, spawn racing destroy. The end
//! state is consistent and nothing leaks.

use cinder_client::VolumeStatus;
use dpm_sim::WorldSpec;
use rstest::rstest;

use crate::support::{boot_from, env_from, instance};

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn many_spawns_at_once_then_many_destroys(#[case] world: &str) {
    let env = env_from(WorldSpec::named(world).unwrap(), "").await;
    let n = 8;
    let mut boots = Vec::new();
    for i in 0..n {
        boots.push(env.volume(&format!("boot{i}"), true).await);
    }
    let vms: Vec<_> = (0..n as u128).map(instance).collect();
    let devices: Vec<_> = boots.iter().map(boot_from).collect();
    let spawns = vms
        .iter()
        .zip(&devices)
        .map(|(vm, d)| env.driver.spawn(vm, d));
    for r in futures_util::future::join_all(spawns).await {
        r.unwrap();
    }
    let s = env.sim.snapshot();
    assert_eq!(s.partitions.len(), n);
    assert!(s.partitions.iter().all(|p| p.status.as_str() == "active"));
    assert_eq!(s.hosts.len(), n, "one storage host per instance");
    for b in &boots {
        assert_eq!(env.status(b).await, VolumeStatus::InUse);
    }
    let destroys = vms.iter().map(|vm| env.driver.destroy(&vm.uuid));
    for r in futures_util::future::join_all(destroys).await {
        r.unwrap();
    }
    let s = env.sim.snapshot();
    assert!(s.partitions.is_empty() && s.storage_groups.is_empty() && s.hosts.is_empty());
    assert!(s.zones.is_empty() && s.attachments.is_empty());
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn attach_and_detach_of_one_volume_race(#[case] world: &str) {
    let env = env_from(WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    let data = env.volume("data", false).await;
    let vm = instance(1);
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let (a, d) = tokio::join!(
        env.driver.attach_volume(&vm.uuid, &data),
        env.driver.detach_volume(&vm.uuid, &data),
    );
    // One runs after the other: either the detach came first (and found
    // nothing) and the volume is attached, or it came second and the volume
    // is free again. Never half of each.
    a.unwrap();
    let status = env.status(&data).await;
    match d {
        Ok(()) => assert_eq!(status, VolumeStatus::Available),
        Err(e) => {
            assert!(e.to_string().contains("is not attached"), "{e}");
            assert_eq!(status, VolumeStatus::InUse);
        }
    }
    env.driver.destroy(&vm.uuid).await.unwrap();
    let s = env.sim.snapshot();
    assert!(s.partitions.is_empty() && s.storage_groups.is_empty() && s.hosts.is_empty());
    assert!(s.attachments.is_empty());
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn spawn_races_destroy(#[case] world: &str) {
    let env = env_from(WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let devices = boot_from(&boot);
    let (s, d) = tokio::join!(
        env.driver.spawn(&vm, &devices),
        env.driver.destroy(&vm.uuid)
    );
    d.unwrap();
    let snap = env.sim.snapshot();
    match s {
        // The spawn ran first, then the destroy removed it; or the destroy
        // found nothing and the spawn ran after it.
        Ok(_) if snap.partitions.is_empty() => {}
        Ok(_) => assert_eq!(env.status(&boot).await, VolumeStatus::InUse),
        Err(e) => panic!("{e}"),
    }
    env.driver.destroy(&vm.uuid).await.unwrap();
    let s = env.sim.snapshot();
    assert!(s.partitions.is_empty() && s.storage_groups.is_empty() && s.hosts.is_empty());
    assert!(s.attachments.is_empty());
    assert_eq!(env.status(&boot).await, VolumeStatus::Available);
}
