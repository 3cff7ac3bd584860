//! The HMC side of the world: sessions, the CPC and its adapters,
//! partitions with their vHBAs, and jobs, with the status machine and
//! refusals of the real HMC.
//!
//! Partition status: `stopped` → (start) `starting` → `active` →
//! (stop) `stopping` → `stopped`; a guest told to shut down goes from
//! `active` to `terminated` by itself (`guest.rs`), and is stopped from
//! there. Start and stop are jobs that finish after
//! the configured durations. A start job checks memory and, when the
//! partition boots from an HBA, the boot path; a failed check fails the job
//! and the partition returns to `stopped`.
//!
//! This module knows nothing of the SAN or Cinder: the boot check reads them
//! through [`BootView`], which `world` implements, and starting or
//! stopping returns the [`Later`] transition for the world to schedule.

mod adapter_properties;
mod boot;
mod console;
mod cpc;
mod cpc_properties;
mod guest;
mod hba;
mod job;
mod partition;
mod power;
mod properties;
mod session;
mod status;

use std::collections::BTreeMap;
use std::time::Duration;

use fc_types::Wwnn;
use hmc_client::{AdapterType, HmcError, JobUri, StoragePortUri};

pub(crate) use adapter_properties::{AdapterProperties, Family, PortLoad};
pub(crate) use boot::BootView;
pub(crate) use console::HMC_NAME;
pub(crate) use cpc::{AdapterState, CpcState, PortState};
pub(crate) use hba::HbaState;
pub(crate) use job::{no_content_outcome, JobOutcome, JobState};
pub(crate) use partition::{PartitionExtras, PartitionState};
pub(crate) use properties::{
    names as partition_property_names, PartitionProperties, SettingsUpdate, SETTINGS,
};
pub use status::StatusError;

use crate::ids::Ids;
use crate::spec::{SpecError, Timings, WorldSpec};

pub(crate) use crate::refusal::{reason, regex, Refusal};

/// An HMC transition that finishes at a later point in simulated time: the
/// end of a start or stop job.
#[derive(Debug, Clone)]
pub(crate) enum Later {
    PartitionStarted {
        job: String,
    },
    PartitionStopped {
        job: String,
    },
    /// A guest that was told to shut down has halted (`guest.rs`).
    GuestHalted {
        partition: String,
        token: u64,
        halt: guest::Halt,
    },
}

impl Later {
    /// How long after it begins the transition finishes.
    pub(crate) fn after(&self, timings: &Timings) -> Duration {
        match self {
            Self::PartitionStarted { .. } => timings.start(),
            Self::PartitionStopped { .. } => timings.stop(),
            Self::GuestHalted { .. } => timings.guest_shutdown(),
        }
    }
}

/// The HMC's objects.
#[derive(Debug)]
pub(crate) struct HmcState {
    pub userid: String,
    pub password: String,
    /// The HMC version and API version it reports.
    pub version: String,
    pub api: (u32, u32),
    /// The API features it reports (API 4.10 and later).
    pub api_features: Vec<String>,
    /// Sessions by id: when each was last used (simulated time), its
    /// credential and notification topics.
    pub sessions: BTreeMap<session::SessionId, session::SessionState>,
    /// The session of the request being served (set by the session check).
    pub acting_session: Option<session::SessionId>,
    /// Jobs that ended since the world last published: (job topic, job).
    pub completed: Vec<(String, JobUri)>,
    pub cpc: CpcState,
    /// Each fabric's WWN, by fabric index: what a storage port reports as
    /// its `fabric-id`.
    pub fabrics: Vec<Wwnn>,
    pub adapters: Vec<AdapterState>,
    pub partitions: BTreeMap<String, PartitionState>,
    /// What each partition has beyond [`PartitionState`]: its stored
    /// settings and its partition id; the same keys as `partitions`.
    pub extras: BTreeMap<String, PartitionExtras>,
    pub jobs: BTreeMap<String, JobState>,
    /// Each partition's operating-system messages, by object id.
    pub os_logs: console::OsLogs,
    /// Each partition's guest: hung or not, a halt in progress.
    pub guests: guest::Guests,
    /// The OS message channels opened (Open OS Message Channel): each
    /// partition's topic, by object id, kept until the partition is deleted.
    pub os_channels: BTreeMap<String, String>,
    /// Messages written since the world last published, on partitions
    /// with a channel: (its topic, partition object id, message), oldest
    /// first.
    pub os_written: Vec<(String, String, hmc_client::OsMessage)>,
}

