//! Jobs: poll and delete.

use hmc_client::{HmcError, JobUri};

use super::{object, places, uri, Ctx};
use crate::serve::http::{Req, Resp};

fn job(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<JobUri, HmcError> {
    let [id] = places(req, ids)?;
    uri(req, ctx.method(), format!("/api/jobs/{id}"))
}

/// "Query Job Status".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let j = job(ctx, req, ids)?;
    ctx.call(|w| object(req, w.hmc.get_job(&j)?))
}

/// "Delete Completed Job Status".
pub(super) fn delete(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let j = job(ctx, req, ids)?;
    ctx.call(|w| w.hmc.delete_job(&j).map(|()| Resp::empty(204)))
}
