//! Client SDK for the Manta API.
//!
//! Today this crate holds the public API types that the frontend serves and
//! clients read ([`types`]): directory listing entries and error bodies. The
//! HTTP client and the m* commands build on them (see the SDK issue).

pub mod types;

pub use types::{DirEntry, EntryType, ErrorBody};
