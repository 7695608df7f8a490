//! What every role's HTTP plumbing shares, kept in the lowest crate since
//! every other crate depends on this one:
//!
//! - [`auth`]: the cluster credential. Every call between frontend, storage
//!   nodes, metadata shards and job agents carries an HMAC (keyed BLAKE3)
//!   over its method, target, time and body hash, made with the cluster's
//!   secret; the receiving role refuses a call without a valid one.
//! - [`serve`]: one hardened HTTP/1 server loop for every listener: a
//!   header-read timeout, an idle/stall timeout that also frees a
//!   connection whose peer stopped reading, and bounds on connections and
//!   on requests in flight.
//!   The same loop serves TLS ([`serve_tls`]) with a certificate from
//!   [`tls`], reloadable while serving.
//! - [`metrics`]: the process's Prometheus registry, the HTTP metrics of
//!   every listener, and `/metrics` for an admin listener.
//! - [`trace`]: the frontend's request id on every internal call, and a
//!   span with it and the route in every role's logs.

pub mod auth;
mod idle;
pub mod metrics;
pub mod serve;
pub mod tls;
pub mod trace;

pub use auth::{ClusterKey, Verifier};
pub use serve::{serve, serve_tls, Limits};
