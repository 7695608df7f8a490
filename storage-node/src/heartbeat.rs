//! Periodic registration in the metadata tier's node registry, which the
//! frontend's placement reads to choose nodes for new blobs. Each beat also
//! refreshes the node's Prometheus metrics ([`crate::metrics`]).

use std::time::Duration;

use metadata_tier::registry::NodeRecord;
use metadata_tier::MetadataClient;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::metrics::NodeMetrics;
use crate::BlobStore;

/// What to announce and how often.
#[derive(Debug, Clone)]
pub struct HeartbeatConfig {
    pub node_id: String,
    /// Base URL others reach this node at, e.g. `http://127.0.0.1:7001`.
    pub addr: String,
    pub interval: Duration,
}

/// Beats until `cancel` fires: once at once, then every `interval` +-10%.
/// Failures are logged and retried at the next beat, since the registry may
/// be briefly unreachable and the node is still useful meanwhile.
pub async fn run(
    meta: MetadataClient,
    store: BlobStore,
    cfg: HeartbeatConfig,
    cancel: CancellationToken,
) {
    let mut metrics = NodeMetrics::new(&cfg.node_id);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = beat(&meta, &store, &cfg, &mut metrics) => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(jittered(cfg.interval)) => {}
        }
    }
}

async fn beat(
    meta: &MetadataClient,
    store: &BlobStore,
    cfg: &HeartbeatConfig,
    metrics: &mut NodeMetrics,
) {
    let counts = store.status().await;
    metrics.refresh(&counts, &store.upkeep());
    let rec = NodeRecord {
        id: cfg.node_id.clone(),
        addr: cfg.addr.clone(),
        free_bytes: counts.free_bytes,
        used_bytes: counts.used_bytes,
        blob_count: counts.blob_count,
        inflight: store.inflight(),
        // Format of this record; bump when its fields change meaning.
        version: 1,
    };
    if let Err(e) = meta.heartbeat(&rec).await {
        tracing::warn!(node = %cfg.node_id, error = %e, "heartbeat failed");
    }
}

/// Spreads beats so that nodes started together do not beat in lockstep.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))
}
