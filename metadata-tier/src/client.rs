//! The cluster-level client: each call goes to the shard the ring names.

use crate::error::{Error, Result};
use crate::net::ClusterKey;
use crate::ring::Ring;
use crate::wire::{
    ApplyRequest, Condition, CountRequest, CountResponse, Entry, EntryKey, ErrorResponse,
    GetRequest, Keyspace, ListOptions, ListRequest, ListResult, Op, OpResult, ScanRequest,
    ScanResult,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct MetadataClient {
    ring: Arc<Ring>,
    http: reqwest::Client,
    key: ClusterKey,
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
        MetadataClient {
            ring: Arc::new(ring),
            http,
            key,
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

    fn shard_url(&self, space: Keyspace, dir: &str) -> Result<&str> {
        let i = self.ring.shard_for(space, dir);
        self.ring
            .shards()
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| Error::Remote {
                status: 0,
                message: "the ring has no shards".into(),
            })
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        shard: &str,
        route: &str,
        body: &Req,
    ) -> Result<Resp> {
        // A shard that answered with a body we cannot read is broken, not
        // unreachable: retrying elsewhere would not help, so say so.
        let unavailable = |source: reqwest::Error| {
            if source.is_decode() {
                Error::Remote {
                    status: 0,
                    message: format!("undecodable answer from {shard}: {source}"),
                }
            } else {
                Error::Unavailable {
                    shard: shard.to_string(),
                    source,
                }
            }
        };
        let req = self.http.post(format!("{shard}{route}")).json(body);
        let resp = self.key.send(&self.http, req).await.map_err(unavailable)?;
        let status = resp.status();
        if status.is_success() {
            return resp.json().await.map_err(unavailable);
        }
        let text = resp.text().await.map_err(unavailable)?;
        let err: Option<ErrorResponse> = serde_json::from_str(&text).ok();
        Err(match (status.as_u16(), err) {
            (409, Some(e)) if e.code == "ConditionFailed" => Error::ConditionFailed {
                index: e.index.unwrap_or(0),
                current: e.current.map(Box::new),
            },
            (400, Some(e)) if e.code == "InvalidKey" => Error::InvalidKey(e.message),
            (s, e) => Error::Remote {
                status: s,
                message: e.map_or(text, |e| e.message),
            },
        })
    }

    /// # Errors
    /// `Unavailable` when the shard cannot be reached; shard errors.
    pub async fn get(&self, key: &EntryKey) -> Result<Option<Entry>> {
        let shard = self.shard_url(key.space, &key.dir)?;
        self.call(shard, "/v1/get", &GetRequest { key: key.clone() })
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
        let url = self.shard_url(first.key().space, &first.key().dir)?;
        self.call(url, "/v1/apply", &ApplyRequest { ops }).await
    }

    /// # Errors
    /// As get.
    pub async fn list(&self, space: Keyspace, dir: &str, opts: &ListOptions) -> Result<ListResult> {
        let shard = self.shard_url(space, dir)?;
        let req = ListRequest {
            space,
            dir: dir.to_string(),
            opts: opts.clone(),
        };
        self.call(shard, "/v1/list", &req).await
    }

    /// # Errors
    /// As get.
    pub async fn count(&self, space: Keyspace, dir: &str) -> Result<u64> {
        let shard = self.shard_url(space, dir)?;
        let req = CountRequest {
            space,
            dir: dir.to_string(),
        };
        let r: CountResponse = self.call(shard, "/v1/count", &req).await?;
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
        let url = self
            .ring
            .shards()
            .get(shard)
            .ok_or_else(|| Error::Remote {
                status: 0,
                message: format!("no shard {shard} in the ring"),
            })?
            .clone();
        let req = ScanRequest {
            space,
            after,
            limit,
        };
        self.call(&url, "/v1/scan", &req).await
    }
}
