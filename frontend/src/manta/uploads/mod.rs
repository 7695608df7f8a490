//! Manta multipart uploads (docs/manta-api.md, "Multipart uploads") under `/:login/uploads`.
//!
//! An upload is a directory `/:login/uploads/<prefix>/<id>` whose record
//! carries the upload ([`UploadRecord`]: target, headers, state); its parts
//! are ordinary object records named by part number inside it, so listings
//! (`mmpu list`, `mmpu parts`) and garbage collection's reference walk see
//! them like any object. Committing writes one object record naming the
//! parts' blobs in order ([`finish`]): no byte is copied.
//!
//! Routes (everything else under `/:login/uploads` is a plain listing or
//! refused):
//! - `POST /:login/uploads` creates;
//! - `* /:login/uploads/<id>[/<rest>]` answers 301 to the parts directory,
//!   as node-manta expects before every other call;
//! - `PUT <dir>/<n>` uploads part `n`, `GET <dir>/state` reads the state,
//!   `POST <dir>/commit` and `POST <dir>/abort` finish.

mod create;
mod finish;

use super::respond::{self, set};
use super::{decode, objects, Lookup, Req};
use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::records::{Finish, Kind, ObjectRecord, UploadRecord, UploadState, RECORD_VERSION};
use crate::store::{Copies, Written};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use metadata_tier::wire::{Entry, EntryKey, Keyspace, ListOptions};

/// Hex digits of an id naming its prefix directory. The last digit of an
/// id says how many (as muskie's ids do), so a later change of the length
/// still finds older uploads from the id alone.
const PREFIX_LEN: usize = 3;
/// Part numbers are 0..=9999.
const MAX_PART: u32 = 9_999;
/// Every part but the last must be at least this large.
const MIN_PART_BYTES: u64 = 5 << 20;
/// Largest create or commit body read.
const MAX_JSON_BODY: usize = 1 << 20;

/// Handles `req` when it is a multipart upload call; gives the body back
/// when it is an ordinary request (a listing under `/:login/uploads`).
pub(crate) async fn route(req: &Req, body: Body) -> std::result::Result<Result<Response>, Body> {
    if req.path.tree.as_deref() != Some("uploads") {
        return Err(body);
    }
    let parts: Vec<&str> = req.path.parts.iter().map(String::as_str).collect();
    let m = &req.method;
    let done = match parts.as_slice() {
        [] if m == Method::POST => create::create(req, body).await,
        [id, rest @ ..] if parse_id(id).is_some() => redirect(req, id, rest).await,
        // The root itself is any account root (no delete, mkdir a no-op).
        [] => return Err(body),
        [_, _] | [_] if m == Method::GET || m == Method::HEAD => return Err(body),
        [_, _, "state"] if m == Method::GET => state(req).await,
        [_, _, "commit"] if m == Method::POST => finish::commit(req, body).await,
        [_, _, "abort"] if m == Method::POST => finish::abort(req).await,
        [_, _, n] if m == Method::PUT && part_number(n).is_some() => put_part(req, body).await,
        _ => Err(Error::MethodNotAllowed {
            method: m.to_string(),
            path: req.path.display(),
        }),
    };
    Ok(done)
}

/// A new upload id: a random uuid whose last hex digit is the prefix
/// length.
fn new_id() -> String {
    let mut id = uuid::Uuid::new_v4().to_string();
    id.pop();
    id.push_str(&PREFIX_LEN.to_string());
    id
}

/// The prefix directory of an id, `None` when `s` is not an upload id.
fn parse_id(s: &str) -> Option<&str> {
    let uuid_shaped = s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if !uuid_shaped {
        return None;
    }
    let len = s[35..]
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=8).contains(n))?;
    Some(&s[..len])
}

fn part_number(s: &str) -> Option<u32> {
    let n: u32 = s.parse().ok()?;
    // No leading zeros or signs: one name per part.
    (n <= MAX_PART && n.to_string() == s).then_some(n)
}

/// The parts directory of an upload, as users see it.
fn parts_dir(login: &str, id: &str) -> Option<String> {
    let prefix = parse_id(id)?;
    Some(format!("/{login}/uploads/{prefix}/{id}"))
}

