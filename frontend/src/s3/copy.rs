//! CopyObject and UploadPartCopy (the new key or part shares the source's
//! blobs: no bytes move, unless a byte range of the source is asked for),
//! and DeleteObjects.

use super::checksum::{Algorithm, Requested, Source};
use super::checksum_body::checked;
use super::multipart::{part_number, save_part, upload};
use super::objects::{commit, content_type, stored_headers, write_condition};
use super::records::S3Object;
use super::records::UploadRecord;
use super::store::{self, object_key};
use super::xml::{self, Xml};
use super::{S3Error, S3Req, S3Result};
use crate::conditional::{Conditions, Current, Outcome};
use crate::store::range::ByteRange;
use crate::store::{Copies, Expect, Stored, WriteCond};
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use futures::StreamExt;
use metadata_tier::wire::Entry;
use percent_encoding::percent_decode_str;

const MAX_DELETE_BODY: usize = 2 << 20;

/// The source object of `x-amz-copy-source` (`[/]bucket/key[?versionId=]`),
/// after its `x-amz-copy-source-if-*` conditions.
async fn source(req: &S3Req) -> S3Result<(String, String, Entry, S3Object)> {
    let raw = req.header("x-amz-copy-source").unwrap_or_default();
    let raw = raw.split_once('?').map_or(raw, |(p, _)| p);
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| S3Error::InvalidArgument("copy source is not UTF-8".into()))?;
    let (bucket, key) = decoded
        .trim_start_matches('/')
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(|| S3Error::InvalidArgument("invalid copy source".into()))?;
    let b = super::access::lookup(req, bucket).await?;
    store::expect_owner(req, &b, "x-amz-source-expected-bucket-owner")?;
    let found = store::object::<S3Object>(req, &b, key).await?;
    store::check_read(req, &b, found.as_ref().map(|(_, o)| o))?;
    let (entry, rec) = found.ok_or_else(|| S3Error::NoSuchKey {
        key: key.to_string(),
    })?;
    let mut h = HeaderMap::new();
    for name in [
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    ] {
        if let Some(v) = req.headers.get(format!("x-amz-copy-source-{name}")) {
            h.insert(name, v.clone());
        }
    }
    let cur = Current {
        etag: &rec.etag,
        mtime_ms: entry.mtime_ms,
    };
    if Conditions::from_headers(&h).check(Some(cur), false) != Outcome::Proceed {
        return Err(S3Error::PreconditionFailed);
    }
    Ok((bucket.to_string(), key.to_string(), entry, rec))
}

fn copy_result(root: &str, etag: &str, mtime_ms: u64) -> Response {
    let mut x = Xml::doc();
    x.root(root);
    x.elem("LastModified", &crate::time::iso8601(mtime_ms));
    x.elem("ETag", &format!("\"{etag}\""));
    x.close(root);
    x.response()
}

pub(crate) async fn copy_object(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let key = req.key_name()?;
    store::validate_key(key)?;
    let (src_bucket, src_key, _, src) = source(req).await?;
    let replace = req
        .header("x-amz-metadata-directive")
        .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
    if !replace && src_bucket == b.name && src_key == key {
        return Err(S3Error::InvalidRequest(
            "this copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata"
                .into(),
        ));
    }
    let (content_type, headers) = if replace {
        (content_type(&req.headers), stored_headers(&req.headers)?)
    } else {
        (src.content_type.clone(), src.headers.clone())
    };
    // A copy does not keep the source's ACL: it gets its own.
    let rec = S3Object {
        content_type,
        headers,
        request_id: req.request_id.clone(),
        acl: super::acl::requested(req)?,
        ..src
    };
    let cond = write_condition(req, &b, key).await?;
    req.st.app.store.pin(key, &rec.parts).await?;
    let entry = commit(req, &b, key, &rec, cond).await?;
    Ok(copy_result("CopyObjectResult", &rec.etag, entry.mtime_ms))
}

pub(crate) async fn upload_part_copy(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let n = part_number(req)?;
    let up = upload(req, &b).await?;
    let (_, _, _, src) = source(req).await?;
    let range = match req.header("x-amz-copy-source-range") {
        Some(r) => Some(copy_range(r, src.size)?),
        None => None,
    };
    // The upload's algorithm: the part needs a value of it.
    let want = part_checksum_algorithm(&up);
    let kept = match (&range, src.parts.as_slice()) {
        (None, [only]) => hex_md5(&src.etag)
            .zip(reusable_checksum(&src, want))
            .map(|(md5, sum)| ((only.clone(), md5), sum)),
        _ => None,
    };
    let (written, sum) = match kept {
        Some(s) => {
            let name = req.header("x-amz-copy-source").unwrap_or_default();
            req.st
                .app
                .store
                .pin(name, std::slice::from_ref(&(s.0).0))
                .await?;
            s
        }
        None => copy_bytes(req, &src, range, want).await?,
    };
    let md5 = written.1;
    let resp = save_part(req, &b, &up, n, written, sum).await?;
    let etag = hex::encode(md5);
    let mut out = copy_result("CopyPartResult", &etag, crate::time::now_ms());
    if let Some(v) = resp.headers().get("etag") {
        out.headers_mut().insert("etag", v.clone());
    }
    Ok(out)
}

