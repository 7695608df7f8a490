//! The scrubber: a background task per node that reads every blob back
//! through its hash tree, at a bounded rate, so rot is found (and the copy
//! quarantined) before a reader or a repair needs the bytes.
//!
//! - One pass walks the blobs in hash order ([`BlobStore::list`]) and reads
//!   each through [`BlobStore::open_verified`] (`check`), the same
//!   verified read a GET uses: a mismatch quarantines the copy exactly as
//!   a failed GET does, and a blob without a tree gets one built. No lock
//!   is held while reading; a blob gone by the time it is reached is
//!   skipped.
//! - Reads are paced by a token bucket (`bucket`) at `scrub_rate_mb`.
//! - Between passes it sleeps `scrub_interval` (+-10%), or until `POST
//!   /scrub` asks for a pass ([`ScrubControl`]).
//! - Restarts resume: the last blob checked is saved every page
//!   (`saved`, `<root>/scrub.json`), and so is the end of the last full
//!   pass, so a restarted node neither starts over nor scrubs early.

mod bucket;
mod check;
mod control;
mod saved;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use tokio_util::sync::CancellationToken;

pub use control::ScrubControl;

use self::bucket::TokenBucket;
use self::check::{check_blob, Tally};
use self::saved::Saved;
use crate::wire::BlobHash;
use crate::BlobStore;

/// Blobs listed per page, and between two saves of the position.
const PAGE: usize = 256;

/// How fast and how often to scrub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrubSettings {
    /// Bytes read per second; 0 runs no scrubber.
    pub rate_bytes_per_sec: u64,
    /// Pause between the end of a pass and the start of the next.
    pub interval: Duration,
}

impl Default for ScrubSettings {
    /// 16 MB/s, a pass a day.
    fn default() -> Self {
        ScrubSettings {
            rate_bytes_per_sec: 16_000_000,
            interval: Duration::from_secs(24 * 3600),
        }
    }
}

/// The pass was stopped by shutdown.
struct Cancelled;

/// Scrubs `store` until `cancel` fires. Returns at once if
/// `settings.rate_bytes_per_sec` is 0.
pub async fn run(store: BlobStore, settings: ScrubSettings, cancel: CancellationToken) {
    if settings.rate_bytes_per_sec == 0 {
        tracing::info!("scrubber off (scrub_rate_mb = 0)");
        return;
    }
    let _attached = Attached::new(&store);
    let saved = saved::load(store.root()).await;
    if let Some(end) = saved.last_pass_end_ms {
        store
            .counters()
            .scrub_last_pass_end_ms
            .store(end, Ordering::Relaxed);
    }
    let mut bucket = TokenBucket::new(
        settings.rate_bytes_per_sec,
        burst(&settings),
        Instant::now(),
    );
    let mut resume = saved.after;
    let mut wait = match resume {
        Some(_) => Duration::ZERO,
        None => until_due(saved.last_pass_end_ms, settings.interval),
    };
    loop {
        if !wait_for_pass(&store, wait, &cancel).await {
            return;
        }
        if let Err(Cancelled) = pass(&store, &mut bucket, resume.take(), &cancel).await {
            return;
        }
        wait = jittered(settings.interval);
    }
}

/// Marks the store as scrubbed while the task runs, so `POST /scrub` knows
/// whether anyone will answer.
struct Attached(BlobStore);

impl Attached {
    fn new(store: &BlobStore) -> Self {
        store.scrub_control().attach();
        Attached(store.clone())
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.scrub_control().detach();
    }
}

/// A tenth of a second's reading, at least one verified piece.
fn burst(settings: &ScrubSettings) -> u64 {
    (settings.rate_bytes_per_sec / 10).max(256 * 1024)
}

/// Sleeps `wait`, or less if a pass is asked for; false on cancel.
async fn wait_for_pass(store: &BlobStore, wait: Duration, cancel: &CancellationToken) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let control = store.scrub_control();
    loop {
        if control.requested() {
            return true;
        }
        tokio::select! {
            () = cancel.cancelled() => return false,
            () = tokio::time::sleep_until(deadline) => return true,
            () = control.woken() => {}
        }
    }
}

/// One pass from `after` to the last blob. Listing errors end the pass
/// early (logged); the saved position makes the next one go on from there.
async fn pass(
    store: &BlobStore,
    bucket: &mut TokenBucket,
    mut after: Option<BlobHash>,
    cancel: &CancellationToken,
) -> Result<(), Cancelled> {
    let control = store.scrub_control();
    control.begin_pass();
    let resumed = after;
    let started = Instant::now();
    let mut tally = Tally::default();
    let finished = loop {
        let page = match store.list(after, PAGE).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "listing blobs to scrub; pass ends early");
                break false;
            }
        };
        for entry in &page.blobs {
            let checked = match check_blob(store, &entry.hash, bucket, cancel).await {
                Ok(c) => c,
                Err(Cancelled) => {
                    control.end_pass(store.counters(), false);
                    save(store, after, None).await;
                    return Err(Cancelled);
                }
            };
            tally.add(&checked, entry.size);
            after = Some(entry.hash);
        }
        if page.next.is_none() {
            break true;
        }
        save(store, after, None).await;
    };
    if finished {
        let end = unix_ms();
        store
            .counters()
            .scrub_last_pass_end_ms
            .store(end, Ordering::Relaxed);
        save(store, None, Some(end)).await;
    }
    control.end_pass(store.counters(), finished);
    tracing::info!(
        blobs = tally.blobs,
        bytes = tally.bytes,
        corrupt = tally.corrupt,
        gone = tally.gone,
        failed = tally.failed,
        secs = started.elapsed().as_secs_f64(),
        resumed_after = ?resumed.map(|h| h.to_hex()),
        finished,
        "scrub pass done"
    );
    Ok(())
}

/// Keeps the position (and the last pass end, which a mid-pass save
/// carries over from the counters).
async fn save(store: &BlobStore, after: Option<BlobHash>, end: Option<u64>) {
    let end = end.or(store.upkeep().scrub_last_pass_end_ms);
    let state = Saved {
        after,
        last_pass_end_ms: end,
    };
    saved::store(store.root(), state).await;
}

/// Time left until a pass is due, given when the last one ended.
fn until_due(last_end_ms: Option<u64>, interval: Duration) -> Duration {
    let Some(end) = last_end_ms else {
        return Duration::ZERO;
    };
    let since = Duration::from_millis(unix_ms().saturating_sub(end));
    interval.saturating_sub(since)
}

fn unix_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Spreads passes so nodes started together do not scrub in lockstep.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))
}
