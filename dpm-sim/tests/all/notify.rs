//! The HMC's notifications: a job's completion on the job topic of the
//! session that began it, a partition's status changes on every session's
//! object topic; announced when they happen, not when someone looks.

use hmc_client::{HmcApi, PartitionStatus};

use crate::support::props;

#[tokio::test(start_paused = true)]
async fn a_job_is_announced_to_its_session_when_it_ends() {
    let sim = dpm_sim::Sim::new(dpm_sim::WorldSpec::z13()).unwrap();
    let mut notices = sim.notices();
    let hmc = sim.hmc();
    let mine = hmc.logon().await.unwrap();
    let other = sim.hmc().logon().await.unwrap();
    assert_ne!(mine.job_notification_topic, other.job_notification_topic);
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("p", 1, 1024))
        .await
        .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut statuses = Vec::new();
    // Nobody polls: the world's ticker ends the job at its due time.
    let completion = loop {
        let n = notices.recv().await.unwrap();
        match n.header("notification-type") {
            Some("status-change") => {
                // Every session hears of it, on its object topic.
                assert!(n.topic == mine.notification_topic || n.topic == other.notification_topic);
                assert_eq!(n.header("object-uri"), Some(p.as_str()));
                let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
                statuses.push(
                    body["change-reports"][0]["new-status"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            Some("job-completion") => break n,
            // The partition's creation.
            Some("inventory-change") => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(completion.topic, mine.job_notification_topic);
    assert_eq!(completion.header("job-uri"), Some(job.as_str()));
    assert_eq!(completion.body, "null");
    let timings = sim.spec().timings.partition_start_ms;
    assert_eq!(started.elapsed().as_millis(), u128::from(timings));
    // The job has ended by then; the status went stopped → starting → active.
    let j = hmc.get_job(&job).await.unwrap();
    assert!(j.succeeded());
    while let Ok(n) = notices.try_recv() {
        if n.topic == mine.notification_topic {
            let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
            statuses.push(
                body["change-reports"][0]["new-status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let mine_only: Vec<&str> = statuses.iter().map(String::as_str).collect();
    assert!(
        mine_only.contains(&"starting") && mine_only.contains(&"active"),
        "{mine_only:?}"
    );
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
}

/// A rename is a `property-change` with the old and the new name.
#[tokio::test]
async fn a_rename_is_announced_as_a_property_change() {
    let sim = dpm_sim::Sim::stepped(dpm_sim::WorldSpec::z13()).unwrap();
    let hmc = sim.hmc();
    let logon = hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("p", 1, 1024))
        .await
        .unwrap();
    let mut notices = sim.notices();
    let rename = hmc_client::PartitionUpdate {
        name: Some("q".into()),
        ..Default::default()
    };
    hmc.update_partition(&p, &rename).await.unwrap();
    let n = notices.try_recv().unwrap();
    assert_eq!(n.topic, logon.notification_topic);
    assert_eq!(n.header("notification-type"), Some("property-change"));
    assert_eq!(n.header("object-uri"), Some(p.as_str()));
    let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
    assert_eq!(
        body["change-reports"],
        serde_json::json!([{"property-name": "name", "old-value": "p", "new-value": "q"}])
    );
    assert!(notices.try_recv().is_err(), "nothing else changed");
}

#[tokio::test]
async fn the_notification_service_takes_a_session_or_the_hmc_user() {
    let sim = dpm_sim::Sim::stepped(dpm_sim::WorldSpec::z13()).unwrap();
    let spec = sim.spec().clone();
    assert!(sim.notification_login(&spec.hmc.userid, &spec.hmc.password));
    assert!(!sim.notification_login(&spec.hmc.userid, "wrong"));
    let hmc = sim.hmc();
    let r = hmc.logon().await.unwrap();
    assert!(sim.notification_login(r.api_session.expose(), r.session_credential.expose()));
    assert!(!sim.notification_login(r.api_session.expose(), "sim-credential-x"));
    hmc.logoff().await.unwrap();
    assert!(!sim.notification_login(r.api_session.expose(), r.session_credential.expose()));
}

/// A served z13, an `HttpHmc` logged on to it, a partition, and its start
/// job (begun while the client's subscription is live).
async fn served_start() -> (
    dpm_sim::Sim,
    dpm_sim::Server,
    hmc_client::HttpHmc,
    hmc_client::PartitionUri,
    hmc_client::JobUri,
) {
    let (sim, server) = crate::conformance::served(dpm_sim::WorldSpec::z13()).await;
    let hmc = crate::conformance::http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("p", 1, 1024))
        .await
        .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    (sim, server, hmc, p, job)
}

/// Waits for `job` on a paused clock, until a second from now: a watched
/// job that has not ended runs the wait out, without a request.
async fn not_yet(
    hmc: &hmc_client::HttpHmc,
    job: &hmc_client::JobUri,
) -> hmc_client::JobAnnouncement {
    tokio::time::pause();
    let soon = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
    let got = hmc.job_announced(job, soon).await;
    tokio::time::resume();
    got
}

/// The served notification service and `HttpHmc`: a job begun while the
/// client's subscription is live is waited for by its announcement, and
/// read once; no poll.
#[tokio::test]
async fn http_hmc_waits_for_the_announcement_without_polling() {
    let (sim, server, hmc, p, job) = served_start().await;
    sim.reset_counters();
    // Watched, and not ended yet (the world's clock is stepped).
    assert_eq!(
        not_yet(&hmc, &job).await,
        hmc_client::JobAnnouncement::NotYet
    );
    assert_eq!(sim.counters().requests(dpm_sim::Side::Hmc), 0);
    sim.run_until_idle();
    let done = hmc_client::wait_for_job(&hmc, &job, &Default::default())
        .await
        .unwrap();
    assert!(done.succeeded());
    let c = sim.counters();
    assert_eq!(c.get(dpm_sim::Op::GetJob), 1, "read once, when announced");
    assert_eq!(c.get(dpm_sim::Op::DeleteJob), 1);
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    server.shutdown().await;
}

/// The connection drops while a job runs, and the job ends while nobody
/// listens: the waiter polls and finds it ended (nothing is missed); the
/// next job reconnects and is watched again.
#[tokio::test]
async fn a_dropped_connection_falls_back_to_polling_and_recovers() {
    let (sim, server, hmc, p, job) = served_start().await;
    sim.drop_notification_connections();
    let far = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    assert_eq!(
        hmc.job_announced(&job, far).await,
        hmc_client::JobAnnouncement::NotWatched,
        "the client notices the drop and says so"
    );
    // The job ends while nobody listens.
    sim.run_until_idle();
    sim.reset_counters();
    let done = hmc_client::wait_for_job(&hmc, &job, &Default::default())
        .await
        .unwrap();
    assert!(done.succeeded());
    assert_eq!(sim.counters().get(dpm_sim::Op::GetJob), 1, "polled");

    // The stop is begun after the drop: the client connects again first.
    let stop = hmc.stop_partition(&p).await.unwrap();
    assert_eq!(
        not_yet(&hmc, &stop).await,
        hmc_client::JobAnnouncement::NotYet,
        "watched again"
    );
    sim.run_until_idle();
    hmc_client::wait_for_job(&hmc, &stop, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Stopped
    );
    server.shutdown().await;
}

/// Wrong credentials get a STOMP ERROR frame, and the client polls.
#[tokio::test]
async fn the_service_refuses_a_bad_login() {
    use hmc_client::stomp::{Decoder, Frame, Item};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sim, server) = crate::conformance::served(dpm_sim::WorldSpec::z13()).await;
    let e = server.endpoints().hmc.clone();
    let pem = std::fs::read(&e.ca_cert).unwrap();
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    for c in
        <rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::pem_slice_iter(
            &pem,
        )
    {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", e.notification_port))
        .await
        .unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let hello = Frame::new("CONNECT")
        .header("accept-version", "1.2")
        .header("login", e.userid.clone())
        .header("passcode", "wrong");
    tls.write_all(&hello.encode()).await.unwrap();
    let mut d = Decoder::default();
    let mut buf = vec![0; 4096];
    let reply = loop {
        if let Some(Item::Frame(f)) = d.next_item().unwrap() {
            break f;
        }
        let n = tls.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed without an ERROR frame");
        d.push(&buf[..n]);
    };
    assert_eq!(reply.command, "ERROR");
    assert_eq!(reply.get("message"), Some("Authentication failed"));
    drop(sim);
    server.shutdown().await;
}

/// Partitions and storage groups created and deleted are announced as
/// `inventory-change` (`action: add`, then `remove`) on every session's
/// object topic, with the object's URI, id and class, as zhmcclient's
/// auto-updated lists expect them; a refused create announces nothing.
#[tokio::test]
async fn creations_and_deletions_are_inventory_changes() {
    let sim = dpm_sim::Sim::stepped(dpm_sim::WorldSpec::z16()).unwrap();
    let mut notices = sim.notices();
    let hmc = sim.hmc();
    let mine = hmc.logon().await.unwrap();
    let other = sim.hmc().logon().await.unwrap();
    let inventory = |notices: &mut tokio::sync::broadcast::Receiver<dpm_sim::Notice>| {
        let mut seen = Vec::new();
        while let Ok(n) = notices.try_recv() {
            if n.header("notification-type") == Some("inventory-change") {
                assert!(n.topic == mine.notification_topic || n.topic == other.notification_topic);
                if n.topic == mine.notification_topic {
                    let uri = n.header("object-uri").unwrap().to_owned();
                    assert!(uri.ends_with(n.header("object-id").unwrap()));
                    seen.push((
                        n.header("action").unwrap().to_owned(),
                        n.header("class").unwrap().to_owned(),
                        uri,
                    ));
                }
            }
        }
        seen
    };
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("inv", 1, 1024))
        .await
        .unwrap();
    let add = |class: &str, uri: &str| ("add".to_owned(), class.to_owned(), uri.to_owned());
    let remove = |class: &str, uri: &str| ("remove".to_owned(), class.to_owned(), uri.to_owned());
    assert_eq!(inventory(&mut notices), vec![add("partition", p.as_str())]);
    // A refused create (the name is taken) announces nothing.
    assert!(hmc
        .create_partition(&sim.cpc_uri(), &props("inv", 1, 1024))
        .await
        .is_err());
    assert_eq!(inventory(&mut notices), vec![]);
    let g = hmc
        .create_storage_group(&hmc_client::StorageGroupCreate {
            cpc_uri: sim.cpc_uri(),
            name: "inv-group".into(),
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
    assert_eq!(
        inventory(&mut notices),
        vec![add("storage-group", g.as_str())]
    );
    hmc.delete_storage_group(&g).await.unwrap();
    hmc.delete_partition(&p).await.unwrap();
    assert_eq!(
        inventory(&mut notices),
        vec![
            remove("storage-group", g.as_str()),
            remove("partition", p.as_str())
        ]
    );
}
