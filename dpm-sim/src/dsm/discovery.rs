//! FCP storage discovery (fulfillment), the LUN path check of a CPC, and
//! the storage-volume boot check of a start job.

use cinder_client::VolumeId;
use hmc_client::{
    CpcUri, FulfillmentState, HmcError, LunPath, StorageGroupType, StorageGroupUri, VolumeUsage,
};

use super::group::no_feature;
use super::rules::{self, boot, reason};
use super::{
    Alloc, DsmState, Env, GroupState, IdKind, LunBinding, PartitionFacts, Sighting, VolumeState,
};

/// A discovery job that was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiscoveryStarted {
    /// The new job's id.
    pub job: String,
    /// The job it superseded (a forced restart), which ends canceled.
    pub superseded: Option<String>,
}

impl DsmState {
    /// `POST .../operations/start-fcp-storage-discovery`.
    pub(crate) fn start_discovery(
        &mut self,
        uri: &StorageGroupUri,
        force_restart: bool,
        alloc: &mut dyn Alloc,
    ) -> Result<DiscoveryStarted, HmcError> {
        let at = format!("{uri}/operations/start-fcp-storage-discovery");
        let g = self.group_at("POST", &at, uri)?;
        let wrong = |msg: String| HmcError::api("POST", at.clone(), 409, reason::WRONG_STATE, msg);
        if g.group_type != StorageGroupType::Fcp {
            return Err(wrong(format!(
                "Storage group {} is of type {}; FCP discovery needs an fcp group.",
                g.name, g.group_type
            )));
        }
        if g.discovery_job.is_some() && !force_restart {
            return Err(wrong(format!(
                "A discovery is already running on storage group {}.",
                g.name
            )));
        }
        let job = alloc.object_id(IdKind::Job);
        let superseded = self
            .groups
            .iter_mut()
            .find(|g| g.object_id == uri.object_id())
            .and_then(|g| g.discovery_job.replace(job.clone()));
        Ok(DiscoveryStarted { job, superseded })
    }

