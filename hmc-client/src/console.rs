//! The console (`GET /api/console`, "Get Console Properties") and a
//! partition's operating-system messages ("List OS Messages of a
//! Partition", `GET /api/partitions/{id}/operations/list-os-messages`),
//! and the command a client gives it ("Send OS Command",
//! `POST /api/partitions/{id}/operations/send-os-cmd`).

use serde::{Deserialize, Serialize};

/// The console's URI.
pub const CONSOLE_URI: &str = "/api/console";

/// `GET /api/console`: the properties of the console (the HMC itself) that
/// clients read. Unknown properties are ignored, so the full set decodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Console {
    /// `/api/console`.
    pub object_uri: String,
    /// The console's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// `"console"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The HMC's name (the `hmc-name` of `GET /api/version`).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HMC's version, e.g. `"2.16.0"`: what gates a client's use of
    /// newer operations.
    pub version: String,
    /// `"primary"`, `"alternate"` or `""` (not paired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired_role: Option<String>,
    /// Whether the console is locked against disruptive actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    /// The HMC's hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_info: Option<MachineInfo>,
}

/// The console's `machine-info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MachineInfo {
    /// Machine type, e.g. `"2461"`.
    pub machine_type: String,
    /// Machine model.
    pub machine_model: String,
    /// Serial number.
    pub machine_serial: String,
}

/// One operating-system message of a partition (the HMC's
/// `os-message-info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OsMessage {
    /// Increases by one per message of the partition; a gap means lost
    /// messages.
    pub sequence_number: u64,
    /// The message's identifier (on the HMCs seen, the sequence number).
    pub message_id: u64,
    /// The text, as the operating system wrote it.
    pub message_text: String,
    /// When the message arrived, milliseconds since the epoch (`-1` when
    /// unknown).
    pub timestamp: i64,
    /// The operating system's name as it reports it (`""` when it does
    /// not).
    pub os_name: String,
    /// A priority message (one that needs an operator).
    pub is_priority: bool,
    /// A held message (kept until deleted).
    pub is_held: bool,
    /// The prompt the operating system shows, or `""`.
    pub prompt_text: String,
    /// A refresh of an earlier message.
    pub is_refresh: bool,
}

/// The answer of "List OS Messages of a Partition".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OsMessages {
    /// The messages, oldest first.
    pub os_messages: Vec<OsMessage>,
}

/// The query of "List OS Messages of a Partition": sequence numbers from
/// `begin` to `end` (both included), held or priority ones only, at most
/// `max_messages` (0: no limit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsMessageFilter {
    /// Leave out messages numbered below this.
    pub begin: Option<u64>,
    /// Leave out messages numbered above this.
    pub end: Option<u64>,
    /// Only held (`true`) or only non-held (`false`) messages.
    pub is_held: Option<bool>,
    /// Only priority (`true`) or only non-priority (`false`) messages.
    pub is_priority: Option<bool>,
    /// At most this many, from the lowest sequence number; 0 for all.
    pub max_messages: u32,
}

impl OsMessageFilter {
    /// The query parameters, as the HMC names them.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(b) = self.begin {
            q.push(("begin-sequence-number", b.to_string()));
        }
        if let Some(e) = self.end {
            q.push(("end-sequence-number", e.to_string()));
        }
        if let Some(h) = self.is_held {
            q.push(("is-held", h.to_string()));
        }
        if let Some(p) = self.is_priority {
            q.push(("is-priority", p.to_string()));
        }
        if self.max_messages > 0 {
            q.push(("max-messages", self.max_messages.to_string()));
        }
        q
    }

    /// Whether `m` passes the filter (before `max_messages`).
    pub fn keeps(&self, m: &OsMessage) -> bool {
        self.begin.is_none_or(|b| m.sequence_number >= b)
            && self.end.is_none_or(|e| m.sequence_number <= e)
            && self.is_held.is_none_or(|h| m.is_held == h)
            && self.is_priority.is_none_or(|p| m.is_priority == p)
    }
}

/// The body of "Send OS Command" (`POST /api/partitions/{id}/operations/send-os-cmd`,
/// SE 2.13.1 and later; zhmcclient's `Partition.send_os_command`): a
/// command line for the partition's operating system, 204 when the HMC
/// has passed it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OsCommand {
    /// A priority command (one the operating system handles before any
    /// other).
    pub is_priority: bool,
    /// The command, as typed on the operating system's console.
    pub operating_system_command_text: String,
}
