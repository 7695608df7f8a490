//! Key encoding, the stored envelope, and entry counts.

use crate::error::{Error, Result};
use crate::wire::{Entry, EntryKey, Keyspace};
use rocksdb::DB;
use serde::{Deserialize, Serialize};

pub const ENVELOPE_VERSION: u32 = 1;
const COUNT_TAG: u8 = 0xFF;

/// What RocksDB holds for an entry.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Envelope {
    pub v: u32,
    pub etag: String,
    pub mtime_ms: u64,
    pub value: serde_json::Value,
}

impl Envelope {
    pub fn decode(raw: &[u8]) -> Result<Envelope> {
        let env: Envelope = serde_json::from_slice(raw)?;
        // Version 1 is the only one so far; a newer one would be migrated here.
        Ok(env)
    }

    pub fn into_entry(self, name: String) -> Entry {
        Entry {
            name,
            etag: self.etag,
            mtime_ms: self.mtime_ms,
            value: self.value,
        }
    }
}

fn check(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::InvalidKey(format!("{what} contains NUL")));
    }
    Ok(())
}

pub fn dir_prefix(space: Keyspace, dir: &str) -> Result<Vec<u8>> {
    check("dir", dir)?;
    let mut k = Vec::with_capacity(dir.len() + 2);
    k.push(space.tag());
    k.extend_from_slice(dir.as_bytes());
    k.push(0);
    Ok(k)
}

pub fn entry_key(key: &EntryKey) -> Result<Vec<u8>> {
    check("name", &key.name)?;
    if key.name.is_empty() {
        return Err(Error::InvalidKey("empty name".into()));
    }
    let mut k = dir_prefix(key.space, &key.dir)?;
    k.extend_from_slice(key.name.as_bytes());
    Ok(k)
}

pub fn count_key(space: Keyspace, dir: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(dir.len() + 2);
    k.push(COUNT_TAG);
    k.push(space.tag());
    k.extend_from_slice(dir.as_bytes());
    k
}

pub fn read_count(db: &DB, key: &[u8]) -> Result<u64> {
    Ok(db.get(key)?.map_or(0, |raw| decode_count(&raw)))
}

pub fn decode_count(raw: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    if raw.len() == 8 {
        b.copy_from_slice(raw);
    }
    u64::from_le_bytes(b)
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
