//! What the guest's Linux needs to use its volumes: each LUN path as the
//! zfcp driver names it (FCP device bus-ID `0.0.DEVNO`, target WWPN, LUN),
//! in the three forms a Linux on IBM Z takes it. No I/O: strings only.
//!
//! - the dracut kernel parameter `rd.zfcp=0.0.DEVNO,0xWWPN,0xLUN`, one per
//!   path (the initramfs sets the paths online before it mounts root); the
//!   same form goes to the SCSI IPL loader in `boot-os-specific-parameters`
//!   ([`boot_parameters`]);
//! - the s390-tools command `chzdev -e zfcp-lun 0.0.DEVNO:0xWWPN:0xLUN`
//!   (the form of chzdev(8)'s example "Enable zFCP LUN and create
//!   persistent configuration"), which enables the path now and for every
//!   boot;
//! - udev rules in the form chzdev writes for zfcp LUNs, one file per FCP
//!   device, `41-zfcp-lun-0.0.DEVNO.rules`: on the device's `add` event,
//!   for each target port the device sees, `unit_add` each LUN.
//!
//! With NPIV and the kernel's automatic LUN scan (`zfcp.allow_lun_scan=1`,
//! the default) setting the FCP device online is enough for the LUNs to
//! appear; the LUN-level forms are for guests with the scan off, and they
//! name exactly the paths the volume has.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use fc_types::DeviceNumber;

use crate::FcPath;

/// The most characters the HMC takes in a partition's
/// `boot-os-specific-parameters`.
pub const BOOT_OS_SPECIFIC_PARAMETERS_MAX: usize = 256;

/// The zfcp bus-ID of an FCP device: `0.0.1900`.
pub fn bus_id(device: DeviceNumber) -> String {
    format!("0.0.{device}")
}

/// One path as a dracut kernel parameter:
/// `rd.zfcp=0.0.1900,0x500507680b2155ab,0x0001000000000000`.
pub fn rd_zfcp(p: &FcPath) -> String {
    format!(
        "rd.zfcp={},0x{},0x{}",
        bus_id(p.device_number),
        p.target,
        p.lun
    )
}

/// One path as the chzdev command that enables it persistently:
/// `chzdev -e zfcp-lun 0.0.1900:0x500507680b2155ab:0x0001000000000000`.
pub fn chzdev(p: &FcPath) -> String {
    format!(
        "chzdev -e zfcp-lun {}:0x{}:0x{}",
        bus_id(p.device_number),
        p.target,
        p.lun
    )
}

/// A udev rules file for one FCP device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdevRules {
    /// The FCP device.
    pub device_number: DeviceNumber,
    /// Its file name under `/etc/udev/rules.d`:
    /// `41-zfcp-lun-0.0.1900.rules`.
    pub file_name: String,
    /// The rules.
    pub text: String,
}

/// The rules that add every LUN of `paths` on FCP device `device` (paths
/// of other devices are ignored).
pub fn udev_rules(device: DeviceNumber, paths: &[FcPath]) -> UdevRules {
    let id = bus_id(device);
    let mut ports: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for p in paths.iter().filter(|p| p.device_number == device) {
        let luns = ports.entry(p.target).or_default();
        if !luns.contains(&p.lun) {
            luns.push(p.lun);
        }
    }
    let end = format!("end_zfcp_lun_{id}");
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        t,
        "ACTION==\"add\", SUBSYSTEMS==\"ccw\", KERNELS==\"{id}\", GOTO=\"start_zfcp_lun_{id}\""
    );
    let _ = writeln!(t, "GOTO=\"{end}\"\n");
    let _ = writeln!(t, "LABEL=\"start_zfcp_lun_{id}\"");
    for wwpn in ports.keys() {
        let _ = writeln!(
            t,
            "SUBSYSTEM==\"fc_remote_ports\", ATTR{{port_name}}==\"0x{wwpn}\", GOTO=\"cfg_fc_{id}_0x{wwpn}\""
        );
    }
    let _ = writeln!(t, "GOTO=\"{end}\"\n");
    for (wwpn, luns) in &ports {
        let _ = writeln!(t, "LABEL=\"cfg_fc_{id}_0x{wwpn}\"");
        for lun in luns {
            let _ = writeln!(t, "ATTR{{[ccw/{id}]0x{wwpn}/unit_add}}=\"0x{lun}\"");
        }
        let _ = writeln!(t, "GOTO=\"{end}\"\n");
    }
    let _ = writeln!(t, "LABEL=\"{end}\"");
    UdevRules {
        device_number: device,
        file_name: format!("41-zfcp-lun-{id}.rules"),
        text: t,
    }
}

