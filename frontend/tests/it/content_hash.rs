//! `x-content-blake3`: the BLAKE3 of a whole object (what `b3sum` prints)
//! on every GET and HEAD answered 200, whoever asks (signed request, signed
//! URL, anonymous /public, a snaplink), and never on a 206.

use client_sdk::types::CONTENT_BLAKE3;
use client_sdk::SignUrlOptions;
use frontend::testkit::*;
use reqwest::{Method, Response};

fn b3(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

/// The header's value, asserting the response is a 200 that has it.
fn sent_hash(resp: &Response) -> String {
    assert_eq!(resp.status(), 200, "{:?}", resp.headers());
    header(resp, CONTENT_BLAKE3)
}

#[tokio::test]
async fn get_and_head_send_the_blake3_of_the_bytes() {
    let tc = TestCluster::start().await;
    let data = bytes(300_000, 3);
    assert_eq!(tc.put("stor/h", data.clone()).await.status(), 204);
    let resp = tc.get("stor/h").await;
    assert_eq!(sent_hash(&resp), b3(&data));
    let body = resp.bytes().await.unwrap();
    assert_eq!(
        b3(&body),
        b3(&data),
        "the header is the hash of the body sent"
    );
    let head = tc.req(Method::HEAD, "stor/h").send().await.unwrap();
    assert_eq!(sent_hash(&head), b3(&data));

    // An empty object has no blob; its hash is BLAKE3 of no bytes.
    assert_eq!(tc.put("stor/empty", "").await.status(), 204);
    let empty = b3(b"");
    assert_eq!(
        empty,
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    assert_eq!(sent_hash(&tc.get("stor/empty").await), empty);
    let head = tc.req(Method::HEAD, "stor/empty").send().await.unwrap();
    assert_eq!(sent_hash(&head), empty);

    // A snaplink is the same bytes.
    let link = tc
        .req(Method::PUT, "stor/link")
        .header("content-type", client_sdk::types::LINK_CONTENT_TYPE)
        .header("location", format!("/{USER}/stor/h"))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), 204);
    assert_eq!(sent_hash(&tc.get("stor/link").await), b3(&data));
}

#[tokio::test]
async fn a_range_carries_no_hash() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("stor/r", "0123456789").await.status(), 204);
    let part = tc
        .req(Method::GET, "stor/r")
        .header("range", "bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert!(part.headers().get(CONTENT_BLAKE3).is_none());
    assert_eq!(part.text().await.unwrap(), "234");
    // Not on a 304 either: it has no body to check.
    let etag = header(&tc.get("stor/r").await, "etag");
    let same = tc
        .req(Method::GET, "stor/r")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);
    assert!(same.headers().get(CONTENT_BLAKE3).is_none());
}

#[tokio::test]
async fn public_and_signed_url_reads_send_it_too() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.put("public/p", "hello world").await.status(), 204);
    let anon = tc.anon(Method::GET, &tc.url("public/p")).send().await;
    assert_eq!(sent_hash(&anon.unwrap()), b3(b"hello world"));

    assert_eq!(tc.put("stor/s", "signed").await.status(), 204);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let opts = SignUrlOptions::new(&["GET"], now + 60);
    let signed = tc.client.sign_url("~~/stor/s", &opts).unwrap();
    let resp = tc
        .anon(Method::GET, &format!("{}{signed}", tc.client.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(sent_hash(&resp), b3(b"signed"));
}
