//! The public frontend of the store, and the roles the `mantad` binary
//! starts (its operator commands live with the binary, `src/bin/mantad/`).
//!
//! - [`server`] serves the Manta REST API ([`manta`]) over HTTP;
//! - [`upload`] streams an object to N storage nodes, [`placement`] picks
//!   them from the node registry;
//! - [`path`], [`range`], [`conditional`] parse what clients send;
//! - [`records`] and [`accounts`] are what the frontend keeps on the
//!   metadata tier;
//! - [`auth`] checks who calls (HTTP Signatures, signed URLs, SigV4) and
//!   what they may touch;
//! - [`config`] is the frontend role's TOML config (each tier owns its
//!   role's) and [`cluster`] starts the roles in one process (`mantad
//!   dev`, and the test harness).
//!
//! - [`jobs`] is the jobs API and the supervisor that runs jobs' tasks on
//!   the storage nodes' agents.
//!
//! Errors map to Manta's wire codes in one place, [`error`]. `testkit` is
//! the test cluster every crate's integration tests start (hidden from the
//! docs: not an API of the store).

pub mod accounts;
pub mod auth;
pub mod cluster;
pub(crate) mod conditional;
pub mod config;
pub(crate) mod error;
pub(crate) mod jobs;
pub(crate) mod manta;
pub(crate) mod path;
pub mod records;
pub mod s3;
pub mod state;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod time;

pub use error::{Error, Result};
