//! Release a Cinder volume from every instance it is attached to.

use cinder_client::{AttachmentFilter, AttachmentId, CinderApi, CinderError, VolumeId};

/// Releasing a volume failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// The volume's attachments could not be listed; nothing was released.
    #[error("could not list the attachments of volume {volume}")]
    List {
        /// The volume.
        volume: VolumeId,
        /// The cause.
        #[source]
        source: CinderError,
    },
    /// An attachment could not be deleted; the ones in `released` were.
    #[error("could not delete attachment {attachment} of volume {volume}")]
    Delete {
        /// The volume.
        volume: VolumeId,
        /// The attachment that is left.
        attachment: AttachmentId,
        /// The attachments deleted before it.
        released: Vec<AttachmentId>,
        /// The cause.
        #[source]
        source: CinderError,
    },
}

/// Deletes every attachment of `volume` (Cinder unmasks each), one after the
/// other, and returns the attachments deleted.
pub async fn release_volume<C: CinderApi + ?Sized>(
    cinder: &C,
    volume: &VolumeId,
) -> Result<Vec<AttachmentId>, ReleaseError> {
    let filter = AttachmentFilter {
        volume_id: Some(volume.clone()),
        ..AttachmentFilter::default()
    };
    let attachments =
        cinder
            .list_attachments(&filter)
            .await
            .map_err(|source| ReleaseError::List {
                volume: volume.clone(),
                source,
            })?;
    let mut released = Vec::new();
    for a in attachments {
        if let Err(source) = cinder.delete_attachment(&a.id).await {
            return Err(ReleaseError::Delete {
                volume: volume.clone(),
                attachment: a.id,
                released,
                source,
            });
        }
        released.push(a.id);
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder_client::{AttachStatus, Attachment, MockCinderApi};
    use mockall::predicate::eq;

    fn attachment(n: u128, volume: &VolumeId) -> Attachment {
        Attachment::new(
            AttachmentId::from_u128(n),
            volume.clone(),
            AttachStatus::Attached,
        )
    }

    #[tokio::test]
    async fn deletes_each_attachment_of_the_volume() {
        let volume = VolumeId::from_u128(1);
        let listed = vec![attachment(10, &volume), attachment(11, &volume)];
        let wanted = volume.clone();
        let mut cinder = MockCinderApi::new();
        cinder
            .expect_list_attachments()
            .withf(move |f| f.volume_id.as_ref() == Some(&wanted) && f.instance_id.is_none())
            .times(1)
            .returning(move |_| Ok(listed.clone()));
        for n in [10, 11] {
            cinder
                .expect_delete_attachment()
                .with(eq(AttachmentId::from_u128(n)))
                .times(1)
                .returning(|_| Ok(Vec::new()));
        }
        let released = release_volume(&cinder, &volume).await.unwrap();
        assert_eq!(
            released,
            [AttachmentId::from_u128(10), AttachmentId::from_u128(11)]
        );
    }

    #[tokio::test]
    async fn a_failed_delete_says_which_attachments_are_gone() {
        let volume = VolumeId::from_u128(1);
        let listed = vec![attachment(10, &volume), attachment(11, &volume)];
        let mut cinder = MockCinderApi::new();
        cinder
            .expect_list_attachments()
            .returning(move |_| Ok(listed.clone()));
        cinder
            .expect_delete_attachment()
            .with(eq(AttachmentId::from_u128(10)))
            .returning(|_| Ok(Vec::new()));
        cinder
            .expect_delete_attachment()
            .with(eq(AttachmentId::from_u128(11)))
            .returning(|a| {
                Err(CinderError::api(
                    format!("delete attachment {a}"),
                    404,
                    "gone",
                ))
            });
        match release_volume(&cinder, &volume).await {
            Err(ReleaseError::Delete {
                attachment,
                released,
                source,
                ..
            }) => {
                assert!(source.is_not_found());
                assert_eq!(attachment, AttachmentId::from_u128(11));
                assert_eq!(released, [AttachmentId::from_u128(10)]);
            }
            other => panic!("expected a failed delete, got {other:?}"),
        }
    }
}
