//! `dpm-sim serve`: the in-memory world behind three listeners on
//! 127.0.0.1: the HMC Web Services API over HTTPS (with a CA generated for
//! the run), Keystone v3, and Cinder v3. Requests go through the same world
//! operations, counters and faults as the in-memory clients.

mod control;
mod endpoints;
mod hmc;
mod http;
mod openstack;
mod stomp;
mod tls;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ops::Side;
use crate::Sim;

use endpoints::write;
pub use endpoints::{
    dpm_toml, AdapterInfo, CinderEndpoint, ControlEndpoint, CpcInfo, Endpoints, HmcEndpoint,
    ImageInfo, KeystoneEndpoint,
};

/// Where to listen and where to write the CA and `endpoints.json`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// HMC port (HTTPS); 0 picks a free one.
    pub hmc_port: u16,
    /// Keystone port; 0 picks a free one.
    pub keystone_port: u16,
    /// Cinder port; 0 picks a free one.
    pub cinder_port: u16,
    /// The HMC's notification service (STOMP over TLS); 0 picks a free
    /// one.
    pub notification_port: u16,
    /// The simulator's control routes (`/sim/...`, plain HTTP on
    /// 127.0.0.1): off with `None`; 0 picks a free port.
    pub control_port: Option<u16>,
    /// Directory for `ca.pem` and `endpoints.json`.
    pub state_dir: PathBuf,
    /// Serve Cinder under this path (e.g. `/volume`, as devstack and
    /// mod_wsgi do: the endpoint is `http://host/volume/v3/<project>` and
    /// the host root is not Cinder's); empty serves it at the root.
    pub cinder_path: String,
}

impl ServeConfig {
    /// The real services' ports (6794, 5000, 8776).
    pub fn standard_ports(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            hmc_port: 6794,
            keystone_port: 5000,
            cinder_port: 8776,
            notification_port: hmc_client::NOTIFICATION_PORT,
            control_port: None,
            state_dir: state_dir.into(),
            cinder_path: String::new(),
        }
    }

    /// Free ports picked by the system.
    pub fn any_ports(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            hmc_port: 0,
            keystone_port: 0,
            cinder_port: 0,
            notification_port: 0,
            control_port: None,
            state_dir: state_dir.into(),
            cinder_path: String::new(),
        }
    }
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The Cinder path prefix is not an absolute path.
    #[error("the Cinder path {path:?} must start with /")]
    CinderPath {
        /// The path given.
        path: String,
    },
    /// A port could not be bound.
    #[error("could not listen on 127.0.0.1:{port}")]
    Bind {
        /// The port.
        port: u16,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificates could not be made.
    #[error("could not make the simulator's TLS certificates: {0}")]
    Certificate(String),
    /// The state directory could not be written.
    #[error("could not write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A running server. Dropping it does not stop it; call
/// [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    endpoints: Endpoints,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Where the services listen.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Stops accepting, and waits for the listeners to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn bind(port: u16) -> Result<TcpListener, ServeError> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|source| ServeError::Bind { port, source })
}

fn local_port(l: &TcpListener, asked: u16) -> u16 {
    l.local_addr().map(|a| a.port()).unwrap_or(asked)
}

#[derive(Clone, Copy)]
enum Api {
    Hmc,
    Keystone,
    Cinder,
    Control,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Hmc => "hmc",
            Api::Keystone => "keystone",
            Api::Cinder => "cinder",
            Api::Control => "control",
        }
    }
}

