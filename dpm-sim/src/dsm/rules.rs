//! The rules of storage management that the public sources do not state,
//! and the reason codes, in one place so that each can be changed.
//!
//! Inferred rules (no public source states them; each is marked
//! **inferred** below with its reason):
//! 1. A group has `connectivity × max-partitions` WWPNs, allocated at
//!    create (and again when either changes) from the world's NPIV
//!    allocator, so no WWPN is handed out twice in the world.
//! 2. `connectivity` defaults to 2, `max-partitions` to 1; both are 1..=64.
//! 3. Port binding: in each partition slot, the k-th WWPN is bound to the
//!    k-th candidate port in the order ports were added; after removals, an
//!    unbound WWPN takes the first candidate no other WWPN of its slot uses.
//!    Removing a candidate unbinds its WWPNs. A bound WWPN is logged into
//!    its port's fabric.
//! 4. Removing a candidate port that a VSR uses is refused (409.1).
//! 5. VSR device numbers: the lowest free from 0x0100 among the
//!    partition's devices; VSR names are `"<group> path <k>"` (k from 1).
//! 6. Detaching from a partition that is not stopped is refused (409.1),
//!    and so is detaching the group a partition boots from (409.1): its
//!    `boot-device` is `storage-volume` and its `boot-storage-volume` is in
//!    the group. With another boot device the group may go.
//! 7. Deleting a group attached to a partition is refused (409.1); deleting
//!    a partition detaches its groups (the groups stay).
//! 8. A volume delete is refused (409.1) while it is the boot volume of a
//!    partition that is not stopped.
//! 9. Discovery matching: a group WWPN bound to a port sees the LUNs masked
//!    to its storage host at each target it is zoned with on the port's
//!    fabric; a WWPN that sees a LUN is `validated`. A LUN not yet bound
//!    fulfills the first pending volume of equal size (`complete`), else
//!    the first pending volume (`pending-with-mismatches`), else appears as
//!    an `overprovisioned` volume. A bound LUN that vanished makes its
//!    volume `incomplete` (an overprovisioned one is removed).
//! 10. A discovered volume's `uuid` is an NAA-6 id made from the Cinder
//!     volume id.
//! 11. Group `fulfillment-state` is derived from its volumes
//!     ([`group_fulfillment`]).
//! 12. Storage-volume boot check: set; in a group attached to the
//!     partition; `complete`; a path for this partition through a VSR whose
//!     WWPN is still zoned with the target and to which the LUN is still
//!     masked; the Cinder volume bootable.
//! 13. `validate-lun-path` answers its refusals with status 409.
//! 14. A partition's `boot-storage-volume` must be a volume of a group
//!     attached to it (400.7).
//! 15. HBA create on a storage-management CPC is refused with dpm-sim's
//!     own reason code ([`reason::HBAS_NOT_ON_STORAGE_MANAGEMENT`]).
//! 16. A discovery job ends after a configurable time with status 204; a
//!     forced restart (or deleting the group) ends the running job as
//!     `canceled`, with job-status-code 409 and reason 1. Automatic
//!     discovery runs every 10 simulated minutes for each group that is not
//!     complete, from the group's creation; it makes no job.
//! 17. On a CPC without the feature, storage-group requests that name it
//!     (create, list by `cpc-uri`, validate-lun-path) are refused 409.1.

use cinder_client::VolumeId;
use fc_types::DeviceNumber;
use hmc_client::{FulfillmentState, StoragePortUri};

use super::WwpnState;

pub(crate) use crate::refusal::reason;

/// **Inferred** (rule 16): the job-status-code of a canceled discovery job.
pub(crate) const CANCELED_JOB_STATUS: u16 = 409;

/// **Inferred** (rule 13): the HTTP status of validate-lun-path refusals;
/// the sources name the reasons (484, 485) but not the status.
pub(crate) const LUN_PATH_STATUS: u16 = 409;

