//! One blob's check: a whole verified read, paced, and what it found.

use std::io;
use std::time::Instant;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::bucket::TokenBucket;
use super::Cancelled;
use crate::blobstore::add;
use crate::wire::BlobHash;
use crate::{BlobStore, Error};

/// What one blob's check found.
pub(super) enum Checked {
    Good,
    Corrupt,
    /// Deleted (or quarantined by a reader) before the scrubber got to it.
    Gone,
    /// A disk error that is not a mismatch: logged, the copy stays.
    Failed,
}

/// Reads the whole blob through its tree, paced by `bucket`.
pub(super) async fn check_blob(
    store: &BlobStore,
    hash: &BlobHash,
    bucket: &mut TokenBucket,
    cancel: &CancellationToken,
) -> Result<Checked, Cancelled> {
    let counters = store.counters();
    let opened = tokio::select! {
        () = cancel.cancelled() => return Err(Cancelled),
        o = store.open_verified(hash) => o,
    };
    let mut stream = match opened {
        Ok((_, s)) => std::pin::pin!(s),
        Err(e) => return Ok(outcome_of(store, hash, &e)),
    };
    loop {
        let piece = tokio::select! {
            () = cancel.cancelled() => return Err(Cancelled),
            p = stream.next() => p,
        };
        let n = match piece {
            None => break,
            Some(Ok(bytes)) => bytes.len() as u64,
            // The verified read turns a mismatch (after quarantining the
            // copy) into InvalidData; anything else is the disk.
            Some(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                return Ok(outcome_of(store, hash, &Error::Corrupt(*hash)));
            }
            Some(Err(e)) => return Ok(outcome_of(store, hash, &Error::Io(e))),
        };
        add(&counters.scrubbed_bytes, n);
        let pause = bucket.take(n, Instant::now());
        if !pause.is_zero() {
            tokio::select! {
                () = cancel.cancelled() => return Err(Cancelled),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    add(&counters.scrubbed_blobs, 1);
    Ok(Checked::Good)
}

/// Classifies (and counts, and logs) a blob's failed check.
fn outcome_of(store: &BlobStore, hash: &BlobHash, e: &Error) -> Checked {
    let counters = store.counters();
    match e {
        Error::NotFound(_) => Checked::Gone,
        Error::Corrupt(_) => {
            // Quarantined and logged by the read itself.
            add(&counters.scrub_corrupt, 1);
            add(&counters.scrubbed_blobs, 1);
            Checked::Corrupt
        }
        other => {
            tracing::warn!(blob = %hash, error = %other, "scrubbing a blob failed; it stays");
            Checked::Failed
        }
    }
}

/// This pass's own counts, for its log line.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) blobs: u64,
    pub(super) bytes: u64,
    pub(super) corrupt: u64,
    pub(super) gone: u64,
    pub(super) failed: u64,
}

impl Tally {
    pub(super) fn add(&mut self, checked: &Checked, size: u64) {
        match checked {
            Checked::Good => {
                self.blobs += 1;
                self.bytes += size;
            }
            Checked::Corrupt => {
                self.blobs += 1;
                self.corrupt += 1;
            }
            Checked::Gone => self.gone += 1,
            Checked::Failed => self.failed += 1,
        }
    }
}
