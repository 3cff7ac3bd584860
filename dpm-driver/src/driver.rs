//! The virt driver object: the host it stands on, and what `init_host`
//! learned.

use cinder_client::Connector;
use dpm_volume::{connector_for, VolumeError};
use hmc_client::HmcApi;
use std::sync::{Arc, Mutex};

use crate::config::DriverConfig;
use crate::error::LookupError;
use crate::host::Host;
use crate::storage::Storage;
use crate::values::{Instance, Located, StorageModel};

/// What `init_host` learned and every later operation uses.
#[derive(Debug)]
pub(crate) struct Ready<H> {
    /// The storage port of each adapter mapping, in configuration order.
    pub ports: Vec<(crate::config::AdapterMapping, hmc_client::StoragePortUri)>,
    /// The CPC's support element version, "a.b.c".
    pub se_version: String,
    /// The storage model's steps, chosen once from the CPC's features.
    pub storage: Arc<dyn Storage<H>>,
}

/// The DPM virt driver: Nova's calls, through the HMC alone.
///
/// ```no_run
/// # async fn demo<H: hmc_client::HmcApi + 'static>(hmc: H, config: dpm_driver::DriverConfig,
/// #     vm: dpm_driver::Instance) -> Result<(), Box<dyn std::error::Error>> {
/// use dpm_driver::DpmDriver;
///
/// let driver = DpmDriver::new(hmc, config);
/// driver.init_host().await?;
/// // Nova hands this to Cinder's attachment update.
/// let connector = driver.get_volume_connector(&vm).await?;
/// println!("initiators {:?}", connector.wwpns);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DpmDriver<H> {
    pub(crate) host: Host<H>,
    pub(crate) ready: Mutex<Option<Arc<Ready<H>>>>,
}

/// The driver's own steps are the host's: `self.find_partition(..)` and the
/// rest read as before.
impl<H> std::ops::Deref for DpmDriver<H> {
    type Target = Host<H>;
    fn deref(&self) -> &Host<H> {
        &self.host
    }
}

impl<H: HmcApi> DpmDriver<H> {
    /// A driver over this HMC client. Call [`DpmDriver::init_host`] first.
    pub fn new(hmc: H, config: DriverConfig) -> Self {
        Self {
            host: Host {
                hmc,
                config,
                lists_properties: std::sync::atomic::AtomicBool::new(false),
            },
            ready: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// The HMC client.
    pub fn hmc(&self) -> &H {
        &self.hmc
    }

    pub(crate) fn ready(&self) -> Result<Arc<Ready<H>>, LookupError> {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(LookupError::NotInitialized)
    }

    /// The storage model `init_host` found, once it has succeeded.
    pub fn storage_model(&self) -> Option<StorageModel> {
        self.ready().ok().map(|r| r.storage.model())
    }

    /// The connector for what [`Self::locate`] or
    /// [`Self::prepare_for_spawn`] found: the initiators' WWPNs, this host,
    /// `platform: s390x`, `os_type: linux`.
    pub fn connector(&self, located: &Located) -> Result<Connector, VolumeError> {
        connector_for(&located.initiators.wwpns(), &self.config.host)
    }

    /// Refuses a flavor beyond the host's limits (`max_processors`,
    /// `max_memory`) or without vCPUs; no request is made.
    pub fn check_flavor(&self, instance: &Instance) -> Result<(), crate::FlavorTooLarge> {
        let cfg = &self.config;
        if instance.vcpus == 0
            || instance.vcpus > cfg.max_processors
            || instance.memory_mb > cfg.max_memory
        {
            return Err(crate::FlavorTooLarge {
                vcpus: instance.vcpus,
                memory_mb: instance.memory_mb,
                max_processors: cfg.max_processors,
                max_memory: cfg.max_memory,
            });
        }
        Ok(())
    }
}
