//! The console: its properties (`GET /api/console`, with `properties=`),
//! the OS messages of a partition (its console log), and its cross-CPC
//! listings, as current tools list
//! (`zhmc partition list`, `zhmc adapter list`): "List Permitted
//! Partitions" and "List Permitted Adapters", with their server-side
//! filters and `additional-properties`; and the console's and the CPC's
//! API features.

use hmc_client::{AdapterFilter, CpcSummary, HmcError, PartitionFilter};
use serde_json::{json, Value};

use super::{object, ok, pattern, places, property_names, uri, with_additional, Ctx};
use crate::serve::http::{Req, Resp};
use crate::world::World;

/// "Get Console Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    ctx.call(|w| object(req, w.hmc.console()))
}

/// "List Console API Features": a JSON array of names, as zhmcclient
/// reads it (`set(response)`); `name` (a regular expression) filters.
pub(super) fn features(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let name = req.query_all("name").first().map(|s| (*s).to_owned());
    ctx.call(|w| ok(200, w.hmc.list_features(&req.path, name.as_deref())?))
}

/// "List CPC API Features": as the console's, for a CPC that exists.
pub(super) fn cpc_features(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let name = req.query_all("name").first().map(|s| (*s).to_owned());
    let cpc: hmc_client::CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    ctx.call(|w| {
        w.hmc.get_cpc(&cpc)?;
        ok(200, w.hmc.list_features(&req.path, name.as_deref())?)
    })
}

/// Keeps the items whose `key` is one of the query's values for it (a
/// query key given several times is ORed, as the HMC does).
fn keep(items: &mut Vec<Value>, req: &Req, key: &str) {
    let wanted = req.query_all(key);
    if wanted.is_empty() {
        return;
    }
    items.retain(|i| {
        let have = match &i[key] {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            _ => return false,
        };
        wanted.contains(&have.as_str())
    });
}

/// The CPCs the `cpc-name` filter lets through (this HMC manages one).
fn cpcs(w: &World, req: &Req) -> Result<Vec<CpcSummary>, HmcError> {
    w.hmc
        .list_cpcs(pattern(req.query_all("cpc-name")).as_deref())
}

/// "List Permitted Partitions".
pub(super) fn partitions(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let extra = property_names(req, "additional-properties");
    let filter = PartitionFilter {
        name: pattern(req.query_all("name")),
        status: None,
    };
    ctx.call(|w| {
        let mut items = Vec::new();
        for cpc in cpcs(w, req)? {
            if !cpc.dpm_enabled {
                continue;
            }
            for p in w.hmc.list_partitions(&cpc.object_uri, &filter)? {
                let full = super::partition::properties(w, &p.object_uri)?;
                let entry = json!({
                    "name": p.name,
                    "object-uri": p.object_uri,
                    "type": p.partition_type,
                    "status": p.status,
                    "has-unacceptable-status": full.read_only.has_unacceptable_status,
                    "cpc-name": cpc.name,
                    "cpc-object-uri": cpc.object_uri,
                    "se-version": cpc.se_version,
                });
                items.push(with_additional(entry, full, &extra));
            }
        }
        for key in ["type", "status", "has-unacceptable-status"] {
            keep(&mut items, req, key);
        }
        ok(200, json!({ "partitions": items }))
    })
}

/// "List Permitted Adapters".
pub(super) fn adapters(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let extra = property_names(req, "additional-properties");
    let filter = AdapterFilter {
        adapter_type: None,
        name: pattern(req.query_all("name")),
    };
    ctx.call(|w| {
        let mut items = Vec::new();
        for cpc in cpcs(w, req)? {
            for a in w.hmc.list_adapters(&cpc.object_uri, &filter)? {
                let full = w.hmc.get_adapter(&a.object_uri)?;
                let entry = json!({
                    "name": a.name,
                    "object-uri": a.object_uri,
                    "adapter-id": a.adapter_id,
                    "adapter-family": a.adapter_family,
                    "type": a.adapter_type,
                    "status": a.status,
                    "firmware-update-pending": false,
                    "cpc-name": cpc.name,
                    "cpc-object-uri": cpc.object_uri,
                    "se-version": cpc.se_version,
                    "dpm-enabled": cpc.dpm_enabled,
                });
                items.push(with_additional(entry, full, &extra));
            }
        }
        for key in [
            "adapter-id",
            "adapter-family",
            "type",
            "status",
            "firmware-update-pending",
            "dpm-enabled",
        ] {
            keep(&mut items, req, key);
        }
        ok(200, json!({ "adapters": items }))
    })
}
