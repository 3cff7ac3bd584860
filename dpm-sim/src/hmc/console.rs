//! The console itself ("Get Console Properties", `GET /api/console`) and
//! the operating-system messages of each partition ("List OS Messages of a
//! Partition").
//!
//! The console's property set is the one zhmcclient's recorded z16 mock
//! gives its console (`mocked_hmc_z16.yaml`), with this HMC's name and
//! version; what the simulator does not model (its network, its firmware
//! levels) has fixed values. The API version is not a console property: it
//! is `GET /api/version`'s and the logon's.
//!
//! OS messages: the guest writes its boot messages when a start job ends
//! with the partition active (inferred: a Linux guest's first console
//! lines, naming the boot device and the kernel command line the partition
//! gives it). Each partition numbers its messages from 1, keeps at most
//! [`OS_LOG_LIMIT`] (the oldest go first: a gap in the numbers), and loses
//! them with the partition. Listing is allowed in every status (the HMC
//! keeps the messages of the last run; unconfirmed). What the guest
//! writes when it is sent a command is in `guest.rs`.
//!
//! OS message channels ("Open OS Message Channel", SE 2.13.1 and later;
//! zhmcclient's `Partition.open_os_message_channel`): the HMC answers the
//! name of a topic on which it publishes an `os-message` notification
//! (body `{"os-messages": [os-message-info, ...]}`) for the messages the
//! operating system writes from then on. Here a partition has one topic,
//! the same for every session and every open, kept until the partition is
//! deleted (inferred; the public sources say only that the topic is the
//! partition's). Opening needs a running operating system: a partition that
//! is not `active` or `degraded` refuses with 409.1, as Send OS Command does
//! here (the reason code is a fair choice, not confirmed). Every message
//! written while a channel is open is published, one notification per
//! partition per release of the world (boot lines, an echoed command,
//! shutdown lines). The Linux guest writes no refresh messages (re-shown
//! messages are a z/OS console's), so `include-refresh-messages` changes
//! nothing here.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use hmc_client::{
    BootDevice, Console, HmcError, MachineInfo, OsMessage, OsMessageFilter, OsMessages,
    PartitionStatus, PartitionUri, CONSOLE_URI,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::HmcState;

/// The HMC's name, in `GET /api/version` and the console's `name`.
pub(crate) const HMC_NAME: &str = "dpm-sim";

/// The console's object id (fixed: drawing it would move every other id).
const CONSOLE_OBJECT_ID: &str = "e0000000-63d7-11f0-8067-fa163ed76c47";

/// How many messages a partition keeps.
pub(crate) const OS_LOG_LIMIT: usize = 200;

/// Simulated time 0 as milliseconds since the epoch (2025-01-01T00:00:00Z),
/// so that message timestamps look like the HMC's and runs repeat.
const EPOCH_MS: i64 = 1_735_689_600_000;

/// The console's full property set, as the HMC returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ConsoleProperties {
    object_uri: &'static str,
    object_id: &'static str,
    class: &'static str,
    parent: Option<String>,
    name: String,
    description: String,
    version: String,
    paired_role: &'static str,
    is_locked: bool,
    ip_swapping_available: bool,
    is_auto_switch_enabled: bool,
    machine_info: MachineInfo,
    network_info: Value,
    ec_mcl_description: Value,
}

/// One partition's messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct OsLog {
    next: u64,
    messages: VecDeque<OsMessage>,
}

impl OsLog {
    fn write(&mut self, now: Duration, text: String, prompt: bool) -> &OsMessage {
        self.next += 1;
        let ms = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        self.messages.push_back(OsMessage {
            sequence_number: self.next,
            message_id: self.next,
            message_text: text,
            timestamp: EPOCH_MS.saturating_add(ms),
            os_name: String::new(),
            is_priority: false,
            is_held: false,
            prompt_text: if prompt {
                "login:".into()
            } else {
                String::new()
            },
            is_refresh: false,
        });
        while self.messages.len() > OS_LOG_LIMIT {
            self.messages.pop_front();
        }
        // Just pushed, so never empty.
        &self.messages[self.messages.len() - 1]
    }
}

impl HmcState {
    /// `GET /api/console`.
    pub(crate) fn console(&self) -> ConsoleProperties {
        ConsoleProperties {
            object_uri: CONSOLE_URI,
            object_id: CONSOLE_OBJECT_ID,
            class: "console",
            parent: None,
            name: HMC_NAME.into(),
            description: format!("Simulated HMC {HMC_NAME} (dpm-sim)"),
            version: self.version.clone(),
            paired_role: "",
            is_locked: false,
            ip_swapping_available: false,
            is_auto_switch_enabled: false,
            machine_info: MachineInfo {
                machine_type: "2461".into(),
                machine_model: "TW1".into(),
                machine_serial: "DPMSIM0001".into(),
            },
            network_info: json!({
                "this-hmc": [{
                    "hmc-name": HMC_NAME,
                    "interface-name": "lo",
                    "domain-name": "localhost",
                    "is-private": false,
                    "mac": "000000000000",
                    "ipv4-address": [{"ip-address": "127.0.0.1", "subnet-mask": "255.0.0.0"}],
                    "ipv6-address": [{"ip-address": "::1", "prefix-length": 128}],
                }],
                "paired-hmc": null,
            }),
            // No `bundle-level`: firmware upgrades through the API are not
            // offered (zhmccli reads its absence so).
            ec_mcl_description: json!({
                "ec": [{
                    "number": "P41499",
                    "part-number": "01LL062",
                    "type": "SYSTEM",
                    "description": "Hardware Management Console Framework",
                    "mcl": [
                        {"level": "000", "type": "retrieved", "last-update": null},
                        {"level": "000", "type": "activated", "last-update": null},
                        {"level": "000", "type": "accepted", "last-update": null},
                        {"level": "000", "type": "installable-concurrent", "last-update": null},
                        {"level": "000", "type": "removable-concurrent", "last-update": null},
                    ],
                }],
            }),
        }
    }

