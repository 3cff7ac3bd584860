//! Sessions: logon, logoff, the session check every request but logon and
//! the version query passes, and the API version.

use hmc_client::{ApiVersion, HmcError, LogonResponse, Secret};

use super::{reason, HmcState};
use crate::ids::{unguessable, Ids};

impl HmcState {
    pub(crate) fn logon(
        &mut self,
        ids: &mut Ids,
        userid: &str,
        password: &str,
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
        let n = ids.next_seq();
        let session = format!("sim-session-{n:08x}-{:016x}", unguessable());
        self.sessions.insert(session.clone());
        Ok(LogonResponse {
            api_session: Secret::new(session),
            session_credential: Secret::new(format!("sim-credential-{n:08x}")),
            notification_topic: format!("topic-{n}"),
            job_notification_topic: format!("job-topic-{n}"),
            api_major_version: self.api.0,
            api_minor_version: self.api.1,
            password_expires: None,
        })
    }

    pub(crate) fn logoff(&mut self, session: &str) {
        self.sessions.remove(session);
    }

    /// 403.4 without a session, 403.5 with one the HMC does not know.
    pub(crate) fn check_session(
        &self,
        session: Option<&str>,
        method: &'static str,
        uri: &str,
    ) -> Result<(), HmcError> {
        match session {
            None => Err(HmcError::api(
                method,
                uri,
                403,
                reason::NO_SESSION,
                "The request does not have an X-API-Session header.",
            )),
            Some(s) if !self.sessions.contains(s) => Err(HmcError::api(
                method,
                uri,
                403,
                reason::BAD_SESSION,
                "The session is not valid or has expired.",
            )),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn api_version(&self) -> ApiVersion {
        ApiVersion {
            api_major_version: self.api.0,
            api_minor_version: self.api.1,
            hmc_version: self.version.clone(),
            hmc_name: "dpm-sim".into(),
        }
    }
}
