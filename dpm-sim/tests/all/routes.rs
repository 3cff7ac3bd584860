//! hmc-client's route table is what the served HMC answers: every
//! operation of [`HmcOp::ALL`] reaches a handler, the query parameters an
//! operation takes are the table's (any other is 400.1), and a known path
//! with a method none of its operations has is 404.1.

use std::collections::BTreeSet;

use dpm_sim::WorldSpec;
use hmc_client::HmcOp;
use serde_json::Value;

use crate::conformance::{served, RawHmc};

/// The operation's path with made-up ids in its places.
fn dummy_path(op: HmcOp) -> String {
    let places = op.template().matches('{').count();
    let ids: Vec<String> = (0..places).map(|i| format!("no-such-id-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    op.path(&ids)
}

/// The answer the served HMC gives a request no operation of the table
/// matches.
fn not_modelled(status: u16, body: &Value) -> bool {
    status == 404
        && body["reason"].as_u64() == Some(1)
        && body["message"]
            .as_str()
            .is_some_and(|m| m.contains("not modelled by dpm-sim"))
}

/// The table's operations, Logoff last (it ends the session the others
/// are sent with).
fn operations() -> Vec<HmcOp> {
    let mut ops = HmcOp::ALL.to_vec();
    ops.sort_by_key(|op| *op == HmcOp::Logoff);
    ops
}

/// Each operation, with its method on its path (made-up ids, no body),
/// is answered by its handler (a bad id, a bad body, a refusal), never
/// as one dpm-sim does not model; on either model.
#[tokio::test]
async fn every_operation_of_the_table_is_served() {
    for spec in [WorldSpec::z13(), WorldSpec::z16()] {
        let (sim, server) = served(spec).await;
        let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
        for op in operations() {
            let path = dummy_path(op);
            let (status, body) = raw.send(op.method().as_str(), path.clone(), None).await;
            assert!(!not_modelled(status, &body), "{op:?} {path}: {body}");
            assert!(
                (200..500).contains(&status),
                "{op:?} {path}: {status} {body}"
            );
        }
        server.shutdown().await;
    }
}

/// A query parameter the table does not list for an operation is 400.1
/// (checked before the ids), on every operation; the ones it lists are
/// not refused as unknown.
#[tokio::test]
async fn a_query_parameter_outside_the_table_is_400_1() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    for op in operations() {
        let method = op.method().as_str();
        let path = dummy_path(op);
        let (status, body) = raw
            .send(method, format!("{path}?no-such-parameter=1"), None)
            .await;
        assert_eq!(
            (status, body["reason"].as_u64()),
            (400, Some(1)),
            "{op:?}: {body}"
        );
        assert_eq!(
            body["message"], "Query parameter \"no-such-parameter\" is not supported.",
            "{op:?}"
        );
        for q in op.query() {
            let (_, body) = raw.send(method, format!("{path}?{q}=1"), None).await;
            assert_ne!(
                body["message"].as_str(),
                Some(format!("Query parameter {q:?} is not supported.").as_str()),
                "{op:?} {q}"
            );
        }
    }
    server.shutdown().await;
}

/// A method no operation of a known path has is 404.1, as the HMC (and
/// zhmcclient's mock) answers an invalid method on a known URI, and the
/// message says the method is not valid there; an unknown path is still
/// "not modelled".
#[tokio::test]
async fn a_known_path_with_another_method_is_404_1() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let routes: BTreeSet<(&str, &str)> = HmcOp::ALL
        .iter()
        .map(|op| (op.template(), op.method().as_str()))
        .collect();
    let templates: BTreeSet<&str> = HmcOp::ALL.iter().map(|op| op.template()).collect();
    let mut tried = 0;
    for template in templates {
        let Some(op) = HmcOp::ALL.iter().find(|op| op.template() == template) else {
            continue;
        };
        let path = dummy_path(*op);
        for method in ["GET", "POST", "DELETE", "PUT", "PATCH"] {
            if routes.contains(&(template, method)) {
                continue;
            }
            let (status, body) = raw.send(method, path.clone(), None).await;
            assert_eq!(
                (status, body["reason"].as_u64()),
                (404, Some(1)),
                "{method} {path}: {body}"
            );
            assert_eq!(
                body["message"],
                format!("The method {method} is not valid on URI {path}."),
                "{method} {path}"
            );
            assert_eq!(body["request-method"], method);
            tried += 1;
        }
    }
    assert!(tried > 0);
    let (status, body) = raw.send("GET", "/api/console/users".into(), None).await;
    assert!(not_modelled(status, &body), "{body}");
    server.shutdown().await;
}
