//! The HMC Web Services API over HTTP, on the world's HMC operations.
//! The wire types are hmc-client's own, so the JSON cannot drift.
//!
//! hmc-client's route table (`hmc_client::route`) says what a request is:
//! [`dispatch`] resolves its method and path with [`HmcOp::resolve`],
//! checks its query parameters against the operation's `query()` in one
//! place (any other is 400.1), then runs the operation's handler, chosen
//! by one exhaustive `match` in [`handler`] (one module per resource, one
//! handler per operation), so every entry of the table is served. A path
//! no entry has answers 404.1, saying dpm-sim does not model it; a known
//! path with a method it does not take answers 404.1 too, as the HMC
//! does. A new operation is one entry in the table and its handler here.

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

use hmc_client::{ErrorBody, HmcError, HmcOp, Resolution};
use serde::Serialize;
use serde_json::Value;

use super::http::{Req, Resp};
use crate::hmc::reason;
use crate::ops::Op;
use crate::pipeline::{hmc_call, Shared};
use crate::world::World;

/// What an operation's handler needs to run a request against the world.
pub(super) struct Ctx<'a> {
    shared: &'a Shared,
    session: Option<&'a str>,
    path: &'a str,
    /// The operation the table resolved the request to.
    op: Op,
}

impl Ctx<'_> {
    /// Runs the request's operation through [`hmc_call`]: settle, count,
    /// fault, session, run.
    fn call(&self, f: impl FnOnce(&mut World) -> Result<Resp, HmcError>) -> Result<Resp, HmcError> {
        hmc_call(self.shared, self.op, self.session, self.path, f)
    }

    /// Like [`Ctx::call`], with the request body read as `T` inside the
    /// call: a bad body is counted, meets an armed fault and the session
    /// check first, as on the HMC.
    fn call_with_body<T: serde::de::DeserializeOwned>(
        &self,
        req: &Req,
        f: impl FnOnce(&mut World, T) -> Result<Resp, HmcError>,
    ) -> Result<Resp, HmcError> {
        self.call(|w| f(w, parse(req, self.method())?))
    }

    /// The operation's HTTP method, by the table.
    fn method(&self) -> &'static str {
        self.op.method()
    }
}

