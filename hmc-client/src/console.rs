//! The console (`GET /api/console`, "Get Console Properties") and a
//! partition's operating-system messages ("List OS Messages of a
//! Partition", `GET /api/partitions/{id}/operations/list-os-messages`),
//! and the command a client gives it ("Send OS Command",
//! `POST /api/partitions/{id}/operations/send-os-cmd`); the channel that
//! announces each new message ("Open OS Message Channel",
//! `POST /api/partitions/{id}/operations/open-os-message-channel`, and the
//! `os-message` notifications on the topic it names).

use serde::{Deserialize, Serialize};

use crate::route::HmcOp;

/// The console's URI (the path of "Get Console Properties").
pub const CONSOLE_URI: &str = HmcOp::GetConsole.template();

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
/// `os-message-info`, in List OS Messages and in each `os-message`
/// notification). Only `sequence-number` and `message-text` are required
/// when reading: zhmcclient's own mock sends notifications with those two
/// alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OsMessage {
    /// Increases by one per message of the partition; a gap means lost
    /// messages.
    pub sequence_number: u64,
    /// The message's identifier (on the HMCs seen, the sequence number).
    #[serde(default)]
    pub message_id: u64,
    /// The text, as the operating system wrote it.
    pub message_text: String,
    /// When the message arrived, milliseconds since the epoch (`-1` when
    /// unknown).
    #[serde(default = "unknown_time")]
    pub timestamp: i64,
    /// The operating system's name as it reports it (`""` when it does
    /// not).
    #[serde(default)]
    pub os_name: String,
    /// A priority message (one that needs an operator).
    #[serde(default)]
    pub is_priority: bool,
    /// A held message (kept until deleted).
    #[serde(default)]
    pub is_held: bool,
    /// The prompt the operating system shows, or `""`.
    #[serde(default)]
    pub prompt_text: String,
    /// A refresh of an earlier message.
    #[serde(default)]
    pub is_refresh: bool,
}

fn unknown_time() -> i64 {
    -1
}

/// The body of "Open OS Message Channel"
/// (`POST /api/partitions/{id}/operations/open-os-message-channel`, SE
/// 2.13.1 and later; zhmcclient's `Partition.open_os_message_channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OsMessageChannelOpen {
    /// Whether the operating system's refresh messages (messages it shows
    /// again, such as held ones) are sent on the topic too.
    pub include_refresh_messages: bool,
}

/// The answer of "Open OS Message Channel": the notification topic the
/// partition's new OS messages are published on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OsMessageChannel {
    /// The topic (a STOMP destination `/topic/<topic-name>`).
    pub topic_name: String,
}

/// The body of an `os-message` notification (header `notification-type:
/// os-message`): the messages the operating system wrote, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OsMessageNotification {
    /// The messages.
    pub os_messages: Vec<OsMessage>,
}

/// What arrives on a subscription to an OS message channel
/// ([`crate::HmcApi::subscribe_os_messages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsMessageEvent {
    /// An `os-message` notification's messages, oldest first.
    Messages(Vec<OsMessage>),
    /// The partition was deleted (`inventory-change`, `action: remove`, on
    /// the session's object topic): no message will come any more.
    PartitionRemoved,
}

/// A live subscription to a partition's OS message channel: every
/// `os-message` notification published after it was made, in order, until
/// it ends. It ends ([`OsMessageSubscription::next`] answers `None`) when
/// the notification connection drops: notifications published from then
/// on are not seen, so a caller that must miss none reads the messages
/// since the last one it saw (List OS Messages, `begin-sequence-number`)
/// and subscribes again. Dropping it ends the subscription.
pub struct OsMessageSubscription {
    rx: tokio::sync::mpsc::Receiver<OsMessageEvent>,
    /// What feeds it (a task that its own `Drop` ends), dropped with it.
    _feeder: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for OsMessageSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsMessageSubscription")
            .finish_non_exhaustive()
    }
}

impl OsMessageSubscription {
    /// A subscription fed through `rx`; `feeder` (whatever feeds it, whose
    /// `Drop` stops it) is dropped with the subscription. For
    /// implementations of [`crate::HmcApi::subscribe_os_messages`].
    pub fn new(
        rx: tokio::sync::mpsc::Receiver<OsMessageEvent>,
        feeder: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Self {
        Self {
            rx,
            _feeder: feeder,
        }
    }

    /// The next event; `None` once the subscription has ended (the
    /// connection dropped): nothing published since has been seen.
    pub async fn next(&mut self) -> Option<OsMessageEvent> {
        self.rx.recv().await
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An `os-message` notification as zhmcclient's mock sends one
    /// (`sequence-number` and `message-text` alone) decodes, and so does one
    /// with the whole `os-message-info`.
    #[test]
    fn os_message_notifications_decode_with_few_fields_or_all() {
        let n: OsMessageNotification = serde_json::from_str(
            r#"{"os-messages": [{"sequence-number": 7, "message-text": "login: "}]}"#,
        )
        .unwrap();
        assert_eq!(n.os_messages[0].sequence_number, 7);
        assert_eq!(n.os_messages[0].timestamp, -1);
        assert!(!n.os_messages[0].is_held);
        let full = r#"{"os-messages": [{"sequence-number": 8, "message-id": 8,
            "message-text": "x", "timestamp": 1, "os-name": "LINUX", "is-priority": true,
            "is-held": true, "prompt-text": "", "is-refresh": false}]}"#;
        let n: OsMessageNotification = serde_json::from_str(full).unwrap();
        assert!(n.os_messages[0].is_priority && n.os_messages[0].is_held);
        assert_eq!(n.os_messages[0].os_name, "LINUX");
        let open = serde_json::to_string(&OsMessageChannelOpen {
            include_refresh_messages: false,
        })
        .unwrap();
        assert_eq!(open, r#"{"include-refresh-messages":false}"#);
        let ch: OsMessageChannel = serde_json::from_str(r#"{"topic-name": "t1"}"#).unwrap();
        assert_eq!(ch.topic_name, "t1");
    }
}
