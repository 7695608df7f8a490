//! A whole keyspace in key order, across directories: what background work
//! (repair, garbage collection) walks. Pages are bounded and resumable from
//! the last key returned, so a pass holds no iterator between pages and a
//! shard restart only costs the page in flight.

use super::keys::{self, Envelope};
use crate::error::Result;
use crate::wire::{EntryKey, Keyspace, ScanResult, ScannedEntry};
use rocksdb::{Direction, IteratorMode, ReadOptions, DB};

/// Largest page a scan may return.
pub const MAX_SCAN: usize = 1_000;

/// Up to `limit` entries of `space` after `after` (exclusive).
pub(super) fn scan_space(
    db: &DB,
    space: Keyspace,
    after: Option<&EntryKey>,
    limit: usize,
) -> Result<ScanResult> {
    let limit = limit.clamp(1, MAX_SCAN);
    let lower = vec![space.tag()];
    let upper = vec![space.tag() + 1];
    let start = match after {
        Some(k) if k.space == space => Some(keys::entry_key(k)?),
        _ => None,
    };
    let mut read = ReadOptions::default();
    read.set_iterate_lower_bound(lower.clone());
    read.set_iterate_upper_bound(upper);
    let mode = match &start {
        Some(k) => IteratorMode::From(k, Direction::Forward),
        None => IteratorMode::Start,
    };
    let mut entries = Vec::new();
    for item in db.iterator_opt(mode, read) {
        let (k, v) = item?;
        if start.as_deref() == Some(&k[..]) {
            continue;
        }
        let Some((dir, name)) = split_key(&k[1..]) else {
            continue;
        };
        let key = EntryKey::new(space, dir, name.clone());
        entries.push(ScannedEntry {
            dir: key.dir.clone(),
            entry: Envelope::decode(&v)?.into_entry(name),
        });
        if entries.len() >= limit {
            return Ok(ScanResult {
                entries,
                next: Some(key),
            });
        }
    }
    Ok(ScanResult {
        entries,
        next: None,
    })
}

/// `dir 0x00 name` back into its parts (NUL is refused in both).
fn split_key(rest: &[u8]) -> Option<(String, String)> {
    let nul = rest.iter().position(|b| *b == 0)?;
    let dir = String::from_utf8_lossy(&rest[..nul]).into_owned();
    let name = String::from_utf8_lossy(&rest[nul + 1..]).into_owned();
    Some((dir, name))
}
