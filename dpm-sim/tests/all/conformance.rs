//! One test body, several back ends: the HMC and Cinder contracts run
//! against the in-memory simulator, and through the real HTTP clients
//! against the simulator served on loopback. With `DPM_REAL_HMC_URL` (and
//! `DPM_REAL_HMC_USER`, `DPM_REAL_HMC_PASSWORD`, `DPM_REAL_HMC_CA`) set, a
//! read-only subset also runs against a real HMC; unset, it is skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use cinder_client::{
    AttachStatus, CinderApi, CinderAuth, CinderHttpConfig, HttpCinder, InstanceId, VolumeCreate,
    VolumeStatus,
};
use dpm_sim::{Fault, Op, ServeConfig, Server, Sim, WorldSpec};
use hmc_client::{
    AdapterFilter, AdapterType, Credentials, HbaCreate, HmcApi, HmcError, HttpConfig, HttpHmc,
    JobStatus, PartitionStatus, PartitionUpdate, Secret, StoragePortUri, TlsVerify,
};

use crate::support::{connector, props};

pub(crate) fn state_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "dpm-sim-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub(crate) async fn served(spec: WorldSpec) -> (Sim, Server) {
    let sim = Sim::stepped(spec).unwrap();
    let server = sim
        .serve(&ServeConfig::any_ports(state_dir()))
        .await
        .unwrap();
    (sim, server)
}

pub(crate) fn http_hmc(server: &Server, password: &str) -> HttpHmc {
    let e = &server.endpoints().hmc;
    let mut cfg = HttpConfig::new(
        &e.url,
        Credentials {
            userid: e.userid.clone(),
            password: Secret::new(password),
        },
        TlsVerify::CaFile(e.ca_cert.clone()),
    );
    cfg.notification_port = Some(e.notification_port);
    HttpHmc::new(cfg).unwrap()
}

pub(crate) fn http_cinder(server: &Server, project: &str, password: &str) -> HttpCinder {
    let k = &server.endpoints().keystone;
    HttpCinder::new(CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url: k.auth_url.clone(),
        username: k.username.clone(),
        password: cinder_client::Secret::new(password),
        project_name: project.into(),
        user_domain_name: "Default".into(),
        project_domain_name: "Default".into(),
    }))
    .unwrap()
}

/// The Cinder client of a world served with `[cinder] noauth`.
fn noauth_cinder(server: &Server) -> HttpCinder {
    HttpCinder::new(CinderHttpConfig::new(CinderAuth::NoAuth {
        endpoint: server.endpoints().cinder.endpoint.clone(),
    }))
    .unwrap()
}

/// The HMC contract: every operation and the refusals that matter.
async fn hmc_contract(hmc: &dyn HmcApi, sim: &Sim) {
    hmc.logon().await.unwrap();
    let cpcs = hmc.list_cpcs(Some("CPC.*")).await.unwrap();
    assert_eq!(cpcs.len(), 1);
    let cpc = cpcs[0].object_uri.clone();
    assert_eq!(
        hmc.get_cpc(&cpc).await.unwrap().processor_count_ifl,
        Some(8)
    );
    let fcp = hmc
        .list_adapters(
            &cpc,
            &AdapterFilter {
                adapter_type: Some(AdapterType::Fcp),
                name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(fcp.len(), 2);
    let adapter = hmc.get_adapter(&fcp[0].object_uri).await.unwrap();
    let port_uri = adapter.storage_port_uris.unwrap()[0].clone();
    let port = hmc.get_storage_port(&port_uri).await.unwrap();
    assert_eq!(port.index, 0);
    // `fabric-id` names the fabric the port is logged in to: none while
    // that fabric is down, in a single read and in a bulk one.
    assert!(port.fabric_id.is_some());
    let fabric = sim.port_fabric(&port_uri).unwrap();
    sim.set_fabric_down(fabric, true);
    assert_eq!(
        hmc.get_storage_port(&port_uri).await.unwrap().fabric_id,
        None
    );
    let bulk: Vec<hmc_client::StoragePort> =
        hmc_client::get_many(hmc, std::slice::from_ref(&port_uri))
            .await
            .unwrap();
    assert_eq!(bulk[0].fabric_id, None);
    sim.set_fabric_down(fabric, false);
    assert_eq!(
        hmc.get_storage_port(&port_uri).await.unwrap().fabric_id,
        port.fabric_id
    );

    // A name with regex metacharacters round-trips through the query.
    let name = "OpenStack-h.1-(x)";
    let p = hmc
        .create_partition(&cpc, &props(name, 2, 4096))
        .await
        .unwrap();
    let dup = hmc
        .create_partition(&cpc, &props(name, 2, 4096))
        .await
        .unwrap_err();
    assert_eq!(dup.status_reason(), Some((409, 8)));
    let filter = hmc_client::PartitionFilter {
        name: Some(r"OpenStack-h\.1-\(x\)".into()),
        status: None,
    };
    assert_eq!(hmc.list_partitions(&cpc, &filter).await.unwrap().len(), 1);
    // A bulk read answers each GET as if it were sent alone, in one request.
    let before = sim.counters().requests(dpm_sim::Side::Hmc);
    let many: Vec<hmc_client::Partition> = hmc_client::get_many(hmc, &[p.clone(), p.clone()])
        .await
        .unwrap();
    assert_eq!(sim.counters().requests(dpm_sim::Side::Hmc), before + 1);
    assert_eq!(many.len(), 2);
    assert_eq!(many[0], hmc.get_partition(&p).await.unwrap());
    let gone = hmc_client::PartitionUri::from_object_id("nope").unwrap();
    let e = hmc_client::get_many::<hmc_client::Partition, _>(hmc, &[p.clone(), gone])
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((404, 1)), "{e}");

    let hba = hmc
        .create_hba(
            &p,
            &HbaCreate {
                name: "hba0".into(),
                adapter_port_uri: port_uri.clone(),
                description: None,
                device_number: None,
            },
        )
        .await
        .unwrap();
    let h = hmc.get_hba(&hba).await.unwrap();
    assert_eq!(h.adapter_port_uri, port_uri);
    let bad_port = StoragePortUri::new(&port_uri.parent(), "3").unwrap();
    let e = hmc
        .create_hba(
            &p,
            &HbaCreate {
                name: "x".into(),
                adapter_port_uri: bad_port,
                description: None,
                device_number: None,
            },
        )
        .await
        .unwrap_err();
    // A port the adapter does not have (404.2 is for an unknown adapter).
    assert_eq!(e.status_reason(), Some((404, 6)));

    // Boot from a LUN nothing maps: the start job fails, the partition
    // stays stopped.
    let u = PartitionUpdate::boot_from_san(
        hba.clone(),
        "500507680b2155ab".parse().unwrap(),
        fc_types::FcpLun::from_target_lun(1),
    );
    hmc.update_partition(&p, &u).await.unwrap();
    let got = hmc.get_partition(&p).await.unwrap();
    assert_eq!(got.boot_storage_device, Some(hba.clone()));
    assert_eq!(
        got.boot_logical_unit_number.unwrap().to_string(),
        "0001000000000000"
    );
    let job = hmc.start_partition(&p).await.unwrap();
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Starting
    );
    assert_eq!(
        hmc.delete_partition(&p).await.unwrap_err().status_reason(),
        Some((409, 1))
    );
    assert_eq!(
        hmc.delete_job(&job).await.unwrap_err().status_reason(),
        Some((409, 40))
    );
    sim.run_until_idle();
    let j = hmc.get_job(&job).await.unwrap();
    assert_eq!(j.status, JobStatus::Complete);
    assert_eq!(j.job_status_code, Some(500));
    assert!(j.message().unwrap().contains("not reachable"));
    hmc.delete_job(&job).await.unwrap();
    assert_eq!(
        hmc.get_job(&job).await.unwrap_err().status_reason(),
        Some((404, 1))
    );
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Stopped
    );

    // Without a boot device it starts; then stop and delete.
    hmc.update_partition(
        &p,
        &PartitionUpdate {
            boot_device: Some(hmc_client::BootDevice::None),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert!(hmc.get_job(&job).await.unwrap().succeeded());
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().status,
        PartitionStatus::Active
    );
    let job = hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert!(hmc.get_job(&job).await.unwrap().succeeded());
    hmc.delete_hba(&hba).await.unwrap();
    hmc.delete_partition(&p).await.unwrap();
    assert!(hmc.get_partition(&p).await.unwrap_err().is_not_found());
    assert!(sim.snapshot().partitions.is_empty());
    hmc.logoff().await.unwrap();
}

