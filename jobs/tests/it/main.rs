//! Integration tests: images made here, run under the real runc and runsc.

// Test helpers panic on setup failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent;
mod common;
mod default_image;
mod image_ops;
mod images;
mod limits;
mod maggr;
mod metrics;
mod run;
mod sandbox_image;
mod sandbox_spool;
mod sandbox_syscalls;