fn hex_md5(etag: &str) -> Option<[u8; 16]> {
    hex::decode(etag).ok()?.try_into().ok()
}

/// `x-amz-copy-source-range`: `bytes=first-last`, both given, within the
/// source.
///
/// # Errors
/// `InvalidArgument` for another form, `InvalidRange` past the source's end.
fn copy_range(v: &str, size: u64) -> S3Result<ByteRange> {
    let malformed = || {
        S3Error::InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first \
             and last are the zero-based offsets of the first and last bytes to copy"
                .into(),
        )
    };
    let num = |s: &str| -> S3Result<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        s.parse().map_err(|_| malformed())
    };
    let spec = v.trim().strip_prefix("bytes=").ok_or_else(malformed)?;
    let (a, b) = spec.split_once('-').ok_or_else(malformed)?;
    let (start, end) = (num(a)?, num(b)?);
    if start > end {
        return Err(malformed());
    }
    if end >= size {
        return Err(S3Error::InvalidRange { size });
    }
    Ok(ByteRange { start, end })
}

fn part_checksum_algorithm(up: &UploadRecord) -> Option<Algorithm> {
    up.checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)
}

/// What a part sharing the whole source's blob records as its checksum:
/// nothing when the upload wants none; the source's own full value when it
/// is of the wanted algorithm; else the bytes must be read (`None`).
fn reusable_checksum(src: &S3Object, want: Option<Algorithm>) -> Option<Option<(String, String)>> {
    let Some(a) = want else { return Some(None) };
    match &src.checksum {
        Some((h, v)) if Algorithm::from_header(h) == Some(a) && !v.contains('-') => {
            Some(Some((h.clone(), v.clone())))
        }
        _ => None,
    }
}

type Copied = ((Stored, [u8; 16]), Option<(String, String)>);

/// A range (or a multipart source) becomes a new blob: these bytes move,
/// and a checksum of `want` is computed on the way.
async fn copy_bytes(
    req: &S3Req,
    src: &S3Object,
    range: Option<ByteRange>,
    want: Option<Algorithm>,
) -> S3Result<Copied> {
    let app = &req.st.app;
    let sum = |body: Body| match want {
        Some(algorithm) => {
            let r = Requested {
                algorithm,
                source: Source::Compute,
            };
            let (body, v) = checked(body, &r, &req.trailers);
            (body, Some(v))
        }
        None => (body, None),
    };
    if src.size == 0 {
        let expect = store::expect_empty(req);
        let (body, v) = sum(Body::empty());
        let w = app.store.write_blob(body, Copies::Default, &expect).await?;
        return Ok(((w.stored, w.md5), v.and_then(|v| v.get())));
    }
    let r = range.unwrap_or(ByteRange {
        start: 0,
        end: src.size - 1,
    });
    let name = req.header("x-amz-copy-source").unwrap_or_default();
    let bytes = app.store.open_read(name, &src.parts, Some(r)).await?;
    let expect = Expect {
        len: Some(r.count()),
        ..store::expect_empty(req)
    };
    let (body, v) = sum(Body::from_stream(bytes));
    let w = app.store.write_blob(body, Copies::Default, &expect).await?;
    Ok(((w.stored, w.md5), v.and_then(|v| v.get())))
}

pub(crate) async fn delete_objects(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let raw = store::read_small(body, MAX_DELETE_BODY).await?;
    let doc = std::str::from_utf8(&raw).map_err(|_| S3Error::MalformedXml)?;
    let quiet = xml::text(doc, "Quiet")?.is_some_and(|q| q.trim() == "true");
    let mut keys = Vec::new();
    for o in xml::elements(doc, "Object")? {
        keys.push(xml::text(o, "Key")?.ok_or(S3Error::MalformedXml)?);
    }
    if keys.is_empty() || keys.len() > 1000 {
        return Err(S3Error::MalformedXml);
    }
    let store = &req.st.app.store;
    let results: Vec<(String, Result<(), S3Error>)> = futures::stream::iter(keys)
        .map(|k| {
            let key = object_key(&b, &k);
            async move {
                let r = store.delete_record(key, &k, WriteCond::Replace).await;
                (k, r.map_err(S3Error::from))
            }
        })
        .buffered(32)
        .collect()
        .await;
    let mut x = Xml::doc();
    x.root("DeleteResult");
    for (k, r) in results {
        match r {
            Ok(()) if quiet => {}
            Ok(()) => {
                x.open("Deleted");
                x.elem("Key", &k);
                x.close("Deleted");
            }
            Err(e) => {
                x.open("Error");
                x.elem("Key", &k);
                x.elem("Code", e.code_and_status().0);
                x.elem("Message", &e.to_string());
                x.close("Error");
            }
        }
    }
    x.close("DeleteResult");
    Ok(x.response())
}
