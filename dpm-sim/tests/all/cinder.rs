//! Cinder's volume and attachment status machines and their refusals, as
//! the real Cinder has them (`volume/api.py`, `api/v3/attachments.py`, the
//! volume manager).

use std::time::Duration;

use cinder_client::{
    AttachStatus, AttachmentFilter, CinderApi, InstanceId, VolumeCreate, VolumeId, VolumeStatus,
};
use dpm_sim::WorldSpec;

use crate::support::{assert_cinder, connector, world, world_from, World};

impl World {
    async fn status(&self, v: &VolumeId) -> VolumeStatus {
        self.cinder.get_volume(v).await.unwrap().status
    }

    /// A volume from the world's first image, left `downloading`.
    async fn downloading_volume(&self) -> VolumeId {
        let v = self
            .cinder
            .create_volume(&VolumeCreate {
                size: 10,
                image_ref: Some(self.sim.images()[0].0.clone()),
                ..VolumeCreate::default()
            })
            .await
            .unwrap();
        assert_eq!(v.status, VolumeStatus::Creating);
        let half = Duration::from_millis(self.sim.spec().timings.volume_create_ms / 2);
        self.sim.advance(half);
        assert_eq!(self.status(&v.id).await, VolumeStatus::Downloading);
        v.id
    }
}

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
    assert_eq!(w.status(&v.id).await, VolumeStatus::Available);
    w.cinder.delete_volume(&v.id).await.unwrap();
    assert_eq!(w.status(&v.id).await, VolumeStatus::Deleting);
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
    assert_eq!(a.attach_mode.as_deref(), Some("null"));
    assert_eq!(a.attached_at, None);
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
    // Another instance cannot reserve it (no multiattach).
    assert_cinder(
        w.cinder
            .create_attachment(&v, &InstanceId::from_u128(2), None)
            .await,
        400,
    );

    // The answer is the attachment as it was before the backend call, with
    // the connection info; Cinder's record has moved on.
    let updated = w
        .cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    assert_eq!(updated.status, AttachStatus::Reserved);
    assert_eq!(updated.attach_mode.as_deref(), Some("null"));
    assert_eq!(updated.attached_at, None);
    let info = updated.connection_info.unwrap();
    assert_eq!(info.data["access_mode"], "rw");
    assert_eq!(info.data["encrypted"], false);
    assert!(info.data["qos_specs"].is_null());
    let now = w.cinder.get_attachment(&a.id).await.unwrap();
    assert_eq!(now.status, AttachStatus::Attaching);
    assert_eq!(now.attach_mode.as_deref(), Some("rw"));
    assert!(now.attached_at.is_some());
    assert_eq!(w.status(&v).await, VolumeStatus::Attaching);
    assert_eq!(w.sim.hosts().len(), 1);
    // Updating again connects again (no attach-status precondition): the
    // same mapping.
    let again = w
        .cinder
        .update_attachment(&a.id, &connector(&hbas))
        .await
        .unwrap();
    assert_eq!(again.status, AttachStatus::Attaching);
    assert_eq!(w.sim.hosts().len(), 1);
    assert_eq!(w.sim.hosts()[0].mappings.len(), 1);

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
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
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
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
    assert!(w.sim.snapshot().attachments.is_empty());
}

/// `os-complete` has no precondition: a reserved attachment is completed
/// too.
#[tokio::test]
async fn completing_needs_no_connector() {
    let w = world().await;
    let v = w.volume(false).await;
    let a = w
        .cinder
        .create_attachment(&v, &InstanceId::from_u128(1), None)
        .await
        .unwrap();
    w.cinder.complete_attachment(&a.id).await.unwrap();
    let got = w.cinder.get_attachment(&a.id).await.unwrap();
    assert_eq!(got.status, AttachStatus::Attached);
    assert_eq!(got.attach_mode.as_deref(), Some("null"));
    assert_eq!(got.connection_info, None);
    assert_eq!(w.status(&v).await, VolumeStatus::InUse);
    assert!(w.sim.hosts().is_empty());
}