async fn handle(
    api: Api,
    sim: Sim,
    ks: Arc<openstack::Keystone>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, ServedError> {
    let started = std::time::Instant::now();
    let req = match http::Req::read(req).await {
        Ok(r) => r,
        Err(http::ReadError::TooLarge) => {
            let resp = http::Resp::json(
                413,
                serde_json::json!({"http-status": 413, "reason": 0,
                    "message": format!("The request body is larger than {} bytes.", http::MAX_BODY)}),
            );
            return Ok(resp.into_hyper());
        }
        Err(e) => return Err(ServedError::Read(e)),
    };
    let shared = sim.shared();
    // The configured latency (the same wait as in memory).
    match api {
        Api::Hmc => crate::pipeline::latency(shared, Side::Hmc).await,
        Api::Keystone | Api::Cinder => crate::pipeline::latency(shared, Side::Cinder).await,
        Api::Control => {}
    }
    let resp = match api {
        Api::Hmc => hmc::route(shared, &req),
        Api::Keystone => openstack::keystone(&ks, shared, &req),
        Api::Cinder => openstack::cinder(&ks, shared, &req),
        Api::Control => control::route(&sim, &req),
    };
    if resp.reset {
        // An injected lost reply: the request took effect, and the
        // connection goes down without an answer.
        tracing::info!(api = api.name(), method = %req.method, path = %req.path, "reply lost (injected fault)");
        return Err(ServedError::LostReply);
    }
    // The request log: one line per request; never a header or a body
    // (they hold session ids, tokens and passwords).
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(api = api.name(), method = %req.method, path = %req.path, status = resp.status, latency_ms, "request");
    Ok(resp.into_hyper())
}

/// Why a connection ended without an answer.
#[derive(Debug, thiserror::Error)]
enum ServedError {
    #[error("could not read the request")]
    Read(#[source] http::ReadError),
    #[error("reply lost on purpose (injected fault)")]
    LostReply,
}

fn spawn_listener(
    api: Api,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    sim: Sim,
    ks: Arc<openstack::Keystone>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    // At most this many connections at once; more wait in the backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, _) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors, say: back off instead of
                        // spinning on accept.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            let (sim, ks, tls) = (sim.clone(), ks.clone(), tls.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let svc = service_fn(move |req| handle(api, sim.clone(), ks.clone(), req));
                let mut http = hyper::server::conn::http1::Builder::new();
                // Slow or idle clients are dropped; headers are bounded.
                http.timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .max_buf_size(MAX_HEADERS);
                let result = match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(s)) => http.serve_connection(TokioIo::new(s), svc).await,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!("TLS handshake timed out");
                                return;
                            }
                        }
                    }
                    None => http.serve_connection(TokioIo::new(stream), svc).await,
                };
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
    })
}

/// Connections served at once, per listener.
const MAX_CONNECTIONS: usize = 512;
/// How long a client may take to send a request's headers (and how long an
/// idle keep-alive connection stays open).
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a client may take for the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The most a request's head may take, bytes.
const MAX_HEADERS: usize = 64 * 1024;
/// The pause after a failed accept.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

