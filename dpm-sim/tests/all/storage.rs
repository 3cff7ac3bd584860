//! LUN masking, LUN allocation and reuse, zoning across two fabrics, and
//! image deployment.

use cinder_client::{CinderApi, InstanceId, VolumeCreate, VolumeStatus};
use dpm_sim::StorageEvent;
use fc_types::Wwpn;
use hmc_client::HmcApi;

use crate::support::{connector, world};

/// Storwize answers all-to-all over the node ports the host is logged in
/// to, or over every node port when it is logged in nowhere (a partition
/// that has not started); the zone manager zones every pair of the map on
/// the target's fabric.
#[tokio::test]
async fn the_map_is_all_to_all_over_every_port_until_the_partition_logs_in() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let vol = w.volume(false).await;
    let a = w
        .cinder
        .create_attachment(&vol, &InstanceId::from_u128(1), None)
        .await
        .unwrap();
    let a = w
        .cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    let fc = a.connection_info.unwrap().fibre_channel().unwrap();

    let targets = w.sim.target_ports();
    let every: Vec<Wwpn> = targets.iter().map(|(t, _)| *t).collect();
    assert_eq!(every.len(), 4);
    let map = fc.initiator_target_map.as_ref().unwrap();
    for h in &hbas {
        assert_eq!(map[&h.wwpn], every, "every port, in the system's order");
    }
    assert_eq!(fc.targets.iter().map(|t| t.wwpn).collect::<Vec<_>>(), every);
    // 2 initiators x 4 targets, each zone on its target's fabric.
    let zones = w.sim.zones();
    assert_eq!(zones.len(), 8);
    for z in &zones {
        let fabric = targets.iter().find(|(t, _)| *t == z.target).unwrap().1;
        assert_eq!(z.fabric, fabric);
    }
    // The two vHBAs are on different fabrics.
    assert_ne!(
        w.sim.port_fabric(&hbas[0].adapter_port_uri),
        w.sim.port_fabric(&hbas[1].adapter_port_uri)
    );
    // The host is named as Storwize names it.
    let name = &w.sim.hosts()[0].name;
    let (stem, digits) = name.rsplit_once('-').unwrap();
    assert!(!stem.is_empty() && stem.starts_with(|c: char| c.is_ascii_alphabetic()));
    assert_eq!(digits.len(), 8);
    assert!(digits.chars().all(|c| c.is_ascii_digit()));

    // Once the partition runs, its vHBAs are logged in: the map for hba0
    // alone lists only the ports it reaches.
    let job = w.hmc.start_partition(&p).await.unwrap();
    w.sim.run_until_idle();
    assert!(w.hmc.get_job(&job).await.unwrap().succeeded());
    let fabric0 = w.sim.port_fabric(&hbas[0].adapter_port_uri).unwrap();
    let reachable: Vec<Wwpn> = targets
        .iter()
        .filter(|(_, f)| *f == fabric0)
        .map(|(t, _)| *t)
        .collect();
    let v2 = w.volume(false).await;
    let a2 = w
        .cinder
        .create_attachment(&v2, &InstanceId::from_u128(1), Some(&connector(&hbas[..1])))
        .await
        .unwrap();
    let fc2 = a2.connection_info.unwrap().fibre_channel().unwrap();
    assert_eq!(fc2.initiator_target_map.unwrap()[&hbas[0].wwpn], reachable);
    // Both logged in, on two fabrics: every port again, all-to-all.
    let v3 = w.volume(false).await;
    let a3 = w
        .cinder
        .create_attachment(&v3, &InstanceId::from_u128(1), Some(&connector(&hbas)))
        .await
        .unwrap();
    let fc3 = a3.connection_info.unwrap().fibre_channel().unwrap();
    assert_eq!(fc3.initiator_target_map.unwrap()[&hbas[1].wwpn], every);
}

#[tokio::test]
async fn lun_allocation_takes_the_lowest_free_id_and_reuses() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let conn = connector(&hbas);
    let vm = InstanceId::from_u128(1);
    let mut atts = Vec::new();
    let mut luns = Vec::new();
    for _ in 0..3 {
        let v = w.volume(false).await;
        let a = w
            .cinder
            .create_attachment(&v, &vm, Some(&conn))
            .await
            .unwrap();
        let fc = a.connection_info.clone().unwrap().fibre_channel().unwrap();
        luns.push(fc.targets[0].lun.to_target_lun());
        atts.push((v, a.id));
    }
    assert_eq!(luns, vec![0, 1, 2]);
    let hosts = w.sim.hosts();
    assert_eq!(hosts.len(), 1, "one host object keyed by the WWPNs");
    assert_eq!(hosts[0].wwpns, hbas.iter().map(|h| h.wwpn).collect());

    // Unmap the middle one: its id is free again and is taken next.
    w.cinder.delete_attachment(&atts[1].1).await.unwrap();
    assert_eq!(
        w.sim.hosts()[0]
            .mappings
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![0, 2]
    );
    let v = w.volume(false).await;
    let a = w
        .cinder
        .create_attachment(&v, &vm, Some(&conn))
        .await
        .unwrap();
    assert_eq!(
        a.connection_info.unwrap().fibre_channel().unwrap().targets[0]
            .lun
            .to_target_lun(),
        1
    );

    // Connecting a volume that is already mapped reuses its mapping.
    let again = w
        .cinder
        .initialize_connection(&atts[0].0, &conn)
        .await
        .unwrap();
    assert_eq!(
        again.fibre_channel().unwrap().targets[0]
            .lun
            .to_target_lun(),
        0
    );
    assert_eq!(w.sim.hosts()[0].mappings.len(), 3);
}

