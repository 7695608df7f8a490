//! Building responses: JSON bodies as muskie formats them, and the headers an
//! object or directory answers with.

use crate::records::ObjectRecord;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use md5::{Digest, Md5};
use serde::Serialize;

/// A JSON response with `Content-Length` and `Content-MD5`, as muskie's
/// `formatJSON` sends every JSON body.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let md5 = crate::store::upload::b64(&Md5::digest(&body));
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    set(h, "content-md5", &md5);
    resp
}

pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// Inserts a header if the value is representable (stored values were
/// checked on the way in, so a failure here only drops a bad header).
pub(crate) fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        h.insert(n, v);
    }
}

/// Makes `resp` a 206 for `range` of an object of `size` bytes.
pub(crate) fn partial(resp: &mut Response, range: crate::store::range::ByteRange, size: u64) {
    *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    let h = resp.headers_mut();
    set(
        h,
        "content-range",
        &format!("bytes {}-{}/{size}", range.start, range.end),
    );
    set(h, "content-length", &range.count().to_string());
}

/// The BLAKE3 of the whole object, which a client checks the bytes it
/// received against: the name of its one blob, or of no blob when empty.
/// A committed multipart upload is several blobs and has none (clients
/// check its `Content-MD5`).
pub(crate) fn content_blake3(rec: &ObjectRecord) -> Option<String> {
    match rec.contents() {
        [one] => Some(match one.blob() {
            Some(b) => b.hash.to_hex(),
            None => blake3::hash(b"").to_hex().to_string(),
        }),
        _ => None,
    }
}

/// Headers describing an entry on GET/HEAD (and Etag/Last-Modified on 304).
pub(crate) fn entry_headers(h: &mut HeaderMap, rec: &ObjectRecord, mtime_ms: u64) {
    set(h, "last-modified", &crate::time::http_date(mtime_ms));
    for (k, v) in &rec.headers {
        set(h, k, v);
    }
    if !rec.is_dir() {
        set(h, "etag", &rec.etag);
        set(h, "durability-level", &rec.durability().to_string());
    }
}
