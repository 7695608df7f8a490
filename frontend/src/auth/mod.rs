//! Who is calling, and may they touch this path.
//!
//! - [`signature`]: the `Authorization: Signature` header node-manta sends,
//!   and the `Date` clock-skew rules;
//! - [`presign`]: signed URLs as `msign` makes them;
//! - [`keys`]: SSH public keys, fingerprints, signature verification;
//! - [`secrets`]: S3 secrets sealed with the server's key;
//! - [`dev`]: the `mantad dev` account (the operator commands, `mantad
//!   account ...` among them, live with the binary);
//! - [`sigv4`], [`aws_chunked`]: AWS SigV4 verification for the S3 API,
//!   failing with its [`crate::s3::S3Error`]s.
//!
//! The protocol primitives (signing strings, canonical forms, fingerprints,
//! SigV4's derivations) are `client_sdk`'s, one copy that clients sign with
//! and this module verifies with; the client side of signing (tests,
//! `mantad dev` tooling) is `client_sdk::Signer`.
//!
//! [`authenticate`] turns a request into a [`Caller`]; [`authorize`] checks
//! the caller against the path: an account acts only on its own names, and
//! anyone may `GET`/`HEAD` under `/:login/public`; a sub-user of the owner
//! gets its active roles, which [`crate::rbac`] checks against the entry.

pub mod aws_chunked;
pub mod dev;
pub mod keys;
pub(crate) mod presign;
pub mod secrets;
pub(crate) mod signature;
pub mod sigv2;
pub mod sigv4;

#[cfg(test)]
mod aws_chunked_prop;
#[cfg(test)]
mod presign_prop;
#[cfg(test)]
mod signature_prop;
#[cfg(test)]
mod sigv4_prop;

use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::records::AccountRecord;
use crate::state::AppState;
use axum::http::{HeaderMap, Method, Uri};
use std::time::SystemTime;

/// Who sent a request.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    Anonymous,
    Account(Box<AccountRecord>),
    /// An RBAC sub-user of `account` (its login is `user`).
    SubUser {
        account: Box<AccountRecord>,
        user: String,
    },
    /// A task toolbox request of a job a sub-user created: it acts as that
    /// sub-user with the roles it had active at the job's creation (as
    /// Manta's job token carried them), and `fromjob` holds.
    JobUser {
        account: Box<AccountRecord>,
        user: String,
        roles: Vec<String>,
    },
}

/// What [`authorize`] grants before the entry is looked at.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// The owner, or a read of /public: everything the path allows.
    Full,
    /// A sub-user of the owner (or the owner's `anonymous` sub-user) with
    /// these active roles: each request is checked against the role tags
    /// of the entry it touches ([`crate::rbac::enforce`]). `fromjob`: the
    /// request comes from a job's task toolbox.
    Roles {
        user: String,
        active: Vec<String>,
        fromjob: bool,
    },
}

/// Verifies the request's HTTP Signature or signed URL, if it has one.
///
/// # Errors
/// The Manta auth errors: `InvalidHeader`, `RequestExpired`,
/// `InvalidKeyId`, `KeyDoesNotExist`, `InvalidSignature`, ...
pub(crate) async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Caller> {
    let now = SystemTime::now();
    signature::check_date(headers, now)?;
    if let Some(caller) = task_token(state, headers).await? {
        return Ok(caller);
    }
    if let Some(value) = headers.get("authorization") {
        let value = value
            .to_str()
            .map_err(|_| Error::InvalidHeader("Authorization is not text".into()))?;
        let params = signature::parse_authorization(value)?;
        signature::check_signed_date(headers, &params.headers, now)?;
        let signed = signature::signing_string(&params, method, uri, headers)?;
        return verify(
            state,
            &params.key_id,
            &params.algorithm,
            signed.as_bytes(),
            &params.signature,
        )
        .await;
    }
    let pairs = presign::query_pairs(uri);
    if presign::is_presigned(&pairs) {
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let p = presign::check(method, uri, headers, &pairs, now_secs)?;
        let alg = keys::Algorithm::parse(&p.algorithm).map_err(|_| {
            Error::InvalidQueryStringAuthentication(format!(
                "{} is not a supported algorithm",
                p.algorithm
            ))
        })?;
        return verify_with(state, &p.key_id, alg, p.signed.as_bytes(), &p.signature).await;
    }
    Ok(Caller::Anonymous)
}

