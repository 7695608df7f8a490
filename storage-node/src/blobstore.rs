//! Content-addressed blobs on local disk, each with a BLAKE3 hash tree.
//!
//! Layout under the root: `blobs/<2 hex>/<2 hex>/<64 hex>` holds committed
//! blobs, named by the BLAKE3 of their bytes, each beside its Bao outboard
//! tree `<64 hex>.obao`; `tmp/<uuid>` holds uploads in progress;
//! `quarantine/<64 hex>` (and `.obao`) holds copies found corrupt, kept for
//! inspection and never served. A blob appears under `blobs/` only once its
//! bytes and its tree are fsynced, so after a crash `blobs/` holds only whole
//! blobs and `tmp/` only garbage, which [`BlobStore::open`] removes. Every
//! byte read is checked against the tree before it is handed out
//! (`verify`); a blob without a tree (stored before trees existed) gets one
//! on its first read (`outboard`).
//!
//! Upkeep: `listing` pages through the blobs in hash order, `gc` deletes
//! (also only blobs older than an age) and touches them, all under the
//! per-hash commit lock of `stripes` that uploads also hold while they
//! rename; `counters` counts that work and the scrubber's
//! ([`crate::scrub`]), whose trigger ([`ScrubControl`]) lives here so the
//! server can reach it.

mod counters;
mod gc;
mod listing;
mod outboard;
mod put;
mod quarantine;
mod stripes;
mod tree_read;
mod verify;
mod window_file;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::scrub::ScrubControl;
use crate::wire::BlobHash;
use crate::{Error, Result};

pub use counters::UpkeepCounts;
pub(crate) use counters::{add, Counters};
pub use put::PutExpect;

/// Read size for streamed GETs: large enough to keep syscalls few, small
/// enough that many concurrent readers stay cheap.
const READ_CHUNK: usize = 256 * 1024;

/// Capacity and content counts, as `GET /status` and heartbeats report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    /// Space available to us on the root's filesystem.
    pub free_bytes: u64,
    /// Sum of committed blob sizes.
    pub used_bytes: u64,
    pub blob_count: u64,
    /// Copies moved to `quarantine/` because they failed verification.
    pub quarantined: u64,
}

