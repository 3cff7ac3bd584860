//! The start job's boot check, with each of its failure causes.

use cinder_client::CinderApi;
use fc_types::{FcpLun, Wwpn};
use hmc_client::{HmcApi, JobStatus, PartitionStatus, PartitionUpdate, PartitionUri};

use crate::support::{connector, world, World};

struct Booted {
    p: PartitionUri,
    hbas: Vec<hmc_client::Hba>,
    target: Wwpn,
    lun: FcpLun,
}

/// A partition with two vHBAs and a volume connected through the
/// attachments API; boot properties not yet set.
async fn prepared(w: &World, image: bool) -> Booted {
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let vol = w.volume(image).await;
    let vm = cinder_client::InstanceId::from_u128(7);
    let a = w.cinder.create_attachment(&vol, &vm, None).await.unwrap();
    let a = w
        .cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    let fc = a.connection_info.unwrap().fibre_channel().unwrap();
    let map = fc.initiator_target_map.clone().unwrap();
    let target = map[&hbas[0].wwpn][0];
    let lun = fc.lun_for(target).unwrap();
    Booted {
        p,
        hbas,
        target,
        lun,
    }
}

/// Starts `p`, lets the job finish, and returns (status, job message).
async fn start(w: &World, p: &PartitionUri) -> (PartitionStatus, Option<String>) {
    let job = w.hmc.start_partition(p).await.unwrap();
    w.sim.run_until_idle();
    let j = w.hmc.get_job(&job).await.unwrap();
    assert_eq!(j.status, JobStatus::Complete);
    let status = w.hmc.get_partition(p).await.unwrap().status;
    if j.succeeded() {
        (status, None)
    } else {
        assert_eq!(j.job_status_code, Some(500));
        (status, j.message().map(str::to_owned))
    }
}

#[tokio::test]
async fn boots_when_all_three_hold() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let u = PartitionUpdate::boot_from_san(b.hbas[0].element_uri.clone(), b.target, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    assert_eq!(start(&w, &b.p).await, (PartitionStatus::Active, None));
    // The guest sees the LUN on both vHBAs, through two targets each.
    let paths = w.sim.guest_paths(&b.p);
    assert_eq!(paths.len(), 4);
    for h in &b.hbas {
        assert_eq!(
            paths
                .iter()
                .filter(|x| x.device_number == h.device_number)
                .count(),
            2
        );
    }
    assert!(paths.iter().all(|x| x.lun == b.lun));
}

#[tokio::test]
async fn fails_when_the_boot_hba_is_not_the_partitions() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let q = w.partition("q").await;
    let theirs = w.hbas(&q).await;
    let u = PartitionUpdate::boot_from_san(theirs[0].element_uri.clone(), b.target, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("is not an HBA of partition p"));
    assert_eq!(w.sim.memory_held_mib(), 0);
    assert!(w.sim.guest_paths(&b.p).is_empty());
}

/// Storwize answers a partition that has not started (no fabric login)
/// with every target port, and the zone manager zones each pair on the
/// target's fabric; a target on the other fabric is zoned but unreachable.
#[tokio::test]
async fn fails_when_the_target_is_on_another_fabric() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let fabric = w.sim.port_fabric(&b.hbas[0].adapter_port_uri).unwrap();
    let (elsewhere, _) = w
        .sim
        .target_ports()
        .into_iter()
        .find(|(_, f)| *f != fabric)
        .unwrap();
    assert!(
        w.sim
            .zones()
            .iter()
            .any(|z| z.initiator == b.hbas[0].wwpn && z.target == elsewhere),
        "zoned on the target's fabric all the same"
    );
    let u = PartitionUpdate::boot_from_san(b.hbas[0].element_uri.clone(), elsewhere, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("is not reachable from HBA hba"));
}

#[tokio::test]
async fn fails_when_the_fabric_is_down() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let fabric = w.sim.port_fabric(&b.hbas[0].adapter_port_uri).unwrap();
    w.sim.set_fabric_down(fabric, true);
    let port = w
        .hmc
        .get_storage_port(&b.hbas[0].adapter_port_uri)
        .await
        .unwrap();
    assert_eq!(
        port.fabric_id, None,
        "a port without a fabric login has no fabric-id"
    );
    let u = PartitionUpdate::boot_from_san(b.hbas[0].element_uri.clone(), b.target, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("is not reachable"));
    w.sim.set_fabric_down(fabric, false);
    assert!(w
        .hmc
        .get_storage_port(&b.hbas[0].adapter_port_uri)
        .await
        .unwrap()
        .fabric_id
        .is_some());
    assert_eq!(start(&w, &b.p).await, (PartitionStatus::Active, None));
}

#[tokio::test]
async fn fails_when_nothing_is_mapped_at_the_lun() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let wrong = FcpLun::from_target_lun(b.lun.to_target_lun() + 1);
    let u = PartitionUpdate::boot_from_san(b.hbas[0].element_uri.clone(), b.target, wrong);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("no volume is mapped"));
}

#[tokio::test]
async fn fails_when_the_volume_is_not_bootable() {
    let w = world().await;
    let b = prepared(&w, false).await;
    let u = PartitionUpdate::boot_from_san(b.hbas[0].element_uri.clone(), b.target, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("is not bootable"));
}

#[tokio::test]
async fn fails_when_the_hba_is_gone() {
    let w = world().await;
    let b = prepared(&w, true).await;
    let u = PartitionUpdate::boot_from_san(b.hbas[1].element_uri.clone(), b.target, b.lun);
    w.hmc.update_partition(&b.p, &u).await.unwrap();
    w.hmc.delete_hba(&b.hbas[1].element_uri).await.unwrap();
    let (status, msg) = start(&w, &b.p).await;
    assert_eq!(status, PartitionStatus::Stopped);
    assert!(msg.unwrap().contains("is not an HBA of partition"));
}
