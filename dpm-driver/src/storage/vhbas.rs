//! The vHBA model (z13): one vHBA per adapter mapping on the partition,
//! and a boot from a target WWPN and LUN of Cinder's connection info,
//! through a vHBA logged in to a fabric, reachable target first.

use async_trait::async_trait;
use cinder_client::{ConnectionInfo, InstanceId, VolumeId};
use dpm_volume::{boot_candidates, paths, BootPath, FcPath, Vhba, VolumeError};
use hmc_client::{
    get_many, Hba, HbaCreate, HbaUri, HmcApi, Partition, PartitionUri, StoragePort, StoragePortUri,
};

use super::{BootPlan, Change, Storage};
use crate::config::AdapterMapping;
use crate::host::{Host, Ports};
use crate::values::{
    Boot, DriverVolume, Initiators, InstanceVolume, Located, PlannedVolume, StorageInfo,
    StorageModel,
};

use crate::error::{AttachStep, CleanupError, ConnectorStep, DetachStep, LookupError, SpawnStep};

/// The vHBA model's steps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vhbas;

/// The name of the vHBA for an adapter mapping.
fn hba_name(m: &AdapterMapping) -> String {
    format!("OpenStack_Port_{}_{}", m.adapter.object_id(), m.port)
}

/// Whether a partition boots (from a vHBA) from the LUN of this connection.
pub(crate) fn boots_from(p: &Partition, info: &ConnectionInfo) -> bool {
    let (Some(target), Some(lun)) = (p.boot_world_wide_port_name, p.boot_logical_unit_number)
    else {
        return false;
    };
    p.boot_device == hmc_client::BootDevice::StorageAdapter
        && info
            .fibre_channel()
            .is_ok_and(|fc| fc.targets.iter().any(|t| t.wwpn == target && t.lun == lun))
}

/// Reads vHBAs in one bulk request, ordered as the adapter mappings are;
/// vHBAs the driver did not make come last.
async fn read_vhbas<H: HmcApi>(
    drv: &Host<H>,
    partition: &PartitionUri,
    uris: &[HbaUri],
) -> Result<Vec<(String, Vhba)>, LookupError> {
    let read: Vec<Hba> =
        get_many(&drv.hmc, uris)
            .await
            .map_err(|source| LookupError::ReadHbas {
                partition: partition.clone(),
                source,
            })?;
    let order: Vec<String> = drv.config.adapter_mappings.iter().map(hba_name).collect();
    let mut out: Vec<(String, Vhba)> = read
        .into_iter()
        .map(|h| {
            (
                h.name,
                Vhba {
                    uri: h.element_uri,
                    wwpn: h.wwpn,
                    device_number: h.device_number,
                },
            )
        })
        .collect();
    out.sort_by_key(|(name, _)| order.iter().position(|n| n == name).unwrap_or(usize::MAX));
    Ok(out)
}

/// The vHBAs with those whose adapter port is logged in to a fabric (its
/// `fabric-id` is set) first: a vHBA on a fabric that is down cannot boot.
/// One bulk read of the ports; when it fails, or there is one vHBA, the
/// mapping order stands.
async fn logged_in_first<H: HmcApi>(drv: &Host<H>, ports: &Ports, vhbas: &[Vhba]) -> Vec<Vhba> {
    if vhbas.len() < 2 {
        return vhbas.to_vec();
    }
    let ports: Vec<&StoragePortUri> = ports.iter().map(|(_, p)| p).collect();
    let read: Vec<StoragePort> = match get_many(&drv.hmc, &ports).await {
        Ok(read) => read,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the adapter ports' fabric logins; keeping the mapping order");
            return vhbas.to_vec();
        }
    };
    let dark = |port: &StoragePortUri| {
        read.iter()
            .any(|p| p.element_uri == *port && p.fabric_id.is_none())
    };
    let mut paired: Vec<(bool, &Vhba)> = vhbas
        .iter()
        .zip(&ports)
        .map(|(v, port)| (dark(port), v))
        .collect();
    if paired.iter().any(|(d, _)| *d) {
        tracing::warn!(
            "an adapter port is not logged in to a fabric; booting over the others first"
        );
    }
    // Stable: the mapping order stands among the lit and the dark.
    paired.sort_by_key(|(d, _)| *d);
    paired.into_iter().map(|(_, v)| v.clone()).collect()
}

