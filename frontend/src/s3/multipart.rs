//! Multipart uploads. Each part is a blob of its own (an UploadPart is one
//! `fan_out`); completing writes one object record listing the parts' blobs
//! in order, so it moves no bytes. Upload and part records live beside the
//! bucket's keys (see [`super::records`]).

use super::checksum::Algorithm;
use super::checksum_body::checked;
use super::crc_combine::Kind;
use super::objects::{commit, content_type, stored_headers, write_condition};
use super::part_checksums::{combined_checksum, part_checksum, upload_checksum};
use super::records::{
    part_name, BucketRecord, PartRecord, S3Object, UploadRecord, S3_RECORD_VERSION,
};
use super::store::{self, parts_dir, uploads_dir};
use super::xml::{self, Xml};
use super::{S3Error, S3Req, S3Result};
use crate::store::{Copies, Stored};
use axum::body::Body;
use axum::response::Response;
use md5::{Digest, Md5};
use metadata_tier::wire::{Condition, Entry, EntryKey, Keyspace, ListOptions, Op};

const MAX_PART_NUMBER: u32 = 10_000;
/// Every part but the last must be at least this large (S3's rule).
const MIN_PART_BYTES: u64 = 5 << 20;
const MAX_BODY: usize = 4 << 20;

/// An upload's record is named `<key> SEP <upload id>`, and an upload id
/// starts with its initiation time in fixed-width hex: the bucket's
/// uploads sort by key, then initiation, as ListMultipartUploads returns
/// them, so it reads one page at a time. SEP sorts below every character a
/// key is made of, so a key sorts before its extensions.
pub(crate) const UPLOAD_SEP: char = '\u{1}';

pub(crate) fn upload_name(key: &str, id: &str) -> String {
    format!("{key}{UPLOAD_SEP}{id}")
}

/// Uploads begun before ids carried their time (32 hex digits) are named
/// by id alone; they still take parts, complete and abort.
const LEGACY_ID_LEN: usize = 32;

fn upload_key(b: &BucketRecord, key: &str, id: &str) -> EntryKey {
    let name = if id.len() == LEGACY_ID_LEN {
        id.to_string()
    } else {
        upload_name(key, id)
    };
    EntryKey::new(Keyspace::Buckets, uploads_dir(b), name)
}

/// A new upload id: initiation time (ms, 12 hex digits), then 128 random
/// bits.
fn new_upload_id(initiated_ms: u64) -> String {
    format!("{initiated_ms:012x}{}", uuid::Uuid::new_v4().simple())
}

/// Every entry of a dir, read 1000 at a time.
pub(crate) async fn list_all(req: &S3Req, dir: &str) -> S3Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut opts = ListOptions {
        limit: 1000,
        ..ListOptions::default()
    };
    loop {
        let page = req.st.app.meta.list(Keyspace::Buckets, dir, &opts).await?;
        let full = page.entries.len() >= opts.limit;
        opts.marker = page.entries.last().map(|e| e.name.clone());
        out.extend(page.entries);
        if !full {
            return Ok(out);
        }
    }
}

/// The upload named by `uploadId`, which must be for the request's key.
pub(crate) async fn upload(req: &S3Req, b: &BucketRecord) -> S3Result<UploadRecord> {
    let id = req.q("uploadId").unwrap_or_default();
    let missing = || S3Error::NoSuchUpload {
        upload_id: id.to_string(),
    };
    let key = req.key.as_deref().unwrap_or_default();
    if id.is_empty() || id.contains(UPLOAD_SEP) || key.is_empty() {
        return Err(missing());
    }
    let entry = req
        .st
        .app
        .meta
        .get(&upload_key(b, key, id))
        .await?
        .ok_or_else(missing)?;
    let up: UploadRecord = store::decode(&entry)?;
    if Some(up.key.as_str()) != req.key.as_deref() {
        return Err(missing());
    }
    Ok(up)
}

pub(crate) async fn create(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let key = req.key_name()?;
    store::validate_key(key)?;
    let initiated_ms = crate::time::now_ms();
    let (algorithm, kind) = upload_checksum(req)?;
    let up = UploadRecord {
        v: S3_RECORD_VERSION,
        upload_id: new_upload_id(initiated_ms),
        key: key.to_string(),
        initiated_ms,
        content_type: content_type(&req.headers),
        headers: stored_headers(&req.headers)?,
        checksum_algorithm: algorithm.map(|a| a.name().to_string()),
        checksum_type: kind.map(|k| k.name().to_string()),
        initiator: req
            .account
            .as_ref()
            .map(|a| (a.uuid.to_string(), a.login.clone())),
        acl: super::acl::requested(req)?,
    };
    let value = store::encode(&up)?;
    req.st
        .app
        .meta
        .put(upload_key(&b, key, &up.upload_id), value, Condition::Absent)
        .await?;
    let mut x = Xml::doc();
    x.root("InitiateMultipartUploadResult");
    x.elem("Bucket", &b.name);
    x.elem("Key", key);
    x.elem("UploadId", &up.upload_id);
    x.close("InitiateMultipartUploadResult");
    let mut resp = x.response();
    let h = resp.headers_mut();
    for (name, v) in [
        ("x-amz-checksum-algorithm", algorithm.map(Algorithm::name)),
        ("x-amz-checksum-type", kind.map(Kind::name)),
    ] {
        if let Some(v) = v {
            h.insert(name, axum::http::HeaderValue::from_static(v));
        }
    }
    Ok(resp)
}

