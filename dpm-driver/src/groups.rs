//! The storage-group model's steps (z14 and later, `dpm-storage-management`
//! on), in the order of STORAGE-GROUPS.md's "How Cinder fits":
//!
//! 1. one group per instance, named like its partition: `type: fcp`,
//!    `shared: false`, `max-partitions: 1`, `connectivity` = the number of
//!    adapter mappings, one volume request per Cinder volume (named with the
//!    Cinder volume id, `usage: boot` for boot index 0, `size` = the Cinder
//!    volume's size); the mapped adapter ports become its candidates;
//! 2. its WWPNs are the connector's initiators (Cinder masks and zones);
//! 3. the group is attached to the partition (one VSR per adapter), FCP
//!    discovery runs as a job, and each Cinder volume is matched to its
//!    storage volume **by its paths** (target WWPN and LUN from the
//!    connection info), never by order or name;
//! 4. the partition boots from the boot volume's request.
//!
//! Attach on a running instance adds a volume request to the group, detach
//! removes it after Cinder unmasked the LUN. Everything is found on the HMC
//! by the group's name, never in process memory.

use cinder_client::{CinderApi, ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::FcPath;
use fc_types::Wwpn;
use hmc_client::{
    wait_for_job, FulfillmentState, HmcApi, PartitionUri, StorageGroup, StorageGroupCreate,
    StorageGroupFilter, StorageGroupModify, StorageGroupType, StorageGroupUri, StorageVolume,
    StorageVolumeFilter, StorageVolumeUri, VolumeCreate, VolumeModify, VolumeRequest, VolumeUsage,
};

use crate::driver::{regex_escape, DpmDriver, Ready};
use crate::error::GroupStep;
use crate::storage::{GroupInfo, GroupPath, GroupVolume, StorageInfo};

/// A volume to request in a group.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub volume: VolumeId,
    pub boot: bool,
}

/// An instance's group as the HMC holds it, attached to its partition.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    /// The partition the group is attached to.
    pub partition: PartitionUri,
    /// The group, with the WWPNs its VSRs use (boot path first).
    pub info: GroupInfo,
    /// Its VSRs in the partition.
    pub vsrs: Vec<GroupPath>,
    /// The group's properties.
    pub group: StorageGroup,
}

/// A Cinder volume matched to its storage volume.
#[derive(Debug, Clone)]
pub(crate) struct Matched {
    pub volume: VolumeId,
    pub storage_volume: StorageVolumeUri,
    pub paths: Vec<FcPath>,
}

