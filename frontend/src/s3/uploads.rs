//! ListParts and ListMultipartUploads.

use super::multipart::{upload, upload_name, UPLOAD_SEP};
use super::records::{BucketRecord, PartRecord, UploadRecord};
use super::store::{self, parts_dir, uploads_dir};
use super::xml::Xml;
use super::{S3Error, S3Req, S3Result};
use axum::response::Response;
use metadata_tier::wire::{Keyspace, ListOptions};

fn limit(req: &S3Req, name: &str) -> S3Result<usize> {
    match req.q(name) {
        None => Ok(1000),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.min(1000))
            .map_err(|_| S3Error::InvalidArgument(format!("{name} must be a number"))),
    }
}

pub(crate) async fn list_parts(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket(req).await?;
    let up = upload(req, &b).await?;
    let max = limit(req, "max-parts")?;
    let marker: u32 = req
        .q("part-number-marker")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    // Part records are named by zero-padded number: one page from the
    // marker on.
    let opts = ListOptions {
        marker: (marker > 0).then(|| super::records::part_name(marker)),
        limit: max + 1,
        ..ListOptions::default()
    };
    let dir = parts_dir(&b, &up.upload_id);
    let page = req.st.app.meta.list(Keyspace::Buckets, &dir, &opts).await?;
    let mut parts = Vec::with_capacity(page.entries.len());
    for e in &page.entries {
        let p: PartRecord = store::decode(e)?;
        parts.push(p);
    }
    let truncated = parts.len() > max;
    parts.truncate(max);
    let mut x = Xml::doc();
    x.root("ListPartsResult");
    x.elem("Bucket", &b.name);
    x.elem("Key", &up.key);
    x.elem("UploadId", &up.upload_id);
    x.elem("PartNumberMarker", &marker.to_string());
    if let Some(last) = parts.last() {
        x.elem("NextPartNumberMarker", &last.number.to_string());
    }
    x.elem("MaxParts", &max.to_string());
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    initiator_and_owner(&mut x, &b, &up);
    x.elem("StorageClass", "STANDARD");
    for p in &parts {
        x.open("Part");
        x.elem("PartNumber", &p.number.to_string());
        x.elem("LastModified", &crate::time::iso8601(p.modified_ms));
        x.elem("ETag", &format!("\"{}\"", p.etag));
        x.elem("Size", &p.part.size().to_string());
        x.close("Part");
    }
    x.close("ListPartsResult");
    Ok(x.response())
}

/// `<Initiator>` (who began the upload) and `<Owner>` (the bucket's
/// owner, who owns the object it makes), as AWS lists them.
fn initiator_and_owner(x: &mut Xml, b: &BucketRecord, up: &UploadRecord) {
    let owner = (b.owner.to_string(), b.owner_login.clone());
    let initiator = up.initiator.clone().unwrap_or_else(|| owner.clone());
    for (who, (id, name)) in [("Initiator", initiator), ("Owner", owner)] {
        x.open(who);
        x.elem("ID", &id);
        x.elem("DisplayName", &name);
        x.close(who);
    }
}

/// Uploads in progress, sorted by key then initiation time; `prefix`,
/// `key-marker` / `upload-id-marker` and `max-uploads` (no delimiter).
pub(crate) async fn list_uploads(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket(req).await?;
    let max = limit(req, "max-uploads")?;
    let prefix = req.q("prefix").unwrap_or_default();
    let key_marker = req.q("key-marker").unwrap_or_default();
    let id_marker = req.q("upload-id-marker").unwrap_or_default();
    let ups = uploads_page(
        req,
        &uploads_dir(&b),
        prefix,
        key_marker,
        id_marker,
        max + 1,
    )
    .await?;
    let mut ups = ups;
    let truncated = ups.len() > max;
    ups.truncate(max);
    let mut x = Xml::doc();
    x.root("ListMultipartUploadsResult");
    x.elem("Bucket", &b.name);
    x.elem("KeyMarker", key_marker);
    x.elem("UploadIdMarker", id_marker);
    if let Some(last) = ups.last() {
        x.elem("NextKeyMarker", &last.key);
        x.elem("NextUploadIdMarker", &last.upload_id);
    }
    x.elem("Prefix", prefix);
    x.elem("MaxUploads", &max.to_string());
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    for u in &ups {
        x.open("Upload");
        x.elem("Key", &u.key);
        x.elem("UploadId", &u.upload_id);
        initiator_and_owner(&mut x, &b, u);
        x.elem("StorageClass", "STANDARD");
        x.elem("Initiated", &crate::time::iso8601(u.initiated_ms));
        x.close("Upload");
    }
    x.close("ListMultipartUploadsResult");
    Ok(x.response())
}

/// Up to `want` uploads after the markers whose key starts with `prefix`,
/// in key-then-initiation order, read page by page from where they start
/// (upload records are named so they sort that way; see
/// [`super::multipart::UPLOAD_SEP`]).
async fn uploads_page(
    req: &S3Req,
    dir: &str,
    prefix: &str,
    key_marker: &str,
    id_marker: &str,
    want: usize,
) -> S3Result<Vec<UploadRecord>> {
    // After the marker upload, or after every upload of the marker key
    // (ids are hex digits, all below 'g'), or from the prefix on.
    let (start, inclusive) = match (key_marker, id_marker) {
        ("", _) => (prefix.to_string(), true),
        (k, "") => (format!("{k}{UPLOAD_SEP}g"), false),
        (k, id) => (upload_name(k, id), false),
    };
    let start = if start.as_str() < prefix {
        (prefix.to_string(), true)
    } else {
        (start, inclusive)
    };
    let mut opts = ListOptions {
        marker: (!start.0.is_empty()).then_some(start.0),
        inclusive: start.1,
        limit: want.clamp(1, 1000),
        ..ListOptions::default()
    };
    let mut out = Vec::new();
    loop {
        let page = req.st.app.meta.list(Keyspace::Buckets, dir, &opts).await?;
        let full = page.entries.len() >= opts.limit;
        for e in &page.entries {
            if !e.name.starts_with(prefix) {
                return Ok(out);
            }
            // Uploads of the older layout (named by id alone) are not
            // listed; they still take parts, complete and abort by id.
            if !e.name.contains(UPLOAD_SEP) {
                continue;
            }
            out.push(store::decode(e)?);
            if out.len() >= want {
                return Ok(out);
            }
        }
        match (full, page.entries.last()) {
            (true, Some(last)) => {
                opts.marker = Some(last.name.clone());
                opts.inclusive = false;
            }
            _ => return Ok(out),
        }
    }
}
