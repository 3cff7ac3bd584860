//! Create, list and the candidate ports of a group.

use super::*;

#[test]
fn create_allocates_wwpns_and_pending_volumes_in_order() {
    let mut fx = Fx::new();
    let (g, vols) = fx.create("sg1", &[20.0, 5.0]);
    let got = fx.dsm.get_group(&g).unwrap();
    assert_eq!(got.parent, "/api/console");
    assert_eq!(got.fulfillment_state, F::Pending);
    assert_eq!(got.unassigned_world_wide_port_names.len(), 2);
    assert!(got
        .unassigned_world_wide_port_names
        .iter()
        .all(|w| w.status == WwpnStatus::NotValidated));
    assert_eq!(got.storage_volume_uris, vols);
    assert_eq!(
        fx.dsm.get_volume(&vols[0]).unwrap().usage,
        VolumeUsage::Boot
    );
    assert_eq!(fx.state(&vols[1]), F::Pending);
}

#[test]
fn create_defaults_are_the_hmcs() {
    let mut fx = Fx::new();
    let mut body = create_body("sg", &[]);
    body.shared = None;
    body.connectivity = None;
    body.max_partitions = None;
    let c = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    let g = fx.dsm.get_group(&c.object_uri).unwrap();
    // Shared, two paths, two partitions (zhmccli's documented defaults).
    assert!(g.shared);
    assert_eq!((g.connectivity, g.max_partitions), (2, Some(2)));
    assert_eq!(g.description, "");
    assert_eq!(fx.wwpns(&c.object_uri).len(), 4);
    let full = fx.dsm.group_properties(&c.object_uri).unwrap();
    assert_eq!(full.fcp.map(|f| f.direct_connection_count), Some(0));
    // One partition alone: not shared (STORAGE-GROUPS.md).
    let mut body = create_body("sg2", &[]);
    body.shared = None;
    body.max_partitions = Some(1);
    let c2 = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    assert!(!fx.dsm.get_group(&c2.object_uri).unwrap().shared);
    assert_eq!(fx.wwpns(&c2.object_uri).len(), 2);
    // Not shared alone: one partition, the only value it may have.
    let mut body = create_body("sg3", &[]);
    body.shared = Some(false);
    body.max_partitions = None;
    let c3 = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    let g3 = fx.dsm.get_group(&c3.object_uri).unwrap();
    assert_eq!((g3.shared, g3.max_partitions), (false, Some(1)));
}

#[test]
fn create_refusals_change_nothing() {
    let mut fx = Fx::new();
    fx.create("taken", &[]);
    let before = fx.snapshot();
    type Edit = Box<dyn Fn(&mut StorageGroupCreate)>;
    let cases: Vec<(Edit, (u16, u16))> = vec![
        (
            Box::new(|b| b.cpc_uri = CpcUri::from_object_id("other").unwrap()),
            (404, 2),
        ),
        (Box::new(|b| b.name = String::new()), (400, 7)),
        (Box::new(|b| b.name = "x".repeat(65)), (400, 7)),
        (Box::new(|b| b.name = "taken".into()), (409, 8)),
        (
            Box::new(|b| b.group_type = StorageGroupType::Other("iscsi".into())),
            (400, 7),
        ),
        (Box::new(|b| b.max_partitions = Some(2)), (400, 7)),
        (Box::new(|b| b.connectivity = Some(0)), (400, 7)),
        (Box::new(|b| b.connectivity = Some(65)), (400, 7)),
        (
            Box::new(|b| {
                if let Some(VolumeRequest::Create(c)) = b.storage_volumes.first_mut() {
                    c.size = 0.0;
                }
            }),
            (400, 7),
        ),
        (
            Box::new(|b| {
                b.storage_volumes.push(VolumeRequest::Delete {
                    element_uri: "/api/storage-groups/g/storage-volumes/v".parse().unwrap(),
                })
            }),
            (400, 7),
        ),
    ];
    for (i, (edit, want)) in cases.iter().enumerate() {
        let mut body = create_body("new", &[10.0]);
        edit(&mut body);
        let e = fx
            .dsm
            .create_group(&body, &fx.env, &mut fx.ids)
            .unwrap_err();
        assert_eq!(code(&e), *want, "case {i}: {e}");
        assert_eq!(fx.snapshot(), before, "case {i}");
    }
    fx.env.feature = false;
    let e = fx
        .dsm
        .create_group(&create_body("new", &[]), &fx.env, &mut fx.ids)
        .unwrap_err();
    assert_eq!(code(&e), (409, 1));
    assert!(e.to_string().contains("dpm-storage-management"), "{e}");
}

