//! Objects: PUT/GET/HEAD/DELETE, metadata, MD5, durability, conditions,
//! ranges, streaming.

use frontend::testkit::*;
use futures::StreamExt;
use reqwest::Method;

#[tokio::test]
async fn put_get_head_delete_roundtrip() {
    let tc = TestCluster::start().await;
    let data = b"hello, manta\n".to_vec();
    let resp = tc
        .req(Method::PUT, "stor/hello.txt")
        .header("content-type", "text/plain")
        .header("content-md5", md5_b64(&data))
        .header("m-color", "blue")
        .header("cache-control", "no-cache")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let etag = header(&resp, "etag");
    assert_eq!(header(&resp, "computed-md5"), md5_b64(&data));
    assert_eq!(header(&resp, "server"), "Manta");
    assert!(!header(&resp, "x-request-id").is_empty());
    header(&resp, "last-modified");

    let resp = tc.get("stor/hello.txt").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "etag"), etag);
    assert_eq!(header(&resp, "content-type"), "text/plain");
    assert_eq!(header(&resp, "content-md5"), md5_b64(&data));
    assert_eq!(header(&resp, "content-length"), data.len().to_string());
    assert_eq!(header(&resp, "durability-level"), "2");
    assert_eq!(header(&resp, "m-color"), "blue");
    assert_eq!(header(&resp, "cache-control"), "no-cache");
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..]);

    let resp = tc.req(Method::HEAD, "stor/hello.txt").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), data.len().to_string());
    assert_eq!(header(&resp, "m-color"), "blue");

    assert_eq!(tc.delete("stor/hello.txt").await.status(), 204);
    assert_error(tc.get("stor/hello.txt").await, 404, "ResourceNotFound").await;
    assert_error(tc.delete("stor/hello.txt").await, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn overwrite_changes_etag_and_content() {
    let tc = TestCluster::start().await;
    let a = tc.put("stor/x", "one").await;
    let b = tc.put("stor/x", "two").await;
    assert_ne!(header(&a, "etag"), header(&b, "etag"));
    assert_eq!(tc.get("stor/x").await.text().await.unwrap(), "two");
}

#[tokio::test]
async fn content_md5_mismatch_stores_nothing() {
    let tc = TestCluster::start().await;
    let resp = tc
        .req(Method::PUT, "stor/bad")
        .header("content-md5", md5_b64(b"something else"))
        .body("actual bytes")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "ContentMD5Mismatch").await;
    assert_error(tc.get("stor/bad").await, 404, "ResourceNotFound").await;
    // No blob with those bytes landed on any node, and no temp file is left.
    let files = files_under(tc.cluster.data_dir().join("storage").as_path());
    assert!(
        files
            .iter()
            .all(|f| !f.parent().is_some_and(|d| d.ends_with("tmp"))),
        "{files:?}"
    );
    let blobs = files
        .iter()
        .filter(|f| f.to_string_lossy().contains("/blobs/"))
        .count();
    assert_eq!(blobs, 0, "{files:?}");

    let resp = tc
        .req(Method::PUT, "stor/bad")
        .header("content-md5", "not-base64!")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "BadRequest").await;
}

#[tokio::test]
async fn durability_levels() {
    let tc = TestCluster::start().await;
    for (d, want) in [("1", "1"), ("3", "3")] {
        let resp = tc
            .req(Method::PUT, &format!("stor/d{d}"))
            .header("durability-level", d)
            .body("copies")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        let resp = tc.get(&format!("stor/d{d}")).await;
        assert_eq!(header(&resp, "durability-level"), want);
    }
    // node-manta's spelling
    let resp = tc
        .req(Method::PUT, "stor/x1")
        .header("x-durability-level", "1")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&tc.get("stor/x1").await, "durability-level"), "1");
    for bad in ["0", "10", "two"] {
        let resp = tc
            .req(Method::PUT, "stor/bad")
            .header("durability-level", bad)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "InvalidDurabilityLevel").await;
    }
    // More copies than nodes.
    let resp = tc
        .req(Method::PUT, "stor/d4")
        .header("durability-level", "4")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_error(resp, 507, "NotEnoughSpace").await;
}

#[tokio::test]
async fn a_one_node_cluster_set_to_one_copy_keeps_one() {
    // The kit sets default_durability = 1 for one node; with the default
    // of 2 the write would fail (durability::writes_refuse_fewer_copies..).
    let tc = TestCluster::start_with(1, |_| {}).await;
    let resp = tc.put("stor/one", "only one node").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&tc.get("stor/one").await, "durability-level"), "1");
}