/// The Cinder contract: volumes, image deployment, the attachments API with
/// zoning and masking, and the refusals.
async fn cinder_contract(cinder: &dyn CinderApi, sim: &Sim) {
    assert!(cinder.attachments_api().await.unwrap());
    // Initiators: a partition's vHBAs, made through the in-memory HMC.
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("cinder-contract", 1, 1024))
        .await
        .unwrap();
    let mut hbas = Vec::new();
    for a in sim.fcp_adapters() {
        let uri = hmc
            .create_hba(
                &p,
                &HbaCreate {
                    name: a.name.clone(),
                    adapter_port_uri: StoragePortUri::new(&a.uri, "0").unwrap(),
                    description: None,
                    device_number: None,
                },
            )
            .await
            .unwrap();
        hbas.push(hmc.get_hba(&uri).await.unwrap());
    }

    let image = sim.images()[0].0.clone();
    let v = cinder
        .create_volume(&VolumeCreate {
            size: 10,
            name: Some("boot".into()),
            image_ref: Some(image),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(v.status, VolumeStatus::Creating);
    // From an image: creating, then downloading, then available.
    sim.advance(std::time::Duration::from_millis(
        sim.spec().timings.volume_create_ms / 2,
    ));
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Downloading
    );
    sim.run_until_idle();
    let v = cinder.get_volume(&v.id).await.unwrap();
    assert_eq!(v.status, VolumeStatus::Available);
    assert!(v.bootable);
    assert!(sim.hosts().is_empty(), "image deployment leaves no mapping");

    let vm = InstanceId::from_u128(42);
    let a = cinder.create_attachment(&v.id, &vm, None).await.unwrap();
    assert_eq!(a.status, AttachStatus::Reserved);
    assert!(a.connection_info.is_none());
    assert_eq!(a.attach_mode.as_deref(), Some("null"));
    assert_eq!(a.attached_at, None);
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Reserved
    );
    let second = cinder
        .create_attachment(&v.id, &InstanceId::from_u128(43), None)
        .await
        .unwrap_err();
    assert_eq!(second.status(), Some(400));
    let a = cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    // The attachment as loaded before the backend call.
    assert_eq!(a.status, AttachStatus::Reserved);
    let now = cinder.get_attachment(&a.id).await.unwrap();
    assert_eq!(now.status, AttachStatus::Attaching);
    assert_eq!(now.attach_mode.as_deref(), Some("rw"));
    assert!(now.attached_at.is_some());
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Attaching
    );
    let fc = a.connection_info.unwrap().fibre_channel().unwrap();
    assert_eq!(fc.targets[0].lun.to_target_lun(), 0);
    assert_eq!(fc.initiator_target_map.unwrap().len(), 2);
    // All-to-all: 2 initiators x 4 targets, zoned on the targets' fabrics.
    assert_eq!(sim.zones().len(), 8);
    cinder.complete_attachment(&a.id).await.unwrap();
    let vol = cinder.get_volume(&v.id).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::InUse);
    assert_eq!(vol.attachments.len(), 1);
    assert_eq!(
        cinder.delete_volume(&v.id).await.unwrap_err().status(),
        Some(400)
    );
    let listed = cinder
        .list_attachments(&cinder_client::AttachmentFilter {
            instance_id: Some(vm.clone()),
            volume_id: None,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        cinder.get_attachment(&a.id).await.unwrap().status,
        AttachStatus::Attached
    );
    // The same instance may reserve again (LP 1694530); the delete answers
    // the volume's remaining attachments in the summary form.
    let again = cinder.create_attachment(&v.id, &vm, None).await.unwrap();
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::InUse
    );
    let left = cinder.delete_attachment(&a.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (&left[0].id, left[0].status, &left[0].attach_mode),
        (&again.id, AttachStatus::Reserved, &None)
    );
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Reserved
    );
    assert!(cinder
        .delete_attachment(&again.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Available
    );
    assert!(sim.hosts().is_empty() && sim.zones().is_empty());

    // The legacy actions. Terminating a reserved volume's connection
    // unreserves it; the unreserve after it changes nothing.
    cinder.reserve(&v.id).await.unwrap();
    cinder
        .initialize_connection(&v.id, &connector(&hbas))
        .await
        .unwrap();
    cinder
        .terminate_connection(&v.id, &connector(&hbas))
        .await
        .unwrap();
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Available
    );
    cinder.unreserve(&v.id).await.unwrap();
    assert!(sim.hosts().is_empty());
    cinder.reserve(&v.id).await.unwrap();
    assert_eq!(cinder.reserve(&v.id).await.unwrap_err().status(), Some(400));
    let info = cinder
        .initialize_connection(&v.id, &connector(&hbas))
        .await
        .unwrap();
    assert_eq!(info.fibre_channel().unwrap().volume_id, Some(v.id.clone()));
    assert_eq!(info.data["access_mode"], "rw");
    assert_eq!(info.data["discard"], true);
    cinder
        .attach(&v.id, &vm, "/dev/sda", Some("h"))
        .await
        .unwrap();
    let vol = cinder.get_volume(&v.id).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::InUse);
    cinder.begin_detaching(&v.id).await.unwrap();
    cinder.roll_detaching(&v.id).await.unwrap();
    cinder.begin_detaching(&v.id).await.unwrap();
    cinder
        .terminate_connection(&v.id, &connector(&hbas))
        .await
        .unwrap();
    cinder
        .detach(&v.id, &vol.attachments[0].attachment_id)
        .await
        .unwrap();
    assert_eq!(
        cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Available
    );
    assert!(sim.hosts().is_empty());
    assert_eq!(cinder.list_volumes().await.unwrap().len(), 1);
    cinder.delete_volume(&v.id).await.unwrap();
    sim.run_until_idle();
    assert!(cinder.get_volume(&v.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn hmc_contract_in_memory() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    hmc_contract(&sim.hmc(), &sim).await;
}

#[tokio::test]
async fn hmc_contract_over_https() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc_contract(&hmc, &sim).await;
    server.shutdown().await;
}

#[tokio::test]
async fn cinder_contract_in_memory() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    cinder_contract(&sim.default_cinder(), &sim).await;
}

#[tokio::test]
async fn cinder_contract_over_http() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let cinder = http_cinder(&server, "demo", &sim.spec().keystone.password);
    cinder_contract(&cinder, &sim).await;
    server.shutdown().await;
}

