//! The HMC operations this crate calls or `dpm-sim` models, each declared
//! once: its name, the title the HMC's Web Services API book gives it,
//! its HTTP method, its path template and the query parameters the HMC
//! takes on it.
//!
//! `HttpHmc` (the `http` feature) builds its requests from this table;
//! `dpm-sim` counts, fails and dispatches by it (its `Op` is generated
//! from the same declaration, through `hmc_operations!`), and its
//! served router resolves a request's method and path with
//! [`HmcOp::resolve`]: what no entry matches is an operation it does not
//! model.
//!
//! ```
//! use hmc_client::{HmcOp, Method, Resolution};
//!
//! let op = HmcOp::StartPartition;
//! assert_eq!(op.method(), Method::Post);
//! assert_eq!(op.path(&["p1"]), "/api/partitions/p1/operations/start");
//! match HmcOp::resolve("POST", "/api/partitions/p1/operations/start") {
//!     Resolution::Found(found, ids) => {
//!         assert_eq!(found, op);
//!         assert_eq!(ids, ["p1"]);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

use std::fmt;

/// The table: one entry per operation, passed to `$callback` (a
/// `macro_rules!` macro) as
/// `$( $(#[doc])* Variant = "name", "Title", METHOD "/path/{id}", [query, ...]; )+`.
/// `dpm-sim` builds its `Op` from it; this crate builds [`HmcOp`].
///
/// Adding an operation is one entry here, the [`HmcApi`](crate::HmcApi)
/// method that calls it (if the driver needs it), and the simulator's
/// domain function that answers it.
#[doc(hidden)]
#[macro_export]
macro_rules! hmc_operations {
    ($callback:ident) => {
        $callback! {
            /// Logon (no session).
            Logon = "hmc.logon", "Logon", POST "/api/sessions", [];
            /// Logoff of this session.
            Logoff = "hmc.logoff", "Logoff", DELETE "/api/sessions/this-session", [];
            /// The HMC's API version (no session).
            ApiVersion = "hmc.api_version", "Query API Version", GET "/api/version", [];
            /// The console's properties.
            GetConsole = "hmc.get_console", "Get Console Properties",
                GET "/api/console", ["properties"];
            /// The partitions the user may see, on every managed CPC.
            ListPermittedPartitions = "hmc.list_permitted_partitions",
                "List Permitted Partitions",
                GET "/api/console/operations/list-permitted-partitions",
                ["name", "type", "status", "has-unacceptable-status", "cpc-name",
                 "additional-properties"];
            /// The adapters the user may see, on every managed CPC.
            ListPermittedAdapters = "hmc.list_permitted_adapters", "List Permitted Adapters",
                GET "/api/console/operations/list-permitted-adapters",
                ["name", "adapter-id", "adapter-family", "type", "status",
                 "firmware-update-pending", "cpc-name", "dpm-enabled",
                 "additional-properties"];
            /// The console's API features.
            ListApiFeatures = "hmc.list_api_features", "List Console API Features",
                GET "/api/console/operations/list-features", ["name"];
            /// A CPC's API features.
            ListCpcApiFeatures = "hmc.list_cpc_api_features", "List CPC API Features",
                GET "/api/cpcs/{cpc-id}/operations/list-features", ["name"];
            /// The managed CPCs.
            ListCpcs = "hmc.list_cpcs", "List CPC Objects", GET "/api/cpcs", ["name"];
            /// One CPC's properties.
            GetCpc = "hmc.get_cpc", "Get CPC Properties",
                GET "/api/cpcs/{cpc-id}", ["properties"];
            /// Whether a LUN is reachable from a host port (z14 and later).
            ValidateLunPath = "hmc.validate_lun_path", "Validate LUN Path",
                POST "/api/cpcs/{cpc-id}/operations/validate-lun-path", [];
            /// A CPC's adapters.
            ListAdapters = "hmc.list_adapters", "List Adapters of a CPC",
                GET "/api/cpcs/{cpc-id}/adapters",
                ["name", "adapter-id", "type", "adapter-family", "status",
                 "additional-properties"];
            /// One adapter's properties.
            GetAdapter = "hmc.get_adapter", "Get Adapter Properties",
                GET "/api/adapters/{adapter-id}", ["properties"];
            /// One storage port's properties.
            GetStoragePort = "hmc.get_storage_port", "Get Storage Port Properties",
                GET "/api/adapters/{adapter-id}/storage-ports/{storage-port-id}",
                ["properties"];
            /// The partitions an adapter is assigned to.
            GetPartitionsOfAdapter = "hmc.get_partitions_assigned_to_adapter",
                "Get Partitions Assigned to Adapter",
                GET "/api/adapters/{adapter-id}/operations/get-partitions-assigned-to-adapter",
                ["name", "status"];
            /// A CPC's partitions.
            ListPartitions = "hmc.list_partitions", "List Partitions of a CPC",
                GET "/api/cpcs/{cpc-id}/partitions",
                ["name", "status", "type", "additional-properties"];
            /// A new partition.
            CreatePartition = "hmc.create_partition", "Create Partition",
                POST "/api/cpcs/{cpc-id}/partitions", [];
            /// One partition's properties.
            GetPartition = "hmc.get_partition", "Get Partition Properties",
                GET "/api/partitions/{partition-id}", ["properties"];
            /// A change to a partition's properties.
            UpdatePartition = "hmc.update_partition", "Update Partition Properties",
                POST "/api/partitions/{partition-id}", [];
            /// A stopped partition's removal.
            DeletePartition = "hmc.delete_partition", "Delete Partition",
                DELETE "/api/partitions/{partition-id}", [];
            /// A partition's start (a job).
            StartPartition = "hmc.start_partition", "Start Partition",
                POST "/api/partitions/{partition-id}/operations/start", [];
            /// A partition's stop (a job).
            StopPartition = "hmc.stop_partition", "Stop Partition",
                POST "/api/partitions/{partition-id}/operations/stop", [];
            /// The messages of a partition's operating system.
            ListOsMessages = "hmc.list_os_messages", "List OS Messages of a Partition",
                GET "/api/partitions/{partition-id}/operations/list-os-messages",
                ["begin-sequence-number", "end-sequence-number", "is-held", "is-priority",
                 "max-messages"];
            /// A command to a partition's operating system.
            SendOsCommand = "hmc.send_os_command", "Send OS Command",
                POST "/api/partitions/{partition-id}/operations/send-os-cmd", [];
            /// The notification topic of a partition's OS messages.
            OpenOsMessageChannel = "hmc.open_os_message_channel", "Open OS Message Channel",
                POST "/api/partitions/{partition-id}/operations/open-os-message-channel", [];
            /// A storage group attached to a partition (z14 and later).
            AttachStorageGroup = "hmc.attach_storage_group",
                "Attach Storage Group to Partition",
                POST "/api/partitions/{partition-id}/operations/attach-storage-group", [];
            /// A storage group detached from a partition (z14 and later).
            DetachStorageGroup = "hmc.detach_storage_group",
                "Detach Storage Group from Partition",
                POST "/api/partitions/{partition-id}/operations/detach-storage-group", [];
            /// A new virtual HBA (z13).
            CreateHba = "hmc.create_hba", "Create HBA",
                POST "/api/partitions/{partition-id}/hbas", [];
            /// One virtual HBA's properties (z13).
            GetHba = "hmc.get_hba", "Get HBA Properties",
                GET "/api/partitions/{partition-id}/hbas/{hba-id}", ["properties"];
            /// A change to a virtual HBA (z13).
            UpdateHba = "hmc.update_hba", "Update HBA Properties",
                POST "/api/partitions/{partition-id}/hbas/{hba-id}", [];
            /// A virtual HBA's removal (z13).
            DeleteHba = "hmc.delete_hba", "Delete HBA",
                DELETE "/api/partitions/{partition-id}/hbas/{hba-id}", [];
            /// The storage groups (z14 and later).
            ListStorageGroups = "hmc.list_storage_groups", "List Storage Groups",
                GET "/api/storage-groups", ["cpc-uri", "name", "type", "fulfillment-state"];
            /// A new storage group, with its volumes.
            CreateStorageGroup = "hmc.create_storage_group", "Create Storage Group",
                POST "/api/storage-groups", [];
            /// One storage group's properties.
            GetStorageGroup = "hmc.get_storage_group", "Get Storage Group Properties",
                GET "/api/storage-groups/{storage-group-id}", ["properties"];
            /// A change to a storage group and its volumes.
            ModifyStorageGroup = "hmc.modify_storage_group", "Modify Storage Group Properties",
                POST "/api/storage-groups/{storage-group-id}/operations/modify", [];
            /// A storage group's removal.
            DeleteStorageGroup = "hmc.delete_storage_group", "Delete Storage Group",
                POST "/api/storage-groups/{storage-group-id}/operations/delete", [];
            /// Ports a storage group's volumes may be reached through.
            AddCandidateAdapterPorts = "hmc.add_candidate_adapter_ports",
                "Add Candidate Adapter Ports to an FCP Storage Group",
                POST "/api/storage-groups/{storage-group-id}/operations/add-candidate-adapter-ports",
                [];
            /// Ports taken from a storage group's candidates.
            RemoveCandidateAdapterPorts = "hmc.remove_candidate_adapter_ports",
                "Remove Candidate Adapter Ports from an FCP Storage Group",
                POST "/api/storage-groups/{storage-group-id}/operations/remove-candidate-adapter-ports",
                [];
            /// The partitions a storage group is attached to.
            GetStorageGroupPartitions = "hmc.get_storage_group_partitions",
                "Get Partitions for a Storage Group",
                GET "/api/storage-groups/{storage-group-id}/operations/get-partitions", [];
            /// FCP discovery of a storage group's LUNs (a job).
            StartFcpStorageDiscovery = "hmc.start_fcp_storage_discovery",
                "Start FCP Storage Discovery",
                POST "/api/storage-groups/{storage-group-id}/operations/start-fcp-storage-discovery",
                [];
            /// Volumes whose LUN differs in size from the request, taken as they are.
            AcceptMismatchedStorageVolumes = "hmc.accept_mismatched_storage_volumes",
                "Accept Mismatched FCP Storage Volumes",
                POST "/api/storage-groups/{storage-group-id}/operations/accept-mismatched-storage-volumes",
                [];
            /// A storage group's volumes.
            ListStorageVolumes = "hmc.list_storage_volumes",
                "List Storage Volumes of a Storage Group",
                GET "/api/storage-groups/{storage-group-id}/storage-volumes",
                ["name", "usage", "fulfillment-state", "minimum-size", "maximum-size",
                 "additional-properties"];
            /// One storage volume's properties.
            GetStorageVolume = "hmc.get_storage_volume", "Get Storage Volume Properties",
                GET "/api/storage-groups/{storage-group-id}/storage-volumes/{storage-volume-id}",
                ["properties"];
            /// A storage group's virtual storage resources.
            ListVsrs = "hmc.list_vsrs", "List Virtual Storage Resources of a Storage Group",
                GET "/api/storage-groups/{storage-group-id}/virtual-storage-resources",
                ["name", "partition-uri", "device-number", "adapter-port-uri"];
            /// One virtual storage resource's properties.
            GetVsr = "hmc.get_vsr", "Get Virtual Storage Resource Properties",
                GET "/api/storage-groups/{storage-group-id}/virtual-storage-resources/{vsr-id}",
                ["properties"];
            /// Several requests in one (the aggregation service).
            SubmitRequests = "hmc.submit_requests", "Submit Requests",
                POST "/api/services/aggregation/submit", [];
            /// A job's status.
            GetJob = "hmc.get_job", "Query Job Status", GET "/api/jobs/{job-id}", [];
            /// A finished job's removal.
            DeleteJob = "hmc.delete_job", "Delete Completed Job Status",
                DELETE "/api/jobs/{job-id}", [];
        }
    };
}