#[tokio::test]
async fn zero_byte_object() {
    let tc = TestCluster::start().await;
    let resp = tc.put("stor/empty", "").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "computed-md5"), "1B2M2Y8AsgTpgAmY7PhCfg==");
    let resp = tc.get("stor/empty").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), "0");
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn conditional_requests() {
    let tc = TestCluster::start().await;
    let etag = header(&tc.put("stor/c", "v1").await, "etag");
    let lm = header(&tc.get("stor/c").await, "last-modified");

    // If-None-Match: * is "create only".
    let r = tc
        .req(Method::PUT, "stor/c")
        .header("if-none-match", "*")
        .body("v2")
        .send()
        .await
        .unwrap();
    assert_error(r, 412, "PreconditionFailed").await;
    let r = tc
        .req(Method::PUT, "stor/new")
        .header("if-none-match", "*")
        .body("fresh")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // If-Match
    let r = tc
        .req(Method::PUT, "stor/c")
        .header("if-match", "wrong")
        .body("v2")
        .send()
        .await
        .unwrap();
    assert_error(r, 412, "PreconditionFailed").await;
    let r = tc
        .req(Method::PUT, "stor/c")
        .header("if-match", etag.clone())
        .body("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let etag2 = header(&r, "etag");
    assert_eq!(tc.get("stor/c").await.text().await.unwrap(), "v2");

    // Reads: 304 for a matching If-None-Match or an old If-Modified-Since.
    let r = tc
        .req(Method::GET, "stor/c")
        .header("if-none-match", etag2.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag2);
    let r = tc
        .req(Method::GET, "stor/c")
        .header("if-modified-since", "Tue, 01 Jan 2999 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = tc
        .req(Method::GET, "stor/c")
        .header("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = tc
        .req(Method::GET, "stor/c")
        .header("if-unmodified-since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_error(r, 412, "PreconditionFailed").await;
    let r = tc
        .req(Method::GET, "stor/c")
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    assert_error(r, 412, "PreconditionFailed").await;
    let _ = lm;

    // Conditional delete.
    let r = tc
        .req(Method::DELETE, "stor/c")
        .header("if-match", "wrong")
        .send()
        .await
        .unwrap();
    assert_error(r, 412, "PreconditionFailed").await;
    let r = tc
        .req(Method::DELETE, "stor/c")
        .header("if-match", etag2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn ranges() {
    let tc = TestCluster::start().await;
    let data = bytes(100_000, 7);
    tc.put("stor/r", data.clone()).await;
    for (range, start, end) in [
        ("bytes=0-9", 0usize, 9usize),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-5", 99_995, 99_999),
        ("bytes=50000-200000", 50_000, 99_999),
    ] {
        let r = tc
            .req(Method::GET, "stor/r")
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            header(&r, "content-range"),
            format!("bytes {start}-{end}/100000")
        );
        assert!(r.headers().get("content-md5").is_none());
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            &data[start..=end],
            "{range}"
        );
    }
    let r = tc
        .req(Method::GET, "stor/r")
        .header("range", "bytes=100000-")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-range"), "bytes */100000");
    assert_error(r, 416, "RequestedRangeNotSatisfiable").await;
    let r = tc
        .req(Method::GET, "stor/r")
        .header("range", "bytes=0-1,5-6")
        .send()
        .await
        .unwrap();
    assert_error(r, 501, "NotImplemented").await;
}

#[tokio::test]
async fn large_chunked_upload_streams() {
    let tc = TestCluster::start().await;
    // 24 MiB sent chunked (no content-length) in 1 MiB pieces.
    let chunks: Vec<Vec<u8>> = (0..24).map(|i| bytes(1 << 20, i)).collect();
    let all: Vec<u8> = chunks.concat();
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let r = tc
        .req(Method::PUT, "stor/big")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "computed-md5"), md5_b64(&all));
    let r = tc.get("stor/big").await;
    assert_eq!(header(&r, "content-length"), all.len().to_string());
    let mut got = Vec::with_capacity(all.len());
    let mut s = r.bytes_stream();
    while let Some(c) = s.next().await {
        got.extend_from_slice(&c.unwrap());
    }
    assert!(got == all, "downloaded bytes differ");
}

#[tokio::test]
async fn max_content_length_is_enforced() {
    let tc = TestCluster::start().await;
    let stream = futures::stream::iter((0..4).map(|i| Ok::<_, std::io::Error>(bytes(1000, i))));
    let r = tc
        .req(Method::PUT, "stor/capped")
        .header("max-content-length", "2500")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "MaxContentLengthExceeded").await;
    assert_error(tc.get("stor/capped").await, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn identical_content_is_stored_once_per_node() {
    let tc = TestCluster::start().await;
    let data = bytes(10_000, 3);
    for i in 0..4 {
        let r = tc
            .req(Method::PUT, &format!("stor/same{i}"))
            .header("durability-level", "3")
            .body(data.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let blobs = files_under(&tc.cluster.data_dir().join("storage"))
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("/blobs/"))
        // Each blob's hash tree (`.obao`) sits beside it.
        .filter(|f| f.extension().is_none_or(|e| e != "obao"))
        .count();
    assert_eq!(blobs, 3, "one blob per node");
}
