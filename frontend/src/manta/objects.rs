//! Objects on the Manta API: PUT, GET/HEAD with ranges, DELETE, over the
//! object service ([`crate::store`]), which does the placement, streaming
//! and copy fail-over.

use super::respond::{self, set};
use super::{Lookup, Req};
use crate::conditional::{Conditions, Current, Outcome};
use crate::error::{Error, Result};
use crate::records::{Kind, ObjectRecord, RECORD_VERSION};
use crate::store::range;
use crate::store::upload::b64;
use crate::store::{Copies, Expect, WriteCond, Written};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use client_sdk::types::CONTENT_BLAKE3;
use futures::StreamExt;
use metadata_tier::wire::Entry;
use std::collections::BTreeMap;

/// Total bytes of `m-*` values kept per entry (Manta's 4 KiB).
const MAX_USER_META_BYTES: usize = 4096;
/// Stored and echoed headers besides `m-*`.
const STORED_HEADERS: [&str; 8] = [
    "cache-control",
    "surrogate-key",
    "content-disposition",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
];

/// What a PUT was checked to be, before its body is read.
struct Plan {
    expect: Expect,
    headers: BTreeMap<String, String>,
    content_type: String,
    cond: WriteCond,
    copies: Copies,
    /// Role tags (uuids) from `role-tag`.
    roles: Vec<String>,
}

/// Everything that can refuse a PUT without its body.
async fn plan(req: &Req) -> Result<Plan> {
    if req.path.is_root() {
        return Err(Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        });
    }
    let durability = requested_durability(req)?;
    let expect = upload_expect(req)?;
    let mut headers = stored_headers(&req.headers)?;
    if req.path.tree.as_deref() == Some("public") {
        // Manta makes /public objects readable from any web page.
        headers
            .entry("access-control-allow-origin".into())
            .or_insert_with(|| "*".into());
    }
    let roles = crate::rbac::tags::from_request(req)
        .await?
        .unwrap_or_default();
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains('/'))
        .unwrap_or("application/octet-stream")
        .to_string();
    req.ensure_parent_dir().await?;
    let cond = write_cond(req, &Conditions::from_headers(&req.headers)).await?;
    // Everything that can be refused without the body has been: only now is
    // the body read, which is when hyper sends `100 Continue`.
    Ok(Plan {
        expect,
        headers,
        content_type,
        cond,
        copies: durability.map_or(Copies::Default, Copies::Exactly),
        roles,
    })
}

/// Before answering an early error, reads a small body the client is
/// already sending (one without `Expect: 100-continue`), so the client gets
/// the error instead of a connection reset mid-send. Larger bodies are cut
/// off by closing the connection, as any server must.
pub(crate) async fn drain_small_body(req: &Req, body: Body) {
    const LIMIT: usize = 1 << 20;
    let waits_for_continue = req
        .headers
        .get("expect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if waits_for_continue {
        return;
    }
    let mut stream = body.into_data_stream();
    let mut read = 0;
    let drain = async {
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len();
            if read > LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
}

pub(crate) async fn put(req: &Req, body: Body) -> Result<Response> {
    let Plan {
        expect,
        headers,
        content_type,
        cond,
        copies,
        roles,
    } = match plan(req).await {
        Ok(p) => p,
        Err(e) => {
            drain_small_body(req, body).await;
            return Err(e);
        }
    };
    let key = req
        .key()
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        })?;
    let build = |w: Written| ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: req.account.uuid.clone(),
        etag: uuid::Uuid::new_v4().to_string(),
        stored: w.stored,
        parts: Vec::new(),
        content_md5: b64(&w.md5),
        content_type,
        headers,
        created_from: None,
        roles,
        request_id: req.request_id.clone(),
        upload: None,
    };
    let name = req.path.display();
    let (rec, entry) = req
        .state
        .store
        .put(key, &name, body, copies, &expect, cond, build)
        .await?;
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    set(h, "etag", &rec.etag);
    set(h, "last-modified", &crate::time::http_date(entry.mtime_ms));
    set(h, "computed-md5", &rec.content_md5);
    super::cors::echo_origin(req, h);
    Ok(resp)
}

/// How a write of the request path must commit, after checking it names no
/// directory and that the client's conditions hold now. Without conditions
/// it is a plain replace (last writer wins); with them it commits only if
/// the entry is still the one checked.
pub(crate) async fn write_cond(req: &Req, conds: &Conditions) -> Result<WriteCond> {
    let precondition = || Error::PreconditionFailed {
        path: req.path.display(),
    };
    match req.lookup(&req.path).await? {
        Lookup::Root => Err(Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        }),
        Lookup::Found(_, rec) if rec.is_dir() => Err(Error::OperationNotAllowedOnDirectory {
            path: req.path.display(),
        }),
        Lookup::Found(entry, rec) => {
            let cur = Current {
                etag: &rec.etag,
                mtime_ms: entry.mtime_ms,
            };
            match conds.check(Some(cur), false) {
                Outcome::Proceed if conds.any() => Ok(WriteCond::Matches(entry.etag)),
                Outcome::Proceed => Ok(WriteCond::Replace),
                _ => Err(precondition()),
            }
        }
        Lookup::Missing => match conds.check(None, false) {
            Outcome::Proceed if conds.any() => Ok(WriteCond::Create),
            Outcome::Proceed => Ok(WriteCond::Replace),
            _ => Err(precondition()),
        },
    }
}

