//! `init_host`: log on, check the CPC, the limits and every adapter
//! mapping, and choose the storage model's steps from the CPC's features.

use hmc_client::{AdapterType, HmcApi, StoragePortUri, FEATURE_DPM_STORAGE_MANAGEMENT};
use std::sync::Arc;

use crate::config::AdapterMapping;
use crate::driver::{DpmDriver, Ready};
use crate::error::InitError;
use crate::storage::{groups::Groups, vhbas::Vhbas, Storage};

impl<H: HmcApi + 'static> DpmDriver<H> {
    /// Logs on and checks the CPC, the capacity limits and every adapter
    /// mapping. Each failure is its own [`InitError`]; nothing exits.
    #[tracing::instrument(name = "init_host", skip(self), fields(host = %self.config.host, cpc = %self.config.cpc))]
    pub async fn init_host(&self) -> Result<(), InitError> {
        let logon = self.hmc.logon().await.map_err(InitError::Logon)?;
        let api_version = (logon.api_major_version, logon.api_minor_version);
        let cpc_uri = self.cpc().clone();
        let cpc = self.hmc.get_cpc(&cpc_uri).await.map_err(|e| {
            if e.is_not_found() {
                InitError::CpcNotFound {
                    cpc: cpc_uri.clone(),
                }
            } else {
                InitError::GetCpc {
                    cpc: cpc_uri.clone(),
                    source: e,
                }
            }
        })?;
        let missing = |property| InitError::CpcPropertyMissing {
            cpc: cpc_uri.clone(),
            property,
        };
        if !cpc.dpm_enabled.ok_or_else(|| missing("dpm-enabled"))? {
            return Err(InitError::CpcNotDpm { cpc: cpc_uri });
        }
        let status = cpc.status.clone().ok_or_else(|| missing("status"))?;
        if !status.is_usable() {
            return Err(InitError::CpcUnusable {
                cpc: cpc_uri,
                status: status.to_string(),
            });
        }
        // The one place the model is chosen: z14 and later have the
        // feature (and no HBAs); z13 has neither.
        let storage: Arc<dyn Storage<H>> = if cpc.has_feature(FEATURE_DPM_STORAGE_MANAGEMENT) {
            Arc::new(Groups)
        } else {
            Arc::new(Vhbas)
        };
        let ifl = cpc
            .processor_count_ifl
            .ok_or_else(|| missing("processor-count-ifl"))?;
        if self.config.max_processors > ifl {
            return Err(InitError::MaxProcessorsExceeded {
                configured: self.config.max_processors,
                available: ifl,
            });
        }
        let memory = cpc
            .storage_customer
            .ok_or_else(|| missing("storage-customer"))?;
        if self.config.max_memory > memory {
            return Err(InitError::MaxMemoryExceeded {
                configured: self.config.max_memory,
                available: memory,
            });
        }
        let se_version = cpc
            .se_version
            .clone()
            .ok_or_else(|| missing("se-version"))?;

        let mut ports = Vec::new();
        for m in &self.config.adapter_mappings {
            ports.push((m.clone(), self.check_adapter(m).await?));
        }
        tracing::info!(adapters = ports.len(), model = %storage.model(), "host initialized");
        self.lists_properties.store(
            api_version >= hmc_client::LIST_ADDITIONAL_PROPERTIES_SINCE,
            std::sync::atomic::Ordering::Relaxed,
        );
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Ready {
            ports,
            se_version,
            storage,
        }));
        Ok(())
    }

    /// The adapter exists on this CPC, is FCP, and has the port. With
    /// storage groups the port becomes a candidate of every instance's
    /// group, so the same checks hold for both models.
    async fn check_adapter(&self, m: &AdapterMapping) -> Result<StoragePortUri, InitError> {
        let adapter = m.adapter.clone();
        let a = self.hmc.get_adapter(&adapter).await.map_err(|e| {
            if e.is_not_found() {
                InitError::AdapterNotFound {
                    adapter: adapter.clone(),
                }
            } else {
                InitError::GetAdapter {
                    adapter: adapter.clone(),
                    source: e,
                }
            }
        })?;
        if &a.parent != self.cpc() {
            return Err(InitError::AdapterOnOtherCpc {
                adapter,
                parent: a.parent,
            });
        }
        if a.adapter_type != AdapterType::Fcp {
            return Err(InitError::AdapterNotFcp {
                adapter,
                name: a.name,
                adapter_type: a.adapter_type.to_string(),
            });
        }
        let uris = a.storage_port_uris.unwrap_or_default();
        for uri in &uris {
            let port =
                self.hmc
                    .get_storage_port(uri)
                    .await
                    .map_err(|e| InitError::GetAdapterPort {
                        adapter: adapter.clone(),
                        source: e,
                    })?;
            if port.index == u32::from(m.port) {
                return Ok(uri.clone());
            }
        }
        Err(InitError::AdapterPortMissing {
            adapter,
            port: m.port,
            ports: uris.len(),
        })
    }
}
