//! Jobs: what a start or stop answers with, polled until it ends, then
//! deleted by the client. How a job ends is [`start_outcome`] or
//! [`stop_outcome`]; what a poll answers is [`JobState::view`].

use hmc_client::{HmcError, Job, JobStatus, JobUri};

use super::{reason, HmcState};

/// How a job ended: the HTTP status of its operation, and on failure a
/// reason code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobOutcome {
    pub status: u16,
    pub reason: Option<u16>,
    pub message: Option<String>,
}

#[derive(Debug)]
pub(crate) struct JobState {
    /// The object id of the partition the job works on; `None` for a job
    /// on another object (a storage group's discovery).
    pub partition: Option<String>,
    /// `None` while running.
    pub outcome: Option<JobOutcome>,
    /// Ended by being canceled (a discovery superseded by a forced
    /// restart).
    pub canceled: bool,
    /// The job notification topic of the session that began it: where
    /// its completion is announced.
    pub topic: Option<String>,
}

impl JobState {
    /// A job that has just begun on `partition`.
    pub(crate) fn running(partition: &str) -> Self {
        Self {
            partition: Some(partition.into()),
            outcome: None,
            canceled: false,
            topic: None,
        }
    }

    /// A job that has just begun on an object that is not a partition.
    pub(crate) fn running_elsewhere() -> Self {
        Self {
            partition: None,
            outcome: None,
            canceled: false,
            topic: None,
        }
    }

    /// What polling the job answers.
    pub(crate) fn view(&self) -> Job {
        match &self.outcome {
            None => Job {
                status: JobStatus::Running,
                job_status_code: None,
                job_reason_code: None,
                job_results: None,
            },
            Some(o) => Job {
                status: if self.canceled {
                    JobStatus::Canceled
                } else {
                    JobStatus::Complete
                },
                job_status_code: Some(o.status),
                job_reason_code: o.reason,
                job_results: o
                    .message
                    .as_ref()
                    .map(|m| serde_json::json!({ "message": m })),
            },
        }
    }
}

/// How a start job ends from its verdict: 200, or 500 with the start
/// failure's reason code and the verdict as its message.
pub(crate) fn start_outcome(verdict: Result<(), String>) -> JobOutcome {
    match verdict {
        Ok(()) => JobOutcome {
            status: 200,
            reason: None,
            message: None,
        },
        Err(msg) => JobOutcome {
            status: 500,
            reason: Some(reason::JOB_START_FAILED),
            message: Some(msg),
        },
    }
}

/// How a job with no results ends (a stop, a discovery): 204.
pub(crate) fn no_content_outcome() -> JobOutcome {
    stop_outcome()
}

/// How a stop job ends: 204.
pub(crate) fn stop_outcome() -> JobOutcome {
    JobOutcome {
        status: 204,
        reason: None,
        message: None,
    }
}

impl HmcState {
    /// A job on an object that is not a partition; it runs until
    /// [`HmcState::end_job`] or [`HmcState::cancel_job`].
    pub(crate) fn new_job_elsewhere(&mut self, id: &str) -> JobUri {
        self.begin_job(id, JobState::running_elsewhere())
    }

    /// Records a job that has just begun, on behalf of the acting session
    /// (its completion is announced on that session's job topic).
    pub(super) fn begin_job(&mut self, id: &str, mut job: JobState) -> JobUri {
        job.topic = self
            .acting_session
            .as_ref()
            .and_then(|s| self.sessions.get(s))
            .map(|s| s.job_topic.clone());
        self.jobs.insert(id.to_owned(), job);
        JobUri::from_object_id(id).unwrap_or_else(|_| crate::ids::unreachable_uri())
    }

    /// Ends a running job with `outcome` (nothing if it already ended or
    /// was deleted).
    pub(crate) fn end_job(&mut self, id: &str, outcome: JobOutcome) {
        self.complete_job(id, outcome, false);
    }

    /// Ends a running job as canceled, with `outcome` as its status code,
    /// reason and message.
    pub(crate) fn cancel_job(&mut self, id: &str, outcome: JobOutcome) {
        self.complete_job(id, outcome, true);
    }

    /// Every job ends here: its outcome is set once, and its completion is
    /// put out for the session that began it.
    pub(super) fn complete_job(&mut self, id: &str, outcome: JobOutcome, canceled: bool) {
        let Some(j) = self.jobs.get_mut(id).filter(|j| j.outcome.is_none()) else {
            return;
        };
        j.canceled = canceled;
        j.outcome = Some(outcome);
        if let Some(topic) = j.topic.clone() {
            let uri = JobUri::from_object_id(id).unwrap_or_else(|_| crate::ids::unreachable_uri());
            self.completed.push((topic, uri));
        }
    }

    pub(crate) fn get_job(&self, uri: &JobUri) -> Result<Job, HmcError> {
        let j = self.jobs.get(uri.object_id()).ok_or_else(|| {
            HmcError::api(
                "GET",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No job {uri}."),
            )
        })?;
        Ok(j.view())
    }

    pub(crate) fn delete_job(&mut self, uri: &JobUri) -> Result<(), HmcError> {
        let j = self.jobs.get(uri.object_id()).ok_or_else(|| {
            HmcError::api(
                "DELETE",
                uri.as_str(),
                404,
                reason::NOT_FOUND,
                format!("No job {uri}."),
            )
        })?;
        if j.outcome.is_none() {
            return Err(HmcError::api(
                "DELETE",
                uri.as_str(),
                409,
                reason::JOB_NOT_ENDED,
                "The job has not ended.",
            ));
        }
        self.jobs.remove(uri.object_id());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_that_passes_ends_200() {
        assert_eq!(
            start_outcome(Ok(())),
            JobOutcome {
                status: 200,
                reason: None,
                message: None
            }
        );
    }

    #[test]
    fn a_start_that_fails_ends_500_263_with_its_message() {
        assert_eq!(
            start_outcome(Err("Boot failed: no LUN.".into())),
            JobOutcome {
                status: 500,
                reason: Some(263),
                message: Some("Boot failed: no LUN.".into())
            }
        );
    }

    #[test]
    fn a_stop_ends_204() {
        assert_eq!(stop_outcome().status, 204);
        assert_eq!(stop_outcome().message, None);
    }

    #[test]
    fn a_poll_answers_running_then_complete() {
        let mut j = JobState::running("p");
        assert_eq!(j.view().status, JobStatus::Running);
        assert_eq!(j.view().job_status_code, None);
        j.outcome = Some(start_outcome(Err("no".into())));
        let v = j.view();
        assert_eq!(v.status, JobStatus::Complete);
        assert_eq!(
            (v.job_status_code, v.job_reason_code),
            (Some(500), Some(263))
        );
        assert_eq!(v.job_results, Some(serde_json::json!({ "message": "no" })));
    }
}
