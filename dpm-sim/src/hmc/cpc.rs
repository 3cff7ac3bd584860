//! The CPC and its adapters with their storage ports.

use hmc_client::{
    Adapter, AdapterFilter, AdapterSummary, AdapterType, AdapterUri, Cpc, CpcStatus, CpcSummary,
    CpcUri, Feature, HmcError, StoragePort, StoragePortUri, FEATURE_DPM_STORAGE_MANAGEMENT,
};

use super::adapter_properties::{Family, PortLoad};
use super::{reason, regex, HmcState};
use crate::ids::unreachable_uri;
use crate::spec::WorldSpec;

#[derive(Debug)]
pub(crate) struct CpcState {
    pub object_id: String,
    pub name: String,
    pub dpm: bool,
    pub storage_management: bool,
    pub status: String,
    pub ifl: u32,
    pub memory_mib: u64,
    pub se_version: String,
    pub machine_type: String,
    pub machine_model: String,
    pub serial: String,
    pub maximum_partitions: u32,
}

impl CpcState {
    /// The CPC of `spec`, its object id not yet drawn.
    pub(super) fn new(spec: &WorldSpec) -> Self {
        Self {
            object_id: String::new(),
            name: spec.cpc.name.clone(),
            dpm: spec.cpc.dpm,
            storage_management: spec.cpc.storage_management,
            status: spec.cpc.status.clone(),
            ifl: spec.cpc.ifl,
            memory_mib: spec.cpc.memory_mib,
            se_version: spec.cpc.se_version.clone(),
            machine_type: spec.cpc.machine_type.clone(),
            machine_model: spec.cpc.machine_model.clone(),
            serial: spec.cpc.serial.clone(),
            maximum_partitions: spec.cpc.maximum_partitions,
        }
    }

    pub fn uri(&self) -> CpcUri {
        CpcUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }

