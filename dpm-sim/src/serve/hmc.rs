//! The HMC Web Services API over HTTP, on the world's HMC operations.
//! The wire types are hmc-client's own, so the JSON cannot drift.

use std::sync::Mutex;

use hmc_client::{
    AdapterFilter, AdapterType, AdapterUri, CpcUri, CreatedElement, CreatedObject, ErrorBody,
    HbaCreate, HbaUri, HmcError, JobStarted, JobUri, LogonRequest, PartitionCreate,
    PartitionFilter, PartitionUpdate, PartitionUri, StoragePortUri,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::http::{Req, Resp};
use crate::client::hmc_call;
use crate::hmc::{reason, refuse};
use crate::ops::Op;
use crate::world::World;

/// The properties `POST /api/partitions/{id}` may change here.
const WRITABLE: &[&str] = &[
    "description",
    "ifl-processors",
    "initial-memory",
    "maximum-memory",
    "boot-device",
    "boot-storage-device",
    "boot-world-wide-port-name",
    "boot-logical-unit-number",
];

fn error(req: &Req, e: HmcError) -> Resp {
    let (status, reason, message) = match e {
        HmcError::Api {
            status,
            reason,
            message,
            ..
        } => (status, reason, message),
        other => (500, 0, other.to_string()),
    };
    let body = ErrorBody {
        http_status: status,
        reason,
        message,
        request_method: Some(req.method.clone()),
        request_uri: Some(req.path.clone()),
    };
    Resp::json(status, serde_json::to_value(body).unwrap_or(Value::Null))
}

fn ok<T: Serialize>(status: u16, v: T) -> Result<Resp, HmcError> {
    Ok(Resp::json(
        status,
        serde_json::to_value(v).unwrap_or(Value::Null),
    ))
}

/// A body that does not parse: 400.5 for a missing field, 400.7 otherwise.
fn bad_body(req: &Req, method: &'static str, e: &serde_json::Error, quote: bool) -> HmcError {
    let missing = e.to_string().contains("missing field");
    let msg = if quote {
        format!("The request body is not valid: {e}")
    } else {
        "The request body is not valid.".into()
    };
    refuse(
        method,
        req.path.clone(),
        400,
        if missing {
            reason::MISSING_FIELD
        } else {
            reason::INVALID_VALUE
        },
        msg,
    )
}

fn parse<T: serde::de::DeserializeOwned>(req: &Req, method: &'static str) -> Result<T, HmcError> {
    let v = req.json().map_err(|e| bad_body(req, method, &e, true))?;
    serde_json::from_value(v).map_err(|e| bad_body(req, method, &e, true))
}

fn uri<T: std::str::FromStr>(req: &Req, method: &'static str, s: String) -> Result<T, HmcError> {
    s.parse().map_err(|_| {
        refuse(
            method,
            req.path.clone(),
            404,
            reason::NOT_FOUND,
            format!("No object {s}."),
        )
    })
}

/// Only the listed query parameters are understood; anything else is 400.1.
fn allow_query(req: &Req, method: &'static str, allowed: &[&str]) -> Result<(), HmcError> {
    match req
        .query
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        Some((k, _)) => Err(refuse(
            method,
            req.path.clone(),
            400,
            reason::BAD_QUERY,
            format!("Query parameter {k:?} is not supported."),
        )),
        None => Ok(()),
    }
}

/// Repeated query values are ORed, as the HMC does.
fn pattern(values: Vec<&str>) -> Option<String> {
    match values.len() {
        0 => None,
        1 => Some(values[0].to_owned()),
        _ => Some(
            values
                .iter()
                .map(|v| format!("(?:{v})"))
                .collect::<Vec<_>>()
                .join("|"),
        ),
    }
}

pub(crate) fn route(world: &Mutex<World>, req: &Req) -> Resp {
    match dispatch(world, req) {
        Ok(r) => r,
        Err(e) => error(req, e),
    }
}

