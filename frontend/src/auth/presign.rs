//! Signed URLs as `msign` (smartdc-auth `signUrl`) makes them and muskie
//! checks them: `algorithm`, `expires`, `keyId`, `signature` (and `method`
//! when more than one method is signed) in the query, over
//!
//! ```text
//! <METHODS>\n<Host>\n<raw path>\n<sorted, RFC 3986-encoded query minus signature>
//! ```
//!
//! That form is `client_sdk::presign`'s, which `msign` signs with; the
//! tests here check it against a URL smartdc-auth itself signed.

use crate::error::{Error, Result};
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine;
use client_sdk::presign::{canonical_query, string_to_sign};

const PARAMS: [&str; 4] = ["expires", "signature", "keyId", "algorithm"];

/// The decoded query pairs of a request, in the order sent.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Muskie's test: any of the four parameters marks a presigned request.
pub(crate) fn is_presigned(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, _)| PARAMS.contains(&k.as_str()))
}

/// A presigned request, checked for everything but the signature itself.
#[derive(Debug)]
pub(crate) struct Presigned {
    pub(crate) key_id: String,
    pub(crate) algorithm: String,
    pub(crate) signature: Vec<u8>,
    /// The string the signature must verify over.
    pub(crate) signed: String,
}

/// Checks parameters, expiry and method, and builds the signed string.
///
/// # Errors
/// `InvalidQueryStringAuthentication` for missing parameters, an expired
/// URL or an unsigned method.
pub(crate) fn check(
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
    let signed = string_to_sign(&methods, host, uri.path(), &canonical_query(pairs));
    Ok(Presigned {
        key_id,
        algorithm,
        signature,
        signed,
    })
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

    /// A URL smartdc-auth's `signUrl` made (node-manta's `msign`), with the
    /// `ssh-key` crate's example Ed25519 key: the string rebuilt here is
    /// what it signed, so the signature verifies.
    #[test]
    fn smartdc_auth_signed_url_verifies() {
        let u = uri("/dev/stor/a%20b?algorithm=ED25519-SHA512&expires=1700000000&keyId=%2Fdev%2Fkeys%2Fae%3A6f%3Aba%3A1b%3A70%3A2c%3Aae%3Ac7%3A5c%3Aab%3A6e%3A4d%3A5e%3Ad4%3Ac7%3A23&method=GET%2CHEAD&signature=KR5cVyr0TJZ%2F9nGCkRh2NRHHAonlnkaM7Samb4tDajaJb1v1s2Bo519JUPswSJMv4aPG%2FXE%2BEgt3crX1MjlTBA%3D%3D");
        let mut h = HeaderMap::new();
        h.insert("host", "manta.example.com".parse().unwrap());
        let p = check(&Method::HEAD, &u, &h, &query_pairs(&u), 1_600_000_000).unwrap();
        let rec = crate::auth::keys::parse_public(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti",
        )
        .unwrap();
        let alg = crate::auth::keys::Algorithm::parse(&p.algorithm).unwrap();
        crate::auth::keys::verify(&rec, alg, p.signed.as_bytes(), &p.signature).unwrap();
        h.insert("host", "elsewhere.example.com".parse().unwrap());
        let p = check(&Method::HEAD, &u, &h, &query_pairs(&u), 1_600_000_000).unwrap();
        assert!(crate::auth::keys::verify(&rec, alg, p.signed.as_bytes(), &p.signature).is_err());
    }
}
