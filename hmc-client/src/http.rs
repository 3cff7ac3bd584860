//! `HttpHmc`: the HMC Web Services API over HTTPS (reqwest and rustls).
//!
//! - TLS verification is on. [`TlsVerify::CaFile`] trusts only the given CA
//!   (the usual case for an HMC); [`TlsVerify::SystemRoots`] uses the
//!   platform's roots; turning verification off needs
//!   [`TlsVerify::DangerAcceptInvalidCertificates`].
//! - Logon happens on first use; requests carry `X-API-Session`. After a
//!   403 reason 4 or 5 the client logs on again once and resends (the HMC
//!   did not act on a request it refused for its session).
//! - Connections are reused; every request has a timeout. Requests that are
//!   safe to repeat (GETs, and any request that never left this process)
//!   are retried a bounded number of times with backoff on transport errors,
//!   503 and 409.2. A start, stop, create or update that may have reached
//!   the HMC is never resent: its error says it may have taken effect.
//! - Every request's method and path are its operation's in the route
//!   table ([`HmcOp`]); the query parameters sent are among those the
//!   table gives the operation.
//! - The password and the session id never appear in logs or `Debug`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::api::{
    AdapterFilter, HmcApi, PartitionFilter, StorageGroupFilter, StorageVolumeFilter, VsrFilter,
    NOTIFICATION_PORT,
};
use crate::console::{
    Console, OsCommand, OsMessageChannel, OsMessageChannelOpen, OsMessageFilter,
    OsMessageSubscription, OsMessages,
};
use crate::error::{HmcError, Sent};
use crate::ids::{
    AdapterUri, CpcUri, HbaUri, JobUri, PartitionUri, StorageGroupUri, StoragePortUri,
    StorageVolumeUri, VsrUri,
};
use crate::notifications::{JobWatch, Service, SessionLogin};
use crate::route::{HmcOp, Method};
use crate::storage_group::*;
use crate::tls::TlsSetupError;
pub use crate::tls::TlsVerify;
use crate::wire::*;
use crate::Credentials;
use dpm_secret::Secret;

/// How an [`HttpHmc`] connects.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `https://host[:port]` (the HMC listens on 6794).
    pub url: String,
    /// Logon credentials.
    pub credentials: Credentials,
    /// Certificate checking.
    pub tls: TlsVerify,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Sends of one request at most, when [`HmcError::should_resend`]
    /// allows resending it (1 = no retry).
    pub attempts: u32,
    /// Wait before the first resend; doubles each time up to eight times
    /// this, with random jitter.
    pub backoff: Duration,
    /// The port of the HMC's notification service (STOMP over TLS, 61612)
    /// on the same host, to wait for jobs by their completion
    /// notifications; `None` polls every job. When the service cannot be
    /// reached, jobs are polled.
    pub notification_port: Option<u16>,
}

impl HttpConfig {
    /// Defaults: 60 s per request, 10 s to connect, 3 attempts, 0.5 s
    /// backoff, verification against the given CA file.
    pub fn new(url: impl Into<String>, credentials: Credentials, tls: TlsVerify) -> Self {
        Self {
            url: url.into(),
            credentials,
            tls,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(500),
            notification_port: Some(NOTIFICATION_PORT),
        }
    }
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpSetupError {
    /// The URL does not parse or is not https.
    #[error("HMC URL {url:?} is not an https:// URL")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// The CA file cannot be read or holds no certificate.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP stack refused the configuration.
    #[error("cannot build the HTTPS client")]
    Build(#[source] reqwest::Error),
    /// The platform's certificate verifier is not available.
    #[error("cannot use the platform's certificate verifier: {0}")]
    Tls(String),
}

/// The HMC over HTTPS.
pub struct HttpHmc {
    http: reqwest::Client,
    base: Url,
    cfg: HttpConfig,
    session: Mutex<Option<Secret>>,
    /// Held while logging on, so that concurrent requests share one logon.
    logging_on: tokio::sync::Mutex<()>,
    /// The notification service, when used.
    service: Option<Service>,
    /// The session's job-notification subscription.
    watch: Arc<JobWatch>,
    /// What the current session subscribes to other topics with.
    login: Mutex<Option<SessionLogin>>,
}

/// The notification task holds the subscription's state too: it ends with
/// the client, not with the last reference to that state.
impl Drop for HttpHmc {
    fn drop(&mut self) {
        self.watch.stop();
    }
}

impl std::fmt::Debug for HttpHmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHmc")
            .field("url", &self.base.as_str())
            .field("userid", &self.cfg.credentials.userid)
            .field("logged_on", &self.session().is_some())
            .finish()
    }
}

