//! The object service: the one place objects are written and read, under
//! the Manta API, the S3 API and the job supervisor alike.
//!
//! - [`ObjectStore::put`] places copies ([`placement`]), streams the body to
//!   them while hashing it ([`upload`]) and writes the caller's record with
//!   a [`WriteCond`]: an unconditional write is last-writer-wins and never
//!   loses a race; only a conditional one can;
//! - [`ObjectStore::open_read`] chooses a copy of each blob and fails over
//!   between copies ([`read`]);
//! - [`Stored`] is where an object's bytes are, [`ids`] the typed ids
//!   records hold;
//! - [`Error`] is protocol-neutral: each API maps it to its own codes.
//!
//! What a record *is* (a Manta entry, an S3 key) stays with each API; the
//! store only needs to serialize it.

pub(crate) mod codec;
mod copies;
pub mod error;
pub mod ids;
pub mod placement;
mod put;
pub(crate) mod range;
#[cfg(test)]
mod range_prop;
mod read;
pub(crate) mod stored;
pub(crate) mod upload;

pub(crate) use error::Rejected;
pub use error::{Error, Result};
pub use ids::{AccountId, NodeId};
pub use placement::{NodeState, Placement, Timeouts};
pub(crate) use put::{Copies, WriteCond, Written};
pub(crate) use stored::{BlobRef, Stored};
pub(crate) use upload::Expect;

use metadata_tier::MetadataClient;
use storage_node::client::StorageClient;

/// The object service; clones share one connection pool and registry cache.
#[derive(Clone)]
pub struct ObjectStore {
    meta: MetadataClient,
    storage: StorageClient,
    placement: Placement,
    /// Copies made when the writer asks for none.
    default_durability: u32,
    /// Whether a write with fewer nodes up than `default_durability` makes
    /// what it can and leaves the rest to repair, rather than failing.
    allow_degraded_writes: bool,
}

impl ObjectStore {
    /// `timeouts`: when a silent node is down (no new copies) and lost (its
    /// copies no longer count); `reserve_bytes`: free space each node keeps
    /// back from placement.
    pub(crate) fn new(
        meta: MetadataClient,
        default_durability: u32,
        allow_degraded_writes: bool,
        timeouts: Timeouts,
        reserve_bytes: u64,
    ) -> Self {
        ObjectStore {
            placement: Placement::new(meta.clone(), timeouts, reserve_bytes),
            // The storage nodes take the same cluster credential as the shards.
            storage: StorageClient::new(meta.cluster_key().clone()),
            meta,
            default_durability,
            allow_degraded_writes,
        }
    }

    /// The node registry view placement uses (the job supervisor schedules
    /// on it too).
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// The metadata tier, for what is not an object (listings, buckets).
    pub fn meta(&self) -> &MetadataClient {
        &self.meta
    }
}
