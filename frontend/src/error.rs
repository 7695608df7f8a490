//! The frontend's one error type, and its single mapping to Manta's wire
//! codes and HTTP statuses (`MANTA-API.md` §0.4).

use crate::store::Error as StoreError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use client_sdk::ErrorBody;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a Manta API request can fail. Variants carry the detail for the
/// message; `into_response` gives each its code and status in one `match`, so
/// a new variant without a mapping does not compile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path} was not found")]
    ResourceNotFound { path: String },
    #[error("{path} does not exist")]
    DirectoryDoesNotExist { path: String },
    #[error("{path} is not a directory")]
    ParentNotDirectory { path: String },
    #[error("{path} is not empty")]
    DirectoryNotEmpty { path: String },
    #[error("{path} is a directory")]
    OperationNotAllowedOnDirectory { path: String },
    #[error("{path} is a root directory and cannot be changed")]
    OperationNotAllowedOnRootDirectory { path: String },
    #[error("{path} was changed by another request; retry")]
    ConcurrentRequest { path: String },
    #[error("if-match, if-none-match or if-unmodified-since failed for {path}")]
    PreconditionFailed { path: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidResource(String),
    #[error("durability-level must be between 1 and {max}: {value}")]
    InvalidDurabilityLevel { value: String, max: u32 },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidMaxContentLength(String),
    #[error("Location header required to create a link")]
    LocationRequired,
    #[error("{0}")]
    InvalidLink(String),
    #[error("{path} (link source) was not found")]
    SourceObjectNotFound { path: String },
    #[error("{path} is a directory, only objects can be linked")]
    LinkNotObject { path: String },
    #[error("{0}")]
    AuthorizationFailed(String),
    #[error("{0} is not an allowed authorization scheme (use Signature)")]
    AuthorizationSchemeNotAllowed(String),
    #[error("{0} is not a supported signing algorithm")]
    InvalidAlgorithm(String),
    #[error("invalid keyId {0:?} (expected /LOGIN/keys/FINGERPRINT)")]
    InvalidKeyId(String),
    #[error("{key_id} is not a key of this account")]
    KeyDoesNotExist { key_id: String },
    #[error("{0}")]
    UserDoesNotExist(String),
    /// RBAC: none of the caller's active roles tags the entry.
    #[error("{0}")]
    NoMatchingRoleTag(String),
    /// RBAC: a `Role` header naming a role the caller cannot take.
    #[error("{0}")]
    InvalidRole(String),
    /// RBAC: a sub-user creating a job without a role allowing what jobs
    /// do (`putobject`, `putdirectory`), as muskie's `MissingPermission`.
    #[error("missing role allowing {0}")]
    MissingPermission(String),
    /// RBAC: a `role-tag` naming a role the owner does not have.
    #[error("{0}")]
    InvalidRoleTag(String),
    #[error("the signature does not verify")]
    InvalidSignature,
    #[error("{0}")]
    InvalidHeader(String),
    #[error("{0}")]
    AuthorizationRequired(String),
    #[error("{0}")]
    RequestExpired(String),
    #[error("{0}")]
    InvalidQueryStringAuthentication(String),
    /// A request on the plain-HTTP listener that needs TLS (docs/tls.md).
    #[error("this listener serves /:login/public reads and signed URLs only; use HTTPS")]
    SecureTransportRequired,
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("{0}")]
    InvalidJob(String),
    #[error("job {id} was not found")]
    JobNotFound { id: String },
    #[error("job {id} {reason}")]
    InvalidJobState { id: String, reason: String },
    #[error("{0}")]
    MultipartUploadInvalidArgument(String),
    #[error("{0}")]
    InvalidMultipartUploadState(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// What the object service (and accounts) refused; mapped below.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl Error {
    /// Manta's wire code and the HTTP status that goes with it.
    pub(crate) fn code_and_status(&self) -> (&'static str, StatusCode) {
        use Error::*;
        match self {
            ResourceNotFound { .. } => ("ResourceNotFound", StatusCode::NOT_FOUND),
            DirectoryDoesNotExist { .. } => ("DirectoryDoesNotExist", StatusCode::NOT_FOUND),
            ParentNotDirectory { .. } => ("ParentNotDirectory", StatusCode::BAD_REQUEST),
            DirectoryNotEmpty { .. } => ("DirectoryNotEmpty", StatusCode::BAD_REQUEST),
            OperationNotAllowedOnDirectory { .. } => {
                ("OperationNotAllowedOnDirectory", StatusCode::BAD_REQUEST)
            }
            OperationNotAllowedOnRootDirectory { .. } => (
                "OperationNotAllowedOnRootDirectory",
                StatusCode::BAD_REQUEST,
            ),
            ConcurrentRequest { .. } => ("ConcurrentRequest", StatusCode::CONFLICT),
            PreconditionFailed { .. } => ("PreconditionFailed", StatusCode::PRECONDITION_FAILED),
            BadRequest(_) => ("BadRequest", StatusCode::BAD_REQUEST),
            InvalidResource(_) => ("InvalidResource", StatusCode::BAD_REQUEST),
            InvalidDurabilityLevel { .. } => ("InvalidDurabilityLevel", StatusCode::BAD_REQUEST),
            // Manta's restCode really carries the "Error" suffix here.
            InvalidArgument(_) => ("InvalidArgumentError", StatusCode::BAD_REQUEST),
            InvalidParameter(_) => ("InvalidParameter", StatusCode::BAD_REQUEST),
            InvalidMaxContentLength(_) => ("InvalidMaxContentLength", StatusCode::BAD_REQUEST),
            LocationRequired => ("LocationRequired", StatusCode::BAD_REQUEST),
            InvalidLink(_) => ("InvalidLink", StatusCode::BAD_REQUEST),
            SourceObjectNotFound { .. } => ("SourceObjectNotFound", StatusCode::NOT_FOUND),
            LinkNotObject { .. } => ("LinkNotObject", StatusCode::BAD_REQUEST),
            AuthorizationFailed(_) => ("AuthorizationFailed", StatusCode::FORBIDDEN),
            AuthorizationSchemeNotAllowed(_) => {
                ("AuthorizationSchemeNotAllowed", StatusCode::FORBIDDEN)
            }
            InvalidAlgorithm(_) => ("InvalidAlgorithm", StatusCode::UNAUTHORIZED),
            InvalidKeyId(_) => ("InvalidKeyId", StatusCode::FORBIDDEN),
            KeyDoesNotExist { .. } => ("KeyDoesNotExist", StatusCode::FORBIDDEN),
            UserDoesNotExist(_) => ("UserDoesNotExist", StatusCode::FORBIDDEN),
            NoMatchingRoleTag(_) => ("NoMatchingRoleTag", StatusCode::FORBIDDEN),
            InvalidRole(_) => ("InvalidRole", StatusCode::CONFLICT),
            MissingPermission(_) => ("MissingPermission", StatusCode::FORBIDDEN),
            InvalidRoleTag(_) => ("InvalidRoleTag", StatusCode::CONFLICT),
            InvalidSignature => ("InvalidSignature", StatusCode::FORBIDDEN),
            InvalidHeader(_) => ("InvalidHeader", StatusCode::BAD_REQUEST),
            AuthorizationRequired(_) => ("AuthorizationRequired", StatusCode::UNAUTHORIZED),
            RequestExpired(_) => ("RequestExpired", StatusCode::BAD_REQUEST),
            InvalidQueryStringAuthentication(_) => {
                ("InvalidQueryStringAuthentication", StatusCode::FORBIDDEN)
            }
            SecureTransportRequired => ("SecureTransportRequired", StatusCode::FORBIDDEN),
            MethodNotAllowed { .. } => ("MethodNotAllowed", StatusCode::METHOD_NOT_ALLOWED),
            MultipartUploadInvalidArgument(_) => {
                ("MultipartUploadInvalidArgument", StatusCode::CONFLICT)
            }
            InvalidMultipartUploadState(_) => ("InvalidMultipartUploadState", StatusCode::CONFLICT),
            Internal(_) => ("InternalError", StatusCode::SERVICE_UNAVAILABLE),
            InvalidJob(_) => ("InvalidJob", StatusCode::BAD_REQUEST),
            JobNotFound { .. } => ("JobNotFound", StatusCode::NOT_FOUND),
            InvalidJobState { .. } => ("InvalidJobState", StatusCode::CONFLICT),
            Store(e) => store_code_and_status(e),
        }
    }

    /// Whether the detail is ours, for the log, not the client.
    fn is_internal(&self) -> bool {
        match self {
            Error::Internal(_) => true,
            Error::Store(e) => e.is_internal(),
            _ => false,
        }
    }
}

