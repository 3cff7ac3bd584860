//! The HMC's job notifications (STOMP 1.2 over TLS), for [`crate::HttpHmc`].
//!
//! After each logon a task connects to the notification service with the
//! session's id and credential, subscribes to the session's job topic and
//! waits for its receipt: from then on the subscription is *live* and
//! every job-completion of the session is recorded. A job begun while the
//! subscription was live is watched: its waiter needs no poll, it waits for
//! the announcement. A job begun while it was not (no service, not yet
//! connected, reconnected since) is not watched, and its waiter polls. A
//! connection that drops ends the live subscription, so no completion is
//! ever waited for that could have been missed; the next job begun
//! reconnects.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::api::JobAnnouncement;
use crate::console::{OsMessageEvent, OsMessageNotification, OsMessageSubscription};
use crate::ids::{JobUri, PartitionUri};
use crate::stomp::{Decoder, Frame, Item};
use dpm_secret::Secret;

/// Completions kept for jobs nobody has waited for yet.
const KEEP: usize = 1024;
/// How often the service is asked for a heart-beat.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The longest a job's request waits for a connect in progress.
const CONNECT_WAIT: Duration = Duration::from_secs(2);
/// How long after a failed connect the service is not tried again.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where the notification service is, and how to reach it.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub host: String,
    pub port: u16,
    pub tls: Arc<rustls::ClientConfig>,
    pub connect_timeout: Duration,
}

/// The session's subscription, shared by the client and its task.
#[derive(Debug, Default)]
pub(crate) struct JobWatch {
    state: Mutex<State>,
    /// Woken on every change: a completion, a subscription up or down.
    changed: Notify,
    task: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct State {
    /// Counts subscriptions; the current one is live while `live`.
    generation: u64,
    live: bool,
    /// A connect in progress.
    connecting: bool,
    /// When a connect last failed.
    failed_at: Option<Instant>,
    /// The session it connects with: id, credential, job topic.
    session: Option<(Secret, Secret, String)>,
    /// Jobs begun while live, with the generation they were begun under.
    watched: HashMap<String, u64>,
    /// Announced completions not yet taken, oldest first.
    announced: VecDeque<String>,
}

impl JobWatch {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: the old subscription ends, a new one is made.
    pub(crate) fn session_changed(
        self: &Arc<Self>,
        service: &Service,
        id: Secret,
        credential: Secret,
        topic: String,
    ) {
        {
            let mut st = self.state();
            st.session = Some((id, credential, topic));
            st.live = false;
            st.failed_at = None;
            st.watched.clear();
        }
        self.changed.notify_waiters();
        self.reconnect(service);
    }

