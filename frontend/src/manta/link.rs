//! Snaplinks: a new name for an existing object's bytes. The new record
//! copies the source's blob, copies and metadata; no bytes move, and later
//! writes to either name leave the other as it was.

use super::objects::{commit, write_cond};
use super::respond::{self, set};
use super::{Lookup, Req};
use crate::conditional::{Conditions, Current, Outcome};
use crate::error::{Error, Result};
use crate::path::MantaPath;
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) async fn put(req: &Req) -> Result<Response> {
    let location = req
        .headers
        .get("location")
        .ok_or(Error::LocationRequired)?
        .to_str()
        .map_err(|_| Error::InvalidLink("location is not valid text".into()))?;
    let raw = location.split('?').next().unwrap_or("");
    let source =
        MantaPath::parse(raw).map_err(|e| Error::InvalidLink(format!("{location}: {e}")))?;
    if source.login != req.path.login {
        return Err(Error::AuthorizationFailed(format!(
            "{} may not link to {}",
            req.path.login,
            source.display()
        )));
    }
    if req.path.is_root() {
        return Err(Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        });
    }
    let (src_entry, src) = match req.lookup(&source).await? {
        Lookup::Missing => {
            return Err(Error::SourceObjectNotFound {
                path: source.display(),
            })
        }
        Lookup::Root => {
            return Err(Error::LinkNotObject {
                path: source.display(),
            })
        }
        Lookup::Found(_, rec) if rec.is_dir() => {
            return Err(Error::LinkNotObject {
                path: source.display(),
            })
        }
        Lookup::Found(e, rec) => (*e, *rec),
    };
    // Conditions apply to the source, as in muskie.
    let conds = Conditions::from_headers(&req.headers);
    let cur = Current {
        etag: &src.etag,
        mtime_ms: src_entry.mtime_ms,
    };
    if conds.check(Some(cur), false) != Outcome::Proceed {
        return Err(Error::PreconditionFailed {
            path: source.display(),
        });
    }
    req.ensure_parent_dir().await?;
    let cond = write_cond(req, &Conditions::default()).await?;
    req.state
        .store
        .pin(&source.display(), src.contents())
        .await?;
    let mut rec = src.clone();
    rec.owner = req.account.uuid.clone();
    rec.created_from = Some(source.display());
    rec.request_id = req.request_id.clone();
    if let Some(tags) = crate::rbac::tags::from_request(req).await? {
        rec.roles = tags;
    }
    commit(req, &rec, cond).await?;
    let mut resp = respond::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    set(h, "etag", &src.etag);
    set(
        h,
        "last-modified",
        &crate::time::http_date(src_entry.mtime_ms),
    );
    Ok(resp)
}
