//! Jobs: poll and delete.

use hmc_client::{HmcError, JobUri};

use super::{object, uri, Ctx};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        (m @ ("GET" | "DELETE"), ["jobs", id]) => one(ctx, req, m, id),
        _ => return None,
    })
}

fn one(ctx: &Ctx<'_>, req: &Req, method: &str, id: &str) -> Result<Resp, HmcError> {
    let j: JobUri = uri(req, "GET", format!("/api/jobs/{id}"))?;
    if method == "GET" {
        ctx.call(Op::GetJob, |w| object(req, w.hmc.get_job(&j)?))
    } else {
        ctx.call(Op::DeleteJob, |w| {
            w.hmc.delete_job(&j).map(|()| Resp::empty(204))
        })
    }
}
