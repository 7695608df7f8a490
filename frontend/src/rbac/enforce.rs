//! The RBAC check of one Manta API request by a sub-user: which action it
//! is and which entry's role tags decide (muskie's `storageContext`): the
//! entry itself when it exists, its parent directory for a create. A read
//! or delete of a missing entry passes here and is answered 404 by its
//! handler, as muskie answers.
//!
//! Beyond `/stor` and `/public`:
//! - `/:login/jobs`: creating and listing jobs are decided by the caller's
//!   active roles themselves (the jobs root carries no tags here; Manta
//!   read the tags of `~~/jobs`), and creating also needs `putobject` and
//!   `putdirectory` (`MissingPermission`, as muskie); everything under a
//!   job's directory is decided by that directory's tags ([`super::jobs`]);
//! - `/:login/uploads`: every call on an upload is decided as `putobject`
//!   on its target object; listing the uploads is refused.

use super::conditions::Context;
use super::decide;
use super::policy::Action;
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::manta::{Lookup, Req};
use crate::path::MantaPath;
use axum::http::Method;
use client_sdk::types::{DIRECTORY_CONTENT_TYPE, LINK_CONTENT_TYPE};

/// The values a request offers its rules' conditions (`overwrite` is set
/// per entry).
pub(crate) fn context(req: &Req) -> Context {
    let header = |n: &str| {
        req.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    Context {
        sourceip: req.peer,
        now_ms: crate::time::now_ms(),
        fromjob: matches!(req.access, Access::Roles { fromjob: true, .. }),
        overwrite: None,
        method: req.method.to_string(),
        owner: req.account.login.clone(),
        user_agent: header("user-agent"),
        referer: header("referer"),
        active_roles: Vec::new(),
    }
}

/// A sub-user's request, as the checks need it.
pub(crate) struct Who<'a> {
    pub(crate) name: String,
    pub(crate) active: &'a [String],
    pub(crate) ctx: Context,
}

impl Who<'_> {
    /// `None` for a caller with full access.
    pub(crate) fn of(req: &Req) -> Option<Who<'_>> {
        let Access::Roles { user, active, .. } = &req.access else {
            return None;
        };
        Some(Who {
            name: format!("{}/{user}", req.account.login),
            active,
            ctx: context(req),
        })
    }

    /// [`decide::check`] with this caller.
    pub(crate) fn check(
        &self,
        req: &Req,
        tags: &[String],
        action: Action,
        path: &str,
        overwrite: Option<bool>,
    ) -> Result<()> {
        let mut ctx = self.ctx.clone();
        ctx.overwrite = overwrite;
        decide::check(
            &req.account,
            &self.name,
            self.active,
            tags,
            action,
            path,
            &ctx,
        )
    }
}

/// Refuses the request unless the caller's access allows it on the entry
/// it touches.
///
/// # Errors
/// `NoMatchingRoleTag`, `AuthorizationFailed`, `MissingPermission`;
/// metadata errors.
pub(crate) async fn enforce(req: &Req, content_type: Option<&str>) -> Result<()> {
    let Some(who) = Who::of(req) else {
        return Ok(());
    };
    let path = req.path.display();
    match req.path.tree.as_deref() {
        Some("stor" | "public") | None => {}
        Some("jobs") => return super::jobs::enforce(req, &who).await,
        Some("uploads") => return enforce_upload(req, &who).await,
        _ => {
            return Err(Error::AuthorizationFailed(format!(
                "{} is not allowed to access {path}: sub-users may use only /stor, /public, \
                 their jobs and uploads",
                who.name
            )))
        }
    }
    let Some((action, tags, overwrite)) = target(req, &req.path, content_type).await? else {
        return Ok(());
    };
    who.check(req, &tags, action, &path, Some(overwrite))?;
    if action == Action::PutLink {
        check_link_source(req, &who).await?;
    }
    Ok(())
}

/// The action, the role tags that decide it and whether the entry exists
/// (`overwrite`); `None` when the entry (or, for a create, its parent) is
/// missing and the handler answers.
pub(crate) async fn target(
    req: &Req,
    path: &MantaPath,
    content_type: Option<&str>,
) -> Result<Option<(Action, Vec<String>, bool)>> {
    let found = req.lookup(path).await?;
    let kind_action = |dir: bool, d: Action, o: Action| if dir { d } else { o };
    match req.method {
        Method::GET | Method::HEAD => Ok(match found {
            Lookup::Root => Some((Action::GetDirectory, Vec::new(), true)),
            Lookup::Missing => None,
            Lookup::Found(_, rec) => Some((
                kind_action(rec.is_dir(), Action::GetDirectory, Action::GetObject),
                rec.roles,
                true,
            )),
        }),
        Method::DELETE => Ok(match found {
            Lookup::Root => Some((Action::DeleteDirectory, Vec::new(), true)),
            Lookup::Missing => None,
            Lookup::Found(_, rec) => Some((
                kind_action(rec.is_dir(), Action::DeleteDirectory, Action::DeleteObject),
                rec.roles,
                true,
            )),
        }),
        Method::PUT => {
            let action = match content_type {
                _ if req.query.get("metadata").is_some_and(|v| v == "true") => match &found {
                    Lookup::Found(_, rec) if !rec.is_dir() => Action::PutObject,
                    _ => Action::PutDirectory,
                },
                Some(DIRECTORY_CONTENT_TYPE) => Action::PutDirectory,
                Some(LINK_CONTENT_TYPE) => Action::PutLink,
                _ => Action::PutObject,
            };
            put_tags(req, path, found)
                .await
                .map(|t| t.map(|(tags, exists)| (action, tags, exists)))
        }
        _ => Err(Error::AuthorizationFailed(format!(
            "{} is not allowed for sub-users on {}",
            req.method,
            path.display()
        ))),
    }
}

