//! ListBuckets (paginated), CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation.
//!
//! A bucket has two records: the global one (names are unique across
//! accounts, as in S3) and one under its owner (ListBuckets is one listing).
//! Create writes the global one first, delete removes it last, so a name is
//! never owned twice.

use super::records::{BucketRecord, DEFAULT_PARTITIONS, S3_RECORD_VERSION};
use super::store::{self, account_bucket_key, global_bucket_key};
use super::xml::Xml;
use super::{S3Error, S3Req, S3Result};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use futures::future::try_join_all;
use metadata_tier::wire::{Condition, Keyspace, ListOptions};

/// ListBuckets: all of them, or pages of `max-buckets` (`continuation-token`
/// resumes after the last name returned), only names starting with
/// `prefix` if given.
pub(crate) async fn list(req: &S3Req) -> S3Result<Response> {
    let account = req.account()?;
    let q = ListBucketsQuery::of(req)?;
    let (buckets, next) = buckets_page(req, &q).await?;
    let mut x = Xml::doc();
    x.root("ListAllMyBucketsResult");
    owner(&mut x, account.uuid.as_str(), &account.login);
    x.open("Buckets");
    for b in &buckets {
        x.open("Bucket");
        x.elem("Name", &b.name);
        x.elem("CreationDate", &crate::time::iso8601(b.created_ms));
        x.elem("BucketRegion", &req.st.cfg.region);
        x.close("Bucket");
    }
    x.close("Buckets");
    if let Some(last) = next {
        x.elem("ContinuationToken", &token_of(&last));
    }
    if !q.prefix.is_empty() {
        x.elem("Prefix", &q.prefix);
    }
    x.close("ListAllMyBucketsResult");
    Ok(x.response())
}

struct ListBucketsQuery {
    prefix: String,
    /// Page size when paginated (`max-buckets`).
    max: Option<usize>,
    /// Resume after this name.
    after: Option<String>,
}

impl ListBucketsQuery {
    fn of(req: &S3Req) -> S3Result<Self> {
        let max = match req.q("max-buckets") {
            None => None,
            Some(m) => Some(
                m.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| {
                        S3Error::InvalidArgument("max-buckets must be between 1 and 10000".into())
                    })?,
            ),
        };
        let after = match req.q("continuation-token") {
            None => None,
            Some(t) => Some(name_of_token(t).ok_or_else(|| {
                S3Error::InvalidArgument("The continuation token provided is incorrect".into())
            })?),
        };
        Ok(ListBucketsQuery {
            prefix: req.q("prefix").unwrap_or_default().to_string(),
            max,
            after,
        })
    }
}

/// The caller's buckets of one page, and the last name when more follow.
async fn buckets_page(
    req: &S3Req,
    q: &ListBucketsQuery,
) -> S3Result<(Vec<BucketRecord>, Option<String>)> {
    let want = q.max.unwrap_or(usize::MAX);
    let (marker, inclusive) = match &q.after {
        Some(a) if a.as_str() >= q.prefix.as_str() => (Some(a.clone()), false),
        _ => ((!q.prefix.is_empty()).then(|| q.prefix.clone()), true),
    };
    let mut opts = ListOptions {
        limit: 1000,
        marker,
        inclusive,
        ..ListOptions::default()
    };
    let mut out = Vec::new();
    loop {
        let page = req
            .st
            .app
            .meta
            .list(Keyspace::Buckets, req.account()?.uuid.as_str(), &opts)
            .await?;
        for e in &page.entries {
            if !e.name.starts_with(&q.prefix) {
                return Ok((out, None));
            }
            if out.len() == want {
                let last = out.last().map(|b: &BucketRecord| b.name.clone());
                return Ok((out, last));
            }
            out.push(store::decode(e)?);
        }
        match page.entries.last() {
            Some(last) if page.entries.len() >= opts.limit => {
                opts.marker = Some(last.name.clone());
                opts.inclusive = false;
            }
            _ => return Ok((out, None)),
        }
    }
}

