//! GetObjectAttributes (`GET /bucket/key?attributes`): the attributes
//! `x-amz-object-attributes` names (ETag, Checksum, ObjectParts,
//! StorageClass, ObjectSize), with the parts paged by `x-amz-max-parts`
//! and `x-amz-part-number-marker`, in AWS's XML.

use super::crc_combine::Kind;
use super::read::is_multipart;
use super::records::S3Object;
use super::xml::Xml;
use super::{store, S3Error, S3Req, S3Result};
use crate::store::Stored;
use axum::http::HeaderValue;
use axum::response::Response;

const NAMES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];
const MAX_PARTS: usize = 1000;

pub(crate) async fn get(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_any(req).await?;
    let key = req.key_name()?;
    let wanted = requested(req)?;
    let paging = paging(req)?;
    let found = store::object::<S3Object>(req, &b, key).await?;
    store::check_read(req, &b, found.as_ref().map(|(_, o)| o))?;
    let (entry, rec) = found.ok_or_else(|| S3Error::NoSuchKey {
        key: key.to_string(),
    })?;
    let has = |n: &str| wanted.iter().any(|w| w == n);
    let mut x = Xml::doc();
    x.root("GetObjectAttributesResponse");
    if has("ETag") {
        x.elem("ETag", &rec.etag);
    }
    if let (true, Some((name, value))) = (has("Checksum"), &rec.checksum) {
        if let Some(a) = super::checksum::Algorithm::from_header(name) {
            x.open("Checksum");
            x.elem(a.xml(), value);
            x.elem("ChecksumType", Kind::of_value(value).name());
            x.close("Checksum");
        }
    }
    if has("ObjectParts") && is_multipart(&rec) {
        object_parts(&mut x, &rec, paging);
    }
    if has("StorageClass") {
        x.elem("StorageClass", "STANDARD");
    }
    if has("ObjectSize") {
        x.elem("ObjectSize", &rec.size.to_string());
    }
    x.close("GetObjectAttributesResponse");
    let mut resp = x.response();
    if let Ok(v) = HeaderValue::from_str(&crate::time::http_date(entry.mtime_ms)) {
        resp.headers_mut().insert("last-modified", v);
    }
    Ok(resp)
}

/// The attribute names asked for (one header, comma-separated, or several).
fn requested(req: &S3Req) -> S3Result<Vec<String>> {
    let mut out = Vec::new();
    for v in req.headers.get_all("x-amz-object-attributes") {
        let v = v
            .to_str()
            .map_err(|_| S3Error::InvalidArgument("Invalid attribute name specified.".into()))?;
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let known = NAMES.iter().find(|k| k.eq_ignore_ascii_case(name));
            let known = known.ok_or_else(|| {
                S3Error::InvalidArgument("Invalid attribute name specified.".into())
            })?;
            out.push(known.to_string());
        }
    }
    if out.is_empty() {
        return Err(S3Error::InvalidRequest(
            "The x-amz-object-attributes header specifying the attributes to be retrieved is \
             either missing or empty"
                .into(),
        ));
    }
    Ok(out)
}

#[derive(Clone, Copy)]
struct Paging {
    max: usize,
    marker: usize,
}

fn paging(req: &S3Req) -> S3Result<Paging> {
    let num = |name: &str, default: usize| match req.header(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| S3Error::InvalidArgument(format!("{name} must be a number"))),
    };
    Ok(Paging {
        max: num("x-amz-max-parts", MAX_PARTS)?.min(MAX_PARTS),
        marker: num("x-amz-part-number-marker", 0)?,
    })
}

fn object_parts(x: &mut Xml, rec: &S3Object, p: Paging) {
    let algorithm = rec
        .checksum
        .as_ref()
        .and_then(|(name, _)| super::checksum::Algorithm::from_header(name));
    let after: Vec<(usize, &Stored)> = rec
        .parts
        .iter()
        .enumerate()
        .map(|(i, s)| (i + 1, s))
        .filter(|(n, _)| *n > p.marker)
        .collect();
    let page = &after[..after.len().min(p.max)];
    let truncated = after.len() > page.len();
    x.open("ObjectParts");
    x.elem("PartsCount", &rec.parts.len().to_string());
    x.elem("PartNumberMarker", &p.marker.to_string());
    if let Some((last, _)) = page.last() {
        x.elem("NextPartNumberMarker", &last.to_string());
    }
    x.elem("MaxParts", &p.max.to_string());
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    for (n, part) in page {
        x.open("Part");
        if let (Some(a), Some(v)) = (algorithm, rec.part_checksums.get(n - 1)) {
            x.elem(a.xml(), v);
        }
        x.elem("PartNumber", &n.to_string());
        x.elem("Size", &part.size().to_string());
        x.close("Part");
    }
    x.close("ObjectParts");
}
