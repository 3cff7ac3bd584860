//! The guest's side of "Send OS Command"
//! (`POST /api/partitions/{id}/operations/send-os-cmd`, SE 2.13.1 and
//! later; zhmcclient's `Partition.send_os_command`): the HMC hands the
//! command line to the partition's operating system, and the guest acts
//! on it.
//!
//! - A partition whose operating system is not running (not `active` or
//!   `degraded`) refuses the command with 409.1. The reason code is a fair
//!   choice, not confirmed: the public sources say only that the operation
//!   needs a running operating system.
//! - The command line is echoed into the partition's OS messages, as the
//!   guest's console shows what was typed.
//! - A shutdown command ([`is_shutdown`]: `shutdown` with any arguments but
//!   a reboot or a cancel, `poweroff`, `halt`, `init 0`, `systemctl
//!   poweroff|halt`) makes the guest write its shutdown lines (systemd
//!   stopping its units) at once and, after the world's guest shutdown time
//!   (`guest_shutdown_ms`), its last lines; the partition is then
//!   `terminated` (the operating system halted, its resources still held;
//!   see `status.rs`) until Stop Partition makes it `stopped`. A second
//!   shutdown command while the guest is going down is echoed and changes
//!   nothing. Other commands (a reboot from inside among them) are only
//!   echoed: the simulator does not run them.
//! - A hung guest ([`crate::Sim::set_guest_responsive`]) gets the echo and
//!   ignores the rest. The knob stays with the partition, across its runs,
//!   until set again.
//! - A stop (or delete) of the partition cancels a halt in progress.

use std::collections::BTreeMap;
use std::time::Duration;

use hmc_client::{HmcError, PartitionStatus, PartitionUri};

use super::{status, HmcState, Later, Refusal};
use crate::ids::Ids;

/// One partition's guest, beyond its messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuestState {
    /// The guest ignores shutdown commands (a test knob).
    pub hung: bool,
    /// A halt in progress: the token its [`Later::GuestHalted`] carries.
    pub halting: Option<u64>,
}

/// Each partition's guest state, by partition object id (kept only for
/// partitions whose guest differs from the default).
pub(crate) type Guests = BTreeMap<String, GuestState>;

/// How a shutdown command ends the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Halt {
    /// `poweroff`, `shutdown [-h|-P] ...`, `init 0`: "reboot: Power down".
    PowerOff,
    /// `halt`, `shutdown -H`: "reboot: System halted".
    Halt,
}

/// Whether a command line asks a Linux guest to shut down, and how.
pub(crate) fn is_shutdown(command: &str) -> Option<Halt> {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["shutdown", args @ ..] => {
            if args
                .iter()
                .any(|a| matches!(*a, "-r" | "--reboot" | "-c") || a.starts_with("-r"))
            {
                None
            } else if args.iter().any(|a| matches!(*a, "-H" | "--halt")) {
                Some(Halt::Halt)
            } else {
                Some(Halt::PowerOff)
            }
        }
        ["poweroff", ..] | ["init", "0"] | ["systemctl", "poweroff", ..] => Some(Halt::PowerOff),
        ["halt", ..] | ["systemctl", "halt", ..] => Some(Halt::Halt),
        _ => None,
    }
}

/// The lines a systemd guest writes when it begins to shut down.
const STOPPING: &[&str] = &[
    "[  OK  ] Stopped target Multi-User System.",
    "         Stopping OpenSSH server daemon...",
    "         Stopping User Login Management...",
    "[  OK  ] Stopped OpenSSH server daemon.",
    "[  OK  ] Stopped User Login Management.",
    "[  OK  ] Reached target System Shutdown.",
    "[  OK  ] Reached target Late Shutdown Services.",
    "systemd-shutdown[1]: Syncing filesystems and block devices.",
];

impl HmcState {
    /// "Send OS Command": 409.1 unless the operating system runs; the
    /// line is echoed; a shutdown command to a responsive guest begins its
    /// halt, whose end is the returned transition.
    pub(crate) fn send_os_command(
        &mut self,
        ids: &mut Ids,
        uri: &PartitionUri,
        text: &str,
        now: Duration,
    ) -> Result<Option<Later>, HmcError> {
        let p = self.partition("POST", uri)?;
        if !matches!(
            p.status,
            PartitionStatus::Active | PartitionStatus::Degraded
        ) {
            return Err(Refusal::wrong_state(format!(
                "Partition {} is {}: its operating system is not running.",
                p.name, p.status
            ))
            .at("POST", format!("{uri}/operations/send-os-cmd")));
        }
        let pid = uri.object_id().to_owned();
        let host = p.name.to_lowercase();
        self.write_os_message(&pid, now, format!("[root@{host} ~]# {text}"));
        let guest = self.guests.entry(pid.clone()).or_default();
        if guest.hung || guest.halting.is_some() {
            return Ok(None);
        }
        let Some(halt) = is_shutdown(text) else {
            return Ok(None);
        };
        let token = ids.next_seq();
        guest.halting = Some(token);
        for line in STOPPING {
            self.write_os_message(&pid, now, (*line).to_owned());
        }
        Ok(Some(Later::GuestHalted {
            partition: pid,
            token,
            halt,
        }))
    }

    /// The end of a guest's halt: its last lines, and the partition
    /// `terminated`, unless a stop (or delete) came first.
    pub(super) fn finish_halt(&mut self, pid: &str, token: u64, halt: Halt, now: Duration) {
        let Some(guest) = self.guests.get_mut(pid) else {
            return;
        };
        if guest.halting != Some(token) {
            return;
        }
        guest.halting = None;
        let Some(p) = self.partitions.get_mut(pid) else {
            return;
        };
        if status::check(&p.name, &p.status, &PartitionStatus::Terminated).is_err() {
            return;
        }
        p.status = PartitionStatus::Terminated;
        let (last, verdict) = match halt {
            Halt::PowerOff => ("systemd-shutdown[1]: Powering off.", "reboot: Power down"),
            Halt::Halt => (
                "systemd-shutdown[1]: Halting system.",
                "reboot: System halted",
            ),
        };
        self.write_os_message(pid, now, last.to_owned());
        self.write_os_message(pid, now, verdict.to_owned());
    }

    /// A stop cancels the guest's halt in progress.
    pub(super) fn cancel_halt(&mut self, pid: &str) {
        if let Some(g) = self.guests.get_mut(pid) {
            g.halting = None;
        }
    }

    /// Whether the partition's guest honours shutdown commands; false when
    /// there is no such partition.
    pub(crate) fn set_guest_responsive(&mut self, uri: &PartitionUri, responsive: bool) -> bool {
        if !self.partitions.contains_key(uri.object_id()) {
            return false;
        }
        self.guests
            .entry(uri.object_id().to_owned())
            .or_default()
            .hung = !responsive;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_commands_are_told_from_the_rest() {
        for c in [
            "shutdown -h now",
            "shutdown",
            "shutdown -P +1",
            "  shutdown  now ",
            "poweroff",
            "init 0",
            "systemctl poweroff",
        ] {
            assert_eq!(is_shutdown(c), Some(Halt::PowerOff), "{c}");
        }
        for c in ["halt", "shutdown -H now", "systemctl halt"] {
            assert_eq!(is_shutdown(c), Some(Halt::Halt), "{c}");
        }
        for c in [
            "shutdown -r now",
            "shutdown --reboot",
            "shutdown -c",
            "reboot",
            "init 6",
            "ls -l",
            "",
            "echo shutdown",
        ] {
            assert_eq!(is_shutdown(c), None, "{c}");
        }
    }
}
