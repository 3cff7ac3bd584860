//! The compute layer over the virt driver against dpm-sim: the end-to-end
//! scenarios and every operation, each asserting the state of the
//! simulated world; and the virt driver alone, driven in Nova's order
//! (`nova.rs`). Tests run on
//! tokio's paused clock: no test sleeps for real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod config;
mod faults;
mod follow;
mod legacy;
mod lifecycle;
mod models;
mod names;
mod nova;
mod scenarios;
mod shutdown;
mod support;
