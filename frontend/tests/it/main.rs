//! Integration tests of the store through real HTTP: one binary, one module
//! per area, all on the in-process [`harness::TestCluster`] (and real
//! processes in `kill`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod auth;
mod auth_node_manta;
mod bad_input;
mod contention;
mod dirs;
mod failover;
mod harness;
mod jobs;
pub mod kill;
mod links;
mod objects;
mod s3;
mod s3_chunked;
mod s3_clients;
