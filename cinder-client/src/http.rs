//! `HttpCinder`: Cinder v3 over HTTP(S), with Keystone v3 password auth.
//!
//! - Keystone: a project-scoped token from `POST /v3/auth/tokens`; the
//!   volume endpoint is the catalog's `block-storage`, `volumev3` or
//!   `volume` entry (public interface). The token is renewed before it
//!   expires (its lifetime is read from the token itself, so clock skew does
//!   not matter) and once on a 401.
//! - Without Keystone ([`CinderAuth::NoAuth`]) it talks to a given endpoint.
//! - The server's version range is read first; requests send
//!   `OpenStack-API-Version: volume 3.44` when the server has it, and
//!   [`CinderApi::attachments_api`] tells callers to use the legacy actions
//!   when it does not.
//! - Errors come from Cinder's and Keystone's error bodies. Tokens and the
//!   password never appear in logs or `Debug`.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

use dpm_secret::Secret;

use crate::api::{AttachmentFilter, CinderApi};
use crate::connection::ConnectionInfo;
use crate::error::{CinderError, FaultKind};
use crate::ids::{AttachmentId, InstanceId, VolumeId};
use crate::types::{Attachment, Connector, Volume, VolumeCreate};

/// The microversion this client asks for.
pub const MICROVERSION: (u32, u32) = (3, 44);

/// How to authenticate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CinderAuth {
    /// Keystone v3 password auth, scoped to a project.
    Keystone {
        /// e.g. `http://keystone:5000/v3`.
        auth_url: String,
        /// User name.
        username: String,
        /// Password.
        password: Secret,
        /// Project name.
        project_name: String,
        /// User domain name (`Default`).
        user_domain_name: String,
        /// Project domain name (`Default`).
        project_domain_name: String,
    },
    /// No auth: a Cinder endpoint that includes the project
    /// (`http://cinder:8776/v3/<project id>`).
    NoAuth {
        /// The endpoint.
        endpoint: String,
    },
}

/// How an [`HttpCinder`] connects.
#[derive(Debug, Clone)]
pub struct CinderHttpConfig {
    /// Authentication.
    pub auth: CinderAuth,
    /// Use this volume endpoint instead of the catalog's.
    pub endpoint_override: Option<String>,
    /// Trust only this CA file for https endpoints.
    pub ca_file: Option<PathBuf>,
    /// The catalog entry's region (`OS_REGION_NAME`); any region when
    /// `None`.
    pub region_name: Option<String>,
    /// The catalog entry's interface (`OS_INTERFACE`): `public` unless set.
    pub interface: String,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Sends of one request at most, when [`CinderError::should_resend`]
    /// allows resending it (1 = no retry).
    pub attempts: u32,
    /// Wait before the first resend; doubles each time up to eight times
    /// this, with random jitter.
    pub backoff: Duration,
}

