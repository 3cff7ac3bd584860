//! Names stored with the partition, the instance list with names, `describe`,
//! and the boot volume's paths handed to the SCSI IPL loader.

use std::time::Duration;

use cinder_client::InstanceId;
use dpm_driver::{parse_description, Boot, InstanceName, PowerOff, StorageInfo};
use dpm_sim::{Op, Side, WorldSpec};
use dpm_volume::{rd_zfcp, FcPath, BOOT_OS_SPECIFIC_PARAMETERS_MAX};
use rstest::rstest;

use crate::support::{boot_from, env_from, instance, make_partition};

fn world(name: &str) -> WorldSpec {
    WorldSpec::named(name).unwrap()
}

fn name(s: &str) -> InstanceName {
    s.parse().unwrap()
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn the_name_is_stored_with_the_partition_and_listed(#[case] w: &str) {
    let env = env_from(world(w), "").await;
    let boot = env.volume("boot", true).await;
    let (a, b) = (instance(1), instance(2));
    env.driver
        .spawn_named(&a, Some(&name("web 1")), &boot_from(&boot))
        .await
        .unwrap();
    let boot2 = env.volume("boot2", true).await;
    env.driver.spawn(&b, &boot_from(&boot2)).await.unwrap();

    let snap = env.sim.snapshot();
    let pa = snap
        .partitions
        .iter()
        .find(|p| p.name.ends_with(&a.uuid.to_string()))
        .unwrap();
    assert_eq!(
        pa.description,
        format!(
            "OpenStack CPCSubset=compute-1 instance={} name=web 1",
            a.uuid
        )
    );
    let pb = snap
        .partitions
        .iter()
        .find(|p| p.name.ends_with(&b.uuid.to_string()))
        .unwrap();
    assert_eq!(
        pb.description,
        format!("OpenStack CPCSubset=compute-1 instance={}", b.uuid)
    );
    assert_eq!(
        parse_description(&pb.description),
        Some((b.uuid.clone(), None))
    );

    // One HMC request on an HMC at API 4.1 or later (the z16 world's
    // 4.10); the z13 world's HMC is at 3.1: the list and one bulk read.
    env.sim.reset_counters();
    let mut listed = env.driver.list_instances_named().await.unwrap();
    let expected = if w == "z16" { 1 } else { 2 };
    assert_eq!(env.sim.counters().requests(Side::Hmc), expected);
    listed.sort_by(|x, y| x.instance.cmp(&y.instance));
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].instance, a.uuid);
    assert_eq!(listed[0].name, Some(name("web 1")));
    assert_eq!(listed[1].instance, b.uuid);
    assert_eq!(listed[1].name, None);
    assert_eq!(
        (listed[0].vcpus, listed[0].memory_mb),
        (a.vcpus, a.memory_mb)
    );

    let d = env.driver.describe(&a.uuid).await.unwrap();
    assert_eq!(d.name, Some(name("web 1")));
    assert_eq!(d.partition_name, format!("OpenStack-compute-1-{}", a.uuid));
    assert_eq!(d.volumes.len(), 1);
    assert_eq!(d.volumes[0].volume, boot);
    assert!(d.volumes[0].boot);
    assert!(!d.volumes[0].paths.is_empty());
    match (&d.boot, &d.storage) {
        (Some(Boot::San(p)), StorageInfo::Vhbas(v)) => {
            assert_eq!(w, "z13");
            assert!(v.iter().any(|h| h.uri == p.hba));
            assert!(d.volumes[0]
                .paths
                .iter()
                .any(|x| x.target == p.target && x.lun == p.lun));
        }
        (Some(Boot::Volume { paths, .. }), StorageInfo::Group { .. }) => {
            assert_eq!(w, "z16");
            assert_eq!(paths, &d.volumes[0].paths);
        }
        other => panic!("{w}: {other:?}"),
    }
}

/// An HMC before API 4.1 has no `additional-properties`: the list, then
/// one bulk read; still no request per partition.
#[tokio::test(start_paused = true)]
async fn an_older_hmc_gets_the_list_and_one_bulk_read() {
    let mut spec = world("z16");
    spec.hmc.api_version = "3.1".into();
    let env = env_from(spec, "").await;
    let boot = env.volume("boot", true).await;
    env.driver
        .spawn_named(&instance(1), Some(&name("db")), &boot_from(&boot))
        .await
        .unwrap();
    let boot2 = env.volume("boot2", true).await;
    env.driver
        .spawn_named(&instance(2), Some(&name("web")), &boot_from(&boot2))
        .await
        .unwrap();
    env.sim.reset_counters();
    let listed = env.driver.list_instances_named().await.unwrap();
    assert_eq!(env.sim.counters().requests(Side::Hmc), 2);
    let mut names: Vec<String> = listed
        .iter()
        .filter_map(|s| s.name.as_ref().map(ToString::to_string))
        .collect();
    names.sort();
    assert_eq!(names, ["db", "web"]);
}