#[tokio::test]
async fn https_sessions_credentials_and_certificates() {
    let (sim, server) = served(WorldSpec::z13()).await;
    // A wrong password is refused at logon.
    let bad = http_hmc(&server, "wrong");
    let e = bad.list_cpcs(None).await.unwrap_err();
    assert_eq!(e.status_reason(), Some((403, 0)), "{e}");
    // After the HMC drops the session, the client logs on again once.
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.list_cpcs(None).await.unwrap();
    sim.expire_sessions();
    sim.reset_counters();
    assert_eq!(hmc.list_cpcs(None).await.unwrap().len(), 1);
    assert_eq!(sim.counters().get(dpm_sim::Op::Logon), 1);
    assert_eq!(sim.counters().get(dpm_sim::Op::ListCpcs), 2);
    // Concurrent requests of a fresh client share one logon, and so do
    // concurrent requests that find the session expired.
    let fresh = http_hmc(&server, &sim.spec().hmc.password);
    sim.reset_counters();
    let calls: Vec<_> = (0..10).map(|_| fresh.list_cpcs(None)).collect();
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.counters().get(dpm_sim::Op::Logon), 1);
    sim.expire_sessions();
    sim.reset_counters();
    let calls: Vec<_> = (0..10).map(|_| fresh.list_cpcs(None)).collect();
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.counters().get(dpm_sim::Op::Logon), 1);
    // A second logon logs the session it replaces off.
    sim.reset_counters();
    fresh.logon().await.unwrap();
    assert_eq!(sim.counters().get(dpm_sim::Op::Logoff), 1);
    fresh.logoff().await.unwrap();
    // The session id (50 base-36 characters) and password are not in
    // Debug output.
    let shown = format!("{hmc:?}");
    let longest_token = shown
        .split(|c: char| !(c.is_ascii_digit() || c.is_ascii_lowercase()))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        !shown.contains(&sim.spec().hmc.password) && longest_token < 50,
        "{shown}"
    );
    // A client that does not trust the simulator's CA cannot connect, and
    // knows the request never left.
    let e = &server.endpoints().hmc;
    let untrusting = HttpHmc::new(HttpConfig::new(
        &e.url,
        Credentials {
            userid: e.userid.clone(),
            password: Secret::new(sim.spec().hmc.password.clone()),
        },
        TlsVerify::SystemRoots,
    ))
    .unwrap();
    match untrusting.api_version().await {
        Err(err @ HmcError::Transport { .. }) => assert!(!err.may_have_taken_effect()),
        other => panic!("{other:?}"),
    }
    // A route the simulator does not model says so, in the HMC's format.
    let http = reqwest::Client::builder()
        .tls_certs_only(
            reqwest::Certificate::from_pem_bundle(&std::fs::read(&e.ca_cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    // The console is modelled: without a session it is 403.4.
    let r = http
        .get(format!("{}/api/console", e.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["reason"].as_u64(), Some(4));
    // Users and roles are outside the mission.
    let r = http
        .get(format!("{}/api/console/users", e.url))
        .send()
        .await
        .unwrap();
    // An operation the simulator does not model is 404.1, as a real HMC
    // answers one it does not have, and the message says so.
    assert_eq!(r.status().as_u16(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (body["http-status"].as_u64(), body["reason"].as_u64()),
        (Some(404), Some(1))
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("not modelled by dpm-sim"));
    server.shutdown().await;
}

#[tokio::test]
async fn keystone_auth_scoping_and_renewal() {
    let mut spec = WorldSpec::z13().with_project("other");
    spec.keystone.token_lifetime_s = 600;
    let (sim, server) = served(spec).await;
    let pw = sim.spec().keystone.password.clone();
    // A wrong password is a 401 from Keystone.
    let bad = http_cinder(&server, "demo", "wrong");
    assert_eq!(bad.list_volumes().await.unwrap_err().status(), Some(401));
    // Another project's token cannot see this project's volumes.
    let demo = http_cinder(&server, "demo", &pw);
    let v = demo
        .create_volume(&VolumeCreate {
            size: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let other = http_cinder(&server, "other", &pw);
    assert!(other.get_volume(&v.id).await.unwrap_err().is_not_found());
    assert!(other.list_volumes().await.unwrap().is_empty());
    // The server's clock passes the token's expiry: the next request gets
    // a 401, and the client authenticates again once and carries on.
    sim.advance(std::time::Duration::from_secs(601));
    assert_eq!(demo.list_volumes().await.unwrap().len(), 1);
    server.shutdown().await;
}

/// Twenty requests refused together for an expired token renew it once:
/// one Keystone authentication for all of them.
#[tokio::test]
async fn concurrent_requests_renew_an_expired_token_once() {
    let mut spec = WorldSpec::z13();
    spec.keystone.token_lifetime_s = 600;
    let (sim, server) = served(spec).await;
    let cinder = http_cinder(&server, "demo", &sim.spec().keystone.password);
    assert!(cinder.list_volumes().await.unwrap().is_empty());
    assert_eq!(sim.counters().get(Op::KeystoneAuth), 1);
    // The server's clock passes the token's expiry (the client's has not).
    sim.advance(std::time::Duration::from_secs(601));
    sim.reset_counters();
    let all = futures_util::future::join_all((0..20).map(|_| cinder.list_volumes())).await;
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    let c = sim.counters();
    assert_eq!(c.get(Op::KeystoneAuth), 1, "renewed once for all");
    // Each refused request was sent again (the refusals never reached the
    // volume API, so they are not counted there).
    assert_eq!(c.get(Op::ListVolumes), 20);
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_without_3_44_is_reported() {
    let mut spec = WorldSpec::z13();
    spec.cinder.max_microversion = "3.27".into();
    let (sim, server) = served(spec).await;
    let cinder = http_cinder(&server, "demo", &sim.spec().keystone.password);
    assert!(!cinder.attachments_api().await.unwrap());
    assert!(!sim.default_cinder().attachments_api().await.unwrap());
    server.shutdown().await;
}

/// A read-only check against a real HMC: run it with `--ignored` and the
/// variables set.
#[tokio::test]
#[ignore = "needs a real HMC: DPM_REAL_HMC_URL, DPM_REAL_HMC_USER, DPM_REAL_HMC_PASSWORD (and DPM_REAL_HMC_CA)"]
async fn real_hmc_read_only() {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: this test needs a real HMC"))
    };
    let (url, user, password) = (
        var("DPM_REAL_HMC_URL"),
        var("DPM_REAL_HMC_USER"),
        var("DPM_REAL_HMC_PASSWORD"),
    );
    let tls = match std::env::var("DPM_REAL_HMC_CA") {
        Ok(ca) => TlsVerify::CaFile(ca.into()),
        Err(_) => TlsVerify::SystemRoots,
    };
    let hmc = HttpHmc::new(HttpConfig::new(
        url,
        Credentials {
            userid: user,
            password: Secret::new(password),
        },
        tls,
    ))
    .unwrap();
    // What this project reads must be there, in the shapes it reads.
    let v = hmc.api_version().await.unwrap();
    assert!(v.api_major_version >= 1, "{v:?}");
    let cpcs = hmc.list_cpcs(None).await.unwrap();
    assert!(!cpcs.is_empty(), "the HMC manages no CPC this user may see");
    for c in cpcs {
        let cpc = hmc.get_cpc(&c.object_uri).await.unwrap();
        assert_eq!(cpc.object_uri.as_ref(), Some(&c.object_uri));
        if cpc.dpm_enabled == Some(true) {
            assert!(cpc.status.is_some() && cpc.se_version.is_some(), "{cpc:?}");
            let adapters = hmc
                .list_adapters(
                    &c.object_uri,
                    &AdapterFilter {
                        adapter_type: Some(AdapterType::Fcp),
                        name: None,
                    },
                )
                .await
                .unwrap();
            assert!(adapters.iter().all(|a| a.adapter_type == AdapterType::Fcp));
            for p in hmc
                .list_partitions(&c.object_uri, &Default::default())
                .await
                .unwrap()
            {
                let full = hmc.get_partition(&p.object_uri).await.unwrap();
                assert_eq!(full.name, p.name);
            }
        }
    }
    hmc.logoff().await.unwrap();
}

#[tokio::test]
async fn retries_only_what_is_safe_to_repeat() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let e = &server.endpoints().hmc;
    let mut cfg = HttpConfig::new(
        &e.url,
        Credentials {
            userid: e.userid.clone(),
            password: Secret::new(sim.spec().hmc.password.clone()),
        },
        TlsVerify::CaFile(e.ca_cert.clone()),
    );
    cfg.backoff = std::time::Duration::ZERO;
    let hmc = HttpHmc::new(cfg).unwrap();
    hmc.logon().await.unwrap();
    let cpc = sim.cpc_uri();
    // A GET that meets 503 twice succeeds on the third attempt.
    sim.fail_next(
        dpm_sim::Op::ListCpcs,
        2,
        dpm_sim::Fault::new(503, 0, "busy"),
    );
    sim.reset_counters();
    assert_eq!(hmc.list_cpcs(None).await.unwrap().len(), 1);
    assert_eq!(sim.counters().get(dpm_sim::Op::ListCpcs), 3);
    // Three 503s exhaust the attempts.
    sim.fail_next(dpm_sim::Op::GetCpc, 3, dpm_sim::Fault::new(503, 0, "busy"));
    assert_eq!(
        hmc.get_cpc(&cpc).await.unwrap_err().status_reason(),
        Some((503, 0))
    );
    // A refusal (409.2 busy, 503) did nothing, so even a start or a create
    // is sent again: one rule for every request.
    let p = hmc
        .create_partition(&cpc, &props("once", 1, 1024))
        .await
        .unwrap();
    let q = hmc
        .create_partition(&cpc, &props("resent", 1, 1024))
        .await
        .unwrap();
    sim.fail_next(
        dpm_sim::Op::StartPartition,
        1,
        dpm_sim::Fault::new(409, 2, "busy"),
    );
    sim.reset_counters();
    hmc.start_partition(&q).await.unwrap();
    assert_eq!(sim.counters().get(dpm_sim::Op::StartPartition), 2);
    assert_ne!(
        hmc.get_partition(&q).await.unwrap().status,
        PartitionStatus::Stopped
    );
    sim.fail_next(
        dpm_sim::Op::CreatePartition,
        1,
        dpm_sim::Fault::new(503, 0, "busy"),
    );
    sim.reset_counters();
    hmc.create_partition(&cpc, &props("twice", 1, 1024))
        .await
        .unwrap();
    assert_eq!(sim.counters().get(dpm_sim::Op::CreatePartition), 2);
    let named = |n: &str| hmc_client::PartitionFilter {
        name: Some(n.into()),
        status: None,
    };
    assert_eq!(
        hmc.list_partitions(&cpc, &named("twice"))
            .await
            .unwrap()
            .len(),
        1
    );
    // A create or start whose reply was lost may have taken effect: it is
    // never resent, and its error says so (the caller reads the state).
    sim.fail_next(
        dpm_sim::Op::CreatePartition,
        1,
        dpm_sim::Fault::lost_reply(),
    );
    sim.reset_counters();
    let err = hmc
        .create_partition(&cpc, &props("lost", 1, 1024))
        .await
        .unwrap_err();
    assert!(
        err.may_have_taken_effect() && !err.should_resend(false),
        "{err}"
    );
    assert_eq!(sim.counters().get(dpm_sim::Op::CreatePartition), 1);
    let lost = hmc.list_partitions(&cpc, &named("lost")).await.unwrap();
    assert_eq!(lost.len(), 1);
    sim.fail_next(dpm_sim::Op::StartPartition, 1, dpm_sim::Fault::lost_reply());
    sim.reset_counters();
    let err = hmc.start_partition(&lost[0].object_uri).await.unwrap_err();
    assert!(err.may_have_taken_effect(), "{err}");
    assert_eq!(sim.counters().get(dpm_sim::Op::StartPartition), 1);
    // A GET whose reply was lost is sent again.
    sim.fail_next(dpm_sim::Op::GetPartition, 1, dpm_sim::Fault::lost_reply());
    sim.reset_counters();
    assert_eq!(hmc.get_partition(&p).await.unwrap().name, "once");
    assert_eq!(sim.counters().get(dpm_sim::Op::GetPartition), 2);
    // A failed job is a typed error with the HMC's code and message.
    hmc.update_partition(
        &p,
        &PartitionUpdate::boot_from_san(
            hmc.create_hba(
                &p,
                &HbaCreate {
                    name: "h".into(),
                    adapter_port_uri: StoragePortUri::new(&sim.fcp_adapters()[0].uri, "0").unwrap(),
                    description: None,
                    device_number: None,
                },
            )
            .await
            .unwrap(),
            "500507680b2155ab".parse().unwrap(),
            fc_types::FcpLun::from_target_lun(0),
        ),
    )
    .await
    .unwrap();
    let job = hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    match hmc_client::wait_for_job(&hmc, &job, &Default::default()).await {
        Err(HmcError::JobFailed {
            status_code,
            reason_code,
            message,
            ..
        }) => {
            assert_eq!((status_code, reason_code), (500, Some(263)));
            assert!(message.contains("not reachable"));
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}

/// A read-only check against a real Keystone and Cinder, when the usual
/// OpenStack variables (`OS_AUTH_URL`, `OS_USERNAME`, `OS_PASSWORD`,
/// `OS_PROJECT_NAME`, optional `OS_USER_DOMAIN_NAME`,
/// `OS_PROJECT_DOMAIN_NAME`, `OS_CACERT`): run it with `--ignored`.
#[tokio::test]
#[ignore = "needs a real Keystone and Cinder: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (and OS_CACERT)"]
async fn real_cinder_read_only() {
    let var = |k: &str| std::env::var(k).ok();
    let need =
        |k: &str| var(k).unwrap_or_else(|| panic!("{k} is not set: this test needs a real Cinder"));
    let (auth_url, username, password, project_name) = (
        need("OS_AUTH_URL"),
        need("OS_USERNAME"),
        need("OS_PASSWORD"),
        need("OS_PROJECT_NAME"),
    );
    let mut cfg = CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url,
        username,
        password: cinder_client::Secret::new(password),
        project_name,
        user_domain_name: var("OS_USER_DOMAIN_NAME").unwrap_or_else(|| "Default".into()),
        project_domain_name: var("OS_PROJECT_DOMAIN_NAME").unwrap_or_else(|| "Default".into()),
    });
    cfg.ca_file = var("OS_CACERT").map(Into::into);
    let cinder = HttpCinder::new(cfg).unwrap();
    let has_attachments = cinder.attachments_api().await.unwrap();
    for v in cinder.list_volumes().await.unwrap() {
        // Each volume reads back as itself.
        assert_eq!(cinder.get_volume(&v.id).await.unwrap().id, v.id);
    }
    if has_attachments {
        for a in cinder.list_attachments(&Default::default()).await.unwrap() {
            assert_eq!(cinder.get_attachment(&a.id).await.unwrap().id, a.id);
        }
    }
}

/// The Cinder client follows the HMC client's retry rule: a GET, or any
/// request Cinder refused with 503, is sent again; a create whose reply was
/// lost is not.
#[tokio::test]
async fn cinder_retries_only_what_is_safe_to_repeat() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let k = &server.endpoints().keystone;
    let mut cfg = CinderHttpConfig::new(CinderAuth::Keystone {
        auth_url: k.auth_url.clone(),
        username: k.username.clone(),
        password: cinder_client::Secret::new(sim.spec().keystone.password.clone()),
        project_name: "demo".into(),
        user_domain_name: "Default".into(),
        project_domain_name: "Default".into(),
    });
    cfg.backoff = std::time::Duration::ZERO;
    let cinder = HttpCinder::new(cfg).unwrap();
    let before = cinder.list_volumes().await.unwrap().len();
    // A GET that meets 503 twice succeeds on the third attempt; a third
    // 503 exhausts the attempts.
    sim.fail_next(Op::ListVolumes, 2, Fault::new(503, 0, "unavailable"));
    sim.reset_counters();
    assert_eq!(cinder.list_volumes().await.unwrap().len(), before);
    assert_eq!(sim.counters().get(Op::ListVolumes), 3);
    sim.fail_next(Op::ListVolumes, 3, Fault::new(503, 0, "unavailable"));
    assert_eq!(cinder.list_volumes().await.unwrap_err().status(), Some(503));
    // A refused create did nothing: it is sent again, and one volume
    // results.
    let create = |name: &str| cinder_client::VolumeCreate {
        size: 1,
        name: Some(name.into()),
        ..Default::default()
    };
    sim.fail_next(Op::CreateVolume, 1, Fault::new(503, 0, "unavailable"));
    sim.reset_counters();
    cinder.create_volume(&create("resent")).await.unwrap();
    assert_eq!(sim.counters().get(Op::CreateVolume), 2);
    // A 409 is a conflict, not a passing state: not sent again.
    sim.fail_next(Op::CreateVolume, 1, Fault::new(409, 0, "conflict"));
    sim.reset_counters();
    assert_eq!(
        cinder
            .create_volume(&create("conflict"))
            .await
            .unwrap_err()
            .status(),
        Some(409)
    );
    assert_eq!(sim.counters().get(Op::CreateVolume), 1);
    // A create whose reply was lost may have taken effect: not resent.
    sim.fail_next(Op::CreateVolume, 1, Fault::lost_reply());
    sim.reset_counters();
    let err = cinder.create_volume(&create("lost")).await.unwrap_err();
    assert!(
        err.may_have_taken_effect() && !err.should_resend(false),
        "{err}"
    );
    assert_eq!(sim.counters().get(Op::CreateVolume), 1);
    let names: Vec<_> = cinder
        .list_volumes()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|v| v.name)
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "resent").count(), 1);
    assert_eq!(names.iter().filter(|n| *n == "lost").count(), 1);
    assert!(!names.iter().any(|n| n == "conflict"));
    server.shutdown().await;
}

/// Cinder served under a path, as devstack and mod_wsgi serve it: the
/// host root is not Cinder's, and the client finds the version document
/// under the prefix (through Keystone's catalog), then passes the contract.
#[tokio::test]
async fn cinder_under_a_path_prefix() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    let mut cfg = ServeConfig::any_ports(state_dir());
    cfg.cinder_path = "/volume".into();
    let server = sim.serve(&cfg).await.unwrap();
    let endpoint = server.endpoints().cinder.endpoint.clone();
    assert!(endpoint.contains("/volume/v3/"), "{endpoint}");
    let host_root = endpoint.split("/volume/").next().unwrap().to_owned();
    // (the Cinder client installs the TLS provider reqwest needs)
    let cinder = http_cinder(&server, "demo", &sim.spec().keystone.password);
    let http = reqwest::Client::new();
    let at = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(at(format!("{host_root}/")).await, 404);
    assert_eq!(at(format!("{host_root}/volume/")).await, 300);
    assert!(cinder.attachments_api().await.unwrap());
    cinder_contract(&cinder, &sim).await;
    server.shutdown().await;
}

