//! Negative caching: a name looked up and not found is remembered for a
//! short while, so a client spraying unknown logins, key ids or
//! fingerprints costs the metadata tier one read per name per TTL instead
//! of one per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a miss is remembered (bounds how long a name made on another
/// frontend stays unknown here).
pub(crate) const MISS_TTL: Duration = Duration::from_secs(5);
/// The most misses remembered; past it, expired ones are dropped, then
/// (if still full) all, so memory stays bounded whatever the client sends.
const MAX_MISSES: usize = 10_000;

#[derive(Default)]
pub(crate) struct Misses(Mutex<HashMap<String, Instant>>);

impl Misses {
    /// Was `name` looked up and missing within [`MISS_TTL`]?
    pub(crate) fn recent(&self, name: &str) -> bool {
        let Ok(m) = self.0.lock() else {
            return false;
        };
        m.get(name).is_some_and(|at| at.elapsed() < MISS_TTL)
    }

    pub(crate) fn record(&self, name: &str) {
        let Ok(mut m) = self.0.lock() else {
            return;
        };
        if m.len() >= MAX_MISSES {
            m.retain(|_, at| at.elapsed() < MISS_TTL);
            if m.len() >= MAX_MISSES {
                m.clear();
            }
        }
        m.insert(name.to_string(), Instant::now());
    }

    /// Forgets every miss whose name starts with `prefix`.
    pub(crate) fn forget_prefix(&self, prefix: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|name, _| !name.starts_with(prefix));
        }
    }

    /// Forgets a miss: the name was just made here.
    pub(crate) fn forget(&self, name: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_forgets_and_stays_bounded() {
        let m = Misses::default();
        assert!(!m.recent("a"));
        m.record("a");
        assert!(m.recent("a"));
        m.forget("a");
        assert!(!m.recent("a"));
        m.record("key:x/1");
        m.record("key:y/1");
        m.forget_prefix("key:x/");
        assert!(!m.recent("key:x/1") && m.recent("key:y/1"));
        for i in 0..(MAX_MISSES + 10) {
            m.record(&i.to_string());
        }
        assert!(m.0.lock().map(|m| m.len()).unwrap_or(0) <= MAX_MISSES);
    }
}
