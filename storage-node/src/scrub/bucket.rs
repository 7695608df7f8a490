//! A token bucket that paces the scrubber's reads, without I/O or a clock
//! of its own: the caller passes the time and sleeps for the answer.

use std::time::{Duration, Instant};

/// Bytes may be taken at `rate` per second on average, with bursts of up
/// to `burst`; a take beyond the tokens left runs into debt, and the answer
/// is how long to wait until the debt is paid off.
#[derive(Debug)]
pub(super) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate` must be more than zero.
    pub(super) fn new(rate: u64, burst: u64, now: Instant) -> Self {
        TokenBucket {
            rate: rate.max(1) as f64,
            burst: burst as f64,
            tokens: burst as f64,
            last: now,
        }
    }

    /// Takes `n` bytes' worth at `now`; returns how long to wait before
    /// reading more.
    pub(super) fn take(&mut self, n: u64, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= n as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    /// Takes `piece` bytes `count` times, sleeping (in imagination) for
    /// each answer; returns the time it took.
    fn run(bucket: &mut TokenBucket, start: Instant, piece: u64, count: u64) -> Duration {
        let mut now = start;
        for _ in 0..count {
            now += bucket.take(piece, now);
        }
        now - start
    }

    #[test]
    fn paces_to_the_rate_after_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(4 * MB, MB, t0);
        // 1 MB of burst, then 39 MB at 4 MB/s: 9.75 s.
        let took = run(&mut b, t0, 250_000, 160);
        let secs = took.as_secs_f64();
        assert!((secs - 9.75).abs() < 0.01, "{secs}");
    }

    #[test]
    fn idle_time_refills_only_up_to_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(MB, MB, t0);
        assert_eq!(b.take(MB, t0), Duration::ZERO);
        // An hour idle buys one burst, not an hour's worth.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(b.take(MB, later), Duration::ZERO);
        assert_eq!(b.take(MB, later), Duration::from_secs(1));
    }

    #[test]
    fn a_piece_larger_than_the_burst_is_paid_off_afterwards() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(MB, 0, t0);
        assert_eq!(b.take(3 * MB, t0), Duration::from_secs(3));
        // Having slept the debt off, the next piece costs its own time.
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(b.take(MB / 2, t1), Duration::from_millis(500));
    }
}
