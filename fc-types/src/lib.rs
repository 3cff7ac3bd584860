//! Fibre Channel addressing values, defined once for the whole workspace.
//!
//! The HMC names a virtual HBA by its WWPN and boots from a storage target
//! WWPN and an 8-byte FCP LUN; Cinder hands out target WWPNs and an integer
//! `target_lun`. Both sides, the driver and the simulator, go through the
//! types here so that there is exactly one canonical form for comparing and
//! printing, and exactly one LUN encoding.
//!
//! - [`Wwpn`] / [`Wwnn`]: 64-bit world wide names. Parsing accepts `0x`,
//!   colon-separated byte pairs and either case; the canonical form is 16
//!   lower-case hex digits.
//! - [`FcpLun`]: the 8-byte FCP LUN in the SCSI (SAM) encoding that Linux's
//!   `int_to_scsilun` uses, built from Cinder's integer `target_lun`.
//! - [`DeviceNumber`]: the 4-hex-digit channel subsystem device number of a
//!   vHBA.
//!
//! ```
//! use fc_types::{FcpLun, Wwpn};
//!
//! let a: Wwpn = "0x50:05:07:68:0B:21:55:AB".parse()?;
//! let b: Wwpn = "500507680b2155ab".parse()?;
//! assert_eq!(a, b);
//! assert_eq!(a.to_string(), "500507680b2155ab");
//!
//! let lun = FcpLun::from_target_lun(1);
//! assert_eq!(lun.to_string(), "0001000000000000");
//! assert_eq!(lun.to_target_lun(), 1);
//! # Ok::<(), fc_types::ParseError>(())
//! ```

mod device;
mod lun;
mod wwn;

pub use device::DeviceNumber;
pub use lun::FcpLun;
pub use wwn::{Wwnn, Wwpn};

/// Why a string is not a valid FC value. Each variant names the kind of
/// value and carries the offending input so that the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not 16 hex digits (after removing an optional `0x` and colons).
    #[error(
        "{kind} {input:?} is not 16 hex digits (optionally with 0x or colon-separated byte pairs)"
    )]
    Wwn {
        /// "WWPN" or "WWNN".
        kind: &'static str,
        /// The rejected text.
        input: String,
    },
    /// Not 16 hex digits (or, on the wire, 1 to 16).
    #[error("FCP LUN {input:?} is not 16 hex digits")]
    Lun {
        /// The rejected text.
        input: String,
    },
    /// A Cinder `target_lun` that is negative or not an integer.
    #[error("target_lun {input} is out of range (must be an integer from 0 to 2^64-1)")]
    LunOutOfRange {
        /// The rejected value, as text.
        input: String,
    },
    /// Not 4 hex digits.
    #[error("device number {input:?} is not 4 hex digits")]
    DeviceNumber {
        /// The rejected text.
        input: String,
    },
}

/// Parses exactly `n` hex digits (either case) into an integer.
/// `1..=n` hex digits (a value written without its leading zeros).
fn parse_hex_up_to(s: &str, n: usize) -> Option<u64> {
    if s.is_empty() || s.len() > n || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn parse_hex_exact(s: &str, n: usize) -> Option<u64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// Serde support shared by the string-formatted types: serialize with
/// `Display`, deserialize with `FromStr` (or the given parser).
macro_rules! serde_via_str {
    ($t:ty, $expecting:expr) => {
        serde_via_str!($t, $expecting, str::parse);
    };
    ($t:ty, $expecting:expr, $parse:path) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        $parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use serde_via_str;
