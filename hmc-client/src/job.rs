//! Waiting for asynchronous HMC jobs with a bounded polling policy.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::time::Instant;

use crate::api::HmcApi;
use crate::error::HmcError;
use crate::ids::JobUri;
use crate::wire::{Job, JobStatus};

/// How to poll a job: at once, then at growing intervals, up to a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// The interval after the first poll.
    pub first_interval: Duration,
    /// Each interval is the previous one times this factor.
    pub factor: u32,
    /// The longest interval.
    pub max_interval: Duration,
    /// The longest total wait before giving up.
    pub timeout: Duration,
}

impl Default for PollPolicy {
    /// 0.5 s, doubling up to 5 s, for at most 15 minutes: partition start can
    /// take minutes on a loaded CPC.
    fn default() -> Self {
        Self {
            first_interval: Duration::from_millis(500),
            factor: 2,
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

impl PollPolicy {
    /// The waits between polls, from now: exponential (backon's backoff,
    /// no jitter), each cut to what is left of the timeout.
    pub fn naps(&self) -> Naps {
        Naps {
            started: Instant::now(),
            timeout: self.timeout,
            backoff: ExponentialBuilder::new()
                .with_min_delay(self.first_interval)
                .with_factor(self.factor.max(1) as f32)
                .with_max_delay(self.max_interval)
                .without_max_times()
                .build(),
        }
    }
}

/// The waits of one polling loop (see [`PollPolicy::naps`]).
#[derive(Debug)]
pub struct Naps {
    started: Instant,
    timeout: Duration,
    backoff: ExponentialBackoff,
}

impl Naps {
    /// How long the loop has run.
    pub fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// Sleeps until the next poll; false when the timeout is spent.
    pub async fn wait(&mut self) -> bool {
        let left = self.timeout.saturating_sub(self.waited());
        match self.backoff.next() {
            Some(nap) if !left.is_zero() => {
                tokio::time::sleep(nap.min(left)).await;
                true
            }
            _ => false,
        }
    }
}

/// Polls `job` until it ends, then deletes it (as the reference client does).
///
/// Returns the finished job when its status code is 2xx; a failed job is
/// [`HmcError::JobFailed`] with the HMC's status, reason and message, and a
/// job still running after `policy.timeout` is [`HmcError::JobTimeout`] (the
/// job is then left for the HMC to expire). Waiting uses tokio time, so
/// tests on a paused clock do not sleep. The wait is a `wait_for_job` span
/// (info) with the job's URI, and its end is logged with the time waited.
#[tracing::instrument(level = "info", skip_all, fields(job = %job))]
pub async fn wait_for_job(
    hmc: &(impl HmcApi + ?Sized),
    job: &JobUri,
    policy: &PollPolicy,
) -> Result<Job, HmcError> {
    let mut naps = policy.naps();
    loop {
        // Polling is a read: a transient failure (busy, unavailable, a lost
        // reply) is polled again, within the same bound.
        let state = match hmc.get_job(job).await {
            Ok(s) => s,
            Err(e) if e.is_retryable() => {
                tracing::debug!(job = %job, error = %e, "job poll failed; polling again");
                if !naps.wait().await {
                    return Err(e);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if state.is_finished() {
            // A job that cannot be deleted is not the caller's failure: the
            // HMC expires finished jobs on its own.
            if let Err(e) = hmc.delete_job(job).await {
                tracing::debug!(job = %job, error = %e, "could not delete finished job");
            }
            tracing::debug!(status = %state.status, code = ?state.job_status_code, "job ended");
            return finish(job, state);
        }
        if !naps.wait().await {
            return Err(HmcError::JobTimeout {
                job: job.clone(),
                waited: naps.waited(),
            });
        }
    }
}

fn finish(job: &JobUri, state: Job) -> Result<Job, HmcError> {
    if state.status == JobStatus::Canceled {
        return Err(HmcError::JobCanceled { job: job.clone() });
    }
    if state.succeeded() {
        return Ok(state);
    }
    Err(HmcError::JobFailed {
        job: job.clone(),
        status_code: state.job_status_code.unwrap_or(0),
        reason_code: state.job_reason_code,
        message: state
            .message()
            .unwrap_or("the HMC gave no message")
            .to_owned(),
    })
}
