//! The agent's counters since start, as [`AgentStatus`] reports them (this
//! agent's own) and as Prometheus scrapes them (`mantad_agent_*_total{node}`,
//! per node id in the process; docs/operations.md).

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::wire::AgentStatus;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabel {
    node: String,
}

/// One count: this agent's, and the exported one of its node id.
#[derive(Debug)]
pub(crate) struct Count {
    own: AtomicU64,
    exported: Counter,
}

impl Count {
    fn get(&self) -> u64 {
        self.own.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub(crate) struct Counters {
    pub tasks_started: Count,
    pub tasks_done: Count,
    pub map_local_bytes: Count,
    pub map_remote_bytes: Count,
    pub reduce_local_bytes: Count,
    pub reduce_remote_bytes: Count,
    pub asset_bytes: Count,
}

/// One family per counter, shared by every agent of the process.
struct Families([Family<NodeLabel, Counter>; 7]);

const NAMES: [(&str, &str); 7] = [
    (
        "agent_tasks_started",
        "Tasks (and batches) the agent started",
    ),
    ("agent_tasks_done", "Tasks (and batches) the agent finished"),
    (
        "agent_map_local_bytes",
        "Map input bytes read from this node's own disk",
    ),
    (
        "agent_map_remote_bytes",
        "Map input bytes fetched from other nodes",
    ),
    (
        "agent_reduce_local_bytes",
        "Reducer input bytes read from this node's own disk",
    ),
    (
        "agent_reduce_remote_bytes",
        "Reducer input bytes fetched from other nodes",
    ),
    (
        "agent_asset_bytes",
        "Asset and image bytes fetched for tasks",
    ),
];

fn families() -> &'static Families {
    static F: std::sync::OnceLock<Families> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let f = Families(Default::default());
        for ((name, help), family) in NAMES.iter().zip(&f.0) {
            metadata_tier::net::metrics::register(name, help, family.clone());
        }
        f
    })
}

impl Counters {
    /// The counters of the agent of node `node`.
    pub(crate) fn new(node: &str) -> Self {
        let label = NodeLabel {
            node: node.to_string(),
        };
        let [a, b, c, d, e, f, g] = &families().0;
        let get = |fam: &Family<NodeLabel, Counter>| Count {
            own: AtomicU64::new(0),
            exported: fam.get_or_create(&label).clone(),
        };
        Counters {
            tasks_started: get(a),
            tasks_done: get(b),
            map_local_bytes: get(c),
            map_remote_bytes: get(d),
            reduce_local_bytes: get(e),
            reduce_remote_bytes: get(f),
            asset_bytes: get(g),
        }
    }

    /// Fills in the counter fields of `status`.
    pub(crate) fn fill(&self, status: &mut AgentStatus) {
        status.tasks_started = self.tasks_started.get();
        status.tasks_done = self.tasks_done.get();
        status.map_local_bytes = self.map_local_bytes.get();
        status.map_remote_bytes = self.map_remote_bytes.get();
        status.reduce_local_bytes = self.reduce_local_bytes.get();
        status.reduce_remote_bytes = self.reduce_remote_bytes.get();
        status.asset_bytes = self.asset_bytes.get();
    }
}

/// Adds `n` to a count.
pub(crate) fn add(count: &Count, n: u64) {
    count.own.fetch_add(n, Ordering::Relaxed);
    count.exported.inc_by(n);
}
