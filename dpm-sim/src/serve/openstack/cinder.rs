//! Cinder v3 over HTTP: versions, microversions, volumes, attachments and
//! the legacy actions, on the world's Cinder operations.

use std::sync::Mutex;

use cinder_client::{
    AttachmentFilter, AttachmentId, CinderError, Connector, FaultKind, InstanceId, Volume,
    VolumeCreate, VolumeId,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::keystone::{now, unauthorized, Caller, Keystone};
use crate::cinder::VolumeDetail;
use crate::ops::Op;
use crate::pipeline::cinder_call;
use crate::pipeline::Shared;
use crate::serve::http::{Req, Resp};
use crate::world::World;

/// The lowest microversion this Cinder speaks; the highest is the spec's.
const MIN_VERSION: (u32, u32) = (3, 0);

fn max_version(world: &Mutex<World>) -> (u32, u32) {
    crate::pipeline::lock(world).cinder.max_version
}

fn fault(status: u16, message: &str) -> Resp {
    let kind = FaultKind::for_status(status);
    Resp::json(
        status,
        json!({ kind.as_str(): {"code": status, "message": message} }),
    )
}

fn cinder_error(e: CinderError) -> Resp {
    match e {
        CinderError::Transport { .. } => Resp::reset(),
        CinderError::Api {
            status, message, ..
        } => fault(status, &message),
        other => fault(500, &other.to_string()),
    }
}

fn versions(ks: &Keystone, max: (u32, u32)) -> Value {
    json!({"versions": [{"id": "v3.0", "status": "CURRENT",
        "version": format!("{}.{}", max.0, max.1),
        "min_version": format!("{}.{}", MIN_VERSION.0, MIN_VERSION.1),
        "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{}/v3/", ks.cinder_url)}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}]})
}

/// The requested microversion: none means 3.0, `latest` the highest.
fn microversion(req: &Req, max: (u32, u32)) -> Result<(u32, u32), Resp> {
    let Some(h) = req.header("openstack-api-version") else {
        return Ok(MIN_VERSION);
    };
    // A list such as "compute 2.1, volume 3.44": the volume entry counts;
    // without one, the minimum.
    let Some(v) = h
        .split(',')
        .map(str::trim)
        .find_map(|e| e.strip_prefix("volume").map(str::trim))
    else {
        return Ok(MIN_VERSION);
    };
    if v == "latest" {
        return Ok(max);
    }
    let parsed = v
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match parsed {
        Some(ver) if (MIN_VERSION..=max).contains(&ver) => Ok(ver),
        Some(_) => Err(fault(
            406,
            &format!(
                "Version {v} is not supported by the API. Minimum is 3.0 and maximum is {}.{}.",
                max.0, max.1
            ),
        )),
        None => Err(fault(
            400,
            &format!("Invalid API version request string {h:?}."),
        )),
    }
}

pub(crate) fn cinder(ks: &Keystone, shared: &Shared, req: &Req) -> Resp {
    let world: &Mutex<World> = &shared.world;
    // Under a path prefix, nothing outside it is Cinder's.
    let Some(seg) = req.segments(&format!("{}/", ks.cinder_path())) else {
        return fault(
            404,
            &format!("{} {} is not a Cinder URL.", req.method, req.path),
        );
    };
    let max = max_version(world);
    if req.method == "GET" && (seg.is_empty() || seg == ["v3"]) {
        return Resp::json(if seg.is_empty() { 300 } else { 200 }, versions(ks, max));
    }
    let ver = match microversion(req, max) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let echo = format!("volume {}.{}", ver.0, ver.1);
    let resp = match seg.as_slice() {
        ["v3", project_id, rest @ ..] => {
            match ks.authorize(req.header("x-auth-token"), project_id, now(world)) {
                None => unauthorized(),
                Some(caller) if ks.project_id(&caller.project) != Some(project_id) => {
                    fault(400, "Malformed request url")
                }
                Some(caller) => {
                    let view = View {
                        ver,
                        admin: caller.admin,
                        base: &ks.cinder_url,
                        project_id,
                    };
                    match volume_api(shared, req, &caller, &view, rest) {
                        Ok(r) => r,
                        Err(e) => cinder_error(e),
                    }
                }
            }
        }
        _ => fault(
            404,
            &format!("{} {} is not a Cinder v3 URL.", req.method, req.path),
        ),
    };
    resp.with_header("openstack-api-version", echo)
        .with_header("vary", "OpenStack-API-Version")
}

