//! AWS's published SigV2 examples (S3 developer guide, "Signing and
//! Authenticating REST Requests", secret `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`)
//! and the refusals.

use super::*;
use axum::http::HeaderValue;

const ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[derive(Clone, Copy)]
struct Example {
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    host_bucket: Option<&'static str>,
    /// When the request was made (Unix seconds).
    now: u64,
}

impl Example {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in self.headers {
            let name = axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap();
            h.append(name, HeaderValue::from_static(v));
        }
        h
    }

    fn check(&self, headers: &HeaderMap, secret: &str) -> Result<(), S3Error> {
        let req = Request {
            method: self.method,
            path: self.path,
            query: self.query,
            headers,
        };
        let auth = parse(&req)?.expect("credentials");
        assert_eq!(auth.access_key_id, ID);
        let now = UNIX_EPOCH + Duration::from_secs(self.now);
        verify(&req, self.host_bucket, &auth, secret, now)
    }

    fn verifies(&self) {
        if let Err(e) = self.check(&self.headers(), SECRET) {
            panic!("{} {}: {e:?}", self.method, self.path);
        }
    }
}

// Tue, 27 Mar 2007 19:36:42 +0000
const T0: u64 = 1_175_024_202;

const GET_OBJECT: Example = Example {
    method: "GET",
    path: "/photos/puppy.jpg",
    query: None,
    headers: &[
        ("host", "johnsmith.s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
    ],
    host_bucket: Some("johnsmith"),
    now: T0,
};

const PUT_OBJECT: Example = Example {
    method: "PUT",
    path: "/photos/puppy.jpg",
    query: None,
    headers: &[
        ("content-type", "image/jpeg"),
        ("content-length", "94328"),
        ("host", "johnsmith.s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=",
        ),
    ],
    host_bucket: Some("johnsmith"),
    now: T0 + 5943,
};

const LIST: Example = Example {
    method: "GET",
    path: "/",
    query: Some("prefix=photos&max-keys=50&marker=puppy"),
    headers: &[
        ("user-agent", "Mozilla/5.0"),
        ("host", "johnsmith.s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=",
        ),
    ],
    host_bucket: Some("johnsmith"),
    now: T0 + 359,
};

const FETCH_ACL: Example = Example {
    method: "GET",
    path: "/",
    query: Some("acl"),
    headers: &[
        ("host", "johnsmith.s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 19:44:46 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:c2WLPFtWHVgbEmeEG93a4cG37dM=",
        ),
    ],
    host_bucket: Some("johnsmith"),
    now: T0 + 484,
};

/// Path style, with `x-amz-date` (which AWS's example signs on the Date
/// line) overriding `Date`.
const DELETE: Example = Example {
    method: "DELETE",
    path: "/johnsmith/photos/puppy.jpg",
    query: None,
    headers: &[
        ("user-agent", "dotnet"),
        ("host", "s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:lx3byBScXR6KzyMaifNkardMwNk=",
        ),
    ],
    host_bucket: None,
    now: T0 + 6224,
};

/// A CNAME bucket, Content-MD5, and repeated, mixed-case `x-amz-meta-*`.
const UPLOAD: Example = Example {
    method: "PUT",
    path: "/db-backup.dat.gz",
    query: None,
    headers: &[
        ("user-agent", "curl/7.15.5"),
        ("host", "static.johnsmith.net:8080"),
        ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
        ("x-amz-acl", "public-read"),
        ("content-type", "application/x-download"),
        ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
        ("X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"),
        ("X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"),
        ("X-Amz-Meta-FileChecksum", "0x02661779"),
        ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
        ("content-disposition", "attachment; filename=database.dat"),
        ("content-encoding", "gzip"),
        ("content-length", "5913339"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:ilyl83RwaSoYIEdixDQcA4OnAnc=",
        ),
    ],
    host_bucket: Some("static.johnsmith.net"),
    now: T0 + 5366,
};

const LIST_BUCKETS: Example = Example {
    method: "GET",
    path: "/",
    query: None,
    headers: &[
        ("host", "s3.amazonaws.com"),
        ("date", "Wed, 28 Mar 2007 01:29:59 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:qGdzdERIC03wnaRNKh6OqZehG9s=",
        ),
    ],
    host_bucket: None,
    now: T0 + 21_197,
};

/// The path is signed as sent: percent-encoded, in mixed case.
const UNICODE_KEYS: Example = Example {
    method: "GET",
    path: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
    query: None,
    headers: &[
        ("host", "s3.amazonaws.com"),
        ("date", "Wed, 28 Mar 2007 01:49:49 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:DNEZGsoieTZ92F3bUfSPQcbGmlM=",
        ),
    ],
    host_bucket: None,
    now: T0 + 22_387,
};

/// Query string authentication.
const PRESIGNED: Example = Example {
    method: "GET",
    path: "/photos/puppy.jpg",
    query: Some(
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
    ),
    headers: &[("host", "johnsmith.s3.amazonaws.com")],
    host_bucket: Some("johnsmith"),
    now: 1_175_139_000,
};

const ALL: [&Example; 9] = [
    &GET_OBJECT,
    &PUT_OBJECT,
    &LIST,
    &FETCH_ACL,
    &DELETE,
    &UPLOAD,
    &LIST_BUCKETS,
    &UNICODE_KEYS,
    &PRESIGNED,
];

#[test]
fn aws_examples_verify() {
    for e in ALL {
        e.verifies();
    }
}

#[test]
fn aws_upload_example_string_to_sign() {
    let h = UPLOAD.headers();
    let amz = canonical_amz_headers(h.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())));
    let sts = string_to_sign(
        "PUT",
        "4gJE4saaMU4BqNR0kLY+lw==",
        "application/x-download",
        "Tue, 27 Mar 2007 21:06:08 +0000",
        &amz,
        &canonical_resource(Some("static.johnsmith.net"), "/db-backup.dat.gz", None),
    );
    assert_eq!(
        sts,
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n\
         Tue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\n\
         x-amz-meta-checksumalgorithm:crc32\n\
         x-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n\
         /static.johnsmith.net/db-backup.dat.gz"
    );
    assert_eq!(signature(SECRET, &sts), "ilyl83RwaSoYIEdixDQcA4OnAnc=");
}

