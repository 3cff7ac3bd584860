//! The storage system and the SAN, as an SVC/Storwize backend with the FC
//! zone manager (`zoning_mode=fabric`, `initiator-target` policy) behave.
//!
//! - A host object is keyed by WWPN: made on first use, and the connector's
//!   other ports are added to it.
//! - A volume-to-host mapping takes the lowest SCSI id free on that host (or
//!   reuses the volume's mapping); that id is Cinder's `target_lun`.
//! - Zones are one per (initiator, target) pair on the fabric both are on.
//! - Unmapping removes the mapping; the host's zones and the host object go
//!   when its last mapping goes.

use std::collections::{BTreeMap, BTreeSet};

use cinder_client::{FcData, VolumeId};
use fc_types::Wwpn;

use crate::spec::{SpecError, WorldSpec};

/// A zone: one initiator and one target on one fabric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Zone {
    /// Fabric index (in the spec's order).
    pub fabric: usize,
    /// Initiator port.
    pub initiator: Wwpn,
    /// Storage target port.
    pub target: Wwpn,
}

/// A host object of the storage system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Host name.
    pub name: String,
    /// Its initiator ports.
    pub wwpns: BTreeSet<Wwpn>,
    /// SCSI id → volume.
    pub mappings: BTreeMap<u32, VolumeId>,
}

/// Something the storage system did, for tests that check the order of
/// events (image deployment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageEvent {
    /// A volume was mapped to a host at a SCSI id.
    Mapped {
        /// Host name.
        host: String,
        /// The volume.
        volume: VolumeId,
        /// SCSI id.
        scsi_id: u32,
    },
    /// An image was written to a volume.
    ImageWritten {
        /// The volume.
        volume: VolumeId,
        /// The image name.
        image: String,
    },
    /// A volume was unmapped from a host.
    Unmapped {
        /// Host name.
        host: String,
        /// The volume.
        volume: VolumeId,
    },
    /// A host object was deleted with its zones.
    HostRemoved {
        /// Host name.
        host: String,
    },
}

/// Why the storage side refused a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StorageRefusal {
    /// The connector has no WWPNs.
    NoInitiators,
    /// The connector's WWPNs belong to more than one host object.
    HostConflict(Vec<String>),
    /// No initiator shares a fabric with any target port.
    NoPath(Vec<Wwpn>),
}