/// Whether a request is idempotent (see [`HmcError::should_resend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Safe to send again (GET).
    Safe,
    /// Resent only when it certainly did nothing.
    Once,
}

impl Repeat {
    /// A GET is safe to send again; a POST or DELETE only when it
    /// certainly did nothing.
    fn of(method: Method) -> Self {
        match method {
            Method::Get => Repeat::Safe,
            Method::Post | Method::Delete => Repeat::Once,
        }
    }
}

/// The HTTP stack's spelling of a method of the table.
fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
    }
}

impl HttpHmc {
    /// Builds the client. Nothing is sent until the first request.
    pub fn new(cfg: HttpConfig) -> Result<Self, HttpSetupError> {
        crate::tls::install_crypto();
        let base = Url::parse(&cfg.url)
            .ok()
            .filter(|u| u.scheme() == "https" && u.host().is_some())
            .ok_or_else(|| HttpSetupError::BadUrl {
                url: cfg.url.clone(),
            })?;
        let mut b = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .no_proxy()
            .user_agent(concat!("dpm-hmc-client/", env!("CARGO_PKG_VERSION")));
        // The same TLS configuration serves the notification service.
        let tls = crate::tls::client_config(&cfg.tls).map_err(|e| match e {
            TlsSetupError::CaFile { path, reason } => HttpSetupError::CaFile { path, reason },
            TlsSetupError::Platform(why) => HttpSetupError::Tls(why),
        })?;
        b = b.tls_backend_preconfigured((*tls).clone());
        let service = cfg.notification_port.map(|port| Service {
            host: base.host_str().unwrap_or_default().to_owned(),
            port,
            tls,
            connect_timeout: cfg.connect_timeout,
        });
        Ok(Self {
            http: b.build().map_err(HttpSetupError::Build)?,
            base,
            cfg,
            session: Mutex::new(None),
            logging_on: tokio::sync::Mutex::new(()),
            service,
            watch: Arc::new(JobWatch::default()),
            login: Mutex::new(None),
        })
    }

    /// Sends a request that begins a job. When the job notification
    /// subscription is live as it is sent, the job is watched: its end
    /// will be announced.
    async fn begin_job(
        &self,
        op: HmcOp,
        ids: &[&str],
        body: &impl Serialize,
    ) -> Result<JobUri, HmcError> {
        let generation = match &self.service {
            Some(service) => self.watch.before_job(service).await,
            None => None,
        };
        let r: JobStarted = self.post(op, ids, body).await?;
        if let Some(g) = generation {
            self.watch.watch(&r.job_uri, g);
        }
        Ok(r.job_uri)
    }

    /// The session, logging on first when there is none. Concurrent
    /// callers wait for one logon and share its session.
    async fn ensure_session(&self) -> Result<Secret, HmcError> {
        if let Some(s) = self.session() {
            return Ok(s);
        }
        let _one = self.logging_on.lock().await;
        if let Some(s) = self.session() {
            return Ok(s);
        }
        Ok(self.logon().await?.api_session)
    }

    /// Forgets `used` after the HMC refused it; a session another request
    /// got since is kept.
    fn forget_session(&self, used: &Secret) {
        let mut s = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if s.as_ref().is_some_and(|s| s.expose() == used.expose()) {
            *s = None;
        }
    }

