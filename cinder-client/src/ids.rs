//! Typed Cinder identifiers. Volumes, attachments, instances and images are
//! named by UUIDs; each kind has its own type, in canonical lower-case form.

use std::fmt;
use std::str::FromStr;

/// A string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} id {input:?} is not a UUID (8-4-4-4-12 hex digits)")]
pub struct IdError {
    /// The kind of id, e.g. "volume".
    pub kind: &'static str,
    /// The rejected text.
    pub input: String,
}

/// Accepts the hyphenated 8-4-4-4-12 form in either case, or 32 bare hex
/// digits, and returns the hyphenated lower-case form.
fn canonical_uuid(s: &str) -> Option<String> {
    let hex: String = if s.len() == 36 {
        let dashes = [8, 13, 18, 23];
        for (i, b) in s.bytes().enumerate() {
            if dashes.contains(&i) != (b == b'-') {
                return None;
            }
        }
        s.chars().filter(|c| *c != '-').collect()
    } else if s.len() == 32 {
        s.to_owned()
    } else {
        return None;
    };
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The canonical text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// An id made from a 128-bit value (used by simulators to hand out
            /// deterministic ids).
            pub fn from_u128(v: u128) -> Self {
                let h = format!("{v:032x}");
                Self(canonical_uuid(&h).unwrap_or(h))
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                canonical_uuid(s).map(Self).ok_or_else(|| IdError {
                    kind: $kind,
                    input: s.to_owned(),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(
    /// A Cinder volume.
    VolumeId,
    "volume"
);
uuid_id!(
    /// A Cinder volume attachment.
    AttachmentId,
    "attachment"
);
uuid_id!(
    /// A Nova instance (the `instance_uuid` of an attachment).
    InstanceId,
    "instance"
);
uuid_id!(
    /// A Glance image (`imageRef`).
    ImageId,
    "image"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_forms() {
        let a: VolumeId = "2BB89D80-A0BE-4A57-A939-7395967D790C".parse().unwrap();
        let b: VolumeId = "2bb89d80a0be4a57a9397395967d790c".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2bb89d80-a0be-4a57-a939-7395967d790c");
        for bad in [
            "",
            "2bb89d80-a0be-4a57-a939-7395967d790",
            "2bb89d80a0be-4a57-a939-7395967d790c0",
            "2bb89d80-a0be-4a57-a939-7395967d790g",
            "2bb89d80-a0be-4a57-a939_7395967d790c",
        ] {
            assert!(bad.parse::<VolumeId>().is_err(), "{bad}");
        }
        assert_eq!(
            VolumeId::from_u128(1).as_str(),
            "00000000-0000-0000-0000-000000000001"
        );
    }
}