#[async_trait]
impl<H: HmcApi> Storage<H> for Vhbas {
    fn model(&self) -> StorageModel {
        StorageModel::Hbas
    }

    async fn locate(
        &self,
        drv: &Host<H>,
        _ports: &Ports,
        instance: &InstanceId,
    ) -> Result<Option<Located>, LookupError> {
        let Some((partition, p)) = drv.find_and_read_partition(instance).await? else {
            return Ok(None);
        };
        let vhbas = match read_vhbas(drv, &partition, &p.hba_uris).await {
            // A vHBA went between the partition read and its own: the
            // partition was deleted meanwhile (by another process), or its
            // vHBAs changed. Look once more.
            Err(LookupError::ReadHbas { source, .. }) if source.is_not_found() => {
                let Some((_, p)) = drv.find_and_read_partition(instance).await? else {
                    return Ok(None);
                };
                read_vhbas(drv, &partition, &p.hba_uris).await?
            }
            other => other?,
        };
        Ok(Some(Located {
            instance: instance.clone(),
            partition,
            initiators: Initiators::Vhbas(vhbas.into_iter().map(|(_, v)| v).collect()),
            created: false,
        }))
    }

    async fn ensure(
        &self,
        drv: &Host<H>,
        ports: &Ports,
        instance: &InstanceId,
        partition: &PartitionUri,
        fresh: bool,
        _planned: &[PlannedVolume],
    ) -> Result<(Initiators, bool), ConnectorStep> {
        let existing = if fresh {
            Vec::new()
        } else {
            let p = drv.get_partition(partition).await?;
            read_vhbas(drv, partition, &p.hba_uris).await?
        };
        let mut made = Vec::new();
        for (mapping, port) in ports {
            let name = hba_name(mapping);
            if existing.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let props = HbaCreate {
                description: Some(format!("OpenStack instance {instance}")),
                ..HbaCreate::new(name, port.clone())
            };
            let uri = drv
                .hmc
                .create_hba(partition, &props)
                .await
                .map_err(|source| ConnectorStep::CreateHba {
                    mapping: mapping.to_string(),
                    source,
                })?;
            tracing::debug!(hba = %uri, "vHBA created");
            made.push(uri);
        }
        let existed = !existing.is_empty();
        let mut all = existing;
        all.extend(read_vhbas(drv, partition, &made).await?);
        let order: Vec<String> = drv.config.adapter_mappings.iter().map(hba_name).collect();
        all.sort_by_key(|(name, _)| order.iter().position(|n| n == name).unwrap_or(usize::MAX));
        Ok((
            Initiators::Vhbas(all.into_iter().map(|(_, v)| v).collect()),
            existed,
        ))
    }

    async fn boot_plan(
        &self,
        drv: &Host<H>,
        ports: &Ports,
        located: &Located,
        volumes: &[&DriverVolume],
        boot: &DriverVolume,
        _changes: &mut Vec<Change>,
    ) -> Result<BootPlan, SpawnStep> {
        let vhbas = located.initiators.vhbas();
        let mut all = Vec::new();
        for v in volumes {
            let p =
                paths(&v.connection_info, vhbas).map_err(|source| SpawnStep::ConnectVolume {
                    volume: v.volume_id.clone(),
                    source,
                })?;
            all.push((v.volume_id.clone(), p));
        }
        let ordered = logged_in_first(drv, ports, vhbas).await;
        let cfg = &drv.config;
        let bootpath = |source| SpawnStep::BootPath {
            volume: boot.volume_id.clone(),
            source,
        };
        let candidates = boot_candidates(
            &boot.connection_info,
            &ordered,
            &cfg.target_wwpn_ignore_list,
        )
        .map_err(bootpath)?;
        let bound = usize::try_from(cfg.max_boot_attempts.max(1)).unwrap_or(usize::MAX);
        let boots: Vec<Boot> = candidates.into_iter().take(bound).map(Boot::San).collect();
        if boots.is_empty() {
            return Err(bootpath(VolumeError::NoPaths));
        }
        Ok(BootPlan { boots, paths: all })
    }

