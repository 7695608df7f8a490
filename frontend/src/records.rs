//! Records the frontend keeps on the metadata tier: objects and directories
//! (Keyspace::Objects, keyed by parent directory and name) and accounts
//! (Keyspace::Accounts, keyed by login). Each carries a version marker `v` so
//! a later release can read and migrate what an earlier one wrote.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const RECORD_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Object,
    Directory,
}

/// One name in an account's tree. A snaplink is an object record sharing its
/// source's blob (`created_from` says where it came from).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    pub v: u32,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub owner: String,
    /// Object id (uuid): the object's `Etag`; empty for directories.
    #[serde(default)]
    pub etag: String,
    /// BLAKE3 of the bytes (hex); `None` for directories and empty objects.
    #[serde(default)]
    pub blob: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub content_md5: String,
    #[serde(default)]
    pub content_type: String,
    /// Stored user headers (`m-*`, cache-control, CORS...), lower-case names.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Storage node ids holding a copy.
    #[serde(default)]
    pub sharks: Vec<String>,
    #[serde(default)]
    pub created_from: Option<String>,
    /// Request that wrote this record, for tracing.
    #[serde(default)]
    pub request_id: String,
}

impl ObjectRecord {
    pub fn directory(owner: &str, headers: BTreeMap<String, String>, request_id: &str) -> Self {
        ObjectRecord {
            v: RECORD_VERSION,
            kind: Kind::Directory,
            owner: owner.to_string(),
            etag: String::new(),
            blob: None,
            size: 0,
            content_md5: String::new(),
            content_type: client_sdk::types::DIRECTORY_CONTENT_TYPE.to_string(),
            headers,
            sharks: Vec::new(),
            created_from: None,
            request_id: request_id.to_string(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Directory
    }

    /// Number of copies, as `durability-level` reports it.
    pub fn durability(&self) -> u32 {
        self.sharks.len() as u32
    }
}

/// An account. The auth issue adds SSH and S3 keys; fields it adds must be
/// `#[serde(default)]` so older records still read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub v: u32,
    pub login: String,
    pub uuid: String,
    #[serde(default)]
    pub created_ms: u64,
}
