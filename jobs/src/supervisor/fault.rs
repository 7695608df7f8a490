//! Whose fault a failure is: the job's (a job error in `live/err`, never
//! retried) or ours (the store or a node failed; the work is retried).
//! One type for it everywhere — resolving inputs, writing outputs, running
//! tasks — so no caller has to decode nested `Result`s.

use super::namespace::NsError;
use crate::model::{JobError, JobErrorCode};

/// A failure, by who is to blame.
#[derive(Debug)]
pub enum Fault {
    /// The job's: it named something missing, forbidden or malformed.
    Job(JobFault),
    /// Ours: worth retrying.
    Internal(NsError),
}

/// A job error before it is tied to a task (`code` and `message` of
/// [`JobError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFault {
    pub code: JobErrorCode,
    pub message: String,
}

impl Fault {
    /// The job's fault.
    pub fn job(code: JobErrorCode, message: impl Into<String>) -> Self {
        Fault::Job(JobFault {
            code,
            message: message.into(),
        })
    }

    /// Ours, from any error.
    pub fn internal(e: impl Into<NsError>) -> Self {
        Fault::Internal(e.into())
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Job(j) => write!(f, "{}: {}", j.code, j.message),
            Fault::Internal(e) => write!(f, "internal: {e}"),
        }
    }
}

/// What a task knows about itself when it fails: enough to write its
/// [`JobError`].
#[derive(Debug, Clone)]
pub(crate) struct TaskMeta {
    pub phase: u32,
    /// The map task's input; `None` for a reducer.
    pub input: Option<String>,
    pub reducer: Option<u32>,
    /// The job input this task descends from (map tasks).
    pub(crate) p0input: Option<String>,
    pub retries: u32,
}

impl TaskMeta {
    /// The `live/err` entry of this task failing with `fault`.
    pub(crate) fn job_error(&self, fault: JobFault, stderr: Option<String>) -> JobError {
        let what = match &self.input {
            Some(input) => JobError::what_map(self.phase, input),
            None => JobError::what_reduce(self.phase),
        };
        JobError {
            phase: self.phase,
            what,
            code: fault.code,
            message: fault.message,
            stderr,
            core: None,
            input: self.input.clone(),
            p0input: self.p0input.clone(),
            extra: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_fault_names_its_input() {
        let meta = TaskMeta {
            phase: 1,
            input: Some("/u/stor/x".into()),
            reducer: None,
            p0input: Some("/u/stor/in".into()),
            retries: 0,
        };
        let fault = JobFault {
            code: JobErrorCode::ResourceNotFoundError,
            message: "gone".into(),
        };
        let e = meta.job_error(fault, None);
        assert_eq!(e.what, "phase 1: input \"/u/stor/x\"");
        assert_eq!(e.p0input.as_deref(), Some("/u/stor/in"));
        let reduce = TaskMeta {
            input: None,
            reducer: Some(0),
            ..meta
        };
        let e = reduce.job_error(JobFault::clone(&e_fault()), Some("/u/err".into()));
        assert_eq!(e.what, "phase 1: reduce");
        assert_eq!(e.stderr.as_deref(), Some("/u/err"));
    }

    fn e_fault() -> JobFault {
        JobFault {
            code: JobErrorCode::InternalError,
            message: "m".into(),
        }
    }

    #[test]
    fn faults_say_whose() {
        let job = Fault::job(JobErrorCode::AuthorizationError, "no");
        assert_eq!(job.to_string(), "AuthorizationError: no");
        let ours = Fault::internal("metadata down");
        assert!(matches!(ours, Fault::Internal(_)), "{ours}");
    }
}
