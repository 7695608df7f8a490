//! Counts of the node's upkeep work (scrub, GC deletes, touches), kept in
//! memory for `GET /status` and mirrored into the Prometheus registry by the
//! heartbeat (`crate::metrics`). They start at zero with the process, except
//! the end of the last scrub pass, which the scrubber reloads from its saved
//! state.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the upkeep counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpkeepCounts {
    /// Blob bytes read back and verified by the scrubber.
    pub scrubbed_bytes: u64,
    /// Blobs the scrubber verified (or found corrupt) to the end.
    pub scrubbed_blobs: u64,
    /// Full scrub passes finished.
    pub scrub_passes: u64,
    /// Copies the scrubber found corrupt (and quarantined).
    pub scrub_corrupt: u64,
    /// When the last full pass ended, in ms since the Unix epoch.
    pub scrub_last_pass_end_ms: Option<u64>,
    /// Blobs removed by GC deletes (`DELETE ...?min_age_ms=`).
    pub gc_deleted_blobs: u64,
    /// Bytes of those blobs.
    pub gc_deleted_bytes: u64,
    /// `POST /blobs/{hash}/touch` calls that found the blob.
    pub touches: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) scrubbed_bytes: AtomicU64,
    pub(crate) scrubbed_blobs: AtomicU64,
    pub(crate) scrub_passes: AtomicU64,
    pub(crate) scrub_corrupt: AtomicU64,
    /// 0: never.
    pub(crate) scrub_last_pass_end_ms: AtomicU64,
    pub(crate) gc_deleted_blobs: AtomicU64,
    pub(crate) gc_deleted_bytes: AtomicU64,
    pub(crate) touches: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> UpkeepCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let end = get(&self.scrub_last_pass_end_ms);
        UpkeepCounts {
            scrubbed_bytes: get(&self.scrubbed_bytes),
            scrubbed_blobs: get(&self.scrubbed_blobs),
            scrub_passes: get(&self.scrub_passes),
            scrub_corrupt: get(&self.scrub_corrupt),
            scrub_last_pass_end_ms: (end > 0).then_some(end),
            gc_deleted_blobs: get(&self.gc_deleted_blobs),
            gc_deleted_bytes: get(&self.gc_deleted_bytes),
            touches: get(&self.touches),
        }
    }
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}
