//! Sub-users and jobs (docs/rbac.md, "Jobs"), as Manta had them:
//!
//! - `createjob` and `listjobs` are decided by the caller's active roles
//!   (an entry tagged with exactly those roles, as muskie's
//!   `ensurePutAccess` built one), since the jobs root carries no tags
//!   here; creating also needs `putobject` and `putdirectory`
//!   (`MissingPermission`). A listing shows all the account's jobs, as
//!   Manta's did; a job's details need `getjob` on it.
//! - A job's directory `/:login/jobs/<id>` is tagged at creation with the
//!   request's `role-tag`, or else a sub-user's active roles (muskie's
//!   `createMetadata`); its tags decide `getjob` (`GET .../live/*`),
//!   `managejob` (`POST .../live/*`) and everything under the directory.
//! - What a sub-user hands a job must be readable by it: each input when
//!   it is added, each asset when the job is created. The job records its
//!   creator and roles, and its task toolbox acts as that sub-user with
//!   those roles and `fromjob = true` (`crate::auth`), never as the
//!   account.
//! - mlogin (`/:login/medusa/attach/<id>/master`): a sub-user attaches
//!   only to a session of a job it created (the shell's toolbox acts as
//!   the job's creator, so anyone else would borrow its powers), and only
//!   while its active roles allow `managejob` on the job's directory.

use super::enforce::{self, Who};
use super::policy::Action;
use crate::auth::Access;
use crate::error::{Error, Result};
use crate::manta::{Lookup, Req};
use crate::path::MantaPath;
use axum::http::Method;
use jobs::model::JobSpec;
use jobs::supervisor::JobCaller;

/// The check of a request under `/:login/jobs` by a sub-user.
pub(crate) async fn enforce(req: &Req, who: &Who<'_>) -> Result<()> {
    let path = req.path.display();
    let parts: Vec<&str> = req.path.parts.iter().map(String::as_str).collect();
    match (&req.method, parts.as_slice()) {
        (&Method::POST, []) => {
            who.check(req, who.active, Action::CreateJob, &path, None)?;
            for a in [Action::PutObject, Action::PutDirectory] {
                who.check(req, who.active, a, &path, None)
                    .map_err(|_| Error::MissingPermission(a.to_string()))?;
            }
            Ok(())
        }
        (&Method::GET | &Method::HEAD, []) => {
            who.check(req, who.active, Action::ListJobs, &path, None)
        }
        (_, []) => Err(Error::AuthorizationFailed(format!(
            "{} is not allowed to {} {path}",
            who.name, req.method
        ))),
        (m, [id, rest @ ..]) => {
            let tags = job_dir(req, id)
                .await?
                .map(|(_, rec)| rec.roles)
                .unwrap_or_default();
            if rest.first() == Some(&"live") {
                let action = if m == Method::GET || m == Method::HEAD {
                    Action::GetJob
                } else {
                    Action::ManageJob
                };
                return who.check(req, &tags, action, &path, None);
            }
            let ct = req
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok());
            match enforce::target(req, &req.path, ct).await? {
                Some((action, _, exists)) => who.check(req, &tags, action, &path, Some(exists)),
                None => Ok(()),
            }
        }
    }
}

