//! Starting and stopping partitions: the operations and their jobs, and the
//! status rules of one partition, the small functions at the end
//! ([`start`], [`finish_start`], [`stop`], [`finish_stop`]), testable
//! without a world.

use std::time::Duration;

use hmc_client::{HmcError, JobUri, PartitionStatus, PartitionUri};

use super::job::{self, JobState};
use super::{boot, status, BootView, HmcState, Later, Refusal};
use crate::ids::Ids;

impl HmcState {
    /// `operations/start`: the partition becomes `starting`; the job ends
    /// with the returned transition.
    pub(crate) fn start_partition(
        &mut self,
        ids: &mut Ids,
        uri: &PartitionUri,
    ) -> Result<(JobUri, Later), HmcError> {
        let p = self.partition("POST", uri)?;
        let free = self.memory_free();
        let power = start(&p.name, &p.status, p.initial_memory, free)
            .map_err(|r| r.at("POST", format!("{uri}/operations/start")))?;
        let job = self.new_job(ids, uri.object_id());
        let id = self.free_partition_id();
        if let Some(e) = self.extras.get_mut(uri.object_id()) {
            e.partition_id = Some(id);
        }
        let p = self.partition_mut("POST", uri)?;
        p.status = power.status;
        p.memory_held = power.memory_held;
        let later = Later::PartitionStarted {
            job: job.object_id().into(),
        };
        Ok((job, later))
    }

    /// `operations/stop`: the partition becomes `stopping`; the job ends
    /// with the returned transition.
    pub(crate) fn stop_partition(
        &mut self,
        ids: &mut Ids,
        uri: &PartitionUri,
    ) -> Result<(JobUri, Later), HmcError> {
        let p = self.partition("POST", uri)?;
        let status =
            stop(&p.name, &p.status).map_err(|r| r.at("POST", format!("{uri}/operations/stop")))?;
        let job = self.new_job(ids, uri.object_id());
        self.partition_mut("POST", uri)?.status = status;
        self.cancel_halt(uri.object_id());
        let later = Later::PartitionStopped {
            job: job.object_id().into(),
        };
        Ok((job, later))
    }

    fn new_job(&mut self, ids: &mut Ids, partition: &str) -> JobUri {
        let id = ids.new_object_id(0x7);
        self.begin_job(&id, JobState::running(partition))
    }

    /// The end of a start job: the memory check, then the boot check.
    pub(super) fn finish_start(&mut self, job: &str, view: &impl BootView, now: Duration) {
        let Some(pid) = self.jobs.get(job).and_then(|j| j.partition.clone()) else {
            return;
        };
        let verdict = match self.partitions.get(&pid) {
            None => Err("the partition no longer exists".to_owned()),
            Some(p) => {
                let memory = if p.memory_held {
                    Ok(())
                } else {
                    Err(format!(
                        "Insufficient memory: partition {} needs {} MiB, but only {} MiB of the CPC's memory are free.",
                        p.name,
                        p.initial_memory,
                        self.memory_free()
                    ))
                };
                let (power, verdict) = finish_start(memory, || {
                    boot::check(p, view, |port| self.port_fabric(port))
                });
                let active = power.status == PartitionStatus::Active;
                if let Some(p) = self.partitions.get_mut(&pid) {
                    p.status = power.status;
                    p.memory_held = power.memory_held;
                }
                if !power.memory_held {
                    self.give_up_partition_id(&pid);
                }
                if active {
                    self.write_boot_messages(&pid, now);
                }
                verdict
            }
        };
        self.complete_job(job, job::start_outcome(verdict), false);
    }

    /// A partition that stops gives up its partition id.
    fn give_up_partition_id(&mut self, pid: &str) {
        if let Some(e) = self.extras.get_mut(pid) {
            e.partition_id = None;
        }
    }

    /// The end of a stop job.
    pub(super) fn finish_stop(&mut self, job: &str) {
        let Some(pid) = self.jobs.get(job).and_then(|j| j.partition.clone()) else {
            return;
        };
        if let Some(p) = self.partitions.get_mut(&pid) {
            let power = finish_stop();
            p.status = power.status;
            p.memory_held = power.memory_held;
        }
        self.give_up_partition_id(&pid);
        self.complete_job(job, job::stop_outcome(), false);
    }
}

/// What start and stop change on a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Power {
    pub status: PartitionStatus,
    /// Whether the partition holds its memory (from start until stop).
    pub memory_held: bool,
}

/// Whether a partition named `name` in `status` may start: only a stopped
/// one does, or one whose last activation found no resources
/// (`reservation-error`, which holds none; zhmc-ansible-modules starts
/// from it); 409.1 otherwise. It becomes `starting`; PR/SM takes its
/// memory now if `need` MiB fit in the `free` MiB, and without it the start
/// job fails when it ends.
pub(crate) fn start(
    name: &str,
    status: &PartitionStatus,
    need: u64,
    free: u64,
) -> Result<Power, Refusal> {
    if !status::is_down(status) {
        return Err(Refusal::wrong_state(format!(
            "Partition {name} is {status}, not stopped."
        )));
    }
    Ok(Power {
        status: PartitionStatus::Starting,
        memory_held: need <= free,
    })
}

