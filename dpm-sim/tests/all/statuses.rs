//! The partition statuses a real CPC produces on its own
//! (`reservation-error`, `terminated`, `paused`, `degraded`), set through
//! `Sim::set_partition_status` in memory and through the control route
//! across HTTP, and what start, stop, delete and resize then allow.

use dpm_sim::{ServeConfig, Sim, StatusError, WorldSpec};
use hmc_client::{HmcApi, PartitionStatus as S, PartitionUpdate, PartitionUri};

use crate::conformance::{http_hmc, state_dir};
use crate::support::{assert_hmc, props};

/// How a test puts a partition in a status: in memory, or over the
/// control route. Both answer the same result.
#[async_trait::async_trait]
trait SetStatus: Sync {
    async fn set(&self, p: &PartitionUri, s: S) -> Result<(), u16>;
}

struct InMemory<'a>(&'a Sim);

#[async_trait::async_trait]
impl SetStatus for InMemory<'_> {
    async fn set(&self, p: &PartitionUri, s: S) -> Result<(), u16> {
        self.0.set_partition_status(p, s).map_err(|e| match e {
            StatusError::NoPartition(_) => 404,
            StatusError::NotSettable(_) => 400,
            _ => 409,
        })
    }
}

struct Control(String);

#[async_trait::async_trait]
impl SetStatus for Control {
    async fn set(&self, p: &PartitionUri, s: S) -> Result<(), u16> {
        let r = reqwest::Client::new()
            .post(format!("{}/sim/partition-status", self.0))
            .json(&serde_json::json!({"partition": p, "status": s}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            204 => Ok(()),
            other => Err(other),
        }
    }
}

async fn running(hmc: &dyn HmcApi, sim: &Sim, name: &str) -> PartitionUri {
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props(name, 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Active);
    p
}

async fn status(hmc: &dyn HmcApi, p: &PartitionUri) -> S {
    hmc.get_partition(p).await.unwrap().status
}

async fn statuses_contract(hmc: &dyn HmcApi, sim: &Sim, set: &dyn SetStatus) {
    hmc.logon().await.unwrap();
    let cpc = sim.cpc_uri();
    let resize = PartitionUpdate {
        ifl_processors: Some(1),
        ..PartitionUpdate::default()
    };

    // reservation-error: from stopped; no resources. Stop is refused, a
    // resize, a start and a delete are allowed as from stopped.
    let p = hmc
        .create_partition(&cpc, &props("resv", 2, 2048))
        .await
        .unwrap();
    set.set(&p, S::ReservationError).await.unwrap();
    assert_eq!(status(hmc, &p).await, S::ReservationError);
    assert_eq!(sim.memory_held_mib(), 0);
    let before = sim.snapshot();
    assert_hmc(hmc.stop_partition(&p).await, 409, 1);
    assert_eq!(sim.snapshot(), before, "a refusal changes nothing");
    hmc.update_partition(&p, &resize).await.unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Active);
    assert_eq!(sim.memory_held_mib(), 2048);
    // Not from a running partition.
    assert_eq!(set.set(&p, S::ReservationError).await, Err(409));
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    set.set(&p, S::ReservationError).await.unwrap();
    hmc.delete_partition(&p).await.unwrap();
    assert!(hmc.get_partition(&p).await.unwrap_err().is_not_found());

    // terminated and paused: the guest stopped, the resources stay. Start,
    // delete and resize are refused; stop is allowed.
    for s in [S::Terminated, S::Paused] {
        let p = running(hmc, sim, &format!("halt-{s}")).await;
        set.set(&p, s.clone()).await.unwrap();
        assert_eq!(status(hmc, &p).await, s);
        assert_eq!(sim.memory_held_mib(), 2048, "{s} keeps its memory");
        let before = sim.snapshot();
        assert_hmc(hmc.start_partition(&p).await, 409, 1);
        assert_hmc(hmc.delete_partition(&p).await, 409, 1);
        assert_hmc(hmc.update_partition(&p, &resize).await, 409, 1);
        assert_eq!(sim.snapshot(), before, "refusals change nothing");
        hmc.stop_partition(&p).await.unwrap();
        sim.run_until_idle();
        assert_eq!(status(hmc, &p).await, S::Stopped);
        assert_eq!(sim.memory_held_mib(), 0);
        hmc.delete_partition(&p).await.unwrap();
    }

    // degraded: still running; back to active, or stopped.
    let p = running(hmc, sim, "degraded").await;
    set.set(&p, S::Degraded).await.unwrap();
    assert_eq!(status(hmc, &p).await, S::Degraded);
    assert_hmc(hmc.start_partition(&p).await, 409, 1);
    set.set(&p, S::Active).await.unwrap();
    set.set(&p, S::Degraded).await.unwrap();
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Stopped);

    // Refusals: not from there, not settable, no such partition; each
    // changes nothing.
    let before = sim.snapshot();
    assert_eq!(set.set(&p, S::Terminated).await, Err(409));
    assert_eq!(set.set(&p, S::Degraded).await, Err(409));
    assert_eq!(set.set(&p, S::Active).await, Err(409));
    for s in [S::Starting, S::Stopping, S::Stopped, S::StatusCheck] {
        assert_eq!(set.set(&p, s).await, Err(400));
    }
    hmc.delete_partition(&p).await.unwrap();
    let gone = sim.snapshot();
    assert_eq!(set.set(&p, S::ReservationError).await, Err(404));
    assert_eq!(sim.snapshot(), gone);
    assert_ne!(before, gone);
}

#[tokio::test]
async fn partition_statuses_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    statuses_contract(&sim.hmc(), &sim, &InMemory(&sim)).await;
}

#[tokio::test]
async fn partition_statuses_over_https_and_the_control_route() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    let mut cfg = ServeConfig::any_ports(state_dir());
    cfg.control_port = Some(0);
    let server = sim.serve(&cfg).await.unwrap();
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    let ctl = server.endpoints().control.clone().unwrap().url;
    statuses_contract(&hmc, &sim, &Control(ctl.clone())).await;
    // A body that is not a partition status is 400.
    let r = reqwest::Client::new()
        .post(format!("{ctl}/sim/partition-status"))
        .json(&serde_json::json!({"partition": "/api/partitions/x", "status": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    server.shutdown().await;
}

/// A status the CPC sets is announced as the HMC announces a status
/// change: on every session's object topic.
#[tokio::test]
async fn a_status_the_cpc_sets_is_announced() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let hmc = sim.hmc();
    let logon = hmc.logon().await.unwrap();
    let mut notices = sim.notices();
    let p = running(&hmc, &sim, "announced").await;
    while notices.try_recv().is_ok() {}
    sim.set_partition_status(&p, S::Terminated).unwrap();
    let mut seen = Vec::new();
    while let Ok(n) = notices.try_recv() {
        if n.header("notification-type") == Some("status-change")
            && n.header("object-uri") == Some(p.as_str())
        {
            assert_eq!(n.topic, logon.notification_topic);
            let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
            seen.push(body["change-reports"][0]["new-status"].clone());
        }
    }
    assert_eq!(seen, vec![serde_json::json!("terminated")]);
}
