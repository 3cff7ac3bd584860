//! The storage-management domain on its own, against a hand-made world.

use std::collections::BTreeMap;

use cinder_client::VolumeId;
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{
    AdapterUri, CpcUri, FulfillmentState as F, HmcError, LunPath, PartitionStatus, PartitionUri,
    StorageGroupCreate, StorageGroupCreated, StorageGroupFilter, StorageGroupModify,
    StorageGroupType, StorageGroupUri, StoragePortUri, StorageVolumeFilter, StorageVolumeUri,
    VolumeCreate, VolumeModify, VolumeRequest, VolumeUsage, WwpnStatus,
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

mod attach;
mod create;
mod discovery;
mod modify;

/// Create and modify without the fields beyond hmc-client's types (the
/// world passes those as they come in a request body).
impl DsmState {
    fn create_group(
        &mut self,
        req: &StorageGroupCreate,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> Result<StorageGroupCreated, HmcError> {
        self.create_group_with(req, &GroupSettings::default(), env, alloc)
    }

    fn modify_group(
        &mut self,
        uri: &StorageGroupUri,
        req: &StorageGroupModify,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        self.modify_group_with(uri, req, &GroupSettings::default(), env, alloc)
    }
}
