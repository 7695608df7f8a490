//! A shard replica: one RocksDB, the state of its shard's Raft group.
//!
//! Key layout (one byte per keyspace, never reused):
//! - entry: `[space tag][dir bytes] 0x00 [name bytes]` -> envelope. One prefix
//!   scan of `[tag][dir] 0x00` returns a directory's entries sorted by name
//!   (byte order). NUL is refused in dirs and names, so prefixes never bleed:
//!   `/u/stor` and `/u/stor2` differ before the 0x00, `/u/stor/x` has `/`
//!   where `/u/stor`'s entries have 0x00.
//! - count: `0xFF [space tag][dir bytes]` -> u64 LE, the directory's entry
//!   count, changed in the same write batch as the entries.
//! - mtime index: `0xFE [space tag][dir] 0x00 [mtime BE][name]`, objects
//!   only, for listings by modification time ([`by_mtime`]).
//!
//! Values are a versioned envelope `{"v":1,"etag","mtime_ms","value"}` so a
//! later release can migrate what this one wrote.
//!
//! Writes go through the shard's Raft group ([`crate::raft`]): a write is
//! acknowledged once a majority of replicas hold it in their logs and this
//! replica (the leader) has applied it. Reads are answered by the leader
//! after a read-index check (it is still leader, and has applied all it
//! had committed when the read arrived), so a read sees every write
//! acknowledged before it began, whichever replica leads.

pub(crate) mod apply;
pub(crate) mod by_mtime;
mod keys;
#[cfg(test)]
mod keys_prop;
mod scan;

pub use scan::MAX_SCAN;

use crate::error::{Error, Result};
use crate::net::ClusterKey;
use crate::raft::log_store::LogStore;
use crate::raft::network::Network;
use crate::raft::read_index::ReadIndex;
use crate::raft::routes::{node, MemberChange, ReplicaStatus};
use crate::raft::state_machine::{SharedDb, StateMachine};
use crate::raft::{batcher, GroupConfig, NodeId, Raft};
use crate::wire::{Entry, EntryKey, Keyspace, ListOptions, ListResult, Op, OpResult, ScanResult};
use keys::Envelope;
use openraft::error::RaftError;
use rocksdb::{Direction, IteratorMode, ReadOptions, DB};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Largest page a list may return.
pub const MAX_LIST: usize = 10_000;

/// One replica of a shard.
#[derive(Clone)]
pub struct Shard {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    db: SharedDb,
    raft: Raft,
    writes: mpsc::Sender<batcher::WriteReq>,
    reads: ReadIndex,
    /// Held while a snapshot is received: one at a time per replica.
    receiving: tokio::sync::Mutex<()>,
}

impl Shard {
    /// Opens (or creates) an unreplicated shard at `path`: a group of one.
    ///
    /// # Errors
    /// RocksDB errors (e.g. the directory is locked by another process).
    pub async fn open(path: &Path) -> Result<Shard> {
        Self::open_replica(path, GroupConfig::single(), ClusterKey::generate()).await
    }

    /// Opens (or creates) this replica of a shard's group. A replica that
    /// was never in a group and is told to `bootstrap` creates the group
    /// of `group.peers`; others wait to be reached by the leader.
    ///
    /// # Errors
    /// RocksDB and file errors; invalid Raft timing.
    pub async fn open_replica(path: &Path, group: GroupConfig, key: ClusterKey) -> Result<Shard> {
        std::fs::create_dir_all(path)?;
        let log = LogStore::open(&path.join("log"))?;
        let pristine = log.is_pristine()?;
        let sm = StateMachine::open(path)?;
        let db = sm.shared_db();
        let config = Arc::new(group.timing.config()?);
        let network = Network::new(key, path.to_path_buf());
        let raft = Raft::new(group.id, config, network, log, sm)
            .await
            .map_err(|e| Error::Io(std::io::Error::other(format!("start raft: {e}"))))?;
        if pristine && group.bootstrap {
            let members = group
                .peers
                .iter()
                .map(|(id, a)| (*id, node(a)))
                .collect::<std::collections::BTreeMap<_, _>>();
            if let Err(e) = raft.initialize(members).await {
                tracing::warn!(error = %e, "initializing the shard's group");
            }
        }
        let writes = batcher::spawn(raft.clone());
        let reads = ReadIndex::new(raft.clone());
        let shard = Shard {
            inner: Arc::new(Inner {
                root: path.to_path_buf(),
                db,
                raft,
                writes,
                reads,
                receiving: tokio::sync::Mutex::new(()),
            }),
        };
        if group.peers.len() == 1 {
            // A group of one elects itself at once rather than after an
            // election timeout, and is ready when open returns.
            let raft = &shard.inner.raft;
            let _ = raft.trigger().elect().await;
            raft.wait(Some(Duration::from_secs(10)))
                .metrics(|m| m.current_leader.is_some(), "a leader")
                .await
                .map_err(|e| {
                    Error::Io(std::io::Error::other(format!("shard did not start: {e}")))
                })?;
        }
        Ok(shard)
    }

