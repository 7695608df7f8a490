//! The RBAC check of one Manta API request by a sub-user: which action it
//! is and which entry's role tags decide (muskie's `storageContext`): the
//! entry itself when it exists, its parent directory for a create. A read
//! or delete of a missing entry passes here and is answered 404 by its
//! handler, as muskie answers.

use super::decide;
use super::policy::Action;
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::manta::{Lookup, Req};
use crate::path::MantaPath;
use axum::http::Method;
use client_sdk::types::{DIRECTORY_CONTENT_TYPE, LINK_CONTENT_TYPE};

/// Refuses the request unless `access` allows it on the entry it touches.
///
/// # Errors
/// `NoMatchingRoleTag`, `AuthorizationFailed`; metadata errors.
pub(crate) async fn enforce(req: &Req, access: &Access, content_type: Option<&str>) -> Result<()> {
    let Access::Roles { user, active } = access else {
        return Ok(());
    };
    let who = format!("{}/{user}", req.account.login);
    let path = req.path.display();
    if !matches!(req.path.tree.as_deref(), Some("stor" | "public") | None) {
        return Err(Error::AuthorizationFailed(format!(
            "{who} is not allowed to access {path}: sub-users may use only /stor and /public"
        )));
    }
    let Some((action, tags)) = target(req, content_type).await? else {
        return Ok(());
    };
    decide::check(&req.account, &who, active, &tags, action, &path)?;
    if action == Action::PutLink {
        check_link_source(req, &who, active).await?;
    }
    Ok(())
}

/// The action and the role tags that decide it; `None` when the entry
/// (or, for a create, its parent) is missing and the handler answers.
async fn target(req: &Req, content_type: Option<&str>) -> Result<Option<(Action, Vec<String>)>> {
    let found = req.lookup(&req.path).await?;
    let kind_action = |dir: bool, d: Action, o: Action| if dir { d } else { o };
    match req.method {
        Method::GET | Method::HEAD => Ok(match found {
            Lookup::Root => Some((Action::GetDirectory, Vec::new())),
            Lookup::Missing => None,
            Lookup::Found(_, rec) => Some((
                kind_action(rec.is_dir(), Action::GetDirectory, Action::GetObject),
                rec.roles,
            )),
        }),
        Method::DELETE => Ok(match found {
            Lookup::Root => Some((Action::DeleteDirectory, Vec::new())),
            Lookup::Missing => None,
            Lookup::Found(_, rec) => Some((
                kind_action(rec.is_dir(), Action::DeleteDirectory, Action::DeleteObject),
                rec.roles,
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
            match found {
                Lookup::Found(_, rec) => Ok(Some((action, rec.roles))),
                Lookup::Root => Ok(Some((action, Vec::new()))),
                Lookup::Missing => parent_tags(req, &req.path)
                    .await
                    .map(|t| t.map(|tags| (action, tags))),
            }
        }
        _ => Err(Error::AuthorizationFailed(format!(
            "{} is not allowed for sub-users on {}",
            req.method,
            req.path.display()
        ))),
    }
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
async fn check_link_source(req: &Req, who: &str, active: &[String]) -> Result<()> {
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
        decide::check(
            &req.account,
            who,
            active,
            &rec.roles,
            Action::GetObject,
            &source.display(),
        )?;
    }
    Ok(())
}
