//! SigV4 against AWS's published examples: the aws-sig-v4-test-suite
//! `get-vanilla` case, the S3 documentation's GET Object, presigned URL and
//! chunked upload examples (with their documented signatures). The
//! canonical forms are `client_sdk::sigv4`'s; these vectors keep a bug the
//! client shares from passing unseen.

use super::*;
use crate::auth::aws_chunked::{verify_stream, ChunkSigner, ChunkedDecoder};
use axum::http::{HeaderName, HeaderValue};
use client_sdk::sigv4::{canonical_query, canonical_uri};
use futures::StreamExt;

const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn at(amz: &str) -> SystemTime {
    parse_amz_date(amz).unwrap()
}

fn check(
    method: &str,
    path: &str,
    query: Option<&str>,
    h: &HeaderMap,
    secret: &str,
    now: SystemTime,
) -> Result<Verified, S3Error> {
    let req = Request {
        method,
        path,
        query,
        headers: h,
    };
    let auth = parse(&req)?.expect("credentials");
    verify_signed(&req, &auth, secret, now)
}

#[test]
fn get_vanilla_test_suite_case() {
    let h = headers(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        // Not signed, so it does not change the canonical request; the
        // vanilla case's payload hash is that of the empty body.
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ]);
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    // S3 wants every x-amz-* header signed; the generic vector does not
    // sign x-amz-content-sha256, so the full check refuses it by name.
    let req = Request {
        method: "GET",
        path: "/",
        query: None,
        headers: &h,
    };
    let auth = parse(&req).unwrap().unwrap();
    let e = verify(&req, &auth, secret, at("20150830T123600Z")).unwrap_err();
    assert!(
        matches!(&e, S3Error::AccessDenied(m) if m.contains("x-amz-content-sha256")),
        "{e:?}"
    );
    let v = check("GET", "/", None, &h, secret, at("20150830T123600Z")).unwrap();
    assert_eq!(v.access_key_id, "AKIDEXAMPLE");
    // A wrong secret, a changed method, a clock 16 minutes off.
    let now = at("20150830T123600Z");
    assert_eq!(
        check("GET", "/", None, &h, S3_SECRET, now)
            .unwrap_err()
            .code_and_status()
            .0,
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        check("PUT", "/", None, &h, secret, now)
            .unwrap_err()
            .code_and_status()
            .0,
        "SignatureDoesNotMatch"
    );
    let late = now + Duration::from_secs(16 * 60);
    let e = check("GET", "/", None, &h, secret, late).unwrap_err();
    assert_eq!(
        (e.code_and_status().0, e.code_and_status().1.as_u16()),
        ("RequestTimeTooSkewed", 403)
    );
    let early = now - Duration::from_secs(16 * 60);
    assert_eq!(
        check("GET", "/", None, &h, secret, early)
            .unwrap_err()
            .code_and_status()
            .0,
        "RequestTimeTooSkewed"
    );
    assert!(check(
        "GET",
        "/",
        None,
        &h,
        secret,
        now + Duration::from_secs(14 * 60)
    )
    .is_ok());
}

fn get_object_headers(sig: &str) -> HeaderMap {
    let auth = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={sig}");
    headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
        ("authorization", &auth),
    ])
}

