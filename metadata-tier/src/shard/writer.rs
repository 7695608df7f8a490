//! Group commit: every write of a shard goes through one thread. It takes a
//! request, then whatever else is already queued (up to [`MAX_GROUP`]),
//! checks each request's conditions against the database plus the writes
//! already accepted in this group, and commits all accepted requests as one
//! WriteBatch with one synced WAL write. A write is acknowledged only after
//! that sync, and concurrent writers share it. Running the checks on one
//! thread is also what makes conditional writes atomic.

use super::by_mtime;
use super::keys::{self, Envelope, ENVELOPE_VERSION};
use crate::error::{Error, Result};
use crate::wire::{Condition, Op, OpResult};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use rocksdb::{WriteBatch, WriteOptions, DB};
use std::collections::HashMap;
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

const MAX_GROUP: usize = 256;

pub struct WriteReq {
    pub ops: Vec<Op>,
    pub reply: oneshot::Sender<Result<Vec<OpResult>>>,
}

pub fn spawn(db: Arc<DB>) -> Result<(mpsc::Sender<WriteReq>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<WriteReq>();
    let thread = std::thread::Builder::new()
        .name("shard-writer".into())
        .spawn(move || run(&db, &rx))?;
    Ok((tx, thread))
}

fn run(db: &DB, rx: &mpsc::Receiver<WriteReq>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        commit_group(db, group);
    }
}

/// Pending state of the group: final value per entry key (`None` =
/// deleted) and count deltas per count key.
#[derive(Default)]
struct Overlay {
    entries: HashMap<Vec<u8>, Option<Envelope>>,
    counts: HashMap<Vec<u8>, i64>,
    /// mtime index keys to add (`true`) or remove ([`by_mtime`]).
    index: HashMap<Vec<u8>, bool>,
}

/// Requests per group commit and the synced write's latency.
struct WriterMetrics {
    group_requests: Histogram,
    sync_seconds: Histogram,
}

fn writer_metrics() -> &'static WriterMetrics {
    static M: std::sync::OnceLock<WriterMetrics> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        let m = WriterMetrics {
            group_requests: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            sync_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
        };
        crate::net::metrics::register(
            "shard_write_group_requests",
            "Write requests committed together in one synced batch (group commit)",
            m.group_requests.clone(),
        );
        crate::net::metrics::register(
            "shard_write_sync_seconds",
            "Time of one synced WriteBatch (the WAL fsync a write waits for)",
            m.sync_seconds.clone(),
        );
        m
    })
}

fn commit_group(db: &DB, group: Vec<WriteReq>) {
    writer_metrics().group_requests.observe(group.len() as f64);
    let mut overlay = Overlay::default();
    let mut answers = Vec::with_capacity(group.len());
    for req in group {
        let mut local = Overlay::default();
        let result = eval(db, &overlay, &mut local, &req.ops);
        if result.is_ok() {
            overlay.entries.extend(local.entries);
            overlay.index.extend(local.index);
            for (k, d) in local.counts {
                *overlay.counts.entry(k).or_default() += d;
            }
        }
        answers.push((req.reply, result));
    }
    if let Err(e) = write(db, &overlay) {
        let msg = e.to_string();
        for (reply, result) in answers {
            let r = match result {
                Ok(_) => Err(Error::Io(std::io::Error::other(format!(
                    "commit failed: {msg}"
                )))),
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        }
        return;
    }
    for (reply, result) in answers {
        let _ = reply.send(result);
    }
}

fn write(db: &DB, overlay: &Overlay) -> Result<()> {
    if overlay.entries.is_empty() {
        return Ok(());
    }
    let mut batch = WriteBatch::default();
    for (k, v) in &overlay.entries {
        match v {
            Some(env) => batch.put(k, serde_json::to_vec(env)?),
            None => batch.delete(k),
        }
    }
    by_mtime::write(&mut batch, &overlay.index);
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
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    let started = std::time::Instant::now();
    db.write_opt(batch, &opts)?;
    writer_metrics()
        .sync_seconds
        .observe(started.elapsed().as_secs_f64());
    Ok(())
}

/// Evaluates one request's ops in order; on success `local` holds its
/// writes. Nothing of a failed request is kept.
fn eval(db: &DB, group: &Overlay, local: &mut Overlay, ops: &[Op]) -> Result<Vec<OpResult>> {
    let mut results = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let key = op.key();
        let k = keys::entry_key(key)?;
        let current = match local.entries.get(&k).or_else(|| group.entries.get(&k)) {
            Some(v) => v.clone(),
            None => db.get(&k)?.map(|raw| Envelope::decode(&raw)).transpose()?,
        };
        let cond = match op {
            Op::Put { cond, .. } | Op::Delete { cond, .. } => cond,
        };
        if !holds(cond, current.as_ref()) {
            return Err(Error::ConditionFailed {
                index,
                current: current.map(|e| Box::new(e.into_entry(key.name.clone()))),
            });
        }
        let count_key = keys::count_key(key.space, &key.dir);
        match op {
            Op::Put { value, .. } => {
                let env = Envelope {
                    v: ENVELOPE_VERSION,
                    etag: uuid::Uuid::new_v4().simple().to_string(),
                    mtime_ms: keys::now_ms(),
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
    Ok(results)
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