/// An HTTP method of the HMC's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! method {
    (GET) => {
        Method::Get
    };
    (POST) => {
        Method::Post
    };
    (DELETE) => {
        Method::Delete
    };
}

macro_rules! define_hmc_op {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $title:literal,
        $method:ident $path:literal, [$($q:literal),* $(,)?]; )+) => {
        /// One operation of the HMC's Web Services API (see the
        /// [module](crate::route)'s table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum HmcOp {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\n", $title, ": `", stringify!($method), " ", $path, "`")]
                $variant,
            )+
        }

        impl HmcOp {
            /// Every operation, in the table's order.
            pub const ALL: &'static [HmcOp] = &[$(HmcOp::$variant),+];

            /// A stable name, e.g. `hmc.create_partition`.
            pub fn name(self) -> &'static str {
                match self { $( HmcOp::$variant => $name, )+ }
            }

            /// The operation's title in the HMC's Web Services API book.
            pub fn title(self) -> &'static str {
                match self { $( HmcOp::$variant => $title, )+ }
            }

            /// Its HTTP method.
            pub fn method(self) -> Method {
                match self { $( HmcOp::$variant => method!($method), )+ }
            }

            /// Its path template, e.g. `/api/partitions/{partition-id}`.
            pub const fn template(self) -> &'static str {
                match self { $( HmcOp::$variant => $path, )+ }
            }

            /// The query parameters the HMC takes on it (any other is
            /// refused with 400.1).
            pub fn query(self) -> &'static [&'static str] {
                match self { $( HmcOp::$variant => &[$($q),*], )+ }
            }
        }
    };
}

