//! The Raft RPCs between a shard's replicas: JSON over HTTP to the peer's
//! shard listener (`/raft/append`, `/raft/vote`), and snapshots as a
//! streamed tar (`/raft/snapshot`), all under the cluster credential.

use super::{snapshot, NodeId, TypeConfig};
use crate::net::ClusterKey;
use base64::Engine;
use openraft::error::{
    Fatal, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Snapshot, Vote};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The header of a snapshot upload: who sends it and what it is.
#[derive(Serialize, Deserialize, Debug)]
pub struct SnapshotHeader {
    pub vote: Vote<NodeId>,
    pub meta: openraft::SnapshotMeta<NodeId, BasicNode>,
    /// BLAKE3 of the tar, checked before it is unpacked.
    pub hash: String,
    pub len: u64,
}

impl SnapshotHeader {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// # Errors
    /// Anything but what [`SnapshotHeader::encode`] makes.
    pub fn decode(s: &str) -> Result<Self, String> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&raw).map_err(|e| e.to_string())
    }
}

/// Makes a [`Peer`] per replica the leader replicates to.
#[derive(Clone)]
pub struct Network {
    http: reqwest::Client,
    key: ClusterKey,
    /// The replica's directory: where outgoing snapshot tars are written.
    root: PathBuf,
}

impl Network {
    pub fn new(key: ClusterKey, root: PathBuf) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .pool_idle_timeout(crate::net::serve::CLIENT_POOL_IDLE)
            .build()
            .unwrap_or_default();
        Network { http, key, root }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer {
            net: self.clone(),
            target,
            url: node.addr.trim_end_matches('/').to_string(),
        }
    }
}

pub struct Peer {
    net: Network,
    target: NodeId,
    url: String,
}

type RpcResult<T, E = openraft::error::Infallible> =
    Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>;

impl Peer {
    async fn rpc<Req: Serialize, Resp: DeserializeOwned, E>(
        &self,
        route: &str,
        body: &Req,
        ttl: Duration,
    ) -> RpcResult<Resp, E>
    where
        E: std::error::Error + DeserializeOwned,
    {
        let req = self
            .net
            .http
            .post(format!("{}{route}", self.url))
            .timeout(ttl)
            .json(body);
        let resp = self
            .net
            .key
            .send(&self.net.http, req)
            .await
            .map_err(|e| unreachable_or_network(&e))?;
        if !resp.status().is_success() {
            let err = std::io::Error::other(format!("{} answered {}", self.url, resp.status()));
            return Err(RPCError::Network(NetworkError::new(&err)));
        }
        let answer: Result<Resp, RaftError<NodeId, E>> = resp
            .json()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

fn unreachable_or_network<E>(
    e: &reqwest::Error,
) -> RPCError<NodeId, BasicNode, RaftError<NodeId, E>>
where
    E: std::error::Error,
{
    if e.is_connect() {
        RPCError::Unreachable(Unreachable::new(e))
    } else {
        RPCError::Network(NetworkError::new(e))
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>> {
        // Entries batches can be large: give them more than a heartbeat.
        let ttl = option.hard_ttl().max(Duration::from_secs(5));
        self.rpc("/raft/append", &rpc, ttl).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>> {
        self.rpc("/raft/vote", &rpc, option.hard_ttl()).await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snap: Snapshot<TypeConfig>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let tar = self
            .net
            .root
            .join("outgoing")
            .join(format!("{}.tar", uuid::Uuid::new_v4().simple()));
        let send = self.send_snapshot(vote, snap, tar.clone());
        let result = tokio::select! {
            r = send => r,
            closed = cancel => Err(StreamingError::Closed(closed)),
        };
        let _ = tokio::fs::remove_file(&tar).await;
        result
    }
}

impl Peer {
    async fn send_snapshot(
        &self,
        vote: Vote<NodeId>,
        snap: Snapshot<TypeConfig>,
        tar: PathBuf,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let io = |e: std::io::Error| StreamingError::Network(NetworkError::new(&e));
        let src = snap.snapshot.0.clone();
        let out = tar.clone();
        let (hash, len) = tokio::task::spawn_blocking(move || snapshot::pack(&src, &out))
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)?;
        let header = SnapshotHeader {
            vote,
            meta: snap.meta.clone(),
            hash,
            len,
        };
        let file = tokio::fs::File::open(&tar).await.map_err(io)?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let req = self
            .net
            .http
            .post(format!("{}/raft/snapshot?h={}", self.url, header.encode()))
            .timeout(Duration::from_secs(3600))
            .header("content-length", len)
            .body(body);
        let resp = self.net.key.send(&self.net.http, req).await.map_err(|e| {
            if e.is_connect() {
                StreamingError::Unreachable(Unreachable::new(&e))
            } else {
                StreamingError::Network(NetworkError::new(&e))
            }
        })?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(io(std::io::Error::other(format!(
                "{} refused the snapshot: {status} {text}",
                self.url
            ))));
        }
        let answer: Result<SnapshotResponse<NodeId>, Fatal<NodeId>> = resp
            .json()
            .await
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        answer.map_err(|f| StreamingError::RemoteError(RemoteError::new(self.target, f)))
    }
}
