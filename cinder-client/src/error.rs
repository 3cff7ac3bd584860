//! Errors of the Cinder API, after Cinder's error body
//! `{"badRequest": {"code": 400, "message": "..."}}`.

use std::fmt;

/// The name Cinder gives a fault in its error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// 400.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    ItemNotFound,
    /// 405.
    BadMethod,
    /// 409.
    ConflictingRequest,
    /// 413.
    OverLimit,
    /// 415.
    BadMediaType,
    /// 501.
    NotImplemented,
    /// 503.
    ServiceUnavailable,
    /// 500, 406 (a microversion it does not support) and anything else.
    ComputeFault,
}

impl FaultKind {
    /// The fault name for an HTTP status, as Cinder maps them.
    pub fn for_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::ItemNotFound,
            405 => Self::BadMethod,
            409 => Self::ConflictingRequest,
            413 => Self::OverLimit,
            415 => Self::BadMediaType,
            501 => Self::NotImplemented,
            503 => Self::ServiceUnavailable,
            _ => Self::ComputeFault,
        }
    }

    /// The key of the error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "badRequest",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::ItemNotFound => "itemNotFound",
            Self::BadMethod => "badMethod",
            Self::ConflictingRequest => "conflictingRequest",
            Self::OverLimit => "overLimit",
            Self::BadMediaType => "badMediaType",
            Self::NotImplemented => "notImplemented",
            Self::ServiceUnavailable => "serviceUnavailable",
            Self::ComputeFault => "computeFault",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Cinder operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CinderError {
    /// Cinder answered with an error status and body.
    #[error("Cinder refused {operation}: HTTP {status} {kind}: {message}")]
    Api {
        /// What was asked, e.g. "update attachment 1f0c...".
        operation: String,
        /// HTTP status.
        status: u16,
        /// Fault name.
        kind: FaultKind,
        /// Cinder's message.
        message: String,
    },
    /// The request could not be carried out at the transport level.
    #[error("could not reach Cinder for {operation}")]
    Transport {
        /// What was asked.
        operation: String,
        /// Whether Cinder may have acted on it.
        maybe_sent: bool,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Cinder's answer did not decode.
    #[error("could not decode Cinder's answer to {operation}")]
    Decode {
        /// What was asked.
        operation: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl CinderError {
    /// An `Api` error with the fault name that goes with `status`.
    pub fn api(operation: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Self::Api {
            operation: operation.into(),
            status,
            kind: FaultKind::for_status(status),
            message: message.into(),
        }
    }

    /// The HTTP status, for `Api` errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether repeating the request may succeed: Cinder (or the proxy in
    /// front of it) is unavailable (503), or the request got no answer. A
    /// 409 is a conflict with the volume's state, not a passing condition.
    /// See [`Self::should_resend`] for whether a request may be resent.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status == 503,
            Self::Transport { .. } => true,
            Self::Decode { .. } => false,
        }
    }

    /// The one retry rule of the HTTP client, the HMC client's rule: resend
    /// when the failure is transient and the request either is idempotent
    /// (a GET) or certainly did nothing. A request that may have taken
    /// effect is never resent blindly.
    pub fn should_resend(&self, idempotent: bool) -> bool {
        self.is_retryable() && (idempotent || !self.may_have_taken_effect())
    }

    /// Whether the failed request may have been acted on by Cinder.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            Self::Api { .. } => false,
            Self::Transport { maybe_sent, .. } => *maybe_sent,
            Self::Decode { .. } => true,
        }
    }
}
