//! Storage groups (CPCs with the dpm-storage-management feature): list,
//! create, read, the group operations, and the group's storage volumes and
//! virtual storage resources. Attach and detach are partition operations
//! (`partition.rs`); validate-lun-path is a CPC operation (`cpc.rs`).

use fc_types::DeviceNumber;
use hmc_client::{
    AcceptMismatched, AdapterPorts, CpcUri, HmcError, JobStarted, PartitionUri, StartDiscovery,
    StorageGroupFilter, StorageGroupModified, StorageGroupUri, StoragePortUri, StorageVolumeFilter,
    StorageVolumeUri, VsrFilter, VsrUri,
};
use serde_json::json;

use super::{
    allow_query, object, ok, pattern, property_names, query_value, uri, with_additional, Ctx,
};
use crate::dsm::{GroupCreateBody, GroupModifyBody};
use crate::ops::Op;
use crate::serve::http::{Req, Resp};

pub(super) fn route(ctx: &Ctx<'_>, req: &Req, seg: &[&str]) -> Option<Result<Resp, HmcError>> {
    Some(match (req.method.as_str(), seg) {
        ("GET", ["storage-groups"]) => list(ctx, req),
        ("POST", ["storage-groups"]) => create(ctx, req),
        ("GET", ["storage-groups", id]) => get(ctx, req, id),
        ("GET", ["storage-groups", id, "operations", "get-partitions"]) => partitions(ctx, req, id),
        ("POST", ["storage-groups", id, "operations", op]) => operation(ctx, req, id, op)?,
        ("GET", ["storage-groups", id, "storage-volumes"]) => volumes(ctx, req, id),
        ("GET", ["storage-groups", id, "storage-volumes", vid]) => volume(ctx, req, id, vid),
        ("GET", ["storage-groups", id, "virtual-storage-resources"]) => vsrs(ctx, req, id),
        ("GET", ["storage-groups", id, "virtual-storage-resources", rid]) => vsr(ctx, req, id, rid),
        _ => return None,
    })
}

fn group(req: &Req, method: &'static str, id: &str) -> Result<StorageGroupUri, HmcError> {
    uri(req, method, format!("/api/storage-groups/{id}"))
}

fn list(ctx: &Ctx<'_>, req: &Req) -> Result<Resp, HmcError> {
    allow_query(
        req,
        "GET",
        &["cpc-uri", "name", "type", "fulfillment-state"],
    )?;
    let filter = StorageGroupFilter {
        cpc: query_value::<CpcUri>(req, "cpc-uri")?,
        name: pattern(req.query_all("name")),
    };
    let types = req.query_all("type");
    let states = req.query_all("fulfillment-state");
    ctx.call(Op::ListStorageGroups, "GET", |w| {
        let mut list = w.dsm.list_groups(&filter, &w.dsm_facts())?;
        if !types.is_empty() {
            list.retain(|g| types.contains(&g.group_type.as_str()));
        }
        if !states.is_empty() {
            list.retain(|g| states.contains(&g.fulfillment_state.as_str()));
        }
        ok(200, json!({ "storage-groups": list }))
    })
}

fn create(ctx: &Ctx<'_>, req: &Req) -> Result<Resp, HmcError> {
    ctx.call_with_body(
        req,
        Op::CreateStorageGroup,
        "POST",
        |w, b: GroupCreateBody| ok(201, w.create_storage_group_with(&b.create, &b.settings)?),
    )
}

fn get(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    let g = group(req, "GET", id)?;
    ctx.call(Op::GetStorageGroup, "GET", |w| {
        object(req, w.dsm.group_properties(&g)?)
    })
}

fn partitions(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    allow_query(req, "GET", &[])?;
    let g = group(req, "GET", id)?;
    ctx.call(Op::GetStorageGroupPartitions, "GET", |w| {
        let list = w.dsm.group_partitions(&g, &w.dsm_facts())?;
        ok(200, json!({ "partitions": list }))
    })
}

