use std::fmt;
use std::str::FromStr;

use crate::{parse_hex_exact, parse_hex_up_to, serde_via_str, ParseError};

/// An FCP LUN: the 8-byte SCSI LUN the HMC takes as
/// `boot-logical-unit-number`, printed as 16 lower-case hex digits.
///
/// Cinder reports a LUN as an integer (`target_lun`). The conversion is the
/// SAM encoding Linux uses in `int_to_scsilun`: each 16-bit addressing level
/// in turn, high byte first. So 1 becomes `0001000000000000` and 256 becomes
/// `0100000000000000`. The driver and the simulator both convert through this
/// one type.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FcpLun([u8; 8]);

impl FcpLun {
    /// Encodes Cinder's integer `target_lun` (the `int_to_scsilun` rule).
    pub const fn from_target_lun(lun: u64) -> Self {
        let mut bytes = [0u8; 8];
        let mut rest = lun;
        let mut level = 0;
        while level < 4 {
            bytes[level * 2] = ((rest >> 8) & 0xff) as u8;
            bytes[level * 2 + 1] = (rest & 0xff) as u8;
            rest >>= 16;
            level += 1;
        }
        Self(bytes)
    }

    /// Encodes a `target_lun` that arrived as a signed integer, refusing a
    /// negative value.
    pub fn try_from_target_lun(lun: i64) -> Result<Self, ParseError> {
        u64::try_from(lun)
            .map(Self::from_target_lun)
            .map_err(|_| ParseError::LunOutOfRange {
                input: lun.to_string(),
            })
    }

    /// Decodes back to the integer form (Linux's `scsilun_to_int`).
    pub const fn to_target_lun(self) -> u64 {
        let b = self.0;
        let mut lun: u64 = 0;
        let mut level = 0;
        while level < 4 {
            let word = ((b[level * 2] as u64) << 8) | b[level * 2 + 1] as u64;
            lun |= word << (16 * level);
            level += 1;
        }
        lun
    }

    /// Parses the LUN as the HMC's JSON carries it: up to 16 hex digits,
    /// by value. The HMC writes 16; other tools write short forms, and a
    /// partition they set up reads back as they wrote it (`"0002"` is
    /// `0000000000000002`). Serde uses this; it always writes 16 digits.
    pub fn from_wire(s: &str) -> Result<Self, ParseError> {
        parse_hex_up_to(s, 16)
            .map(|v| Self(v.to_be_bytes()))
            .ok_or_else(|| ParseError::Lun {
                input: s.to_owned(),
            })
    }

    /// The raw 8 bytes.
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

/// Parses exactly 16 hex digits in either case. Input from people and
/// configuration must be whole: a short form such as `"12"` is what
/// nova-dpm sent for LUN 12, which the HMC reads as LUN 0x12. (Reading the
/// HMC's JSON is [`FcpLun::from_wire`].)
impl FromStr for FcpLun {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_hex_exact(s, 16)
            .map(|v| Self(v.to_be_bytes()))
            .ok_or_else(|| ParseError::Lun {
                input: s.to_owned(),
            })
    }
}

impl fmt::Display for FcpLun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", u64::from_be_bytes(self.0))
    }
}

impl fmt::Debug for FcpLun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FcpLun({self})")
    }
}

serde_via_str!(
    FcpLun,
    "an FCP LUN of up to 16 hex digits",
    FcpLun::from_wire
);
