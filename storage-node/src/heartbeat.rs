//! Periodic registration in the metadata tier's node registry, which the
//! frontend's placement reads to choose nodes for new blobs.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::time::Duration;

use metadata_tier::registry::NodeRecord;
use metadata_tier::MetadataClient;
use rand::Rng;
use tokio_util::sync::CancellationToken;

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
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = beat(&meta, &store, &cfg) => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(jittered(cfg.interval)) => {}
        }
    }
}

/// The node's disk use as the last heartbeat saw it, by node id.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct NodeLabel {
    node: String,
}

struct NodeGauges {
    free: Family<NodeLabel, Gauge>,
    used: Family<NodeLabel, Gauge>,
    blobs: Family<NodeLabel, Gauge>,
}

fn gauges() -> &'static NodeGauges {
    static G: std::sync::OnceLock<NodeGauges> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        let g = NodeGauges {
            free: Family::default(),
            used: Family::default(),
            blobs: Family::default(),
        };
        let reg = metadata_tier::net::metrics::register;
        reg(
            "storage_free_bytes",
            "Free bytes on the node's disk",
            g.free.clone(),
        );
        reg(
            "storage_used_bytes",
            "Bytes of the node's blobs",
            g.used.clone(),
        );
        reg("storage_blobs", "Blobs the node holds", g.blobs.clone());
        g
    })
}

async fn beat(meta: &MetadataClient, store: &BlobStore, cfg: &HeartbeatConfig) {
    let counts = store.status().await;
    let label = NodeLabel {
        node: cfg.node_id.clone(),
    };
    let g = gauges();
    let set = |f: &Family<NodeLabel, Gauge>, v: u64| {
        f.get_or_create(&label)
            .set(i64::try_from(v).unwrap_or(i64::MAX));
    };
    set(&g.free, counts.free_bytes);
    set(&g.used, counts.used_bytes);
    set(&g.blobs, counts.blob_count);
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
