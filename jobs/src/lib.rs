//! Compute jobs (Manta's Marlin), everything but the HTTP API: the job
//! model, the supervisor that schedules a job's tasks, the agent that runs
//! them on the storage nodes, and the container runtime under it. The
//! frontend only routes the jobs API and implements
//! [`supervisor::Namespace`] over its object store; this crate never
//! depends on the frontend.
//!
//! - [`image`]: importing `docker save` archives and OCI image layouts
//!   ([`image::import_path`], [`image::import_reader`],
//!   [`image::import_async`]) into an [`image::ImageStore`] whose layer
//!   cache is keyed by digest, plus the default busybox image.
//! - [`runtime`]: [`runtime::TaskRunner`] runs a [`runtime::TaskSpec`]
//!   under runsc (default) or runc ([`runtime::RuntimeKind`]) with an
//!   overlayfs rootfs, limits ([`runtime::Limits`]) and cleanup, returning
//!   a [`runtime::TaskOutcome`] that names any [`runtime::LimitKind`] hit.
//! - [`model`]: the Manta-compatible job model: [`model::JobSpec`]
//!   (CreateJob body and its validation), [`model::Job`] (live/status),
//!   [`model::JobError`], output naming and `msplit` routing.
//! - [`supervisor`]: [`supervisor::Supervisor`] runs each job as an actor
//!   driving a scheduler (a state machine without I/O: events in, commands
//!   out) that places map tasks beside their input, feeds reducers, retries
//!   lost work and archives the job; it keeps its records on the metadata
//!   tier and reaches objects only through [`supervisor::Namespace`].
//! - [`agent`]: the job agent each storage node runs: tasks from the
//!   supervisor ([`agent::wire`], called with [`agent::client`]) run in
//!   containers beside their input; [`agent::config`] holds its keys in a
//!   storage node's config file.
//! - [`digest`]: sha256 digests; [`error`]: [`Error`] and [`Result`].
//!
//! The `mantad image ...` operator commands live with the `mantad` binary
//! (frontend crate) and call [`image`] and [`runtime`] directly.
//!
//! How each limit is enforced under each runtime: `docs/jobs-runtime.md`.
//!
//! Only what the frontend or this crate's tests name is `pub`; the rest is
//! `pub(crate)`, so the compiler flags code nothing uses.

pub mod agent;
pub mod digest;
pub mod error;
pub mod image;
pub mod model;
pub mod runtime;
mod safe_fs;
pub mod supervisor;
pub mod task_token;

pub use error::{Error, Result};