/// Writes `rec` at the request path under `cond`.
///
/// # Errors
/// A root path; the store's write errors.
pub(crate) async fn commit(req: &Req, rec: &ObjectRecord, cond: WriteCond) -> Result<Entry> {
    let key = req
        .key()
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        })?;
    Ok(req
        .state
        .store
        .write_record(key, &req.path.display(), rec, cond)
        .await?)
}

pub(crate) fn requested_durability(req: &Req) -> Result<Option<u32>> {
    let max = req.state.settings.max_durability;
    let Some(v) = req
        .headers
        .get("durability-level")
        .or_else(|| req.headers.get("x-durability-level"))
    else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim().to_string();
    match s.parse::<u32>() {
        Ok(d) if (1..=max).contains(&d) => Ok(Some(d)),
        _ => Err(Error::InvalidDurabilityLevel { value: s, max }),
    }
}

pub(crate) fn upload_expect(req: &Req) -> Result<Expect> {
    let h = &req.headers;
    let len = match h.get("content-length") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| Error::BadRequest("invalid content-length".into()))?,
        ),
    };
    let max_len = match h.get("max-content-length") {
        None => req.state.settings.max_streaming_bytes,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| Error::InvalidMaxContentLength("invalid max-content-length".into()))?,
    };
    let md5 = match h.get("content-md5") {
        None => None,
        Some(v) => Some(decode_md5(v.to_str().unwrap_or(""))?),
    };
    Ok(Expect {
        len,
        max_len: len.map_or(max_len, |l| l.max(max_len)),
        md5,
        idle: req.state.settings.upload_idle,
    })
}

pub(crate) fn decode_md5(s: &str) -> Result<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| Error::BadRequest(format!("content-md5 {s:?} is not a base64 MD5")))
}

/// The user headers an entry keeps: `m-*` (4 KiB of values at most) and the
/// cache/CORS headers Manta stores.
pub(crate) fn stored_headers(h: &HeaderMap) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut meta_bytes = 0;
    for (name, value) in h {
        let n = name.as_str();
        let user = n.starts_with("m-") && n.len() > 2;
        if !user && !STORED_HEADERS.contains(&n) {
            continue;
        }
        let v = value
            .to_str()
            .map_err(|_| Error::BadRequest(format!("header {n} is not visible ASCII")))?;
        if n.starts_with("access-control-") && v.len() > super::cors::MAX_CORS_VALUE {
            return Err(Error::BadRequest(format!(
                "{n} is longer than {} bytes",
                super::cors::MAX_CORS_VALUE
            )));
        }
        if user {
            meta_bytes += v.len();
            if meta_bytes > MAX_USER_META_BYTES {
                return Err(Error::BadRequest(format!(
                    "m-* headers exceed {MAX_USER_META_BYTES} bytes"
                )));
            }
        }
        out.insert(n.to_string(), v.to_string());
    }
    Ok(out)
}

pub(crate) async fn get(req: &Req, entry: Entry, rec: ObjectRecord) -> Result<Response> {
    let conds = Conditions::from_headers(&req.headers);
    let cur = Current {
        etag: &rec.etag,
        mtime_ms: entry.mtime_ms,
    };
    match conds.check(Some(cur), true) {
        Outcome::Proceed => {}
        Outcome::NotModified => {
            let mut resp = respond::empty(StatusCode::NOT_MODIFIED);
            respond::entry_headers(resp.headers_mut(), &rec, entry.mtime_ms);
            super::cors::entry_extras(req, resp.headers_mut(), &rec);
            return Ok(resp);
        }
        Outcome::PreconditionFailed => {
            return Err(Error::PreconditionFailed {
                path: req.path.display(),
            })
        }
    }
    let size = rec.size();
    let range = match req.headers.get("range").and_then(|v| v.to_str().ok()) {
        Some(r) => Some(range::parse(r, size)?),
        None => None,
    };
    let body = if req.method == axum::http::Method::HEAD {
        Body::empty()
    } else {
        let name = req.path.display();
        let parts = rec.contents();
        Body::from_stream(req.state.store.open_read(&name, parts, range).await?)
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    respond::entry_headers(h, &rec, entry.mtime_ms);
    super::cors::entry_extras(req, h, &rec);
    set(h, "content-type", &rec.content_type);
    match range {
        Some(r) => respond::partial(&mut resp, r, size),
        // Only a whole object gets its hash: a 206 would need a proof of
        // its slice (docs/storage-verify.md, "How a client verifies").
        None => {
            if let Some(b3) = respond::content_blake3(&rec) {
                set(h, CONTENT_BLAKE3, &b3);
            }
            set(h, "content-md5", &rec.content_md5);
            set(h, "content-length", &size.to_string());
            set(h, "accept-ranges", "bytes");
        }
    }
    Ok(resp)
}

pub(crate) async fn delete(req: &Req, entry: Entry, rec: ObjectRecord) -> Result<Response> {
    let conds = Conditions::from_headers(&req.headers);
    let cur = Current {
        etag: &rec.etag,
        mtime_ms: entry.mtime_ms,
    };
    if conds.check(Some(cur), false) != Outcome::Proceed {
        return Err(Error::PreconditionFailed {
            path: req.path.display(),
        });
    }
    delete_entry(req, entry).await
}

/// Removes the record if it is still the entry that was checked. The blob
/// stays: other names (snaplinks, equal content) may share it, and reclaiming
/// unreferenced blobs is garbage collection's job.
pub(crate) async fn delete_entry(req: &Req, entry: Entry) -> Result<Response> {
    let key = req
        .key()
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        })?;
    req.state
        .store
        .delete_record(key, &req.path.display(), WriteCond::Matches(entry.etag))
        .await?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}
