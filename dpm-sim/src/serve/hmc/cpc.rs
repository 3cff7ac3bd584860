//! `GET /api/cpcs` and `GET /api/cpcs/{id}`.

use hmc_client::{CpcUri, HmcError, LunPath};
use serde_json::json;

use super::{allow_query, object, ok, pattern, uri, Ctx};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("GET", ["cpcs"]) => list(ctx, req),
        ("GET", ["cpcs", id]) => get(ctx, req, id),
        ("POST", ["cpcs", id, "operations", "validate-lun-path"]) => {
            validate_lun_path(ctx, req, id)
        }
        _ => return None,
    })
}

fn list(ctx: &Ctx<'_>, req: &Req) -> Result<Resp, HmcError> {
    allow_query(req, "GET", &["name"])?;
    let name = pattern(req.query_all("name"));
    ctx.call(Op::ListCpcs, "GET", |w| {
        ok(200, json!({ "cpcs": w.hmc.list_cpcs(name.as_deref())? }))
    })
}

fn get(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    let cpc: CpcUri = uri(req, "GET", format!("/api/cpcs/{id}"))?;
    ctx.call(Op::GetCpc, "GET", |w| {
        object(req, w.hmc.cpc_properties(&cpc)?)
    })
}

/// `POST /api/cpcs/{id}/operations/validate-lun-path` (storage-management
/// CPCs): 204, or 409.484 / 409.485.
fn validate_lun_path(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    let cpc: CpcUri = uri(req, "POST", format!("/api/cpcs/{id}"))?;
    ctx.call_with_body(req, Op::ValidateLunPath, "POST", |w, path: LunPath| {
        w.validate_lun_path(&cpc, &path).map(|()| Resp::empty(204))
    })
}
