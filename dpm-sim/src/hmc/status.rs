//! The partition statuses a real CPC produces on its own, without a request
//! of the client's: `reservation-error`, `terminated`, `paused` and
//! `degraded`. Tests and the control route set them ([`crate::Sim::
//! set_partition_status`], `POST /sim/partition-status`); the status rules
//! of start, stop, delete and update then treat them as the HMC does.
//!
//! What each means, and where it can come from (zhmc-ansible-modules'
//! status table: resources allocated, OS running; the transitions are
//! inferred from when a real CPC reports them):
//!
//! | status | resources | OS runs | set from | then |
//! |---|---|---|---|---|
//! | `reservation-error` | no | no | `stopped` (an activation that could not get its resources, e.g. an auto-start after a CPC restart) | start, delete and resize allowed as from `stopped`; stop refused (409.1) |
//! | `terminated` | yes | no | `active`, `degraded`, `paused` (the guest halted) | stop allowed; start, delete refused |
//! | `paused` | yes | no | `active`, `degraded`, `terminated` (e.g. a guest in disabled wait) | stop allowed; start, delete refused |
//! | `degraded` | yes | yes | `active` (a resource of the running partition failed) | as `active`; `active` again from here |
//!
//! Setting the status a partition already has changes nothing and is
//! allowed. Statuses with a job behind them (`starting`, `stopping`),
//! `stopped` (a stop's) and the CPC-wide ones (`communications-not-active`,
//! `status-check`) cannot be set.

use hmc_client::{PartitionStatus, PartitionUri};

use super::HmcState;

/// Why a partition's status could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// No partition of that URI.
    #[error("no partition {0}")]
    NoPartition(String),
    /// A status the simulator does not let a test set.
    #[error(
        "status {0} cannot be set (settable: reservation-error, terminated, paused, degraded, active)"
    )]
    NotSettable(PartitionStatus),
    /// The partition's status does not lead there.
    #[error("partition {name} is {from}; a CPC does not make it {to} from there")]
    WrongState {
        /// The partition's name.
        name: String,
        /// Its status.
        from: PartitionStatus,
        /// The status asked for.
        to: PartitionStatus,
    },
}

/// The statuses `to` may be set from.
fn sources(to: &PartitionStatus) -> Option<&'static [PartitionStatus]> {
    use PartitionStatus as S;
    Some(match to {
        S::ReservationError => &[S::Stopped, S::ReservationError],
        S::Terminated | S::Paused => &[S::Active, S::Degraded, S::Paused, S::Terminated],
        S::Degraded => &[S::Active, S::Degraded],
        S::Active => &[S::Degraded, S::Active],
        _ => return None,
    })
}

/// Whether a partition named `name` in `from` may be put in `to`.
pub(crate) fn check(
    name: &str,
    from: &PartitionStatus,
    to: &PartitionStatus,
) -> Result<(), StatusError> {
    let from_ok = sources(to).ok_or_else(|| StatusError::NotSettable(to.clone()))?;
    if !from_ok.contains(from) {
        return Err(StatusError::WrongState {
            name: name.to_owned(),
            from: from.clone(),
            to: to.clone(),
        });
    }
    Ok(())
}

/// Whether a partition in `status` holds no resources, as a stopped one:
/// `stopped` and `reservation-error` (what start, delete, resizing and
/// detaching a storage group ask for).
pub(crate) fn is_down(status: &PartitionStatus) -> bool {
    matches!(
        status,
        PartitionStatus::Stopped | PartitionStatus::ReservationError
    )
}

impl HmcState {
    /// Puts a partition in a status a CPC produces on its own; checks
    /// first, so a refusal changes nothing. The memory and the partition id
    /// stay as they are: every allowed transition keeps them (a stopped or
    /// reservation-error partition holds neither, the others both).
    pub(crate) fn set_partition_status(
        &mut self,
        uri: &PartitionUri,
        to: PartitionStatus,
    ) -> Result<(), StatusError> {
        let p = self
            .partitions
            .get_mut(uri.object_id())
            .ok_or_else(|| StatusError::NoPartition(uri.to_string()))?;
        check(&p.name, &p.status, &to)?;
        p.status = to;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartitionStatus as S;

    const ALL: [S; 10] = [
        S::Stopped,
        S::Starting,
        S::Active,
        S::Stopping,
        S::Degraded,
        S::Paused,
        S::Terminated,
        S::ReservationError,
        S::CommunicationsNotActive,
        S::StatusCheck,
    ];

    #[test]
    fn reservation_error_comes_only_to_a_partition_without_resources() {
        for from in ALL {
            let ok = check("p", &from, &S::ReservationError).is_ok();
            assert_eq!(ok, is_down(&from), "{from}");
        }
    }

    #[test]
    fn a_guest_halts_or_pauses_only_while_it_holds_its_resources() {
        for to in [S::Terminated, S::Paused] {
            for from in ALL {
                let ok = check("p", &from, &to).is_ok();
                let holding = matches!(from, S::Active | S::Degraded | S::Paused | S::Terminated);
                assert_eq!(ok, holding, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn only_a_running_partition_degrades_and_recovers() {
        for from in ALL {
            let running = matches!(from, S::Active | S::Degraded);
            assert_eq!(check("p", &from, &S::Degraded).is_ok(), running, "{from}");
            assert_eq!(check("p", &from, &S::Active).is_ok(), running, "{from}");
        }
    }

    #[test]
    fn statuses_with_a_job_behind_them_are_not_settable() {
        for to in [
            S::Stopped,
            S::Starting,
            S::Stopping,
            S::CommunicationsNotActive,
            S::StatusCheck,
        ] {
            assert_eq!(
                check("p", &S::Active, &to),
                Err(StatusError::NotSettable(to.clone()))
            );
        }
    }
}