    async fn attach(
        &self,
        drv: &Host<H>,
        located: &Located,
        volume: &DriverVolume,
    ) -> Result<Vec<FcPath>, (AttachStep, Vec<CleanupError>)> {
        // Cinder masked and zoned the LUN to every vHBA; the guest finds
        // it by auto-discovery. Nothing changes on the HMC, but the
        // partition must still be there (another process may have
        // destroyed it since it was found): one read.
        match drv.get_partition(&located.partition).await {
            Ok(_) => {}
            Err(LookupError::GetPartition { source, .. }) if source.is_not_found() => {
                let gone = LookupError::InstanceNotFound {
                    instance: located.instance.clone(),
                };
                return Err((gone.into(), Vec::new()));
            }
            Err(e) => return Err((e.into(), Vec::new())),
        }
        paths(&volume.connection_info, located.initiators.vhbas()).map_err(|source| {
            (
                AttachStep::ConnectVolume {
                    volume: volume.volume_id.clone(),
                    source,
                },
                Vec::new(),
            )
        })
    }

    async fn detach(
        &self,
        drv: &Host<H>,
        instance: &InstanceId,
        volume: &VolumeId,
        info: Option<&ConnectionInfo>,
    ) -> Result<(), DetachStep> {
        // The guest's zfcp lets the LUN go when Cinder unmasks it; all
        // there is to check is that it is not the boot LUN.
        let Some(info) = info else {
            return Ok(());
        };
        let (_, p) = drv.require_read_partition(instance).await?;
        if boots_from(&p, info) {
            return Err(DetachStep::RootVolume {
                instance: instance.clone(),
                volume: volume.clone(),
            });
        }
        Ok(())
    }

    async fn remove(&self, _drv: &Host<H>, _instance: &InstanceId) -> Vec<CleanupError> {
        // The vHBAs went with the partition.
        Vec::new()
    }

    async fn undo(&self, _drv: &Host<H>, _changes: Vec<Change>) -> Vec<CleanupError> {
        // The boot preparation changes nothing with vHBAs.
        Vec::new()
    }

    async fn storage_info(
        &self,
        _drv: &Host<H>,
        _ports: &Ports,
        located: &Located,
    ) -> Result<StorageInfo, LookupError> {
        Ok(StorageInfo::Vhbas(located.initiators.vhbas().to_vec()))
    }

    fn volumes(
        &self,
        partition: &Partition,
        storage: &StorageInfo,
        attached: &[(VolumeId, ConnectionInfo)],
    ) -> (Option<Boot>, Vec<InstanceVolume>) {
        let boot = match (
            partition.boot_storage_device.clone(),
            partition.boot_world_wide_port_name,
            partition.boot_logical_unit_number,
        ) {
            (Some(hba), Some(target), Some(lun)) => Some(Boot::San(BootPath { hba, target, lun })),
            _ => None,
        };
        let vhbas = match storage {
            StorageInfo::Vhbas(v) => v.as_slice(),
            StorageInfo::Group { .. } => &[],
        };
        let volumes = attached
            .iter()
            .map(|(volume, ci)| InstanceVolume {
                volume: volume.clone(),
                boot: boots_from(partition, ci),
                paths: paths(ci, vhbas).unwrap_or_default(),
            })
            .collect();
        (boot, volumes)
    }
}
