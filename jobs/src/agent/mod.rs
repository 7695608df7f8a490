//! The job agent: runs tasks on the storage node that holds their input.
//!
//! The supervisor drives it over HTTP ([`wire`] is the contract; routes in
//! [`Agent::router`]). For each task the agent prepares a container
//! (`prepare.rs`, `image.rs`: image, `/manta` input, `/assets`, the
//! utilities and the spool, env), runs it with [`crate::runtime`]
//! streaming stdout into the local [`BlobStore`] (`execute.rs`; a
//! reducer's inputs are streamed into stdin by `reduce_feed.rs`), then
//! turns the utilities' spool records (`spool.rs`, `msplit.rs`,
//! `outputs.rs`) into outputs stored here and copied to the replicas
//! (`publish.rs`; `conclude.rs` judges the exit). A batch of map tasks
//! runs in one container (`batch.rs`, `batch_items.rs`). `tasks.rs` holds
//! the task table and the slots. [`config`] holds the agent's keys in a
//! storage node's config file. Design notes: `docs/jobs-agent.md`.

mod batch;
mod batch_items;
pub mod client;
mod conclude;
pub mod config;
mod counters;
mod execute;
mod failure;
mod fetch;
mod http;
mod image;
pub(crate) mod medusa;
/// What an mlogin phase names that the job never reads (the frontend's
/// RBAC check of assets leaves them out).
pub use medusa::{is_medusa, plumbing_asset};
mod msplit;
mod msplit_js;
#[cfg(test)]
mod msplit_prop;
mod outputs;
mod prepare;
mod publish;
mod reduce_feed;
mod spool;
mod task_dir;
mod tasks;
mod toolbox;
mod utilities;
pub mod wire;

pub use config::{AgentSettings, ApiAccess, JobsConfig, SandboxLimits, SpoolLimits};

use std::path::PathBuf;
use std::sync::Arc;

use storage_node::client::StorageClient;
use storage_node::BlobStore;
use tokio::sync::Semaphore;

use crate::error::IoContext;
use crate::image::ImageStore;
use crate::runtime::{RuntimeKind, TaskRunner};
use crate::Result;

/// What an agent needs from the node it runs in.
pub struct AgentConfig {
    pub node_id: String,
    /// The node's blobs: inputs are read from it, outputs written to it.
    pub store: BlobStore,
    /// Image store, runtime state and task spools.
    pub work_dir: PathBuf,
    pub runtime: RuntimeKind,
    /// Map tasks (or batches) that may run at once; four times as many
    /// reducers may run besides them.
    pub slots: u32,
    /// The credential of its calls to other nodes (fetching inputs).
    pub cluster_key: metadata_tier::net::ClusterKey,
    /// Caps on image imports and on what tasks leave in their spools.
    pub limits: SandboxLimits,
    /// How tasks' toolbox requests and mlogin sessions reach the API.
    pub api: config::ApiAccess,
}

/// A running agent; clones share it.
#[derive(Clone)]
pub struct Agent {
    shared: Arc<Shared>,
}

/// What every task of the agent uses.
pub(crate) struct Shared {
    node_id: String,
    runtime: RuntimeKind,
    runner: TaskRunner,
    fetcher: fetch::Fetcher,
    /// The utilities, mounted read-only into every task.
    bin_dir: PathBuf,
    /// Task directories (`task_dir.rs`).
    tasks_dir: PathBuf,
    counters: counters::Counters,
    /// Serializes imports of image objects.
    image_imports: tokio::sync::Mutex<()>,
    slots: Arc<Semaphore>,
    /// Reducers have their own: they wait on map tasks for their input.
    reduce_slots: Arc<Semaphore>,
    slot_count: u32,
    table: tasks::Table,
    spool_limits: SpoolLimits,
    /// Mints the tasks' toolbox credentials.
    cluster_key: metadata_tier::net::ClusterKey,
    /// Our m* commands for tasks (`toolbox.rs`).
    toolbox: toolbox::Installed,
    /// Reaches the frontend for tasks: toolbox requests, mlogin sessions.
    api: toolbox::ApiClient,
}

impl Agent {
    /// Opens the image store at `work_dir`, cleans up what a killed agent
    /// left (containers, mounts, task directories) and installs the
    /// utilities.
    ///
    /// # Errors
    /// I/O errors preparing `work_dir`.
    pub async fn start(cfg: AgentConfig) -> Result<Agent> {
        let api = toolbox::ApiClient::new(&cfg.api)?;
        let images = ImageStore::open(&cfg.work_dir)?.with_limits(cfg.limits.image);
        let runner = TaskRunner::new(images.clone());
        let recovered = runner.recover().await?;
        if recovered > 0 {
            tracing::info!(tasks = recovered, "cleaned up tasks of a previous run");
        }
        let root = images.state_dir().join("agent");
        let (bin_dir, tasks_dir) = (root.join("bin"), root.join("tasks"));
        utilities::install(&bin_dir)?;
        let toolbox = toolbox::install(&bin_dir, &root);
        match std::fs::remove_dir_all(&tasks_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).ctx("remove old task directories", &tasks_dir)
            }
            _ => {}
        }
        std::fs::create_dir_all(&tasks_dir).ctx("create task directories", &tasks_dir)?;
        // The default image is built by the first task that needs it
        // (image.rs), so a node that runs no job never pays for it.
        if let Err(e) = cfg.runtime.locate() {
            tracing::warn!(error = %e, "tasks will fail until the runtime is installed");
        }
        let slot_count = cfg.slots.max(1);
        let node_id = cfg.node_id;
        let shared = Arc::new(Shared {
            node_id: node_id.clone(),
            runtime: cfg.runtime,
            runner,
            fetcher: fetch::Fetcher {
                store: cfg.store,
                client: StorageClient::new(cfg.cluster_key.clone()),
            },
            bin_dir,
            tasks_dir,
            counters: counters::Counters::new(&node_id),
            image_imports: tokio::sync::Mutex::new(()),
            slots: Arc::new(Semaphore::new(slot_count as usize)),
            reduce_slots: Arc::new(Semaphore::new(4 * slot_count as usize)),
            slot_count,
            table: tasks::Table::default(),
            spool_limits: cfg.limits.spool,
            cluster_key: cfg.cluster_key,
            toolbox,
            api,
        });
        tasks::spawn_sweeper(Arc::downgrade(&shared));
        Ok(Agent { shared })
    }

    /// The routes under `/agent/v1`, state applied; merge them with the
    /// storage node's.
    pub fn router(&self) -> axum::Router {
        http::routes(self.clone())
    }

    /// Counters since start.
    pub fn status(&self) -> wire::AgentStatus {
        let shared = &self.shared;
        let (queued, running) = tasks::counts(shared);
        let mut status = wire::AgentStatus {
            node_id: shared.node_id.clone(),
            slots: shared.slot_count,
            queued,
            running,
            runtime: shared.runtime.to_string(),
            ..wire::AgentStatus::default()
        };
        shared.counters.fill(&mut status);
        status
    }
}
