//! A partition's vHBAs: create, read, update, delete.

use hmc_client::{CreatedElement, HbaCreate, HbaUri, HmcError, PartitionUri};

use super::{object, ok, uri, Ctx};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("POST", ["partitions", id, "hbas"]) => create(ctx, req, id),
        (m @ ("GET" | "POST" | "DELETE"), ["partitions", id, "hbas", hid]) => {
            one(ctx, req, m, id, hid)
        }
        _ => return None,
    })
}

fn create(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    let p: PartitionUri = uri(req, "POST", format!("/api/partitions/{id}"))?;
    ctx.call_with_body(req, Op::CreateHba, |w, props: HbaCreate| {
        ok(
            201,
            CreatedElement {
                element_uri: w.create_hba(&p, &props)?,
            },
        )
    })
}

fn one(ctx: &Ctx<'_>, req: &Req, method: &str, id: &str, hid: &str) -> Result<Resp, HmcError> {
    let h: HbaUri = uri(req, "GET", format!("/api/partitions/{id}/hbas/{hid}"))?;
    if method == "GET" {
        ctx.call(Op::GetHba, |w| object(req, w.hmc.get_hba(&h)?))
    } else if method == "POST" {
        ctx.call_with_body(req, Op::UpdateHba, |w, u: HbaUpdate| {
            w.hmc
                .update_hba(
                    &h,
                    u.name.as_deref(),
                    u.description.as_deref(),
                    u.device_number,
                )
                .map(|()| Resp::empty(204))
        })
    } else {
        ctx.call(Op::DeleteHba, |w| {
            w.delete_hba(&h).map(|()| Resp::empty(204))
        })
    }
}

/// The writable properties of an HBA.
#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct HbaUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    device_number: Option<fc_types::DeviceNumber>,
}
