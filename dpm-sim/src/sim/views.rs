//! What tests read of the world: the views, and the inspection methods.

use cinder_client::{AttachStatus, AttachmentId, InstanceId, VolumeId, VolumeStatus};
use fc_types::{DeviceNumber, FcpLun, Wwpn};
use hmc_client::{AdapterUri, PartitionStatus, PartitionUri, StoragePortUri};

use super::Sim;
use crate::dsm::StorageGroupView;
use crate::pipeline::lock;
use crate::storage::{Host, Storage, StorageEvent, Zone};

/// One LUN path a partition's operating system would discover.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GuestPath {
    /// The vHBA's device number.
    pub device_number: DeviceNumber,
    /// The storage target port.
    pub target: Wwpn,
    /// The LUN.
    pub lun: FcpLun,
    /// The volume behind it.
    pub volume: VolumeId,
}

/// A vHBA, as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HbaView {
    /// Partition name.
    pub partition: String,
    /// HBA name.
    pub name: String,
    /// WWPN.
    pub wwpn: Wwpn,
    /// Device number.
    pub device_number: DeviceNumber,
    /// Backing adapter port.
    pub port: StoragePortUri,
}

/// A partition, as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionView {
    /// URI.
    pub uri: PartitionUri,
    /// Name.
    pub name: String,
    /// Status.
    pub status: PartitionStatus,
    /// IFLs.
    pub ifl: u32,
    /// Initial memory, MiB.
    pub memory_mib: u64,
    /// Description.
    pub description: String,
    /// `boot-os-specific-parameters`.
    pub boot_os_specific_parameters: String,
    /// `boot-device`.
    pub boot_device: hmc_client::BootDevice,
    /// `boot-storage-device`: the vHBA it boots over (z13).
    pub boot_storage_device: Option<hmc_client::HbaUri>,
    /// `boot-world-wide-port-name` (z13).
    pub boot_world_wide_port_name: Option<Wwpn>,
    /// `boot-logical-unit-number` (z13).
    pub boot_logical_unit_number: Option<fc_types::FcpLun>,
    /// `boot-storage-volume` (storage groups).
    pub boot_storage_volume: Option<hmc_client::StorageVolumeUri>,
}

/// A volume, across all projects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VolumeView {
    /// Id.
    pub id: VolumeId,
    /// Name.
    pub name: Option<String>,
    /// Status.
    pub status: VolumeStatus,
    /// Bootable.
    pub bootable: bool,
    /// Size, GiB.
    pub size: u64,
}

/// An attachment, across all projects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttachmentView {
    /// Id.
    pub id: AttachmentId,
    /// Volume.
    pub volume: VolumeId,
    /// Instance.
    pub instance: Option<InstanceId>,
    /// Status.
    pub status: AttachStatus,
}

/// Everything an operation may change, for "the world is exactly as
/// before" assertions. Ids the world hands out (WWPNs, object ids) are not
/// reused, so a snapshot compares what exists, not what counters say.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorldSnapshot {
    /// Partitions.
    pub partitions: Vec<PartitionView>,
    /// vHBAs.
    pub hbas: Vec<HbaView>,
    /// Storage host objects with their mappings.
    pub hosts: Vec<Host>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// Volumes.
    pub volumes: Vec<VolumeView>,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
    /// CPC memory held by partitions, MiB.
    pub memory_held_mib: u64,
    /// Storage groups with their WWPNs, volumes, VSRs and partitions.
    pub storage_groups: Vec<StorageGroupView>,
}

/// An FCP adapter of the world, for wiring a driver's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcpAdapterInfo {
    /// Adapter URI.
    pub uri: AdapterUri,
    /// Adapter name.
    pub name: String,
    /// Number of ports.
    pub ports: u32,
}

impl Sim {
    // ----- inspection -----------------------------------------------------------

    /// The LUN paths the operating system of a running partition would
    /// discover: for each of its FCP channels (vHBAs, or the VSRs of its
    /// attached storage groups), each volume mapped to the channel WWPN's
    /// host at each target port the WWPN is zoned with. A partition that is
    /// not running discovers nothing.
    pub fn guest_paths(&self, partition: &PartitionUri) -> Vec<GuestPath> {
        let mut w = lock(self.world());
        w.settle();
        let Some(p) = w.hmc.partitions.get(partition.object_id()) else {
            return Vec::new();
        };
        if !matches!(
            p.status,
            PartitionStatus::Active | PartitionStatus::Degraded
        ) {
            return Vec::new();
        }
        // Each channel with the fabric its port is cabled to.
        let mut channels: Vec<(DeviceNumber, Wwpn, Option<usize>)> = p
            .hbas
            .iter()
            .map(|h| (h.device_number, h.wwpn, w.hmc.port_fabric(&h.port)))
            .collect();
        channels.extend(w.dsm.vsr_pairs(partition).into_iter().map(|(d, wwpn)| {
            let fabric = w.dsm.bound_port(wwpn).and_then(|p| w.hmc.port_fabric(p));
            (d, wwpn, fabric)
        }));
        paths_through(&w.san, &channels)
    }

