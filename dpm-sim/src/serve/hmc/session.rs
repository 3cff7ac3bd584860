//! `GET /api/version`, logon and logoff.

use hmc_client::{HmcError, LogonRequest};

use super::{bad_body, ok, Ctx};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("GET", ["version"]) => ctx.call(Op::ApiVersion, |w| ok(200, w.hmc.api_version())),
        ("POST", ["sessions"]) => logon(ctx, req),
        ("DELETE", ["sessions", "this-session"]) => ctx.call(Op::Logoff, |w| {
            if let Some(s) = ctx.session {
                w.hmc.logoff(s);
            }
            Ok(Resp::empty(204))
        }),
        _ => return None,
    })
}

fn logon(ctx: &Ctx<'_>, req: &Req) -> Result<Resp, HmcError> {
    let v = req.json().map_err(|e| bad_body(req, "POST", &e, false))?;
    let logon: LogonRequest =
        serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, false))?;
    ctx.call(Op::Logon, |w| {
        let now = w.now();
        ok(
            200,
            w.hmc
                .logon(&mut w.ids, &logon.userid, logon.password.expose(), now)?,
        )
    })
}