#[test]
fn wwpns_are_connectivity_times_max_partitions_and_unique() {
    let mut fx = Fx::new();
    let mut body = create_body("big", &[]);
    body.shared = Some(true);
    body.connectivity = Some(3);
    body.max_partitions = Some(4);
    let a = fx
        .dsm
        .create_group(&body, &fx.env, &mut fx.ids)
        .unwrap()
        .object_uri;
    let (b, _) = fx.create("small", &[]);
    let mut all = fx.wwpns(&a);
    assert_eq!(all.len(), 12);
    all.extend(fx.wwpns(&b));
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[test]
fn list_filters_by_cpc_and_anchored_name() {
    let mut fx = Fx::new();
    fx.create("web1", &[]);
    fx.create("web10", &[]);
    let f = |name: &str| StorageGroupFilter {
        cpc: Some(cpc()),
        name: Some(name.into()),
    };
    assert_eq!(fx.dsm.list_groups(&f("web1"), &fx.env).unwrap().len(), 1);
    assert_eq!(fx.dsm.list_groups(&f("web.*"), &fx.env).unwrap().len(), 2);
    let e = fx.dsm.list_groups(&f("("), &fx.env).unwrap_err();
    assert_eq!(code(&e), (400, 1));
    fx.env.feature = false;
    let e = fx.dsm.list_groups(&f(".*"), &fx.env).unwrap_err();
    assert_eq!(code(&e), (409, 1));
}

// ----- candidate ports ------------------------------------------------------

#[test]
fn candidate_ports_bind_wwpns_in_order_and_refuse_cleanly() {
    let mut fx = Fx::new();
    let (g, _) = fx.create("sg1", &[]);
    fx.dsm
        .add_candidate_ports(&g, &[port("fa")], &fx.env)
        .unwrap();
    let ports = |fx: &Fx| -> Vec<Option<StoragePortUri>> {
        fx.dsm
            .group(g.object_id())
            .unwrap()
            .wwpns
            .iter()
            .map(|w| w.port.clone())
            .collect()
    };
    assert_eq!(ports(&fx), vec![Some(port("fa")), None]);
    let before = fx.snapshot();
    let missing = StoragePortUri::new(&AdapterUri::from_object_id("nope").unwrap(), "0").unwrap();
    for (ports_, want) in [
        (vec![port("fb"), missing], (404, 2)),
        (vec![port("ficon")], (400, 7)),
        (vec![port("fb"), port("fa")], (409, 483)),
        (vec![port("fb"), port("fb")], (409, 483)),
    ] {
        let e = fx
            .dsm
            .add_candidate_ports(&g, &ports_, &fx.env)
            .unwrap_err();
        assert_eq!(code(&e), want);
        assert_eq!(fx.snapshot(), before);
    }
    fx.dsm
        .add_candidate_ports(&g, &[port("fb")], &fx.env)
        .unwrap();
    assert_eq!(ports(&fx), vec![Some(port("fa")), Some(port("fb"))]);
    let e = fx
        .dsm
        .remove_candidate_ports(&g, &[port("ficon")])
        .unwrap_err();
    assert_eq!(code(&e), (409, 479));
    fx.dsm.remove_candidate_ports(&g, &[port("fa")]).unwrap();
    assert_eq!(ports(&fx), vec![None, Some(port("fb"))]);
}

#[test]
fn a_port_a_vsr_uses_cannot_be_removed() {
    let mut fx = Fx::new();
    let (g, _, _) = fx.ready(&[]);
    fx.dsm
        .attach(&part("p1"), &g, &fx.env, &mut fx.ids)
        .unwrap();
    let before = fx.snapshot();
    let e = fx
        .dsm
        .remove_candidate_ports(&g, &[port("fb")])
        .unwrap_err();
    assert_eq!(code(&e), (409, 1));
    assert_eq!(fx.snapshot(), before);
}
