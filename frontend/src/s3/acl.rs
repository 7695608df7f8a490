//! Canned ACLs on buckets and objects: `private` (the default),
//! `public-read`, `public-read-write` and `authenticated-read`, set with
//! `x-amz-acl` (CreateBucket, PutObject, CopyObject,
//! CreateMultipartUpload, Put*Acl) or an `AccessControlPolicy` body that
//! amounts to one of them, and read back as AWS's `AccessControlPolicy`.
//!
//! What they open (everything else stays the owner's): a bucket's READ
//! lets others list it and read its objects; its WRITE lets them write and
//! delete keys; an object's READ lets others read that object. Objects
//! belong to the bucket's owner whoever wrote them (AWS's "bucket owner
//! enforced" ownership), so only the owner reads or changes ACLs.

use super::records::{BucketRecord, S3Object};
use super::xml::{self, Xml};
use super::{S3Error, S3Req, S3Result};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Canned {
    Private,
    PublicRead,
    PublicReadWrite,
    AuthenticatedRead,
}

/// What a caller asks of a bucket or object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Perm {
    Read,
    Write,
}

impl Canned {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Canned::Private => "private",
            Canned::PublicRead => "public-read",
            Canned::PublicReadWrite => "public-read-write",
            Canned::AuthenticatedRead => "authenticated-read",
        }
    }

    /// # Errors
    /// `InvalidArgument` for an unknown name, `NotImplemented` for the
    /// canned ACLs of features we lack.
    pub(crate) fn parse(s: &str) -> S3Result<Canned> {
        match s.trim() {
            "private" | "bucket-owner-read" | "bucket-owner-full-control" => Ok(Canned::Private),
            "public-read" => Ok(Canned::PublicRead),
            "public-read-write" => Ok(Canned::PublicReadWrite),
            "authenticated-read" => Ok(Canned::AuthenticatedRead),
            "aws-exec-read" | "log-delivery-write" => {
                Err(S3Error::NotImplemented(format!("the {s} ACL")))
            }
            other => Err(S3Error::InvalidArgument(format!(
                "invalid canned ACL {other:?}"
            ))),
        }
    }

    /// A stored name (`None`: private).
    pub(crate) fn of(stored: Option<&str>) -> Canned {
        stored
            .and_then(|s| Canned::parse(s).ok())
            .unwrap_or(Canned::Private)
    }

    /// The groups granted something, and what.
    fn grants(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Canned::Private => &[],
            Canned::PublicRead => &[(ALL_USERS, "READ")],
            Canned::PublicReadWrite => &[(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
            Canned::AuthenticatedRead => &[(AUTHENTICATED_USERS, "READ")],
        }
    }

    /// Whether someone who is not the owner may `perm`; `authenticated`
    /// when they signed with an account's key.
    pub(crate) fn allows(self, perm: Perm, authenticated: bool) -> bool {
        match (self, perm) {
            (Canned::PublicRead, Perm::Read) | (Canned::PublicReadWrite, _) => true,
            (Canned::AuthenticatedRead, Perm::Read) => authenticated,
            _ => false,
        }
    }
}

/// The `x-amz-acl` of a request, as stored (`None`: private).
///
/// # Errors
/// As [`Canned::parse`]; `NotImplemented` for `x-amz-grant-*` headers.
pub(crate) fn requested(req: &S3Req) -> S3Result<Option<String>> {
    if req
        .headers
        .keys()
        .any(|k| k.as_str().starts_with("x-amz-grant-"))
    {
        return Err(S3Error::NotImplemented("x-amz-grant-* headers".into()));
    }
    match req.header("x-amz-acl") {
        None => Ok(None),
        Some(v) => match Canned::parse(v)? {
            Canned::Private => Ok(None),
            c => Ok(Some(c.name().to_string())),
        },
    }
}

