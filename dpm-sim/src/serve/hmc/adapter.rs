//! A CPC's adapters, one adapter, and an adapter's storage ports.

use hmc_client::{AdapterFilter, AdapterType, AdapterUri, CpcUri, HmcError, StoragePortUri};
use serde_json::json;

use super::{object, ok, pattern, places, property_names, uri, with_additional, Ctx};
use crate::serve::http::{Req, Resp};

/// "List Adapters of a CPC": `name` (a regular expression), `adapter-id`,
/// `type`, `adapter-family` and `status` filter on the server;
/// `additional-properties` adds properties of each adapter.
pub(super) fn list(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let extra = property_names(req, "additional-properties");
    let cpc: CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    let types = req.query_all("type");
    let filter = AdapterFilter {
        adapter_type: types.first().map(|t| AdapterType::from(*t)),
        name: pattern(req.query_all("name")),
    };
    ctx.call(|w| {
        let mut list = w.hmc.list_adapters(
            &cpc,
            &AdapterFilter {
                adapter_type: None,
                ..filter.clone()
            },
        )?;
        if !types.is_empty() {
            list.retain(|a| types.contains(&a.adapter_type.as_str()));
        }
        for (k, v) in [
            ("adapter-family", req.query_all("adapter-family")),
            ("status", req.query_all("status")),
            ("adapter-id", req.query_all("adapter-id")),
        ] {
            if !v.is_empty() {
                list.retain(|a| {
                    let have = match k {
                        "status" => a.status.clone(),
                        "adapter-id" => a.adapter_id.clone(),
                        _ => a.adapter_family.clone(),
                    };
                    have.is_some_and(|h| v.contains(&h.as_str()))
                });
            }
        }
        if extra.is_empty() {
            return ok(200, json!({ "adapters": list }));
        }
        let mut out = Vec::new();
        for a in list {
            let full = w.adapter_properties(&a.object_uri)?;
            out.push(with_additional(a, full, &extra));
        }
        ok(200, json!({ "adapters": out }))
    })
}

/// "Get Adapter Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let a: AdapterUri = uri(req, ctx.method(), format!("/api/adapters/{id}"))?;
    ctx.call(|w| object(req, w.adapter_properties(&a)?))
}

/// "Get Storage Port Properties".
pub(super) fn get_port(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id, n] = places(req, ids)?;
    let p: StoragePortUri = uri(
        req,
        ctx.method(),
        format!("/api/adapters/{id}/storage-ports/{n}"),
    )?;
    ctx.call(|w| object(req, w.get_storage_port(&p)?))
}

/// "Get Partitions Assigned to Adapter": `object-uri`, `name` and `status`
/// of each partition with a vHBA or a VSR on the adapter; `name` (a
/// regular expression) and `status` filter on the server.
pub(super) fn assigned(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let a: AdapterUri = uri(req, ctx.method(), format!("/api/adapters/{id}"))?;
    let names = pattern(req.query_all("name"));
    let statuses = req.query_all("status");
    ctx.call(|w| {
        let name_re = names
            .as_deref()
            .map(|n| crate::hmc::regex("GET", &req.path, n))
            .transpose()?;
        let list: Vec<_> = w
            .partitions_on_adapter(&a)?
            .into_iter()
            .filter(|p| name_re.as_ref().is_none_or(|r| r.is_match(&p.name)))
            .filter(|p| statuses.is_empty() || statuses.contains(&p.status.as_str()))
            .map(|p| json!({"object-uri": p.object_uri, "name": p.name, "status": p.status}))
            .collect();
        ok(200, json!({ "partitions-assigned-to-adapter": list }))
    })
}
