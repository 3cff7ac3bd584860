//! Nova's state calls: `get_info`, `list_instances`,
//! `list_instance_uuids`, `get_available_resource`; and what operators
//! read: an instance's storage and everything about it (`describe`).

use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use hmc_client::{HmcApi, PartitionFilter, PartitionUri};

use crate::driver::DpmDriver;
use crate::host::regex_escape;
use crate::name::parse_description;
use crate::values::{
    hypervisor_version, InstanceDetails, InstanceInfo, PowerState, Resources, StorageInfo,
};

use crate::error::LookupError;

impl<H: HmcApi> DpmDriver<H> {
    /// Nova's `get_info`: the instance's power state. A missing partition
    /// is [`LookupError::InstanceNotFound`], not a state.
    pub async fn get_info(&self, instance: &InstanceId) -> Result<InstanceInfo, LookupError> {
        let (uri, p) = self.require_read_partition(instance).await?;
        Ok(InstanceInfo {
            state: PowerState::from_status(&p.status),
            status: p.status,
            partition: uri,
            vcpus: p.ifl_processors,
            memory_mb: p.initial_memory,
        })
    }

    /// The IFLs and initial memory of each of this host's partitions.
    ///
    /// One request on an HMC at API 4.1 (HMC 2.16.0) or later: the list
    /// with `additional-properties=ifl-processors,initial-memory`. An older
    /// HMC (the API version comes from the logon at `init_host`) does not
    /// have that query parameter: the list, then one bulk read of the
    /// partitions, two requests, still none per partition. Should an HMC
    /// refuse the parameter all the same (400.1), the list is read again
    /// without it. Entries that come back without the two properties are
    /// read in bulk too.
    async fn own_partition_sizes(&self) -> Result<Vec<(u32, u64)>, LookupError> {
        use hmc_client::PartitionListProperty::{IflProcessors, InitialMemory};
        let filter = self.own_partitions_filter();
        let parts = self
            .list_partitions_with(&filter, &[IflProcessors, InitialMemory])
            .await?;
        let mut sizes = Vec::with_capacity(parts.len());
        let mut unsized_uris: Vec<PartitionUri> = Vec::new();
        for p in parts {
            match (p.ifl_processors, p.initial_memory) {
                (Some(ifl), Some(memory)) => sizes.push((ifl, memory)),
                _ => unsized_uris.push(p.object_uri),
            }
        }
        // The rest in one bulk read, not one GET each.
        let full: Vec<hmc_client::Partition> = hmc_client::get_many(&self.hmc, &unsized_uris)
            .await
            .map_err(LookupError::ListPartitions)?;
        sizes.extend(
            full.into_iter()
                .map(|p| (p.ifl_processors, p.initial_memory)),
        );
        Ok(sizes)
    }

    pub(crate) fn own_partitions_filter(&self) -> PartitionFilter {
        PartitionFilter {
            name: Some(format!(
                "OpenStack-{}-[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}",
                regex_escape(&self.config.host)
            )),
            status: None,
        }
    }

    /// Nova's `list_instance_uuids`: the instances of this host, from the
    /// partitions named for it.
    pub async fn list_instance_uuids(&self) -> Result<Vec<InstanceId>, LookupError> {
        let prefix = format!("OpenStack-{}-", self.config.host);
        let parts = self
            .hmc
            .list_partitions(self.cpc(), &self.own_partitions_filter())
            .await
            .map_err(LookupError::ListPartitions)?;
        Ok(parts
            .iter()
            .filter_map(|p| p.name.strip_prefix(&prefix)?.parse().ok())
            .collect())
    }

    /// Nova's `list_instances`: the names of this host's instances, as Nova
    /// names them (the partitions' names).
    pub async fn list_instances(&self) -> Result<Vec<String>, LookupError> {
        Ok(self
            .list_instance_uuids()
            .await?
            .iter()
            .map(|i| self.partition_name(i))
            .collect())
    }

