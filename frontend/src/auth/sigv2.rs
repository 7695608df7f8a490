//! AWS Signature Version 2, server side, for the S3 API: the
//! `Authorization: AWS <key>:<signature>` header form and the presigned
//! `AWSAccessKeyId`/`Expires`/`Signature` query form (`aws s3 presign`'s
//! URLs, boto3's `generate_presigned_url` by default).
//!
//! Use: [`parse`] the request, look the access key up, then [`verify`]
//! with its secret. The string to sign is `client_sdk::sigv2`'s; this
//! module picks its parts out of the request, checks times and compares.
//! Its tests hold AWS's published examples.
//!
//! The rules are SigV4's where SigV2 leaves room: a header-signed request
//! within 15 minutes of our clock, a URL valid at most a week ahead. Every
//! `x-amz-*` header is in the string to sign, so none can be added to a
//! signed request unseen. SigV2 signs no body: it streams unchecked, as
//! with SigV4's `UNSIGNED-PAYLOAD`, except for a signed `Content-MD5`.

use super::sigv4::{constant_time_eq, Request, MAX_EXPIRES, MAX_SKEW};
use crate::s3::S3Error;
use axum::http::HeaderMap;
use client_sdk::sigv2::{canonical_amz_headers, canonical_resource, signature, string_to_sign};
use client_sdk::sigv4::query_pairs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The scheme word of the header form: `AWS <key>:<signature>`.
const SCHEME: &str = "AWS ";

/// A parsed SigV2 authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub access_key_id: String,
    /// Base64, as sent.
    pub signature: String,
    /// Presigned: the Unix second the URL stops working (`Expires`).
    pub expires: Option<u64>,
}

/// Finds and parses the SigV2 credentials of a request; `Ok(None)` when it
/// carries none (it may still carry SigV4's).
///
/// # Errors
/// `InvalidArgument` for an `AWS` header without `key:signature`,
/// `AccessDenied` for a query lacking one of the three parameters or with
/// a non-numeric `Expires`.
pub fn parse(req: &Request) -> Result<Option<Auth>, S3Error> {
    if let Some(v) = req.headers.get("authorization") {
        let Some(rest) = v.as_bytes().strip_prefix(SCHEME.as_bytes()) else {
            return Ok(None);
        };
        return parse_header(rest).map(Some);
    }
    let pairs = query_pairs(req.query);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (id, sig, expires) = (get("AWSAccessKeyId"), get("Signature"), get("Expires"));
    if id.is_none() && sig.is_none() {
        return Ok(None);
    }
    let (Some(id), Some(sig), Some(expires)) = (id, sig, expires) else {
        return Err(S3Error::SignatureRefused(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
                .into(),
        ));
    };
    let expires = expires.parse().map_err(|_| {
        S3Error::SignatureRefused(format!(
            "Invalid date (should be seconds since epoch): {expires}"
        ))
    })?;
    Ok(Some(Auth {
        access_key_id: id.to_string(),
        signature: sig.to_string(),
        expires: Some(expires),
    }))
}

fn parse_header(rest: &[u8]) -> Result<Auth, S3Error> {
    let malformed = || {
        S3Error::InvalidArgument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature".into(),
        )
    };
    let rest = std::str::from_utf8(rest).map_err(|_| malformed())?;
    let (id, sig) = rest.trim().split_once(':').ok_or_else(malformed)?;
    if id.is_empty() || sig.is_empty() {
        return Err(malformed());
    }
    Ok(Auth {
        access_key_id: id.to_string(),
        signature: sig.to_string(),
        expires: None,
    })
}

