//! Typed Cinder identifiers. Volumes, attachments, instances and images are
//! named by UUIDs; each kind has its own type over [`Uuid`], written in
//! canonical (hyphenated, lower-case) form.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

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
/// digits; not the braced or URN forms `uuid` also reads.
fn parse_uuid(s: &str) -> Option<Uuid> {
    match s.len() {
        36 | 32 => Uuid::try_parse(s).ok(),
        _ => None,
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        ///
        /// A [`Uuid`]; its text is the hyphenated lower-case form, and it
        /// parses that form in either case or 32 bare hex digits.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// An id made from a 128-bit value (used by simulators to hand out
            /// deterministic ids).
            pub const fn from_u128(v: u128) -> Self {
                Self(Uuid::from_u128(v))
            }
            /// The UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_uuid(s).map(Self).ok_or_else(|| IdError {
                    kind: $kind,
                    input: s.to_owned(),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.0.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
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
        assert_eq!(a.to_string(), "2bb89d80-a0be-4a57-a939-7395967d790c");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#""2bb89d80-a0be-4a57-a939-7395967d790c""#
        );
        assert_eq!(
            serde_json::from_str::<VolumeId>(r#""2BB89D80A0BE4A57A9397395967D790C""#).unwrap(),
            a
        );
        for bad in [
            "",
            "2bb89d80-a0be-4a57-a939-7395967d790",
            "2bb89d80a0be-4a57-a939-7395967d790c0",
            "2bb89d80-a0be-4a57-a939-7395967d790g",
            "2bb89d80-a0be-4a57-a939_7395967d790c",
            "{2bb89d80-a0be-4a57-a939-7395967d790c}",
            "urn:uuid:2bb89d80-a0be-4a57-a939-7395967d790c",
            "2bb89d80-a0be4a57-a939-7395967d790c-",
            "+bb89d80-a0be-4a57-a939-7395967d790c",
        ] {
            assert!(bad.parse::<VolumeId>().is_err(), "{bad}");
        }
        assert_eq!(
            VolumeId::from_u128(1).to_string(),
            "00000000-0000-0000-0000-000000000001"
        );
        assert_eq!(
            format!("{:?}", VolumeId::from_u128(1)),
            "VolumeId(00000000-0000-0000-0000-000000000001)"
        );
        assert!(
            serde_json::from_str::<VolumeId>(r#""{2bb89d80-a0be-4a57-a939-7395967d790c}""#)
                .is_err()
        );
    }
}
