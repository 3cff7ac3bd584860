//! Following the guest's console: its OS messages as the operating system
//! writes them, in order, none twice and none skipped that the HMC still
//! holds.
//!
//! By the HMC's own means: "Open OS Message Channel" names the topic on
//! which the HMC publishes an `os-message` notification for each new
//! message; the follower subscribes to it (and to the partition's deletion,
//! on the session's object topic) and only then reads what the partition
//! already has ("List OS Messages", from the sequence number after the
//! last one seen), so nothing written in between is missed. A message seen
//! twice (in the list and in a notification) is passed on once, by its
//! sequence number. Notifications can be lost: when the subscription ends
//! (the connection dropped) the follower subscribes again and reads what
//! was written meanwhile; when a notification skips sequence numbers it
//! reads the skipped ones. While no subscription can be made (no
//! notification service, or it cannot be reached) the follower reads the
//! messages every few seconds and tries again. Numbers the HMC no longer
//! holds (it keeps a bounded log) are skipped, said at `warn`.
//!
//! HMC requests: to begin, the instance's lookup, Open OS Message Channel
//! and one List OS Messages; one List OS Messages per reconnect, per gap
//! and per round while the service is away; none per message.

use std::collections::VecDeque;
use std::time::Duration;

use cinder_client::InstanceId;
use hmc_client::{
    HmcApi, HmcError, OsMessage, OsMessageEvent, OsMessageFilter, OsMessageSubscription,
    PartitionUri,
};

use crate::error::LookupError;
use crate::DpmDriver;

/// The first wait before the messages are read again while no
/// subscription can be made; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between reads while no subscription can be made.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// Following a console failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FollowError {
    /// The instance's partition could not be found.
    #[error("could not find the partition of instance {instance}")]
    FindPartition {
        /// The instance.
        instance: InstanceId,
        /// The cause.
        #[source]
        source: LookupError,
    },
    /// The partition's operating system does not run (Open OS Message
    /// Channel answered 409): there is nothing to follow.
    #[error("partition {partition} is not running: its console cannot be followed")]
    NotRunning {
        /// The partition.
        partition: PartitionUri,
        /// The HMC's refusal.
        #[source]
        source: HmcError,
    },
    /// Open OS Message Channel failed otherwise.
    #[error("could not open the OS message channel of partition {partition}")]
    OpenChannel {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// Reading the partition's OS messages failed.
    #[error("could not read the OS messages of partition {partition}")]
    ReadConsole {
        /// The partition.
        partition: PartitionUri,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

impl FollowError {
    /// Whether this is a refusal: nothing was looked at that could change.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::FindPartition { source, .. } => source.is_refusal(),
            Self::NotRunning { .. } => true,
            Self::OpenChannel { .. } | Self::ReadConsole { .. } => false,
        }
    }

    /// Whether the instance does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::FindPartition { source, .. } => source.is_not_found(),
            Self::NotRunning { .. } | Self::OpenChannel { .. } | Self::ReadConsole { .. } => false,
        }
    }
}

/// A console being followed: [`ConsoleFollow::next`] gives each message
/// once, oldest first, until the partition is deleted.
pub struct ConsoleFollow<'a, H: HmcApi> {
    hmc: &'a H,
    partition: PartitionUri,
    topic: String,
    /// The highest sequence number passed on (0: none; the HMC numbers
    /// from 1).
    last: u64,
    /// Messages read and not yet passed on, in order.
    pending: VecDeque<OsMessage>,
    sub: Option<OsMessageSubscription>,
    /// The wait before the next read while there is no subscription.
    wait: Duration,
    /// The partition was deleted.
    gone: bool,
    reconnects: u32,
}

impl<H: HmcApi> std::fmt::Debug for ConsoleFollow<'_, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleFollow")
            .field("partition", &self.partition)
            .field("last", &self.last)
            .field("subscribed", &self.sub.is_some())
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

