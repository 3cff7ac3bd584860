use std::time::Duration;

use dpm_sim::{Fault, Op, Sim, WorldSpec};
use hmc_client::{
    wait_for_job, AdapterFilter, AdapterType, Credentials, HbaCreate, HmcApi, HmcError, JobStatus,
    PartitionFilter, PartitionStatus, PartitionUpdate, PollPolicy, Secret, StoragePortUri,
};

use crate::support::{assert_hmc, props, world};

#[tokio::test]
async fn logon_checks_credentials_and_sessions() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let bad = sim.hmc_with(Credentials {
        userid: "admin".into(),
        password: Secret::new("wrong"),
    });
    assert_hmc(bad.logon().await, 403, 0);
    // No session yet: 403.4.
    let hmc = sim.hmc();
    assert_hmc(hmc.list_cpcs(None).await, 403, 4);
    // The version needs no session.
    assert_eq!(hmc.api_version().await.unwrap().api_minor_version, 10);
    let r = hmc.logon().await.unwrap();
    assert!(!format!("{r:?}").contains(r.api_session.expose()));
    assert_eq!(hmc.list_cpcs(None).await.unwrap().len(), 1);
    // An expired session is 403.5.
    sim.expire_sessions();
    assert_hmc(hmc.list_cpcs(None).await, 403, 5);
    hmc.logon().await.unwrap();
    hmc.logoff().await.unwrap();
    assert_hmc(hmc.list_cpcs(None).await, 403, 4);
}

#[tokio::test]
async fn cpc_and_adapters() {
    let w = world().await;
    let cpcs = w.hmc.list_cpcs(Some("CPC.*")).await.unwrap();
    assert_eq!(cpcs.len(), 1);
    assert!(cpcs[0].dpm_enabled);
    assert!(
        w.hmc.list_cpcs(Some("CPC")).await.unwrap().is_empty(),
        "anchored"
    );
    assert_hmc(w.hmc.list_cpcs(Some("(")).await, 400, 1);
    let cpc = w.hmc.get_cpc(&w.sim.cpc_uri()).await.unwrap();
    assert_eq!(cpc.processor_count_ifl, Some(8));
    assert_eq!(cpc.storage_customer, Some(65536));
    assert_eq!(cpc.storage_customer_available, Some(65536));
    assert!(!cpc.has_feature(hmc_client::FEATURE_DPM_STORAGE_MANAGEMENT));
    let fcp = w
        .hmc
        .list_adapters(
            &w.sim.cpc_uri(),
            &AdapterFilter {
                adapter_type: Some(AdapterType::Fcp),
                name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(fcp.len(), 2);
    let all = w
        .hmc
        .list_adapters(&w.sim.cpc_uri(), &AdapterFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let a = w.hmc.get_adapter(&fcp[0].object_uri).await.unwrap();
    assert_eq!(a.adapter_type, AdapterType::Fcp);
    let ports = a.storage_port_uris.unwrap();
    let port = w.hmc.get_storage_port(&ports[0]).await.unwrap();
    assert_eq!(port.class, "storage-port");
    assert!(port.fabric_id.is_some());
    let missing = StoragePortUri::new(&fcp[0].object_uri, "3").unwrap();
    assert_hmc(w.hmc.get_storage_port(&missing).await, 404, 1);
}

#[tokio::test]
async fn partition_status_machine_with_jobs() {
    let w = world().await;
    let p = w.partition("p1").await;
    let got = w.hmc.get_partition(&p).await.unwrap();
    assert_eq!(got.status, PartitionStatus::Stopped);
    assert_eq!((got.ifl_processors, got.initial_memory), (2, 4096));

    // stop from stopped: 409.1
    assert_hmc(w.hmc.stop_partition(&p).await, 409, 1);

    let job = w.hmc.start_partition(&p).await.unwrap();
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Starting
    );
    let j = w.hmc.get_job(&job).await.unwrap();
    assert_eq!(j.status, JobStatus::Running);
    // A running job cannot be deleted.
    assert_hmc(w.hmc.delete_job(&job).await, 409, 40);
    // start while starting, delete while starting: 409.1
    assert_hmc(w.hmc.start_partition(&p).await, 409, 1);
    assert_hmc(w.hmc.delete_partition(&p).await, 409, 1);
    assert_hmc(w.hmc.stop_partition(&p).await, 409, 1);

    w.sim.advance(Duration::from_millis(2999));
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Starting
    );
    w.sim.advance(Duration::from_millis(1));
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    let j = w.hmc.get_job(&job).await.unwrap();
    assert!(j.succeeded());
    assert_eq!(j.job_status_code, Some(200));
    w.hmc.delete_job(&job).await.unwrap();
    assert_hmc(w.hmc.get_job(&job).await, 404, 1);
    assert_eq!(w.sim.memory_held_mib(), 4096);
    let cpc = w.hmc.get_cpc(&w.sim.cpc_uri()).await.unwrap();
    assert_eq!(cpc.storage_customer_available, Some(65536 - 4096));

    // start when active, delete when active: 409.1
    assert_hmc(w.hmc.start_partition(&p).await, 409, 1);
    assert_hmc(w.hmc.delete_partition(&p).await, 409, 1);

    let job = w.hmc.stop_partition(&p).await.unwrap();
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Stopping
    );
    w.sim.run_until_idle();
    assert_eq!(
        w.hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Stopped
    );
    assert!(w.hmc.get_job(&job).await.unwrap().succeeded());
    assert_eq!(w.sim.memory_held_mib(), 0);

    w.hmc.delete_partition(&p).await.unwrap();
    assert_hmc(w.hmc.get_partition(&p).await, 404, 1);
    assert!(w.sim.snapshot().partitions.is_empty());
}

