//! Directories: create (idempotent), list (newline-delimited JSON with
//! `marker`, `limit`, `result-set-size`), delete when empty.

use super::objects::{commit, delete_entry, stored_headers};
use super::respond::{self, set};
use super::{decode, Lookup, Req};
use crate::error::{Error, Result};
use crate::path::TREES;
use crate::records::ObjectRecord;
use crate::store::{Error as StoreError, WriteCond};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use client_sdk::types::{DirEntry, EntryType, DIRECTORY_LISTING_TYPE};
use metadata_tier::wire::{Entry, Keyspace, ListOptions};

const DEFAULT_LIMIT: usize = 256;
const MAX_LIMIT: usize = 1024;

pub(crate) async fn put(req: &Req) -> Result<Response> {
    if req.path.is_root() {
        // mkdir of /:login/stor and friends is a no-op; of /:login, refused.
        return match req.path.tree {
            Some(_) => Ok(respond::empty(StatusCode::NO_CONTENT)),
            None => Err(Error::OperationNotAllowedOnRootDirectory {
                path: req.path.display(),
            }),
        };
    }
    for h in ["content-md5", "durability-level", "x-durability-level"] {
        if req.headers.contains_key(h) {
            return Err(Error::BadRequest(format!(
                "{h} is not allowed on a directory"
            )));
        }
    }
    req.ensure_parent_dir().await?;
    let seen = match req.lookup(&req.path).await? {
        Lookup::Found(entry, rec) if rec.is_dir() => return Ok(done(entry.mtime_ms)),
        // Manta replaces an object with a directory when asked to.
        Lookup::Found(entry, _) => Some(entry.etag),
        Lookup::Missing | Lookup::Root => None,
    };
    let mut rec = ObjectRecord::directory(
        &req.account.uuid,
        stored_headers(&req.headers)?,
        &req.request_id,
    );
    rec.roles = crate::rbac::tags::from_request(req)
        .await?
        .unwrap_or_default();
    let cond = seen.map_or(WriteCond::Create, WriteCond::Matches);
    match commit(req, &rec, cond).await {
        Ok(entry) => Ok(done(entry.mtime_ms)),
        // A concurrent mkdir of the same directory won: that is success.
        Err(Error::Store(StoreError::ConditionFailed { .. })) => match req.lookup(&req.path).await?
        {
            Lookup::Found(entry, rec) if rec.is_dir() => Ok(done(entry.mtime_ms)),
            _ => Err(Error::ConcurrentRequest {
                path: req.path.display(),
            }),
        },
        Err(e) => Err(e),
    }
}

fn done(mtime_ms: u64) -> Response {
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    set(
        resp.headers_mut(),
        "last-modified",
        &crate::time::http_date(mtime_ms),
    );
    resp
}

/// Lists a directory; `dir` is its entry and record, `None` for a root.
pub(crate) async fn list(req: &Req, dir: Option<(Entry, ObjectRecord)>) -> Result<Response> {
    let limit = match req.query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "limit={s} must be between 1 and {MAX_LIMIT}"
                )))
            }
        },
    };
    let opts = list_options(req, limit)?;
    let (lines, total) = match &req.path.tree {
        None => account_root(&opts),
        Some(_) => {
            let dir_key = req
                .path
                .as_dir_key(req.account.uuid.as_str())
                .ok_or_else(|| Error::Internal("directory without key".into()))?;
            if req.method == Method::HEAD {
                let n = req.state.meta.count(Keyspace::Objects, &dir_key).await?;
                (Vec::new(), n)
            } else {
                let res = req
                    .state
                    .meta
                    .list(Keyspace::Objects, &dir_key, &opts)
                    .await?;
                let mut lines = Vec::with_capacity(res.entries.len());
                for e in &res.entries {
                    lines.push(dir_entry(req, e)?);
                }
                (lines, res.total)
            }
        }
    };
    let wanted = type_filter(req);
    let mut body = Vec::new();
    for line in lines.iter().filter(|l| wanted.is_none_or(|t| t == l.kind)) {
        serde_json::to_writer(&mut body, line)
            .map_err(|e| Error::Internal(format!("encode listing: {e}")))?;
        body.push(b'\n');
    }
    let mut resp = Response::new(if req.method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    });
    let h = resp.headers_mut();
    set(h, "content-type", DIRECTORY_LISTING_TYPE);
    set(h, "result-set-size", &total.to_string());
    if let Some((entry, rec)) = &dir {
        respond::entry_headers(h, rec, entry.mtime_ms);
        super::cors::entry_extras(req, h, rec);
    }
    Ok(resp)
}