/// What a guest needs for a set of LUN paths, in each form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestConfig {
    /// The paths, sorted, without duplicates.
    pub paths: Vec<FcPath>,
    /// The FCP devices the paths use, sorted.
    pub devices: Vec<DeviceNumber>,
    /// One `rd.zfcp=` kernel parameter per path.
    pub kernel_parameters: Vec<String>,
    /// One `chzdev -e zfcp-lun` command per path.
    pub chzdev: Vec<String>,
    /// One udev rules file per FCP device.
    pub udev_rules: Vec<UdevRules>,
}

/// The guest configuration of these paths.
///
/// ```
/// use dpm_volume::{guest_config, FcPath};
/// let p = FcPath {
///     device_number: "1900".parse()?,
///     target: "500507680b2155ab".parse()?,
///     lun: "0001000000000000".parse()?,
/// };
/// let g = guest_config(&[p]);
/// assert_eq!(g.kernel_parameters, ["rd.zfcp=0.0.1900,0x500507680b2155ab,0x0001000000000000"]);
/// assert_eq!(g.chzdev, ["chzdev -e zfcp-lun 0.0.1900:0x500507680b2155ab:0x0001000000000000"]);
/// assert_eq!(g.udev_rules[0].file_name, "41-zfcp-lun-0.0.1900.rules");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn guest_config(paths: &[FcPath]) -> GuestConfig {
    let mut paths = paths.to_vec();
    paths.sort();
    paths.dedup();
    let mut devices: Vec<DeviceNumber> = paths.iter().map(|p| p.device_number).collect();
    devices.dedup();
    GuestConfig {
        kernel_parameters: paths.iter().map(rd_zfcp).collect(),
        chzdev: paths.iter().map(chzdev).collect(),
        udev_rules: devices.iter().map(|d| udev_rules(*d, &paths)).collect(),
        devices,
        paths,
    }
}

/// The boot volume's paths for the SCSI IPL loader, which hands
/// `boot-os-specific-parameters` to the operating system it loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootParameters {
    /// `rd.zfcp=` entries separated by spaces, at most the limit.
    pub text: String,
    /// The paths in `text`, in order.
    pub included: Vec<FcPath>,
    /// The paths that did not fit.
    pub dropped: Vec<FcPath>,
}

