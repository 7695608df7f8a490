//! Bad input: refused with Manta's errors, nothing half-written visible,
//! temp data cleaned up.

use frontend::testkit::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(tc: &TestCluster) -> String {
    tc.cluster.url.trim_start_matches("http://").to_string()
}

/// Sends raw bytes and returns what the server answered (until it closes or
/// 5 s pass).
async fn raw(tc: &TestCluster, request: &[u8], close_write: bool) -> String {
    let mut s = TcpStream::connect(addr(tc)).await.unwrap();
    s.write_all(request).await.unwrap();
    if close_write {
        s.shutdown().await.unwrap();
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn no_temp_files(tc: &TestCluster) {
    let files = files_under(&tc.cluster.data_dir().join("storage"));
    let tmp: Vec<_> = files
        .iter()
        .filter(|f| f.parent().is_some_and(|d| d.ends_with("tmp")))
        .collect();
    assert!(tmp.is_empty(), "temp files left: {tmp:?}");
}

#[tokio::test]
async fn bad_path_components() {
    let tc = TestCluster::start().await;
    let auth = tc.auth_lines();
    for bad in ["stor/a%00b", "stor/a%2Fb", "stor/%ff"] {
        assert_error(tc.put(bad, "x").await, 400, "InvalidResource").await;
    }
    let long = "n".repeat(1025);
    assert_error(
        tc.put(&format!("stor/{long}"), "x").await,
        400,
        "InvalidResource",
    )
    .await;
    let ok = "n".repeat(1024);
    assert_eq!(tc.put(&format!("stor/{ok}"), "x").await.status(), 204);
    // `.` and `..` sent literally (reqwest would normalise them away).
    for seg in [".", "..", "%2e%2e"] {
        let req = format!(
            "PUT /{USER}/stor/{seg}/x HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 1\r\nConnection: close\r\n\r\nx"
        );
        let out = raw(&tc, req.as_bytes(), false).await;
        assert!(out.starts_with("HTTP/1.1 400"), "{seg}: {out}");
        assert!(out.contains("InvalidResource"), "{seg}: {out}");
    }
}

#[tokio::test]
async fn body_shorter_than_content_length_stores_nothing() {
    let tc = TestCluster::start().await;
    let auth = tc.auth_lines();
    let req = format!(
        "PUT /{USER}/stor/short HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 100000\r\n\r\n{}",
        "a".repeat(5000)
    );
    // The client stops sending and closes its side: the upload is cut short.
    let _ = raw(&tc, req.as_bytes(), true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(tc.get("stor/short").await, 404, "ResourceNotFound").await;
    no_temp_files(&tc);
}

#[tokio::test]
async fn client_disconnect_mid_upload_stores_nothing() {
    let tc = TestCluster::start().await;
    let auth = tc.auth_lines();
    let mut s = TcpStream::connect(addr(&tc)).await.unwrap();
    let head = format!(
        "PUT /{USER}/stor/gone HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..20 {
        s.write_all(format!("{:x}\r\n{}\r\n", 10_000, "z".repeat(10_000)).as_bytes())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_error(tc.get("stor/gone").await, 404, "ResourceNotFound").await;
    no_temp_files(&tc);
}

#[tokio::test]
async fn body_longer_than_content_length_keeps_declared_bytes() {
    let tc = TestCluster::start().await;
    let auth = tc.auth_lines();
    let req = format!(
        "PUT /{USER}/stor/long HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 5\r\nConnection: close\r\n\r\nhelloEXTRA-GARBAGE"
    );
    let out = raw(&tc, req.as_bytes(), false).await;
    assert!(out.starts_with("HTTP/1.1 204"), "{out}");
    assert_eq!(tc.get("stor/long").await.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn expect_continue_errors_come_before_the_body() {
    let tc = TestCluster::start().await;
    let auth = tc.auth_lines();
    // Missing parent: answered at once, without 100 Continue.
    let req = format!(
        "PUT /{USER}/stor/nodir/x HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 3\r\nExpect: 100-continue\r\n\r\n"
    );
    let mut s = TcpStream::connect(addr(&tc)).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let out = String::from_utf8_lossy(&buf[..n]);
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    assert!(out.contains("DirectoryDoesNotExist"), "{out}");

    // A good upload gets 100 Continue, then 204 after the body.
    let req = format!(
        "PUT /{USER}/stor/ok HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 3\r\nExpect: 100-continue\r\n\r\n"
    );
    let mut s = TcpStream::connect(addr(&tc)).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let out = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(out.starts_with("HTTP/1.1 100 Continue"), "{out}");
    s.write_all(b"abc").await.unwrap();
    let mut rest = String::new();
    while !rest.contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        rest.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(rest.contains("HTTP/1.1 204"), "{rest}");
    assert_eq!(tc.get("stor/ok").await.text().await.unwrap(), "abc");
}

#[tokio::test]
async fn upload_idle_timeout() {
    let tc = TestCluster::start_with(3, |o| {
        o.settings.upload_idle = Duration::from_millis(500);
    })
    .await;
    let auth = tc.auth_lines();
    let req =
        format!("PUT /{USER}/stor/slow HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 10\r\n\r\nabc");
    let mut s = TcpStream::connect(addr(&tc)).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains("UploadTimeout"), "{out}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(tc.get("stor/slow").await, 404, "ResourceNotFound").await;
    no_temp_files(&tc);
}
