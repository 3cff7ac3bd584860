//! The full property set of the CPC, compared by name in both directions
//! with what a real HMC returns: the recorded export of an HMC 2.17
//! (`hmc-client/tests/data/dpm-export-1p-1sg.json`) and, for the CPC
//! properties an export does not carry, zhmcclient's z16 mock
//! (`mocked_hmc_z16.yaml`). Served over HTTPS, and in memory where
//! hmc-client's typed value exists.

use std::collections::BTreeSet;

use dpm_sim::WorldSpec;
use hmc_client::HmcApi;
use serde_json::{json, Value};

use crate::conformance::{http_hmc, served, RawHmc};
use crate::support::props;

fn export() -> Value {
    serde_json::from_str(include_str!(
        "../../../hmc-client/tests/data/dpm-export-1p-1sg.json"
    ))
    .unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The value's JSON kind.
fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `got` has exactly the names of `want`: both differences empty.
fn same_names(what: &str, got: &BTreeSet<String>, want: &BTreeSet<String>) {
    let missing: Vec<_> = want.difference(got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: the recording's names the simulator lacks: {missing:?}; \
         the simulator's names the recording lacks: {extra:?}"
    );
}

/// Where both are set, `got`'s values have the recording's kinds (a null
/// in either is "not set": a CHPID, a boot volume, an active size).
fn same_shapes(what: &str, got: &Value, recorded: &Value) {
    for (k, r) in recorded.as_object().unwrap() {
        let g = &got[k.as_str()];
        if !g.is_null() && !r.is_null() {
            assert_eq!(shape(g), shape(r), "{what} {k}: {g} against {r}");
        }
    }
}

// ----- the CPC ----------------------------------------------------------------

/// The properties of the mock's DPM CPC, with the kind of each value:
/// the keys at its `properties:` level, read from the YAML text (the
/// scalars' kinds from their text, a block's from its first line).
fn mock_cpc() -> Vec<(String, &'static str)> {
    let yaml = include_str!("../../../hmc-client/tests/data/mocked_hmc_z16.yaml");
    let lines: Vec<&str> = yaml.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "object-id: cpc_dpm")
        .unwrap();
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(start) {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let here = line.len() - t.len();
        if here < indent {
            break;
        }
        if here > indent {
            continue;
        }
        let (k, v) = t.split_once(':').unwrap();
        let v = v.trim();
        let kind = if v.is_empty() {
            let next = lines[i + 1].trim_start();
            if next.starts_with("- ") {
                "array"
            } else {
                "object"
            }
        } else if v == "null" {
            "null"
        } else if v == "true" || v == "false" {
            "bool"
        } else if v.starts_with('[') {
            "array"
        } else if v.starts_with('\'') || v.starts_with('"') || v.parse::<f64>().is_err() {
            "string"
        } else {
            "number"
        };
        out.push((k.to_owned(), kind));
    }
    out
}

