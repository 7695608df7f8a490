//! Requests and responses of the shard API, shared by the server and the
//! client.

use serde::{Deserialize, Serialize};

/// A family of records. Each keyspace has its own key prefix, so scans of one
/// never see another.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Keyspace {
    Objects,
    Nodes,
    Accounts,
    Buckets,
    Jobs,
}

impl Keyspace {
    pub fn as_str(&self) -> &'static str {
        match self {
            Keyspace::Objects => "objects",
            Keyspace::Nodes => "nodes",
            Keyspace::Accounts => "accounts",
            Keyspace::Buckets => "buckets",
            Keyspace::Jobs => "jobs",
        }
    }

    /// The key prefix byte of this keyspace. Never reuse a retired tag.
    pub(crate) fn tag(&self) -> u8 {
        match self {
            Keyspace::Objects => b'o',
            Keyspace::Nodes => b'n',
            Keyspace::Accounts => b'a',
            Keyspace::Buckets => b'b',
            Keyspace::Jobs => b'j',
        }
    }
}

/// Where an entry lives: its keyspace, its directory and its name.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryKey {
    pub space: Keyspace,
    pub dir: String,
    pub name: String,
}

impl EntryKey {
    pub fn new(space: Keyspace, dir: impl Into<String>, name: impl Into<String>) -> Self {
        EntryKey {
            space,
            dir: dir.into(),
            name: name.into(),
        }
    }
}

/// A stored entry: the shard's own version id (`etag`, a fresh uuid per
/// write, compared by conditional writes), the shard clock time of the write
/// in ms since the epoch, and the caller's value.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub etag: String,
    pub mtime_ms: u64,
    pub value: serde_json::Value,
}

/// What a write requires of the entry it replaces.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub enum Condition {
    #[default]
    None,
    Absent,
    Exists,
    EtagMatches(String),
    /// The entry is absent, or the field at JSON `pointer` of its value is
    /// not `value`. Lets an unconditional replace refuse, atomically, to
    /// overwrite a record of another kind (an object never replaces a
    /// directory that appeared after the caller looked).
    FieldNot {
        pointer: String,
        value: serde_json::Value,
    },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Op {
    Put {
        key: EntryKey,
        value: serde_json::Value,
        cond: Condition,
    },
    Delete {
        key: EntryKey,
        cond: Condition,
    },
}

impl Op {
    pub fn key(&self) -> &EntryKey {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// The outcome of one op of a batch: for a put the new entry, for a delete
/// the removed one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum OpResult {
    Put(Entry),
    Delete(Option<Entry>),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    /// Start here (exclusive unless `inclusive`); `None` = from the start.
    pub marker: Option<String>,
    pub inclusive: bool,
    pub limit: usize,
    /// Descending by name.
    pub reverse: bool,
    /// By modification time (an index the shard keeps for
    /// [`Keyspace::Objects`]), newest first; `reverse` then means oldest
    /// first. The marker is an mtime in ms (decimal), always inclusive:
    /// entries sharing the marker's mtime come again, as Manta's listing
    /// by mtime does, and clients skip the names they have seen.
    #[serde(default)]
    pub by_mtime: bool,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            marker: None,
            inclusive: false,
            limit: 256,
            reverse: false,
            by_mtime: false,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ListResult {
    pub entries: Vec<Entry>,
    /// Entry count of the whole directory.
    pub total: u64,
    /// The shard's clock, to age entries without trusting the caller's.
    pub now_ms: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct GetRequest {
    pub key: EntryKey,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ApplyRequest {
    pub ops: Vec<Op>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ListRequest {
    pub space: Keyspace,
    pub dir: String,
    pub opts: ListOptions,
}

/// A page of a whole keyspace (`/v1/scan`), across directories.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ScanRequest {
    pub space: Keyspace,
    /// Resume after this key (what the previous page's `next` said).
    #[serde(default)]
    pub after: Option<EntryKey>,
    pub limit: usize,
}

/// One entry of a scan, with the directory it lives in.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ScannedEntry {
    pub dir: String,
    pub entry: Entry,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ScanResult {
    pub entries: Vec<ScannedEntry>,
    /// Where the next page starts; `None` when this was the last.
    pub next: Option<EntryKey>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CountRequest {
    pub space: Keyspace,
    pub dir: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CountResponse {
    pub count: u64,
}

/// Error body of the shard API.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ErrorResponse {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub current: Option<Entry>,
    /// With `NotLeader`: the URL of the replica that leads, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
}
