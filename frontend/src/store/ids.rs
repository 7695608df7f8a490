//! Typed ids, so a node id, an account id and a blob hash cannot be passed
//! for one another. Each serializes as the plain string the records have
//! always held, so stored records read unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

pub(crate) use storage_node::BlobHash;

/// A storage node's id, as it registers in the node registry.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(transparent)]
pub struct NodeId(pub String);

/// An account's uuid: what records are keyed and owned by (a login can be
/// renamed; the id cannot).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[serde(transparent)]
pub struct AccountId(pub String);

impl NodeId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AccountId {
    pub(crate) fn new_random() -> Self {
        AccountId(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for AccountId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
