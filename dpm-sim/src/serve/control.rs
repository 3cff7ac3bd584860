//! The simulator's controls over HTTP, for runs across processes: faults,
//! a dead client, counters, the zoning knob, session expiry and a leak
//! audit. Served on 127.0.0.1 only, and only when asked for
//! (`dpm-sim serve --control-port N`). None of this is on the API traits.
//!
//! | request | body | effect |
//! |---|---|---|
//! | `POST /sim/faults` | `{"op", "skip"?, "count"?, "status"?, "reason"?, "message"?, "lost_reply"?}` | arms a fault ([`Sim::fail_after`]) |
//! | `DELETE /sim/faults` | | disarms every fault |
//! | `POST /sim/sever` | `{"after"}` | cuts clients off after that many requests |
//! | `DELETE /sim/sever` | | lets requests through again |
//! | `GET /sim/counters` | | `{"counts": {op: n}, "requests": {"hmc", "cinder", "job_traffic"}}` |
//! | `DELETE /sim/counters` | | resets counters and the request log |
//! | `POST /sim/zoning` | `{"enabled"}` | the FC zone manager on or off |
//! | `POST /sim/expire-sessions` | | ends every HMC session |
//! | `GET /sim/leaks` | | what exists: partitions, vHBAs, VSRs, storage groups, host mappings, zones, attachments, volumes not `available` |
//! | `GET /sim/world` | | the world itself: [`Sim::snapshot`] as JSON, and `fabrics` (their names, by index) (partitions, vHBAs, storage groups with their volumes, WWPNs and VSRs, host objects with their mappings, zones, volumes, attachments) |
//! | `POST /sim/latency` | `{"hmc_ms"?, "cinder_ms"?}` | each request waits that long |
//! | `POST /sim/fabric` | `{"index", "down"}` | a SAN fabric goes down or comes back |
//! | `POST /sim/stall-jobs` | `{"op", "on"}` | that operation's jobs started from now on never end |
//! | `POST /sim/fault-rate` | `{"rate", "seed"}` | random faults at that rate, from that seed |
//! | `POST /sim/wwpn-reuse` | `{"on"}` | freed NPIV WWPNs are handed out again |
//! | `POST /sim/partition-status` | `{"partition", "status"}` | a partition in a status the CPC produces on its own ([`Sim::set_partition_status`]): 204; 400 a status that cannot be set, 404 no such partition, 409 not from its status |
//! | `POST /sim/guest` | `{"partition", "responsive"}` | whether the partition's guest honours shutdown commands ([`Sim::set_guest_responsive`]; `false`: a hung guest): 204; 404 no such partition |

use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{Req, Resp};
use crate::{Fault, Op, Side, Sim};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    op: String,
    #[serde(default)]
    skip: u32,
    #[serde(default = "one")]
    count: u32,
    #[serde(default = "status_503")]
    status: u16,
    #[serde(default)]
    reason: u16,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    lost_reply: bool,
}