#[test]
fn resource_keeps_subresources_only_sorted_and_decoded() {
    assert_eq!(
        canonical_resource(
            None,
            "/b/k%20x",
            Some("uploadId=a%2Bb&partNumber=2&x-id=PutObject&max-keys=3")
        ),
        "/b/k%20x?partNumber=2&uploadId=a+b"
    );
    assert_eq!(
        canonical_resource(Some("b"), "/", Some("uploads&prefix=p")),
        "/b/?uploads"
    );
    assert_eq!(
        canonical_resource(
            None,
            "/b/k",
            Some("response-content-type=text%2Fplain&AWSAccessKeyId=A&Expires=1&Signature=s")
        ),
        "/b/k?response-content-type=text/plain"
    );
}

#[test]
fn wrong_secret_refused() {
    let e = GET_OBJECT
        .check(
            &GET_OBJECT.headers(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz",
        )
        .unwrap_err();
    assert!(matches!(e, S3Error::SignatureDoesNotMatch(_)), "{e:?}");
}

#[test]
fn changed_verb_resource_or_headers_refused() {
    let mismatch = |e: &Example, h: HeaderMap| {
        let err = e.check(&h, SECRET).unwrap_err();
        assert!(matches!(err, S3Error::SignatureDoesNotMatch(_)), "{err:?}");
    };
    mismatch(
        &Example {
            method: "DELETE",
            ..GET_OBJECT
        },
        GET_OBJECT.headers(),
    );
    mismatch(
        &Example {
            path: "/photos/kitten.jpg",
            ..GET_OBJECT
        },
        GET_OBJECT.headers(),
    );
    mismatch(
        &Example {
            host_bucket: Some("other"),
            ..GET_OBJECT
        },
        GET_OBJECT.headers(),
    );
    mismatch(
        &Example {
            query: Some("acl"),
            ..GET_OBJECT
        },
        GET_OBJECT.headers(),
    );
    mismatch(&PRESIGNED.with_query(), PRESIGNED.headers());
    // An `x-amz-*` header added to a signed request, e.g. turning a PUT
    // into a copy.
    let mut h = PUT_OBJECT.headers();
    h.insert(
        "x-amz-copy-source",
        HeaderValue::from_static("/johnsmith/secret"),
    );
    mismatch(&PUT_OBJECT, h);
    let mut h = PRESIGNED.headers();
    h.insert(
        "x-amz-copy-source",
        HeaderValue::from_static("/johnsmith/secret"),
    );
    mismatch(&PRESIGNED, h);
    let mut h = UPLOAD.headers();
    h.insert(
        "content-md5",
        HeaderValue::from_static("1B2M2Y8AsgTpgAmY7PhCfg=="),
    );
    mismatch(&UPLOAD, h);
    let mut h = PUT_OBJECT.headers();
    h.insert("content-type", HeaderValue::from_static("text/html"));
    mismatch(&PUT_OBJECT, h);
}

impl Example {
    /// The presigned example with `?versionId=2` in front of its query.
    fn with_query(&self) -> Example {
        Example {
            query: Some(
                "versionId=2&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
            ),
            ..*self
        }
    }
}

#[test]
fn expired_or_too_long_url_refused() {
    let e = Example {
        now: 1_175_139_620,
        ..PRESIGNED
    };
    assert!(matches!(
        e.check(&e.headers(), SECRET),
        Err(S3Error::RequestExpired)
    ));
    let e = Example {
        now: 1_175_139_620 - MAX_EXPIRES - 1,
        ..PRESIGNED
    };
    assert!(matches!(
        e.check(&e.headers(), SECRET),
        Err(S3Error::AuthorizationQueryParametersError(_))
    ));
}

#[test]
fn skewed_or_undated_header_refused() {
    for now in [T0 + 16 * 60, T0 - 16 * 60] {
        let e = Example { now, ..GET_OBJECT };
        assert!(matches!(
            e.check(&e.headers(), SECRET),
            Err(S3Error::RequestTimeTooSkewed)
        ));
    }
    let e = Example {
        now: T0 + 14 * 60,
        ..GET_OBJECT
    };
    assert!(e.check(&e.headers(), SECRET).is_ok());
    let mut h = GET_OBJECT.headers();
    h.remove("date");
    assert!(matches!(
        GET_OBJECT.check(&h, SECRET),
        Err(S3Error::SignatureRefused(_))
    ));
    h.insert("date", HeaderValue::from_static("yesterday"));
    assert!(matches!(
        GET_OBJECT.check(&h, SECRET),
        Err(S3Error::SignatureRefused(_))
    ));
}

#[test]
fn malformed_credentials_refused() {
    let parse_with = |auth: &'static str, query: Option<&'static str>| {
        let mut h = HeaderMap::new();
        if !auth.is_empty() {
            h.insert("authorization", HeaderValue::from_static(auth));
        }
        let req = Request {
            method: "GET",
            path: "/b/k",
            query,
            headers: &h,
        };
        parse(&req)
    };
    for bad in ["AWS AKIAIOSFODNN7EXAMPLE", "AWS :sig", "AWS key:", "AWS "] {
        assert!(
            matches!(parse_with(bad, None), Err(S3Error::InvalidArgument(_))),
            "{bad}"
        );
    }
    // SigV4 and other schemes are not SigV2's to judge.
    assert_eq!(
        parse_with("AWS4-HMAC-SHA256 Credential=x", None).unwrap(),
        None
    );
    assert_eq!(parse_with("", None).unwrap(), None);
    assert_eq!(parse_with("", Some("X-Amz-Signature=1")).unwrap(), None);
    for q in [
        "AWSAccessKeyId=a&Signature=s",
        "Signature=s&Expires=1",
        "AWSAccessKeyId=a&Expires=1",
    ] {
        assert!(
            matches!(parse_with("", Some(q)), Err(S3Error::SignatureRefused(_))),
            "{q}"
        );
    }
    assert!(matches!(
        parse_with("", Some("AWSAccessKeyId=a&Signature=s&Expires=soon")),
        Err(S3Error::SignatureRefused(_))
    ));
}

#[test]
fn presigned_x_amz_query_parameters_are_signed() {
    // botocore signs `x-amz-*` headers of a presigned request and moves
    // them into the URL.
    let sts = string_to_sign("PUT", "", "", "1175139620", "x-amz-meta-a:b\n", "/b/k");
    let sig = signature(SECRET, &sts);
    let q = format!(
        "AWSAccessKeyId={ID}&Signature={}&x-amz-meta-a=b&Expires=1175139620",
        sig.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let h = HeaderMap::new();
    let req = Request {
        method: "PUT",
        path: "/b/k",
        query: Some(&q),
        headers: &h,
    };
    let auth = parse(&req).unwrap().unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_175_139_000);
    verify(&req, None, &auth, SECRET, now).unwrap();
    let q = q.replace("x-amz-meta-a=b", "x-amz-meta-a=c");
    let req = Request {
        query: Some(&q),
        ..req
    };
    assert!(matches!(
        verify(&req, None, &auth, SECRET, now),
        Err(S3Error::SignatureDoesNotMatch(_))
    ));
}

#[test]
fn s3cmd_style_x_amz_date_signs_an_empty_date_line() {
    let sts = string_to_sign(
        "GET",
        "",
        "",
        "",
        "x-amz-date:Tue, 27 Mar 2007 19:36:42 +0000\n",
        "/b/k",
    );
    let auth = format!("AWS {ID}:{}", signature(SECRET, &sts));
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-date",
        HeaderValue::from_static("Tue, 27 Mar 2007 19:36:42 +0000"),
    );
    h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    let req = Request {
        method: "GET",
        path: "/b/k",
        query: None,
        headers: &h,
    };
    let a = parse(&req).unwrap().unwrap();
    verify(&req, None, &a, SECRET, UNIX_EPOCH + Duration::from_secs(T0)).unwrap();
}

#[test]
fn path_style_bucket_signed_with_or_without_slash() {
    for signed in ["/b", "/b/"] {
        let sts = string_to_sign("PUT", "", "", "Tue, 27 Mar 2007 19:36:42 GMT", "", signed);
        let auth = format!("AWS {ID}:{}", signature(SECRET, &sts));
        let mut h = HeaderMap::new();
        h.insert(
            "date",
            HeaderValue::from_static("Tue, 27 Mar 2007 19:36:42 GMT"),
        );
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let req = Request {
            method: "PUT",
            path: "/b",
            query: None,
            headers: &h,
        };
        let a = parse(&req).unwrap().unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(T0);
        verify(&req, None, &a, SECRET, now).unwrap();
        // Not a licence to drop path segments: `/b/k` is not `/b/`.
        let req = Request {
            path: "/b/k",
            ..req
        };
        assert!(verify(&req, None, &a, SECRET, now).is_err());
    }
}
