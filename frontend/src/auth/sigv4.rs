//! AWS Signature Version 4, server side, for the S3 API: the
//! `Authorization: AWS4-HMAC-SHA256 ...` header form and the presigned
//! `X-Amz-*` query form, `UNSIGNED-PAYLOAD`, and the seed of a streaming
//! `aws-chunked` upload (whose chunks [`super::aws_chunked`] verifies).
//!
//! Use: [`parse`] the request, look the access key up (its secret, see
//! `Accounts::s3_secret`), then [`verify`] with the secret. Errors are the
//! S3 API's [`S3Error`]s, rendered as S3's XML.
//!
//! The canonical request, string to sign and key derivation are
//! `client_sdk::sigv4`'s, the same functions clients sign with; this module
//! parses, checks times and compares. Its tests hold AWS's published
//! examples, so a bug shared with the client would still show.

use crate::s3::S3Error;
use axum::http::HeaderMap;
pub use client_sdk::sigv4::{
    format_amz_date, signing_key, string_to_sign, ALGORITHM, EMPTY_SHA256, STREAMING_PAYLOAD,
    UNSIGNED_PAYLOAD,
};
use client_sdk::sigv4::{query_pairs, scope, signature};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

/// How far a request's time may be from ours (S3's 15 minutes).
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Longest presigned URL lifetime S3 accepts (7 days).
pub(crate) const MAX_EXPIRES: u64 = 7 * 24 * 3600;

/// The parts of an HTTP request SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
}

/// What the payload hash line of the canonical request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `UNSIGNED-PAYLOAD`: the body is not covered.
    Unsigned,
    /// The hex SHA-256 the body must have (the caller checks it, e.g. with
    /// [`check_payload`]).
    Sha256(String),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: an `aws-chunked` body whose
    /// chunks are signed in a chain from the seed signature.
    Streaming,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: as `Streaming`, with
    /// signed trailers after the final chunk.
    StreamingTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `aws-chunked` framing with
    /// trailers (a checksum), nothing signed (what SDKs send over TLS).
    UnsignedTrailer,
}

pub const STREAMING_TRAILER_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const UNSIGNED_TRAILER_PAYLOAD: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

impl Payload {
    fn as_str(&self) -> &str {
        match self {
            Payload::Unsigned => UNSIGNED_PAYLOAD,
            Payload::Sha256(h) => h,
            Payload::Streaming => STREAMING_PAYLOAD,
            Payload::StreamingTrailer => STREAMING_TRAILER_PAYLOAD,
            Payload::UnsignedTrailer => UNSIGNED_TRAILER_PAYLOAD,
        }
    }
}

/// A parsed SigV4 authorization (header or query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub access_key_id: String,
    /// `yyyymmdd` of the credential scope.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// Presigned: seconds the URL is valid after `amz_date`.
    pub expires: Option<u64>,
    pub payload: Payload,
}

impl Auth {
    pub fn scope(&self) -> String {
        scope(&self.scope_date, &self.region, &self.service)
    }

    pub(crate) fn is_presigned(&self) -> bool {
        self.expires.is_some()
    }
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub access_key_id: String,
    pub payload: Payload,
    /// The request's signature: the seed of an `aws-chunked` chain.
    pub(crate) seed_signature: String,
    pub(super) signing_key: [u8; 32],
    pub(super) amz_date: String,
    pub(super) scope: String,
}

/// Finds and parses the SigV4 credentials of a request; `Ok(None)` when it
/// carries none (anonymous).
///
/// # Errors
/// `AuthorizationHeaderMalformed`, `AuthorizationQueryParametersError`,
/// `InvalidRequest` (no `x-amz-content-sha256`), `InvalidArgument` (another
/// scheme).
pub fn parse(req: &Request) -> Result<Option<Auth>, S3Error> {
    if let Some(v) = req.headers.get("authorization") {
        let v = v.to_str().map_err(|_| {
            S3Error::AuthorizationHeaderMalformed("Authorization is not text".into())
        })?;
        return parse_header(v, req.headers).map(Some);
    }
    let pairs = query_pairs(req.query);
    if pairs
        .iter()
        .any(|(k, _)| k == "X-Amz-Signature" || k == "X-Amz-Credential")
    {
        return parse_query(&pairs, req.headers).map(Some);
    }
    Ok(None)
}

