//! Why the console refuses a request: JSON `{"code", "message"}` as the
//! Manta API answers, with the API's own errors passed through unchanged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("not signed in (run mconsole for a sign-in link)")]
    NotSignedIn,
    #[error("{0}")]
    InvalidLoginLink(String),
    #[error("this sign-in link was already used; run mconsole for a new one")]
    LoginLinkUsed,
    #[error("the x-console-csrf header is missing or wrong")]
    CsrfTokenInvalid,
    #[error("requests that change anything must come from this server's pages")]
    OriginNotAllowed,
    #[error("only operator accounts see the cluster")]
    NotOperator,
    #[error("{0}")]
    InvalidShareLink(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("metadata tier: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Api(#[from] crate::error::Error),
}

impl Refusal {
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            Refusal::NotSignedIn => ("NotSignedIn", StatusCode::UNAUTHORIZED),
            Refusal::InvalidLoginLink(_) => ("InvalidLoginLink", StatusCode::FORBIDDEN),
            Refusal::LoginLinkUsed => ("LoginLinkUsed", StatusCode::FORBIDDEN),
            Refusal::CsrfTokenInvalid => ("CsrfTokenInvalid", StatusCode::FORBIDDEN),
            Refusal::OriginNotAllowed => ("OriginNotAllowed", StatusCode::FORBIDDEN),
            Refusal::NotOperator => ("NotOperator", StatusCode::FORBIDDEN),
            Refusal::InvalidShareLink(_) => ("InvalidShareLink", StatusCode::FORBIDDEN),
            Refusal::InvalidArgument(_) => ("InvalidArgument", StatusCode::BAD_REQUEST),
            Refusal::Unavailable(_) => ("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
            Refusal::Api(_) => ("InternalError", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl From<metadata_tier::Error> for Refusal {
    fn from(e: metadata_tier::Error) -> Self {
        tracing::warn!(error = %e, "console: metadata");
        Refusal::Unavailable("try again".into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if let Refusal::Api(e) = self {
            return e.into_response();
        }
        let (code, status) = self.code_and_status();
        let body = serde_json::json!({"code": code, "message": self.to_string()});
        (status, axum::Json(body)).into_response()
    }
}

pub(crate) type Result<T, E = Refusal> = std::result::Result<T, E>;
