//! DPM storage management on a z16: storage groups, their volumes and
//! VSRs, discovery, and booting from a storage volume, through the
//! in-memory clients on a stepped clock.

use std::time::Duration;

use cinder_client::{AttachmentId, CinderApi, Connector, InstanceId, VolumeCreate, VolumeId};
use dpm_sim::{Fault, Op, Sim, WorldSpec};
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{
    BootDevice, FulfillmentState as F, HbaCreate, HmcApi, JobStatus, LunPath, PartitionStatus,
    PartitionUpdate, PartitionUri, StorageGroupCreate, StorageGroupFilter, StorageGroupModify,
    StorageGroupType, StorageGroupUri, StorageVolumeFilter, StorageVolumeUri,
    VolumeCreate as SgVolume, VolumeRequest, VolumeUsage, WwpnStatus,
};

use crate::support::{assert_hmc, world_from, World};

async fn z16() -> World {
    world_from(WorldSpec::z16()).await
}

fn group_body(sim: &Sim, name: &str, sizes: &[f64]) -> StorageGroupCreate {
    StorageGroupCreate {
        cpc_uri: sim.cpc_uri(),
        name: name.into(),
        group_type: StorageGroupType::Fcp,
        description: None,
        shared: Some(false),
        connectivity: Some(2),
        max_partitions: Some(1),
        storage_volumes: sizes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                VolumeRequest::Create(SgVolume {
                    name: Some(if i == 0 {
                        "boot".into()
                    } else {
                        format!("data{i}")
                    }),
                    description: None,
                    size: *s,
                    usage: Some(if i == 0 {
                        VolumeUsage::Boot
                    } else {
                        VolumeUsage::Data
                    }),
                })
            })
            .collect(),
        email_to_addresses: None,
    }
}

impl World {
    /// A group with one volume request per size, both FCP ports as
    /// candidates; its URI, volumes and WWPNs.
    async fn group(
        &self,
        name: &str,
        sizes: &[f64],
    ) -> (StorageGroupUri, Vec<StorageVolumeUri>, Vec<Wwpn>) {
        let c = self
            .hmc
            .create_storage_group(&group_body(&self.sim, name, sizes))
            .await
            .unwrap();
        self.hmc
            .add_candidate_adapter_ports(&c.object_uri, &self.fcp_ports())
            .await
            .unwrap();
        let wwpns = self.group_wwpns(&c.object_uri).await;
        (c.object_uri, c.element_uris, wwpns)
    }

    /// The group's WWPNs no VSR uses yet.
    async fn group_wwpns(&self, g: &StorageGroupUri) -> Vec<Wwpn> {
        self.hmc
            .get_storage_group(g)
            .await
            .unwrap()
            .unassigned_world_wide_port_names
            .iter()
            .map(|w| w.world_wide_port_name)
            .collect()
    }

    /// A Cinder volume of `size` GiB, with an image or without.
    async fn cinder_volume(&self, size: u64, image: bool) -> VolumeId {
        let v = self
            .cinder
            .create_volume(&VolumeCreate {
                size,
                name: Some("v".into()),
                image_ref: image.then(|| self.sim.images()[0].0.clone()),
                ..VolumeCreate::default()
            })
            .await
            .unwrap();
        self.sim.run_until_idle();
        v.id
    }

    /// Cinder's attachment create and update with a connector of `wwpns`:
    /// masking and zoning.
    async fn connect(&self, v: &VolumeId, wwpns: &[Wwpn]) -> AttachmentId {
        let a = self
            .cinder
            .create_attachment(v, &InstanceId::from_u128(7), None)
            .await
            .unwrap();
        self.cinder
            .update_attachment(&a.id, &conn(wwpns))
            .await
            .unwrap();
        a.id
    }

    /// Runs a discovery job to its end; it completes with 204.
    async fn discover(&self, g: &StorageGroupUri) {
        let job = self
            .hmc
            .start_fcp_storage_discovery(g, false)
            .await
            .unwrap();
        assert_eq!(
            self.hmc.get_job(&job).await.unwrap().status,
            JobStatus::Running
        );
        self.sim.run_until_idle();
        let j = self.hmc.get_job(&job).await.unwrap();
        assert_eq!(
            (j.status, j.job_status_code),
            (JobStatus::Complete, Some(204))
        );
        self.hmc.delete_job(&job).await.unwrap();
    }

