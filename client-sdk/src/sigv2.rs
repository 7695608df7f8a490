//! AWS Signature Version 2 for S3, the pieces both ends compute: the
//! canonicalized `x-amz-*` headers and resource, the string to sign, and
//! its HMAC-SHA1. The frontend's S3 API verifies with these functions; its
//! tests check AWS's published examples, not this module against itself.
//!
//! SigV2 signs no body and no `Host`: the resource names the bucket, and
//! `Content-MD5` (when sent) is the body's only cover.

use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha1::Sha1;

/// The query parameters that are part of the resource a request signs:
/// AWS's list (sub-resources and `response-*` overrides) together with
/// botocore's (`HmacV1Auth.QSAOfInterest`), so what either signs verifies.
pub const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// `CanonicalizedAmzHeaders`: the `x-amz-*` headers among `headers` (any
/// case, repeated names allowed), names lower-cased and sorted, values
/// trimmed, a repeated header's values joined with `,` in the order sent;
/// one `name:value\n` each.
pub fn canonical_amz_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut amz: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if !name.starts_with("x-amz-") {
            continue;
        }
        match amz.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.trim()),
            None => amz.push((name, vec![value.trim()])),
        }
    }
    amz.sort_by(|a, b| a.0.cmp(&b.0));
    amz.iter()
        .map(|(n, v)| format!("{n}:{}\n", v.join(",")))
        .collect()
}

/// `CanonicalizedResource`: `/<bucket>` when the bucket was named by the
/// host (virtual-hosted style), the path as sent (still percent-encoded),
/// then the [`SUBRESOURCES`] of the raw query sorted by name, their values
/// decoded (`?acl&versionId=3`).
pub fn canonical_resource(host_bucket: Option<&str>, path: &str, query: Option<&str>) -> String {
    let mut out = match host_bucket {
        Some(b) => format!("/{b}{path}"),
        None => path.to_string(),
    };
    let mut subs: Vec<(&str, Option<String>)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k,
                Some(percent_decode_str(v).decode_utf8_lossy().into_owned()),
            ),
            None => (p, None),
        })
        .filter(|(k, _)| SUBRESOURCES.contains(k))
        .collect();
    // Stable: a repeated name keeps the order sent, as botocore signs it.
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// `Verb\nContent-MD5\nContent-Type\nDate\n<amz headers><resource>`. `date`
/// is the `Date` header, empty when `x-amz-date` is sent (it is then among
/// the amz headers), or a presigned URL's `Expires`.
pub fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date: &str,
    amz_headers: &str,
    resource: &str,
) -> String {
    format!("{method}\n{content_md5}\n{content_type}\n{date}\n{amz_headers}{resource}")
}

/// Base64 of HMAC-SHA1(secret, string to sign).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    use base64::Engine;
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
