//! Nova's `destroy` and the power operations, with the clean shutdown of
//! the guest before a stop: the HMC's Send OS Command gives the guest
//! `guest_shutdown_command`, the partition's status is watched until the
//! guest has halted (`terminated`) or the timeout has passed, and Stop
//! Partition then stops it as it always does.

use std::fmt;
use std::time::Duration;

use cinder_client::InstanceId;
use hmc_client::{HmcApi, PartitionStatus, PartitionUri, PollPolicy};
use tokio::time::Instant;

use crate::driver::DpmDriver;
use crate::error::{CleanupError, DestroyError, LookupError, PowerError};

/// Nova's reboot types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RebootKind {
    /// `SOFT`: the guest is asked to shut down first (a clean shutdown
    /// within the given [`PowerOff`]'s timeout), then the partition is
    /// stopped and started.
    Soft(PowerOff),
    /// `HARD`: stop and start the partition; the guest is not asked.
    Hard,
}

/// How [`DpmDriver::power_off`] stops a partition: Nova's `timeout` and
/// `retry_interval`. With a zero timeout ([`PowerOff::IMMEDIATE`], the
/// default) the partition is stopped at once; otherwise the guest is asked
/// to shut down and given up to `timeout` to halt by itself before the
/// partition is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PowerOff {
    /// How long the guest has to shut down by itself; zero: not asked.
    pub timeout: Duration,
    /// How often the shutdown command is sent again while the guest has
    /// not halted (a guest may miss one while it boots); zero: once.
    pub retry_interval: Duration,
}

impl PowerOff {
    /// Stop the partition at once.
    pub const IMMEDIATE: Self = Self {
        timeout: Duration::ZERO,
        retry_interval: Duration::ZERO,
    };

    /// Ask the guest to shut down, wait up to `timeout` for it (sending the
    /// command again every `retry_interval`, if not zero), then stop.
    pub fn clean(timeout: Duration, retry_interval: Duration) -> Self {
        Self {
            timeout,
            retry_interval,
        }
    }
}

/// What became of the guest before its partition was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestShutdown {
    /// The guest shut down by itself within the timeout (the partition
    /// was `terminated`, or `stopped`, before the stop).
    Clean,
    /// The guest was asked and had not halted when the timeout passed: the
    /// partition was stopped under it.
    TimedOut,
    /// The guest was not running (the partition was not `active` or
    /// `degraded`, and the HMC refused the command): nothing to ask.
    NotRunning,
    /// No clean shutdown was asked for (a zero timeout, a hard reboot).
    NotAsked,
}

impl GuestShutdown {
    /// `clean`, `timed_out`, `not_running` or `not_asked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::TimedOut => "timed_out",
            Self::NotRunning => "not_running",
            Self::NotAsked => "not_asked",
        }
    }
}

impl fmt::Display for GuestShutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shortest wait between two reads of a shutting-down partition's
/// status (zhmcclient and Nova's libvirt driver look every second); the
/// waits then grow with the time waited, as a job's polls do.
const SHUTDOWN_POLL: Duration = Duration::from_secs(1);

/// Whether the guest has halted.
fn halted(status: &PartitionStatus) -> bool {
    matches!(
        status,
        PartitionStatus::Terminated | PartitionStatus::Stopped
    )
}

impl<H: HmcApi> DpmDriver<H> {
    /// Nova's `destroy` (and `failed_spawn_cleanup`): stops the partition,
    /// deletes it (its vHBAs go with it, and it leaves its storage groups),
    /// then deletes the instance's storage group, found by name. An
    /// instance with nothing left is success; `Ok(true)` when a partition
    /// existed. When the partition cannot be stopped nothing is deleted.
    #[tracing::instrument(name = "destroy", skip(self), fields(instance = %instance))]
    pub async fn destroy(&self, instance: &InstanceId) -> Result<bool, DestroyError> {
        let fail = |failures| DestroyError {
            instance: instance.clone(),
            failures,
        };
        self.ready()
            .map_err(|e| fail(vec![CleanupError::Lookup(e)]))?;
        let partition = self
            .find_partition(instance)
            .await
            .map_err(|e| fail(vec![e.into()]))?;
        self.destroy_found(instance, partition.as_ref()).await
    }

