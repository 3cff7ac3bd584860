//! Modify (create, change and delete volumes in one request, a new
//! shape), validate-lun-path and the boot check.

use super::*;

#[test]
fn modify_creates_changes_and_deletes_in_one_request() {
    let mut fx = Fx::new();
    let (g, vols, _) = fx.ready(&[20.0, 5.0]);
    let m = StorageGroupModify {
        name: Some("renamed".into()),
        description: Some("d".into()),
        storage_volumes: vec![
            VolumeRequest::Create(VolumeCreate {
                name: Some("new".into()),
                description: None,
                size: 3.0,
                usage: None,
            }),
            VolumeRequest::Modify(VolumeModify {
                element_uri: vols[0].clone(),
                name: Some("root".into()),
                description: None,
                size: None,
                usage: None,
            }),
            VolumeRequest::Delete {
                element_uri: vols[1].clone(),
            },
        ],
        ..StorageGroupModify::default()
    };
    let created = fx.dsm.modify_group(&g, &m, &fx.env, &mut fx.ids).unwrap();
    assert_eq!(created.len(), 1);
    let got = fx.dsm.get_group(&g).unwrap();
    assert_eq!(got.name, "renamed");
    assert_eq!(
        got.storage_volume_uris,
        vec![vols[0].clone(), created[0].clone()]
    );
    assert_eq!(fx.dsm.get_volume(&vols[0]).unwrap().name, "root");
    assert_eq!(
        fx.dsm.get_volume(&created[0]).unwrap().usage,
        VolumeUsage::Data
    );
}

#[test]
fn modify_refusals_change_nothing() {
    let mut fx = Fx::new();
    fx.create("other", &[]);
    let (g, vols, _) = fx.ready(&[20.0]);
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    fx.env.partition_mut("p1").boot_storage_volume = Some(vols[0].clone());
    fx.env.partition_mut("p1").status = PartitionStatus::Active;
    let before = fx.snapshot();
    let foreign: StorageVolumeUri = "/api/storage-groups/x/storage-volumes/y".parse().unwrap();
    let cases = [
        (
            StorageGroupModify {
                name: Some("other".into()),
                ..StorageGroupModify::default()
            },
            (409, 8),
        ),
        (
            StorageGroupModify {
                connectivity: Some(4),
                ..StorageGroupModify::default()
            },
            (409, 1),
        ),
        (
            StorageGroupModify {
                storage_volumes: vec![VolumeRequest::Delete {
                    element_uri: vols[0].clone(),
                }],
                ..StorageGroupModify::default()
            },
            (409, 1),
        ),
        (
            StorageGroupModify {
                storage_volumes: vec![VolumeRequest::Delete {
                    element_uri: foreign,
                }],
                ..StorageGroupModify::default()
            },
            (404, 2),
        ),
        (
            StorageGroupModify {
                name: Some("fine".into()),
                storage_volumes: vec![VolumeRequest::Create(VolumeCreate {
                    name: None,
                    description: None,
                    size: -1.0,
                    usage: None,
                })],
                ..StorageGroupModify::default()
            },
            (400, 7),
        ),
    ];
    for (m, want) in cases {
        let e = fx
            .dsm
            .modify_group(&g, &m, &fx.env, &mut fx.ids)
            .unwrap_err();
        assert_eq!(code(&e), want, "{e}");
        assert_eq!(fx.snapshot(), before);
    }
    // Stopped, the boot volume may go.
    fx.env.partition_mut("p1").status = PartitionStatus::Stopped;
    let m = StorageGroupModify {
        storage_volumes: vec![VolumeRequest::Delete {
            element_uri: vols[0].clone(),
        }],
        ..StorageGroupModify::default()
    };
    fx.dsm.modify_group(&g, &m, &fx.env, &mut fx.ids).unwrap();
}

#[test]
fn a_new_shape_reallocates_wwpns_and_goes_back_to_pending() {
    let mut fx = Fx::new();
    let (g, _, w) = fx.ready(&[]);
    fx.discover(&g);
    assert_eq!(fx.dsm.get_group(&g).unwrap().fulfillment_state, F::Complete);
    let m = StorageGroupModify {
        connectivity: Some(1),
        ..StorageGroupModify::default()
    };
    fx.dsm.modify_group(&g, &m, &fx.env, &mut fx.ids).unwrap();
    let now = fx.wwpns(&g);
    assert_eq!(now.len(), 1);
    assert!(!w.contains(&now[0]));
    assert_eq!(
        fx.dsm.group(g.object_id()).unwrap().wwpns[0].port,
        Some(port("fa"))
    );
    assert_eq!(fx.dsm.get_group(&g).unwrap().fulfillment_state, F::Pending);
}