    async fn state(&self, v: &StorageVolumeUri) -> F {
        self.hmc
            .get_storage_volume(v)
            .await
            .unwrap()
            .fulfillment_state
    }

    /// Starts `p` and returns how the job ended: `Ok` or the message.
    async fn start(&self, p: &PartitionUri) -> Result<(), String> {
        let job = self.hmc.start_partition(p).await.unwrap();
        self.sim.run_until_idle();
        let j = self.hmc.get_job(&job).await.unwrap();
        if j.succeeded() {
            Ok(())
        } else {
            Err(j.message().unwrap_or_default().to_owned())
        }
    }
}

fn conn(wwpns: &[Wwpn]) -> Connector {
    Connector {
        wwpns: wwpns.to_vec(),
        wwnns: Vec::new(),
        host: "compute-1".into(),
        platform: Some("s390x".into()),
        os_type: Some("linux".into()),
        multipath: true,
        enforce_multipath: false,
        mountpoint: None,
    }
}

#[tokio::test]
async fn the_whole_flow_boots_a_partition_from_a_storage_volume() {
    let w = z16().await;
    let p = w.partition("inst-1").await;
    let (g, vols, wwpns) = w.group("inst-1", &[10.0]).await;
    assert_eq!(wwpns.len(), 2);
    let sg = w.hmc.get_storage_group(&g).await.unwrap();
    assert_eq!(sg.fulfillment_state, F::Pending);
    assert_eq!(sg.candidate_adapter_port_uris, w.fcp_ports());
    // The group's WWPNs are bound to the candidate ports, one per fabric.
    let view = &w.sim.storage_groups()[0];
    assert_eq!(view.wwpns[0].port.as_ref(), Some(&w.fcp_ports()[0]));
    assert_eq!(view.wwpns[1].port.as_ref(), Some(&w.fcp_ports()[1]));

    // Cinder masks and zones the group's WWPNs like a vHBA's.
    let boot = w.cinder_volume(10, true).await;
    let att = w.connect(&boot, &wwpns).await;
    let hosts = w.sim.hosts();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].wwpns.iter().copied().collect::<Vec<_>>(), wwpns);
    // Logged in nowhere yet: all-to-all over the 4 target ports.
    assert_eq!(w.sim.zones().len(), 8);

    // Attach: one VSR per path, with the group's WWPNs.
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    let vsrs = w.hmc.list_vsrs(&g, Some(&p)).await.unwrap();
    assert_eq!(vsrs.len(), 2);
    assert_eq!(vsrs[0].device_number, DeviceNumber::new(0x0100));
    assert_eq!(vsrs[1].device_number, DeviceNumber::new(0x0101));
    let vsr = w.hmc.get_vsr(&vsrs[1].element_uri).await.unwrap();
    assert_eq!(vsr.world_wide_port_name, wwpns[1]);
    assert_eq!(vsr.adapter_port_uri.as_ref(), Some(&w.fcp_ports()[1]));
    assert_eq!(
        vsr.world_wide_port_name_info.status,
        WwpnStatus::NotValidated
    );
    let part = w.hmc.get_partition(&p).await.unwrap();
    assert_eq!(part.storage_group_uris, vec![g.clone()]);
    assert!(part.hba_uris.is_empty());
    assert_eq!(part.boot_storage_volume, None);
    let attached = w.hmc.get_storage_group_partitions(&g).await.unwrap();
    assert_eq!(attached[0].object_uri, p);

    // Discovery: the request is fulfilled, with its NAA id and paths.
    w.discover(&g).await;
    let v = w.hmc.get_storage_volume(&vols[0]).await.unwrap();
    assert_eq!(v.fulfillment_state, F::Complete);
    let uuid = v.uuid.unwrap();
    assert_eq!(uuid.len(), 32);
    assert!(uuid.starts_with("600507680C8"));
    assert_eq!(v.active_size, Some(10.0));
    assert_eq!(v.paths.len(), 4);
    assert!(v
        .paths
        .iter()
        .all(|x| x.partition_uri == p && x.logical_unit_number == FcpLun::from_target_lun(0)));
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::Complete
    );
    assert_eq!(
        w.hmc
            .get_vsr(&vsrs[0].element_uri)
            .await
            .unwrap()
            .world_wide_port_name_info
            .status,
        WwpnStatus::Validated
    );
    assert_eq!(
        w.sim.storage_groups()[0].volumes[0].cinder_volume,
        Some(boot.clone())
    );

    // Boot from it.
    w.hmc
        .update_partition(&p, &PartitionUpdate::boot_from_volume(vols[0].clone()))
        .await
        .unwrap();
    let part = w.hmc.get_partition(&p).await.unwrap();
    assert_eq!(part.boot_device, BootDevice::StorageVolume);
    assert_eq!(part.boot_storage_volume, Some(vols[0].clone()));
    assert_eq!(part.boot_storage_device, None);
    assert_eq!(part.boot_world_wide_port_name, None);
    w.start(&p).await.unwrap();
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    w.cinder.complete_attachment(&att).await.unwrap();

    // The guest sees the LUN through its VSRs, as through vHBAs.
    let paths = w.sim.guest_paths(&p);
    assert_eq!(paths.len(), 4);
    assert!(paths.iter().all(|x| x.volume == boot));
    let devices: std::collections::BTreeSet<_> = paths.iter().map(|x| x.device_number).collect();
    assert_eq!(
        devices,
        [DeviceNumber::new(0x100), DeviceNumber::new(0x101)].into()
    );
}

