//! The storage-group model's HMC steps, each one request or a short
//! reconciliation: find, read, create and take over the instance's group,
//! add and remove requests, discover, and match Cinder volumes to storage
//! volumes by their paths. `groups.rs` strings them into the model's
//! [`super::Storage`] implementation.

use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::FcPath;
use fc_types::Wwpn;
use hmc_client::{
    get_many, wait_for_job, FulfillmentState, HmcApi, HmcError, PartitionUri, StorageGroup,
    StorageGroupCreate, StorageGroupFilter, StorageGroupModify, StorageGroupType, StorageGroupUri,
    StorageVolume, StorageVolumeFilter, StorageVolumeUri, VolumeCreate, VolumeModify,
    VolumeRequest, VolumeUsage, Vsr,
};

use super::Change;
use crate::host::{regex_escape, Host, Ports};
use crate::values::{DriverVolume, GroupInfo, GroupPath, PlannedVolume};

use crate::error::GroupStep;

/// A Cinder volume matched to its storage volume.
#[derive(Debug, Clone)]
pub(super) struct Matched {
    pub(super) volume: VolumeId,
    pub(super) storage_volume: StorageVolumeUri,
    pub(super) paths: Vec<FcPath>,
}

/// The group as read: its properties, its VSRs (boot adapter first), and
/// the partition they belong to.
pub(super) struct Read {
    pub(super) group: StorageGroup,
    pub(super) vsrs: Vec<GroupPath>,
    pub(super) partition: Option<PartitionUri>,
}

impl Read {
    /// The WWPNs Cinder masks to: the VSRs' once attached, else the
    /// unassigned ones.
    pub(super) fn wwpns(&self) -> Vec<Wwpn> {
        if self.vsrs.is_empty() {
            self.group
                .unassigned_world_wide_port_names
                .iter()
                .map(|w| w.world_wide_port_name)
                .collect()
        } else {
            self.vsrs.iter().map(|v| v.wwpn).collect()
        }
    }

    pub(super) fn info(&self, requested: Vec<(VolumeId, StorageVolumeUri)>) -> GroupInfo {
        GroupInfo {
            uri: self.group.object_uri.clone(),
            name: self.group.name.clone(),
            wwpns: self.wwpns(),
            requested,
            partition: self.partition.clone(),
        }
    }
}

/// A storage volume's paths into one partition, as the HMC reports them.
pub(super) fn paths_into(sv: &StorageVolume, partition: &PartitionUri) -> Vec<FcPath> {
    let mut paths: Vec<FcPath> = sv
        .paths
        .iter()
        .filter(|p| &p.partition_uri == partition)
        .map(|p| FcPath {
            device_number: p.device_number,
            target: p.target_world_wide_port_name,
            lun: p.logical_unit_number,
        })
        .collect();
    paths.sort();
    paths
}

fn usage(boot: bool) -> VolumeUsage {
    if boot {
        VolumeUsage::Boot
    } else {
        VolumeUsage::Data
    }
}

/// The request for a Cinder volume: its id names it, its size sizes it.
fn request(volume: &VolumeId, size_gib: u64, boot: bool) -> VolumeCreate {
    VolumeCreate {
        name: Some(volume.to_string()),
        description: Some(format!("Cinder volume {volume}")),
        // GiB; Cinder sizes are whole GiB, far below 2^53.
        size: size_gib as f64,
        usage: Some(usage(boot)),
    }
}

