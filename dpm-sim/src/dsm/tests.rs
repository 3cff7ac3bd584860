//! The storage-management domain on its own, against a hand-made world.

use std::collections::BTreeMap;

use cinder_client::VolumeId;
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{
    AdapterUri, CpcUri, FulfillmentState as F, HmcError, LunPath, PartitionStatus, PartitionUri,
    StorageGroupCreate, StorageGroupFilter, StorageGroupModify, StorageGroupType, StorageGroupUri,
    StoragePortUri, StorageVolumeFilter, StorageVolumeUri, VolumeCreate, VolumeModify,
    VolumeRequest, VolumeUsage, WwpnStatus,
};

use super::*;

#[derive(Default)]
struct FakeAlloc {
    n: u64,
}

impl Alloc for FakeAlloc {
    fn object_id(&mut self, kind: IdKind) -> String {
        self.n += 1;
        format!("{kind:?}-{}", self.n).to_lowercase()
    }
    fn npiv_wwpn(&mut self) -> Wwpn {
        self.n += 1;
        Wwpn::from_u64(0xc050_76ff_e500_0000 + self.n)
    }
}

struct FakeEnv {
    feature: bool,
    ports: BTreeMap<StoragePortUri, PortFacts>,
    partitions: Vec<PartitionFacts>,
    /// (initiator, target, fabric)
    zones: Vec<(Wwpn, Wwpn, usize)>,
    /// (initiator, LUN, volume)
    masks: Vec<(Wwpn, FcpLun, VolumeId)>,
    volumes: BTreeMap<VolumeId, CinderVolumeFacts>,
}

fn cpc() -> CpcUri {
    CpcUri::from_object_id("c1").unwrap()
}
fn port(a: &str) -> StoragePortUri {
    StoragePortUri::new(&AdapterUri::from_object_id(a).unwrap(), "0").unwrap()
}
fn part(id: &str) -> PartitionUri {
    PartitionUri::from_object_id(id).unwrap()
}
fn vol(n: u128) -> VolumeId {
    VolumeId::from_u128(n)
}
const T_A: Wwpn = Wwpn::from_u64(0x5005_0768_0b21_55ab);
const T_B: Wwpn = Wwpn::from_u64(0x5005_0768_0b22_55ab);

impl FakeEnv {
    fn new() -> Self {
        let mut ports = BTreeMap::new();
        ports.insert(
            port("fa"),
            PortFacts {
                fcp: true,
                ficon: false,
                fabric: Some(0),
            },
        );
        ports.insert(
            port("fb"),
            PortFacts {
                fcp: true,
                ficon: false,
                fabric: Some(1),
            },
        );
        ports.insert(
            port("ficon"),
            PortFacts {
                fcp: false,
                ficon: true,
                fabric: Some(0),
            },
        );
        Self {
            feature: true,
            ports,
            partitions: vec![facts("p1"), facts("p2")],
            zones: Vec::new(),
            masks: Vec::new(),
            volumes: BTreeMap::new(),
        }
    }
    fn partition_mut(&mut self, id: &str) -> &mut PartitionFacts {
        self.partitions
            .iter_mut()
            .find(|p| p.uri.object_id() == id)
            .unwrap()
    }
    /// What Cinder does on attach: mask at `lun` and zone on each fabric.
    fn connect(&mut self, wwpns: &[(Wwpn, usize)], lun: u64, v: VolumeId, size: u64) {
        self.volumes.insert(
            v.clone(),
            CinderVolumeFacts {
                size_gib: size,
                bootable: true,
            },
        );
        for &(w, f) in wwpns {
            let t = if f == 0 { T_A } else { T_B };
            if !self.zones.contains(&(w, t, f)) {
                self.zones.push((w, t, f));
            }
            self.masks
                .push((w, FcpLun::from_target_lun(lun), v.clone()));
        }
    }
}

fn facts(id: &str) -> PartitionFacts {
    PartitionFacts {
        uri: part(id),
        name: id.into(),
        status: PartitionStatus::Stopped,
        partition_type: "linux".into(),
        boot_storage_volume: None,
        device_numbers: Vec::new(),
    }
}

