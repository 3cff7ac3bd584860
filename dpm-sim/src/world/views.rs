//! The views between domains: what one domain reads of the others, put
//! together from the world's sub-states.

use cinder_client::{FcData, VolumeId};
use fc_types::{FcpLun, Wwpn};
use hmc_client::{AdapterType, BootDevice, PartitionStatus, PartitionUri, StoragePortUri};

use crate::cinder::{self, CinderState};
use crate::dsm::{self, DsmState};
use crate::hmc::{self, HmcState, PartitionState};
use crate::ids::Ids;
use crate::storage::{Storage, StorageRefusal};

/// The fabric an initiator WWPN is logged in to now (what `lsfabric`
/// shows), if any; never a fabric that is down:
/// - one of the Cinder node's ports, always;
/// - a vHBA, while its partition runs (from the start of its IPL until it
///   has stopped; paused and terminated partitions keep their resources,
///   channels included), over its adapter port's cable;
/// - a storage group's WWPN, while the partition of its VSR runs or while
///   the group's discovery runs, over the candidate port it is bound to.
pub(super) fn logged_in_fabric(
    san: &Storage,
    hmc: &HmcState,
    dsm: &DsmState,
    wwpn: Wwpn,
) -> Option<usize> {
    let runs = |p: &PartitionState| {
        matches!(
            p.status,
            PartitionStatus::Starting
                | PartitionStatus::Active
                | PartitionStatus::Degraded
                | PartitionStatus::Paused
                | PartitionStatus::Terminated
                | PartitionStatus::Stopping
        )
    };
    let fabric = san.node_port_fabric(wwpn).or_else(|| {
        if let Some((p, hba)) = hmc
            .partitions
            .values()
            .find_map(|p| Some((p, p.hbas.iter().find(|h| h.wwpn == wwpn)?)))
        {
            return runs(p).then(|| hmc.port_fabric(&hba.port)).flatten();
        }
        let (group, index) = dsm
            .groups
            .iter()
            .find_map(|g| Some((g, g.wwpns.iter().position(|w| w.wwpn == wwpn)?)))?;
        let active = group.discovery_job.is_some()
            || group.vsrs.iter().any(|v| {
                v.wwpn_index == index
                    && hmc
                        .partitions
                        .get(v.partition.object_id())
                        .is_some_and(&runs)
            });
        active
            .then(|| hmc.port_fabric(group.wwpns[index].port.as_ref()?))
            .flatten()
    })?;
    (!san.down.contains(&fabric)).then_some(fabric)
}

/// What the HMC's boot check reads: zones and mappings from the SAN,
/// bootability from Cinder, and storage management's verdict for a
/// storage-volume boot.
pub(super) struct BootFacts<'a> {
    pub(super) san: &'a Storage,
    pub(super) cinder: &'a CinderState,
    pub(super) volume_boot: Option<Result<(), String>>,
}

impl hmc::BootView for BootFacts<'_> {
    fn reachable(&self, initiator: Wwpn, fabric: usize, target: Wwpn) -> bool {
        self.san.reachable(initiator, fabric, target)
    }

    fn mapped_volume(&self, initiator: Wwpn, scsi_id: u32) -> Option<VolumeId> {
        self.san.host_of(initiator)?.mappings.get(&scsi_id).cloned()
    }

    fn bootable(&self, volume: &VolumeId) -> bool {
        self.cinder.volumes.get(volume).is_some_and(|v| v.bootable)
    }

    fn storage_volume_boot(&self, p: &PartitionState) -> Result<(), String> {
        self.volume_boot.clone().unwrap_or_else(|| {
            Err(format!(
                "Boot failed: partition {} does not boot from a storage volume.",
                p.name
            ))
        })
    }
}

/// What storage management reads: the CPC, its ports and partitions from
/// the HMC, zones and masking from the SAN, volumes from Cinder.
pub(crate) struct DsmFacts<'a> {
    pub(super) hmc: &'a HmcState,
    pub(super) san: &'a Storage,
    pub(super) cinder: &'a CinderState,
}

pub(super) fn partition_facts(p: &PartitionState) -> dsm::PartitionFacts {
    dsm::PartitionFacts {
        uri: p.uri(),
        name: p.name.clone(),
        status: p.status.clone(),
        partition_type: p.partition_type.clone(),
        // The volume it boots from: `boot-storage-volume` counts only while
        // `boot-device` is `storage-volume`.
        boot_storage_volume: (p.boot_device == BootDevice::StorageVolume)
            .then(|| p.boot_storage_volume.clone())
            .flatten(),
        device_numbers: p.hbas.iter().map(|h| h.device_number).collect(),
    }
}

