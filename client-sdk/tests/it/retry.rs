//! Retries: idempotent requests survive 503s and dropped connections, with
//! a fresh `Date` and signature per attempt.

use client_sdk::{Client, Config};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers the n-th connection with `script[n]` (`None`
/// drops the connection) and records each request's head.
async fn scripted(script: Vec<Option<&'static str>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let n = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let mut got = 0;
            while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf[got..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got += k,
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..got]).to_string());
            let i = n.fetch_add(1, Ordering::SeqCst);
            if let Some(Some(resp)) = script.get(i) {
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        }
    });
    (url, seen)
}

const UNAVAILABLE: &str = "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 52\r\n\r\n{\"code\":\"ServiceUnavailable\",\"message\":\"try again\"}";
const OK: &str = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";

fn client(url: &str) -> Client {
    let mut cfg = Config::new(url, "tester");
    cfg.backoff = std::time::Duration::from_millis(20);
    cfg.no_auth = true;
    Client::with_signer(cfg, None).unwrap()
}

#[tokio::test]
async fn get_retries_503_and_dropped_connections() {
    let (url, seen) = scripted(vec![Some(UNAVAILABLE), None, Some(OK)]).await;
    let body = client(&url).get_bytes("~~/stor/x").await.unwrap();
    assert_eq!(body.as_ref(), b"ok");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|r| r.starts_with("GET /tester/stor/x ")));
    assert!(seen.iter().all(|r| r.to_lowercase().contains("\r\ndate: ")));
}

#[tokio::test]
async fn gives_up_with_the_servers_code() {
    let (url, seen) = scripted(vec![Some(UNAVAILABLE); 8]).await;
    let e = client(&url).info("~~/stor/x").await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(seen.lock().unwrap().len(), 4, "four attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn mget_resumes_a_broken_download_with_range_and_if_match() {
    use base64::Engine;
    use md5::Digest;
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b"helloworld"));
    let first: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\netag: e1\r\ncontent-md5: {md5}\r\n\r\nhell"
        )
        .into_boxed_str(),
    );
    let rest = "HTTP/1.1 206 Partial Content\r\nconnection: close\r\ncontent-length: 6\r\ncontent-range: bytes 4-9/10\r\netag: e1\r\n\r\noworld";
    let (url, seen) = scripted(vec![Some(first), Some(rest)]).await;
    let out = tokio::process::Command::new(crate::harness::ours("mget"))
        .arg("~~/stor/x")
        .env_clear()
        .env("MANTA_URL", &url)
        .env("MANTA_USER", "tester")
        .env("MANTA_NO_AUTH", "true")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"helloworld");
    let seen = seen.lock().unwrap();
    let second = seen[1].to_lowercase();
    assert!(second.contains("range: bytes=4-"), "{second}");
    assert!(second.contains("if-match: e1"), "{second}");
}
