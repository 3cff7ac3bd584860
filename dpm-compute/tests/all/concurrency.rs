//! Concurrent operations through one driver, on both models: many spawns at
//! once, attach racing detach of one volume, spawn racing destroy. The end
//! state is consistent and nothing leaks.

use cinder_client::{VolumeId, VolumeStatus};
use std::time::Duration;

use dpm_driver::Instance;
use dpm_sim::{Side, WorldSpec};
use rstest::rstest;

use crate::support::{boot_from, driver_for, env_from, instance, Driver, Env};

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

/// A world with 13 ms per HMC request, a second driver on it (another
/// compute process), a boot volume and the instance to race over.
async fn two_drivers(spec: WorldSpec) -> (Env, Driver, VolumeId, Instance) {
    let env = env_from(spec, "").await;
    env.sim.set_latency(Side::Hmc, Duration::from_millis(13));
    let other = driver_for(&env.sim, "");
    other.init_host().await.unwrap();
    let boot = env.volume("boot", true).await;
    (env, other, boot, instance(1))
}

/// Two drivers (two compute processes, no lock between them) destroy one
/// running instance at once, the second starting a little later each
/// round so that every step of one meets every step of the other: whichever
/// stops and deletes the partition, the other finds it gone mid-way, and
/// that is success, not a step left behind.
#[rstest]
#[case::z13("z13", "3.70")]
#[case::z16("z16", "3.70")]
#[case::z13_legacy_cinder("z13", "3.0")]
#[case::z16_legacy_cinder("z16", "3.0")]
#[tokio::test(start_paused = true)]
async fn two_drivers_destroy_one_instance_at_once(#[case] world: &str, #[case] cinder: &str) {
    let mut spec = WorldSpec::named(world).unwrap();
    spec.cinder.max_microversion = cinder.into();
    let (env, other, boot, vm) = two_drivers(spec).await;
    for lag in (0..3000).step_by(4) {
        env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
        assert_eq!(env.sim.snapshot().partitions[0].status.as_str(), "active");
        let (a, b) = tokio::join!(env.driver.destroy(&vm.uuid), async {
            tokio::time::sleep(Duration::from_millis(lag)).await;
            other.destroy(&vm.uuid).await
        });
        a.unwrap_or_else(|e| panic!("lag {lag} ms: first: {e:?}"));
        b.unwrap_or_else(|e| panic!("lag {lag} ms: second: {e:?}"));
        let s = env.sim.snapshot();
        assert!(
            s.partitions.is_empty() && s.storage_groups.is_empty() && s.hosts.is_empty(),
            "lag {lag} ms"
        );
        assert!(
            s.zones.is_empty() && s.attachments.is_empty(),
            "lag {lag} ms"
        );
        assert_eq!(
            env.status(&boot).await,
            VolumeStatus::Available,
            "lag {lag} ms"
        );
    }
}

/// The HMC half of the same race, without the Cinder teardown's stop first:
/// two drivers delete one running instance's partition and group at once.
/// One stops and deletes; the other, refused as not stopped or finding the
/// partition gone mid-way, has nothing left to do.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn two_drivers_delete_one_partition_at_once(#[case] world: &str) {
    let (env, other, boot, vm) = two_drivers(WorldSpec::named(world).unwrap()).await;
    for lag in (0..3000).step_by(8) {
        env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
        assert_eq!(env.sim.snapshot().partitions[0].status.as_str(), "active");
        let (a, b) = tokio::join!(env.driver.driver().destroy(&vm.uuid), async {
            tokio::time::sleep(Duration::from_millis(lag)).await;
            other.driver().destroy(&vm.uuid).await
        });
        a.unwrap_or_else(|e| panic!("lag {lag} ms: first: {e:?}"));
        b.unwrap_or_else(|e| panic!("lag {lag} ms: second: {e:?}"));
        let s = env.sim.snapshot();
        assert!(
            s.partitions.is_empty() && s.storage_groups.is_empty(),
            "lag {lag} ms"
        );
        // Cinder still holds the volume for the instance; the instance's
        // destroy releases it.
        env.driver.destroy(&vm.uuid).await.unwrap();
        assert_eq!(
            env.status(&boot).await,
            VolumeStatus::Available,
            "lag {lag} ms"
        );
    }
}