/// Whether `caller` may attach mlogin to the session of job `id`, which
/// `creator` created (`None`: the account did). Only sub-users are
/// checked here; the account's own login was matched by the caller.
///
/// # Errors
/// `AuthorizationFailed`, `NoMatchingRoleTag`, `InvalidRole`; metadata
/// errors.
pub(crate) async fn may_attach(
    state: &crate::state::AppState,
    caller: &crate::auth::Caller,
    creator: Option<&str>,
    id: &str,
    headers: axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<()> {
    let crate::auth::Caller::SubUser { account, user } = caller else {
        return Ok(());
    };
    if creator != Some(user.as_str()) {
        return Err(Error::AuthorizationFailed(format!(
            "{}/{user} may attach only to sessions of jobs it created",
            account.login
        )));
    }
    // Decided as a `POST .../live/*` of the job would be: `managejob` on
    // its directory's tags, with the roles this request makes active.
    let path = MantaPath::parse(&format!("/{}/jobs/{id}/live/attach", account.login))?;
    let role = headers.get("role").and_then(|v| v.to_str().ok());
    let access = crate::auth::authorize(caller, account, &path, &Method::POST, role)?;
    let account = account.as_ref().clone();
    let req = Req {
        state: state.clone(),
        method: Method::POST,
        path,
        account,
        headers,
        query: Default::default(),
        request_id: String::new(),
        access,
        peer,
    };
    let Some(who) = Who::of(&req) else {
        return Ok(());
    };
    enforce(&req, &who).await
}

/// The record of a job's directory, if it exists.
async fn job_dir(
    req: &Req,
    id: &str,
) -> Result<Option<(metadata_tier::wire::Entry, crate::records::ObjectRecord)>> {
    let Ok(path) = MantaPath::parse(&format!("/{}/jobs/{id}", req.account.login)) else {
        return Ok(None);
    };
    Ok(match req.lookup(&path).await? {
        Lookup::Found(e, rec) => Some((*e, *rec)),
        _ => None,
    })
}

/// Whom a new job acts for: the sub-user and its active roles, or `None`
/// for the account.
pub(crate) fn caller(req: &Req) -> Option<JobCaller> {
    match &req.access {
        Access::Roles { user, active, .. } => Some(JobCaller {
            user: user.clone(),
            roles: active.clone(),
        }),
        Access::Full => None,
    }
}

/// The tags a new job's directory gets: the request's `role-tag`, else a
/// sub-user's active roles.
///
/// # Errors
/// `InvalidRoleTag`.
pub(crate) async fn job_tags(req: &Req) -> Result<Vec<String>> {
    if let Some(tags) = super::tags::from_request(req).await? {
        return Ok(tags);
    }
    Ok(match &req.access {
        Access::Roles { active, .. } => active.clone(),
        Access::Full => Vec::new(),
    })
}

/// Tags the job's directory (made by the supervisor) with `tags`.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn tag_job_dir(req: &Req, id: &str, tags: Vec<String>) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let path = MantaPath::parse(&format!("/{}/jobs/{id}", req.account.login))?;
    let Some((dir, name)) = path.key(req.account.uuid.as_str()) else {
        return Ok(());
    };
    // The supervisor may touch the directory meanwhile: a few tries.
    for _ in 0..5 {
        let Some((entry, mut rec)) = job_dir(req, id).await? else {
            return Err(Error::Internal(format!(
                "job directory {} is missing",
                path.display()
            )));
        };
        rec.roles = tags.clone();
        let key = metadata_tier::wire::EntryKey::new(
            metadata_tier::wire::Keyspace::Objects,
            dir.clone(),
            name.clone(),
        );
        match req
            .state
            .store
            .write_record(
                key,
                &path.display(),
                &rec,
                crate::store::WriteCond::Matches(entry.etag.clone()),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(crate::store::Error::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::ConcurrentRequest {
        path: path.display(),
    })
}

/// A sub-user's job may only read what the sub-user may: every asset.
///
/// # Errors
/// As [`enforce::check_readable`].
pub(crate) async fn check_assets(req: &Req, spec: &JobSpec) -> Result<()> {
    for phase in &spec.phases {
        let mlogin = jobs::agent::is_medusa(&phase.exec);
        for a in phase.assets.iter().flatten() {
            // mlogin's agent script and config object are never read by
            // the job (the agent skips them), and the config is written
            // only after the job exists.
            if mlogin && jobs::agent::plumbing_asset(&req.account.login, a) {
                continue;
            }
            enforce::check_readable(req, a).await?;
        }
    }
    Ok(())
}

/// ... and every input.
///
/// # Errors
/// As [`enforce::check_readable`].
pub(crate) async fn check_inputs(req: &Req, paths: &[String]) -> Result<()> {
    for p in paths {
        enforce::check_readable(req, p).await?;
    }
    Ok(())
}
