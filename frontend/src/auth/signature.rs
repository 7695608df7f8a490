//! The `Authorization: Signature ...` header (draft-cavage HTTP Signatures
//! as node-manta's http-signature writes it and muskie parses it), the
//! string it signs, the keyId, and the `Date` clock-skew rules.
//!
//! The signing string itself is `client_sdk::sign::signing_string`, the one
//! the client signs; the tests here check it against the draft's examples
//! and a header node-manta made, not against our own client.

use crate::error::{Error, Result};
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine;
use std::time::{Duration, SystemTime};

/// How far a `Date` may be from the server's clock (restify `dateParser(300)`
/// and http-signature's default `clockSkew`).
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// The parameters of a `Signature` authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureParams {
    pub(crate) key_id: String,
    pub(crate) algorithm: String,
    /// Lower-case header names signed, in order (default `date`).
    pub(crate) headers: Vec<String>,
    pub(crate) signature: Vec<u8>,
}

/// Parses `Signature keyId="..",algorithm="..",headers="..",signature=".."`
/// (any order; quoted or numeric values).
///
/// # Errors
/// `AuthorizationSchemeNotAllowed` for another scheme, `InvalidHeader` for a
/// malformed header or a missing parameter.
pub(crate) fn parse_authorization(value: &str) -> Result<SignatureParams> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("Signature") {
        return Err(Error::AuthorizationSchemeNotAllowed(scheme.to_string()));
    }
    let mut p = Params::default();
    for (k, v) in split_params(rest)? {
        match k.as_str() {
            "keyId" => p.key_id = Some(v),
            "algorithm" => p.algorithm = Some(v),
            "headers" => p.headers = Some(v),
            "signature" => p.signature = Some(v),
            _ => {}
        }
    }
    let missing = |n: &str| Error::InvalidHeader(format!("Authorization: {n} is missing"));
    let signature = base64::engine::general_purpose::STANDARD
        .decode(p.signature.ok_or_else(|| missing("signature"))?.trim())
        .map_err(|_| Error::InvalidHeader("Authorization: signature is not base64".into()))?;
    let headers = p
        .headers
        .map(|h| h.split_whitespace().map(str::to_ascii_lowercase).collect())
        .unwrap_or_else(|| vec!["date".to_string()]);
    Ok(SignatureParams {
        key_id: p.key_id.ok_or_else(|| missing("keyId"))?,
        algorithm: p.algorithm.ok_or_else(|| missing("algorithm"))?,
        headers,
        signature,
    })
}

#[derive(Default)]
struct Params {
    key_id: Option<String>,
    algorithm: Option<String>,
    headers: Option<String>,
    signature: Option<String>,
}

/// `k1="v1",k2=2,...` into pairs; a quoted value may contain commas.
fn split_params(s: &str) -> Result<Vec<(String, String)>> {
    let bad = || Error::InvalidHeader("Authorization: malformed parameters".into());
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').ok_or_else(bad)?;
        let key = key.trim().to_string();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(bad)?;
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        if key.is_empty() {
            return Err(bad());
        }
        out.push((key, value));
        let tail = tail.trim_start();
        rest = match tail.strip_prefix(',') {
            Some(t) => t.trim_start(),
            None if tail.is_empty() => tail,
            None => return Err(bad()),
        };
    }
    Ok(out)
}

