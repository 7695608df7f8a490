//! Metadata tier tests against real RocksDB files and real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod http;
mod list;
mod scan;
mod shard;
