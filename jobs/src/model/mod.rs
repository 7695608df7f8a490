//! The job model: Manta-compatible wire types for compute jobs, with no
//! I/O (MANTA-API.md §4). The JSON types are defined once, in the SDK
//! ([`client_sdk::jobs`]); this adds what only the server does: validation
//! ([`JobSpecExt`]), defaults ([`PhaseExt`]) and a job's life ([`JobExt`]).
//!
//! - [`spec`]: [`JobSpec`] / [`Phase`], the `POST /:login/jobs` body, with
//!   [`JobSpec::validate`] returning a [`SpecError`] that names the field
//!   (answered as `400 InvalidJob`).
//! - [`job`]: [`Job`], the `live/status` / `job.json` object
//!   ([`JobState`], [`JobStats`]).
//! - [`error`]: [`JobError`], one `live/err` line, and [`JobErrorCode`].
//! - [`naming`]: task output names under `/:login/jobs/:id/stor/` and
//!   `msplit`'s reducer routing ([`naming::msplit_reducer`]: first 32 bits
//!   of MD5(key), big-endian, mod count).

pub(crate) mod error;
pub(crate) mod job;
pub mod naming;
pub(crate) mod spec;
#[cfg(test)]
mod spec_prop;

pub use error::{JobError, JobErrorCode};
pub(crate) use job::JobExt;
pub use job::{Job, JobState, JobStats};
pub(crate) use spec::PhaseExt;
pub use spec::{JobSpec, JobSpecExt, Phase, PhaseType, SpecError};

#[cfg(test)]
mod tests;
