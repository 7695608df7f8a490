//! Commit and abort. Both are idempotent (a retry with the same input gets
//! the same answer) and atomic against each other: each moves the upload's
//! state with a conditional write of its directory record, so of a commit
//! and an abort racing, one wins and the other is refused.
//!
//! A commit checks the parts, pins their blobs (so a garbage collection
//! pass under way spares them, as a snaplink does), marks the upload
//! `finalizing`, writes the target record naming the parts' blobs, marks
//! it `done`, then drops the part records: the object now holds the blobs.

use super::create::{ensure_target_parent, read_json};
use super::{list_all, load_from_path, parts_key_dir, save, state_word, MAX_PART, MIN_PART_BYTES};
use crate::error::{Error, Result};
use crate::manta::respond::{self, set};
use crate::manta::{decode, objects, Req};
use crate::path::MantaPath;
use crate::records::{Finish, Kind, ObjectRecord, UploadRecord, UploadState, RECORD_VERSION};
use crate::store::{Stored, WriteCond};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use md5::{Digest, Md5};
use metadata_tier::wire::{Condition, Entry, EntryKey, Keyspace, Op};
use serde_json::Value;
use std::collections::HashMap;

fn invalid(msg: impl Into<String>) -> Error {
    Error::MultipartUploadInvalidArgument(msg.into())
}

fn wrong_state(up: &UploadRecord, what: &str) -> Error {
    Error::InvalidMultipartUploadState(format!(
        "upload {} is {}; it cannot be {what}",
        up.id,
        state_word(up)
    ))
}

/// The part etags of a commit body, in part order.
fn requested(v: &Value) -> Result<Vec<String>> {
    let parts = v
        .get("parts")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("parts (an array of part etags) is required"))?;
    if parts.len() > MAX_PART as usize + 1 {
        return Err(invalid(format!(
            "{} parts; at most {} may be committed",
            parts.len(),
            MAX_PART + 1
        )));
    }
    parts
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(format!("part etag {p} is not a string")))
        })
        .collect()
}

/// `POST <dir>/commit`.
pub(super) async fn commit(req: &Req, body: Body) -> Result<Response> {
    let wanted = requested(&read_json(body).await?)?;
    let (entry, up) = load_from_path(req).await?;
    match (up.state, up.finish) {
        (UploadState::Done, Some(Finish::Commit)) if up.committed_parts == wanted => {
            return Ok(committed(&up))
        }
        (UploadState::Created, _) => {}
        (UploadState::Finalizing, Some(Finish::Commit)) if up.committed_parts == wanted => {}
        _ => return Err(wrong_state(&up, "committed with these parts")),
    }
    let contents = checked_parts(req, &up, &wanted).await?;
    let target = MantaPath::parse(&up.target)?;
    ensure_target_parent(req, &target).await?;
    req.state.store.pin(&up.target, &contents).await?;
    let md5 = md5_of(req, &up.target, &contents).await?;
    if let Some(want) = up.headers.get("content-md5").and_then(Value::as_str) {
        if want.trim() != md5 {
            return Err(invalid(format!(
                "content-md5 given at create is {want}, the parts hash to {md5}"
            )));
        }
    }
    let mut up = up;
    let entry = if up.state == UploadState::Created {
        up.state = UploadState::Finalizing;
        up.finish = Some(Finish::Commit);
        up.committed_parts = wanted;
        save(req, &entry, up.clone()).await?
    } else {
        entry
    };
    let rec = object_record(req, &up, contents, md5.clone())?;
    let (dir, name) = target
        .key(req.account.uuid.as_str())
        .ok_or_else(|| Error::Internal("target without key".into()))?;
    let key = EntryKey::new(Keyspace::Objects, dir, name);
    let written = req
        .state
        .store
        .write_record(key, &up.target, &rec, WriteCond::Replace)
        .await?;
    up.state = UploadState::Done;
    up.object = Some((rec.etag.clone(), md5, written.mtime_ms));
    save(req, &entry, up.clone()).await?;
    drop_parts(req, &up.id).await?;
    Ok(committed(&up))
}

