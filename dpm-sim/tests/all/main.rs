//! dpm-sim's tests: every state transition and refusal of the simulated
//! world, each asserting the world's state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod boot;
mod cinder;
mod conformance;
mod fidelity;
mod guest;
mod hmc;
mod hostile;
mod notify;
mod openstack;
mod os_channel;
mod properties;
mod recorded;
mod routes;
mod sessions;
mod spec;
mod statuses;
mod storage;
mod storage_groups;
mod support;
mod world;