/// Reserving takes `available` or `downloading`; the same instance may
/// reserve again a volume it holds (LP 1694530), which makes a second
/// reserved attachment and leaves the volume status alone; a status with
/// `error` in it is refused.
#[tokio::test]
async fn reserving_follows_cinders_rules() {
    let w = world().await;
    let vm = InstanceId::from_u128(1);

    // While the image is downloaded.
    let v = w.downloading_volume().await;
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    assert_eq!(a.status, AttachStatus::Reserved);
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
    // The same instance again: a second attachment, still reserved.
    let b = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
    assert_eq!(w.sim.snapshot().attachments.len(), 2);
    // Cinder ends the download with `available`, whatever was reserved.
    w.sim.run_until_idle();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::Available);
    assert!(vol.bootable);
    assert_eq!(
        w.cinder.get_attachment(&a.id).await.unwrap().status,
        AttachStatus::Reserved
    );

    // In use by one instance: it may reserve again, another may not.
    let v = w.volume(false).await;
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    w.cinder.complete_attachment(&a.id).await.unwrap();
    assert_cinder(
        w.cinder
            .create_attachment(&v, &InstanceId::from_u128(2), None)
            .await,
        400,
    );
    let again = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    assert_eq!(again.status, AttachStatus::Reserved);
    assert_eq!(w.status(&v).await, VolumeStatus::InUse);

    // Error states and other statuses are refused, and nothing changes.
    for status in [
        VolumeStatus::Error,
        VolumeStatus::ErrorExtending,
        VolumeStatus::Maintenance,
        VolumeStatus::Attaching,
    ] {
        let v = w.volume(false).await;
        assert!(w.sim.set_volume_status(&v, status));
        let before = w.sim.snapshot();
        assert_cinder(w.cinder.create_attachment(&v, &vm, None).await, 400);
        assert_eq!(w.sim.snapshot(), before, "{status}");
    }
}

/// `PUT /attachments/{id}` is 409 when the volume is in error, or when a
/// volume with more than one attachment already has a connection.
#[tokio::test]
async fn updating_conflicts_are_409() {
    let w = world().await;
    let p = w.partition("p").await;
    let conn = connector(&w.hbas(&p).await);
    let vm = InstanceId::from_u128(1);

    let v = w.volume(false).await;
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    let b = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    // Neither has a connection yet: the first update goes through.
    w.cinder.update_attachment(&a.id, &conn).await.unwrap();
    let before = w.sim.snapshot();
    assert_cinder(w.cinder.update_attachment(&b.id, &conn).await, 409);
    assert_cinder(w.cinder.update_attachment(&a.id, &conn).await, 409);
    assert_eq!(w.sim.snapshot(), before);
    // With one attachment left, updating is allowed again.
    let left = w.cinder.delete_attachment(&b.id).await.unwrap();
    assert_eq!(left.len(), 1);
    w.cinder.update_attachment(&a.id, &conn).await.unwrap();

    let v = w.volume(false).await;
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    assert!(w.sim.set_volume_status(&v, VolumeStatus::ErrorExtending));
    let before = w.sim.snapshot();
    assert_cinder(w.cinder.update_attachment(&a.id, &conn).await, 409);
    assert_eq!(w.sim.snapshot(), before);
}

