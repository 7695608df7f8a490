//! The job object of `GET /:login/jobs/:id/live/status` and `job.json`
//! (libmanta `translateJob`), MANTA-API.md §4.3.

use serde::{Deserialize, Serialize};

use super::spec::{JobSpec, Phase};

/// A job's lifecycle state as Manta reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Created, no task dispatched yet.
    Queued,
    /// Tasks are running or input is still open.
    Running,
    /// Finished (successfully, with errors, or cancelled).
    Done,
}

/// Job counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStats {
    /// Errors emitted (live/err entries).
    pub errors: u64,
    /// Outputs of the last phase.
    pub outputs: u64,
    /// Task attempts retried after infrastructure failures.
    pub retries: u64,
    /// Tasks dispatched.
    pub tasks: u64,
    /// Tasks committed, successful or failed.
    pub tasks_done: u64,
}

/// The job object, field names exactly as Manta sends them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Job uuid.
    pub id: String,
    /// Name given at creation (`""` when none).
    #[serde(default)]
    pub name: String,
    /// Lifecycle state.
    pub state: JobState,
    /// True once `live/cancel` was posted.
    #[serde(default)]
    pub cancelled: bool,
    /// True once input was closed (forced true when cancelled).
    #[serde(default)]
    pub input_done: bool,
    /// Transient (mlogin) job.
    #[serde(default)]
    pub transient: bool,
    /// Counters.
    #[serde(default)]
    pub stats: JobStats,
    /// ISO 8601 creation time.
    pub time_created: String,
    /// ISO 8601 end time; absent until `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_done: Option<String>,
    /// ISO 8601 start of archival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_archive_started: Option<String>,
    /// ISO 8601 end of archival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_archive_done: Option<String>,
    /// The phases as posted.
    pub phases: Vec<Phase>,
    /// Manta always sends `"options": {}`.
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Job {
    /// A freshly created, queued job for `spec`.
    pub fn new(id: impl Into<String>, spec: &JobSpec, time_created: impl Into<String>) -> Job {
        Job {
            id: id.into(),
            name: spec.name.clone(),
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
        }
    }

    /// Marks the job cancelled; like Manta, cancelling closes input.
    pub fn cancel(&mut self) {
        self.cancelled = true;
        self.input_done = true;
    }

    /// Whether `live/in`, `live/in/end` or `live/cancel` must answer
    /// 409 `InvalidJobState` (`adding_input`: the route is `live/in`).
    pub fn refuses_live_post(&self, adding_input: bool) -> bool {
        self.state == JobState::Done || self.cancelled || (adding_input && self.input_done)
    }
}
