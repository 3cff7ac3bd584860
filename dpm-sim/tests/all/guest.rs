//! "Send OS Command" and the guest that honours it: refused unless the
//! operating system runs, echoed into the OS messages, a shutdown command
//! halts the guest (`terminated`) after the world's guest shutdown time, a
//! stop cancels the halt, a hung guest ignores it. In memory, and over
//! HTTPS with the knob on the control route.

use std::time::Duration;

use dpm_sim::{Op, ServeConfig, Sim, WorldSpec};
use hmc_client::{HmcApi, OsMessage, OsMessageFilter, PartitionStatus as S, PartitionUri};

use crate::conformance::{http_hmc, state_dir, RawHmc};
use crate::support::props;

/// How a test makes a guest hung or responsive again.
#[async_trait::async_trait]
trait Knob: Sync {
    async fn responsive(&self, p: &PartitionUri, on: bool) -> bool;
}

struct InMemory<'a>(&'a Sim);

#[async_trait::async_trait]
impl Knob for InMemory<'_> {
    async fn responsive(&self, p: &PartitionUri, on: bool) -> bool {
        self.0.set_guest_responsive(p, on)
    }
}

struct Control(String);

#[async_trait::async_trait]
impl Knob for Control {
    async fn responsive(&self, p: &PartitionUri, on: bool) -> bool {
        let r = reqwest::Client::new()
            .post(format!("{}/sim/guest", self.0))
            .json(&serde_json::json!({"partition": p, "responsive": on}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            204 => true,
            404 => false,
            other => panic!("POST /sim/guest answered {other}"),
        }
    }
}

async fn log(hmc: &dyn HmcApi, p: &PartitionUri) -> Vec<OsMessage> {
    hmc.list_os_messages(p, &OsMessageFilter::default())
        .await
        .unwrap()
        .os_messages
}

fn texts(messages: &[OsMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.message_text.as_str()).collect()
}

async fn status(hmc: &dyn HmcApi, p: &PartitionUri) -> S {
    hmc.get_partition(p).await.unwrap().status
}

async fn guest_contract(hmc: &dyn HmcApi, sim: &Sim, knob: &dyn Knob) {
    hmc.logon().await.unwrap();
    let shutdown = Duration::from_millis(sim.spec().timings.guest_shutdown_ms);
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("guest", 2, 2048))
        .await
        .unwrap();
    // No operating system runs in a stopped partition, nor in a starting one.
    let e = hmc
        .send_os_command(&p, "shutdown -h now", false)
        .await
        .unwrap_err();
    assert!(e.is(409, 1), "{e}");
    hmc.start_partition(&p).await.unwrap();
    let e = hmc.send_os_command(&p, "ls", false).await.unwrap_err();
    assert!(e.is(409, 1), "{e}");
    assert!(log(hmc, &p).await.is_empty(), "a refusal writes nothing");
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Active);
    let booted = log(hmc, &p).await.len();

    // Any command is echoed; one that is not a shutdown does nothing more.
    hmc.send_os_command(&p, "uname -a", false).await.unwrap();
    let l = log(hmc, &p).await;
    assert_eq!(l.len(), booted + 1);
    assert!(l[booted].message_text.ends_with("# uname -a"), "{l:?}");
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Active);

    // A hung guest echoes a shutdown and goes on running.
    assert!(knob.responsive(&p, false).await);
    hmc.send_os_command(&p, "shutdown -h now", false)
        .await
        .unwrap();
    let l = log(hmc, &p).await;
    assert_eq!(l.len(), booted + 2, "{:?}", texts(&l));
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Active);

    // A responsive one writes its shutdown lines at once, and halts after
    // the guest shutdown time: terminated, its resources still held.
    assert!(knob.responsive(&p, true).await);
    let memory = sim.memory_held_mib();
    hmc.send_os_command(&p, "shutdown -h now", false)
        .await
        .unwrap();
    let l = log(hmc, &p).await;
    let t = texts(&l[booted + 2..]);
    assert!(t[0].ends_with("# shutdown -h now"), "{t:?}");
    assert!(t.iter().any(|x| x.contains("Stopping")), "{t:?}");
    assert!(!t.contains(&"reboot: Power down"), "{t:?}");
    // A second shutdown while it goes down is echoed, nothing more.
    hmc.send_os_command(&p, "poweroff", false).await.unwrap();
    assert_eq!(log(hmc, &p).await.len(), l.len() + 1);
    sim.advance(shutdown / 2);
    assert_eq!(status(hmc, &p).await, S::Active, "still going down");
    sim.advance(shutdown);
    assert_eq!(status(hmc, &p).await, S::Terminated);
    assert_eq!(sim.memory_held_mib(), memory);
    let l = log(hmc, &p).await;
    assert_eq!(
        texts(&l[l.len() - 2..]),
        ["systemd-shutdown[1]: Powering off.", "reboot: Power down"]
    );
    let numbers: Vec<u64> = l.iter().map(|m| m.sequence_number).collect();
    assert_eq!(numbers, (1..=l.len() as u64).collect::<Vec<_>>());
    // A halted guest takes no command; Stop Partition stops it.
    let e = hmc.send_os_command(&p, "ls", false).await.unwrap_err();
    assert!(e.is(409, 1), "{e}");
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Stopped);
    assert_eq!(sim.memory_held_mib(), 0);

    // A stop while the guest goes down cancels the halt.
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    hmc.send_os_command(&p, "halt", true).await.unwrap();
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    assert_eq!(status(hmc, &p).await, S::Stopped);
    assert!(!texts(&log(hmc, &p).await).contains(&"reboot: System halted"));
    // ... and the next run is not halted by it.
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    sim.advance(shutdown * 2);
    assert_eq!(status(hmc, &p).await, S::Active);
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();

    // Gone with the partition.
    hmc.delete_partition(&p).await.unwrap();
    assert!(hmc
        .send_os_command(&p, "ls", false)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(!knob.responsive(&p, true).await, "no such partition");
    assert_eq!(sim.counters().get(Op::SendOsCommand), 9);
}

