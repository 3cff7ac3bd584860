//! The storage system and the SAN, as an SVC/Storwize backend with the FC
//! zone manager (`zoning_mode=fabric`, `initiator-target` policy) behave.
//!
//! - A host object is keyed by WWPN: made on first use, and the connector's
//!   other ports are added to it.
//! - A volume-to-host mapping takes the lowest SCSI id free on that host (or
//!   reuses the volume's mapping); that id is Cinder's `target_lun`.
//! - The answer is all-to-all: every initiator maps to every target port in
//!   `conn_wwpns`, the node ports the host's WWPNs are logged in to
//!   (`lsfabric`), or **every** node port on every fabric when none is
//!   logged in (a partition that has not started has no fabric login).
//!   Hosts are made with `mkhost -force`, so unlogged WWPNs are accepted.
//! - The zone manager zones each (initiator, target) pair of the map on the
//!   fabric where the target is visible; it does not check that the
//!   initiator is logged in there. Only a zone on the initiator's own fabric
//!   (that is up) carries traffic: see [`Storage::reachable`].
//! - Unmapping removes the mapping; the host's zones and the host object go
//!   when its last mapping goes.

use std::collections::{BTreeMap, BTreeSet};

use cinder_client::{FcData, VolumeId};
use fc_types::Wwpn;

use crate::spec::{SpecError, WorldSpec};

/// A zone: one initiator and one target on one fabric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Zone {
    /// Fabric index (in the spec's order).
    pub fabric: usize,
    /// Initiator port.
    pub initiator: Wwpn,
    /// Storage target port.
    pub target: Wwpn,
}

/// A host object of the storage system.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Host {
    /// Host name.
    pub name: String,
    /// Its initiator ports.
    pub wwpns: BTreeSet<Wwpn>,
    /// SCSI id → volume.
    pub mappings: BTreeMap<u32, VolumeId>,
}

/// Tells what the storage system did as one `debug` event of target
/// `dpm_sim::storage` (field `what`), for a tracing layer that draws the
/// run (`cinder → storage`).
fn told(what: &str) {
    tracing::debug!(target: "dpm_sim::storage", what, "storage");
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

/// The first group of a UUID's text, enough to tell volumes apart.
fn short(v: &VolumeId) -> String {
    let mut s = v.to_string();
    s.truncate(8);
    s
}

impl std::fmt::Display for StorageEvent {
    /// As the storage administrator would say it (LUN masking: map and
    /// unmap), volumes by the first group of their id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageEvent::Mapped {
                host,
                volume,
                scsi_id,
            } => write!(
                f,
                "map volume {} to host {host} (SCSI id {scsi_id})",
                short(volume)
            ),
            StorageEvent::Unmapped { host, volume } => {
                write!(f, "unmap volume {} from host {host}", short(volume))
            }
            StorageEvent::ImageWritten { volume, image } => {
                write!(f, "write image {image} to volume {}", short(volume))
            }
            StorageEvent::HostRemoved { host } => {
                write!(f, "remove host {host} (no mappings left)")
            }
        }
    }
}

/// Why the storage side refused a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StorageRefusal {
    /// The connector has no WWPNs.
    NoInitiators,
    /// The connector's WWPNs belong to more than one host object.
    HostConflict(Vec<String>),
}

impl StorageRefusal {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::NoInitiators => "Bad or unexpected response from the storage volume backend API: connector has no wwpns".into(),
            Self::HostConflict(h) => format!(
                "Bad or unexpected response from the storage volume backend API: the connector's WWPNs belong to several hosts: {}",
                h.join(", ")
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

    /// Whether `initiator`, cabled to `fabric`, reaches `target`: the
    /// target is on that fabric, the fabric is up, and a zone there joins
    /// the two. (A zone the zone manager made on the target's fabric for an
    /// initiator cabled elsewhere carries nothing.)
    pub(crate) fn reachable(&self, initiator: Wwpn, fabric: usize, target: Wwpn) -> bool {
        self.target_fabric(target) == Some(fabric)
            && self
                .live_zones()
                .any(|z| z.fabric == fabric && z.initiator == initiator && z.target == target)
    }

    fn target_fabric(&self, target: Wwpn) -> Option<usize> {
        self.target_ports
            .iter()
            .find(|(t, _)| *t == target)
            .map(|(_, f)| *f)
    }

    /// The zones that carry traffic: those on fabrics that are up. (A
    /// fabric that goes down keeps its zoning; nothing passes until it is
    /// back.)
    pub(crate) fn live_zones(&self) -> impl Iterator<Item = &Zone> + '_ {
        self.zones.iter().filter(|z| !self.down.contains(&z.fabric))
    }

