//! The HMC's notifications, as the world publishes them: a job's
//! completion on the job topic of the session that began it, and a
//! partition's status change (`status-change`) and changes of its name,
//! description, processors, memory and boot device (`property-change`) on
//! every session's object topic; partitions and storage groups created and
//! deleted (`inventory-change`, `action: add` or `remove`, on every
//! session's object topic, as zhmcclient's auto-updated lists follow
//! them); the messages a partition's operating system writes
//! (`os-message`, on the topic of its OS message channel, once one is
//! open: `hmc/console.rs`). The
//! notification service of `dpm-sim serve` (STOMP) and in-memory
//! subscribers ([`crate::Sim::notices`]) receive them from one broadcast.
//!
//! The world publishes when a request or a transition has changed it:
//! every release of the world's lock ([`crate::world::lock`]) drains what
//! ended and what changed. Jobs end at their due time only if someone looks
//! then; [`crate::world::run_ticker`] is that someone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmc_client::PartitionStatus;
use tokio::sync::{broadcast, watch, Notify};

use crate::hmc::HmcState;

/// One notification: its topic, its message headers (the HMC's
/// `notification-type` and the rest) and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The topic (without `/topic/`).
    pub topic: String,
    /// Message headers.
    pub headers: Vec<(String, String)>,
    /// The body: JSON text (`null` for a job completion).
    pub body: String,
}

impl Notice {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How many notices a slow subscriber may fall behind before it misses
/// some (it then sees a lag, and a client falls back to polling).
const BACKLOG: usize = 4096;

/// What the world keeps to publish.
#[derive(Debug)]
pub(crate) struct Notifier {
    tx: broadcast::Sender<Notice>,
    /// `global-sequence-nr` of the next notice.
    seq: u64,
    /// The status each partition was last announced with.
    announced: BTreeMap<String, PartitionStatus>,
    /// The objects last announced (or known at the baseline), by URI:
    /// their class.
    inventory: BTreeMap<String, &'static str>,
    /// The other announced properties of each partition, by name.
    properties: BTreeMap<String, Vec<(&'static str, serde_json::Value)>>,
    /// Woken when a transition is scheduled, so that the ticker looks at
    /// the new due time.
    pub changed: Arc<Notify>,
    /// Bumped to drop every notification connection (a fault knob).
    drops: watch::Sender<u64>,
    /// Whether `announced` and `properties` hold the world as of the last
    /// publish (they do not while nobody listens).
    baseline: bool,
}

impl Default for Notifier {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
            seq: 0,
            announced: BTreeMap::new(),
            inventory: BTreeMap::new(),
            properties: BTreeMap::new(),
            changed: Arc::new(Notify::new()),
            drops: watch::channel(0).0,
            baseline: false,
        }
    }
}

