use std::fmt;
use std::str::FromStr;

use crate::{parse_hex_exact, serde_via_str, ParseError};

/// Parses a 64-bit world wide name: 16 hex digits in either case, optionally
/// prefixed with `0x`, or eight colon-separated byte pairs (`50:05:07:...`).
fn parse_wwn(input: &str, kind: &'static str) -> Result<u64, ParseError> {
    let err = || ParseError::Wwn {
        kind,
        input: input.to_owned(),
    };
    let body = input
        .strip_prefix("0x")
        .or_else(|| input.strip_prefix("0X"))
        .unwrap_or(input);
    if body.contains(':') {
        let pairs: Vec<&str> = body.split(':').collect();
        if pairs.len() != 8 || pairs.iter().any(|p| p.len() != 2) {
            return Err(err());
        }
        parse_hex_exact(&pairs.concat(), 16).ok_or_else(err)
    } else {
        parse_hex_exact(body, 16).ok_or_else(err)
    }
}

macro_rules! wwn_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Builds the name from its 64-bit value.
            pub const fn from_u64(v: u64) -> Self {
                Self(v)
            }
            /// The 64-bit value.
            pub const fn as_u64(self) -> u64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                parse_wwn(s, $kind).map(Self)
            }
        }

        /// The canonical form: 16 lower-case hex digits, no prefix.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:016x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:016x})"), self.0)
            }
        }

        serde_via_str!($name, concat!("a ", $kind, " of 16 hex digits"));
    };
}

wwn_type!(
    /// A world wide port name: an FC initiator (vHBA) or storage target port.
    ///
    /// Equality and ordering are on the 64-bit value, so WWPNs that differ
    /// only in case or punctuation compare equal.
    Wwpn,
    "WWPN"
);
wwn_type!(
    /// A world wide node name, as Cinder connectors carry in `wwnns`.
    Wwnn,
    "WWNN"
);