/// Order and start of a listing: by name (the default) or, with
/// `sort=mtime`, newest first from an ISO-8601 marker; `sort_order=reverse`
/// flips either. Markers are inclusive, as Manta's are.
fn list_options(req: &Req, limit: usize) -> Result<ListOptions> {
    let by_mtime = match req.query.get("sort").map(String::as_str) {
        None | Some("" | "name") => false,
        Some("mtime") => true,
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "sort={other}: sort by name or mtime"
            )))
        }
    };
    let marker = req.query.get("marker").filter(|m| !m.is_empty()).cloned();
    let marker = match marker {
        Some(m) if by_mtime && req.path.tree.is_some() => {
            let ms = crate::time::parse_iso8601(&m).ok_or_else(|| {
                Error::InvalidParameter(format!("marker {m:?} is not an ISO-8601 time"))
            })?;
            Some(ms.to_string())
        }
        other => other,
    };
    Ok(ListOptions {
        marker,
        inclusive: true,
        limit,
        reverse: req.query.get("sort_order").map(String::as_str) == Some("reverse"),
        by_mtime,
    })
}

/// `dir=true`/`obj=true` (mls --type) keep only one kind of entry.
fn type_filter(req: &Req) -> Option<EntryType> {
    let on = |k: &str| req.query.get(k).map(String::as_str) == Some("true");
    if on("dir") || on("directory") {
        Some(EntryType::Directory)
    } else if on("obj") || on("object") {
        Some(EntryType::Object)
    } else {
        None
    }
}

/// `GET /:login`: the fixed top-level directories.
fn account_root(opts: &ListOptions) -> (Vec<DirEntry>, u64) {
    let mut names: Vec<&str> = TREES.to_vec();
    if opts.reverse {
        names.reverse();
    }
    let lines = names
        .into_iter()
        .filter(|n| match &opts.marker {
            None => true,
            Some(m) if opts.reverse => *n <= m.as_str(),
            Some(m) => *n >= m.as_str(),
        })
        .take(opts.limit)
        .map(|n| DirEntry {
            name: n.to_string(),
            etag: None,
            size: None,
            kind: EntryType::Directory,
            content_type: None,
            content_md5: None,
            mtime: crate::time::iso8601(0),
            durability: None,
        })
        .collect();
    (lines, TREES.len() as u64)
}

fn dir_entry(req: &Req, e: &Entry) -> Result<DirEntry> {
    let rec = decode(e, &req.path)?;
    let mtime = crate::time::iso8601(e.mtime_ms);
    Ok(if rec.is_dir() {
        DirEntry {
            name: e.name.clone(),
            etag: None,
            size: None,
            kind: EntryType::Directory,
            content_type: None,
            content_md5: None,
            mtime,
            durability: None,
        }
    } else {
        DirEntry {
            name: e.name.clone(),
            etag: Some(rec.etag.clone()),
            size: Some(rec.size()),
            kind: EntryType::Object,
            content_type: Some(rec.content_type.clone()),
            content_md5: Some(rec.content_md5.clone()),
            mtime,
            durability: Some(rec.durability()),
        }
    })
}

/// Deletes a directory that has no entries. (As in Manta, an entry created
/// in it at the same moment can race the emptiness check: the two live on
/// different shards.)
pub(crate) async fn delete(req: &Req, entry: Entry) -> Result<Response> {
    let dir_key = req
        .path
        .as_dir_key(req.account.uuid.as_str())
        .ok_or_else(|| Error::Internal("directory without key".into()))?;
    if req.state.meta.count(Keyspace::Objects, &dir_key).await? > 0 {
        return Err(Error::DirectoryNotEmpty {
            path: req.path.display(),
        });
    }
    delete_entry(req, entry).await
}