#[tokio::test]
async fn cinder_without_keystone() {
    let mut spec = WorldSpec::z13();
    spec.cinder.noauth = true;
    let (sim, server) = served(spec).await;
    cinder_contract(&noauth_cinder(&server), &sim).await;
    server.shutdown().await;
}

/// The storage-group contract (a z16): every storage-management operation
/// and the refusals that matter; Cinder masks and zones through the
/// in-memory client.
async fn storage_group_contract(hmc: &dyn HmcApi, sim: &Sim) {
    use hmc_client::{
        FulfillmentState, LunPath, StorageGroupCreate, StorageGroupFilter, StorageGroupModify,
        StorageGroupType, StorageVolumeFilter, VolumeCreate as SgVolume, VolumeModify,
        VolumeRequest, VolumeUsage,
    };
    hmc.logon().await.unwrap();
    let cpc = hmc.list_cpcs(None).await.unwrap()[0].object_uri.clone();
    let all = StorageGroupFilter::default();
    assert!(hmc.list_storage_groups(&all).await.unwrap().is_empty());
    let ports: Vec<StoragePortUri> = sim
        .fcp_adapters()
        .iter()
        .map(|a| StoragePortUri::new(&a.uri, "0").unwrap())
        .collect();
    let ficon = sim
        .adapters()
        .into_iter()
        .find(|(_, t)| t == "fc")
        .map(|(a, _)| StoragePortUri::new(&a, "0").unwrap())
        .unwrap();

    let p = hmc
        .create_partition(&cpc, &props("sg-contract", 1, 1024))
        .await
        .unwrap();
    let volume = |name: &str, size, usage| {
        VolumeRequest::Create(SgVolume {
            name: Some(name.into()),
            description: None,
            size,
            usage: Some(usage),
        })
    };
    let created = hmc
        .create_storage_group(&StorageGroupCreate {
            cpc_uri: cpc.clone(),
            name: "sg-contract".into(),
            group_type: StorageGroupType::Fcp,
            description: Some("contract".into()),
            shared: Some(false),
            connectivity: Some(2),
            max_partitions: Some(1),
            storage_volumes: vec![
                volume("boot", 10.0, VolumeUsage::Boot),
                volume("data", 5.0, VolumeUsage::Data),
            ],
            email_to_addresses: None,
        })
        .await
        .unwrap();
    let g = created.object_uri.clone();
    let (boot, data) = (
        created.element_uris[0].clone(),
        created.element_uris[1].clone(),
    );
    let sg = hmc.get_storage_group(&g).await.unwrap();
    assert_eq!(
        (sg.parent.as_str(), sg.class.as_str()),
        ("/api/console", "storage-group")
    );
    assert_eq!(sg.fulfillment_state, FulfillmentState::Pending);
    assert_eq!(sg.storage_volume_uris, created.element_uris);
    let wwpns: Vec<_> = sg
        .unassigned_world_wide_port_names
        .iter()
        .map(|w| w.world_wide_port_name)
        .collect();
    assert_eq!(wwpns.len(), 2);
    let named = StorageGroupFilter {
        cpc: Some(cpc.clone()),
        name: Some("sg-.*".into()),
    };
    assert_eq!(hmc.list_storage_groups(&named).await.unwrap().len(), 1);

    hmc.add_candidate_adapter_ports(&g, &ports).await.unwrap();
    let e = hmc
        .add_candidate_adapter_ports(&g, &ports)
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 483)));
    let e = hmc
        .remove_candidate_adapter_ports(&g, &[ficon])
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 479)));

    // Cinder masks and zones the group's WWPNs.
    let cinder = sim.default_cinder();
    let v = cinder
        .create_volume(&VolumeCreate {
            size: 10,
            name: Some("boot".into()),
            image_ref: Some(sim.images()[0].0.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    sim.run_until_idle();
    let a = cinder
        .create_attachment(&v.id, &InstanceId::from_u128(9), None)
        .await
        .unwrap();
    let mut conn = connector(&[]);
    conn.wwpns = wwpns.clone();
    cinder.update_attachment(&a.id, &conn).await.unwrap();

    hmc.attach_storage_group(&p, &g).await.unwrap();
    let vsrs = hmc.list_vsrs(&g, Some(&p)).await.unwrap();
    assert_eq!(vsrs.len(), 2);
    let vsr = hmc.get_vsr(&vsrs[0].element_uri).await.unwrap();
    assert_eq!(vsr.world_wide_port_name, wwpns[0]);
    assert_eq!(vsr.adapter_port_uri, Some(ports[0].clone()));
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().storage_group_uris,
        vec![g.clone()]
    );
    assert_eq!(
        hmc.get_storage_group_partitions(&g).await.unwrap()[0].object_uri,
        p
    );

    let job = hmc.start_fcp_storage_discovery(&g, false).await.unwrap();
    let e = hmc
        .start_fcp_storage_discovery(&g, false)
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 1)));
    sim.run_until_idle();
    let j = hmc.get_job(&job).await.unwrap();
    assert_eq!(
        (j.status, j.job_status_code),
        (JobStatus::Complete, Some(204))
    );
    hmc.delete_job(&job).await.unwrap();
    let complete = StorageVolumeFilter {
        fulfillment_state: Some(FulfillmentState::Complete),
        ..StorageVolumeFilter::default()
    };
    let listed = hmc.list_storage_volumes(&g, &complete).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].element_uri, boot);
    let bv = hmc.get_storage_volume(&boot).await.unwrap();
    assert_eq!(bv.paths.len(), 4);
    assert_eq!(
        bv.paths[0].logical_unit_number.to_string(),
        "0000000000000000"
    );
    let e = hmc
        .accept_mismatched_storage_volumes(&g, std::slice::from_ref(&data))
        .await
        .unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 1)));

    let made = hmc
        .modify_storage_group(
            &g,
            &StorageGroupModify {
                description: Some("changed".into()),
                storage_volumes: vec![
                    volume("more", 1.0, VolumeUsage::Data),
                    VolumeRequest::Modify(VolumeModify {
                        element_uri: data.clone(),
                        name: Some("data-0".into()),
                        description: None,
                        size: Some(6.0),
                        usage: None,
                    }),
                ],
                ..StorageGroupModify::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(hmc.get_storage_volume(&data).await.unwrap().size, 6.0);

    hmc.validate_lun_path(
        &cpc,
        &LunPath {
            host_world_wide_port_name: wwpns[0],
            adapter_port_uri: ports[0].clone(),
            target_world_wide_port_name: bv.paths[0].target_world_wide_port_name,
            logical_unit_number: fc_types::FcpLun::from_target_lun(0),
        },
    )
    .await
    .unwrap();

    hmc.update_partition(&p, &PartitionUpdate::boot_from_volume(boot.clone()))
        .await
        .unwrap();
    assert_eq!(
        hmc.get_partition(&p).await.unwrap().boot_storage_volume,
        Some(boot.clone())
    );
    let job = hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert!(hmc.get_job(&job).await.unwrap().succeeded());
    assert_eq!(sim.guest_paths(&p).len(), 4);
    let e = hmc.detach_storage_group(&p, &g).await.unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 1)));
    let e = hmc.delete_storage_group(&g).await.unwrap_err();
    assert_eq!(e.status_reason(), Some((409, 1)));
    let job = hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert!(hmc.get_job(&job).await.unwrap().succeeded());
    hmc.delete_partition(&p).await.unwrap();
    hmc.delete_storage_group(&g).await.unwrap();
    assert_eq!(
        hmc.get_storage_group(&g).await.unwrap_err().status_reason(),
        Some((404, 1))
    );
    cinder.delete_attachment(&a.id).await.unwrap();
    hmc.logoff().await.unwrap();
}