#[tokio::test]
async fn attach_before_or_after_discovery_gives_the_same_paths() {
    let w = z16().await;
    let (a, va, wa) = w.group("a", &[10.0]).await;
    let (b, vb, wb) = w.group("b", &[10.0]).await;
    let pa = w.partition("pa").await;
    let pb = w.partition("pb").await;
    let v1 = w.cinder_volume(10, false).await;
    let v2 = w.cinder_volume(10, false).await;
    w.connect(&v1, &wa).await;
    w.connect(&v2, &wb).await;
    w.hmc.attach_storage_group(&pa, &a).await.unwrap();
    w.discover(&a).await;
    w.discover(&b).await;
    w.hmc.attach_storage_group(&pb, &b).await.unwrap();
    let paths_a = w.hmc.get_storage_volume(&va[0]).await.unwrap().paths;
    let paths_b = w.hmc.get_storage_volume(&vb[0]).await.unwrap().paths;
    assert_eq!(paths_a.len(), 4);
    assert_eq!(paths_b.len(), 4);
    assert!(paths_b.iter().all(|x| x.partition_uri == pb));
}

#[tokio::test]
async fn each_boot_check_failure_names_its_cause() {
    let w = z16().await;
    let p = w.partition("p").await;
    let (g, vols, wwpns) = w.group("g", &[10.0, 5.0]).await;
    w.hmc.attach_storage_group(&p, &g).await.unwrap();

    // boot-device storage-volume without a volume is refused when it is
    // set (so the start job's "not set" cause cannot be reached).
    assert_hmc(
        w.hmc
            .update_partition(
                &p,
                &PartitionUpdate {
                    boot_device: Some(BootDevice::StorageVolume),
                    ..PartitionUpdate::default()
                },
            )
            .await,
        400,
        7,
    );

    // Not fulfilled yet.
    w.hmc
        .update_partition(&p, &PartitionUpdate::boot_from_volume(vols[0].clone()))
        .await
        .unwrap();
    let e = w.start(&p).await.unwrap_err();
    assert!(e.contains("is pending, not complete"), "{e}");
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Stopped
    );

    // Fulfilled by a LUN without an image: not bootable.
    let blank = w.cinder_volume(10, false).await;
    let att = w.connect(&blank, &wwpns).await;
    w.discover(&g).await;
    assert_eq!(w.state(&vols[0]).await, F::Complete);
    let e = w.start(&p).await.unwrap_err();
    assert!(e.contains("is not bootable"), "{e}");

    // Unmasked after discovery: no path is usable at start.
    let data = w.cinder_volume(5, false).await;
    w.connect(&data, &wwpns).await;
    w.cinder.delete_attachment(&att).await.unwrap();
    assert_eq!(w.sim.zones().len(), 8, "the data volume keeps the zones");
    let e = w.start(&p).await.unwrap_err();
    assert!(e.contains("is zoned and masked any more"), "{e}");

    // The volume deleted from the group (allowed: the partition is stopped).
    w.hmc
        .modify_storage_group(
            &g,
            &StorageGroupModify {
                storage_volumes: vec![VolumeRequest::Delete {
                    element_uri: vols[0].clone(),
                }],
                ..StorageGroupModify::default()
            },
        )
        .await
        .unwrap();
    let e = w.start(&p).await.unwrap_err();
    assert!(e.contains("does not exist"), "{e}");
}

