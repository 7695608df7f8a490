//! Why a task did not succeed, before it becomes a wire [`Outcome`].

use std::fmt::Display;

use super::wire::Outcome;
use crate::model::JobErrorCode;
use crate::safe_fs::OpenError;

/// A task's failure: the user's (never retried) or ours (retried
/// elsewhere).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    User { code: JobErrorCode, message: String },
    Infra(String),
}

impl Failure {
    pub(crate) fn user(code: JobErrorCode, message: impl Into<String>) -> Self {
        Self::User {
            code,
            message: message.into(),
        }
    }

    /// Ours: `action` failed because of `err`.
    pub(crate) fn infra(action: &str, err: impl Display) -> Self {
        Self::Infra(format!("{action}: {err}"))
    }

    /// A file the task left could not be read while doing `action`: the
    /// task's failure when it put a symlink, FIFO, device, directory or too
    /// much there; ours when the disk failed.
    pub(crate) fn from_open(action: &str, err: OpenError) -> Self {
        if err.is_refusal() {
            Self::user(JobErrorCode::UserTaskError, format!("{action}: {err}"))
        } else {
            Self::infra(action, err)
        }
    }

    /// The runner failed to run the task: the image's fault when it holds
    /// a file the runner refuses, ours otherwise.
    pub(crate) fn from_run(err: crate::Error) -> Self {
        match err {
            crate::Error::ImageFile(_) => {
                Self::user(JobErrorCode::InvalidArgumentError, err.to_string())
            }
            other => Self::infra("run the task", other),
        }
    }

    pub(crate) fn into_outcome(self) -> Outcome {
        match self {
            Self::User { code, message } => Outcome::UserError { code, message },
            Self::Infra(message) => Outcome::InfraError { message },
        }
    }
}

/// Turns any error into an infrastructure failure naming the action.
pub(crate) trait InfraContext<T> {
    fn infra(self, action: &str) -> Result<T, Failure>;
}

impl<T, E: Display> InfraContext<T> for Result<T, E> {
    fn infra(self, action: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure::infra(action, e))
    }
}