hmc_operations!(define_hmc_op);

/// What a method and path are, by the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// This operation, with the path's ids in the template's order.
    Found(HmcOp, Vec<&'a str>),
    /// The path is an operation's, but not with this method.
    WrongMethod,
    /// No operation has this path.
    Unknown,
}

impl HmcOp {
    /// The operation's path with `ids` in its template's `{...}` places,
    /// in order (an id too few leaves its place empty, which no HMC
    /// path has: the caller passes one per place).
    pub fn path(self, ids: &[&str]) -> String {
        let template = self.template();
        let mut out = String::with_capacity(template.len() + 40);
        let mut ids = ids.iter();
        for (i, seg) in template.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if seg.starts_with('{') {
                out.push_str(ids.next().copied().unwrap_or_default());
            } else {
                out.push_str(seg);
            }
        }
        debug_assert!(ids.next().is_none(), "{self:?}: more ids than places");
        out
    }

    /// The operation `method` on `path` (without its query) is, and the
    /// ids in the path.
    pub fn resolve<'a>(method: &str, path: &'a str) -> Resolution<'a> {
        let mut path_known = false;
        for op in Self::ALL {
            if let Some(ids) = matches(op.template(), path) {
                if op.method().as_str() == method {
                    return Resolution::Found(*op, ids);
                }
                path_known = true;
            }
        }
        if path_known {
            Resolution::WrongMethod
        } else {
            Resolution::Unknown
        }
    }
}

