//! Job error objects of `live/err` and `err.txt` (muskie
//! `lib/jobs/error.js` projecting Marlin's record), MANTA-API.md §4.4.

use serde::{Deserialize, Deserializer, Serialize};

/// Marlin's job error codes (`common/lib/errors.js`). Unknown codes read
/// from older records are kept verbatim in [`JobErrorCode::Other`].
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

impl JobErrorCode {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            JobErrorCode::TaskInitError => "TaskInitError",
            JobErrorCode::UserTaskError => "UserTaskError",
            JobErrorCode::ResourceNotFoundError => "ResourceNotFoundError",
            JobErrorCode::AuthorizationError => "AuthorizationError",
            JobErrorCode::InvalidArgumentError => "InvalidArgumentError",
            JobErrorCode::InternalError => "InternalError",
            JobErrorCode::ServiceUnavailableError => "ServiceUnavailableError",
            JobErrorCode::TaskKilledError => "TaskKilledError",
            JobErrorCode::JobCancelledError => "JobCancelledError",
            JobErrorCode::Other(s) => s,
        }
    }
}

impl From<String> for JobErrorCode {
    fn from(s: String) -> Self {
        match s.as_str() {
            "TaskInitError" => JobErrorCode::TaskInitError,
            "UserTaskError" => JobErrorCode::UserTaskError,
            "ResourceNotFoundError" => JobErrorCode::ResourceNotFoundError,
            "AuthorizationError" => JobErrorCode::AuthorizationError,
            "InvalidArgumentError" => JobErrorCode::InvalidArgumentError,
            "InternalError" => JobErrorCode::InternalError,
            "ServiceUnavailableError" => JobErrorCode::ServiceUnavailableError,
            "TaskKilledError" => JobErrorCode::TaskKilledError,
            "JobCancelledError" => JobErrorCode::JobCancelledError,
            _ => JobErrorCode::Other(s),
        }
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

/// One line of `live/err` (`type=job-error`). Written with muskie's field
/// names (`phase`, `p0input`); Marlin's internal names (`phaseNum`,
/// `p0key`) and the old string phase (`"0"`) are accepted on read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Path of the saved stderr object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Path of the saved core file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<String>,
    /// The task's input object (map tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The phase-0 input this task's input descends from.
    #[serde(default, alias = "p0key", skip_serializing_if = "Option::is_none")]
    pub p0input: Option<String>,
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
