//! The Raft log of one replica, in its own RocksDB (`<data>/log`): entries
//! under `e` + index (big-endian, so key order is log order), the vote,
//! the commit index and the last purged id under `m/...`. Appends and
//! votes are synced before openraft is told they are durable; the commit
//! index is only a hint (it is re-learnt from the leader) and is not.

// openraft's storage traits return its `StorageError` (large): our
// helpers return what the traits need rather than box and unbox it.
#![allow(clippy::result_large_err)]

use super::{NodeId, TypeConfig};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{Entry, LogId, RaftLogReader, StorageError, StorageIOError, Vote};
use rocksdb::{Direction, IteratorMode, Options, ReadOptions, WriteBatch, WriteOptions, DB};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

const VOTE: &[u8] = b"m/vote";
const COMMITTED: &[u8] = b"m/committed";
const PURGED: &[u8] = b"m/purged";

type StoreResult<T> = Result<T, StorageError<NodeId>>;

#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
}

fn entry_key(index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = b'e';
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::read_logs(&e).into()
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::write_logs(&e).into()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageIOError::write_logs(&e).into())
        .and_then(|r| r)
}

impl LogStore {
    /// # Errors
    /// RocksDB errors (e.g. the directory is locked by another process).
    pub fn open(path: &Path) -> crate::Result<LogStore> {
        std::fs::create_dir_all(path)?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.set_keep_log_file_num(4);
        Ok(LogStore {
            db: Arc::new(DB::open(&opts, path)?),
        })
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> StoreResult<Option<T>> {
        match self.db.get(key).map_err(read_err)? {
            None => Ok(None),
            Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(read_err),
        }
    }

    fn put_json<T: serde::Serialize>(&self, key: &[u8], v: &T, sync: bool) -> StoreResult<()> {
        let raw = serde_json::to_vec(v).map_err(write_err)?;
        let mut opts = WriteOptions::default();
        opts.set_sync(sync);
        self.db.put_opt(key, raw, &opts).map_err(write_err)
    }

    fn last_entry(&self) -> StoreResult<Option<LogId<NodeId>>> {
        let mut read = ReadOptions::default();
        read.set_iterate_lower_bound(vec![b'e']);
        read.set_iterate_upper_bound(vec![b'f']);
        match self.db.iterator_opt(IteratorMode::End, read).next() {
            None => Ok(None),
            Some(item) => {
                let (_, v) = item.map_err(read_err)?;
                let e: Entry<TypeConfig> = serde_json::from_slice(&v).map_err(read_err)?;
                Ok(Some(e.log_id))
            }
        }
    }

    /// Whether this replica has ever held a log or a vote: a replica that
    /// has must never initialize a group again.
    ///
    /// # Errors
    /// RocksDB errors.
    pub fn is_pristine(&self) -> crate::Result<bool> {
        let none = self.last_entry().map_err(io)?.is_none()
            && self.db.get(VOTE)?.is_none()
            && self.db.get(PURGED)?.is_none();
        Ok(none)
    }
}

fn io(e: StorageError<NodeId>) -> crate::Error {
    crate::Error::Io(std::io::Error::other(e.to_string()))
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> StoreResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        // The bounds as plain numbers: the range itself may not leave here.
        let end = match range.end_bound() {
            Bound::Included(x) => Some(x.saturating_add(1)),
            Bound::Excluded(x) => Some(*x),
            Bound::Unbounded => None,
        };
        let db = self.db.clone();
        blocking(move || {
            let from = entry_key(start);
            let mut read = ReadOptions::default();
            read.set_iterate_upper_bound(vec![b'f']);
            let mut out = Vec::new();
            for item in db.iterator_opt(IteratorMode::From(&from, Direction::Forward), read) {
                let (k, v) = item.map_err(read_err)?;
                let mut idx = [0u8; 8];
                idx.copy_from_slice(&k[1..9.min(k.len())]);
                if end.is_some_and(|e| u64::from_be_bytes(idx) >= e) {
                    break;
                }
                out.push(serde_json::from_slice(&v).map_err(read_err)?);
            }
            Ok(out)
        })
        .await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> StoreResult<LogState<TypeConfig>> {
        let purged: Option<LogId<NodeId>> = self.get_json(PURGED)?;
        let last = self.last_entry()?.or(purged);
        Ok(LogState {
            last_purged_log_id: purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> StoreResult<()> {
        let (store, vote) = (self.clone(), *vote);
        blocking(move || store.put_json(VOTE, &vote, true)).await
    }

    async fn read_vote(&mut self) -> StoreResult<Option<Vote<NodeId>>> {
        self.get_json(VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> StoreResult<()> {
        self.put_json(COMMITTED, &committed, false)
    }

    async fn read_committed(&mut self) -> StoreResult<Option<LogId<NodeId>>> {
        Ok(self.get_json::<Option<LogId<NodeId>>>(COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StoreResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = WriteBatch::default();
        for e in entries {
            let raw = serde_json::to_vec(&e).map_err(write_err)?;
            batch.put(entry_key(e.log_id.index), raw);
        }
        let db = self.db.clone();
        let result = blocking(move || {
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            db.write_opt(batch, &opts).map_err(write_err)
        })
        .await;
        match &result {
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(std::io::Error::other(e.to_string()))),
        }
        result
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> StoreResult<()> {
        let db = self.db.clone();
        blocking(move || {
            let mut batch = WriteBatch::default();
            batch.delete_range(entry_key(log_id.index), entry_key(u64::MAX));
            batch.delete(entry_key(u64::MAX));
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            db.write_opt(batch, &opts).map_err(write_err)
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> StoreResult<()> {
        let db = self.db.clone();
        blocking(move || {
            let mut batch = WriteBatch::default();
            batch.put(PURGED, serde_json::to_vec(&log_id).map_err(write_err)?);
            batch.delete_range(entry_key(0), entry_key(log_id.index.saturating_add(1)));
            db.write(batch).map_err(write_err)
        })
        .await
    }
}
