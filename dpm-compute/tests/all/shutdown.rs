//! A clean guest shutdown before a stop (Nova's `power_off(instance,
//! timeout, retry_interval)`, a soft reboot): the guest is sent
//! `guest_shutdown_command`, halts by itself (`terminated`), and the
//! partition is then stopped; a hung guest is stopped under it after the
//! timeout; a zero timeout stops at once. On both models, on tokio's paused
//! clock, each asserting the world (statuses, OS messages, requests).

use std::time::Duration;

use dpm_driver::{GuestShutdown, PowerError, PowerOff, RebootKind};
use dpm_sim::{Fault, Op, Side, WorldSpec};
use hmc_client::{PartitionStatus as S, PartitionUri};
use rstest::rstest;

use crate::support::{boot_from, env_from, instance, Env};

const SECOND: Duration = Duration::from_secs(1);

/// A running instance on the named world, and its partition.
async fn running(world: &str, extra: &str) -> (Env, dpm_driver::Instance, PartitionUri) {
    let env = env_from(WorldSpec::named(world).unwrap(), extra).await;
    let boot = env.volume("boot", true).await;
    let vm = instance(1);
    let s = env.driver.spawn(&vm, &boot_from(&boot)).await.unwrap();
    (env, vm, s.partition)
}

/// The partition reads finding an instance takes: none where the HMC lists
/// the description (API 4.1 and later), else one.
fn find_reads(env: &Env) -> u64 {
    let v = &env.sim.spec().hmc.api_version;
    let (major, minor) = v.split_once('.').unwrap();
    let (major, minor): (u32, u32) = (major.parse().unwrap(), minor.parse().unwrap());
    u64::from((major, minor) < (4, 1))
}

fn status(env: &Env, p: &PartitionUri) -> S {
    let snap = env.sim.snapshot();
    snap.partitions
        .iter()
        .find(|x| &x.uri == p)
        .map(|x| x.status.clone())
        .unwrap()
}

async fn messages(env: &Env, vm: &dpm_driver::Instance) -> Vec<String> {
    env.driver
        .console_messages(&vm.uuid, None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_text)
        .collect()
}

/// The statuses announced for `p`, in order, from what `rx` received.
fn announced(
    rx: &mut tokio::sync::broadcast::Receiver<dpm_sim::Notice>,
    p: &PartitionUri,
) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(n) = rx.try_recv() {
        if n.header("notification-type") == Some("status-change")
            && n.header("object-uri") == Some(p.as_str())
        {
            let body: serde_json::Value = serde_json::from_str(&n.body).unwrap();
            seen.push(
                body["change-reports"][0]["new-status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    seen
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_guest_that_shuts_down_is_terminated_then_stopped(#[case] world: &str) {
    let (env, vm, p) = running(world, "").await;
    let booted = messages(&env, &vm).await.len();
    let mut notices = env.sim.notices();
    env.sim.reset_counters();
    let began = tokio::time::Instant::now();
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, 10 * SECOND))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::Clean);
    let c = env.sim.counters();
    assert_eq!(status(&env, &p), S::Stopped);
    assert_eq!(env.sim.memory_held_mib(), 0);
    // The guest halted by itself first, then Stop Partition stopped it.
    assert_eq!(
        announced(&mut notices, &p),
        ["terminated", "stopping", "stopped"]
    );
    // Well within the timeout: the guest's shutdown time and a poll.
    let shutdown = Duration::from_millis(env.sim.spec().timings.guest_shutdown_ms);
    let took = began.elapsed();
    assert!(took >= shutdown && took < shutdown + 3 * SECOND, "{took:?}");
    // The guest's console: the command echoed, systemd going down, the
    // kernel's last word.
    let log = messages(&env, &vm).await;
    let tail = &log[booted..];
    assert!(tail[0].ends_with("# shutdown -h now"), "{tail:?}");
    assert!(tail.iter().any(|l| l.contains("Stopping")), "{tail:?}");
    assert_eq!(tail.last().map(String::as_str), Some("reboot: Power down"));
    // Requests: find, the command, the status reads, the stop (and its
    // job, counted apart); no resend before the guest halted.
    let reads = c.get(Op::GetPartition) - find_reads(&env);
    assert_eq!(c.get(Op::ListPartitions), 1);
    assert_eq!(c.get(Op::SendOsCommand), 1);
    assert_eq!(c.get(Op::StopPartition), 1);
    assert_eq!(reads, 4, "one a second until the guest halted (4 s)");
    assert_eq!(c.requests(Side::Hmc), 3 + find_reads(&env) + reads);
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_hung_guest_is_stopped_after_the_timeout(#[case] world: &str) {
    let (env, vm, p) = running(world, "").await;
    assert!(env.sim.set_guest_responsive(&p, false));
    env.sim.reset_counters();
    let began = tokio::time::Instant::now();
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(30 * SECOND, 10 * SECOND))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::TimedOut);
    let took = began.elapsed();
    assert!(took >= 30 * SECOND && took < 33 * SECOND, "{took:?}");
    assert_eq!(status(&env, &p), S::Stopped);
    assert_eq!(env.sim.memory_held_mib(), 0);
    // Sent at 0, 10 and 20 s (not at the deadline), each echoed, none
    // honoured.
    assert_eq!(env.sim.counters().get(Op::SendOsCommand), 3);
    let log = messages(&env, &vm).await;
    assert_eq!(
        log.iter()
            .filter(|l| l.ends_with("# shutdown -h now"))
            .count(),
        3
    );
    assert!(!log.iter().any(|l| l.starts_with("reboot:")), "{log:?}");
}

