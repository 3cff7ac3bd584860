//! Errors of the HMC API.

use std::time::Duration;

use crate::ids::JobUri;
use crate::wire::ErrorBody;

/// Whether a request that failed in transport may have reached the HMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The request never left this process (connect failure, TLS failure).
    No,
    /// The request may have been received and acted on (timeout, reset).
    Maybe,
}

/// An HMC operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HmcError {
    /// The HMC answered with an error status and its error body.
    #[error("HMC refused {method} {uri}: HTTP {status} reason {reason}: {message}")]
    Api {
        /// Request method.
        method: &'static str,
        /// Request URI.
        uri: String,
        /// HTTP status.
        status: u16,
        /// HMC reason code.
        reason: u16,
        /// The HMC's message.
        message: String,
    },
    /// An asynchronous job ended with a non-2xx status.
    #[error(
        "HMC job {job} failed: job-status-code {status_code}{}: {message}",
        reason_code.map(|r| format!(" reason {r}")).unwrap_or_default()
    )]
    JobFailed {
        /// The job.
        job: JobUri,
        /// `job-status-code`.
        status_code: u16,
        /// `job-reason-code`.
        reason_code: Option<u16>,
        /// `job-results.message`.
        message: String,
    },
    /// A job was canceled before it completed.
    #[error("HMC job {job} was canceled")]
    JobCanceled {
        /// The job.
        job: JobUri,
    },
    /// A job did not finish within the polling policy's bound.
    #[error("HMC job {job} did not finish within {waited:?}")]
    JobTimeout {
        /// The job.
        job: JobUri,
        /// How long was waited.
        waited: Duration,
    },
    /// The request could not be carried out at the transport level.
    #[error("could not reach the HMC for {method} {uri}")]
    Transport {
        /// Request method.
        method: &'static str,
        /// Request URI.
        uri: String,
        /// Whether the HMC may have acted on it.
        sent: Sent,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A subscription on the HMC's notification service could not be made
    /// (no service configured, not reachable, refused, or the session is
    /// gone). Nothing was asked of the HMC's Web Services API.
    #[error("could not subscribe to the HMC's notification topic {topic}")]
    Notifications {
        /// The topic.
        topic: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The HMC's answer could not be decoded into the expected type.
    #[error("could not decode the HMC's answer to {method} {uri}")]
    Decode {
        /// Request method.
        method: &'static str,
        /// Request URI.
        uri: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl HmcError {
    /// An HMC error answer: `status`, `reason` and `message` for a request.
    pub fn api(
        method: &'static str,
        uri: impl Into<String>,
        status: u16,
        reason: u16,
        message: impl Into<String>,
    ) -> Self {
        Self::Api {
            method,
            uri: uri.into(),
            status,
            reason,
            message: message.into(),
        }
    }

    /// Builds an `Api` error from an HMC error body.
    pub fn from_body(method: &'static str, uri: impl Into<String>, body: ErrorBody) -> Self {
        Self::Api {
            method,
            uri: uri.into(),
            status: body.http_status,
            reason: body.reason,
            message: body.message,
        }
    }

    /// The HTTP status and reason, for `Api` errors.
    pub fn status_reason(&self) -> Option<(u16, u16)> {
        match self {
            Self::Api { status, reason, .. } => Some((*status, *reason)),
            _ => None,
        }
    }

    /// Whether this is the given HTTP status and reason.
    pub fn is(&self, status: u16, reason: u16) -> bool {
        self.status_reason() == Some((status, reason))
    }

    /// Whether the object is gone (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }

    /// Whether the session must be renewed: 403 reason 4 (no session) or 5
    /// (expired or unknown session).
    pub fn is_session_expired(&self) -> bool {
        self.is(403, 4) || self.is(403, 5)
    }

    /// Whether sending the same request again may succeed: the HMC was
    /// busy (409.2: the object is busy with another operation; 503: the
    /// HMC is overloaded) or the request never got an answer. Wrong state
    /// (409.1) is not transient: the caller reads the state instead. This
    /// says nothing of what a request that may have been received already
    /// did; see [`Self::should_resend`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, reason, .. } => (*status, *reason) == (409, 2) || *status == 503,
            Self::Transport { .. } => true,
            Self::Notifications { .. } => true,
            Self::JobFailed { .. } => false,
            Self::JobCanceled { .. } => false,
            Self::JobTimeout { .. } => false,
            Self::Decode { .. } => false,
        }
    }

    /// The one retry rule of the HTTP client: resend when the failure is
    /// transient and the request either is idempotent (`idempotent`: a
    /// GET) or certainly did nothing (a refusal, or a transport failure
    /// before the request was sent). A request that may have taken effect
    /// is never resent blindly: the caller reconciles it by reading state.
    pub fn should_resend(&self, idempotent: bool) -> bool {
        self.is_retryable() && (idempotent || !self.may_have_taken_effect())
    }

    /// Whether the failed request may have been acted on by the HMC. A
    /// refusal (`Api`) was not; a transport failure after sending may have
    /// been; an undecodable success was.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            Self::Transport { sent, .. } => *sent == Sent::Maybe,
            Self::Api { .. } => false,
            Self::Notifications { .. } => false,
            Self::JobFailed { .. } => true,
            Self::JobCanceled { .. } => true,
            Self::JobTimeout { .. } => true,
            Self::Decode { .. } => true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failed_job_says_its_reason_as_a_number_or_not_at_all() {
        let job = JobUri::from_object_id("j1").unwrap();
        let failed = |reason_code| HmcError::JobFailed {
            job: job.clone(),
            status_code: 500,
            reason_code,
            message: "the boot failed".into(),
        };
        assert_eq!(
            failed(Some(263)).to_string(),
            "HMC job /api/jobs/j1 failed: job-status-code 500 reason 263: the boot failed"
        );
        assert_eq!(
            failed(None).to_string(),
            "HMC job /api/jobs/j1 failed: job-status-code 500: the boot failed"
        );
    }
}
