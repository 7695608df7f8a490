//! S3's error shape: `<Error><Code>..</Code><Message>..</Message>
//! <Resource>..</Resource><RequestId>..</RequestId></Error>` with the HTTP
//! status that goes with each code.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An S3 error: code, status and message; the resource and request id are
/// filled in by the handler that answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    pub code: &'static str,
    pub status: StatusCode,
    pub message: String,
    pub resource: Option<String>,
    pub request_id: Option<String>,
}

impl S3Error {
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        S3Error {
            code,
            status,
            message: message.into(),
            resource: None,
            request_id: None,
        }
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", StatusCode::FORBIDDEN, message)
    }

    pub fn invalid_access_key_id() -> Self {
        Self::new(
            "InvalidAccessKeyId",
            StatusCode::FORBIDDEN,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    }

    pub fn signature_does_not_match() -> Self {
        Self::new(
            "SignatureDoesNotMatch",
            StatusCode::FORBIDDEN,
            "The request signature we calculated does not match the signature you provided.",
        )
    }

    pub fn too_skewed() -> Self {
        Self::new(
            "RequestTimeTooSkewed",
            StatusCode::FORBIDDEN,
            "The difference between the request time and the current time is too large.",
        )
    }

    pub fn header_malformed(message: impl Into<String>) -> Self {
        Self::new(
            "AuthorizationHeaderMalformed",
            StatusCode::BAD_REQUEST,
            message,
        )
    }

    pub fn query_malformed(message: impl Into<String>) -> Self {
        Self::new(
            "AuthorizationQueryParametersError",
            StatusCode::BAD_REQUEST,
            message,
        )
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequest", StatusCode::BAD_REQUEST, message)
    }

    pub fn content_sha256_mismatch() -> Self {
        Self::new(
            "XAmzContentSHA256Mismatch",
            StatusCode::BAD_REQUEST,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    }

    pub fn incomplete_body(message: impl Into<String>) -> Self {
        Self::new("IncompleteBody", StatusCode::BAD_REQUEST, message)
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// The XML body.
    pub fn to_xml(&self) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        s.push_str(&format!("<Code>{}</Code>", self.code));
        s.push_str(&format!("<Message>{}</Message>", xml_escape(&self.message)));
        if let Some(r) = &self.resource {
            s.push_str(&format!("<Resource>{}</Resource>", xml_escape(r)));
        }
        if let Some(id) = &self.request_id {
            s.push_str(&format!("<RequestId>{}</RequestId>", xml_escape(id)));
        }
        s.push_str("</Error>");
        s
    }
}

impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.to_xml()).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/xml"));
        resp
    }
}

/// Text escaped for an XML element, by the S3 API's one escaper.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::s3::xml::escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_s3_xml() {
        let e = S3Error::signature_does_not_match()
            .with_resource("/b/k<1>")
            .with_request_id("r1");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>\
             <Message>The request signature we calculated does not match the signature you provided.</Message>\
             <Resource>/b/k&lt;1&gt;</Resource><RequestId>r1</RequestId></Error>"
        );
        let resp = e.into_response();
        assert_eq!(resp.headers()["content-type"], "application/xml");
    }
}