/// On the automatic clock a job ends at its due time. A client with
/// notifications hears it then and reads the job once; one without polls,
/// and sees the end within a tenth of the job's length.
#[rstest::rstest]
#[case::notified(true, 1)]
#[case::polled(false, 25)]
#[tokio::test(start_paused = true)]
async fn wait_for_job_on_the_automatic_clock(#[case] notified: bool, #[case] gets: u64) {
    let sim = Sim::new(WorldSpec::z13()).unwrap();
    let hmc = if notified {
        sim.hmc()
    } else {
        sim.hmc().without_notifications()
    };
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("p1", 1, 1024))
        .await
        .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    let t0 = tokio::time::Instant::now();
    let done = wait_for_job(&hmc, &job, &PollPolicy::default())
        .await
        .unwrap();
    assert!(done.succeeded());
    let seen = t0.elapsed();
    if notified {
        assert_eq!(seen, Duration::from_secs(3), "heard when it ended");
    } else {
        // Polls at once, every 0.1 s up to 1 s, then a tenth of the time
        // waited (1.1, 1.21, ... s).
        assert!(
            seen >= Duration::from_secs(3) && seen <= Duration::from_millis(3300),
            "{seen:?}"
        );
    }
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    // The finished job was deleted.
    assert_eq!(sim.job_count(), 0);
    let c = sim.counters();
    assert_eq!(c.get(Op::GetJob), gets);
    assert_eq!(c.get(Op::DeleteJob), 1);
}

