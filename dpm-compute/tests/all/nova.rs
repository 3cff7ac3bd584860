//! The virt driver alone, driven as Nova's compute manager drives it: the
//! test plays Nova (it makes and updates the attachments with the driver's
//! connector, completes them, and on failure runs Nova's compensations),
//! and the driver talks to the HMC only.
//!
//! Boot from volume: `prepare_for_spawn` (no planned volumes, as Nova
//! calls it), then per volume `get_volume_connector`, attachment update
//! and complete, then `spawn` with the connection infos. On a failure
//! before `spawn`: `failed_spawn_cleanup`, then the attachments deleted;
//! on a failed `spawn`: `destroy`, then the attachments deleted (Nova's
//! `_shutdown_instance`). Hot attach: `get_volume_connector`, update,
//! `attach_volume`; on its failure Nova deletes the attachment.

use cinder_client::{AttachmentId, CinderApi, VolumeId};
use dpm_driver::{DriverVolume, Instance};
use dpm_sim::{Op, Side};
use rstest::rstest;

use crate::faults::{chain, fault, nothing_left, shape, KINDS};
use crate::support::{env_from, instance, Env};

/// Nova's boot of `vm` from `boot`: what it leaves in Cinder (for its
/// compensations) and how it ended.
async fn nova_boot(
    env: &Env,
    vm: &Instance,
    boot: &VolumeId,
    attachments: &mut Vec<AttachmentId>,
) -> Result<(), (bool, String)> {
    let d = env.driver.driver();
    let cinder = env.cinder();
    // The API reserves the volume before the build reaches compute.
    let a = cinder
        .create_attachment(boot, &vm.uuid, None)
        .await
        .map_err(|e| (false, e.to_string()))?;
    attachments.push(a.id.clone());
    d.prepare_for_spawn(vm, &[])
        .await
        .map_err(|e| (false, chain(&e)))?;
    let connector = d
        .get_volume_connector(vm)
        .await
        .map_err(|e| (false, chain(&e)))?;
    let a = cinder
        .update_attachment(&a.id, &connector)
        .await
        .map_err(|e| (false, e.to_string()))?;
    cinder
        .complete_attachment(&a.id)
        .await
        .map_err(|e| (false, e.to_string()))?;
    let size = cinder
        .get_volume(boot)
        .await
        .map_err(|e| (false, e.to_string()))?
        .size;
    let volume = DriverVolume {
        volume_id: boot.clone(),
        connection_info: a
            .connection_info
            .ok_or((false, "no connection info".into()))?,
        size_gib: size,
        boot_index: Some(0),
    };
    d.spawn(vm, &[volume], None)
        .await
        .map(drop)
        .map_err(|e| (true, chain(&e)))
}

/// Nova's compensation after a failed boot.
async fn nova_cleanup(env: &Env, vm: &Instance, spawned: bool, attachments: &[AttachmentId]) {
    let d = env.driver.driver();
    if spawned {
        d.destroy(&vm.uuid).await.unwrap();
    } else {
        d.failed_spawn_cleanup(&vm.uuid).await.unwrap();
    }
    for a in attachments {
        env.cinder().delete_attachment(a).await.unwrap();
    }
}

async fn ready(world: &str) -> (Env, VolumeId) {
    let env = env_from(dpm_sim::WorldSpec::named(world).unwrap(), "").await;
    let boot = env.volume("boot", true).await;
    (env, boot)
}

/// Every HMC request of a Nova boot, failed in every way: with Nova's
/// compensations the world is as before, or the boot succeeded and the
/// world is as after a clean one.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_fault_at_every_request_of_a_nova_boot(#[case] world: &str) {
    let vm = instance(1);
    let (clean, boot) = ready(world).await;
    clean.sim.reset_counters();
    nova_boot(&clean, &vm, &boot, &mut Vec::new())
        .await
        .unwrap();
    let log: Vec<Op> = clean
        .sim
        .op_log()
        .into_iter()
        .filter(|o| o.side() == Side::Hmc)
        .collect();
    let clean_after = shape(&clean.sim.snapshot());
    let (mut cases, mut ok, mut undone) = (0, 0, 0);
    for (i, &req) in log.iter().enumerate() {
        let skip = log[..i].iter().filter(|o| **o == req).count() as u32;
        for kind in KINDS {
            let Some(f) = fault(kind, req) else { continue };
            let (env, boot) = ready(world).await;
            let before = shape(&env.sim.snapshot());
            env.sim.fail_after(req, skip, 1, f);
            let what = format!("{world}: {kind:?} at request {i} ({req})");
            cases += 1;
            let mut attachments = Vec::new();
            match nova_boot(&env, &vm, &boot, &mut attachments).await {
                Ok(()) => {
                    ok += 1;
                    assert_eq!(shape(&env.sim.snapshot()), clean_after, "{what}");
                }
                Err((spawned, e)) => {
                    env.sim.clear_faults();
                    nova_cleanup(&env, &vm, spawned, &attachments).await;
                    undone += 1;
                    let after = env.sim.snapshot();
                    assert!(nothing_left(&after), "{what}: {e}: {after:?}");
                    assert_eq!(shape(&after), before, "{what}: {e}");
                }
            }
        }
    }
    println!("{world}: {cases} cases of a Nova boot: {ok} booted as a clean run, {undone} failed and Nova's compensations left the world as before");
    assert!(cases > 40, "{cases}");
}