/// The delete answers the volume's remaining attachments in the summary
/// form, and the volume status follows them.
#[tokio::test]
async fn deleting_answers_the_volumes_remaining_attachments() {
    let w = world().await;
    let p = w.partition("p").await;
    let conn = connector(&w.hbas(&p).await);
    let vm = InstanceId::from_u128(1);
    let v = w.volume(false).await;
    let other = w.volume(false).await;
    let elsewhere = w
        .cinder
        .create_attachment(&other, &InstanceId::from_u128(2), None)
        .await
        .unwrap();

    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    w.cinder.update_attachment(&a.id, &conn).await.unwrap();
    w.cinder.complete_attachment(&a.id).await.unwrap();
    let b = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    let left = w.cinder.delete_attachment(&a.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, b.id);
    assert_eq!(left[0].status, AttachStatus::Reserved);
    assert_eq!(left[0].instance, Some(vm.clone()));
    assert_eq!(left[0].volume_id, v);
    assert_eq!(left[0].attach_mode, None, "the summary form");
    assert_eq!(left[0].connection_info, None);
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
    assert!(w.sim.hosts().is_empty(), "the connection went with it");
    assert!(w.cinder.delete_attachment(&b.id).await.unwrap().is_empty());
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
    assert_eq!(
        w.cinder.get_attachment(&elsewhere.id).await.unwrap().status,
        AttachStatus::Reserved
    );
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
    assert_eq!(w.status(&v).await, VolumeStatus::Attaching);
    assert_cinder(w.cinder.reserve(&v).await, 400);
    // Unreserve goes back; reserve again.
    w.cinder.unreserve(&v).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
    w.cinder.reserve(&v).await.unwrap();

    let info = w.cinder.initialize_connection(&v, &conn).await.unwrap();
    let fc = info.fibre_channel().unwrap();
    assert_eq!(fc.volume_id, Some(v.clone()));
    // What Cinder adds to the driver's answer.
    assert_eq!(info.data["access_mode"], "rw");
    assert_eq!(info.data["encrypted"], false);
    assert_eq!(info.data["cacheable"], false);
    assert_eq!(info.data["discard"], true);
    assert_eq!(info.data["enforce_multipath"], false);
    assert!(info.data["qos_specs"].is_null());
    assert_eq!(w.sim.hosts()[0].mappings.len(), 1);
    w.cinder
        .attach(&v, &vm, "/dev/sda", Some("compute-1"))
        .await
        .unwrap();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::InUse);
    let attachment = vol.attachments[0].attachment_id.clone();
    // Attaching again for the same instance is the same attachment; for
    // another it is refused (in use, no multiattach).
    w.cinder.attach(&v, &vm, "/dev/sda", None).await.unwrap();
    assert_eq!(w.sim.snapshot().attachments.len(), 1);
    assert_cinder(
        w.cinder
            .attach(&v, &InstanceId::from_u128(2), "/dev/sda", None)
            .await,
        400,
    );

    w.cinder.begin_detaching(&v).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Detaching);
    w.cinder.roll_detaching(&v).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::InUse);
    w.cinder.begin_detaching(&v).await.unwrap();
    // Terminating unreserves only an `attaching` volume: this one stays
    // `detaching`.
    w.cinder.terminate_connection(&v, &conn).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Detaching);
    assert!(w.sim.hosts().is_empty());
    assert!(w.sim.zones().is_empty());
    w.cinder.detach(&v, &attachment).await.unwrap();
    let vol = w.cinder.get_volume(&v).await.unwrap();
    assert_eq!(vol.status, VolumeStatus::Available);
    assert!(vol.attachments.is_empty());
    // os-attach needs no reserve.
    w.cinder.attach(&v, &vm, "/dev/sda", None).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::InUse);
}

/// `os-terminate_connection` also unreserves: a reserved volume is
/// `available` again, and the `os-unreserve` that Nova (and the driver)
/// sends after it is a no-op.
#[tokio::test]
async fn terminate_connection_unreserves() {
    let w = world().await;
    let p = w.partition("p").await;
    let conn = connector(&w.hbas(&p).await);
    let v = w.volume(false).await;
    w.cinder.reserve(&v).await.unwrap();
    w.cinder.initialize_connection(&v, &conn).await.unwrap();
    assert_eq!(w.sim.hosts().len(), 1);
    w.cinder.terminate_connection(&v, &conn).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
    assert!(w.sim.hosts().is_empty() && w.sim.zones().is_empty());
    w.cinder.unreserve(&v).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
    assert!(w.sim.snapshot().attachments.is_empty());
}

