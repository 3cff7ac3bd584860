use cinder_client::{CinderApi, InstanceId, VolumeCreate, VolumeId, VolumeStatus};
use dpm_compute::{BlockDevice, Compute};
use dpm_driver::{DpmDriver, DriverConfig, Instance};
use dpm_sim::{Sim, SimCinder, SimHmc, WorldSpec};

pub type Driver = Compute<SimHmc, SimCinder>;

pub struct Env {
    pub sim: Sim,
    pub driver: Driver,
}

/// The driver configuration for a simulated world: every FCP adapter's port
/// 0, in order, and limits within the CPC.
pub fn config_toml(sim: &Sim, extra: &str) -> String {
    let mappings: Vec<String> = sim
        .fcp_adapters()
        .iter()
        .map(|a| format!("\"{}:0\"", a.uri.object_id()))
        .collect();
    format!(
        r#"
[dpm]
host = "compute-1"
hmc = "https://127.0.0.1:6794"
hmc_username = "{user}"
hmc_password = "{password}"
cpc_object_id = "{cpc}"
max_processors = 8
max_memory = 32768
physical_storage_adapter_mappings = [{mappings}]
{extra}
"#,
        user = sim.spec().hmc.userid,
        password = sim.spec().hmc.password,
        cpc = sim.cpc_uri().object_id(),
        mappings = mappings.join(", "),
    )
}

pub fn driver_for(sim: &Sim, extra: &str) -> Driver {
    driver_with(
        sim,
        DriverConfig::from_toml(&config_toml(sim, extra)).unwrap(),
    )
}

/// A driver whose HMC client logs on with the configuration's credentials.
pub fn driver_with(sim: &Sim, cfg: DriverConfig) -> Driver {
    let hmc = sim.hmc_with(hmc_client::Credentials {
        userid: cfg.hmc_username.clone(),
        password: cfg.hmc_password.clone(),
    });
    Compute::new(DpmDriver::new(hmc, cfg), sim.default_cinder())
}

pub async fn env() -> Env {
    env_from(WorldSpec::z13(), "").await
}

pub async fn env_from(spec: WorldSpec, extra: &str) -> Env {
    let sim = Sim::new(spec).unwrap();
    let driver = driver_for(&sim, extra);
    driver.init_host().await.unwrap();
    Env { sim, driver }
}

pub fn instance(n: u128) -> Instance {
    Instance::new(InstanceId::from_u128(0x1000 + n), 2, 4096)
}

pub fn boot_from(volume: &VolumeId) -> Vec<BlockDevice> {
    vec![BlockDevice::boot(volume.clone())]
}

impl Env {
    pub fn cinder(&self) -> &SimCinder {
        self.driver.cinder()
    }

    /// Creates a volume (from the first image when `image`) and waits for it
    /// on the automatic clock.
    pub async fn volume(&self, name: &str, image: bool) -> VolumeId {
        let req = VolumeCreate {
            size: 10,
            name: Some(name.into()),
            image_ref: image.then(|| self.sim.images()[0].0.clone()),
            ..VolumeCreate::default()
        };
        let v = self.cinder().create_volume(&req).await.unwrap();
        // From an image it goes creating → downloading → available.
        while matches!(
            self.cinder().get_volume(&v.id).await.unwrap().status,
            VolumeStatus::Creating | VolumeStatus::Downloading
        ) {
            // The clock is paused: this moves simulated time, it does not sleep.
            tokio::time::advance(std::time::Duration::from_millis(500)).await;
        }
        v.id
    }

    pub async fn status(&self, v: &VolumeId) -> VolumeStatus {
        self.cinder().get_volume(v).await.unwrap().status
    }

    /// Another workload starts and holds `mib` of the CPC's memory.
    pub async fn hold_memory(&self, mib: u64) {
        use hmc_client::HmcApi;
        let hmc = self.sim.hmc();
        hmc.logon().await.unwrap();
        let other = hmc
            .create_partition(
                &self.sim.cpc_uri(),
                &hmc_client::PartitionCreate {
                    name: "batch".into(),
                    description: None,
                    partition_type: None,
                    ifl_processors: Some(1),
                    cp_processors: None,
                    initial_memory: mib,
                    maximum_memory: mib,
                    processor_mode: None,
                },
            )
            .await
            .unwrap();
        let job = hmc.start_partition(&other).await.unwrap();
        hmc_client::wait_for_job(&hmc, &job, &Default::default())
            .await
            .unwrap();
    }
}

/// A partition made on the HMC behind the driver's back, as an earlier try
/// that died or another tool would leave it: stopped, with `name`,
/// `description`, `ifl` processors and `memory_mb` of memory.
pub async fn make_partition(
    env: &Env,
    name: String,
    description: Option<String>,
    ifl: u32,
    memory_mb: u64,
) -> hmc_client::PartitionUri {
    use hmc_client::HmcApi;
    let props = hmc_client::PartitionCreate {
        name,
        description,
        partition_type: None,
        ifl_processors: Some(ifl),
        cp_processors: None,
        initial_memory: memory_mb,
        maximum_memory: memory_mb,
        processor_mode: None,
    };
    env.driver
        .hmc()
        .create_partition(&env.sim.cpc_uri(), &props)
        .await
        .unwrap()
}

/// [`make_partition`] as an earlier spawn of `vm` left it: the instance's
/// name and description, 1 IFL and 2 GiB.
pub async fn earlier_try_partition(
    env: &Env,
    vm: &dpm_driver::Instance,
) -> hmc_client::PartitionUri {
    make_partition(
        env,
        env.driver.partition_name(&vm.uuid),
        Some(env.driver.driver().partition_description(&vm.uuid)),
        1,
        2048,
    )
    .await
}