#[tokio::test]
async fn storage_group_contract_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    storage_group_contract(&sim.hmc(), &sim).await;
}

#[tokio::test]
async fn storage_group_contract_over_https() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    storage_group_contract(&hmc, &sim).await;
    server.shutdown().await;
}

/// The storage-group routes as JSON: console-level groups, `null` for what
/// is unset, and 400.1 for a query parameter a route does not take.
#[tokio::test]
async fn storage_group_routes_speak_the_hmcs_json() {
    let (sim, server) = served(WorldSpec::z16()).await;
    let e = &server.endpoints().hmc;
    let http = reqwest::Client::builder()
        .tls_certs_only(
            reqwest::Certificate::from_pem_bundle(&std::fs::read(&e.ca_cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let logon: serde_json::Value = http
        .post(format!("{}/api/sessions", e.url))
        .json(&serde_json::json!({"userid": e.userid, "password": sim.spec().hmc.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = logon["api-session"].as_str().unwrap().to_owned();
    let call = |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
        let mut r = http
            .request(method, format!("{}{path}", e.url))
            .header("x-api-session", &session);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let cpc = sim.cpc_uri();
    let r = call(
        reqwest::Method::POST,
        "/api/storage-groups".into(),
        Some(serde_json::json!({
            "cpc-uri": cpc.as_str(), "name": "raw", "type": "fcp",
            "storage-volumes": [{"operation": "create", "size": 4.0, "usage": "boot"}]
        })),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let g = created["object-uri"].as_str().unwrap().to_owned();
    assert_eq!(created["element-uris"].as_array().unwrap().len(), 1);
    let got: serde_json::Value = call(reqwest::Method::GET, g.clone(), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["parent"], "/api/console");
    // The HMC's defaults for what the body leaves out (zhmccli documents
    // them): shared, two paths, two partitions, no direct connections.
    assert_eq!(got["shared"], true);
    assert_eq!(got["connectivity"], 2);
    assert_eq!(got["max-partitions"], 2);
    assert_eq!(got["direct-connection-count"], 0);
    assert_eq!(got["description"], "");
    assert_eq!(got["fulfillment-state"], "pending");
    for (path, status, reason) in [
        ("/api/storage-groups?colour=red".to_owned(), 400, 1),
        (format!("{g}/storage-volumes?partition-uri=x"), 400, 1),
        (
            format!("{g}/virtual-storage-resources?device-number=xyz"),
            400,
            1,
        ),
        (format!("{}?name=x", g), 400, 1),
    ] {
        let r = call(reqwest::Method::GET, path.clone(), None)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["reason"], reason, "{path}");
    }
    // A partition on this CPC: no HBAs, and unset storage fields read as
    // `[]` and `null`.
    let p: serde_json::Value = call(
        reqwest::Method::POST,
        format!("{cpc}/partitions"),
        Some(serde_json::json!({"name": "raw", "ifl-processors": 1,
            "initial-memory": 1024, "maximum-memory": 1024})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let p = p["object-uri"].as_str().unwrap().to_owned();
    let part: serde_json::Value = call(reqwest::Method::GET, p.clone(), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(part["hba-uris"], serde_json::json!([]));
    assert_eq!(part["storage-group-uris"], serde_json::json!([]));
    assert!(part["boot-storage-volume"].is_null());
    assert!(part["boot-storage-device"].is_null());
    // The discovery body is optional.
    let r = call(
        reqwest::Method::POST,
        format!("{g}/operations/start-fcp-storage-discovery"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    // An operation dpm-sim does not model says so.
    let r = call(
        reqwest::Method::GET,
        format!("{g}/operations/get-connection-report"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["reason"], 1);
    // A partition update must be an object.
    let r = call(
        reqwest::Method::POST,
        p.clone(),
        Some(serde_json::json!([])),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A misspelt field is refused, not ignored.
    let r = call(
        reqwest::Method::POST,
        format!("{g}/operations/modify"),
        Some(serde_json::json!({"conectivity": 4})),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A bad body meets an armed fault and is counted, as any request.
    sim.fail_next(Op::ModifyStorageGroup, 1, Fault::new(503, 0, "busy"));
    sim.reset_counters();
    let r = call(
        reqwest::Method::POST,
        format!("{g}/operations/modify"),
        Some(serde_json::json!({"name": 1})),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(sim.counters().get(Op::ModifyStorageGroup), 1);
    // Repeated filter values are ORed.
    let r: serde_json::Value = call(
        reqwest::Method::GET,
        format!("{g}/storage-volumes?usage=data&usage=boot"),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r["storage-volumes"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

/// The control routes arm faults, cut clients off, count and audit, across
/// processes; they are served only when asked for.
#[tokio::test]
async fn control_routes_drive_the_served_world() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let plain = sim
        .serve(&ServeConfig::any_ports(state_dir()))
        .await
        .unwrap();
    assert!(plain.endpoints().control.is_none(), "off unless asked for");
    plain.shutdown().await;
    let mut cfg = ServeConfig::any_ports(state_dir());
    cfg.control_port = Some(0);
    let server = sim.serve(&cfg).await.unwrap();
    let ctl = server.endpoints().control.clone().unwrap().url;
    assert!(ctl.starts_with("http://127.0.0.1:"));
    // (building the HMC client installs the TLS provider reqwest needs)
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    let http = reqwest::Client::new();
    // A fault armed over HTTP fails the next request of its operation.
    let r = http
        .post(format!("{ctl}/sim/faults"))
        .json(&serde_json::json!({"op": "hmc.list_cpcs", "status": 503}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    // The HTTPS client retries a 503 on a GET: refused once, then answered.
    assert_eq!(hmc.list_cpcs(None).await.unwrap().len(), 1);
    assert_eq!(sim.counters().get(Op::ListCpcs), 2);
    // An unknown operation is refused.
    let r = http
        .post(format!("{ctl}/sim/faults"))
        .json(&serde_json::json!({"op": "hmc.nothing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A lost reply: the partition is created, the client hears nothing.
    http.post(format!("{ctl}/sim/faults"))
        .json(&serde_json::json!({"op": "hmc.create_partition", "lost_reply": true}))
        .send()
        .await
        .unwrap();
    let e = hmc
        .create_partition(
            &sim.cpc_uri(),
            &hmc_client::PartitionCreate {
                name: "lost".into(),
                description: None,
                partition_type: None,
                ifl_processors: Some(1),
                cp_processors: None,
                initial_memory: 1024,
                maximum_memory: 1024,
                processor_mode: None,
            },
        )
        .await
        .unwrap_err();
    assert!(e.may_have_taken_effect(), "{e}");
    let leaks: serde_json::Value = http
        .get(format!("{ctl}/sim/leaks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(leaks["partitions"], 1);
    // Counters over HTTP.
    let c: serde_json::Value = http
        .get(format!("{ctl}/sim/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["counts"]["hmc.create_partition"], 1);
    // A dead client: nothing reaches the world until it is let through.
    http.post(format!("{ctl}/sim/sever"))
        .json(&serde_json::json!({"after": 0}))
        .send()
        .await
        .unwrap();
    let before = sim.counters().get(Op::GetCpc);
    assert!(hmc.get_cpc(&sim.cpc_uri()).await.is_err());
    assert_eq!(sim.counters().get(Op::GetCpc), before);
    http.delete(format!("{ctl}/sim/sever"))
        .send()
        .await
        .unwrap();
    hmc.get_cpc(&sim.cpc_uri()).await.unwrap();
    server.shutdown().await;
}

/// What the HMC offers current tools over plain GETs: `properties=` on an
/// object, `additional-properties` on the adapter list (and its refusal on
/// the partition list below API 4.1), the
/// console's list-permitted-partitions and -adapters with their filters,
/// and 400.1 for a query parameter an operation does not have.
#[tokio::test]
async fn property_selection_and_console_listings() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let cpc = sim.cpc_uri();
    let p = hmc
        .create_partition(&cpc, &props("listed", 2, 2048))
        .await
        .unwrap();
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let get = |path: String| raw.get(path);
    // properties= answers exactly the named ones (identity included only
    // when named).
    let (status, only) = get(format!("{p}?properties=status,ifl-processors")).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = only
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["ifl-processors", "status"], "{only}");
    assert_eq!(only["ifl-processors"], 2);
    assert_eq!(only["status"], "stopped");
    // An unknown query parameter is 400.1.
    let (status, err) = get(format!("{p}?bogus=1")).await;
    assert_eq!((status, err["reason"].as_u64()), (400, Some(1)), "{err}");
    // additional-properties on the partition list needs API 4.1; this
    // HMC (3.1) does not know it (the z16 side is in `properties.rs`).
    let (status, err) = get(format!(
        "{cpc}/partitions?additional-properties=ifl-processors,initial-memory"
    ))
    .await;
    assert_eq!((status, err["reason"].as_u64()), (400, Some(1)), "{err}");
    // The console's listings, filtered on the server.
    let (status, permitted) =
        get("/api/console/operations/list-permitted-partitions?status=stopped".into()).await;
    assert_eq!(status, 200);
    let entry = &permitted["partitions"][0];
    assert_eq!(entry["object-uri"], p.as_str());
    assert_eq!(entry["cpc-object-uri"], cpc.as_str());
    assert_eq!(entry["has-unacceptable-status"], true);
    let (_, none) =
        get("/api/console/operations/list-permitted-partitions?status=active".into()).await;
    assert!(none["partitions"].as_array().unwrap().is_empty());
    let (_, fcp) = get("/api/console/operations/list-permitted-adapters?type=fcp".into()).await;
    assert_eq!(
        fcp["adapters"].as_array().unwrap().len(),
        sim.fcp_adapters().len()
    );
    assert!(fcp["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["type"] == "fcp" && a["dpm-enabled"] == true));
    // The partitions assigned to an adapter: those with a vHBA on it.
    let adapter = sim.fcp_adapters()[0].uri.clone();
    let assigned = format!("{adapter}/operations/get-partitions-assigned-to-adapter");
    let (_, none) = get(assigned.clone()).await;
    assert_eq!(
        none["partitions-assigned-to-adapter"],
        serde_json::json!([])
    );
    hmc.create_hba(
        &p,
        &HbaCreate {
            name: "h".into(),
            adapter_port_uri: StoragePortUri::new(&adapter, "0").unwrap(),
            description: None,
            device_number: None,
        },
    )
    .await
    .unwrap();
    let (_, one) = get(assigned.clone()).await;
    assert_eq!(
        one["partitions-assigned-to-adapter"][0]["object-uri"],
        p.as_str()
    );
    assert_eq!(
        one["partitions-assigned-to-adapter"][0]["status"],
        "stopped"
    );
    let (_, filtered) = get(format!("{assigned}?status=active")).await;
    assert_eq!(
        filtered["partitions-assigned-to-adapter"],
        serde_json::json!([])
    );
    // An HMC before API 4.10 has no feature listing: 404.1, which
    // zhmcclient reads as "no features".
    let (status, err) = get("/api/console/operations/list-features".into()).await;
    assert_eq!((status, err["reason"].as_u64()), (404, Some(1)), "{err}");
    server.shutdown().await;
}

/// An HMC at API 4.10 lists its API features, for the console and the CPC,
/// as the JSON array zhmcclient reads, filtered by name.
#[tokio::test]
async fn api_features_at_api_4_10() {
    let mut spec = WorldSpec::z16();
    spec.hmc.api_features = vec!["feature-a".into(), "feature-b".into()];
    let (sim, server) = served(spec).await;
    // (the HMC client installs the TLS provider reqwest needs)
    let _ = http_hmc(&server, &sim.spec().hmc.password);
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let get = |path: String| async { raw.get(path).await.1 };
    let all = get("/api/console/operations/list-features".into()).await;
    assert_eq!(all, serde_json::json!(["feature-a", "feature-b"]));
    let cpc = sim.cpc_uri();
    let some = get(format!("{cpc}/operations/list-features?name=.*-b")).await;
    assert_eq!(some, serde_json::json!(["feature-b"]));
    server.shutdown().await;
}

/// `name` is writable: a rename, unique on the CPC (409 otherwise), 1 to
/// 64 characters (400), over HTTP as in memory.
#[tokio::test]
async fn a_partition_can_be_renamed() {
    let (sim, server) = served(WorldSpec::z13()).await;
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    hmc.logon().await.unwrap();
    let cpc = sim.cpc_uri();
    let a = hmc
        .create_partition(&cpc, &props("a", 1, 1024))
        .await
        .unwrap();
    hmc.create_partition(&cpc, &props("b", 1, 1024))
        .await
        .unwrap();
    let rename = |n: &str| PartitionUpdate {
        name: Some(n.into()),
        ..PartitionUpdate::default()
    };
    hmc.update_partition(&a, &rename("renamed")).await.unwrap();
    assert_eq!(hmc.get_partition(&a).await.unwrap().name, "renamed");
    let taken = hmc.update_partition(&a, &rename("b")).await.unwrap_err();
    assert_eq!(taken.status_reason().map(|(s, _)| s), Some(409), "{taken}");
    let long = hmc
        .update_partition(&a, &rename(&"x".repeat(65)))
        .await
        .unwrap_err();
    assert_eq!(long.status_reason().map(|(s, _)| s), Some(400), "{long}");
    // Renaming to its own name is no conflict.
    hmc.update_partition(&a, &rename("renamed")).await.unwrap();
    assert_eq!(hmc.get_partition(&a).await.unwrap().name, "renamed");
    server.shutdown().await;
}

/// The microversion header as a list ("compute 2.1, volume 3.44": the
/// volume entry counts), and Cinder's error names: an unsupported
/// microversion is 406 `computeFault`.
#[tokio::test]
async fn microversion_lists_and_error_names() {
    let mut spec = WorldSpec::z13();
    spec.cinder.noauth = true;
    let (_sim, server) = served(spec).await;
    // (the Cinder client installs the TLS provider reqwest needs)
    let _ = noauth_cinder(&server);
    let url = format!("{}/volumes", server.endpoints().cinder.endpoint);
    let http = reqwest::Client::new();
    let r = http
        .get(&url)
        .header("openstack-api-version", "compute 2.1, volume 3.44")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["openstack-api-version"], "volume 3.44");
    let r = http
        .get(&url)
        .header("openstack-api-version", "volume 9.99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 406);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["computeFault"]["code"], 406, "{body}");
    server.shutdown().await;
}

/// The attachments API's JSON as Cinder writes it: `attach_mode` "null"
/// and unset times "" until a connector is given, the delete's remaining
/// attachments in the summary form, a backend failure at create a 500
/// "Unable to create attachment for volume"; and the legacy `os-detach`
/// with a null attachment id on a volume with no attachment makes it
/// available.
#[tokio::test]
async fn attachments_speak_cinders_json() {
    let mut spec = WorldSpec::z13();
    spec.cinder.noauth = true;
    let (sim, server) = served(spec).await;
    let cinder = noauth_cinder(&server);
    let v = cinder
        .create_volume(&VolumeCreate {
            size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    sim.run_until_idle();
    let base = server.endpoints().cinder.endpoint.clone();
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
        let mut r = http
            .request(method, format!("{base}/{path}"))
            .header("openstack-api-version", "volume 3.44");
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.json::<serde_json::Value>().await.unwrap_or_default();
            (status, body)
        }
    };
    let vm = "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63";
    let create = serde_json::json!({"attachment": {"volume_uuid": v, "instance_uuid": vm}});
    let (status, body) = send(
        reqwest::Method::POST,
        "attachments".into(),
        Some(create.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let a = &body["attachment"];
    assert_eq!(a["status"], "reserved");
    assert_eq!(a["attach_mode"], "null");
    assert_eq!(a["attached_at"], "");
    assert_eq!(a["detached_at"], "");
    assert_eq!(a["connection_info"], serde_json::json!({}));
    let first = a["id"].as_str().unwrap().to_owned();
    let (status, body) = send(reqwest::Method::POST, "attachments".into(), Some(create)).await;
    assert_eq!(status, 200, "the same instance reserves again: {body}");
    let second = body["attachment"]["id"].as_str().unwrap().to_owned();

    let (status, body) = send(
        reqwest::Method::DELETE,
        format!("attachments/{first}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let left = body["attachments"].as_array().unwrap();
    assert_eq!(left.len(), 1);
    let keys: Vec<&str> = left[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{body}");
    for k in ["id", "status", "instance", "volume_id"] {
        assert!(keys.contains(&k), "{body}");
    }
    assert_eq!(left[0]["id"], second.as_str());
    send(
        reqwest::Method::DELETE,
        format!("attachments/{second}"),
        None,
    )
    .await;

    // A connector the backend refuses (its WWPNs are two host objects'):
    // 500, and the reservation stays.
    for (i, wwpn) in ["c05076ffe5fffff1", "c05076ffe5fffff2"].iter().enumerate() {
        let other = cinder
            .create_volume(&VolumeCreate {
                size: 1,
                ..Default::default()
            })
            .await
            .unwrap()
            .id;
        sim.run_until_idle();
        let mut c = connector(&[]);
        c.wwpns = vec![wwpn.parse().unwrap()];
        cinder
            .create_attachment(&other, &InstanceId::from_u128(70 + i as u128), Some(&c))
            .await
            .unwrap();
    }
    let stray = serde_json::json!({"attachment": {"volume_uuid": v, "instance_uuid": vm,
        "connector": {"wwpns": ["c05076ffe5fffff1", "c05076ffe5fffff2"], "wwnns": [], "host": "h"}}});
    let (status, body) = send(reqwest::Method::POST, "attachments".into(), Some(stray)).await;
    assert_eq!(status, 500, "{body}");
    let msg = body["computeFault"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("Unable to create attachment for volume ("),
        "{body}"
    );
    let left: Vec<_> = sim
        .snapshot()
        .attachments
        .into_iter()
        .filter(|a| a.volume == v)
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, AttachStatus::Reserved);
    send(
        reqwest::Method::DELETE,
        format!("attachments/{}", left[0].id),
        None,
    )
    .await;

    // os-detach, null attachment id, nothing attached: available.
    assert!(sim.set_volume_status(&v, VolumeStatus::Detaching));
    let detach = serde_json::json!({"os-detach": {"attachment_id": null}});
    let (status, body) = send(
        reqwest::Method::POST,
        format!("volumes/{v}/action"),
        Some(detach),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Available
    );
    server.shutdown().await;
}

/// Plain GETs with a session of their own, for what HmcApi does not ask
/// (query parameters, console operations).
pub(crate) struct RawHmc {
    http: reqwest::Client,
    url: String,
    session: String,
}

impl RawHmc {
    pub(crate) async fn logon(server: &Server, password: &str) -> Self {
        // reqwest is built without a default crypto provider; a test run
        // alone may build this client before any other installs one.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let e = &server.endpoints().hmc;
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&e.ca_cert).unwrap()).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .unwrap();
        let logon: serde_json::Value = http
            .post(format!("{}/api/sessions", e.url))
            .json(&serde_json::json!({"userid": e.userid, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            http,
            url: e.url.clone(),
            session: logon["api-session"].as_str().unwrap().to_owned(),
        }
    }

    /// The status and the JSON body (null when there is none).
    pub(crate) async fn get(&self, path: String) -> (u16, serde_json::Value) {
        self.send("GET", path, None).await
    }

    /// Any method, with a JSON body or none at all (not even `{}`).
    pub(crate) async fn send(
        &self,
        method: &str,
        path: String,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("x-api-session", &self.session);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }
}