    fn session(&self) -> Option<Secret> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_session(&self, s: Option<Secret>) {
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut u = self.base.clone();
        u.set_path(path);
        if !query.is_empty() {
            let mut q = u.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        u
    }

    /// Sends one request of `op` (its method, on `path`: its template
    /// filled in by [`HmcOp::path`]) with retries; returns the status and
    /// body text. The retry rule is [`HmcError::should_resend`]: transient
    /// failures of GETs, and of other requests only when they certainly
    /// did nothing; exponential backoff with jitter from `cfg.backoff`, at
    /// most `cfg.attempts` sends.
    async fn send(
        &self,
        op: HmcOp,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        repeat: Repeat,
        with_session: bool,
    ) -> Result<(StatusCode, String), HmcError> {
        debug_assert!(
            query.iter().all(|(k, _)| op.query().contains(k)),
            "{op:?}: the HMC takes no query parameter {:?}",
            query
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| !op.query().contains(k))
                .collect::<Vec<_>>()
        );
        let method = op.method().as_str();
        let policy = ExponentialBuilder::new()
            .with_min_delay(self.cfg.backoff)
            .with_max_delay(self.cfg.backoff.saturating_mul(8))
            .with_max_times(self.cfg.attempts.saturating_sub(1) as usize)
            .with_jitter();
        let attempt = std::sync::atomic::AtomicU32::new(0);
        (|| {
            let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.send_once(op, path, query, body, with_session, n)
        })
        .retry(policy)
        .sleep(tokio::time::sleep)
        .when(|e: &HmcError| e.should_resend(repeat == Repeat::Safe))
        .notify(|e: &HmcError, wait: Duration| {
            tracing::debug!(method, path, error = %e, ?wait, "retrying");
        })
        .await
    }

    /// Sends one request; when the HMC refuses it for its session (so it
    /// did nothing), logs on again and sends it once more.
    async fn send_once(
        &self,
        op: HmcOp,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        with_session: bool,
        attempt: u32,
    ) -> Result<(StatusCode, String), HmcError> {
        let method = op.method().as_str();
        let mut relogged = false;
        loop {
            let used = if with_session {
                Some(self.ensure_session().await?)
            } else {
                None
            };
            let mut rb = self
                .http
                .request(http_method(op.method()), self.url(path, query))
                .header("accept", "application/json");
            if let Some(s) = &used {
                rb = rb.header("x-api-session", s.expose());
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            // One span per request; never the session header or a body
            // (the logon's holds the password).
            let span = tracing::debug_span!("hmc_request", method, path, attempt);
            let started = std::time::Instant::now();
            let sent = rb.send().instrument(span.clone()).await;
            let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            span.in_scope(|| match &sent {
                Ok(r) => tracing::debug!(status = r.status().as_u16(), latency_ms, "request"),
                Err(e) => tracing::debug!(error = %e, latency_ms, "request failed"),
            });
            let resp = sent.map_err(|e| transport(method, path, e))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| transport(method, path, e))?;
            if status.is_success() {
                return Ok((status, text));
            }
            let err = api_error(method, path, status, &text);
            if with_session && !relogged && err.is_session_expired() {
                tracing::info!(
                    status = status.as_u16(),
                    "HMC session expired; logging on again"
                );
                relogged = true;
                if let Some(u) = &used {
                    self.forget_session(u);
                }
                continue;
            }
            return Err(err);
        }
    }

    /// An operation without a body (a GET), its answer decoded.
    async fn get<T: DeserializeOwned>(
        &self,
        op: HmcOp,
        ids: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, HmcError> {
        debug_assert_eq!(op.method(), Method::Get, "{op:?}");
        let path = op.path(ids);
        let (_, text) = self
            .send(op, &path, query, None, Repeat::of(op.method()), true)
            .await?;
        decode(op.method().as_str(), &path, &text)
    }

    /// An operation with a JSON body (a POST), its answer decoded.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        op: HmcOp,
        ids: &[&str],
        body: &B,
    ) -> Result<T, HmcError> {
        let path = op.path(ids);
        let text = self.send_body(op, &path, body).await?;
        decode(op.method().as_str(), &path, &text)
    }

    /// An operation with a JSON body (a POST) whose answer is not read.
    async fn post_empty_reply<B: Serialize>(
        &self,
        op: HmcOp,
        ids: &[&str],
        body: &B,
    ) -> Result<(), HmcError> {
        let path = op.path(ids);
        self.send_body(op, &path, body).await.map(drop)
    }

