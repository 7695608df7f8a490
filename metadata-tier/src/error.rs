//! The metadata tier's error type.

use crate::wire::Entry;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Op number `index` of a batch found the entry not as its condition
    /// required; `current` is the entry as it is.
    #[error("condition of operation {index} failed")]
    ConditionFailed {
        index: usize,
        current: Option<Box<Entry>>,
    },
    /// A batch whose keys live on different shards cannot be atomic.
    #[error("a batch must stay within one shard")]
    CrossShardBatch,
    #[error("shard {shard} unavailable: {source}")]
    Unavailable {
        shard: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("shard answered {status}: {message}")]
    Remote { status: u16, message: String },
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("shard is closed")]
    ShardClosed,
    /// This replica does not lead its group; `leader` is the one that
    /// does, when known. Nothing was applied: retrying there is safe.
    #[error("not the shard's leader (leader: {})", leader.as_deref().unwrap_or("unknown"))]
    NotLeader { leader: Option<String> },
    /// The group cannot confirm a majority (a partition, or too many
    /// replicas down): nothing is answered from a possibly stale replica.
    #[error("no quorum: {0}")]
    NoQuorum(String),
    /// A write was proposed but its fate is unknown (the leader lost its
    /// quorum or stopped while it was in flight): it may or may not have
    /// been applied, so it is not retried blindly.
    #[error("write outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// A membership change was refused.
    #[error("membership change: {0}")]
    Membership(String),
    /// No replica of a shard answered as leader within the retry budget.
    #[error("shard {shard} has no reachable leader: {detail}")]
    NoLeader { shard: String, detail: String },
    /// A config file's value, named by its key, is refused.
    #[error("config key {key}: {reason}")]
    InvalidConfig { key: &'static str, reason: String },
}

impl Error {
    /// A copy of a request-level error, to answer each request of a group
    /// that failed together.
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::NotLeader { leader } => Error::NotLeader {
                leader: leader.clone(),
            },
            Error::NoQuorum(m) => Error::NoQuorum(m.clone()),
            Error::ShardClosed => Error::ShardClosed,
            other => Error::OutcomeUnknown(other.to_string()),
        }
    }

    /// Whether a caller may retry: the request was not applied, or the
    /// shard could not be reached.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. }
                | Error::NotLeader { .. }
                | Error::NoQuorum(_)
                | Error::OutcomeUnknown(_)
                | Error::NoLeader { .. }
                | Error::ShardClosed
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
