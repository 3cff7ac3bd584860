//! The host's instances with their names, as the partition list shows
//! them.

use cinder_client::InstanceId;
use hmc_client::{HmcApi, PartitionSummary, PartitionUri};

use crate::driver::DpmDriver;
use crate::error::LookupError;
use crate::name::parse_description;
use crate::values::InstanceSummary;

impl<H: HmcApi> DpmDriver<H> {
    /// This host's instances with their names, statuses and sizes.
    ///
    /// One HMC request on an HMC at API 4.1 or later (the list with
    /// `additional-properties=description,ifl-processors,initial-memory`);
    /// an older HMC gets the list, then one bulk read of the partitions.
    /// Entries that come back without those properties are read in bulk
    /// too; never one request per partition.
    pub async fn list_instances_named(&self) -> Result<Vec<InstanceSummary>, LookupError> {
        use hmc_client::PartitionListProperty::{Description, IflProcessors, InitialMemory};
        self.ready()?;
        let filter = self.own_partitions_filter();
        let parts = self
            .list_partitions_with(&filter, &[Description, IflProcessors, InitialMemory])
            .await?;
        let complete = |p: &PartitionSummary| {
            p.description.is_some() && p.ifl_processors.is_some() && p.initial_memory.is_some()
        };
        let unread: Vec<PartitionUri> = parts
            .iter()
            .filter(|p| !complete(p))
            .map(|p| p.object_uri.clone())
            .collect();
        let full: Vec<hmc_client::Partition> = hmc_client::get_many(&self.hmc, &unread)
            .await
            .map_err(LookupError::ListPartitions)?;
        let prefix = format!("OpenStack-{}-", self.config.host);
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let Some(instance) = p
                .name
                .strip_prefix(&prefix)
                .and_then(|u| u.parse::<InstanceId>().ok())
            else {
                continue;
            };
            let read = full.iter().find(|f| f.object_uri == p.object_uri);
            let description = p
                .description
                .clone()
                .or_else(|| read.map(|f| f.description.clone()));
            // A description that names another instance is not this one's.
            let name = description
                .as_deref()
                .and_then(parse_description)
                .filter(|(i, _)| *i == instance)
                .and_then(|(_, n)| n);
            out.push(InstanceSummary {
                instance,
                name,
                vcpus: p
                    .ifl_processors
                    .or(read.map(|f| f.ifl_processors))
                    .unwrap_or(0),
                memory_mb: p
                    .initial_memory
                    .or(read.map(|f| f.initial_memory))
                    .unwrap_or(0),
                partition: p.object_uri,
                status: p.status,
            });
        }
        Ok(out)
    }
}