/// The tags deciding a write of `path` (already looked up as `found`):
/// its own when it exists, else its parent's; and whether it exists.
async fn put_tags(
    req: &Req,
    path: &MantaPath,
    found: Lookup,
) -> Result<Option<(Vec<String>, bool)>> {
    Ok(match found {
        Lookup::Found(_, rec) => Some((rec.roles, true)),
        Lookup::Root => Some((Vec::new(), true)),
        Lookup::Missing => parent_tags(req, path).await?.map(|t| (t, false)),
    })
}

/// The role tags of `path`'s parent (none for a root directory); `None`
/// when the parent is missing.
async fn parent_tags(req: &Req, path: &MantaPath) -> Result<Option<Vec<String>>> {
    let Some(parent) = path.parent() else {
        return Ok(Some(Vec::new()));
    };
    Ok(match req.lookup(&parent).await? {
        Lookup::Root => Some(Vec::new()),
        Lookup::Missing => None,
        Lookup::Found(_, rec) => Some(rec.roles),
    })
}

/// A snaplink also needs `getobject` on its source.
async fn check_link_source(req: &Req, who: &Who<'_>) -> Result<()> {
    let Some(location) = req.headers.get("location").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let Ok(source) = MantaPath::parse(location.split('?').next().unwrap_or("")) else {
        return Ok(());
    };
    if source.login != req.path.login {
        return Ok(());
    }
    if let Lookup::Found(_, rec) = req.lookup(&source).await? {
        who.check(
            req,
            &rec.roles,
            Action::GetObject,
            &source.display(),
            Some(true),
        )?;
    }
    Ok(())
}

/// May the caller read `path` (an object it hands to a job)? Another
/// account's names are readable only under `/public`; a missing entry
/// cannot be vouched for and is refused (it might be made later by
/// someone the caller cannot read after).
///
/// # Errors
/// `ResourceNotFound`, `AuthorizationFailed`, `NoMatchingRoleTag`.
pub(crate) async fn check_readable(req: &Req, path: &str) -> Result<()> {
    let Some(who) = Who::of(req) else {
        return Ok(());
    };
    let p = MantaPath::parse(path)?;
    if p.login != req.account.login {
        if p.tree.as_deref() == Some("public") {
            return Ok(());
        }
        return Err(Error::AuthorizationFailed(format!(
            "{} is not allowed to access {path}",
            who.name
        )));
    }
    if !matches!(p.tree.as_deref(), Some("stor" | "public")) {
        return Err(Error::AuthorizationFailed(format!(
            "{} may hand jobs only objects under /stor and /public, not {path}",
            who.name
        )));
    }
    match req.lookup(&p).await? {
        Lookup::Found(_, rec) => {
            let action = if rec.is_dir() {
                Action::GetDirectory
            } else {
                Action::GetObject
            };
            who.check(req, &rec.roles, action, path, Some(true))
        }
        Lookup::Root => who.check(req, &[], Action::GetDirectory, path, Some(true)),
        Lookup::Missing => Err(Error::ResourceNotFound {
            path: path.to_string(),
        }),
    }
}

/// Uploads: the caller must be allowed `putobject` on the upload's target
/// (the create checks its target itself, once it has read it).
async fn enforce_upload(req: &Req, who: &Who<'_>) -> Result<()> {
    let parts = &req.path.parts;
    if parts.is_empty() && req.method == Method::POST {
        return Ok(());
    }
    let Some(target) = crate::manta::uploads::target_of(req).await? else {
        if parts.len() <= 1 {
            return Err(Error::AuthorizationFailed(format!(
                "{} is not allowed to list {}: sub-users reach only their uploads",
                who.name,
                req.path.display()
            )));
        }
        // No such upload: its handler answers 404.
        return Ok(());
    };
    check_upload_target(req, &target).await
}

/// May the caller write `target`, an upload's object (`putobject` by the
/// object's tags if it exists, else its parent's)?
///
/// # Errors
/// `NoMatchingRoleTag`, `AuthorizationFailed`.
pub(crate) async fn check_upload_target(req: &Req, target: &str) -> Result<()> {
    let Some(who) = Who::of(req) else {
        return Ok(());
    };
    let path = MantaPath::parse(target)?;
    if path.login != req.account.login || !matches!(path.tree.as_deref(), Some("stor" | "public")) {
        // The create refuses such targets with its own error.
        return Ok(());
    }
    let found = req.lookup(&path).await?;
    if let Some((tags, exists)) = put_tags(req, &path, found).await? {
        who.check(req, &tags, Action::PutObject, target, Some(exists))?;
    }
    Ok(())
}
