//! What the supervisor and a node's agent send each other (`/agent/v1/...`
//! on the storage node's port). Both sides use these types, so they cannot
//! drift.
//!
//! - `POST /agent/v1/tasks` with a [`TaskRequest`]: `202` once queued
//!   (idempotent: the same `task_id` again is `202` and starts nothing new).
//! - `POST /agent/v1/tasks/{id}/inputs` with [`ReduceInputs`] (reduce tasks
//!   only, in order; the last batch has `end: true`): `204`.
//! - `GET /agent/v1/tasks/{id}?wait_ms=N`: [`TaskStatus`]; waits up to N ms
//!   (at most 30 s) for the task to finish before answering. `404` when the
//!   agent does not know the task (e.g. the node restarted).
//! - `DELETE /agent/v1/tasks/{id}`: stops the task if running and forgets it;
//!   `204` (also when unknown).
//! - `GET /agent/v1/status`: [`AgentStatus`].
//!
//! Errors are `{"code","message"}` JSON ([`AgentErrorBody`]).

use serde::{Deserialize, Serialize};
use storage_node::BlobHash;

use crate::model::JobErrorCode;

/// A storage node: its id in the registry and its base URL.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    pub id: String,
    /// `http://host:port`
    pub url: String,
}

/// A blob and the nodes holding a copy of it (in the order to try).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BlobRef {
    pub hash: BlobHash,
    pub size: u64,
    pub nodes: Vec<NodeAddr>,
}

/// An object given to a task: its Manta path and its bytes (`None`: an
/// empty object, which has no blob).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct InputObject {
    /// `/login/stor/a/b`: where the object appears in the container (under
    /// `/manta` for inputs, `/assets` for assets) and `MANTA_INPUT_OBJECT`.
    pub path: String,
    pub blob: Option<BlobRef>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TaskKind {
    /// One input object, mounted read-only at `/manta<path>` and given on
    /// stdin.
    Map { input: InputObject },
    /// Reducer `reducer` of its phase; its inputs arrive through
    /// `POST .../inputs` and are concatenated on stdin.
    Reduce { reducer: u32 },
    /// Several map tasks of one job phase run one after the other in one
    /// container (Manta's zone reuse): the container's start-up cost is
    /// paid once. Each item is a task of its own (its input at
    /// `/manta<path>` and on stdin, its env, its outputs and errors, in
    /// [`TaskResult::items`]); `init` runs once. The request's `task_id`
    /// names the batch and its `output_base` is unused.
    #[serde(rename = "mapbatch")]
    MapBatch { items: Vec<BatchItem> },
}

/// One map task of a [`TaskKind::MapBatch`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub task_id: String,
    pub input: InputObject,
    /// This task's `MANTA_OUTPUT_BASE`.
    pub output_base: String,
}

/// How one item of a batch ended (the fields of [`TaskResult`] for it).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ItemResult {
    pub task_id: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub outputs: Vec<TaskOutput>,
    #[serde(default)]
    pub saved: Vec<TaskOutput>,
    #[serde(default)]
    pub stderr: Option<TaskOutput>,
    #[serde(default)]
    pub input_local_bytes: u64,
    #[serde(default)]
    pub input_remote_bytes: u64,
}

/// Where a phase's image comes from.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ImageRef {
    /// The node's default (busybox) image.
    Default,
    /// An image imported on the node with `mantad image import`.
    Named { name: String },
    /// A `docker save` archive or OCI layout tarball stored as an object;
    /// the agent imports it once (cached under `obj-<blob hash>`).
    Object { object: InputObject },
}

/// One task for an agent.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// Unique in the job and stable across retries; names outputs.
    pub task_id: String,
    pub job_id: String,
    /// Owner of the job (`MANTA_USER`).
    pub login: String,
    pub phase: u32,
    pub kind: TaskKind,
    pub exec: String,
    #[serde(default)]
    pub init: Option<String>,
    pub image: ImageRef,
    /// Objects shown read-only at `/assets<path>`.
    #[serde(default)]
    pub assets: Vec<InputObject>,
    pub memory_mb: u32,
    pub disk_gb: u32,
    /// `MANTA_OUTPUT_BASE`, e.g. `/login/jobs/<id>/stor/login/stor/x.0.`;
    /// the stdout output is named `<base><task_id>`, `mpipe` without a
    /// path `<base><uuid>`, saved stderr `<base>err.<task_id>`.
    pub output_base: String,
    /// Nodes that get a copy of every output besides this one
    /// (durability - 1 of them); a copy that fails is left out of
    /// [`StoredBlob::nodes`], not retried.
    #[serde(default)]
    pub replicas: Vec<NodeAddr>,
    /// The frontend's Manta API (`https://host:port` when it speaks TLS)
    /// the task's toolbox (`mget`, `mput`, ... inside the task) is
    /// forwarded to, as the job's owner; `None`: no toolbox. The agent's
    /// own `job_api_url` takes its place when set.
    #[serde(default)]
    pub api_url: Option<String>,
}

