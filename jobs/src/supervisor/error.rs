//! Errors the supervisor gives its callers (the jobs API): a refused
//! command, or a failure of the metadata tier or the object store, each
//! with what was being done. The store's own error is kept whole so the
//! frontend answers with the status it would give any request.

use super::namespace::NsError;

/// A supervisor call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job cannot take this command (done, cancelled, input closed):
    /// `409 InvalidJobState`.
    #[error("job {id} {reason}")]
    InvalidJobState { id: String, reason: String },
    /// The job is not picked up by a supervisor yet (after a restart).
    #[error("job {id} is not picked up by a supervisor yet")]
    NotPickedUp { id: String },
    /// Reading or writing the job's records on the metadata tier.
    #[error("{context}: {source}")]
    Metadata {
        context: String,
        #[source]
        source: metadata_tier::Error,
    },
    /// The object store failed.
    #[error("{context}: {source}")]
    Store {
        context: String,
        #[source]
        source: NsError,
    },
    /// A record could not be encoded or decoded, or a local file written.
    #[error("{0}")]
    Internal(String),
}

/// The supervisor's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what was being done to a metadata error.
pub(crate) fn meta(context: impl Into<String>) -> impl FnOnce(metadata_tier::Error) -> Error {
    let context = context.into();
    move |source| Error::Metadata { context, source }
}

/// Adds what was being done to a store error.
pub(crate) fn store(context: impl Into<String>) -> impl FnOnce(NsError) -> Error {
    let context = context.into();
    move |source| Error::Store { context, source }
}
