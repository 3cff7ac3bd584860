//! Following the guest's console (`DpmDriver::follow_console`): the boot
//! lines the partition has, then each line the guest writes as it writes
//! it (a clean shutdown's), in order and none twice, until the partition is
//! deleted; a notification connection that drops loses nothing. On both
//! models, on tokio's paused clock, each asserting the world (the
//! partition's log, requests).

use std::time::Duration;

use dpm_driver::{ConsoleFollow, FollowError, PowerOff};
use dpm_sim::{Op, SimHmc, WorldSpec};
use hmc_client::{HmcApi, OsMessage, PartitionUri};
use rstest::rstest;

use crate::support::{boot_from, env_from, instance, Env};

const SECOND: Duration = Duration::from_secs(1);

/// A running instance on the named world, and its partition.
async fn running(world: &str) -> (Env, dpm_driver::Instance, PartitionUri) {
    let env = env_from(WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    (env, vm, s.partition)
}

/// Messages from the follow until one reads `last`.
async fn until(follow: &mut ConsoleFollow<'_, SimHmc>, last: &str) -> Vec<OsMessage> {
    let mut got = Vec::new();
    loop {
        let m = follow
            .next()
            .await
            .unwrap()
            .expect("the partition is there");
        let done = m.message_text == last;
        got.push(m);
        if done {
            return got;
        }
    }
}

/// Every message the partition holds, in order.
async fn log(env: &Env, vm: &dpm_driver::Instance) -> Vec<OsMessage> {
    env.driver.console_messages(&vm.uuid, None).await.unwrap()
}

fn numbers(ms: &[OsMessage]) -> Vec<u64> {
    ms.iter().map(|m| m.sequence_number).collect()
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_followed_console_shows_the_boot_then_the_shutdown_once_each(#[case] world: &str) {
    let (env, vm, _p) = running(world).await;
    let booted = log(&env, &vm).await;
    let login = booted.last().unwrap().message_text.clone();
    env.sim.reset_counters();
    let d = env.driver.driver();
    let mut follow = d.follow_console(&vm.uuid, None).await.unwrap();
    // Requests to begin: the lookup (one list, and on the z13's API 2.x the
    // partition read), the channel, one read of what is there.
    let c = env.sim.counters();
    assert_eq!(c.get(Op::OpenOsMessageChannel), 1);
    assert_eq!(c.get(Op::ListOsMessages), 1);
    let lookup = c.get(Op::ListPartitions) + c.get(Op::GetPartition);
    assert_eq!(c.requests(dpm_sim::Side::Hmc), 2 + lookup);
    assert_eq!(until(&mut follow, &login).await, booted);

    // A clean shutdown while following: its lines arrive as the guest
    // writes them.
    env.sim.reset_counters();
    let (out, seen) = tokio::join!(
        env.driver
            .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, 10 * SECOND)),
        until(&mut follow, "reboot: Power down"),
    );
    assert_eq!(out.unwrap(), dpm_driver::GuestShutdown::Clean);
    assert!(
        seen[0].message_text.ends_with("# shutdown -h now"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|m| m.message_text.contains("Stopping")));
    let reads = env.sim.counters().get(Op::ListOsMessages);
    // Exactly the partition's log after the boot: in order, none twice,
    // none skipped; no read of the log was needed for them.
    let all = log(&env, &vm).await;
    assert_eq!(seen, all[booted.len()..]);
    assert_eq!(
        numbers(&all),
        (1..=all.len() as u64).collect::<Vec<_>>(),
        "numbered without a gap"
    );
    assert_eq!(reads, 0);
    assert_eq!(follow.reconnects(), 0);

    // The partition is deleted: the follow ends.
    env.driver.destroy(&vm.uuid).await.unwrap();
    assert!(follow.next().await.unwrap().is_none());
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_dropped_notification_connection_loses_no_message(#[case] world: &str) {
    let (env, vm, p) = running(world).await;
    let booted = log(&env, &vm).await;
    let d = env.driver.driver();
    let mut follow = d.follow_console(&vm.uuid, None).await.unwrap();
    let login = booted.last().unwrap().message_text.clone();
    until(&mut follow, &login).await;

    // The connection drops, and a line is written while nobody listens.
    env.sim.drop_notification_connections();
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
    let hmc = env.sim.hmc();
    hmc.logon().await.unwrap();
    hmc.send_os_command(&p, "uname -a", false).await.unwrap();
    env.sim.reset_counters();
    let (out, seen) = tokio::join!(
        env.driver
            .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, 10 * SECOND)),
        until(&mut follow, "reboot: Power down"),
    );
    out.unwrap();
    let reads = env.sim.counters().get(Op::ListOsMessages);
    assert!(seen[0].message_text.ends_with("# uname -a"), "{seen:?}");
    let all = log(&env, &vm).await;
    assert_eq!(seen, all[booted.len()..], "every line once, in order");
    assert_eq!(follow.reconnects(), 1);
    // One read of the log when subscribed again.
    assert_eq!(reads, 1);
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_stopped_instance_cannot_be_followed(#[case] world: &str) {
    let (env, vm, _p) = running(world).await;
    env.driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    let d = env.driver.driver();
    let e = d.follow_console(&vm.uuid, None).await.unwrap_err();
    assert!(matches!(e, FollowError::NotRunning { .. }), "{e}");
    assert!(e.is_refusal());
    let e = d.follow_console(&instance(9).uuid, None).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
