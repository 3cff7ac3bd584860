//! An instance's name, stored with its partition, and what the driver
//! reads back: the host's instances with their names, and one instance in
//! full (`describe`).
//!
//! The partition's name holds the instance UUID (`OpenStack-<host>-<uuid>`);
//! its `description` holds, after nova-dpm's `OpenStack CPCSubset=<host>`,
//! the UUID again and the name the instance was spawned with:
//!
//! ```text
//! OpenStack CPCSubset=compute-1 instance=8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63 name=web1
//! ```
//!
//! The name is last, so it may hold spaces; [`InstanceName`] keeps it to
//! [`MAX_NAME_LEN`] characters, so the description stays well within the
//! HMC's 1024.

use std::fmt;
use std::str::FromStr;

use cinder_client::{InstanceId, VolumeId};
use dpm_volume::FcPath;
use hmc_client::{HmcApi, PartitionStatus, PartitionSummary, PartitionUri};

use crate::driver::DpmDriver;
use crate::error::LookupError;
use crate::info::InstanceInfo;
use crate::storage::{Boot, StorageInfo};

/// The longest instance name, in characters (Nova's display name column).
pub const MAX_NAME_LEN: usize = 255;

/// An instance's name: 1 to [`MAX_NAME_LEN`] characters, no control
/// characters, no space at either end, and not a UUID (so that a name and
/// a UUID never stand for different instances).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceName(String);

/// A name that cannot be an instance's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, or only spaces.
    #[error("an instance name cannot be empty")]
    Empty,
    /// Too long.
    #[error("the instance name is {len} characters; at most {MAX_NAME_LEN}")]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// Holds a control character (a newline, say).
    #[error("the instance name {name:?} holds a control character")]
    Control {
        /// The name.
        name: String,
    },
    /// Starts or ends with a space.
    #[error("the instance name {name:?} starts or ends with a space")]
    Padded {
        /// The name.
        name: String,
    },
    /// Reads as a UUID, which would stand for another instance.
    #[error("the instance name {name:?} is a UUID; instances are named by their UUID already, choose a name that is not one")]
    Uuid {
        /// The name.
        name: String,
    },
}

impl FromStr for InstanceName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        if s.trim().is_empty() {
            return Err(NameError::Empty);
        }
        let len = s.chars().count();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { len });
        }
        if s.chars().any(char::is_control) {
            return Err(NameError::Control { name: s.into() });
        }
        if s.trim() != s {
            return Err(NameError::Padded { name: s.into() });
        }
        if s.parse::<InstanceId>().is_ok() {
            return Err(NameError::Uuid { name: s.into() });
        }
        Ok(Self(s.to_owned()))
    }
}

impl InstanceName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for InstanceName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The description spawn gives a partition.
pub(crate) fn partition_description(
    host: &str,
    instance: &InstanceId,
    name: Option<&InstanceName>,
) -> String {
    let mut d = format!("OpenStack CPCSubset={host} instance={instance}");
    if let Some(n) = name {
        d.push_str(" name=");
        d.push_str(n.as_str());
    }
    d
}

/// The instance and name a description written by spawn holds (`None` for any other description; a
/// name that is not valid any more reads as none).
pub fn parse_description(description: &str) -> Option<(InstanceId, Option<InstanceName>)> {
    let rest = description.strip_prefix("OpenStack CPCSubset=")?;
    let (_, rest) = rest.split_once(" instance=")?;
    let uuid = rest.get(..36)?;
    let instance: InstanceId = uuid.parse().ok()?;
    let rest = rest.get(36..)?;
    let name = rest.strip_prefix(" name=").and_then(|n| n.parse().ok());
    Some((instance, name))
}

/// One of this host's instances, as the partition list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    /// The instance.
    pub instance: InstanceId,
    /// The name it was spawned with, if it was given one.
    pub name: Option<InstanceName>,
    /// Its partition.
    pub partition: PartitionUri,
    /// The partition's status.
    pub status: PartitionStatus,
    /// Its IFLs.
    pub vcpus: u32,
    /// Its initial memory, MiB.
    pub memory_mb: u64,
}

