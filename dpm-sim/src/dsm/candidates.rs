//! A group's candidate adapter ports: add and remove.

use std::collections::BTreeSet;

use hmc_client::{HmcError, StorageGroupType, StorageGroupUri, StoragePortUri};

use super::rules::{self, reason};
use super::{DsmState, Env};

impl DsmState {
    /// `POST .../operations/add-candidate-adapter-ports`.
    pub(crate) fn add_candidate_ports(
        &mut self,
        uri: &StorageGroupUri,
        ports: &[StoragePortUri],
        env: &dyn Env,
    ) -> Result<(), HmcError> {
        let at = format!("{uri}/operations/add-candidate-adapter-ports");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", at.clone(), status, reason, msg);
        let g = self.group_at("POST", &at, uri)?;
        let mut seen = BTreeSet::new();
        for p in ports {
            match env.port(p) {
                None => {
                    return Err(bad(
                        404,
                        reason::REFERENCED_NOT_FOUND,
                        format!("adapter port {p} does not exist."),
                    ))
                }
                // An FCP group takes FCP ports, a FICON group FICON ports.
                Some(f) if !port_fits(&g.group_type, &f) => {
                    return Err(bad(
                        400,
                        reason::INVALID_VALUE,
                        format!(
                            "adapter port {p} does not fit a storage group of type {}.",
                            g.group_type
                        ),
                    ))
                }
                Some(_) => {}
            }
            if g.candidates.contains(p) || !seen.insert(p.clone()) {
                return Err(bad(
                    409,
                    reason::PORT_ALREADY_CANDIDATE,
                    format!(
                        "adapter port {p} is already a candidate of storage group {}.",
                        g.name
                    ),
                ));
            }
        }
        let g = self.group_mut_at("POST", &at, uri)?;
        g.candidates.extend(ports.iter().cloned());
        rules::rebind(&mut g.wwpns, g.connectivity, &g.candidates);
        Ok(())
    }

    /// `POST .../operations/remove-candidate-adapter-ports`.
    pub(crate) fn remove_candidate_ports(
        &mut self,
        uri: &StorageGroupUri,
        ports: &[StoragePortUri],
    ) -> Result<(), HmcError> {
        let at = format!("{uri}/operations/remove-candidate-adapter-ports");
        let bad =
            |status, reason, msg: String| HmcError::api("POST", at.clone(), status, reason, msg);
        let g = self.group_at("POST", &at, uri)?;
        for p in ports {
            if !g.candidates.contains(p) {
                return Err(bad(
                    409,
                    reason::PORT_NOT_CANDIDATE,
                    format!(
                        "adapter port {p} is not a candidate of storage group {}.",
                        g.name
                    ),
                ));
            }
            let used = g
                .vsrs
                .iter()
                .any(|v| g.vsr_wwpn(v).and_then(|w| w.port.as_ref()) == Some(p));
            if used {
                return Err(bad(
                    409,
                    reason::WRONG_STATE,
                    format!(
                        "adapter port {p} is used by a virtual storage resource of storage group {}.",
                        g.name
                    ),
                ));
            }
        }
        let g = self.group_mut_at("POST", &at, uri)?;
        g.candidates.retain(|c| !ports.contains(c));
        for w in &mut g.wwpns {
            if w.port.as_ref().is_some_and(|p| ports.contains(p)) {
                w.port = None;
            }
        }
        rules::rebind(&mut g.wwpns, g.connectivity, &g.candidates);
        Ok(())
    }
}

/// Whether an adapter port can serve a group of this type.
fn port_fits(t: &StorageGroupType, p: &super::PortFacts) -> bool {
    match t {
        StorageGroupType::Fcp => p.fcp,
        StorageGroupType::Fc => p.ficon,
        _ => false,
    }
}