impl HmcState {
    /// The API features of the console or a CPC whose names match
    /// `name` (a regular expression). An HMC before API 4.10 has no such
    /// operation: 404.1, which clients read as "no features".
    pub(crate) fn list_features(
        &self,
        uri: &str,
        name: Option<&str>,
    ) -> Result<Vec<String>, HmcError> {
        if self.api < (4, 10) {
            return Err(HmcError::api(
                "GET",
                uri,
                404,
                reason::NOT_FOUND,
                format!(
                    "GET {uri} is not an operation of an HMC at API version {}.{}.",
                    self.api.0, self.api.1
                ),
            ));
        }
        let re = name.map(|n| regex("GET", uri, n)).transpose()?;
        Ok(self
            .api_features
            .iter()
            .filter(|f| re.as_ref().is_none_or(|r| r.is_match(f)))
            .cloned()
            .collect())
    }

    /// The HMC of `spec`: the CPC's object id is drawn first, then one per
    /// adapter, in spec order.
    pub(crate) fn new(spec: &WorldSpec, ids: &mut Ids) -> Result<Self, SpecError> {
        let mut cpc = CpcState::new(spec);
        cpc.object_id = ids.new_object_id(0xc);
        let mut adapters = Vec::new();
        for a in &spec.adapters {
            let mut ports = Vec::new();
            for (i, f) in a.ports.iter().enumerate() {
                let fabric = if f.is_empty() {
                    None
                } else {
                    Some(spec.fabric_index(f, &a.name)?)
                };
                ports.push(PortState {
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    fabric,
                });
            }
            adapters.push(AdapterState {
                object_id: ids.new_object_id(0xa),
                name: a.name.clone(),
                pchid: a.pchid.clone(),
                adapter_type: AdapterType::from(a.adapter_type.as_str()),
                ports,
            });
        }
        Ok(Self {
            userid: spec.hmc.userid.clone(),
            password: spec.hmc.password.clone(),
            version: spec.hmc.version.clone(),
            api: spec.hmc.api()?,
            api_features: spec.hmc.api_features.clone(),
            sessions: BTreeMap::new(),
            acting_session: None,
            completed: Vec::new(),
            cpc,
            fabrics: spec.fabrics.iter().map(|f| f.wwn).collect(),
            adapters,
            partitions: BTreeMap::new(),
            extras: BTreeMap::new(),
            jobs: BTreeMap::new(),
            os_logs: console::OsLogs::new(),
            guests: guest::Guests::new(),
            os_channels: BTreeMap::new(),
            os_written: Vec::new(),
        })
    }

    /// Finishes a transition that is due (at simulated time `now`); the
    /// boot check reads `view`.
    pub(crate) fn finish(&mut self, later: Later, view: &impl BootView, now: Duration) {
        match later {
            Later::PartitionStarted { job } => self.finish_start(&job, view, now),
            Later::PartitionStopped { job } => self.finish_stop(&job),
            Later::GuestHalted {
                partition,
                token,
                halt,
            } => self.finish_halt(&partition, token, halt, now),
        }
    }

    /// The fabric an adapter port is cabled to.
    pub(crate) fn port_fabric(&self, port: &StoragePortUri) -> Option<usize> {
        let (adapter, index) = self.find_port(port)?;
        adapter.ports.get(index)?.fabric
    }

    /// The adapter and port index a storage port URI names.
    pub(crate) fn find_port(&self, port: &StoragePortUri) -> Option<(&AdapterState, usize)> {
        let adapter = self
            .adapters
            .iter()
            .find(|a| a.object_id == port.parent().object_id())?;
        let index: usize = port.element_id().parse().ok()?;
        (index < adapter.ports.len()).then_some((adapter, index))
    }

    /// Memory held by partitions that are starting or running, MiB.
    pub(crate) fn memory_held(&self) -> u64 {
        self.partitions
            .values()
            .filter(|p| p.memory_held)
            .map(|p| p.initial_memory)
            .sum()
    }

    /// CPC memory no partition holds, MiB.
    fn memory_free(&self) -> u64 {
        self.cpc.memory_mib.saturating_sub(self.memory_held())
    }
}