/// `rd.zfcp=` entries for the boot volume's paths, the path booted over
/// (`first`) first, then the others taking one FCP device after another
/// (the other devices first), as many as fit in `max`
/// characters (the HMC takes [`BOOT_OS_SPECIFIC_PARAMETERS_MAX`]); the rest
/// are dropped, and said so in [`BootParameters::dropped`].
pub fn boot_parameters(first: Option<&FcPath>, paths: &[FcPath], max: usize) -> BootParameters {
    // After the boot path, one path of each FCP device in turn, so that
    // when not all fit every device still has one (on Storwize the map is
    // all-to-all: one device's paths alone would fill the 256 characters).
    let mut ordered: Vec<FcPath> = first.into_iter().copied().collect();
    let mut by_device: Vec<Vec<FcPath>> = Vec::new();
    for p in paths.iter().filter(|p| Some(*p) != first) {
        match by_device.iter_mut().find(|d| {
            d.first()
                .is_some_and(|x| x.device_number == p.device_number)
        }) {
            Some(d) if !d.contains(p) => d.push(*p),
            Some(_) => {}
            None => by_device.push(vec![*p]),
        }
    }
    // The boot path's device has had its turn.
    if let Some(f) = first {
        by_device.sort_by_key(|d| {
            d.first()
                .is_some_and(|x| x.device_number == f.device_number)
        });
    }
    let longest = by_device.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        ordered.extend(by_device.iter().filter_map(|d| d.get(i)));
    }
    let mut out = BootParameters {
        text: String::new(),
        included: Vec::new(),
        dropped: Vec::new(),
    };
    for p in ordered {
        let entry = rd_zfcp(&p);
        let sep = usize::from(!out.text.is_empty());
        if out.text.len() + sep + entry.len() <= max {
            if sep == 1 {
                out.text.push(' ');
            }
            out.text.push_str(&entry);
            out.included.push(p);
        } else {
            out.dropped.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dev: &str, wwpn: &str, lun: &str) -> FcPath {
        FcPath {
            device_number: dev.parse().unwrap(),
            target: wwpn.parse().unwrap(),
            lun: lun.parse().unwrap(),
        }
    }

    #[test]
    fn each_form_names_the_bus_id_wwpn_and_lun() {
        let p = path("1A00", "500507680B2155AB", "4001400000000000");
        assert_eq!(
            rd_zfcp(&p),
            "rd.zfcp=0.0.1a00,0x500507680b2155ab,0x4001400000000000"
        );
        assert_eq!(
            chzdev(&p),
            "chzdev -e zfcp-lun 0.0.1a00:0x500507680b2155ab:0x4001400000000000"
        );
    }

    #[test]
    fn udev_rules_add_every_lun_of_every_port_of_one_device() {
        let paths = [
            path("1900", "500507680b2155ab", "0001000000000000"),
            path("1900", "500507680b2155ab", "0002000000000000"),
            path("1900", "500507680b2255ab", "0001000000000000"),
            path("1901", "500507680b2155ab", "0001000000000000"),
        ];
        let r = udev_rules("1900".parse().unwrap(), &paths);
        assert_eq!(r.file_name, "41-zfcp-lun-0.0.1900.rules");
        let expected = "\
ACTION==\"add\", SUBSYSTEMS==\"ccw\", KERNELS==\"0.0.1900\", GOTO=\"start_zfcp_lun_0.0.1900\"
GOTO=\"end_zfcp_lun_0.0.1900\"

LABEL=\"start_zfcp_lun_0.0.1900\"
SUBSYSTEM==\"fc_remote_ports\", ATTR{port_name}==\"0x500507680b2155ab\", GOTO=\"cfg_fc_0.0.1900_0x500507680b2155ab\"
SUBSYSTEM==\"fc_remote_ports\", ATTR{port_name}==\"0x500507680b2255ab\", GOTO=\"cfg_fc_0.0.1900_0x500507680b2255ab\"
GOTO=\"end_zfcp_lun_0.0.1900\"

LABEL=\"cfg_fc_0.0.1900_0x500507680b2155ab\"
ATTR{[ccw/0.0.1900]0x500507680b2155ab/unit_add}=\"0x0001000000000000\"
ATTR{[ccw/0.0.1900]0x500507680b2155ab/unit_add}=\"0x0002000000000000\"
GOTO=\"end_zfcp_lun_0.0.1900\"

LABEL=\"cfg_fc_0.0.1900_0x500507680b2255ab\"
ATTR{[ccw/0.0.1900]0x500507680b2255ab/unit_add}=\"0x0001000000000000\"
GOTO=\"end_zfcp_lun_0.0.1900\"

LABEL=\"end_zfcp_lun_0.0.1900\"
";
        assert_eq!(r.text, expected);
        let g = guest_config(&paths);
        assert_eq!(g.devices.len(), 2);
        assert_eq!(g.udev_rules.len(), 2);
        assert_eq!(g.kernel_parameters.len(), 4);
        assert!(g.udev_rules[1].text.contains("KERNELS==\"0.0.1901\""));
        assert!(!g.udev_rules[1].text.contains("0x500507680b2255ab"));
    }

    #[test]
    fn boot_parameters_put_the_boot_path_first_and_stay_within_the_limit() {
        let paths: Vec<FcPath> = (0..8)
            .map(|i| path(&format!("190{i}"), "500507680b2155ab", "0001000000000000"))
            .collect();
        let b = boot_parameters(Some(&paths[3]), &paths, BOOT_OS_SPECIFIC_PARAMETERS_MAX);
        assert!(
            b.text.len() <= BOOT_OS_SPECIFIC_PARAMETERS_MAX,
            "{}",
            b.text
        );
        // 54 characters an entry, one space between: 4 fit in 256.
        assert_eq!(b.included.len(), 4);
        assert_eq!(b.dropped.len(), 4);
        assert_eq!(b.included[0], paths[3]);
        assert!(b.text.starts_with(
            "rd.zfcp=0.0.1903,0x500507680b2155ab,0x0001000000000000 rd.zfcp=0.0.1900,"
        ));
        assert_eq!(b.text.split(' ').count(), 4);
        let all = boot_parameters(None, &paths[..2], BOOT_OS_SPECIFIC_PARAMETERS_MAX);
        assert!(all.dropped.is_empty());
        assert_eq!(all.text.len(), 54 * 2 + 1);
        assert_eq!(boot_parameters(None, &[], 256).text, "");
        // Storwize's all-to-all map: four targets through each of two
        // devices; the four that fit cover both devices.
        let targets = [
            "500507680b2155ab",
            "500507680b2155ac",
            "500507680b2255ab",
            "500507680b2255ac",
        ];
        let mut all_to_all = Vec::new();
        for dev in ["1900", "1901"] {
            for t in targets {
                all_to_all.push(path(dev, t, "0000000000000000"));
            }
        }
        let b = boot_parameters(
            Some(&all_to_all[0]),
            &all_to_all,
            BOOT_OS_SPECIFIC_PARAMETERS_MAX,
        );
        let devices: Vec<String> = b
            .included
            .iter()
            .map(|p| p.device_number.to_string())
            .collect();
        assert_eq!(devices, ["1900", "1901", "1900", "1901"]);
        assert_eq!(b.included[0], all_to_all[0]);
        assert_eq!(b.included[1], all_to_all[4]);
    }
}
