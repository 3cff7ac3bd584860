//! The full property sets of the CPC, of an adapter of every family, of a
//! storage group and of a storage volume, compared by name in both
//! directions with what a real HMC returns: the recorded export of an HMC
//! 2.17 (`hmc-client/tests/data/dpm-export-1p-1sg.json`) and, for the
//! CPC properties an export does not carry, zhmcclient's z16 mock
//! (`mocked_hmc_z16.yaml`). Served over HTTPS, and in memory where
//! hmc-client's typed value exists.

use std::collections::BTreeSet;

use dpm_sim::{AdapterSpec, Sim, WorldSpec};
use hmc_client::{
    AdapterFilter, HmcApi, PartitionStatus, StorageGroupCreate, StorageGroupType, VolumeCreate,
    VolumeRequest,
};
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

// ----- adapters ------------------------------------------------------------------

/// The recorded adapters by (family, type): the first of each kind.
fn recorded_adapters() -> Vec<Value> {
    let mut seen = BTreeSet::new();
    export()["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            seen.insert((
                a["adapter-family"].as_str().unwrap().to_owned(),
                a["type"].as_str().unwrap().to_owned(),
            ))
        })
        .cloned()
        .collect()
}

/// The z16 world with a card of every kind the export holds, beside its
/// two FCP channels and its FICON channel.
fn every_family() -> WorldSpec {
    let mut spec = WorldSpec::z16();
    for (name, pchid, t, ports) in [
        ("Unconfigured 0100", "100", "not-configured", 1),
        ("OSD 0104", "104", "osd", 2),
        (
            "Network Express Hybrid 0108",
            "108",
            "network-express-hybrid",
            1,
        ),
        ("Cloud Network 0014", "014", "cna", 2),
        ("NVMe 0138", "138", "nvme", 0),
        ("Crypto 01A8", "1a8", "crypto", 0),
    ] {
        spec.adapters.push(AdapterSpec {
            name: name.into(),
            pchid: pchid.into(),
            adapter_type: t.into(),
            ports: vec![String::new(); ports],
        });
    }
    spec.validate().unwrap();
    spec
}