/// Get CPC Properties answers the real HMC's set: the mock's DPM CPC
/// (114 names, with `class`, `parent` and `object-uri`, which the mock
/// makes itself) and the export's CPC properties (which add
/// `management-world-wide-port-name`). Nothing is left out. Values come
/// from the world (name, serial, machine type and model, SE version,
/// processors, memory), the rest in the recorded shapes.
#[tokio::test]
async fn the_cpc_has_the_recorded_hmcs_property_set() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let cpc = sim.cpc_uri();
    let (status, got) = raw.get(cpc.to_string()).await;
    assert_eq!(status, 200);

    let mock = mock_cpc();
    let recorded = export()["cpc-properties"].clone();
    let mut want: BTreeSet<String> = mock.iter().map(|(k, _)| k.clone()).collect();
    want.extend(names(&["class", "parent", "object-uri"]));
    want.extend(keys(&recorded));
    assert_eq!(want.len(), 118);
    same_names("CPC", &keys(&got), &want);
    for (k, kind) in &mock {
        let g = &got[k.as_str()];
        if *kind != "null" && !g.is_null() {
            assert_eq!(shape(g), *kind, "CPC {k}: {g}");
        }
    }
    same_shapes("CPC", &got, &recorded);
    // As recorded where the world has no value of its own.
    assert_eq!(got["management-world-wide-port-name"], Value::Null);
    assert_eq!(got["auto-start-list"], json!([]));
    assert_eq!(got["parent"], Value::Null);
    assert_eq!(got["class"], "cpc");
    // From the world.
    let spec = &sim.spec().cpc;
    assert_eq!(got["name"], spec.name.as_str());
    assert_eq!(got["machine-type"], "3931");
    assert_eq!(got["machine-model"], "A01");
    assert_eq!(got["machine-serial-number"], spec.serial.as_str());
    assert_eq!(got["cpc-serial-number"], spec.serial.as_str());
    assert_eq!(spec.serial.len(), 12);
    assert_eq!(got["se-version"], "2.16.0");
    assert_eq!(
        (&got["dpm-enabled"], &got["iml-mode"]),
        (&json!(true), &json!("dpm"))
    );
    assert_eq!(got["processor-count-ifl"], spec.ifl);
    assert_eq!(got["storage-customer"], spec.memory_mib);
    assert_eq!(got["storage-customer-central"], spec.memory_mib);
    assert_eq!(got["maximum-partitions"], spec.maximum_partitions);
    assert_eq!(got["status"], "active");
    assert_eq!(got["has-unacceptable-status"], false);
    assert!(got["acceptable-status"]
        .as_array()
        .unwrap()
        .contains(&json!("active")));

    // The CPC list agrees; memory in use shows.
    let (_, list) = raw.get("/api/cpcs".into()).await;
    assert_eq!(list["cpcs"][0]["has-unacceptable-status"], false);
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&cpc, &props("m", 1, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let (_, after) = raw.get(cpc.to_string()).await;
    assert_eq!(
        after["storage-customer-available"],
        spec.memory_mib - 2048,
        "a running partition holds its memory"
    );
    // hmc-client's typed CPC decodes the full set, in memory the same.
    let typed = hmc.get_cpc(&cpc).await.unwrap();
    let memory = sim.hmc();
    memory.logon().await.unwrap();
    let in_memory = memory.get_cpc(&cpc).await.unwrap();
    assert_eq!(typed, in_memory);
    assert_eq!(typed.machine_model.as_deref(), Some("A01"));
    assert_eq!(typed.name.as_deref(), Some(spec.name.as_str()));
    // A bulk read answers the full set too.
    let (status, bulk) = raw
        .send(
            "POST",
            "/api/services/aggregation/submit".into(),
            Some(json!({"requests": [{"method": "GET", "uri": cpc.as_str(), "id": "c"}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(keys(&bulk[0]["body"]), want);
    server.shutdown().await;
}

/// A z13's CPC: its own machine type, model and SE level; a serial set in
/// the spec is the one reported.
#[tokio::test]
async fn a_cpc_reports_the_worlds_machine() {
    let mut spec = WorldSpec::z13();
    spec.cpc.serial = "0000000Z13A1".into();
    let (sim, server) = served(spec).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let (_, got) = raw.get(sim.cpc_uri().to_string()).await;
    assert_eq!(
        (
            &got["machine-type"],
            &got["machine-model"],
            &got["se-version"]
        ),
        (&json!("2964"), &json!("N63"), &json!("2.13.1"))
    );
    assert_eq!(got["machine-serial-number"], "0000000Z13A1");
    server.shutdown().await;
    // A serial that is not 1 to 12 of A-Z and 0-9 is refused.
    let toml = include_str!("../../worlds/z13.toml").replace(
        "maximum_partitions = 85",
        "maximum_partitions = 85\nserial = \"bad serial\"",
    );
    assert!(WorldSpec::from_toml(&toml).is_err());
}
