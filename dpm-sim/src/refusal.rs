//! What the HMC's domains (`hmc/`, `dsm/`) refuse, apart from HTTP: the
//! [`Refusal`] (status, reason code, message), the reason codes both
//! domains answer with, and the one helper that reads a query value as a
//! regular expression. A leaf: it imports no domain, so both use it
//! without importing each other.

use hmc_client::HmcError;

/// Reason codes this simulator answers with. Where HMC.md marks a code
/// unconfirmed, the stricter reading is taken and named here.
pub(crate) mod reason {
    /// Bad query parameter (400.1).
    pub const BAD_QUERY: u16 = 1;
    /// A partition created with no processors: 400.1, as zhmcclient's mock
    /// answers it (HMC.md, corrections).
    pub const NO_PROCESSORS: u16 = 1;
    /// A required field is missing (400.5).
    pub const MISSING_FIELD: u16 = 5;
    /// A name in `properties=` that the object does not have (zhmcclient
    /// reads 400.14 so and fetches the full set instead).
    pub const UNKNOWN_PROPERTY: u16 = 14;
    /// A value is not valid (400.7).
    pub const INVALID_VALUE: u16 = 7;
    /// The object of the URI does not exist (404.1).
    pub const NOT_FOUND: u16 = 1;
    /// An object the body names does not exist (404.2).
    pub const REFERENCED_NOT_FOUND: u16 = 2;
    /// An HBA's `adapter-port-uri` names no port of a known adapter
    /// (zhmcclient's mock; HMC.md, corrections).
    pub const PORT_NOT_FOUND: u16 = 6;
    /// Not in the state the operation needs (409.1).
    pub const WRONG_STATE: u16 = 1;
    /// Duplicate name: unconfirmed, 8 is HMC.md's fair choice (409.8).
    pub const DUPLICATE_NAME: u16 = 8;
    /// The CPC is not in DPM mode (409.5).
    pub const NOT_DPM: u16 = 5;
    /// The job has not ended (409.40, Delete Completed Job Status).
    pub const JOB_NOT_ENDED: u16 = 40;
    /// Wrong password at logon: unconfirmed, 0 is HMC.md's fair choice.
    pub const BAD_LOGON: u16 = 0;
    /// No session header (403.4).
    pub const NO_SESSION: u16 = 4;
    /// An unknown or expired session (403.5).
    pub const BAD_SESSION: u16 = 5;
    /// Job reason code of a failed start (unconfirmed; any non-2xx status
    /// with a message is what clients read).
    pub const JOB_START_FAILED: u16 = 263;
    /// The port is already a candidate (from zhmcclient's mock).
    pub const PORT_ALREADY_CANDIDATE: u16 = 483;
    /// The port is not a candidate (from zhmcclient's mock).
    pub const PORT_NOT_CANDIDATE: u16 = 479;
    /// validate-lun-path: the target is not reachable.
    pub const TARGET_NOT_REACHABLE: u16 = 484;
    /// validate-lun-path: the target is reachable but the LUN is not.
    pub const LUN_NOT_REACHABLE: u16 = 485;
    /// **dpm-sim's own code**: HBA create on a CPC with the
    /// `dpm-storage-management` feature. No public source names the code
    /// a real HMC uses, so the simulator defines and names this one.
    pub const HBAS_NOT_ON_STORAGE_MANAGEMENT: u16 = 490;
}

/// A refusal decided before the request it answers is known: what the
/// domains' transition functions return; [`Refusal::at`] makes the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// HMC reason code.
    pub reason: u16,
    /// Message.
    pub message: String,
}

impl Refusal {
    /// A refusal with this status and reason.
    pub(crate) fn new(status: u16, reason: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    /// 409.1: the object's status does not allow the operation.
    pub(crate) fn wrong_state(message: String) -> Self {
        Self::new(409, reason::WRONG_STATE, message)
    }

    /// The error answering `method uri`.
    pub(crate) fn at(self, method: &'static str, uri: impl Into<String>) -> HmcError {
        HmcError::api(method, uri, self.status, self.reason, self.message)
    }
}

/// An anchored regular expression from a query value (400.1 when bad).
pub(crate) fn anchored(pattern: &str) -> Result<regex_lite::Regex, Refusal> {
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        Refusal::new(
            400,
            reason::BAD_QUERY,
            format!("query value {pattern:?} is not a valid regular expression: {e}"),
        )
    })
}

/// [`anchored`], refused as the answer to `method uri`.
pub(crate) fn regex(
    method: &'static str,
    uri: &str,
    pattern: &str,
) -> Result<regex_lite::Regex, HmcError> {
    anchored(pattern).map_err(|r| r.at(method, uri))
}