#[test]
fn s3_get_object_example() {
    let sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    let h = get_object_headers(sig);
    let req = Request {
        method: "GET",
        path: "/test.txt",
        query: None,
        headers: &h,
    };
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(
        canonical_request(&req, &auth).unwrap(),
        format!("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256}")
    );
    let v = verify(&req, &auth, S3_SECRET, at("20130524T000000Z")).unwrap();
    assert_eq!(v.payload, Payload::Sha256(EMPTY_SHA256.into()));
    assert!(check_payload(&v.payload, b"").is_ok());
    assert_eq!(
        check_payload(&v.payload, b"x")
            .unwrap_err()
            .code_and_status()
            .0,
        "XAmzContentSHA256Mismatch"
    );
    // A tampered signature, a tampered signed header.
    let bad = get_object_headers(&sig.replace('f', "e"));
    assert_eq!(
        check(
            "GET",
            "/test.txt",
            None,
            &bad,
            S3_SECRET,
            at("20130524T000000Z")
        )
        .unwrap_err()
        .code_and_status()
        .0,
        "SignatureDoesNotMatch"
    );
    let mut moved = get_object_headers(sig);
    moved.insert("range", HeaderValue::from_static("bytes=0-99"));
    assert_eq!(
        check(
            "GET",
            "/test.txt",
            None,
            &moved,
            S3_SECRET,
            at("20130524T000000Z")
        )
        .unwrap_err()
        .code_and_status()
        .0,
        "SignatureDoesNotMatch"
    );
    // x-amz-content-sha256 is required in the header form.
    let mut none = get_object_headers(sig);
    none.remove("x-amz-content-sha256");
    let req = Request {
        method: "GET",
        path: "/test.txt",
        query: None,
        headers: &none,
    };
    assert_eq!(
        parse(&req).unwrap_err().code_and_status().0,
        "InvalidRequest"
    );
}

#[test]
fn s3_presigned_url_example() {
    let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    let t0 = at("20130524T000000Z");
    let v = check(
        "GET",
        "/test.txt",
        Some(q),
        &h,
        S3_SECRET,
        t0 + Duration::from_secs(3600),
    )
    .unwrap();
    assert_eq!(v.payload, Payload::Unsigned);
    let e = check(
        "GET",
        "/test.txt",
        Some(q),
        &h,
        S3_SECRET,
        t0 + Duration::from_secs(86_401),
    )
    .unwrap_err();
    assert_eq!(
        (e.code_and_status().0, e.to_string().as_str()),
        ("AccessDenied", "Request has expired")
    );
    let e = check(
        "GET",
        "/test.txt",
        Some(q),
        &h,
        S3_SECRET,
        t0 - Duration::from_secs(3600),
    )
    .unwrap_err();
    assert_eq!(e.code_and_status().0, "AccessDenied");
    let longer = q.replace("X-Amz-Expires=86400", "X-Amz-Expires=86401");
    assert_eq!(
        check("GET", "/test.txt", Some(&longer), &h, S3_SECRET, t0)
            .unwrap_err()
            .code_and_status()
            .0,
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        check("GET", "/other.txt", Some(q), &h, S3_SECRET, t0)
            .unwrap_err()
            .code_and_status()
            .0,
        "SignatureDoesNotMatch"
    );
    let week = q.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801");
    assert_eq!(
        check("GET", "/test.txt", Some(&week), &h, S3_SECRET, t0)
            .unwrap_err()
            .code_and_status()
            .0,
        "AuthorizationQueryParametersError"
    );
    let no_date = q.replace("&X-Amz-Date=20130524T000000Z", "");
    assert_eq!(
        check("GET", "/test.txt", Some(&no_date), &h, S3_SECRET, t0)
            .unwrap_err()
            .code_and_status()
            .0,
        "AuthorizationQueryParametersError"
    );
}

const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNK_1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const CHUNK_2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const CHUNK_FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

/// The S3 documentation's streaming PUT: its seed request, verified.
fn streaming_seed() -> Verified {
    let auth = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}");
    let h = headers(&[
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", &auth),
        ("x-amz-content-sha256", STREAMING_PAYLOAD),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ]);
    let v = check(
        "PUT",
        "/examplebucket/chunkObject.txt",
        None,
        &h,
        S3_SECRET,
        at("20130524T000000Z"),
    )
    .unwrap();
    assert_eq!(v.payload, Payload::Streaming);
    assert_eq!(v.seed_signature, SEED);
    v
}

fn chunked_body(corrupt: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for (size, sig) in [(65536usize, CHUNK_1), (1024, CHUNK_2), (0, CHUNK_FINAL)] {
        body.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
        let mut data = vec![b'a'; size];
        if corrupt && size == 1024 {
            data[10] = b'b';
        }
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\r\n");
    }
    body
}

