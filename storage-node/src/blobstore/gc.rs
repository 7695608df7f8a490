//! Removing blobs and keeping them young: the plain delete, the GC delete
//! that spares young copies, and touch.
//!
//! Age is the blob file's mtime by this node's clock, so callers need no
//! clock agreement. An upload's commit sets the mtime to the time of its
//! rename, also when it replaces a copy of the same bytes (dedup), and a
//! touch sets it to now; both, like the GC delete's check-and-unlink, run
//! under the blob's stripe lock (`stripes`). So once an upload of a blob
//! or a touch of it has returned, a GC delete with a minimum age longer
//! than the time between that return and the caller's record write cannot
//! remove it.

use std::fs::{self, File, Metadata};
use std::io;
use std::time::{Duration, SystemTime};

use super::counters::add;
use super::BlobStore;
use crate::wire::{BlobHash, GcDelete};
use crate::Result;

impl BlobStore {
    /// Removes the blob and its tree whatever its age; `false` if the blob
    /// was not there.
    ///
    /// # Errors
    /// I/O errors other than absence.
    pub async fn delete(&self, hash: &BlobHash) -> Result<bool> {
        Ok(self.remove(hash, None).await? == GcDelete::Deleted)
    }

    /// Removes the blob and its tree only if the blob's mtime is at least
    /// `min_age` old by this node's clock; counted as GC.
    ///
    /// # Errors
    /// I/O errors other than absence.
    pub async fn delete_if_older(&self, hash: &BlobHash, min_age: Duration) -> Result<GcDelete> {
        self.remove(hash, Some(min_age)).await
    }

    /// Sets the blob's mtime to now, so that a GC delete in progress spares
    /// it; `false` if the node has no copy.
    ///
    /// # Errors
    /// I/O errors other than absence.
    pub async fn touch(&self, hash: &BlobHash) -> Result<bool> {
        let (store, hash) = (self.clone(), *hash);
        let touched = tokio::task::spawn_blocking(move || store.touch_blocking(&hash))
            .await
            .map_err(io::Error::other)??;
        Ok(touched)
    }

    async fn remove(&self, hash: &BlobHash, min_age: Option<Duration>) -> Result<GcDelete> {
        let (store, hash) = (self.clone(), *hash);
        let done = tokio::task::spawn_blocking(move || store.remove_blocking(&hash, min_age))
            .await
            .map_err(io::Error::other)??;
        Ok(done)
    }

    fn remove_blocking(&self, hash: &BlobHash, min_age: Option<Duration>) -> io::Result<GcDelete> {
        let path = self.path(hash);
        let _stripe = self.inner.locks.lock(hash);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(GcDelete::Absent),
            Err(e) => return Err(e),
        };
        if min_age.is_some_and(|min| age(&meta) < min) {
            return Ok(GcDelete::TooYoung);
        }
        match fs::remove_file(&path) {
            Ok(()) => {}
            // Removed behind the store's back (an operator).
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(GcDelete::Absent),
            Err(e) => return Err(e),
        }
        self.record_removed_blob(meta.len());
        if min_age.is_some() {
            add(&self.inner.counters.gc_deleted_blobs, 1);
            add(&self.inner.counters.gc_deleted_bytes, meta.len());
        }
        // The tree goes second: a blob without one is rebuilt on read, a
        // tree without a blob is harmless.
        match fs::remove_file(self.outboard_path(hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(GcDelete::Deleted),
        }
    }

    fn touch_blocking(&self, hash: &BlobHash) -> io::Result<bool> {
        let _stripe = self.inner.locks.lock(hash);
        let file = match File::open(self.path(hash)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        file.set_modified(SystemTime::now())?;
        add(&self.inner.counters.touches, 1);
        Ok(true)
    }
}

/// How long ago the file was last modified, by this node's clock; zero if
/// that is in the future (the clock stepped back) or unknown, which makes
/// a blob look young: the safe side for GC.
pub(super) fn age(meta: &Metadata) -> Duration {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or(Duration::ZERO)
}
