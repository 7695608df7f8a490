//! Keeping stored bytes whole over time: repair and garbage collection.
//!
//! One frontend at a time (the holder of a lease, [`control`]) runs a
//! *pass* every [`MaintainSettings::interval`], or at once when an operator
//! asks (`mantad admin repair run`). A pass ([`pass`]) lists every node's
//! blobs, walks every record of every shard, gives each blob back the
//! copies it wants (a copy that is missing, corrupt and quarantined, on a
//! lost node or on a draining one is made again elsewhere, and the record
//! is rewritten under a condition), and finally deletes the copies no
//! record names once they are older than the grace period. The same walk
//! finds finished multipart uploads, removed once older than their own
//! grace period ([`uploads`]). What it found
//! and did is kept in a status record ([`report`]) and in metrics.
//! docs/durability.md says what this promises.

pub mod control;
mod metrics;
mod pass;
mod refs;
pub mod report;
mod uploads;

use crate::store::ObjectStore;
use control::Lease;
use report::{PassReport, Status};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often a request or the lease is looked at between passes.
const POLL: Duration = Duration::from_secs(1);
/// Pause after a failed pass before the next try.
const FAILED_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct MaintainSettings {
    /// Time between the start of one pass and the next; `None`: this
    /// frontend runs none (another one may).
    pub interval: Option<Duration>,
    /// A copy no record names is kept this long after it was last written
    /// or touched: longer than any upload takes between storing its bytes
    /// and writing its record.
    pub gc_grace: Duration,
    /// A committed or aborted Manta multipart upload's directory (its
    /// state, `mmpu get`) is removed this long after it finished.
    pub upload_grace: Duration,
}

impl Default for MaintainSettings {
    fn default() -> Self {
        MaintainSettings {
            interval: Some(Duration::from_secs(5 * 60)),
            gc_grace: Duration::from_secs(60 * 60),
            upload_grace: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Runs passes until `cancel`: takes the lease when it is free, then a
/// pass every interval or on request.
pub async fn run(store: ObjectStore, settings: MaintainSettings, cancel: CancellationToken) {
    let Some(interval) = settings.interval else {
        return;
    };
    metrics::register();
    let holder = format!("{}-{}", hostname(), uuid::Uuid::new_v4());
    let mut lease = Lease::new(store.meta().clone(), holder.clone());
    let mut last: Option<Instant> = None;
    let mut served: Option<String> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(POLL) => {}
        }
        let request = match control::pending_request(store.meta()).await {
            Ok(r) => r.map(|e| e.etag),
            Err(e) => {
                tracing::debug!(error = %e, "reading maintenance requests");
                continue;
            }
        };
        let asked = request.is_some() && request != served;
        let due = last.is_none_or(|t| t.elapsed() >= interval);
        if !asked && !due {
            continue;
        }
        match lease.hold().await {
            Ok(true) => {}
            Ok(false) => {
                // Another frontend runs passes; look again in a while. A
                // request stays ours to serve until a pass reports it
                // served: its holder may die before it gets to it.
                last = Some(Instant::now());
                if let Ok(st) = control::read_status(store.meta()).await {
                    if st.last.and_then(|l| l.served_request) == request {
                        served = request;
                    }
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "taking the maintenance lease");
                continue;
            }
        }
        last = Some(Instant::now());
        let report = PassReport {
            holder: holder.clone(),
            served_request: if asked { request.clone() } else { None },
            ..PassReport::default()
        };
        // A request is served only by a pass that reports it; one that
        // failed or stopped leaves it pending for the next try.
        match one_pass(&store, &settings, &mut lease, report, &cancel).await {
            Ok(true) => served = request,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "maintenance pass failed; the next one starts over");
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(FAILED_BACKOFF) => {}
                }
            }
        }
    }
    lease.release().await;
}

async fn one_pass(
    store: &ObjectStore,
    settings: &MaintainSettings,
    lease: &mut Lease,
    mut report: PassReport,
    cancel: &CancellationToken,
) -> crate::store::Result<bool> {
    let meta = store.meta().clone();
    let mut status = control::read_status(&meta).await.unwrap_or_default();
    report.started_ms = crate::time::now_ms();
    tracing::info!("maintenance pass starting");
    let mut pass = pass::Pass::begin(store, settings, report).await?;
    let mut renewed = Instant::now();
    while pass.scan_page().await? {
        if cancel.is_cancelled() {
            tracing::info!("maintenance pass stopped before its end");
            return Ok(false);
        }
        if renewed.elapsed() < control::LEASE_TTL / 4 {
            continue;
        }
        renewed = Instant::now();
        status.running = Some(pass.report.clone());
        if let Err(e) = control::write_status(&meta, &status).await {
            tracing::debug!(error = %e, "publishing pass progress");
        }
        // A pass that lost its lease stops: another frontend runs now.
        if !lease.hold().await.unwrap_or(false) {
            tracing::warn!("maintenance lease lost mid-pass; stopping");
            return Ok(false);
        }
    }
    pass.collect_uploads().await;
    pass.collect().await;
    let mut report = pass.report;
    report.ended_ms = crate::time::now_ms();
    metrics::record(&report);
    tracing::info!(
        records = report.records_scanned,
        below = report.below_durability,
        copies_made = report.copies_made,
        still_below = report.still_below,
        gc_blobs = report.gc_deleted_blobs,
        gc_bytes = report.gc_deleted_bytes,
        uploads_removed = report.uploads_removed,
        "maintenance pass done"
    );
    status.totals.add(&report);
    status.running = None;
    status.last = Some(report);
    control::write_status(&meta, &status).await?;
    Ok(true)
}

/// Reads the current status (for operators' commands and tests).
///
/// # Errors
/// Metadata errors.
pub async fn status(store: &ObjectStore) -> crate::store::Result<Status> {
    control::read_status(store.meta()).await
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "frontend".into())
}
