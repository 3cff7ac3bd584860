//! The HMC's notification service: STOMP 1.2 (or 1.1) over TLS (the HMC's JMS
//! broker listens on 61612). A client connects with the HMC user and
//! password, or with a session's id and credential (as zhmcclient's
//! receiver does), subscribes to `/topic/<name>` destinations (the topics
//! logon returned), and receives each notice published on them as a
//! `MESSAGE` with the HMC's headers and a JSON body.
//!
//! Heart-beats: the server sends one as often as the client asks (no more
//! often than every second) and asks for none.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmc_client::stomp::{Decoder, Frame, Item};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_rustls::rustls;

use crate::notify::Notice;
use crate::Sim;

/// How long a client may take to send `CONNECT`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The shortest heart-beat interval the server sends at.
const MIN_HEARTBEAT: Duration = Duration::from_secs(1);

/// The notification service's TLS: the HTTPS ports' certificate and
/// protocols, but no TLS 1.3 session tickets.
///
/// stomp.py 8.2.0 (under zhmcclient 1.26, which requires stomp.py < 8.3)
/// reads its TLS socket in one thread while another writes to it, and
/// CPython's `ssl` lets both into one OpenSSL connection at once: a read
/// that finds no data while the other thread writes can come back as end
/// of file, and stomp.py then drops the connection (stomp.py issue 450,
/// fixed in 9.0.0 by doing a TLS connection's I/O in one thread). Each
/// record that arrives while the client writes opens that window: the
/// tickets rustls sends right after the handshake arrive just as the
/// client writes `CONNECT`, and stomp.py never resumes a session, so they
/// serve it nothing.
pub(super) fn tls_config(https: &rustls::ServerConfig) -> Arc<rustls::ServerConfig> {
    let mut config = https.clone();
    config.send_tls13_tickets = 0;
    Arc::new(config)
}