impl CinderHttpConfig {
    /// Defaults: 60 s per request, system roots, 3 attempts, 0.5 s backoff
    /// (the HMC client's defaults).
    pub fn new(auth: CinderAuth) -> Self {
        Self {
            auth,
            endpoint_override: None,
            ca_file: None,
            region_name: None,
            interface: "public".into(),
            request_timeout: Duration::from_secs(60),
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CinderSetupError {
    /// A URL does not parse.
    #[error("{what} {url:?} is not an http(s) URL")]
    BadUrl {
        /// Which URL.
        what: &'static str,
        /// The URL.
        url: String,
    },
    /// The CA file is not usable.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP stack refused the configuration.
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
}

#[derive(Debug, Default)]
struct State {
    token: Option<Secret>,
    renew_at: Option<Instant>,
    endpoint: Option<Url>,
    version: Option<(u32, u32)>,
}

/// Cinder over HTTP.
pub struct HttpCinder {
    http: reqwest::Client,
    cfg: CinderHttpConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for HttpCinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCinder")
            .field("auth", &self.cfg.auth)
            .finish_non_exhaustive()
    }
}

fn parse_url(what: &'static str, s: &str) -> Result<Url, CinderSetupError> {
    Url::parse(s.trim_end_matches('/'))
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| CinderSetupError::BadUrl {
            what,
            url: s.into(),
        })
}

fn transport(op: &str, e: reqwest::Error) -> CinderError {
    CinderError::Transport {
        operation: op.into(),
        maybe_sent: !e.is_connect(),
        source: Box::new(e),
    }
}

/// An error answer, from Cinder's `{"<fault>": {"code", "message"}}` or
/// Keystone's `{"error": {"code", "title", "message"}}`.
fn api_error(op: &str, status: StatusCode, text: &str) -> CinderError {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            let inner = v.as_object()?.values().next()?.clone();
            inner.get("message")?.as_str().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {status} without an error body"));
    CinderError::Api {
        operation: op.into(),
        status: status.as_u16(),
        kind: FaultKind::for_status(status.as_u16()),
        message,
    }
}

fn decode<T: DeserializeOwned>(op: &str, v: Value) -> Result<T, CinderError> {
    serde_json::from_value(v).map_err(|source| CinderError::Decode {
        operation: op.into(),
        source,
    })
}

/// Parses an ISO 8601 UTC time (`2026-11-25T10:00:00.000000Z`) to seconds
/// since 1970, for the difference between `expires_at` and `issued_at`.
fn iso_seconds(s: &str) -> Option<i64> {
    let (date, time) = s.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let ss = t.next()?.split('.').next()?.parse::<i64>().ok()?;
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

impl HttpCinder {
    /// Builds the client; nothing is sent until the first request.
    pub fn new(cfg: CinderHttpConfig) -> Result<Self, CinderSetupError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        match &cfg.auth {
            CinderAuth::Keystone { auth_url, .. } => {
                drop(parse_url("Keystone auth_url", auth_url)?)
            }
            CinderAuth::NoAuth { endpoint } => drop(parse_url("Cinder endpoint", endpoint)?),
        }
        if let Some(e) = &cfg.endpoint_override {
            parse_url("Cinder endpoint", e)?;
        }
        let mut b = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .no_proxy()
            .user_agent(concat!("dpm-cinder-client/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &cfg.ca_file {
            let ca = |reason: String| CinderSetupError::CaFile {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca(e.to_string()))?;
            b = b.tls_certs_only(certs);
        }
        Ok(Self {
            http: b.build().map_err(CinderSetupError::Build)?,
            cfg,
            state: Mutex::new(State::default()),
        })
    }

    /// Gets a token and the endpoint when there is none or it is due for
    /// renewal, or when Keystone refused `refused` and it is still the
    /// current token (requests that were refused together renew once);
    /// then the server's version range. Concurrent callers wait for one
    /// authentication.
    async fn ready(
        &self,
        refused: Option<&Secret>,
    ) -> Result<(Url, Option<Secret>, (u32, u32)), CinderError> {
        let mut st = self.state.lock().await;
        let due = st.renew_at.is_some_and(|t| Instant::now() >= t);
        let force =
            refused.is_some_and(|r| st.token.as_ref().map(Secret::expose) == Some(r.expose()));
        if force || st.endpoint.is_none() || due {
            match &self.cfg.auth {
                CinderAuth::NoAuth { endpoint } => {
                    st.endpoint = Url::parse(endpoint.trim_end_matches('/')).ok();
                }
                CinderAuth::Keystone { .. } => {
                    let (token, endpoint, lifetime) = self.authenticate().await?;
                    st.token = Some(token);
                    st.endpoint = Some(endpoint);
                    // Renew at 90% of the lifetime, or a minute before.
                    let early = (lifetime / 10)
                        .max(Duration::from_secs(1))
                        .min(Duration::from_secs(60));
                    st.renew_at = Some(Instant::now() + lifetime.saturating_sub(early));
                }
            }
            if let Some(o) = &self.cfg.endpoint_override {
                st.endpoint = Url::parse(o.trim_end_matches('/')).ok();
            }
        }
        let endpoint = st.endpoint.clone().ok_or_else(|| {
            CinderError::api("find the volume endpoint", 500, "no usable Cinder endpoint")
        })?;
        if st.version.is_none() {
            st.version = Some(self.discover(&endpoint, st.token.as_ref()).await?);
        }
        Ok((endpoint, st.token.clone(), st.version.unwrap_or((3, 0))))
    }

    async fn authenticate(&self) -> Result<(Secret, Url, Duration), CinderError> {
        let CinderAuth::Keystone {
            auth_url,
            username,
            password,
            project_name,
            user_domain_name,
            project_domain_name,
        } = &self.cfg.auth
        else {
            return Err(CinderError::api(
                "authenticate",
                500,
                "no Keystone configured",
            ));
        };
        let op = "Keystone authentication";
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": username, "domain": {"name": user_domain_name}, "password": password.expose()}}},
            "scope": {"project": {"name": project_name, "domain": {"name": project_domain_name}}}}});
        let url = format!("{}/auth/tokens", auth_url.trim_end_matches('/'));
        let url = Url::parse(&url).map_err(|_| {
            CinderError::api(op, 500, format!("bad Keystone auth_url {auth_url:?}"))
        })?;
        let resp = logged(
            self.http.post(url.clone()).json(&body),
            "keystone",
            &Method::POST,
            &url,
            1,
        )
        .await
        .map_err(|e| transport(op, e))?;
        let status = resp.status();
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new);
        let text = resp.text().await.map_err(|e| transport(op, e))?;
        if !status.is_success() {
            return Err(api_error(op, status, &text));
        }
        let token = token
            .ok_or_else(|| CinderError::api(op, 500, "Keystone returned no X-Subject-Token"))?;
        let v: Value = serde_json::from_str(&text).map_err(|source| CinderError::Decode {
            operation: op.into(),
            source,
        })?;
        let t = &v["token"];
        let lifetime = match (
            t["issued_at"].as_str().and_then(iso_seconds),
            t["expires_at"].as_str().and_then(iso_seconds),
        ) {
            (Some(i), Some(e)) if e > i => Duration::from_secs((e - i) as u64),
            _ => Duration::from_secs(3600),
        };
        let endpoint = t["catalog"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| {
                matches!(
                    s["type"].as_str(),
                    Some("block-storage" | "volumev3" | "volume")
                )
            })
            .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
            .find(|e| {
                e["interface"].as_str() == Some(self.cfg.interface.as_str())
                    && self.cfg.region_name.as_deref().is_none_or(|r| {
                        e["region_id"].as_str() == Some(r) || e["region"].as_str() == Some(r)
                    })
            })
            .and_then(|e| e["url"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                CinderError::api(
                    op,
                    500,
                    format!(
                        "the Keystone catalog has no {} block-storage endpoint{}",
                        self.cfg.interface,
                        self.cfg
                            .region_name
                            .as_deref()
                            .map(|r| format!(" in region {r}"))
                            .unwrap_or_default()
                    ),
                )
            })?;
        let endpoint = Url::parse(endpoint.trim_end_matches('/')).map_err(|_| {
            CinderError::api(op, 500, format!("bad block-storage endpoint {endpoint:?}"))
        })?;
        tracing::debug!(endpoint = %endpoint, lifetime_s = lifetime.as_secs(), "authenticated with Keystone");
        Ok((token, endpoint, lifetime))
    }

    /// Reads the server's highest microversion from the version document,
    /// found as python-cinderclient finds it: the endpoint with everything
    /// from its version segment (`/v3`) on cut off, so that a Cinder served
    /// under a path (`http://host/volume/v3/<project>`) is asked at
    /// `http://host/volume/`, not at the host root.
    async fn discover(
        &self,
        endpoint: &Url,
        token: Option<&Secret>,
    ) -> Result<(u32, u32), CinderError> {
        let op = "Cinder version discovery";
        let root = version_root(endpoint);
        let mut rb = self.http.get(root.clone());
        if let Some(t) = token {
            rb = rb.header("x-auth-token", t.expose());
        }
        let resp = logged(rb, "cinder", &Method::GET, &root, 1)
            .await
            .map_err(|e| transport(op, e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| transport(op, e))?;
        if !(status.is_success() || status == StatusCode::MULTIPLE_CHOICES) {
            return Err(api_error(op, status, &text));
        }
        let v: Value = serde_json::from_str(&text).map_err(|source| CinderError::Decode {
            operation: op.into(),
            source,
        })?;
        let best = v["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["version"].as_str())
            .filter_map(|s| {
                s.split_once('.')
                    .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            })
            .max()
            .unwrap_or((3, 0));
        Ok(best)
    }

    /// One request, with the HMC client's retry rule
    /// ([`CinderError::should_resend`]: GETs on transient failures, other
    /// requests only when they certainly did nothing), exponential backoff
    /// with jitter.
    async fn call(
        &self,
        op: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, CinderError> {
        let idempotent = method == Method::GET;
        let policy = ExponentialBuilder::new()
            .with_min_delay(self.cfg.backoff)
            .with_max_delay(self.cfg.backoff.saturating_mul(8))
            .with_max_times(self.cfg.attempts.saturating_sub(1) as usize)
            .with_jitter();
        let attempt = std::sync::atomic::AtomicU32::new(0);
        (|| {
            let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.call_once(op, method.clone(), path, query, body.as_ref(), n)
        })
        .retry(policy)
        .sleep(tokio::time::sleep)
        .when(|e: &CinderError| e.should_resend(idempotent))
        .notify(|e: &CinderError, wait: Duration| {
            tracing::debug!(operation = op, error = %e, ?wait, "retrying");
        })
        .await
    }

    /// One request; renews the token and resends once on a 401.
    async fn call_once(
        &self,
        op: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        attempt: u32,
    ) -> Result<Value, CinderError> {
        let mut renewed = false;
        loop {
            let (endpoint, token, version) = self.ready(None).await?;
            let mut url = endpoint.clone();
            url.set_path(&format!(
                "{}/{}",
                endpoint.path().trim_end_matches('/'),
                path.trim_start_matches('/')
            ));
            if !query.is_empty() {
                let mut q = url.query_pairs_mut();
                for (k, v) in query {
                    q.append_pair(k, v);
                }
            }
            let mv = version.min(MICROVERSION);
            let mut rb = self
                .http
                .request(method.clone(), url.clone())
                .header("accept", "application/json")
                .header("openstack-api-version", format!("volume {}.{}", mv.0, mv.1));
            if let Some(t) = &token {
                rb = rb.header("x-auth-token", t.expose());
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let resp = logged(rb, "cinder", &method, &url, attempt)
                .await
                .map_err(|e| transport(op, e))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| transport(op, e))?;
            if status == StatusCode::UNAUTHORIZED && !renewed && token.is_some() {
                renewed = true;
                self.ready(token.as_ref()).await?;
                continue;
            }
            if !status.is_success() {
                return Err(api_error(op, status, &text));
            }
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|source| CinderError::Decode {
                operation: op.into(),
                source,
            });
        }
    }

    async fn action(&self, op: &str, volume: &VolumeId, body: Value) -> Result<Value, CinderError> {
        self.call(
            op,
            Method::POST,
            &format!("volumes/{volume}/action"),
            &[],
            Some(body),
        )
        .await
    }
}

/// Sends one request in a `cinder_request` span and logs it at debug: the
/// service, method, path, attempt, status and latency; never a header or a
/// body (they hold the token and the password).
async fn logged(
    rb: reqwest::RequestBuilder,
    api: &'static str,
    method: &Method,
    url: &Url,
    attempt: u32,
) -> Result<reqwest::Response, reqwest::Error> {
    let span = tracing::debug_span!(
        "cinder_request",
        api,
        method = method.as_str(),
        path = url.path(),
        attempt
    );
    let started = std::time::Instant::now();
    let r = rb.send().instrument(span.clone()).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.in_scope(|| match &r {
        Ok(resp) => tracing::debug!(status = resp.status().as_u16(), latency_ms, "request"),
        Err(e) => tracing::debug!(error = %e, latency_ms, "request failed"),
    });
    r
}

#[async_trait]
impl CinderApi for HttpCinder {
    async fn attachments_api(&self) -> Result<bool, CinderError> {
        let (_, _, v) = self.ready(None).await?;
        Ok(v >= MICROVERSION)
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume, CinderError> {
        let v = self
            .call(
                "get volume",
                Method::GET,
                &format!("volumes/{id}"),
                &[],
                None,
            )
            .await?;
        decode("get volume", v["volume"].clone())
    }

    async fn list_volumes(&self) -> Result<Vec<Volume>, CinderError> {
        let v = self
            .call("list volumes", Method::GET, "volumes/detail", &[], None)
            .await?;
        decode("list volumes", v["volumes"].clone())
    }

    async fn create_volume(&self, req: &VolumeCreate) -> Result<Volume, CinderError> {
        let v = self
            .call(
                "create volume",
                Method::POST,
                "volumes",
                &[],
                Some(json!({ "volume": req })),
            )
            .await?;
        decode("create volume", v["volume"].clone())
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<(), CinderError> {
        self.call(
            "delete volume",
            Method::DELETE,
            &format!("volumes/{id}"),
            &[],
            None,
        )
        .await
        .map(drop)
    }

    async fn create_attachment<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        connector: Option<&'a Connector>,
    ) -> Result<Attachment, CinderError> {
        let body = json!({"attachment": {"volume_uuid": volume, "instance_uuid": instance, "connector": connector}});
        let v = self
            .call(
                "create attachment",
                Method::POST,
                "attachments",
                &[],
                Some(body),
            )
            .await?;
        decode("create attachment", v["attachment"].clone())
    }

    async fn update_attachment(
        &self,
        id: &AttachmentId,
        connector: &Connector,
    ) -> Result<Attachment, CinderError> {
        let body = json!({"attachment": {"connector": connector}});
        let v = self
            .call(
                "update attachment",
                Method::PUT,
                &format!("attachments/{id}"),
                &[],
                Some(body),
            )
            .await?;
        decode("update attachment", v["attachment"].clone())
    }

    async fn complete_attachment(&self, id: &AttachmentId) -> Result<(), CinderError> {
        self.call(
            "complete attachment",
            Method::POST,
            &format!("attachments/{id}/action"),
            &[],
            Some(json!({"os-complete": null})),
        )
        .await
        .map(drop)
    }

    async fn delete_attachment(&self, id: &AttachmentId) -> Result<Vec<Attachment>, CinderError> {
        let v = self
            .call(
                "delete attachment",
                Method::DELETE,
                &format!("attachments/{id}"),
                &[],
                None,
            )
            .await?;
        decode(
            "delete attachment",
            v.get("attachments").cloned().unwrap_or(json!([])),
        )
    }

    async fn get_attachment(&self, id: &AttachmentId) -> Result<Attachment, CinderError> {
        let v = self
            .call(
                "get attachment",
                Method::GET,
                &format!("attachments/{id}"),
                &[],
                None,
            )
            .await?;
        decode("get attachment", v["attachment"].clone())
    }

    async fn list_attachments(
        &self,
        filter: &AttachmentFilter,
    ) -> Result<Vec<Attachment>, CinderError> {
        let mut q = Vec::new();
        if let Some(v) = &filter.volume_id {
            q.push(("volume_id", v.to_string()));
        }
        if let Some(i) = &filter.instance_id {
            q.push(("instance_id", i.to_string()));
        }
        let v = self
            .call(
                "list attachments",
                Method::GET,
                "attachments/detail",
                &q,
                None,
            )
            .await?;
        decode("list attachments", v["attachments"].clone())
    }

    async fn reserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.action("os-reserve", volume, json!({"os-reserve": null}))
            .await
            .map(drop)
    }

    async fn unreserve(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.action("os-unreserve", volume, json!({"os-unreserve": null}))
            .await
            .map(drop)
    }

    async fn initialize_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<ConnectionInfo, CinderError> {
        let v = self
            .action(
                "os-initialize_connection",
                volume,
                json!({"os-initialize_connection": {"connector": connector}}),
            )
            .await?;
        decode("os-initialize_connection", v["connection_info"].clone())
    }

    async fn attach<'a>(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        mountpoint: &str,
        host_name: Option<&'a str>,
    ) -> Result<(), CinderError> {
        let body = json!({"os-attach": {"instance_uuid": instance, "mountpoint": mountpoint, "mode": "rw", "host_name": host_name}});
        self.action("os-attach", volume, body).await.map(drop)
    }

    async fn begin_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.action(
            "os-begin_detaching",
            volume,
            json!({"os-begin_detaching": null}),
        )
        .await
        .map(drop)
    }

    async fn roll_detaching(&self, volume: &VolumeId) -> Result<(), CinderError> {
        self.action(
            "os-roll_detaching",
            volume,
            json!({"os-roll_detaching": null}),
        )
        .await
        .map(drop)
    }

    async fn terminate_connection(
        &self,
        volume: &VolumeId,
        connector: &Connector,
    ) -> Result<(), CinderError> {
        self.action(
            "os-terminate_connection",
            volume,
            json!({"os-terminate_connection": {"connector": connector}}),
        )
        .await
        .map(drop)
    }

    async fn detach(
        &self,
        volume: &VolumeId,
        attachment: &AttachmentId,
    ) -> Result<(), CinderError> {
        self.action(
            "os-detach",
            volume,
            json!({"os-detach": {"attachment_id": attachment}}),
        )
        .await
        .map(drop)
    }
}