#[tokio::test]
async fn a_partition_without_a_path_to_a_shared_groups_volume_does_not_boot() {
    let w = z16().await;
    let mut body = group_body(&w.sim, "shared", &[10.0]);
    body.shared = Some(true);
    body.max_partitions = Some(2);
    let c = w.hmc.create_storage_group(&body).await.unwrap();
    let g = c.object_uri;
    w.hmc
        .add_candidate_adapter_ports(&g, &w.fcp_ports())
        .await
        .unwrap();
    let wwpns = w.group_wwpns(&g).await;
    assert_eq!(wwpns.len(), 4);
    let (p1, p2) = (w.partition("p1").await, w.partition("p2").await);
    w.hmc.attach_storage_group(&p1, &g).await.unwrap();
    w.hmc.attach_storage_group(&p2, &g).await.unwrap();
    // Only the first slot's WWPNs (p1's) are masked.
    let boot = w.cinder_volume(10, true).await;
    w.connect(&boot, &wwpns[..2]).await;
    w.discover(&g).await;
    assert_eq!(w.state(&c.element_uris[0]).await, F::Complete);
    for p in [&p1, &p2] {
        w.hmc
            .update_partition(
                p,
                &PartitionUpdate::boot_from_volume(c.element_uris[0].clone()),
            )
            .await
            .unwrap();
    }
    let e = w.start(&p2).await.unwrap_err();
    assert!(e.contains("has no path into partition p2"), "{e}");
    w.start(&p1).await.unwrap();
}

#[tokio::test]
async fn a_mismatched_size_waits_to_be_accepted() {
    let w = z16().await;
    let (g, vols, wwpns) = w.group("g", &[20.0]).await;
    let v = w.cinder_volume(10, false).await;
    w.connect(&v, &wwpns).await;
    w.discover(&g).await;
    let vol = w.hmc.get_storage_volume(&vols[0]).await.unwrap();
    assert_eq!(vol.fulfillment_state, F::PendingWithMismatches);
    assert_eq!((vol.size, vol.active_size), (20.0, Some(10.0)));
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::PendingWithMismatches
    );
    w.hmc
        .accept_mismatched_storage_volumes(&g, &vols)
        .await
        .unwrap();
    let vol = w.hmc.get_storage_volume(&vols[0]).await.unwrap();
    assert_eq!((vol.fulfillment_state, vol.size), (F::Complete, 10.0));
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::Complete
    );
    // A complete volume is not accepted again; a foreign one is not found.
    let before = w.sim.snapshot();
    assert_hmc(
        w.hmc.accept_mismatched_storage_volumes(&g, &vols).await,
        409,
        1,
    );
    let (_, other, _) = w.group("other", &[1.0]).await;
    assert_hmc(
        w.hmc.accept_mismatched_storage_volumes(&g, &other).await,
        404,
        2,
    );
    let after = w.sim.snapshot();
    assert_eq!(before.storage_groups[0], after.storage_groups[0]);
}

