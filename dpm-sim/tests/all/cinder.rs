//! Cinder's volume and attachment status machines and their refusals.

use cinder_client::{
    AttachStatus, AttachmentFilter, CinderApi, InstanceId, VolumeCreate, VolumeStatus,
};
use dpm_sim::WorldSpec;

use crate::support::{assert_cinder, connector, world, world_from};

#[tokio::test]
async fn volume_create_and_delete() {
    let w = world().await;
    let v = w
        .cinder
        .create_volume(&VolumeCreate {
            size: 5,
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert_eq!(v.status, VolumeStatus::Creating);
    // A creating volume cannot be attached or deleted.
    assert_cinder(
        w.cinder
            .create_attachment(&v.id, &InstanceId::from_u128(1), None)
            .await,
        400,
    );
    assert_cinder(w.cinder.delete_volume(&v.id).await, 400);
    w.sim.run_until_idle();
    assert_eq!(
        w.cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Available
    );
    w.cinder.delete_volume(&v.id).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Deleting
    );
    w.sim.run_until_idle();
    assert_cinder(w.cinder.get_volume(&v.id).await, 404);
    assert_cinder(w.cinder.create_volume(&VolumeCreate::default()).await, 400);
}

#[tokio::test]
async fn attachments_api_full_cycle() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let v = w.volume(true).await;
    let vm = InstanceId::from_u128(1);

    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    assert_eq!(a.status, AttachStatus::Reserved);
    assert_eq!(a.connection_info, None);
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Reserved
    );
    // Completing before a connector was given is refused.
    assert_cinder(w.cinder.complete_attachment(&a.id).await, 400);
    // A second attachment on a reserved volume is refused (no multiattach).
    assert_cinder(
        w.cinder
            .create_attachment(&v, &InstanceId::from_u128(2), None)
            .await,
        400,
    );

    let a = w
        .cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    assert_eq!(a.status, AttachStatus::Attaching);
    assert!(a.connection_info.is_some());
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Attaching
    );
    assert_eq!(w.sim.hosts().len(), 1);
    // Updating twice is refused.
    assert_cinder(
        w.cinder.update_attachment(&a.id, &connector(&hbas)).await,
        400,
    );

    w.cinder.complete_attachment(&a.id).await.unwrap();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::InUse);
    assert_eq!(vol.attachments.len(), 1);
    assert_eq!(vol.attachments[0].server_id, Some(vm.clone()));
    assert_eq!(
        w.cinder.get_attachment(&a.id).await.unwrap().status,
        AttachStatus::Attached
    );
    let mine = w
        .cinder
        .list_attachments(&AttachmentFilter {
            instance_id: Some(vm.clone()),
            volume_id: None,
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);

    // In use: reserving, attaching elsewhere and deleting are refused.
    assert_cinder(w.cinder.reserve(&v).await, 400);
    assert_cinder(
        w.cinder
            .create_attachment(&v, &InstanceId::from_u128(2), None)
            .await,
        400,
    );
    assert_cinder(w.cinder.delete_volume(&v).await, 400);

    let remaining = w.cinder.delete_attachment(&a.id).await.unwrap();
    assert!(remaining.is_empty());
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Available
    );
    assert!(w.sim.hosts().is_empty());
    assert!(w.sim.zones().is_empty());
    assert_cinder(w.cinder.get_attachment(&a.id).await, 404);
}

#[tokio::test]
async fn deleting_a_reserved_attachment_frees_the_volume() {
    let w = world().await;
    let v = w.volume(false).await;
    let a = w
        .cinder
        .create_attachment(&v, &InstanceId::from_u128(1), None)
        .await
        .unwrap();
    w.cinder.delete_attachment(&a.id).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Available
    );
    assert!(w.sim.snapshot().attachments.is_empty());
}

#[tokio::test]
async fn legacy_attach_and_detach() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    let conn = connector(&hbas);
    let v = w.volume(false).await;
    let vm = InstanceId::from_u128(1);

    // begin_detaching needs in-use.
    assert_cinder(w.cinder.begin_detaching(&v).await, 400);
    w.cinder.reserve(&v).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Attaching
    );
    assert_cinder(w.cinder.reserve(&v).await, 400);
    // Unreserve goes back; reserve again.
    w.cinder.unreserve(&v).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Available
    );
    w.cinder.reserve(&v).await.unwrap();

    let info = w.cinder.initialize_connection(&v, &conn).await.unwrap();
    let fc = info.fibre_channel().unwrap();
    assert_eq!(fc.volume_id, Some(v.clone()));
    assert_eq!(w.sim.hosts()[0].mappings.len(), 1);
    w.cinder
        .attach(&v, &vm, "/dev/sda", Some("compute-1"))
        .await
        .unwrap();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::InUse);
    let attachment = vol.attachments[0].attachment_id.clone();

    w.cinder.begin_detaching(&v).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::Detaching
    );
    w.cinder.roll_detaching(&v).await.unwrap();
    assert_eq!(
        w.cinder.get_volume(&v).await.unwrap().status,
        VolumeStatus::InUse
    );
    w.cinder.begin_detaching(&v).await.unwrap();
    w.cinder.terminate_connection(&v, &conn).await.unwrap();
    assert!(w.sim.hosts().is_empty());
    assert!(w.sim.zones().is_empty());
    w.cinder.detach(&v, &attachment).await.unwrap();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::Available);
    assert!(vol.attachments.is_empty());
    // Attach without reserve is refused.
    assert_cinder(w.cinder.attach(&v, &vm, "/dev/sda", None).await, 400);
}

#[tokio::test]
async fn projects_do_not_see_each_others_volumes() {
    let w = world_from(WorldSpec::z13().with_project("other")).await;
    let v = w.volume(false).await;
    let other = w.sim.cinder("other");
    assert_cinder(other.get_volume(&v).await, 404);
    assert!(other.list_volumes().await.unwrap().is_empty());
    assert_cinder(other.delete_volume(&v).await, 404);
    assert_cinder(w.sim.cinder("nobody").list_volumes().await, 401);
}

/// A connector whose WWPNs belong to two host objects is refused by the
/// backend; the reservation is not kept.
#[tokio::test]
async fn a_refused_connector_at_create_leaves_nothing() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    for (i, h) in hbas.iter().enumerate() {
        let v = w.volume(false).await;
        let vm = InstanceId::from_u128(10 + i as u128);
        w.cinder
            .create_attachment(&v, &vm, Some(&connector(std::slice::from_ref(h))))
            .await
            .unwrap();
    }
    assert_eq!(w.sim.hosts().len(), 2);
    let v = w.volume(false).await;
    let before = w.sim.snapshot();
    let c = connector(&hbas);
    assert_cinder(
        w.cinder
            .create_attachment(&v, &InstanceId::from_u128(1), Some(&c))
            .await,
        500,
    );
    assert_eq!(w.sim.snapshot(), before);
}
