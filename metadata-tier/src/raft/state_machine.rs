//! The replicated state: the shard's RocksDB, as the log's committed
//! batches make it.
//!
//! Layout of a replica's directory: `log/` (the Raft log), `sm-<n>/` (the
//! state database; the file `SM` names the one in use), `snapshots/` (the
//! last checkpoints, each with its `.json` meta). A database written
//! before replication (files directly in the directory) is used in place.
//!
//! Every applied entry is written with the log id it came from, in the
//! same write batch, so the database and what it says it applied never
//! disagree; after a crash openraft re-applies the log from there. Those
//! writes are not synced: the log is, and re-applying is exact.

// openraft's storage traits return its `StorageError` (large): our
// helpers return what the traits need rather than box and unbox it.
#![allow(clippy::result_large_err)]

use super::snapshot;
use super::{BatchResult, NodeId, SnapshotDir, TypeConfig};
use crate::shard::apply::apply_batch;
use arc_swap::ArcSwap;
use openraft::storage::RaftStateMachine;
use openraft::{
    Entry, EntryPayload, LogId, RaftSnapshotBuilder, Snapshot, SnapshotMeta, StorageError,
    StorageIOError, StoredMembership,
};
use rocksdb::{Options, WriteBatch, DB};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Keys of the replication bookkeeping, apart from every keyspace's tag
/// and the count tag (0xFF).
const APPLIED: &[u8] = &[0xF0, b'a'];
const MEMBERSHIP: &[u8] = &[0xF0, b'm'];
const POINTER: &str = "SM";

type StoreResult<T> = Result<T, StorageError<NodeId>>;
type Membership = StoredMembership<NodeId, openraft::BasicNode>;

/// The database readers use; swapped whole when a snapshot is installed.
pub type SharedDb = Arc<ArcSwap<DB>>;

pub struct StateMachine {
    root: PathBuf,
    db: SharedDb,
    /// Held while a batch is written and while a checkpoint is taken, so a
    /// checkpoint's bookkeeping matches its data.
    lock: Arc<Mutex<()>>,
    applied: Option<LogId<NodeId>>,
    membership: Membership,
}

fn sm_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(&std::io::Error::other(e.to_string())).into()
}

fn snap_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_snapshot(None, &std::io::Error::other(e.to_string())).into()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(sm_err)
        .and_then(|r| r)
}

pub(crate) fn open_db(path: &Path) -> crate::Result<DB> {
    std::fs::create_dir_all(path)?;
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.set_keep_log_file_num(4);
    Ok(DB::open(&opts, path)?)
}

fn read_json<T: serde::de::DeserializeOwned>(db: &DB, key: &[u8]) -> crate::Result<Option<T>> {
    match db.get(key)? {
        None => Ok(None),
        Some(raw) => Ok(Some(serde_json::from_slice(&raw)?)),
    }
}

/// Which state database `root` uses, removing those left by installs.
fn current_dir(root: &Path) -> crate::Result<PathBuf> {
    match std::fs::read_to_string(root.join(POINTER)) {
        Ok(name) => {
            let name = name.trim().to_string();
            for e in std::fs::read_dir(root)?.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with("sm-") && n != name {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
            Ok(root.join(name))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if root.join("CURRENT").exists() {
                // A shard from before replication: its files are the state.
                return Ok(root.to_path_buf());
            }
            set_current(root, "sm-0")?;
            Ok(root.join("sm-0"))
        }
        Err(e) => Err(e.into()),
    }
}

fn set_current(root: &Path, name: &str) -> crate::Result<()> {
    let tmp = root.join("SM.tmp");
    std::fs::write(&tmp, name)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, root.join(POINTER))?;
    std::fs::File::open(root)?.sync_all()?;
    Ok(())
}

impl StateMachine {
    /// Opens the state database of the replica at `root`.
    ///
    /// # Errors
    /// RocksDB and file errors.
    pub fn open(root: &Path) -> crate::Result<StateMachine> {
        std::fs::create_dir_all(root)?;
        let path = current_dir(root)?;
        let db = open_db(&path)?;
        // Every replica indexes the same data the same way.
        crate::shard::by_mtime::backfill(&db)?;
        let applied = read_json(&db, APPLIED)?;
        let membership = read_json(&db, MEMBERSHIP)?.unwrap_or_default();
        Ok(StateMachine {
            root: root.to_path_buf(),
            db: Arc::new(ArcSwap::from_pointee(db)),
            lock: Arc::new(Mutex::new(())),
            applied,
            membership,
        })
    }

    pub fn shared_db(&self) -> SharedDb {
        self.db.clone()
    }

