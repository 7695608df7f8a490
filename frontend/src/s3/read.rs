//! GetObject and HeadObject: conditional headers, a single Range (which may
//! span the parts of a multipart object), `response-*` overrides; the
//! object service streams the bytes part after part.

use super::records::S3Object;
use super::{store, S3Error, S3Req, S3Result};
use crate::conditional::{Conditions, Current, Outcome};
use crate::store::range;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;

/// `response-*` query parameters and the header each overrides.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

pub(crate) async fn get(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket(req).await?;
    let key = req.key_name()?;
    let (entry, rec) = store::object::<S3Object>(req, &b, key)
        .await?
        .ok_or_else(|| S3Error::NoSuchKey {
            key: key.to_string(),
        })?;
    let cur = Current {
        etag: &rec.etag,
        mtime_ms: entry.mtime_ms,
    };
    match Conditions::from_headers(&req.headers).check(Some(cur), true) {
        Outcome::Proceed => {}
        Outcome::NotModified => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NOT_MODIFIED;
            object_headers(resp.headers_mut(), &rec, entry.mtime_ms);
            return Ok(resp);
        }
        Outcome::PreconditionFailed => return Err(S3Error::PreconditionFailed),
    }
    let range = match req.header("range") {
        Some(r) => Some(range::parse(r, rec.size)?),
        None => None,
    };
    let body = if req.method == Method::HEAD || rec.size == 0 {
        Body::empty()
    } else {
        Body::from_stream(req.st.app.store.open_read(key, &rec.parts, range).await?)
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    object_headers(h, &rec, entry.mtime_ms);
    set(h, "content-type", &rec.content_type);
    set(h, "accept-ranges", "bytes");
    match range {
        Some(r) => crate::manta::respond::partial(&mut resp, r, rec.size),
        None => set(resp.headers_mut(), "content-length", &rec.size.to_string()),
    }
    let wants_checksum = req
        .header("x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if let (Some((name, value)), None, true) = (&rec.checksum, range, wants_checksum) {
        set(resp.headers_mut(), name, value);
    }
    for (param, header) in OVERRIDES {
        if let Some(v) = req.q(param) {
            set(resp.headers_mut(), header, v);
        }
    }
    Ok(resp)
}

fn object_headers(h: &mut HeaderMap, rec: &S3Object, mtime_ms: u64) {
    set(h, "etag", &rec.quoted_etag());
    set(h, "last-modified", &crate::time::http_date(mtime_ms));
    for (k, v) in &rec.headers {
        set(h, k, v);
    }
    if rec.etag.contains('-') {
        set(h, "x-amz-mp-parts-count", &rec.parts.len().to_string());
    }
}

fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        h.insert(n, v);
    }
}
