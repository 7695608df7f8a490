//! The job object of `GET /:login/jobs/:id/live/status` and `job.json`
//! (libmanta `translateJob`), MANTA-API.md §4.3. The type is the SDK's
//! (one definition of the wire format); how the server creates and changes
//! a job is here.

pub use client_sdk::jobs::{Job, JobState, JobStats};

use super::spec::JobSpec;

/// The server's life of a job object.
pub(crate) trait JobExt {
    /// A freshly created, queued job for `spec`.
    fn new(id: impl Into<String>, spec: &JobSpec, time_created: impl Into<String>) -> Self;
    /// Marks the job cancelled; like Manta, cancelling closes input.
    fn cancel(&mut self);
    /// Whether `live/in`, `live/in/end` or `live/cancel` must answer
    /// 409 `InvalidJobState` (`adding_input`: the route is `live/in`).
    fn refuses_live_post(&self, adding_input: bool) -> bool;
}

impl JobExt for Job {
    fn new(id: impl Into<String>, spec: &JobSpec, time_created: impl Into<String>) -> Job {
        Job {
            id: id.into(),
            name: spec.name.clone().unwrap_or_default(),
            state: JobState::Queued,
            cancelled: false,
            input_done: false,
            transient: spec.transient,
            stats: JobStats::default(),
            time_created: time_created.into(),
            time_done: None,
            time_archive_started: None,
            time_archive_done: None,
            phases: spec.phases.clone(),
            options: serde_json::Map::new(),
            extra: serde_json::Map::new(),
        }
    }

    fn cancel(&mut self) {
        self.cancelled = true;
        self.input_done = true;
    }

    fn refuses_live_post(&self, adding_input: bool) -> bool {
        self.state == JobState::Done || self.cancelled || (adding_input && self.input_done)
    }
}
