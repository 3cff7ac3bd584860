//! LUN discovery: fulfilment by size, paths from the VSRs, vanished
//! and unrequested LUNs, the discovery jobs.

use super::*;

#[test]
fn discovery_fulfills_by_size_and_paths_follow_the_vsrs() {
    let mut fx = Fx::new();
    let (g, vols, w) = fx.ready(&[20.0, 5.0]);
    // The data volume is masked first (LUN 0), the boot volume second.
    fx.env.connect(&[(w[0], 0), (w[1], 1)], 0, vol(2), 5);
    fx.env.connect(&[(w[0], 0), (w[1], 1)], 1, vol(1), 20);
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::Complete);
    assert_eq!(fx.state(&vols[1]), F::Complete);
    let boot = fx.dsm.get_volume(&vols[0]).unwrap();
    assert_eq!(
        boot.uuid.as_deref(),
        Some(rules::naa_uuid(&vol(1)).as_str())
    );
    assert_eq!(boot.active_size, Some(20.0));
    assert!(boot.paths.is_empty(), "no partition attached yet");
    assert_eq!(fx.dsm.get_group(&g).unwrap().fulfillment_state, F::Complete);
    assert!(fx
        .dsm
        .get_group(&g)
        .unwrap()
        .unassigned_world_wide_port_names
        .iter()
        .all(|w| w.status == WwpnStatus::Validated));
    // Attaching after discovery gives paths at once.
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let boot = fx.dsm.get_volume(&vols[0]).unwrap();
    assert_eq!(boot.paths.len(), 2);
    assert_eq!(boot.paths[0].partition_uri, part("p1"));
    assert_eq!(boot.paths[0].device_number, DeviceNumber::new(0x100));
    assert_eq!(boot.paths[0].target_world_wide_port_name, T_A);
    assert_eq!(
        boot.paths[0].logical_unit_number,
        FcpLun::from_target_lun(1)
    );
    assert_eq!(boot.paths[1].target_world_wide_port_name, T_B);
}

#[test]
fn a_wwpn_without_a_port_sees_nothing() {
    let mut fx = Fx::new();
    let (g, vols) = fx.create("sg1", &[20.0]);
    let w = fx.wwpns(&g);
    fx.env.connect(&[(w[0], 0)], 0, vol(1), 20);
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::Pending);
    fx.dsm
        .add_candidate_ports(&g, &[port("fa")], &fx.env)
        .unwrap();
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::Complete);
    let st: Vec<_> = fx.dsm.views()[0]
        .wwpns
        .iter()
        .map(|w| w.status.clone())
        .collect();
    assert_eq!(st, vec![WwpnStatus::Validated, WwpnStatus::NotValidated]);
}

#[test]
fn a_size_mismatch_waits_for_accept() {
    let mut fx = Fx::new();
    let (g, vols, w) = fx.ready(&[20.0]);
    fx.env.connect(&[(w[0], 0)], 0, vol(1), 25);
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::PendingWithMismatches);
    assert_eq!(
        fx.dsm.get_group(&g).unwrap().fulfillment_state,
        F::PendingWithMismatches
    );
    assert_eq!(fx.dsm.get_volume(&vols[0]).unwrap().active_size, Some(25.0));
    fx.dsm.accept_mismatched(&g, &vols).unwrap();
    let v = fx.dsm.get_volume(&vols[0]).unwrap();
    assert_eq!((v.fulfillment_state, v.size), (F::Complete, 25.0));
    let e = fx.dsm.accept_mismatched(&g, &vols).unwrap_err();
    assert_eq!(code(&e), (409, 1));
    let other: StorageVolumeUri = "/api/storage-groups/x/storage-volumes/y".parse().unwrap();
    assert_eq!(
        code(&fx.dsm.accept_mismatched(&g, &[other]).unwrap_err()),
        (404, 2)
    );
}

#[test]
fn a_modified_size_re_evaluates_the_match() {
    let mut fx = Fx::new();
    let (g, vols, w) = fx.ready(&[20.0]);
    fx.env.connect(&[(w[0], 0)], 0, vol(1), 25);
    fx.discover(&g);
    let m = |size| StorageGroupModify {
        storage_volumes: vec![VolumeRequest::Modify(VolumeModify {
            element_uri: vols[0].clone(),
            name: None,
            description: None,
            size: Some(size),
            usage: None,
        })],
        ..StorageGroupModify::default()
    };
    fx.dsm
        .modify_group(&g, &m(25.0), &fx.env, &mut fx.ids)
        .unwrap();
    assert_eq!(fx.state(&vols[0]), F::Complete);
    fx.dsm
        .modify_group(&g, &m(30.0), &fx.env, &mut fx.ids)
        .unwrap();
    assert_eq!(fx.state(&vols[0]), F::PendingWithMismatches);
}