fn body<T: serde::de::DeserializeOwned>(req: &Req, key: &str) -> Result<T, CinderError> {
    let v = req
        .json()
        .map_err(|e| CinderError::api("parse body", 400, format!("Malformed request body: {e}")))?;
    let inner = v.get(key).cloned().ok_or_else(|| {
        CinderError::api(
            "parse body",
            400,
            format!("Missing required element '{key}' in request body."),
        )
    })?;
    serde_json::from_value(inner)
        .map_err(|e| CinderError::api("parse body", 400, format!("Invalid input received: {e}")))
}

fn id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, CinderError> {
    s.parse()
        .map_err(|_| CinderError::api("parse id", 404, format!("{what} {s} could not be found.")))
}

/// What a volume's view depends on besides the volume: the microversion,
/// whether the caller is an admin, and the URL its links start with.
struct View<'a> {
    ver: (u32, u32),
    admin: bool,
    /// Cinder's root URL (with its path prefix, without `/v3`).
    base: &'a str,
    /// The project id in the request's URL.
    project_id: &'a str,
}

impl View<'_> {
    /// `self` and `bookmark` links, as Cinder's view builder makes them.
    fn links(&self, id: &VolumeId) -> Value {
        json!([
            {"rel": "self", "href": format!("{}/v3/{}/volumes/{id}", self.base, self.project_id)},
            {"rel": "bookmark", "href": format!("{}/{}/volumes/{id}", self.base, self.project_id)},
        ])
    }

    /// The summary view (`GET /volumes`): id, name, links.
    fn summary(&self, v: &Volume) -> Value {
        json!({"id": v.id, "name": v.name, "links": self.links(&v.id)})
    }

    /// Cinder's detailed volume view (`api/v3/views/volumes.py`) at the
    /// requested microversion, from the volume's state. With `extensions`
    /// (show and detail list, not create) also what the API extensions
    /// add: `os-vol-host-attr:host`, `os-vol-mig-status-attr:*` (admin),
    /// `os-vol-tenant-attr:tenant_id`, and `volume_image_metadata` when the
    /// volume has image properties (left out when it has none).
    fn detail(&self, d: &VolumeDetail, extensions: bool) -> Value {
        let at = |min: (u32, u32)| self.ver >= min;
        let mut v = serde_json::to_value(&d.volume).unwrap_or_else(|_| json!({}));
        let Some(o) = v.as_object_mut() else {
            return v;
        };
        // Attachments show their host to admins (and services) only.
        if !self.admin {
            if let Some(list) = o.get_mut("attachments").and_then(Value::as_array_mut) {
                for a in list {
                    a["host_name"] = Value::Null;
                }
            }
        }
        let mut put = |k: &str, val: Value| {
            o.insert(k.to_owned(), val);
        };
        put("snapshot_id", Value::Null);
        put("source_volid", Value::Null);
        put("links", self.links(&d.volume.id));
        put("user_id", json!(d.user_id));
        // Encrypted when it has a key; no volume type here encrypts.
        put("encrypted", json!(false));
        put("replication_status", json!(d.replication_status));
        put("consistencygroup_id", Value::Null);
        if self.admin {
            put("migration_status", Value::Null);
        }
        if at((3, 13)) {
            put("group_id", Value::Null);
        }
        if self.admin && at((3, 21)) {
            put("provider_id", Value::Null);
        }
        if at((3, 48)) {
            put("shared_targets", json!(d.shared_targets));
            put("service_uuid", json!(d.service_uuid));
        }
        if self.admin && at((3, 61)) {
            put("cluster_name", Value::Null);
        }
        if at((3, 63)) {
            put("volume_type_id", json!(d.volume_type_id));
        }
        // 3.64's `encryption_key_id` is shown only when there is a key.
        if at((3, 65)) {
            put("consumes_quota", json!(true));
        }
        if extensions {
            if self.admin {
                put("os-vol-host-attr:host", json!(d.host));
                put("os-vol-mig-status-attr:migstat", Value::Null);
                put("os-vol-mig-status-attr:name_id", Value::Null);
            }
            put("os-vol-tenant-attr:tenant_id", json!(d.project_id));
            if !d.image_metadata.is_empty() {
                put("volume_image_metadata", json!(d.image_metadata));
            }
        }
        v
    }
}

/// The attachments API's detail view: connection info in the flat shape,
/// `{}` until a connector is given; unset times read as `""`.
fn attachment_json(a: cinder_client::Attachment) -> Value {
    let flat = a
        .connection_info
        .as_ref()
        .map(|c| c.to_flat(&a.id))
        .unwrap_or_else(|| json!({}));
    let mut v = serde_json::to_value(&a).unwrap_or(Value::Null);
    v["connection_info"] = flat;
    for time in ["attached_at", "detached_at"] {
        if v[time].is_null() {
            v[time] = json!("");
        }
    }
    v
}