#[tokio::test]
async fn a_lun_nobody_asked_for_is_overprovisioned() {
    let w = z16().await;
    let (g, _, wwpns) = w.group("g", &[]).await;
    let v = w.cinder_volume(8, false).await;
    let att = w.connect(&v, &wwpns).await;
    w.discover(&g).await;
    let list = w
        .hmc
        .list_storage_volumes(&g, &StorageVolumeFilter::default())
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].fulfillment_state, F::Overprovisioned);
    assert_eq!(
        (list[0].size, list[0].usage.clone()),
        (8.0, VolumeUsage::Data)
    );
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::PendingWithMismatches
    );
    // Once Cinder unmasks it, the next discovery forgets it.
    w.cinder.delete_attachment(&att).await.unwrap();
    w.discover(&g).await;
    assert!(w
        .hmc
        .list_storage_volumes(&g, &StorageVolumeFilter::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_lun_that_vanishes_makes_its_volume_incomplete() {
    let w = z16().await;
    let (g, vols, wwpns) = w.group("g", &[10.0]).await;
    let v = w.cinder_volume(10, false).await;
    let att = w.connect(&v, &wwpns).await;
    w.discover(&g).await;
    w.cinder.delete_attachment(&att).await.unwrap();
    w.discover(&g).await;
    assert_eq!(w.state(&vols[0]).await, F::Incomplete);
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::Incomplete
    );
    let wwpn_status: Vec<_> = w.sim.storage_groups()[0]
        .wwpns
        .iter()
        .map(|x| x.status.clone())
        .collect();
    assert_eq!(wwpn_status, vec![WwpnStatus::NotValidated; 2]);
}

#[tokio::test]
async fn discovery_runs_on_its_own_every_ten_minutes() {
    let w = z16().await;
    let (g, vols, wwpns) = w.group("g", &[10.0]).await;
    let v = w.cinder_volume(10, false).await;
    w.connect(&v, &wwpns).await;
    // The periodic round is background: run_until_idle returns at once
    // and leaves the group pending.
    w.sim.run_until_idle();
    assert!(!w.sim.is_busy());
    assert_eq!(w.state(&vols[0]).await, F::Pending);
    w.sim.advance(Duration::from_secs(9 * 60));
    assert_eq!(w.state(&vols[0]).await, F::Pending);
    w.sim.advance(Duration::from_secs(60));
    assert_eq!(w.state(&vols[0]).await, F::Complete);
    assert_eq!(
        w.hmc.get_storage_group(&g).await.unwrap().fulfillment_state,
        F::Complete
    );
    assert_eq!(w.sim.job_count(), 0, "automatic discovery makes no job");
}

#[tokio::test]
async fn a_forced_restart_cancels_the_running_discovery() {
    let w = z16().await;
    let (g, _, _) = w.group("g", &[10.0]).await;
    let first = w.hmc.start_fcp_storage_discovery(&g, false).await.unwrap();
    assert_hmc(w.hmc.start_fcp_storage_discovery(&g, false).await, 409, 1);
    let second = w.hmc.start_fcp_storage_discovery(&g, true).await.unwrap();
    assert_eq!(
        w.hmc.get_job(&first).await.unwrap().status,
        JobStatus::Canceled
    );
    w.sim.run_until_idle();
    assert!(w.hmc.get_job(&second).await.unwrap().succeeded());
    // The superseded job's own end, when it comes, does not undo the cancel.
    let j = w.hmc.get_job(&first).await.unwrap();
    assert_eq!(j.status, JobStatus::Canceled);
    assert_eq!((j.job_status_code, j.job_reason_code), (Some(409), Some(1)));
    // A discovery running when its group is deleted is canceled too, and
    // stays canceled after its scheduled end.
    let third = w.hmc.start_fcp_storage_discovery(&g, false).await.unwrap();
    w.hmc.delete_storage_group(&g).await.unwrap();
    assert_eq!(
        w.hmc.get_job(&third).await.unwrap().status,
        JobStatus::Canceled
    );
    w.sim.run_until_idle();
    assert_eq!(
        w.hmc.get_job(&third).await.unwrap().status,
        JobStatus::Canceled
    );
    assert!(w.sim.storage_groups().is_empty());
}

#[tokio::test]
async fn wwpns_are_unique_across_groups_and_come_from_the_npiv_range() {
    let w = z16().await;
    let mut all = Vec::new();
    for i in 0..3 {
        let (_, _, wwpns) = w.group(&format!("g{i}"), &[]).await;
        all.extend(wwpns);
    }
    let (g, _, old) = w.group("reshaped", &[]).await;
    w.hmc
        .modify_storage_group(
            &g,
            &StorageGroupModify {
                connectivity: Some(3),
                ..StorageGroupModify::default()
            },
        )
        .await
        .unwrap();
    let new = w.group_wwpns(&g).await;
    assert_eq!(new.len(), 3);
    assert!(new.iter().all(|x| !old.contains(x)));
    all.extend(old);
    all.extend(new);
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n);
    assert!(all
        .iter()
        .all(|x| x.as_u64() & 0xffff_ffff_ff00_0000 == 0xc050_76ff_e500_0000));
}

#[tokio::test]
async fn the_hba_model_and_the_storage_group_model_share_one_npiv_allocator() {
    // A z13 hands out vHBA WWPNs from the range and in the order a z16
    // hands out group WWPNs: the same allocator.
    let z13 = world_from(WorldSpec::z13()).await;
    let p = z13.partition("p").await;
    let hba = z13.hbas(&p).await;
    let w = z16().await;
    let (_, _, wwpns) = w.group("g", &[]).await;
    assert_eq!(hba[0].wwpn, wwpns[0]);
    assert_eq!(hba[1].wwpn, wwpns[1]);
}