impl Notifier {
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Changes when every notification connection is to be dropped.
    pub(crate) fn drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Drops every notification connection.
    pub(crate) fn drop_connections(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// Announces the jobs that ended and the partition statuses and
    /// properties that changed since the last call. `now` stamps them
    /// (milliseconds of simulated time). While nobody listens it keeps
    /// nothing (every request releases the world: this is its hot path);
    /// the first release with a listener learns the world as it is then,
    /// and announces changes from there.
    /// `groups` lists the storage groups' URIs (asked for only while
    /// someone listens).
    pub(crate) fn publish(
        &mut self,
        hmc: &mut HmcState,
        groups: impl FnOnce() -> Vec<String>,
        now: Duration,
    ) {
        let completed = std::mem::take(&mut hmc.completed);
        let written = std::mem::take(&mut hmc.os_written);
        if self.tx.receiver_count() == 0 {
            self.baseline = false;
            return;
        }
        let groups = groups();
        if !self.baseline {
            self.announced = hmc
                .partitions
                .iter()
                .map(|(pid, p)| (pid.clone(), p.status.clone()))
                .collect();
            self.properties = hmc
                .partitions
                .iter()
                .map(|(pid, p)| (pid.clone(), watched_properties(p)))
                .collect();
            self.inventory = inventory(hmc, &groups);
            self.baseline = true;
        }
        let stamp = now.as_millis().to_string();
        for (topic, job) in completed {
            let headers = vec![
                ("notification-type".into(), "job-completion".into()),
                ("job-uri".into(), job.to_string()),
            ];
            self.send(topic, headers, "null".into(), &stamp);
        }
        // One os-message notification per run of one partition's messages,
        // before any inventory change (a partition deleted in this release
        // wrote its messages first).
        let mut runs: Vec<(String, String, Vec<hmc_client::OsMessage>)> = Vec::new();
        for (topic, pid, m) in written {
            match runs.last_mut() {
                Some((t, _, ms)) if *t == topic => ms.push(m),
                _ => runs.push((topic, pid, vec![m])),
            }
        }
        for (topic, pid, os_messages) in runs {
            let body = serde_json::to_string(&hmc_client::OsMessageNotification { os_messages })
                .unwrap_or_else(|_| "null".into());
            let headers = vec![
                ("notification-type".into(), "os-message".into()),
                ("object-uri".into(), format!("/api/partitions/{pid}")),
                ("object-id".into(), pid),
                ("class".into(), "partition".into()),
            ];
            self.send(topic, headers, body, &stamp);
        }
        let mut changes = Vec::new();
        let mut property_changes = Vec::new();
        for (pid, p) in &hmc.partitions {
            let old = self.announced.insert(pid.clone(), p.status.clone());
            if old.as_ref() != Some(&p.status) {
                changes.push((p.uri(), old, p.status.clone()));
            }
            let now = watched_properties(p);
            if let Some(before) = self.properties.insert(pid.clone(), now.clone()) {
                let reports: Vec<serde_json::Value> = before
                    .iter()
                    .zip(&now)
                    .filter(|((_, a), (_, b))| a != b)
                    .map(|((name, a), (_, b))| {
                        serde_json::json!({"property-name": name, "old-value": a, "new-value": b})
                    })
                    .collect();
                if !reports.is_empty() {
                    property_changes.push((p.uri(), reports));
                }
            }
        }
        self.announced
            .retain(|pid, _| hmc.partitions.contains_key(pid));
        self.properties
            .retain(|pid, _| hmc.partitions.contains_key(pid));
        let now_known = inventory(hmc, &groups);
        let mut inventory_changes: Vec<(String, &'static str, &'static str)> = now_known
            .iter()
            .filter(|(uri, _)| !self.inventory.contains_key(*uri))
            .map(|(uri, class)| (uri.clone(), *class, "add"))
            .collect();
        inventory_changes.extend(
            self.inventory
                .iter()
                .filter(|(uri, _)| !now_known.contains_key(*uri))
                .map(|(uri, class)| (uri.clone(), *class, "remove")),
        );
        self.inventory = now_known;
        if changes.is_empty() && property_changes.is_empty() && inventory_changes.is_empty() {
            return;
        }
        let topics: Vec<String> = hmc
            .sessions
            .values()
            .map(|s| s.object_topic.clone())
            .collect();
        // Removals first (a deleted partition's name may be taken again in
        // the same release), then additions.
        inventory_changes.sort_by_key(|(_, _, action)| *action != "remove");
        for (uri, class, action) in inventory_changes {
            let id = uri.rsplit('/').next().unwrap_or_default().to_owned();
            let headers = vec![
                (
                    "notification-type".to_owned(),
                    "inventory-change".to_owned(),
                ),
                ("object-uri".to_owned(), uri),
                ("object-id".to_owned(), id),
                ("class".to_owned(), class.to_owned()),
                ("action".to_owned(), action.to_owned()),
            ];
            for topic in &topics {
                self.send(topic.clone(), headers.clone(), "null".into(), &stamp);
            }
        }
        let object = |kind: &str, uri: &hmc_client::PartitionUri| -> Vec<(String, String)> {
            vec![
                ("notification-type".into(), kind.into()),
                ("object-uri".into(), uri.to_string()),
                ("object-id".into(), uri.object_id().to_owned()),
                ("class".into(), "partition".into()),
            ]
        };
        for (uri, old, new) in changes {
            let mut report = serde_json::Map::new();
            if let Some(old) = old {
                report.insert("old-status".into(), old.as_str().into());
            }
            report.insert("new-status".into(), new.as_str().into());
            let body = serde_json::json!({ "change-reports": [report] }).to_string();
            for topic in &topics {
                self.send(
                    topic.clone(),
                    object("status-change", &uri),
                    body.clone(),
                    &stamp,
                );
            }
        }
        for (uri, reports) in property_changes {
            let body = serde_json::json!({ "change-reports": reports }).to_string();
            for topic in &topics {
                self.send(
                    topic.clone(),
                    object("property-change", &uri),
                    body.clone(),
                    &stamp,
                );
            }
        }
    }

    fn send(
        &mut self,
        topic: String,
        mut headers: Vec<(String, String)>,
        body: String,
        stamp: &str,
    ) {
        headers.push(("global-sequence-nr".into(), self.seq.to_string()));
        headers.push(("timestamp".into(), stamp.to_owned()));
        self.seq += 1;
        // Nobody listening is fine: notices are not kept.
        let _ = self.tx.send(Notice {
            topic,
            headers,
            body,
        });
    }
}

/// The objects whose creation and deletion are announced, by URI: the
/// partitions and the storage groups.
fn inventory(hmc: &HmcState, groups: &[String]) -> BTreeMap<String, &'static str> {
    hmc.partitions
        .values()
        .map(|p| (p.uri().to_string(), "partition"))
        .chain(groups.iter().map(|g| (g.clone(), "storage-group")))
        .collect()
}

/// The partition properties whose changes are announced (`property-change`),
/// as the HMC names them.
fn watched_properties(p: &crate::hmc::PartitionState) -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("name", p.name.clone().into()),
        ("description", p.description.clone().into()),
        ("ifl-processors", p.ifl.into()),
        ("initial-memory", p.initial_memory.into()),
        ("maximum-memory", p.maximum_memory.into()),
        ("boot-device", p.boot_device.as_str().into()),
    ]
}