/// The summary view: `id`, `status`, `instance`, `volume_id`.
fn attachment_summary(a: &cinder_client::Attachment) -> Value {
    json!({"id": a.id, "status": a.status, "instance": a.instance, "volume_id": a.volume_id})
}

#[derive(Deserialize)]
struct AttachmentCreate {
    volume_uuid: VolumeId,
    instance_uuid: InstanceId,
    #[serde(default)]
    connector: Option<Connector>,
}

#[derive(Deserialize)]
struct AttachmentUpdate {
    connector: Connector,
}

fn volume_api(
    shared: &Shared,
    req: &Req,
    caller: &Caller,
    view: &View<'_>,
    rest: &[&str],
) -> Result<Resp, CinderError> {
    let (project, ver) = (caller.project.as_str(), view.ver);
    let call = |op: Op, f: &mut dyn FnMut(&mut World, &str) -> Result<Resp, CinderError>| {
        cinder_call(shared, op, project, Some(ver), (&req.method, &req.path), f)
    };
    match (req.method.as_str(), rest) {
        ("GET", ["volumes"]) => call(Op::ListVolumes, &mut |w, p| {
            let list: Vec<Value> = w
                .cinder
                .list_volumes(p)
                .iter()
                .map(|v| view.summary(v))
                .collect();
            Ok(Resp::json(200, json!({ "volumes": list })))
        }),
        ("GET", ["volumes", "detail"]) => call(Op::ListVolumes, &mut |w, p| {
            let list: Vec<Value> = w
                .cinder
                .list_volume_details(p)
                .iter()
                .map(|d| view.detail(d, true))
                .collect();
            Ok(Resp::json(200, json!({ "volumes": list })))
        }),
        ("POST", ["volumes"]) => {
            let raw = req.json().unwrap_or(Value::Null);
            if raw
                .pointer("/volume/multiattach")
                .is_some_and(|m| m == &Value::Bool(true))
            {
                return Err(CinderError::api("create volume", 400, "Invalid input received: multiattach comes from the volume type, not the request."));
            }
            let create: VolumeCreate = body(req, "volume")?;
            call(Op::CreateVolume, &mut |w, p| {
                let d = w.create_volume(p, caller.user.as_deref(), &create)?;
                Ok(Resp::json(202, json!({ "volume": view.detail(&d, false) })))
            })
        }
        ("GET", ["volumes", vid]) => {
            let v: VolumeId = id(vid, "Volume")?;
            call(Op::GetVolume, &mut |w, p| {
                let d = w.cinder.get_volume_detail(p, &v)?;
                Ok(Resp::json(200, json!({ "volume": view.detail(&d, true) })))
            })
        }
        ("DELETE", ["volumes", vid]) => {
            let v: VolumeId = id(vid, "Volume")?;
            call(Op::DeleteVolume, &mut |w, p| {
                w.delete_volume(p, &v).map(|()| Resp::empty(202))
            })
        }
        ("POST", ["volumes", vid, "action"]) => {
            let v: VolumeId = id(vid, "Volume")?;
            volume_action(shared, req, project, &v)
        }
        ("POST", ["attachments"]) => {
            let a: AttachmentCreate = body(req, "attachment")?;
            call(Op::CreateAttachment, &mut |w, p| {
                let r =
                    w.create_attachment(p, &a.volume_uuid, &a.instance_uuid, a.connector.as_ref())?;
                Ok(Resp::json(200, json!({ "attachment": attachment_json(r) })))
            })
        }
        ("GET", ["attachments"] | ["attachments", "detail"]) => {
            let filter = AttachmentFilter {
                volume_id: req
                    .query_all("volume_id")
                    .first()
                    .and_then(|v| v.parse().ok()),
                instance_id: req
                    .query_all("instance_id")
                    .first()
                    .and_then(|v| v.parse().ok()),
            };
            let detail = rest.len() == 2;
            call(Op::ListAttachments, &mut |w, p| {
                let list: Vec<Value> = w
                    .cinder
                    .list_attachments(p, &filter)
                    .into_iter()
                    .map(|a| {
                        if detail {
                            attachment_json(a)
                        } else {
                            attachment_summary(&a)
                        }
                    })
                    .collect();
                Ok(Resp::json(200, json!({ "attachments": list })))
            })
        }
        (m @ ("GET" | "PUT" | "DELETE"), ["attachments", aid]) => {
            let a: AttachmentId = id(aid, "VolumeAttachment")?;
            match m {
                "GET" => call(Op::GetAttachment, &mut |w, p| {
                    Ok(Resp::json(
                        200,
                        json!({ "attachment": attachment_json(w.cinder.get_attachment(p, &a)?) }),
                    ))
                }),
                "PUT" => {
                    let u: AttachmentUpdate = body(req, "attachment")?;
                    call(Op::UpdateAttachment, &mut |w, p| {
                        Ok(Resp::json(
                            200,
                            json!({ "attachment": attachment_json(w.update_attachment(p, &a, &u.connector)?) }),
                        ))
                    })
                }
                _ => call(Op::DeleteAttachment, &mut |w, p| {
                    let left: Vec<Value> = w
                        .delete_attachment(p, &a)?
                        .iter()
                        .map(attachment_summary)
                        .collect();
                    Ok(Resp::json(200, json!({ "attachments": left })))
                }),
            }
        }
        ("POST", ["attachments", aid, "action"]) => {
            let a: AttachmentId = id(aid, "VolumeAttachment")?;
            let v = req.json().unwrap_or(Value::Null);
            if v.get("os-complete").is_none() {
                return Err(CinderError::api(
                    "attachment action",
                    400,
                    "There is no such action (only os-complete).",
                ));
            }
            call(Op::CompleteAttachment, &mut |w, p| {
                w.complete_attachment(p, &a).map(|()| Resp::empty(204))
            })
        }
        _ => Err(CinderError::api(
            "route",
            501,
            format!("{} {} is not implemented in dpm-sim.", req.method, req.path),
        )),
    }
}

