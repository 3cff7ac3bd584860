//! An instance's name, stored with its partition, and what the driver
//! reads back: the host's instances with their names, and one instance in
//! full (`describe`).
//!
//! The partition's name holds the instance UUID (`OpenStack-<host>-<uuid>`);
//! its `description` holds, after nova-dpm's `OpenStack CPCSubset=<host>`,
//! the UUID again and the name the instance was spawned with:
//!
//! ```text
//! OpenStack CPCSubset=compute-1 instance=8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63 name=web1
//! ```
//!
//! The name is last, so it may hold spaces; [`InstanceName`] keeps it to
//! [`MAX_NAME_LEN`] characters, so the description stays well within the
//! HMC's 1024.

use std::fmt;
use std::str::FromStr;

use cinder_client::InstanceId;

/// The longest instance name, in characters (Nova's display name column).
pub const MAX_NAME_LEN: usize = 255;

/// An instance's name: 1 to [`MAX_NAME_LEN`] characters, no control
/// characters, no space at either end, and not a UUID (so that a name and
/// a UUID never stand for different instances).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceName(String);

/// A name that cannot be an instance's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, or only spaces.
    #[error("an instance name cannot be empty")]
    Empty,
    /// Too long.
    #[error("the instance name is {len} characters; at most {MAX_NAME_LEN}")]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// Holds a control character (a newline, say).
    #[error("the instance name {name:?} holds a control character")]
    Control {
        /// The name.
        name: String,
    },
    /// Starts or ends with a space.
    #[error("the instance name {name:?} starts or ends with a space")]
    Padded {
        /// The name.
        name: String,
    },
    /// Reads as a UUID, which would stand for another instance.
    #[error("the instance name {name:?} is a UUID; instances are named by their UUID already, choose a name that is not one")]
    Uuid {
        /// The name.
        name: String,
    },
}

impl FromStr for InstanceName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        if s.trim().is_empty() {
            return Err(NameError::Empty);
        }
        let len = s.chars().count();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { len });
        }
        if s.chars().any(char::is_control) {
            return Err(NameError::Control { name: s.into() });
        }
        if s.trim() != s {
            return Err(NameError::Padded { name: s.into() });
        }
        if s.parse::<InstanceId>().is_ok() {
            return Err(NameError::Uuid { name: s.into() });
        }
        Ok(Self(s.to_owned()))
    }
}

impl InstanceName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for InstanceName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The description spawn gives a partition.
pub(crate) fn partition_description(
    host: &str,
    instance: &InstanceId,
    name: Option<&InstanceName>,
) -> String {
    let mut d = format!("OpenStack CPCSubset={host} instance={instance}");
    if let Some(n) = name {
        d.push_str(" name=");
        d.push_str(n.as_str());
    }
    d
}

/// Whether a partition with this description, found by the instance's
/// name, is the instance's: the description spawn writes on this host
/// names it (with or without a name after), or it is nova-dpm's own
/// `OpenStack CPCSubset=<host>` (which named no instance), so partitions
/// nova-dpm made stay manageable. Anything else — another instance,
/// another host, an operator's text — makes the partition foreign.
pub(crate) fn names_instance(description: &str, host: &str, instance: &InstanceId) -> bool {
    let ours = partition_description(host, instance, None);
    match description.strip_prefix(ours.as_str()) {
        Some(rest) => rest.is_empty() || rest.starts_with(" name="),
        None => description == format!("OpenStack CPCSubset={host}"),
    }
}

/// The instance and name a description written by spawn holds (`None` for any other description; a
/// name that is not valid any more reads as none).
pub fn parse_description(description: &str) -> Option<(InstanceId, Option<InstanceName>)> {
    let rest = description.strip_prefix("OpenStack CPCSubset=")?;
    let (_, rest) = rest.split_once(" instance=")?;
    let uuid = rest.get(..36)?;
    let instance: InstanceId = uuid.parse().ok()?;
    let rest = rest.get(36..)?;
    let name = rest.strip_prefix(" name=").and_then(|n| n.parse().ok());
    Some((instance, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_reads_back_its_instance_and_name() {
        let id = InstanceId::from_u128(7);
        let name: InstanceName = "web 1 name=x".parse().unwrap();
        let d = partition_description("compute-1", &id, Some(&name));
        assert_eq!(
            d,
            format!("OpenStack CPCSubset=compute-1 instance={id} name=web 1 name=x")
        );
        assert_eq!(parse_description(&d), Some((id.clone(), Some(name))));
        let plain = partition_description("compute-1", &id, None);
        assert_eq!(parse_description(&plain), Some((id, None)));
        assert_eq!(parse_description("OpenStack CPCSubset=compute-1"), None);
        assert_eq!(parse_description("something else"), None);
    }

    #[test]
    fn only_a_description_naming_the_instance_owns_its_partition() {
        let id = InstanceId::from_u128(7);
        let other = InstanceId::from_u128(8);
        let name: InstanceName = "web1".parse().unwrap();
        let ours = partition_description("compute-1", &id, Some(&name));
        assert!(names_instance(&ours, "compute-1", &id));
        let plain = partition_description("compute-1", &id, None);
        assert!(names_instance(&plain, "compute-1", &id));
        // nova-dpm's partitions named no instance.
        assert!(names_instance(
            "OpenStack CPCSubset=compute-1",
            "compute-1",
            &id
        ));
        // Another instance's, another host's, an operator's.
        let theirs = partition_description("compute-1", &other, Some(&name));
        assert!(!names_instance(&theirs, "compute-1", &id));
        assert!(!names_instance(&ours, "compute-2", &id));
        assert!(!names_instance(
            "OpenStack CPCSubset=compute-2",
            "compute-1",
            &id
        ));
        assert!(!names_instance("", "compute-1", &id));
        assert!(!names_instance("db server, do not touch", "compute-1", &id));
        assert!(!names_instance(&format!("{plain}x"), "compute-1", &id));
    }

    #[test]
    fn names_are_checked() {
        assert!("web1".parse::<InstanceName>().is_ok());
        assert_eq!("".parse::<InstanceName>(), Err(NameError::Empty));
        assert!(matches!(
            "a\nb".parse::<InstanceName>(),
            Err(NameError::Control { .. })
        ));
        assert!(matches!(
            " web".parse::<InstanceName>(),
            Err(NameError::Padded { .. })
        ));
        assert!(matches!(
            "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63".parse::<InstanceName>(),
            Err(NameError::Uuid { .. })
        ));
        assert!(matches!(
            "x".repeat(256).parse::<InstanceName>(),
            Err(NameError::TooLong { len: 256 })
        ));
        // The longest description fits the HMC's 1024 characters.
        let long: InstanceName = "é".repeat(MAX_NAME_LEN).parse().unwrap();
        let d = partition_description(
            &"h".repeat(crate::MAX_HOST_LEN),
            &InstanceId::from_u128(1),
            Some(&long),
        );
        assert!(d.chars().count() <= 1024);
    }
}
