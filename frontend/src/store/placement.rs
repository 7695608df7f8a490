//! Where copies go and where reads come from, from the storage node registry.
//!
//! The registry is read at most every [`REFRESH`] and shared by all requests,
//! so placement costs no metadata round trip on the hot path. A node whose
//! last heartbeat is older than the configured timeout is left out of new
//! placements; reads still try it last, since it may merely be slow to beat.

use super::error::{Error, Result};
use super::ids::NodeId;
use metadata_tier::registry::LiveNode;
use metadata_tier::MetadataClient;
use rand::seq::SliceRandom;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const REFRESH: Duration = Duration::from_millis(500);

/// The registry as read at an instant.
type Snapshot = (Instant, Arc<Vec<LiveNode>>);

#[derive(Clone)]
pub struct Placement {
    meta: MetadataClient,
    timeout: Duration,
    /// Free bytes a node keeps in reserve: it gets no new copies below this.
    reserve_bytes: u64,
    cache: Arc<Mutex<Option<Snapshot>>>,
}

/// A node to read from or write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) id: NodeId,
    pub(crate) addr: String,
}

impl Placement {
    pub(crate) fn new(meta: MetadataClient, timeout: Duration, reserve_bytes: u64) -> Self {
        Placement {
            meta,
            timeout,
            reserve_bytes,
            cache: Arc::default(),
        }
    }

    /// Every registered node, with the age of its last heartbeat.
    async fn nodes(&self) -> Result<Arc<Vec<LiveNode>>> {
        let mut cache = self.cache.lock().await;
        if let Some((at, nodes)) = cache.as_ref() {
            if at.elapsed() < REFRESH {
                return Ok(nodes.clone());
            }
        }
        let nodes = Arc::new(self.meta.nodes().await?);
        *cache = Some((Instant::now(), nodes.clone()));
        Ok(nodes)
    }

    fn is_live(&self, n: &LiveNode) -> bool {
        Duration::from_millis(n.age_ms) <= self.timeout
    }

    /// Number of live nodes: the ceiling for the default durability.
    pub(crate) async fn live_count(&self) -> Result<usize> {
        Ok(self
            .nodes()
            .await?
            .iter()
            .filter(|n| self.is_live(n))
            .count())
    }

    /// Chooses `n` distinct live nodes with room for `size` more bytes,
    /// preferring the least busy, ties broken at random so load spreads.
    ///
    /// # Errors
    /// `NoStorageNodes` when none is live, `NotEnoughSpace` when fewer than
    /// `n` qualify.
    pub(crate) async fn choose(&self, n: usize, size: u64) -> Result<Vec<Target>> {
        let nodes = self.nodes().await?;
        let mut fit: Vec<&LiveNode> = nodes
            .iter()
            .filter(|x| self.is_live(x))
            .filter(|x| x.record.free_bytes >= size.saturating_add(self.reserve_bytes))
            .collect();
        if fit.is_empty() {
            return Err(Error::NoStorageNodes);
        }
        if fit.len() < n {
            return Err(Error::NotEnoughSpace {
                wanted: n,
                available: fit.len(),
            });
        }
        fit.shuffle(&mut rand::thread_rng());
        fit.sort_by_key(|x| x.record.inflight / 4);
        Ok(fit.into_iter().take(n).map(target).collect())
    }

    /// The nodes holding `sharks`, in the order to try them: live ones in
    /// random order (spreading reads), then those past their timeout.
    ///
    /// # Errors
    /// Metadata errors reading the registry.
    pub(crate) async fn read_order(&self, sharks: &[NodeId]) -> Result<Vec<Target>> {
        let nodes = self.nodes().await?;
        let mut live = Vec::new();
        let mut stale = Vec::new();
        for id in sharks {
            if let Some(n) = nodes.iter().find(|n| n.record.id == id.0) {
                if self.is_live(n) {
                    live.push(target(n));
                } else {
                    stale.push(target(n));
                }
            }
        }
        live.shuffle(&mut rand::thread_rng());
        live.extend(stale);
        Ok(live)
    }

    /// Every live node (for the job supervisor's scheduling).
    ///
    /// # Errors
    /// Metadata errors reading the registry.
    pub(crate) async fn live_targets(&self) -> Result<Vec<Target>> {
        let nodes = self.nodes().await?;
        Ok(nodes
            .iter()
            .filter(|n| self.is_live(n))
            .map(target)
            .collect())
    }

    /// Forgets the cached registry, so the next call reads it afresh.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}

fn target(n: &LiveNode) -> Target {
    Target {
        id: NodeId(n.record.id.clone()),
        addr: n.record.addr.clone(),
    }
}
