//! The SDK's error type: Manta's error code when the server sent one,
//! otherwise what went wrong on this side.

use crate::types::ErrorBody;
use crate::verify::Mismatch;

/// Result alias of the SDK.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything an SDK call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status; `code` is Manta's wire code
    /// (`ResourceNotFound`, `DirectoryNotEmpty`...).
    #[error("{code}: {message}")]
    Manta {
        status: u16,
        code: String,
        message: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No usable signing key, or signing failed.
    #[error("{0}")]
    Key(String),
    /// Missing or invalid configuration (MANTA_URL, MANTA_USER...).
    #[error("{0}")]
    Config(String),
    /// A path that is not absolute after `~~` expansion.
    #[error("{0} is not a valid Manta path (paths start with / or ~~)")]
    InvalidPath(String),
    /// The body received is not the one the server said it sent: its
    /// length, BLAKE3 or MD5 differ (the last item of a body stream).
    #[error("{path}: {mismatch}")]
    Checksum { path: String, mismatch: Mismatch },
    /// A response this client cannot read.
    #[error("{0}")]
    Protocol(String),
}

impl Error {
    /// Manta's error code, or a name for a local failure.
    pub fn code(&self) -> &str {
        match self {
            Error::Manta { code, .. } => code,
            Error::Http(_) => "RequestError",
            Error::Io(_) => "IOError",
            Error::Key(_) => "KeyError",
            Error::Config(_) => "ConfigError",
            Error::InvalidPath(_) => "InvalidPath",
            Error::Checksum { .. } => "ChecksumError",
            Error::Protocol(_) => "ProtocolError",
        }
    }

    /// The message without the code; for a failed request, with its
    /// causes (where a refused certificate or a reset connection shows).
    pub fn message(&self) -> String {
        match self {
            Error::Manta { message, .. } => message.clone(),
            Error::Http(e) => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                text
            }
            Error::Checksum { mismatch, .. } => mismatch.to_string(),
            other => other.to_string(),
        }
    }

    /// HTTP status of a server error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Manta { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for 404s (`ResourceNotFound`, `DirectoryDoesNotExist`...).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// An error from a status and the body the server sent (which may be
    /// empty, as on `HEAD`).
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => Error::Manta {
                status,
                code: b.code,
                message: b.message,
            },
            Err(_) => Error::Manta {
                status,
                code: code_for_status(status).to_string(),
                message: format!("HTTP {status}"),
            },
        }
    }
}

/// The code used when the server sent no body (HEAD, proxies).
fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "AuthorizationRequired",
        403 => "Forbidden",
        404 => "ResourceNotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        412 => "PreconditionFailed",
        416 => "RequestedRangeNotSatisfiable",
        503 => "ServiceUnavailable",
        _ => "InternalError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_code_wins_over_status() {
        let e = Error::from_response(400, br#"{"code":"DirectoryNotEmpty","message":"x"}"#);
        assert_eq!(e.code(), "DirectoryNotEmpty");
        assert_eq!(e.to_string(), "DirectoryNotEmpty: x");
    }

    #[test]
    fn empty_body_maps_status() {
        let e = Error::from_response(404, b"");
        assert_eq!(e.code(), "ResourceNotFound");
        assert!(e.is_not_found());
    }
}