impl CpcView for FakeEnv {
    fn cpc(&self) -> CpcFacts {
        CpcFacts {
            uri: cpc(),
            name: "CPC1".into(),
            storage_management: self.feature,
        }
    }
}
impl PortView for FakeEnv {
    fn port(&self, port: &StoragePortUri) -> Option<PortFacts> {
        self.ports.get(port).copied()
    }
}
impl PartitionsView for FakeEnv {
    fn partition(&self, uri: &PartitionUri) -> Option<PartitionFacts> {
        self.partitions.iter().find(|p| p.uri == *uri).cloned()
    }
    fn partitions(&self) -> Vec<PartitionFacts> {
        self.partitions.clone()
    }
}
impl SanView for FakeEnv {
    fn zoned_targets(&self, initiator: Wwpn, fabric: usize) -> Vec<Wwpn> {
        self.zones
            .iter()
            .filter(|(i, _, f)| *i == initiator && *f == fabric)
            .map(|(_, t, _)| *t)
            .collect()
    }
    fn masked_luns(&self, initiator: Wwpn) -> Vec<(FcpLun, VolumeId)> {
        self.masks
            .iter()
            .filter(|(i, _, _)| *i == initiator)
            .map(|(_, l, v)| (*l, v.clone()))
            .collect()
    }
}
impl CinderView for FakeEnv {
    fn cinder_volume(&self, id: &VolumeId) -> Option<CinderVolumeFacts> {
        self.volumes.get(id).copied()
    }
}

fn create_body(name: &str, sizes: &[f64]) -> StorageGroupCreate {
    StorageGroupCreate {
        cpc_uri: cpc(),
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
                VolumeRequest::Create(VolumeCreate {
                    name: Some(format!("v{i}")),
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

struct Fx {
    dsm: DsmState,
    env: FakeEnv,
    ids: FakeAlloc,
}

impl Fx {
    fn new() -> Self {
        Self {
            dsm: DsmState::default(),
            env: FakeEnv::new(),
            ids: FakeAlloc::default(),
        }
    }
    fn create(&mut self, name: &str, sizes: &[f64]) -> (StorageGroupUri, Vec<StorageVolumeUri>) {
        let c = self
            .dsm
            .create_group(&create_body(name, sizes), &self.env, &mut self.ids)
            .unwrap();
        (c.object_uri, c.element_uris)
    }
    /// A group with ports on both fabrics and its WWPNs.
    fn ready(&mut self, sizes: &[f64]) -> (StorageGroupUri, Vec<StorageVolumeUri>, Vec<Wwpn>) {
        let (g, v) = self.create("sg1", sizes);
        self.dsm
            .add_candidate_ports(&g, &[port("fa"), port("fb")], &self.env)
            .unwrap();
        let w = self.wwpns(&g);
        (g, v, w)
    }
    fn wwpns(&self, g: &StorageGroupUri) -> Vec<Wwpn> {
        self.dsm
            .group(g.object_id())
            .unwrap()
            .wwpns
            .iter()
            .map(|w| w.wwpn)
            .collect()
    }
    fn discover(&mut self, g: &StorageGroupUri) {
        self.dsm.discover(g, &self.env, &mut self.ids);
    }
    fn state(&self, v: &StorageVolumeUri) -> F {
        self.dsm.get_volume(v).unwrap().fulfillment_state
    }
    fn snapshot(&self) -> String {
        format!("{:?}", self.dsm)
    }
}

fn code(e: &HmcError) -> (u16, u16) {
    match e {
        HmcError::Api { status, reason, .. } => (*status, *reason),
        other => panic!("not an API error: {other:?}"),
    }
}

// ----- create -----------------------------------------------------------

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
fn create_defaults_are_two_paths_one_partition_not_shared() {
    let mut fx = Fx::new();
    let mut body = create_body("sg", &[]);
    body.shared = None;
    body.connectivity = None;
    body.max_partitions = None;
    let c = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    let g = fx.dsm.get_group(&c.object_uri).unwrap();
    // Shared by default, except with one partition (STORAGE-GROUPS.md).
    assert!(!g.shared);
    assert_eq!((g.connectivity, g.max_partitions), (2, Some(1)));
    let mut body = create_body("sg2", &[]);
    body.shared = None;
    body.max_partitions = Some(2);
    let c2 = fx.dsm.create_group(&body, &fx.env, &mut fx.ids).unwrap();
    assert!(fx.dsm.get_group(&c2.object_uri).unwrap().shared);
    assert_eq!(fx.wwpns(&c.object_uri).len(), 2);
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

// ----- attach and detach ------------------------------------------------------

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

// ----- discovery ---------------------------------------------------------------

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

// ----- modify ------------------------------------------------------------------

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
