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
    /// A config file's value, named by its key, is refused.
    #[error("config key {key}: {reason}")]
    InvalidConfig { key: &'static str, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