impl<H: HmcApi> DpmDriver<H> {
    /// Follows the guest's console: the messages numbered after `after`
    /// (all when `None`) that the partition has, then each new one as the
    /// operating system writes it. The partition must be running (else
    /// [`FollowError::NotRunning`]); the follow then lasts through stops
    /// and starts until the partition is deleted.
    pub async fn follow_console(
        &self,
        instance: &InstanceId,
        after: Option<u64>,
    ) -> Result<ConsoleFollow<'_, H>, FollowError> {
        let partition = self.require_partition(instance).await.map_err(|source| {
            FollowError::FindPartition {
                instance: instance.clone(),
                source,
            }
        })?;
        let topic = match self.hmc.open_os_message_channel(&partition, false).await {
            Ok(t) => t,
            // Busy (409.2) is not "not running".
            Err(source)
                if source
                    .status_reason()
                    .is_some_and(|(s, r)| s == 409 && r != 2) =>
            {
                return Err(FollowError::NotRunning { partition, source })
            }
            Err(source) => return Err(FollowError::OpenChannel { partition, source }),
        };
        let mut f = ConsoleFollow {
            hmc: &self.hmc,
            partition,
            topic,
            last: after.unwrap_or(0),
            pending: VecDeque::new(),
            sub: None,
            wait: FIRST_WAIT,
            gone: false,
            reconnects: 0,
        };
        // Subscribed first, then read: nothing written in between is lost.
        f.subscribe().await;
        f.read(None).await?;
        Ok(f)
    }
}

impl<H: HmcApi> ConsoleFollow<'_, H> {
    /// The next message, waiting for the guest to write one; `None` once
    /// the partition has been deleted (nothing more will come).
    pub async fn next(&mut self) -> Result<Option<OsMessage>, FollowError> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(Some(m));
            }
            if self.gone {
                return Ok(None);
            }
            let Some(sub) = self.sub.as_mut() else {
                // No subscription: read again after a while, and try to
                // subscribe again.
                tokio::time::sleep(self.wait).await;
                self.wait = self.wait.saturating_mul(2).min(MAX_WAIT);
                self.subscribe().await;
                self.read(None).await?;
                continue;
            };
            match sub.next().await {
                Some(OsMessageEvent::Messages(ms)) => self.take(ms).await?,
                Some(OsMessageEvent::PartitionRemoved) => self.gone = true,
                Some(_) => {}
                None => {
                    // The connection dropped: what was written since is
                    // read once subscribed again.
                    self.sub = None;
                    self.reconnects = self.reconnects.saturating_add(1);
                    tracing::debug!(partition = %self.partition, "OS message subscription lost; subscribing again");
                    self.subscribe().await;
                    self.read(None).await?;
                }
            }
        }
    }

    /// The partition followed.
    pub fn partition(&self) -> &PartitionUri {
        &self.partition
    }

    /// How often the subscription was lost and made again.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    async fn subscribe(&mut self) {
        match self
            .hmc
            .subscribe_os_messages(&self.partition, &self.topic)
            .await
        {
            Ok(s) => {
                self.sub = Some(s);
                self.wait = FIRST_WAIT;
            }
            Err(e) => {
                tracing::debug!(partition = %self.partition, error = %e, "no OS message subscription; reading the messages every few seconds");
            }
        }
    }

    /// A notification's messages: the ones after the last passed on, with
    /// any it skipped read first.
    async fn take(&mut self, mut ms: Vec<OsMessage>) -> Result<(), FollowError> {
        ms.sort_by_key(|m| m.sequence_number);
        for m in ms {
            if m.sequence_number <= self.last {
                continue;
            }
            if m.sequence_number > self.last.saturating_add(1) {
                self.read(Some(m.sequence_number - 1)).await?;
                if m.sequence_number <= self.last {
                    continue;
                }
                if m.sequence_number > self.last.saturating_add(1) {
                    tracing::warn!(
                        partition = %self.partition,
                        from = self.last + 1,
                        to = m.sequence_number - 1,
                        "OS messages lost: the HMC no longer holds them"
                    );
                }
            }
            self.last = m.sequence_number;
            self.pending.push_back(m);
        }
        Ok(())
    }

    /// Reads the messages after the last passed on (up to `end`) into
    /// `pending`. A partition that is gone ends the follow.
    async fn read(&mut self, end: Option<u64>) -> Result<(), FollowError> {
        let filter = OsMessageFilter {
            begin: Some(self.last.saturating_add(1)),
            end,
            ..OsMessageFilter::default()
        };
        let mut ms = match self.hmc.list_os_messages(&self.partition, &filter).await {
            Ok(m) => m.os_messages,
            Err(e) if e.is_not_found() => {
                self.gone = true;
                return Ok(());
            }
            Err(source) => {
                return Err(FollowError::ReadConsole {
                    partition: self.partition.clone(),
                    source,
                })
            }
        };
        ms.sort_by_key(|m| m.sequence_number);
        for m in ms {
            if m.sequence_number > self.last {
                self.last = m.sequence_number;
                self.pending.push_back(m);
            }
        }
        Ok(())
    }
}
