//! Taking a corrupt copy out of service.
//!
//! A copy that fails verification is moved, with its tree, to
//! `quarantine/<hash>`: from then on this node answers NotFound for it, so
//! callers go to another copy, and a later upload of the same bytes stores a
//! fresh one. The bad bytes are kept for inspection rather than deleted.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::put::sync_dir;
use super::BlobStore;
use crate::wire::BlobHash;
use crate::Error;

impl BlobStore {
    /// Moves the blob and its tree to `quarantine/` (blocking) and returns
    /// the [`Error::Corrupt`] to report. `seen` is the file found bad: if
    /// the name now holds another file (a fresh upload after an earlier
    /// quarantine), that one is left alone. Failing to move the copy is
    /// logged: the caller's answer is the same either way.
    pub(super) fn quarantine(&self, hash: &BlobHash, why: &str, seen: &File) -> Error {
        let hex = hash.to_hex();
        let dest = self.inner.quarantine.join(&hex);
        let replaces = dest.exists();
        let src = self.path(hash);
        // Under the stripe lock, so that the check and the rename see the
        // same file: an upload replacing the copy meanwhile keeps its own.
        let stripe = self.inner.locks.lock(hash);
        let moved = same_file(seen, &src).and_then(|size| match size {
            Some(size) => std::fs::rename(&src, &dest).map(|()| size),
            None => Err(io::ErrorKind::NotFound.into()),
        });
        match moved {
            Ok(size) => {
                self.record_removed_blob(size);
                if !replaces {
                    self.inner.quarantined.fetch_add(1, Ordering::Relaxed);
                }
                tracing::error!(blob = %hash, reason = why, size, "corrupt copy quarantined");
            }
            // A concurrent reader or a delete got there first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Error::Corrupt(*hash),
            Err(e) => {
                tracing::error!(blob = %hash, reason = why, error = %e, "corrupt copy could not be quarantined");
            }
        }
        let tree_dest = dest.with_extension("obao");
        if let Err(e) = std::fs::rename(self.outboard_path(hash), tree_dest) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(blob = %hash, error = %e, "moving a corrupt copy's tree to quarantine");
            }
        }
        drop(stripe);
        sync_quietly(&self.inner.quarantine);
        Error::Corrupt(*hash)
    }
}

/// The size of the file at `path` if it is `seen`, else `None`.
fn same_file(seen: &File, path: &Path) -> io::Result<Option<u64>> {
    let (a, b) = (seen.metadata()?, std::fs::metadata(path)?);
    Ok((a.dev() == b.dev() && a.ino() == b.ino()).then_some(b.len()))
}

fn sync_quietly(dir: &Path) {
    if let Err(e) = sync_dir(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "syncing the quarantine directory");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::blobstore::PutExpect;

    async fn store_with(data: &'static [u8]) -> (tempfile::TempDir, BlobStore, BlobHash) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let body = futures::stream::iter([Ok::<_, io::Error>(bytes::Bytes::from_static(data))]);
        let r = store.put(body, PutExpect::default()).await.unwrap();
        (dir, store, r.hash)
    }

    #[tokio::test]
    async fn moves_the_copy_found_bad_and_counts_it() {
        let (dir, store, hash) = store_with(b"bad bytes").await;
        let seen = File::open(store.path(&hash)).unwrap();
        assert!(matches!(store.quarantine(&hash, "test", &seen), Error::Corrupt(h) if h == hash));
        assert!(!store.path(&hash).exists());
        assert!(!store.outboard_path(&hash).exists());
        assert!(dir.path().join("quarantine").join(hash.to_hex()).exists());
        let st = store.status().await;
        assert_eq!((st.quarantined, st.blob_count, st.used_bytes), (1, 0, 0));
        // A second reader of the same bad copy finds it gone: no double count.
        store.quarantine(&hash, "test", &seen);
        assert_eq!(store.status().await.quarantined, 1);
    }

    #[tokio::test]
    async fn leaves_a_fresh_copy_under_the_same_name() {
        let (_dir, store, hash) = store_with(b"good bytes").await;
        let seen = File::open(store.path(&hash)).unwrap();
        // The copy this reader found bad was replaced meanwhile.
        let fresh = store.tmp_dir().join("fresh");
        std::fs::write(&fresh, b"good bytes").unwrap();
        std::fs::rename(&fresh, store.path(&hash)).unwrap();
        store.quarantine(&hash, "test", &seen);
        assert!(store.path(&hash).exists());
        assert!(store.outboard_path(&hash).exists());
        let st = store.status().await;
        assert_eq!((st.quarantined, st.blob_count), (0, 1));
    }
}
