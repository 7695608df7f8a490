//! The agent's counters since start, as [`AgentStatus`] reports them.

use std::sync::atomic::{AtomicU64, Ordering};

use super::wire::AgentStatus;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub tasks_started: AtomicU64,
    pub tasks_done: AtomicU64,
    pub map_local_bytes: AtomicU64,
    pub map_remote_bytes: AtomicU64,
    pub reduce_local_bytes: AtomicU64,
    pub reduce_remote_bytes: AtomicU64,
    pub asset_bytes: AtomicU64,
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    /// Fills in the counter fields of `status`.
    pub(crate) fn fill(&self, status: &mut AgentStatus) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        status.tasks_started = get(&self.tasks_started);
        status.tasks_done = get(&self.tasks_done);
        status.map_local_bytes = get(&self.map_local_bytes);
        status.map_remote_bytes = get(&self.map_remote_bytes);
        status.reduce_local_bytes = get(&self.reduce_local_bytes);
        status.reduce_remote_bytes = get(&self.reduce_remote_bytes);
        status.asset_bytes = get(&self.asset_bytes);
    }
}
