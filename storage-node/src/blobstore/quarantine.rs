//! Taking a corrupt copy out of service.
//!
//! A copy that fails verification is moved, with its tree, to
//! `quarantine/<hash>`: from then on this node answers NotFound for it, so
//! callers go to another copy, and a later upload of the same bytes stores a
//! fresh one. The bad bytes are kept for inspection rather than deleted.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::put::sync_dir;
use super::BlobStore;
use crate::wire::BlobHash;
use crate::Error;

impl BlobStore {
    /// Moves the blob and its tree to `quarantine/` (blocking) and returns
    /// the [`Error::Corrupt`] to report. Failing to move it is logged: the
    /// caller's answer is the same either way.
    pub(super) fn quarantine(&self, hash: &BlobHash, why: &str) -> Error {
        let hex = hash.to_hex();
        let dest = self.inner.quarantine.join(&hex);
        let replaces = dest.exists();
        let src = self.path(hash);
        let moved =
            std::fs::metadata(&src).and_then(|m| std::fs::rename(&src, &dest).map(|()| m.len()));
        match moved {
            Ok(size) => {
                self.record_removed_blob(size);
                if !replaces {
                    self.inner.quarantined.fetch_add(1, Ordering::Relaxed);
                }
                tracing::error!(blob = %hash, reason = why, size, "corrupt copy quarantined");
            }
            // A concurrent reader or a delete got there first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
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
        sync_quietly(&self.inner.quarantine);
        Error::Corrupt(*hash)
    }
}

fn sync_quietly(dir: &Path) {
    if let Err(e) = sync_dir(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "syncing the quarantine directory");
    }
}
