//! S3 errors: one enum, its S3 code and HTTP status in one `match`, and the
//! XML body (`<Error><Code>..<RequestId>..`) every S3 client parses.

use super::xml::Xml;
use crate::store::Error as StoreError;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

pub(crate) type S3Result<T, E = S3Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("the specified bucket does not exist")]
    NoSuchBucket { bucket: String },
    #[error("the specified key does not exist")]
    NoSuchKey { key: String },
    #[error("the specified multipart upload does not exist")]
    NoSuchUpload { upload_id: String },
    #[error("the bucket you tried to delete is not empty")]
    BucketNotEmpty { bucket: String },
    #[error("the requested bucket name is not available")]
    BucketAlreadyExists { bucket: String },
    #[error("your previous request to create the named bucket succeeded and you already own it")]
    BucketAlreadyOwnedByYou { bucket: String },
    #[error("the specified bucket is not valid: {0}")]
    InvalidBucketName(String),
    #[error("{0}")]
    InvalidPart(String),
    #[error("the list of parts was not in ascending order")]
    InvalidPartOrder,
    #[error("your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall,
    #[error("your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge,
    #[error("the requested range is not satisfiable")]
    InvalidRange { size: u64 },
    #[error("at least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    /// A conditional write that passed its check lost the race to commit
    /// to another write of the key (AWS: retry it).
    #[error(
        "a conflicting operation occurred while this conditional request was in progress; retry"
    )]
    ConditionalRequestConflict,
    #[error("the requested partnumber is not satisfiable")]
    InvalidPartNumber,
    #[error("not modified")]
    NotModified,
    /// What failed to match (`request`, `chunk`): context for logs; the
    /// message is AWS's.
    #[error("The request signature we calculated does not match the signature you provided.")]
    SignatureDoesNotMatch(String),
    #[error("the AWS access key id you provided does not exist in our records")]
    InvalidAccessKeyId,
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// A SigV4 request refused (`AccessDenied`), in the verifier's words:
    /// another scheme, no usable date, a signed header missing.
    #[error("{0}")]
    SignatureRefused(String),
    /// A presigned URL used after `X-Amz-Date` + `X-Amz-Expires`.
    #[error("Request has expired")]
    RequestExpired,
    /// A presigned URL dated more than the allowed skew ahead.
    #[error("Request is not valid yet")]
    RequestNotYetValid,
    #[error("The difference between the request time and the current time is too large.")]
    RequestTimeTooSkewed,
    #[error("{0}")]
    AuthorizationHeaderMalformed(String),
    #[error("{0}")]
    AuthorizationQueryParametersError(String),
    #[error("the XML you provided was not well-formed or did not validate")]
    MalformedXml,
    #[error(
        "the XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedAcl,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the Content-MD5 you specified is not valid")]
    InvalidDigest,
    #[error("the Content-MD5 you specified did not match what we received")]
    BadDigest,
    #[error("the provided x-amz-content-sha256 header does not match what was computed")]
    ContentSha256Mismatch,
    #[error("your key is too long")]
    KeyTooLongError,
    #[error("you did not provide the number of bytes specified by the Content-Length header")]
    IncompleteBody,
    /// An `aws-chunked` body cut short or badly framed (`IncompleteBody`).
    #[error("{0}")]
    IncompleteChunkedBody(String),
    #[error("your socket connection to the server was not read from or written to within the timeout period")]
    RequestTimeout,
    #[error("the specified method is not allowed against this resource")]
    MethodNotAllowed,
    #[error("{0} is not implemented")]
    NotImplemented(String),
    #[error("please reduce your request rate or retry: {0}")]
    ServiceUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl S3Error {
    /// The S3 error code and HTTP status.
    pub(crate) fn code_and_status(&self) -> (&'static str, StatusCode) {
        use S3Error::*;
        use StatusCode as S;
        match self {
            NoSuchBucket { .. } => ("NoSuchBucket", S::NOT_FOUND),
            NoSuchKey { .. } => ("NoSuchKey", S::NOT_FOUND),
            NoSuchUpload { .. } => ("NoSuchUpload", S::NOT_FOUND),
            BucketNotEmpty { .. } => ("BucketNotEmpty", S::CONFLICT),
            BucketAlreadyExists { .. } => ("BucketAlreadyExists", S::CONFLICT),
            BucketAlreadyOwnedByYou { .. } => ("BucketAlreadyOwnedByYou", S::CONFLICT),
            InvalidBucketName(_) => ("InvalidBucketName", S::BAD_REQUEST),
            InvalidPart(_) => ("InvalidPart", S::BAD_REQUEST),
            InvalidPartOrder => ("InvalidPartOrder", S::BAD_REQUEST),
            EntityTooSmall => ("EntityTooSmall", S::BAD_REQUEST),
            EntityTooLarge => ("EntityTooLarge", S::BAD_REQUEST),
            InvalidRange { .. } => ("InvalidRange", S::RANGE_NOT_SATISFIABLE),
            PreconditionFailed => ("PreconditionFailed", S::PRECONDITION_FAILED),
            ConditionalRequestConflict => ("ConditionalRequestConflict", S::CONFLICT),
            InvalidPartNumber => ("InvalidPartNumber", S::RANGE_NOT_SATISFIABLE),
            NotModified => ("NotModified", S::NOT_MODIFIED),
            SignatureDoesNotMatch(_) => ("SignatureDoesNotMatch", S::FORBIDDEN),
            InvalidAccessKeyId => ("InvalidAccessKeyId", S::FORBIDDEN),
            AccessDenied(_) | SignatureRefused(_) => ("AccessDenied", S::FORBIDDEN),
            RequestExpired | RequestNotYetValid => ("AccessDenied", S::FORBIDDEN),
            RequestTimeTooSkewed => ("RequestTimeTooSkewed", S::FORBIDDEN),
            AuthorizationHeaderMalformed(_) => ("AuthorizationHeaderMalformed", S::BAD_REQUEST),
            AuthorizationQueryParametersError(_) => {
                ("AuthorizationQueryParametersError", S::BAD_REQUEST)
            }
            MalformedXml => ("MalformedXML", S::BAD_REQUEST),
            MalformedAcl => ("MalformedACLError", S::BAD_REQUEST),
            InvalidArgument(_) => ("InvalidArgument", S::BAD_REQUEST),
            InvalidRequest(_) => ("InvalidRequest", S::BAD_REQUEST),
            InvalidDigest => ("InvalidDigest", S::BAD_REQUEST),
            BadDigest => ("BadDigest", S::BAD_REQUEST),
            ContentSha256Mismatch => ("XAmzContentSHA256Mismatch", S::BAD_REQUEST),
            KeyTooLongError => ("KeyTooLongError", S::BAD_REQUEST),
            IncompleteBody | IncompleteChunkedBody(_) => ("IncompleteBody", S::BAD_REQUEST),
            RequestTimeout => ("RequestTimeout", S::BAD_REQUEST),
            MethodNotAllowed => ("MethodNotAllowed", S::METHOD_NOT_ALLOWED),
            NotImplemented(_) => ("NotImplemented", S::NOT_IMPLEMENTED),
            ServiceUnavailable(_) => ("ServiceUnavailable", S::SERVICE_UNAVAILABLE),
            Internal(_) => ("InternalError", S::INTERNAL_SERVER_ERROR),
        }
    }

    /// The error as S3 sends it; `resource` is the request path.
    pub(crate) fn into_s3_response(self, resource: &str, request_id: &str) -> Response {
        let (code, status) = self.code_and_status();
        let message = match &self {
            S3Error::Internal(detail) | S3Error::ServiceUnavailable(detail) => {
                tracing::error!(error = %detail, code, "s3 request failed");
                "we encountered an internal error, please try again".to_string()
            }
            other => other.to_string(),
        };
        let body = if status == StatusCode::NOT_MODIFIED {
            Body::empty()
        } else {
            let mut x = Xml::doc();
            x.open("Error");
            x.elem("Code", code);
            x.elem("Message", &message);
            match &self {
                S3Error::NoSuchBucket { bucket }
                | S3Error::BucketNotEmpty { bucket }
                | S3Error::BucketAlreadyExists { bucket }
                | S3Error::BucketAlreadyOwnedByYou { bucket } => x.elem("BucketName", bucket),
                S3Error::NoSuchKey { key } => x.elem("Key", key),
                S3Error::NoSuchUpload { upload_id } => x.elem("UploadId", upload_id),
                _ => {}
            }
            x.elem("Resource", resource);
            x.elem("RequestId", request_id);
            x.close("Error");
            Body::from(x.finish())
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        if status != StatusCode::NOT_MODIFIED {
            h.insert("content-type", HeaderValue::from_static("application/xml"));
        }
        if let S3Error::InvalidRange { size } = self {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                h.insert("content-range", v);
            }
        }
        resp
    }
}

