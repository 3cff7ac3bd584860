//! A CPC's partitions (list, create), one partition (read, update,
//! delete), and its start and stop operations.

use hmc_client::{
    CpcUri, CreatedObject, HmcError, JobStarted, PartitionCreate, PartitionFilter, PartitionUpdate,
    PartitionUri, StorageGroupRef,
};
use serde_json::json;

use super::{
    allow_query, bad_body, object, ok, pattern, property_names, uri, with_additional, Ctx,
};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

/// The properties `POST /api/partitions/{id}` may change here.
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

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("GET", ["cpcs", id, "partitions"]) => list(ctx, req, id),
        ("POST", ["cpcs", id, "partitions"]) => create(ctx, req, id),
        (m @ ("GET" | "POST" | "DELETE"), ["partitions", id]) => one(ctx, req, m, id),
        ("POST", ["partitions", id, "operations", op @ ("start" | "stop")]) => {
            operation(ctx, req, id, op)
        }
        (
            "POST",
            ["partitions", id, "operations", op @ ("attach-storage-group" | "detach-storage-group")],
        ) => storage_group(ctx, req, id, op),
        _ => return None,
    })
}

fn list(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    allow_query(
        req,
        "GET",
        &["name", "status", "type", "additional-properties"],
    )?;
    let extra = property_names(req, "additional-properties");
    let cpc: CpcUri = uri(req, "GET", format!("/api/cpcs/{id}"))?;
    let statuses = req.query_all("status");
    let types = req.query_all("type");
    let filter = PartitionFilter {
        name: pattern(req.query_all("name")),
        status: None,
    };
    ctx.call(Op::ListPartitions, "GET", |w| {
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
        if extra.is_empty() {
            return ok(200, json!({ "partitions": list }));
        }
        let mut out = Vec::new();
        for p in list {
            let full = w.get_partition(&p.object_uri)?;
            out.push(with_additional(p, full, &extra));
        }
        ok(200, json!({ "partitions": out }))
    })
}

fn create(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    let cpc: CpcUri = uri(req, "POST", format!("/api/cpcs/{id}"))?;
    ctx.call_with_body(
        req,
        Op::CreatePartition,
        "POST",
        |w, props: PartitionCreate| {
            ok(
                201,
                CreatedObject {
                    object_uri: w.hmc.create_partition(&mut w.ids, &cpc, &props)?,
                },
            )
        },
    )
}

fn one(ctx: &Ctx<'_>, req: &Req, method: &str, id: &str) -> Result<Resp, HmcError> {
    let p: PartitionUri = uri(req, "GET", format!("/api/partitions/{id}"))?;
    match method {
        "GET" => ctx.call(Op::GetPartition, "GET", |w| {
            object(req, w.get_partition(&p)?)
        }),
        "POST" => {
            // Read inside the request path: a bad body is counted and meets
            // faults and the session check first, as any request.
            ctx.call(Op::UpdatePartition, "POST", |w| {
                let u = update_body(req)?;
                w.update_partition(&p, &u).map(|()| Resp::empty(204))
            })
        }
        _ => ctx.call(Op::DeletePartition, "DELETE", |w| {
            w.delete_partition(&p).map(|()| Resp::empty(204))
        }),
    }
}

fn operation(ctx: &Ctx<'_>, req: &Req, id: &str, op: &str) -> Result<Resp, HmcError> {
    let p: PartitionUri = uri(req, "POST", format!("/api/partitions/{id}"))?;
    if op == "start" {
        ctx.call(Op::StartPartition, "POST", |w| {
            ok(
                202,
                JobStarted {
                    job_uri: w.start_partition(&p)?,
                },
            )
        })
    } else {
        ctx.call(Op::StopPartition, "POST", |w| {
            ok(
                202,
                JobStarted {
                    job_uri: w.stop_partition(&p)?,
                },
            )
        })
    }
}

/// Attach or detach a storage group (storage-management CPCs).
fn storage_group(ctx: &Ctx<'_>, req: &Req, id: &str, op: &str) -> Result<Resp, HmcError> {
    let p: PartitionUri = uri(req, "POST", format!("/api/partitions/{id}"))?;
    if op == "attach-storage-group" {
        ctx.call_with_body(
            req,
            Op::AttachStorageGroup,
            "POST",
            |w, b: StorageGroupRef| {
                w.attach_storage_group(&p, &b.storage_group_uri)
                    .map(|()| Resp::empty(204))
            },
        )
    } else {
        ctx.call_with_body(
            req,
            Op::DetachStorageGroup,
            "POST",
            |w, b: StorageGroupRef| {
                w.detach_storage_group(&p, &b.storage_group_uri)
                    .map(|()| Resp::empty(204))
            },
        )
    }
}

/// The body of `POST /api/partitions/{id}`: an object of writable
/// properties (400.6 for one that is not writable, 400.7 for anything that
/// is not an object).
fn update_body(req: &Req) -> Result<PartitionUpdate, HmcError> {
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
    if let Some(k) = obj.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(HmcError::api(
            "POST",
            req.path.clone(),
            400,
            6,
            format!("Property {k:?} is not writable (or not simulated by dpm-sim)."),
        ));
    }
    serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, true))
}
