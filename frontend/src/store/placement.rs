//! Where copies go and where reads come from, from the storage node registry.
//!
//! The registry is read at most every [`REFRESH`] and shared by all requests,
//! so placement costs no metadata round trip on the hot path. Each node is in
//! one [`NodeState`]: only `Up` nodes get new copies; reads try `Up` and
//! `Draining` ones first, then `Down` ones (they may merely be slow to beat),
//! and `Lost` ones last.

use super::error::{Error, Result};
use super::ids::NodeId;
use metadata_tier::registry::{AdminState, LiveNode};
use metadata_tier::MetadataClient;
use rand::seq::SliceRandom;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const REFRESH: Duration = Duration::from_millis(500);

/// The registry as read at an instant.
type Snapshot = (Instant, Arc<Vec<LiveNode>>);

/// Where a node stands, from its heartbeat's age and the operator's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Beating: takes new copies, serves reads.
    Up,
    /// Being emptied: serves reads, takes no new copies; repair moves its
    /// copies elsewhere.
    Draining,
    /// Silent past the heartbeat timeout: no new copies, no repair yet (it
    /// may be rebooting).
    Down,
    /// Silent past the lost timeout, or removed by the operator: its copies
    /// no longer count and are made again elsewhere.
    Lost,
}

/// How long a node may be silent before each state.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Older heartbeat: `Down`.
    pub down: Duration,
    /// Older heartbeat: `Lost`.
    pub lost: Duration,
}

impl Timeouts {
    /// The state of `n`.
    pub fn state(&self, n: &LiveNode) -> NodeState {
        let age = Duration::from_millis(n.age_ms);
        match n.admin.as_ref().map(|a| a.state) {
            Some(AdminState::Lost) => NodeState::Lost,
            _ if age > self.lost => NodeState::Lost,
            Some(AdminState::Draining) => NodeState::Draining,
            None if age > self.down => NodeState::Down,
            None => NodeState::Up,
        }
    }
}

#[derive(Clone)]
pub struct Placement {
    meta: MetadataClient,
    timeouts: Timeouts,
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
    pub(crate) fn new(meta: MetadataClient, timeouts: Timeouts, reserve_bytes: u64) -> Self {
        Placement {
            meta,
            timeouts,
            reserve_bytes,
            cache: Arc::default(),
        }
    }

    /// Every registered node, with the age of its last heartbeat.
    pub(crate) async fn nodes(&self) -> Result<Arc<Vec<LiveNode>>> {
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

    pub fn state(&self, n: &LiveNode) -> NodeState {
        self.timeouts.state(n)
    }

    fn is_live(&self, n: &LiveNode) -> bool {
        self.state(n) == NodeState::Up
    }

    /// Number of nodes taking new copies.
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
        self.choose_from(n, size, false).await
    }

    /// As [`Self::choose`]; with `at_most`, fewer than `n` is no error.
    async fn choose_from(&self, n: usize, size: u64, at_most: bool) -> Result<Vec<Target>> {
        let nodes = self.nodes().await?;
        let mut fit: Vec<&LiveNode> = nodes
            .iter()
            .filter(|x| self.is_live(x))
            .filter(|x| x.record.free_bytes >= size.saturating_add(self.reserve_bytes))
            .collect();
        if fit.is_empty() {
            return Err(Error::NoStorageNodes);
        }
        if fit.len() < n && !at_most {
            return Err(Error::NotEnoughSpace {
                wanted: n,
                available: fit.len(),
            });
        }
        fit.shuffle(&mut rand::thread_rng());
        fit.sort_by_key(|x| x.record.inflight / 4);
        Ok(fit.into_iter().take(n).map(target).collect())
    }

    /// Chooses `n` distinct `Up` nodes for `size` more bytes, none of them
    /// in `except` (the nodes already holding a copy), as [`Self::choose`].
    ///
    /// # Errors
    /// As [`Self::choose`].
    pub(crate) async fn choose_except(
        &self,
        n: usize,
        size: u64,
        except: &[NodeId],
    ) -> Result<Vec<Target>> {
        let more = n + except.len();
        let mut got = self.choose_from(more, size, true).await?;
        got.retain(|t| !except.contains(&t.id));
        if got.len() < n {
            return Err(Error::NotEnoughSpace {
                wanted: n,
                available: got.len(),
            });
        }
        got.truncate(n);
        Ok(got)
    }

    /// The nodes holding `sharks`, in the order to try them: `Up` and
    /// `Draining` ones in random order (spreading reads), then `Down` ones,
    /// then `Lost` ones.
    ///
    /// # Errors
    /// Metadata errors reading the registry.
    pub(crate) async fn read_order(&self, sharks: &[NodeId]) -> Result<Vec<Target>> {
        let nodes = self.nodes().await?;
        let mut found: Vec<(u8, &LiveNode)> = Vec::new();
        for id in sharks {
            if let Some(n) = nodes.iter().find(|n| n.record.id == id.0) {
                let rank = match self.state(n) {
                    NodeState::Up | NodeState::Draining => 0,
                    NodeState::Down => 1,
                    NodeState::Lost => 2,
                };
                found.push((rank, n));
            }
        }
        found.shuffle(&mut rand::thread_rng());
        found.sort_by_key(|(rank, _)| *rank);
        Ok(found.into_iter().map(|(_, n)| target(n)).collect())
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
