//! PutObject and DeleteObject, and what object writes share: the stored
//! headers, conditional writes (`If-None-Match: *`, `If-Match`) and the
//! commit of a record.

use super::buckets::empty;
use super::records::{BucketRecord, S3Object, S3_RECORD_VERSION};
use super::store::{self, object_key};
use super::{S3Error, S3Req, S3Result};
use crate::store::{Copies, WriteCond, Written};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use metadata_tier::wire::Entry;
use std::collections::BTreeMap;

/// S3's limit on the size of user metadata.
const MAX_USER_META_BYTES: usize = 2048;
/// Standard headers an object keeps and returns.
const STORED_HEADERS: [&str; 6] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-website-redirect-location",
];

pub(crate) async fn put(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let acl = super::acl::requested(req)?;
    let key = req.key_name()?;
    store::validate_key(key)?;
    let expect = store::expect(req)?;
    let headers = stored_headers(&req.headers)?;
    let cond = write_condition(req, &b, key).await?;
    let (body, verified) = match super::checksum::requested(&req.headers)? {
        Some(c) => {
            let (body, v) = super::checksum_body::checked(body, &c, &req.trailers);
            (body, Some(v))
        }
        None => (body, None),
    };
    let build = |w: Written| S3Object {
        v: S3_RECORD_VERSION,
        etag: hex::encode(w.md5),
        size: w.stored.size(),
        content_type: content_type(&req.headers),
        parts: vec![w.stored],
        headers,
        request_id: req.request_id.clone(),
        checksum: verified.and_then(|v| v.get()),
        part_checksums: Vec::new(),
        acl,
    };
    let (rec, _) = req
        .st
        .app
        .store
        .put(
            object_key(&b, key),
            key,
            body,
            Copies::Default,
            &expect,
            cond,
            build,
        )
        .await?;
    let mut resp = etag_response(&rec.etag);
    if let Some((name, value)) = &rec.checksum {
        checksum_headers(resp.headers_mut(), name, value);
    }
    Ok(resp)
}

/// `x-amz-checksum-<algorithm>` and `x-amz-checksum-type`, as writes and
/// reads answer them.
pub(crate) fn checksum_headers(h: &mut HeaderMap, name: &str, value: &str) {
    let kind = super::crc_combine::Kind::of_value(value).name();
    if let (Ok(n), Ok(v)) = (
        axum::http::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        h.insert(n, v);
        h.insert("x-amz-checksum-type", HeaderValue::from_static(kind));
    }
}

/// A 200 carrying `ETag` (given without quotes).
pub(crate) fn etag_response(etag: &str) -> Response {
    let mut resp = empty(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        resp.headers_mut().insert("etag", v);
    }
    resp
}

pub(crate) fn content_type(h: &HeaderMap) -> String {
    h.get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("binary/octet-stream")
        .to_string()
}

/// `x-amz-meta-*` and the standard headers S3 keeps with an object.
///
/// # Errors
/// `InvalidArgument` for a value that is not UTF-8, metadata over 2 KiB.
pub(crate) fn stored_headers(h: &HeaderMap) -> S3Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut meta_bytes = 0;
    for (name, value) in h {
        let n = name.as_str();
        let user = n.starts_with("x-amz-meta-");
        if !user && !STORED_HEADERS.contains(&n) {
            continue;
        }
        // UTF-8 is kept as sent (and returned RFC 2047-encoded, as S3
        // does); an RFC 2047 value from an SDK is ASCII and kept verbatim.
        let mut v = std::str::from_utf8(value.as_bytes())
            .map_err(|_| S3Error::InvalidArgument(format!("header {n} is not UTF-8")))?
            .to_string();
        if n == "content-encoding" {
            // `aws-chunked` describes this request's framing, not the object.
            v = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            if v.is_empty() {
                continue;
            }
        }
        if user {
            meta_bytes += n.len() - "x-amz-meta-".len() + v.len();
            if meta_bytes > MAX_USER_META_BYTES {
                return Err(S3Error::InvalidArgument(
                    "your metadata headers exceed the maximum allowed metadata size".into(),
                ));
            }
        }
        out.insert(n.to_string(), v);
    }
    Ok(out)
}

/// The condition a write of `key` must commit under: `If-None-Match: *`
/// (create only) and `If-Match: <etag>` are checked now, to fail before any
/// byte moves, and again atomically at commit.
///
/// # Errors
/// `PreconditionFailed`, `NoSuchKey` for `If-Match` on a missing key.
pub(crate) async fn write_condition(
    req: &S3Req,
    b: &BucketRecord,
    key: &str,
) -> S3Result<WriteCond> {
    let none_match = req.header("if-none-match").map(str::trim);
    let if_match = req.header("if-match").map(|v| v.trim().trim_matches('"'));
    if none_match.is_none() && if_match.is_none() {
        return Ok(WriteCond::Replace);
    }
    let current = store::object::<S3Object>(req, b, key).await?;
    match (none_match, if_match, current) {
        (Some("*"), _, Some(_)) => Err(S3Error::PreconditionFailed),
        (Some("*"), _, None) => Ok(WriteCond::Create),
        (Some(_), _, _) => Err(S3Error::NotImplemented("If-None-Match other than *".into())),
        (None, Some(_), None) => Err(S3Error::NoSuchKey {
            key: key.to_string(),
        }),
        (None, Some(want), Some((entry, rec))) if want == "*" || want == rec.etag => {
            Ok(WriteCond::Matches(entry.etag))
        }
        (None, _, _) => Err(S3Error::PreconditionFailed),
    }
}

/// Writes the record of `key`.
///
/// # Errors
/// `PreconditionFailed` when `cond` no longer holds; metadata errors.
pub(crate) async fn commit(
    req: &S3Req,
    b: &BucketRecord,
    key: &str,
    rec: &S3Object,
    cond: WriteCond,
) -> S3Result<Entry> {
    let store = &req.st.app.store;
    Ok(store
        .write_record(object_key(b, key), key, rec, cond)
        .await?)
}

/// DeleteObject: 204 whether or not the key existed, as S3 answers. The
/// blobs stay for garbage collection (copies may share them).
pub(crate) async fn delete(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let key = req.key_name()?;
    let cond = match req.header("if-match") {
        None => WriteCond::Replace,
        Some(_) => write_condition(req, &b, key).await?,
    };
    let store = &req.st.app.store;
    store.delete_record(object_key(&b, key), key, cond).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
