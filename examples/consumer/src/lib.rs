//! An example consumer of `hmc-client` and `cinder-client`, kept in the
//! workspace so CI builds and tests it as an outside crate would: code
//! written once against the [`HmcApi`] and [`cinder_client::CinderApi`]
//! traits, and tests that run it against `hmc_client::MockHmcApi` and
//! `cinder_client::MockCinderApi` (the `mock` features, enabled for this
//! crate's tests only).
//!
//! The code: stop every running partition of a CPC that has a given name
//! (here), and release a volume from every instance ([`volumes`]).

pub mod volumes;

use hmc_client::{
    wait_for_job, CpcUri, HmcApi, HmcError, PartitionFilter, PartitionStatus, PartitionUri,
    PollPolicy,
};

/// Stopping the partitions of a name failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The CPC's partitions could not be listed; nothing was stopped.
    #[error("could not list the partitions named {name:?}")]
    List {
        /// The name asked for.
        name: String,
        /// The cause.
        #[source]
        source: HmcError,
    },
    /// A partition could not be stopped; the ones in `stopped` were.
    #[error("could not stop partition {partition}")]
    Stop {
        /// The partition that did not stop.
        partition: PartitionUri,
        /// The partitions stopped before it.
        stopped: Vec<PartitionUri>,
        /// The cause.
        #[source]
        source: HmcError,
    },
}

/// Whether a partition in this status runs (and so can be stopped).
fn is_running(status: &PartitionStatus) -> bool {
    matches!(
        status,
        PartitionStatus::Active | PartitionStatus::Degraded | PartitionStatus::Paused
    )
}