/// Every adapter family the recorded HMC has answers its recorded set:
/// FICON cards as FICON (`fc`) and not configured, OSA, Network Express,
/// Cloud Network, NVMe and crypto; an FCP channel has the `fc` set (a
/// FICON card configured as FCP). Nothing is left out. The capacity
/// entries have the recorded names too, and the ports the adapter lists
/// are its `port-count`.
#[tokio::test]
async fn every_adapter_family_has_the_recorded_hmcs_property_set() {
    let (sim, server) = served(every_family()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let recorded = recorded_adapters();
    assert_eq!(recorded.len(), 7, "seven kinds in the export");
    let memory = sim.hmc();
    memory.logon().await.unwrap();
    let mut families = BTreeSet::new();
    for (uri, t) in sim.adapters() {
        let (status, got) = raw.get(uri.to_string()).await;
        assert_eq!(status, 200);
        let want_type = if t == "fcp" { "fc" } else { t.as_str() };
        let r = recorded
            .iter()
            .find(|r| r["type"] == want_type)
            .unwrap_or_else(|| panic!("no recorded adapter of type {want_type}"));
        assert_eq!(got["adapter-family"], r["adapter-family"], "{t}");
        families.insert(got["adapter-family"].as_str().unwrap().to_owned());
        same_names(&format!("adapter {t}"), &keys(&got), &keys(r));
        same_shapes(&format!("adapter {t}"), &got, r);
        if let (Some(g), Some(r)) = (
            got["capacity-infos"].as_array(),
            r["capacity-infos"].as_array(),
        ) {
            assert_eq!(g.len(), r.len(), "{t}: one entry per port and kind");
            for (g, r) in g.iter().zip(r) {
                same_names(&format!("{t} capacity-infos"), &keys(g), &keys(r));
                assert_eq!(g["allocation-type"], r["allocation-type"], "{t}");
            }
        }
        let ports = got["storage-port-uris"]
            .as_array()
            .or(got["network-port-uris"].as_array())
            .map(Vec::len);
        assert_eq!(ports, got["port-count"].as_u64().map(|n| n as usize), "{t}");
        // Each storage port it lists answers.
        for p in got["storage-port-uris"].as_array().into_iter().flatten() {
            let (status, port) = raw.get(p.as_str().unwrap().to_owned()).await;
            assert_eq!((status, &port["class"]), (200, &json!("storage-port")));
        }
        // hmc-client's typed adapter, in memory, is the same adapter.
        let typed = memory.get_adapter(&uri).await.unwrap();
        assert_eq!(
            typed.adapter_family,
            got["adapter-family"].as_str().unwrap()
        );
        assert_eq!(typed.adapter_type.as_str(), t);
        assert_eq!(
            typed.detected_card_type.as_deref(),
            got["detected-card-type"].as_str()
        );
        assert_eq!(typed.port_count.map(u64::from), got["port-count"].as_u64());
        assert_eq!(typed.status, got["status"].as_str().unwrap());
    }
    assert_eq!(
        families,
        names(&["cna", "crypto", "ficon", "network-express", "nvme", "osa"])
    );
    // additional-properties on the list takes the full set's names.
    let (status, list) = raw
        .get(format!(
            "{}/adapters?additional-properties=card-location,channel-path-id,physical-channel-status",
            sim.cpc_uri()
        ))
        .await;
    assert_eq!(status, 200);
    let fcp = list["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "fcp")
        .unwrap();
    assert!(fcp["card-location"].is_string());
    assert!(fcp["channel-path-id"].is_string());
    assert_eq!(fcp["physical-channel-status"], "operating");
    server.shutdown().await;
}

/// The named worlds list a FICON channel (`fc`, family `ficon`) beside
/// their FCP channels: a client listing adapters sees a storage adapter
/// that is not FCP.
#[tokio::test]
async fn the_named_worlds_have_a_ficon_channel_beside_the_fcp_ones() {
    for spec in [WorldSpec::z13(), WorldSpec::z16()] {
        let sim = Sim::stepped(spec).unwrap();
        let hmc = sim.hmc();
        hmc.logon().await.unwrap();
        let list = hmc
            .list_adapters(&sim.cpc_uri(), &AdapterFilter::default())
            .await
            .unwrap();
        let kinds: Vec<(&str, &str)> = list
            .iter()
            .map(|a| {
                (
                    a.adapter_family.as_deref().unwrap(),
                    a.adapter_type.as_str(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [("ficon", "fcp"), ("ficon", "fcp"), ("ficon", "fc")],
            "{}",
            sim.spec().cpc.name
        );
    }
}

/// An FCP channel's configured capacity counts the vHBAs on it, its used
/// capacity those of partitions that run.
#[tokio::test]
async fn an_fcp_channels_capacity_counts_its_vhbas() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let a = sim.fcp_adapters()[0].uri.clone();
    let capacity = |v: &Value| {
        (
            v["configured-capacity"].as_u64().unwrap(),
            v["used-capacity"].as_u64().unwrap(),
            v["capacity-infos"][0]["configured-capacity"]
                .as_u64()
                .unwrap(),
        )
    };
    let (_, before) = raw.get(a.to_string()).await;
    assert_eq!(capacity(&before), (0, 0, 0));
    assert_eq!(before["maximum-total-capacity"], 254);
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("cap", 1, 1024))
        .await
        .unwrap();
    hmc.create_hba(
        &p,
        &hmc_client::HbaCreate {
            name: "h".into(),
            adapter_port_uri: hmc_client::StoragePortUri::new(&a, "0").unwrap(),
            description: None,
            device_number: None,
        },
    )
    .await
    .unwrap();
    let (_, defined) = raw.get(a.to_string()).await;
    assert_eq!(capacity(&defined), (1, 0, 1));
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    let (_, running) = raw.get(a.to_string()).await;
    assert_eq!(capacity(&running), (1, 1, 1));
    server.shutdown().await;
}

/// Adapters as their families have them: a crypto or NVMe card lists no
/// ports, a network card's ports are not cabled to a SAN fabric, an
/// unknown type is refused.
#[test]
fn adapter_specs_follow_their_family() {
    let with = |t: &str, ports: Vec<&str>| {
        let mut spec = WorldSpec::z16();
        spec.adapters.push(AdapterSpec {
            name: "X".into(),
            pchid: "1f0".into(),
            adapter_type: t.into(),
            ports: ports.into_iter().map(String::from).collect(),
        });
        spec.validate()
    };
    assert!(with("crypto", vec![]).is_ok());
    assert!(with("crypto", vec![""]).is_err());
    assert!(with("nvme", vec![""]).is_err());
    assert!(with("osd", vec!["", ""]).is_ok());
    assert!(with("osd", vec!["A"]).is_err());
    assert!(with("osd", vec![]).is_err());
    assert!(with("not-configured", vec!["A"]).is_ok());
    assert!(with("token-ring", vec![""]).is_err());
    let mut spec = WorldSpec::z16();
    spec.adapters[0].pchid = "xyz".into();
    assert!(spec.validate().is_err());
}

// ----- storage groups and volumes -------------------------------------------

/// What only an FCP group has: none is in the recorded (FICON) group;
/// STORAGE-GROUPS.md and zhmc-ansible-modules' recorded FCP group (HMC
/// 2.14) name them.
const FCP_GROUP_ONLY: &[&str] = &[
    "max-partitions",
    "active-connectivity",
    "active-max-partitions",
    "direct-connection-count",
    "candidate-adapter-port-uris",
    "unassigned-world-wide-port-names",
    "virtual-storage-resource-uris",
];

/// What only a recorded ECKD volume has; the simulator does not model
/// ECKD volumes.
const ECKD_VOLUME_ONLY: &[&str] = &[
    "active-model",
    "control-unit-uri",
    "cylinders",
    "device-number",
    "eckd-type",
    "model",
    "ssid",
    "storage-subsystem-name",
    "unit-address",
];

/// What only an FCP volume has (STORAGE-GROUPS.md; zhmc-ansible-modules'
/// recorded FCP volume).
const FCP_VOLUME_ONLY: &[&str] = &["paths", "uuid"];

/// Get Storage Group Properties: a FICON group has exactly the recorded
/// (FICON) group's names; an FCP group those and what only FCP groups
/// have. A create that names nothing else gets the HMC's defaults:
/// shared, two paths, two partitions, no direct connections, no
/// description. `capacity` is the sum of the volumes' sizes.
/// `direct-connection-count` is taken at create and modify, the email
/// request fields at create, and none of those is shown as a property.
#[tokio::test]
async fn storage_groups_have_the_recorded_hmcs_property_sets() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let cpc = sim.cpc_uri();
    let recorded = export()["storage-groups"][0].clone();
    assert_eq!(recorded["type"], "fc");
    let create = |body: Value| raw.send("POST", "/api/storage-groups".into(), Some(body));

    // FCP, with the defaults.
    let (status, made) = create(json!({
        "cpc-uri": cpc.as_str(), "name": "fcp", "type": "fcp",
        "storage-volumes": [
            {"operation": "create", "size": 4.5, "usage": "boot"},
            {"operation": "create", "size": 2.0},
        ],
    }))
    .await;
    assert_eq!(status, 201, "{made}");
    let g = made["object-uri"].as_str().unwrap().to_owned();
    let (status, got) = raw.get(g.clone()).await;
    assert_eq!(status, 200);
    let mut want = keys(&recorded);
    want.extend(names(FCP_GROUP_ONLY));
    same_names("FCP group", &keys(&got), &want);
    same_shapes("FCP group", &got, &recorded);
    assert_eq!(
        (
            &got["shared"],
            &got["connectivity"],
            &got["max-partitions"],
            &got["direct-connection-count"],
            &got["description"],
        ),
        (&json!(true), &json!(2), &json!(2), &json!(0), &json!(""))
    );
    assert_eq!(got["active-max-partitions"], 2);
    assert_eq!(got["capacity"], 6.5);
    assert_eq!(
        got["unassigned-world-wide-port-names"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // FICON: exactly the recorded names.
    let (status, made) = create(json!({
        "cpc-uri": cpc.as_str(), "name": "ficon", "type": "fc",
    }))
    .await;
    assert_eq!(status, 201, "{made}");
    let (_, ficon) = raw
        .get(made["object-uri"].as_str().unwrap().to_owned())
        .await;
    same_names("FICON group", &keys(&ficon), &keys(&recorded));
    same_shapes("FICON group", &ficon, &recorded);
    assert_eq!(ficon["capacity"], 0.0);

    // Given values win; the email fields are requests, not properties.
    let (status, made) = create(json!({
        "cpc-uri": cpc.as_str(), "name": "given", "type": "fcp",
        "shared": false, "description": "d", "direct-connection-count": 2,
        "email-to-addresses": ["storage@example.com"],
        "email-cc-addresses": ["ops@example.com"], "email-insert": "please",
    }))
    .await;
    assert_eq!(status, 201, "{made}");
    let given = made["object-uri"].as_str().unwrap().to_owned();
    let (_, got) = raw.get(given.clone()).await;
    same_names("FCP group", &keys(&got), &want);
    assert_eq!(
        (
            &got["shared"],
            &got["max-partitions"],
            &got["direct-connection-count"],
            &got["description"],
        ),
        (&json!(false), &json!(1), &json!(2), &json!("d"))
    );
    let (status, _) = raw
        .send(
            "POST",
            format!("{given}/operations/modify"),
            Some(json!({"direct-connection-count": 3, "email-insert": "again"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, got) = raw.get(given.clone()).await;
    assert_eq!(got["direct-connection-count"], 3);
    // A bad value, or a name the HMC does not take, changes nothing.
    for body in [
        json!({"cpc-uri": cpc.as_str(), "name": "bad", "type": "fcp", "direct-connection-count": "x"}),
        json!({"cpc-uri": cpc.as_str(), "name": "bad", "type": "fcp", "colour": "red"}),
    ] {
        let (status, e) = create(body.clone()).await;
        assert_eq!(
            (status, e["reason"].as_u64()),
            (400, Some(7)),
            "{body}: {e}"
        );
    }
    let (status, e) = create(json!({"name": "bad", "type": "fcp"})).await;
    assert_eq!((status, e["reason"].as_u64()), (400, Some(5)), "{e}");
    assert!(sim.storage_groups().iter().all(|g| g.name != "bad"));

    // A bulk read answers the full set.
    let (_, bulk) = raw
        .send(
            "POST",
            "/api/services/aggregation/submit".into(),
            Some(json!({"requests": [{"method": "GET", "uri": g, "id": "g"}]})),
        )
        .await;
    assert_eq!(keys(&bulk[0]["body"]), want);
    server.shutdown().await;

    // In memory: hmc-client's create with nothing but the type gets the
    // same defaults.
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let g = hmc
        .create_storage_group(&StorageGroupCreate::new(
            sim.cpc_uri(),
            "defaults",
            StorageGroupType::Fcp,
        ))
        .await
        .unwrap()
        .object_uri;
    let typed = hmc.get_storage_group(&g).await.unwrap();
    assert_eq!(
        (
            typed.shared,
            typed.connectivity,
            typed.max_partitions,
            typed.description.as_str()
        ),
        (true, 2, Some(2), "")
    );
    assert_eq!(typed.unassigned_world_wide_port_names.len(), 4);
}

/// Get Storage Volume Properties: the names the recorded ECKD volume and
/// an FCP volume share, and an FCP volume's `paths` and `uuid`; `uuid`
/// and `active-size` are `null` until discovery matches a LUN, as the
/// recording's unfulfilled volumes read.
#[tokio::test]
async fn storage_volumes_have_the_recorded_hmcs_property_set() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let recorded = export()["storage-volumes"][0].clone();
    let pending = export()["storage-volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["active-size"].is_null())
        .cloned()
        .unwrap();
    let mut body = StorageGroupCreate::new(sim.cpc_uri(), "vols", StorageGroupType::Fcp);
    body.storage_volumes = vec![VolumeRequest::Create(VolumeCreate {
        name: Some("boot".into()),
        description: None,
        size: 10.0,
        usage: Some(hmc_client::VolumeUsage::Boot),
    })];
    let created = hmc.create_storage_group(&body).await.unwrap();
    let v = created.element_uris[0].clone();
    let (status, got) = raw.get(v.to_string()).await;
    assert_eq!(status, 200);
    let mut want = keys(&recorded);
    for eckd in ECKD_VOLUME_ONLY {
        assert!(want.remove(*eckd), "{eckd} is in the recording");
    }
    want.extend(names(FCP_VOLUME_ONLY));
    same_names("FCP volume", &keys(&got), &want);
    same_shapes("FCP volume", &got, &recorded);
    assert_eq!(got["active-size"], Value::Null);
    assert_eq!(pending["active-size"], Value::Null);
    assert_eq!(got["uuid"], Value::Null);
    assert_eq!(got["paths"], json!([]));
    assert_eq!(got["description"], "");
    assert_eq!(got["fulfillment-state"], "pending");
    // hmc-client decodes it; the list's additional-properties take the
    // full set's names.
    let typed = hmc.get_storage_volume(&v).await.unwrap();
    assert_eq!((typed.uuid, typed.active_size), (None, None));
    let (_, list) = raw
        .get(format!(
            "{}/storage-volumes?additional-properties=uuid,active-size",
            created.object_uri
        ))
        .await;
    let entry = &list["storage-volumes"][0];
    assert!(entry.as_object().unwrap().contains_key("uuid"));
    assert!(entry.as_object().unwrap().contains_key("active-size"));
    server.shutdown().await;
}