/// The string the client signed (see `client_sdk::sign::signing_string`):
/// each listed header as `name: value`, `(request-target)` with the method
/// and path as received, joined with `\n`.
///
/// # Errors
/// `InvalidHeader` when a listed header is absent.
pub(crate) fn signing_string(
    p: &SignatureParams,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<String> {
    let target = uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or_else(|| uri.path());
    client_sdk::sign::signing_string(&p.headers, method.as_str(), target, |name| {
        headers.get(name).and_then(|v| v.to_str().ok())
    })
    .map_err(|e| Error::InvalidHeader(e.to_string()))
}

/// Restify's `dateParser`: a `Date` more than [`CLOCK_SKEW`] in the past is
/// `RequestExpired`; an unparsable one is `InvalidHeader`.
///
/// # Errors
/// As above.
pub(crate) fn check_date(headers: &HeaderMap, now: SystemTime) -> Result<()> {
    let Some(date) = request_date(headers)? else {
        return Ok(());
    };
    if now.duration_since(date).is_ok_and(|d| d > CLOCK_SKEW) {
        return Err(Error::RequestExpired(format!(
            "Date header is more than {}s old",
            CLOCK_SKEW.as_secs()
        )));
    }
    Ok(())
}

/// http-signature's clock skew check for a signed request: the `x-date` (or
/// `date`) must be within [`CLOCK_SKEW`] either way, and it must be one of
/// the headers the signature covers. Checking freshness on an unsigned
/// header would make a captured signature a permanent credential: replay it
/// with a fresh `x-date` and it passes.
///
/// # Errors
/// `InvalidHeader` when missing, unparsable or skewed;
/// `AuthorizationRequired` when the header checked was not signed.
pub(crate) fn check_signed_date(
    headers: &HeaderMap,
    signed: &[String],
    now: SystemTime,
) -> Result<()> {
    let name = if headers.contains_key("x-date") {
        "x-date"
    } else {
        "date"
    };
    if !signed.iter().any(|h| h == name) {
        return Err(Error::AuthorizationRequired(format!(
            "the {name} header must be signed (signed headers: {})",
            signed.join(" ")
        )));
    }
    let date = request_date(headers)?
        .ok_or_else(|| Error::InvalidHeader("a signed request needs a Date header".into()))?;
    let skew = now
        .duration_since(date)
        .or_else(|_| date.duration_since(now))
        .unwrap_or_default();
    if skew > CLOCK_SKEW {
        return Err(Error::InvalidHeader(format!(
            "clock skew of {}s exceeds {}s",
            skew.as_secs(),
            CLOCK_SKEW.as_secs()
        )));
    }
    Ok(())
}

fn request_date(headers: &HeaderMap) -> Result<Option<SystemTime>> {
    let Some(v) = headers.get("x-date").or_else(|| headers.get("date")) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| Error::InvalidHeader("Date is not text".into()))?;
    httpdate::parse_http_date(s.trim())
        .map(Some)
        .map_err(|_| Error::InvalidHeader(format!("Date {s:?} is not an HTTP date")))
}

/// A parsed keyId: `/LOGIN/keys/FINGERPRINT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyId {
    pub(crate) login: String,
    /// The RBAC sub-user, for `/LOGIN/USER/keys/FP` (what node-manta sends
    /// with `MANTA_SUBUSER`) and `/LOGIN/users/USER/keys/FP` (smartdc-auth's
    /// CloudAPI form).
    pub(crate) user: Option<String>,
    pub(crate) fingerprint: String,
}