/// The HMC's name filter is a regular expression anchored at both ends: an
/// exact name needs its metacharacters escaped.
fn exact_name_pattern(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Stops every running partition of `cpc` named exactly `name`, one after
/// the other, each until its stop job ends. Returns the partitions stopped,
/// in the order the HMC listed them; partitions that do not run are left
/// alone.
pub async fn stop_partitions_named<H: HmcApi + ?Sized>(
    hmc: &H,
    cpc: &CpcUri,
    name: &str,
    policy: &PollPolicy,
) -> Result<Vec<PartitionUri>, StopError> {
    let filter = PartitionFilter {
        name: Some(exact_name_pattern(name)),
        ..PartitionFilter::default()
    };
    let listed = hmc
        .list_partitions(cpc, &filter)
        .await
        .map_err(|source| StopError::List {
            name: name.to_owned(),
            source,
        })?;
    let mut stopped = Vec::new();
    // The filter already matched the name; checking again costs nothing
    // and guards against a server that matches loosely.
    for p in listed
        .into_iter()
        .filter(|p| p.name == name && is_running(&p.status))
    {
        let result = match hmc.stop_partition(&p.object_uri).await {
            Ok(job) => wait_for_job(hmc, &job, policy).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => stopped.push(p.object_uri),
            Err(source) => {
                return Err(StopError::Stop {
                    partition: p.object_uri,
                    stopped,
                    source,
                })
            }
        }
    }
    Ok(stopped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmc_client::{Job, JobAnnouncement, JobStatus, JobUri, MockHmcApi, PartitionSummary};
    use mockall::{predicate::eq, Sequence};

    fn cpc() -> CpcUri {
        CpcUri::from_object_id("c1").unwrap()
    }

    fn partition(id: &str) -> PartitionUri {
        PartitionUri::from_object_id(id).unwrap()
    }

    fn job(id: &str) -> JobUri {
        JobUri::from_object_id(id).unwrap()
    }

    fn summary(id: &str, name: &str, status: PartitionStatus) -> PartitionSummary {
        PartitionSummary::new(partition(id), name.to_owned(), status, None)
    }

    #[test]
    fn the_name_filter_matches_the_name_exactly() {
        assert_eq!(exact_name_pattern("web-1.a"), r"web\-1\.a");
        assert_eq!(exact_name_pattern("db"), "db");
    }

    #[tokio::test(start_paused = true)]
    async fn stops_the_running_partitions_of_the_name_and_waits_for_each_job() {
        let mut hmc = MockHmcApi::new();
        hmc.expect_list_partitions()
            .withf(|c, f| *c == cpc() && f.name.as_deref() == Some(r"web\.1"))
            .times(1)
            .returning(|_, _| {
                Ok(vec![
                    summary("p1", "web.1", PartitionStatus::Active),
                    summary("p2", "web.1", PartitionStatus::Stopped),
                    summary("p3", "web.1", PartitionStatus::Degraded),
                ])
            });
        // Each stop is followed by its job's wait and its delete before the
        // next stop is sent. p1's job is not watched by notifications (the
        // client polls it: running, then ended); p3's end is announced (the
        // job is read once).
        let mut seq = Sequence::new();
        for (p, j, announced) in [("p1", "j1", false), ("p3", "j3", true)] {
            hmc.expect_stop_partition()
                .with(eq(partition(p)))
                .times(1)
                .in_sequence(&mut seq)
                .returning(move |_| Ok(job(j)));
            hmc.expect_job_announced()
                .withf(move |got, _| *got == job(j))
                .times(1)
                .in_sequence(&mut seq)
                .returning(move |_, _| {
                    if announced {
                        JobAnnouncement::Ended
                    } else {
                        JobAnnouncement::NotWatched
                    }
                });
            if !announced {
                hmc.expect_get_job()
                    .with(eq(job(j)))
                    .times(1)
                    .in_sequence(&mut seq)
                    .returning(|_| Ok(Job::new(JobStatus::Running)));
            }
            hmc.expect_get_job()
                .with(eq(job(j)))
                .times(1)
                .in_sequence(&mut seq)
                .returning(|_| Ok(Job::ended(204)));
            hmc.expect_delete_job()
                .with(eq(job(j)))
                .times(1)
                .in_sequence(&mut seq)
                .returning(|_| Ok(()));
        }

        let stopped = stop_partitions_named(&hmc, &cpc(), "web.1", &PollPolicy::default())
            .await
            .unwrap();
        assert_eq!(stopped, vec![partition("p1"), partition("p3")]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_stop_names_the_partition_and_what_was_stopped() {
        let mut hmc = MockHmcApi::new();
        hmc.expect_list_partitions().returning(|_, _| {
            Ok(vec![
                summary("p1", "db", PartitionStatus::Active),
                summary("p2", "db", PartitionStatus::Active),
            ])
        });
        hmc.expect_stop_partition()
            .with(eq(partition("p1")))
            .returning(|_| Ok(job("j1")));
        hmc.expect_job_announced()
            .returning(|_, _| JobAnnouncement::NotWatched);
        hmc.expect_get_job().returning(|_| Ok(Job::ended(204)));
        hmc.expect_delete_job().returning(|_| Ok(()));
        hmc.expect_stop_partition()
            .with(eq(partition("p2")))
            .returning(|p| {
                Err(HmcError::api(
                    "POST",
                    format!("{p}/operations/stop"),
                    409,
                    1,
                    "wrong state",
                ))
            });

        let err = stop_partitions_named(&hmc, &cpc(), "db", &PollPolicy::default())
            .await
            .err();
        match err {
            Some(StopError::Stop {
                partition: p,
                stopped,
                source,
            }) => {
                assert_eq!(p, partition("p2"));
                assert_eq!(stopped, vec![partition("p1")]);
                assert_eq!(source.status_reason(), Some((409, 1)));
            }
            other => panic!("expected a refused stop, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_list_stops_nothing() {
        let mut hmc = MockHmcApi::new();
        hmc.expect_list_partitions()
            .returning(|c, _| Err(HmcError::api("GET", c.to_string(), 503, 0, "busy")));
        // No other expectation: any stop would fail the test.
        let err = stop_partitions_named(&hmc, &cpc(), "db", &PollPolicy::default()).await;
        assert!(
            matches!(err, Err(StopError::List { ref name, .. }) if name == "db"),
            "{err:?}"
        );
    }
}
