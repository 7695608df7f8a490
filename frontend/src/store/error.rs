//! The object service's one error type. It names what went wrong in the
//! store's own terms; each API wraps it and maps every variant, once and
//! exhaustively, to its wire codes (`crate::error` for Manta,
//! `crate::s3::error` for S3), as Garage's `CommonError` is wrapped.

use std::error::Error as StdError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed cause carried through a body stream (see [`Rejected`]).
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A conditional write or delete found the entry changed since it was
    /// checked. Unconditional writes never fail this way.
    #[error("{name} was changed by another request; retry")]
    ConditionFailed { name: String },
    /// An object write found a directory where it meant to replace an
    /// object (one made after the write looked).
    #[error("{name} is a directory")]
    IsDirectory { name: String },
    #[error("Content-MD5 expected to be {expected}, but was {computed}")]
    Md5Mismatch { expected: String, computed: String },
    #[error("request body ended after {got} of {expected} bytes")]
    IncompleteBody { got: u64, expected: u64 },
    #[error("the client went away during the upload")]
    UploadAbandoned,
    #[error("no request body data received for {secs} seconds")]
    UploadTimeout { secs: u64 },
    #[error("request body exceeded max-content-length of {max} bytes")]
    TooLarge { max: u64 },
    /// A check the API layered on the body (a signed payload hash, a
    /// checksum, a chunk signature) refused it; the cause is that API's own
    /// error, for it to answer with.
    #[error("request body rejected: {0}")]
    BodyRejected(BoxError),
    #[error("the requested range cannot be satisfied")]
    RangeNotSatisfiable { size: u64 },
    #[error("multiple ranges are not supported")]
    MultiRange,
    #[error("no storage nodes available")]
    NoStorageNodes,
    #[error(
        "durability-level {wanted} needs {wanted} storage nodes with room; {available} available"
    )]
    NotEnoughSpace { wanted: usize, available: usize },
    #[error("a write needs {wanted} copies but only {available} storage nodes are up (the operator has not allowed degraded writes)")]
    NotEnoughCopies { wanted: usize, available: usize },
    #[error("no copy of {name} could be read")]
    NoReachableCopy { name: String },
    #[error("account {login} does not exist")]
    AccountNotFound { login: String },
    #[error("user {user} of account {login} does not exist")]
    UserNotFound { login: String, user: String },
    #[error("account {login} already exists")]
    AccountExists { login: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{name} was not found")]
    NotFound { name: String },
    #[error("metadata tier unavailable: {0}")]
    MetadataUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the detail is ours (logged) rather than the client's (sent).
    pub(crate) fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_) | Error::MetadataUnavailable(_))
    }
}

impl From<metadata_tier::Error> for Error {
    fn from(e: metadata_tier::Error) -> Self {
        match e {
            // A shard without a leader, or a write whose fate is unknown,
            // is the client's to retry (503), as a shard out of reach is.
            e if e.is_retryable() => Error::MetadataUnavailable(e.to_string()),
            other => Error::Internal(format!("metadata: {other}")),
        }
    }
}

/// The error a body check puts into the body stream when it refuses the
/// bytes (`io::Error::other(Rejected::new(cause))`). The upload that reads
/// the body finds it and fails with [`Error::BodyRejected`] carrying the
/// cause, so the API answers with the real reason (no side channel).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Rejected(pub BoxError);

impl Rejected {
    pub fn new(cause: impl StdError + Send + Sync + 'static) -> Self {
        Rejected(Box::new(cause))
    }

    /// A stream error carrying this rejection.
    pub(crate) fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// Looks through the wrappers a body error travels in (`axum::Error`,
/// `io::Error`, nested) for a [`Rejected`] cause.
pub(crate) fn rejection(mut e: BoxError) -> Option<BoxError> {
    for _ in 0..8 {
        e = match e.downcast::<Rejected>() {
            Ok(r) => return Some(r.0),
            Err(e) => e,
        };
        e = match e.downcast::<axum::Error>() {
            Ok(a) => a.into_inner(),
            Err(e) => match e.downcast::<std::io::Error>() {
                Ok(io) => io.into_inner()?,
                Err(_) => return None,
            },
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("bad digest")]
    struct Cause;

    #[test]
    fn finds_a_rejection_through_wrappers() {
        let io = Rejected::new(Cause).into_io();
        let wrapped = std::io::Error::other(axum::Error::new(io));
        let cause = rejection(Box::new(wrapped)).unwrap();
        assert!(cause.downcast_ref::<Cause>().is_some());
    }

    #[test]
    fn a_plain_failure_is_not_a_rejection() {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(rejection(Box::new(axum::Error::new(e))).is_none());
    }
}