pub(crate) fn part_number(req: &S3Req) -> S3Result<u32> {
    req.q("partNumber")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::InvalidArgument("part number must be an integer between 1 and 10000".into())
        })
}

pub(crate) async fn upload_part(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let n = part_number(req)?;
    let up = upload(req, &b).await?;
    let expect = store::expect(req)?;
    let (body, verified) = match part_checksum(req, &up)? {
        Some(want) => {
            let (body, v) = checked(body, &want, &req.trailers);
            (body, Some(v))
        }
        None => (body, None),
    };
    let store = &req.st.app.store;
    let w = store.write_blob(body, Copies::Default, &expect).await?;
    let sum = verified.and_then(|v| v.get());
    save_part(req, &b, &up, n, (w.stored, w.md5), sum).await
}

/// Records part `n` (its bytes and MD5, and its checksum header and
/// value) and answers with its ETag and checksum. A part uploaded again
/// under the same number replaces the earlier one.
pub(crate) async fn save_part(
    req: &S3Req,
    b: &BucketRecord,
    up: &UploadRecord,
    n: u32,
    (part, md5): (Stored, [u8; 16]),
    checksum: Option<(String, String)>,
) -> S3Result<Response> {
    let rec = PartRecord {
        v: S3_RECORD_VERSION,
        number: n,
        etag: hex::encode(md5),
        md5,
        part,
        modified_ms: crate::time::now_ms(),
        checksum,
    };
    let key = EntryKey::new(Keyspace::Buckets, parts_dir(b, &up.upload_id), part_name(n));
    req.st
        .app
        .meta
        .put(key, store::encode(&rec)?, Condition::None)
        .await?;
    let mut resp = super::objects::etag_response(&rec.etag);
    if let Some((name, value)) = &rec.checksum {
        super::objects::checksum_headers(resp.headers_mut(), name, value);
    }
    Ok(resp)
}

/// One `<Part>` of a CompleteMultipartUpload body.
pub(crate) struct Wanted {
    pub(crate) number: u32,
    /// Without quotes.
    pub(crate) etag: String,
    /// A `<ChecksumCRC32>`-like element, if given.
    pub(crate) checksum: Option<(Algorithm, String)>,
}

/// The parts a CompleteMultipartUpload body lists, in ascending order.
pub(crate) fn requested_parts(doc: &str) -> S3Result<Vec<Wanted>> {
    let mut out: Vec<Wanted> = Vec::new();
    for p in xml::elements(doc, "Part")? {
        let number = xml::text(p, "PartNumber")?
            .and_then(|n| n.trim().parse().ok())
            .ok_or(S3Error::MalformedXml)?;
        let etag = xml::text(p, "ETag")?.ok_or(S3Error::MalformedXml)?;
        if out.last().is_some_and(|last| last.number >= number) {
            return Err(S3Error::InvalidPartOrder);
        }
        let mut checksum = None;
        for a in Algorithm::ALL {
            if let Some(v) = xml::text(p, a.xml())? {
                checksum = Some((a, v.trim().to_string()));
            }
        }
        out.push(Wanted {
            number,
            etag: etag.trim().trim_matches('"').to_string(),
            checksum,
        });
    }
    if out.is_empty() {
        return Err(S3Error::MalformedXml);
    }
    Ok(out)
}

