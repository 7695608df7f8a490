//! A shard: one RocksDB, read directly and written through one writer thread.
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
//! Group commit: see [`writer`].

mod by_mtime;
mod keys;
#[cfg(test)]
mod keys_prop;
mod scan;
mod writer;

pub use scan::MAX_SCAN;

use crate::error::{Error, Result};
use crate::wire::{Entry, EntryKey, Keyspace, ListOptions, ListResult, Op, OpResult, ScanResult};
use keys::Envelope;
use rocksdb::{Direction, IteratorMode, Options, ReadOptions, DB};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::oneshot;

/// Largest page a list may return.
pub const MAX_LIST: usize = 10_000;

#[derive(Clone)]
pub struct Shard {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<DB>,
    writer: Mutex<Option<mpsc::Sender<writer::WriteReq>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    /// Closes the database before returning: the writer thread holds it, and
    /// a RocksDB still open while the process exits aborts in its static
    /// destructors.
    fn drop(&mut self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Shard {
    /// Opens (or creates) the shard's database at `path`.
    ///
    /// # Errors
    /// RocksDB errors (e.g. the directory is locked by another process).
    pub fn open(path: &Path) -> Result<Shard> {
        std::fs::create_dir_all(path)?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.set_keep_log_file_num(4);
        let db = Arc::new(DB::open(&opts, path)?);
        by_mtime::backfill(&db)?;
        let (tx, thread) = writer::spawn(db.clone())?;
        Ok(Shard {
            inner: Arc::new(Inner {
                db,
                writer: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// # Errors
    /// `InvalidKey`, RocksDB and decoding errors.
    pub async fn get(&self, key: &EntryKey) -> Result<Option<Entry>> {
        let k = keys::entry_key(key)?;
        let db = self.inner.db.clone();
        let name = key.name.clone();
        blocking(move || match db.get(&k)? {
            None => Ok(None),
            Some(raw) => Ok(Some(Envelope::decode(&raw)?.into_entry(name))),
        })
        .await
    }

    /// Applies `ops` atomically, after a synced WAL write.
    ///
    /// # Errors
    /// `ConditionFailed` (nothing applied), `InvalidKey`, RocksDB errors.
    pub async fn apply(&self, ops: Vec<Op>) -> Result<Vec<OpResult>> {
        for op in &ops {
            keys::entry_key(op.key())?;
        }
        let (reply, rx) = oneshot::channel();
        {
            let guard = self.inner.writer.lock().map_err(|_| Error::ShardClosed)?;
            let tx = guard.as_ref().ok_or(Error::ShardClosed)?;
            tx.send(writer::WriteReq { ops, reply })
                .map_err(|_| Error::ShardClosed)?;
        }
        rx.await.map_err(|_| Error::ShardClosed)?
    }

    /// # Errors
    /// `InvalidKey`, RocksDB and decoding errors.
    pub async fn list(&self, space: Keyspace, dir: &str, opts: &ListOptions) -> Result<ListResult> {
        let prefix = keys::dir_prefix(space, dir)?;
        let count_key = keys::count_key(space, dir);
        let db = self.inner.db.clone();
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
    /// `InvalidKey`, RocksDB and decoding errors.
    pub async fn scan(
        &self,
        space: Keyspace,
        after: Option<EntryKey>,
        limit: usize,
    ) -> Result<ScanResult> {
        let db = self.inner.db.clone();
        blocking(move || scan::scan_space(&db, space, after.as_ref(), limit)).await
    }

    /// # Errors
    /// `InvalidKey`, RocksDB errors.
    pub async fn count(&self, space: Keyspace, dir: &str) -> Result<u64> {
        keys::dir_prefix(space, dir)?;
        let count_key = keys::count_key(space, dir);
        let db = self.inner.db.clone();
        blocking(move || keys::read_count(&db, &count_key)).await
    }

    /// Stops the writer; pending writes are answered first. Reads keep
    /// working until the last clone is dropped.
    pub fn close(&self) {
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
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