    /// A discovery job's time is up: discover, if the job still runs on a
    /// group. Returns whether it did.
    pub(crate) fn finish_discovery_job(
        &mut self,
        job: &str,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> bool {
        let Some(i) = self
            .groups
            .iter()
            .position(|g| g.discovery_job.as_deref() == Some(job))
        else {
            return false;
        };
        self.groups[i].discovery_job = None;
        self.discover_at(i, env, alloc);
        true
    }

    /// Automatic discovery of one group: runs when the group exists and is
    /// not complete. Returns whether the group still exists (so the next
    /// round is due).
    pub(crate) fn auto_discover(
        &mut self,
        group: &str,
        env: &dyn Env,
        alloc: &mut dyn Alloc,
    ) -> bool {
        let Some(i) = self.groups.iter().position(|g| g.object_id == group) else {
            return false;
        };
        if self.groups[i].fulfillment() != FulfillmentState::Complete {
            self.discover_at(i, env, alloc);
        }
        true
    }

    /// Runs discovery on one group now.
    #[cfg(test)]
    pub(crate) fn discover(&mut self, uri: &StorageGroupUri, env: &dyn Env, alloc: &mut dyn Alloc) {
        if let Some(i) = self
            .groups
            .iter()
            .position(|g| g.object_id == uri.object_id())
        {
            self.discover_at(i, env, alloc);
        }
    }

    fn discover_at(&mut self, i: usize, env: &dyn Env, alloc: &mut dyn Alloc) {
        let Some(g) = self.groups.get_mut(i) else {
            return;
        };
        let visible = visible_luns(g, env);
        // WWPN statuses follow what each sees now.
        for w in &mut g.wwpns {
            w.validated = visible
                .iter()
                .any(|(_, seen)| seen.iter().any(|(i, _, _)| *i == w.wwpn));
        }
        // Volumes already matched to a LUN.
        let mut gone = Vec::new();
        for v in &mut g.volumes {
            let Some(lun) = &mut v.lun else { continue };
            match visible.iter().find(|(id, _)| *id == lun.cinder) {
                Some((id, seen)) => {
                    let size = env.cinder_volume(id).map_or(lun.size_gib, |c| c.size_gib);
                    lun.size_gib = size;
                    lun.seen.clone_from(seen);
                    v.active_size = Some(rules::gib(size));
                    if v.state != FulfillmentState::Overprovisioned {
                        v.state = rules::matched_state(v.size, size);
                    }
                }
                None if v.state == FulfillmentState::Overprovisioned => {
                    gone.push(v.element_id.clone());
                }
                None => {
                    lun.seen.clear();
                    v.state = FulfillmentState::Incomplete;
                }
            }
        }
        g.volumes.retain(|v| !gone.contains(&v.element_id));
        // LUNs no volume of the group holds yet, in the order they were seen.
        for (id, seen) in visible {
            let bound = g
                .volumes
                .iter()
                .any(|v| v.lun.as_ref().is_some_and(|l| l.cinder == id));
            if bound {
                continue;
            }
            let Some(facts) = env.cinder_volume(&id) else {
                continue;
            };
            let size = facts.size_gib;
            let binding = LunBinding {
                cinder: id,
                size_gib: size,
                seen,
            };
            let pending =
                |v: &&mut VolumeState| v.state == FulfillmentState::Pending && v.lun.is_none();
            let same_size = g
                .volumes
                .iter_mut()
                .filter(pending)
                .find(|v| rules::sizes_match(v.size, size));
            let target = match same_size {
                Some(v) => Some(v),
                None => g.volumes.iter_mut().find(|v| pending(v)),
            };
            match target {
                Some(v) => {
                    v.state = rules::matched_state(v.size, size);
                    v.active_size = Some(rules::gib(size));
                    v.lun = Some(binding);
                }
                None => g.volumes.push(VolumeState {
                    element_id: alloc.object_id(IdKind::Volume),
                    name: String::new(),
                    description: String::new(),
                    size: rules::gib(size),
                    usage: VolumeUsage::Data,
                    state: FulfillmentState::Overprovisioned,
                    active_size: Some(rules::gib(size)),
                    lun: Some(binding),
                }),
            }
        }
        g.forced_pending = false;
    }

    /// `POST /api/cpcs/{id}/operations/validate-lun-path`.
    pub(crate) fn validate_lun_path(
        &self,
        cpc: &CpcUri,
        path: &LunPath,
        env: &dyn Env,
    ) -> Result<(), HmcError> {
        let at = format!("{cpc}/operations/validate-lun-path");
        let facts = env.cpc();
        if *cpc != facts.uri {
            return Err(HmcError::api(
                "POST",
                at,
                404,
                reason::NOT_FOUND,
                format!("No CPC {cpc}."),
            ));
        }
        if !facts.storage_management {
            return Err(no_feature("POST", &at, &facts.name));
        }
        let port = env.port(&path.adapter_port_uri).ok_or_else(|| {
            HmcError::api(
                "POST",
                at.clone(),
                404,
                reason::REFERENCED_NOT_FOUND,
                format!("adapter port {} does not exist.", path.adapter_port_uri),
            )
        })?;
        if !port.fcp {
            return Err(HmcError::api(
                "POST",
                at,
                400,
                reason::INVALID_VALUE,
                format!(
                    "adapter port {} is not a port of an FCP adapter.",
                    path.adapter_port_uri
                ),
            ));
        }
        let host = path.host_world_wide_port_name;
        let target = path.target_world_wide_port_name;
        let reachable = port
            .fabric
            .is_some_and(|f| env.zoned_targets(host, f).contains(&target));
        if !reachable {
            return Err(HmcError::api(
                "POST",
                at,
                rules::LUN_PATH_STATUS,
                reason::TARGET_NOT_REACHABLE,
                format!(
                    "Target {target} is not reachable from WWPN {host} through {}.",
                    path.adapter_port_uri
                ),
            ));
        }
        if !env
            .masked_luns(host)
            .iter()
            .any(|(l, _)| *l == path.logical_unit_number)
        {
            return Err(HmcError::api(
                "POST",
                at,
                rules::LUN_PATH_STATUS,
                reason::LUN_NOT_REACHABLE,
                format!(
                    "Target {target} is reachable from WWPN {host}, but LUN {} is not.",
                    path.logical_unit_number
                ),
            ));
        }
        Ok(())
    }

    /// **Inferred** boot check of a start job for `boot-device:
    /// storage-volume` (rule 12); the message names the failing condition.
    pub(crate) fn boot_check(&self, p: &PartitionFacts, env: &dyn Env) -> Result<(), String> {
        let uri = p.boot_storage_volume.as_ref().ok_or(boot::NOT_SET)?;
        let (g, v) = self
            .volume(uri)
            .ok_or_else(|| boot::missing(uri.as_str()))?;
        if !g.is_attached_to(&p.uri) {
            return Err(boot::not_attached(uri.as_str(), &p.name));
        }
        if v.state != FulfillmentState::Complete {
            return Err(boot::not_complete(uri.as_str(), v.state.as_str()));
        }
        let Some(lun) = &v.lun else {
            return Err(boot::no_path(uri.as_str(), &p.name));
        };
        let paths: Vec<Sighting> = g
            .vsrs
            .iter()
            .filter(|vsr| vsr.partition == p.uri)
            .filter_map(|vsr| g.vsr_wwpn(vsr))
            .flat_map(|w| {
                lun.seen
                    .iter()
                    .filter(move |(i, _, _)| *i == w.wwpn)
                    .copied()
            })
            .collect();
        if paths.is_empty() {
            return Err(boot::no_path(uri.as_str(), &p.name));
        }
        let usable = paths.iter().any(|&(i, t, l)| {
            let zoned = g
                .wwpns
                .iter()
                .find(|w| w.wwpn == i)
                .and_then(|w| w.port.as_ref())
                .and_then(|port| env.port(port)?.fabric)
                .is_some_and(|f| env.zoned_targets(i, f).contains(&t));
            zoned
                && env
                    .masked_luns(i)
                    .iter()
                    .any(|(ml, vol)| *ml == l && *vol == lun.cinder)
        });
        if !usable {
            return Err(boot::path_gone(uri.as_str()));
        }
        match env.cinder_volume(&lun.cinder) {
            Some(c) if c.bootable => Ok(()),
            _ => Err(boot::not_bootable(uri.as_str())),
        }
    }
}

/// What a group's bound WWPNs see: each Cinder volume masked to a WWPN's
/// storage host at a target the WWPN is zoned with on its port's fabric,
/// with every (initiator, target, LUN) that sees it, in the order seen.
fn visible_luns(g: &GroupState, env: &dyn Env) -> Vec<(VolumeId, Vec<Sighting>)> {
    let mut out: Vec<(VolumeId, Vec<Sighting>)> = Vec::new();
    for w in &g.wwpns {
        let Some(fabric) = w.port.as_ref().and_then(|p| env.port(p)?.fabric) else {
            continue;
        };
        let targets = env.zoned_targets(w.wwpn, fabric);
        let luns = env.masked_luns(w.wwpn);
        for t in &targets {
            for (lun, vol) in &luns {
                let triple = (w.wwpn, *t, *lun);
                match out.iter_mut().find(|(id, _)| id == vol) {
                    Some((_, seen)) => seen.push(triple),
                    None => out.push((vol.clone(), vec![triple])),
                }
            }
        }
    }
    out
}