#[derive(Deserialize)]
struct WithConnector {
    connector: Connector,
}

#[derive(Deserialize)]
struct AttachArgs {
    instance_uuid: InstanceId,
    #[serde(default)]
    mountpoint: Option<String>,
    #[serde(default)]
    host_name: Option<String>,
}

#[derive(Deserialize)]
struct DetachArgs {
    /// `null` (python-cinderclient's default): the volume's only
    /// attachment.
    #[serde(default)]
    attachment_id: Option<AttachmentId>,
}

fn volume_action(
    shared: &Shared,
    req: &Req,
    project: &str,
    v: &VolumeId,
) -> Result<Resp, CinderError> {
    let raw = req.json().map_err(|e| {
        CinderError::api("volume action", 400, format!("Malformed request body: {e}"))
    })?;
    let Some((action, _)) = raw.as_object().and_then(|o| o.iter().next()) else {
        return Err(CinderError::api(
            "volume action",
            400,
            "The action body is empty.",
        ));
    };
    let call = |op: Op, f: &mut dyn FnMut(&mut World, &str) -> Result<Resp, CinderError>| {
        cinder_call(shared, op, project, None, (&req.method, &req.path), f)
    };
    match action.as_str() {
        "os-reserve" => call(Op::Reserve, &mut |w, p| {
            w.reserve(p, v).map(|()| Resp::empty(202))
        }),
        "os-unreserve" => call(Op::Unreserve, &mut |w, p| {
            w.unreserve(p, v).map(|()| Resp::empty(202))
        }),
        "os-begin_detaching" => call(Op::BeginDetaching, &mut |w, p| {
            w.begin_detaching(p, v).map(|()| Resp::empty(202))
        }),
        "os-roll_detaching" => call(Op::RollDetaching, &mut |w, p| {
            w.roll_detaching(p, v).map(|()| Resp::empty(202))
        }),
        "os-initialize_connection" => {
            let c: WithConnector = body(req, "os-initialize_connection")?;
            call(Op::InitializeConnection, &mut |w, p| {
                let info = w.initialize_connection(p, v, &c.connector)?;
                Ok(Resp::json(200, json!({ "connection_info": info })))
            })
        }
        "os-terminate_connection" => {
            let c: WithConnector = body(req, "os-terminate_connection")?;
            call(Op::TerminateConnection, &mut |w, p| {
                w.terminate_connection(p, v, &c.connector)
                    .map(|()| Resp::empty(202))
            })
        }
        "os-attach" => {
            let a: AttachArgs = body(req, "os-attach")?;
            call(Op::Attach, &mut |w, p| {
                w.attach(
                    p,
                    v,
                    &a.instance_uuid,
                    a.mountpoint.as_deref().unwrap_or("/dev/sda"),
                    a.host_name.as_deref(),
                )
                .map(|()| Resp::empty(202))
            })
        }
        "os-detach" => {
            let d: DetachArgs = body(req, "os-detach")?;
            call(Op::Detach, &mut |w, p| {
                w.detach(p, v, d.attachment_id.as_ref())
                    .map(|()| Resp::empty(202))
            })
        }
        other => Err(CinderError::api(
            "volume action",
            501,
            format!("Volume action {other} is not implemented in dpm-sim."),
        )),
    }
}
