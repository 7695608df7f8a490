//! Who may do what to a bucket and its objects: the owner everything;
//! others what the bucket's or the object's canned ACL grants
//! ([`super::acl`]); and every request only if the bucket is owned by whom
//! `x-amz-expected-bucket-owner` says. Anonymous callers are not told which
//! bucket names exist.

use super::acl::{Canned, Perm};
use super::records::{BucketRecord, S3Object};
use super::store::{decode, global_bucket_key};
use super::{S3Error, S3Req, S3Result};

/// The bucket a request names, if the requester owns it (and it is owned
/// by whom `x-amz-expected-bucket-owner` says, if sent).
///
/// # Errors
/// `NoSuchBucket`, `AccessDenied` for another account's bucket.
pub(crate) async fn bucket(req: &S3Req) -> S3Result<BucketRecord> {
    let b = bucket_named(req, req.bucket_name()?).await?;
    expect_owner(req, &b, "x-amz-expected-bucket-owner")?;
    Ok(b)
}

/// The bucket a request names, if the requester owns it or its ACL grants
/// them `perm`.
///
/// # Errors
/// As [`bucket`].
pub(crate) async fn bucket_for(req: &S3Req, perm: Perm) -> S3Result<BucketRecord> {
    let name = req.bucket_name()?;
    let b = lookup(req, name).await?;
    if !is_owner(req, &b) && !Canned::of(b.acl.as_deref()).allows(perm, req.account.is_some()) {
        return Err(denied(name));
    }
    expect_owner(req, &b, "x-amz-expected-bucket-owner")?;
    Ok(b)
}

/// The bucket a request names, whoever owns it: for reads of objects,
/// whose own ACL may open them ([`check_read`] decides).
///
/// # Errors
/// `NoSuchBucket` (`AccessDenied` when anonymous), a wrong expected owner.
pub(crate) async fn bucket_any(req: &S3Req) -> S3Result<BucketRecord> {
    let b = lookup(req, req.bucket_name()?).await?;
    expect_owner(req, &b, "x-amz-expected-bucket-owner")?;
    Ok(b)
}

/// Whether the requester may read an object of `b` (`None`: a missing
/// key): the owner always; others when the bucket's ACL grants READ (its
/// objects with it) or the object's does. A caller who may not list the
/// bucket learns nothing of missing keys.
///
/// # Errors
/// `AccessDenied`.
pub(crate) fn check_read(req: &S3Req, b: &BucketRecord, obj: Option<&S3Object>) -> S3Result<()> {
    let signed = req.account.is_some();
    let by_bucket = Canned::of(b.acl.as_deref()).allows(Perm::Read, signed);
    let by_object = obj.is_some_and(|o| Canned::of(o.acl.as_deref()).allows(Perm::Read, signed));
    if is_owner(req, b) || by_bucket || by_object {
        Ok(())
    } else {
        Err(denied(&b.name))
    }
}

pub(crate) fn is_owner(req: &S3Req, b: &BucketRecord) -> bool {
    req.account.as_ref().is_some_and(|a| a.uuid == b.owner)
}

fn denied(bucket: &str) -> S3Error {
    S3Error::AccessDenied(format!("bucket {bucket}"))
}

/// `x-amz-expected-bucket-owner` (or the copy source's
/// `x-amz-source-expected-bucket-owner`): the canonical id (account uuid)
/// the client expects to own the bucket. A mismatch is refused before
/// anything is read or written.
///
/// # Errors
/// `AccessDenied`.
pub(crate) fn expect_owner(req: &S3Req, b: &BucketRecord, header: &str) -> S3Result<()> {
    match req.header(header) {
        Some(want) if want.trim() != b.owner.as_str() => Err(S3Error::AccessDenied(format!(
            "bucket {} is not owned by the account {header} names",
            b.name
        ))),
        _ => Ok(()),
    }
}

/// # Errors
/// As [`bucket`].
async fn bucket_named(req: &S3Req, name: &str) -> S3Result<BucketRecord> {
    let b = lookup(req, name).await?;
    if !is_owner(req, &b) {
        return Err(denied(name));
    }
    Ok(b)
}

/// The bucket record of `name`, whoever owns it.
///
/// # Errors
/// `NoSuchBucket`; `AccessDenied` instead for an anonymous caller, who is
/// not told which names exist.
pub(crate) async fn lookup(req: &S3Req, name: &str) -> S3Result<BucketRecord> {
    let entry = req.st.app.meta.get(&global_bucket_key(name)).await?;
    match entry {
        Some(e) => decode(&e),
        None if req.account.is_none() => Err(denied(name)),
        None => Err(S3Error::NoSuchBucket {
            bucket: name.to_string(),
        }),
    }
}
