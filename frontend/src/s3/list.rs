//! ListObjects (v1) and ListObjectsV2 over [`super::merge`]: prefix,
//! delimiter and CommonPrefixes, max-keys, marker / continuation-token /
//! start-after, and `encoding-type=url`.

use super::buckets::owner;
use super::merge::{self, Item, Page, Query};
use super::records::{BucketRecord, S3Object};
use super::xml::Xml;
use super::{store, S3Error, S3Req, S3Result};
use axum::response::Response;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet};

const MAX_KEYS: usize = 1000;
/// What `encoding-type=url` leaves as is: RFC 3986 unreserved, and `/`.
const URL_SAFE: &AsciiSet = &client_sdk::path::RFC3986.remove(b'/');

struct Params {
    prefix: String,
    delimiter: Option<String>,
    max: usize,
    url: bool,
}

fn params(req: &S3Req) -> S3Result<Params> {
    let max = match req.q("max-keys") {
        None => MAX_KEYS,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| S3Error::InvalidArgument("max-keys must be a number".into()))?
            .min(MAX_KEYS),
    };
    let url = match req.q("encoding-type") {
        None => false,
        Some(e) if e.eq_ignore_ascii_case("url") => true,
        Some(_) => return Err(S3Error::InvalidArgument("invalid encoding-type".into())),
    };
    Ok(Params {
        prefix: req.q("prefix").unwrap_or_default().to_string(),
        delimiter: req
            .q("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        max,
        url,
    })
}

async fn page(req: &S3Req, p: &Params, after: Option<String>) -> S3Result<(BucketRecord, Page)> {
    let b = store::bucket_for(req, super::acl::Perm::Read).await?;
    if p.max == 0 {
        // S3 answers `max-keys=0` with no keys and not truncated: a
        // truncated page with no key to continue from would send a
        // paginating client round forever.
        let empty = Page {
            items: Vec::new(),
            truncated: false,
        };
        return Ok((b, empty));
    }
    let q = Query {
        prefix: p.prefix.clone(),
        delimiter: p.delimiter.clone(),
        after,
        max: p.max,
    };
    let page = merge::list(&req.st.app.meta, store::partition_dirs(&b), &q).await?;
    Ok((b, page))
}

pub(crate) async fn list_v1(req: &S3Req) -> S3Result<Response> {
    let p = params(req)?;
    let marker = req
        .q("marker")
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let (b, page) = page(req, &p, marker.clone()).await?;
    let enc = |s: &str| encode(&p, s);
    let mut x = Xml::doc();
    x.root("ListBucketResult");
    x.elem("Name", req.bucket_name()?);
    x.elem("Prefix", &enc(&p.prefix));
    x.elem("Marker", &enc(marker.as_deref().unwrap_or_default()));
    if page.truncated {
        if let Some(last) = page.items.last() {
            x.elem("NextMarker", &enc(last.name()));
        }
    }
    common(&mut x, &b, &p, &page, true)?;
    x.close("ListBucketResult");
    Ok(x.response())
}

pub(crate) async fn list_v2(req: &S3Req) -> S3Result<Response> {
    let p = params(req)?;
    let token = req.q("continuation-token").map(str::to_string);
    let start_after = req.q("start-after").filter(|s| !s.is_empty());
    let after = match &token {
        Some(t) => Some(decode_token(t)?),
        None => start_after.map(str::to_string),
    };
    let (b, page) = page(req, &p, after).await?;
    let enc = |s: &str| encode(&p, s);
    let mut x = Xml::doc();
    x.root("ListBucketResult");
    x.elem("Name", req.bucket_name()?);
    x.elem("Prefix", &enc(&p.prefix));
    x.elem("KeyCount", &page.items.len().to_string());
    if let Some(t) = &token {
        x.elem("ContinuationToken", t);
    }
    if let Some(s) = start_after {
        x.elem("StartAfter", &enc(s));
    }
    if page.truncated {
        if let Some(last) = page.items.last() {
            let t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.name());
            x.elem("NextContinuationToken", &t);
        }
    }
    let owner = req.q("fetch-owner") == Some("true");
    common(&mut x, &b, &p, &page, owner)?;
    x.close("ListBucketResult");
    Ok(x.response())
}

fn decode_token(t: &str) -> S3Result<String> {
    let bad = || S3Error::InvalidArgument("the continuation token provided is incorrect".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .map_err(|_| bad())?;
    String::from_utf8(raw).map_err(|_| bad())
}

fn encode(p: &Params, s: &str) -> String {
    if p.url {
        utf8_percent_encode(s, URL_SAFE).to_string()
    } else {
        s.to_string()
    }
}

/// The part both versions share: limits, Contents and CommonPrefixes.
fn common(
    x: &mut Xml,
    b: &BucketRecord,
    p: &Params,
    page: &Page,
    with_owner: bool,
) -> S3Result<()> {
    x.elem("MaxKeys", &p.max.to_string());
    if let Some(d) = &p.delimiter {
        x.elem("Delimiter", &encode(p, d));
    }
    if p.url {
        x.elem("EncodingType", "url");
    }
    x.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    for item in &page.items {
        match item {
            Item::Key(e) => {
                let rec: S3Object = store::decode(e)?;
                x.open("Contents");
                x.elem("Key", &encode(p, &e.name));
                x.elem("LastModified", &crate::time::iso8601(e.mtime_ms));
                x.elem("ETag", &rec.quoted_etag());
                x.elem("Size", &rec.size.to_string());
                if with_owner {
                    // Every key belongs to the bucket's owner.
                    owner(x, b.owner.as_str(), &b.owner_login);
                }
                x.elem("StorageClass", "STANDARD");
                x.close("Contents");
            }
            Item::Prefix(cp) => {
                x.open("CommonPrefixes");
                x.elem("Prefix", &encode(p, cp));
                x.close("CommonPrefixes");
            }
        }
    }
    Ok(())
}