/// `maintenance` is the one status the legacy connection actions refuse.
#[tokio::test]
async fn maintenance_refuses_the_legacy_actions() {
    let w = world().await;
    let p = w.partition("p").await;
    let conn = connector(&w.hbas(&p).await);
    let vm = InstanceId::from_u128(1);
    let v = w.volume(false).await;
    w.cinder.attach(&v, &vm, "/dev/sda", None).await.unwrap();
    let attachment = w.cinder.get_volume(&v).await.unwrap().attachments[0]
        .attachment_id
        .clone();
    assert!(w.sim.set_volume_status(&v, VolumeStatus::Maintenance));
    let before = w.sim.snapshot();
    assert_cinder(w.cinder.initialize_connection(&v, &conn).await, 400);
    assert_cinder(
        w.cinder
            .attach(&v, &InstanceId::from_u128(2), "/dev/sdb", None)
            .await,
        400,
    );
    assert_cinder(w.cinder.detach(&v, &attachment).await, 400);
    assert_eq!(w.sim.snapshot(), before);
    // Any other status may be connected, e.g. one still `creating`.
    let creating = w
        .cinder
        .create_volume(&VolumeCreate {
            size: 1,
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    w.cinder
        .initialize_connection(&creating.id, &conn)
        .await
        .unwrap();
    assert_eq!(w.status(&creating.id).await, VolumeStatus::Creating);
}

/// `os-detach` and `os-terminate_connection` for a caller without a
/// service token (OSSA-2023-003): an unknown attachment is 409, another
/// volume's attachment 400, and terminating a volume with several
/// attachments 409. (A null attachment id is served over HTTP: see
/// `conformance.rs`.)
#[tokio::test]
async fn detach_and_terminate_refusals() {
    let w = world().await;
    let p = w.partition("p").await;
    let conn = connector(&w.hbas(&p).await);
    let vm = InstanceId::from_u128(1);
    let v = w.volume(false).await;
    let other = w.volume(false).await;
    w.cinder
        .attach(&other, &vm, "/dev/sdb", None)
        .await
        .unwrap();
    let theirs = w.cinder.get_volume(&other).await.unwrap().attachments[0]
        .attachment_id
        .clone();

    let before = w.sim.snapshot();
    assert_cinder(
        w.cinder
            .detach(&v, &cinder_client::AttachmentId::from_u128(9))
            .await,
        409,
    );
    assert_cinder(w.cinder.detach(&v, &theirs).await, 400);
    assert_eq!(w.sim.snapshot(), before);

    // Two attachments of one instance (the attachments API's re-reserve).
    let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    w.cinder.create_attachment(&v, &vm, None).await.unwrap();
    let before = w.sim.snapshot();
    assert_cinder(w.cinder.terminate_connection(&v, &conn).await, 409);
    assert_eq!(w.sim.snapshot(), before);
    w.cinder.detach(&v, &a.id).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
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

/// A backend failure while creating an attachment with a connector (here
/// the connector's WWPNs belong to two host objects) is a 500 "Unable to
/// create attachment for volume"; Cinder keeps the reservation it made
/// before the backend call.
#[tokio::test]
async fn a_backend_failure_at_create_keeps_the_reservation() {
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
    let (hosts, zones) = (w.sim.hosts(), w.sim.zones());
    let vm = InstanceId::from_u128(1);
    let e = w
        .cinder
        .create_attachment(&v, &vm, Some(&connector(&hbas)))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(500), "{e}");
    assert!(
        e.to_string()
            .contains("Unable to create attachment for volume ("),
        "{e}"
    );
    let left: Vec<_> = w
        .sim
        .snapshot()
        .attachments
        .into_iter()
        .filter(|a| a.volume == v)
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, AttachStatus::Reserved);
    assert_eq!(left[0].instance, Some(vm));
    assert_eq!(w.status(&v).await, VolumeStatus::Reserved);
    // Nothing masked or zoned for it.
    assert_eq!((w.sim.hosts(), w.sim.zones()), (hosts, zones));
    // The caller deletes it, and the volume is free.
    w.cinder.delete_attachment(&left[0].id).await.unwrap();
    assert_eq!(w.status(&v).await, VolumeStatus::Available);
}

/// An attachment update records the connector's mountpoint (`na` when it
/// has none, as the volume manager does) and host; the volume's
/// `attachments` show them once the attachment is complete, with the
/// attachment's own id, instance and time. Times are on the fixed
/// in-memory calendar, so runs repeat.
#[tokio::test]
async fn an_attachment_update_keeps_the_connectors_mountpoint() {
    let w = world().await;
    let p = w.partition("p").await;
    let hbas = w.hbas(&p).await;
    for (mountpoint, device) in [(Some("/dev/vdb"), "/dev/vdb"), (None, "na")] {
        let v = w.volume(false).await;
        let vm = InstanceId::from_u128(7);
        let a = w.cinder.create_attachment(&v, &vm, None).await.unwrap();
        let mut c = connector(&hbas);
        c.mountpoint = mountpoint.map(Into::into);
        w.cinder.update_attachment(&a.id, &c).await.unwrap();
        // Not attached yet: the volume lists no attachment.
        assert!(w
            .cinder
            .get_volume(&v)
            .await
            .unwrap()
            .attachments
            .is_empty());
        w.cinder.complete_attachment(&a.id).await.unwrap();
        let shown = w.cinder.get_attachment(&a.id).await.unwrap();
        let volume = w.cinder.get_volume(&v).await.unwrap();
        let [entry] = volume.attachments.as_slice() else {
            panic!("one attachment: {:?}", volume.attachments);
        };
        assert_eq!(entry.device.as_deref(), Some(device));
        assert_eq!(entry.host_name.as_deref(), Some(c.host.as_str()));
        assert_eq!(entry.server_id.as_ref(), Some(&vm));
        assert_eq!(entry.attachment_id, a.id);
        assert_eq!((&entry.id, &entry.volume_id), (&v, &v));
        assert_eq!(entry.attached_at, shown.attached_at);
        assert!(
            volume
                .created_at
                .as_deref()
                .is_some_and(|t| t.starts_with("2026-01-01T")),
            "{:?}",
            volume.created_at
        );
        w.cinder.delete_attachment(&a.id).await.unwrap();
    }
}