fn token_of(name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

fn name_of_token(t: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(raw).ok()
}

pub(crate) fn owner(x: &mut Xml, id: &str, name: &str) {
    x.open("Owner");
    x.elem("ID", id);
    x.elem("DisplayName", name);
    x.close("Owner");
}

/// S3's naming rules for new buckets.
///
/// # Errors
/// `InvalidBucketName`.
pub(crate) fn validate_name(name: &str) -> S3Result<()> {
    let bad = |why: &str| Err(S3Error::InvalidBucketName(format!("{name:?}: {why}")));
    if !(3..=63).contains(&name.len()) {
        return bad("must be 3 to 63 characters");
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    if !name.chars().all(ok_char) {
        return bad("only lower-case letters, digits, '.' and '-'");
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge(name.chars().next()) || !edge(name.chars().last()) {
        return bad("must begin and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return bad("adjacent periods or dashes");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("must not look like an IP address");
    }
    if name.starts_with("xn--") || name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return bad("reserved prefix or suffix");
    }
    Ok(())
}

pub(crate) async fn create(req: &S3Req, body: Body) -> S3Result<Response> {
    let account = req.account()?;
    let name = req.bucket_name()?.to_string();
    validate_name(&name)?;
    let acl = super::acl::requested(req)?;
    // The CreateBucketConfiguration body only names a region: one here.
    super::store::read_small(body, 64 * 1024).await?;
    let rec = BucketRecord {
        v: S3_RECORD_VERSION,
        name: name.clone(),
        owner: account.uuid.clone(),
        owner_login: account.login.clone(),
        created_ms: crate::time::now_ms(),
        partitions: DEFAULT_PARTITIONS,
        request_id: req.request_id.clone(),
        acl,
    };
    let value = store::encode(&rec)?;
    let meta = &req.st.app.meta;
    match meta
        .put(global_bucket_key(&name), value.clone(), Condition::Absent)
        .await
    {
        Ok(_) => {}
        Err(metadata_tier::Error::ConditionFailed { current, .. }) => {
            let mine = current
                .and_then(|e| store::decode::<BucketRecord>(&e).ok())
                .is_some_and(|b| b.owner == account.uuid);
            return Err(if mine {
                S3Error::BucketAlreadyOwnedByYou { bucket: name }
            } else {
                S3Error::BucketAlreadyExists { bucket: name }
            });
        }
        Err(e) => return Err(e.into()),
    }
    meta.put(
        account_bucket_key(account.uuid.as_str(), &name),
        value,
        Condition::None,
    )
    .await?;
    let mut resp = empty(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&format!("/{name}")) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

pub(crate) async fn head(req: &S3Req) -> S3Result<Response> {
    store::bucket_for(req, super::acl::Perm::Read).await?;
    let mut resp = empty(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&req.st.cfg.region) {
        resp.headers_mut().insert("x-amz-bucket-region", v);
    }
    Ok(resp)
}

pub(crate) async fn delete(req: &S3Req) -> S3Result<Response> {
    let b = store::bucket(req).await?;
    let meta = &req.st.app.meta;
    let dirs = store::partition_dirs(&b);
    let counts = try_join_all(dirs.iter().map(|d| meta.count(Keyspace::Buckets, d))).await?;
    if counts.iter().any(|&c| c > 0) {
        return Err(S3Error::BucketNotEmpty { bucket: b.name });
    }
    meta.delete(
        account_bucket_key(b.owner.as_str(), &b.name),
        Condition::None,
    )
    .await?;
    meta.delete(global_bucket_key(&b.name), Condition::None)
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) async fn location(req: &S3Req) -> S3Result<Response> {
    store::bucket(req).await?;
    let region = &req.st.cfg.region;
    let mut x = Xml::doc();
    // S3 answers an empty constraint for us-east-1.
    let text = if region == "us-east-1" { "" } else { region };
    x.root_text("LocationConstraint", text);
    Ok(x.response())
}

/// Rewrites both records of `b` with a new canned ACL; the global one only
/// if it is still the record read, so a bucket deleted meanwhile is not
/// brought back.
///
/// # Errors
/// `ConditionalRequestConflict` when the bucket changed; metadata errors.
pub(crate) async fn set_acl(req: &S3Req, b: BucketRecord, acl: Option<String>) -> S3Result<()> {
    let meta = &req.st.app.meta;
    let key = global_bucket_key(&b.name);
    let current = meta.get(&key).await?.ok_or_else(|| S3Error::NoSuchBucket {
        bucket: b.name.clone(),
    })?;
    let rec = BucketRecord { acl, ..b };
    let value = store::encode(&rec)?;
    let cond = Condition::EtagMatches(current.etag);
    match meta.put(key, value.clone(), cond).await {
        Ok(_) => {}
        Err(metadata_tier::Error::ConditionFailed { .. }) => {
            return Err(S3Error::ConditionalRequestConflict)
        }
        Err(e) => return Err(e.into()),
    }
    let mine = account_bucket_key(rec.owner.as_str(), &rec.name);
    meta.put(mine, value, Condition::Exists).await?;
    Ok(())
}

pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}