/// The HMC's default when a create leaves `connectivity` out: 2, as
/// zhmccli documents it for its `storagegroup create` (which sends no
/// value of its own).
pub(crate) const DEFAULT_CONNECTIVITY: u32 = 2;
/// The HMC's default `max-partitions`: 2 (zhmccli, as above); a create
/// that says `shared: false` and no `max-partitions` gets 1, the only
/// value an unshared group may have.
pub(crate) const DEFAULT_MAX_PARTITIONS: u32 = 2;
/// The HMC's default `direct-connection-count`: 0, the feature off
/// (zhmccli, as above).
pub(crate) const DEFAULT_DIRECT_CONNECTION_COUNT: u32 = 0;
/// **Inferred** (rule 2): upper bound of connectivity and max-partitions.
pub(crate) const MAX_CONNECTIVITY: u32 = 64;
/// **Inferred** (rule 2).
pub(crate) const MAX_MAX_PARTITIONS: u32 = 64;
/// Name length limit, as for partitions.
pub(crate) const MAX_NAME_LEN: usize = 64;

/// **Inferred** (rule 1): how many WWPNs a group holds. With
/// `max-partitions: 1` they are exactly the WWPNs of its one partition's
/// VSRs.
pub(crate) fn wwpn_count(connectivity: u32, max_partitions: u32) -> usize {
    (connectivity as usize).saturating_mul(max_partitions as usize)
}

/// **Inferred** (rule 3): binds every unbound WWPN of each slot. In the
/// plain case (ports added, none removed) the k-th WWPN of a slot gets the
/// k-th candidate; an unbound WWPN otherwise takes the first candidate no
/// other WWPN of its slot uses, so a slot never has two paths on one port.
pub(crate) fn rebind(wwpns: &mut [WwpnState], connectivity: u32, candidates: &[StoragePortUri]) {
    let c = (connectivity as usize).max(1);
    for slot in wwpns.chunks_mut(c) {
        for k in 0..slot.len() {
            if slot[k].port.is_some() {
                continue;
            }
            let free = candidates
                .iter()
                .find(|p| slot.iter().all(|w| w.port.as_ref() != Some(*p)))
                .cloned();
            slot[k].port = free;
        }
    }
}

/// **Inferred** (rule 5): the first device number a VSR may take.
pub(crate) const VSR_FIRST_DEVICE_NUMBER: u16 = 0x0100;

/// **Inferred** (rule 5): the lowest `n` free device numbers from 0x0100.
pub(crate) fn free_device_numbers(used: &[DeviceNumber], n: usize) -> Option<Vec<DeviceNumber>> {
    let out: Vec<DeviceNumber> = (VSR_FIRST_DEVICE_NUMBER..=u16::MAX)
        .map(DeviceNumber::new)
        .filter(|d| !used.contains(d))
        .take(n)
        .collect();
    (out.len() == n).then_some(out)
}

/// **Inferred** (rule 5): a VSR's name.
pub(crate) fn vsr_name(group: &str, path: usize) -> String {
    format!("{group} path {}", path + 1)
}

/// **Inferred** (rule 10): the NAA-6 identifier of the LUN behind a Cinder
/// volume: an IBM (SVC) prefix and the last 21 hex digits of the volume id,
/// 32 upper-case hex digits.
pub(crate) fn naa_uuid(volume: &VolumeId) -> String {
    // The last 21 hex digits are the low 84 bits.
    let tail = volume.as_uuid().as_u128() & ((1u128 << 84) - 1);
    format!("600507680C8{tail:021X}")
}

/// Whether a requested size (GiB, a float) is the LUN's size (GiB).
pub(crate) fn sizes_match(requested: f64, lun_gib: u64) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let lun = lun_gib as f64;
    (requested - lun).abs() < 1e-9
}

/// GiB as the HMC's float.
pub(crate) fn gib(n: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    f
}

/// **Inferred** (rule 11): a group's `fulfillment-state` from its volumes.
pub(crate) fn group_fulfillment(
    forced_pending: bool,
    volumes: impl IntoIterator<Item = FulfillmentState>,
) -> FulfillmentState {
    use FulfillmentState as F;
    if forced_pending {
        return F::Pending;
    }
    let states: Vec<F> = volumes.into_iter().collect();
    let any = |f: &dyn Fn(&F) -> bool| states.iter().any(f);
    if any(&|s| matches!(s, F::PendingWithMismatches | F::Overprovisioned)) {
        F::PendingWithMismatches
    } else if any(&|s| *s == F::Incomplete) {
        F::Incomplete
    } else if any(&|s| *s == F::Pending) {
        F::Pending
    } else {
        F::Complete
    }
}