#[test]
fn chunk_signatures_chain_as_documented() {
    let v = streaming_seed();
    let mut s = ChunkSigner::new(&v);
    assert_eq!(s.expected(&[b'a'; 65536]), CHUNK_1);
    s.verify(&[b'a'; 65536], CHUNK_1).unwrap();
    assert_eq!(s.expected(&[b'a'; 1024]), CHUNK_2);
    s.verify(&[b'a'; 1024], CHUNK_2).unwrap();
    assert_eq!(s.expected(b""), CHUNK_FINAL);
}

#[test]
fn decoder_in_any_split() {
    let body = chunked_body(false);
    for step in [1usize, 7, 4096, 70_000] {
        let mut dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            for c in dec.push(piece).unwrap() {
                out.extend_from_slice(&c);
            }
        }
        dec.finish().unwrap();
        assert_eq!(out, vec![b'a'; 66560], "step {step}");
        assert_eq!(dec.decoded, 66560);
    }
}

#[test]
fn decoder_refuses_bad_chunks() {
    // A corrupted second chunk: the first passes, the second is refused.
    let mut dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    let body = chunked_body(true);
    let first = dec.push(&body[..65536 + 90]).unwrap();
    assert_eq!(first.iter().map(|c| c.len()).sum::<usize>(), 65536);
    assert_eq!(
        dec.push(&body[65536 + 90..])
            .unwrap_err()
            .code_and_status()
            .0,
        "SignatureDoesNotMatch"
    );
    // Cut short.
    let mut dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    let good = chunked_body(false);
    dec.push(&good[..66_000]).unwrap();
    assert_eq!(
        dec.finish().unwrap_err().code_and_status().0,
        "IncompleteBody"
    );
    // Garbage framing, trailing data.
    let mut dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    assert_eq!(
        dec.push(b"zz;chunk-signature=00\r\n")
            .unwrap_err()
            .code_and_status()
            .0,
        "IncompleteBody"
    );
    let mut dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    let mut extra = chunked_body(false);
    extra.extend_from_slice(b"more");
    assert_eq!(
        dec.push(&extra).unwrap_err().code_and_status().0,
        "IncompleteBody"
    );
}

#[tokio::test]
async fn stream_adapter_passes_only_verified_data() {
    let pieces = |body: Vec<u8>| {
        futures::stream::iter(
            body.chunks(5000)
                .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )
    };
    let dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    let out: Vec<Result<bytes::Bytes, S3Error>> = verify_stream(pieces(chunked_body(false)), dec)
        .collect()
        .await;
    let data: Vec<u8> = out.into_iter().flat_map(|r| r.unwrap().to_vec()).collect();
    assert_eq!(data.len(), 66560);

    let dec = ChunkedDecoder::new(ChunkSigner::new(&streaming_seed()));
    let out: Vec<Result<bytes::Bytes, S3Error>> = verify_stream(pieces(chunked_body(true)), dec)
        .collect()
        .await;
    let last = out.last().unwrap();
    assert_eq!(
        last.as_ref().unwrap_err().code_and_status().0,
        "SignatureDoesNotMatch"
    );
    // At most the first (good) chunk got through.
    let passed: usize = out
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|b| b.len())
        .sum();
    assert!(passed <= 65536);
}

