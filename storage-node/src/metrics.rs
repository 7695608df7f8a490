//! The storage node's Prometheus metrics, in the process-wide registry
//! (`metadata_tier::net::metrics`), labelled by node id. The heartbeat
//! refreshes them from the store's in-memory counts at every beat, so they
//! lag by at most one heartbeat interval.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use metadata_tier::net::metrics::register as reg;

use crate::blobstore::{StatusCounts, UpkeepCounts};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabel {
    node: String,
}

type Gauges = Family<NodeLabel, Gauge>;
type Counters = Family<NodeLabel, Counter>;

struct Families {
    free: Gauges,
    used: Gauges,
    blobs: Gauges,
    quarantined: Gauges,
    scrub_last_pass_end: Gauges,
    /// In the order of [`COUNTERS`].
    counters: [Counters; 7],
}

/// Counters, named without `mantad_` and `_total`, which the registry adds.
const COUNTERS: [(&str, &str); 7] = [
    (
        "storage_scrub_bytes",
        "Blob bytes the scrubber read back and verified",
    ),
    (
        "storage_scrub_blobs",
        "Blobs the scrubber checked to the end",
    ),
    ("storage_scrub_passes", "Full scrub passes finished"),
    (
        "storage_scrub_corrupt",
        "Copies the scrubber found corrupt and quarantined",
    ),
    ("storage_gc_deleted_blobs", "Blobs removed by GC deletes"),
    (
        "storage_gc_deleted_bytes",
        "Bytes of the blobs removed by GC deletes",
    ),
    ("storage_touches", "Touches of blobs the node holds"),
];

fn families() -> &'static Families {
    static F: std::sync::OnceLock<Families> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let f = Families {
            free: Family::default(),
            used: Family::default(),
            blobs: Family::default(),
            quarantined: Family::default(),
            scrub_last_pass_end: Family::default(),
            counters: Default::default(),
        };
        reg(
            "storage_free_bytes",
            "Free bytes on the node's disk",
            f.free.clone(),
        );
        reg(
            "storage_used_bytes",
            "Bytes of the node's blobs",
            f.used.clone(),
        );
        reg("storage_blobs", "Blobs the node holds", f.blobs.clone());
        reg(
            "storage_quarantined",
            "Copies in the node's quarantine",
            f.quarantined.clone(),
        );
        reg(
            "storage_scrub_last_pass_end_seconds",
            "Unix time the last full scrub pass ended",
            f.scrub_last_pass_end.clone(),
        );
        for ((name, help), family) in COUNTERS.iter().zip(&f.counters) {
            reg(name, help, family.clone());
        }
        f
    })
}

/// One node's metrics. The store's counters start at zero with the store;
/// this adds what they grew by since the last refresh, so the exported
/// counters never go back, even for a node restarted within the process.
#[derive(Debug)]
pub struct NodeMetrics {
    label: NodeLabel,
    last: [u64; 7],
}

impl NodeMetrics {
    pub fn new(node: &str) -> Self {
        NodeMetrics {
            label: NodeLabel {
                node: node.to_string(),
            },
            last: [0; 7],
        }
    }

    /// Sets the gauges and advances the counters to the store's counts.
    pub fn refresh(&mut self, status: &StatusCounts, upkeep: &UpkeepCounts) {
        let f = families();
        let set = |g: &Gauges, v: u64| {
            g.get_or_create(&self.label)
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        set(&f.free, status.free_bytes);
        set(&f.used, status.used_bytes);
        set(&f.blobs, status.blob_count);
        set(&f.quarantined, status.quarantined);
        if let Some(ms) = upkeep.scrub_last_pass_end_ms {
            set(&f.scrub_last_pass_end, ms / 1000);
        }
        let now = [
            upkeep.scrubbed_bytes,
            upkeep.scrubbed_blobs,
            upkeep.scrub_passes,
            upkeep.scrub_corrupt,
            upkeep.gc_deleted_blobs,
            upkeep.gc_deleted_bytes,
            upkeep.touches,
        ];
        for ((family, last), now) in f.counters.iter().zip(&mut self.last).zip(now) {
            family
                .get_or_create(&self.label)
                .inc_by(now.saturating_sub(*last));
            *last = now;
        }
    }
}