/// A batch of a reducer's inputs, in stream order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ReduceInputs {
    #[serde(default)]
    pub inputs: Vec<InputObject>,
    /// No more inputs after these: close the reducer's stdin once they are
    /// streamed.
    #[serde(default)]
    pub end: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Queued,
    Running,
    Done,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TaskStatus {
    pub task_id: String,
    pub state: TaskState,
    /// Set when `state` is `done`.
    #[serde(default)]
    pub result: Option<TaskResult>,
}

/// Bytes stored on this node (and on the replicas that took a copy).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StoredBlob {
    pub hash: BlobHash,
    pub size: u64,
    /// Base64 MD5 (`content-md5`).
    pub md5: String,
    /// Node ids holding a copy, this node first.
    pub nodes: Vec<String>,
}

/// An object the task produced.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TaskOutput {
    /// Full Manta path of the object to create (or, for a reference, of the
    /// existing object).
    pub path: String,
    /// `mpipe -r N` / `msplit`: the reducer of the next phase it goes to.
    #[serde(default)]
    pub reducer: Option<u32>,
    /// `mcat`: `path` names an existing object, emitted as an output
    /// without copying; `blob` is `None`.
    #[serde(default)]
    pub reference: bool,
    /// `mpipe -p`: create missing parent directories.
    #[serde(default)]
    pub mkdirs: bool,
    /// `None` for a reference or an empty object.
    #[serde(default)]
    pub blob: Option<StoredBlob>,
    /// `mpipe -H 'content-type: ...'`-style headers; lower-case names.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// How a task ended.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// Exit 0: `outputs` are the task's outputs.
    Ok,
    /// The user's command (or init, or an asset) failed: an error of the
    /// job, never retried. `code` is Manta's (`UserTaskError`,
    /// `TaskInitError`, `TaskKilledError`, `InvalidArgumentError`, ...).
    UserError { code: JobErrorCode, message: String },
    /// Something of ours failed (input unreadable, container setup, disk):
    /// the supervisor retries the task elsewhere.
    InfraError { message: String },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TaskResult {
    pub outcome: Outcome,
    /// Outputs, in the order they were made (empty unless `Ok`).
    #[serde(default)]
    pub outputs: Vec<TaskOutput>,
    /// `mtee` copies: ordinary objects, not outputs.
    #[serde(default)]
    pub saved: Vec<TaskOutput>,
    /// The task's stderr, saved when it failed (`<base>err.<task_id>`).
    #[serde(default)]
    pub stderr: Option<TaskOutput>,
    /// Input bytes read from this node's own disk / fetched from others.
    #[serde(default)]
    pub input_local_bytes: u64,
    #[serde(default)]
    pub input_remote_bytes: u64,
    #[serde(default)]
    pub(crate) wall_ms: u64,
    /// The node that ran it.
    pub node_id: String,
    /// A batch's per-task results, in request order. With a batch the
    /// top-level `outcome` is the container's: `Ok` when the items ran
    /// (each then has its own outcome), `InfraError` or `UserError` (a
    /// missing image, a failed init or asset) for every item at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemResult>,
}

/// Counters of one agent since it started.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct AgentStatus {
    pub node_id: String,
    /// Tasks that may run at once; more are queued.
    pub slots: u32,
    pub queued: u64,
    pub running: u64,
    pub tasks_started: u64,
    pub tasks_done: u64,
    /// Input bytes of map tasks read from this node's disk / from others.
    pub map_local_bytes: u64,
    pub map_remote_bytes: u64,
    /// Input bytes of reduce tasks read from this node's disk / from others.
    pub reduce_local_bytes: u64,
    pub reduce_remote_bytes: u64,
    /// Asset and image-object bytes fetched.
    pub asset_bytes: u64,
    /// `runsc` or `runc`.
    pub runtime: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct AgentErrorBody {
    pub code: String,
    pub message: String,
}
