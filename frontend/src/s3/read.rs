//! GetObject and HeadObject: conditional headers, a single Range (which may
//! span the parts of a multipart object), `response-*` overrides; the
//! object service streams the bytes part after part.

use super::records::S3Object;
use super::{store, S3Error, S3Req, S3Result};
use crate::conditional::{Conditions, Current, Outcome};
use crate::store::range::{self, ByteRange};
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
    let b = store::bucket_any(req).await?;
    let key = req.key_name()?;
    let part = match req.has("partNumber") {
        true => Some(super::multipart::part_number(req)?),
        false => None,
    };
    let found = store::object::<S3Object>(req, &b, key).await?;
    store::check_read(req, &b, found.as_ref().map(|(_, o)| o))?;
    let (entry, rec) = found.ok_or_else(|| S3Error::NoSuchKey {
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
    let sel = select(req, &rec, part)?;
    let body = match sel.range {
        _ if req.method == Method::HEAD || rec.size == 0 => Body::empty(),
        Some(r) if r.start > r.end => Body::empty(),
        range => Body::from_stream(req.st.app.store.open_read(key, &rec.parts, range).await?),
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    object_headers(h, &rec, entry.mtime_ms);
    set(h, "content-type", &rec.content_type);
    set(h, "accept-ranges", "bytes");
    match sel.range {
        Some(r) if r.start <= r.end => crate::manta::respond::partial(&mut resp, r, rec.size),
        Some(_) => set(resp.headers_mut(), "content-length", "0"),
        None => set(resp.headers_mut(), "content-length", &rec.size.to_string()),
    }
    let wants_checksum = req
        .header("x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if let (Some((name, value)), true) = (sel.checksum(&rec), wants_checksum) {
        super::objects::checksum_headers(resp.headers_mut(), &name, &value);
    }
    for (param, header) in OVERRIDES {
        if let Some(v) = req.q(param) {
            set(resp.headers_mut(), header, v);
        }
    }
    Ok(resp)
}

/// What a GET serves: the whole object, a `Range`, or one part.
struct Selection {
    /// `start > end` marks an empty part.
    range: Option<ByteRange>,
    part: Option<u32>,
}

impl Selection {
    /// The checksum of what is served: the object's when whole, a part's
    /// own when one part of a multipart object is.
    fn checksum(&self, rec: &S3Object) -> Option<(String, String)> {
        let (name, whole) = rec.checksum.clone()?;
        match (self.part, self.range) {
            (None, None) => Some((name, whole)),
            (Some(n), _) if !is_multipart(rec) && n == 1 => Some((name, whole)),
            (Some(n), _) => {
                let v = rec.part_checksums.get(n as usize - 1)?;
                Some((name, v.clone()))
            }
            (None, Some(_)) => None,
        }
    }
}

pub(crate) fn is_multipart(rec: &S3Object) -> bool {
    rec.etag.contains('-')
}

/// # Errors
/// `InvalidRequest` for both a Range and a part, `InvalidPartNumber` past
/// the last part, `InvalidRange`.
fn select(req: &S3Req, rec: &S3Object, part: Option<u32>) -> S3Result<Selection> {
    let range = match (part, req.header("range")) {
        (Some(_), Some(_)) => {
            return Err(S3Error::InvalidRequest(
                "Cannot specify both Range header and partNumber query parameter".into(),
            ))
        }
        (Some(n), None) => part_range(rec, n)?,
        (None, Some(r)) => Some(range::parse(r, rec.size)?),
        (None, None) => None,
    };
    Ok(Selection { range, part })
}

/// The bytes of part `n` (1-based); a single-part object is its own part 1.
fn part_range(rec: &S3Object, n: u32) -> S3Result<Option<ByteRange>> {
    let sizes: Vec<u64> = if is_multipart(rec) {
        rec.parts.iter().map(|p| p.size()).collect()
    } else {
        vec![rec.size]
    };
    let i = n as usize - 1;
    let size = *sizes.get(i).ok_or(S3Error::InvalidPartNumber)?;
    let start: u64 = sizes[..i].iter().sum();
    if size == 0 {
        // An empty part has no byte range; `start > end` says so.
        return Ok(Some(ByteRange { start: 1, end: 0 }));
    }
    Ok(Some(ByteRange {
        start,
        end: start + size - 1,
    }))
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
        HeaderValue::from_str(&mail_safe(value)),
    ) {
        h.insert(n, v);
    }
}

/// A value with non-ASCII characters as S3 returns it: one RFC 2047
/// encoded word, `=?UTF-8?B?<base64>?=`.
pub(crate) fn mail_safe(value: &str) -> std::borrow::Cow<'_, str> {
    if value.is_ascii() {
        return value.into();
    }
    format!("=?UTF-8?B?{}?=", super::checksum::b64(value.as_bytes())).into()
}
