use cinder_client::{CinderApi, Connector, VolumeCreate, VolumeId};
use dpm_sim::{Sim, SimCinder, SimHmc, WorldSpec};
use hmc_client::{Hba, HbaCreate, HmcApi, PartitionCreate, PartitionUri, StoragePortUri};

pub struct World {
    pub sim: Sim,
    pub hmc: SimHmc,
    pub cinder: SimCinder,
}

pub async fn world() -> World {
    world_from(WorldSpec::z13()).await
}

pub async fn world_from(spec: WorldSpec) -> World {
    let sim = Sim::stepped(spec).unwrap();
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let cinder = sim.default_cinder();
    World { sim, hmc, cinder }
}

pub fn props(name: &str, ifl: u32, mem: u64) -> PartitionCreate {
    PartitionCreate {
        name: name.into(),
        description: Some("test".into()),
        partition_type: Some("linux".into()),
        ifl_processors: Some(ifl),
        cp_processors: None,
        initial_memory: mem,
        maximum_memory: mem,
        processor_mode: Some("shared".into()),
    }
}

impl World {
    pub async fn partition(&self, name: &str) -> PartitionUri {
        self.hmc
            .create_partition(&self.sim.cpc_uri(), &props(name, 2, 4096))
            .await
            .unwrap()
    }

    /// Port 0 of each FCP adapter, in order.
    pub fn fcp_ports(&self) -> Vec<StoragePortUri> {
        self.sim
            .fcp_adapters()
            .iter()
            .map(|a| StoragePortUri::new(&a.uri, "0").unwrap())
            .collect()
    }

    /// One vHBA per FCP adapter.
    pub async fn hbas(&self, p: &PartitionUri) -> Vec<Hba> {
        let mut out = Vec::new();
        for (i, port) in self.fcp_ports().into_iter().enumerate() {
            let uri = self
                .hmc
                .create_hba(
                    p,
                    &HbaCreate {
                        name: format!("hba{i}"),
                        adapter_port_uri: port,
                        description: None,
                        device_number: None,
                    },
                )
                .await
                .unwrap();
            out.push(self.hmc.get_hba(&uri).await.unwrap());
        }
        out
    }

    pub async fn volume(&self, image: bool) -> VolumeId {
        let req = VolumeCreate {
            size: 10,
            name: Some("vol".into()),
            image_ref: image.then(|| self.sim.images()[0].0.clone()),
            ..VolumeCreate::default()
        };
        let v = self.cinder.create_volume(&req).await.unwrap();
        self.sim.run_until_idle();
        v.id
    }
}

pub fn connector(hbas: &[Hba]) -> Connector {
    Connector {
        wwpns: hbas.iter().map(|h| h.wwpn).collect(),
        wwnns: Vec::new(),
        host: "compute-1".into(),
        platform: Some("s390x".into()),
        os_type: Some("linux".into()),
        multipath: false,
        enforce_multipath: false,
        mountpoint: None,
    }
}

/// Asserts an HMC error's status and reason.
#[track_caller]
pub fn assert_hmc<T: std::fmt::Debug>(
    r: Result<T, hmc_client::HmcError>,
    status: u16,
    reason: u16,
) {
    let e = r.unwrap_err();
    assert_eq!(e.status_reason(), Some((status, reason)), "{e}");
}

/// Asserts a Cinder error's status.
#[track_caller]
pub fn assert_cinder<T: std::fmt::Debug>(r: Result<T, cinder_client::CinderError>, status: u16) {
    let e = r.unwrap_err();
    assert_eq!(e.status(), Some(status), "{e}");
}
