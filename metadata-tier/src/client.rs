//! The cluster-level client: each call goes to the shard the ring names.

use crate::error::{Error, Result};
use crate::net::ClusterKey;
use crate::ring::Ring;
use crate::wire::{
    ApplyRequest, Condition, CountRequest, CountResponse, Entry, EntryKey, GetRequest, Keyspace,
    ListOptions, ListRequest, ListResult, Op, OpResult, ScanRequest, ScanResult,
};
use std::sync::Arc;
use std::time::Duration;

mod call;
pub use call::Access;

#[derive(Clone)]
pub struct MetadataClient {
    ring: Arc<Ring>,
    http: reqwest::Client,
    key: ClusterKey,
    /// The last replica found leading each shard.
    leaders: Arc<Vec<std::sync::Mutex<Option<String>>>>,
}

impl MetadataClient {
    /// A client of the shards `ring` names, calling them with the cluster
    /// `key`.
    pub fn new(ring: Ring, key: ClusterKey) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(crate::net::serve::CLIENT_POOL_IDLE)
            .build()
            .unwrap_or_default();
        let leaders = (0..ring.shards().len())
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        MetadataClient {
            ring: Arc::new(ring),
            http,
            key,
            leaders: Arc::new(leaders),
        }
    }

    /// The cluster credential this client calls with, for the other
    /// internal clients of the same role.
    pub fn cluster_key(&self) -> &ClusterKey {
        &self.key
    }

    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    fn shard_of(&self, space: Keyspace, dir: &str) -> usize {
        self.ring.shard_for(space, dir)
    }

    /// # Errors
    /// `Unavailable` when the shard cannot be reached; shard errors.
    pub async fn get(&self, key: &EntryKey) -> Result<Option<Entry>> {
        let shard = self.shard_of(key.space, &key.dir);
        self.call(
            shard,
            "/v1/get",
            &GetRequest { key: key.clone() },
            Access::Read,
        )
        .await
    }

    /// # Errors
    /// `ConditionFailed` and the errors of [`MetadataClient::get`].
    pub async fn put(
        &self,
        key: EntryKey,
        value: serde_json::Value,
        cond: Condition,
    ) -> Result<Entry> {
        match self.apply(vec![Op::Put { key, value, cond }]).await?.pop() {
            Some(OpResult::Put(e)) => Ok(e),
            _ => Err(Error::Remote {
                status: 0,
                message: "shard answered a put without its entry".into(),
            }),
        }
    }

    /// # Errors
    /// `ConditionFailed` and the errors of [`MetadataClient::get`].
    pub async fn delete(&self, key: EntryKey, cond: Condition) -> Result<Option<Entry>> {
        match self.apply(vec![Op::Delete { key, cond }]).await?.pop() {
            Some(OpResult::Delete(e)) => Ok(e),
            _ => Err(Error::Remote {
                status: 0,
                message: "shard answered a delete without its result".into(),
            }),
        }
    }

    /// Applies ops atomically; they must all live on one shard.
    ///
    /// # Errors
    /// `CrossShardBatch`, `ConditionFailed`, and the errors of get.
    pub async fn apply(&self, ops: Vec<Op>) -> Result<Vec<OpResult>> {
        let Some(first) = ops.first() else {
            return Ok(Vec::new());
        };
        let shard = self.ring.shard_for(first.key().space, &first.key().dir);
        if ops
            .iter()
            .any(|o| self.ring.shard_for(o.key().space, &o.key().dir) != shard)
        {
            return Err(Error::CrossShardBatch);
        }
        self.call(shard, "/v1/apply", &ApplyRequest { ops }, Access::Write)
            .await
    }

    /// # Errors
    /// As get.
    pub async fn list(&self, space: Keyspace, dir: &str, opts: &ListOptions) -> Result<ListResult> {
        let shard = self.shard_of(space, dir);
        let req = ListRequest {
            space,
            dir: dir.to_string(),
            opts: opts.clone(),
        };
        self.call(shard, "/v1/list", &req, Access::Read).await
    }

    /// # Errors
    /// As get.
    pub async fn count(&self, space: Keyspace, dir: &str) -> Result<u64> {
        let shard = self.shard_of(space, dir);
        let req = CountRequest {
            space,
            dir: dir.to_string(),
        };
        let r: CountResponse = self.call(shard, "/v1/count", &req, Access::Read).await?;
        Ok(r.count)
    }

    /// Number of shards: [`MetadataClient::scan`] walks each on its own.
    pub fn shard_count(&self) -> usize {
        self.ring.shards().len()
    }

    /// A page of every entry of `space` held by shard `shard` (an index
    /// below [`MetadataClient::shard_count`]), after `after`.
    ///
    /// # Errors
    /// As get; `Remote` for an index past the ring.
    pub async fn scan(
        &self,
        shard: usize,
        space: Keyspace,
        after: Option<EntryKey>,
        limit: usize,
    ) -> Result<ScanResult> {
        let req = ScanRequest {
            space,
            after,
            limit,
        };
        self.call(shard, "/v1/scan", &req, Access::Read).await
    }
}