// ----- validate-lun-path and the boot check -----------------------------------------

#[test]
fn validate_lun_path_tells_target_from_lun() {
    let mut fx = Fx::new();
    let (_, _, w) = fx.ready(&[]);
    fx.env.connect(&[(w[0], 0)], 3, vol(1), 20);
    let path = |t, lun| LunPath {
        host_world_wide_port_name: w[0],
        adapter_port_uri: port("fa"),
        target_world_wide_port_name: t,
        logical_unit_number: FcpLun::from_target_lun(lun),
    };
    fx.dsm
        .validate_lun_path(&cpc(), &path(T_A, 3), &fx.env)
        .unwrap();
    let e = fx
        .dsm
        .validate_lun_path(&cpc(), &path(T_B, 3), &fx.env)
        .unwrap_err();
    assert_eq!(code(&e), (409, 484));
    let e = fx
        .dsm
        .validate_lun_path(&cpc(), &path(T_A, 4), &fx.env)
        .unwrap_err();
    assert_eq!(code(&e), (409, 485));
    let mut p = path(T_A, 3);
    p.adapter_port_uri = port("fb");
    assert_eq!(
        code(&fx.dsm.validate_lun_path(&cpc(), &p, &fx.env).unwrap_err()),
        (409, 484)
    );
    fx.env.feature = false;
    assert_eq!(
        code(
            &fx.dsm
                .validate_lun_path(&cpc(), &path(T_A, 3), &fx.env)
                .unwrap_err()
        ),
        (409, 1)
    );
}

#[test]
fn the_boot_check_names_each_failing_condition() {
    let mut fx = Fx::new();
    let mut body = create_body("sg1", &[20.0]);
    body.shared = Some(true);
    body.max_partitions = Some(2);
    let c = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    let (g, vols) = (c.object_uri, c.element_uris);
    fx.dsm
        .add_candidate_ports(&g, &[port("fa"), port("fb")], &fx.env)
        .unwrap();
    let w = fx.wwpns(&g);
    let check = |fx: &Fx, id: &str| {
        let p = fx.env.partition(&part(id)).unwrap();
        fx.dsm.boot_check(&p, &fx.env)
    };
    assert_eq!(check(&fx, "p1").unwrap_err(), rules::boot::NOT_SET);
    let missing: StorageVolumeUri = format!("{g}/storage-volumes/gone").parse().unwrap();
    fx.env.partition_mut("p1").boot_storage_volume = Some(missing.clone());
    assert_eq!(
        check(&fx, "p1").unwrap_err(),
        rules::boot::missing(missing.as_str())
    );
    fx.env.partition_mut("p1").boot_storage_volume = Some(vols[0].clone());
    fx.env.partition_mut("p2").boot_storage_volume = Some(vols[0].clone());
    let v = vols[0].as_str();
    assert_eq!(
        check(&fx, "p1").unwrap_err(),
        rules::boot::not_attached(v, "p1")
    );
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    fx.dsm
        .attach(&part("p2"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    assert_eq!(
        check(&fx, "p1").unwrap_err(),
        rules::boot::not_complete(v, "pending")
    );
    // Only the first slot (p1's WWPNs) is masked and zoned.
    fx.env.connect(&[(w[0], 0), (w[1], 1)], 0, vol(1), 20);
    fx.discover(&g);
    assert_eq!(check(&fx, "p2").unwrap_err(), rules::boot::no_path(v, "p2"));
    fx.env.volumes.get_mut(&vol(1)).unwrap().bootable = false;
    assert_eq!(check(&fx, "p1").unwrap_err(), rules::boot::not_bootable(v));
    fx.env.volumes.get_mut(&vol(1)).unwrap().bootable = true;
    assert_eq!(check(&fx, "p1"), Ok(()));
    // Unmasked after discovery: the start finds no path any more.
    fx.env.masks.clear();
    assert_eq!(check(&fx, "p1").unwrap_err(), rules::boot::path_gone(v));
    // Masked again but unzoned: the same.
    fx.env.connect(&[(w[0], 0), (w[1], 1)], 0, vol(1), 20);
    fx.env.zones.clear();
    assert_eq!(check(&fx, "p1").unwrap_err(), rules::boot::path_gone(v));
}