/// The server's heart-beats: the first one a whole interval after
/// `CONNECTED`, not at once, when the client writes its `SUBSCRIBE`s (see
/// [`tls_config`]).
fn heartbeats(beat: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

pub(super) fn spawn(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    sim: Sim,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(super::MAX_CONNECTIONS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(super::ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            let (sim, acceptor, stop) = (sim.clone(), acceptor.clone(), stop.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let tls =
                    match tokio::time::timeout(super::HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => s,
                        _ => return,
                    };
                if let Err(e) = serve(tls, &sim, stop).await {
                    tracing::debug!(error = %e, "notification connection ended");
                }
            });
        }
    })
}

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("I/O")]
    Io(#[from] std::io::Error),
    #[error("not STOMP 1.2")]
    Protocol(#[from] hmc_client::stomp::StompError),
    #[error("no CONNECT in time")]
    Timeout,
    #[error("closed by the client")]
    Closed,
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    sim: &Sim,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ConnError> {
    // Subscribed before CONNECTED is sent: nothing published after the
    // client's SUBSCRIBE is acknowledged can be missed.
    let mut notices = sim.notices();
    let mut drops = sim.notification_drops();
    let mut decoder = Decoder::default();
    let mut buf = vec![0u8; 8192];

    let hello = tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            match next(&mut stream, &mut decoder, &mut buf).await? {
                Item::Heartbeat => {}
                Item::Frame(f) => return Ok::<Frame, ConnError>(f),
            }
        }
    })
    .await
    .map_err(|_| ConnError::Timeout)??;
    if !matches!(hello.command.as_str(), "CONNECT" | "STOMP") {
        return refuse(&mut stream, "the first frame must be CONNECT").await;
    }
    // The highest version both speak (stomp.py, under zhmcclient, offers
    // only 1.1; the framing this server sends is the same for both).
    let offered: Vec<&str> = hello
        .get("accept-version")
        .unwrap_or("1.0")
        .split(',')
        .map(str::trim)
        .collect();
    let Some(version) = ["1.2", "1.1"].into_iter().find(|v| offered.contains(v)) else {
        return refuse(&mut stream, "STOMP 1.1 or 1.2 is required").await;
    };
    let login = hello.get("login").unwrap_or_default();
    let passcode = hello.get("passcode").unwrap_or_default();
    if !sim.notification_login(login, passcode) {
        return refuse(&mut stream, "Authentication failed").await;
    }
    // The client's heart-beat: it can send every cx ms, wants one every cy.
    let wants = hello
        .get("heart-beat")
        .and_then(|h| h.split_once(','))
        .and_then(|(_, cy)| cy.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let beat = (wants > 0).then(|| Duration::from_millis(wants).max(MIN_HEARTBEAT));
    let connected = Frame::new("CONNECTED")
        .header("version", version)
        .header(
            "heart-beat",
            format!("{},0", beat.map_or(0, |b| b.as_millis())),
        )
        .header("server", "dpm-sim");
    stream.write_all(&connected.encode()).await?;

    // Reads in one half, writes in the other: the select below waits on a
    // read while it may write.
    let (mut rd, mut wr) = tokio::io::split(stream);
    // destination → subscription id.
    let mut subs: BTreeMap<String, String> = BTreeMap::new();
    let mut seq: u64 = 0;
    let mut ticker = beat.map(heartbeats);
    loop {
        tokio::select! {
            r = next(&mut rd, &mut decoder, &mut buf) => match r? {
                Item::Heartbeat => {}
                Item::Frame(f) => match f.command.as_str() {
                    "SUBSCRIBE" => {
                        if let (Some(d), Some(id)) = (f.get("destination"), f.get("id")) {
                            subs.insert(d.to_owned(), id.to_owned());
                        }
                        receipt(&mut wr, &f).await?;
                    }
                    "UNSUBSCRIBE" => {
                        if let Some(id) = f.get("id") {
                            subs.retain(|_, s| s != id);
                        }
                        receipt(&mut wr, &f).await?;
                    }
                    "DISCONNECT" => {
                        receipt(&mut wr, &f).await?;
                        let _ = wr.shutdown().await;
                        return Ok(());
                    }
                    _ => receipt(&mut wr, &f).await?,
                },
            },
            n = notices.recv() => match n {
                Ok(n) => {
                    let dest = format!("/topic/{}", n.topic);
                    if let Some(id) = subs.get(&dest) {
                        wr.write_all(&message(&n, &dest, id, seq).encode()).await?;
                        seq += 1;
                    }
                }
                // Fell behind: notices were lost, so the connection goes
                // (a client then knows it cannot rely on it).
                Err(broadcast::error::RecvError::Lagged(_)) => return Err(ConnError::Closed),
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = async {
                match ticker.as_mut() {
                    Some(t) => { t.tick().await; }
                    None => std::future::pending().await,
                }
            } => wr.write_all(b"\n").await?,
            _ = drops.changed() => return Ok(()),
            _ = stop.changed() => return Ok(()),
        }
    }
}

/// A notice as the HMC sends it.
fn message(n: &Notice, dest: &str, subscription: &str, seq: u64) -> Frame {
    let mut f = Frame::new("MESSAGE")
        .header("destination", dest)
        .header("subscription", subscription)
        .header("message-id", format!("dpm-sim-{seq}"))
        .header("content-type", "application/json")
        .header("session-sequence-nr", seq.to_string());
    for (k, v) in &n.headers {
        f = f.header(k, v.clone());
    }
    f.body(n.body.clone().into_bytes())
}

async fn receipt<S: AsyncWrite + Unpin>(stream: &mut S, f: &Frame) -> Result<(), ConnError> {
    if let Some(r) = f.get("receipt") {
        let reply = Frame::new("RECEIPT").header("receipt-id", r);
        stream.write_all(&reply.encode()).await?;
    }
    Ok(())
}

async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, why: &str) -> Result<(), ConnError> {
    let f = Frame::new("ERROR").header("message", why);
    stream.write_all(&f.encode()).await?;
    let _ = stream.shutdown().await;
    Ok(())
}

async fn next<S: AsyncRead + Unpin>(
    stream: &mut S,
    decoder: &mut Decoder,
    buf: &mut [u8],
) -> Result<Item, ConnError> {
    loop {
        if let Some(item) = decoder.next_item()? {
            return Ok(item);
        }
        let n = stream.read(buf).await?;
        if n == 0 {
            return Err(ConnError::Closed);
        }
        decoder.push(&buf[..n]);
    }
}