impl<H: HmcApi> Host<H> {
    /// The instance's group, if the HMC has one (one request).
    pub(super) async fn find_group(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<StorageGroupUri>, GroupStep> {
        let name = self.partition_name(instance);
        let filter = StorageGroupFilter {
            cpc: Some(self.cpc().clone()),
            name: Some(regex_escape(&name)),
        };
        let found = self
            .hmc
            .list_storage_groups(&filter)
            .await
            .map_err(|source| GroupStep::FindGroup {
                name: name.clone(),
                source,
            })?;
        Ok(found
            .into_iter()
            .find(|g| g.name == name)
            .map(|g| g.object_uri))
    }

    /// Reads the group and its VSRs (the WWPNs in use are on the VSRs
    /// only: all of them in one bulk read), boot adapter first.
    pub(super) async fn read_group(
        &self,
        ports: &Ports,
        uri: &StorageGroupUri,
    ) -> Result<Read, GroupStep> {
        let read = |source| GroupStep::ReadGroup {
            group: uri.clone(),
            source,
        };
        let group = self.hmc.get_storage_group(uri).await.map_err(read)?;
        let all: Vec<Vsr> = get_many(&self.hmc, &group.virtual_storage_resource_uris)
            .await
            .map_err(read)?;
        let partition = all.first().map(|v| v.partition_uri.clone());
        let order: Vec<_> = ports.iter().map(|(_, p)| p.clone()).collect();
        let mut vsrs: Vec<GroupPath> = all
            .into_iter()
            .map(|v| GroupPath {
                device_number: v.device_number,
                wwpn: v.world_wide_port_name,
                adapter_port: v.adapter_port_uri,
            })
            .collect();
        vsrs.sort_by_key(|v| {
            v.adapter_port
                .as_ref()
                .and_then(|p| order.iter().position(|o| o == p))
                .unwrap_or(usize::MAX)
        });
        Ok(Read {
            group,
            vsrs,
            partition,
        })
    }

    /// Creates the instance's group with a request per planned volume and
    /// the mapped ports as candidates. `Ok(None)`: the name is taken.
    pub(super) async fn create_group(
        &self,
        ports: &Ports,
        instance: &InstanceId,
        planned: &[PlannedVolume],
    ) -> Result<Option<(StorageGroupUri, Vec<(VolumeId, StorageVolumeUri)>)>, GroupStep> {
        let name = self.partition_name(instance);
        let connectivity = u32::try_from(ports.len())
            .map_err(|_| GroupStep::TooManyAdapters { count: ports.len() })?;
        let props = StorageGroupCreate {
            cpc_uri: self.cpc().clone(),
            name: name.clone(),
            group_type: StorageGroupType::Fcp,
            description: Some(format!(
                "OpenStack instance {instance} on {}",
                self.config.host
            )),
            shared: Some(false),
            connectivity: Some(connectivity),
            max_partitions: Some(1),
            storage_volumes: planned
                .iter()
                .map(|p| VolumeRequest::Create(request(&p.volume_id, p.size_gib, p.boot)))
                .collect(),
            email_to_addresses: None,
        };
        let created = match self.hmc.create_storage_group(&props).await {
            Ok(c) => c,
            // The name is taken: an earlier try's group (or this create's,
            // its reply lost); the caller finds it by name.
            Err(e)
                if e.status_reason().map(|(s, _)| s) == Some(409) || e.may_have_taken_effect() =>
            {
                tracing::info!(error = %e, "the instance's storage group exists");
                return Ok(None);
            }
            Err(source) => return Err(GroupStep::CreateGroup { name, source }),
        };
        let uri = created.object_uri;
        tracing::debug!(group = %uri, "storage group created");
        let ports: Vec<_> = ports.iter().map(|(_, p)| p.clone()).collect();
        self.hmc
            .add_candidate_adapter_ports(&uri, &ports)
            .await
            .map_err(|source| GroupStep::AddCandidatePorts {
                group: uri.clone(),
                source,
            })?;
        let requested = planned
            .iter()
            .map(|p| p.volume_id.clone())
            .zip(created.element_uris)
            .collect();
        Ok(Some((uri, requested)))
    }

    /// An existing group of the instance's name: refused when another
    /// partition uses it; its missing candidate ports are added.
    pub(super) async fn adopt_group(
        &self,
        ports: &Ports,
        uri: &StorageGroupUri,
        partition: &PartitionUri,
    ) -> Result<Read, GroupStep> {
        let users = self
            .hmc
            .get_storage_group_partitions(uri)
            .await
            .map_err(|source| GroupStep::GroupPartitions {
                group: uri.clone(),
                source,
            })?;
        if users.iter().any(|p| &p.object_uri != partition) {
            return Err(GroupStep::GroupInUse {
                group: uri.clone(),
                partitions: users.into_iter().map(|p| p.name).collect(),
            });
        }
        let read = self.read_group(ports, uri).await?;
        let missing: Vec<_> = ports
            .iter()
            .map(|(_, p)| p.clone())
            .filter(|p| !read.group.candidate_adapter_port_uris.contains(p))
            .collect();
        if !missing.is_empty() {
            self.hmc
                .add_candidate_adapter_ports(uri, &missing)
                .await
                .map_err(|source| GroupStep::AddCandidatePorts {
                    group: uri.clone(),
                    source,
                })?;
        }
        Ok(read)
    }

    /// The requests in the group, by name (one list).
    pub(super) async fn listed_requests(
        &self,
        group: &StorageGroupUri,
        name: Option<&VolumeId>,
    ) -> Result<Vec<(String, StorageVolumeUri, VolumeUsage)>, GroupStep> {
        let filter = StorageVolumeFilter {
            name: name.map(|n| regex_escape(&n.to_string())),
            ..StorageVolumeFilter::default()
        };
        let found = self
            .hmc
            .list_storage_volumes(group, &filter)
            .await
            .map_err(|source| GroupStep::ListRequests {
                group: group.clone(),
                source,
            })?;
        Ok(found
            .into_iter()
            .filter(|v| name.is_none_or(|n| v.name == n.to_string()))
            .map(|v| (v.name, v.element_uri, v.usage))
            .collect())
    }

    /// Adds requests (and deletes `stale` ones) in one modify; returns the
    /// new requests in order.
    pub(super) async fn add_requests(
        &self,
        group: &StorageGroupUri,
        volumes: &[(&VolumeId, u64, bool)],
        stale: &[StorageVolumeUri],
    ) -> Result<Vec<StorageVolumeUri>, GroupStep> {
        let m = StorageGroupModify {
            storage_volumes: volumes
                .iter()
                .map(|(v, size, boot)| VolumeRequest::Create(request(v, *size, *boot)))
                .chain(stale.iter().map(|r| VolumeRequest::Delete {
                    element_uri: r.clone(),
                }))
                .collect(),
            ..StorageGroupModify::default()
        };
        let created = self
            .hmc
            .modify_storage_group(group, &m)
            .await
            .map_err(|source| GroupStep::AddRequests {
                group: group.clone(),
                source,
            })?;
        if created.len() != volumes.len() {
            return Err(GroupStep::RequestsNotCreated {
                group: group.clone(),
                asked: volumes.len(),
                created: created.len(),
            });
        }
        Ok(created)
    }

    /// Removes requests in one modify; requests already gone are no error,
    /// and a lost reply is settled by reading them.
    pub(super) async fn remove_requests(
        &self,
        group: &StorageGroupUri,
        requests: &[StorageVolumeUri],
    ) -> Result<(), HmcError> {
        if requests.is_empty() {
            return Ok(());
        }
        let m = StorageGroupModify {
            storage_volumes: requests
                .iter()
                .map(|r| VolumeRequest::Delete {
                    element_uri: r.clone(),
                })
                .collect(),
            ..StorageGroupModify::default()
        };
        match self.hmc.modify_storage_group(group, &m).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e)
                if e.may_have_taken_effect()
                    && get_many::<StorageVolume, _>(&self.hmc, requests)
                        .await
                        .is_err_and(|g| g.is_not_found()) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Starts FCP discovery on the group and waits for its job.
    pub(super) async fn discover(&self, group: &StorageGroupUri) -> Result<(), GroupStep> {
        let err = |source| GroupStep::Discovery {
            group: group.clone(),
            source,
        };
        let job = self
            .hmc
            .start_fcp_storage_discovery(group, false)
            .await
            .map_err(err)?;
        wait_for_job(&self.hmc, &job, &self.poll())
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Reads the requests and matches each Cinder volume to the one whose
    /// paths into `partition` carry a target and LUN of its connection
    /// info; each must be `complete`. Requests whose names do not say the
    /// volume they hold (DPM fulfilled same-size requests crosswise) are
    /// renamed in one modify, so later lookups by name hold.
    pub(super) async fn match_volumes(
        &self,
        group: &StorageGroupUri,
        partition: &PartitionUri,
        requests: &[StorageVolumeUri],
        volumes: &[(&VolumeId, &ConnectionInfo, bool)],
    ) -> Result<Vec<Matched>, GroupStep> {
        let read: Vec<StorageVolume> = get_many(&self.hmc, requests).await.map_err(|source| {
            GroupStep::ReadStorageVolumes {
                group: group.clone(),
                source,
            }
        })?;
        let mut out = Vec::new();
        let mut renames = Vec::new();
        for (volume, info, boot) in volumes {
            let fc = info
                .fibre_channel()
                .map_err(|source| GroupStep::ConnectionInfo {
                    volume: (*volume).clone(),
                    source,
                })?;
            let found = read.iter().find(|sv| {
                sv.paths.iter().any(|p| {
                    &p.partition_uri == partition
                        && fc.targets.iter().any(|t| {
                            t.wwpn == p.target_world_wide_port_name
                                && t.lun == p.logical_unit_number
                        })
                })
            });
            let Some(sv) = found else {
                return Err(GroupStep::NotDiscovered {
                    volume: (*volume).clone(),
                    group: group.clone(),
                });
            };
            if sv.fulfillment_state != FulfillmentState::Complete {
                return Err(GroupStep::NotFulfilled {
                    volume: (*volume).clone(),
                    storage_volume: sv.element_uri.clone(),
                    state: sv.fulfillment_state.clone(),
                });
            }
            if sv.name != volume.to_string() || sv.usage != usage(*boot) {
                renames.push(VolumeRequest::Modify(VolumeModify {
                    element_uri: sv.element_uri.clone(),
                    name: Some(volume.to_string()),
                    description: Some(format!("Cinder volume {volume}")),
                    size: None,
                    usage: Some(usage(*boot)),
                }));
            }
            out.push(Matched {
                volume: (*volume).clone(),
                storage_volume: sv.element_uri.clone(),
                paths: paths_into(sv, partition),
            });
        }
        if !renames.is_empty() {
            tracing::info!(group = %group, renamed = renames.len(), "DPM fulfilled requests crosswise; renaming them after their volumes");
            let m = StorageGroupModify {
                storage_volumes: renames,
                ..StorageGroupModify::default()
            };
            self.hmc
                .modify_storage_group(group, &m)
                .await
                .map_err(|source| GroupStep::RenameRequests {
                    group: group.clone(),
                    source,
                })?;
        }
        Ok(out)
    }

    /// The requests for the spawn's volumes: the ones this prepare made,
    /// else the group's by name; the missing ones are added (one modify).
    pub(super) async fn spawn_requests(
        &self,
        group: &GroupInfo,
        volumes: &[&DriverVolume],
        boot: &VolumeId,
        changes: &mut Vec<Change>,
    ) -> Result<Vec<StorageVolumeUri>, GroupStep> {
        let known = |v: &VolumeId| {
            group
                .requested
                .iter()
                .find(|(r, _)| r == v)
                .map(|(_, u)| u.clone())
        };
        if let Some(all) = volumes
            .iter()
            .map(|v| known(&v.volume_id))
            .collect::<Option<Vec<_>>>()
        {
            return Ok(all);
        }
        let listed = self.listed_requests(&group.uri, None).await?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for v in volumes {
            let name = v.volume_id.to_string();
            let named: Vec<StorageVolumeUri> = listed
                .iter()
                .filter(|(n, _, _)| *n == name)
                .map(|(_, u, _)| u.clone())
                .collect();
            if named.is_empty() {
                missing.push((&v.volume_id, v.size_gib, v.volume_id == *boot));
            } else {
                found.extend(named);
            }
        }
        // Requests for no volume of this spawn are what an unfinished
        // earlier try asked for: they go in the same modify.
        let stale: Vec<StorageVolumeUri> = listed
            .into_iter()
            .filter(|(n, _, _)| volumes.iter().all(|v| v.volume_id.to_string() != *n))
            .map(|(_, u, _)| u)
            .collect();
        if !missing.is_empty() || !stale.is_empty() {
            let added = self.add_requests(&group.uri, &missing, &stale).await?;
            changes.push(Change::Requested {
                group: group.uri.clone(),
                requests: added.clone(),
            });
            found.extend(added);
        }
        Ok(found)
    }

    /// An unfinished attach of this volume may have left a request that DPM
    /// fulfilled in place of the new one: the request of the volume's name
    /// that holds the LUN is matched, and the others are removed.
    pub(super) async fn leftover_request(
        &self,
        group: &StorageGroupUri,
        partition: &PartitionUri,
        wanted: &[(&VolumeId, &ConnectionInfo, bool); 1],
    ) -> Result<Vec<Matched>, GroupStep> {
        let named: Vec<StorageVolumeUri> = self
            .listed_requests(group, Some(wanted[0].0))
            .await?
            .into_iter()
            .map(|(_, u, _)| u)
            .collect();
        let m = self.match_volumes(group, partition, &named, wanted).await?;
        let others: Vec<StorageVolumeUri> = named
            .into_iter()
            .filter(|n| m.iter().all(|x| &x.storage_volume != n))
            .collect();
        if let Some(first) = others.first() {
            self.remove_requests(group, &others)
                .await
                .map_err(|source| GroupStep::RemoveRequest {
                    group: group.clone(),
                    request: first.clone(),
                    source,
                })?;
        }
        Ok(m)
    }
}