    /// The storage groups, in creation order: WWPNs with their status and
    /// bound port, volumes with their state, size, usage and the Cinder
    /// volume discovery matched, VSRs, and the attached partitions.
    pub fn storage_groups(&self) -> Vec<StorageGroupView> {
        let mut w = lock(self.world());
        w.settle();
        w.dsm.views()
    }

    /// The storage system's host objects.
    pub fn hosts(&self) -> Vec<Host> {
        lock(self.world()).san.hosts.clone()
    }

    /// The zones on all fabrics.
    pub fn zones(&self) -> Vec<Zone> {
        lock(self.world()).san.zones.iter().cloned().collect()
    }

    /// What the storage system did, in order.
    pub fn storage_events(&self) -> Vec<StorageEvent> {
        lock(self.world()).san.events.clone()
    }

    /// The Cinder node's own WWPNs (used for image deployment).
    pub fn node_wwpns(&self) -> Vec<Wwpn> {
        lock(self.world()).san.node_wwpns()
    }

    /// The target ports on each fabric, by fabric index.
    pub fn target_ports(&self) -> Vec<(Wwpn, usize)> {
        lock(self.world()).san.target_ports.clone()
    }

    /// The fabric an adapter port is cabled to.
    pub fn port_fabric(&self, port: &StoragePortUri) -> Option<usize> {
        lock(self.world()).hmc.port_fabric(port)
    }

    /// Jobs the HMC still holds (not yet deleted).
    pub fn job_count(&self) -> usize {
        lock(self.world()).hmc.jobs.len()
    }

    /// The CPC memory held by partitions, MiB.
    pub fn memory_held_mib(&self) -> u64 {
        lock(self.world()).hmc.memory_held()
    }

    /// The state an operation may change.
    pub fn snapshot(&self) -> WorldSnapshot {
        let mut w = lock(self.world());
        w.settle();
        let partitions = w
            .hmc
            .partitions
            .values()
            .map(|p| PartitionView {
                uri: p.uri(),
                name: p.name.clone(),
                status: p.status.clone(),
                ifl: p.ifl,
                memory_mib: p.initial_memory,
                description: p.description.clone(),
                boot_os_specific_parameters: w
                    .hmc
                    .extras
                    .get(&p.object_id)
                    .map(|e| e.settings.boot_os_specific_parameters.clone())
                    .unwrap_or_default(),
                boot_device: p.boot_device.clone(),
                boot_storage_device: p.boot_storage_device.clone(),
                boot_world_wide_port_name: p.boot_wwpn,
                boot_logical_unit_number: p.boot_lun,
                boot_storage_volume: p.boot_storage_volume.clone(),
            })
            .collect();
        let hbas = w
            .hmc
            .partitions
            .values()
            .flat_map(|p| {
                p.hbas.iter().map(|h| HbaView {
                    partition: p.name.clone(),
                    name: h.name.clone(),
                    wwpn: h.wwpn,
                    device_number: h.device_number,
                    port: h.port.clone(),
                })
            })
            .collect();
        let volumes = w
            .cinder
            .volumes
            .values()
            .map(|v| VolumeView {
                id: v.id.clone(),
                name: v.name.clone(),
                status: v.status,
                bootable: v.bootable,
                size: v.size,
            })
            .collect();
        let attachments = w
            .cinder
            .attachments
            .values()
            .map(|a| AttachmentView {
                id: a.id.clone(),
                volume: a.volume.clone(),
                instance: a.instance.clone(),
                status: a.status,
            })
            .collect();
        WorldSnapshot {
            partitions,
            hbas,
            hosts: w.san.hosts.clone(),
            zones: w.san.zones.iter().cloned().collect(),
            volumes,
            attachments,
            memory_held_mib: w.hmc.memory_held(),
            storage_groups: w.dsm.views(),
        }
    }
}

/// The paths a guest discovers through its FCP channels, each a (device
/// number, WWPN, fabric its port is cabled to) triple: a vHBA and a VSR
/// are looked at the same way, and each finds the targets it reaches.
fn paths_through(
    san: &Storage,
    channels: &[(DeviceNumber, Wwpn, Option<usize>)],
) -> Vec<GuestPath> {
    let mut out = Vec::new();
    for &(device_number, wwpn, fabric) in channels {
        let (Some(host), Some(fabric)) = (san.host_of(wwpn), fabric) else {
            continue;
        };
        for z in san
            .live_zones()
            .filter(|z| z.initiator == wwpn && san.reachable(wwpn, fabric, z.target))
        {
            for (id, volume) in &host.mappings {
                out.push(GuestPath {
                    device_number,
                    target: z.target,
                    lun: FcpLun::from_target_lun(u64::from(*id)),
                    volume: volume.clone(),
                });
            }
        }
    }
    out.sort();
    out
}
