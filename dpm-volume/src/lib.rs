//! The Fibre Channel volume driver for DPM partitions.
//!
//! On DPM the initiators of a volume are the partition's virtual HBAs, not
//! the compute host's ports, and the LPAR hypervisor never sees the volume:
//! the guest discovers it through its vHBAs. So this driver does no I/O. It
//! works out, from the vHBAs and Cinder's `connection_info`:
//!
//! - the [`Connector`] to hand Cinder ([`connector`]);
//! - the LUN paths the guest will find ([`paths`]);
//! - the boot paths worth trying, best first ([`boot_candidates`]; the
//!   first is [`boot_path`]): each vHBA in the order given, each target the
//!   map gives it that is not on the ignore list (compared canonically), a
//!   fallback to `target_wwn(s)` when there is no map, and the SAM-encoded
//!   LUN;
//! - what the guest's Linux needs for those paths ([`guest_config`]:
//!   `rd.zfcp=` kernel parameters, `chzdev` commands, udev rules) and the
//!   boot volume's paths for the SCSI IPL loader ([`boot_parameters`]).
//!
//! ```
//! use dpm_volume::{boot_path, connector, Vhba};
//! use cinder_client::ConnectionInfo;
//!
//! let vhbas = vec![Vhba {
//!     uri: "/api/partitions/p1/hbas/h1".parse()?,
//!     wwpn: "c05076ffe5000a10".parse()?,
//!     device_number: "1900".parse()?,
//! }];
//! let c = connector(&vhbas, "compute-1")?;
//! assert_eq!(c.platform.as_deref(), Some("s390x"));
//!
//! let info: ConnectionInfo = serde_json::from_value(serde_json::json!({
//!     "driver_volume_type": "fibre_channel",
//!     "data": {"target_lun": 1, "target_wwn": ["500507680b2155ab"],
//!              "initiator_target_map": {"C05076FFE5000A10": ["500507680B2155AB"]}}
//! }))?;
//! let boot = boot_path(&info, &vhbas, &[])?;
//! assert_eq!(boot.target.to_string(), "500507680b2155ab");
//! assert_eq!(boot.lun.to_string(), "0001000000000000");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod guest;

pub use guest::{
    boot_parameters, bus_id, chzdev, guest_config, rd_zfcp, udev_rules, BootParameters,
    GuestConfig, UdevRules, BOOT_OS_SPECIFIC_PARAMETERS_MAX,
};

use cinder_client::{ConnectionInfo, Connector, FcConnection, FcInfoError};
use fc_types::{DeviceNumber, FcpLun, Wwnn, Wwpn};
use hmc_client::HbaUri;

/// A partition's virtual HBA, as far as volumes care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vhba {
    /// The HBA's URI (the HMC's `boot-storage-device` names it).
    pub uri: HbaUri,
    /// Its NPIV WWPN: the initiator.
    pub wwpn: Wwpn,
    /// Its device number in the guest.
    pub device_number: DeviceNumber,
}

/// One path to a LUN: which vHBA, which target port, which LUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FcPath {
    /// The vHBA's device number.
    pub device_number: DeviceNumber,
    /// The storage target port.
    pub target: Wwpn,
    /// The FCP LUN.
    pub lun: FcpLun,
}

/// Where a partition boots from: the HMC's three boot properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootPath {
    /// `boot-storage-device`.
    pub hba: HbaUri,
    /// `boot-world-wide-port-name`.
    pub target: Wwpn,
    /// `boot-logical-unit-number`.
    pub lun: FcpLun,
}

/// A volume or connection that cannot be used as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VolumeError {
    /// The partition has no initiators (vHBAs, or storage-group WWPNs) to
    /// connect through.
    #[error("the partition has no initiators (vHBAs or storage-group WWPNs); check physical_storage_adapter_mappings")]
    NoVhbas,
    /// Cinder's connection info is not usable FC connection info.
    #[error("Cinder's connection info is not usable")]
    ConnectionInfo(#[source] FcInfoError),
    /// No vHBA of the partition has an entry in `initiator_target_map`.
    #[error("the partition's vHBAs ({wwpn} first) are not in the initiator_target_map Cinder returned (are their adapters zoned to the storage?)")]
    BootVhbaNotInMap {
        /// The first vHBA's WWPN.
        wwpn: Wwpn,
    },
    /// Every target the boot vHBA could use is on the ignore list.
    #[error("every storage target port for the boot vHBA is on target_wwpn_ignore_list ({} ignored)", ignored.len())]
    NoUsableTarget {
        /// The targets that were ignored.
        ignored: Vec<Wwpn>,
    },
    /// The chosen target has no LUN (the LUNs differ per target and this one
    /// is not listed).
    #[error("Cinder gave no LUN for target port {target}")]
    NoLunForTarget {
        /// The target.
        target: Wwpn,
    },
    /// None of the partition's vHBAs reaches any target.
    #[error("none of the partition's vHBAs reaches a target port of the volume")]
    NoPaths,
}

