//! `GET /console/api/cluster`: the operator's view, as `mantad admin
//! status` shows it (nodes with state and space, shards, objects below
//! durability, the repair/GC pass), plus samples of this process's
//! metrics for the charts: requests/s and response bytes/s of the Manta
//! listener, and the mean run time of job task containers.
//!
//! Samples are taken when the page polls (at most one per
//! [`SAMPLE_EVERY`]) into a bounded ring ([`RING`] samples): no
//! background task, and no cost while nobody watches. An operator is an
//! account named in the frontend config's `console_operators` (`mantad
//! dev` names its dev account).

use super::error::{Refusal, Result};
use super::{session, Console};
use crate::store::{NodeState, Timeouts};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metadata_tier::wire::Keyspace;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

pub(crate) const SAMPLE_EVERY: Duration = Duration::from_secs(2);
pub(crate) const RING: usize = 360;

/// Counter totals at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Totals {
    requests: f64,
    bytes_out: f64,
    task_seconds: f64,
    tasks: f64,
}

/// One point of the charts: rates over the interval before `at_ms`.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    at_ms: u64,
    requests_per_sec: f64,
    bytes_per_sec: f64,
    /// Mean task run time over the interval; `None` when no task ended.
    task_seconds: Option<f64>,
}

#[derive(Default)]
struct Ring {
    last: Option<(u64, Totals)>,
    samples: VecDeque<Sample>,
}

static RING_STATE: Mutex<Option<Ring>> = Mutex::new(None);

/// Sums the counters the charts need from Prometheus' text format.
fn totals(text: &str) -> Totals {
    let mut t = Totals::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name_labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let name = name_labels.split('{').next().unwrap_or_default();
        let manta = name_labels.contains("listener=\"manta\"");
        match name {
            "mantad_http_requests_total" if manta => t.requests += v,
            "mantad_http_response_bytes_total" if manta => t.bytes_out += v,
            "mantad_task_container_run_seconds_sum" => t.task_seconds += v,
            "mantad_task_container_run_seconds_count" => t.tasks += v,
            _ => {}
        }
    }
    t
}

/// Takes a sample if the last is old enough; returns the ring.
fn sample(now_ms: u64) -> Vec<Sample> {
    let Ok(mut guard) = RING_STATE.lock() else {
        return Vec::new();
    };
    let ring = guard.get_or_insert_with(Ring::default);
    let due = ring
        .last
        .is_none_or(|(at, _)| now_ms.saturating_sub(at) >= SAMPLE_EVERY.as_millis() as u64);
    if due {
        let now = totals(&metadata_tier::net::metrics::render());
        if let Some((at, before)) = ring.last {
            let secs = (now_ms.saturating_sub(at) as f64 / 1000.0).max(0.001);
            let tasks = now.tasks - before.tasks;
            ring.samples.push_back(Sample {
                at_ms: now_ms,
                requests_per_sec: ((now.requests - before.requests) / secs).max(0.0),
                bytes_per_sec: ((now.bytes_out - before.bytes_out) / secs).max(0.0),
                task_seconds: (tasks > 0.0)
                    .then(|| (now.task_seconds - before.task_seconds) / tasks),
            });
            while ring.samples.len() > RING {
                ring.samples.pop_front();
            }
        }
        ring.last = Some((now_ms, now));
    }
    ring.samples.iter().cloned().collect()
}

fn state_name(s: NodeState) -> &'static str {
    match s {
        NodeState::Up => "up",
        NodeState::Down => "down",
        NodeState::Draining => "draining",
        NodeState::Lost => "lost",
    }
}

pub(crate) async fn status(State(c): State<Console>, headers: HeaderMap) -> Result<Response> {
    session::check_read(&headers)?;
    let s = session::current(&c, &headers).await?;
    if !session::is_operator(&c, &s.account.login) {
        return Err(Refusal::NotOperator);
    }
    let meta = &c.state.meta;
    let timeouts = Timeouts {
        down: c.state.settings.heartbeat_timeout,
        lost: c.state.settings.node_lost_after,
    };
    let live = meta.nodes().await?;
    // Each node's scrubber, as the node itself reports it (a node that does
    // not answer within 2 s shows none).
    let storage = c.state.store.storage();
    let scrubs = futures::future::join_all(live.iter().map(|n| async move {
        tokio::time::timeout(Duration::from_secs(2), storage.status(&n.record.addr))
            .await
            .ok()
            .and_then(|r| r.ok())
    }))
    .await;
    let nodes: Vec<serde_json::Value> = live
        .iter()
        .zip(scrubs)
        .map(|(n, st)| {
            serde_json::json!({
                "id": n.record.id, "state": state_name(timeouts.state(n)),
                "heartbeat_age_ms": n.age_ms, "free_bytes": n.record.free_bytes,
                "used_bytes": n.record.used_bytes, "blobs": n.record.blob_count,
                "inflight": n.record.inflight,
                "reason": n.admin.as_ref().map(|a| a.reason.clone()),
                "scrub": st.map(|s| serde_json::json!({
                    "scrubbed_bytes": s.scrubbed_bytes, "passes": s.scrub_passes,
                    "corrupt": s.scrub_corrupt, "quarantined": s.quarantined,
                    "last_pass_end_ms": s.scrub_last_pass_end_ms,
                })),
            })
        })
        .collect();
    // Each shard's Raft group as its replicas see it.
    let mut shards = Vec::new();
    for i in 0..meta.shard_count() {
        let replicas = meta.shard_status(i).await;
        let up: Vec<_> = replicas
            .iter()
            .filter_map(|(_, s)| s.as_ref().ok())
            .collect();
        let leader = up.iter().find(|s| s.state == "Leader");
        shards.push(serde_json::json!({
            "shard": meta.ring().shards().get(i),
            "reachable": leader.is_some(),
            "leader": leader.map(|l| l.id),
            "term": leader.map(|l| l.term),
            "replicas_up": up.len(),
            "replicas": replicas.len(),
        }));
    }
    let maintenance = crate::maintain::control::read_status(meta)
        .await
        .map_err(|e| Refusal::Unavailable(e.to_string()))?;
    let jobs_running = meta.count(Keyspace::Jobs, "running").await.ok();
    let samples = sample(session::now_ms());
    Ok(Json(serde_json::json!({
        "nodes": nodes,
        "shards": shards,
        "below_durability": maintenance.last.as_ref().map(|l| l.still_below),
        "maintenance": maintenance,
        "jobs_running": jobs_running,
        "samples": samples,
        "sample_every_ms": SAMPLE_EVERY.as_millis() as u64,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_from_the_text_format() {
        let text = "# HELP x\n\
            mantad_http_requests_total{listener=\"manta\",route=\"/\",method=\"GET\",status=\"200\"} 5\n\
            mantad_http_requests_total{listener=\"manta\",route=\"/\",method=\"PUT\",status=\"204\"} 2\n\
            mantad_http_requests_total{listener=\"shard\",route=\"/\",method=\"GET\",status=\"200\"} 100\n\
            mantad_http_response_bytes_total{listener=\"manta\"} 4096\n\
            mantad_task_container_run_seconds_sum{runtime=\"runc\"} 1.5\n\
            mantad_task_container_run_seconds_count{runtime=\"runc\"} 3\n";
        let t = totals(text);
        assert_eq!(
            t,
            Totals {
                requests: 7.0,
                bytes_out: 4096.0,
                task_seconds: 1.5,
                tasks: 3.0
            }
        );
    }
}
