//! dpm-driver against dpm-sim: the end-to-end scenarios and every driver
//! operation, each asserting the state of the simulated world. Tests run on
//! tokio's paused clock: no test sleeps for real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod config;
mod faults;
mod legacy;
mod lifecycle;
mod models;
mod names;
mod scenarios;
mod support;
