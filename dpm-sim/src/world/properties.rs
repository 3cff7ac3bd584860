//! Full property sets that need more than one domain: an adapter's
//! configured and used capacity count the vHBAs (HMC) and the VSRs
//! (storage management) on each of its ports.

use hmc_client::{AdapterUri, HmcError};

use super::World;
use crate::hmc::{AdapterProperties, PortLoad};

impl World {
    /// `GET /api/adapters/{id}` in full (404.1 for an unknown adapter).
    pub(crate) fn adapter_properties(
        &self,
        uri: &AdapterUri,
    ) -> Result<AdapterProperties, HmcError> {
        self.hmc.adapter_properties(uri, &self.port_load(uri))
    }

    /// For each port of the adapter: the vHBAs and VSRs on it, and how
    /// many of those belong to partitions that hold their resources
    /// (starting, running or stopping).
    fn port_load(&self, uri: &AdapterUri) -> PortLoad {
        let Some(a) = self
            .hmc
            .adapters
            .iter()
            .find(|a| a.object_id == uri.object_id())
        else {
            return PortLoad::new();
        };
        let running = |p: &hmc_client::PartitionUri| {
            self.hmc
                .partitions
                .get(p.object_id())
                .is_some_and(|p| p.memory_held)
        };
        let mut load = vec![(0u32, 0u32); a.ports.len()];
        let mut count = |port: &hmc_client::StoragePortUri,
                         partition: &hmc_client::PartitionUri| {
            if port.parent() != *uri {
                return;
            }
            let slot = port
                .element_id()
                .parse::<usize>()
                .ok()
                .and_then(|i| load.get_mut(i));
            if let Some((configured, used)) = slot {
                *configured += 1;
                if running(partition) {
                    *used += 1;
                }
            }
        };
        for p in self.hmc.partitions.values() {
            let partition = p.uri();
            for h in &p.hbas {
                count(&h.port, &partition);
            }
        }
        for g in &self.dsm.groups {
            for v in &g.vsrs {
                if let Some(port) = g.vsr_wwpn(v).and_then(|w| w.port.as_ref()) {
                    count(port, &v.partition);
                }
            }
        }
        load
    }
}
