//! A partition's full property set as a real HMC returns it, the settings
//! the simulator stores, `additional-properties` on the partition list by
//! API version, and the requests zhmcclient sends as it sends them.

use std::collections::BTreeSet;

use dpm_sim::WorldSpec;
use hmc_client::{
    BulkRequest, HmcApi, PartitionFilter, PartitionListProperty, PartitionStatus, StoragePortUri,
};
use serde_json::{json, Value};

use crate::conformance::{http_hmc, served, RawHmc};
use crate::support::{assert_hmc, props, world_from};

/// The properties of the recorded export's partition (a real HMC 2.17).
fn recorded_partition() -> Value {
    let export: Value = serde_json::from_str(include_str!(
        "../../../hmc-client/tests/data/dpm-export-1p-1sg.json"
    ))
    .unwrap();
    export["partitions"][0].clone()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Every property of the recorded partition is in the simulator's GET, and
/// the simulator has none the recording lacks. Two are left out on
/// purpose: `cpc-name` and `se-version` are what the console's list
/// entries and the inventory the export is made from add to a partition,
/// not properties of Get Partition Properties (see `hmc/properties.rs`).
#[tokio::test]
async fn a_partition_has_the_recorded_hmcs_property_set() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let cpc = sim.cpc_uri();
    let p = hmc
        .create_partition(&cpc, &props("p1", 2, 4096))
        .await
        .unwrap();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let (status, got) = raw.get(p.to_string()).await;
    assert_eq!(status, 200);

    let mut recorded = keys(&recorded_partition());
    for left_out in ["cpc-name", "se-version"] {
        assert!(recorded.remove(left_out));
    }
    let sim_keys = keys(&got);
    assert_eq!(
        recorded.difference(&sim_keys).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "recorded properties the simulator lacks"
    );
    assert_eq!(
        sim_keys.difference(&recorded).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "simulator properties the recording lacks"
    );

    // Values from the state, and the real HMC's for a new partition.
    assert_eq!(got["short-name"], "P1");
    assert_eq!(got["partition-id"], Value::Null);
    assert_eq!(got["autogenerate-partition-id"], true);
    assert_eq!(got["acceptable-status"], json!(["active"]));
    assert_eq!(got["has-unacceptable-status"], true, "stopped, not active");
    assert_eq!(got["reserved-memory"], 0);
    assert_eq!(got["boot-timeout"], 60);
    assert_eq!(got["boot-load-parameters"], "");
    assert_eq!(got["os-name"], "");
    assert_eq!(got["processor-mode"], "shared");
    assert_eq!(got["initial-ifl-processing-weight"], 100);
    assert_eq!(got["ifl-absolute-processor-capping-value"], 1.0);
    assert_eq!(got["virtual-function-uris"], json!([]));
    assert_eq!(got["storage-group-uris"], json!([]));
    let (_, cpc_props) = raw.get(cpc.to_string()).await;
    assert_eq!(
        got["available-features-list"],
        cpc_props["available-features-list"]
    );
    // The value shapes match the recording's (string, number, list, ...).
    let recorded = recorded_partition();
    for k in &sim_keys {
        let (a, b) = (&got[k.as_str()], &recorded[k.as_str()]);
        let shape = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        // A null in one of them is "not set" (a boot volume, a partition id).
        if !a.is_null() && !b.is_null() {
            assert_eq!(shape(a), shape(b), "{k}: {a} against {b}");
        }
    }

    // storage-group-uris: the groups attached to it.
    let g = hmc
        .create_storage_group(&hmc_client::StorageGroupCreate {
            cpc_uri: cpc.clone(),
            name: "g1".into(),
            group_type: hmc_client::StorageGroupType::Fcp,
            description: None,
            shared: Some(false),
            connectivity: Some(1),
            max_partitions: Some(1),
            storage_volumes: Vec::new(),
            email_to_addresses: None,
        })
        .await
        .unwrap()
        .object_uri;
    let ports: Vec<StoragePortUri> = sim
        .fcp_adapters()
        .iter()
        .map(|a| StoragePortUri::new(&a.uri, "0").unwrap())
        .collect();
    hmc.add_candidate_adapter_ports(&g, &ports).await.unwrap();
    hmc.attach_storage_group(&p, &g).await.unwrap();
    let (_, got) = raw.get(p.to_string()).await;
    assert_eq!(got["storage-group-uris"], json!([g.as_str()]));

    // properties= still selects, and hmc-client still decodes the full set.
    let (status, only) = raw
        .get(format!("{p}?properties=short-name,boot-timeout"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&only),
        ["boot-timeout", "short-name"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let decoded = hmc.get_partition(&p).await.unwrap();
    assert_eq!((decoded.name.as_str(), decoded.ifl_processors), ("p1", 2));
    assert_eq!(decoded.storage_group_uris, vec![g.clone()]);

    // A bulk read (zhmcclient's list with full properties) gives the full set.
    let answers = hmc
        .submit_requests(&[BulkRequest {
            method: "GET".into(),
            uri: p.to_string(),
            id: "0".into(),
        }])
        .await
        .unwrap();
    assert_eq!(keys(&answers[0].body), sim_keys);
    // So does additional-properties on the list, with any property.
    let (_, list) = raw
        .get(format!(
            "{cpc}/partitions?additional-properties=short-name,boot-timeout,storage-group-uris"
        ))
        .await;
    let entry = &list["partitions"][0];
    assert_eq!(entry["short-name"], "P1");
    assert_eq!(entry["boot-timeout"], 60);
    assert_eq!(entry["storage-group-uris"], json!([g.as_str()]));
    server.shutdown().await;
}

/// The writable properties the simulator stores: set on create and
/// update, checked as a whole before anything changes; read-only ones are
/// 400.6. The partition id comes with start and goes with stop.
#[tokio::test]
async fn settings_are_stored_and_checked() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let cpc = sim.cpc_uri();
    let create = |extra: Value| {
        let mut body = json!({
            "name": "web1", "ifl-processors": 1,
            "initial-memory": 1024, "maximum-memory": 2048,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        raw.send("POST", format!("{cpc}/partitions"), Some(body))
    };
    // Refusals first: nothing is created.
    let reason = |r: &(u16, Value)| (r.0, r.1["reason"].as_u64().unwrap_or(0));
    assert_eq!(
        reason(&create(json!({"partition-id": "05"})).await),
        (400, 6)
    );
    assert_eq!(reason(&create(json!({"os-name": "Linux"})).await), (400, 6));
    assert_eq!(reason(&create(json!({"boot-timeout": 30})).await), (400, 7));
    assert_eq!(
        reason(&create(json!({"short-name": "lower"})).await),
        (400, 7)
    );
    assert!(sim.snapshot().partitions.is_empty());

    let (status, made) = create(json!({
        "short-name": "WEB1",
        "initial-ifl-processing-weight": 300,
        "acceptable-status": ["stopped", "active"],
        "boot-timeout": 90,
        "reserve-resources": true,
    }))
    .await;
    assert_eq!(status, 201, "{made}");
    let p = made["object-uri"].as_str().unwrap().to_owned();
    let (_, got) = raw.get(p.clone()).await;
    assert_eq!(got["short-name"], "WEB1");
    assert_eq!(got["initial-ifl-processing-weight"], 300);
    assert_eq!(got["boot-timeout"], 90);
    assert_eq!(got["reserve-resources"], true);
    assert_eq!(got["reserved-memory"], 1024);
    assert_eq!(
        got["has-unacceptable-status"], false,
        "stopped is acceptable"
    );
    // Short names are unique on the CPC.
    let (status, dup) = raw
        .send(
            "POST",
            format!("{cpc}/partitions"),
            Some(json!({
                "name": "web2", "short-name": "WEB1", "ifl-processors": 1,
                "initial-memory": 1024, "maximum-memory": 1024,
            })),
        )
        .await;
    assert_eq!((status, dup["reason"].as_u64()), (409, Some(8)), "{dup}");

    // Update: settings and hmc-client's properties in one body.
    let (status, _) = raw
        .send(
            "POST",
            p.clone(),
            Some(json!({"boot-timeout": 120, "auto-start": true, "description": "d1"})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, got) = raw.get(p.clone()).await;
    assert_eq!(
        (
            &got["boot-timeout"],
            &got["auto-start"],
            &got["description"]
        ),
        (&json!(120), &json!(true), &json!("d1"))
    );
    // A bad setting refuses the whole body; a read-only property is 400.6.
    for (body, want) in [
        (json!({"boot-timeout": 30, "description": "d2"}), (400, 7)),
        (
            json!({"minimum-ifl-processing-weight": 301, "description": "d2"}),
            (400, 7),
        ),
        (json!({"os-name": "x"}), (400, 6)),
        (json!({"partition-id": "01"}), (400, 6)),
    ] {
        let r = raw.send("POST", p.clone(), Some(body.clone())).await;
        assert_eq!(reason(&r), want, "{body}: {}", r.1);
    }
    let (_, after) = raw.get(p.clone()).await;
    assert_eq!(after, got, "the refusals changed nothing");

    // Start with no body at all, as zhmcclient sends it.
    let (status, started) = raw
        .send("POST", format!("{p}/operations/start"), None)
        .await;
    assert_eq!(status, 202, "{started}");
    assert!(started["job-uri"]
        .as_str()
        .unwrap()
        .starts_with("/api/jobs/"));
    let (_, starting) = raw.get(p.clone()).await;
    assert_eq!(starting["status"], "starting");
    assert_eq!(starting["partition-id"], "01");
    // While it starts, no update is taken, settings included.
    let r = raw
        .send("POST", p.clone(), Some(json!({"boot-timeout": 200})))
        .await;
    assert_eq!(reason(&r), (409, 1));
    sim.run_until_idle();
    let (_, active) = raw.get(p.clone()).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["partition-id"], "01");
    assert_eq!(active["boot-timeout"], 120);
    assert_eq!(active["current-ifl-processing-weight"], 300);
    let (status, _) = raw.send("POST", format!("{p}/operations/stop"), None).await;
    assert_eq!(status, 202);
    sim.run_until_idle();
    let (_, stopped) = raw.get(p.clone()).await;
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["partition-id"], Value::Null);
    assert_eq!(stopped["current-ifl-processing-weight"], 1);

    // An unknown method or URI is 404.1.
    let (status, err) = raw.send("PUT", p.clone(), Some(json!({}))).await;
    assert_eq!((status, err["reason"].as_u64()), (404, Some(1)), "{err}");
    let (status, err) = raw.get("/api/no-such-thing".into()).await;
    assert_eq!((status, err["reason"].as_u64()), (404, Some(1)), "{err}");
    server.shutdown().await;
}

/// `additional-properties` on List Partitions exists from API 4.1 (HMC
/// 2.16.0): the z16 world's HMC (4.10) takes it in memory and over HTTP,
/// the z13 world's (3.1) refuses it with 400.1 as an unknown query
/// parameter.
#[tokio::test]
async fn additional_properties_on_the_partition_list_by_api_version() {
    let wanted = [
        PartitionListProperty::IflProcessors,
        PartitionListProperty::InitialMemory,
        PartitionListProperty::MaximumMemory,
        PartitionListProperty::CpProcessors,
    ];
    let all = PartitionFilter::default();
    // In memory.
    let w = world_from(WorldSpec::z16()).await;
    let cpc = w.sim.cpc_uri();
    w.partition("a").await;
    let list = w
        .hmc
        .list_partitions_with(&cpc, &all, &wanted)
        .await
        .unwrap();
    assert_eq!(
        (
            list[0].ifl_processors,
            list[0].cp_processors,
            list[0].initial_memory,
            list[0].maximum_memory
        ),
        (Some(2), Some(0), Some(4096), Some(4096))
    );
    let plain = w.hmc.list_partitions(&cpc, &all).await.unwrap();
    assert_eq!(
        (plain[0].ifl_processors, plain[0].initial_memory),
        (None, None)
    );
    let w = world_from(WorldSpec::z13()).await;
    let cpc = w.sim.cpc_uri();
    w.partition("a").await;
    assert_hmc(
        w.hmc.list_partitions_with(&cpc, &all, &wanted).await,
        400,
        1,
    );
    assert_eq!(
        w.hmc
            .list_partitions_with(&cpc, &all, &[])
            .await
            .unwrap()
            .len(),
        1
    );

    // Over HTTP.
    for (spec, takes_it) in [(WorldSpec::z16(), true), (WorldSpec::z13(), false)] {
        let (sim, server) = served(spec).await;
        let hmc = http_hmc(&server, &sim.spec().hmc.password);
        hmc.logon().await.unwrap();
        let cpc = sim.cpc_uri();
        hmc.create_partition(&cpc, &props("a", 3, 2048))
            .await
            .unwrap();
        let got = hmc.list_partitions_with(&cpc, &all, &wanted[..2]).await;
        if takes_it {
            let got = got.unwrap();
            assert_eq!(
                (
                    got[0].ifl_processors,
                    got[0].initial_memory,
                    got[0].status.clone()
                ),
                (Some(3), Some(2048), PartitionStatus::Stopped)
            );
            assert_eq!(got[0].maximum_memory, None, "only what was asked for");
        } else {
            let e = got.unwrap_err();
            assert_eq!(e.status_reason(), Some((400, 1)), "{e}");
        }
        server.shutdown().await;
    }
}