/// The boot volume's paths go to the SCSI IPL loader in the update that
/// sets the boot properties: the path booted over first, within 256
/// characters.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn the_boot_volume_paths_go_to_the_ipl_loader(#[case] w: &str) {
    let env = env_from(world(w), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    let params = env.sim.snapshot().partitions[0]
        .boot_os_specific_parameters
        .clone();
    assert!(params.len() <= BOOT_OS_SPECIFIC_PARAMETERS_MAX, "{params}");
    let entries: Vec<&str> = params.split(' ').collect();
    assert!(!entries.is_empty() && entries.iter().all(|e| e.starts_with("rd.zfcp=0.0.")));
    let boot_paths: Vec<FcPath> = s.volumes[0].1.clone();
    // 54 characters an entry and a space between.
    let fitting = (BOOT_OS_SPECIFIC_PARAMETERS_MAX + 1) / 55;
    assert_eq!(entries.len(), boot_paths.len().min(fitting), "{params}");
    for e in &entries {
        assert!(
            boot_paths.iter().any(|p| rd_zfcp(p) == *e),
            "{e} is not a boot path"
        );
    }
    if let Boot::San(b) = &s.boot {
        let first = s.vhbas.iter().find(|v| v.uri == b.hba).unwrap();
        let expected = rd_zfcp(&FcPath {
            device_number: first.device_number,
            target: b.target,
            lun: b.lun,
        });
        assert_eq!(entries[0], expected);
        // Both vHBAs have a path, though one device's paths alone would
        // fill the 256 characters (the map is all-to-all).
        for h in &s.vhbas {
            let id = format!("rd.zfcp=0.0.{},", h.device_number);
            assert!(entries.iter().any(|e| e.starts_with(&id)), "{params}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_ipl_loader_parameters_can_be_turned_off() {
    let env = env_from(world("z13"), "boot_os_specific_parameters = false").await;
    let boot = env.volume("boot", true).await;
    env.driver
        .spawn(&instance(1), &boot_from(&boot))
        .await
        .unwrap();
    assert_eq!(
        env.sim.snapshot().partitions[0].boot_os_specific_parameters,
        ""
    );
}

/// A UUID that is no instance of this host is not found, and a
/// description written by someone else does not give a name.
#[tokio::test(start_paused = true)]
async fn describe_of_an_unknown_instance_is_not_found() {
    let env = env_from(world("z13"), "").await;
    let err = env
        .driver
        .describe(&InstanceId::from_u128(0xdead))
        .await
        .unwrap_err();
    assert!(
        matches!(err, dpm_driver::LookupError::InstanceNotFound { .. }),
        "{err}"
    );
    assert!(env.driver.list_instances_named().await.unwrap().is_empty());
}

/// A partition with an instance's name whose description names another
/// instance is foreign: destroy, power, info and spawn of the instance
/// refuse it, and it keeps running, untouched, with nothing made beside it.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_partition_with_the_name_and_another_description_is_left_alone(#[case] w: &str) {
    use hmc_client::{HmcApi, PartitionStatus};
    let env = env_from(world(w), "").await;
    let boot = env.volume("boot", true).await;
    let (vm, other) = (instance(1), instance(2));
    let hmc = env.driver.hmc();
    let theirs = format!("OpenStack CPCSubset=compute-1 instance={}", other.uuid);
    let p = make_partition(
        &env,
        env.driver.partition_name(&vm.uuid),
        Some(theirs.clone()),
        1,
        2048,
    )
    .await;
    let job = hmc.start_partition(&p).await.unwrap();
    hmc_client::wait_for_job(hmc, &job, &hmc_client::PollPolicy::default())
        .await
        .unwrap();
    let before = env.sim.snapshot();

    let foreign = |e: &dyn std::error::Error| {
        let mut chain = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(c) = cur {
            chain.push(c.to_string());
            cur = c.source();
        }
        assert!(
            chain
                .iter()
                .any(|m| m.contains("a foreign partition, left alone")),
            "{chain:?}"
        );
    };
    // Destroy lists what it could not do: the foreign partition, refused.
    let d = env.driver.destroy(&vm.uuid).await.unwrap_err();
    assert_eq!(d.failures.len(), 1, "{d:?}");
    foreign(&d.failures[0]);
    // A stop that would ask the guest to shut down asks nothing of it.
    let ask = PowerOff::clean(Duration::from_secs(60), Duration::ZERO);
    foreign(&env.driver.power_off(&vm.uuid, ask).await.unwrap_err());
    assert_eq!(env.sim.counters().get(Op::SendOsCommand), 0);
    foreign(&env.driver.power_on(&vm.uuid).await.unwrap_err());
    foreign(&env.driver.driver().get_info(&vm.uuid).await.unwrap_err());
    foreign(&env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap_err());

    let after = env.sim.snapshot();
    assert_eq!(after.partitions.len(), 1);
    let q = &after.partitions[0];
    assert_eq!(q.status, PartitionStatus::Active);
    assert_eq!(q.description, theirs);
    assert_eq!(
        q, &before.partitions[0],
        "the foreign partition is untouched"
    );
    assert!(after.storage_groups.is_empty(), "no group made beside it");
    assert!(after.hbas.is_empty(), "no vHBA made on it");
    assert_eq!(
        env.status(&boot).await,
        cinder_client::VolumeStatus::Available,
        "the boot volume is not reserved"
    );
}

/// A destroy through the compute layer looks the partition up once and
/// hands what it found to the driver: list (and, before API 4.1, the read
/// that checks the description), stop, delete, and on a z16 the group's
/// list and delete. The world holds nothing of the instance after it.
#[rstest]
#[case::z13("z13", 4)]
#[case::z16("z16", 5)]
#[tokio::test(start_paused = true)]
async fn a_destroy_looks_the_partition_up_once(#[case] w: &str, #[case] requests: u64) {
    let env = env_from(world(w), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(7);
    env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    env.sim.reset_counters();
    env.driver.destroy(&vm.uuid).await.unwrap();
    let c = env.sim.counters();
    assert_eq!(c.requests(Side::Hmc), requests, "{:?}", env.sim.op_log());
    assert_eq!(c.get(Op::ListPartitions), 1);
    let snap = env.sim.snapshot();
    assert!(snap.partitions.is_empty());
    assert!(env.sim.storage_groups().is_empty());
}
