//! Objects: streamed PUT to N storage nodes, GET/HEAD with ranges and
//! fail-over between copies, DELETE.

use super::respond::{self, set};
use super::{encode, Lookup, Req};
use crate::conditional::{Conditions, Current, Outcome};
use crate::error::{Error, Result};
use crate::range;
use crate::records::{Kind, ObjectRecord, RECORD_VERSION};
use crate::upload::{self, b64, Expect};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::{StreamExt, TryStreamExt};
use metadata_tier::wire::{Condition, Entry};
use std::collections::BTreeMap;
use storage_node::BlobHash;

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
    conds: Conditions,
    current: Option<String>,
    targets: Vec<crate::placement::Target>,
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
    let headers = stored_headers(&req.headers)?;
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains('/'))
        .unwrap_or("application/octet-stream")
        .to_string();
    req.ensure_parent_dir().await?;
    let conds = Conditions::from_headers(&req.headers);
    let current = current_object(req, &conds).await?;

    // Everything that can be refused without the body has been: only now is
    // the body read, which is when hyper sends `100 Continue`.
    let targets = if expect.len == Some(0) {
        Vec::new()
    } else {
        let live = req.state.placement.live_count().await?;
        let n = match durability {
            Some(d) => d as usize,
            None => (req.state.settings.default_durability as usize).min(live.max(1)),
        };
        req.state
            .placement
            .choose(n, expect.len.unwrap_or(0))
            .await?
    };
    Ok(Plan {
        expect,
        headers,
        content_type,
        conds,
        current,
        targets,
    })
}

/// Before answering an early error, reads a small body the client is
/// already sending (one without `Expect: 100-continue`), so the client gets
/// the error instead of a connection reset mid-send. Larger bodies are cut
/// off by closing the connection, as any server must.
async fn drain_small_body(req: &Req, body: Body) {
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

pub async fn put(req: &Req, body: Body) -> Result<Response> {
    let Plan {
        expect,
        headers,
        content_type,
        conds,
        current,
        targets,
    } = match plan(req).await {
        Ok(p) => p,
        Err(e) => {
            drain_small_body(req, body).await;
            return Err(e);
        }
    };
    let up = upload::fan_out(&req.state.storage, &targets, body, &expect).await?;
    let rec = ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: req.account.uuid.clone(),
        etag: uuid::Uuid::new_v4().to_string(),
        blob: (!targets.is_empty()).then(|| up.hash.to_hex()),
        size: up.size,
        content_md5: b64(&up.md5),
        content_type,
        headers,
        sharks: targets.iter().map(|t| t.id.clone()).collect(),
        created_from: None,
        request_id: req.request_id.clone(),
    };
    let entry = commit(req, &rec, current, conds.any()).await?;
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    set(h, "etag", &rec.etag);
    set(h, "last-modified", &crate::time::http_date(entry.mtime_ms));
    set(h, "computed-md5", &rec.content_md5);
    Ok(resp)
}

/// The entry a write replaces (its shard etag), after checking it is not a
/// directory and that the client's conditions hold.
pub async fn current_object(req: &Req, conds: &Conditions) -> Result<Option<String>> {
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
                Outcome::Proceed => Ok(Some(entry.etag)),
                _ => Err(Error::PreconditionFailed {
                    path: req.path.display(),
                }),
            }
        }
        Lookup::Missing => match conds.check(None, false) {
            Outcome::Proceed => Ok(None),
            _ => Err(Error::PreconditionFailed {
                path: req.path.display(),
            }),
        },
    }
}