    fn builder(&self) -> Builder {
        Builder {
            root: self.root.clone(),
            db: self.db.clone(),
            lock: self.lock.clone(),
        }
    }
}

fn write_entry(db: &DB, e: &Entry<TypeConfig>) -> crate::Result<(BatchResult, Option<Membership>)> {
    let mut batch = WriteBatch::default();
    let mut membership = None;
    let result = match &e.payload {
        EntryPayload::Blank => BatchResult::default(),
        EntryPayload::Normal(b) => BatchResult(apply_batch(db, &b.stamp, &b.requests, &mut batch)?),
        EntryPayload::Membership(m) => {
            let stored = StoredMembership::new(Some(e.log_id), m.clone());
            batch.put(MEMBERSHIP, serde_json::to_vec(&stored)?);
            membership = Some(stored);
            BatchResult::default()
        }
    };
    batch.put(APPLIED, serde_json::to_vec(&Some(e.log_id))?);
    db.write(batch)?;
    Ok((result, membership))
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Builder;

    async fn applied_state(&mut self) -> StoreResult<(Option<LogId<NodeId>>, Membership)> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StoreResult<Vec<BatchResult>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry<TypeConfig>> = entries.into_iter().collect();
        let (db, lock) = (self.db.load_full(), self.lock.clone());
        let (results, applied, membership) = blocking(move || {
            let _held = lock.lock().map_err(sm_err)?;
            let mut results = Vec::with_capacity(entries.len());
            let mut membership = None;
            let mut applied = None;
            for e in &entries {
                let (r, m) = write_entry(&db, e).map_err(sm_err)?;
                results.push(r);
                membership = m.or(membership);
                applied = Some(e.log_id);
            }
            Ok((results, applied, membership))
        })
        .await?;
        if applied.is_some() {
            self.applied = applied;
        }
        if let Some(m) = membership {
            self.membership = m;
        }
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        self.builder()
    }

    async fn begin_receiving_snapshot(&mut self) -> StoreResult<Box<SnapshotDir>> {
        let dir = snapshot::incoming_dir(&self.root);
        Ok(Box::new(SnapshotDir(dir)))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, openraft::BasicNode>,
        snap: Box<SnapshotDir>,
    ) -> StoreResult<()> {
        let (root, shared, lock) = (self.root.clone(), self.db.clone(), self.lock.clone());
        let meta2 = meta.clone();
        blocking(move || {
            let _held = lock.lock().map_err(sm_err)?;
            let name = format!("sm-{}", uuid::Uuid::new_v4().simple());
            let target = root.join(&name);
            std::fs::rename(&snap.0, &target).map_err(sm_err)?;
            let db = open_db(&target).map_err(sm_err)?;
            crate::shard::by_mtime::backfill(&db).map_err(sm_err)?;
            let applied: Option<Option<LogId<NodeId>>> = read_json(&db, APPLIED).map_err(sm_err)?;
            if applied.flatten() != meta2.last_log_id {
                return Err(sm_err(format!(
                    "snapshot {} holds {:?}, its meta says {:?}",
                    meta2.snapshot_id, applied, meta2.last_log_id
                )));
            }
            set_current(&root, &name).map_err(sm_err)?;
            // Readers still holding the old database finish on it; its
            // directory goes at the next start.
            shared.store(Arc::new(db));
            snapshot::keep(&root, &shared.load(), &meta2).map_err(snap_err)?;
            Ok(())
        })
        .await?;
        self.applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StoreResult<Option<Snapshot<TypeConfig>>> {
        let root = self.root.clone();
        blocking(move || snapshot::latest(&root).map_err(snap_err)).await
    }
}

/// Makes snapshots beside the applying state machine.
pub struct Builder {
    root: PathBuf,
    db: SharedDb,
    lock: Arc<Mutex<()>>,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> StoreResult<Snapshot<TypeConfig>> {
        let (root, db, lock) = (self.root.clone(), self.db.clone(), self.lock.clone());
        blocking(move || {
            let held = lock.lock().map_err(snap_err)?;
            let db = db.load_full();
            let applied: Option<LogId<NodeId>> = read_json::<Option<LogId<NodeId>>>(&db, APPLIED)
                .map_err(snap_err)?
                .flatten();
            let membership: Membership = read_json(&db, MEMBERSHIP)
                .map_err(snap_err)?
                .unwrap_or_default();
            let meta = SnapshotMeta {
                last_log_id: applied,
                last_membership: membership,
                snapshot_id: snapshot::new_id(applied),
            };
            let dir = snapshot::checkpoint(&root, &db, &meta).map_err(snap_err)?;
            drop(held);
            Ok(Snapshot {
                meta,
                snapshot: Box::new(SnapshotDir(dir)),
            })
        })
        .await
    }
}