    /// Starts a connection unless one is live or being made, or one
    /// failed a short while ago.
    fn reconnect(self: &Arc<Self>, service: &Service) {
        let session = {
            let mut st = self.state();
            let recently_failed = st.failed_at.is_some_and(|t| t.elapsed() < RETRY_AFTER);
            if st.live || st.connecting || recently_failed {
                return;
            }
            let Some(s) = st.session.clone() else { return };
            st.connecting = true;
            s
        };
        let watch = Arc::clone(self);
        let service = service.clone();
        let task = tokio::spawn(async move {
            let (id, credential, topic) = session;
            let generation = watch.state().generation + 1;
            let result = run(&watch, &service, &id, &credential, &topic, generation).await;
            let mut st = watch.state();
            let was_live = st.generation == generation;
            st.live = false;
            st.connecting = false;
            match result {
                // A subscription that was live and broke is made again by
                // the next job; one that never came up is not tried again
                // for a while.
                Err(e) if !was_live => {
                    tracing::debug!(error = %e, "HMC notifications unavailable; jobs are polled");
                    st.failed_at = Some(Instant::now());
                }
                Err(e) => {
                    tracing::debug!(error = %e, "HMC notification connection lost; jobs are polled until it is back")
                }
                Ok(()) => {}
            }
            drop(st);
            watch.changed.notify_waiters();
        });
        if let Some(old) = self
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// Called before a request that begins a job: the generation the job
    /// will be watched under, if the subscription is live. A subscription
    /// that is down is made again, and a connect in progress is waited for
    /// (at most 2 s); after a failed connect the service is left alone
    /// for a while, and jobs are polled.
    pub(crate) async fn before_job(self: &Arc<Self>, service: &Service) -> Option<u64> {
        let deadline = Instant::now() + service.connect_timeout.min(CONNECT_WAIT);
        loop {
            let changed = self.changed.notified();
            {
                let st = self.state();
                if st.live {
                    return Some(st.generation);
                }
                if !st.connecting {
                    drop(st);
                    self.reconnect(service);
                    if self.state().connecting {
                        // Connecting now: wait for it like any other.
                        continue;
                    }
                    return None;
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }

    /// Records that `job` was begun under `generation`.
    pub(crate) fn watch(&self, job: &JobUri, generation: u64) {
        let mut st = self.state();
        if st.watched.len() >= KEEP {
            st.watched.clear();
        }
        st.watched.insert(job.to_string(), generation);
    }

    /// Waits for `job`'s announcement until `deadline`.
    pub(crate) async fn wait(&self, job: &JobUri, deadline: Instant) -> JobAnnouncement {
        let key = job.as_str();
        loop {
            let changed = self.changed.notified();
            {
                let mut st = self.state();
                let Some(&generation) = st.watched.get(key) else {
                    return JobAnnouncement::NotWatched;
                };
                if let Some(i) = st.announced.iter().position(|j| j == key) {
                    st.announced.remove(i);
                    st.watched.remove(key);
                    return JobAnnouncement::Ended;
                }
                if !st.live || st.generation != generation {
                    // It may have ended while nobody listened.
                    st.watched.remove(key);
                    return JobAnnouncement::NotWatched;
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return JobAnnouncement::NotYet;
            }
        }
    }

    fn announced(&self, job: String) {
        let mut st = self.state();
        if st.announced.len() >= KEEP {
            st.announced.pop_front();
        }
        st.announced.push_back(job);
        drop(st);
        self.changed.notify_waiters();
    }

    fn went_live(&self, generation: u64) {
        let mut st = self.state();
        st.generation = generation;
        st.live = true;
        st.connecting = false;
        drop(st);
        self.changed.notify_waiters();
        tracing::debug!("subscribed to the HMC's job notifications");
    }

    /// Ends the subscription (the client is dropped or logs off).
    pub(crate) fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
        let mut st = self.state();
        st.live = false;
        st.connecting = false;
        st.session = None;
        drop(st);
        self.changed.notify_waiters();
    }
}

/// Why the notification connection ended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Ended {
    #[error("could not connect to the HMC's notification service")]
    Connect(#[source] std::io::Error),
    #[error("the HMC's notification service did not answer in time")]
    Timeout,
    #[error("the HMC's notification service refused: {0}")]
    Refused(String),
    #[error("the notification connection broke")]
    Io(#[source] std::io::Error),
    #[error("the notification service sent something that is not STOMP 1.2")]
    Protocol(#[source] crate::stomp::StompError),
    #[error("the notification connection was closed")]
    Closed,
    #[error("the notification service has been silent past its heart-beat")]
    Silent,
}

/// One connection: connect, subscribe, then record completions until it
/// ends.
async fn run(
    watch: &JobWatch,
    service: &Service,
    id: &Secret,
    credential: &Secret,
    topic: &str,
    generation: u64,
) -> Result<(), Ended> {
    let stream = connect(service).await?;
    let session = Login {
        host: &service.host,
        id,
        credential,
    };
    listen(
        stream,
        watch,
        &session,
        topic,
        service.connect_timeout,
        generation,
    )
    .await
}

/// A TLS connection to the notification service, within its connect
/// timeout.
async fn connect(service: &Service) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Ended> {
    let connect = async {
        let tcp = TcpStream::connect((service.host.as_str(), service.port))
            .await
            .map_err(Ended::Connect)?;
        let name = ServerName::try_from(service.host.clone())
            .map_err(|e| Ended::Refused(e.to_string()))?;
        tokio_rustls::TlsConnector::from(service.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(Ended::Connect)
    };
    tokio::time::timeout(service.connect_timeout, connect)
        .await
        .map_err(|_| Ended::Timeout)?
}

/// Who connects.
struct Login<'a> {
    host: &'a str,
    id: &'a Secret,
    credential: &'a Secret,
}

/// One subscription: its id and its topic.
struct Subscribe<'a> {
    id: &'a str,
    topic: &'a str,
}

/// A connection's reading side after the handshake.
struct Reader<S> {
    stream: S,
    decoder: Decoder,
    buf: Vec<u8>,
    /// How long the service may be silent before the connection counts
    /// as gone (from its heart-beat; `None` without heart-beats).
    silence: Option<Duration>,
}

impl<S: AsyncReadExt + AsyncWriteExt + Unpin> Reader<S> {
    /// CONNECT, then one SUBSCRIBE per topic, each waited for by its
    /// receipt, within `setup_timeout`.
    async fn handshake(
        stream: S,
        login: &Login<'_>,
        subscriptions: &[Subscribe<'_>],
        setup_timeout: Duration,
    ) -> Result<Self, Ended> {
        let mut r = Self {
            stream,
            decoder: Decoder::default(),
            buf: vec![0u8; 8192],
            silence: None,
        };
        let hello = Frame::new("CONNECT")
            .header("accept-version", "1.2")
            .header("host", login.host)
            .header("login", login.id.expose())
            .header("passcode", login.credential.expose())
            .header("heart-beat", format!("0,{}", HEARTBEAT.as_millis()));
        let setup = async {
            r.stream
                .write_all(&hello.encode())
                .await
                .map_err(Ended::Io)?;
            let connected = expect(&mut r.stream, &mut r.decoder, &mut r.buf, "CONNECTED").await?;
            for (n, sub) in subscriptions.iter().enumerate() {
                let subscribe = Frame::new("SUBSCRIBE")
                    .header("id", sub.id)
                    .header("destination", format!("/topic/{}", sub.topic))
                    .header("ack", "auto")
                    .header("receipt", format!("subscribed-{n}"));
                r.stream
                    .write_all(&subscribe.encode())
                    .await
                    .map_err(Ended::Io)?;
                expect(&mut r.stream, &mut r.decoder, &mut r.buf, "RECEIPT").await?;
            }
            Ok::<Frame, Ended>(connected)
        };
        let connected = tokio::time::timeout(setup_timeout, setup)
            .await
            .map_err(|_| Ended::Timeout)??;
        // The server's heart-beat ("sx,sy": it can send every sx ms): it
        // sends at the longer of sx and what was asked. Silence for three
        // of those means the connection is gone even if no FIN ever came;
        // without heart-beats only a close is noticed.
        r.silence = connected
            .get("heart-beat")
            .and_then(|h| h.split_once(','))
            .and_then(|(sx, _)| sx.trim().parse::<u64>().ok())
            .filter(|&sx| sx > 0)
            .map(|sx| Duration::from_millis(sx).max(HEARTBEAT) * 3);
        Ok(r)
    }

    /// The next frame (heart-beats aside); an `ERROR` frame is a refusal.
    async fn frame(&mut self) -> Result<Frame, Ended> {
        loop {
            let item = match self.silence {
                Some(limit) => tokio::time::timeout(
                    limit,
                    next(&mut self.stream, &mut self.decoder, &mut self.buf),
                )
                .await
                .map_err(|_| Ended::Silent)??,
                None => next(&mut self.stream, &mut self.decoder, &mut self.buf).await?,
            };
            match item {
                Item::Heartbeat => {}
                Item::Frame(f) if f.command == "ERROR" => {
                    return Err(Ended::Refused(f.get("message").unwrap_or("").to_owned()));
                }
                Item::Frame(f) => return Ok(f),
            }
        }
    }
}

/// Over an established stream: CONNECT, SUBSCRIBE (with a receipt), then
/// record completions until the stream ends or falls silent.
async fn listen<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    stream: S,
    watch: &JobWatch,
    login: &Login<'_>,
    topic: &str,
    setup_timeout: Duration,
    generation: u64,
) -> Result<(), Ended> {
    let subscribe = Subscribe {
        id: "dpm-job-topic",
        topic,
    };
    let mut reader = Reader::handshake(stream, login, &[subscribe], setup_timeout).await?;
    watch.went_live(generation);
    loop {
        let f = reader.frame().await?;
        if f.command == "MESSAGE" && f.get("notification-type") == Some("job-completion") {
            if let Some(job) = f.get("job-uri") {
                watch.announced(job.to_owned());
            }
        }
    }
}

/// What an OS message subscription connects with: the session's id and
/// credential, and its object topic (where the partition's deletion is
/// announced).
#[derive(Debug, Clone)]
pub(crate) struct SessionLogin {
    pub id: Secret,
    pub credential: Secret,
    pub object_topic: String,
}

/// Events a subscriber may fall behind by before the connection waits
/// for it.
const OS_EVENTS: usize = 64;

/// A connection of its own that subscribes to an OS message channel's
/// `topic` and to the session's object topic; answers once both
/// subscriptions are live, then feeds the subscription from a task until
/// the connection ends (or the subscription is dropped).
pub(crate) async fn subscribe_os_messages(
    service: &Service,
    session: &SessionLogin,
    partition: &PartitionUri,
    topic: &str,
) -> Result<OsMessageSubscription, Ended> {
    let stream = connect(service).await?;
    let login = Login {
        host: &service.host,
        id: &session.id,
        credential: &session.credential,
    };
    let subscriptions = [
        Subscribe {
            id: "dpm-os-messages",
            topic,
        },
        Subscribe {
            id: "dpm-object-topic",
            topic: &session.object_topic,
        },
    ];
    let reader = Reader::handshake(stream, &login, &subscriptions, service.connect_timeout).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(OS_EVENTS);
    let task = tokio::spawn(feed_os_messages(reader, tx, partition.clone()));
    Ok(OsMessageSubscription::new(
        rx,
        Some(Box::new(AbortOnDrop(task))),
    ))
}

/// Ends a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Passes each `os-message` notification on, and the partition's removal;
/// ends with the connection (the sender's drop tells the subscriber).
async fn feed_os_messages<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    mut reader: Reader<S>,
    tx: tokio::sync::mpsc::Sender<OsMessageEvent>,
    partition: PartitionUri,
) {
    loop {
        let f = match reader.frame().await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "OS message subscription ended");
                return;
            }
        };
        if f.command != "MESSAGE" {
            continue;
        }
        let event = match f.get("notification-type") {
            Some("os-message") => {
                match serde_json::from_slice::<OsMessageNotification>(&f.body) {
                    Ok(n) => OsMessageEvent::Messages(n.os_messages),
                    // A gap in the sequence numbers tells the subscriber
                    // that it missed messages; it reads them.
                    Err(e) => {
                        tracing::debug!(error = %e, "an os-message notification that does not decode; skipped");
                        continue;
                    }
                }
            }
            Some("inventory-change")
                if f.get("action") == Some("remove")
                    && f.get("object-uri") == Some(partition.as_str()) =>
            {
                OsMessageEvent::PartitionRemoved
            }
            _ => continue,
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

async fn next<S: AsyncReadExt + Unpin>(
    stream: &mut S,
    decoder: &mut Decoder,
    buf: &mut [u8],
) -> Result<Item, Ended> {
    loop {
        if let Some(item) = decoder.next_item().map_err(Ended::Protocol)? {
            return Ok(item);
        }
        let n = stream.read(buf).await.map_err(Ended::Io)?;
        if n == 0 {
            return Err(Ended::Closed);
        }
        decoder.push(&buf[..n]);
    }
}

/// Reads up to the frame `command` (heart-beats aside); an `ERROR` frame
/// is a refusal.
async fn expect<S: AsyncReadExt + Unpin>(
    stream: &mut S,
    decoder: &mut Decoder,
    buf: &mut [u8],
    command: &str,
) -> Result<Frame, Ended> {
    loop {
        match next(stream, decoder, buf).await? {
            Item::Frame(f) if f.command == command => return Ok(f),
            Item::Frame(f) if f.command == "ERROR" => {
                return Err(Ended::Refused(f.get("message").unwrap_or("").to_owned()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A server that answers the handshake, promises heart-beats every
    /// second, then says nothing: the client gives the subscription up
    /// after three of its heart-beat intervals (3 x 10 s), and a job it
    /// watched is then polled.
    #[tokio::test(start_paused = true)]
    async fn a_silent_service_ends_the_subscription() {
        let (client, mut server) = tokio::io::duplex(4096);
        let watch = Arc::new(JobWatch::default());
        let (id, credential) = (Secret::new("s"), Secret::new("c"));
        let login = Login {
            host: "hmc",
            id: &id,
            credential: &credential,
        };
        let server_side = async {
            let mut d = Decoder::default();
            let mut buf = vec![0u8; 4096];
            for reply in [
                Frame::new("CONNECTED")
                    .header("version", "1.2")
                    .header("heart-beat", "1000,0"),
                Frame::new("RECEIPT").header("receipt-id", "subscribed"),
            ] {
                let got = loop {
                    if let Some(Item::Frame(f)) = d.next_item().unwrap() {
                        break f;
                    }
                    let n = server.read(&mut buf).await.unwrap();
                    d.push(&buf[..n]);
                };
                assert!(matches!(got.command.as_str(), "CONNECT" | "SUBSCRIBE"));
                server.write_all(&reply.encode()).await.unwrap();
            }
            // Silence, with the connection open.
            std::future::pending::<()>().await;
        };
        let started = Instant::now();
        let client_side = listen(
            client,
            &watch,
            &login,
            "job-topic-1",
            Duration::from_secs(10),
            1,
        );
        let ended = tokio::select! {
            r = client_side => r,
            () = server_side => unreachable!(),
        };
        assert!(matches!(ended, Err(Ended::Silent)), "{ended:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        // It had gone live before the silence (the task that ran it then
        // marks it down, as for a close).
        assert_eq!(watch.state().generation, 1);
    }
}
