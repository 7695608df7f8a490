//! Read-index batching: every linearizable read needs the leader to
//! confirm with a majority that it still leads (a heartbeat round to the
//! followers), then to have applied what it had committed. Reads that
//! arrive together share one confirmation, as TiKV batches read indexes.
//!
//! The rule that keeps this correct: a read may only use a confirmation
//! that *began after the read arrived*. So a read joins the confirmation
//! that is waiting to begin (the one queued behind the confirmation in
//! flight), or queues a new one; it never joins one already in flight.

use super::Raft;
use crate::error::Error;
use futures::future::{BoxFuture, FutureExt, Shared};
use openraft::error::{CheckIsLeaderError, RaftError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest a read waits to learn it may be answered here.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a confirmation failed, shared by every read waiting on it.
#[derive(Clone, Debug)]
enum Failed {
    NotLeader(Option<String>),
    NoQuorum(String),
    Closed,
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Error {
        match f {
            Failed::NotLeader(leader) => Error::NotLeader { leader },
            Failed::NoQuorum(m) => Error::NoQuorum(m),
            Failed::Closed => Error::ShardClosed,
        }
    }
}

type Confirmation = Shared<BoxFuture<'static, Result<(), Failed>>>;

#[derive(Default)]
struct Queue {
    /// The confirmation in flight, if any.
    running: Option<Confirmation>,
    /// The one waiting for it to end, which new reads join.
    waiting: Option<(u64, Confirmation)>,
    next_id: u64,
}

#[derive(Clone)]
pub struct ReadIndex {
    raft: Raft,
    queue: Arc<Mutex<Queue>>,
}

impl ReadIndex {
    pub fn new(raft: Raft) -> Self {
        ReadIndex {
            raft,
            queue: Arc::new(Mutex::new(Queue::default())),
        }
    }

    /// Returns once a read here sees every write acknowledged before this
    /// call: this replica leads and has applied all it had committed.
    ///
    /// # Errors
    /// `NotLeader`, `NoQuorum`, `ShardClosed`.
    pub async fn confirm(&self) -> Result<(), Error> {
        let c = {
            let mut q = self.queue.lock().map_err(|_| Error::ShardClosed)?;
            match &q.waiting {
                Some((_, c)) => c.clone(),
                None => {
                    q.next_id += 1;
                    let id = q.next_id;
                    let c = self.queued(id, q.running.clone());
                    q.waiting = Some((id, c.clone()));
                    c
                }
            }
        };
        c.await.map_err(Error::from)
    }

    /// A confirmation that begins when `before` ends.
    fn queued(&self, id: u64, before: Option<Confirmation>) -> Confirmation {
        let (raft, queue) = (self.raft.clone(), self.queue.clone());
        async move {
            if let Some(b) = before {
                let _ = b.await;
            }
            // From here on it has begun: later reads must queue anew.
            {
                let mut q = queue.lock().map_err(|_| Failed::Closed)?;
                if let Some((waiting, c)) = q.waiting.take() {
                    if waiting == id {
                        q.running = Some(c);
                    } else {
                        q.waiting = Some((waiting, c));
                    }
                }
            }
            check(&raft).await
        }
        .boxed()
        .shared()
    }
}

async fn check(raft: &Raft) -> Result<(), Failed> {
    match tokio::time::timeout(TIMEOUT, raft.ensure_linearizable()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)))) => {
            Err(Failed::NotLeader(f.leader_node.map(|n| n.addr)))
        }
        Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(q)))) => {
            Err(Failed::NoQuorum(q.to_string()))
        }
        Ok(Err(RaftError::Fatal(_))) => Err(Failed::Closed),
        Err(_) => Err(Failed::NoQuorum(format!(
            "no quorum confirmed leadership within {}s",
            TIMEOUT.as_secs()
        ))),
    }
}
