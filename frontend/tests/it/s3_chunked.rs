//! SigV4 by hand: an `aws-chunked` streaming upload (which boto3 sends only
//! over TLS) and a tampered chunk, signed with the verifier's own functions.

use crate::s3::S3Env;
use axum::http::{HeaderMap, HeaderValue};
use frontend::auth::aws_chunked::ChunkSigner;
use frontend::auth::sigv4::{self, Auth, Payload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::SystemTime;

/// Signs `headers` (plus host and x-amz-date, which it adds) for
/// `method path`; returns the headers and the chunk signer seeded by the
/// request's signature.
pub(crate) fn sign(
    env: &S3Env,
    method: &str,
    path: &str,
    mut headers: HeaderMap,
    payload: Payload,
) -> (HeaderMap, ChunkSigner) {
    let (_, id, secret) = &env.creds[0];
    let now = SystemTime::now();
    let date = sigv4::format_amz_date(now);
    let host = env.url.trim_start_matches("http://");
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("x-amz-date", HeaderValue::from_str(&date).unwrap());
    let mut signed: Vec<String> = headers.keys().map(|k| k.as_str().to_string()).collect();
    signed.sort();
    let mut auth = Auth {
        access_key_id: id.clone(),
        scope_date: date[..8].to_string(),
        region: "us-east-1".into(),
        service: "s3".into(),
        signed_headers: signed,
        signature: String::new(),
        amz_date: date.clone(),
        expires: None,
        payload,
    };
    let req = sigv4::Request {
        method,
        path,
        query: None,
        headers: &headers,
    };
    let canonical = sigv4::canonical_request(&req, &auth).unwrap();
    let sts = sigv4::string_to_sign(&date, &auth.scope(), &canonical);
    let key = sigv4::signing_key(secret, &auth.scope_date, "us-east-1", "s3");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(sts.as_bytes());
    auth.signature = hex::encode(mac.finalize().into_bytes());
    let verified = sigv4::verify(&req, &auth, secret, now).unwrap();
    let value = format!(
        "AWS4-HMAC-SHA256 Credential={id}/{}, SignedHeaders={}, Signature={}",
        auth.scope(),
        auth.signed_headers.join(";"),
        auth.signature
    );
    headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
    (headers, ChunkSigner::new(&verified))
}

/// The aws-chunked encoding of `chunks`; `tamper` corrupts chunk 1's data
/// after signing.
pub(crate) fn encode(chunks: &[&[u8]], signer: &mut ChunkSigner, tamper: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut all: Vec<&[u8]> = chunks.to_vec();
    all.push(b"");
    for (i, c) in all.iter().enumerate() {
        let sig = signer.expected(c);
        signer.verify(c, &sig).unwrap();
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        let mut data = c.to_vec();
        if tamper && i == 1 {
            data[0] ^= 1;
        }
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn put_chunked(env: &S3Env, path: &str, chunks: &[&[u8]], tamper: bool) -> reqwest::Response {
    let len: usize = chunks.iter().map(|c| c.len()).sum();
    let mut h = HeaderMap::new();
    h.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(sigv4::STREAMING_PAYLOAD),
    );
    h.insert("x-amz-decoded-content-length", HeaderValue::from(len));
    let (headers, mut signer) = sign(env, "PUT", path, h, Payload::Streaming);
    let body = encode(chunks, &mut signer, tamper);
    env.tc
        .http
        .put(format!("{}{path}", env.url))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn signed(env: &S3Env, method: &str, path: &str) -> reqwest::Response {
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(sigv4::EMPTY_SHA256),
    );
    let (headers, _) = sign(
        env,
        method,
        path,
        h,
        Payload::Sha256(sigv4::EMPTY_SHA256.into()),
    );
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    env.tc
        .http
        .request(m, format!("{}{path}", env.url))
        .headers(headers)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_aws_chunked_upload() {
    let env = S3Env::start().await;
    assert_eq!(signed(&env, "PUT", "/chunky").await.status(), 200);
    let a = vec![7u8; 64 << 10];
    let b = b"the second chunk".to_vec();
    let r = put_chunked(&env, "/chunky/obj", &[&a, &b], false).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = signed(&env, "GET", "/chunky/obj").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    let got = r.bytes().await.unwrap();
    assert_eq!(got.len(), a.len() + b.len());
    assert!(got.starts_with(&a) && got.ends_with(&b));

    let r = put_chunked(&env, "/chunky/bad", &[&a, &b], true).await;
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{text}"
    );
    assert_eq!(signed(&env, "GET", "/chunky/bad").await.status(), 404);
}