    pub fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The right to receive a snapshot, if no other is being received: a
    /// second sender (a deposed leader) is told to retry rather than
    /// doubling the disk space the transfer takes.
    pub(crate) fn receiving_snapshot(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        self.inner.receiving.try_lock().ok()
    }

    /// Waits until a read here would see every write acknowledged before
    /// it began: this replica leads and has applied all it committed.
    async fn barrier(&self) -> Result<Arc<DB>> {
        self.inner.reads.confirm().await?;
        Ok(self.inner.db.load_full())
    }

    /// # Errors
    /// `InvalidKey`, `NotLeader`, `NoQuorum`, RocksDB and decoding errors.
    pub async fn get(&self, key: &EntryKey) -> Result<Option<Entry>> {
        let k = keys::entry_key(key)?;
        let db = self.barrier().await?;
        let name = key.name.clone();
        blocking(move || match db.get(&k)? {
            None => Ok(None),
            Some(raw) => Ok(Some(Envelope::decode(&raw)?.into_entry(name))),
        })
        .await
    }

    /// Applies `ops` atomically, once the group has committed them.
    ///
    /// # Errors
    /// `ConditionFailed` (nothing applied), `InvalidKey`, `NotLeader`
    /// (nothing applied), `OutcomeUnknown`.
    pub async fn apply(&self, ops: Vec<Op>) -> Result<Vec<OpResult>> {
        for op in &ops {
            keys::entry_key(op.key())?;
        }
        let (reply, rx) = oneshot::channel();
        let bytes = batcher::json_size(&ops);
        self.inner
            .writes
            .send(batcher::WriteReq { ops, bytes, reply })
            .await
            .map_err(|_| Error::ShardClosed)?;
        rx.await
            .map_err(|_| Error::OutcomeUnknown("the shard stopped".into()))?
    }

    /// # Errors
    /// As get.
    pub async fn list(&self, space: Keyspace, dir: &str, opts: &ListOptions) -> Result<ListResult> {
        let prefix = keys::dir_prefix(space, dir)?;
        let count_key = keys::count_key(space, dir);
        let db = self.barrier().await?;
        let opts = opts.clone();
        let space_dir = (space, dir.to_string());
        blocking(move || {
            let entries = if opts.by_mtime {
                by_mtime::list(&db, space_dir.0, &space_dir.1, &opts)?
            } else {
                scan(&db, &prefix, &opts)?
            };
            let total = keys::read_count(&db, &count_key)?;
            Ok(ListResult {
                entries,
                total,
                now_ms: keys::now_ms(),
            })
        })
        .await
    }

    /// Entries of `space` in key order after `after`, across directories.
    ///
    /// # Errors
    /// As get.
    pub async fn scan(
        &self,
        space: Keyspace,
        after: Option<EntryKey>,
        limit: usize,
    ) -> Result<ScanResult> {
        let db = self.barrier().await?;
        blocking(move || scan::scan_space(&db, space, after.as_ref(), limit)).await
    }

    /// # Errors
    /// As get.
    pub async fn count(&self, space: Keyspace, dir: &str) -> Result<u64> {
        keys::dir_prefix(space, dir)?;
        let count_key = keys::count_key(space, dir);
        let db = self.barrier().await?;
        blocking(move || keys::read_count(&db, &count_key)).await
    }