/// The group operations; `None` for one dpm-sim does not model (404.1).
fn operation(ctx: &Ctx<'_>, req: &Req, id: &str, op: &str) -> Option<Result<Resp, HmcError>> {
    let g = match group(req, "POST", id) {
        Ok(g) => g,
        Err(e) => return Some(Err(e)),
    };
    Some(match op {
        "modify" => ctx.call_with_body(
            req,
            Op::ModifyStorageGroup,
            "POST",
            |w, m: GroupModifyBody| {
                let element_uris = w.modify_storage_group_with(&g, &m.modify, &m.settings)?;
                ok(200, StorageGroupModified { element_uris })
            },
        ),
        "delete" => ctx.call(Op::DeleteStorageGroup, "POST", |w| {
            w.delete_storage_group(&g).map(|()| Resp::empty(204))
        }),
        "add-candidate-adapter-ports" => ctx.call_with_body(
            req,
            Op::AddCandidateAdapterPorts,
            "POST",
            |w, b: AdapterPorts| {
                w.add_candidate_ports(&g, &b.adapter_port_uris)
                    .map(|()| Resp::empty(204))
            },
        ),
        "remove-candidate-adapter-ports" => ctx.call_with_body(
            req,
            Op::RemoveCandidateAdapterPorts,
            "POST",
            |w, b: AdapterPorts| {
                w.dsm
                    .remove_candidate_ports(&g, &b.adapter_port_uris)
                    .map(|()| Resp::empty(204))
            },
        ),
        // The body is optional (an empty body reads as {}): no forced
        // restart.
        "start-fcp-storage-discovery" => ctx.call_with_body(
            req,
            Op::StartFcpStorageDiscovery,
            "POST",
            |w, b: StartDiscovery| {
                ok(
                    202,
                    JobStarted {
                        job_uri: w.start_discovery(&g, b.force_restart)?,
                    },
                )
            },
        ),
        "accept-mismatched-storage-volumes" => ctx.call_with_body(
            req,
            Op::AcceptMismatchedStorageVolumes,
            "POST",
            |w, b: AcceptMismatched| {
                w.dsm
                    .accept_mismatched(&g, &b.storage_volume_uris)
                    .map(|()| Resp::empty(204))
            },
        ),
        _ => return None,
    })
}

/// "List Storage Volumes of a Storage Group": `name` (a regular
/// expression), `usage`, `fulfillment-state`, `minimum-size` and
/// `maximum-size` (GiB, inclusive) filter on the server; repeated values
/// are ORed; `additional-properties` adds properties of each volume.
fn volumes(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    allow_query(
        req,
        "GET",
        &[
            "name",
            "usage",
            "fulfillment-state",
            "minimum-size",
            "maximum-size",
            "additional-properties",
        ],
    )?;
    let g = group(req, "GET", id)?;
    let filter = StorageVolumeFilter {
        name: pattern(req.query_all("name")),
        minimum_size: query_value::<f64>(req, "minimum-size")?,
        maximum_size: query_value::<f64>(req, "maximum-size")?,
        ..StorageVolumeFilter::default()
    };
    let extra = property_names(req, "additional-properties");
    let usages = req.query_all("usage");
    let states = req.query_all("fulfillment-state");
    ctx.call(Op::ListStorageVolumes, "GET", |w| {
        let mut list = w.dsm.list_volumes(&g, &filter)?;
        if !usages.is_empty() {
            list.retain(|v| usages.contains(&v.usage.as_str()));
        }
        if !states.is_empty() {
            list.retain(|v| states.contains(&v.fulfillment_state.as_str()));
        }
        if extra.is_empty() {
            return ok(200, json!({ "storage-volumes": list }));
        }
        let mut out = Vec::new();
        for v in list {
            let full = w.dsm.volume_properties(&v.element_uri)?;
            out.push(with_additional(v, full, &extra));
        }
        ok(200, json!({ "storage-volumes": out }))
    })
}

fn volume(ctx: &Ctx<'_>, req: &Req, id: &str, vid: &str) -> Result<Resp, HmcError> {
    allow_query(req, "GET", &[])?;
    let v: StorageVolumeUri = uri(
        req,
        "GET",
        format!("/api/storage-groups/{id}/storage-volumes/{vid}"),
    )?;
    ctx.call(Op::GetStorageVolume, "GET", |w| {
        object(req, w.dsm.volume_properties(&v)?)
    })
}

/// "List Virtual Storage Resources of a Storage Group": `name` (a regular
/// expression), `partition-uri`, `device-number`, `adapter-port-uri`.
fn vsrs(ctx: &Ctx<'_>, req: &Req, id: &str) -> Result<Resp, HmcError> {
    allow_query(
        req,
        "GET",
        &["name", "partition-uri", "device-number", "adapter-port-uri"],
    )?;
    let g = group(req, "GET", id)?;
    let filter = VsrFilter {
        name: pattern(req.query_all("name")),
        partition: query_value::<PartitionUri>(req, "partition-uri")?,
        device_number: query_value::<DeviceNumber>(req, "device-number")?,
        adapter_port: query_value::<StoragePortUri>(req, "adapter-port-uri")?,
    };
    ctx.call(Op::ListVsrs, "GET", |w| {
        let list = w.dsm.list_vsrs_filtered(&g, &filter)?;
        ok(200, json!({ "virtual-storage-resources": list }))
    })
}

fn vsr(ctx: &Ctx<'_>, req: &Req, id: &str, rid: &str) -> Result<Resp, HmcError> {
    allow_query(req, "GET", &[])?;
    let r: VsrUri = uri(
        req,
        "GET",
        format!("/api/storage-groups/{id}/virtual-storage-resources/{rid}"),
    )?;
    ctx.call(Op::GetVsr, "GET", |w| object(req, w.dsm.get_vsr(&r)?))
}
