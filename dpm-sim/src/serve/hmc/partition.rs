//! A CPC's partitions (list, create), one partition (read, update,
//! delete), and its start and stop operations.

use hmc_client::{
    CpcUri, CreatedObject, HmcError, JobStarted, PartitionCreate, PartitionFilter, PartitionUpdate,
    PartitionUri, StorageGroupRef,
};
use serde_json::json;

use super::{bad_body, object, ok, pattern, places, property_names, uri, with_additional, Ctx};
use crate::hmc::{SettingsUpdate, SETTINGS};
use crate::serve::http::{Req, Resp};
use crate::world::World;

/// The properties of hmc-client's `PartitionCreate`; with [`SETTINGS`],
/// what a create may name.
const CREATE: &[&str] = &[
    "name",
    "description",
    "type",
    "ifl-processors",
    "cp-processors",
    "initial-memory",
    "maximum-memory",
    "processor-mode",
];

/// The properties `POST /api/partitions/{id}` may change here (and the
/// stored [`SETTINGS`]).
const WRITABLE: &[&str] = &[
    "name",
    "description",
    "ifl-processors",
    "initial-memory",
    "maximum-memory",
    "boot-device",
    "boot-storage-device",
    "boot-world-wide-port-name",
    "boot-logical-unit-number",
    "boot-storage-volume",
];

/// "List Partitions of a CPC": `name` (a regular expression), `status`
/// and `type` filter on the server; `additional-properties` (API 4.1)
/// adds properties of each partition.
pub(super) fn list(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let extra = property_names(req, "additional-properties");
    let cpc: CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    let statuses = req.query_all("status");
    let types = req.query_all("type");
    let filter = PartitionFilter {
        name: pattern(req.query_all("name")),
        status: None,
    };
    ctx.call(|w| {
        let mut list = w.hmc.list_partitions(&cpc, &filter)?;
        if !statuses.is_empty() {
            list.retain(|p| statuses.contains(&p.status.as_str()));
        }
        if !types.is_empty() {
            list.retain(|p| {
                p.partition_type
                    .as_deref()
                    .is_some_and(|t| types.contains(&t))
            });
        }
        if !req.query_all("additional-properties").is_empty() {
            w.hmc
                .check_list_additional_properties(&format!("{cpc}/partitions"))?;
        }
        if extra.is_empty() {
            return ok(200, json!({ "partitions": list }));
        }
        let mut out = Vec::new();
        for p in list {
            let full = properties(w, &p.object_uri)?;
            out.push(with_additional(p, full, &extra));
        }
        ok(200, json!({ "partitions": out }))
    })
}

/// A partition's full property set: the world's view of it (attached
/// groups) with the HMC's stored and read-only properties.
pub(super) fn properties(
    w: &World,
    p: &PartitionUri,
) -> Result<crate::hmc::PartitionProperties, HmcError> {
    w.hmc.partition_properties(w.get_partition(p)?)
}

/// "Create Partition".
pub(super) fn create(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id] = places(req, ids)?;
    let cpc: CpcUri = uri(req, ctx.method(), format!("/api/cpcs/{id}"))?;
    ctx.call(|w| {
        let v = req.json().map_err(|e| bad_body(req, "POST", &e, true))?;
        // A property of the partition that a create cannot set is 400.6,
        // as zhmcclient's mock answers (its "non-input" properties).
        if let Some(obj) = v.as_object() {
            let all = crate::hmc::partition_property_names();
            let fixed = obj.keys().find(|k| {
                all.contains(k) && !CREATE.contains(&k.as_str()) && !SETTINGS.contains(&k.as_str())
            });
            if let Some(k) = fixed {
                return Err(HmcError::api(
                    "POST",
                    req.path.clone(),
                    400,
                    6,
                    format!("Property {k:?} cannot be given at create (or not in dpm-sim)."),
                ));
            }
        }
        let props: PartitionCreate =
            serde_json::from_value(v.clone()).map_err(|e| bad_body(req, "POST", &e, true))?;
        let settings: SettingsUpdate =
            serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, true))?;
        ok(
            201,
            CreatedObject {
                object_uri: w
                    .hmc
                    .create_partition_with(&mut w.ids, &cpc, &props, &settings)?,
            },
        )
    })
}

/// The partition of the path (404.1 for an id that is not one).
pub(super) fn partition(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<PartitionUri, HmcError> {
    let [id] = places(req, ids)?;
    uri(req, ctx.method(), format!("/api/partitions/{id}"))
}

/// "Get Partition Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call(|w| object(req, properties(w, &p)?))
}

/// "Update Partition Properties".
pub(super) fn update(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    // Read inside the request path: a bad body is counted and meets
    // faults and the session check first, as any request.
    ctx.call(|w| {
        let (u, s) = update_body(req)?;
        // Everything is checked before anything changes: the
        // settings, then the update (which checks, then applies).
        let settings = w.hmc.checked_settings(&p, &s)?;
        w.update_partition(&p, &u)?;
        w.hmc.set_settings(&p, settings);
        Ok(Resp::empty(204))
    })
}

/// "Delete Partition".
pub(super) fn delete(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call(|w| w.delete_partition(&p).map(|()| Resp::empty(204)))
}

/// "Start Partition": 202 with the job.
pub(super) fn start(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call(|w| {
        ok(
            202,
            JobStarted {
                job_uri: w.start_partition(&p)?,
            },
        )
    })
}

/// "Stop Partition": 202 with the job.
pub(super) fn stop(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call(|w| {
        ok(
            202,
            JobStarted {
                job_uri: w.stop_partition(&p)?,
            },
        )
    })
}

/// "Attach Storage Group to Partition" (storage-management CPCs).
pub(super) fn attach_storage_group(
    ctx: &Ctx<'_>,
    req: &Req,
    ids: &[&str],
) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: StorageGroupRef| {
        w.attach_storage_group(&p, &b.storage_group_uri)
            .map(|()| Resp::empty(204))
    })
}

/// "Detach Storage Group from Partition" (storage-management CPCs).
pub(super) fn detach_storage_group(
    ctx: &Ctx<'_>,
    req: &Req,
    ids: &[&str],
) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: StorageGroupRef| {
        w.detach_storage_group(&p, &b.storage_group_uri)
            .map(|()| Resp::empty(204))
    })
}

/// The body of `POST /api/partitions/{id}`: an object of writable
/// properties (400.6 for one that is not writable, 400.7 for anything that
/// is not an object), read as hmc-client's update and the stored settings.
fn update_body(req: &Req) -> Result<(PartitionUpdate, SettingsUpdate), HmcError> {
    let v = req.json().map_err(|e| bad_body(req, "POST", &e, true))?;
    let Some(obj) = v.as_object() else {
        return Err(HmcError::api(
            "POST",
            req.path.clone(),
            400,
            crate::hmc::reason::INVALID_VALUE,
            "The request body must be an object of the properties to change.",
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !WRITABLE.contains(&k.as_str()) && !SETTINGS.contains(&k.as_str()))
    {
        return Err(HmcError::api(
            "POST",
            req.path.clone(),
            400,
            6,
            format!("Property {k:?} is not writable (or not simulated by dpm-sim)."),
        ));
    }
    let settings =
        serde_json::from_value(v.clone()).map_err(|e| bad_body(req, "POST", &e, true))?;
    let update = serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, true))?;
    Ok((update, settings))
}
