//! GetObject and HeadObject: conditional headers, a single Range (which may
//! span the parts of a multipart object), `response-*` overrides, and the
//! bytes streamed part after part from the first copy that answers.

use super::records::{PartRef, S3Object};
use super::{store, S3Error, S3Req, S3Result};
use crate::conditional::{Conditions, Current, Outcome};
use crate::range::{self, ByteRange};
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use storage_node::BlobHash;

/// `response-*` query parameters and the header each overrides.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

pub async fn get(req: &S3Req) -> S3Result<Response> {
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
    let whole = ByteRange {
        start: 0,
        end: rec.size.saturating_sub(1),
    };
    let body = if req.method == Method::HEAD || rec.size == 0 {
        Body::empty()
    } else {
        stream_parts(&req.st.app, &rec.parts, range.unwrap_or(whole)).await?
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

/// A stretch of one part: the part and the inclusive range within it.
#[derive(Clone)]
struct Segment {
    part: PartRef,
    start: u64,
    end: u64,
}

fn segments(parts: &[PartRef], r: ByteRange) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut off = 0u64;
    for p in parts {
        let (first, last) = (off, off + p.size);
        off = last;
        if p.size == 0 || last <= r.start || first > r.end {
            continue;
        }
        out.push(Segment {
            part: p.clone(),
            start: r.start.max(first) - first,
            end: r.end.min(last - 1) - first,
        });
    }
    out
}

type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Streams the range across the parts. The first part is opened before the
/// response starts (an unreadable object is a 503); later failures can only
/// cut the body short, never send wrong bytes.
pub async fn stream_parts(app: &AppState, parts: &[PartRef], r: ByteRange) -> S3Result<Body> {
    let segs = segments(parts, r);
    let Some((first, rest)) = segs.split_first() else {
        return Ok(Body::empty());
    };
    let head = open(app, first).await?;
    let app = app.clone();
    let tail = stream::iter(rest.to_vec())
        .then(move |seg| {
            let app = app.clone();
            async move { open(&app, &seg).await.map_err(std::io::Error::other) }
        })
        .try_flatten();
    Ok(Body::from_stream(head.chain(tail)))
}

async fn open(app: &AppState, seg: &Segment) -> S3Result<ByteStream> {
    let hex = seg.part.blob.as_deref().unwrap_or_default();
    let hash = BlobHash::from_hex(hex)
        .ok_or_else(|| S3Error::Internal(format!("bad blob hash {hex:?} in record")))?;
    let full = seg.start == 0 && seg.end + 1 == seg.part.size;
    let range = (!full).then_some((seg.start, seg.end));
    for t in app.placement.read_order(&seg.part.sharks).await? {
        match app.storage.get(&t.addr, &hash, range).await {
            Ok(resp) => return Ok(resp.bytes_stream().map_err(std::io::Error::other).boxed()),
            Err(e) => {
                tracing::warn!(node = %t.id, blob = %hash, error = %e, "copy unreadable, trying next")
            }
        }
    }
    Err(S3Error::ServiceUnavailable(format!(
        "no copy of blob {hash} could be read"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(size: u64) -> PartRef {
        PartRef {
            blob: Some("x".into()),
            size,
            sharks: vec![],
        }
    }

    #[test]
    fn ranges_across_parts() {
        let parts = [p(10), p(0), p(10), p(5)];
        let s = segments(&parts, ByteRange { start: 5, end: 21 });
        let got: Vec<(u64, u64, u64)> = s.iter().map(|s| (s.part.size, s.start, s.end)).collect();
        assert_eq!(got, vec![(10, 5, 9), (10, 0, 9), (5, 0, 1)]);
        let s = segments(&parts, ByteRange { start: 0, end: 24 });
        assert_eq!(s.len(), 3);
        let s = segments(&parts, ByteRange { start: 24, end: 24 });
        assert_eq!((s[0].start, s[0].end), (4, 4));
    }
}
