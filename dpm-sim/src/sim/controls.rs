//! The harness's controls (counters, faults, severing, stalls, latency,
//! random faults) and the conditions of the world a test can set (SAN
//! fabrics down, zoning, statuses, sessions).

use std::time::Duration;

use cinder_client::{VolumeId, VolumeStatus};
use hmc_client::{PartitionStatus, PartitionUri};

use super::Sim;
use crate::harness::{ArmedFault, Fault};
use crate::ops::{Counters, Op, Side};
use crate::pipeline::lock;

impl Sim {
    // ----- counters and faults --------------------------------------------------

    /// Request counts so far.
    pub fn counters(&self) -> Counters {
        self.shared.harness().counters.clone()
    }

    /// Every request since the last reset, in order (job traffic
    /// included), for checks of call order across the HMC and Cinder.
    pub fn op_log(&self) -> Vec<Op> {
        self.shared.harness().log.clone()
    }

    /// Resets the request counts and the request log.
    pub fn reset_counters(&self) {
        let mut h = self.shared.harness();
        h.counters = Counters::default();
        h.log.clear();
    }

    /// Makes the next `count` requests of `op` fail with `fault`: refused
    /// without changing anything, or, for [`Fault::lost_reply`], carried
    /// out with the reply lost.
    pub fn fail_next(&self, op: Op, count: u32, fault: Fault) {
        self.fail_after(op, 0, count, fault);
    }

    /// Lets `skip` requests of `op` through, then fails the next `count`
    /// with `fault` (to hit one particular request of an operation).
    pub fn fail_after(&self, op: Op, skip: u32, count: u32, fault: Fault) {
        if count > 0 {
            let armed = ArmedFault { skip, count, fault };
            self.shared.harness().faults.insert(op, armed);
        }
    }

    /// Lets `n` more requests reach the world, then cuts the clients off:
    /// every later request fails without reaching it, as when the process
    /// that drives them dies. [`Sim::reconnect`] ends it.
    pub fn sever_after(&self, n: u64) {
        self.shared.harness().sever_after = Some(n);
    }

    /// Lets requests reach the world again (a new process).
    pub fn reconnect(&self) {
        self.shared.harness().sever_after = None;
    }

    /// Whether NPIV WWPNs that a deleted vHBA or storage group freed are
    /// handed out again, as a real DPM's WWPN pool does (off by default, so
    /// every WWPN of a run is unique). With it on, a LUN still masked to a
    /// freed WWPN shows up in whichever partition gets that WWPN next.
    pub fn set_wwpn_reuse(&self, on: bool) {
        lock(self.world()).ids.reuse_npiv = on;
    }

    /// Takes a SAN fabric (by its index in the spec) down or brings it back:
    /// its zones carry nothing while it is down, so LUNs behind it are not
    /// seen, discovered or booted from.
    pub fn set_fabric_down(&self, fabric: usize, down: bool) {
        let mut w = lock(self.world());
        if down {
            w.san.down.insert(fabric);
        } else {
            w.san.down.remove(&fabric);
        }
    }

    /// Jobs that requests of `op` start from now on never end (they stay
    /// `running`), as a hung HMC job does: `Op::StartPartition`,
    /// `Op::StopPartition` or `Op::StartFcpStorageDiscovery`. `false` lets
    /// new ones end again.
    pub fn stall_jobs(&self, op: Op, on: bool) {
        let mut h = self.shared.harness();
        if on {
            h.stall_jobs.insert(op);
        } else {
            h.stall_jobs.remove(&op);
        }
    }

    /// Each request of one API takes this long before it is answered (in
    /// memory on tokio time, served on the real clock).
    pub fn set_latency(&self, side: Side, latency: Duration) {
        let mut h = self.shared.harness();
        match side {
            Side::Hmc => h.latency.0 = latency,
            Side::Cinder => h.latency.1 = latency,
        }
    }

    /// Fails each request with this probability, drawn from `seed`: a
    /// refusal (500, 409.2 busy, 503) or a lost reply, in equal parts.
    /// `0.0` turns it off.
    pub fn set_fault_rate(&self, rate: f64, seed: u64) {
        let mut h = self.shared.harness();
        h.fault_rate = rate.clamp(0.0, 1.0);
        h.fault_rng = fastrand::Rng::with_seed(seed);
    }

    /// How many requests the random fault rate has failed.
    pub fn random_faults(&self) -> u64 {
        self.shared.harness().random_faults
    }

    /// Disarms every injected fault that has not fired yet.
    pub fn clear_faults(&self) {
        self.shared.harness().faults.clear();
    }

    /// Turns the FC zone manager on or off. Off, Cinder still masks LUNs
    /// and returns its `initiator_target_map`, but no zones are made, so
    /// the LUNs are not visible to the initiators (a misconfigured site).
    pub fn set_zoning(&self, enabled: bool) {
        lock(self.world()).san.zoning = enabled;
    }

    /// Sets a volume's status, as an administrator's `cinder reset-state`
    /// would (to put one in `error` or `maintenance`); false when there is
    /// no such volume.
    pub fn set_volume_status(&self, volume: &VolumeId, status: VolumeStatus) -> bool {
        let mut w = lock(self.world());
        w.settle();
        match w.cinder.volumes.get_mut(volume) {
            Some(v) => {
                v.status = status;
                true
            }
            None => false,
        }
    }

    /// Puts a partition in a status a real CPC produces on its own:
    /// `reservation-error` (from `stopped`: an activation that found no
    /// resources), `terminated` or `paused` (the guest halted or waits;
    /// from a partition that holds its resources), `degraded` (from
    /// `active`) and `active` again (from `degraded`). Checked first: a
    /// refusal changes nothing. Announced as a status change, as the HMC
    /// announces it.
    pub fn set_partition_status(
        &self,
        partition: &PartitionUri,
        status: PartitionStatus,
    ) -> Result<(), crate::StatusError> {
        let mut w = lock(self.world());
        w.settle();
        w.hmc.set_partition_status(partition, status)
    }

    /// Whether the partition's guest honours shutdown commands sent to it
    /// (Send OS Command): an unresponsive one is a hung guest, which
    /// echoes the command and goes on running. It stays so, across the
    /// partition's runs, until set again. False when there is no such
    /// partition.
    pub fn set_guest_responsive(&self, partition: &PartitionUri, responsive: bool) -> bool {
        let mut w = lock(self.world());
        w.settle();
        w.hmc.set_guest_responsive(partition, responsive)
    }

    /// Ends every HMC session, as an HMC restart or timeout would.
    pub fn expire_sessions(&self) {
        lock(self.world()).hmc.sessions.clear();
    }
}