    pub(super) fn status(&self) -> CpcStatus {
        CpcStatus::from(self.status.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct PortState {
    pub index: u32,
    pub fabric: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct AdapterState {
    pub object_id: String,
    pub name: String,
    pub pchid: String,
    pub adapter_type: AdapterType,
    pub ports: Vec<PortState>,
}

impl AdapterState {
    pub fn uri(&self) -> AdapterUri {
        AdapterUri::from_object_id(&self.object_id).unwrap_or_else(|_| unreachable_uri())
    }
}

/// 404.1 for an adapter the CPC does not have.
pub(super) fn no_adapter(uri: &AdapterUri) -> HmcError {
    HmcError::api(
        "GET",
        uri.as_str(),
        404,
        reason::NOT_FOUND,
        format!("No adapter {uri}."),
    )
}

impl HmcState {
    pub(crate) fn list_cpcs(&self, name: Option<&str>) -> Result<Vec<CpcSummary>, HmcError> {
        if let Some(pattern) = name {
            if !regex("GET", "/api/cpcs", pattern)?.is_match(&self.cpc.name) {
                return Ok(Vec::new());
            }
        }
        Ok(vec![CpcSummary {
            object_uri: self.cpc.uri(),
            name: self.cpc.name.clone(),
            status: self.cpc.status(),
            has_unacceptable_status: !self.cpc.status().is_usable(),
            dpm_enabled: self.cpc.dpm,
            se_version: Some(self.cpc.se_version.clone()),
        }])
    }

    /// 404.1 unless `cpc` is this HMC's CPC.
    pub(super) fn check_cpc(&self, method: &'static str, cpc: &CpcUri) -> Result<(), HmcError> {
        if *cpc != self.cpc.uri() {
            return Err(HmcError::api(
                method,
                cpc.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No CPC {cpc}."),
            ));
        }
        Ok(())
    }

    pub(crate) fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.check_cpc("GET", cpc)?;
        let c = &self.cpc;
        Ok(Cpc {
            object_id: Some(c.object_id.clone()),
            object_uri: Some(c.uri()),
            class: Some("cpc".into()),
            name: Some(c.name.clone()),
            description: Some(format!("Simulated CPC {}", c.name)),
            status: Some(c.status()),
            dpm_enabled: Some(c.dpm),
            iml_mode: Some(if c.dpm { "dpm" } else { "lpar" }.into()),
            processor_count_ifl: Some(c.ifl),
            processor_count_general_purpose: Some(2),
            storage_customer: Some(c.memory_mib),
            storage_customer_available: Some(self.memory_free()),
            maximum_partitions: Some(c.maximum_partitions),
            machine_type: Some(c.machine_type.clone()),
            machine_model: Some(c.machine_model.clone()),
            se_version: Some(c.se_version.clone()),
            available_features_list: Some(vec![Feature {
                name: FEATURE_DPM_STORAGE_MANAGEMENT.into(),
                description: "The DPM storage management approach in which FCP and FICON storage resources are defined in Storage Groups, which are attached to Partitions.".into(),
                state: c.storage_management,
            }]),
        })
    }

    pub(crate) fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<AdapterSummary>, HmcError> {
        let uri = format!("{cpc}/adapters");
        self.check_cpc("GET", cpc)?;
        let name_re = filter
            .name
            .as_deref()
            .map(|p| regex("GET", &uri, p))
            .transpose()?;
        Ok(self
            .adapters
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                filter
                    .adapter_type
                    .as_ref()
                    .is_none_or(|t| *t == a.adapter_type)
            })
            .filter(|(_, a)| name_re.as_ref().is_none_or(|re| re.is_match(&a.name)))
            .map(|(i, a)| {
                let full = self.adapter_view(i, a);
                AdapterSummary {
                    object_uri: full.object_uri,
                    name: full.name,
                    adapter_id: Some(full.adapter_id),
                    adapter_family: Some(full.adapter_family),
                    adapter_type: full.adapter_type,
                    status: Some(full.status),
                }
            })
            .collect())
    }

    /// The adapter as hmc-client reads it: a subset of its full property
    /// set ([`HmcState::adapter_properties_of`]).
    fn adapter_view(&self, index: usize, a: &AdapterState) -> Adapter {
        let full = self.adapter_properties_of(index, a, &PortLoad::new());
        Adapter {
            object_id: full.object_id,
            object_uri: full.object_uri,
            parent: self.cpc.uri(),
            class: full.class.into(),
            name: full.name,
            description: full.description,
            adapter_id: full.adapter_id,
            adapter_family: full.adapter_family.into(),
            adapter_type: full.adapter_type,
            detected_card_type: Some(full.detected_card_type),
            port_count: full.port_count,
            status: full.status.into(),
            state: Some(full.state.into()),
            storage_port_uris: full.storage_port_uris,
        }
    }

    pub(crate) fn get_adapter(&self, uri: &AdapterUri) -> Result<Adapter, HmcError> {
        self.adapters
            .iter()
            .enumerate()
            .find(|(_, a)| a.object_id == uri.object_id())
            .map(|(i, a)| self.adapter_view(i, a))
            .ok_or_else(|| no_adapter(uri))
    }

    pub(crate) fn get_storage_port(&self, uri: &StoragePortUri) -> Result<StoragePort, HmcError> {
        let (adapter, index) = self
            .find_port(uri)
            .filter(|(a, _)| Family::of(&a.adapter_type).is_some_and(Family::has_storage_ports))
            .ok_or_else(|| {
                HmcError::api(
                    "GET",
                    uri.as_str(),
                    404,
                    reason::NOT_FOUND,
                    format!("No storage port {uri}."),
                )
            })?;
        let port = &adapter.ports[index];
        Ok(StoragePort {
            element_id: port.index.to_string(),
            element_uri: uri.clone(),
            parent: uri.parent(),
            class: "storage-port".into(),
            index: port.index,
            name: format!("Port {}", port.index),
            description: String::new(),
            fabric_id: port.fabric.map(|f| self.fabrics[f]),
        })
    }
}