#[tokio::test(start_paused = true)]
async fn wait_for_job_gives_up_at_its_bound() {
    let mut spec = WorldSpec::z13();
    spec.timings.partition_start_ms = 60_000;
    let sim = Sim::new(spec).unwrap();
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("p1", 1, 1024))
        .await
        .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    let policy = PollPolicy {
        timeout: Duration::from_secs(10),
        ..PollPolicy::default()
    };
    match wait_for_job(&hmc, &job, &policy).await {
        Err(HmcError::JobTimeout { waited, .. }) => assert_eq!(waited, Duration::from_secs(10)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn create_refusals() {
    let w = world().await;
    let cpc = w.sim.cpc_uri();
    w.partition("dup").await;
    assert_hmc(
        w.hmc.create_partition(&cpc, &props("dup", 1, 1024)).await,
        409,
        8,
    );
    // More IFLs than the CPC has.
    assert_hmc(
        w.hmc.create_partition(&cpc, &props("big", 9, 1024)).await,
        400,
        7,
    );
    // No processors at all, absent or zero: 400.1, as zhmcclient's mock.
    let mut none = props("none", 1, 1024);
    none.ifl_processors = None;
    assert_hmc(w.hmc.create_partition(&cpc, &none).await, 400, 1);
    none.ifl_processors = Some(0);
    none.cp_processors = Some(0);
    assert_hmc(w.hmc.create_partition(&cpc, &none).await, 400, 1);
    // initial > maximum.
    let mut m = props("mem", 1, 1024);
    m.initial_memory = 2048;
    assert_hmc(w.hmc.create_partition(&cpc, &m).await, 400, 7);
    // Numbers at the edge of their types are refused, not overflowed.
    let mut huge = props("huge", 1, 1024);
    huge.ifl_processors = Some(u32::MAX);
    huge.cp_processors = Some(1);
    assert_hmc(w.hmc.create_partition(&cpc, &huge).await, 400, 7);
    let mut huge = props("huge", 1, 1024);
    huge.maximum_memory = u64::MAX;
    assert_hmc(w.hmc.create_partition(&cpc, &huge).await, 400, 7);
    assert_eq!(w.sim.snapshot().partitions.len(), 1);

    let mut spec = WorldSpec::z13();
    spec.cpc.dpm = false;
    let w = crate::support::world_from(spec).await;
    assert_hmc(
        w.hmc
            .create_partition(&w.sim.cpc_uri(), &props("p", 1, 1024))
            .await,
        409,
        5,
    );
}

#[tokio::test]
async fn list_partitions_filters() {
    let w = world().await;
    w.partition("OpenStack-h1-a").await;
    w.partition("OpenStack-h1-b").await;
    w.partition("other").await;
    let cpc = w.sim.cpc_uri();
    let f = |name: &str| PartitionFilter {
        name: Some(name.into()),
        status: None,
    };
    assert_eq!(
        w.hmc
            .list_partitions(&cpc, &f("OpenStack-h1-.*"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        w.hmc
            .list_partitions(&cpc, &f("OpenStack"))
            .await
            .unwrap()
            .len(),
        0
    );
    let stopped = PartitionFilter {
        name: None,
        status: Some(PartitionStatus::Active),
    };
    assert!(w
        .hmc
        .list_partitions(&cpc, &stopped)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn memory_is_taken_at_start() {
    let w = crate::support::world_from(WorldSpec::z13().with_memory_mib(6144)).await;
    let cpc = w.sim.cpc_uri();
    let a = w
        .hmc
        .create_partition(&cpc, &props("a", 1, 4096))
        .await
        .unwrap();
    let b = w
        .hmc
        .create_partition(&cpc, &props("b", 1, 4096))
        .await
        .unwrap();
    w.hmc.start_partition(&a).await.unwrap();
    w.sim.run_until_idle();
    assert_eq!(
        w.hmc.get_partition(&a).await.unwrap().status,
        PartitionStatus::Active
    );
    let job = w.hmc.start_partition(&b).await.unwrap();
    w.sim.run_until_idle();
    let j = w.hmc.get_job(&job).await.unwrap();
    assert_eq!(j.status, JobStatus::Complete);
    assert!(!j.succeeded());
    assert!(
        j.message().unwrap().contains("Insufficient memory"),
        "{:?}",
        j.message()
    );
    assert_eq!(
        w.hmc.get_partition(&b).await.unwrap().status,
        PartitionStatus::Stopped
    );
    assert_eq!(w.sim.memory_held_mib(), 4096);
    // Once a stops, b fits.
    w.hmc.stop_partition(&a).await.unwrap();
    w.sim.run_until_idle();
    w.hmc.start_partition(&b).await.unwrap();
    w.sim.run_until_idle();
    assert_eq!(
        w.hmc.get_partition(&b).await.unwrap().status,
        PartitionStatus::Active
    );
}

#[tokio::test]
async fn hbas_unique_wwpns_and_state_rules() {
    let w = world().await;
    let p1 = w.partition("p1").await;
    let p2 = w.partition("p2").await;
    let h1 = w.hbas(&p1).await;
    let h2 = w.hbas(&p2).await;
    let mut all: Vec<_> = h1.iter().chain(&h2).map(|h| h.wwpn).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "WWPNs are unique in the world");
    assert_eq!(h1[0].device_number.to_string(), "1900");
    assert_eq!(h1[1].device_number.to_string(), "1901");
    let part = w.hmc.get_partition(&p1).await.unwrap();
    assert_eq!(
        part.hba_uris,
        h1.iter().map(|h| h.element_uri.clone()).collect::<Vec<_>>()
    );

    // Duplicate name, unknown port, non-FCP adapter.
    let port = w.fcp_ports()[0].clone();
    let hba = |name: &str, port: StoragePortUri| HbaCreate {
        name: name.into(),
        adapter_port_uri: port,
        description: None,
        device_number: None,
    };
    assert_hmc(
        w.hmc.create_hba(&p1, &hba("hba0", port.clone())).await,
        409,
        8,
    );
    // A port the adapter does not have is 404.6, an unknown adapter 404.2.
    let bad_port = StoragePortUri::new(&port.parent(), "2").unwrap();
    assert_hmc(w.hmc.create_hba(&p1, &hba("x", bad_port)).await, 404, 6);
    let no_adapter = hmc_client::AdapterUri::from_object_id("a0000000-0000").unwrap();
    let bad_adapter = StoragePortUri::new(&no_adapter, "0").unwrap();
    assert_hmc(w.hmc.create_hba(&p1, &hba("x", bad_adapter)).await, 404, 2);
    assert_eq!(
        w.hmc.get_partition(&p1).await.unwrap().hba_uris.len(),
        2,
        "the refusals added no vHBA"
    );
    let (ficon, _) = w
        .sim
        .adapters()
        .into_iter()
        .find(|(_, t)| t == "fc")
        .unwrap();
    let ficon_port = StoragePortUri::new(&ficon, "0").unwrap();
    assert_hmc(w.hmc.create_hba(&p1, &hba("x", ficon_port)).await, 400, 7);

    // HBA create while starting and stopping: 409.1; while active: allowed.
    w.hmc.start_partition(&p1).await.unwrap();
    assert_hmc(
        w.hmc.create_hba(&p1, &hba("late", port.clone())).await,
        409,
        1,
    );
    assert_hmc(w.hmc.delete_hba(&h1[0].element_uri).await, 409, 1);
    w.sim.run_until_idle();
    // (p1 has no boot device set, so it starts.)
    let extra = w
        .hmc
        .create_hba(&p1, &hba("hot", port.clone()))
        .await
        .unwrap();
    w.hmc.stop_partition(&p1).await.unwrap();
    assert_hmc(
        w.hmc.create_hba(&p1, &hba("late", port.clone())).await,
        409,
        1,
    );
    w.sim.run_until_idle();
    w.hmc.delete_hba(&extra).await.unwrap();
    assert_hmc(w.hmc.get_hba(&extra).await, 404, 1);

    // Deleting the partition removes its vHBAs.
    w.hmc.delete_partition(&p1).await.unwrap();
    assert_hmc(w.hmc.get_hba(&h1[0].element_uri).await, 404, 1);
    let snap = w.sim.snapshot();
    assert_eq!(snap.hbas.len(), 2);
    assert!(snap.hbas.iter().all(|h| h.partition == "p2"));
}

#[tokio::test]
async fn no_hbas_with_storage_management() {
    let w = crate::support::world_from(WorldSpec::z16()).await;
    let p = w.partition("p").await;
    let port = w.fcp_ports()[0].clone();
    let r = w
        .hmc
        .create_hba(
            &p,
            &HbaCreate {
                name: "h".into(),
                adapter_port_uri: port,
                description: None,
                device_number: None,
            },
        )
        .await;
    // dpm-sim's own reason code: no public source names the HMC's.
    assert_hmc(r, 409, 490);
}

#[tokio::test]
async fn update_rules() {
    let w = world().await;
    let p = w.partition("p").await;
    let other = w.partition("q").await;
    let theirs = w.hbas(&other).await;
    // A boot HBA that does not exist is 404.2; another partition's HBA is
    // accepted here (the start job finds it out).
    let mut u = PartitionUpdate::boot_from_san(
        hmc_client::HbaUri::new(&p, "nope").unwrap(),
        "500507680b2155ab".parse().unwrap(),
        fc_types::FcpLun::from_target_lun(0),
    );
    assert_hmc(w.hmc.update_partition(&p, &u).await, 404, 2);
    u.boot_storage_device = Some(theirs[0].element_uri.clone());
    w.hmc.update_partition(&p, &u).await.unwrap();
    let got = w.hmc.get_partition(&p).await.unwrap();
    assert_eq!(got.boot_storage_device, Some(theirs[0].element_uri.clone()));
    assert_eq!(
        got.boot_logical_unit_number.unwrap().to_string(),
        "0000000000000000"
    );

    // Memory can change only while stopped.
    w.hmc
        .update_partition(
            &other,
            &PartitionUpdate {
                initial_memory: Some(2048),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        w.hmc.get_partition(&other).await.unwrap().initial_memory,
        2048
    );
    w.hmc.start_partition(&other).await.unwrap();
    w.sim.run_until_idle();
    let r = w
        .hmc
        .update_partition(
            &other,
            &PartitionUpdate {
                initial_memory: Some(1024),
                ..Default::default()
            },
        )
        .await;
    assert_hmc(r, 409, 1);
    // An update is checked as a create is: the partition as it would be.
    let before = w.sim.snapshot();
    for u in [
        PartitionUpdate {
            ifl_processors: Some(99),
            ..Default::default()
        },
        PartitionUpdate {
            ifl_processors: Some(0),
            ..Default::default()
        },
        PartitionUpdate {
            maximum_memory: Some(u64::MAX),
            ..Default::default()
        },
        PartitionUpdate {
            initial_memory: Some(0),
            ..Default::default()
        },
    ] {
        assert_hmc(w.hmc.update_partition(&p, &u).await, 400, 7);
    }
    assert_eq!(w.sim.snapshot(), before);
}

#[tokio::test]
async fn counters_and_injected_faults() {
    let w = world().await;
    w.sim.reset_counters();
    w.sim
        .fail_next(Op::CreatePartition, 1, Fault::new(503, 0, "busy"));
    let e = w
        .hmc
        .create_partition(&w.sim.cpc_uri(), &props("p", 1, 1024))
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert!(
        w.sim.snapshot().partitions.is_empty(),
        "a fault changes nothing"
    );
    w.partition("p").await;
    let c = w.sim.counters();
    assert_eq!(c.get(Op::CreatePartition), 2);
    assert_eq!(c.requests(dpm_sim::Side::Hmc), 2);
    assert_eq!(c.requests(dpm_sim::Side::Cinder), 0);
}

/// Every property the simulator's HMC objects carry is a property name the
/// recorded HMC data uses.
#[tokio::test]
async fn sim_objects_use_the_hmcs_property_names() {
    use std::collections::BTreeSet;
    let export = include_str!("../../../hmc-client/tests/data/dpm-export-1p-1sg.json");
    let mock = include_str!("../../../hmc-client/tests/data/mocked_hmc_z16.yaml");
    let mut known = BTreeSet::new();
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    out.insert(k.clone());
                    walk(x, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&serde_json::from_str(export).unwrap(), &mut known);
    for line in mock.lines() {
        let t = line
            .trim_start()
            .trim_start_matches("- ")
            .trim_start_matches("# ");
        if let Some((k, _)) = t.split_once(':') {
            if !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                known.insert(k.to_owned());
            }
        }
    }

    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let adapters = w
        .hmc
        .list_adapters(&w.sim.cpc_uri(), &AdapterFilter::default())
        .await
        .unwrap();
    let adapter = w.hmc.get_adapter(&adapters[0].object_uri).await.unwrap();
    let port = w
        .hmc
        .get_storage_port(&adapter.storage_port_uris.clone().unwrap()[0])
        .await
        .unwrap();
    let objects = [
        serde_json::to_value(w.hmc.get_cpc(&w.sim.cpc_uri()).await.unwrap()).unwrap(),
        serde_json::to_value(&w.hmc.list_cpcs(None).await.unwrap()[0]).unwrap(),
        serde_json::to_value(&adapters[0]).unwrap(),
        serde_json::to_value(&adapter).unwrap(),
        serde_json::to_value(&port).unwrap(),
        serde_json::to_value(w.hmc.get_partition(&p).await.unwrap()).unwrap(),
        serde_json::to_value(&hbas[0]).unwrap(),
    ];
    for o in &objects {
        for k in o.as_object().unwrap().keys() {
            // The recorded data holds no HBA and no port logged into a
            // fabric; these two come from the HMC's HBA and storage-port
            // documentation (HMC.md).
            let documented = ["wwpn", "fabric-id"];
            assert!(
                known.contains(k) || documented.contains(&k.as_str()),
                "{k} is not an HMC property name"
            );
        }
    }
}
