//! The in-memory client's notifications: OS message subscriptions fed
//! from the world's notices, as the HMC's notification service feeds them.

use hmc_client::{OsMessageEvent, OsMessageNotification, OsMessageSubscription};
use tokio::sync::{broadcast, watch};

use crate::notify::Notice;

/// Ends a task when dropped (what feeds an OS message subscription).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A subscription to the OS messages on `topic` and to the removal of
/// `partition` (an `inventory-change` on the session's object topic),
/// fed from the world's notices until they lag, close or drop.
pub(super) fn os_messages(
    mut notices: broadcast::Receiver<Notice>,
    mut drops: watch::Receiver<u64>,
    topic: &str,
    object_topic: String,
    partition: &hmc_client::PartitionUri,
) -> OsMessageSubscription {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let (topic, partition) = (topic.to_owned(), partition.to_string());
    let task = tokio::spawn(async move {
        loop {
            let n = tokio::select! {
                n = notices.recv() => match n {
                    Ok(n) => n,
                    // Lagged or closed: notices were lost, so it ends.
                    Err(_) => return,
                },
                _ = drops.changed() => return,
            };
            let kind = n.header("notification-type");
            let event = if n.topic == topic && kind == Some("os-message") {
                match serde_json::from_str::<OsMessageNotification>(&n.body) {
                    Ok(m) => OsMessageEvent::Messages(m.os_messages),
                    Err(_) => continue,
                }
            } else if n.topic == object_topic
                && kind == Some("inventory-change")
                && n.header("action") == Some("remove")
                && n.header("object-uri") == Some(partition.as_str())
            {
                OsMessageEvent::PartitionRemoved
            } else {
                continue;
            };
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    OsMessageSubscription::new(rx, Some(Box::new(AbortOnDrop(task))))
}
