//! The job JSON of Manta's jobs API (docs/jobs.md), defined once for the client (`mjob`)
//! and the server (the `jobs` crate): the CreateJob body ([`JobSpec`],
//! [`Phase`]), the job object of `live/status` and `job.json` ([`Job`]),
//! and one `live/err` line ([`JobError`]).
//!
//! Reading is lenient: fields a type does not know are kept in `extra` (so
//! a job prints back whole), and older spellings are accepted. The server
//! refuses a CreateJob body whose `extra` is not empty (`InvalidJob`), as
//! Marlin's `additionalProperties: false` did.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The kind of a phase.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhaseType {
    /// One task per input object, run where the object is stored.
    #[default]
    #[serde(rename = "map")]
    Map,
    /// `count` tasks reading all the phase's inputs on stdin.
    #[serde(rename = "reduce")]
    Reduce,
    /// Legacy spelling of `map`.
    #[serde(rename = "storage-map")]
    StorageMap,
}

impl PhaseType {
    /// True for `map` and the legacy `storage-map`.
    pub fn is_map(self) -> bool {
        matches!(self, PhaseType::Map | PhaseType::StorageMap)
    }
}

/// One phase of a job, as posted and as echoed in the job object. Optional
/// fields stay `None` when absent so the phase is echoed exactly as posted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Phase {
    /// `map` (the server's default) or `reduce`.
    #[serde(rename = "type", default)]
    pub phase_type: PhaseType,
    /// Bash command run by every task.
    pub exec: String,
    /// Bash run once per compute container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// Objects made available under `/assets/<path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<String>>,
    /// Reducers (reduce phases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Memory in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// Disk in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<u32>,
    /// Image semver range (e.g. `>=13.1.0`) or image object path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Opaque user argument object passed through to the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uarg: Option<Value>,
    /// Fields this version does not know, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The body of `POST /:login/jobs`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct JobSpec {
    /// Job name; node-manta sends `""` when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// At least one phase.
    pub phases: Vec<Phase>,
    /// Transient jobs (mlogin) are not listed like ordinary ones.
    #[serde(default, skip_serializing_if = "is_false")]
    pub transient: bool,
    /// Fields this version does not know, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A job's state; `archiving` and any newer state are kept as `Other`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Created, no task dispatched yet.
    Queued,
    /// Tasks are running or input is still open.
    Running,
    /// Finished (successfully, with errors, or cancelled).
    Done,
    /// Any other state, kept as written.
    #[serde(untagged)]
    Other(String),
}

impl JobState {
    /// Whether `mjob watch` stops: `done`, or `archiving` (which only a
    /// done job reaches).
    pub fn is_finished(&self) -> bool {
        match self {
            JobState::Done => true,
            JobState::Other(s) => s == "archiving",
            _ => false,
        }
    }
}

/// Job counters.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
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

/// The job object of `live/status` and `job.json` (libmanta
/// `translateJob`), field names exactly as Manta sends them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
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
    #[serde(default)]
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
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// Manta always sends `"options": {}`.
    #[serde(default)]
    pub options: Map<String, Value>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Marlin's job error codes (`common/lib/errors.js`). Unknown codes are
/// kept verbatim in [`JobErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JobErrorCode {
    /// Asset fetch or init failed, or no memory/disk to dispatch the task.
    TaskInitError,
    /// The user's command exited non-zero or dumped core.
    UserTaskError,
    /// An input object does not exist.
    ResourceNotFoundError,
    /// No access to an input object.
    AuthorizationError,
    /// Bad image or unusable path.
    InvalidArgumentError,
    /// Internal failure.
    InternalError,
    /// A service the task needed was unavailable.
    ServiceUnavailableError,
    /// The task was killed for excessive resource usage.
    TaskKilledError,
    /// The job was cancelled before the task ran.
    JobCancelledError,
    /// Any other code, kept as written.
    Other(String),
}

const CODES: [(JobErrorCode, &str); 9] = [
    (JobErrorCode::TaskInitError, "TaskInitError"),
    (JobErrorCode::UserTaskError, "UserTaskError"),
    (JobErrorCode::ResourceNotFoundError, "ResourceNotFoundError"),
    (JobErrorCode::AuthorizationError, "AuthorizationError"),
    (JobErrorCode::InvalidArgumentError, "InvalidArgumentError"),
    (JobErrorCode::InternalError, "InternalError"),
    (
        JobErrorCode::ServiceUnavailableError,
        "ServiceUnavailableError",
    ),
    (JobErrorCode::TaskKilledError, "TaskKilledError"),
    (JobErrorCode::JobCancelledError, "JobCancelledError"),
];

impl JobErrorCode {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        if let JobErrorCode::Other(s) = self {
            return s;
        }
        CODES
            .iter()
            .find(|(c, _)| c == self)
            .map_or("InternalError", |(_, s)| s)
    }
}

impl From<String> for JobErrorCode {
    fn from(s: String) -> Self {
        CODES
            .iter()
            .find(|(_, name)| *name == s)
            .map_or(JobErrorCode::Other(s), |(c, _)| c.clone())
    }
}

impl From<JobErrorCode> for String {
    fn from(c: JobErrorCode) -> String {
        c.as_str().to_string()
    }
}

impl std::fmt::Display for JobErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of `live/err` / `err.txt` (docs/jobs.md). Written with
/// muskie's field names (`phase`, `p0input`); Marlin's internal names
/// (`phaseNum`, `p0key`) and the old string phase (`"0"`) are accepted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct JobError {
    /// Phase number.
    #[serde(alias = "phaseNum", deserialize_with = "phase_num")]
    pub phase: u32,
    /// `phase 0: input "/u/stor/x"` or `phase 1: reduce`.
    pub what: String,
    /// Error code.
    pub code: JobErrorCode,
    /// Human-readable message.
    pub message: String,
    /// Object holding the task's stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Object holding a core file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<String>,
    /// The task's input object (map tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The phase-0 input this task's input descends from.
    #[serde(default, alias = "p0key", skip_serializing_if = "Option::is_none")]
    pub p0input: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn phase_num<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(u32),
        S(String),
    }
    match Num::deserialize(d)? {
        Num::N(n) => Ok(n),
        Num::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl JobError {
    /// `what` for a map task: `phase N: input "<path>"`.
    pub fn what_map(phase: u32, input: &str) -> String {
        format!("phase {phase}: input \"{input}\"")
    }
    /// `what` for a reduce task: `phase N: reduce`.
    pub fn what_reduce(phase: u32) -> String {
        format!("phase {phase}: reduce")
    }
    /// Message of a command that exited with `code`.
    pub fn exit_message(code: i32) -> String {
        format!("user command exited with code {code}")
    }
}