/// Handle to one node's blob directory. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    blobs: PathBuf,
    tmp: PathBuf,
    quarantine: PathBuf,
    // Kept in memory, seeded by a scan at open, so /status and heartbeats
    // never walk the disk.
    used_bytes: AtomicU64,
    blob_count: AtomicU64,
    quarantined: AtomicU64,
    inflight: AtomicU64,
    locks: stripes::CommitLocks,
    counters: Counters,
    scrub: ScrubControl,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `root`, removes upload leftovers
    /// from `root/tmp` and counts the committed and the quarantined blobs.
    ///
    /// # Errors
    /// I/O errors creating, cleaning or scanning the directories.
    pub async fn open(root: &Path) -> Result<BlobStore> {
        let root = root.to_path_buf();
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        let quarantine = root.join("quarantine");
        let (b, t, q) = (blobs.clone(), tmp.clone(), quarantine.clone());
        let (used, count, bad) = tokio::task::spawn_blocking(move || -> io::Result<_> {
            std::fs::create_dir_all(&b)?;
            std::fs::create_dir_all(&t)?;
            std::fs::create_dir_all(&q)?;
            clear_dir(&t)?;
            let (used, count) = scan_blobs(&b)?;
            Ok((used, count, count_blob_files(&q)?.1))
        })
        .await
        .map_err(io::Error::other)??;
        tracing::info!(root = %root.display(), blobs = count, bytes = used, quarantined = bad, "opened blob store");
        Ok(BlobStore {
            inner: Arc::new(Inner {
                root,
                blobs,
                tmp,
                quarantine,
                used_bytes: AtomicU64::new(used),
                blob_count: AtomicU64::new(count),
                quarantined: AtomicU64::new(bad),
                inflight: AtomicU64::new(0),
                locks: stripes::CommitLocks::new(),
                counters: Counters::default(),
                scrub: ScrubControl::default(),
            }),
        })
    }

    /// Where the blob lives (or would live). Readers such as the job agent
    /// open it directly.
    pub fn path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.inner.blobs.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    /// The blob's size in bytes.
    ///
    /// # Errors
    /// [`Error::NotFound`] if absent, [`Error::Io`] otherwise.
    pub async fn size(&self, hash: &BlobHash) -> Result<u64> {
        match tokio::fs::metadata(self.path(hash)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::NotFound(*hash)),
            Err(e) => Err(e.into()),
        }
    }

    /// Free space of the filesystem and the blob counts.
    pub async fn status(&self) -> StatusCounts {
        let root = self.inner.root.clone();
        let free = tokio::task::spawn_blocking(move || metadata_tier::disk::free_bytes(&root))
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        StatusCounts {
            free_bytes: free,
            used_bytes: self.inner.used_bytes.load(Ordering::Relaxed),
            blob_count: self.inner.blob_count.load(Ordering::Relaxed),
            quarantined: self.inner.quarantined.load(Ordering::Relaxed),
        }
    }

    /// What the scrubber, GC deletes and touches did so far.
    pub fn upkeep(&self) -> UpkeepCounts {
        self.inner.counters.snapshot()
    }

    /// Asks the scrubber for a pass now; the number of the pass to wait
    /// for (see [`crate::wire::ScrubRequested`]), or `None` if no scrubber
    /// runs for this store.
    pub fn request_scrub(&self) -> Option<u64> {
        self.inner.scrub.request(&self.inner.counters)
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    pub(crate) fn scrub_control(&self) -> &ScrubControl {
        &self.inner.scrub
    }

    /// Requests in flight on this node's server.
    pub fn inflight(&self) -> u64 {
        self.inner.inflight.load(Ordering::Relaxed)
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn track_request(&self) -> InflightGuard {
        self.inner.inflight.fetch_add(1, Ordering::Relaxed);
        InflightGuard {
            store: self.clone(),
        }
    }

    fn tmp_dir(&self) -> &Path {
        &self.inner.tmp
    }

    fn blobs_dir(&self) -> &Path {
        &self.inner.blobs
    }

    fn record_new_blob(&self, size: u64) {
        self.inner.used_bytes.fetch_add(size, Ordering::Relaxed);
        self.inner.blob_count.fetch_add(1, Ordering::Relaxed);
    }

    fn record_removed_blob(&self, size: u64) {
        self.inner.used_bytes.fetch_sub(size, Ordering::Relaxed);
        self.inner.blob_count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements the in-flight count on drop; see [`BlobStore::track_request`].
#[derive(Debug)]
pub struct InflightGuard {
    store: BlobStore,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.store.inner.inflight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn clear_dir(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        tracing::info!(path = %path.display(), "removing upload left over from a crash");
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Returns (total bytes, count) of the blob files under `blobs/*/*/`. Trees
/// (`.obao`) are not blobs and are not counted: `used_bytes` is the bytes
/// callers stored, the trees' 1/16 on top shows in the free space.
fn scan_blobs(blobs: &Path) -> io::Result<(u64, u64)> {
    let (mut used, mut count) = (0u64, 0u64);
    for l1 in std::fs::read_dir(blobs)? {
        let l1 = l1?;
        if !l1.file_type()?.is_dir() {
            continue;
        }
        for l2 in std::fs::read_dir(l1.path())? {
            let l2 = l2?;
            if !l2.file_type()?.is_dir() {
                continue;
            }
            let (u, c) = count_blob_files(&l2.path())?;
            used += u;
            count += c;
        }
    }
    Ok((used, count))
}

/// Returns (total bytes, count) of the files in `dir` named like a blob.
fn count_blob_files(dir: &Path) -> io::Result<(u64, u64)> {
    let (mut used, mut count) = (0u64, 0u64);
    for f in std::fs::read_dir(dir)? {
        let f = f?;
        let meta = f.metadata()?;
        let named_like_blob = f
            .file_name()
            .to_str()
            .and_then(BlobHash::from_hex)
            .is_some();
        if meta.is_file() && named_like_blob {
            used += meta.len();
            count += 1;
        }
    }
    Ok((used, count))
}