/// `{any method} /:login/uploads/<id>[/<rest>]`: 301 to where the upload
/// lives, or 404.
async fn redirect(req: &Req, id: &str, rest: &[&str]) -> Result<Response> {
    load(req, id).await?;
    let mut location = parts_dir(&req.path.login, id).unwrap_or_default();
    for r in rest {
        location.push('/');
        location.push_str(r);
    }
    let mut resp = respond::empty(StatusCode::MOVED_PERMANENTLY);
    set(resp.headers_mut(), "location", &location);
    Ok(resp)
}

/// The upload `id` of the request's account, and its directory's entry.
async fn load(req: &Req, id: &str) -> Result<(Entry, UploadRecord)> {
    let missing = || Error::ResourceNotFound {
        path: format!("/{}/uploads/{id}", req.path.login),
    };
    let dir = parts_dir(&req.path.login, id).ok_or_else(missing)?;
    let path = MantaPath::parse(&dir)?;
    match req.lookup(&path).await? {
        Lookup::Found(entry, rec) => match rec.upload {
            Some(up) if up.id == id => Ok((*entry, *up)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

/// The upload the request path (`<prefix>/<id>/...`) names.
async fn load_from_path(req: &Req) -> Result<(Entry, UploadRecord)> {
    let id = req.path.parts.get(1).cloned().unwrap_or_default();
    let prefix = req.path.parts.first().map(String::as_str);
    if parse_id(&id) != prefix {
        return Err(Error::ResourceNotFound {
            path: req.path.display(),
        });
    }
    load(req, &id).await
}

/// The target object of the upload a request path under `/:login/uploads`
/// names (`<id>[/...]` or `<prefix>/<id>[/...]`); `None` when it names
/// none, or one that does not exist (RBAC decides by the target,
/// `crate::rbac::enforce`).
///
/// # Errors
/// Metadata errors.
pub(crate) async fn target_of(req: &Req) -> Result<Option<String>> {
    let parts: Vec<&str> = req.path.parts.iter().map(String::as_str).collect();
    let id = match parts.as_slice() {
        [id, ..] if parse_id(id).is_some() => *id,
        [prefix, id, ..] if parse_id(id) == Some(*prefix) => *id,
        _ => return Ok(None),
    };
    match load(req, id).await {
        Ok((_, up)) => Ok(Some(up.target)),
        Err(Error::ResourceNotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The metadata directory holding an upload's parts.
fn parts_key_dir(req: &Req, id: &str) -> Result<String> {
    let dir = parts_dir(&req.path.login, id)
        .ok_or_else(|| Error::Internal(format!("bad upload id {id}")))?;
    MantaPath::parse(&dir)?
        .as_dir_key(req.account.uuid.as_str())
        .ok_or_else(|| Error::Internal("upload directory without key".into()))
}

/// Writes the upload's directory record again with `up`, only if it is
/// still the entry `seen`.
async fn save(req: &Req, seen: &Entry, up: UploadRecord) -> Result<Entry> {
    let mut rec = decode(seen, &req.path)?;
    let dir = parts_key_dir(req, &up.id)?;
    let (parent, name) = dir
        .rsplit_once('/')
        .ok_or_else(|| Error::Internal(format!("bad upload directory {dir}")))?;
    let key = EntryKey::new(Keyspace::Objects, parent.to_string(), name.to_string());
    rec.upload = Some(Box::new(up));
    let cond = crate::store::WriteCond::Matches(seen.etag.clone());
    match req
        .state
        .store
        .write_record(key, &req.path.display(), &rec, cond)
        .await
    {
        Ok(e) => Ok(e),
        Err(crate::store::Error::ConditionFailed { .. }) => Err(Error::ConcurrentRequest {
            path: req.path.display(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// `GET <dir>/state`.
async fn state(req: &Req) -> Result<Response> {
    let (_, up) = load_from_path(req).await?;
    Ok(respond::json_response(
        StatusCode::OK,
        &state_json(&req.path.login, &up, req.state.settings.default_durability),
    ))
}

/// The state as muskie answers it.
fn state_json(login: &str, up: &UploadRecord, default_copies: u32) -> serde_json::Value {
    use serde_json::json;
    let state = match up.state {
        UploadState::Created => "created",
        UploadState::Finalizing => "finalizing",
        UploadState::Done => "done",
    };
    let mut v = json!({
        "id": up.id,
        "state": state,
        "targetObject": up.target,
        "headers": up.headers,
        "numCopies": up.copies.unwrap_or(default_copies),
        "creationTimeMs": up.created_ms,
    });
    let finish = up.finish.map(|f| match f {
        Finish::Commit => "commit",
        Finish::Abort => "abort",
    });
    match up.state {
        UploadState::Done => {
            v["result"] = json!(match up.finish {
                Some(Finish::Abort) => "aborted",
                _ => "committed",
            });
            v["partsMD5Summary"] = json!(up.object.as_ref().map(|o| o.1.clone()));
        }
        UploadState::Finalizing => {
            v["type"] = json!(finish);
            v["partsDirectory"] = json!(parts_dir(login, &up.id));
        }
        UploadState::Created => v["partsDirectory"] = json!(parts_dir(login, &up.id)),
    }
    v
}

/// `PUT <dir>/<n>`: stores one part like an object, with the upload's
/// copies; conditional headers do not apply.
async fn put_part(req: &Req, body: Body) -> Result<Response> {
    let checked = async {
        let (_, up) = load_from_path(req).await?;
        if up.state != UploadState::Created {
            return Err(Error::InvalidMultipartUploadState(format!(
                "upload {} is {}; parts can no longer be uploaded",
                up.id,
                state_word(&up)
            )));
        }
        Ok((up, objects::upload_expect(req)?))
    };
    let (up, expect) = match checked.await {
        Ok(x) => x,
        Err(e) => {
            objects::drain_small_body(req, body).await;
            return Err(e);
        }
    };
    let key = req
        .key()
        .ok_or_else(|| Error::Internal("part without key".into()))?;
    let build = |w: Written| ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: req.account.uuid.clone(),
        etag: uuid::Uuid::new_v4().to_string(),
        stored: w.stored,
        parts: Vec::new(),
        content_md5: crate::store::upload::b64(&w.md5),
        content_type: "application/octet-stream".into(),
        headers: Default::default(),
        created_from: None,
        request_id: req.request_id.clone(),
        upload: None,
        roles: Vec::new(),
    };
    let (rec, entry) = req
        .state
        .store
        .put(
            key,
            &req.path.display(),
            body,
            up.copies.map_or(Copies::Default, Copies::Exactly),
            &expect,
            crate::store::WriteCond::Replace,
            build,
        )
        .await?;
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    set(h, "etag", &rec.etag);
    set(h, "last-modified", &crate::time::http_date(entry.mtime_ms));
    set(h, "computed-md5", &rec.content_md5);
    Ok(resp)
}

fn state_word(up: &UploadRecord) -> &'static str {
    match (up.state, up.finish) {
        (UploadState::Created, _) => "created",
        (UploadState::Finalizing, Some(Finish::Abort)) => "being aborted",
        (UploadState::Finalizing, _) => "being committed",
        (UploadState::Done, Some(Finish::Abort)) => "aborted",
        (UploadState::Done, _) => "committed",
    }
}

/// Every entry of a metadata directory, 1000 at a time.
async fn list_all(req: &Req, dir: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut opts = ListOptions {
        limit: 1000,
        ..ListOptions::default()
    };
    loop {
        let page = req.state.meta.list(Keyspace::Objects, dir, &opts).await?;
        let full = page.entries.len() >= opts.limit;
        opts.marker = page.entries.last().map(|e| e.name.clone());
        out.extend(page.entries);
        if !full {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_prefix() {
        let id = new_id();
        assert_eq!(parse_id(&id), Some(&id[..PREFIX_LEN]));
        assert_eq!(parse_id("abc"), None);
        assert_eq!(parse_id("0123456789abcdef0123456789abcdef0123"), None);
        assert_eq!(parse_id("01234567-89ab-cdef-0123-456789abcde2"), Some("01"));
        assert_eq!(parse_id("01234567-89ab-cdef-0123-456789abcdef"), None);
    }

    #[test]
    fn part_numbers() {
        assert_eq!(part_number("0"), Some(0));
        assert_eq!(part_number("9999"), Some(9999));
        assert_eq!(part_number("10000"), None);
        assert_eq!(part_number("01"), None);
        assert_eq!(part_number("-1"), None);
        assert_eq!(part_number("state"), None);
    }
}
