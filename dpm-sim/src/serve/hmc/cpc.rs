//! `GET /api/cpcs`, `GET /api/cpcs/{id}` and the CPC's validate-lun-path.

use hmc_client::{CpcUri, HmcError, LunPath};
use serde_json::json;

use super::{object, ok, pattern, places, uri, Ctx};
use crate::serve::http::{Req, Resp};

/// "List CPC Objects": `name` (a regular expression) filters.
pub(super) fn list(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let name = pattern(req.query_all("name"));
    ctx.call(|w| ok(200, json!({ "cpcs": w.hmc.list_cpcs(name.as_deref())? })))
}

/// "Get CPC Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let cpc: CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    ctx.call(|w| object(req, w.hmc.cpc_properties(&cpc)?))
}

/// `POST /api/cpcs/{id}/operations/validate-lun-path` (storage-management
/// CPCs): 204, or 409.484 / 409.485.
pub(super) fn validate_lun_path(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let cpc: CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    ctx.call_with_body(req, |w, path: LunPath| {
        w.validate_lun_path(&cpc, &path).map(|()| Resp::empty(204))
    })
}
