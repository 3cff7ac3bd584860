//! The storage-group model (z14 and later, `dpm-storage-management` on),
//! in the order of STORAGE-GROUPS.md's "How Cinder fits", split at Nova's
//! seams:
//!
//! 1. `get_volume_connector` / `prepare_for_spawn`: one group per
//!    instance, named like its partition (`type: fcp`, `shared: false`,
//!    `max-partitions: 1`, `connectivity` = the number of adapter
//!    mappings), with a request per planned volume (named with the Cinder
//!    volume id, `usage: boot` for the boot volume, `size` = the volume's
//!    size); the mapped adapter ports become its candidates; its WWPNs are
//!    the connector's initiators (Cinder masks and zones);
//! 2. `spawn`: requests for volumes the group lacks, the group attached to
//!    the partition (one VSR per adapter), FCP discovery as a job, each
//!    Cinder volume matched to its storage volume **by its paths** (target
//!    WWPN and LUN from the connection info), never by order or name; the
//!    partition boots from the boot volume's request;
//! 3. attach on a running instance adds a request and discovers; detach
//!    removes it (before Cinder unmasks, in Nova's order).
//!
//! Everything is found on the HMC by the group's name, never in memory.

use async_trait::async_trait;
use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::FcPath;
use fc_types::Wwpn;
use hmc_client::{
    get_many, wait_for_job, FulfillmentState, HmcApi, HmcError, Partition, PartitionUri,
    StorageGroup, StorageGroupCreate, StorageGroupFilter, StorageGroupModify, StorageGroupType,
    StorageGroupUri, StorageVolume, StorageVolumeFilter, StorageVolumeUri, VolumeCreate,
    VolumeModify, VolumeRequest, VolumeUsage, Vsr,
};

use super::{
    Boot, BootPlan, Change, GroupInfo, GroupPath, GroupVolume, Initiators, Storage, StorageInfo,
    StorageModel,
};
use crate::driver::{regex_escape, DpmDriver, DriverVolume, Located, PlannedVolume, Ready};
use crate::error::{
    AttachStep, CleanupError, ConnectorStep, DetachStep, GroupStep, LookupError, SpawnStep,
};
use crate::names::InstanceVolume;

/// The storage-group model's steps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Groups;

/// A Cinder volume matched to its storage volume.
#[derive(Debug, Clone)]
struct Matched {
    volume: VolumeId,
    storage_volume: StorageVolumeUri,
    paths: Vec<FcPath>,
}

/// The group as read: its properties, its VSRs (boot adapter first), and
/// the partition they belong to.
struct Read {
    group: StorageGroup,
    vsrs: Vec<GroupPath>,
    partition: Option<PartitionUri>,
}

