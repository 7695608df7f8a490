//! Metadata tier tests against real RocksDB files and real HTTP.

mod http;
mod shard;
