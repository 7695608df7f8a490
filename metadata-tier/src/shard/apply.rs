//! Applying one committed log entry: a batch of write requests (group
//! commit: many callers' requests share one Raft entry, one log fsync and
//! one replication round trip).
//!
//! Every replica applies the same entries in the same order, so this must
//! be deterministic: conditions are checked against the replica's database
//! plus the writes already accepted earlier in the batch, and the etags and
//! the mtime come from the entry (made once by the leader), never from this
//! replica's clock or random source. Deciding conditions here, not on the
//! leader before proposing, is what keeps conditional writes exact across
//! leader changes.

use super::by_mtime;
use super::keys::{self, Envelope, ENVELOPE_VERSION};
use crate::error::{Error, Result};
use crate::wire::{Condition, Entry, Op, OpResult};
use rocksdb::{WriteBatch, DB};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What one request of a batch came to, as replicas agree on it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Refused {
    ConditionFailed {
        index: usize,
        current: Option<Box<Entry>>,
    },
    InvalidKey(String),
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Error {
        match r {
            Refused::ConditionFailed { index, current } => {
                Error::ConditionFailed { index, current }
            }
            Refused::InvalidKey(m) => Error::InvalidKey(m),
        }
    }
}

pub type RequestOutcome = std::result::Result<Vec<OpResult>, Refused>;

/// The leader's stamp on an entry: its clock, and a random seed the etags
/// of the entry's writes derive from.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub now_ms: u64,
    pub seed: String,
}

impl Stamp {
    pub fn fresh() -> Stamp {
        Stamp {
            now_ms: keys::now_ms(),
            seed: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

/// Etags of one entry's writes: unique because the seed is.
struct Etags<'a> {
    seed: &'a str,
    next: u64,
}

impl Etags<'_> {
    fn next(&mut self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.seed.as_bytes());
        h.update(&self.next.to_le_bytes());
        self.next += 1;
        hex::encode(&h.finalize().as_bytes()[..16])
    }
}

/// Pending state of the batch: final value per entry key (`None` =
/// deleted) and count deltas per count key.
#[derive(Default)]
struct Overlay {
    entries: HashMap<Vec<u8>, Option<Envelope>>,
    counts: HashMap<Vec<u8>, i64>,
    /// mtime index keys to add (`true`) or remove ([`by_mtime`]).
    index: HashMap<Vec<u8>, bool>,
}

/// Evaluates `requests` in order, adds the accepted writes to `batch`, and
/// answers each request. A refused request changes nothing.
///
/// # Errors
/// Database read errors (the replica cannot apply the entry at all).
pub fn apply_batch(
    db: &DB,
    stamp: &Stamp,
    requests: &[Vec<Op>],
    batch: &mut WriteBatch,
) -> Result<Vec<RequestOutcome>> {
    let mut overlay = Overlay::default();
    let mut etags = Etags {
        seed: &stamp.seed,
        next: 0,
    };
    let mut answers = Vec::with_capacity(requests.len());
    for ops in requests {
        let mut local = Overlay::default();
        match eval(db, &overlay, &mut local, ops, stamp.now_ms, &mut etags) {
            Ok(Ok(results)) => {
                overlay.entries.extend(local.entries);
                overlay.index.extend(local.index);
                for (k, d) in local.counts {
                    *overlay.counts.entry(k).or_default() += d;
                }
                answers.push(Ok(results));
            }
            Ok(Err(refused)) => answers.push(Err(refused)),
            Err(e) => return Err(e),
        }
    }
    write(db, &overlay, batch)?;
    Ok(answers)
}

fn write(db: &DB, overlay: &Overlay, batch: &mut WriteBatch) -> Result<()> {
    for (k, v) in &overlay.entries {
        match v {
            Some(env) => batch.put(k, serde_json::to_vec(env)?),
            None => batch.delete(k),
        }
    }
    by_mtime::write(batch, &overlay.index);
    for (k, delta) in &overlay.counts {
        if *delta == 0 {
            continue;
        }
        let now = keys::read_count(db, k)? as i64 + delta;
        if now <= 0 {
            batch.delete(k);
        } else {
            batch.put(k, (now as u64).to_le_bytes());
        }
    }
    Ok(())
}

/// Evaluates one request's ops in order; on success `local` holds its
/// writes. Nothing of a refused request is kept.
fn eval(
    db: &DB,
    group: &Overlay,
    local: &mut Overlay,
    ops: &[Op],
    now_ms: u64,
    etags: &mut Etags<'_>,
) -> Result<RequestOutcome> {
    let mut results = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let key = op.key();
        let k = match keys::entry_key(key) {
            Ok(k) => k,
            Err(Error::InvalidKey(m)) => return Ok(Err(Refused::InvalidKey(m))),
            Err(e) => return Err(e),
        };
        let current = match local.entries.get(&k).or_else(|| group.entries.get(&k)) {
            Some(v) => v.clone(),
            None => db.get(&k)?.map(|raw| Envelope::decode(&raw)).transpose()?,
        };
        let cond = match op {
            Op::Put { cond, .. } | Op::Delete { cond, .. } => cond,
        };
        if !holds(cond, current.as_ref()) {
            return Ok(Err(Refused::ConditionFailed {
                index,
                current: current.map(|e| Box::new(e.into_entry(key.name.clone()))),
            }));
        }
        let count_key = keys::count_key(key.space, &key.dir);
        match op {
            Op::Put { value, .. } => {
                let env = Envelope {
                    v: ENVELOPE_VERSION,
                    etag: etags.next(),
                    mtime_ms: now_ms,
                    value: value.clone(),
                };
                if current.is_none() {
                    *local.counts.entry(count_key).or_default() += 1;
                }
                by_mtime::on_write(&mut local.index, key, current.as_ref(), Some(&env))?;
                local.entries.insert(k, Some(env.clone()));
                results.push(OpResult::Put(env.into_entry(key.name.clone())));
            }
            Op::Delete { .. } => {
                if current.is_some() {
                    *local.counts.entry(count_key).or_default() -= 1;
                    local.entries.insert(k, None);
                    by_mtime::on_write(&mut local.index, key, current.as_ref(), None)?;
                }
                results.push(OpResult::Delete(
                    current.map(|e| e.into_entry(key.name.clone())),
                ));
            }
        }
    }
    Ok(Ok(results))
}

fn holds(cond: &Condition, current: Option<&Envelope>) -> bool {
    match cond {
        Condition::None => true,
        Condition::Absent => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::EtagMatches(e) => current.is_some_and(|c| &c.etag == e),
        Condition::FieldNot { pointer, value } => {
            current.is_none_or(|c| c.value.pointer(pointer) != Some(value))
        }
    }
}
