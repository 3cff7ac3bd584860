//! The SCSI IPL check a start job makes for a partition that boots from an
//! HBA. What it needs from the SAN and Cinder it reads through
//! [`BootView`], so this module depends on neither.

use cinder_client::VolumeId;
use fc_types::Wwpn;
use hmc_client::{BootDevice, StoragePortUri};

use super::PartitionState;

/// What the boot check reads from outside the HMC; `world` implements
/// it on the SAN and Cinder.
pub(crate) trait BootView {
    /// Whether `initiator`, cabled to `fabric`, reaches `target` (the
    /// target is on that fabric, the fabric is up, a zone there joins them).
    fn reachable(&self, initiator: Wwpn, fabric: usize, target: Wwpn) -> bool;
    /// The volume mapped at `scsi_id` to the host object that holds
    /// `initiator`.
    fn mapped_volume(&self, initiator: Wwpn, scsi_id: u32) -> Option<VolumeId>;
    /// Whether `volume` exists and is bootable.
    fn bootable(&self, volume: &VolumeId) -> bool;
    /// The storage-volume boot check of a partition (storage management
    /// decides it; `Err` names the failing condition).
    fn storage_volume_boot(&self, p: &PartitionState) -> Result<(), String>;
}

/// The boot check: the boot HBA is the partition's, the boot target is
/// reachable from it (over the fabric its adapter port is cabled to:
/// `fabric_of`), and a bootable volume is mapped to its WWPN at the boot
/// LUN. A partition that does not boot from an HBA passes.
pub(crate) fn check(
    p: &PartitionState,
    view: &impl BootView,
    fabric_of: impl Fn(&StoragePortUri) -> Option<usize>,
) -> Result<(), String> {
    match p.boot_device {
        BootDevice::StorageAdapter => {}
        BootDevice::StorageVolume => return view.storage_volume_boot(p),
        _ => return Ok(()),
    }
    let hba_uri = p
        .boot_storage_device
        .as_ref()
        .ok_or("boot-device is storage-adapter but boot-storage-device is not set")?;
    let hba = (hba_uri.parent() == p.uri())
        .then(|| p.hbas.iter().find(|h| h.element_id == hba_uri.element_id()))
        .flatten()
        .ok_or_else(|| {
            format!(
                "Boot failed: boot-storage-device {hba_uri} is not an HBA of partition {}.",
                p.name
            )
        })?;
    let target = p
        .boot_wwpn
        .ok_or("Boot failed: boot-world-wide-port-name is not set.")?;
    let lun = p
        .boot_lun
        .ok_or("Boot failed: boot-logical-unit-number is not set.")?;
    if !fabric_of(&hba.port).is_some_and(|f| view.reachable(hba.wwpn, f, target)) {
        return Err(format!(
            "Boot failed: target port {target} is not reachable from HBA {} (WWPN {}).",
            hba.name, hba.wwpn
        ));
    }
    let mapped = u32::try_from(lun.to_target_lun())
        .ok()
        .and_then(|id| view.mapped_volume(hba.wwpn, id));
    let Some(volume) = mapped else {
        return Err(format!(
            "Boot failed: no volume is mapped to WWPN {} at LUN {lun}.",
            hba.wwpn
        ));
    };
    if view.bootable(&volume) {
        Ok(())
    } else {
        Err(format!(
            "Boot failed: volume {volume} at LUN {lun} is not bootable."
        ))
    }
}

#[cfg(test)]
mod tests {
    use fc_types::{DeviceNumber, FcpLun};
    use hmc_client::PartitionStatus;

    use super::*;
    use crate::hmc::HbaState;

    const HBA: u64 = 0xc050_76ff_e500_0001;
    const TARGET: u64 = 0x5005_0768_1010_0001;

    /// A SAN and Cinder where `HBA` sees volume 1 at SCSI id 0; whether
    /// it is zoned with `TARGET`, and whether the volume is bootable, is up
    /// to the test.
    struct Facts {
        zoned: bool,
        bootable: bool,
    }

