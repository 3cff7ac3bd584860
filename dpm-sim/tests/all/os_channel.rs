//! "Open OS Message Channel" and the `os-message` notifications on its
//! topic: refused for an unknown partition (404.1) and one whose operating
//! system does not run (409.1); once open, every message the guest writes
//! (an echoed command, the shutdown lines, the last lines at the halt) is
//! published on the partition's topic, in order, and the partition's
//! deletion on the session's object topic. In memory, and served (HTTPS and
//! the STOMP notification service, through `HttpHmc`).

use std::time::Duration;

use dpm_sim::{Op, Sim, WorldSpec};
use hmc_client::{
    HmcApi, OsMessage, OsMessageEvent, OsMessageFilter, OsMessageSubscription, PartitionUri,
};

use crate::support::props;

/// The next event, within a (real-time) bound that only a broken test
/// reaches.
async fn next(sub: &mut OsMessageSubscription) -> Option<OsMessageEvent> {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("an event within 20 s")
}

async fn messages(sub: &mut OsMessageSubscription) -> Vec<OsMessage> {
    match next(sub).await {
        Some(OsMessageEvent::Messages(m)) => m,
        other => panic!("expected messages, got {other:?}"),
    }
}

fn texts(m: &[OsMessage]) -> Vec<&str> {
    m.iter().map(|m| m.message_text.as_str()).collect()
}

async fn channel_contract(hmc: &dyn HmcApi, sim: &Sim) {
    hmc.logon().await.unwrap();
    let shutdown = Duration::from_millis(sim.spec().timings.guest_shutdown_ms);
    let unknown = PartitionUri::from_object_id("f0000000-0000-0000-0000-000000000000").unwrap();
    let e = hmc
        .open_os_message_channel(&unknown, false)
        .await
        .unwrap_err();
    assert!(e.is(404, 1), "{e}");
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("follow", 2, 2048))
        .await
        .unwrap();
    // No operating system runs in a stopped partition.
    let e = hmc.open_os_message_channel(&p, false).await.unwrap_err();
    assert!(e.is(409, 1), "{e}");
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let booted = hmc
        .list_os_messages(&p, &OsMessageFilter::default())
        .await
        .unwrap()
        .os_messages
        .len() as u64;
    assert!(booted > 0);

    // One topic per partition: opened again, the same.
    let topic = hmc.open_os_message_channel(&p, false).await.unwrap();
    assert_eq!(hmc.open_os_message_channel(&p, true).await.unwrap(), topic);
    let mut sub = hmc.subscribe_os_messages(&p, &topic).await.unwrap();

    hmc.send_os_command(&p, "uname -a", false).await.unwrap();
    let m = messages(&mut sub).await;
    assert_eq!(m.len(), 1, "{:?}", texts(&m));
    assert!(m[0].message_text.ends_with("# uname -a"));
    assert_eq!(m[0].sequence_number, booted + 1);

    // A shutdown: the echo and systemd's lines in one notification, then
    // the last lines when the guest halts.
    hmc.send_os_command(&p, "shutdown -h now", false)
        .await
        .unwrap();
    let m = messages(&mut sub).await;
    assert!(m[0].message_text.ends_with("# shutdown -h now"));
    assert!(texts(&m).iter().any(|t| t.contains("Stopping")));
    sim.advance(shutdown);
    let last = messages(&mut sub).await;
    assert_eq!(
        texts(&last),
        ["systemd-shutdown[1]: Powering off.", "reboot: Power down"]
    );
    // In order, none twice: exactly the partition's log after the boot.
    let log = hmc
        .list_os_messages(
            &p,
            &OsMessageFilter {
                begin: Some(booted + 1),
                ..OsMessageFilter::default()
            },
        )
        .await
        .unwrap()
        .os_messages;
    let mut seen = vec![booted + 1];
    seen.extend(m.iter().chain(&last).map(|m| m.sequence_number));
    assert_eq!(
        seen,
        log.iter().map(|m| m.sequence_number).collect::<Vec<_>>()
    );

    // A halted guest keeps its channel; the deletion is announced.
    hmc.stop_partition(&p).await.unwrap();
    sim.run_until_idle();
    let e = hmc.open_os_message_channel(&p, false).await.unwrap_err();
    assert!(e.is(409, 1), "{e}");
    hmc.delete_partition(&p).await.unwrap();
    assert_eq!(next(&mut sub).await, Some(OsMessageEvent::PartitionRemoved));
    let e = hmc.open_os_message_channel(&p, false).await.unwrap_err();
    assert!(e.is(404, 1), "{e}");
    assert_eq!(sim.counters().get(Op::OpenOsMessageChannel), 6);

    // A dropped notification connection ends a subscription.
    let q = hmc
        .create_partition(&sim.cpc_uri(), &props("dropped", 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&q).await.unwrap();
    sim.run_until_idle();
    let topic = hmc.open_os_message_channel(&q, false).await.unwrap();
    let mut sub = hmc.subscribe_os_messages(&q, &topic).await.unwrap();
    sim.drop_notification_connections();
    assert_eq!(next(&mut sub).await, None);
}

#[tokio::test]
async fn os_message_channel_in_memory() {
    let sim = Sim::stepped(WorldSpec::z16()).unwrap();
    channel_contract(&sim.hmc(), &sim).await;
    // A client without notifications cannot subscribe.
    let plain = sim.hmc().without_notifications();
    plain.logon().await.unwrap();
    let p = PartitionUri::from_object_id("f0000000-0000-0000-0000-000000000001").unwrap();
    let e = plain.subscribe_os_messages(&p, "t").await.unwrap_err();
    assert!(
        matches!(e, hmc_client::HmcError::Notifications { .. }),
        "{e}"
    );
}

#[tokio::test]
async fn os_message_channel_served() {
    let (sim, server) = crate::conformance::served(WorldSpec::z13()).await;
    let hmc = crate::conformance::http_hmc(&server, &sim.spec().hmc.password);
    channel_contract(&hmc, &sim).await;

    // The wire: zhmcclient's body and answer; a field the operation does
    // not take is 400.
    let raw = crate::conformance::RawHmc::logon(&server, &sim.spec().hmc.password).await;
    let p = hmc
        .create_partition(&sim.cpc_uri(), &props("wire", 2, 2048))
        .await
        .unwrap();
    hmc.start_partition(&p).await.unwrap();
    sim.run_until_idle();
    let at = format!("{p}/operations/open-os-message-channel");
    let (code, body) = raw
        .send(
            "POST",
            at.clone(),
            Some(serde_json::json!({"include-refresh-messages": true})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body["topic-name"].as_str().is_some_and(|t| !t.is_empty()));
    let (code, e) = raw
        .send("POST", at, Some(serde_json::json!({"refresh": true})))
        .await;
    assert_eq!(code, 400, "{e}");
    server.shutdown().await;
}