fn parse_header(v: &str, headers: &HeaderMap) -> Result<Auth, S3Error> {
    // SigV2's `AWS key:sig` is taken before this; anything else is a
    // scheme S3 does not know (AWS's words for it).
    let rest = v
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| S3Error::InvalidArgument("Unsupported Authorization Type".into()))?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", c)) => credential = Some(c.trim()),
            Some(("SignedHeaders", s)) => signed = Some(s.trim()),
            Some(("Signature", s)) => signature = Some(s.trim()),
            _ => {}
        }
    }
    let missing = |n: &str| {
        S3Error::AuthorizationHeaderMalformed(format!("the authorization header lacks {n}"))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let amz_date = header_date(headers)?;
    let payload = match header(headers, "x-amz-content-sha256") {
        Some(p) => payload_of(p)?,
        None => {
            return Err(S3Error::InvalidRequest(
                "Missing required header for this request: x-amz-content-sha256".into(),
            ))
        }
    };
    build(
        credential,
        signed,
        signature,
        amz_date,
        None,
        payload,
        S3Error::AuthorizationHeaderMalformed,
    )
}

fn parse_query(pairs: &[(String, String)], headers: &HeaderMap) -> Result<Auth, S3Error> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                S3Error::AuthorizationQueryParametersError(format!(
                    "Query-string authentication requires {k}"
                ))
            })
    };
    if get("X-Amz-Algorithm")? != ALGORITHM {
        return Err(S3Error::AuthorizationQueryParametersError(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    let expires: u64 = get("X-Amz-Expires")?.parse().map_err(|_| {
        S3Error::AuthorizationQueryParametersError("X-Amz-Expires should be a number".into())
    })?;
    if expires > MAX_EXPIRES {
        return Err(S3Error::AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds)".into(),
        ));
    }
    let payload = match header(headers, "x-amz-content-sha256") {
        Some(p) => payload_of(p)?,
        None => Payload::Unsigned,
    };
    build(
        get("X-Amz-Credential")?,
        get("X-Amz-SignedHeaders")?,
        get("X-Amz-Signature")?,
        get("X-Amz-Date")?.to_string(),
        Some(expires),
        payload,
        S3Error::AuthorizationQueryParametersError,
    )
}

fn build(
    credential: &str,
    signed: &str,
    signature: &str,
    amz_date: String,
    expires: Option<u64>,
    payload: Payload,
    bad: fn(String) -> S3Error,
) -> Result<Auth, S3Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [id, date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(bad(format!("malformed credential {credential:?}")));
    };
    if parse_amz_date(&amz_date).is_none() {
        return Err(bad(format!("malformed date {amz_date:?}")));
    }
    // The whole `yyyymmdd`: a prefix test alone let an empty or partial
    // scope date through.
    if date.len() != 8 || !amz_date.starts_with(date) {
        return Err(bad(format!(
            "credential date {date} does not match request date {amz_date}"
        )));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(bad("SignedHeaders must include host".to_string()));
    }
    Ok(Auth {
        access_key_id: id.to_string(),
        scope_date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
        amz_date,
        expires,
        payload,
    })
}

fn payload_of(v: &str) -> Result<Payload, S3Error> {
    match v {
        UNSIGNED_PAYLOAD => Ok(Payload::Unsigned),
        STREAMING_PAYLOAD => Ok(Payload::Streaming),
        STREAMING_TRAILER_PAYLOAD => Ok(Payload::StreamingTrailer),
        UNSIGNED_TRAILER_PAYLOAD => Ok(Payload::UnsignedTrailer),
        h if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Payload::Sha256(h.to_ascii_lowercase()))
        }
        other => Err(S3Error::InvalidRequest(format!(
            "x-amz-content-sha256 {other:?} is not supported"
        ))),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `x-amz-date`, else `Date` (an HTTP date) turned into the same form.
fn header_date(headers: &HeaderMap) -> Result<String, S3Error> {
    if let Some(d) = header(headers, "x-amz-date") {
        return Ok(d.trim().to_string());
    }
    let d = header(headers, "date").ok_or_else(|| {
        S3Error::SignatureRefused(
            "AWS authentication requires a valid Date or x-amz-date header".into(),
        )
    })?;
    let t = httpdate::parse_http_date(d.trim())
        .map_err(|_| S3Error::SignatureRefused("the Date header is not a valid date".into()))?;
    Ok(format_amz_date(t))
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?.assume_utc();
    Some(SystemTime::from(t))
}