    impl BootView for Facts {
        fn reachable(&self, i: Wwpn, fabric: usize, t: Wwpn) -> bool {
            self.zoned && fabric == 0 && i == Wwpn::from_u64(HBA) && t == Wwpn::from_u64(TARGET)
        }
        fn mapped_volume(&self, i: Wwpn, scsi_id: u32) -> Option<VolumeId> {
            (i == Wwpn::from_u64(HBA) && scsi_id == 0).then(|| VolumeId::from_u128(1))
        }
        fn bootable(&self, v: &VolumeId) -> bool {
            self.bootable && *v == VolumeId::from_u128(1)
        }
        fn storage_volume_boot(&self, _: &PartitionState) -> Result<(), String> {
            Err("storage volume".into())
        }
    }

    /// The check with every adapter port cabled to fabric 0.
    fn check_on(p: &PartitionState, view: &Facts) -> Result<(), String> {
        check(p, view, |_| Some(0))
    }

    const OK: Facts = Facts {
        zoned: true,
        bootable: true,
    };

    fn partition(lun: u64) -> PartitionState {
        let mut p = PartitionState {
            object_id: "f0000001-63d7-11f0-8067-fa163ed76c47".into(),
            name: "web1".into(),
            description: String::new(),
            status: PartitionStatus::Starting,
            partition_type: "linux".into(),
            ifl: 1,
            cp: 0,
            initial_memory: 1024,
            maximum_memory: 1024,
            processor_mode: "shared".into(),
            hbas: vec![HbaState {
                element_id: "b0000002".into(),
                name: "hba0".into(),
                description: String::new(),
                wwpn: Wwpn::from_u64(HBA),
                port: "/api/adapters/a0000003/storage-ports/0"
                    .parse::<StoragePortUri>()
                    .unwrap(),
                device_number: DeviceNumber::new(0x1900),
            }],
            boot_device: BootDevice::StorageAdapter,
            boot_storage_device: None,
            boot_wwpn: Some(Wwpn::from_u64(TARGET)),
            boot_lun: Some(FcpLun::from_target_lun(lun)),
            boot_storage_volume: None,
            memory_held: true,
        };
        p.boot_storage_device = Some(p.hba_uri(&p.hbas[0]));
        p
    }

    #[test]
    fn a_partition_not_booting_from_an_hba_passes() {
        let mut p = partition(0);
        p.boot_device = BootDevice::None;
        assert_eq!(
            check(
                &p,
                &Facts {
                    zoned: false,
                    bootable: false
                },
                |_| None
            ),
            Ok(())
        );
    }

    #[test]
    fn a_storage_volume_boot_is_decided_by_the_view() {
        let mut p = partition(0);
        p.boot_device = BootDevice::StorageVolume;
        assert_eq!(check_on(&p, &OK), Err("storage volume".into()));
    }

    #[test]
    fn a_zoned_mapped_bootable_lun_boots() {
        assert_eq!(check_on(&partition(0), &OK), Ok(()));
    }

    #[test]
    fn each_missing_link_fails_with_its_reason() {
        let unzoned = Facts {
            zoned: false,
            bootable: true,
        };
        assert!(check_on(&partition(0), &unzoned)
            .unwrap_err()
            .contains("is not reachable from HBA"));
        assert!(check(&partition(0), &OK, |_| Some(1))
            .unwrap_err()
            .contains("is not reachable from HBA"));
        assert!(check_on(&partition(1), &OK)
            .unwrap_err()
            .contains("no volume is mapped"));
        let unbootable = Facts {
            zoned: true,
            bootable: false,
        };
        assert!(check_on(&partition(0), &unbootable)
            .unwrap_err()
            .contains("is not bootable"));
        let mut p = partition(0);
        p.boot_wwpn = None;
        assert!(check_on(&p, &OK)
            .unwrap_err()
            .contains("boot-world-wide-port-name is not set"));
    }
}