pub(crate) async fn complete(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let up = match upload(req, &b).await {
        Err(S3Error::NoSuchUpload { upload_id }) => {
            return completed_before(req, &b, body, upload_id).await
        }
        other => other?,
    };
    // Checked before the body is read: a refused completion costs nothing.
    let cond = write_condition(req, &b, &up.key).await?;
    let raw = store::read_small(body, MAX_BODY).await?;
    let doc = std::str::from_utf8(&raw).map_err(|_| S3Error::MalformedXml)?;
    let wanted = requested_parts(doc)?;
    let stored = list_all(req, &parts_dir(&b, &up.upload_id)).await?;
    // One lookup per requested part: O(n) for 10,000 parts, not O(n²).
    let by_name: std::collections::HashMap<&str, &Entry> =
        stored.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut recs = Vec::with_capacity(wanted.len());
    for w in &wanted {
        let n = w.number;
        let rec: PartRecord = match by_name.get(part_name(n).as_str()) {
            Some(e) => store::decode(e)?,
            None => return Err(S3Error::InvalidPart(format!("part {n} was not uploaded"))),
        };
        if rec.etag != w.etag {
            return Err(S3Error::InvalidPart(format!("part {n} has another ETag")));
        }
        if let Some((a, v)) = &w.checksum {
            if rec.checksum.as_ref() != Some(&(a.header().to_string(), v.clone())) {
                return Err(S3Error::InvalidPart(format!(
                    "part {n}'s {} does not match the uploaded part",
                    a.xml()
                )));
            }
        }
        recs.push(rec);
    }
    let last = recs.len().saturating_sub(1);
    if recs[..last].iter().any(|r| r.part.size() < MIN_PART_BYTES) {
        return Err(S3Error::EntityTooSmall);
    }
    let mut md5s = Md5::new();
    for r in &recs {
        md5s.update(r.md5);
    }
    let (checksum, part_checksums) = combined_checksum(&up, &recs);
    let parts: Vec<_> = recs.into_iter().map(|r| r.part).collect();
    let obj = S3Object {
        v: S3_RECORD_VERSION,
        etag: format!("{}-{}", hex::encode(md5s.finalize()), parts.len()),
        size: parts.iter().map(Stored::size).sum(),
        content_type: up.content_type.clone(),
        parts,
        headers: up.headers.clone(),
        request_id: req.request_id.clone(),
        checksum,
        part_checksums,
        acl: up.acl.clone(),
    };
    req.st.app.store.pin(&up.key, &obj.parts).await?;
    commit(req, &b, &up.key, &obj, cond).await?;
    forget(req, &b, &up, &stored).await?;
    Ok(completed(&b, &up.key, &obj))
}

fn completed(b: &BucketRecord, key: &str, obj: &S3Object) -> Response {
    let mut x = Xml::doc();
    x.root("CompleteMultipartUploadResult");
    x.elem("Location", &format!("/{}/{key}", b.name));
    x.elem("Bucket", &b.name);
    x.elem("Key", key);
    x.elem("ETag", &obj.quoted_etag());
    if let Some((name, value)) = &obj.checksum {
        if let Some(a) = Algorithm::from_header(name) {
            x.elem(a.xml(), value);
            x.elem("ChecksumType", Kind::of_value(value).name());
        }
    }
    x.close("CompleteMultipartUploadResult");
    x.response()
}

/// A CompleteMultipartUpload retried after its answer was lost: the upload
/// record is gone, but when the key holds the object these parts make (its
/// ETag is a function of the parts' ETags alone) the first call did
/// complete it, and S3 answers success again. Otherwise `NoSuchUpload`.
async fn completed_before(
    req: &S3Req,
    b: &BucketRecord,
    body: Body,
    upload_id: String,
) -> S3Result<Response> {
    let missing = || S3Error::NoSuchUpload {
        upload_id: upload_id.clone(),
    };
    let key = req.key.as_deref().ok_or_else(missing)?;
    let raw = store::read_small(body, MAX_BODY).await?;
    let doc = std::str::from_utf8(&raw).map_err(|_| missing())?;
    let wanted = requested_parts(doc).map_err(|_| missing())?;
    let mut md5s = Md5::new();
    for w in &wanted {
        md5s.update(hex::decode(&w.etag).map_err(|_| missing())?);
    }
    let etag = format!("{}-{}", hex::encode(md5s.finalize()), wanted.len());
    match store::object::<S3Object>(req, b, key).await? {
        Some((_, obj)) if obj.etag == etag => Ok(completed(b, key, &obj)),
        _ => Err(missing()),
    }
}

/// Removes an upload's part records (one shard: one dir), then the upload.
async fn forget(req: &S3Req, b: &BucketRecord, up: &UploadRecord, parts: &[Entry]) -> S3Result<()> {
    let id = &up.upload_id;
    let dir = parts_dir(b, id);
    for chunk in parts.chunks(1000) {
        let ops = chunk
            .iter()
            .map(|e| Op::Delete {
                key: EntryKey::new(Keyspace::Buckets, dir.clone(), e.name.clone()),
                cond: Condition::None,
            })
            .collect();
        req.st.app.meta.apply(ops).await?;
    }
    req.st
        .app
        .meta
        .delete(upload_key(b, &up.key, id), Condition::None)
        .await?;
    Ok(())
}

pub(crate) async fn abort(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket_for(req, super::acl::Perm::Write).await?;
    let up = upload(req, &b).await?;
    let parts = list_all(req, &parts_dir(&b, &up.upload_id)).await?;
    forget(req, &b, &up, &parts).await?;
    Ok(super::buckets::empty(axum::http::StatusCode::NO_CONTENT))
}

pub(crate) use super::uploads::{list_parts, list_uploads};
