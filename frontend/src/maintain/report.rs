//! What passes found and did: per pass, the pass in progress, and totals
//! since the cluster began, as `mantad admin repair|gc status` prints them.

use serde::{Deserialize, Serialize};

/// One pass's counts. Also the running pass's progress so far.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(default)]
pub struct PassReport {
    /// Which frontend ran it.
    pub holder: String,
    /// Wall-clock start and end (ms since the epoch, the holder's clock).
    pub started_ms: u64,
    pub ended_ms: u64,
    /// Nodes by state when the pass began.
    pub nodes_up: u64,
    pub nodes_down: u64,
    pub nodes_draining: u64,
    pub nodes_lost: u64,
    /// Nodes whose blob listing failed: nothing was collected on them and
    /// their copies were taken as present.
    pub nodes_unlisted: u64,
    pub records_scanned: u64,
    /// Blob references checked (a multipart object has one per part).
    pub blobs_checked: u64,
    /// References with fewer good copies than wanted, when checked.
    pub below_durability: u64,
    /// References still below durability after the pass (repair failed,
    /// raced, or no good copy was left).
    pub still_below: u64,
    /// References with no good copy anywhere.
    pub unrecoverable: u64,
    pub copies_made: u64,
    pub bytes_copied: u64,
    pub repair_failures: u64,
    /// Record rewrites that lost to a concurrent write (the next pass
    /// looks again).
    pub raced: u64,
    pub gc_deleted_blobs: u64,
    pub gc_deleted_bytes: u64,
    /// Unnamed copies spared because they were written or touched within
    /// the grace period (or during the pass).
    pub gc_spared_young: u64,
    pub gc_failures: u64,
    /// Finished multipart uploads' directories removed.
    pub uploads_removed: u64,
    /// The operator request this pass served, if it was asked for.
    pub served_request: Option<String>,
}

/// Sums over every pass.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(default)]
pub struct Totals {
    pub passes: u64,
    pub copies_made: u64,
    pub bytes_copied: u64,
    pub gc_deleted_blobs: u64,
    pub gc_deleted_bytes: u64,
}

impl Totals {
    pub(crate) fn add(&mut self, r: &PassReport) {
        self.passes += 1;
        self.copies_made += r.copies_made;
        self.bytes_copied += r.bytes_copied;
        self.gc_deleted_blobs += r.gc_deleted_blobs;
        self.gc_deleted_bytes += r.gc_deleted_bytes;
    }
}

/// The `status` record.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(default)]
pub struct Status {
    pub last: Option<PassReport>,
    pub running: Option<PassReport>,
    pub totals: Totals,
}
