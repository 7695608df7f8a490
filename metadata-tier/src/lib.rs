//! The metadata tier: names to records, on sharded RocksDB.
//!
//! - [`shard::Shard`]: one replica of a shard: a RocksDB with conditional
//!   writes, atomic batches, sorted directory listings and entry counts,
//!   replicated by its Raft group ([`raft`]); writes share log entries
//!   (group commit), reads are linearizable.
//! - [`server`]: the shard's HTTP/JSON API; [`client::MetadataClient`]: the
//!   cluster-level client that routes each call through the [`ring::Ring`].
//! - [`wire`]: keys, entries, conditions, ops, shared by server and client.
//! - [`registry`]: storage node heartbeats (`Keyspace::Nodes`).
//! - [`net`]: what every role's HTTP plumbing shares: the cluster
//!   credential on internal calls, and the hardened server loop.
//! - [`config`]: a shard's config file, and the ring keys
//!   (`metadata_shards`, `vnodes`) every other role's file names.

pub mod client;
pub mod config;
pub mod disk;
mod error;
pub mod net;
pub mod raft;
pub mod registry;
pub mod ring;
pub mod server;
pub mod shard;
pub mod wire;

pub use client::MetadataClient;
pub use error::{Error, Result};
pub use ring::Ring;
pub use shard::Shard;