/// Hot attach in Nova's order, every HMC request failed: the volume is
/// attached as in a clean run, or, after Nova deletes the attachment, the
/// world is as before the attach.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn a_fault_at_every_request_of_a_nova_attach(#[case] world: &str) {
    async fn setup(world: &str) -> (Env, Instance, VolumeId) {
        let (env, boot) = ready(world).await;
        let vm = instance(1);
        nova_boot(&env, &vm, &boot, &mut Vec::new()).await.unwrap();
        let data = env.volume("data", false).await;
        (env, vm, data)
    }
    async fn attach(
        env: &Env,
        vm: &Instance,
        data: &VolumeId,
        made: &mut Option<AttachmentId>,
    ) -> Result<(), String> {
        let d = env.driver.driver();
        let a = env
            .cinder()
            .create_attachment(data, &vm.uuid, None)
            .await
            .map_err(|e| e.to_string())?;
        *made = Some(a.id.clone());
        let connector = d.get_volume_connector(vm).await.map_err(|e| chain(&e))?;
        let a = env
            .cinder()
            .update_attachment(&a.id, &connector)
            .await
            .map_err(|e| e.to_string())?;
        let v = DriverVolume {
            volume_id: data.clone(),
            connection_info: a.connection_info.ok_or("no connection info")?,
            size_gib: 10,
            boot_index: None,
        };
        d.attach_volume(&vm.uuid, &v, None)
            .await
            .map_err(|e| chain(&e))?;
        env.cinder()
            .complete_attachment(&a.id)
            .await
            .map_err(|e| e.to_string())
    }
    let (clean, vm, data) = setup(world).await;
    clean.sim.reset_counters();
    attach(&clean, &vm, &data, &mut None).await.unwrap();
    let log: Vec<Op> = clean
        .sim
        .op_log()
        .into_iter()
        .filter(|o| o.side() == Side::Hmc)
        .collect();
    let clean_after = shape(&clean.sim.snapshot());
    let mut cases = 0;
    for (i, &req) in log.iter().enumerate() {
        let skip = log[..i].iter().filter(|o| **o == req).count() as u32;
        for kind in KINDS {
            let Some(f) = fault(kind, req) else { continue };
            let (env, vm, data) = setup(world).await;
            let before = shape(&env.sim.snapshot());
            env.sim.fail_after(req, skip, 1, f);
            let what = format!("{world}: {kind:?} at request {i} ({req})");
            cases += 1;
            let mut made = None;
            match attach(&env, &vm, &data, &mut made).await {
                Ok(()) => assert_eq!(shape(&env.sim.snapshot()), clean_after, "{what}"),
                Err(e) => {
                    env.sim.clear_faults();
                    if let Some(a) = made {
                        env.cinder().delete_attachment(&a).await.unwrap();
                    }
                    assert_eq!(shape(&env.sim.snapshot()), before, "{what}: {e}");
                }
            }
        }
    }
    println!("{world}: {cases} cases of a Nova attach");
    assert!(cases > 10, "{cases}");
}

/// `get_volume_connector` makes what it needs (Nova's rebuild and unshelve
/// call it without `prepare_for_spawn`), gives the same WWPNs twice in a
/// row, and makes them anew after `destroy`.
#[rstest]
#[case::z13("z13")]
#[case::z16("z16")]
#[tokio::test(start_paused = true)]
async fn get_volume_connector_ensures_and_is_idempotent(#[case] world: &str) {
    let (env, _) = ready(world).await;
    let d = env.driver.driver();
    let vm = instance(1);
    let first = d.get_volume_connector(&vm).await.unwrap();
    assert_eq!(first.wwpns.len(), 2);
    let s = env.sim.snapshot();
    assert_eq!(s.partitions.len(), 1, "the partition was made");
    assert_eq!(s.partitions[0].status.as_str(), "stopped");
    assert_eq!(
        s.hbas.len() + s.storage_groups.len(),
        if world == "z13" { 2 } else { 1 }
    );
    env.sim.reset_counters();
    let again = d.get_volume_connector(&vm).await.unwrap();
    assert_eq!(again.wwpns, first.wwpns);
    assert_eq!(env.sim.snapshot(), s, "nothing was made the second time");
    assert!(
        !env.sim.op_log().iter().any(|o| matches!(
            o,
            Op::CreatePartition | Op::CreateHba | Op::CreateStorageGroup
        )),
        "{:?}",
        env.sim.op_log()
    );
    d.destroy(&vm.uuid).await.unwrap();
    assert!(nothing_left(&env.sim.snapshot()));
    let after = d.get_volume_connector(&vm).await.unwrap();
    assert_eq!(after.wwpns.len(), 2);
    assert_eq!(env.sim.snapshot().partitions.len(), 1);
    d.failed_spawn_cleanup(&vm.uuid).await.unwrap();
    d.failed_spawn_cleanup(&vm.uuid).await.unwrap();
    assert!(nothing_left(&env.sim.snapshot()));
}