    /// Nova's `get_available_resource`: the configured limits, and the sums
    /// of this host's partitions' IFLs and memory.
    pub async fn get_available_resource(&self) -> Result<Resources, LookupError> {
        let ready = self.ready()?;
        let (mut vcpus_used, mut memory_mb_used) = (0u32, 0u64);
        for (ifl, memory) in self.own_partition_sizes().await? {
            // The HMC's numbers are outside data: never overflow on them.
            vcpus_used = vcpus_used.saturating_add(ifl);
            memory_mb_used = memory_mb_used.saturating_add(memory);
        }
        Ok(Resources {
            vcpus: self.config.max_processors,
            memory_mb: self.config.max_memory,
            vcpus_used,
            memory_mb_used,
            hypervisor_type: "PRSM",
            hypervisor_version: hypervisor_version(&ready.se_version),
            hypervisor_hostname: self.config.host.clone(),
            cpu_arch: "s390x",
        })
    }

    /// The guest's console messages (the HMC's "List OS Messages of a
    /// Partition"), oldest first, from sequence number `since` on (all
    /// when `None`). A partition that never started has none.
    pub async fn console_messages(
        &self,
        instance: &InstanceId,
        since: Option<u64>,
    ) -> Result<Vec<hmc_client::OsMessage>, LookupError> {
        let uri = self.require_partition(instance).await?;
        let filter = hmc_client::OsMessageFilter {
            begin: since,
            ..hmc_client::OsMessageFilter::default()
        };
        self.hmc
            .list_os_messages(&uri, &filter)
            .await
            .map(|m| m.os_messages)
            .map_err(|source| LookupError::ReadConsole {
                partition: uri,
                source,
            })
    }

    /// Nova's `get_console_output`: the guest's console log, one line per
    /// OS message.
    pub async fn get_console_output(&self, instance: &InstanceId) -> Result<String, LookupError> {
        let mut out = String::new();
        for m in self.console_messages(instance, None).await? {
            out.push_str(m.message_text.trim_end_matches('\n'));
            out.push('\n');
        }
        Ok(out)
    }

    /// What reaches the instance's volumes: its vHBAs, or its storage group
    /// with its volumes (fulfillment state and paths) and VSRs.
    pub async fn storage_info(&self, instance: &InstanceId) -> Result<StorageInfo, LookupError> {
        let ready = self.ready()?;
        let located =
            self.locate(instance)
                .await?
                .ok_or_else(|| LookupError::InstanceNotFound {
                    instance: instance.clone(),
                })?;
        ready
            .storage
            .storage_info(&self.host, &ready.ports, &located)
            .await
    }

    /// Everything about one instance: its name, partition, state, boot
    /// source, volumes with their paths, and storage. `attached`: the
    /// volumes Cinder reports attached to it, with their connection info
    /// (with vHBAs the paths come from there; storage groups name their
    /// requests after the volumes).
    pub async fn describe(
        &self,
        instance: &InstanceId,
        attached: &[(VolumeId, ConnectionInfo)],
    ) -> Result<InstanceDetails, LookupError> {
        let ready = self.ready()?;
        let located =
            self.locate(instance)
                .await?
                .ok_or_else(|| LookupError::InstanceNotFound {
                    instance: instance.clone(),
                })?;
        let p = self.get_partition(&located.partition).await?;
        let name = parse_description(&p.description)
            .filter(|(i, _)| i == instance)
            .and_then(|(_, n)| n);
        let info = InstanceInfo {
            state: PowerState::from_status(&p.status),
            status: p.status.clone(),
            partition: located.partition.clone(),
            vcpus: p.ifl_processors,
            memory_mb: p.initial_memory,
        };
        let storage = ready
            .storage
            .storage_info(&self.host, &ready.ports, &located)
            .await?;
        let (boot, mut volumes) = ready.storage.volumes(&p, &storage, attached);
        volumes.sort_by_key(|v| !v.boot);
        Ok(InstanceDetails {
            instance: instance.clone(),
            name,
            partition_name: p.name,
            info,
            boot,
            volumes,
            storage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::hypervisor_version;

    #[test]
    fn se_versions_never_overflow() {
        assert_eq!(hypervisor_version("2.16.0"), 2_016_000);
        assert_eq!(hypervisor_version("2.13"), 2_013_000);
        assert_eq!(hypervisor_version("junk"), 0);
        assert_eq!(hypervisor_version("18446744073709551615.9.9"), u64::MAX);
    }
}
