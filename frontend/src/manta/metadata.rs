//! `PUT ...?metadata=true` (PutMetadata, what `mchattr` and `mchmod`
//! send): replaces the stored headers of an existing object or directory
//! without touching its bytes. As in Manta it is a full replace of the
//! `m-*`, cache and CORS headers; `content-type` changes when given; the
//! role tags change when `role-tag` is given and are kept otherwise. An
//! update carrying only `role-tag` (what `mchmod` sends) changes only the
//! tags, so mchmod does not wipe an object's metadata.

use super::objects::{commit, stored_headers};
use super::respond::{self, set};
use super::{Lookup, Req};
use crate::error::{Error, Result};
use crate::store::WriteCond;
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) async fn put(req: &Req) -> Result<Response> {
    for h in ["content-md5", "durability-level", "x-durability-level"] {
        if req.headers.contains_key(h) {
            return Err(Error::BadRequest(format!(
                "overwrite of {h:?} forbidden in a metadata update"
            )));
        }
    }
    let (entry, mut rec) = match req.lookup(&req.path).await? {
        Lookup::Root => {
            return Err(Error::OperationNotAllowedOnRootDirectory {
                path: req.path.display(),
            })
        }
        Lookup::Missing => {
            return Err(Error::ResourceNotFound {
                path: req.path.display(),
            })
        }
        Lookup::Found(e, r) => (*e, *r),
    };
    let headers = stored_headers(&req.headers)?;
    let tags = crate::rbac::tags::from_request(req).await?;
    // mchmod sends nothing but `role-tag`: that changes only the tags.
    if !(headers.is_empty() && tags.is_some()) {
        rec.headers = headers;
    }
    if let Some(tags) = tags {
        rec.roles = tags;
    }
    if !rec.is_dir() {
        if let Some(ct) = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.contains('/'))
        {
            rec.content_type = ct.to_string();
        }
    }
    rec.request_id = req.request_id.clone();
    let written = commit(req, &rec, WriteCond::Matches(entry.etag)).await?;
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    if !rec.is_dir() {
        set(h, "etag", &rec.etag);
    }
    set(
        h,
        "last-modified",
        &crate::time::http_date(written.mtime_ms),
    );
    Ok(resp)
}
