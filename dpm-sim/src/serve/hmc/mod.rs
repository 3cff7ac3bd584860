//! The HMC Web Services API over HTTP, on the world's HMC operations.
//! The wire types are hmc-client's own, so the JSON cannot drift.
//!
//! One module per resource, each with a `route` that answers the requests
//! it knows and returns `None` for the rest; [`route`] tries them in turn,
//! and what none of them knows answers 404.1, saying dpm-sim does not model it. A new resource is a new module
//! and one line in [`RESOURCES`].

mod adapter;
mod console;
mod cpc;
mod hba;
mod job;
mod os_messages;
mod partition;
mod services;
mod session;
mod storage_group;

use std::sync::Mutex;

use hmc_client::{ErrorBody, HmcError};
use serde::Serialize;
use serde_json::Value;

use super::http::{Req, Resp};
use crate::hmc::reason;
use crate::ops::Op;
use crate::pipeline::hmc_call;
use crate::world::World;

/// What a resource's handler needs to run a request against the world.
pub(super) struct Ctx<'a> {
    world: &'a Mutex<World>,
    session: Option<&'a str>,
    path: &'a str,
}

impl Ctx<'_> {
    /// Runs `op` through [`hmc_call`]: settle, count, fault, session, run.
    fn call(
        &self,
        op: Op,
        f: impl FnOnce(&mut World) -> Result<Resp, HmcError>,
    ) -> Result<Resp, HmcError> {
        hmc_call(self.world, op, self.session, self.path, f)
    }

    /// Like [`Ctx::call`], with the request body read as `T` inside the
    /// call: a bad body is counted, meets an armed fault and the session
    /// check first, as on the HMC.
    fn call_with_body<T: serde::de::DeserializeOwned>(
        &self,
        req: &Req,
        op: Op,
        f: impl FnOnce(&mut World, T) -> Result<Resp, HmcError>,
    ) -> Result<Resp, HmcError> {
        self.call(op, |w| f(w, parse(req, op.method())?))
    }
}

/// A resource's handler: `None` when the request is not for it.
type Route = fn(&Ctx<'_>, &Req, &[&str]) -> Option<Result<Resp, HmcError>>;

/// The resources, tried in this order.
const RESOURCES: &[Route] = &[
    session::route,
    cpc::route,
    adapter::route,
    partition::route,
    hba::route,
    storage_group::route,
    job::route,
    services::route,
    console::route,
];

pub(crate) fn route(world: &Mutex<World>, req: &Req) -> Resp {
    match dispatch(world, req) {
        Ok(r) => r,
        Err(e) => error(req, e),
    }
}

fn dispatch(world: &Mutex<World>, req: &Req) -> Result<Resp, HmcError> {
    let Some(seg) = req.segments("/api/") else {
        return Err(not_implemented(req));
    };
    let ctx = Ctx {
        world,
        session: req.header("x-api-session"),
        path: &req.path,
    };
    RESOURCES
        .iter()
        .find_map(|route| route(&ctx, req, &seg))
        .unwrap_or_else(|| Err(not_implemented(req)))
}

fn error(req: &Req, e: HmcError) -> Resp {
    if matches!(e, HmcError::Transport { .. }) {
        return Resp::reset();
    }
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

/// The values of a property-list query parameter (`properties`,
/// `additional-properties`): comma-separated, repeatable.
fn property_names<'a>(req: &'a Req, key: &str) -> Vec<&'a str> {
    req.query_all(key)
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// An object GET's answer: every property, or with `properties=a,b`
/// exactly those (as the HMC's "Get ... Properties" operations answer, and
/// as zhmcclient's `pull_properties` reads a reply: one with more entries
/// than were asked for is taken for the full set). A name the object does
/// not have is 400.14; any other query parameter is 400.1.
fn object<T: Serialize>(req: &Req, v: T) -> Result<Resp, HmcError> {
    allow_query(req, "GET", &["properties"])?;
    let value = serde_json::to_value(v).unwrap_or(Value::Null);
    let wanted = property_names(req, "properties");
    Ok(Resp::json(200, select(req, value, &wanted)?))
}

/// The named properties of `value` (all of them when none is named);
/// 400.14 for a name it does not have.
fn select(req: &Req, value: Value, wanted: &[&str]) -> Result<Value, HmcError> {
    let Value::Object(mut all) = value else {
        return Ok(value);
    };
    if wanted.is_empty() {
        return Ok(Value::Object(all));
    }
    let mut out = serde_json::Map::new();
    for name in wanted {
        let Some(v) = all.remove(*name) else {
            if out.contains_key(*name) {
                continue;
            }
            return Err(HmcError::api(
                "GET",
                req.path.clone(),
                400,
                reason::UNKNOWN_PROPERTY,
                format!(
                    "{name:?} in the 'properties' query parameter is not a property of {}.",
                    req.path
                ),
            ));
        };
        out.insert((*name).to_owned(), v);
    }
    Ok(Value::Object(out))
}

/// A list entry with the `additional-properties` asked for, taken from the
/// object's full properties (names the object lacks are left out).
fn with_additional<T: Serialize, F: Serialize>(entry: T, full: F, names: &[&str]) -> Value {
    let mut e = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let (Value::Object(m), Value::Object(f)) =
        (&mut e, serde_json::to_value(full).unwrap_or(Value::Null))
    {
        for n in names {
            if let Some(v) = f.get(*n) {
                m.insert((*n).to_owned(), v.clone());
            }
        }
    }
    e
}

/// A body that does not parse: 400.5 for a missing field, 400.7 otherwise.
fn bad_body(req: &Req, method: &'static str, e: &serde_json::Error, quote: bool) -> HmcError {
    let missing = e.to_string().contains("missing field");
    let msg = if quote {
        format!("The request body is not valid: {e}")
    } else {
        "The request body is not valid.".into()
    };
    HmcError::api(
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
        HmcError::api(
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
        Some((k, _)) => Err(HmcError::api(
            method,
            req.path.clone(),
            400,
            reason::BAD_QUERY,
            format!("Query parameter {k:?} is not supported."),
        )),
        None => Ok(()),
    }
}

/// A query value that must parse as `T` (400.1 otherwise).
fn query_value<T: std::str::FromStr>(req: &Req, key: &str) -> Result<Option<T>, HmcError> {
    match req.query_all(key).first() {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            HmcError::api(
                "GET",
                req.path.clone(),
                400,
                reason::BAD_QUERY,
                format!("Query parameter {key} has a value that is not valid: {v:?}."),
            )
        }),
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

fn not_implemented(req: &Req) -> HmcError {
    // The method's name must be 'static; the request's is in the body.
    // A real HMC answers an operation it does not have with 404.1, and
    // clients read 404.1 as "not supported here" (HMC.md, corrections).
    HmcError::api(
        "GET",
        req.path.clone(),
        404,
        1,
        format!(
            "{} {} is not modelled by dpm-sim (a real HMC may offer it).",
            req.method, req.path
        ),
    )
}
