//! Replication of a shard: each shard is a Raft group (openraft, see
//! `docs/metadata.md` for why that library) whose replicas each apply the
//! same log to their own RocksDB.
//!
//! - [`log_store`]: the Raft log, vote and commit index in their own
//!   RocksDB (`<data>/log`), appended with a synced write.
//! - [`state_machine`]: applies committed batches to the shard's database
//!   ([`crate::shard`]'s keys), records what it applied in the same write,
//!   and makes snapshots from RocksDB checkpoints ([`snapshot`]).
//! - [`network`]: the Raft RPCs between replicas, over the shard's own
//!   HTTP listener under the cluster credential; [`routes`] serves them.
//! - [`batcher`]: group commit: the requests waiting while an entry is in
//!   flight go together into the next one; [`read_index`]: reads arriving
//!   together share one leadership confirmation.

pub mod batcher;
pub mod log_store;
pub mod network;
pub mod read_index;
pub mod routes;
pub mod snapshot;
pub mod state_machine;

use crate::shard::apply::{RequestOutcome, Stamp};
use crate::wire::Op;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A replica's id within its group. Ids are never reused for another
/// disk: a replica whose disk is lost comes back under a new id.
pub type NodeId = u64;

/// One Raft entry of a shard: every write request that was waiting when
/// the leader proposed it, with the leader's stamp.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Batch {
    pub stamp: Stamp,
    pub requests: Vec<Vec<Op>>,
}

/// The answer to each request of a [`Batch`], in order.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct BatchResult(pub Vec<RequestOutcome>);

/// Where a snapshot lives on disk: a RocksDB checkpoint directory.
#[derive(Debug, Clone)]
pub struct SnapshotDir(pub std::path::PathBuf);

openraft::declare_raft_types!(
    /// The shard's Raft types.
    pub TypeConfig:
        D = Batch,
        R = BatchResult,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        SnapshotData = SnapshotDir,
);

pub type Raft = openraft::Raft<TypeConfig>;

/// How a replica finds its group, read from its config file (or made by
/// `mantad dev`).
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// This replica's id.
    pub id: NodeId,
    /// The URL the other replicas and clients reach this replica at.
    pub advertise: String,
    /// The group's first members (including this one), to initialize a new
    /// group with. Later changes live in the log.
    pub peers: BTreeMap<NodeId, String>,
    /// Whether this replica may create the group when it has never been
    /// part of one (its log is empty): set on exactly one replica, for the
    /// first start only.
    pub bootstrap: bool,
    pub timing: Timing,
}

impl GroupConfig {
    /// A group of one, made on first open: a shard nobody replicates.
    pub fn single() -> Self {
        GroupConfig {
            id: 1,
            advertise: String::new(),
            peers: BTreeMap::from([(1, String::new())]),
            bootstrap: true,
            timing: Timing::default(),
        }
    }
}

/// Raft's clocks. Elections wait long enough that a loaded 2-core machine
/// does not depose a healthy leader; a failover pause is about one
/// election timeout plus a round trip.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub heartbeat: Duration,
    pub election_min: Duration,
    pub election_max: Duration,
    /// Entries applied between snapshots (then the log before them is
    /// purged, keeping `keep_logs` for lagging followers).
    pub snapshot_every: u64,
    pub keep_logs: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            heartbeat: Duration::from_millis(250),
            election_min: Duration::from_millis(1000),
            election_max: Duration::from_millis(2000),
            snapshot_every: 20_000,
            keep_logs: 5_000,
        }
    }
}

impl Timing {
    /// # Errors
    /// openraft's own checks of the values.
    pub fn config(&self) -> crate::Result<openraft::Config> {
        let cfg = openraft::Config {
            cluster_name: "mantad-shard".into(),
            heartbeat_interval: self.heartbeat.as_millis() as u64,
            election_timeout_min: self.election_min.as_millis() as u64,
            election_timeout_max: self.election_max.as_millis() as u64,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            max_in_snapshot_log_to_keep: self.keep_logs,
            replication_lag_threshold: self.snapshot_every.saturating_add(self.keep_logs),
            // With entries of at most about 1 MiB (the batcher's bound),
            // one append stays far below the 64 MiB body limit.
            max_payload_entries: 32,
            ..Default::default()
        };
        cfg.validate().map_err(|e| crate::Error::InvalidConfig {
            key: "raft",
            reason: e.to_string(),
        })
    }
}