/// Parses a keyId: `/LOGIN/keys/FP`, `/LOGIN/USER/keys/FP` or
/// `/LOGIN/users/USER/keys/FP`. A SHA-256 fingerprint may itself contain
/// `/`: it is everything after `/keys/`.
///
/// # Errors
/// `InvalidKeyId`.
pub(crate) fn parse_key_id(s: &str) -> Result<KeyId> {
    let bad = || Error::InvalidKeyId(s.to_string());
    let decode = |p: &str| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad())
    };
    let rest = s.strip_prefix('/').ok_or_else(bad)?;
    let (login, rest) = rest.split_once('/').ok_or_else(bad)?;
    let (user, fp) = if let Some(fp) = rest.strip_prefix("keys/") {
        (None, fp)
    } else {
        let rest = rest.strip_prefix("users/").unwrap_or(rest);
        let (user, rest) = rest.split_once('/').ok_or_else(bad)?;
        let fp = rest.strip_prefix("keys/").ok_or_else(bad)?;
        (Some(decode(user)?), fp)
    };
    let login = decode(login)?;
    if fp.is_empty() || !crate::path::valid_login(&login) {
        return Err(bad());
    }
    if user
        .as_deref()
        .is_some_and(|u| !crate::rbac::valid_user_login(u))
    {
        return Err(bad());
    }
    Ok(KeyId {
        login,
        user,
        fingerprint: decode(fp)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_node_manta_header() {
        let h = r#"Signature keyId="/dev/keys/aa:bb",algorithm="rsa-sha256",headers="date",signature="AAEC""#;
        let p = parse_authorization(h).unwrap();
        assert_eq!(p.key_id, "/dev/keys/aa:bb");
        assert_eq!(p.algorithm, "rsa-sha256");
        assert_eq!(p.headers, vec!["date"]);
        assert_eq!(p.signature, vec![0, 1, 2]);
        // Any order, no headers param.
        let p = parse_authorization(
            r#"Signature signature="AAEC", keyId="/a/keys/x",algorithm="ed25519-sha512""#,
        )
        .unwrap();
        assert_eq!(p.headers, vec!["date"]);
        assert!(matches!(
            parse_authorization("Basic abc"),
            Err(Error::AuthorizationSchemeNotAllowed(_))
        ));
        assert!(matches!(
            parse_authorization(r#"Signature keyId="/a/keys/x""#),
            Err(Error::InvalidHeader(_))
        ));
        assert!(matches!(
            parse_authorization(r#"Signature keyId="/a/keys/x"#),
            Err(Error::InvalidHeader(_))
        ));
    }

    /// draft-cavage-http-signatures appendix C.2 ("Basic Test") and C.3
    /// ("All Headers Test"): `POST /foo?param=value&pet=dog`.
    #[test]
    fn signing_string_of_the_drafts_examples() {
        let mut h = HeaderMap::new();
        h.insert("host", "example.com".parse().unwrap());
        h.insert("date", "Sun, 05 Jan 2014 21:31:40 GMT".parse().unwrap());
        h.insert("content-type", "application/json".parse().unwrap());
        h.insert(
            "digest",
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
                .parse()
                .unwrap(),
        );
        h.insert("content-length", "18".parse().unwrap());
        let uri: Uri = "/foo?param=value&pet=dog".parse().unwrap();
        let basic = parse_authorization(
            r#"Signature keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="AAEC""#,
        )
        .unwrap();
        assert_eq!(
            signing_string(&basic, &Method::POST, &uri, &h).unwrap(),
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n\
             date: Sun, 05 Jan 2014 21:31:40 GMT"
        );
        let all = parse_authorization(
            r#"Signature keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="AAEC""#,
        )
        .unwrap();
        assert_eq!(
            signing_string(&all, &Method::POST, &uri, &h).unwrap(),
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n\
             date: Sun, 05 Jan 2014 21:31:40 GMT\ncontent-type: application/json\n\
             digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n\
             content-length: 18"
        );
        h.remove("digest");
        assert!(matches!(
            signing_string(&all, &Method::POST, &uri, &h),
            Err(Error::InvalidHeader(_))
        ));
    }

    /// A header node-manta's libraries (smartdc-auth 2, http-signature
    /// 1.4) made with `writeTarget('GET', ...)` and the date, signed by the
    /// `ssh-key` crate's example Ed25519 key: it verifies.
    #[test]
    fn node_manta_header_verifies() {
        let rec = crate::auth::keys::parse_public(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti",
        )
        .unwrap();
        let p = parse_authorization(
            r#"Signature keyId="/dev/keys/ae:6f:ba:1b:70:2c:ae:c7:5c:ab:6e:4d:5e:d4:c7:23",algorithm="ed25519-sha512",headers="(request-target) date",signature="Ig12DmtieWYV6nSgAvyjCNHJ2g4VCmHYetBH1iGYnJb66tjc60e9QcnJ2FR/dTBJE0kMjPA9oaIAqqs2L/6MDQ==""#,
        )
        .unwrap();
        assert_eq!(parse_key_id(&p.key_id).unwrap().fingerprint, rec.md5);
        let mut h = HeaderMap::new();
        h.insert("date", "Thu, 05 Jan 2014 21:31:40 GMT".parse().unwrap());
        let uri: Uri = "/dev/stor/a%20b?limit=1".parse().unwrap();
        let signed = signing_string(&p, &Method::GET, &uri, &h).unwrap();
        let alg = crate::auth::keys::Algorithm::parse(&p.algorithm).unwrap();
        crate::auth::keys::verify(&rec, alg, signed.as_bytes(), &p.signature).unwrap();
        let other: Uri = "/dev/stor/a%20b?limit=2".parse().unwrap();
        let signed = signing_string(&p, &Method::GET, &other, &h).unwrap();
        assert!(crate::auth::keys::verify(&rec, alg, signed.as_bytes(), &p.signature).is_err());
    }

    #[test]
    fn dates() {
        let now = SystemTime::now();
        let mut h = HeaderMap::new();
        assert!(check_date(&h, now).is_ok());
        let date = vec!["date".to_string()];
        assert!(check_signed_date(&h, &date, now).is_err());
        let old = httpdate::fmt_http_date(now - Duration::from_secs(600));
        h.insert("date", old.parse().unwrap());
        assert!(matches!(check_date(&h, now), Err(Error::RequestExpired(_))));
        let future = httpdate::fmt_http_date(now + Duration::from_secs(600));
        h.insert("date", future.parse().unwrap());
        assert!(check_date(&h, now).is_ok());
        assert!(matches!(
            check_signed_date(&h, &date, now),
            Err(Error::InvalidHeader(_))
        ));
        h.insert("date", "yesterday".parse().unwrap());
        assert!(matches!(check_date(&h, now), Err(Error::InvalidHeader(_))));
    }

    /// The header freshness is judged on must be one the signature covers:
    /// an old signature over `date` with a fresh unsigned `x-date` is a
    /// replay, and so is a signature over neither.
    #[test]
    fn freshness_header_must_be_signed() {
        let now = SystemTime::now();
        let fresh = httpdate::fmt_http_date(now);
        let old = httpdate::fmt_http_date(now - Duration::from_secs(86_400 * 3));
        let mut h = HeaderMap::new();
        h.insert("date", old.parse().unwrap());
        h.insert("x-date", fresh.parse().unwrap());
        let date = vec!["date".to_string()];
        assert!(matches!(
            check_signed_date(&h, &date, now),
            Err(Error::AuthorizationRequired(_))
        ));
        let x_date = vec!["x-date".to_string()];
        assert!(check_signed_date(&h, &x_date, now).is_ok());
        let target_only = vec!["(request-target)".to_string()];
        h.remove("x-date");
        h.insert("date", fresh.parse().unwrap());
        assert!(matches!(
            check_signed_date(&h, &target_only, now),
            Err(Error::AuthorizationRequired(_))
        ));
        assert!(check_signed_date(&h, &date, now).is_ok());
    }

    /// Junk in, an error out, never a panic (parsers of untrusted input).
    #[test]
    fn junk_never_panics() {
        let alphabet = b"Signature keyId=\"/a,b\\=%:\t \xff\x00algorithmheaderssignature";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (x % 64) as usize;
            let s: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let _ = parse_authorization(&s);
            let _ = parse_key_id(&s);
        }
    }

    #[test]
    fn key_ids() {
        let k = parse_key_id("/dev/keys/aa:bb").unwrap();
        assert_eq!((k.login.as_str(), k.fingerprint.as_str()), ("dev", "aa:bb"));
        assert_eq!(
            parse_key_id("/dev/keys/SHA256:ab/c+d").unwrap().fingerprint,
            "SHA256:ab/c+d"
        );
        let k = parse_key_id("/dev/bob/keys/aa").unwrap();
        assert_eq!((k.login.as_str(), k.user.as_deref()), ("dev", Some("bob")));
        let k = parse_key_id("/dev/users/bob/keys/SHA256:a/b").unwrap();
        assert_eq!(
            (k.user.as_deref(), k.fingerprint.as_str()),
            (Some("bob"), "SHA256:a/b")
        );
        assert!(parse_key_id("/dev/bob/keys/").is_err());
        assert!(parse_key_id("/dev/bob/x/keys/aa").is_err());
        assert!(matches!(
            parse_key_id("dev/keys/aa"),
            Err(Error::InvalidKeyId(_))
        ));
        assert!(matches!(
            parse_key_id("/dev/nokeys/aa"),
            Err(Error::InvalidKeyId(_))
        ));
    }
}
