//! The handle between `POST /scrub` and the scrubber task: who asks for a
//! pass, and which pass will answer them.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::blobstore::Counters;

/// Shared by the store's handle (so the server reaches it) and the
/// scrubber.
#[derive(Debug, Default)]
pub struct ScrubControl {
    phase: Mutex<Phase>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct Phase {
    /// A scrubber is running for this store.
    attached: bool,
    in_pass: bool,
    /// A pass was asked for since the current (or last) one began.
    requested: bool,
}

impl ScrubControl {
    /// Asks for a pass now. Returns the number (in [`Counters`]'
    /// `scrub_passes`, counting from 1 in this process) of the first pass
    /// that starts after this call, which therefore checks every blob
    /// committed before it; `None` if no scrubber runs.
    pub(crate) fn request(&self, counters: &Counters) -> Option<u64> {
        let mut phase = self.phase();
        if !phase.attached {
            return None;
        }
        phase.requested = true;
        self.wake.notify_one();
        let done = counters.scrub_passes.load(Ordering::Relaxed);
        Some(done + 1 + u64::from(phase.in_pass))
    }

    pub(super) fn attach(&self) {
        self.phase().attached = true;
    }

    pub(super) fn detach(&self) {
        *self.phase() = Phase::default();
    }

    /// Whether a pass was asked for and not yet begun.
    pub(super) fn requested(&self) -> bool {
        self.phase().requested
    }

    /// Resolves on the next request (or a stale wake-up: check
    /// [`Self::requested`]).
    pub(super) async fn woken(&self) {
        self.wake.notified().await;
    }

    pub(super) fn begin_pass(&self) {
        let mut phase = self.phase();
        phase.in_pass = true;
        phase.requested = false;
    }

    /// Ends the pass; counts it if it reached the end. Under the same lock
    /// as [`Self::request`], so a pass number handed out is never skipped.
    pub(super) fn end_pass(&self, counters: &Counters, finished: bool) {
        let mut phase = self.phase();
        phase.in_pass = false;
        if finished {
            counters.scrub_passes.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        // Plain flags: a panicking holder cannot leave them inconsistent.
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_first_pass_that_starts_after_it() {
        let (c, n) = (ScrubControl::default(), Counters::default());
        assert_eq!(c.request(&n), None);
        c.attach();
        assert_eq!(c.request(&n), Some(1));
        c.begin_pass();
        assert!(!c.requested());
        // Mid-pass: the running pass may have passed the blob already.
        assert_eq!(c.request(&n), Some(2));
        c.end_pass(&n, true);
        assert!(c.requested());
        c.begin_pass();
        // Stopped midway (shutdown): not counted, the number still holds.
        c.end_pass(&n, false);
        assert_eq!(c.request(&n), Some(2));
        c.detach();
        assert_eq!(c.request(&n), None);
    }
}
