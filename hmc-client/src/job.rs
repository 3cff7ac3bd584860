//! Waiting for asynchronous HMC jobs with a bounded polling policy.

use std::time::Duration;

use tokio::time::Instant;

use crate::api::{HmcApi, JobAnnouncement};
use crate::error::HmcError;
use crate::ids::JobUri;
use crate::wire::{Job, JobStatus};

/// How to poll a job: at once, then at intervals that grow with the time
/// waited, up to a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// The shortest wait between polls (and the first one).
    pub first_interval: Duration,
    /// How late, as a share of the time waited so far, the end may be
    /// seen, in percent: each wait is this share of the time waited (at
    /// least `first_interval`, at most `max_interval`); a poll's own round
    /// trip comes on top. 8 sees a 60 s job end within 4.8 s, in about 64
    /// polls; a job of 3 s within 0.24 s, in about 25. Job notifications,
    /// where the HMC offers them, need none.
    pub lag_percent: u32,
    /// The longest interval.
    pub max_interval: Duration,
    /// The longest total wait before giving up.
    pub timeout: Duration,
}

impl Default for PollPolicy {
    /// 0.1 s at first, then 8 % of the time waited, at most 5 s, for at
    /// most 15 minutes: partition start can take minutes on a loaded CPC.
    /// A job's end is seen within 10 % of its length, its last poll's
    /// round trip included.
    fn default() -> Self {
        Self {
            first_interval: Duration::from_millis(100),
            lag_percent: 8,
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

impl PollPolicy {
    /// The waits between polls, from now: a share of the time waited so
    /// far, so that an end is seen late by at most that share (plus one
    /// request), whatever the job's length; each cut to what is left of
    /// the timeout.
    pub fn naps(&self) -> Naps {
        Naps {
            started: Instant::now(),
            policy: self.clone(),
        }
    }
}

/// The waits of one polling loop (see [`PollPolicy::naps`]).
#[derive(Debug)]
pub struct Naps {
    started: Instant,
    policy: PollPolicy,
}

impl Naps {
    /// How long the loop has run.
    pub fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// The wait before the next poll, from now; `None` when the timeout is
    /// spent. A loop that also wakes for something else (a resend) sleeps
    /// the shorter of this and its own wait, and asks again.
    pub fn next(&self) -> Option<Duration> {
        let p = &self.policy;
        let waited = self.waited();
        let left = p.timeout.saturating_sub(waited);
        if left.is_zero() {
            return None;
        }
        let share = waited.saturating_mul(p.lag_percent) / 100;
        let nap = share
            .max(p.first_interval)
            .min(p.max_interval.max(p.first_interval));
        Some(nap.min(left))
    }

    /// Sleeps until the next poll; false when the timeout is spent.
    pub async fn wait(&mut self) -> bool {
        match self.next() {
            Some(nap) => {
                tokio::time::sleep(nap).await;
                true
            }
            None => false,
        }
    }
}

/// Polls `job` until it ends, then deletes it (as the reference client does).
///
/// Returns the finished job when its status code is 2xx; a failed job is
/// [`HmcError::JobFailed`] with the HMC's status, reason and message, and a
/// job still running after `policy.timeout` is [`HmcError::JobTimeout`] (the
/// job is then left for the HMC to expire). Waiting uses tokio time, so
/// tests on a paused clock do not sleep. Where the client receives the
/// HMC's job notifications ([`HmcApi::job_announced`]), the job is read
/// once, when its end is announced: no polling. The wait is a
/// `wait_for_job` span (info) with the job's URI, and its end is logged
/// with the time waited.
#[tracing::instrument(level = "info", skip_all, fields(job = %job))]
pub async fn wait_for_job(
    hmc: &(impl HmcApi + ?Sized),
    job: &JobUri,
    policy: &PollPolicy,
) -> Result<Job, HmcError> {
    // Where the HMC announces the job's end, wait for that and read the
    // job once; otherwise poll.
    let deadline = tokio::time::Instant::now() + policy.timeout;
    match hmc.job_announced(job, deadline).await {
        JobAnnouncement::Ended | JobAnnouncement::NotWatched => {}
        JobAnnouncement::NotYet => {
            let state = hmc.get_job(job).await?;
            if !state.is_finished() {
                return Err(HmcError::JobTimeout {
                    job: job.clone(),
                    waited: policy.timeout,
                });
            }
            if let Err(e) = hmc.delete_job(job).await {
                tracing::debug!(job = %job, error = %e, "could not delete finished job");
            }
            return finish(job, state);
        }
    }
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