#[tokio::test]
async fn a_host_gains_ports_and_goes_with_its_last_mapping() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let vm = InstanceId::from_u128(1);
    let v1 = w.volume(false).await;
    let v2 = w.volume(false).await;
    // First with one port, then with both: the host gains the second.
    let a1 = w
        .cinder
        .create_attachment(&v1, &vm, Some(&connector(&hbas[..1])))
        .await
        .unwrap();
    assert_eq!(w.sim.hosts()[0].wwpns.len(), 1);
    assert_eq!(w.sim.zones().len(), 4);
    let a2 = w
        .cinder
        .create_attachment(&v2, &vm, Some(&connector(&hbas)))
        .await
        .unwrap();
    let hosts = w.sim.hosts();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].wwpns.len(), 2);
    // Each port zoned with each of the 4 targets.
    assert_eq!(w.sim.zones().len(), 8);
    // Zones stay while a mapping remains...
    w.cinder.delete_attachment(&a1.id).await.unwrap();
    assert_eq!(w.sim.zones().len(), 8);
    assert_eq!(w.sim.hosts().len(), 1);
    // ...and go with the last one, with the host.
    w.cinder.delete_attachment(&a2.id).await.unwrap();
    assert!(w.sim.zones().is_empty());
    assert!(w.sim.hosts().is_empty());
    for v in [&v1, &v2] {
        assert_eq!(
            w.cinder.get_volume(v).await.unwrap().status,
            VolumeStatus::Available
        );
    }
}

/// Hosts are made with `mkhost -force`: a WWPN logged in nowhere is
/// accepted and gets every port; a connector without WWPNs is refused and
/// changes nothing.
#[tokio::test]
async fn an_unlogged_wwpn_is_accepted_and_an_empty_connector_refused() {
    let w = world().await;
    let v = w.volume(false).await;
    let vm = InstanceId::from_u128(1);
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    let before = w.sim.snapshot();
    let mut stray = connector(&[]);
    let e = w.cinder.update_attachment(&a.id, &stray).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(w.sim.snapshot(), before);
    let wwpn: Wwpn = "c05076ffe5ffffff".parse().unwrap();
    stray.wwpns = vec![wwpn];
    let a = w.cinder.update_attachment(&a.id, &stray).await.unwrap();
    let fc = a.connection_info.unwrap().fibre_channel().unwrap();
    assert_eq!(fc.initiator_target_map.unwrap()[&wwpn].len(), 4);
    assert_eq!(w.sim.hosts()[0].wwpns, [wwpn].into_iter().collect());
}

#[tokio::test]
async fn image_deployment_masks_writes_unmasks() {
    let w = world().await;
    let req = VolumeCreate {
        size: 10,
        name: Some("boot".into()),
        image_ref: Some(w.sim.images()[0].0.clone()),
        ..VolumeCreate::default()
    };
    let v = w.cinder.create_volume(&req).await.unwrap();
    assert_eq!(v.status, VolumeStatus::Creating);
    assert!(!v.bootable);
    assert!(w.sim.hosts().is_empty(), "nothing is masked while creating");
    // Half the creation time later the image is being copied
    // (`downloading`), and the volume is masked to the Cinder node.
    w.sim.advance(std::time::Duration::from_millis(
        w.sim.spec().timings.volume_create_ms / 2,
    ));
    let v = w.cinder.get_volume(&v.id).await.unwrap();
    assert_eq!(v.status, VolumeStatus::Downloading);
    assert!(!v.bootable);
    let hosts = w.sim.hosts();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].wwpns, w.sim.node_wwpns().into_iter().collect());
    assert!(!w.sim.zones().is_empty());

    w.sim.run_until_idle();
    let v = w.cinder.get_volume(&v.id).await.unwrap();
    assert_eq!(v.status, VolumeStatus::Available);
    assert!(v.bootable);
    // No mapping, zone or host is left behind.
    assert!(w.sim.hosts().is_empty());
    assert!(w.sim.zones().is_empty());
    let events = w.sim.storage_events();
    assert!(matches!(&events[0], StorageEvent::Mapped { volume, .. } if *volume == v.id));
    assert!(matches!(&events[1], StorageEvent::ImageWritten { volume, .. } if *volume == v.id));
    assert!(matches!(&events[2], StorageEvent::Unmapped { volume, .. } if *volume == v.id));
    assert!(matches!(&events[3], StorageEvent::HostRemoved { .. }));

    // An unknown image is a 400 and creates nothing.
    let bad = VolumeCreate {
        image_ref: Some(cinder_client::ImageId::from_u128(99)),
        ..req
    };
    assert_eq!(
        w.cinder.create_volume(&bad).await.unwrap_err().status(),
        Some(400)
    );
    assert_eq!(w.cinder.list_volumes().await.unwrap().len(), 1);
    let _ = w.hmc.list_cpcs(None).await.unwrap();
}

#[tokio::test]
async fn without_zoning_luns_are_masked_but_unreachable() {
    let w = world().await;
    w.sim.set_zoning(false);
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let v = w.volume(false).await;
    let a = w
        .cinder
        .create_attachment(&v, &InstanceId::from_u128(1), Some(&connector(&hbas)))
        .await
        .unwrap();
    assert!(a
        .connection_info
        .unwrap()
        .fibre_channel()
        .unwrap()
        .initiator_target_map
        .is_some());
    assert_eq!(w.sim.hosts()[0].mappings.len(), 1);
    assert!(w.sim.zones().is_empty());
}
