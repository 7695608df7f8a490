//! The replica's Raft endpoints on the shard listener: the RPCs the
//! group's members send each other, and the operator's view and changes
//! (`mantad admin shards`).

use super::network::SnapshotHeader;
use super::{snapshot, NodeId, SnapshotDir};
use crate::shard::Shard;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use openraft::{BasicNode, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tokio::io::AsyncWriteExt;

use super::TypeConfig;

/// One replica's view of its group (`GET /raft/status`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    pub id: NodeId,
    /// Leader, Follower, Candidate or Learner.
    pub state: String,
    pub term: u64,
    pub leader: Option<NodeId>,
    pub last_log_index: Option<u64>,
    pub last_applied: Option<u64>,
    pub snapshot: Option<u64>,
    pub purged: Option<u64>,
    /// Voting members and their URLs.
    pub voters: BTreeMap<NodeId, String>,
    /// Members catching up before they vote.
    pub learners: BTreeMap<NodeId, String>,
    /// On the leader: each member's last replicated index.
    #[serde(default)]
    pub matched: BTreeMap<NodeId, Option<u64>>,
}

/// A membership change (`POST /raft/members`).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MemberChange {
    /// Adds `id` at `addr`: first as a learner, fed until it has caught up
    /// (by log or snapshot), then as a voter.
    Add { id: NodeId, addr: String },
    /// Removes `id` from the voters (and the group).
    Remove { id: NodeId },
}

pub fn router() -> Router<Shard> {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/status", get(status))
        .route("/raft/members", post(members))
        // An append carries up to 32 entries of about 1 MiB: past axum's
        // 2 MiB default, within what the credential check buffers.
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
}

/// The snapshot upload route: its body streams (the verifier must allow
/// that), and is checked against the hash in the authenticated query.
pub fn snapshot_router() -> Router<Shard> {
    Router::new().route("/raft/snapshot", post(receive_snapshot))
}

async fn append(
    State(s): State<Shard>,
    Json(req): Json<AppendEntriesRequest<TypeConfig>>,
) -> Response {
    Json(s.raft().append_entries(req).await).into_response()
}

async fn vote(State(s): State<Shard>, Json(req): Json<VoteRequest<NodeId>>) -> Response {
    Json(s.raft().vote(req).await).into_response()
}

async fn status(State(s): State<Shard>) -> Json<ReplicaStatus> {
    Json(s.status())
}

async fn members(State(s): State<Shard>, Json(change): Json<MemberChange>) -> Response {
    match s.change_members(change).await {
        Ok(st) => Json(st).into_response(),
        Err(e) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"code": "MembershipChangeFailed", "message": e.to_string()})),
        )
            .into_response(),
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    tracing::warn!(%message, "refused a snapshot");
    (
        status,
        Json(serde_json::json!({"code": "BadSnapshot", "message": message})),
    )
        .into_response()
}

async fn receive_snapshot(
    State(s): State<Shard>,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let header = match q.get("h").map(|h| SnapshotHeader::decode(h)) {
        Some(Ok(h)) => h,
        Some(Err(e)) => return refuse(StatusCode::BAD_REQUEST, format!("bad header: {e}")),
        None => return refuse(StatusCode::BAD_REQUEST, "no snapshot header".into()),
    };
    let Some(_receiving) = s.receiving_snapshot() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "another snapshot is being received".into(),
        );
    };
    // The tar and its unpacked copy exist together until the install, so
    // the announced length is checked against twice the free space: a
    // sender cannot fill the disk the shard's own writes need.
    let need = header.len.saturating_mul(2).saturating_add(SPACE_RESERVE);
    match crate::disk::free_bytes(s.root()) {
        Some(free) if free < need => {
            return refuse(
                StatusCode::INSUFFICIENT_STORAGE,
                format!(
                    "a snapshot of {} bytes needs {need} bytes free, {free} are",
                    header.len
                ),
            )
        }
        _ => {}
    }
    let dir = snapshot::incoming_dir(s.root());
    let tar = dir.with_extension("tar");
    let result = receive(&header, body, &tar, &dir).await;
    let _ = tokio::fs::remove_file(&tar).await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_dir_all(&dir).await;
        return refuse(StatusCode::BAD_REQUEST, e);
    }
    let snap = Snapshot {
        meta: header.meta,
        snapshot: Box::new(SnapshotDir(dir.clone())),
    };
    let answer = s.raft().install_full_snapshot(header.vote, snap).await;
    // Installed snapshots were moved away; a refused one is left here.
    let _ = tokio::fs::remove_dir_all(&dir).await;
    Json(answer).into_response()
}

/// Space a snapshot must leave free beside its two copies.
const SPACE_RESERVE: u64 = 256 << 20;

/// Streams the tar to `tar` (no longer than announced), checks its hash,
/// and unpacks it into `dir`.
async fn receive(
    header: &SnapshotHeader,
    body: Body,
    tar: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(), String> {
    if let Some(p) = tar.parent() {
        tokio::fs::create_dir_all(p)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut file = tokio::fs::File::create(tar)
        .await
        .map_err(|e| e.to_string())?;
    let mut hash = blake3::Hasher::new();
    let mut got = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("body: {e}"))?;
        got += chunk.len() as u64;
        if got > header.len {
            return Err("snapshot longer than announced".into());
        }
        hash.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    file.sync_all().await.map_err(|e| e.to_string())?;
    if got != header.len || hash.finalize().to_hex().as_str() != header.hash {
        return Err("snapshot does not match its hash".into());
    }
    let (tar, dir) = (tar.to_path_buf(), dir.to_path_buf());
    tokio::task::spawn_blocking(move || snapshot::unpack(&tar, &dir))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("unpack: {e}"))
}

/// What a membership change needs of the node map.
pub fn node(addr: &str) -> BasicNode {
    BasicNode {
        addr: addr.to_string(),
    }
}