/// Writes the record only if the entry is still the one checked. Without
/// client conditions a lost race is retried once against the new entry
/// (last writer wins, as in Manta); with them it is a `ConcurrentRequest`.
pub async fn commit(
    req: &Req,
    rec: &ObjectRecord,
    seen: Option<String>,
    conditional: bool,
) -> Result<Entry> {
    let key = req
        .key()
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        })?;
    let value = encode(rec)?;
    let cond = |seen: Option<String>| seen.map_or(Condition::Absent, Condition::EtagMatches);
    match req
        .state
        .meta
        .put(key.clone(), value.clone(), cond(seen))
        .await
    {
        Ok(e) => Ok(e),
        Err(metadata_tier::Error::ConditionFailed { .. }) if !conditional => {
            let seen = current_object(req, &Conditions::default()).await?;
            req.state
                .meta
                .put(key, value, cond(seen))
                .await
                .map_err(|e| concurrent(req, e))
        }
        Err(e) => Err(concurrent(req, e)),
    }
}

fn concurrent(req: &Req, e: metadata_tier::Error) -> Error {
    match e {
        metadata_tier::Error::ConditionFailed { .. } => Error::ConcurrentRequest {
            path: req.path.display(),
        },
        other => other.into(),
    }
}

fn requested_durability(req: &Req) -> Result<Option<u32>> {
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

fn upload_expect(req: &Req) -> Result<Expect> {
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

fn decode_md5(s: &str) -> Result<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| Error::BadRequest(format!("content-md5 {s:?} is not a base64 MD5")))
}

/// The user headers an entry keeps: `m-*` (4 KiB of values at most) and the
/// cache/CORS headers Manta stores.
pub fn stored_headers(h: &HeaderMap) -> Result<BTreeMap<String, String>> {
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

pub async fn get(req: &Req, entry: Entry, rec: ObjectRecord) -> Result<Response> {
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
            return Ok(resp);
        }
        Outcome::PreconditionFailed => {
            return Err(Error::PreconditionFailed {
                path: req.path.display(),
            })
        }
    }
    let range = match req.headers.get("range").and_then(|v| v.to_str().ok()) {
        Some(r) => Some(range::parse(r, rec.size)?),
        None => None,
    };
    let head = req.method == axum::http::Method::HEAD;
    let body = match (&rec.blob, head) {
        (Some(hex), false) if rec.size > 0 => {
            stream_from_copies(req, hex, range.map(|r| (r.start, r.end)), &rec).await?
        }
        _ => Body::empty(),
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    respond::entry_headers(h, &rec, entry.mtime_ms);
    set(h, "content-type", &rec.content_type);
    match range {
        Some(r) => respond::partial(&mut resp, r, rec.size),
        None => {
            set(h, "content-md5", &rec.content_md5);
            set(h, "content-length", &rec.size.to_string());
            set(h, "accept-ranges", "bytes");
        }
    }
    Ok(resp)
}

/// Opens the blob on the first copy that answers; later failures can only
/// cut the body short (the client sees a short read, never wrong bytes).
async fn stream_from_copies(
    req: &Req,
    hex: &str,
    range: Option<(u64, u64)>,
    rec: &ObjectRecord,
) -> Result<Body> {
    let hash = BlobHash::from_hex(hex)
        .ok_or_else(|| Error::Internal(format!("bad blob hash {hex:?} in record")))?;
    for t in req.state.placement.read_order(&rec.sharks).await? {
        match req.state.storage.get(&t.addr, &hash, range).await {
            Ok(resp) => {
                let stream = resp.bytes_stream().map_err(std::io::Error::other);
                return Ok(Body::from_stream(stream));
            }
            Err(e) => {
                tracing::warn!(node = %t.id, blob = %hash, error = %e, "copy unreadable, trying next")
            }
        }
    }
    Err(Error::NoReachableCopy {
        path: req.path.display(),
    })
}

pub async fn delete(req: &Req, entry: Entry, rec: ObjectRecord) -> Result<Response> {
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
pub async fn delete_entry(req: &Req, entry: Entry) -> Result<Response> {
    let key = req
        .key()
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        })?;
    req.state
        .meta
        .delete(key, Condition::EtagMatches(entry.etag))
        .await
        .map_err(|e| concurrent(req, e))?;
    Ok(respond::empty(StatusCode::NO_CONTENT))
}
