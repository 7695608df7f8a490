//! Properties of SigV4 parsing: any `Authorization` header or presigned
//! query is refused or parsed into a consistent [`Auth`], never a panic;
//! what `client_sdk::sigv4::Credentials` signs parses back and verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::sigv4::{parse, verify, Auth, Payload, Request, ALGORITHM, EMPTY_SHA256};
use crate::s3::S3Error;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use client_sdk::prop::{config, edits, junk, mutate_str};
use client_sdk::sigv4::{format_amz_date, uri_encode, Credentials};
use proptest::prelude::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    }
    h
}

/// What a parsed authorization must satisfy, whatever it came from.
fn check_auth(a: &Auth) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.amz_date.len(), 16, "{:?}", a.amz_date);
    prop_assert_eq!(&a.amz_date[..8], a.scope_date.as_str());
    prop_assert!(a.signed_headers.iter().any(|h| h == "host"));
    prop_assert_eq!(a.signature.to_ascii_lowercase(), a.signature.clone());
    Ok(())
}

fn parse_any(
    method: &str,
    path: &str,
    query: Option<&str>,
    h: &HeaderMap,
) -> Result<(), TestCaseError> {
    let req = Request {
        method,
        path,
        query,
        headers: h,
    };
    if let Ok(Some(a)) = parse(&req) {
        check_auth(&a)?;
        let _ = verify(&req, &a, "secret", SystemTime::now());
    }
    Ok(())
}

fn date() -> impl Strategy<Value = SystemTime> {
    // 1970 to 2100: what `format_amz_date` writes as four-digit years.
    (0u64..4_102_444_800).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

const VALID: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const VALID_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

/// A query of arbitrary pairs, encoded as a client would.
fn query() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        proptest::collection::vec((any::<String>(), any::<String>()), 0..4).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        }),
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn junk_headers_never_panic(s in junk(), d in junk()) {
        for auth in [s.clone(), format!("{ALGORITHM} {s}")] {
            let h = headers(&[
                ("host", "h"),
                ("authorization", &auth),
                ("x-amz-date", &d),
                ("x-amz-content-sha256", EMPTY_SHA256),
            ]);
            parse_any("GET", "/", None, &h)?;
        }
    }

    #[test]
    fn mutated_headers_never_panic(e in edits(), d in date()) {
        let h = headers(&[
            ("host", "h"),
            ("authorization", &mutate_str(VALID, &e)),
            ("x-amz-date", &format_amz_date(d)),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ]);
        parse_any("GET", "/", None, &h)?;
    }

    /// Headers put together from plausible and broken parts (a credential
    /// of any shape, any date) are refused or consistent.
    #[test]
    fn assembled_headers_are_consistent(
        key in "[A-Z0-9]{0,4}",
        day in prop_oneof![Just("20150830".to_string()), "[0-9]{0,9}"],
        tail in proptest::sample::select(vec!["us-east-1/s3/aws4_request", "/s3/aws4_request", "us-east-1/s3/aws4_request/x", "us-east-1/s3"]),
        signed in proptest::sample::select(vec!["host", "host;x-amz-date", "x-amz-date", "", "HOST"]),
        date in prop_oneof![Just("20150830T123600Z".to_string()), "[0-9T]{0,16}Z?"],
    ) {
        let auth = format!("{ALGORITHM} Credential={key}/{day}/{tail}, SignedHeaders={signed}, Signature=ab");
        let h = headers(&[
            ("host", "h"),
            ("authorization", &auth),
            ("x-amz-date", &date),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ]);
        parse_any("GET", "/", None, &h)?;
        let q = format!("X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={key}%2F{day}%2F{}&X-Amz-Date={date}&X-Amz-Expires=60&X-Amz-SignedHeaders={signed}&X-Amz-Signature=ab", tail.replace('/', "%2F"));
        parse_any("GET", "/", Some(&q), &headers(&[("host", "h")]))?;
    }

    #[test]
    fn junk_and_mutated_queries_never_panic(s in junk(), e in edits()) {
        let h = headers(&[("host", "h")]);
        parse_any("GET", "/", Some(&s), &h)?;
        parse_any("GET", "/", Some(&format!("X-Amz-Signature=1&{s}")), &h)?;
        parse_any("GET", "/", Some(&mutate_str(VALID_QUERY, &e)), &h)?;
    }

    /// Sign with the client's `Credentials`, parse and verify with the
    /// server: same key id, scope and signed headers; a wrong secret fails.
    #[test]
    fn client_signatures_parse_and_verify(
        key in "[A-Z0-9]{16,20}",
        secret in "[!-~]{1,40}",
        region in "[a-z0-9-]{1,12}",
        method in proptest::sample::select(vec!["GET", "PUT", "HEAD", "DELETE", "POST"]),
        segments in proptest::collection::vec(any::<String>(), 0..4),
        query in query(),
        meta in "[ -~]{0,20}",
        when in date(),
    ) {
        let path = format!("/{}", segments.iter().map(|s| uri_encode(s)).collect::<Vec<_>>().join("/"));
        let amz = format_amz_date(when);
        let creds = Credentials {
            access_key: key.clone(),
            secret: secret.clone(),
            region: region.clone(),
            service: "s3".into(),
        };
        let signed: Vec<(&str, Vec<&str>)> = vec![
            ("host", vec!["example.com"]),
            ("x-amz-content-sha256", vec![EMPTY_SHA256]),
            ("x-amz-date", vec![amz.as_str()]),
            ("x-amz-meta-a", vec![meta.as_str()]),
        ];
        let auth = creds.authorization(method, &path, query.as_deref(), &signed, EMPTY_SHA256, &amz);
        let h = headers(&[
            ("host", "example.com"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", &amz),
            ("x-amz-meta-a", &meta),
            ("authorization", &auth),
        ]);
        let req = Request { method, path: &path, query: query.as_deref(), headers: &h };
        let a = parse(&req).unwrap().unwrap();
        check_auth(&a)?;
        prop_assert_eq!(&a.access_key_id, &key);
        prop_assert_eq!(&a.region, &region);
        prop_assert_eq!(&a.signed_headers, &["host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-a"]);
        prop_assert_eq!(&a.payload, &Payload::Sha256(EMPTY_SHA256.into()));
        prop_assert!(verify(&req, &a, &secret, when).is_ok());
        let wrong = format!("{secret}x");
        prop_assert!(matches!(
            verify(&req, &a, &wrong, when),
            Err(S3Error::SignatureDoesNotMatch(_))
        ));
    }
}

/// Found by `assembled_headers_are_consistent`: the credential
/// date was only checked to be a prefix of the request date, so an empty
/// or partial one (`AKID//us-east-1/...`) was accepted as a scope.
#[test]
fn credential_date_must_be_the_whole_day() {
    for cred in [
        "AKIDEXAMPLE//us-east-1/s3/aws4_request",
        "AKIDEXAMPLE/2015/us-east-1/s3/aws4_request",
        "AKIDEXAMPLE/201508300/us-east-1/s3/aws4_request",
    ] {
        let h = headers(&[
            ("host", "h"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            (
                "authorization",
                &format!("{ALGORITHM} Credential={cred}, SignedHeaders=host, Signature=00"),
            ),
        ]);
        let req = Request {
            method: "GET",
            path: "/",
            query: None,
            headers: &h,
        };
        assert!(
            matches!(parse(&req), Err(S3Error::AuthorizationHeaderMalformed(_))),
            "{cred}"
        );
    }
}
