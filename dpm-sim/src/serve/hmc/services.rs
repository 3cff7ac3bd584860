//! Services: the bulk read (`POST /api/services/aggregation/submit`), which
//! zhmcclient uses for every list with full properties.

use hmc_client::{BulkSubmit, HmcError};

use super::{ok, Ctx};
use crate::serve::http::{Req, Resp};

/// "Submit Requests".
pub(super) fn submit(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    ctx.call_with_body(req, |w, b: BulkSubmit| ok(200, w.bulk(&b.requests)))
}
