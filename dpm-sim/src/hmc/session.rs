//! Sessions: logon, logoff, the session check every request but logon and
//! the version query passes, and the API version.

use hmc_client::{ApiVersion, HmcError, LogonResponse, Secret};

use std::time::Duration;

use super::{reason, HmcState};

/// How long an unused session lives (**unconfirmed**: the HMC's own idle
/// timeout is configurable; long enough not to disturb any client here).
pub(crate) const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// A logged-on session.
#[derive(Debug, Clone)]
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
use crate::ids::{unguessable, Ids};

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
        let session = format!("sim-session-{n:08x}-{:016x}", unguessable());
        let state = SessionState {
            used: now,
            credential: format!("sim-credential-{n:08x}-{:016x}", unguessable()),
            object_topic: format!("topic-{n}"),
            job_topic: format!("job-topic-{n}"),
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
        self.sessions.insert(session, state);
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
                self.acting_session = Some(s.to_owned());
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
