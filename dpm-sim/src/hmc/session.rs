//! Sessions: logon, logoff, the session check every request but logon and
//! the version query passes, and the API version.
//!
//! Session ids have the real HMC's form: the WS API book calls
//! `X-API-Session` "an opaque string that provides a cryptographically
//! strong identifier of the API session", and the logon answers seen in
//! public test data carry 50 characters of lower-case letters and digits
//! (`api-session`), 49 of the same for `session-credential`, and topics
//! named after the user (`APIUSER.229`, `APIUSER.229job`). The simulator
//! draws its ids the same way (see [`crate::ids::opaque_token`]); an id is
//! never shown by `Debug`, so no log line or state dump carries it.

use std::borrow::Borrow;
use std::fmt;
use std::time::Duration;

use hmc_client::{ApiVersion, HmcError, LogonResponse, Secret};

use super::{reason, HmcState};
use crate::ids::opaque_token;

/// Length of an `api-session` (as on the real HMC).
pub(crate) const SESSION_ID_LEN: usize = 50;
/// Length of a `session-credential` (as on the real HMC).
pub(crate) const CREDENTIAL_LEN: usize = 49;

/// A session id: the key of a session, a secret of its holder. `Debug`
/// shows only that it is one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SessionId(String);

impl SessionId {
    pub(crate) fn new(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

// Ordering, equality and hashing are the inner string's, so maps keyed by
// a session id can be searched with the plain string.
impl Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Borrow<String> for SessionId {
    fn borrow(&self) -> &String {
        &self.0
    }
}

/// How long an unused session lives (**unconfirmed**: the HMC's own idle
/// timeout is configurable; long enough not to disturb any client here).
pub(crate) const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// A logged-on session. `Debug` leaves the credential out.
#[derive(Clone)]
pub(crate) struct SessionState {
    /// When it was last used.
    pub used: Duration,
    /// Its `session-credential` (a notification-service passcode).
    pub credential: String,
    /// Its object notification topic.
    pub object_topic: String,
    /// Its job notification topic.
    pub job_topic: String,
}

impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("used", &self.used)
            .field("credential", &"<redacted>")
            .field("object_topic", &self.object_topic)
            .field("job_topic", &self.job_topic)
            .finish()
    }
}

use crate::ids::Ids;

impl HmcState {
    pub(crate) fn logon(
        &mut self,
        ids: &mut Ids,
        userid: &str,
        password: &str,
        now: Duration,
    ) -> Result<LogonResponse, HmcError> {
        if userid != self.userid || password != self.password {
            return Err(HmcError::api(
                "POST",
                "/api/sessions",
                403,
                reason::BAD_LOGON,
                "Logon failed: the user ID or password is not valid.",
            ));
        }
        // Sessions idle for long are gone (and take no memory).
        self.sessions
            .retain(|_, s| now.saturating_sub(s.used) < SESSION_IDLE);
        let n = ids.next_seq();
        // 50 random base-36 characters: a repeat is as good as impossible,
        // but a live id is never handed out twice.
        let session = loop {
            let id = opaque_token(SESSION_ID_LEN);
            if !self.sessions.contains_key(id.as_str()) {
                break id;
            }
        };
        // The HMC names a session's topics after its user.
        let user = self.userid.to_uppercase();
        let state = SessionState {
            used: now,
            credential: opaque_token(CREDENTIAL_LEN),
            object_topic: format!("{user}.{n}"),
            job_topic: format!("{user}.{n}job"),
        };
        let reply = LogonResponse {
            api_session: Secret::new(session.clone()),
            session_credential: Secret::new(state.credential.clone()),
            notification_topic: state.object_topic.clone(),
            job_notification_topic: state.job_topic.clone(),
            api_major_version: self.api.0,
            api_minor_version: self.api.1,
            password_expires: None,
        };
        self.sessions.insert(SessionId::new(session), state);
        Ok(reply)
    }

    /// Whether `login`/`passcode` may connect to the notification service:
    /// the HMC user and password, or a live session's id and credential
    /// (what zhmcclient's receiver sends).
    pub(crate) fn notification_login(&self, login: &str, passcode: &str) -> bool {
        (login == self.userid && passcode == self.password)
            || self
                .sessions
                .get(login)
                .is_some_and(|s| s.credential == passcode)
    }

    pub(crate) fn logoff(&mut self, session: &str) {
        self.sessions.remove(session);
    }

    /// 403.4 without a session, 403.5 with one the HMC does not know (or
    /// that was idle for [`SESSION_IDLE`]); a good one counts as used now.
    pub(crate) fn check_session(
        &mut self,
        session: Option<&str>,
        method: &'static str,
        uri: &str,
        now: Duration,
    ) -> Result<(), HmcError> {
        if let Some(s) = session {
            match self.sessions.get_mut(s) {
                Some(st) if now.saturating_sub(st.used) < SESSION_IDLE => st.used = now,
                Some(_) => {
                    self.sessions.remove(s);
                }
                None => {}
            }
        }
        match session {
            None => Err(HmcError::api(
                method,
                uri,
                403,
                reason::NO_SESSION,
                "The request does not have an X-API-Session header.",
            )),
            Some(s) if !self.sessions.contains_key(s) => Err(HmcError::api(
                method,
                uri,
                403,
                reason::BAD_SESSION,
                "x-api-session header did not map to a known session",
            )),
            Some(s) => {
                // What this request begins (a job) is this session's.
                self.acting_session = Some(SessionId::new(s.to_owned()));
                Ok(())
            }
        }
    }

    pub(crate) fn api_version(&self) -> ApiVersion {
        ApiVersion {
            api_major_version: self.api.0,
            api_minor_version: self.api.1,
            hmc_version: self.version.clone(),
            hmc_name: super::HMC_NAME.into(),
        }
    }
}