    /// [`destroy`](Self::destroy) of the partition [`partition_of`](Self::partition_of)
    /// has just found for the instance (`None`: it has none), without
    /// looking it up again: what the compute layer calls, having looked
    /// (two requests fewer on an HMC before API 4.1, one from 4.1 on).
    pub async fn destroy_found(
        &self,
        instance: &InstanceId,
        partition: Option<&PartitionUri>,
    ) -> Result<bool, DestroyError> {
        let fail = |failures| DestroyError {
            instance: instance.clone(),
            failures,
        };
        let ready = self
            .ready()
            .map_err(|e| fail(vec![CleanupError::Lookup(e)]))?;
        if let Some(p) = partition {
            self.delete_partition(p).await.map_err(|e| fail(vec![e]))?;
        }
        let failures = ready.storage.remove(&self.host, instance).await;
        if !failures.is_empty() {
            return Err(fail(failures));
        }
        tracing::info!(existed = partition.is_some(), "instance destroyed");
        Ok(partition.is_some())
    }

    /// Deletes a partition: sent at once (one request for a stopped
    /// partition); when the HMC refuses it as not stopped, the partition
    /// is stopped first. A partition already gone is no error, and a lost
    /// reply is settled by looking again.
    async fn delete_partition(&self, p: &hmc_client::PartitionUri) -> Result<(), CleanupError> {
        let delete = |source| CleanupError::DeletePartition {
            partition: p.clone(),
            source,
        };
        for _ in 0..2 {
            match self.hmc.delete_partition(p).await {
                Ok(()) => {
                    tracing::debug!(partition = %p, "partition deleted");
                    return Ok(());
                }
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if e.status_reason() == Some((409, 1)) => match self.ensure_stopped(p).await
                {
                    Ok(()) => {}
                    // Stopped and deleted meanwhile by another process.
                    Err(s) if s.is_not_found() => return Ok(()),
                    Err(s) => return Err(s.into()),
                },
                Err(e) if e.may_have_taken_effect() => {
                    return match self.hmc.get_partition(p).await {
                        Err(g) if g.is_not_found() => Ok(()),
                        _ => Err(delete(e)),
                    };
                }
                Err(e) => return Err(delete(e)),
            }
        }
        self.hmc.delete_partition(p).await.map_err(delete)
    }

    /// Nova's `power_off(instance, timeout, retry_interval)`: with a
    /// timeout, asks the guest to shut down and waits for it (see
    /// [`PowerOff`]); then stops the instance's partition (a stopped one is
    /// left alone). Says what became of the guest. With
    /// [`PowerOff::IMMEDIATE`] it is two requests for a running partition
    /// (find, stop) and the job.
    #[tracing::instrument(name = "power_off", skip(self), fields(instance = %instance, timeout_s = how.timeout.as_secs()))]
    pub async fn power_off(
        &self,
        instance: &InstanceId,
        how: PowerOff,
    ) -> Result<GuestShutdown, PowerError> {
        let uri = self.require_partition(instance).await?;
        let guest = self.shut_down_guest(&uri, how).await?;
        self.stop_partition(&uri).await?;
        tracing::info!(guest_shutdown = %guest, "powered off");
        Ok(guest)
    }

