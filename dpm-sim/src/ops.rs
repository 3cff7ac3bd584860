//! The operations the simulator counts and can be told to fail.

use std::fmt;

use hmc_client::HmcOp;

/// Builds [`Op`] from hmc-client's route table (the HMC's operations,
/// declared once there) and the Cinder operations listed here.
macro_rules! sim_ops {
    ($( $(#[$doc:meta])* $hmc:ident = $name:literal, $title:literal,
        $method:ident $path:literal, [$($q:literal),* $(,)?]; )+) => {
        sim_ops! {
            @hmc { $( $(#[$doc])* $hmc, )+ }
            @cinder {
                KeystoneAuth = "keystone.authenticate";
                GetVolume = "cinder.get_volume";
                ListVolumes = "cinder.list_volumes";
                CreateVolume = "cinder.create_volume";
                DeleteVolume = "cinder.delete_volume";
                CreateAttachment = "cinder.create_attachment";
                UpdateAttachment = "cinder.update_attachment";
                CompleteAttachment = "cinder.complete_attachment";
                DeleteAttachment = "cinder.delete_attachment";
                GetAttachment = "cinder.get_attachment";
                ListAttachments = "cinder.list_attachments";
                Reserve = "cinder.reserve";
                Unreserve = "cinder.unreserve";
                InitializeConnection = "cinder.initialize_connection";
                Attach = "cinder.attach";
                BeginDetaching = "cinder.begin_detaching";
                RollDetaching = "cinder.roll_detaching";
                TerminateConnection = "cinder.terminate_connection";
                Detach = "cinder.detach";
            }
        }
    };
    (@hmc { $( $(#[$doc:meta])* $hmc:ident, )+ }
     @cinder { $( $cinder:ident = $cname:literal; )+ }) => {
        /// One API operation of the HMC (hmc-client's [`HmcOp`]) or of
        /// Cinder.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Op {
            $(
                $(#[$doc])*
                $hmc,
            )+
            $(
                #[doc = concat!("`", $cname, "`")]
                $cinder,
            )+
        }

        impl Op {
            /// Every operation.
            pub const ALL: &'static [Op] = &[$(Op::$hmc,)+ $(Op::$cinder),+];

            /// The HMC operation this is, by hmc-client's table (None for
            /// Cinder's).
            pub fn hmc(self) -> Option<HmcOp> {
                match self {
                    $( Op::$hmc => Some(HmcOp::$hmc), )+
                    _ => None,
                }
            }

            /// A stable name, e.g. `hmc.create_partition`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Op::$hmc => HmcOp::$hmc.name(), )+
                    $( Op::$cinder => $cname, )+
                }
            }
        }

        impl From<HmcOp> for Op {
            fn from(op: HmcOp) -> Op {
                match op { $( HmcOp::$hmc => Op::$hmc, )+ }
            }
        }
    };
}

hmc_client::hmc_operations!(sim_ops);

impl Op {
    /// The operation of a name, e.g. `hmc.create_partition`.
    pub fn from_name(name: &str) -> Option<Op> {
        Self::ALL.iter().copied().find(|o| o.name() == name)
    }

    /// Which API the operation belongs to.
    pub fn side(self) -> Side {
        match self.hmc() {
            Some(_) => Side::Hmc,
            None => Side::Cinder,
        }
    }

    /// Whether this is job traffic (polling or deleting a job), counted
    /// apart from the requests an operation makes.
    pub fn is_job_traffic(self) -> bool {
        matches!(self, Op::GetJob | Op::DeleteJob)
    }

    /// The Cinder microversion an operation needs (the attachments API
    /// 3.27, completing an attachment 3.44).
    pub(crate) fn cinder_since(self) -> Option<(u32, u32)> {
        match self {
            Op::CreateAttachment
            | Op::UpdateAttachment
            | Op::DeleteAttachment
            | Op::GetAttachment
            | Op::ListAttachments => Some((3, 27)),
            Op::CompleteAttachment => Some((3, 44)),
            _ => None,
        }
    }

    /// The HTTP method of an HMC operation, by the table (Cinder's are
    /// told by their callers).
    pub(crate) fn method(self) -> &'static str {
        self.hmc().map_or("", |o| o.method().as_str())
    }
}

/// The API an [`Op`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The HMC Web Services API.
    Hmc,
    /// The Cinder API.
    Cinder,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Request counts, by operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub(crate) std::collections::BTreeMap<Op, u64>);

impl Counters {
    /// How many times `op` was requested.
    pub fn get(&self, op: Op) -> u64 {
        self.0.get(&op).copied().unwrap_or(0)
    }
    /// Requests to one API, not counting job traffic.
    pub fn requests(&self, side: Side) -> u64 {
        self.sum(|op| op.side() == side && !op.is_job_traffic())
    }
    /// Job polls and job deletions.
    pub fn job_traffic(&self) -> u64 {
        self.sum(Op::is_job_traffic)
    }
    /// The counts that are not zero, by name.
    pub fn nonzero(&self) -> impl Iterator<Item = (Op, u64)> + '_ {
        self.0
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(o, n)| (*o, *n))
    }
    fn sum(&self, keep: impl Fn(Op) -> bool) -> u64 {
        self.0
            .iter()
            .filter(|(o, _)| keep(**o))
            .map(|(_, n)| n)
            .sum()
    }
}
