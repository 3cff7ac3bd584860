//! What other tools expect of an HMC (issue 17): the console's
//! properties, `properties=` answered with exactly the named properties,
//! the list filters, and a partition's OS messages. Each contract runs in
//! memory and through the HTTPS client against the served world; what only
//! a raw request can ask (query parameters the trait does not send, the
//! exact JSON) runs over HTTPS with [`RawHmc`].

use std::collections::BTreeSet;

use dpm_sim::{Op, Sim, WorldSpec};
use hmc_client::{
    FulfillmentState, HmcApi, OsMessageFilter, PartitionStatus, StorageGroupCreate,
    StorageGroupType, StoragePortUri, StorageVolumeFilter, VolumeCreate, VolumeRequest,
    VolumeUsage, VsrFilter,
};
use serde_json::Value;

use crate::conformance::{http_hmc, served, RawHmc};
use crate::support::props;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The console's property names in zhmcclient's recorded z16 mock
/// (`mocked_hmc_z16.yaml`: its own keys, plus `class` and `parent`, which
/// the mock makes itself).
const MOCK_CONSOLE_PROPERTIES: &[&str] = &[
    "object-uri",
    "object-id",
    "class",
    "parent",
    "name",
    "description",
    "ip-swapping-available",
    "is-auto-switch-enabled",
    "is-locked",
    "paired-role",
    "version",
    "machine-info",
    "network-info",
    "ec-mcl-description",
];

// ----- the console -------------------------------------------------------------

async fn console_contract(hmc: &dyn HmcApi, sim: &Sim) {
    hmc.logon().await.unwrap();
    let c = hmc.get_console().await.unwrap();
    let v = hmc.api_version().await.unwrap();
    assert_eq!(c.object_uri, "/api/console");
    assert_eq!(c.class.as_deref(), Some("console"));
    // The console is the HMC of `GET /api/version`.
    assert_eq!(
        (c.name.as_str(), c.version.as_str()),
        (v.hmc_name.as_str(), v.hmc_version.as_str())
    );
    assert_eq!(c.version, sim.spec().hmc.version);
    assert_eq!(c.paired_role.as_deref(), Some(""));
    assert!(c.machine_info.is_some());
    assert_eq!(sim.counters().get(Op::GetConsole), 1);
}

#[tokio::test]
async fn console_properties_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    console_contract(&sim.hmc(), &sim).await;
}

#[tokio::test]
async fn console_properties_over_https() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    console_contract(&hmc, &sim).await;
    server.shutdown().await;
}