    /// The clean shutdown: Send OS Command with `guest_shutdown_command`,
    /// then the partition's status read (waits from 1 s, growing with the
    /// time waited) until the guest has halted or `how.timeout` has passed,
    /// the command sent again every `how.retry_interval`. A first command
    /// the HMC refuses with 409 (the partition is not running, or no longer)
    /// is [`GuestShutdown::NotRunning`]; one whose reply was lost is taken
    /// as given. A resend that fails is logged and the wait goes on.
    async fn shut_down_guest(
        &self,
        uri: &PartitionUri,
        how: PowerOff,
    ) -> Result<GuestShutdown, PowerError> {
        if how.timeout.is_zero() {
            return Ok(GuestShutdown::NotAsked);
        }
        let command = self.config.guest_shutdown_command.as_str();
        match self.hmc.send_os_command(uri, command, false).await {
            Ok(()) => {}
            Err(e) if e.status_reason().is_some_and(|(status, _)| status == 409) => {
                tracing::info!(partition = %uri, error = %e, "the guest is not running: no shutdown asked");
                return Ok(GuestShutdown::NotRunning);
            }
            Err(e) if e.may_have_taken_effect() => {
                tracing::warn!(partition = %uri, error = %e, "the shutdown command's reply was lost; watching the status");
            }
            Err(source) => {
                return Err(PowerError::SendOsCommand {
                    partition: uri.clone(),
                    source,
                })
            }
        }
        tracing::info!(partition = %uri, command, "guest asked to shut down");
        let policy = PollPolicy {
            first_interval: SHUTDOWN_POLL,
            timeout: how.timeout,
            ..PollPolicy::default()
        };
        let naps = policy.naps();
        let deadline = Instant::now() + how.timeout;
        // The next resend, while it comes before the deadline (a command
        // sent as the partition is stopped helps nobody).
        let after = |from: Instant| {
            let at = from.checked_add(how.retry_interval)?;
            (!how.retry_interval.is_zero() && at < deadline).then_some(at)
        };
        let mut resend_at = after(Instant::now());
        while let Some(nap) = naps.next() {
            let nap = resend_at.map_or(nap, |at| {
                nap.min(at.saturating_duration_since(Instant::now()))
            });
            tokio::time::sleep(nap).await;
            let status = self
                .hmc
                .get_partition(uri)
                .await
                .map_err(|source| PowerError::WatchShutdown {
                    partition: uri.clone(),
                    source,
                })?
                .status;
            if halted(&status) {
                tracing::info!(partition = %uri, %status, waited_ms = naps.waited().as_millis(), "the guest shut down");
                return Ok(GuestShutdown::Clean);
            }
            if let Some(at) = resend_at {
                if Instant::now() >= at {
                    resend_at = after(Instant::now());
                    match self.hmc.send_os_command(uri, command, false).await {
                        Ok(()) => {
                            tracing::debug!(partition = %uri, %status, "shutdown command sent again")
                        }
                        Err(e) => {
                            tracing::debug!(partition = %uri, error = %e, "the shutdown command sent again failed")
                        }
                    }
                }
            }
        }
        tracing::warn!(partition = %uri, timeout_s = how.timeout.as_secs(), "the guest did not shut down in time: stopping the partition");
        Ok(GuestShutdown::TimedOut)
    }

    /// Brings a partition [`Self::locate`] or [`Self::partition_of`] found
    /// to `stopped` (one request for a running partition).
    pub async fn stop_partition(&self, partition: &PartitionUri) -> Result<(), PowerError> {
        self.ensure_stopped(partition).await?;
        Ok(())
    }

    /// The instance's partition, if it has one (one request).
    pub async fn partition_of(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<PartitionUri>, LookupError> {
        self.find_partition(instance).await
    }

    /// Nova's `power_on`: starts the instance's partition; waits out
    /// `starting`/`stopping`, stops a `paused` or `terminated` one first,
    /// starts a `reservation-error` one as it is, and leaves a running one
    /// alone.
    #[tracing::instrument(name = "power_on", skip(self), fields(instance = %instance))]
    pub async fn power_on(&self, instance: &InstanceId) -> Result<(), PowerError> {
        let uri = self.require_partition(instance).await?;
        let status = self.settle(&uri).await?;
        if matches!(status, PartitionStatus::Active | PartitionStatus::Degraded) {
            return Ok(());
        }
        // A stopped partition, or one that could not reserve its
        // resources at activation, starts as it is; a paused or
        // terminated one is stopped first.
        if !matches!(
            status,
            PartitionStatus::Stopped | PartitionStatus::ReservationError
        ) {
            self.ensure_stopped(&uri).await?;
        }
        self.start_and_wait(&uri)
            .await
            .map_err(|source| PowerError::StartPartition {
                partition: uri,
                source,
            })
    }

    /// Nova's `reboot`: stops (if running) and starts the partition; a
    /// soft reboot asks the guest to shut down first (a clean shutdown, as
    /// [`Self::power_off`] makes it), a hard one does not. Says what became
    /// of the guest.
    #[tracing::instrument(name = "reboot", skip(self), fields(instance = %instance))]
    pub async fn reboot(
        &self,
        instance: &InstanceId,
        kind: RebootKind,
    ) -> Result<GuestShutdown, PowerError> {
        tracing::debug!(?kind, "rebooting");
        let how = match kind {
            RebootKind::Soft(how) => how,
            RebootKind::Hard => PowerOff::IMMEDIATE,
        };
        let guest = self.power_off(instance, how).await?;
        self.power_on(instance).await?;
        Ok(guest)
    }

    /// Whether the instance has a partition (Nova's `instance_exists`).
    pub async fn instance_exists(&self, instance: &InstanceId) -> Result<bool, LookupError> {
        Ok(self.find_partition(instance).await?.is_some())
    }
}
