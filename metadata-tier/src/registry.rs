//! The storage node registry (Manta's "minnow" records): each node's
//! heartbeat is a record in `Keyspace::Nodes`, directory `""`, named by node
//! id. Age is measured on the shard's clock, so a skewed node or frontend
//! clock cannot make a dead node look alive.
//!
//! What an operator decided about a node (draining, lost) lives beside it in
//! directory [`ADMIN_DIR`], never in the heartbeat record the node itself
//! rewrites every beat.

use crate::client::MetadataClient;
use crate::error::Result;
use crate::wire::{Condition, EntryKey, Keyspace, ListOptions};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: String,
    /// Base URL, e.g. `http://127.0.0.1:7200`.
    pub addr: String,
    pub free_bytes: u64,
    pub used_bytes: u64,
    pub blob_count: u64,
    pub inflight: u64,
    #[serde(default)]
    pub version: u32,
}

/// Directory of the operator's decisions about nodes.
pub const ADMIN_DIR: &str = "admin";

/// What an operator set on a node; a node with none is in service.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AdminState {
    /// Gets no new copies; repair moves its copies elsewhere, then garbage
    /// collection empties it.
    Draining,
    /// Gone for good (`mantad admin remove`): its copies no longer count.
    Lost,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NodeAdmin {
    pub state: AdminState,
    /// Why, in the operator's words.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveNode {
    pub record: NodeRecord,
    /// Milliseconds since the last heartbeat, by the shard's clock.
    pub age_ms: u64,
    /// The operator's decision about this node, if any.
    pub admin: Option<NodeAdmin>,
}

impl MetadataClient {
    /// Records a heartbeat.
    ///
    /// # Errors
    /// Shard errors.
    pub async fn heartbeat(&self, rec: &NodeRecord) -> Result<()> {
        let key = EntryKey::new(Keyspace::Nodes, "", rec.id.clone());
        self.put(key, serde_json::to_value(rec)?, Condition::None)
            .await?;
        Ok(())
    }

    /// Sets (or with `None` clears) the operator's decision about node `id`.
    ///
    /// # Errors
    /// Shard errors.
    pub async fn set_node_admin(&self, id: &str, admin: Option<&NodeAdmin>) -> Result<()> {
        let key = EntryKey::new(Keyspace::Nodes, ADMIN_DIR, id);
        match admin {
            Some(a) => {
                self.put(key, serde_json::to_value(a)?, Condition::None)
                    .await?;
            }
            None => {
                self.delete(key, Condition::None).await?;
            }
        }
        Ok(())
    }

    /// Every registered node with the age of its last heartbeat and the
    /// operator's decision about it.
    ///
    /// # Errors
    /// Shard errors.
    pub async fn nodes(&self) -> Result<Vec<LiveNode>> {
        let mut admin = std::collections::HashMap::new();
        for e in self.list_all(ADMIN_DIR).await?.0 {
            match serde_json::from_value::<NodeAdmin>(e.value) {
                Ok(a) => {
                    admin.insert(e.name, a);
                }
                Err(err) => tracing::warn!(node = %e.name, error = %err, "unreadable node state"),
            }
        }
        let (entries, now_ms) = self.list_all("").await?;
        let mut out = Vec::new();
        for e in entries {
            match serde_json::from_value::<NodeRecord>(e.value) {
                Ok(record) => out.push(LiveNode {
                    admin: admin.remove(&record.id),
                    record,
                    age_ms: now_ms.saturating_sub(e.mtime_ms),
                }),
                Err(err) => {
                    tracing::warn!(node = %e.name, error = %err, "unreadable node record")
                }
            }
        }
        Ok(out)
    }

    /// Every entry of a registry directory, and the shard's clock.
    async fn list_all(&self, dir: &str) -> Result<(Vec<crate::wire::Entry>, u64)> {
        let mut out = Vec::new();
        let mut opts = ListOptions {
            limit: 1024,
            ..Default::default()
        };
        loop {
            let page = self.list(Keyspace::Nodes, dir, &opts).await?;
            let n = page.entries.len();
            if let Some(last) = page.entries.last() {
                opts.marker = Some(last.name.clone());
            }
            out.extend(page.entries);
            if n < opts.limit {
                return Ok((out, page.now_ms));
            }
        }
    }

    /// The nodes heard from within `timeout`.
    ///
    /// # Errors
    /// Shard errors.
    pub async fn live_nodes(&self, timeout: Duration) -> Result<Vec<LiveNode>> {
        let max = timeout.as_millis() as u64;
        Ok(self
            .nodes()
            .await?
            .into_iter()
            .filter(|n| n.age_ms <= max)
            .collect())
    }
}