impl Sim {
    /// Serves this world over HTTP(S) until [`Server::shutdown`]. Writes
    /// `ca.pem`, `endpoints.json` and `dpm.toml` (the `dpm` CLI's
    /// configuration for this world, [`dpm_toml`]) to the state directory.
    pub async fn serve(&self, cfg: &ServeConfig) -> Result<Server, ServeError> {
        std::fs::create_dir_all(&cfg.state_dir).map_err(|source| ServeError::Write {
            path: cfg.state_dir.clone(),
            source,
        })?;
        let tls = tls::make()?;
        let ca_path = cfg.state_dir.join("ca.pem");
        write(&ca_path, &tls.ca_pem)?;

        let hmc_l = bind(cfg.hmc_port).await?;
        let ks_l = bind(cfg.keystone_port).await?;
        let cinder_l = bind(cfg.cinder_port).await?;
        let stomp_l = bind(cfg.notification_port).await?;
        let stomp_port = local_port(&stomp_l, cfg.notification_port);
        let control_l = match cfg.control_port {
            Some(port) => Some(bind(port).await?),
            None => None,
        };
        let (hmc_port, ks_port, cinder_port) = (
            local_port(&hmc_l, cfg.hmc_port),
            local_port(&ks_l, cfg.keystone_port),
            local_port(&cinder_l, cfg.cinder_port),
        );

        let spec = self.spec();
        let auth_url = format!("http://127.0.0.1:{ks_port}/v3");
        let cinder_path = cfg.cinder_path.trim_end_matches('/');
        if !cinder_path.is_empty() && !cinder_path.starts_with('/') {
            return Err(ServeError::CinderPath {
                path: cfg.cinder_path.clone(),
            });
        }
        let cinder_root = format!("http://127.0.0.1:{cinder_port}{cinder_path}");
        let ks = Arc::new(openstack::Keystone::new(
            spec,
            auth_url.clone(),
            cinder_root.clone(),
        ));
        let project = spec
            .projects
            .first()
            .cloned()
            .unwrap_or(crate::ProjectSpec {
                name: "demo".into(),
            });
        let endpoints = Endpoints {
            hmc: HmcEndpoint {
                url: format!("https://127.0.0.1:{hmc_port}"),
                userid: spec.hmc.userid.clone(),
                password: spec.hmc.password.clone(),
                ca_cert: std::path::absolute(&ca_path).unwrap_or(ca_path),
                notification_port: stomp_port,
            },
            keystone: KeystoneEndpoint {
                auth_url,
                username: spec.keystone.username.clone(),
                password: spec.keystone.password.clone(),
                project_name: project.name.clone(),
                user_domain_name: "Default".into(),
                project_domain_name: "Default".into(),
            },
            cinder: CinderEndpoint {
                endpoint: format!("{cinder_root}/v3/{}", project.id()),
            },
            cpc: CpcInfo {
                name: spec.cpc.name.clone(),
                object_id: self.cpc_uri().object_id().to_owned(),
            },
            fcp_adapters: self
                .fcp_adapters()
                .into_iter()
                .map(|a| AdapterInfo {
                    object_id: a.uri.object_id().to_owned(),
                    ports: a.ports,
                })
                .collect(),
            images: self
                .images()
                .into_iter()
                .map(|(id, name)| ImageInfo {
                    id: id.to_string(),
                    name,
                })
                .collect(),
            control: control_l.as_ref().map(|l| ControlEndpoint {
                url: format!("http://127.0.0.1:{}", local_port(l, 0)),
            }),
        };
        let json = serde_json::to_string(&endpoints).unwrap_or_default();
        write(&cfg.state_dir.join("endpoints.json"), &json)?;
        write(&cfg.state_dir.join("dpm.toml"), &dpm_toml(&endpoints, spec))?;

        // What Keystone and Cinder show from now on is wall-clock time (a
        // token's expiry is compared with the client's own clock); expiry
        // itself is still decided on the simulated clock.
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        crate::pipeline::lock(&self.shared().world)
            .clock
            .anchor_calendar(wall);

        let (stop, stop_rx) = watch::channel(false);
        let notification_acceptor = tokio_rustls::TlsAcceptor::from(stomp::tls_config(&tls.config));
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
        // Jobs end at their due time, and are announced then.
        drop(self.notices());
        let mut tasks = vec![
            stomp::spawn(
                stomp_l,
                notification_acceptor,
                self.clone(),
                stop_rx.clone(),
            ),
            spawn_listener(
                Api::Hmc,
                hmc_l,
                Some(acceptor),
                self.clone(),
                ks.clone(),
                stop_rx.clone(),
            ),
            spawn_listener(
                Api::Keystone,
                ks_l,
                None,
                self.clone(),
                ks.clone(),
                stop_rx.clone(),
            ),
            spawn_listener(
                Api::Cinder,
                cinder_l,
                None,
                self.clone(),
                ks.clone(),
                stop_rx.clone(),
            ),
        ];
        if let Some(l) = control_l {
            tasks.push(spawn_listener(
                Api::Control,
                l,
                None,
                self.clone(),
                ks,
                stop_rx,
            ));
        }
        Ok(Server {
            endpoints,
            stop,
            tasks,
        })
    }
}
