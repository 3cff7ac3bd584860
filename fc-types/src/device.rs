use std::fmt;
use std::str::FromStr;

use crate::{parse_hex_exact, serde_via_str, ParseError};

/// A channel subsystem device number, such as a vHBA's `device-number`:
/// 4 hex digits, printed in lower case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceNumber(u16);

impl DeviceNumber {
    /// Builds a device number from its value.
    pub const fn new(v: u16) -> Self {
        Self(v)
    }
    /// The value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl FromStr for DeviceNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_hex_exact(s, 4)
            .and_then(|v| u16::try_from(v).ok())
            .map(Self)
            .ok_or_else(|| ParseError::DeviceNumber {
                input: s.to_owned(),
            })
    }
}

impl fmt::Display for DeviceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

impl fmt::Debug for DeviceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceNumber({self})")
    }
}

serde_via_str!(DeviceNumber, "a device number of 4 hex digits");