fn dispatch(world: &Mutex<World>, req: &Req) -> Result<Resp, HmcError> {
    let session = req.header("x-api-session");
    let Some(seg) = req.segments("/api/") else {
        return Err(not_implemented(req));
    };
    let path = req.path.clone();
    let call =
        |op: Op, method: &'static str, f: &mut dyn FnMut(&mut World) -> Result<Resp, HmcError>| {
            hmc_call(world, op, session, method, &path, f)
        };
    match (req.method.as_str(), seg.as_slice()) {
        ("GET", ["version"]) => call(Op::ApiVersion, "GET", &mut |w| ok(200, w.api_version())),
        ("POST", ["sessions"]) => {
            let v = req.json().map_err(|e| bad_body(req, "POST", &e, false))?;
            let logon: LogonRequest =
                serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, false))?;
            call(Op::Logon, "POST", &mut |w| {
                ok(200, w.logon(&logon.userid, logon.password.expose())?)
            })
        }
        ("DELETE", ["sessions", "this-session"]) => call(Op::Logoff, "DELETE", &mut |w| {
            if let Some(s) = session {
                w.logoff(s);
            }
            Ok(Resp::empty(204))
        }),
        ("GET", ["cpcs"]) => {
            allow_query(req, "GET", &["name"])?;
            let name = pattern(req.query_all("name"));
            call(Op::ListCpcs, "GET", &mut |w| {
                ok(200, json!({ "cpcs": w.list_cpcs(name.as_deref())? }))
            })
        }
        ("GET", ["cpcs", id]) => {
            let cpc: CpcUri = uri(req, "GET", format!("/api/cpcs/{id}"))?;
            call(Op::GetCpc, "GET", &mut |w| ok(200, w.get_cpc(&cpc)?))
        }
        ("GET", ["cpcs", id, "adapters"]) => {
            allow_query(req, "GET", &["name", "type", "adapter-family", "status"])?;
            let cpc: CpcUri = uri(req, "GET", format!("/api/cpcs/{id}"))?;
            let types = req.query_all("type");
            let filter = AdapterFilter {
                adapter_type: types.first().map(|t| AdapterType::from(*t)),
                name: pattern(req.query_all("name")),
            };
            call(Op::ListAdapters, "GET", &mut |w| {
                let mut list = w.list_adapters(
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
                ] {
                    if !v.is_empty() {
                        list.retain(|a| {
                            let have = if k == "status" {
                                a.status.clone()
                            } else {
                                a.adapter_family.clone()
                            };
                            have.is_some_and(|h| v.contains(&h.as_str()))
                        });
                    }
                }
                ok(200, json!({ "adapters": list }))
            })
        }
        ("GET", ["adapters", id]) => {
            let a: AdapterUri = uri(req, "GET", format!("/api/adapters/{id}"))?;
            call(Op::GetAdapter, "GET", &mut |w| ok(200, w.get_adapter(&a)?))
        }
        ("GET", ["adapters", id, "storage-ports", n]) => {
            let p: StoragePortUri =
                uri(req, "GET", format!("/api/adapters/{id}/storage-ports/{n}"))?;
            call(Op::GetStoragePort, "GET", &mut |w| {
                ok(200, w.get_storage_port(&p)?)
            })
        }
        ("GET", ["cpcs", id, "partitions"]) => {
            allow_query(req, "GET", &["name", "status", "type"])?;
            let cpc: CpcUri = uri(req, "GET", format!("/api/cpcs/{id}"))?;
            let statuses = req.query_all("status");
            let types = req.query_all("type");
            let filter = PartitionFilter {
                name: pattern(req.query_all("name")),
                status: None,
            };
            call(Op::ListPartitions, "GET", &mut |w| {
                let mut list = w.list_partitions(&cpc, &filter)?;
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
                ok(200, json!({ "partitions": list }))
            })
        }
        ("POST", ["cpcs", id, "partitions"]) => {
            let cpc: CpcUri = uri(req, "POST", format!("/api/cpcs/{id}"))?;
            let props: PartitionCreate = parse(req, "POST")?;
            call(Op::CreatePartition, "POST", &mut |w| {
                ok(
                    201,
                    CreatedObject {
                        object_uri: w.create_partition(&cpc, &props)?,
                    },
                )
            })
        }
        (m @ ("GET" | "POST" | "DELETE"), ["partitions", id]) => {
            let p: PartitionUri = uri(req, "GET", format!("/api/partitions/{id}"))?;
            match m {
                "GET" => call(Op::GetPartition, "GET", &mut |w| {
                    ok(200, w.get_partition(&p)?)
                }),
                "POST" => {
                    let v = req.json().map_err(|e| bad_body(req, "POST", &e, true))?;
                    if let Some(obj) = v.as_object() {
                        if let Some(k) = obj.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
                            return Err(refuse(
                                "POST",
                                req.path.clone(),
                                400,
                                6,
                                format!(
                                    "Property {k:?} is not writable (or not simulated by dpm-sim)."
                                ),
                            ));
                        }
                    }
                    let u: PartitionUpdate =
                        serde_json::from_value(v).map_err(|e| bad_body(req, "POST", &e, true))?;
                    call(Op::UpdatePartition, "POST", &mut |w| {
                        w.update_partition(&p, &u).map(|()| Resp::empty(204))
                    })
                }
                _ => call(Op::DeletePartition, "DELETE", &mut |w| {
                    w.delete_partition(&p).map(|()| Resp::empty(204))
                }),
            }
        }
        ("POST", ["partitions", id, "operations", op @ ("start" | "stop")]) => {
            let p: PartitionUri = uri(req, "POST", format!("/api/partitions/{id}"))?;
            if *op == "start" {
                call(Op::StartPartition, "POST", &mut |w| {
                    ok(
                        202,
                        JobStarted {
                            job_uri: w.start_partition(&p)?,
                        },
                    )
                })
            } else {
                call(Op::StopPartition, "POST", &mut |w| {
                    ok(
                        202,
                        JobStarted {
                            job_uri: w.stop_partition(&p)?,
                        },
                    )
                })
            }
        }
        ("POST", ["partitions", id, "hbas"]) => {
            let p: PartitionUri = uri(req, "POST", format!("/api/partitions/{id}"))?;
            let props: HbaCreate = parse(req, "POST")?;
            call(Op::CreateHba, "POST", &mut |w| {
                ok(
                    201,
                    CreatedElement {
                        element_uri: w.create_hba(&p, &props)?,
                    },
                )
            })
        }
        (m @ ("GET" | "DELETE"), ["partitions", id, "hbas", hid]) => {
            let h: HbaUri = uri(req, "GET", format!("/api/partitions/{id}/hbas/{hid}"))?;
            if m == "GET" {
                call(Op::GetHba, "GET", &mut |w| ok(200, w.get_hba(&h)?))
            } else {
                call(Op::DeleteHba, "DELETE", &mut |w| {
                    w.delete_hba(&h).map(|()| Resp::empty(204))
                })
            }
        }
        (m @ ("GET" | "DELETE"), ["jobs", id]) => {
            let j: JobUri = uri(req, "GET", format!("/api/jobs/{id}"))?;
            if m == "GET" {
                call(Op::GetJob, "GET", &mut |w| ok(200, w.get_job(&j)?))
            } else {
                call(Op::DeleteJob, "DELETE", &mut |w| {
                    w.delete_job(&j).map(|()| Resp::empty(204))
                })
            }
        }
        _ => Err(not_implemented(req)),
    }
}

fn not_implemented(req: &Req) -> HmcError {
    // The method's name must be 'static; the request's is in the body.
    refuse(
        "GET",
        req.path.clone(),
        501,
        0,
        format!("{} {} is not implemented in dpm-sim.", req.method, req.path),
    )
}