/// How a start job ends: `memory` says whether PR/SM found the memory at
/// start (or why not); the boot check runs only when it did. Success leaves
/// the partition `active`, holding its memory; a failure leaves it
/// `stopped` with its memory released, and is the job's message.
pub(crate) fn finish_start(
    memory: Result<(), String>,
    boot: impl FnOnce() -> Result<(), String>,
) -> (Power, Result<(), String>) {
    let verdict = memory.and_then(|()| boot());
    let power = match verdict {
        Ok(()) => Power {
            status: PartitionStatus::Active,
            memory_held: true,
        },
        Err(_) => Power {
            status: PartitionStatus::Stopped,
            memory_held: false,
        },
    };
    (power, verdict)
}

/// Whether a partition named `name` in `status` may stop: an active,
/// paused, terminated or degraded one does, and becomes `stopping`; any
/// other status is 409.1.
pub(crate) fn stop(name: &str, status: &PartitionStatus) -> Result<PartitionStatus, Refusal> {
    match status {
        PartitionStatus::Active
        | PartitionStatus::Paused
        | PartitionStatus::Terminated
        | PartitionStatus::Degraded => Ok(PartitionStatus::Stopping),
        _ => Err(Refusal::wrong_state(format!(
            "Partition {name} is {status}; only an active, paused, terminated or degraded partition can stop."
        ))),
    }
}

/// How a stop job ends: `stopped`, the memory released.
pub(crate) fn finish_stop() -> Power {
    Power {
        status: PartitionStatus::Stopped,
        memory_held: false,
    }
}

/// The checks of a partition's processors and memory, for create and
/// update alike. `cpc` is (IFLs, customer memory MiB, name).
pub(super) fn resources(
    cpc: &(u32, u64, String),
    ifl: u32,
    cp: u32,
    initial: u64,
    maximum: u64,
) -> Result<(), String> {
    if ifl == 0 && cp == 0 {
        return Err("a partition needs at least one processor.".into());
    }
    // Unconfirmed which code the HMC uses; a shared-processor partition
    // may not have more logical IFLs than the CPC has physical ones.
    if ifl > cpc.0 {
        return Err(format!(
            "ifl-processors {ifl} exceeds the {} IFLs of CPC {}.",
            cpc.0, cpc.2
        ));
    }
    if initial == 0 || initial > maximum {
        return Err("initial-memory must be positive and at most maximum-memory.".into());
    }
    if maximum > cpc.1 {
        return Err(format!(
            "maximum-memory {maximum} MiB exceeds the CPC's {} MiB.",
            cpc.1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[PartitionStatus] = &[
        PartitionStatus::Stopped,
        PartitionStatus::Starting,
        PartitionStatus::Active,
        PartitionStatus::Stopping,
        PartitionStatus::Degraded,
        PartitionStatus::Paused,
        PartitionStatus::Terminated,
        PartitionStatus::ReservationError,
        PartitionStatus::CommunicationsNotActive,
        PartitionStatus::StatusCheck,
    ];

    #[test]
    fn a_stopped_partition_starts_and_takes_its_memory_if_it_fits() {
        let s = PartitionStatus::Stopped;
        assert_eq!(
            start("p", &s, 4096, 4096),
            Ok(Power {
                status: PartitionStatus::Starting,
                memory_held: true
            })
        );
        assert_eq!(
            start("p", &s, 4097, 4096),
            Ok(Power {
                status: PartitionStatus::Starting,
                memory_held: false
            })
        );
    }

    #[test]
    fn only_a_stopped_partition_starts() {
        for s in ALL.iter().filter(|s| !status::is_down(s)) {
            let r = start("web1", s, 1, 1).unwrap_err();
            assert_eq!((r.status, r.reason), (409, 1), "{s}");
            assert_eq!(r.message, format!("Partition web1 is {s}, not stopped."));
        }
    }

    #[test]
    fn a_start_with_memory_that_boots_ends_active() {
        let (power, verdict) = finish_start(Ok(()), || Ok(()));
        assert_eq!(
            power,
            Power {
                status: PartitionStatus::Active,
                memory_held: true
            }
        );
        assert_eq!(verdict, Ok(()));
    }

    #[test]
    fn a_failed_start_ends_stopped_with_its_memory_released() {
        let stopped = Power {
            status: PartitionStatus::Stopped,
            memory_held: false,
        };
        let (power, verdict) = finish_start(Ok(()), || Err("no LUN".into()));
        assert_eq!((power, verdict), (stopped.clone(), Err("no LUN".into())));
        let (power, verdict) = finish_start(Err("no memory".into()), || {
            panic!("the boot check runs only with memory")
        });
        assert_eq!((power, verdict), (stopped, Err("no memory".into())));
    }

    #[test]
    fn active_paused_terminated_or_degraded_partitions_stop() {
        for s in [
            PartitionStatus::Active,
            PartitionStatus::Paused,
            PartitionStatus::Terminated,
            PartitionStatus::Degraded,
        ] {
            assert_eq!(stop("p", &s), Ok(PartitionStatus::Stopping), "{s}");
        }
    }

    #[test]
    fn other_partitions_refuse_to_stop() {
        for s in [
            PartitionStatus::Stopped,
            PartitionStatus::Starting,
            PartitionStatus::Stopping,
            PartitionStatus::ReservationError,
            PartitionStatus::CommunicationsNotActive,
            PartitionStatus::StatusCheck,
        ] {
            let r = stop("web1", &s).unwrap_err();
            assert_eq!((r.status, r.reason), (409, 1), "{s}");
            assert!(r.message.starts_with(&format!("Partition web1 is {s};")));
        }
    }

    #[test]
    fn a_stop_ends_stopped_with_its_memory_released() {
        assert_eq!(
            finish_stop(),
            Power {
                status: PartitionStatus::Stopped,
                memory_held: false
            }
        );
    }
}