/// The object service's errors as S3 words them: one exhaustive match, so
/// a new store error does not compile until it has an S3 code.
impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        use StoreError as E;
        match e {
            // Conditions are checked before any byte moves (412 there);
            // failing again at commit means another write got in between.
            E::ConditionFailed { .. } => S3Error::ConditionalRequestConflict,
            // S3 keys are never directories; only a Manta path can be one.
            E::IsDirectory { name } => S3Error::InvalidRequest(format!("{name} is a directory")),
            E::Md5Mismatch { .. } => S3Error::BadDigest,
            E::IncompleteBody { .. } | E::UploadAbandoned => S3Error::IncompleteBody,
            E::UploadTimeout { .. } => S3Error::RequestTimeout,
            E::TooLarge { .. } => S3Error::EntityTooLarge,
            // A body check of ours refused the bytes: answer with its error.
            E::BodyRejected(cause) => match cause.downcast::<S3Error>() {
                Ok(e) => *e,
                Err(other) => S3Error::InvalidRequest(other.to_string()),
            },
            E::RangeNotSatisfiable { size } => S3Error::InvalidRange { size },
            E::MultiRange => S3Error::NotImplemented("multiple ranges".into()),
            E::NoStorageNodes
            | E::NotEnoughSpace { .. }
            | E::NotEnoughCopies { .. }
            | E::NoReachableCopy { .. }
            | E::MetadataUnavailable(_) => S3Error::ServiceUnavailable(e.to_string()),
            E::AccountNotFound { .. } | E::UserNotFound { .. } => S3Error::InvalidAccessKeyId,
            E::AccountExists { login } => {
                S3Error::InvalidRequest(format!("account {login} already exists"))
            }
            E::InvalidArgument(m) => S3Error::InvalidArgument(m),
            E::NotFound { name } => S3Error::NoSuchKey { key: name },
            E::Internal(m) => S3Error::Internal(m),
        }
    }
}

