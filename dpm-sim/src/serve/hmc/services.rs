//! Services: the bulk read (`POST /api/services/aggregation/submit`), which
//! zhmcclient uses for every list with full properties.

use hmc_client::{BulkSubmit, HmcError};

use super::{ok, Ctx};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("POST", ["services", "aggregation", "submit"]) => {
            ctx.call_with_body(req, Op::SubmitRequests, |w, b: BulkSubmit| {
                ok(200, w.bulk(&b.requests))
            })
        }
        _ => return None,
    })
}