/// A volume of an instance with its LUN paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceVolume {
    /// The Cinder volume.
    pub volume: VolumeId,
    /// Whether the instance boots from it.
    pub boot: bool,
    /// Its paths into the partition: Cinder's map through every vHBA
    /// (vHBAs; on Storwize the map is all-to-all, so some paths lead to
    /// the other fabric), or the paths DPM discovered (storage groups).
    pub paths: Vec<FcPath>,
}

/// Everything about one instance (`dpm info`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetails {
    /// The instance.
    pub instance: InstanceId,
    /// The name it was spawned with.
    pub name: Option<InstanceName>,
    /// The partition's name.
    pub partition_name: String,
    /// Its state, partition, vCPUs and memory.
    pub info: InstanceInfo,
    /// What it boots from, as the partition's boot properties say.
    pub boot: Option<Boot>,
    /// Its volumes with their paths (the boot volume first). With vHBAs
    /// the paths come from Cinder's attachments, so a Cinder without the
    /// attachments API (3.44) gives none here.
    pub volumes: Vec<InstanceVolume>,
    /// Its vHBAs, or its storage group with volumes and VSRs.
    pub storage: StorageInfo,
}

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
        let ready = self.ready()?;
        let filter = self.own_partitions_filter();
        let plain = || async {
            self.hmc
                .list_partitions(self.cpc(), &filter)
                .await
                .map_err(LookupError::ListPartitions)
        };
        let parts: Vec<PartitionSummary> =
            if ready.api_version >= hmc_client::LIST_ADDITIONAL_PROPERTIES_SINCE {
                match self
                    .hmc
                    .list_partitions_with(
                        self.cpc(),
                        &filter,
                        &[Description, IflProcessors, InitialMemory],
                    )
                    .await
                {
                    Ok(parts) => parts,
                    Err(e) if e.status_reason() == Some((400, 1)) => plain().await?,
                    Err(e) => return Err(LookupError::ListPartitions(e)),
                }
            } else {
                plain().await?
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_reads_back_its_instance_and_name() {
        let id = InstanceId::from_u128(7);
        let name: InstanceName = "web 1 name=x".parse().unwrap();
        let d = partition_description("compute-1", &id, Some(&name));
        assert_eq!(
            d,
            format!("OpenStack CPCSubset=compute-1 instance={id} name=web 1 name=x")
        );
        assert_eq!(parse_description(&d), Some((id.clone(), Some(name))));
        let plain = partition_description("compute-1", &id, None);
        assert_eq!(parse_description(&plain), Some((id, None)));
        assert_eq!(parse_description("OpenStack CPCSubset=compute-1"), None);
        assert_eq!(parse_description("something else"), None);
    }

    #[test]
    fn names_are_checked() {
        assert!("web1".parse::<InstanceName>().is_ok());
        assert_eq!("".parse::<InstanceName>(), Err(NameError::Empty));
        assert!(matches!(
            "a\nb".parse::<InstanceName>(),
            Err(NameError::Control { .. })
        ));
        assert!(matches!(
            " web".parse::<InstanceName>(),
            Err(NameError::Padded { .. })
        ));
        assert!(matches!(
            "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse::<InstanceName>(),
            Err(NameError::Uuid { .. })
        ));
        assert!(matches!(
            "x".repeat(256).parse::<InstanceName>(),
            Err(NameError::TooLong { len: 256 })
        ));
        // The longest description fits the HMC's 1024 characters.
        let long: InstanceName = "é".repeat(MAX_NAME_LEN).parse().unwrap();
        let d = partition_description(
            &"h".repeat(crate::MAX_HOST_LEN),
            &InstanceId::from_u128(1),
            Some(&long),
        );
        assert!(d.chars().count() <= 1024);
    }
}
