//! ListParts and ListMultipartUploads.

use super::buckets::owner;
use super::multipart::{list_all, upload};
use super::records::{PartRecord, UploadRecord};
use super::store::{self, parts_dir, uploads_dir};
use super::xml::Xml;
use super::{S3Error, S3Req, S3Result};
use axum::response::Response;

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
    let mut parts = Vec::new();
    for e in list_all(req, &parts_dir(&b, &up.upload_id)).await? {
        let p: PartRecord = store::decode(&e)?;
        if p.number > marker {
            parts.push(p);
        }
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
    for who in ["Initiator", "Owner"] {
        x.open(who);
        x.elem("ID", req.account.uuid.as_str());
        x.elem("DisplayName", &req.account.login);
        x.close(who);
    }
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

/// Uploads in progress, sorted by key then initiation time; `prefix`,
/// `key-marker` / `upload-id-marker` and `max-uploads` (no delimiter).
pub(crate) async fn list_uploads(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket(req).await?;
    let max = limit(req, "max-uploads")?;
    let prefix = req.q("prefix").unwrap_or_default();
    let key_marker = req.q("key-marker").unwrap_or_default();
    let id_marker = req.q("upload-id-marker").unwrap_or_default();
    let mut ups = Vec::new();
    for e in list_all(req, &uploads_dir(&b)).await? {
        let u: UploadRecord = store::decode(&e)?;
        let after = (u.key.as_str(), u.upload_id.as_str()) > (key_marker, id_marker)
            || key_marker.is_empty();
        if u.key.starts_with(prefix) && after {
            ups.push(u);
        }
    }
    ups.sort_by(|a, b| (&a.key, a.initiated_ms).cmp(&(&b.key, b.initiated_ms)));
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
        owner(&mut x, req);
        x.elem("StorageClass", "STANDARD");
        x.elem("Initiated", &crate::time::iso8601(u.initiated_ms));
        x.close("Upload");
    }
    x.close("ListMultipartUploadsResult");
    Ok(x.response())
}