    /// This replica's view of its group.
    pub fn status(&self) -> ReplicaStatus {
        let m = self.inner.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let addr = |id: &NodeId| {
            membership
                .get_node(id)
                .map(|n| n.addr.clone())
                .unwrap_or_default()
        };
        ReplicaStatus {
            id: m.id,
            state: format!("{:?}", m.state),
            term: m.current_term,
            leader: m.current_leader,
            last_log_index: m.last_log_index,
            last_applied: m.last_applied.map(|l| l.index),
            snapshot: m.snapshot.map(|l| l.index),
            purged: m.purged.map(|l| l.index),
            voters: membership.voter_ids().map(|id| (id, addr(&id))).collect(),
            learners: membership.learner_ids().map(|id| (id, addr(&id))).collect(),
            matched: m
                .replication
                .map(|r| r.iter().map(|(id, l)| (*id, l.map(|l| l.index))).collect())
                .unwrap_or_default(),
        }
    }

    /// Adds or removes a member; run on the leader.
    ///
    /// # Errors
    /// `NotLeader`; openraft's refusals (a change already in progress, a
    /// learner that cannot be reached).
    pub async fn change_members(&self, change: MemberChange) -> Result<ReplicaStatus> {
        let raft = &self.inner.raft;
        let voters = || -> BTreeSet<NodeId> {
            raft.metrics()
                .borrow()
                .membership_config
                .membership()
                .voter_ids()
                .collect()
        };
        let fail = |e: RaftError<
            NodeId,
            openraft::error::ClientWriteError<NodeId, openraft::BasicNode>,
        >| match e {
            RaftError::APIError(openraft::error::ClientWriteError::ForwardToLeader(f)) => {
                Error::NotLeader {
                    leader: f.leader_node.map(|n| n.addr),
                }
            }
            other => Error::Membership(other.to_string()),
        };
        match change {
            MemberChange::Add { id, addr } => {
                raft.add_learner(id, node(&addr), true)
                    .await
                    .map_err(fail)?;
                let mut v = voters();
                v.insert(id);
                raft.change_membership(v, false).await.map_err(fail)?;
            }
            MemberChange::Remove { id } => {
                let mut v = voters();
                if !v.remove(&id) {
                    return Err(Error::Membership(format!("{id} is not a voter")));
                }
                if v.is_empty() {
                    return Err(Error::Membership("a group keeps at least one voter".into()));
                }
                raft.change_membership(v, false).await.map_err(fail)?;
            }
        }
        Ok(self.status())
    }

    /// Stops this replica's Raft node; requests in flight end with an
    /// error.
    pub fn close(&self) {
        let raft = self.inner.raft.clone();
        tokio::spawn(async move {
            let _ = raft.shutdown().await;
        });
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
}

fn scan(db: &DB, prefix: &[u8], opts: &ListOptions) -> Result<Vec<Entry>> {
    let limit = opts.limit.clamp(1, MAX_LIST);
    let marker = opts
        .marker
        .as_ref()
        .map(|m| [prefix, m.as_bytes()].concat());
    // Bounding the iterator to the directory keeps RocksDB from stepping
    // over the neighbours' keys and tombstones, and makes Start/End mean the
    // directory's first and last entries.
    let mut read = ReadOptions::default();
    read.set_iterate_lower_bound(prefix.to_vec());
    read.set_iterate_upper_bound(prefix_end(prefix));
    let dir = if opts.reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let mode = match (&marker, opts.reverse) {
        // Reverse seeks land on the marker or the last name below it.
        (Some(m), _) => IteratorMode::From(m, dir),
        (None, false) => IteratorMode::Start,
        (None, true) => IteratorMode::End,
    };
    let mut out = Vec::new();
    for item in db.iterator_opt(mode, read) {
        let (k, v) = item?;
        if !k.starts_with(prefix) {
            break;
        }
        if !opts.inclusive && marker.as_deref() == Some(&k[..]) {
            continue;
        }
        out.push(decode_item(prefix, &k, &v)?);
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// The first key after every key starting with `prefix`. A directory prefix
/// ends in 0x00, so bumping that byte is enough.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

fn decode_item(prefix: &[u8], k: &[u8], v: &[u8]) -> Result<Entry> {
    let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
    Ok(Envelope::decode(v)?.into_entry(name))
}