/// The object service's errors as Manta words them.
fn store_code_and_status(e: &StoreError) -> (&'static str, StatusCode) {
    use StoreError::*;
    match e {
        ConditionFailed { .. } => ("ConcurrentRequest", StatusCode::CONFLICT),
        IsDirectory { .. } => ("OperationNotAllowedOnDirectory", StatusCode::BAD_REQUEST),
        Md5Mismatch { .. } => ("ContentMD5Mismatch", StatusCode::BAD_REQUEST),
        IncompleteBody { .. } | BodyRejected(_) => ("BadRequest", StatusCode::BAD_REQUEST),
        UploadAbandoned => (
            "UploadAbandoned",
            StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        ),
        UploadTimeout { .. } => ("UploadTimeout", StatusCode::REQUEST_TIMEOUT),
        TooLarge { .. } => ("MaxContentLengthExceeded", StatusCode::PAYLOAD_TOO_LARGE),
        RangeNotSatisfiable { .. } => (
            "RequestedRangeNotSatisfiable",
            StatusCode::RANGE_NOT_SATISFIABLE,
        ),
        MultiRange => ("NotImplemented", StatusCode::NOT_IMPLEMENTED),
        NoStorageNodes | NoReachableCopy { .. } | Internal(_) => {
            ("InternalError", StatusCode::SERVICE_UNAVAILABLE)
        }
        NotEnoughSpace { .. } => ("NotEnoughSpace", StatusCode::INSUFFICIENT_STORAGE),
        // Muskie's answer when it cannot reach enough storage nodes.
        NotEnoughCopies { .. } => ("SharksExhausted", StatusCode::SERVICE_UNAVAILABLE),
        AccountNotFound { .. } => ("AccountDoesNotExist", StatusCode::FORBIDDEN),
        AccountExists { .. } => ("EntityAlreadyExists", StatusCode::CONFLICT),
        UserNotFound { .. } => ("UserDoesNotExist", StatusCode::FORBIDDEN),
        // Manta's restCode really carries the "Error" suffix here.
        InvalidArgument(_) => ("InvalidArgumentError", StatusCode::BAD_REQUEST),
        NotFound { .. } => ("ResourceNotFound", StatusCode::NOT_FOUND),
        MetadataUnavailable(_) => ("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
    }
}

impl From<metadata_tier::Error> for Error {
    fn from(e: metadata_tier::Error) -> Self {
        Error::Store(e.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        // Internal detail goes to the log; the client gets a generic message.
        let message = if self.is_internal() {
            tracing::error!(error = %self, code, "request failed");
            match self {
                Error::Store(StoreError::MetadataUnavailable(_)) => "metadata tier unavailable",
                _ => "internal error",
            }
            .to_string()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            code: code.to_string(),
            message,
        };
        let mut resp = crate::manta::respond::json_response(status, &body);
        if let Error::Store(StoreError::RangeNotSatisfiable { size }) = self {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert("content-range", v);
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("30"));
        }
        resp
    }
}
