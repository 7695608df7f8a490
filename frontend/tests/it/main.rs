//! Integration tests of the store through real HTTP: one binary, one module
//! per area, all on the shared test kit's in-process
//! [`frontend::testkit::TestCluster`] (and its real `mantad` processes,
//! [`frontend::testkit::ProcessCluster`], in `kill` and `jobs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod auth;
mod auth_node_manta;
mod bad_input;
mod console;
mod content_hash;
mod contention;
mod cors;
mod deploy;
mod dirs;
mod durability;
mod durability_crash;
mod failover;
mod internal;
mod jobs;
mod jobs_sandbox;
mod jobs_tools;
mod kill;
mod links;
mod list_mtime;
mod mlogin;
mod mpu;
mod multihost;
mod node_manta_tools;
mod objects;
mod rbac;
mod replication;
mod s3;
mod s3_chunked;
mod s3_clients;
mod s3_wire;
mod task_toolbox;
mod tls;
mod tls_dev;