    /// `conn_wwpns`: the target ports the initiators are logged in to
    /// (`lsfabric`), in the system's port order; every target port when
    /// none is. `logged_in` tells the fabric an initiator is logged in to
    /// now, if any.
    fn conn_wwpns(
        &self,
        initiators: &[Wwpn],
        logged_in: impl Fn(Wwpn) -> Option<usize>,
    ) -> Vec<Wwpn> {
        let logins: Vec<Wwpn> = self
            .target_ports
            .iter()
            .map(|(t, _)| *t)
            .filter(|&t| {
                initiators.iter().any(|&i| {
                    logged_in(i).is_some_and(|f| !self.down.contains(&f) && self.reachable(i, f, t))
                })
            })
            .collect();
        if logins.is_empty() {
            self.target_ports.iter().map(|(t, _)| *t).collect()
        } else {
            logins
        }
    }

    /// Maps `volume` to the host of `initiators`, answers with the
    /// all-to-all map over `conn_wwpns`, and zones every pair of it on the
    /// target's fabric. `logged_in` tells which fabric an initiator is
    /// logged in to now. Nothing changes on refusal.
    pub(crate) fn connect(
        &mut self,
        volume: &VolumeId,
        initiators: &[Wwpn],
        host_hint: &str,
        logged_in: impl Fn(Wwpn) -> Option<usize>,
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
        let targets = self.conn_wwpns(initiators, logged_in);
        let map: BTreeMap<Wwpn, Vec<Wwpn>> =
            initiators.iter().map(|&i| (i, targets.clone())).collect();
        let zones: Vec<Zone> = initiators
            .iter()
            .flat_map(|&i| targets.iter().map(move |&t| (i, t)))
            .filter_map(|(initiator, target)| {
                Some(Zone {
                    fabric: self.target_fabric(target)?,
                    initiator,
                    target,
                })
            })
            .collect();
        // Accepted: from here on, change the state.
        let host_index = match owners.first() {
            Some(&i) => i,
            None => {
                self.next_host += 1;
                let name = host_name(host_hint, self.next_host);
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
                self.record(StorageEvent::Mapped {
                    host,
                    volume: volume.clone(),
                    scsi_id: id,
                });
                id
            }
        };
        if self.zoning {
            let new = zones.iter().filter(|z| !self.zones.contains(z)).count();
            if new > 0 {
                told(&format!("zoning: add {new} initiator-target zones"));
            }
            self.zones.extend(zones);
        }
        Ok(FcData {
            target_discovered: false,
            target_lun: u64::from(scsi_id),
            target_wwn: targets,
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
            self.record(StorageEvent::Unmapped {
                host: name,
                volume: volume.clone(),
            });
        }
        if self.hosts[hi].mappings.is_empty() {
            let host = self.hosts.remove(hi);
            let before = self.zones.len();
            self.zones.retain(|z| !host.wwpns.contains(&z.initiator));
            let gone = before - self.zones.len();
            self.record(StorageEvent::HostRemoved { host: host.name });
            if gone > 0 {
                told(&format!("zoning: remove {gone} initiator-target zones"));
            }
        }
    }

    /// Records that `image` was written to `volume`.
    pub(crate) fn image_written(&mut self, volume: &VolumeId, image: &str) {
        self.record(StorageEvent::ImageWritten {
            volume: volume.clone(),
            image: image.into(),
        });
    }

    /// Keeps an event and tells it (see [`told`]).
    fn record(&mut self, e: StorageEvent) {
        if tracing::enabled!(target: "dpm_sim::storage", tracing::Level::DEBUG) {
            told(&e.to_string());
        }
        self.events.push(e);
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

/// A host name as the Storwize driver makes it from the connector's host:
/// characters other than letters, digits, `.`, `-`, `_` and space become
/// `-`; `_` goes in front of a name that does not start with a letter; at
/// most 55 characters; then `-` and 8 random digits (drawn here from the
/// host's sequence number, so that runs repeat).
fn host_name(hint: &str, seq: u32) -> String {
    let mut name: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert(0, '_');
    }
    let name: String = name.chars().take(55).collect();
    // splitmix64 of the sequence number: 8 digits that look random.
    let mut z = u64::from(seq).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{name}-{:08}", z % 100_000_000)
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_are_made_as_storwize_makes_them() {
        let n = host_name("compute-1", 1);
        assert!(n.starts_with("compute-1-"), "{n}");
        assert_eq!(n.len(), "compute-1-".len() + 8);
        assert!(n["compute-1-".len()..].chars().all(|c| c.is_ascii_digit()));
        assert!(host_name("my host/α", 1).starts_with("my host--"));
        assert!(host_name("1node", 1).starts_with("_1node-"));
        let long = host_name(&"x".repeat(80), 2);
        assert_eq!(long.len(), 55 + 1 + 8);
        assert_ne!(host_name("h", 1), host_name("h", 2));
    }
}