fn one() -> u32 {
    1
}
fn status_503() -> u16 {
    503
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sever {
    after: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Zoning {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Latency {
    #[serde(default)]
    hmc_ms: u64,
    #[serde(default)]
    cinder_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FabricDown {
    index: usize,
    down: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnOff {
    on: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stall {
    op: String,
    on: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rate {
    rate: f64,
    seed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetStatus {
    partition: hmc_client::PartitionUri,
    status: hmc_client::PartitionStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Guest {
    partition: hmc_client::PartitionUri,
    responsive: bool,
}

fn bad(message: impl Into<String>) -> Resp {
    Resp::json(400, json!({"error": message.into()}))
}

fn body<T: serde::de::DeserializeOwned>(req: &Req) -> Result<T, Resp> {
    req.json()
        .and_then(serde_json::from_value)
        .map_err(|e| bad(format!("bad body: {e}")))
}

pub(crate) fn route(sim: &Sim, req: &Req) -> Resp {
    let Some(seg) = req.segments("/sim/") else {
        return Resp::json(404, json!({"error": "not a control route"}));
    };
    let r = match (req.method.as_str(), seg.as_slice()) {
        ("POST", ["faults"]) => body::<FaultBody>(req).and_then(|b| {
            let op = Op::from_name(&b.op).ok_or_else(|| bad(format!("no operation {:?}", b.op)))?;
            let fault = if b.lost_reply {
                Fault::lost_reply()
            } else {
                Fault::new(
                    b.status,
                    b.reason,
                    b.message
                        .unwrap_or_else(|| "injected by a control request".into()),
                )
            };
            sim.fail_after(op, b.skip, b.count, fault);
            Ok(Resp::empty(204))
        }),
        ("DELETE", ["faults"]) => {
            sim.clear_faults();
            Ok(Resp::empty(204))
        }
        ("POST", ["sever"]) => body::<Sever>(req).map(|b| {
            sim.sever_after(b.after);
            Resp::empty(204)
        }),
        ("DELETE", ["sever"]) => {
            sim.reconnect();
            Ok(Resp::empty(204))
        }
        ("GET", ["counters"]) => {
            let c = sim.counters();
            let counts: serde_json::Map<String, Value> = c
                .nonzero()
                .map(|(op, n)| (op.name().to_owned(), json!(n)))
                .collect();
            Ok(Resp::json(
                200,
                json!({"counts": counts, "requests": {
                    "hmc": c.requests(Side::Hmc),
                    "cinder": c.requests(Side::Cinder),
                    "job_traffic": c.job_traffic(),
                }}),
            ))
        }
        ("DELETE", ["counters"]) => {
            sim.reset_counters();
            Ok(Resp::empty(204))
        }
        ("POST", ["zoning"]) => body::<Zoning>(req).map(|b| {
            sim.set_zoning(b.enabled);
            Resp::empty(204)
        }),
        ("POST", ["expire-sessions"]) => {
            sim.expire_sessions();
            Ok(Resp::empty(204))
        }
        ("GET", ["leaks"]) => Ok(Resp::json(200, leaks(sim))),
        ("GET", ["world"]) => {
            let mut world = serde_json::to_value(sim.snapshot()).unwrap_or(Value::Null);
            world["fabrics"] = sim.spec().fabrics.iter().map(|f| json!(f.name)).collect();
            Ok(Resp::json(200, world))
        }
        ("POST", ["latency"]) => body::<Latency>(req).map(|b| {
            sim.set_latency(Side::Hmc, std::time::Duration::from_millis(b.hmc_ms));
            sim.set_latency(Side::Cinder, std::time::Duration::from_millis(b.cinder_ms));
            Resp::empty(204)
        }),
        ("POST", ["fabric"]) => body::<FabricDown>(req).map(|b| {
            sim.set_fabric_down(b.index, b.down);
            Resp::empty(204)
        }),
        ("POST", ["stall-jobs"]) => body::<Stall>(req).and_then(|b| {
            let op = Op::from_name(&b.op).ok_or_else(|| bad(format!("no operation {:?}", b.op)))?;
            sim.stall_jobs(op, b.on);
            Ok(Resp::empty(204))
        }),
        ("POST", ["fault-rate"]) => body::<Rate>(req).map(|b| {
            sim.set_fault_rate(b.rate, b.seed);
            Resp::empty(204)
        }),
        ("POST", ["wwpn-reuse"]) => body::<OnOff>(req).map(|b| {
            sim.set_wwpn_reuse(b.on);
            Resp::empty(204)
        }),
        ("POST", ["partition-status"]) => body::<SetStatus>(req).and_then(|b| {
            match sim.set_partition_status(&b.partition, b.status) {
                Ok(()) => Ok(Resp::empty(204)),
                Err(e) => {
                    let status = match e {
                        crate::StatusError::NoPartition(_) => 404,
                        crate::StatusError::NotSettable(_) => 400,
                        _ => 409,
                    };
                    Err(Resp::json(status, json!({"error": e.to_string()})))
                }
            }
        }),
        ("POST", ["guest"]) => body::<Guest>(req).and_then(|b| {
            if sim.set_guest_responsive(&b.partition, b.responsive) {
                Ok(Resp::empty(204))
            } else {
                Err(Resp::json(
                    404,
                    json!({"error": format!("no partition {}", b.partition)}),
                ))
            }
        }),
        _ => Err(Resp::json(
            404,
            json!({"error": format!("no control route {} {}", req.method, req.path)}),
        )),
    };
    r.unwrap_or_else(|e| e)
}

/// What exists of instances: all zero once every instance is destroyed.
pub(crate) fn leaks(sim: &Sim) -> Value {
    let s = sim.snapshot();
    json!({
        "partitions": s.partitions.len(),
        "hbas": s.hbas.len(),
        "vsrs": s.storage_groups.iter().map(|g| g.vsrs.len()).sum::<usize>(),
        "storage_groups": s.storage_groups.len(),
        "host_mappings": s.hosts.iter().map(|h| h.mappings.len()).sum::<usize>(),
        "zones": s.zones.len(),
        "attachments": s.attachments.len(),
        "volumes_not_available": s
            .volumes
            .iter()
            .filter(|v| v.status != cinder_client::VolumeStatus::Available)
            .count(),
    })
}