    async fn send_body<B: Serialize>(
        &self,
        op: HmcOp,
        path: &str,
        body: &B,
    ) -> Result<String, HmcError> {
        debug_assert_eq!(op.method(), Method::Post, "{op:?}");
        let body = serde_json::to_value(body).map_err(|e| HmcError::Decode {
            method: op.method().as_str(),
            uri: path.into(),
            source: e,
        })?;
        let (_, text) = self
            .send(op, path, &[], Some(&body), Repeat::of(op.method()), true)
            .await?;
        Ok(text)
    }

    /// An operation that removes (a DELETE).
    async fn delete(&self, op: HmcOp, ids: &[&str]) -> Result<(), HmcError> {
        debug_assert_eq!(op.method(), Method::Delete, "{op:?}");
        let path = op.path(ids);
        self.send(op, &path, &[], None, Repeat::of(op.method()), true)
            .await
            .map(drop)
    }
}

fn transport(method: &'static str, path: &str, e: reqwest::Error) -> HmcError {
    // A connect failure (refused, TLS handshake) never reached the HMC.
    let sent = if e.is_connect() {
        Sent::No
    } else {
        Sent::Maybe
    };
    HmcError::Transport {
        method,
        uri: path.into(),
        sent,
        source: Box::new(e),
    }
}

fn decode<T: DeserializeOwned>(
    method: &'static str,
    path: &str,
    text: &str,
) -> Result<T, HmcError> {
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|source| HmcError::Decode {
        method,
        uri: path.into(),
        source,
    })
}

/// An error answer: the HMC's body when it is one, else the status alone.
fn api_error(method: &'static str, path: &str, status: StatusCode, text: &str) -> HmcError {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => HmcError::from_body(method, path, body),
        Err(_) => HmcError::Api {
            method,
            uri: path.into(),
            status: status.as_u16(),
            reason: 0,
            message: format!("the HMC answered HTTP {status} without an HMC error body"),
        },
    }
}

/// The query of "List Adapters of a CPC".
fn adapter_query(filter: &AdapterFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(t) = &filter.adapter_type {
        q.push(("type", t.as_str().to_owned()));
    }
    if let Some(n) = &filter.name {
        q.push(("name", n.clone()));
    }
    q
}

/// The query of "List Partitions of a CPC".
fn partition_query(
    filter: &PartitionFilter,
    additional: &[PartitionListProperty],
) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(n) = &filter.name {
        q.push(("name", n.clone()));
    }
    if let Some(s) = &filter.status {
        q.push(("status", s.as_str().to_owned()));
    }
    if !additional.is_empty() {
        let names: Vec<&str> = additional.iter().map(|p| p.as_str()).collect();
        q.push(("additional-properties", names.join(",")));
    }
    q
}

/// The query of "List Storage Groups".
fn storage_group_query(filter: &StorageGroupFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(c) = &filter.cpc {
        q.push(("cpc-uri", c.as_str().to_owned()));
    }
    if let Some(n) = &filter.name {
        q.push(("name", n.clone()));
    }
    q
}

/// The query of "List Storage Volumes of a Storage Group".
fn storage_volume_query(filter: &StorageVolumeFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(n) = &filter.name {
        q.push(("name", n.clone()));
    }
    if let Some(u) = &filter.usage {
        q.push(("usage", u.as_str().to_owned()));
    }
    if let Some(f) = &filter.fulfillment_state {
        q.push(("fulfillment-state", f.as_str().to_owned()));
    }
    if let Some(n) = filter.minimum_size {
        q.push(("minimum-size", n.to_string()));
    }
    if let Some(n) = filter.maximum_size {
        q.push(("maximum-size", n.to_string()));
    }
    q
}