/// A job task's toolbox request, forwarded by its node's agent with the
/// task's credential (`jobs::task_token`): the job's owner, or the
/// sub-user that created the job, with the roles it had then.
async fn task_token(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>> {
    let Some(value) = headers.get(jobs::task_token::HEADER) else {
        return Ok(None);
    };
    let grant = value
        .to_str()
        .ok()
        .and_then(|t| jobs::task_token::verify(state.meta.cluster_key(), t))
        .ok_or(Error::InvalidSignature)?;
    let account = state.accounts.resolve(&grant.login).await?;
    let job = state
        .jobs
        .job(account.uuid.as_str(), &grant.job_id)
        .await
        .map_err(|e| Error::Internal(format!("read job {}: {e}", grant.job_id)))?;
    Ok(Some(match job.and_then(|j| j.caller) {
        Some(c) => Caller::JobUser {
            account: Box::new(account),
            user: c.user,
            roles: c.roles,
        },
        None => Caller::Account(Box::new(account)),
    }))
}

async fn verify(
    state: &AppState,
    key_id: &str,
    algorithm: &str,
    data: &[u8],
    sig: &[u8],
) -> Result<Caller> {
    let alg = keys::Algorithm::parse(algorithm)?;
    verify_with(state, key_id, alg, data, sig).await
}

async fn verify_with(
    state: &AppState,
    key_id: &str,
    alg: keys::Algorithm,
    data: &[u8],
    sig: &[u8],
) -> Result<Caller> {
    let kid = signature::parse_key_id(key_id)?;
    let missing = || Error::KeyDoesNotExist {
        key_id: key_id.to_string(),
    };
    if let Some(user) = kid.user {
        let (account, key) = state
            .accounts
            .user_ssh_key(&kid.login, &user, &kid.fingerprint)
            .await?
            .ok_or_else(missing)?;
        keys::verify(&key, alg, data, sig)?;
        return Ok(Caller::SubUser {
            account: Box::new(account),
            user,
        });
    }
    let (account, key) = state
        .accounts
        .ssh_key(&kid.login, &kid.fingerprint)
        .await?
        .ok_or_else(missing)?;
    keys::verify(&key, alg, data, sig)?;
    Ok(Caller::Account(Box::new(account)))
}

/// May `caller` do `method` on `path` of `owner`? The owner may do
/// anything, anyone may read /public; a sub-user of the owner (and an
/// anonymous caller, when the owner has an `anonymous` sub-user) gets
/// [`Access::Roles`], decided per entry. `role` is the `Role` header.
///
/// # Errors
/// `AuthorizationFailed`; `InvalidRole` for a `Role` the sub-user cannot
/// take.
pub(crate) fn authorize(
    caller: &Caller,
    owner: &AccountRecord,
    path: &MantaPath,
    method: &Method,
    role: Option<&str>,
) -> Result<Access> {
    if let Caller::Account(a) = caller {
        if a.uuid == owner.uuid {
            return Ok(Access::Full);
        }
    }
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if read && path.tree.as_deref() == Some("public") {
        return Ok(Access::Full);
    }
    let user = match caller {
        Caller::SubUser { account, user } if account.uuid == owner.uuid => Some(user.as_str()),
        Caller::Anonymous => owner
            .user(crate::rbac::ANONYMOUS_USER)
            .map(|u| u.login.as_str()),
        _ => None,
    };
    if let Some(user) = user {
        let active = crate::rbac::decide::active_roles(owner, user, role)?;
        return Ok(Access::Roles {
            user: user.to_string(),
            active,
            fromjob: false,
        });
    }
    if let Caller::JobUser {
        account,
        user,
        roles,
    } = caller
    {
        if account.uuid == owner.uuid {
            // The job's roles, as far as the user still has them: removing
            // the user or its membership cuts its running jobs off too.
            let active = crate::rbac::decide::job_roles(owner, user, roles)?;
            return Ok(Access::Roles {
                user: user.clone(),
                active,
                fromjob: true,
            });
        }
    }
    let who = match caller {
        Caller::Anonymous => "anonymous".to_string(),
        Caller::Account(a) => a.login.clone(),
        Caller::SubUser { account, user } | Caller::JobUser { account, user, .. } => {
            format!("{}/{user}", account.login)
        }
    };
    Err(Error::AuthorizationFailed(format!(
        "{who} is not allowed to access {}",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(login: &str) -> AccountRecord {
        AccountRecord::new(login)
    }

    #[test]
    fn owner_public_and_others() {
        let owner = acct("aa");
        let other = Caller::Account(Box::new(acct("bb")));
        let me = Caller::Account(Box::new(owner.clone()));
        let stor = MantaPath::parse("/aa/stor/x").unwrap();
        let public = MantaPath::parse("/aa/public/x").unwrap();
        assert!(authorize(&me, &owner, &stor, &Method::PUT, None).is_ok());
        for c in [&Caller::Anonymous, &other] {
            assert!(authorize(c, &owner, &public, &Method::GET, None).is_ok());
            assert!(authorize(c, &owner, &public, &Method::HEAD, None).is_ok());
            assert!(authorize(c, &owner, &public, &Method::PUT, None).is_err());
            assert!(authorize(c, &owner, &stor, &Method::GET, None).is_err());
            assert!(authorize(c, &owner, &stor, &Method::DELETE, None).is_err());
        }
        // A sub-user of another account, even with the same user name.
        let mut bb = acct("bb");
        bb.users.push(crate::rbac::SubUserRecord {
            uuid: "u".into(),
            login: "alice".into(),
            keys: vec![],
            created_ms: 0,
        });
        let stranger = Caller::SubUser {
            account: Box::new(bb),
            user: "alice".into(),
        };
        assert!(matches!(
            authorize(&stranger, &owner, &stor, &Method::GET, None),
            Err(Error::AuthorizationFailed(_))
        ));
    }
}
