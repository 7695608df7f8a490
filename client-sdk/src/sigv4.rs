//! AWS Signature Version 4, the pieces both ends compute: the canonical
//! request (URI, query, headers), the string to sign, the signing key and
//! its HMACs, and the `Authorization` header a client sends. The frontend's
//! S3 API verifies with these same functions; both sides test them against
//! AWS's published examples, not against each other.
//!
//! Everything here is a pure function over plain strings, so any HTTP
//! client (reqwest, the bench, a test) can sign with it.

use crate::path::{rfc3986, RFC3986};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use std::time::SystemTime;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// Hex SHA-256 of the empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// AWS's `UriEncode`: everything but `A-Za-z0-9-_.~` escaped (the same set
/// as [`crate::path::RFC3986`]).
pub fn uri_encode(s: &str) -> String {
    rfc3986(s)
}

/// Each path segment decoded, then encoded once (S3 does not double-encode
/// nor normalise the path). `path` is as sent.
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    path.split('/')
        .map(|seg| {
            let raw: Vec<u8> = percent_decode_str(seg).collect();
            percent_encoding::percent_encode(&raw, RFC3986).to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The pairs of a raw query string, percent-decoded, in the order sent; a
/// key without `=` has an empty value.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The raw query's pairs encoded, sorted by key then value; a presigned
/// request's `X-Amz-Signature` left out.
pub fn canonical_query(query: Option<&str>, presigned: bool) -> String {
    // Re-encode the bytes sent, not `query_pairs`' lossy UTF-8: `%FF` must
    // stay `%FF`, as the client signed it.
    let encode = |s: &str| {
        let raw: Vec<u8> = percent_decode_str(s).collect();
        percent_encoding::percent_encode(&raw, RFC3986).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (encode(k), encode(v)))
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value\n`: the values of one header (all of them, in order) with
/// runs of whitespace collapsed, joined with `,`.
fn canonical_header(name: &str, values: &[&str]) -> String {
    let values: Vec<String> = values
        .iter()
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    format!("{name}:{}\n", values.join(","))
}

/// The canonical request of AWS's SigV4 documentation. `path` and `query`
/// are as sent (`query` without `?`); `headers` are the signed headers, in
/// order, lower-case, each with all its values; `payload` is the hex
/// SHA-256 of the body or one of the payload markers.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: Option<&str>,
    presigned: bool,
    headers: &[(&str, Vec<&str>)],
    payload: &str,
) -> String {
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| canonical_header(n, v))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload}",
        canonical_uri(path),
        canonical_query(query, presigned),
        signed.join(";")
    )
}

/// `yyyymmdd/region/service/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex SHA-256 of the request>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The key the secret derives for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// HMAC-SHA256.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The hex signature of a string to sign.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// `yyyymmddThhmmssZ` (UTC).
pub fn format_amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An access key and where it signs: what a client needs to sign requests.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret: String,
    pub region: String,
    /// `s3` for the S3 API.
    pub service: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The `Authorization` header value for a request made at `amz_date`
    /// (`yyyymmddThhmmssZ`, also sent as `x-amz-date`); arguments as
    /// [`canonical_request`]'s, `host` and `x-amz-date` among `headers`.
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &[(&str, Vec<&str>)],
        payload: &str,
        amz_date: &str,
    ) -> String {
        let day = amz_date.get(..8).unwrap_or(amz_date);
        let scope = scope(day, &self.region, &self.service);
        let canonical = canonical_request(method, path, query, false, headers, payload);
        let key = signing_key(&self.secret, day, &self.region, &self.service);
        let sig = signature(&key, &string_to_sign(amz_date, &scope, &canonical));
        let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            self.access_key,
            signed.join(";")
        )
    }
}

#[cfg(test)]
mod tests;