#[test]
fn canonical_pieces() {
    assert_eq!(canonical_uri("/a%20b/c+d/%7Ex"), "/a%20b/c%2Bd/~x");
    assert_eq!(
        canonical_query(Some("b=2&a=1&a=0&c"), false),
        "a=0&a=1&b=2&c="
    );
    assert_eq!(
        canonical_query(Some("X-Amz-Signature=x&a=%2F"), true),
        "a=%2F"
    );
    assert_eq!(format_amz_date(at("20130524T000000Z")), "20130524T000000Z");
    // Whitespace in a signed header collapses; repeated headers join.
    let h = headers(&[
        ("host", "h"),
        ("x-a", "  one   two "),
        ("x-a", "three"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
        ("authorization", "AWS4-HMAC-SHA256 Credential=A/20130524/r/s3/aws4_request,SignedHeaders=host;x-a,Signature=00"),
    ]);
    let req = Request {
        method: "GET",
        path: "/b",
        query: Some("z=1&a=2"),
        headers: &h,
    };
    let auth = parse(&req).unwrap().unwrap();
    assert_eq!(
        canonical_request(&req, &auth).unwrap(),
        "GET\n/b\na=2&z=1\nhost:h\nx-a:one two,three\n\nhost;x-a\nUNSIGNED-PAYLOAD"
    );
}

/// A body with trailers: unsigned chunks, or signed ones whose trailer
/// signature chains from the final chunk's.
fn trailer_body(signer: Option<&mut ChunkSigner>, value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match signer {
        None => out.extend_from_slice(b"5\r\nhello\r\n0\r\n"),
        Some(s) => {
            for data in [&b"hello"[..], b""] {
                let sig = s.expected(data);
                s.verify(data, &sig).unwrap();
                out.extend_from_slice(
                    format!("{:x};chunk-signature={sig}\r\n", data.len()).as_bytes(),
                );
                if !data.is_empty() {
                    out.extend_from_slice(data);
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    out.extend_from_slice(format!("x-amz-checksum-crc32:{value}\r\n").as_bytes());
    out
}

#[test]
fn trailers_unsigned_and_signed() {
    use crate::s3::checksum_body::Trailers;
    let mut body = trailer_body(None, "NhCmhg==");
    body.extend_from_slice(b"\r\n");
    for step in [1usize, 3, 100] {
        let slot = Trailers::default();
        let mut dec = ChunkedDecoder::with(None, true).trailers_into(slot.clone());
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            for c in dec.push(piece).unwrap() {
                out.extend_from_slice(&c);
            }
        }
        dec.finish().unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(
            slot.get("x-amz-checksum-crc32").as_deref(),
            Some("NhCmhg==")
        );
    }

    let signed = |value: &str, claimed: Option<&str>| {
        let mut s = ChunkSigner::new(&streaming_seed());
        let mut body = trailer_body(Some(&mut s), "NhCmhg==");
        let trailers = vec![("x-amz-checksum-crc32".to_string(), value.to_string())];
        let sig = claimed.map_or_else(|| s.expected_trailer(&trailers), str::to_string);
        body.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n\r\n").as_bytes());
        let slot = Trailers::default();
        let mut dec = ChunkedDecoder::with(Some(ChunkSigner::new(&streaming_seed())), true)
            .trailers_into(slot.clone());
        dec.push(&body).and_then(|_| dec.finish()).map(|()| slot)
    };
    let slot = signed("NhCmhg==", None).unwrap();
    assert_eq!(
        slot.get("x-amz-checksum-crc32").as_deref(),
        Some("NhCmhg==")
    );
    // The trailer changed after signing, or a made-up signature.
    let e = signed("AAAAAA==", None).unwrap_err();
    assert_eq!(e.code_and_status().0, "SignatureDoesNotMatch");
    let e = signed("NhCmhg==", Some(&"0".repeat(64))).unwrap_err();
    assert_eq!(e.code_and_status().0, "SignatureDoesNotMatch");
    // A signed body whose trailers carry no signature.
    let mut s = ChunkSigner::new(&streaming_seed());
    let mut body = trailer_body(Some(&mut s), "NhCmhg==");
    body.extend_from_slice(b"\r\n");
    let mut dec = ChunkedDecoder::with(Some(ChunkSigner::new(&streaming_seed())), true);
    assert_eq!(
        dec.push(&body).unwrap_err().code_and_status().0,
        "IncompleteBody"
    );
}