#[tokio::test]
async fn send_os_command_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    guest_contract(&sim.hmc(), &sim, &InMemory(&sim)).await;
}

#[tokio::test]
async fn send_os_command_over_https_and_the_control_route() {
    let sim = Sim::stepped(WorldSpec::z13()).unwrap();
    let mut cfg = ServeConfig::any_ports(state_dir());
    cfg.control_port = Some(0);
    let server = sim.serve(&cfg).await.unwrap();
    let hmc = http_hmc(&server, &sim.spec().hmc.password);
    let ctl = server.endpoints().control.clone().unwrap().url;
    guest_contract(&hmc, &sim, &Control(ctl)).await;

    // The wire: zhmcclient's body, 204 and no content; a body without the
    // command or with a field the operation does not take is 400.
    let raw = RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("wire", 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let at = format!("{p}/operations/send-os-cmd");
    let (code, body) = raw
        .send(
            "POST",
            at.clone(),
            Some(serde_json::json!({
                "is-priority": false,
                "operating-system-command-text": "date",
            })),
        )
        .await;
    assert_eq!((code, body), (204, serde_json::Value::Null));
    for bad in [
        serde_json::json!({"is-priority": false}),
        serde_json::json!({"operating-system-command-text": "date", "timeout": 3}),
    ] {
        let (code, e) = raw.send("POST", at.clone(), Some(bad)).await;
        assert_eq!(code, 400, "{e}");
    }
    let echoed = texts(&log(&hmc, &p).await)
        .iter()
        .filter(|t| t.ends_with("# date"))
        .count();
    assert_eq!(echoed, 1);
    server.shutdown().await;
}

/// The halt is announced as any status change.
#[tokio::test]
async fn a_halted_guest_is_announced() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    let hmc = sim.hmc();
    hmc.logon().await.unwrap();
    let mut notices = sim.notices();
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("announced", 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    hmc.send_os_command(&p, "init 0", false).await.unwrap();
    sim.run_until_idle();
    // A request releases the world, which publishes.
    assert_eq!(status(&hmc, &p).await, S::Terminated);
    let mut seen = Vec::new();
    while let Ok(n) = notices.try_recv() {
        if n.header("notification-type") == Some("status-change")
            && n.header("object-uri") == Some(p.as_str())
        {
            let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
            seen.push(body["change-reports"][0]["new-status"].clone());
        }
    }
    assert_eq!(
        seen.last(),
        Some(&serde_json::json!("terminated")),
        "{seen:?}"
    );
}
