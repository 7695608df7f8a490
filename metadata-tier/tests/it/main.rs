//! Metadata tier tests against real RocksDB files and real HTTP (and the
//! shared server loop in TLS).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod http;
mod list;
mod scan;
mod shard;
mod snapshot_upload;
mod tls;
