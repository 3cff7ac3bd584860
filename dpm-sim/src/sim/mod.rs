//! The simulator handle: API clients on one side, and on the other the
//! control interface that tests use (clock, counters, faults, inspection).
//! None of the controls are on the API traits. The handle, its clients and
//! clock here; the harness's controls and the world's conditions in
//! `controls.rs`; what tests read of the world in `views.rs`.

mod controls;
mod views;

pub use views::{
    AttachmentView, FcpAdapterInfo, GuestPath, HbaView, PartitionView, VolumeView, WorldSnapshot,
};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_client::ImageId;
use hmc_client::{AdapterUri, CpcUri, Credentials, Secret};

use crate::client::{SimCinder, SimHmc};
use crate::clock::ClockMode;
use crate::notify::Notice;
use crate::pipeline::{lock, Shared};
use crate::spec::{SpecError, WorldSpec};
use crate::world::World;

/// A simulated DPM world. Cloning gives another handle to the same world.
#[derive(Clone)]
pub struct Sim {
    shared: Shared,
    spec: Arc<WorldSpec>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("cpc", &self.spec.cpc.name)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A world whose transitions finish on tokio time.
    pub fn new(spec: WorldSpec) -> Result<Self, SpecError> {
        Self::with_clock(spec, ClockMode::Auto)
    }

    /// A world whose time moves only when stepped.
    pub fn stepped(spec: WorldSpec) -> Result<Self, SpecError> {
        Self::with_clock(spec, ClockMode::Stepped)
    }

    /// A world with the given clock.
    pub fn with_clock(spec: WorldSpec, mode: ClockMode) -> Result<Self, SpecError> {
        let world = World::new(&spec, mode)?;
        Ok(Self {
            shared: Shared::new(world),
            spec: Arc::new(spec),
        })
    }

    /// The world and the harness, for the HTTP layer.
    #[cfg(feature = "serve")]
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The world's handle.
    fn world(&self) -> &Arc<Mutex<World>> {
        &self.shared.world
    }

    /// The HMC's notifications from now on: job completions on each
    /// session's job topic, partition status changes on every session's
    /// object topic. On the automatic clock a task is started (once) that
    /// ends transitions at their due time, so that they are announced
    /// then; call this inside a tokio runtime.
    pub fn notices(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        let mut w = lock(self.world());
        crate::world::ensure_ticker(self.world(), &mut w);
        w.notifier.subscribe()
    }

    /// Drops every connection to the HMC's notification service (served):
    /// clients must notice and fall back to polling.
    pub fn drop_notification_connections(&self) {
        lock(self.world()).notifier.drop_connections();
    }

    /// Changes when [`Sim::drop_notification_connections`] is called.
    #[cfg(feature = "serve")]
    pub(crate) fn notification_drops(&self) -> tokio::sync::watch::Receiver<u64> {
        lock(self.world()).notifier.drops()
    }

    /// Whether `login`/`passcode` may connect to the HMC's notification
    /// service: the HMC user and password, or a live session's id and
    /// credential.
    pub fn notification_login(&self, login: &str, passcode: &str) -> bool {
        lock(self.world()).hmc.notification_login(login, passcode)
    }

    /// The spec the world was built from.
    pub fn spec(&self) -> &WorldSpec {
        &self.spec
    }

    // ----- API clients --------------------------------------------------------

    /// An HMC client with the world's credentials (not yet logged on).
    pub fn hmc(&self) -> SimHmc {
        self.hmc_with(Credentials {
            userid: self.spec.hmc.userid.clone(),
            password: Secret::new(self.spec.hmc.password.clone()),
        })
    }

    /// An HMC client with other credentials.
    pub fn hmc_with(&self, credentials: Credentials) -> SimHmc {
        SimHmc::new(self.shared.clone(), credentials)
    }

    /// A Cinder client scoped to `project`.
    pub fn cinder(&self, project: &str) -> SimCinder {
        SimCinder::new(self.shared.clone(), project.into())
    }

    /// A Cinder client scoped to the first project of the spec.
    pub fn default_cinder(&self) -> SimCinder {
        let p = self
            .spec
            .projects
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        self.cinder(&p)
    }

    // ----- facts for wiring ---------------------------------------------------

    /// The CPC's URI.
    pub fn cpc_uri(&self) -> CpcUri {
        lock(self.world()).hmc.cpc.uri()
    }

    /// The FCP adapters, in spec order.
    pub fn fcp_adapters(&self) -> Vec<FcpAdapterInfo> {
        let w = lock(self.world());
        w.hmc
            .adapters
            .iter()
            .filter(|a| a.adapter_type == hmc_client::AdapterType::Fcp)
            .map(|a| FcpAdapterInfo {
                uri: a.uri(),
                name: a.name.clone(),
                ports: u32::try_from(a.ports.len()).unwrap_or(u32::MAX),
            })
            .collect()
    }

    /// Every adapter URI and type, in spec order.
    pub fn adapters(&self) -> Vec<(AdapterUri, String)> {
        let w = lock(self.world());
        w.hmc
            .adapters
            .iter()
            .map(|a| (a.uri(), a.adapter_type.to_string()))
            .collect()
    }

    /// The images volumes can be made from.
    pub fn images(&self) -> Vec<(ImageId, String)> {
        self.spec
            .images
            .iter()
            .map(|i| (i.id.clone(), i.name.clone()))
            .collect()
    }

    // ----- clock --------------------------------------------------------------

    /// Simulated time since the world was made.
    pub fn now(&self) -> Duration {
        lock(self.world()).now()
    }

    /// Moves a stepped clock forward by `d` and finishes what is due.
    pub fn advance(&self, d: Duration) {
        let mut w = lock(self.world());
        let t = w.now() + d;
        w.clock.step_to(t);
        w.settle();
    }

    /// Finishes every pending transition (a stepped clock jumps to each
    /// one's due time; an automatic clock finishes only what is due).
    /// Background rounds (automatic discovery every 10 simulated minutes)
    /// are not waited for; they run when time passes them.
    pub fn run_until_idle(&self) {
        let mut w = lock(self.world());
        if w.clock.mode() == ClockMode::Stepped {
            while let Some(t) = w.next_due_time() {
                w.clock.step_to(t);
                w.settle();
            }
        } else {
            w.settle();
        }
    }

    /// Whether transitions are still pending (background rounds such as
    /// automatic discovery do not count).
    pub fn is_busy(&self) -> bool {
        lock(self.world()).next_due_time().is_some()
    }
}
