//! Group commit on the leader: write requests queue here; each Raft entry
//! takes every request waiting (up to [`MAX_GROUP`]) when it is proposed,
//! and up to [`IN_FLIGHT`] entries are in flight at once, so a busy shard
//! makes fewer, larger entries and shares log fsyncs and round trips.
//!
//! What a caller learns, and whether it may retry:
//! - its request's outcome, once the entry is applied here;
//! - `NotLeader`: nothing was proposed, or the entry was truncated from
//!   the log (openraft answers so only then), so it was not applied:
//!   retrying at the leader is safe;
//! - `OutcomeUnknown`: the entry may or may not commit (the leader lost
//!   its quorum or stopped while it was in flight): not retried blindly.

use super::{Batch, BatchResult, Raft};
use crate::error::{Error, Result};
use crate::shard::apply::Stamp;
use crate::wire::{Op, OpResult};
use openraft::error::{ClientWriteError, RaftError};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Semaphore};

const MAX_GROUP: usize = 256;
/// An entry stops taking requests past this many bytes (estimated as
/// their JSON), so a follower fed a few entries per message stays well
/// under the listener's body limit.
const MAX_ENTRY_BYTES: usize = 1 << 20;
const IN_FLIGHT: usize = 8;
/// The longest a request waits for its entry to commit.
pub const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WriteReq {
    pub ops: Vec<Op>,
    /// The ops' size as JSON, what they add to an entry.
    pub bytes: usize,
    pub reply: oneshot::Sender<Result<Vec<OpResult>>>,
}

/// The size `ops` take in a log entry.
pub fn json_size(ops: &[Op]) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, ops);
    c.0
}

struct Metrics {
    group_requests: Histogram,
    commit_seconds: Histogram,
}

fn metrics() -> &'static Metrics {
    static M: std::sync::OnceLock<Metrics> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        let m = Metrics {
            group_requests: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
        };
        crate::net::metrics::register(
            "shard_write_group_requests",
            "Write requests committed together in one Raft entry (group commit)",
            m.group_requests.clone(),
        );
        crate::net::metrics::register(
            "shard_write_commit_seconds",
            "Time from proposing a Raft entry to its being applied on the leader",
            m.commit_seconds.clone(),
        );
        m
    })
}

/// Starts the batcher of `raft`: the sender requests go to.
pub fn spawn(raft: Raft) -> mpsc::Sender<WriteReq> {
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    tokio::spawn(run(raft, rx));
    tx
}

async fn run(raft: Raft, mut rx: mpsc::Receiver<WriteReq>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut bytes = first.bytes;
        let mut group = vec![first];
        while group.len() < MAX_GROUP && bytes < MAX_ENTRY_BYTES {
            match rx.try_recv() {
                Ok(r) => {
                    bytes += r.bytes;
                    group.push(r);
                }
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            commit(&raft, group).await;
            drop(permit);
        });
    }
}

async fn commit(raft: &Raft, group: Vec<WriteReq>) {
    metrics().group_requests.observe(group.len() as f64);
    let (requests, replies): (Vec<_>, Vec<_>) = group.into_iter().map(|r| (r.ops, r.reply)).unzip();
    let batch = Batch {
        stamp: Stamp::fresh(),
        requests,
    };
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(COMMIT_TIMEOUT, raft.client_write(batch)).await;
    metrics()
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    let answers: Result<BatchResult> = match outcome {
        Ok(Ok(resp)) => Ok(resp.data),
        Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
            Err(Error::NotLeader {
                leader: f.leader_node.map(|n| n.addr),
            })
        }
        Ok(Err(e)) => Err(Error::OutcomeUnknown(e.to_string())),
        Err(_) => Err(Error::OutcomeUnknown(format!(
            "not committed within {}s",
            COMMIT_TIMEOUT.as_secs()
        ))),
    };
    match answers {
        Ok(BatchResult(results)) => {
            let mut results = results.into_iter();
            for reply in replies {
                let r = match results.next() {
                    Some(r) => r.map_err(Error::from),
                    None => Err(Error::OutcomeUnknown(
                        "entry answered fewer requests".into(),
                    )),
                };
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.duplicate()));
            }
        }
    }
}