/// Checks the signature of `req` made with `secret`, and its time.
///
/// # Errors
/// `SignatureDoesNotMatch`, `RequestTimeTooSkewed` (header form more than 15
/// minutes off), `AccessDenied` (presigned URL expired or not yet valid).
pub fn verify(
    req: &Request,
    auth: &Auth,
    secret: &str,
    now: SystemTime,
) -> Result<Verified, S3Error> {
    refuse_unsigned_amz_headers(req.headers, &auth.signed_headers)?;
    verify_signed(req, auth, secret, now)
}

/// [`verify`] without the unsigned-header rule: the time window and the
/// signature over what was signed (AWS's published vectors sign less
/// than S3 requires).
pub(super) fn verify_signed(
    req: &Request,
    auth: &Auth,
    secret: &str,
    now: SystemTime,
) -> Result<Verified, S3Error> {
    let t = parse_amz_date(&auth.amz_date)
        .ok_or_else(|| S3Error::SignatureRefused("malformed request date".into()))?;
    let ahead = t.duration_since(now).unwrap_or_default();
    let behind = now.duration_since(t).unwrap_or_default();
    match auth.expires {
        None if ahead > MAX_SKEW || behind > MAX_SKEW => return Err(S3Error::RequestTimeTooSkewed),
        Some(_) if ahead > MAX_SKEW => return Err(S3Error::RequestNotYetValid),
        Some(exp) if behind > Duration::from_secs(exp) => return Err(S3Error::RequestExpired),
        _ => {}
    }
    let canonical = canonical_request(req, auth)?;
    let scope = auth.scope();
    let sts = string_to_sign(&auth.amz_date, &scope, &canonical);
    let key = signing_key(secret, &auth.scope_date, &auth.region, &auth.service);
    let expected = signature(&key, &sts);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(S3Error::SignatureDoesNotMatch(format!(
            "request signed by {}",
            auth.access_key_id
        )));
    }
    Ok(Verified {
        access_key_id: auth.access_key_id.clone(),
        payload: auth.payload.clone(),
        seed_signature: expected,
        signing_key: key,
        amz_date: auth.amz_date.clone(),
        scope,
    })
}

/// AWS's rule: every `x-amz-*` header present must be signed. Without it
/// whoever holds a presigned PUT URL could add an unsigned
/// `x-amz-copy-source` and turn the PUT into a copy of any object the
/// signer owns (or change its ACL, metadata, checksum ...).
///
/// # Errors
/// `AccessDenied` naming the unsigned headers.
fn refuse_unsigned_amz_headers(headers: &HeaderMap, signed: &[String]) -> Result<(), S3Error> {
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-amz-") && !signed.iter().any(|s| s == k))
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(S3Error::AccessDenied(format!(
        "There were headers present in the request which were not signed: {}",
        unsigned.join(", ")
    )))
}

/// The canonical request of AWS's SigV4 documentation, from the request
/// as received.
///
/// # Errors
/// `AccessDenied` when a signed header is absent.
pub fn canonical_request(req: &Request, auth: &Auth) -> Result<String, S3Error> {
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let values: Vec<&str> = req
            .headers
            .get_all(name.as_str())
            .iter()
            // The bytes as sent: a UTF-8 value (user metadata) is signed
            // as it is, not dropped.
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .collect();
        if values.is_empty() {
            return Err(S3Error::SignatureRefused(format!(
                "signed header {name} is missing"
            )));
        }
        headers.push((name.as_str(), values));
    }
    Ok(client_sdk::sigv4::canonical_request(
        req.method,
        req.path,
        req.query,
        auth.is_presigned(),
        &headers,
        auth.payload.as_str(),
    ))
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a body against the `x-amz-content-sha256` it was signed with.
///
/// # Errors
/// `XAmzContentSHA256Mismatch`.
pub fn check_payload(payload: &Payload, body: &[u8]) -> Result<(), S3Error> {
    match payload {
        Payload::Sha256(h) if *h != hex::encode(Sha256::digest(body)) => {
            Err(S3Error::ContentSha256Mismatch)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
