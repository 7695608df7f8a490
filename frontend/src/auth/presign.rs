//! Signed URLs as `msign` (smartdc-auth `signUrl`) makes them and muskie
//! checks them: `algorithm`, `expires`, `keyId`, `signature` (and `method`
//! when more than one method is signed) in the query, over
//!
//! ```text
//! <METHODS>\n<Host>\n<raw path>\n<sorted, RFC 3986-encoded query minus signature>
//! ```

use crate::error::{Error, Result};
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `encodeURIComponent` plus smartdc-auth's `rfc3986()` leave alone.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const PARAMS: [&str; 4] = ["expires", "signature", "keyId", "algorithm"];

/// The decoded query pairs of a request, in the order sent.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Muskie's test: any of the four parameters marks a presigned request.
pub fn is_presigned(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, _)| PARAMS.contains(&k.as_str()))
}

/// A presigned request, checked for everything but the signature itself.
#[derive(Debug)]
pub struct Presigned {
    pub key_id: String,
    pub algorithm: String,
    pub signature: Vec<u8>,
    /// The string the signature must verify over.
    pub signed: String,
}

/// Checks parameters, expiry and method, and builds the signed string.
///
/// # Errors
/// `InvalidQueryStringAuthentication` for missing parameters, an expired
/// URL or an unsigned method.
pub fn check(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    now_secs: u64,
) -> Result<Presigned> {
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                Error::InvalidQueryStringAuthentication(format!(
                    "signed URL is missing the {name} parameter"
                ))
            })
    };
    let expires: u64 = param("expires")?
        .trim()
        .parse()
        .map_err(|_| Error::InvalidQueryStringAuthentication("expires is not a number".into()))?;
    let key_id = param("keyId")?;
    let algorithm = param("algorithm")?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(param("signature")?.trim())
        .map_err(|_| Error::InvalidQueryStringAuthentication("signature is not base64".into()))?;
    if now_secs > expires {
        return Err(Error::InvalidQueryStringAuthentication(
            "signed URL has expired".into(),
        ));
    }
    let methods = pairs
        .iter()
        .find(|(k, _)| k == "method")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| method.as_str().to_string());
    if !methods
        .split(',')
        .any(|m| m.trim().eq_ignore_ascii_case(method.as_str()))
    {
        return Err(Error::InvalidQueryStringAuthentication(format!(
            "{method} is not a method this URL was signed for"
        )));
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let signed = format!(
        "{methods}\n{host}\n{}\n{}",
        uri.path(),
        canonical_query(pairs)
    );
    Ok(Presigned {
        key_id,
        algorithm,
        signature,
        signed,
    })
}

/// Every pair but `signature`, sorted by key, `rfc3986(k)=rfc3986(v)`
/// joined with `&` (smartdc-auth `signUrl`).
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "signature").collect();
    // JS `localeCompare` on these ASCII names: case-insensitive first.
    kept.sort_by(|a, b| (a.0.to_ascii_lowercase(), &a.0).cmp(&(b.0.to_ascii_lowercase(), &b.0)));
    kept.iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn host() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:8080".parse().unwrap());
        h
    }

    #[test]
    fn string_to_sign_as_msign_makes_it() {
        let u = uri("/dev/stor/a%20b?algorithm=ED25519-SHA512&expires=2000&keyId=%2Fdev%2Fkeys%2Faa%3Abb&method=GET%2CHEAD&signature=AAEC");
        let pairs = query_pairs(&u);
        assert!(is_presigned(&pairs));
        let p = check(&Method::GET, &u, &host(), &pairs, 1000).unwrap();
        assert_eq!(
            p.signed,
            "GET,HEAD\n127.0.0.1:8080\n/dev/stor/a%20b\nalgorithm=ED25519-SHA512&expires=2000&keyId=%2Fdev%2Fkeys%2Faa%3Abb&method=GET%2CHEAD"
        );
        assert_eq!(p.signature, vec![0, 1, 2]);
        assert!(check(&Method::HEAD, &u, &host(), &pairs, 1000).is_ok());
        for (m, now) in [(Method::PUT, 1000), (Method::GET, 2001)] {
            assert!(matches!(
                check(&m, &u, &host(), &pairs, now),
                Err(Error::InvalidQueryStringAuthentication(_))
            ));
        }
    }

    #[test]
    fn missing_parameters() {
        let u = uri("/dev/stor/x?expires=2000&signature=AAEC");
        let pairs = query_pairs(&u);
        assert!(is_presigned(&pairs));
        assert!(matches!(
            check(&Method::GET, &u, &host(), &pairs, 1000),
            Err(Error::InvalidQueryStringAuthentication(_))
        ));
        assert!(!is_presigned(&query_pairs(&uri("/dev/stor?limit=5"))));
    }

    #[test]
    fn rfc3986_escapes_like_smartdc_auth() {
        assert_eq!(
            rfc3986("a-b_c.d~e!'()*/ "),
            "a-b_c.d~e%21%27%28%29%2A%2F%20"
        );
    }
}