/// An operation's handler: the request, with the path's ids in the
/// template's order.
type Handler = fn(&Ctx<'_>, &Req, &[&str]) -> Result<Resp, HmcError>;

/// The handler of each operation of the table (exhaustive: an entry
/// without one does not compile).
fn handler(op: HmcOp) -> Handler {
    match op {
        HmcOp::Logon => session::logon,
        HmcOp::Logoff => session::logoff,
        HmcOp::ApiVersion => session::api_version,
        HmcOp::GetConsole => console::get,
        HmcOp::ListPermittedPartitions => console::partitions,
        HmcOp::ListPermittedAdapters => console::adapters,
        HmcOp::ListApiFeatures => console::features,
        HmcOp::ListCpcApiFeatures => console::cpc_features,
        HmcOp::ListCpcs => cpc::list,
        HmcOp::GetCpc => cpc::get,
        HmcOp::ValidateLunPath => cpc::validate_lun_path,
        HmcOp::ListAdapters => adapter::list,
        HmcOp::GetAdapter => adapter::get,
        HmcOp::GetStoragePort => adapter::get_port,
        HmcOp::GetPartitionsOfAdapter => adapter::assigned,
        HmcOp::ListPartitions => partition::list,
        HmcOp::CreatePartition => partition::create,
        HmcOp::GetPartition => partition::get,
        HmcOp::UpdatePartition => partition::update,
        HmcOp::DeletePartition => partition::delete,
        HmcOp::StartPartition => partition::start,
        HmcOp::StopPartition => partition::stop,
        HmcOp::ListOsMessages => os_messages::os_messages,
        HmcOp::SendOsCommand => os_messages::send_os_command,
        HmcOp::OpenOsMessageChannel => os_messages::open_channel,
        HmcOp::AttachStorageGroup => partition::attach_storage_group,
        HmcOp::DetachStorageGroup => partition::detach_storage_group,
        HmcOp::CreateHba => hba::create,
        HmcOp::GetHba => hba::get,
        HmcOp::UpdateHba => hba::update,
        HmcOp::DeleteHba => hba::delete,
        HmcOp::ListStorageGroups => storage_group::list,
        HmcOp::CreateStorageGroup => storage_group::create,
        HmcOp::GetStorageGroup => storage_group::get,
        HmcOp::ModifyStorageGroup => storage_group::modify,
        HmcOp::DeleteStorageGroup => storage_group::delete,
        HmcOp::AddCandidateAdapterPorts => storage_group::add_candidate_ports,
        HmcOp::RemoveCandidateAdapterPorts => storage_group::remove_candidate_ports,
        HmcOp::GetStorageGroupPartitions => storage_group::partitions,
        HmcOp::StartFcpStorageDiscovery => storage_group::start_discovery,
        HmcOp::AcceptMismatchedStorageVolumes => storage_group::accept_mismatched,
        HmcOp::ListStorageVolumes => storage_group::volumes,
        HmcOp::GetStorageVolume => storage_group::volume,
        HmcOp::ListVsrs => storage_group::vsrs,
        HmcOp::GetVsr => storage_group::vsr,
        HmcOp::SubmitRequests => services::submit,
        HmcOp::GetJob => job::get,
        HmcOp::DeleteJob => job::delete,
    }
}

pub(crate) fn route(shared: &Shared, req: &Req) -> Resp {
    match dispatch(shared, req) {
        Ok(r) => r,
        Err(e) => error(req, e),
    }
}

/// Resolves the request by the table, checks its query, runs its
/// operation's handler.
fn dispatch(shared: &Shared, req: &Req) -> Result<Resp, HmcError> {
    let (op, ids) = match HmcOp::resolve(&req.method, &req.path) {
        Resolution::Found(op, ids) => (op, ids),
        Resolution::WrongMethod => return Err(wrong_method(req)),
        Resolution::Unknown => return Err(not_implemented(req)),
    };
    allow_query(req, op)?;
    let ctx = Ctx {
        shared,
        session: req.header("x-api-session"),
        path: &req.path,
        op: Op::from(op),
    };
    handler(op)(&ctx, req, &ids)
}

/// The `N` ids of a resolved path (its template has `N` places; a
/// handler asking for another number is a bug, answered 500).
fn places<'a, const N: usize>(req: &Req, ids: &[&'a str]) -> Result<[&'a str; N], HmcError> {
    ids.try_into().map_err(|_| {
        HmcError::api(
            "GET",
            req.path.clone(),
            500,
            0,
            format!(
                "dpm-sim: {} ids in the path, its handler takes {N}.",
                ids.len()
            ),
        )
    })
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
/// not have is 400.14 (other query parameters were refused by
/// [`dispatch`]).
fn object<T: Serialize>(req: &Req, v: T) -> Result<Resp, HmcError> {
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

/// Only the operation's query parameters (by the table) are understood;
/// anything else is 400.1.
fn allow_query(req: &Req, op: HmcOp) -> Result<(), HmcError> {
    let allowed = op.query();
    match req
        .query
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        Some((k, _)) => Err(HmcError::api(
            op.method().as_str(),
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

/// A method the path's operations do not take: 404.1, as the HMC (and
/// zhmcclient's mock) answers an invalid method on a known URI.
fn wrong_method(req: &Req) -> HmcError {
    // The method's name must be 'static; the request's is in the body.
    HmcError::api(
        "GET",
        req.path.clone(),
        404,
        reason::NOT_FOUND,
        format!(
            "The method {} is not valid on URI {}.",
            req.method, req.path
        ),
    )
}
