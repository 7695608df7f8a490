//! What the supervisor keeps on the metadata tier (`Keyspace::Jobs`), so a
//! restarted supervisor rebuilds every running job from it (`replay`):
//!
//! | dir | name | value |
//! |---|---|---|
//! | `acct/<owner uuid>` | job id | [`JobRecord`]: the job object (`live/status`) |
//! | `running` | job id | [`RunningRecord`]: jobs not yet done |
//! | `<job id>/in` | `%012d` sequence | [`InputRecord`]: one input, in order |
//! | `<job id>/done` | task id | [`DoneRecord`]: a finished task and what it produced |
//!
//! A job's state is a function of its inputs and its done records: tasks
//! without a done record are (re)run, and the outputs of done ones feed the
//! next phase again.

use crate::model::{Job, JobError};
use metadata_tier::wire::{EntryKey, Keyspace};
use serde::{Deserialize, Serialize};

pub(crate) const JOB_RECORD_VERSION: u32 = 1;

/// A job and its owner: the value under `acct/<owner>/<id>`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct JobRecord {
    pub v: u32,
    /// Account uuid of the owner.
    pub owner: String,
    pub login: String,
    pub job: Job,
    /// The sub-user that created the job, and its active roles then;
    /// `None` when the account did. The frontend lets the job's task
    /// toolbox act as that sub-user with those roles, never as the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<JobCaller>,
}

/// A sub-user a job acts for (RBAC, docs/rbac.md).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct JobCaller {
    pub user: String,
    /// Role uuids.
    pub roles: Vec<String>,
}

/// Names a job not yet done, so a restarted supervisor finds it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct RunningRecord {
    pub owner: String,
    pub login: String,
}

/// One job input, in the order it was added.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct InputRecord {
    pub path: String,
}

/// An object a task emitted, by path, and the reducer it goes to.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct OutRef {
    pub path: String,
    #[serde(default)]
    pub reducer: Option<u32>,
}

/// A settled task: what it produced, or its error.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct DoneRecord {
    pub phase: u32,
    pub task_id: String,
    /// The map task's input; `None` for a reducer.
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub reducer: Option<u32>,
    /// The job input this task descends from (map tasks).
    #[serde(default)]
    pub(crate) p0input: Option<String>,
    #[serde(default)]
    pub outputs: Vec<OutRef>,
    #[serde(default)]
    pub error: Option<JobError>,
    #[serde(default)]
    pub retries: u32,
    /// The node that ran it; `None` if it never ran (e.g. missing input).
    #[serde(default)]
    pub node: Option<String>,
    /// Whether it counted as a task (an input that could not be resolved
    /// is an error without a task).
    #[serde(default)]
    pub ran: bool,
}

pub(crate) fn job_key(owner: &str, id: &str) -> EntryKey {
    EntryKey::new(Keyspace::Jobs, format!("acct/{owner}"), id)
}

pub(crate) fn jobs_dir(owner: &str) -> String {
    format!("acct/{owner}")
}

pub(crate) const RUNNING_DIR: &str = "running";

pub(crate) fn running_key(id: &str) -> EntryKey {
    EntryKey::new(Keyspace::Jobs, RUNNING_DIR, id)
}

pub(crate) fn inputs_dir(id: &str) -> String {
    format!("{id}/in")
}

pub(crate) fn input_key(id: &str, seq: u64) -> EntryKey {
    EntryKey::new(Keyspace::Jobs, inputs_dir(id), format!("{seq:012}"))
}

pub(crate) fn done_dir(id: &str) -> String {
    format!("{id}/done")
}

pub(crate) fn done_key(id: &str, task_id: &str) -> EntryKey {
    EntryKey::new(Keyspace::Jobs, done_dir(id), task_id)
}

/// A task id: stable for the same work (so a re-run after a restart names
/// its outputs the same), unique across jobs.
pub(crate) fn task_id(job_id: &str, parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(job_id.as_bytes());
    for p in parts {
        h.update(b"\0");
        h.update(p.as_bytes());
    }
    h.finalize().to_hex()[..24].to_string()
}
