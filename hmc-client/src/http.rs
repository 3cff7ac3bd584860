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
//! - The password and the session id never appear in logs or `Debug`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode, Url};
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
    OsMessageSubscription, OsMessages, CONSOLE_URI,
};
use crate::error::{HmcError, Sent};
use crate::ids::{
    AdapterUri, CpcUri, HbaUri, JobUri, PartitionUri, StorageGroupUri, StoragePortUri,
    StorageVolumeUri, VsrUri,
};
use crate::notifications::{JobWatch, Service, SessionLogin};
use crate::storage_group::*;
use crate::tls::TlsSetupError;
pub use crate::tls::TlsVerify;
use crate::wire::*;
use crate::Credentials;
use dpm_secret::Secret;

/// The bulk-read operation.
const BULK: &str = "/api/services/aggregation/submit";

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
    async fn begin_job(&self, path: &str, body: &impl Serialize) -> Result<JobUri, HmcError> {
        let generation = match &self.service {
            Some(service) => self.watch.before_job(service).await,
            None => None,
        };
        let r: JobStarted = self.post(path, body).await?;
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

    /// Sends one request with retries; returns the status and body text.
    /// The retry rule is [`HmcError::should_resend`]: transient failures
    /// of GETs, and of other requests only when they certainly did
    /// nothing; exponential backoff with jitter from `cfg.backoff`, at most
    /// `cfg.attempts` sends.
    async fn send(
        &self,
        method: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        repeat: Repeat,
        with_session: bool,
    ) -> Result<(StatusCode, String), HmcError> {
        let policy = ExponentialBuilder::new()
            .with_min_delay(self.cfg.backoff)
            .with_max_delay(self.cfg.backoff.saturating_mul(8))
            .with_max_times(self.cfg.attempts.saturating_sub(1) as usize)
            .with_jitter();
        let attempt = std::sync::atomic::AtomicU32::new(0);
        (|| {
            let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.send_once(method, path, query, body, with_session, n)
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
        method: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        with_session: bool,
        attempt: u32,
    ) -> Result<(StatusCode, String), HmcError> {
        let mut relogged = false;
        loop {
            let used = if with_session {
                Some(self.ensure_session().await?)
            } else {
                None
            };
            let m = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
            let mut rb = self
                .http
                .request(m, self.url(path, query))
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

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, HmcError> {
        let (_, text) = self
            .send("GET", path, query, None, Repeat::Safe, true)
            .await?;
        decode("GET", path, &text)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HmcError> {
        let body = serde_json::to_value(body).map_err(|e| HmcError::Decode {
            method: "POST",
            uri: path.into(),
            source: e,
        })?;
        let (_, text) = self
            .send("POST", path, &[], Some(&body), Repeat::Once, true)
            .await?;
        decode("POST", path, &text)
    }

    async fn post_empty_reply<B: Serialize>(&self, path: &str, body: &B) -> Result<(), HmcError> {
        let body = serde_json::to_value(body).map_err(|e| HmcError::Decode {
            method: "POST",
            uri: path.into(),
            source: e,
        })?;
        self.send("POST", path, &[], Some(&body), Repeat::Once, true)
            .await
            .map(drop)
    }

    async fn delete(&self, path: &str) -> Result<(), HmcError> {
        self.send("DELETE", path, &[], None, Repeat::Once, true)
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

#[async_trait]
impl HmcApi for HttpHmc {
    async fn logon(&self) -> Result<LogonResponse, HmcError> {
        let body = serde_json::json!({
            "userid": self.cfg.credentials.userid,
            "password": self.cfg.credentials.password.expose(),
        });
        let (_, text) = self
            .send(
                "POST",
                "/api/sessions",
                &[],
                Some(&body),
                Repeat::Safe,
                false,
            )
            .await?;
        let r: LogonResponse = decode("POST", "/api/sessions", &text)?;
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
                .delete(self.url("/api/sessions/this-session", &[]))
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
        let r = self
            .send(
                "DELETE",
                "/api/sessions/this-session",
                &[],
                None,
                Repeat::Once,
                true,
            )
            .await;
        self.set_session(None);
        *self.login.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.watch.stop();
        r.map(drop)
    }

    async fn api_version(&self) -> Result<ApiVersion, HmcError> {
        let (_, text) = self
            .send("GET", "/api/version", &[], None, Repeat::Safe, false)
            .await?;
        decode("GET", "/api/version", &text)
    }

    async fn get_console(&self) -> Result<Console, HmcError> {
        self.get(CONSOLE_URI, &[]).await
    }

    async fn list_cpcs<'a>(&self, name: Option<&'a str>) -> Result<Vec<CpcSummary>, HmcError> {
        #[derive(serde::Deserialize)]
        struct L {
            cpcs: Vec<CpcSummary>,
        }
        let q: Vec<(&str, String)> = name.map(|n| ("name", n.to_owned())).into_iter().collect();
        Ok(self.get::<L>("/api/cpcs", &q).await?.cpcs)
    }

    async fn get_cpc(&self, cpc: &CpcUri) -> Result<Cpc, HmcError> {
        self.get(cpc.as_str(), &[]).await
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
        let mut q = Vec::new();
        if let Some(t) = &filter.adapter_type {
            q.push(("type", t.as_str().to_owned()));
        }
        if let Some(n) = &filter.name {
            q.push(("name", n.clone()));
        }
        Ok(self
            .get::<L>(&format!("{cpc}/adapters"), &q)
            .await?
            .adapters)
    }

    async fn get_adapter(&self, adapter: &AdapterUri) -> Result<Adapter, HmcError> {
        self.get(adapter.as_str(), &[]).await
    }

    async fn get_storage_port(&self, port: &StoragePortUri) -> Result<StoragePort, HmcError> {
        self.get(port.as_str(), &[]).await
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
        Ok(self
            .get::<L>(&format!("{cpc}/partitions"), &q)
            .await?
            .partitions)
    }

    async fn create_partition(
        &self,
        cpc: &CpcUri,
        props: &PartitionCreate,
    ) -> Result<PartitionUri, HmcError> {
        let r: CreatedObject<PartitionUri> = self.post(&format!("{cpc}/partitions"), props).await?;
        Ok(r.object_uri)
    }

    async fn get_partition(&self, partition: &PartitionUri) -> Result<Partition, HmcError> {
        self.get(partition.as_str(), &[]).await
    }

    async fn update_partition(
        &self,
        partition: &PartitionUri,
        props: &PartitionUpdate,
    ) -> Result<(), HmcError> {
        self.post_empty_reply(partition.as_str(), props).await
    }

    async fn delete_partition(&self, partition: &PartitionUri) -> Result<(), HmcError> {
        self.delete(partition.as_str()).await
    }

    async fn start_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.begin_job(
            &format!("{partition}/operations/start"),
            &serde_json::json!({}),
        )
        .await
    }

    async fn stop_partition(&self, partition: &PartitionUri) -> Result<JobUri, HmcError> {
        self.begin_job(
            &format!("{partition}/operations/stop"),
            &serde_json::json!({}),
        )
        .await
    }

    async fn list_os_messages(
        &self,
        partition: &PartitionUri,
        filter: &OsMessageFilter,
    ) -> Result<OsMessages, HmcError> {
        let path = format!("{partition}/operations/list-os-messages");
        self.get(&path, &filter.query()).await
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
        self.post_empty_reply(&format!("{partition}/operations/send-os-cmd"), &body)
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
            .post(
                &format!("{partition}/operations/open-os-message-channel"),
                &body,
            )
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
        let r: CreatedElement<HbaUri> = self.post(&format!("{partition}/hbas"), props).await?;
        Ok(r.element_uri)
    }

    async fn get_hba(&self, hba: &HbaUri) -> Result<Hba, HmcError> {
        self.get(hba.as_str(), &[]).await
    }

    async fn delete_hba(&self, hba: &HbaUri) -> Result<(), HmcError> {
        self.delete(hba.as_str()).await
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
        let mut q = Vec::new();
        if let Some(c) = &filter.cpc {
            q.push(("cpc-uri", c.as_str().to_owned()));
        }
        if let Some(n) = &filter.name {
            q.push(("name", n.clone()));
        }
        Ok(self.get::<L>("/api/storage-groups", &q).await?.groups)
    }

    async fn create_storage_group(
        &self,
        props: &StorageGroupCreate,
    ) -> Result<StorageGroupCreated, HmcError> {
        self.post("/api/storage-groups", props).await
    }

    async fn get_storage_group(&self, group: &StorageGroupUri) -> Result<StorageGroup, HmcError> {
        self.get(group.as_str(), &[]).await
    }

    async fn modify_storage_group(
        &self,
        group: &StorageGroupUri,
        props: &StorageGroupModify,
    ) -> Result<Vec<StorageVolumeUri>, HmcError> {
        let r: Option<StorageGroupModified> = self
            .post(&format!("{group}/operations/modify"), props)
            .await?;
        Ok(r.map(|m| m.element_uris).unwrap_or_default())
    }

    async fn delete_storage_group(&self, group: &StorageGroupUri) -> Result<(), HmcError> {
        self.post_empty_reply(
            &format!("{group}/operations/delete"),
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
        self.post_empty_reply(
            &format!("{group}/operations/add-candidate-adapter-ports"),
            &body,
        )
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
            &format!("{group}/operations/remove-candidate-adapter-ports"),
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
            .get::<L>(&format!("{group}/operations/get-partitions"), &[])
            .await?
            .partitions)
    }

    async fn start_fcp_storage_discovery(
        &self,
        group: &StorageGroupUri,
        force_restart: bool,
    ) -> Result<JobUri, HmcError> {
        self.begin_job(
            &format!("{group}/operations/start-fcp-storage-discovery"),
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
            &format!("{group}/operations/accept-mismatched-storage-volumes"),
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
        Ok(self
            .get::<L>(&format!("{group}/storage-volumes"), &q)
            .await?
            .volumes)
    }

    async fn get_storage_volume(
        &self,
        volume: &StorageVolumeUri,
    ) -> Result<StorageVolume, HmcError> {
        self.get(volume.as_str(), &[]).await
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
            .get::<L>(&format!("{group}/virtual-storage-resources"), &q)
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
        let path = format!("{group}/virtual-storage-resources");
        Ok(self.get::<L>(&path, &filter.query()).await?.vsrs)
    }

    async fn get_vsr(&self, vsr: &VsrUri) -> Result<Vsr, HmcError> {
        self.get(vsr.as_str(), &[]).await
    }

    async fn attach_storage_group(
        &self,
        partition: &PartitionUri,
        group: &StorageGroupUri,
    ) -> Result<(), HmcError> {
        let body = StorageGroupRef {
            storage_group_uri: group.clone(),
        };
        self.post_empty_reply(
            &format!("{partition}/operations/attach-storage-group"),
            &body,
        )
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
        self.post_empty_reply(
            &format!("{partition}/operations/detach-storage-group"),
            &body,
        )
        .await
    }

    async fn validate_lun_path(&self, cpc: &CpcUri, path: &LunPath) -> Result<(), HmcError> {
        self.post_empty_reply(&format!("{cpc}/operations/validate-lun-path"), path)
            .await
    }

    async fn submit_requests(
        &self,
        requests: &[BulkRequest],
    ) -> Result<Vec<BulkResponse>, HmcError> {
        let body = serde_json::to_value(BulkSubmit {
            requests: requests.to_vec(),
            threads: None,
        })
        .map_err(|e| HmcError::Decode {
            method: "POST",
            uri: BULK.into(),
            source: e,
        })?;
        // Only GETs go in bulk here, so the whole is safe to repeat.
        let (_, text) = self
            .send("POST", BULK, &[], Some(&body), Repeat::Safe, true)
            .await?;
        decode("POST", BULK, &text)
    }

    async fn get_job(&self, job: &JobUri) -> Result<Job, HmcError> {
        self.get(job.as_str(), &[]).await
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
        self.delete(job.as_str()).await
    }
}