#[tokio::test]
async fn a_group_wwpn_without_a_port_is_logged_in_nowhere() {
    let w = z16().await;
    let c = w
        .hmc
        .create_storage_group(&group_body(&w.sim, "g", &[10.0]))
        .await
        .unwrap();
    let wwpns = w.group_wwpns(&c.object_uri).await;
    let v = w.cinder_volume(10, false).await;
    let a = w
        .cinder
        .create_attachment(&v, &InstanceId::from_u128(7), None)
        .await
        .unwrap();
    // No candidate port: logged in nowhere, so Storwize (mkhost -force)
    // answers with every target port, and the zone manager zones them all.
    let a = w
        .cinder
        .update_attachment(&a.id, &conn(&wwpns))
        .await
        .unwrap();
    let map = a
        .connection_info
        .unwrap()
        .fibre_channel()
        .unwrap()
        .initiator_target_map
        .unwrap();
    assert!(wwpns.iter().all(|x| map[x].len() == 4));
    assert_eq!(w.sim.zones().len(), 2 * 4);
}

#[tokio::test]
async fn storage_group_refusals_change_nothing() {
    let w = z16().await;
    let p = w.partition("p").await;
    let (g, vols, _) = w.group("g", &[10.0]).await;
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    let before = w.sim.snapshot();
    // Create.
    assert_hmc(
        w.hmc
            .create_storage_group(&group_body(&w.sim, "g", &[]))
            .await,
        409,
        8,
    );
    let mut body = group_body(&w.sim, "x", &[]);
    body.max_partitions = Some(3);
    assert_hmc(w.hmc.create_storage_group(&body).await, 400, 7);
    body.cpc_uri = "/api/cpcs/nope".parse().unwrap();
    assert_hmc(w.hmc.create_storage_group(&body).await, 404, 2);
    // Candidate ports.
    let ficon = w
        .sim
        .adapters()
        .into_iter()
        .find(|(_, t)| t == "fc")
        .map(|(a, _)| hmc_client::StoragePortUri::new(&a, "0").unwrap())
        .unwrap();
    assert_hmc(
        w.hmc.add_candidate_adapter_ports(&g, &[ficon]).await,
        400,
        7,
    );
    assert_hmc(
        w.hmc
            .add_candidate_adapter_ports(&g, &w.fcp_ports()[..1])
            .await,
        409,
        483,
    );
    assert_hmc(
        w.hmc
            .remove_candidate_adapter_ports(&g, &w.fcp_ports()[..1])
            .await,
        409,
        1,
    );
    // Attach and detach.
    assert_hmc(w.hmc.attach_storage_group(&p, &g).await, 409, 1);
    let q = "/api/partitions/nope".parse().unwrap();
    assert_hmc(w.hmc.attach_storage_group(&q, &g).await, 404, 1);
    let nog = "/api/storage-groups/nope".parse().unwrap();
    assert_hmc(w.hmc.attach_storage_group(&p, &nog).await, 404, 2);
    assert_hmc(w.hmc.get_storage_group(&nog).await, 404, 1);
    // Delete while attached.
    assert_hmc(w.hmc.delete_storage_group(&g).await, 409, 1);
    // Reshape while attached.
    let reshape = StorageGroupModify {
        max_partitions: Some(1),
        connectivity: Some(1),
        ..StorageGroupModify::default()
    };
    assert_hmc(w.hmc.modify_storage_group(&g, &reshape).await, 409, 1);
    assert_eq!(w.sim.snapshot(), before);
    // Partition updates on a storage-management CPC.
    let bad_vol: StorageVolumeUri = format!("{g}/storage-volumes/nope").parse().unwrap();
    assert_hmc(
        w.hmc
            .update_partition(&p, &PartitionUpdate::boot_from_volume(bad_vol))
            .await,
        404,
        2,
    );
    let (_, other_vols, _) = w.group("other", &[1.0]).await;
    let before_other = w.sim.snapshot();
    assert_hmc(
        w.hmc
            .update_partition(
                &p,
                &PartitionUpdate::boot_from_volume(other_vols[0].clone()),
            )
            .await,
        400,
        7,
    );
    assert_hmc(
        w.hmc
            .update_partition(
                &p,
                &PartitionUpdate {
                    boot_device: Some(BootDevice::StorageAdapter),
                    ..PartitionUpdate::default()
                },
            )
            .await,
        400,
        7,
    );
    // HBAs do not exist here.
    assert_hmc(
        w.hmc
            .create_hba(
                &p,
                &HbaCreate {
                    name: "h".into(),
                    adapter_port_uri: w.fcp_ports()[0].clone(),
                    description: None,
                    device_number: None,
                },
            )
            .await,
        409,
        490,
    );
    assert_eq!(w.sim.snapshot(), before_other);
    assert_eq!(w.state(&vols[0]).await, F::Pending);
}