/// Checks the signature of `req` made with `secret`, and its time.
/// `host_bucket` is the bucket the `Host` named (virtual-hosted style),
/// which the signed resource begins with.
///
/// # Errors
/// `SignatureDoesNotMatch`; `RequestTimeTooSkewed` (header form more than
/// 15 minutes off), `AccessDenied` (no usable date, URL expired),
/// `AuthorizationQueryParametersError` (URL valid for more than a week),
/// `InvalidArgument` (an `x-amz-*` header that is not text).
pub fn verify(
    req: &Request,
    host_bucket: Option<&str>,
    auth: &Auth,
    secret: &str,
    now: SystemTime,
) -> Result<(), S3Error> {
    let date = match auth.expires {
        Some(expires) => {
            check_expires(expires, now)?;
            expires.to_string()
        }
        None => {
            check_skew(req.headers, now)?;
            // AWS's rule: with `x-amz-date` (signed among the amz headers)
            // the Date line is empty.
            match req.headers.contains_key("x-amz-date") {
                true => String::new(),
                false => header(req.headers, "date").unwrap_or_default().to_string(),
            }
        }
    };
    let mut amz = amz_headers(req.headers)?;
    if auth.expires.is_some() {
        // botocore moves the `x-amz-*` headers it signed into the URL.
        amz.extend(
            query_pairs(req.query)
                .into_iter()
                .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-amz-")),
        );
    }
    let mut resources = vec![canonical_resource(host_bucket, req.path, req.query)];
    if host_bucket.is_none() && is_bucket_path(req.path) {
        // botocore signs a path-style bucket request as `/bucket/` while
        // sending `/bucket`; both name the same bucket here.
        let slashed = format!("{}/", req.path);
        resources.push(canonical_resource(None, &slashed, req.query));
    }
    let mut dates = vec![(date, amz.clone())];
    // AWS's own DELETE example signs `x-amz-date` on the Date line and not
    // among the amz headers; accept that form too (it signs the same facts).
    if auth.expires.is_none() {
        if let Some(d) = header(req.headers, "x-amz-date") {
            amz.retain(|(k, _)| !k.eq_ignore_ascii_case("x-amz-date"));
            dates.push((d.to_string(), amz));
        }
    }
    let content_md5 = header(req.headers, "content-md5").unwrap_or_default();
    let content_type = header(req.headers, "content-type").unwrap_or_default();
    for (date, amz) in &dates {
        let amz = canonical_amz_headers(amz.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for resource in &resources {
            let sts = string_to_sign(req.method, content_md5, content_type, date, &amz, resource);
            if constant_time_eq(
                signature(secret, &sts).as_bytes(),
                auth.signature.as_bytes(),
            ) {
                return Ok(());
            }
        }
    }
    Err(S3Error::SignatureDoesNotMatch(format!(
        "SigV2 request signed by {}",
        auth.access_key_id
    )))
}

/// `/<bucket>`: a path naming a bucket and nothing under it.
fn is_bucket_path(path: &str) -> bool {
    path.strip_prefix('/')
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// A header's value, trimmed; `None` when absent or not text.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Every `x-amz-*` header, each value. One that is not text is refused
/// rather than left out of the signature.
fn amz_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut out = Vec::new();
    for (name, value) in headers {
        if !name.as_str().starts_with("x-amz-") {
            continue;
        }
        let value = value
            .to_str()
            .map_err(|_| S3Error::InvalidArgument(format!("header {name} is not text")))?;
        out.push((name.as_str().to_string(), value.to_string()));
    }
    Ok(out)
}

fn check_expires(expires: u64, now: SystemTime) -> Result<(), S3Error> {
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    if expires <= now {
        return Err(S3Error::RequestExpired);
    }
    // SigV2 URLs carry no signing time; capping what is left of their life
    // at SigV4's week keeps a leaked URL from being good for years.
    if expires - now > MAX_EXPIRES {
        return Err(S3Error::AuthorizationQueryParametersError(
            "Expires must be less than a week (in seconds) in the future".into(),
        ));
    }
    Ok(())
}

/// The header form's time (`x-amz-date`, else `Date`) within 15 minutes.
fn check_skew(headers: &HeaderMap, now: SystemTime) -> Result<(), S3Error> {
    let raw = header(headers, "x-amz-date")
        .or_else(|| header(headers, "date"))
        .ok_or_else(|| {
            S3Error::SignatureRefused(
                "AWS authentication requires a valid Date or x-amz-date header".into(),
            )
        })?;
    let t = parse_date(raw).ok_or_else(|| {
        S3Error::SignatureRefused(
            "AWS authentication requires a valid Date or x-amz-date header".into(),
        )
    })?;
    let off = t
        .duration_since(now)
        .or_else(|_| now.duration_since(t))
        .unwrap_or(Duration::MAX);
    if off > MAX_SKEW {
        return Err(S3Error::RequestTimeTooSkewed);
    }
    Ok(())
}

/// An HTTP date (`... GMT`, botocore) or RFC 2822 with an offset
/// (`... +0000`, s3cmd and AWS's examples).
fn parse_date(s: &str) -> Option<SystemTime> {
    if let Ok(t) = httpdate::parse_http_date(s) {
        return Some(t);
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822).ok()?;
    Some(SystemTime::from(t))
}

#[cfg(test)]
mod tests;
