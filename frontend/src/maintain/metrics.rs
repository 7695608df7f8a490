//! Repair and garbage collection in Prometheus terms (see
//! docs/operations.md). Recorded by the frontend that ran the pass.

use super::report::PassReport;
use metadata_tier::net::metrics::register as add;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::OnceLock;

struct M {
    passes: Counter,
    copies: Counter,
    bytes_copied: Counter,
    failures: Counter,
    below: Gauge,
    unrecoverable: Gauge,
    gc_blobs: Counter,
    gc_bytes: Counter,
}

fn m() -> &'static M {
    static M: OnceLock<M> = OnceLock::new();
    M.get_or_init(|| M {
        passes: Counter::default(),
        copies: Counter::default(),
        bytes_copied: Counter::default(),
        failures: Counter::default(),
        below: Gauge::default(),
        unrecoverable: Gauge::default(),
        gc_blobs: Counter::default(),
        gc_bytes: Counter::default(),
    })
}

pub(super) fn register() {
    let m = m();
    add(
        "maintenance_passes",
        "Repair and GC passes completed",
        m.passes.clone(),
    );
    add("repair_copies", "Copies made by repair", m.copies.clone());
    add(
        "repair_bytes",
        "Bytes copied by repair",
        m.bytes_copied.clone(),
    );
    add(
        "repair_failures",
        "Repair copies or record rewrites that failed",
        m.failures.clone(),
    );
    add(
        "objects_below_durability",
        "Blob references left with fewer good copies than wanted by the last pass",
        m.below.clone(),
    );
    add(
        "objects_unrecoverable",
        "Blob references with no readable copy at the last pass",
        m.unrecoverable.clone(),
    );
    add(
        "gc_deleted_blobs",
        "Copies deleted by garbage collection",
        m.gc_blobs.clone(),
    );
    add(
        "gc_deleted_bytes",
        "Bytes freed by garbage collection",
        m.gc_bytes.clone(),
    );
}

pub(super) fn record(r: &PassReport) {
    let m = m();
    m.passes.inc();
    m.copies.inc_by(r.copies_made);
    m.bytes_copied.inc_by(r.bytes_copied);
    m.failures.inc_by(r.repair_failures);
    m.below
        .set(i64::try_from(r.still_below).unwrap_or(i64::MAX));
    m.unrecoverable
        .set(i64::try_from(r.unrecoverable).unwrap_or(i64::MAX));
    m.gc_blobs.inc_by(r.gc_deleted_blobs);
    m.gc_bytes.inc_by(r.gc_deleted_bytes);
}
