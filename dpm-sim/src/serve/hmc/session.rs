//! `GET /api/version`, logon and logoff.

use hmc_client::{HmcError, LogonRequest};

use super::{bad_body, ok, Ctx};
use crate::serve::http::{Req, Resp};

/// "Query API Version".
pub(super) fn api_version(ctx: &Ctx<'_>, _req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    ctx.call(|w| ok(200, w.hmc.api_version()))
}

/// "Logon": the body is read before the call (a bad one is not counted).
pub(super) fn logon(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let v = req.json().map_err(|e| bad_body(req, "POST", &e, false))?;
    let logon: LogonRequest =
        serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, false))?;
    ctx.call(|w| {
        let now = w.now();
        ok(
            200,
            w.hmc
                .logon(&mut w.ids, &logon.userid, logon.password.expose(), now)?,
        )
    })
}

/// "Logoff" of the request's session.
pub(super) fn logoff(ctx: &Ctx<'_>, _req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    ctx.call(|w| {
        if let Some(s) = ctx.session {
            w.hmc.logoff(s);
        }
        Ok(Resp::empty(204))
    })
}