#[async_trait]
impl HmcApi for HttpHmc {
    async fn logon(&self) -> Result<LogonResponse, HmcError> {
        let body = serde_json::json!({
            "userid": self.cfg.credentials.userid,
            "password": self.cfg.credentials.password.expose(),
        });
        // Without a session; resent like a GET.
        let op = HmcOp::Logon;
        let path = op.path(&[]);
        let (_, text) = self
            .send(op, &path, &[], Some(&body), Repeat::Safe, false)
            .await?;
        let r: LogonResponse = decode(op.method().as_str(), &path, &text)?;
        if let Some(service) = &self.service {
            self.watch.session_changed(
                service,
                r.api_session.clone(),
                r.session_credential.clone(),
                r.job_notification_topic.clone(),
            );
        }
        *self.login.lock().unwrap_or_else(|e| e.into_inner()) = Some(SessionLogin {
            id: r.api_session.clone(),
            credential: r.session_credential.clone(),
            object_topic: r.notification_topic.clone(),
        });
        let old = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(r.api_session.clone());
        tracing::debug!(userid = %self.cfg.credentials.userid, "logged on to the HMC");
        // A session this logon replaces is logged off, not left open.
        if let Some(old) = old.filter(|o| o.expose() != r.api_session.expose()) {
            let end = self
                .http
                .request(
                    http_method(HmcOp::Logoff.method()),
                    self.url(&HmcOp::Logoff.path(&[]), &[]),
                )
                .header("x-api-session", old.expose())
                .send()
                .await;
            if let Err(e) = end {
                tracing::debug!(error = %e, "could not log off the replaced HMC session");
            }
        }
        Ok(r)
    }

    async fn logoff(&self) -> Result<(), HmcError> {
        if self.session().is_none() {
            return Ok(());
        }
        let r = self.delete(HmcOp::Logoff, &[]).await;
        self.set_session(None);
        *self.login.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.watch.stop();
        r.map(drop)
    }

    async fn api_version(&self) -> Result<ApiVersion, HmcError> {
        // Without a session.
        let op = HmcOp::ApiVersion;
        let path = op.path(&[]);
        let (_, text) = self.send(op, &path, &[], None, Repeat::Safe, false).await?;
        decode(op.method().as_str(), &path, &text)
    }

    async fn get_console(&self) -> Result<Console, HmcError> {
        self.get(HmcOp::GetConsole, &[], &[]).await
    }