/// The console's JSON: the mock's property set, by name; `properties=`
/// and the refusals of Get Console Properties; the bulk read serves it.
#[tokio::test]
async fn the_console_has_the_mocks_property_set() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let (status, got) = raw.get("/api/console".into()).await;
    assert_eq!(status, 200);
    let want: BTreeSet<String> = MOCK_CONSOLE_PROPERTIES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(keys(&got), want, "{got}");
    assert_eq!(got["parent"], Value::Null);
    assert_eq!(got["version"], "2.16.0");
    assert!(got["ec-mcl-description"]["ec"].is_array());
    // zhmccli's `console list-firmware` pulls one property.
    let (status, only) = raw
        .get("/api/console?properties=ec-mcl-description".into())
        .await;
    assert_eq!(status, 200);
    assert_eq!(keys(&only), ["ec-mcl-description".to_owned()].into());
    let (status, e) = raw.get("/api/console?properties=nonsense".into()).await;
    assert_eq!((status, e["reason"].as_u64()), (400, Some(14)), "{e}");
    let (status, e) = raw.get("/api/console?bogus=1".into()).await;
    assert_eq!((status, e["reason"].as_u64()), (400, Some(1)), "{e}");
    let (status, bulk) = raw
        .send(
            "POST",
            "/api/services/aggregation/submit".into(),
            Some(serde_json::json!({"requests": [{"method": "GET", "uri": "/api/console", "id": "c"}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bulk[0]["body"]["name"], got["name"]);
    server.shutdown().await;
}

// ----- properties= ----------------------------------------------------------------

/// Get CPC, Partition, Adapter, Storage Volume and Virtual Storage
/// Resource Properties with a property list answer those properties and
/// no others (zhmcclient takes a reply with more entries than it asked
/// for for the full set); a name the object lacks is 400.14 and changes
/// nothing.
#[tokio::test]
async fn a_property_list_is_answered_with_exactly_those_properties() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("sel", 2, 2048))
        .await
        .unwrap();
    let (g, _) = group_with_volumes(&hmc, &sim).await;
    let volume = hmc
        .list_storage_volumes(&g, &StorageVolumeFilter::default())
        .await
        .unwrap()[0]
        .element_uri
        .clone();
    let vsr = hmc.list_vsrs(&g, None).await.unwrap()[0]
        .element_uri
        .clone();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let adapter = sim.fcp_adapters()[0].uri.clone();
    for (uri, names) in [
        (sim.cpc_uri().to_string(), vec!["name", "se-version"]),
        (p.to_string(), vec!["status"]),
        (p.to_string(), vec!["object-uri", "name", "ifl-processors"]),
        (adapter.to_string(), vec!["adapter-id", "type"]),
        (volume.to_string(), vec!["size", "usage"]),
        (vsr.to_string(), vec!["device-number", "partition-uri"]),
    ] {
        let (status, full) = raw.get(uri.clone()).await;
        assert_eq!(status, 200);
        let (status, got) = raw
            .get(format!("{uri}?properties={}", names.join(",")))
            .await;
        assert_eq!(status, 200, "{got}");
        let want: BTreeSet<String> = names.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(keys(&got), want, "{uri}");
        for n in &names {
            assert_eq!(got[*n], full[*n], "{uri} {n}");
        }
        // A repeated parameter adds to the list; a repeated name is one.
        let (_, twice) = raw
            .get(format!("{uri}?properties={0}&properties={0}", names[0]))
            .await;
        assert_eq!(keys(&twice).len(), 1);
        // A name the object does not have: 400.14.
        let (status, e) = raw
            .get(format!("{uri}?properties={},no-such-property", names[0]))
            .await;
        assert_eq!((status, e["reason"].as_u64()), (400, Some(14)), "{e}");
        assert!(e["message"].as_str().unwrap().contains("no-such-property"));
    }
    server.shutdown().await;
}

// ----- list filters ---------------------------------------------------------------

/// A z16 group with three volume requests of 10, 20 and 30 GiB (the first
/// for boot), its candidate ports, attached to a partition (two VSRs).
async fn group_with_volumes(
    hmc: &dyn HmcApi,
    sim: &Sim,
) -> (hmc_client::StorageGroupUri, hmc_client::PartitionUri) {
    let vol = |name: &str, size: f64, usage| {
        VolumeRequest::Create(VolumeCreate {
            name: Some(name.into()),
            description: None,
            size,
            usage: Some(usage),
        })
    };
    let g = hmc
        .create_storage_group(&StorageGroupCreate {
            cpc_uri: sim.cpc_uri(),
            name: "filters".into(),
            group_type: StorageGroupType::Fcp,
            description: None,
            shared: Some(false),
            connectivity: Some(2),
            max_partitions: Some(1),
            storage_volumes: vec![
                vol("boot", 10.0, VolumeUsage::Boot),
                vol("data-a", 20.0, VolumeUsage::Data),
                vol("data-b", 30.0, VolumeUsage::Data),
            ],
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
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("filtered", 2, 2048))
        .await
        .unwrap();
    hmc.attach_storage_group(&p, &g).await.unwrap();
    (g, p)
}

async fn filters_contract(hmc: &dyn HmcApi, sim: &Sim) {
    hmc.logon().await.unwrap();
    let (g, p) = group_with_volumes(hmc, sim).await;
    let names = |l: Vec<hmc_client::StorageVolumeSummary>| {
        let mut n: Vec<String> = l.into_iter().map(|v| v.name).collect();
        n.sort();
        n
    };
    let g = &g;
    let list = |f: StorageVolumeFilter| async move {
        names(hmc.list_storage_volumes(g, &f).await.unwrap())
    };
    assert_eq!(
        list(StorageVolumeFilter {
            minimum_size: Some(20.0),
            ..StorageVolumeFilter::default()
        })
        .await,
        ["data-a", "data-b"]
    );
    assert_eq!(
        list(StorageVolumeFilter {
            maximum_size: Some(20.0),
            ..StorageVolumeFilter::default()
        })
        .await,
        ["boot", "data-a"]
    );
    assert_eq!(
        list(StorageVolumeFilter {
            minimum_size: Some(15.0),
            maximum_size: Some(25.0),
            usage: Some(VolumeUsage::Data),
            ..StorageVolumeFilter::default()
        })
        .await,
        ["data-a"]
    );
    assert_eq!(
        list(StorageVolumeFilter {
            name: Some("data-.*".into()),
            fulfillment_state: Some(FulfillmentState::Pending),
            ..StorageVolumeFilter::default()
        })
        .await,
        ["data-a", "data-b"]
    );
    assert!(list(StorageVolumeFilter {
        minimum_size: Some(31.0),
        ..StorageVolumeFilter::default()
    })
    .await
    .is_empty());

    // VSRs: by name, partition, device number and adapter port.
    let all = hmc
        .list_vsrs_filtered(g, &VsrFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let first = &all[0];
    let by_name = hmc
        .list_vsrs_filtered(
            g,
            &VsrFilter {
                name: Some(regex_escape(&first.name)),
                ..VsrFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_name, vec![first.clone()]);
    let none = hmc
        .list_vsrs_filtered(
            g,
            &VsrFilter {
                name: Some("no such vsr".into()),
                partition: Some(p.clone()),
                ..VsrFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    let by_device = hmc
        .list_vsrs_filtered(
            g,
            &VsrFilter {
                partition: Some(p.clone()),
                device_number: Some(first.device_number),
                ..VsrFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_device, vec![first.clone()]);
    if let Some(port) = &first.adapter_port_uri {
        let by_port = hmc
            .list_vsrs_filtered(
                g,
                &VsrFilter {
                    adapter_port: Some(port.clone()),
                    ..VsrFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(by_port, vec![first.clone()]);
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

#[tokio::test]
async fn list_filters_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    filters_contract(&sim.hmc(), &sim).await;
}

#[tokio::test]
async fn list_filters_over_https() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    filters_contract(&hmc, &sim).await;
    server.shutdown().await;
}

/// The filters only a raw request sends: `additional-properties` on the
/// volume list, `adapter-id` on the adapter list; a size that is not a
/// number and an unknown filter are 400.1.
#[tokio::test]
async fn list_filters_speak_the_hmcs_query() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let (g, _) = group_with_volumes(&hmc, &sim).await;
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let (status, l) = raw
        .get(format!(
            "{g}/storage-volumes?minimum-size=20&additional-properties=description,paths"
        ))
        .await;
    assert_eq!(status, 200, "{l}");
    let vols = l["storage-volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 2);
    for v in vols {
        assert_eq!(
            keys(v),
            [
                "description",
                "element-uri",
                "fulfillment-state",
                "name",
                "paths",
                "size",
                "usage"
            ]
            .map(String::from)
            .into()
        );
    }
    // Repeated values are ORed.
    let (_, l) = raw
        .get(format!("{g}/storage-volumes?usage=boot&usage=data"))
        .await;
    assert_eq!(l["storage-volumes"].as_array().unwrap().len(), 3);
    for bad in [
        "minimum-size=big",
        "maximum-size=",
        "size=10",
        "additional-property=paths",
    ] {
        let (status, e) = raw.get(format!("{g}/storage-volumes?{bad}")).await;
        assert_eq!((status, e["reason"].as_u64()), (400, Some(1)), "{bad}: {e}");
    }
    let (status, e) = raw
        .get(format!("{g}/virtual-storage-resources?usage=boot"))
        .await;
    assert_eq!((status, e["reason"].as_u64()), (400, Some(1)), "{e}");
    let (status, e) = raw
        .get(format!("{g}/virtual-storage-resources?device-number=xyz"))
        .await;
    assert_eq!((status, e["reason"].as_u64()), (400, Some(1)), "{e}");
    // adapter-id on the adapter list.
    let a = &sim.fcp_adapters()[0];
    let (_, full) = raw.get(a.uri.to_string()).await;
    let pchid = full["adapter-id"].as_str().unwrap();
    let (status, l) = raw
        .get(format!("{}/adapters?adapter-id={pchid}", sim.cpc_uri()))
        .await;
    assert_eq!(status, 200);
    let listed = l["adapters"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["object-uri"], a.uri.as_str());
    server.shutdown().await;
}

// ----- OS messages ----------------------------------------------------------------

async fn os_messages_contract(hmc: &dyn HmcApi, sim: &Sim) {
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("console-log", 2, 2048))
        .await
        .unwrap();
    let all = OsMessageFilter::default();
    // Nothing before the guest runs.
    assert!(hmc
        .list_os_messages(&p, &all)
        .await
        .unwrap()
        .os_messages
        .is_empty());
    hmc.start_partition(&p).await.unwrap();
    // Still nothing while it starts.
    assert!(hmc
        .list_os_messages(&p, &all)
        .await
        .unwrap()
        .os_messages
        .is_empty());
    sim.run_until_idle();
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    let log = hmc.list_os_messages(&p, &all).await.unwrap().os_messages;
    assert!(log.len() >= 3, "{log:?}");
    let numbers: Vec<u64> = log.iter().map(|m| m.sequence_number).collect();
    assert_eq!(numbers, (1..=log.len() as u64).collect::<Vec<_>>());
    assert!(log[0].message_text.contains("console-log"), "{log:?}");
    assert!(log.last().unwrap().message_text.ends_with("login: "));
    // The filters.
    let some = hmc
        .list_os_messages(
            &p,
            &OsMessageFilter {
                begin: Some(2),
                end: Some(3),
                ..OsMessageFilter::default()
            },
        )
        .await
        .unwrap()
        .os_messages;
    assert_eq!(some, log[1..3].to_vec());
    let first = hmc
        .list_os_messages(
            &p,
            &OsMessageFilter {
                max_messages: 1,
                ..OsMessageFilter::default()
            },
        )
        .await
        .unwrap()
        .os_messages;
    assert_eq!(first, log[..1].to_vec());
    let held = hmc
        .list_os_messages(
            &p,
            &OsMessageFilter {
                is_held: Some(true),
                ..OsMessageFilter::default()
            },
        )
        .await
        .unwrap()
        .os_messages;
    assert!(held.is_empty());
    // A second run adds to the log, numbered on.
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(
        hmc.list_os_messages(&p, &all).await.unwrap().os_messages,
        log,
        "a stop writes nothing; the log stays"
    );
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let again = hmc.list_os_messages(&p, &all).await.unwrap().os_messages;
    assert_eq!(again.len(), 2 * log.len());
    assert_eq!(again[log.len()].sequence_number, log.len() as u64 + 1);
    // The log goes with the partition.
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    hmc.delete_partition(&p).await.unwrap();
    let e = hmc.list_os_messages(&p, &all).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn os_messages_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    os_messages_contract(&sim.hmc(), &sim).await;
}

#[tokio::test]
async fn os_messages_over_https() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    os_messages_contract(&hmc, &sim).await;
    server.shutdown().await;
}

/// The reply's JSON is the HMC's `os-message-info`, the fields zhmccli's
/// console reads among them; the query's values must parse (400.1).
#[tokio::test]
async fn os_messages_speak_the_hmcs_json() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("json-log", 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let at = format!("{p}/operations/list-os-messages");
    let (status, l) = raw.get(at.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&l), ["os-messages".to_owned()].into());
    let m = &l["os-messages"][0];
    for k in [
        "sequence-number",
        "message-id",
        "message-text",
        "os-name",
        "is-refresh",
        "prompt-text",
        "is-held",
        "is-priority",
        "timestamp",
    ] {
        assert!(m.get(k).is_some(), "{k} in {m}");
    }
    let (_, l) = raw.get(format!("{at}?begin-sequence-number=2")).await;
    assert_eq!(l["os-messages"][0]["sequence-number"], 2);
    for bad in [
        "begin-sequence-number=x",
        "is-held=maybe",
        "max-messages=-1",
        "since=1",
    ] {
        let (status, e) = raw.get(format!("{at}?{bad}")).await;
        assert_eq!((status, e["reason"].as_u64()), (400, Some(1)), "{bad}: {e}");
    }
    server.shutdown().await;
}
