//! Integration tests of the SDK and the m* commands against an in-process
//! cluster over real HTTP, and the same session run with node-manta.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod attrs;
mod cli_fixes;
mod commands;
mod compare;
mod end_to_end;
mod harness;
mod mjob;
mod mpu;
mod rbac;
mod retry;
mod sdk;
mod tamper;
mod tls;