/// **Inferred** (rule 9): the state of a volume matched to a LUN.
pub(crate) fn matched_state(requested: f64, lun_gib: u64) -> FulfillmentState {
    if sizes_match(requested, lun_gib) {
        FulfillmentState::Complete
    } else {
        FulfillmentState::PendingWithMismatches
    }
}

/// Boot-check messages (rule 12), one per failing condition.
pub(crate) mod boot {
    pub const NOT_SET: &str =
        "Boot failed: boot-device is storage-volume but boot-storage-volume is not set.";
    pub fn missing(volume: &str) -> String {
        format!("Boot failed: boot-storage-volume {volume} does not exist.")
    }
    pub fn not_attached(volume: &str, partition: &str) -> String {
        format!(
            "Boot failed: boot-storage-volume {volume} is not in a storage group attached to partition {partition}."
        )
    }
    pub fn not_complete(volume: &str, state: &str) -> String {
        format!("Boot failed: boot-storage-volume {volume} is {state}, not complete.")
    }
    pub fn no_path(volume: &str, partition: &str) -> String {
        format!("Boot failed: boot-storage-volume {volume} has no path into partition {partition}.")
    }
    pub fn path_gone(volume: &str) -> String {
        format!(
            "Boot failed: no path of boot-storage-volume {volume} is zoned and masked any more."
        )
    }
    pub fn not_bootable(volume: &str) -> String {
        format!("Boot failed: the LUN of boot-storage-volume {volume} is not bootable.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fc_types::Wwpn;
    use hmc_client::AdapterUri;

    fn port(a: &str) -> StoragePortUri {
        StoragePortUri::new(&AdapterUri::from_object_id(a).unwrap(), "0").unwrap()
    }

    fn wwpns(n: u64) -> Vec<WwpnState> {
        (0..n)
            .map(|i| WwpnState {
                wwpn: Wwpn::from_u64(i),
                validated: false,
                port: None,
            })
            .collect()
    }

    #[test]
    fn kth_wwpn_of_each_slot_gets_the_kth_candidate() {
        let mut w = wwpns(4);
        rebind(&mut w, 2, &[port("a")]);
        let got: Vec<_> = w.iter().map(|w| w.port.clone()).collect();
        assert_eq!(got, vec![Some(port("a")), None, Some(port("a")), None]);
        rebind(&mut w, 2, &[port("a"), port("b")]);
        assert_eq!(w[1].port, Some(port("b")));
        assert_eq!(w[3].port, Some(port("b")));
    }

    #[test]
    fn an_unbound_wwpn_never_shares_its_slot_port() {
        let mut w = wwpns(2);
        w[1].port = Some(port("b"));
        rebind(&mut w, 2, &[port("b"), port("a")]);
        assert_eq!(w[0].port, Some(port("a")));
    }

    #[test]
    fn naa_ids_are_32_upper_case_hex_digits() {
        let v = VolumeId::from_u128(0x0000_0001_0000_0005_4000_8000_0000_0001);
        let id = naa_uuid(&v);
        assert_eq!(id.len(), 32);
        assert!(id.starts_with("600507680C8"));
        assert!(id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_ne!(
            id,
            naa_uuid(&VolumeId::from_u128(
                0x0000_0002_0000_0005_4000_8000_0000_0002
            ))
        );
    }

    #[test]
    fn group_state_precedence() {
        use FulfillmentState as F;
        assert_eq!(group_fulfillment(true, []), F::Pending);
        assert_eq!(group_fulfillment(false, []), F::Complete);
        assert_eq!(
            group_fulfillment(false, [F::Pending, F::Incomplete, F::Overprovisioned]),
            F::PendingWithMismatches
        );
        assert_eq!(
            group_fulfillment(false, [F::Pending, F::Incomplete]),
            F::Incomplete
        );
        assert_eq!(
            group_fulfillment(false, [F::Complete, F::Pending]),
            F::Pending
        );
    }

    #[test]
    fn device_numbers_skip_used_ones() {
        let used = [DeviceNumber::new(0x100), DeviceNumber::new(0x102)];
        assert_eq!(
            free_device_numbers(&used, 2),
            Some(vec![DeviceNumber::new(0x101), DeviceNumber::new(0x103)])
        );
    }
}