impl dsm::CpcView for DsmFacts<'_> {
    fn cpc(&self) -> dsm::CpcFacts {
        dsm::CpcFacts {
            uri: self.hmc.cpc.uri(),
            name: self.hmc.cpc.name.clone(),
            storage_management: self.hmc.cpc.storage_management,
        }
    }
}

impl dsm::PortView for DsmFacts<'_> {
    fn port(&self, port: &StoragePortUri) -> Option<dsm::PortFacts> {
        let (adapter, index) = self.hmc.find_port(port)?;
        Some(dsm::PortFacts {
            fcp: adapter.adapter_type == AdapterType::Fcp,
            ficon: adapter.adapter_type == AdapterType::Fc,
            fabric: adapter.ports.get(index)?.fabric,
        })
    }
}

impl dsm::PartitionsView for DsmFacts<'_> {
    fn partition(&self, uri: &PartitionUri) -> Option<dsm::PartitionFacts> {
        self.hmc
            .partitions
            .get(uri.object_id())
            .map(partition_facts)
    }

    fn partitions(&self) -> Vec<dsm::PartitionFacts> {
        self.hmc.partitions.values().map(partition_facts).collect()
    }
}

impl dsm::SanView for DsmFacts<'_> {
    fn zoned_targets(&self, initiator: Wwpn, fabric: usize) -> Vec<Wwpn> {
        self.san
            .live_zones()
            .filter(|z| z.initiator == initiator && z.fabric == fabric)
            .map(|z| z.target)
            .collect()
    }

    fn masked_luns(&self, initiator: Wwpn) -> Vec<(FcpLun, VolumeId)> {
        self.san
            .host_of(initiator)
            .map(|h| {
                h.mappings
                    .iter()
                    .map(|(id, v)| (FcpLun::from_target_lun(u64::from(*id)), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl dsm::CinderView for DsmFacts<'_> {
    fn cinder_volume(&self, id: &VolumeId) -> Option<dsm::CinderVolumeFacts> {
        self.cinder.volumes.get(id).map(|v| dsm::CinderVolumeFacts {
            size_gib: v.size,
            bootable: v.bootable,
        })
    }
}

/// Storage management draws its ids from the world's one allocator.
impl dsm::Alloc for Ids {
    fn object_id(&mut self, kind: dsm::IdKind) -> String {
        self.new_object_id(match kind {
            dsm::IdKind::Group => 0x5,
            dsm::IdKind::Volume => 0x6,
            dsm::IdKind::Job => 0x7,
            dsm::IdKind::Vsr => 0x8,
        })
    }

    fn npiv_wwpn(&mut self) -> Wwpn {
        self.new_npiv_wwpn()
    }
}

/// Cinder's backend: the SAN, with each initiator's fabric login read from
/// the HMC's cabling and partition status.
pub(super) struct SanBackend<'a> {
    pub(super) san: &'a mut Storage,
    pub(super) hmc: &'a HmcState,
    pub(super) dsm: &'a DsmState,
}

impl cinder::Backend for SanBackend<'_> {
    fn node_wwpns(&self) -> Vec<Wwpn> {
        self.san.node_wwpns()
    }

    fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host: &str,
    ) -> Result<FcData, cinder::BackendRefusal> {
        // Resolved before the SAN changes, so the lookup borrows nothing.
        let fabrics: Vec<(Wwpn, Option<usize>)> = initiators
            .iter()
            .map(|w| (*w, logged_in_fabric(self.san, self.hmc, self.dsm, *w)))
            .collect();
        self.san
            .connect(volume, initiators, host, |w| {
                fabrics.iter().find(|(x, _)| *x == w).and_then(|(_, f)| *f)
            })
            .map_err(|r| cinder::BackendRefusal {
                bad_connector: matches!(r, StorageRefusal::NoInitiators),
                message: r.message(),
            })
    }

    fn disconnect(&mut self, volume: &VolumeId, initiators: &[Wwpn]) {
        self.san.disconnect(volume, initiators);
    }

    fn unmap_everywhere(&mut self, volume: &VolumeId) {
        self.san.unmap_everywhere(volume);
    }

    fn image_written(&mut self, volume: &VolumeId, image: &str) {
        self.san.image_written(volume, image);
    }
}
