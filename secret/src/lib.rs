//! [`Secret`]: a password, token or session id that must never show.
//!
//! One type for the HMC and the Cinder clients, a thin newtype over the
//! `secrecy` crate's `SecretString` (zeroed on drop):
//! - `Debug` and `Display` print `<redacted>`;
//! - it is not `Serialize`, so no struct that holds one serializes it by
//!   accident; a wire body that must carry the value opts in, field by
//!   field, with `#[serde(serialize_with = "dpm_secret::serialize_exposed")]`;
//! - it is `Deserialize`, so configuration files and requests read it;
//! - [`Secret::expose`] is the only way to read it, so every use is easy to
//!   find.
//!
//! ```
//! use dpm_secret::Secret;
//!
//! let s = Secret::new("hunter2");
//! assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
//! assert_eq!(s.expose(), "hunter2");
//!
//! // Read from configuration as a plain string.
//! #[derive(serde::Deserialize)]
//! struct Config { password: Secret }
//! let c: Config = serde_json::from_str(r#"{"password": "s3cr3t"}"#)?;
//! assert_eq!(c.password.expose(), "s3cr3t");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! A struct that holds a secret cannot derive `Serialize` unless the field
//! says how:
//!
//! ```compile_fail
//! #[derive(serde::Serialize)]
//! struct Config { password: dpm_secret::Secret }
//! ```

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret string. `Debug` and `Display` print `<redacted>`; it
/// deserializes from a string and does not serialize; the only way to read
/// it is [`Secret::expose`].
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(SecretString::from(s.into()))
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// Serializes the secret's value: for the one wire field that must carry
/// it (a logon body, a session id a server hands out), named on that field
/// with `#[serde(serialize_with = "dpm_secret::serialize_exposed")]`.
pub fn serialize_exposed<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        let shown = format!("{s:?} {s} {s:#?} {:?}", Some(s.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn reads_from_a_string_and_not_from_anything_else() {
        let s: Secret = serde_json::from_str(r#""pw""#).unwrap();
        assert_eq!(s.expose(), "pw");
        assert!(serde_json::from_str::<Secret>("42").is_err());
    }

    #[test]
    fn a_field_that_opts_in_carries_the_value() {
        #[derive(serde::Serialize)]
        struct Logon {
            #[serde(serialize_with = "serialize_exposed")]
            password: Secret,
        }
        let body = serde_json::to_string(&Logon {
            password: Secret::new("pw"),
        })
        .unwrap();
        assert_eq!(body, r#"{"password":"pw"}"#);
    }
}
