//! The modification-time index of [`Keyspace::Objects`]: listings newest
//! first (Manta's `sort=mtime`) read one page of index keys, never the
//! whole directory.
//!
//! Key: `0xFE [space tag][dir] 0x00 [mtime_ms u64 BE][name]` -> empty. The
//! writer keeps it in the same WriteBatch as the entry it indexes
//! ([`on_write`]): a put removes the entry's old index key and adds the new
//! one, a delete removes it. `0xFE 0x00` (no keyspace has tag 0) marks a
//! database whose existing entries were indexed ([`backfill`], at open).

use super::keys::{self, Envelope};
use crate::error::{Error, Result};
use crate::wire::{Entry, EntryKey, Keyspace, ListOptions};
use rocksdb::{Direction, IteratorMode, ReadOptions, WriteBatch, DB};
use std::collections::HashMap;

const INDEX_TAG: u8 = 0xFE;
const BUILT_KEY: [u8; 2] = [INDEX_TAG, 0];

fn indexed(space: Keyspace) -> bool {
    space == Keyspace::Objects
}

/// `0xFE [tag][dir] 0x00`: the index prefix of one directory.
fn dir_prefix(space: Keyspace, dir: &str) -> Result<Vec<u8>> {
    let mut k = vec![INDEX_TAG];
    k.extend_from_slice(&keys::dir_prefix(space, dir)?);
    Ok(k)
}

fn index_key(prefix: &[u8], mtime_ms: u64, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8 + name.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(&mtime_ms.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

/// Index changes of a write of `key` from `old` to `new` (`None`: absent),
/// as (index key, present) pairs for the writer's batch.
pub(super) fn on_write(
    index: &mut HashMap<Vec<u8>, bool>,
    key: &EntryKey,
    old: Option<&Envelope>,
    new: Option<&Envelope>,
) -> Result<()> {
    if !indexed(key.space) {
        return Ok(());
    }
    let prefix = dir_prefix(key.space, &key.dir)?;
    if let Some(o) = old {
        index.insert(index_key(&prefix, o.mtime_ms, &key.name), false);
    }
    if let Some(n) = new {
        index.insert(index_key(&prefix, n.mtime_ms, &key.name), true);
    }
    Ok(())
}

/// Adds the index changes to a batch.
pub(super) fn write(batch: &mut WriteBatch, index: &HashMap<Vec<u8>, bool>) {
    for (k, present) in index {
        if *present {
            batch.put(k, []);
        } else {
            batch.delete(k);
        }
    }
}

/// Indexes every entry of a database written before the index existed;
/// runs once, when the state machine opens (every replica alike).
///
/// # Errors
/// RocksDB and decoding errors.
pub(crate) fn backfill(db: &DB) -> Result<()> {
    if db.get(BUILT_KEY)?.is_some() {
        return Ok(());
    }
    let tag = Keyspace::Objects.tag();
    let mut read = ReadOptions::default();
    read.set_iterate_lower_bound(vec![tag]);
    read.set_iterate_upper_bound(vec![tag + 1]);
    let mut batch = WriteBatch::default();
    for item in db.iterator_opt(IteratorMode::Start, read) {
        let (k, v) = item?;
        let env = Envelope::decode(&v)?;
        let Some(nul) = k.iter().position(|b| *b == 0) else {
            continue;
        };
        let mut ik = vec![INDEX_TAG];
        ik.extend_from_slice(&k[..=nul]);
        ik.extend_from_slice(&env.mtime_ms.to_be_bytes());
        ik.extend_from_slice(&k[nul + 1..]);
        batch.put(ik, []);
        if batch.len() >= 10_000 {
            db.write(std::mem::take(&mut batch))?;
        }
    }
    batch.put(BUILT_KEY, []);
    db.write(batch)?;
    Ok(())
}

/// Up to `opts.limit` entries of `dir`, newest first (oldest first with
/// `reverse`), from the marker's mtime (ms, decimal) on, inclusive.
///
/// # Errors
/// `InvalidKey` for a keyspace without the index or a bad marker; RocksDB
/// and decoding errors.
pub(super) fn list(db: &DB, space: Keyspace, dir: &str, opts: &ListOptions) -> Result<Vec<Entry>> {
    if !indexed(space) {
        return Err(Error::InvalidKey(format!(
            "{} has no mtime index",
            space.as_str()
        )));
    }
    let limit = opts.limit.clamp(1, super::MAX_LIST);
    let prefix = dir_prefix(space, dir)?;
    let entry_prefix = keys::dir_prefix(space, dir)?;
    let marker = match opts.marker.as_deref() {
        None | Some("") => None,
        Some(m) => Some(
            m.parse::<u64>()
                .map_err(|_| Error::InvalidKey(format!("mtime marker {m:?} is not ms")))?,
        ),
    };
    let mut read = ReadOptions::default();
    read.set_iterate_lower_bound(prefix.clone());
    read.set_iterate_upper_bound(prefix_end(&prefix));
    // Newest first walks the index backwards: from the end, or from the
    // first key past the marker's mtime (every name at that mtime included).
    let from;
    let mode = match (marker, opts.reverse) {
        (None, true) => IteratorMode::Start,
        (None, false) => IteratorMode::End,
        (Some(m), true) => {
            from = index_key(&prefix, m, "");
            IteratorMode::From(&from, Direction::Forward)
        }
        (Some(m), false) => {
            from = match m.checked_add(1) {
                Some(next) => index_key(&prefix, next, ""),
                None => prefix_end(&prefix),
            };
            IteratorMode::From(&from, Direction::Reverse)
        }
    };
    let mut out = Vec::new();
    for item in db.iterator_opt(mode, read) {
        let (k, _) = item?;
        let rest = &k[prefix.len()..];
        if rest.len() < 8 {
            continue;
        }
        // A reverse seek lands on the last key at or below `from`, which
        // may be `from` itself (a name-less key is never written).
        let mtime = u64::from_be_bytes(rest[..8].try_into().unwrap_or([0; 8]));
        if marker.is_some_and(|m| if opts.reverse { mtime < m } else { mtime > m }) {
            continue;
        }
        let name = String::from_utf8_lossy(&rest[8..]).into_owned();
        let ek = [entry_prefix.as_slice(), name.as_bytes()].concat();
        // The entry and its index key change in one batch; an entry read
        // here that is newer than the key was rewritten since the
        // iterator began, and its new key is listed where it belongs.
        let Some(raw) = db.get(&ek)? else {
            continue;
        };
        let env = Envelope::decode(&raw)?;
        if env.mtime_ms != mtime {
            continue;
        }
        out.push(env.into_entry(name));
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// The first key after every key starting with `prefix` (which ends in
/// 0x00).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}