/// A storage volume's paths into one partition, as the HMC reports them.
fn paths_into(sv: &StorageVolume, partition: &PartitionUri) -> Vec<FcPath> {
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

impl<H: HmcApi, C: CinderApi> DpmDriver<H, C> {
    /// The group of an instance is named like its partition.
    pub(crate) fn group_name(&self, instance: &InstanceId) -> String {
        self.partition_name(instance)
    }

    /// The instance's group, if the HMC has one (one request).
    pub(crate) async fn find_group(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<StorageGroupUri>, GroupStep> {
        let name = self.group_name(instance);
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

    /// Creates the instance's group with one request per volume, makes the
    /// mapped adapter ports its candidates, and reads its WWPNs.
    pub(crate) async fn create_group(
        &self,
        ready: &Ready,
        instance: &InstanceId,
        requests: &[Request],
    ) -> Result<(GroupInfo, Vec<StorageVolumeUri>), GroupStep> {
        let mut volumes = Vec::new();
        for r in requests {
            volumes.push(VolumeRequest::Create(self.volume_request(r).await?));
        }
        let name = self.group_name(instance);
        let connectivity =
            u32::try_from(ready.ports.len()).map_err(|_| GroupStep::TooManyAdapters {
                count: ready.ports.len(),
            })?;
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
            storage_volumes: volumes,
            email_to_addresses: None,
        };
        let create = |source| GroupStep::CreateGroup {
            name: name.clone(),
            source,
        };
        let created = match self.hmc.create_storage_group(&props).await {
            Ok(c) => c,
            Err(e) if e.status_reason().map(|(s, _)| s) == Some(409) => {
                // The name is taken: an earlier try of this instance left
                // its group behind (its cleanup failed). Remove it, unless a
                // partition uses it, and create the group anew.
                let Some(stale) = self.find_group(instance).await? else {
                    return Err(create(e));
                };
                let ids: Vec<VolumeId> = requests.iter().map(|r| r.volume.clone()).collect();
                self.remove_stale_group(instance, &stale, &ids).await?;
                self.hmc
                    .create_storage_group(&props)
                    .await
                    .map_err(create)?
            }
            Err(e) => return Err(create(e)),
        };
        let uri = created.object_uri;
        tracing::debug!(group = %uri, "storage group created");
        let ports: Vec<_> = ready.ports.iter().map(|(_, p)| p.clone()).collect();
        self.hmc
            .add_candidate_adapter_ports(&uri, &ports)
            .await
            .map_err(|source| GroupStep::AddCandidatePorts {
                group: uri.clone(),
                source,
            })?;
        let g = self
            .hmc
            .get_storage_group(&uri)
            .await
            .map_err(|source| GroupStep::ReadGroup {
                group: uri.clone(),
                source,
            })?;
        let wwpns: Vec<Wwpn> = g
            .unassigned_world_wide_port_names
            .iter()
            .map(|w| w.world_wide_port_name)
            .collect();
        if wwpns.len() != ports.len() {
            return Err(GroupStep::WrongWwpnCount {
                group: uri,
                expected: ports.len(),
                found: wwpns.len(),
            });
        }
        Ok((GroupInfo { uri, name, wwpns }, created.element_uris))
    }

    /// Deletes a group an earlier try of the instance left, with what Cinder
    /// still holds for the instance; refuses when a partition uses it.
    async fn remove_stale_group(
        &self,
        instance: &InstanceId,
        group: &StorageGroupUri,
        volumes: &[VolumeId],
    ) -> Result<(), GroupStep> {
        let stale = |source| GroupStep::RemoveStaleGroup {
            group: group.clone(),
            source,
        };
        let users = self
            .hmc
            .get_storage_group_partitions(group)
            .await
            .map_err(stale)?;
        if !users.is_empty() {
            return Err(GroupStep::GroupInUse {
                group: group.clone(),
                partitions: users.into_iter().map(|p| p.name).collect(),
            });
        }
        let g = self.hmc.get_storage_group(group).await.map_err(stale)?;
        let wwpns: Vec<Wwpn> = g
            .unassigned_world_wide_port_names
            .iter()
            .map(|w| w.world_wide_port_name)
            .collect();
        let conn = dpm_volume::connector_for(&wwpns, &self.config.host).ok();
        let links = self
            .earlier_links(instance, volumes, conn)
            .await
            .map_err(|e| GroupStep::StaleAttachments(Box::new(e)))?;
        for c in &links {
            if let Some(e) = self.release(instance, c, true).await.into_iter().next() {
                return Err(GroupStep::StaleAttachments(Box::new(e)));
            }
        }
        tracing::info!(group = %group, released = links.len(), "removing the storage group an earlier try left");
        self.hmc.delete_storage_group(group).await.map_err(stale)
    }

    /// The volume request for a Cinder volume: its id as the name, its size.
    async fn volume_request(&self, r: &Request) -> Result<VolumeCreate, GroupStep> {
        let v = self.cinder.get_volume(&r.volume).await.map_err(|source| {
            GroupStep::ReadVolumeSize {
                volume: r.volume.clone(),
                source,
            }
        })?;
        Ok(VolumeCreate {
            name: Some(r.volume.to_string()),
            description: Some(format!("Cinder volume {}", r.volume)),
            // GiB; Cinder sizes are whole GiB, far below 2^53.
            size: v.size as f64,
            usage: Some(if r.boot {
                VolumeUsage::Boot
            } else {
                VolumeUsage::Data
            }),
        })
    }

    /// Starts FCP discovery on the group and waits for its job.
    pub(crate) async fn discover(&self, group: &StorageGroupUri) -> Result<(), GroupStep> {
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

    /// Reads the requested storage volumes and matches each Cinder volume
    /// to the one whose paths into `partition` carry a target and LUN of
    /// its connection info. Each must be `complete`. Requests whose names
    /// do not say the volume they hold (DPM fulfilled same-size requests
    /// crosswise) are renamed in one modify, so later lookups by name hold.
    pub(crate) async fn match_volumes(
        &self,
        group: &StorageGroupUri,
        partition: &PartitionUri,
        requests: &[StorageVolumeUri],
        connected: &[(VolumeId, ConnectionInfo, bool)],
    ) -> Result<Vec<Matched>, GroupStep> {
        let mut read = Vec::new();
        for uri in requests {
            let sv = self.hmc.get_storage_volume(uri).await.map_err(|source| {
                GroupStep::ReadStorageVolume {
                    volume: uri.clone(),
                    source,
                }
            })?;
            read.push(sv);
        }
        let mut out = Vec::new();
        let mut renames = Vec::new();
        for (volume, info, boot) in connected {
            let fc = info
                .fibre_channel()
                .map_err(|source| GroupStep::ConnectionInfo {
                    volume: volume.clone(),
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
                    volume: volume.clone(),
                    group: group.clone(),
                });
            };
            if sv.fulfillment_state != FulfillmentState::Complete {
                return Err(GroupStep::NotFulfilled {
                    volume: volume.clone(),
                    storage_volume: sv.element_uri.clone(),
                    state: sv.fulfillment_state.clone(),
                });
            }
            let usage = if *boot {
                VolumeUsage::Boot
            } else {
                VolumeUsage::Data
            };
            if sv.name != volume.to_string() || sv.usage != usage {
                renames.push(VolumeRequest::Modify(VolumeModify {
                    element_uri: sv.element_uri.clone(),
                    name: Some(volume.to_string()),
                    description: Some(format!("Cinder volume {volume}")),
                    size: None,
                    usage: Some(usage),
                }));
            }
            out.push(Matched {
                volume: volume.clone(),
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

    /// Adds a data volume request to the group; returns the new request.
    pub(crate) async fn add_request(
        &self,
        group: &StorageGroupUri,
        volume: &VolumeId,
    ) -> Result<StorageVolumeUri, GroupStep> {
        let req = self
            .volume_request(&Request {
                volume: volume.clone(),
                boot: false,
            })
            .await?;
        let m = StorageGroupModify {
            storage_volumes: vec![VolumeRequest::Create(req)],
            ..StorageGroupModify::default()
        };
        let created = self
            .hmc
            .modify_storage_group(group, &m)
            .await
            .map_err(|source| GroupStep::AddRequest {
                group: group.clone(),
                source,
            })?;
        created
            .into_iter()
            .next()
            .ok_or_else(|| GroupStep::NoRequestCreated {
                group: group.clone(),
            })
    }

    /// Removes a volume request from the group.
    pub(crate) async fn remove_request(
        &self,
        group: &StorageGroupUri,
        request: &StorageVolumeUri,
    ) -> Result<(), hmc_client::HmcError> {
        let m = StorageGroupModify {
            storage_volumes: vec![VolumeRequest::Delete {
                element_uri: request.clone(),
            }],
            ..StorageGroupModify::default()
        };
        match self.hmc.modify_storage_group(group, &m).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            // The modify may have happened: ask the HMC.
            Err(e)
                if e.may_have_taken_effect()
                    && self
                        .hmc
                        .get_storage_volume(request)
                        .await
                        .is_err_and(|g| g.is_not_found()) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The volume requests in the group named after the Cinder volume (an
    /// earlier try may have left more than one).
    async fn listed_requests(
        &self,
        group: &StorageGroupUri,
        volume: &VolumeId,
    ) -> Result<Vec<(StorageVolumeUri, VolumeUsage)>, GroupStep> {
        let name = volume.to_string();
        let filter = StorageVolumeFilter {
            name: Some(regex_escape(&name)),
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
            .filter(|v| v.name == name)
            .map(|v| (v.element_uri, v.usage))
            .collect())
    }

    /// The request of a Cinder volume in the group, found by its name.
    pub(crate) async fn find_request(
        &self,
        group: &StorageGroupUri,
        volume: &VolumeId,
    ) -> Result<Option<(StorageVolumeUri, VolumeUsage)>, GroupStep> {
        Ok(self
            .listed_requests(group, volume)
            .await?
            .into_iter()
            .next())
    }

    /// Every request named after the Cinder volume.
    pub(crate) async fn requests_named(
        &self,
        group: &StorageGroupUri,
        volume: &VolumeId,
    ) -> Result<Vec<StorageVolumeUri>, GroupStep> {
        let found = self.listed_requests(group, volume).await?;
        Ok(found.into_iter().map(|(uri, _)| uri).collect())
    }

    /// The instance's group with its WWPNs (read from its VSRs, which use
    /// all of them once attached) and the partition it is attached to.
    pub(crate) async fn attached_group(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<Attached>, GroupStep> {
        let Some(uri) = self.find_group(instance).await? else {
            return Ok(None);
        };
        let read = |source| GroupStep::ReadGroup {
            group: uri.clone(),
            source,
        };
        let g = self.hmc.get_storage_group(&uri).await.map_err(read)?;
        // The WWPNs in use are on the VSRs only: read them all in one bulk
        // request.
        let read_all: Vec<hmc_client::Vsr> =
            hmc_client::get_many(&self.hmc, &g.virtual_storage_resource_uris)
                .await
                .map_err(read)?;
        let mut partition = None;
        let mut vsrs = Vec::new();
        for vsr in read_all {
            partition.get_or_insert(vsr.partition_uri.clone());
            vsrs.push(GroupPath {
                device_number: vsr.device_number,
                wwpn: vsr.world_wide_port_name,
                adapter_port: vsr.adapter_port_uri,
            });
        }
        let Some(partition) = partition else {
            return Err(GroupStep::GroupNotAttached { group: uri });
        };
        // The boot path's adapter first, as with vHBAs.
        let order: Vec<_> = self
            .ready()
            .map(|r| r.ports.iter().map(|(_, p)| p.clone()).collect())
            .unwrap_or_default();
        vsrs.sort_by_key(|v| {
            v.adapter_port
                .as_ref()
                .and_then(|p| order.iter().position(|o| o == p))
                .unwrap_or(usize::MAX)
        });
        let info = GroupInfo {
            uri,
            name: g.name.clone(),
            wwpns: vsrs.iter().map(|v| v.wwpn).collect(),
        };
        Ok(Some(Attached {
            partition,
            info,
            vsrs,
            group: g,
        }))
    }

    /// Every WWPN of the instance's group, attached (on its VSRs) or not
    /// (unassigned): what Cinder may have masked a volume to.
    pub(crate) async fn group_wwpns(&self, instance: &InstanceId) -> Vec<Wwpn> {
        match self.attached_group(instance).await {
            Ok(Some(a)) => a.info.wwpns,
            Err(GroupStep::GroupNotAttached { group }) => self
                .hmc
                .get_storage_group(&group)
                .await
                .map(|g| {
                    g.unassigned_world_wide_port_names
                        .iter()
                        .map(|w| w.world_wide_port_name)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// What `info` shows of an instance's group: its volumes with their
    /// fulfillment state and paths, and its VSRs.
    pub(crate) async fn group_storage(&self, a: Attached) -> Result<StorageInfo, GroupStep> {
        let mut volumes = Vec::new();
        for uri in &a.group.storage_volume_uris {
            let sv = self.hmc.get_storage_volume(uri).await.map_err(|source| {
                GroupStep::ReadStorageVolume {
                    volume: uri.clone(),
                    source,
                }
            })?;
            let paths = paths_into(&sv, &a.partition);
            volumes.push(GroupVolume {
                uri: sv.element_uri,
                name: sv.name,
                usage: sv.usage,
                size: sv.size,
                fulfillment_state: sv.fulfillment_state,
                paths,
            });
        }
        Ok(StorageInfo::Group {
            group: a.info,
            fulfillment_state: a.group.fulfillment_state,
            volumes,
            vsrs: a.vsrs,
        })
    }
}
