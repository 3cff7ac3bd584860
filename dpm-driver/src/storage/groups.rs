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
use hmc_client::{
    get_many, HmcApi, HmcError, Partition, PartitionUri, StorageVolume, StorageVolumeUri,
    VolumeUsage,
};

use super::{BootPlan, Change, Storage};
use crate::host::{Host, Ports};
use crate::values::{
    Boot, DriverVolume, GroupVolume, Initiators, InstanceVolume, Located, PlannedVolume,
    StorageInfo, StorageModel,
};

use crate::error::{
    AttachStep, CleanupError, ConnectorStep, DetachStep, GroupStep, LookupError, SpawnStep,
};

use super::group_steps::paths_into;

/// The storage-group model's steps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Groups;

#[async_trait]
impl<H: HmcApi> Storage<H> for Groups {
    fn model(&self) -> StorageModel {
        StorageModel::StorageGroups
    }

    async fn locate(
        &self,
        drv: &Host<H>,
        ports: &Ports,
        instance: &InstanceId,
    ) -> Result<Option<Located>, LookupError> {
        let mut read = None;
        for last in [false, false, true] {
            let Some(uri) = drv.find_group(instance).await? else {
                break;
            };
            match drv.read_group(ports, &uri).await {
                Ok(r) => {
                    read = Some(r);
                    break;
                }
                // The group, or a VSR, went between the list and the read:
                // another process is destroying the instance, or detached
                // the group. Look again (a list served while the delete
                // was under way still holds it).
                Err(GroupStep::ReadGroup { source, .. }) if source.is_not_found() && !last => {}
                Err(e) => return Err(e.into()),
            }
        }
        let Some(read) = read else {
            // A partition without a group: an earlier try stopped between
            // the two, or the group went meanwhile.
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
        drv: &Host<H>,
        ports: &Ports,
        instance: &InstanceId,
        partition: &PartitionUri,
        _fresh: bool,
        planned: &[PlannedVolume],
    ) -> Result<(Initiators, bool), ConnectorStep> {
        let (read, requested, existed) = match drv.create_group(ports, instance, planned).await? {
            Some((uri, requested)) => (drv.read_group(ports, &uri).await?, requested, false),
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
                    drv.adopt_group(ports, &uri, partition).await?,
                    Vec::new(),
                    true,
                )
            }
        };
        let wwpns = read.wwpns();
        if wwpns.len() != ports.len() {
            return Err(GroupStep::WrongWwpnCount {
                group: read.group.object_uri.clone(),
                expected: ports.len(),
                found: wwpns.len(),
            }
            .into());
        }
        Ok((Initiators::Group(read.info(requested)), existed))
    }

    async fn boot_plan(
        &self,
        drv: &Host<H>,
        _ports: &Ports,
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
        drv: &Host<H>,
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
                Err(GroupStep::NotDiscovered { .. } | GroupStep::NotFulfilled { .. }) => {
                    // The request that holds the LUN is kept, whichever it is.
                    added = None;
                    drv.leftover_request(&group.uri, &located.partition, &wanted)
                        .await?
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
        drv: &Host<H>,
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

    async fn remove(&self, drv: &Host<H>, instance: &InstanceId) -> Vec<CleanupError> {
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

    async fn undo(&self, drv: &Host<H>, changes: Vec<Change>) -> Vec<CleanupError> {
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
        drv: &Host<H>,
        ports: &Ports,
        located: &Located,
    ) -> Result<StorageInfo, LookupError> {
        let Some(g) = located.initiators.group() else {
            return Err(LookupError::InstanceNotFound {
                instance: located.instance.clone(),
            });
        };
        let read = drv.read_group(ports, &g.uri).await?;
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
