//! Session ids in the real HMC's form, and never in a log.
//!
//! The WS API book calls `X-API-Session` "an opaque string that provides
//! a cryptographically strong identifier of the API session"; the logon
//! answers in public test data carry 50 characters of lower-case letters
//! and digits as `api-session`, 49 as `session-credential`, and topics
//! named after the user (`APIUSER.229`, `APIUSER.229job`).

use std::io::Write;
use std::sync::{Arc, Mutex};

use dpm_sim::{Sim, WorldSpec};
use hmc_client::HmcApi;
use serde_json::{json, Value};

use crate::conformance::{http_hmc, served};

/// Whether `s` is `len` characters of `0-9 a-z`.
fn token(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// Everything a tracing subscriber writes, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A logon's reply has the HMC's shapes; two logons get different ids;
/// the ids work, and an id of the right shape the HMC did not hand out is
/// 403.5. Nothing the simulator, hmc-client or the served HMC logs, at
/// any level, holds an id or a credential, and `Debug` hides them.
#[tokio::test]
async fn session_ids_have_the_hmcs_form_and_are_never_logged() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The served HMC runs on this test's (current-thread) runtime, so a
    // thread's subscriber sees all of it. With a single scoped subscriber
    // in the process, tracing asks only the registering thread's default
    // whether a new event site is of interest, so a site first reached by
    // another test's thread would stay silent here; a second live
    // dispatcher makes it ask every one.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());
    let guard = tracing::subscriber::set_default(subscriber);
    let (sim, server) = served(WorldSpec::z16()).await;
    let e = server.endpoints().hmc.clone();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&e.ca_cert).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let logon = || async {
        let r = http
            .post(format!("{}/api/sessions", e.url))
            .json(&json!({"userid": e.userid, "password": sim.spec().hmc.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json::<Value>().await.unwrap()
    };
    let get = |session: String| {
        let (http, url) = (http.clone(), format!("{}{}", e.url, sim.cpc_uri()));
        async move {
            http.get(url)
                .header("x-api-session", session)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (a, b) = (logon().await, logon().await);
    let mut secrets = Vec::new();
    for reply in [&a, &b] {
        let session = reply["api-session"].as_str().unwrap();
        let credential = reply["session-credential"].as_str().unwrap();
        assert!(token(session, 50), "{session}");
        assert!(token(credential, 49), "{credential}");
        let topic = reply["notification-topic"].as_str().unwrap();
        let (user, n) = topic.split_once('.').unwrap();
        assert_eq!(user, e.userid.to_uppercase());
        assert!(n.parse::<u64>().is_ok(), "{topic}");
        assert_eq!(reply["job-notification-topic"], format!("{topic}job"));
        assert_eq!(get(session.to_owned()).await, 200);
        secrets.push(session.to_owned());
        secrets.push(credential.to_owned());
    }
    assert_ne!(a["api-session"], b["api-session"]);
    assert_ne!(a["session-credential"], b["session-credential"]);
    // The right shape is not enough.
    assert_eq!(get("0".repeat(50)).await, 403);
    // hmc-client over HTTPS: logon, a read, logoff (the id goes).
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    let r = hmc.logon().await.unwrap();
    let session = r.api_session.expose().to_owned();
    assert!(token(&session, 50));
    assert!(!format!("{r:?}").contains(&session));
    hmc.get_cpc(&sim.cpc_uri()).await.unwrap();
    hmc.logoff().await.unwrap();
    assert_eq!(get(session.clone()).await, 403);
    secrets.push(session);
    secrets.push(r.session_credential.expose().to_owned());
    // In memory the same.
    let memory = sim.hmc();
    let r = memory.logon().await.unwrap();
    assert!(token(r.api_session.expose(), 50));
    assert!(token(r.session_credential.expose(), 49));
    memory.get_cpc(&sim.cpc_uri()).await.unwrap();
    secrets.push(r.api_session.expose().to_owned());
    secrets.push(r.session_credential.expose().to_owned());
    // The world's state as a test or a crash would print it.
    let snapshot = format!("{:?}", sim.snapshot());
    server.shutdown().await;
    drop(guard);

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("/api/sessions"),
        "the log holds the requests: {text}"
    );
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a session secret is in the log");
        assert!(!snapshot.contains(s.as_str()));
    }
}

/// Ids are unguessable, not counted: many logons, no two alike, no
/// shared prefix a counter would leave.
#[tokio::test]
async fn session_ids_are_not_a_counter() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let hmc = sim.hmc();
        let r = hmc.logon().await.unwrap();
        ids.insert(r.api_session.expose().to_owned());
    }
    assert_eq!(ids.len(), 50);
    let first: std::collections::BTreeSet<_> = ids.iter().map(|s| &s[..8]).collect();
    assert!(first.len() > 40, "ids share their beginnings: {ids:?}");
}