/// The stored parts the etags name (part `i` is the `i`th etag), checked
/// against the size rules.
async fn checked_parts(req: &Req, up: &UploadRecord, wanted: &[String]) -> Result<Vec<Stored>> {
    let stored = list_all(req, &parts_key_dir(req, &up.id)?).await?;
    let by_name: HashMap<&str, &Entry> = stored.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut out = Vec::with_capacity(wanted.len());
    for (i, etag) in wanted.iter().enumerate() {
        let Some(e) = by_name.get(i.to_string().as_str()) else {
            return Err(invalid(format!("part {i} was not uploaded")));
        };
        let rec = decode(e, &req.path)?;
        if rec.etag != *etag {
            return Err(invalid(format!(
                "part {i} has etag {}, not {etag}",
                rec.etag
            )));
        }
        let last = i + 1 == wanted.len();
        if !last && rec.size() < MIN_PART_BYTES {
            return Err(invalid(format!(
                "part {i} is {} bytes; every part but the last must be at least {MIN_PART_BYTES}",
                rec.size()
            )));
        }
        out.push(rec.stored);
    }
    let total: u64 = out.iter().map(Stored::size).sum();
    if let Some(len) = up.headers.get("content-length") {
        let declared = len
            .as_u64()
            .or_else(|| len.as_str().and_then(|s| s.trim().parse().ok()));
        if declared != Some(total) {
            return Err(invalid(format!(
                "content-length given at create is {len}, the parts are {total} bytes"
            )));
        }
    }
    // Empty parts add nothing to the bytes.
    out.retain(|s| s.blob().is_some());
    Ok(out)
}

/// The base64 MD5 of the parts' bytes, read once (Manta's storage nodes
/// compute it at commit the same way).
async fn md5_of(req: &Req, name: &str, contents: &[Stored]) -> Result<String> {
    let mut h = Md5::new();
    if !contents.is_empty() {
        let mut stream = req.state.store.open_read(name, contents, None).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::Internal(format!("read parts of {name}: {e}")))?;
            h.update(&chunk);
        }
    }
    Ok(crate::store::upload::b64(&h.finalize()))
}

/// The target's record: the parts' blobs in order, the headers given at
/// create.
fn object_record(
    req: &Req,
    up: &UploadRecord,
    mut contents: Vec<Stored>,
    md5: String,
) -> Result<ObjectRecord> {
    let mut h = HeaderMap::new();
    for (k, v) in &up.headers {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            h.insert(n, v);
        }
    }
    let content_type = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains('/'))
        .unwrap_or("application/octet-stream")
        .to_string();
    let (stored, parts) = if contents.len() == 1 {
        (contents.remove(0), Vec::new())
    } else {
        (Stored::Empty, contents)
    };
    Ok(ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: req.account.uuid.clone(),
        etag: uuid::Uuid::new_v4().to_string(),
        stored,
        parts,
        content_md5: md5,
        content_type,
        headers: objects::stored_headers(&h)?,
        created_from: None,
        request_id: req.request_id.clone(),
        upload: None,
        roles: up.roles.clone(),
    })
}

/// 201 with the object's `Location`, `Etag`, `Last-Modified` and MD5.
fn committed(up: &UploadRecord) -> Response {
    let mut resp = respond::empty(StatusCode::CREATED);
    let h = resp.headers_mut();
    set(h, "location", &up.target);
    if let Some((etag, md5, mtime)) = &up.object {
        set(h, "etag", etag);
        set(h, "computed-md5", md5);
        set(h, "last-modified", &crate::time::http_date(*mtime));
    }
    resp
}

/// `POST <dir>/abort`.
pub(super) async fn abort(req: &Req) -> Result<Response> {
    let (entry, mut up) = load_from_path(req).await?;
    match (up.state, up.finish) {
        (UploadState::Done, Some(Finish::Abort)) => {}
        (UploadState::Created, _) | (UploadState::Finalizing, Some(Finish::Abort)) => {
            up.state = UploadState::Done;
            up.finish = Some(Finish::Abort);
            save(req, &entry, up.clone()).await?;
        }
        _ => return Err(wrong_state(&up, "aborted")),
    }
    drop_parts(req, &up.id).await?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}

/// Removes a finished upload's part records (one directory: one shard).
/// An aborted upload's blobs are then unreferenced, and garbage
/// collection reclaims them; a committed one's are the object's.
async fn drop_parts(req: &Req, id: &str) -> Result<()> {
    let dir = parts_key_dir(req, id)?;
    let parts = list_all(req, &dir).await?;
    for chunk in parts.chunks(1000) {
        let ops = chunk
            .iter()
            .map(|e| Op::Delete {
                key: EntryKey::new(Keyspace::Objects, dir.clone(), e.name.clone()),
                cond: Condition::None,
            })
            .collect();
        req.state.meta.apply(ops).await?;
    }
    Ok(())
}
