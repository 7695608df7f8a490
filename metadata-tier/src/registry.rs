//! The storage node registry (Manta's "minnow" records): each node's
//! heartbeat is a record in `Keyspace::Nodes`, directory `""`, named by node
//! id. Age is measured on the shard's clock, so a skewed node or frontend
//! clock cannot make a dead node look alive.

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

#[derive(Debug, Clone, PartialEq)]
pub struct LiveNode {
    pub record: NodeRecord,
    /// Milliseconds since the last heartbeat, by the shard's clock.
    pub age_ms: u64,
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

    /// Every registered node with the age of its last heartbeat.
    ///
    /// # Errors
    /// Shard errors.
    pub async fn nodes(&self) -> Result<Vec<LiveNode>> {
        let mut out = Vec::new();
        let mut opts = ListOptions {
            limit: 1024,
            ..Default::default()
        };
        loop {
            let page = self.list(Keyspace::Nodes, "", &opts).await?;
            let n = page.entries.len();
            for e in page.entries {
                opts.marker = Some(e.name.clone());
                match serde_json::from_value::<NodeRecord>(e.value) {
                    Ok(record) => out.push(LiveNode {
                        record,
                        age_ms: page.now_ms.saturating_sub(e.mtime_ms),
                    }),
                    Err(err) => {
                        tracing::warn!(node = %e.name, error = %err, "unreadable node record")
                    }
                }
            }
            if n < opts.limit {
                return Ok(out);
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
