//! Attaching groups to partitions and detaching them: VSRs, device
//! numbers, refusals.

use super::*;

#[test]
fn attach_makes_one_vsr_per_path_with_free_device_numbers() {
    let mut fx = Fx::new();
    let (g, _, w) = fx.ready(&[]);
    fx.env.partition_mut("p1").device_numbers = vec![DeviceNumber::new(0x100)];
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let vsrs = fx.dsm.list_vsrs(&g, Some(&part("p1")), None).unwrap();
    assert_eq!(vsrs.len(), 2);
    assert_eq!(vsrs[0].device_number, DeviceNumber::new(0x101));
    assert_eq!(vsrs[1].device_number, DeviceNumber::new(0x102));
    assert_eq!(vsrs[0].name, "sg1 path 1");
    let full = fx.dsm.get_vsr(&vsrs[1].element_uri).unwrap();
    assert_eq!(full.world_wide_port_name, w[1]);
    assert_eq!(full.adapter_port_uri, Some(port("fb")));
    assert_eq!(fx.dsm.groups_of(&part("p1")), vec![g.clone()]);
    assert!(fx
        .dsm
        .get_group(&g)
        .unwrap()
        .unassigned_world_wide_port_names
        .is_empty());
    let ps = fx.dsm.group_partitions(&g, &fx.env).unwrap();
    assert_eq!(ps[0].object_uri, part("p1"));
}

#[test]
fn attach_refusals_change_nothing() {
    let mut fx = Fx::new();
    let (g, _, _) = fx.ready(&[]);
    let nope = StorageGroupUri::from_object_id("nope").unwrap();
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let before = fx.snapshot();
    let cases = [
        (part("p9"), g.clone(), (404, 1)),
        (part("p2"), nope, (404, 2)),
        (part("p1"), g.clone(), (409, 1)),
        (part("p2"), g.clone(), (409, 1)),
    ];
    for (p, grp, want) in cases {
        let e = fx.dsm.attach(&p, &grp, &fx.env, &mut fx.ids).unwrap_err();
        assert_eq!(code(&e), want, "{e}");
        assert_eq!(fx.snapshot(), before);
    }
    // A shared group with room: refused only while the partition is in
    // transition.
    let mut body = create_body("shared", &[]);
    body.shared = Some(true);
    body.max_partitions = Some(2);
    let s = fx
        .dsm
        .create_group(&body, &fx.env, &mut fx.ids)
        .unwrap()
        .object_uri;
    fx.env.partition_mut("p2").status = PartitionStatus::Starting;
    let e = fx
        .dsm
        .attach(&part("p2"), &s, &fx.env, &mut fx.ids)
        .unwrap_err();
    assert_eq!(code(&e), (409, 1));
    fx.env.partition_mut("p2").status = PartitionStatus::Active;
    fx.dsm
        .attach(&part("p2"), &s, &fx.env, &mut fx.ids)
        .unwrap();
    // The second partition gets the second slot's WWPNs.
    fx.dsm
        .attach(&part("p1"), &s, &fx.env, &mut fx.ids)
        .unwrap();
    let w = fx.wwpns(&s);
    let p1 = fx.dsm.vsr_pairs(&part("p1"));
    assert!(p1
        .iter()
        .any(|(d, x)| *x == w[2] && *d == DeviceNumber::new(0x102)));
    // Other group types are not attached.
    let mut body = create_body("ficon", &[]);
    body.group_type = StorageGroupType::Fc;
    let f = fx
        .dsm
        .create_group(&body, &fx.env, &mut fx.ids)
        .unwrap()
        .object_uri;
    let e = fx
        .dsm
        .attach(&part("p1"), &f, &fx.env, &mut fx.ids)
        .unwrap_err();
    assert_eq!(code(&e), (409, 1));
}

#[test]
fn detach_needs_a_stopped_partition_that_does_not_boot_from_it() {
    let mut fx = Fx::new();
    let (g, vols, _) = fx.ready(&[20.0]);
    let e = fx.dsm.detach(&part("p1"), &g, &fx.env).unwrap_err();
    assert_eq!(code(&e), (409, 1));
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let before = fx.snapshot();
    fx.env.partition_mut("p1").status = PartitionStatus::Active;
    assert_eq!(
        code(&fx.dsm.detach(&part("p1"), &g, &fx.env).unwrap_err()),
        (409, 1)
    );
    fx.env.partition_mut("p1").status = PartitionStatus::Stopped;
    fx.env.partition_mut("p1").boot_storage_volume = Some(vols[0].clone());
    assert_eq!(
        code(&fx.dsm.detach(&part("p1"), &g, &fx.env).unwrap_err()),
        (409, 1)
    );
    assert_eq!(fx.snapshot(), before);
    fx.env.partition_mut("p1").boot_storage_volume = None;
    fx.dsm.detach(&part("p1"), &g, &fx.env).unwrap();
    assert!(fx.dsm.list_vsrs(&g, None, None).unwrap().is_empty());
    assert!(fx.dsm.groups_of(&part("p1")).is_empty());
}

#[test]
fn deleting_a_partition_detaches_its_groups() {
    let mut fx = Fx::new();
    let (g, _, _) = fx.ready(&[]);
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    fx.dsm.partition_deleted(&part("p1"));
    assert!(fx
        .dsm
        .get_group(&g)
        .unwrap()
        .virtual_storage_resource_uris
        .is_empty());
    fx.dsm.delete_group(&g).unwrap();
}

#[test]
fn an_attached_group_cannot_be_deleted() {
    let mut fx = Fx::new();
    let (g, _, _) = fx.ready(&[]);
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let e = fx.dsm.delete_group(&g).unwrap_err();
    assert_eq!(code(&e), (409, 1));
    assert!(fx.dsm.get_group(&g).is_ok());
}
