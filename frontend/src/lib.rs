//! The public side of the store: the Manta and S3 APIs over one object
//! service, and the roles the `mantad` binary starts (its operator commands
//! live with the binary, `src/bin/mantad/`).
//!
//! - [`store`] is the protocol-neutral object service (put, open_read,
//!   placement, upload, typed ids, the record codec) that both APIs and the
//!   job supervisor go through, so an object is the same whichever protocol
//!   wrote it; its error is neutral and each API maps it to its own codes.
//! - `manta` is the Manta REST API, the jobs API and the server included;
//!   `error` is Manta's error, wrapping the store's, so Manta's wire codes
//!   are chosen in one place. [`s3`] is the S3 API on its own port.
//! - [`auth`] checks who calls (HTTP Signatures, signed URLs, SigV4) and
//!   what they may touch; [`accounts`] and [`records`] are what the frontend
//!   keeps on the metadata tier.
//! - [`rbac`] is Manta's sub-users, roles, policies and role tags.
//! - `plain` is what the plain-HTTP listeners beside TLS ones may carry.
//! - `path` and `conditional` parse what clients send, once, at the edge;
//!   [`time`] holds the Manta API's time formats.
//! - [`config`] is the frontend role's TOML (each tier owns its role's),
//!   [`state`] what every request shares, and [`cluster`] starts the roles
//!   in one process (`mantad dev`, and the test harness), each public
//!   listener in TLS when a certificate is configured; [`dev_ca`] is the
//!   local CA `mantad dev` and the test kit make that certificate with.
//! - `jobs` implements the supervisor's `Namespace` over the store: the
//!   supervisor lives in the jobs crate, which never depends on this one.
//! - `console` is the web console at `/console/` (docs/console.md): its
//!   API runs the Manta handlers as the session's account.
//! - `testkit` is the test cluster every crate's integration tests start
//!   (public for them, hidden from the docs: not an API of the store).
//!
//! Only what the binary, the tests or the testkit name is `pub`; the rest is
//! `pub(crate)`, so the compiler flags code nothing uses.

pub mod accounts;
pub mod auth;
pub mod cluster;
pub(crate) mod conditional;
pub mod config;
pub(crate) mod console;
pub mod dev_ca;
pub(crate) mod error;
pub(crate) mod jobs;
pub mod maintain;
pub(crate) mod manta;
pub(crate) mod path;
#[cfg(test)]
mod path_prop;
pub(crate) mod plain;
pub mod rbac;
pub mod records;
pub mod s3;
pub mod state;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod time;

pub use error::{Error, Result};
