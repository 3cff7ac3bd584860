//! Typed HMC resource URIs. An HMC object is named by its canonical URI
//! (`object-uri` / `element-uri`); the id is its last segment. Each kind of
//! resource gets its own type, so a partition URI can never be passed where an
//! HBA URI is wanted, and every URI that crosses a crate boundary was checked.

use std::fmt;
use std::str::FromStr;

/// A string that is not a URI of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a {kind} URI (expected {shape})")]
pub struct UriError {
    /// The URI kind that was expected, e.g. "partition".
    pub kind: &'static str,
    /// The shape of a good URI.
    pub shape: &'static str,
    /// The rejected text.
    pub input: String,
}

/// An object id is a non-empty path segment: no `/`, `?`, `#`, `%` or whitespace.
pub(crate) fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'%'))
}

macro_rules! serde_str_newtype {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self.as_str())
            }
        }
    };
}

macro_rules! top_level_uri {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The URI prefix, ending in `/`.
            pub const PREFIX: &'static str = $prefix;

            /// Builds the URI from an object id, refusing an id that is not a
            /// single path segment.
            pub fn from_object_id(id: &str) -> Result<Self, UriError> {
                format!("{}{}", $prefix, id).parse()
            }
            /// The URI text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The object id (the last path segment).
            pub fn object_id(&self) -> &str {
                &self.0[$prefix.len()..]
            }
        }

        impl FromStr for $name {
            type Err = UriError;
            fn from_str(s: &str) -> Result<Self, UriError> {
                match s.strip_prefix($prefix) {
                    Some(id) if valid_segment(id) => Ok(Self(s.to_owned())),
                    _ => Err(UriError {
                        kind: $kind,
                        shape: concat!($prefix, "{id}"),
                        input: s.to_owned(),
                    }),
                }
            }
        }

        serde_str_newtype!($name);
    };
}

macro_rules! element_uri {
    ($(#[$doc:meta])* $name:ident, $parent:ident, $mid:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Builds the URI from its parent and element id.
            pub fn new(parent: &$parent, element_id: &str) -> Result<Self, UriError> {
                format!("{}{}{}", parent.as_str(), $mid, element_id).parse()
            }
            /// The URI text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The element id (the last path segment).
            pub fn element_id(&self) -> &str {
                self.0.rsplit('/').next().unwrap_or_default()
            }
            /// The parent object's URI.
            pub fn parent(&self) -> $parent {
                let cut = self.0.len() - self.element_id().len() - $mid.len();
                $parent(self.0[..cut].to_owned())
            }
        }

        impl FromStr for $name {
            type Err = UriError;
            fn from_str(s: &str) -> Result<Self, UriError> {
                let err = || UriError {
                    kind: $kind,
                    shape: concat!(stringify!($parent), "-uri", $mid, "{id}"),
                    input: s.to_owned(),
                };
                let rest = s.strip_prefix($parent::PREFIX).ok_or_else(err)?;
                let (pid, eid) = rest.split_once($mid).ok_or_else(err)?;
                if valid_segment(pid) && valid_segment(eid) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(err())
                }
            }
        }

        serde_str_newtype!($name);
    };
}

top_level_uri!(
    /// `/api/cpcs/{id}`
    CpcUri,
    "/api/cpcs/",
    "CPC"
);
top_level_uri!(
    /// `/api/adapters/{id}`
    AdapterUri,
    "/api/adapters/",
    "adapter"
);
top_level_uri!(
    /// `/api/partitions/{id}`
    PartitionUri,
    "/api/partitions/",
    "partition"
);
top_level_uri!(
    /// `/api/jobs/{id}`
    JobUri,
    "/api/jobs/",
    "job"
);
top_level_uri!(
    /// `/api/storage-groups/{id}`: a storage group (CPCs with the
    /// `dpm-storage-management` feature). A console-level object tied to one
    /// CPC by its `cpc-uri`.
    StorageGroupUri,
    "/api/storage-groups/",
    "storage group"
);
element_uri!(
    /// `/api/storage-groups/{sg}/storage-volumes/{sv}`: a storage volume, a
    /// request for a LUN in a storage group.
    StorageVolumeUri,
    StorageGroupUri,
    "/storage-volumes/",
    "storage volume"
);
element_uri!(
    /// `/api/storage-groups/{sg}/virtual-storage-resources/{vsr}`: one path
    /// of an attached storage group into a partition (the vHBA of the
    /// storage-group model).
    VsrUri,
    StorageGroupUri,
    "/virtual-storage-resources/",
    "virtual storage resource"
);
element_uri!(
    /// `/api/adapters/{id}/storage-ports/{n}`: one port of an FCP adapter.
    StoragePortUri,
    AdapterUri,
    "/storage-ports/",
    "storage port"
);
element_uri!(
    /// `/api/partitions/{pid}/hbas/{hid}`: a virtual HBA of a partition.
    HbaUri,
    PartitionUri,
    "/hbas/",
    "HBA"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_uri_parts() {
        let p: HbaUri = "/api/partitions/p1/hbas/h9".parse().unwrap();
        assert_eq!(p.element_id(), "h9");
        assert_eq!(p.parent().object_id(), "p1");
        let sp: StoragePortUri = "/api/adapters/a1/storage-ports/0".parse().unwrap();
        assert_eq!(sp.parent(), AdapterUri::from_object_id("a1").unwrap());
        assert_eq!(StoragePortUri::new(&sp.parent(), "0").unwrap(), sp);
    }

    #[test]
    fn rejects_wrong_kind_and_bad_segments() {
        assert!("/api/partitions/p1".parse::<CpcUri>().is_err());
        assert!("/api/cpcs/".parse::<CpcUri>().is_err());
        assert!("/api/cpcs/a/b".parse::<CpcUri>().is_err());
        assert!("/api/cpcs/a b".parse::<CpcUri>().is_err());
        assert!("/api/partitions/p1/hbas/".parse::<HbaUri>().is_err());
        assert!("/api/partitions//hbas/x".parse::<HbaUri>().is_err());
        assert!("/api/adapters/fcp1".parse::<StoragePortUri>().is_err());
        assert!(CpcUri::from_object_id("x?y=1").is_err());
        assert!("/api/storage-groups/g1/storage-volumes/v1"
            .parse::<VsrUri>()
            .is_err());
    }

    #[test]
    fn storage_group_element_uris() {
        let sv: StorageVolumeUri = "/api/storage-groups/g1/storage-volumes/v1".parse().unwrap();
        assert_eq!(sv.parent().object_id(), "g1");
        assert_eq!(sv.element_id(), "v1");
        let vsr: VsrUri = "/api/storage-groups/g1/virtual-storage-resources/r2"
            .parse()
            .unwrap();
        assert_eq!(vsr.parent(), StorageGroupUri::from_object_id("g1").unwrap());
        assert_eq!(VsrUri::new(&vsr.parent(), "r2").unwrap(), vsr);
    }
}
