//! A partition's vHBAs: create, read, update, delete.

use hmc_client::{CreatedElement, HbaCreate, HbaUri, HmcError, PartitionUri};

use super::{object, ok, places, uri, Ctx};
use crate::serve::http::{Req, Resp};

/// "Create HBA".
pub(super) fn create(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let p: PartitionUri = uri(req, ctx.method(), format!("/api/partitions/{id}"))?;
    ctx.call_with_body(req, |w, props: HbaCreate| {
        ok(
            201,
            CreatedElement {
                element_uri: w.create_hba(&p, &props)?,
            },
        )
    })
}

fn hba(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<HbaUri, HmcError> {
    let [id, hid] = places(req, ids)?;
    uri(
        req,
        ctx.method(),
        format!("/api/partitions/{id}/hbas/{hid}"),
    )
}

/// "Get HBA Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let h = hba(ctx, req, ids)?;
    ctx.call(|w| object(req, w.hmc.get_hba(&h)?))
}

/// "Update HBA Properties".
pub(super) fn update(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let h = hba(ctx, req, ids)?;
    ctx.call_with_body(req, |w, u: HbaUpdate| {
        w.hmc
            .update_hba(
                &h,
                u.name.as_deref(),
                u.description.as_deref(),
                u.device_number,
            )
            .map(|()| Resp::empty(204))
    })
}

/// "Delete HBA".
pub(super) fn delete(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let h = hba(ctx, req, ids)?;
    ctx.call(|w| w.delete_hba(&h).map(|()| Resp::empty(204)))
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
