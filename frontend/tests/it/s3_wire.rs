//! S3 behaviour seen on the wire, below what boto3 shows: `Expect:
//! 100-continue` with curl and a raw connection (a refused request never
//! gets its body read), a conditional write losing its race after its check
//! (409), `aws-chunked` bodies with checksum trailers, raw UTF-8 metadata.

use crate::s3::S3Env;
use crate::s3_chunked::{sign, signed};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use frontend::auth::sigv4::{self, Payload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn unsigned_headers(extra: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(sigv4::UNSIGNED_PAYLOAD),
    );
    for (k, v) in extra {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    h
}

/// A signed PUT of `file` by curl with `Expect: 100-continue`; returns
/// (status, bytes uploaded, whether a 100 came).
async fn curl_put(env: &S3Env, path: &str, file: &str, extra: &[(&str, &str)]) -> (u16, u64, bool) {
    let (headers, _) = sign(env, "PUT", path, unsigned_headers(extra), Payload::Unsigned);
    let mut args = vec![
        "-sS".to_string(),
        "-v".into(),
        "-T".into(),
        file.into(),
        "-H".into(),
        "Expect: 100-continue".into(),
        // Long enough that curl never gives up waiting and sends anyway.
        "--expect100-timeout".into(),
        "120".into(),
        "-o".into(),
        "/dev/null".into(),
        "-w".into(),
        "%{http_code} %{size_upload}".into(),
    ];
    for (k, v) in &headers {
        args.push("-H".into());
        args.push(format!("{k}: {}", v.to_str().unwrap()));
    }
    args.push(format!("{}{path}", env.url));
    let out = tokio::process::Command::new("curl")
        .args(&args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let verbose = String::from_utf8_lossy(&out.stderr).to_string();
    let (code, sent) = stdout.trim().split_once(' ').unwrap();
    let continued = verbose.contains("< HTTP/1.1 100 Continue");
    (code.parse().unwrap(), sent.parse().unwrap(), continued)
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_expect_100_continue_curl() {
    let env = S3Env::start().await;
    assert_eq!(signed(&env, "PUT", "/cont").await.status(), 200);
    let file = env.path("body.bin");
    std::fs::write(&file, vec![9u8; 3 << 20]).unwrap();

    let (code, sent, continued) = curl_put(&env, "/cont/k", &file, &[]).await;
    assert_eq!((code, sent, continued), (200, 3 << 20, true));

    // Refused after authentication, before the body: no 100, no byte sent.
    let owner = [("x-amz-expected-bucket-owner", "someone-else")];
    type Refusal<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
    let refusals: [Refusal; 3] = [
        ("/no-such-bucket/k", &[], 404),
        ("/cont/k", &[("if-none-match", "*")], 412),
        ("/cont/k", &owner, 403),
    ];
    for (path, extra, want) in refusals {
        let got = curl_put(&env, path, &file, extra).await;
        assert_eq!(got, (want, 0, false), "{path} {extra:?}");
    }
    // A bad signature: refused before the body too.
    let (headers, _) = sign(
        &env,
        "PUT",
        "/cont/k",
        unsigned_headers(&[]),
        Payload::Unsigned,
    );
    let auth = headers["authorization"]
        .to_str()
        .unwrap()
        .replace("Signature=", "Signature=0");
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "-T",
            &file,
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "120",
        ])
        .args(["-o", "/dev/null", "-w", "%{http_code} %{size_upload}"])
        .args(
            headers
                .iter()
                .filter(|(k, _)| *k != "authorization")
                .flat_map(|(k, v)| ["-H".to_string(), format!("{k}: {}", v.to_str().unwrap())]),
        )
        .args([
            "-H",
            &format!("authorization: {auth}"),
            &format!("{}/cont/k", env.url),
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403 0");
}

/// Head of a raw HTTP/1.1 response: status and the whole head text.
async fn read_head(conn: &mut tokio::net::TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1, "connection closed");
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text)
}

/// `If-None-Match: *` checked when the request arrives (the key is absent:
/// the server asks for the body with a 100), then another PUT creates the
/// key before the body is sent: the commit fails, 409, nothing replaced.
#[tokio::test(flavor = "multi_thread")]
async fn s3_conditional_put_losing_its_race_is_409() {
    let env = S3Env::start().await;
    assert_eq!(signed(&env, "PUT", "/race").await.status(), 200);
    let body = b"the conditional body".to_vec();
    let len = body.len().to_string();
    let extra = [("if-none-match", "*"), ("content-length", len.as_str())];
    let (headers, _) = sign(
        &env,
        "PUT",
        "/race/k",
        unsigned_headers(&extra),
        Payload::Unsigned,
    );
    let mut conn = tokio::net::TcpStream::connect(env.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let mut req = String::from("PUT /race/k HTTP/1.1\r\nexpect: 100-continue\r\n");
    for (k, v) in &headers {
        req.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let (status, _) = read_head(&mut conn).await;
    assert_eq!(status, 100, "checks passed, body asked for");

    let (h, _) = sign(
        &env,
        "PUT",
        "/race/k",
        unsigned_headers(&[]),
        Payload::Unsigned,
    );
    let url = format!("{}/race/k", env.url);
    let r = env
        .tc
        .http
        .put(&url)
        .headers(h)
        .body("winner")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    conn.write_all(&body).await.unwrap();
    let (status, head) = read_head(&mut conn).await;
    assert_eq!(status, 409, "{head}");
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest).await;
    assert!(
        rest.contains("<Code>ConditionalRequestConflict</Code>"),
        "{rest}"
    );
    let got = signed(&env, "GET", "/race/k").await.text().await.unwrap();
    assert_eq!(got, "winner");
}

const CHECK_CRC64NVME: u64 = 0xae8b_1486_0a79_9888; // of "123456789"

fn b64(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// An `aws-chunked` body with a checksum trailer, unsigned
/// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what the SDKs send over TLS).
async fn put_trailer(env: &S3Env, path: &str, data: &[u8], value: &str) -> reqwest::Response {
    let len = data.len().to_string();
    let extra = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", len.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
        ("x-amz-content-sha256", sigv4::UNSIGNED_TRAILER_PAYLOAD),
    ];
    let (headers, _) = sign(
        env,
        "PUT",
        path,
        unsigned_headers(&extra),
        Payload::UnsignedTrailer,
    );
    let mut body = format!("{:x}\r\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n0\r\nx-amz-checksum-crc64nvme:{value}\r\n\r\n").as_bytes());
    let url = format!("{}{path}", env.url);
    env.tc
        .http
        .put(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_checksum_trailers_and_utf8_metadata() {
    let env = S3Env::start().await;
    assert_eq!(signed(&env, "PUT", "/trail").await.status(), 200);
    let good = b64(&CHECK_CRC64NVME.to_be_bytes());
    let r = put_trailer(&env, "/trail/ok", b"123456789", &good).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (h, _) = sign(
        &env,
        "GET",
        "/trail/ok",
        unsigned_headers(&[("x-amz-checksum-mode", "ENABLED")]),
        Payload::Unsigned,
    );
    let url = format!("{}/trail/ok", env.url);
    let r = env.tc.http.get(&url).headers(h).send().await.unwrap();
    assert_eq!(
        frontend::testkit::header(&r, "x-amz-checksum-crc64nvme"),
        good
    );
    assert_eq!(r.text().await.unwrap(), "123456789");

    let wrong = b64(&(CHECK_CRC64NVME ^ 1).to_be_bytes());
    let r = put_trailer(&env, "/trail/bad", b"123456789", &wrong).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<Code>BadDigest</Code>"));
    assert_eq!(signed(&env, "GET", "/trail/bad").await.status(), 404);

    // Raw UTF-8 in a metadata value: kept, returned RFC 2047-encoded.
    let (h, _) = sign(
        &env,
        "PUT",
        "/trail/meta",
        unsigned_headers(&[("x-amz-meta-city", "Zürich ✓")]),
        Payload::Unsigned,
    );
    let url = format!("{}/trail/meta", env.url);
    let r = env
        .tc
        .http
        .put(&url)
        .headers(h)
        .body("m")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = signed(&env, "HEAD", "/trail/meta").await;
    let want = format!("=?UTF-8?B?{}?=", b64("Zürich ✓".as_bytes()));
    assert_eq!(frontend::testkit::header(&r, "x-amz-meta-city"), want);
}

/// curl without credentials: a public-read bucket serves GET and HEAD and
/// its listing; writes and another bucket's keys stay refused.
#[tokio::test(flavor = "multi_thread")]
async fn s3_public_read_bucket_anonymous_curl() {
    let env = S3Env::start().await;
    let (h, _) = sign(
        &env,
        "PUT",
        "/open",
        unsigned_headers(&[("x-amz-acl", "public-read")]),
        Payload::Unsigned,
    );
    let url = format!("{}/open", env.url);
    assert_eq!(
        env.tc
            .http
            .put(&url)
            .headers(h)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (h, _) = sign(
        &env,
        "PUT",
        "/open/k",
        unsigned_headers(&[]),
        Payload::Unsigned,
    );
    let r = env
        .tc
        .http
        .put(format!("{url}/k"))
        .headers(h)
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(signed(&env, "PUT", "/closed").await.status(), 200);

    let curl = |args: Vec<String>| async move {
        let out = tokio::process::Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .await
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let u = |p: &str| format!("{}{p}", env.url);
    assert_eq!(curl(vec![u("/open/k")]).await, "hi\n200");
    assert!(curl(vec!["-I".into(), u("/open/k")])
        .await
        .ends_with("\n200"));
    let list = curl(vec![u("/open?list-type=2")]).await;
    assert!(
        list.contains("<Key>k</Key>") && list.ends_with("200"),
        "{list}"
    );
    for (args, want) in [
        (
            vec![
                "-X".to_string(),
                "PUT".into(),
                "-d".into(),
                "x".into(),
                u("/open/k2"),
            ],
            "403",
        ),
        (vec!["-X".to_string(), "DELETE".into(), u("/open/k")], "403"),
        (vec![u("/open?acl")], "403"),
        (vec![u("/closed?list-type=2")], "403"),
        (vec![u("/")], "403"),
    ] {
        let out = curl(args.clone()).await;
        assert!(out.ends_with(want), "{args:?}: {out}");
    }
    assert_eq!(curl(vec![u("/open/k")]).await, "hi\n200", "nothing changed");
}
