//! Keystone v3 (password auth, tokens, catalog) and Cinder v3 (versions,
//! microversions, volumes, attachments, legacy actions) over HTTP, on the
//! world's Cinder operations. Bodies use cinder-client's own types.

mod cinder;
mod keystone;

pub(crate) use cinder::cinder;
pub(crate) use keystone::{keystone, Keystone};