impl Read {
    /// The WWPNs Cinder masks to: the VSRs' once attached, else the
    /// unassigned ones.
    fn wwpns(&self) -> Vec<Wwpn> {
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

    fn info(&self, requested: Vec<(VolumeId, StorageVolumeUri)>) -> GroupInfo {
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

impl<H: HmcApi> DpmDriver<H> {
    /// The instance's group, if the HMC has one (one request).
    async fn find_group(
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
    async fn read_group(&self, ready: &Ready<H>, uri: &StorageGroupUri) -> Result<Read, GroupStep> {
        let read = |source| GroupStep::ReadGroup {
            group: uri.clone(),
            source,
        };
        let group = self.hmc.get_storage_group(uri).await.map_err(read)?;
        let all: Vec<Vsr> = get_many(&self.hmc, &group.virtual_storage_resource_uris)
            .await
            .map_err(read)?;
        let partition = all.first().map(|v| v.partition_uri.clone());
        let order: Vec<_> = ready.ports.iter().map(|(_, p)| p.clone()).collect();
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
    async fn create_group(
        &self,
        ready: &Ready<H>,
        instance: &InstanceId,
        planned: &[PlannedVolume],
    ) -> Result<Option<(StorageGroupUri, Vec<(VolumeId, StorageVolumeUri)>)>, GroupStep> {
        let name = self.partition_name(instance);
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
        let ports: Vec<_> = ready.ports.iter().map(|(_, p)| p.clone()).collect();
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
    async fn adopt_group(
        &self,
        ready: &Ready<H>,
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
        let read = self.read_group(ready, uri).await?;
        let missing: Vec<_> = ready
            .ports
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
    async fn listed_requests(
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
    async fn add_requests(
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
    async fn remove_requests(
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
    async fn discover(&self, group: &StorageGroupUri) -> Result<(), GroupStep> {
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
    async fn match_volumes(
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
    async fn spawn_requests(
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
}

#[async_trait]
impl<H: HmcApi> Storage<H> for Groups {
    fn model(&self) -> StorageModel {
        StorageModel::StorageGroups
    }

    async fn locate(
        &self,
        drv: &DpmDriver<H>,
        ready: &Ready<H>,
        instance: &InstanceId,
    ) -> Result<Option<Located>, LookupError> {
        let Some(uri) = drv.find_group(instance).await? else {
            // A partition without a group: an earlier try stopped between
            // the two.
            return Ok(drv
                .find_partition(instance)
                .await?
                .map(|partition| Located {
                    instance: instance.clone(),
                    partition,
                    initiators: Initiators::None,
                    created: false,
                }));
        };
        let read = drv.read_group(ready, &uri).await?;
        // Attached: the VSRs name the partition. Not attached: ask for it;
        // without a partition the instance is gone.
        let partition = match &read.partition {
            Some(p) => p.clone(),
            None => match drv.find_partition(instance).await? {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        Ok(Some(Located {
            instance: instance.clone(),
            partition,
            initiators: Initiators::Group(read.info(Vec::new())),
            created: false,
        }))
    }

    async fn ensure(
        &self,
        drv: &DpmDriver<H>,
        ready: &Ready<H>,
        instance: &InstanceId,
        partition: &PartitionUri,
        _fresh: bool,
        planned: &[PlannedVolume],
    ) -> Result<(Initiators, bool), ConnectorStep> {
        let (read, requested, existed) = match drv.create_group(ready, instance, planned).await? {
            Some((uri, requested)) => (drv.read_group(ready, &uri).await?, requested, false),
            None => {
                let uri = drv.find_group(instance).await?.ok_or_else(|| {
                    GroupStep::FindGroup {
                        name: drv.partition_name(instance),
                        source: HmcError::api(
                            "GET",
                            "/api/storage-groups",
                            404,
                            1,
                            "the storage group of the instance's name was refused as a duplicate but is not listed",
                        ),
                    }
                })?;
                (
                    drv.adopt_group(ready, &uri, partition).await?,
                    Vec::new(),
                    true,
                )
            }
        };
        let wwpns = read.wwpns();
        if wwpns.len() != ready.ports.len() {
            return Err(GroupStep::WrongWwpnCount {
                group: read.group.object_uri.clone(),
                expected: ready.ports.len(),
                found: wwpns.len(),
            }
            .into());
        }
        Ok((Initiators::Group(read.info(requested)), existed))
    }

    async fn boot_plan(
        &self,
        drv: &DpmDriver<H>,
        _ready: &Ready<H>,
        located: &Located,
        volumes: &[&DriverVolume],
        boot: &DriverVolume,
        changes: &mut Vec<Change>,
    ) -> Result<BootPlan, SpawnStep> {
        let group = located
            .initiators
            .group()
            .ok_or_else(|| LookupError::InstanceNotFound {
                instance: located.instance.clone(),
            })?;
        let partition = &located.partition;
        let requests = drv
            .spawn_requests(group, volumes, &boot.volume_id, changes)
            .await?;
        // Attach first, so that the volumes' paths name this partition's
        // VSRs; then discover and match.
        if group.partition.as_ref() != Some(partition) {
            changes.push(Change::Attached {
                group: group.uri.clone(),
                partition: partition.clone(),
            });
            drv.hmc
                .attach_storage_group(partition, &group.uri)
                .await
                .map_err(|source| GroupStep::AttachGroup {
                    group: group.uri.clone(),
                    partition: partition.clone(),
                    source,
                })?;
        }
        drv.discover(&group.uri).await?;
        let wanted: Vec<(&VolumeId, &ConnectionInfo, bool)> = volumes
            .iter()
            .map(|v| {
                (
                    &v.volume_id,
                    &v.connection_info,
                    v.volume_id == boot.volume_id,
                )
            })
            .collect();
        let matched = drv
            .match_volumes(&group.uri, partition, &requests, &wanted)
            .await?;
        let mut boots = Vec::new();
        let mut paths = Vec::new();
        for m in matched {
            if m.volume == boot.volume_id {
                boots.push(Boot::Volume {
                    volume: m.storage_volume,
                    paths: m.paths.clone(),
                });
            }
            paths.push((m.volume, m.paths));
        }
        if boots.is_empty() {
            return Err(GroupStep::NotDiscovered {
                volume: boot.volume_id.clone(),
                group: group.uri.clone(),
            }
            .into());
        }
        Ok(BootPlan { boots, paths })
    }

    async fn attach(
        &self,
        drv: &DpmDriver<H>,
        located: &Located,
        volume: &DriverVolume,
    ) -> Result<Vec<FcPath>, (AttachStep, Vec<CleanupError>)> {
        let Some(group) = located.initiators.group() else {
            let e = LookupError::InstanceNotFound {
                instance: located.instance.clone(),
            };
            return Err((e.into(), Vec::new()));
        };
        let mut added = None;
        let result: Result<Vec<FcPath>, GroupStep> = async {
            let r = drv
                .add_requests(
                    &group.uri,
                    &[(&volume.volume_id, volume.size_gib, false)],
                    &[],
                )
                .await?;
            added = r.first().cloned();
            drv.discover(&group.uri).await?;
            let wanted = [(&volume.volume_id, &volume.connection_info, false)];
            let matched = match drv
                .match_volumes(&group.uri, &located.partition, &r, &wanted)
                .await
            {
                Ok(m) => m,
                // An unfinished attach of this volume may have left a
                // request that DPM fulfilled instead: take the one that
                // holds the LUN, drop the others.
                Err(GroupStep::NotDiscovered { .. } | GroupStep::NotFulfilled { .. }) => {
                    let named: Vec<StorageVolumeUri> = drv
                        .listed_requests(&group.uri, Some(&volume.volume_id))
                        .await?
                        .into_iter()
                        .map(|(_, u, _)| u)
                        .collect();
                    let m = drv
                        .match_volumes(&group.uri, &located.partition, &named, &wanted)
                        .await?;
                    let others: Vec<StorageVolumeUri> = named
                        .into_iter()
                        .filter(|n| m.iter().all(|x| &x.storage_volume != n))
                        .collect();
                    drv.remove_requests(&group.uri, &others)
                        .await
                        .map_err(|source| GroupStep::AddRequests {
                            group: group.uri.clone(),
                            source,
                        })?;
                    added = None;
                    m
                }
                Err(e) => return Err(e),
            };
            Ok(matched.into_iter().flat_map(|m| m.paths).collect())
        }
        .await;
        match result {
            Ok(paths) => Ok(paths),
            Err(step) => {
                // The request, even when the modify's reply was lost.
                let request = match added {
                    Some(r) => Some(r),
                    None if matches!(step, GroupStep::AddRequests { .. }) => drv
                        .listed_requests(&group.uri, Some(&volume.volume_id))
                        .await
                        .ok()
                        .and_then(|l| l.into_iter().next().map(|(_, u, _)| u)),
                    None => None,
                };
                let mut undo = Vec::new();
                if let Some(r) = request {
                    if let Err(source) = drv.remove_requests(&group.uri, &[r]).await {
                        undo.push(CleanupError::RemoveRequests {
                            group: group.uri.clone(),
                            source,
                        });
                    }
                }
                Err((step.into(), undo))
            }
        }
    }

    async fn detach(
        &self,
        drv: &DpmDriver<H>,
        instance: &InstanceId,
        volume: &VolumeId,
        _info: Option<&ConnectionInfo>,
    ) -> Result<(), DetachStep> {
        let group =
            drv.find_group(instance)
                .await?
                .ok_or_else(|| LookupError::InstanceNotFound {
                    instance: instance.clone(),
                })?;
        let requests = drv.listed_requests(&group, Some(volume)).await?;
        // The boot request is the root disk.
        if requests.iter().any(|(_, _, u)| *u == VolumeUsage::Boot) {
            return Err(DetachStep::RootVolume {
                instance: instance.clone(),
                volume: volume.clone(),
            });
        }
        let uris: Vec<StorageVolumeUri> = requests.into_iter().map(|(_, u, _)| u).collect();
        drv.remove_requests(&group, &uris)
            .await
            .map_err(|source| match uris.first() {
                Some(r) => GroupStep::RemoveRequest {
                    group: group.clone(),
                    request: r.clone(),
                    source,
                },
                None => GroupStep::ListRequests {
                    group: group.clone(),
                    source,
                },
            })?;
        Ok(())
    }

    async fn remove(&self, drv: &DpmDriver<H>, instance: &InstanceId) -> Vec<CleanupError> {
        match drv.find_group(instance).await {
            Ok(None) => Vec::new(),
            Ok(Some(g)) => match drv.hmc.delete_storage_group(&g).await {
                Ok(()) => {
                    tracing::debug!(group = %g, "storage group deleted");
                    Vec::new()
                }
                Err(e) if e.is_not_found() => Vec::new(),
                // Attached to a partition: the instance's partition is gone,
                // so another partition uses it, and it is not this
                // instance's to delete.
                Err(e)
                    if e.status_reason() == Some((409, 1))
                        && drv
                            .hmc
                            .get_storage_group_partitions(&g)
                            .await
                            .is_ok_and(|users| !users.is_empty()) =>
                {
                    tracing::warn!(group = %g, "a storage group of the instance's name is used by another partition; left alone");
                    Vec::new()
                }
                // The delete may have happened: ask the HMC.
                Err(e)
                    if e.may_have_taken_effect()
                        && matches!(drv.find_group(instance).await, Ok(None)) =>
                {
                    Vec::new()
                }
                Err(source) => vec![CleanupError::DeleteGroup { group: g, source }],
            },
            Err(e) => vec![CleanupError::Lookup(e.into())],
        }
    }

    async fn undo(&self, drv: &DpmDriver<H>, changes: Vec<Change>) -> Vec<CleanupError> {
        let mut failures = Vec::new();
        for c in changes.into_iter().rev() {
            match c {
                Change::Attached { group, partition } => {
                    match drv.hmc.detach_storage_group(&partition, &group).await {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() || e.status_reason() == Some((409, 1)) => {
                            // Not attached (any more), or a lost attach that
                            // never happened.
                            tracing::debug!(error = %e, "the group is not attached");
                        }
                        Err(source) => failures.push(CleanupError::DetachGroup {
                            group,
                            partition,
                            source,
                        }),
                    }
                }
                Change::Requested { group, requests } => {
                    if let Err(source) = drv.remove_requests(&group, &requests).await {
                        failures.push(CleanupError::RemoveRequests { group, source });
                    }
                }
            }
        }
        failures
    }

    async fn storage_info(
        &self,
        drv: &DpmDriver<H>,
        located: &Located,
    ) -> Result<StorageInfo, LookupError> {
        let Some(g) = located.initiators.group() else {
            return Err(LookupError::InstanceNotFound {
                instance: located.instance.clone(),
            });
        };
        let ready = drv.ready()?;
        let read = drv.read_group(&ready, &g.uri).await?;
        let all: Vec<StorageVolume> = get_many(&drv.hmc, &read.group.storage_volume_uris)
            .await
            .map_err(|source| GroupStep::ReadStorageVolumes {
                group: g.uri.clone(),
                source,
            })?;
        let volumes = all
            .into_iter()
            .map(|sv| {
                let paths = paths_into(&sv, &located.partition);
                GroupVolume {
                    uri: sv.element_uri,
                    name: sv.name,
                    usage: sv.usage,
                    size: sv.size,
                    fulfillment_state: sv.fulfillment_state,
                    paths,
                }
            })
            .collect();
        Ok(StorageInfo::Group {
            group: read.info(Vec::new()),
            fulfillment_state: read.group.fulfillment_state,
            volumes,
            vsrs: read.vsrs,
        })
    }

    fn volumes(
        &self,
        partition: &Partition,
        storage: &StorageInfo,
        _attached: &[(VolumeId, ConnectionInfo)],
    ) -> (Option<Boot>, Vec<InstanceVolume>) {
        let StorageInfo::Group { volumes: vs, .. } = storage else {
            return (None, Vec::new());
        };
        let mut boot = None;
        let mut volumes = Vec::new();
        for v in vs {
            let is_boot = partition.boot_storage_volume.as_ref() == Some(&v.uri);
            if is_boot {
                boot = Some(Boot::Volume {
                    volume: v.uri.clone(),
                    paths: v.paths.clone(),
                });
            }
            // Requests are named after their Cinder volume.
            if let Ok(volume) = v.name.parse() {
                volumes.push(InstanceVolume {
                    volume,
                    boot: is_boot,
                    paths: v.paths.clone(),
                });
            }
        }
        (boot, volumes)
    }
}