/// Nova's retry_interval: a guest that misses the first command (here it
/// hangs for 5 s) halts on a resend.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_guest_that_missed_the_command_halts_on_a_resend(#[case] world: &str) {
    let (env, vm, p) = running(world, "").await;
    assert!(env.sim.set_guest_responsive(&p, false));
    env.sim.reset_counters();
    let wake = async {
        tokio::time::sleep(5 * SECOND).await;
        assert!(env.sim.set_guest_responsive(&p, true));
    };
    let (out, ()) = tokio::join!(
        env.driver
            .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, 10 * SECOND)),
        wake
    );
    assert_eq!(out.unwrap(), GuestShutdown::Clean);
    assert_eq!(env.sim.counters().get(Op::SendOsCommand), 2);
    assert_eq!(status(&env, &p), S::Stopped);
    let log = messages(&env, &vm).await;
    assert_eq!(log.last().map(String::as_str), Some("reboot: Power down"));
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_zero_timeout_stops_at_once(#[case] world: &str) {
    let (env, vm, p) = running(world, "").await;
    let before = messages(&env, &vm).await;
    env.sim.reset_counters();
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::IMMEDIATE)
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::NotAsked);
    assert_eq!(status(&env, &p), S::Stopped);
    let c = env.sim.counters();
    assert_eq!(c.get(Op::SendOsCommand), 0);
    assert_eq!(c.get(Op::GetPartition), find_reads(&env));
    assert_eq!(c.requests(Side::Hmc), 2 + find_reads(&env), "find and stop");
    assert_eq!(messages(&env, &vm).await, before, "the guest was not asked");
    // An instance already stopped: the command is refused, nothing waits.
    env.sim.reset_counters();
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::NotRunning);
    assert_eq!(env.sim.counters().get(Op::SendOsCommand), 1);
    assert_eq!(status(&env, &p), S::Stopped);
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_refused_command_falls_through_to_the_stop(#[case] world: &str) {
    // A guest in disabled wait: the HMC refuses the command (409.1).
    let (env, vm, p) = running(world, "").await;
    env.sim.set_partition_status(&p, S::Paused).unwrap();
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::NotRunning);
    assert_eq!(status(&env, &p), S::Stopped);

    // The partition changed status between the find and the command.
    env.driver.power_on(&vm.uuid).await.unwrap();
    env.sim
        .fail_next(Op::SendOsCommand, 1, Fault::new(409, 1, "not running"));
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::NotRunning);
    assert_eq!(status(&env, &p), S::Stopped);

    // Another failure of the command is the power_off's: nothing stopped.
    env.driver.power_on(&vm.uuid).await.unwrap();
    env.sim
        .fail_next(Op::SendOsCommand, 1, Fault::new(500, 0, "internal"));
    let err = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PowerError::SendOsCommand { partition, .. } if partition == &p),
        "{err:?}"
    );
    assert_eq!(status(&env, &p), S::Active);

    // A reply lost after the command took effect: the status is watched
    // as usual.
    env.sim.fail_next(Op::SendOsCommand, 1, Fault::lost_reply());
    let out = env
        .driver
        .power_off(&vm.uuid, PowerOff::clean(60 * SECOND, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(out, GuestShutdown::Clean);
    assert_eq!(status(&env, &p), S::Stopped);
}

#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_soft_reboot_asks_the_guest_and_a_hard_one_does_not(#[case] world: &str) {
    let (env, vm, p) = running(world, "guest_shutdown_command = \"poweroff\"").await;
    let booted = messages(&env, &vm).await.len();
    let soft = RebootKind::Soft(PowerOff::clean(60 * SECOND, Duration::ZERO));
    assert_eq!(
        env.driver.reboot(&vm.uuid, soft).await.unwrap(),
        GuestShutdown::Clean
    );
    assert_eq!(status(&env, &p), S::Active);
    let log = messages(&env, &vm).await;
    assert!(
        log[booted].ends_with("# poweroff"),
        "the configured command"
    );
    let down = log.iter().position(|l| l == "reboot: Power down").unwrap();
    assert!(
        log[down..].iter().any(|l| l.contains("login:")),
        "booted again after the halt"
    );

    env.sim.reset_counters();
    assert_eq!(
        env.driver.reboot(&vm.uuid, RebootKind::Hard).await.unwrap(),
        GuestShutdown::NotAsked
    );
    assert_eq!(env.sim.counters().get(Op::SendOsCommand), 0);
    assert_eq!(status(&env, &p), S::Active);
}