impl From<metadata_tier::Error> for S3Error {
    fn from(e: metadata_tier::Error) -> Self {
        S3Error::from(StoreError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SigV4 verifier's errors: the codes, statuses and messages S3
    /// clients have always seen from it.
    #[test]
    fn sigv4_errors_on_the_wire() {
        let cases = [
            (
                S3Error::SignatureDoesNotMatch("request".into()),
                "SignatureDoesNotMatch",
                403,
                "The request signature we calculated does not match the signature you provided.",
            ),
            (
                S3Error::RequestTimeTooSkewed,
                "RequestTimeTooSkewed",
                403,
                "The difference between the request time and the current time is too large.",
            ),
            (
                S3Error::RequestExpired,
                "AccessDenied",
                403,
                "Request has expired",
            ),
            (
                S3Error::RequestNotYetValid,
                "AccessDenied",
                403,
                "Request is not valid yet",
            ),
            (
                S3Error::SignatureRefused("m".into()),
                "AccessDenied",
                403,
                "m",
            ),
            (
                S3Error::AuthorizationHeaderMalformed("m".into()),
                "AuthorizationHeaderMalformed",
                400,
                "m",
            ),
            (
                S3Error::AuthorizationQueryParametersError("m".into()),
                "AuthorizationQueryParametersError",
                400,
                "m",
            ),
            (
                S3Error::IncompleteChunkedBody("m".into()),
                "IncompleteBody",
                400,
                "m",
            ),
        ];
        for (e, code, status, message) in cases {
            let (c, s) = e.code_and_status();
            assert_eq!(
                (c, s.as_u16(), e.to_string().as_str()),
                (code, status, message)
            );
        }
    }
}
