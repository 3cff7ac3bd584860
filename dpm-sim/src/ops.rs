//! The operations the simulator counts and can be told to fail.

use std::fmt;

macro_rules! ops {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $side:ident, $job:literal; )+) => {
        /// One API operation of the HMC or Cinder.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Op {
            $(
                $(#[$doc])*
                #[doc = concat!("`", $name, "`")]
                $variant,
            )+
        }

        impl Op {
            /// Every operation.
            pub const ALL: &'static [Op] = &[$(Op::$variant),+];

            /// A stable name, e.g. `hmc.create_partition`.
            pub fn name(self) -> &'static str {
                match self { $( Op::$variant => $name, )+ }
            }

            /// The operation of a name, e.g. `hmc.create_partition`.
            pub fn from_name(name: &str) -> Option<Op> {
                Self::ALL.iter().copied().find(|o| o.name() == name)
            }

            /// Which API the operation belongs to.
            pub fn side(self) -> Side {
                match self { $( Op::$variant => Side::$side, )+ }
            }

            /// Whether this is job traffic (polling or deleting a job),
            /// counted apart from the requests an operation makes.
            pub fn is_job_traffic(self) -> bool {
                match self { $( Op::$variant => $job, )+ }
            }
        }
    };
}

/// The API an [`Op`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The HMC Web Services API.
    Hmc,
    /// The Cinder API.
    Cinder,
}

ops! {
    Logon = "hmc.logon", Hmc, false;
    Logoff = "hmc.logoff", Hmc, false;
    ApiVersion = "hmc.api_version", Hmc, false;
    ListCpcs = "hmc.list_cpcs", Hmc, false;
    GetCpc = "hmc.get_cpc", Hmc, false;
    ListAdapters = "hmc.list_adapters", Hmc, false;
    GetAdapter = "hmc.get_adapter", Hmc, false;
    GetStoragePort = "hmc.get_storage_port", Hmc, false;
    ListPartitions = "hmc.list_partitions", Hmc, false;
    CreatePartition = "hmc.create_partition", Hmc, false;
    GetPartition = "hmc.get_partition", Hmc, false;
    UpdatePartition = "hmc.update_partition", Hmc, false;
    DeletePartition = "hmc.delete_partition", Hmc, false;
    StartPartition = "hmc.start_partition", Hmc, false;
    StopPartition = "hmc.stop_partition", Hmc, false;
    CreateHba = "hmc.create_hba", Hmc, false;
    GetHba = "hmc.get_hba", Hmc, false;
    UpdateHba = "hmc.update_hba", Hmc, false;
    DeleteHba = "hmc.delete_hba", Hmc, false;
    ListStorageGroups = "hmc.list_storage_groups", Hmc, false;
    CreateStorageGroup = "hmc.create_storage_group", Hmc, false;
    GetStorageGroup = "hmc.get_storage_group", Hmc, false;
    ModifyStorageGroup = "hmc.modify_storage_group", Hmc, false;
    DeleteStorageGroup = "hmc.delete_storage_group", Hmc, false;
    AddCandidateAdapterPorts = "hmc.add_candidate_adapter_ports", Hmc, false;
    RemoveCandidateAdapterPorts = "hmc.remove_candidate_adapter_ports", Hmc, false;
    GetStorageGroupPartitions = "hmc.get_storage_group_partitions", Hmc, false;
    StartFcpStorageDiscovery = "hmc.start_fcp_storage_discovery", Hmc, false;
    AcceptMismatchedStorageVolumes = "hmc.accept_mismatched_storage_volumes", Hmc, false;
    ListStorageVolumes = "hmc.list_storage_volumes", Hmc, false;
    GetStorageVolume = "hmc.get_storage_volume", Hmc, false;
    ListVsrs = "hmc.list_vsrs", Hmc, false;
    GetVsr = "hmc.get_vsr", Hmc, false;
    AttachStorageGroup = "hmc.attach_storage_group", Hmc, false;
    DetachStorageGroup = "hmc.detach_storage_group", Hmc, false;
    ValidateLunPath = "hmc.validate_lun_path", Hmc, false;
    SubmitRequests = "hmc.submit_requests", Hmc, false;
    ListPermittedPartitions = "hmc.list_permitted_partitions", Hmc, false;
    ListPermittedAdapters = "hmc.list_permitted_adapters", Hmc, false;
    ListApiFeatures = "hmc.list_api_features", Hmc, false;
    GetPartitionsOfAdapter = "hmc.get_partitions_assigned_to_adapter", Hmc, false;
    GetConsole = "hmc.get_console", Hmc, false;
    ListOsMessages = "hmc.list_os_messages", Hmc, false;
    SendOsCommand = "hmc.send_os_command", Hmc, false;
    OpenOsMessageChannel = "hmc.open_os_message_channel", Hmc, false;
    GetJob = "hmc.get_job", Hmc, true;
    DeleteJob = "hmc.delete_job", Hmc, true;
    KeystoneAuth = "keystone.authenticate", Cinder, false;
    GetVolume = "cinder.get_volume", Cinder, false;
    ListVolumes = "cinder.list_volumes", Cinder, false;
    CreateVolume = "cinder.create_volume", Cinder, false;
    DeleteVolume = "cinder.delete_volume", Cinder, false;
    CreateAttachment = "cinder.create_attachment", Cinder, false;
    UpdateAttachment = "cinder.update_attachment", Cinder, false;
    CompleteAttachment = "cinder.complete_attachment", Cinder, false;
    DeleteAttachment = "cinder.delete_attachment", Cinder, false;
    GetAttachment = "cinder.get_attachment", Cinder, false;
    ListAttachments = "cinder.list_attachments", Cinder, false;
    Reserve = "cinder.reserve", Cinder, false;
    Unreserve = "cinder.unreserve", Cinder, false;
    InitializeConnection = "cinder.initialize_connection", Cinder, false;
    Attach = "cinder.attach", Cinder, false;
    BeginDetaching = "cinder.begin_detaching", Cinder, false;
    RollDetaching = "cinder.roll_detaching", Cinder, false;
    TerminateConnection = "cinder.terminate_connection", Cinder, false;
    Detach = "cinder.detach", Cinder, false;
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