#[tokio::test]
async fn detach_needs_a_stopped_partition_that_does_not_boot_from_the_group() {
    let w = z16().await;
    let p = w.partition("p").await;
    let (g, vols, wwpns) = w.group("g", &[10.0]).await;
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    let boot = w.cinder_volume(10, true).await;
    w.connect(&boot, &wwpns).await;
    w.discover(&g).await;
    w.hmc
        .update_partition(&p, &PartitionUpdate::boot_from_volume(vols[0].clone()))
        .await
        .unwrap();
    w.start(&p).await.unwrap();
    let before = w.sim.snapshot();
    assert_hmc(w.hmc.detach_storage_group(&p, &g).await, 409, 1);
    // Nor may its boot volume go while it runs.
    let delete = StorageGroupModify {
        storage_volumes: vec![VolumeRequest::Delete {
            element_uri: vols[0].clone(),
        }],
        ..StorageGroupModify::default()
    };
    assert_hmc(w.hmc.modify_storage_group(&g, &delete).await, 409, 1);
    assert_eq!(w.sim.snapshot(), before);
    let job = w.hmc.stop_partition(&p).await.unwrap();
    w.sim.run_until_idle();
    w.hmc.delete_job(&job).await.unwrap();
    assert_hmc(w.hmc.detach_storage_group(&p, &g).await, 409, 1);
    w.hmc
        .update_partition(
            &p,
            &PartitionUpdate {
                boot_device: Some(BootDevice::None),
                ..PartitionUpdate::default()
            },
        )
        .await
        .unwrap();
    // It no longer boots from the group (boot-storage-volume only names
    // it): the group may go, and its VSRs with it.
    w.hmc.detach_storage_group(&p, &g).await.unwrap();
    let sg = w.hmc.get_storage_group(&g).await.unwrap();
    assert!(sg.virtual_storage_resource_uris.is_empty());
    assert!(w
        .hmc
        .get_partition(&p)
        .await
        .unwrap()
        .storage_group_uris
        .is_empty());
    // Deleting the partition detaches the group; the group stays.
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    w.hmc.delete_partition(&p).await.unwrap();
    let sg = w.hmc.get_storage_group(&g).await.unwrap();
    assert!(sg.virtual_storage_resource_uris.is_empty());
    assert!(w
        .hmc
        .get_storage_group_partitions(&g)
        .await
        .unwrap()
        .is_empty());
    w.hmc.delete_storage_group(&g).await.unwrap();
    assert!(w.sim.storage_groups().is_empty());
}

#[tokio::test]
async fn a_z13_has_no_storage_groups() {
    let w = world_from(WorldSpec::z13()).await;
    let cpc = w.sim.cpc_uri();
    let e = w
        .hmc
        .create_storage_group(&group_body(&w.sim, "g", &[]))
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 1)));
    assert!(e.to_string().contains("dpm-storage-management"), "{e}");
    assert_hmc(
        w.hmc
            .list_storage_groups(&StorageGroupFilter {
                cpc: Some(cpc.clone()),
                name: None,
            })
            .await,
        409,
        1,
    );
    let path = LunPath {
        host_world_wide_port_name: Wwpn::from_u64(1),
        adapter_port_uri: w.fcp_ports()[0].clone(),
        target_world_wide_port_name: Wwpn::from_u64(2),
        logical_unit_number: FcpLun::from_target_lun(0),
    };
    assert_hmc(w.hmc.validate_lun_path(&cpc, &path).await, 409, 1);
    let p = w.partition("p").await;
    assert_hmc(
        w.hmc
            .update_partition(
                &p,
                &PartitionUpdate {
                    boot_device: Some(BootDevice::StorageVolume),
                    ..PartitionUpdate::default()
                },
            )
            .await,
        400,
        7,
    );
    assert!(w.sim.storage_groups().is_empty());
}

