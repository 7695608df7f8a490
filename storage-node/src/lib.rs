//! Storage node: content-addressed blobs on local disk, served over HTTP.
//!
//! - [`blobstore`]: [`BlobStore`] keeps blobs under
//!   `root/blobs/<2 hex>/<2 hex>/<blake3 hex>`, each beside its BLAKE3 hash
//!   tree (Bao outboard, `.obao`); uploads stream through `root/tmp` and are
//!   fsynced before they get their name; every byte read, whole or ranged,
//!   is verified against the tree first, and a bad copy is moved to
//!   `root/quarantine`.
//!   It lists blobs in hash order; GC deletes (only blobs older than an
//!   age) and touches run under a per-hash lock that uploads also hold
//!   while they rename.
//! - [`scrub`]: the background task that reads every blob back through its
//!   tree at a bounded rate, quarantining rotten copies.
//! - [`server`]: the axum service (`PUT /blobs`, `GET|HEAD|DELETE
//!   /blobs/{hash}` with `Range`, `GET /status`, and the upkeep routes:
//!   `GET /blobs`, `POST /blobs/{hash}/touch`, `POST /scrub`).
//! - [`client`]: `StorageClient`, the typed client the frontend uses.
//! - [`wire`]: types both sides share, such as [`BlobHash`] and
//!   [`wire::PutResponse`].
//! - [`heartbeat`]: announces the node's address, capacity and load to the
//!   metadata tier's registry, and refreshes the node's [`metrics`].
//! - [`metrics`]: the node's Prometheus metrics.
//! - [`range`]: single `Range: bytes=` header resolution.
//! - [`config`]: the node's config file and its validated settings.

pub mod blobstore;
pub mod client;
pub mod config;
mod error;
pub mod heartbeat;
pub mod metrics;
pub mod range;
pub mod scrub;
pub mod server;
pub mod wire;

#[cfg(test)]
mod range_prop;

pub use blobstore::BlobStore;
pub use error::{Error, Result};
pub use wire::BlobHash;