/// The canned ACL an `AccessControlPolicy` body amounts to: the owner's
/// FULL_CONTROL plus the group grants of one canned ACL.
///
/// # Errors
/// `MalformedACLError` for a policy that is not XML we read,
/// `NotImplemented` for grants no canned ACL makes.
fn from_policy(doc: &str, owner: &str) -> S3Result<Canned> {
    let mut groups: Vec<(String, String)> = Vec::new();
    for g in xml::elements(doc, "Grant")? {
        let perm = xml::text(g, "Permission")?.ok_or(S3Error::MalformedAcl)?;
        let perm = perm.trim().to_string();
        match (xml::text(g, "ID")?, xml::text(g, "URI")?) {
            (Some(id), None) if id.trim() == owner && perm == "FULL_CONTROL" => {}
            (None, Some(uri)) => groups.push((uri.trim().to_string(), perm)),
            _ => return Err(unsupported()),
        }
    }
    groups.sort();
    for c in [
        Canned::Private,
        Canned::PublicRead,
        Canned::PublicReadWrite,
        Canned::AuthenticatedRead,
    ] {
        let mut want: Vec<(String, String)> = c
            .grants()
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect();
        want.sort();
        if want == groups {
            return Ok(c);
        }
    }
    Err(unsupported())
}

fn unsupported() -> S3Error {
    S3Error::NotImplemented(
        "ACLs other than private, public-read, public-read-write and authenticated-read".into(),
    )
}

/// The ACL a Put*Acl request sets: its `x-amz-acl`, else its body.
async fn acl_to_set(req: &S3Req, body: Body, owner: &str) -> S3Result<Option<String>> {
    if req.headers.contains_key("x-amz-acl") {
        return requested(req);
    }
    let raw = super::store::read_small(body, MAX_BODY).await?;
    let doc = std::str::from_utf8(&raw).map_err(|_| S3Error::MalformedAcl)?;
    if xml::elements(doc, "AccessControlPolicy")?.is_empty() {
        return Err(S3Error::MalformedAcl);
    }
    Ok(match from_policy(doc, owner)? {
        Canned::Private => None,
        c => Some(c.name().to_string()),
    })
}

/// AWS's `AccessControlPolicy` for a canned ACL.
fn policy(b: &BucketRecord, acl: Canned) -> Response {
    let mut x = Xml::doc();
    x.root("AccessControlPolicy");
    x.open("Owner");
    x.elem("ID", b.owner.as_str());
    x.elem("DisplayName", &b.owner_login);
    x.close("Owner");
    x.open("AccessControlList");
    let xsi = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";
    x.open("Grant");
    x.open_attrs("Grantee", &format!("{xsi} xsi:type=\"CanonicalUser\""));
    x.elem("ID", b.owner.as_str());
    x.elem("DisplayName", &b.owner_login);
    x.close("Grantee");
    x.elem("Permission", "FULL_CONTROL");
    x.close("Grant");
    for (uri, perm) in acl.grants() {
        x.open("Grant");
        x.open_attrs("Grantee", &format!("{xsi} xsi:type=\"Group\""));
        x.elem("URI", uri);
        x.close("Grantee");
        x.elem("Permission", perm);
        x.close("Grant");
    }
    x.close("AccessControlList");
    x.close("AccessControlPolicy");
    x.response()
}

pub(crate) async fn get_bucket_acl(req: &S3Req) -> S3Result<Response> {
    let b = super::store::bucket(req).await?;
    Ok(policy(&b, Canned::of(b.acl.as_deref())))
}

pub(crate) async fn put_bucket_acl(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = super::store::bucket(req).await?;
    let acl = acl_to_set(req, body, b.owner.as_str()).await?;
    super::buckets::set_acl(req, b, acl).await?;
    Ok(super::buckets::empty(StatusCode::OK))
}

pub(crate) async fn get_object_acl(req: &S3Req) -> S3Result<Response> {
    let b = super::store::bucket(req).await?;
    let key = req.key_name()?;
    let (_, rec) = super::store::existing::<S3Object>(req, &b, key).await?;
    Ok(policy(&b, Canned::of(rec.acl.as_deref())))
}

/// PutObjectAcl: the record rewritten with its new ACL, on condition that
/// it is still the one read (a concurrent write wins; retry).
pub(crate) async fn put_object_acl(req: &S3Req, body: Body) -> S3Result<Response> {
    let b = super::store::bucket(req).await?;
    let key = req.key_name()?;
    let (entry, mut rec) = super::store::existing::<S3Object>(req, &b, key).await?;
    rec.acl = acl_to_set(req, body, b.owner.as_str()).await?;
    let cond = crate::store::WriteCond::Matches(entry.etag);
    super::objects::commit(req, &b, key, &rec, cond).await?;
    Ok(super::buckets::empty(StatusCode::OK))
}