    async fn list_cpcs<'a>(&self, name: Option<&'a str>) -> Result<Vec<CpcSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            cpcs: Vec<CpcSummary>,
        }
        let q: Vec<(&str, String)> = name.map(|n| ("name", n.to_owned())).into_iter().collect();
        Ok(self.get::<L>(HmcOp::ListCpcs, &[], &q).await?.cpcs)
    }

    async fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.get(HmcOp::GetCpc, &[cpc.object_id()], &[]).await
    }

    async fn list_adapters(
        &self,
        cpc: &CpcUri,
        filter: &AdapterFilter,
    ) -> Result<Vec<AdapterSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            adapters: Vec<AdapterSummary>,
        }
        Ok(self
            .get::<L>(
                HmcOp::ListAdapters,
                &[cpc.object_id()],
                &adapter_query(filter),
            )
            .await?
            .adapters)
    }

    async fn get_adapter(&self, adapter: &AdapterUri) -> Result<Adapter, HmcError> {
        self.get(HmcOp::GetAdapter, &[adapter.object_id()], &[])
            .await
    }

    async fn get_storage_port(&self, port: &StoragePortUri) -> Result<StoragePort, HmcError> {
        let adapter = port.parent();
        self.get(
            HmcOp::GetStoragePort,
            &[adapter.object_id(), port.element_id()],
            &[],
        )
        .await
    }

    async fn list_partitions(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        self.list_partitions_with(cpc, filter, &[]).await
    }

    async fn list_partitions_with(
        &self,
        cpc: &CpcUri,
        filter: &PartitionFilter,
        additional: &[PartitionListProperty],
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            partitions: Vec<PartitionSummary>,
        }
        let q = partition_query(filter, additional);
        Ok(self
            .get::<L>(HmcOp::ListPartitions, &[cpc.object_id()], &q)
            .await?
            .partitions)
    }

    async fn create_partition(
        &self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        let r: CreatedObject<PartitionUri> = self
            .post(HmcOp::CreatePartition, &[cpc.object_id()], props)
            .await?;
        Ok(r.object_uri)
    }

    async fn get_partition(&self, partition: &PartitionUri) -> Result<Partition, HmcError> {
        self.get(HmcOp::GetPartition, &[partition.object_id()], &[])
            .await
    }

    async fn update_partition(
        &self,
        partition: &PartitionUri,
        props: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        self.post_empty_reply(HmcOp::UpdatePartition, &[partition.object_id()], props)
            .await
    }

    async fn delete_partition(&self, partition: &PartitionUri) -> Result<(), HmcError> {
        self.delete(HmcOp::DeletePartition, &[partition.object_id()])
            .await
    }

    async fn start_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.begin_job(
            HmcOp::StartPartition,
            &[partition.object_id()],
            &serde_json::json!({}),
        )
        .await
    }

    async fn stop_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.begin_job(
            HmcOp::StopPartition,
            &[partition.object_id()],
            &serde_json::json!({}),
        )
        .await
    }

    async fn list_os_messages(
        &self,
        partition: &PartitionUri,
        filter: &OsMessageFilter,
    ) -> Result<OsMessages, HmcError> {
        self.get(
            HmcOp::ListOsMessages,
            &[partition.object_id()],
            &filter.query(),
        )
        .await
    }

    async fn send_os_command(
        &self,
        partition: &PartitionUri,
        text: &str,
        is_priority: bool,
    ) -> Result<(), HmcError> {
        let body = OsCommand {
            is_priority,
            operating_system_command_text: text.to_owned(),
        };
        self.post_empty_reply(HmcOp::SendOsCommand, &[partition.object_id()], &body)
            .await
    }

    async fn open_os_message_channel(
        &self,
        partition: &PartitionUri,
        include_refresh_messages: bool,
    ) -> Result<String, HmcError> {
        let body = OsMessageChannelOpen {
            include_refresh_messages,
        };
        let r: OsMessageChannel = self
            .post(HmcOp::OpenOsMessageChannel, &[partition.object_id()], &body)
            .await?;
        Ok(r.topic_name)
    }

    async fn subscribe_os_messages(
        &self,
        partition: &PartitionUri,
        topic: &str,
    ) -> Result<OsMessageSubscription, HmcError> {
        let unavailable =
            |source: Box<dyn std::error::Error + Send + Sync>| HmcError::Notifications {
                topic: topic.to_owned(),
                source,
            };
        let Some(service) = &self.service else {
            return Err(unavailable(
                "the client has no notification port (notification_port is off)".into(),
            ));
        };
        // The session's credential, logging on first if need be.
        self.ensure_session().await?;
        let login = self
            .login
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| unavailable("not logged on".into()))?;
        crate::notifications::subscribe_os_messages(service, &login, partition, topic)
            .await
            .map_err(|e| unavailable(Box::new(e)))
    }

    async fn create_hba(
        &self,
        partition: &PartitionUri,
        props: &HbaCreate,
    ) -> Result<HbaUri, HmcError> {
        let r: CreatedElement<HbaUri> = self
            .post(HmcOp::CreateHba, &[partition.object_id()], props)
            .await?;
        Ok(r.element_uri)
    }

    async fn get_hba(&self, hba: &HbaUri) -> Result<Hba, HmcError> {
        let partition = hba.parent();
        self.get(
            HmcOp::GetHba,
            &[partition.object_id(), hba.element_id()],
            &[],
        )
        .await
    }

    async fn delete_hba(&self, hba: &HbaUri) -> Result<(), HmcError> {
        let partition = hba.parent();
        self.delete(HmcOp::DeleteHba, &[partition.object_id(), hba.element_id()])
            .await
    }

    async fn list_storage_groups(
        &self,
        filter: &StorageGroupFilter,
    ) -> Result<Vec<StorageGroupSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            #[serde(rename = "storage-groups")]
            groups: Vec<StorageGroupSummary>,
        }
        Ok(self
            .get::<L>(HmcOp::ListStorageGroups, &[], &storage_group_query(filter))
            .await?
            .groups)
    }

    async fn create_storage_group(
        &self,
        props: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError> {
        self.post(HmcOp::CreateStorageGroup, &[], props).await
    }

    async fn get_storage_group(&self, group: &StorageGroupUri) -> Result<StorageGroup, HmcError> {
        self.get(HmcOp::GetStorageGroup, &[group.object_id()], &[])
            .await
    }

    async fn modify_storage_group(
        &self,
        group: &StorageGroupUri,
        props: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        let r: Option<StorageGroupModified> = self
            .post(HmcOp::ModifyStorageGroup, &[group.object_id()], props)
            .await?;
        Ok(r.map(|m| m.element_uris).unwrap_or_default())
    }

    async fn delete_storage_group(&self, group: &StorageGroupUri) -> Result<(), HmcError> {
        self.post_empty_reply(
            HmcOp::DeleteStorageGroup,
            &[group.object_id()],
            &serde_json::json!({}),
        )
        .await
    }

    async fn add_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        let body = AdapterPorts {
            adapter_port_uris: ports.to_vec(),
        };
        self.post_empty_reply(HmcOp::AddCandidateAdapterPorts, &[group.object_id()], &body)
            .await
    }

    async fn remove_candidate_adapter_ports(
        &self,
        group: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        let body = AdapterPorts {
            adapter_port_uris: ports.to_vec(),
        };
        self.post_empty_reply(
            HmcOp::RemoveCandidateAdapterPorts,
            &[group.object_id()],
            &body,
        )
        .await
    }

    async fn get_storage_group_partitions(
        &self,
        group: &StorageGroupUri,
    ) -> Result<Vec<PartitionSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            partitions: Vec<PartitionSummary>,
        }
        Ok(self
            .get::<L>(HmcOp::GetStorageGroupPartitions, &[group.object_id()], &[])
            .await?
            .partitions)
    }

    async fn start_fcp_storage_discovery(
        &self,
        group: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError> {
        self.begin_job(
            HmcOp::StartFcpStorageDiscovery,
            &[group.object_id()],
            &StartDiscovery { force_restart },
        )
        .await
    }

    async fn accept_mismatched_storage_volumes(
        &self,
        group: &StorageGroupUri,
        volumes: &[StorageVolumeUri],
    ) -> Result<(), HmcError> {
        let body = AcceptMismatched {
            storage_volume_uris: volumes.to_vec(),
        };
        self.post_empty_reply(
            HmcOp::AcceptMismatchedStorageVolumes,
            &[group.object_id()],
            &body,
        )
        .await
    }

    async fn list_storage_volumes(
        &self,
        group: &StorageGroupUri,
        filter: &StorageVolumeFilter,
    ) -> Result<Vec<StorageVolumeSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            #[serde(rename = "storage-volumes")]
            volumes: Vec<StorageVolumeSummary>,
        }
        let q = storage_volume_query(filter);
        Ok(self
            .get::<L>(HmcOp::ListStorageVolumes, &[group.object_id()], &q)
            .await?
            .volumes)
    }

    async fn get_storage_volume(
        &self,
        volume: &StorageVolumeUri,
    ) -> Result<StorageVolume, HmcError> {
        let group = volume.parent();
        self.get(
            HmcOp::GetStorageVolume,
            &[group.object_id(), volume.element_id()],
            &[],
        )
        .await
    }

    async fn list_vsrs<'a>(
        &self,
        group: &StorageGroupUri,
        partition: Option<&'a PartitionUri>,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            #[serde(rename = "virtual-storage-resources")]
            vsrs: Vec<VsrSummary>,
        }
        let q: Vec<(&str, String)> = partition
            .map(|p| ("partition-uri", p.as_str().to_owned()))
            .into_iter()
            .collect();
        Ok(self
            .get::<L>(HmcOp::ListVsrs, &[group.object_id()], &q)
            .await?
            .vsrs)
    }

    async fn list_vsrs_filtered(
        &self,
        group: &StorageGroupUri,
        filter: &VsrFilter,
    ) -> Result<Vec<VsrSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            #[serde(rename = "virtual-storage-resources")]
            vsrs: Vec<VsrSummary>,
        }
        Ok(self
            .get::<L>(HmcOp::ListVsrs, &[group.object_id()], &filter.query())
            .await?
            .vsrs)
    }

    async fn get_vsr(&self, vsr: &VsrUri) -> Result<Vsr, HmcError> {
        let group = vsr.parent();
        self.get(HmcOp::GetVsr, &[group.object_id(), vsr.element_id()], &[])
            .await
    }

    async fn attach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        let body = StorageGroupRef {
            storage_group_uri: group.clone(),
        };
        self.post_empty_reply(HmcOp::AttachStorageGroup, &[partition.object_id()], &body)
            .await
    }

    async fn detach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        let body = StorageGroupRef {
            storage_group_uri: group.clone(),
        };
        self.post_empty_reply(HmcOp::DetachStorageGroup, &[partition.object_id()], &body)
            .await
    }

    async fn validate_lun_path(&self, cpc: &CpcUri, path: &LunPath) -> Result<(), HmcError> {
        self.post_empty_reply(HmcOp::ValidateLunPath, &[cpc.object_id()], path)
            .await
    }

    async fn submit_requests(
        &self,
        requests: &[BulkRequest],
    ) -> Result<Vec<BulkResponse>, HmcError> {
        let op = HmcOp::SubmitRequests;
        let path = op.path(&[]);
        let body = serde_json::to_value(BulkSubmit {
            requests: requests.to_vec(),
            threads: None,
        })
        .map_err(|e| HmcError::Decode {
            method: op.method().as_str(),
            uri: path.clone(),
            source: e,
        })?;
        // Only GETs go in bulk here, so the whole is safe to repeat.
        let (_, text) = self
            .send(op, &path, &[], Some(&body), Repeat::Safe, true)
            .await?;
        decode(op.method().as_str(), &path, &text)
    }

    async fn get_job(&self, job: &JobUri) -> Result<Job, HmcError> {
        self.get(HmcOp::GetJob, &[job.object_id()], &[]).await
    }

    async fn job_announced(
        &self,
        job: &JobUri,
        deadline: tokio::time::Instant,
    ) -> crate::api::JobAnnouncement {
        if self.service.is_none() {
            return crate::api::JobAnnouncement::NotWatched;
        }
        self.watch.wait(job, deadline).await
    }

    async fn delete_job(&self, job: &JobUri) -> Result<(), HmcError> {
        self.delete(HmcOp::DeleteJob, &[job.object_id()]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query parameters `query` sends, each of which `op` takes.
    fn assert_taken(op: HmcOp, query: &[(&str, String)]) {
        assert!(!query.is_empty(), "{op:?}: nothing to check");
        for (k, _) in query {
            assert!(op.query().contains(k), "{op:?} takes no {k:?}");
        }
    }

    #[test]
    fn every_filter_sends_only_what_its_operation_takes() {
        assert_taken(
            HmcOp::ListAdapters,
            &adapter_query(&AdapterFilter {
                adapter_type: Some("fcp".into()),
                name: Some("a".into()),
            }),
        );
        assert_taken(
            HmcOp::ListPartitions,
            &partition_query(
                &PartitionFilter {
                    name: Some("p".into()),
                    status: Some("active".into()),
                },
                &[PartitionListProperty::InitialMemory],
            ),
        );
        assert_taken(
            HmcOp::ListStorageGroups,
            &storage_group_query(&StorageGroupFilter {
                cpc: CpcUri::from_object_id("c1").ok(),
                name: Some("g".into()),
            }),
        );
        assert_taken(
            HmcOp::ListStorageVolumes,
            &storage_volume_query(&StorageVolumeFilter {
                name: Some("v".into()),
                usage: Some("boot".into()),
                fulfillment_state: Some("complete".into()),
                minimum_size: Some(1.0),
                maximum_size: Some(2.0),
            }),
        );
        assert_taken(
            HmcOp::ListVsrs,
            &VsrFilter {
                name: Some("r".into()),
                partition: PartitionUri::from_object_id("p1").ok(),
                device_number: "0100".parse().ok(),
                adapter_port: AdapterUri::from_object_id("a1")
                    .ok()
                    .and_then(|a| StoragePortUri::new(&a, "0").ok()),
            }
            .query(),
        );
        assert_taken(
            HmcOp::ListOsMessages,
            &OsMessageFilter {
                begin: Some(1),
                end: Some(2),
                is_held: Some(false),
                is_priority: Some(true),
                max_messages: 3,
            }
            .query(),
        );
    }

    #[test]
    fn every_method_of_the_table_has_its_http_spelling() {
        for op in HmcOp::ALL {
            assert_eq!(http_method(op.method()).as_str(), op.method().as_str());
        }
    }
}
