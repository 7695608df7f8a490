//! The supervisor's only window on the object store: the [`Namespace`]
//! trait. The supervisor schedules, retries and keeps its own records; what
//! it needs from objects and nodes (inputs, output records, archives, the
//! live nodes) goes through this narrow trait, which the frontend
//! implements over its object service. Keeping it narrow is what lets the
//! store change (or a test fake stand in) without touching the scheduler.

use super::fault::Fault;
use crate::agent::wire::{InputObject, NodeAddr, StoredBlob};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

/// An error of the object service, kept whole so the frontend can answer
/// with its own status (e.g. `ParentNotDirectory`) when it reaches the API.
pub type NsError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The object service as the supervisor uses it. Paths are Manta paths as
/// users write them (`/login/stor/a`); `owner` is the account uuid of the
/// job's owner, `login` its login.
#[async_trait::async_trait]
pub trait Namespace: Send + Sync + 'static {
    /// Looks up a task input (or asset, or image) as `login` may read it:
    /// its own objects or anyone's `/public`, with the nodes holding it.
    ///
    /// # Errors
    /// [`Fault::Job`] when the job is at fault (missing, a directory, not
    /// allowed); [`Fault::Internal`] when we are (worth retrying).
    async fn resolve(&self, login: &str, path: &str) -> Result<InputObject, Fault>;

    /// The storage nodes (and their agents) alive now.
    ///
    /// # Errors
    /// The node registry could not be read.
    async fn live_nodes(&self) -> Result<Vec<NodeAddr>, NsError>;

    /// Copies each output gets (the account default).
    fn copies(&self) -> usize;

    /// Makes every missing directory above `path` (`mmkdir -p`), skipping
    /// (and adding to) those in `made`.
    ///
    /// # Errors
    /// [`Fault::Job`] for a bad path; [`Fault::Internal`] for store
    /// failures and an ancestor that is an object (the store's own error,
    /// so an API caller answers with it).
    async fn mkdirs(&self, owner: &str, path: &str, made: &DirCache) -> Result<(), Fault>;

    /// Whether `dir` exists as a directory (an account root always does).
    ///
    /// # Errors
    /// [`Fault::Job`] for a bad path; [`Fault::Internal`] otherwise.
    async fn dir_exists(&self, owner: &str, dir: &str) -> Result<bool, Fault>;

    /// Writes (or replaces) the record of an object whose bytes a task
    /// already stored on the nodes.
    ///
    /// # Errors
    /// [`Fault::Job`] for a bad or root path; [`Fault::Internal`] otherwise.
    async fn put_output(&self, owner: &str, path: &str, obj: &OutputObject) -> Result<(), Fault>;

    /// Stores a local file as the object `path` (the job's archives).
    ///
    /// # Errors
    /// No storage nodes; I/O and store failures.
    async fn put_file(
        &self,
        owner: &str,
        path: &str,
        file: &Path,
        content_type: &str,
        headers: BTreeMap<String, String>,
    ) -> Result<(), NsError>;

    /// The last `n` lines of a small text object; `None` when it does not
    /// exist.
    ///
    /// # Errors
    /// Unreadable copies; store failures.
    async fn tail_lines(
        &self,
        owner: &str,
        path: &str,
        n: usize,
    ) -> Result<Option<Vec<String>>, NsError>;
}

/// An object a task stored, to be recorded under its path.
#[derive(Debug, Clone)]
pub struct OutputObject {
    /// Its bytes on the nodes; `None` for an empty object.
    pub blob: Option<StoredBlob>,
    pub content_type: String,
    /// `m-*` and `cache-control` headers the task set.
    pub headers: BTreeMap<String, String>,
    /// What made it (`job:<id>`), as the request id of a PUT.
    pub request_id: String,
}

/// Directories already made for one job, so each is written once.
#[derive(Default)]
pub struct DirCache(Mutex<HashSet<String>>);

impl DirCache {
    /// Whether `dir` was made (or found) before.
    pub fn seen(&self, dir: &str) -> bool {
        self.0.lock().map(|s| s.contains(dir)).unwrap_or(false)
    }

    /// Remembers `dir` as existing.
    pub fn add(&self, dir: String) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(dir);
        }
    }
}
