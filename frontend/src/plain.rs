//! The plain-HTTP listeners beside TLS ones (`plain_listen`,
//! `s3_plain_listen`), as Manta's insecure port: they serve only what puts
//! no reusable credential on the wire, and refuse the rest before it is
//! authenticated or routed, in one middleware per API:
//!
//! - Manta: `GET`/`HEAD`/`OPTIONS` under `/:login/public`, `/ping`, and
//!   requests authenticated by a signed URL (its signature covers one
//!   method and path, and expires); anything else gets `403
//!   SecureTransportRequired` (Manta's JSON error);
//! - S3: presigned requests (SigV4 or SigV2 query); anything else gets
//!   `403 AccessDenied` (S3's XML error).
//!
//! A request with an `Authorization` header is refused even for a public
//! path: an HTTP Signature over `date` alone would, once seen on the
//! wire, authenticate any other request sent with that date within the
//! allowed clock skew. So is one carrying a job task's credential
//! (`jobs::task_token`): it names no method or path, and is good for the
//! task's hour; agents send it only where the API speaks TLS (or where
//! nothing does). The signature of a signed URL is checked by the API as
//! on the TLS listener; this only decides which requests may try.

use crate::error::Error;
use crate::path::MantaPath;
use crate::s3::S3Error;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Runs a Manta request only if plain HTTP may carry it.
pub(crate) async fn manta(req: Request, next: Next) -> Response {
    if manta_allows(req.method(), req.uri(), req.headers()) {
        next.run(req).await
    } else {
        Error::SecureTransportRequired.into_response()
    }
}

/// Runs an S3 request only if plain HTTP may carry it.
pub(crate) async fn s3(req: Request, next: Next) -> Response {
    if s3_allows(req.uri(), req.headers()) {
        return next.run(req).await;
    }
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let why = "this listener serves presigned URLs only; use HTTPS";
    let mut resp = S3Error::AccessDenied(why.into()).into_s3_response(req.uri().path(), &id);
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amz-request-id", v);
    }
    resp
}

fn manta_allows(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    if headers.contains_key("authorization") || headers.contains_key(jobs::task_token::HEADER) {
        return false;
    }
    if uri.path() == "/ping" {
        return true;
    }
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    // Parsed as the API parses it, so `/a/public/../stor` is not public.
    let public = MantaPath::parse(uri.path()).is_ok_and(|p| p.tree.as_deref() == Some("public"));
    (read && public) || crate::auth::presign::is_presigned(&crate::auth::presign::query_pairs(uri))
}

fn s3_allows(uri: &Uri, headers: &HeaderMap) -> bool {
    if headers.contains_key("authorization") {
        return false;
    }
    let pairs = crate::auth::presign::query_pairs(uri);
    let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
    let v4 = has("X-Amz-Signature") || has("X-Amz-Credential");
    let v2 = has("AWSAccessKeyId") || has("Signature");
    v4 || v2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manta(method: Method, uri: &str, auth: bool) -> bool {
        let mut h = HeaderMap::new();
        if auth {
            h.insert("authorization", "Signature keyId=\"x\"".parse().unwrap());
        }
        manta_allows(&method, &uri.parse().unwrap(), &h)
    }

    #[test]
    fn task_credentials_never_ride_plain_http() {
        let mut h = HeaderMap::new();
        h.insert(jobs::task_token::HEADER, "v1 al j t 1 mac".parse().unwrap());
        for uri in ["/ping", "/al/public/x", "/al/stor/x?signature=s&keyId=k"] {
            assert!(
                !manta_allows(&Method::GET, &uri.parse().unwrap(), &h),
                "{uri}"
            );
        }
    }

    #[test]
    fn manta_public_reads_and_signed_urls_only() {
        assert!(manta(Method::GET, "/ping", false));
        assert!(manta(Method::GET, "/al/public/x", false));
        assert!(manta(Method::HEAD, "/al/public", false));
        assert!(manta(Method::GET, "/al/stor/x?signature=s&keyId=k", false));
        assert!(manta(
            Method::PUT,
            "/al/stor/x?expires=1&signature=s",
            false
        ));
        assert!(!manta(Method::PUT, "/al/public/x", false));
        assert!(!manta(Method::GET, "/al/stor/x", false));
        assert!(!manta(Method::GET, "/al/public/../stor/x", false));
        assert!(!manta(Method::GET, "/al/public/x", true));
        assert!(!manta(Method::GET, "/al/stor/x?signature=s", true));
    }

    #[test]
    fn s3_presigned_only() {
        let ok = |q: &str, auth: bool| {
            let mut h = HeaderMap::new();
            if auth {
                h.insert("authorization", "AWS4-HMAC-SHA256 x".parse().unwrap());
            }
            s3_allows(&format!("/b/k{q}").parse().unwrap(), &h)
        };
        assert!(ok("?X-Amz-Algorithm=a&X-Amz-Signature=s", false));
        assert!(ok("?AWSAccessKeyId=a&Expires=1&Signature=s", false));
        assert!(!ok("", false));
        assert!(!ok("?X-Amz-Signature=s", true));
        assert!(!ok("?list-type=2", false));
    }
}
