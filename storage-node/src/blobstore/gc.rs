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
        #[cfg(test)]
        tests::between_check_and_unlink();
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{mpsc, Mutex};

    use super::*;
    use crate::blobstore::PutExpect;

    type Hook = Box<dyn Fn() + Send>;

    /// Runs inside a GC delete after its age check, before its unlink.
    static HOOK: Mutex<Option<Hook>> = Mutex::new(None);

    pub(super) fn between_check_and_unlink() {
        if let Some(hook) = HOOK.lock().unwrap().as_ref() {
            hook();
        }
    }

    fn body(data: &'static [u8]) -> impl futures::Stream<Item = io::Result<bytes::Bytes>> + Unpin {
        futures::stream::iter([Ok(bytes::Bytes::from_static(data))])
    }

    /// The interleaving the stripe lock exists for, forced: a GC delete has
    /// found the old copy old enough and is about to unlink it when an
    /// upload of the same bytes commits. The upload must either wait for
    /// the unlink (and then make a new copy) or be unlinked-proof; without
    /// the lock it renames its copy in first and the GC delete removes the
    /// acknowledged blob.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_gc_delete_past_its_check_cannot_remove_a_fresh_upload() {
        const DATA: &[u8] = b"the same bytes, uploaded again";
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let hash = store
            .put(body(DATA), PutExpect::default())
            .await
            .unwrap()
            .hash;
        let old = SystemTime::now() - Duration::from_secs(3600);
        File::open(store.path(&hash))
            .unwrap()
            .set_modified(old)
            .unwrap();

        let (checked_tx, checked_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let go_rx = Mutex::new(go_rx);
        *HOOK.lock().unwrap() = Some(Box::new(move || {
            checked_tx.send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        }));
        let gc = tokio::spawn({
            let store = store.clone();
            async move { store.delete_if_older(&hash, Duration::from_secs(60)).await }
        });
        tokio::task::spawn_blocking(move || checked_rx.recv().unwrap())
            .await
            .unwrap();
        let mut upload = tokio::spawn({
            let store = store.clone();
            async move { store.put(body(DATA), PutExpect::default()).await }
        });
        // Give the upload time to commit if nothing stops it (no lock); with
        // the lock it waits for the GC delete, whatever this wait is.
        let early = tokio::time::timeout(Duration::from_secs(2), &mut upload).await;
        go_tx.send(()).unwrap();
        let uploaded = match early {
            Ok(r) => r.unwrap(),
            Err(_) => upload.await.unwrap(),
        };
        let gc = gc.await.unwrap().unwrap();
        *HOOK.lock().unwrap() = None;

        assert_eq!(gc, GcDelete::Deleted);
        assert!(uploaded.is_ok());
        assert!(
            store.path(&hash).exists(),
            "the acknowledged upload was deleted"
        );
        assert_eq!(store.size(&hash).await.unwrap(), DATA.len() as u64);
        assert_eq!(store.status().await.blob_count, 1);
    }
}