#[test]
fn an_unrequested_lun_is_overprovisioned_until_it_vanishes() {
    let mut fx = Fx::new();
    let (g, _, w) = fx.ready(&[]);
    fx.env.connect(&[(w[0], 0)], 0, vol(7), 8);
    fx.discover(&g);
    let list = fx
        .dsm
        .list_volumes(&g, &StorageVolumeFilter::default())
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].fulfillment_state, F::Overprovisioned);
    assert_eq!((list[0].size, list[0].name.as_str()), (8.0, ""));
    assert_eq!(
        fx.dsm.get_group(&g).unwrap().fulfillment_state,
        F::PendingWithMismatches
    );
    fx.env.masks.clear();
    fx.discover(&g);
    assert!(fx
        .dsm
        .list_volumes(&g, &StorageVolumeFilter::default())
        .unwrap()
        .is_empty());
    assert_eq!(fx.dsm.get_group(&g).unwrap().fulfillment_state, F::Complete);
}

#[test]
fn a_vanished_lun_makes_its_volume_incomplete_and_it_comes_back() {
    let mut fx = Fx::new();
    let (g, vols, w) = fx.ready(&[20.0]);
    fx.env.connect(&[(w[0], 0)], 0, vol(1), 20);
    fx.discover(&g);
    let masks = std::mem::take(&mut fx.env.masks);
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::Incomplete);
    assert_eq!(
        fx.dsm.get_group(&g).unwrap().fulfillment_state,
        F::Incomplete
    );
    fx.env.masks = masks;
    fx.discover(&g);
    assert_eq!(fx.state(&vols[0]), F::Complete);
}

#[test]
fn volume_list_filters() {
    let mut fx = Fx::new();
    let (g, _) = fx.create("sg1", &[20.0, 5.0, 5.0]);
    let f = |name: Option<&str>, usage, state| StorageVolumeFilter {
        name: name.map(Into::into),
        usage,
        fulfillment_state: state,
        ..StorageVolumeFilter::default()
    };
    assert_eq!(
        fx.dsm
            .list_volumes(&g, &f(Some("v[12]"), None, None))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        fx.dsm
            .list_volumes(&g, &f(None, Some(VolumeUsage::Boot), None))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        fx.dsm
            .list_volumes(&g, &f(None, None, Some(F::Complete)))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn discovery_jobs_refuse_a_second_run_unless_forced() {
    let mut fx = Fx::new();
    let (g, _, _) = fx.ready(&[]);
    let first = fx.dsm.start_discovery(&g, false, &mut fx.ids).unwrap();
    assert_eq!(first.superseded, None);
    let e = fx.dsm.start_discovery(&g, false, &mut fx.ids).unwrap_err();
    assert_eq!(code(&e), (409, 1));
    let second = fx.dsm.start_discovery(&g, true, &mut fx.ids).unwrap();
    assert_eq!(second.superseded.as_deref(), Some(first.job.as_str()));
    assert!(!fx
        .dsm
        .finish_discovery_job(&first.job, &fx.env, &mut fx.ids));
    assert!(fx
        .dsm
        .finish_discovery_job(&second.job, &fx.env, &mut fx.ids));
    assert_eq!(fx.dsm.get_group(&g).unwrap().fulfillment_state, F::Complete);
    let mut body = create_body("nvme", &[]);
    body.group_type = StorageGroupType::Nvme;
    let n = fx
        .dsm
        .create_group(&body, &fx.env, &mut fx.ids)
        .unwrap()
        .object_uri;
    assert_eq!(
        code(&fx.dsm.start_discovery(&n, false, &mut fx.ids).unwrap_err()),
        (409, 1)
    );
}

#[test]
fn auto_discovery_skips_complete_groups_and_ends_with_the_group() {
    let mut fx = Fx::new();
    let (g, vols, w) = fx.ready(&[20.0]);
    fx.env.connect(&[(w[0], 0)], 0, vol(1), 20);
    assert!(fx.dsm.auto_discover(g.object_id(), &fx.env, &mut fx.ids));
    assert_eq!(fx.state(&vols[0]), F::Complete);
    fx.env.masks.clear();
    // Complete: not rediscovered, so the vanished LUN goes unnoticed.
    assert!(fx.dsm.auto_discover(g.object_id(), &fx.env, &mut fx.ids));
    assert_eq!(fx.state(&vols[0]), F::Complete);
    fx.dsm.delete_group(&g).unwrap();
    assert!(!fx.dsm.auto_discover(g.object_id(), &fx.env, &mut fx.ids));
}
