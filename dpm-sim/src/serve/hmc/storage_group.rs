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

use super::{object, ok, pattern, places, property_names, query_value, uri, with_additional, Ctx};
use crate::dsm::{GroupCreateBody, GroupModifyBody};
use crate::serve::http::{Req, Resp};

/// The storage group of the path (404.1 for an id that is not one).
fn group(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<StorageGroupUri, HmcError> {
    let [id] = places(req, ids)?;
    uri(req, ctx.method(), format!("/api/storage-groups/{id}"))
}

/// "List Storage Groups": `cpc-uri`, `name` (a regular expression),
/// `type` and `fulfillment-state` filter on the server.
pub(super) fn list(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    let filter = StorageGroupFilter {
        cpc: query_value::<CpcUri>(req, "cpc-uri")?,
        name: pattern(req.query_all("name")),
    };
    let types = req.query_all("type");
    let states = req.query_all("fulfillment-state");
    ctx.call(|w| {
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

/// "Create Storage Group", with its volumes.
pub(super) fn create(ctx: &Ctx<'_>, req: &Req, _ids: &[&str]) -> Result<Resp, HmcError> {
    ctx.call_with_body(req, |w, b: GroupCreateBody| {
        ok(201, w.create_storage_group_with(&b.create, &b.settings)?)
    })
}

/// "Get Storage Group Properties".
pub(super) fn get(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call(|w| object(req, w.dsm.group_properties(&g)?))
}

/// "Get Partitions for a Storage Group".
pub(super) fn partitions(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call(|w| {
        let list = w.dsm.group_partitions(&g, &w.dsm_facts())?;
        ok(200, json!({ "partitions": list }))
    })
}

/// "Modify Storage Group Properties": 200 with the new volumes' URIs.
pub(super) fn modify(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call_with_body(req, |w, m: GroupModifyBody| {
        let element_uris = w.modify_storage_group_with(&g, &m.modify, &m.settings)?;
        ok(200, StorageGroupModified { element_uris })
    })
}

/// "Delete Storage Group".
pub(super) fn delete(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call(|w| w.delete_storage_group(&g).map(|()| Resp::empty(204)))
}

/// "Add Candidate Adapter Ports to an FCP Storage Group".
pub(super) fn add_candidate_ports(
    ctx: &Ctx<'_>,
    req: &Req,
    ids: &[&str],
) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: AdapterPorts| {
        w.add_candidate_ports(&g, &b.adapter_port_uris)
            .map(|()| Resp::empty(204))
    })
}

/// "Remove Candidate Adapter Ports from an FCP Storage Group".
pub(super) fn remove_candidate_ports(
    ctx: &Ctx<'_>,
    req: &Req,
    ids: &[&str],
) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: AdapterPorts| {
        w.dsm
            .remove_candidate_ports(&g, &b.adapter_port_uris)
            .map(|()| Resp::empty(204))
    })
}

/// "Start FCP Storage Discovery": 202 with the job. The body is optional
/// (an empty body reads as {}): no forced restart.
pub(super) fn start_discovery(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: StartDiscovery| {
        ok(
            202,
            JobStarted {
                job_uri: w.start_discovery(&g, b.force_restart)?,
            },
        )
    })
}

/// "Accept Mismatched FCP Storage Volumes".
pub(super) fn accept_mismatched(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: AcceptMismatched| {
        w.dsm
            .accept_mismatched(&g, &b.storage_volume_uris)
            .map(|()| Resp::empty(204))
    })
}

/// "List Storage Volumes of a Storage Group": `name` (a regular
/// expression), `usage`, `fulfillment-state`, `minimum-size` and
/// `maximum-size` (GiB, inclusive) filter on the server; repeated values
/// are ORed; `additional-properties` adds properties of each volume.
pub(super) fn volumes(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    let filter = StorageVolumeFilter {
        name: pattern(req.query_all("name")),
        minimum_size: query_value::<f64>(req, "minimum-size")?,
        maximum_size: query_value::<f64>(req, "maximum-size")?,
        ..StorageVolumeFilter::default()
    };
    let extra = property_names(req, "additional-properties");
    let usages = req.query_all("usage");
    let states = req.query_all("fulfillment-state");
    ctx.call(|w| {
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

/// "Get Storage Volume Properties".
pub(super) fn volume(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id, vid] = places(req, ids)?;
    let v: StorageVolumeUri = uri(
        req,
        ctx.method(),
        format!("/api/storage-groups/{id}/storage-volumes/{vid}"),
    )?;
    ctx.call(|w| object(req, w.dsm.volume_properties(&v)?))
}

/// "List Virtual Storage Resources of a Storage Group": `name` (a regular
/// expression), `partition-uri`, `device-number`, `adapter-port-uri`.
pub(super) fn vsrs(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let g = group(ctx, req, ids)?;
    let filter = VsrFilter {
        name: pattern(req.query_all("name")),
        partition: query_value::<PartitionUri>(req, "partition-uri")?,
        device_number: query_value::<DeviceNumber>(req, "device-number")?,
        adapter_port: query_value::<StoragePortUri>(req, "adapter-port-uri")?,
    };
    ctx.call(|w| {
        let list = w.dsm.list_vsrs_filtered(&g, &filter)?;
        ok(200, json!({ "virtual-storage-resources": list }))
    })
}

/// "Get Virtual Storage Resource Properties".
pub(super) fn vsr(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let [id, rid] = places(req, ids)?;
    let r: VsrUri = uri(
        req,
        ctx.method(),
        format!("/api/storage-groups/{id}/virtual-storage-resources/{rid}"),
    )?;
    ctx.call(|w| object(req, w.dsm.get_vsr(&r)?))
}