/// The URL of the version document for a volume endpoint: the endpoint's
/// path up to (not including) its first version segment (`v3`, `v2.1`),
/// with a trailing `/`. An endpoint with no version segment is its own
/// root.
fn version_root(endpoint: &Url) -> Url {
    let is_version = |seg: &str| {
        seg.strip_prefix('v').is_some_and(|rest| {
            let mut parts = rest.splitn(2, '.');
            let major = parts.next().unwrap_or_default();
            !major.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && parts.next().is_none_or(|minor| {
                    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
                })
        })
    };
    let segments: Vec<&str> = endpoint
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let keep = segments
        .iter()
        .position(|s| is_version(s))
        .unwrap_or(segments.len());
    let mut path = String::from("/");
    for s in &segments[..keep] {
        path.push_str(s);
        path.push('/');
    }
    let mut root = endpoint.clone();
    root.set_path(&path);
    root.set_query(None);
    root
}

#[cfg(test)]
mod tests {
    use super::{iso_seconds, version_root, Url};

    #[test]
    fn the_version_document_is_under_the_path_prefix() {
        for (endpoint, root) in [
            ("http://h:8776/v3/p1", "http://h:8776/"),
            ("http://h/volume/v3/p1", "http://h/volume/"),
            ("https://h/block-storage/v3", "https://h/block-storage/"),
            ("http://h/a/b/v2.1/p", "http://h/a/b/"),
            ("http://h/volume/", "http://h/volume/"),
            ("http://h/vol3/v3/p", "http://h/vol3/"),
            ("http://h/v/v3/p", "http://h/v/"),
        ] {
            let url = Url::parse(endpoint).unwrap();
            assert_eq!(version_root(&url).as_str(), root, "{endpoint}");
        }
    }

    #[test]
    fn keystone_auth_never_shows_its_password() {
        let auth = super::CinderAuth::Keystone {
            auth_url: "http://keystone:5000/v3".into(),
            username: "nova".into(),
            password: super::Secret::new("pw-5be2"),
            project_name: "demo".into(),
            user_domain_name: "Default".into(),
            project_domain_name: "Default".into(),
        };
        let shown = format!("{auth:?} {auth:#?}");
        assert!(!shown.contains("pw-5be2"), "{shown}");
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            iso_seconds("2026-01-01T01:00:00.000000Z"),
            Some(1_767_229_200)
        );
        let a = iso_seconds("2026-11-25T09:00:00.000000Z").unwrap();
        let b = iso_seconds("2026-11-25T10:00:00.123456Z").unwrap();
        assert_eq!(b - a, 3600);
        assert_eq!(iso_seconds("yesterday"), None);
    }
}