#[tokio::test]
async fn validate_lun_path_tells_an_unreachable_target_from_an_unreachable_lun() {
    let w = z16().await;
    let (_, _, wwpns) = w.group("g", &[10.0]).await;
    let v = w.cinder_volume(10, false).await;
    w.connect(&v, &wwpns).await;
    let targets = w.sim.target_ports();
    let on_a = targets.iter().find(|(_, f)| *f == 0).unwrap().0;
    let on_b = targets.iter().find(|(_, f)| *f == 1).unwrap().0;
    let cpc = w.sim.cpc_uri();
    let path = |target, lun| LunPath {
        host_world_wide_port_name: wwpns[0],
        adapter_port_uri: w.fcp_ports()[0].clone(),
        target_world_wide_port_name: target,
        logical_unit_number: FcpLun::from_target_lun(lun),
    };
    w.hmc.validate_lun_path(&cpc, &path(on_a, 0)).await.unwrap();
    assert_hmc(
        w.hmc.validate_lun_path(&cpc, &path(on_b, 0)).await,
        409,
        484,
    );
    assert_hmc(
        w.hmc.validate_lun_path(&cpc, &path(on_a, 1)).await,
        409,
        485,
    );
}

#[tokio::test]
async fn lists_filter_by_cpc_name_usage_state_and_partition() {
    let w = z16().await;
    let (g, _, _) = w.group("web-1", &[10.0, 5.0]).await;
    w.group("web-10", &[]).await;
    let f = |name: &str| StorageGroupFilter {
        cpc: Some(w.sim.cpc_uri()),
        name: Some(name.into()),
    };
    assert_eq!(
        w.hmc.list_storage_groups(&f("web-1")).await.unwrap().len(),
        1
    );
    assert_eq!(
        w.hmc.list_storage_groups(&f("web-.*")).await.unwrap().len(),
        2
    );
    assert_hmc(w.hmc.list_storage_groups(&f("(")).await, 400, 1);
    let vf = |usage| StorageVolumeFilter {
        usage,
        ..StorageVolumeFilter::default()
    };
    assert_eq!(
        w.hmc
            .list_storage_volumes(&g, &vf(Some(VolumeUsage::Boot)))
            .await
            .unwrap()
            .len(),
        1
    );
    let p = w.partition("p").await;
    let q = w.partition("q").await;
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    assert_eq!(w.hmc.list_vsrs(&g, Some(&p)).await.unwrap().len(), 2);
    assert!(w.hmc.list_vsrs(&g, Some(&q)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_injected_fault_on_a_storage_group_operation_changes_nothing() {
    let w = z16().await;
    let p = w.partition("p").await;
    let (g, _, _) = w.group("g", &[10.0]).await;
    let before = w.sim.snapshot();
    let fault = Fault::new(503, 0, "injected");
    w.sim.fail_next(Op::CreateStorageGroup, 1, fault.clone());
    w.sim.fail_next(Op::AttachStorageGroup, 1, fault.clone());
    w.sim.fail_next(Op::StartFcpStorageDiscovery, 1, fault);
    assert_hmc(
        w.hmc
            .create_storage_group(&group_body(&w.sim, "new", &[1.0]))
            .await,
        503,
        0,
    );
    assert_hmc(w.hmc.attach_storage_group(&p, &g).await, 503, 0);
    assert_hmc(w.hmc.start_fcp_storage_discovery(&g, false).await, 503, 0);
    assert_eq!(w.sim.snapshot(), before);
    assert_eq!(w.sim.job_count(), 0);
    assert_eq!(w.sim.counters().get(Op::CreateStorageGroup), 2);
    assert_eq!(w.sim.counters().get(Op::AttachStorageGroup), 1);
    let log = w.sim.op_log();
    assert!(log.ends_with(&[
        Op::CreateStorageGroup,
        Op::AttachStorageGroup,
        Op::StartFcpStorageDiscovery
    ]));
    // The next ones go through.
    w.hmc.attach_storage_group(&p, &g).await.unwrap();
    assert_eq!(w.sim.snapshot().storage_groups[0].vsrs.len(), 2);
    assert_eq!(Op::CreateStorageGroup.name(), "hmc.create_storage_group");
}