impl From<FcInfoError> for VolumeError {
    fn from(e: FcInfoError) -> Self {
        Self::ConnectionInfo(e)
    }
}

/// The connector for a partition: its vHBAs' WWPNs in canonical form.
///
/// The HMC reports no node name for a vHBA; each WWPN is also sent as the
/// node name, which meets Cinder's generic FC check that both lists are
/// present (backends key hosts on the WWPNs).
pub fn connector(vhbas: &[Vhba], host: &str) -> Result<Connector, VolumeError> {
    let wwpns: Vec<Wwpn> = vhbas.iter().map(|v| v.wwpn).collect();
    connector_for(&wwpns, host)
}

/// The connector for any set of initiator WWPNs: a partition's vHBAs, or
/// the WWPNs of its storage group (CPCs with DPM storage management).
pub fn connector_for(wwpns: &[Wwpn], host: &str) -> Result<Connector, VolumeError> {
    if wwpns.is_empty() {
        return Err(VolumeError::NoVhbas);
    }
    Ok(Connector {
        wwnns: wwpns.iter().map(|w| Wwnn::from_u64(w.as_u64())).collect(),
        platform: Some("s390x".into()),
        os_type: Some("linux".into()),
        ..Connector::new(host, wwpns.to_vec())
    })
}

/// The targets a vHBA can use: its map entry, or every target without a map.
fn targets_for(fc: &FcConnection, vhba: &Vhba) -> Option<Vec<Wwpn>> {
    match &fc.initiator_target_map {
        Some(map) => map.get(&vhba.wwpn).cloned(),
        None => Some(fc.targets.iter().map(|t| t.wwpn).collect()),
    }
}

/// The LUN paths Cinder's answer offers, through every vHBA: each target
/// the map gives a vHBA. With Storwize the map is all-to-all, so some of
/// these go to ports on a fabric the vHBA is not cabled to; the guest's
/// zfcp finds the others. Nothing in Cinder's answer or a z13 HMC's tells
/// them apart.
pub fn paths(info: &ConnectionInfo, vhbas: &[Vhba]) -> Result<Vec<FcPath>, VolumeError> {
    if vhbas.is_empty() {
        return Err(VolumeError::NoVhbas);
    }
    let fc = info.fibre_channel()?;
    let mut out = Vec::new();
    for v in vhbas {
        for target in targets_for(&fc, v).unwrap_or_default() {
            let lun = fc
                .lun_for(target)
                .ok_or(VolumeError::NoLunForTarget { target })?;
            out.push(FcPath {
                device_number: v.device_number,
                target,
                lun,
            });
        }
    }
    if out.is_empty() {
        return Err(VolumeError::NoPaths);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The boot path: the first of [`boot_candidates`].
pub fn boot_path(
    info: &ConnectionInfo,
    vhbas: &[Vhba],
    ignore: &[Wwpn],
) -> Result<BootPath, VolumeError> {
    let mut all = boot_candidates(info, vhbas, ignore)?;
    // boot_candidates never answers an empty list.
    Ok(all.swap_remove(0))
}

/// Every boot path worth trying, best first: for each vHBA in the order
/// given (the caller puts first the vHBAs it knows to be logged in to a
/// fabric, in adapter-mapping order), each target the map gives it in the
/// map's order, minus the ignore list (compared canonically), with that
/// target's LUN.
///
/// The list may hold paths that do not work: Storwize answers a partition
/// that has not started (no fabric login) with every storage port on every
/// fabric, so some targets in the map are not reachable from a given vHBA,
/// and nothing in Cinder's answer says which. The caller tries them in
/// order, within a bound.
pub fn boot_candidates(
    info: &ConnectionInfo,
    vhbas: &[Vhba],
    ignore: &[Wwpn],
) -> Result<Vec<BootPath>, VolumeError> {
    let first = vhbas.first().ok_or(VolumeError::NoVhbas)?;
    let fc = info.fibre_channel()?;
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for v in vhbas {
        let Some(targets) = targets_for(&fc, v) else {
            continue;
        };
        for target in targets {
            // Wwpn compares on its value, so case and punctuation do not matter.
            if ignore.contains(&target) {
                if !ignored.contains(&target) {
                    ignored.push(target);
                }
                continue;
            }
            let lun = fc
                .lun_for(target)
                .ok_or(VolumeError::NoLunForTarget { target })?;
            out.push(BootPath {
                hba: v.uri.clone(),
                target,
                lun,
            });
        }
    }
    if out.is_empty() {
        return Err(if ignored.is_empty() {
            VolumeError::BootVhbaNotInMap { wwpn: first.wwpn }
        } else {
            VolumeError::NoUsableTarget { ignored }
        });
    }
    Ok(out)
}