/// The ids of `path` if it has `template`'s shape (a `{...}` place takes
/// one non-empty segment).
fn matches<'a>(template: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let mut ids = Vec::new();
    let mut have = path.split('/');
    for want in template.split('/') {
        let seg = have.next()?;
        if want.starts_with('{') {
            if seg.is_empty() {
                return None;
            }
            ids.push(seg);
        } else if want != seg {
            return None;
        }
    }
    have.next().is_none().then_some(ids)
}

impl fmt::Display for HmcOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_resolves_to_its_own_operation() {
        for op in HmcOp::ALL {
            let places = op.template().matches('{').count();
            let ids: Vec<String> = (0..places).map(|i| format!("id{i}")).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let path = op.path(&ids);
            assert!(!path.contains('{'), "{path}");
            assert_eq!(
                HmcOp::resolve(op.method().as_str(), &path),
                Resolution::Found(*op, ids.clone()),
                "{op:?}"
            );
        }
    }

    #[test]
    fn names_and_routes_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        let mut routes = std::collections::BTreeSet::new();
        for op in HmcOp::ALL {
            assert!(names.insert(op.name()), "{} twice", op.name());
            assert!(op.name().starts_with("hmc."));
            assert!(
                routes.insert((op.method().as_str(), op.template())),
                "{op:?}: its route is another's"
            );
        }
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(
            HmcOp::resolve("PUT", "/api/partitions/p1"),
            Resolution::WrongMethod
        );
        assert_eq!(
            HmcOp::resolve("GET", "/api/partitions/p1/nics"),
            Resolution::Unknown
        );
        assert_eq!(
            HmcOp::resolve("GET", "/api/partitions/"),
            Resolution::Unknown
        );
        assert_eq!(
            HmcOp::resolve("GET", "/api/partitions/p1/"),
            Resolution::Unknown
        );
        assert_eq!(
            HmcOp::resolve("GET", "/api/virtual-switches"),
            Resolution::Unknown
        );
    }

    /// The typed URIs' text is the path of their "Get ... Properties", so
    /// a path built from a URI's ids is the URI (what a client sent before
    /// it built paths from this table).
    #[test]
    fn object_uris_are_their_get_paths() {
        use crate::ids::*;
        let cases: Vec<(HmcOp, Vec<&str>, String)> = vec![
            (
                HmcOp::GetCpc,
                vec!["c1"],
                CpcUri::from_object_id("c1").unwrap().to_string(),
            ),
            (
                HmcOp::GetAdapter,
                vec!["a1"],
                AdapterUri::from_object_id("a1").unwrap().to_string(),
            ),
            (
                HmcOp::GetPartition,
                vec!["p1"],
                PartitionUri::from_object_id("p1").unwrap().to_string(),
            ),
            (
                HmcOp::GetJob,
                vec!["j1"],
                JobUri::from_object_id("j1").unwrap().to_string(),
            ),
            (
                HmcOp::GetStorageGroup,
                vec!["g1"],
                StorageGroupUri::from_object_id("g1").unwrap().to_string(),
            ),
            (
                HmcOp::GetHba,
                vec!["p1", "h1"],
                HbaUri::new(&PartitionUri::from_object_id("p1").unwrap(), "h1")
                    .unwrap()
                    .to_string(),
            ),
            (
                HmcOp::GetStoragePort,
                vec!["a1", "0"],
                StoragePortUri::new(&AdapterUri::from_object_id("a1").unwrap(), "0")
                    .unwrap()
                    .to_string(),
            ),
            (
                HmcOp::GetStorageVolume,
                vec!["g1", "v1"],
                StorageVolumeUri::new(&StorageGroupUri::from_object_id("g1").unwrap(), "v1")
                    .unwrap()
                    .to_string(),
            ),
            (
                HmcOp::GetVsr,
                vec!["g1", "r1"],
                VsrUri::new(&StorageGroupUri::from_object_id("g1").unwrap(), "r1")
                    .unwrap()
                    .to_string(),
            ),
        ];
        for (op, ids, uri) in cases {
            assert_eq!(op.path(&ids), uri, "{op:?}");
        }
        assert_eq!(crate::CONSOLE_URI, "/api/console");
        assert_eq!(HmcOp::GetConsole.path(&[]), crate::CONSOLE_URI);
    }

    #[test]
    fn ids_fill_the_places_in_order() {
        assert_eq!(
            HmcOp::GetHba.path(&["p1", "h2"]),
            "/api/partitions/p1/hbas/h2"
        );
        assert_eq!(HmcOp::ListCpcs.path(&[]), "/api/cpcs");
    }
}