    /// The console as hmc-client reads it (what `SimHmc` answers).
    pub(crate) fn console_view(&self) -> Result<Console, HmcError> {
        let v = serde_json::to_value(self.console()).unwrap_or(Value::Null);
        serde_json::from_value(v).map_err(|source| HmcError::Decode {
            method: "GET",
            uri: CONSOLE_URI.into(),
            source,
        })
    }

    /// "List OS Messages of a Partition".
    pub(crate) fn list_os_messages(
        &self,
        uri: &PartitionUri,
        filter: &OsMessageFilter,
    ) -> Result<OsMessages, HmcError> {
        self.partition("GET", uri)?;
        let limit = match filter.max_messages {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let os_messages = self
            .os_logs
            .get(uri.object_id())
            .map(|log| {
                log.messages
                    .iter()
                    .filter(|m| filter.keeps(m))
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(OsMessages { os_messages })
    }

    /// The guest's first console lines, once its start job has ended with
    /// the partition active.
    pub(super) fn write_boot_messages(&mut self, pid: &str, now: Duration) {
        let Some(p) = self.partitions.get(pid) else {
            return;
        };
        let from = match p.boot_device {
            BootDevice::StorageAdapter => {
                let devno = p
                    .boot_storage_device
                    .as_ref()
                    .and_then(|h| p.hbas.iter().find(|x| p.hba_uri(x) == *h))
                    .map_or_else(|| "?".to_owned(), |h| h.device_number.to_string());
                format!(
                    "FCP device 0.0.{devno}, target WWPN {}, LUN {}",
                    p.boot_wwpn.map(|w| w.to_string()).unwrap_or_default(),
                    p.boot_lun.map(|l| l.to_string()).unwrap_or_default()
                )
            }
            BootDevice::StorageVolume => format!(
                "storage volume {}",
                p.boot_storage_volume
                    .as_ref()
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default()
            ),
            ref other => other.to_string(),
        };
        let params = self
            .extras
            .get(pid)
            .map(|e| e.settings.boot_os_specific_parameters.clone())
            .unwrap_or_default();
        let host = p.name.to_lowercase();
        let lines = [
            format!("zIPL: booting partition {} from {from}", p.name),
            "Linux version 6.1.0-dpm-sim (s390x) #1 SMP".to_owned(),
            format!("Kernel command line: root=/dev/mapper/root {params}")
                .trim_end()
                .to_owned(),
            "Welcome to Linux on IBM Z (dpm-sim guest)".to_owned(),
            format!("{host} login: "),
        ];
        let last = lines.len() - 1;
        for (i, text) in lines.into_iter().enumerate() {
            self.write_line(pid, now, text, i == last);
        }
    }

    /// One line of the guest's, not a prompt.
    pub(super) fn write_os_message(&mut self, pid: &str, now: Duration, text: String) {
        self.write_line(pid, now, text, false);
    }

    /// Writes one message; on a partition with an open channel it is
    /// published at the next release of the world.
    fn write_line(&mut self, pid: &str, now: Duration, text: String, prompt: bool) {
        let m = self
            .os_logs
            .entry(pid.to_owned())
            .or_default()
            .write(now, text, prompt);
        if let Some(topic) = self.os_channels.get(pid) {
            let m = m.clone();
            self.os_written.push((topic.clone(), pid.to_owned(), m));
        }
    }

    /// "Open OS Message Channel": the partition's topic; 404.1 for an
    /// unknown partition, 409.1 unless its operating system runs.
    pub(crate) fn open_os_message_channel(
        &mut self,
        uri: &PartitionUri,
        _include_refresh_messages: bool,
    ) -> Result<String, HmcError> {
        let p = self.partition("POST", uri)?;
        if !matches!(
            p.status,
            PartitionStatus::Active | PartitionStatus::Degraded
        ) {
            return Err(super::Refusal::wrong_state(format!(
                "Partition {} is {}: its operating system is not running, no OS message channel can be opened.",
                p.name, p.status
            ))
            .at("POST", format!("{uri}/operations/open-os-message-channel")));
        }
        let pid = uri.object_id().to_owned();
        let topic = self
            .os_channels
            .entry(pid.clone())
            .or_insert_with(|| format!("os-message-topic-{pid}"));
        Ok(topic.clone())
    }

    /// A partition that is deleted takes its messages, its guest and its
    /// channel with it.
    pub(super) fn forget_guest(&mut self, pid: &str) {
        self.os_logs.remove(pid);
        self.guests.remove(pid);
        self.os_channels.remove(pid);
    }
}

/// The OS logs of every partition, by partition object id.
pub(crate) type OsLogs = BTreeMap<String, OsLog>;