impl StorageRefusal {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::NoInitiators => "Bad or unexpected response from the storage volume backend API: connector has no wwpns".into(),
            Self::HostConflict(h) => format!(
                "Bad or unexpected response from the storage volume backend API: the connector's WWPNs belong to several hosts: {}",
                h.join(", ")
            ),
            Self::NoPath(w) => format!(
                "Bad or unexpected response from the storage volume backend API: no storage target port shares a fabric with initiators {}",
                w.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Storage {
    pub node_ports: Vec<(Wwpn, usize)>,
    pub target_ports: Vec<(Wwpn, usize)>,
    pub hosts: Vec<Host>,
    pub zones: BTreeSet<Zone>,
    pub events: Vec<StorageEvent>,
    /// Whether the FC zone manager zones (`zoning_mode=fabric`); when off,
    /// LUNs are masked but no zones are made, as with `zoning_mode=none`
    /// on a fabric that needs zoning.
    pub zoning: bool,
    /// Fabrics that are down (a fault knob).
    pub down: BTreeSet<usize>,
    next_host: u32,
}

impl Storage {
    pub(crate) fn new(spec: &WorldSpec) -> Result<Self, SpecError> {
        let resolve = |ports: &[crate::spec::FabricPort]| {
            ports
                .iter()
                .map(|p| Ok((p.wwpn, spec.fabric_index(&p.fabric, "storage port")?)))
                .collect::<Result<Vec<_>, SpecError>>()
        };
        Ok(Self {
            node_ports: resolve(&spec.storage.node_ports)?,
            target_ports: resolve(&spec.storage.target_ports)?,
            hosts: Vec::new(),
            zones: BTreeSet::new(),
            events: Vec::new(),
            zoning: true,
            down: BTreeSet::new(),
            next_host: 0,
        })
    }

    pub(crate) fn node_port_fabric(&self, wwpn: Wwpn) -> Option<usize> {
        self.node_ports
            .iter()
            .find(|(w, _)| *w == wwpn)
            .map(|(_, f)| *f)
    }

    pub(crate) fn node_wwpns(&self) -> Vec<Wwpn> {
        self.node_ports.iter().map(|(w, _)| *w).collect()
    }

    /// The host object that holds `wwpn`.
    pub(crate) fn host_of(&self, wwpn: Wwpn) -> Option<&Host> {
        self.hosts.iter().find(|h| h.wwpns.contains(&wwpn))
    }

    /// Whether a zone on a fabric that is up joins these two ports.
    pub(crate) fn zoned(&self, initiator: Wwpn, target: Wwpn) -> bool {
        self.live_zones()
            .any(|z| z.initiator == initiator && z.target == target)
    }

    /// The zones that carry traffic: those on fabrics that are up. (A
    /// fabric that goes down keeps its zoning; nothing passes until it is
    /// back.)
    pub(crate) fn live_zones(&self) -> impl Iterator<Item = &Zone> + '_ {
        self.zones.iter().filter(|z| !self.down.contains(&z.fabric))
    }

    /// Maps `volume` to the host of `initiators` and zones every
    /// initiator to the target ports on its fabric. `fabric_of` tells which
    /// fabric an initiator is logged into. Nothing changes on refusal.
    pub(crate) fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host_hint: &str,
        fabric_of: impl Fn(Wwpn) -> Option<usize>,
    ) -> Result<FcData, StorageRefusal> {
        if initiators.is_empty() {
            return Err(StorageRefusal::NoInitiators);
        }
        let owners: BTreeSet<usize> = initiators
            .iter()
            .filter_map(|w| self.hosts.iter().position(|h| h.wwpns.contains(w)))
            .collect();
        if owners.len() > 1 {
            return Err(StorageRefusal::HostConflict(
                owners.iter().map(|&i| self.hosts[i].name.clone()).collect(),
            ));
        }
        let mut map: BTreeMap<Wwpn, Vec<Wwpn>> = BTreeMap::new();
        let mut zones = Vec::new();
        for &i in initiators {
            let Some(f) = fabric_of(i) else { continue };
            for &(t, tf) in &self.target_ports {
                if tf == f {
                    map.entry(i).or_default().push(t);
                    zones.push(Zone {
                        fabric: f,
                        initiator: i,
                        target: t,
                    });
                }
            }
        }
        if map.is_empty() {
            return Err(StorageRefusal::NoPath(initiators.to_vec()));
        }
        // Accepted: from here on, change the state.
        let host_index = match owners.first() {
            Some(&i) => i,
            None => {
                self.next_host += 1;
                let name = format!("{}-{}", sanitize(host_hint), self.next_host);
                self.hosts.push(Host {
                    name,
                    wwpns: BTreeSet::new(),
                    mappings: BTreeMap::new(),
                });
                self.hosts.len() - 1
            }
        };
        let host = &mut self.hosts[host_index];
        host.wwpns.extend(initiators.iter().copied());
        let existing = host
            .mappings
            .iter()
            .find(|(_, v)| *v == volume)
            .map(|(id, _)| *id);
        let scsi_id = match existing {
            Some(id) => id,
            None => {
                let id = (0..)
                    .find(|id| !host.mappings.contains_key(id))
                    .unwrap_or(0);
                host.mappings.insert(id, volume.clone());
                let host = host.name.clone();
                self.events.push(StorageEvent::Mapped {
                    host,
                    volume: volume.clone(),
                    scsi_id: id,
                });
                id
            }
        };
        if self.zoning {
            self.zones.extend(zones);
        }
        let target_wwn: Vec<Wwpn> = self
            .target_ports
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| map.values().any(|v| v.contains(t)))
            .collect();
        Ok(FcData {
            target_discovered: false,
            target_lun: u64::from(scsi_id),
            target_wwn,
            initiator_target_map: map,
            volume_id: volume.clone(),
        })
    }

    /// Unmaps `volume` from the host of `initiators`; when the host has no
    /// mappings left, removes its zones and the host. Unmapping what is not
    /// mapped changes nothing (Cinder's terminate is idempotent).
    pub(crate) fn disconnect(&mut self, volume: &VolumeId, initiators: &[Wwpn]) {
        let Some(hi) = self
            .hosts
            .iter()
            .position(|h| initiators.iter().any(|w| h.wwpns.contains(w)))
        else {
            return;
        };
        let host = &mut self.hosts[hi];
        let before = host.mappings.len();
        host.mappings.retain(|_, v| v != volume);
        if host.mappings.len() != before {
            let name = host.name.clone();
            self.events.push(StorageEvent::Unmapped {
                host: name,
                volume: volume.clone(),
            });
        }
        if self.hosts[hi].mappings.is_empty() {
            let host = self.hosts.remove(hi);
            self.zones.retain(|z| !host.wwpns.contains(&z.initiator));
            self.events
                .push(StorageEvent::HostRemoved { host: host.name });
        }
    }

    /// Records that `image` was written to `volume`.
    pub(crate) fn image_written(&mut self, volume: &VolumeId, image: &str) {
        self.events.push(StorageEvent::ImageWritten {
            volume: volume.clone(),
            image: image.into(),
        });
    }

    /// Removes `volume` from every host (when the volume is deleted).
    pub(crate) fn unmap_everywhere(&mut self, volume: &VolumeId) {
        let hosts: Vec<Vec<Wwpn>> = self
            .hosts
            .iter()
            .filter(|h| h.mappings.values().any(|v| v == volume))
            .map(|h| h.wwpns.iter().copied().collect())
            .collect();
        for wwpns in hosts {
            self.disconnect(volume, &wwpns);
        }
    }
}

/// SVC host names allow letters, digits, `-`, `_` and `.`.
fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if out.is_empty() {
        "host".into()
    } else {
        out
    }
}
