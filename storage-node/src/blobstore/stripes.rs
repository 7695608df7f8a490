//! The per-hash commit lock.
//!
//! Every step that decides whether a blob's name exists and then changes
//! it holds the lock of the blob's stripe: an upload's commit (its renames
//! and links), a GC delete (its age check and unlink), a touch and a
//! quarantine. So a GC delete can never unlink a copy that a concurrent
//! upload of the same bytes has just (re)named, since that rename also made
//! the copy young. Reads never take it: they work on an open file.
//!
//! The lock is held only around renames, links and metadata calls, never
//! around reading or fsyncing a blob's bytes, so a plain `std` mutex taken
//! on a blocking thread is enough.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::wire::BlobHash;

/// Stripes: blobs whose hashes share a first byte share a lock. Names are
/// uniformly spread, so 256 keeps contention negligible.
const STRIPES: usize = 256;

#[derive(Debug)]
pub(super) struct CommitLocks {
    stripes: Vec<Mutex<()>>,
}

impl CommitLocks {
    pub(super) fn new() -> Self {
        CommitLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Blocks until the stripe of `hash` is ours (call on a blocking
    /// thread).
    pub(super) fn lock(&self, hash: &BlobHash) -> MutexGuard<'_, ()> {
        let stripe = &self.stripes[usize::from(hash.0[0]) % STRIPES];
        // The lock guards no data, only an order of file operations: a
        // holder that panicked left nothing half-updated in memory.
        stripe.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn same_first_byte_shares_a_stripe_others_do_not() {
        let locks = CommitLocks::new();
        let a = BlobHash([7; 32]);
        let mut b = BlobHash([7; 32]);
        b.0[31] = 8;
        let c = BlobHash([8; 32]);
        let held = locks.lock(&a);
        assert!(locks.stripes[7].try_lock().is_err());
        // A different stripe is free while `a`'s is held.
        drop(locks.lock(&c));
        drop(held);
        drop(locks.lock(&b));
    }
}
