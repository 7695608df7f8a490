use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use storage_node::blobstore::PutExpect;
use storage_node::wire::{ErrorBody, HEADER_BLOB_HASH};
use storage_node::{BlobHash, Error};

use crate::common::*;

#[tokio::test]
async fn put_get_small_and_large() {
    let (dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();

    let r = client
        .put(&node.addr, "hello".into(), &PutExpect::default())
        .await
        .unwrap();
    assert_eq!(
        (r.hash, r.size, r.existed),
        (BlobHash::of(b"hello"), 5, false)
    );
    let resp = client.get(&node.addr, &r.hash, None).await.unwrap();
    assert_eq!(resp.headers()[HEADER_BLOB_HASH], r.hash.to_hex().as_str());
    assert_eq!(resp.bytes().await.unwrap(), "hello");

    // Chunked upload of several MiB, never a content-length.
    let data = pattern(6 * 1024 * 1024 + 1);
    let body = reqwest::Body::wrap_stream(chunks(&data, 100_000));
    let expect = PutExpect {
        md5: Some(md5_raw(&data)),
        size: Some(data.len() as u64),
        hash: Some(BlobHash::of(&data)),
    };
    let r = client.put(&node.addr, body, &expect).await.unwrap();
    assert_eq!(r.md5, md5_b64(&data));
    let resp = client.get(&node.addr, &r.hash, None).await.unwrap();
    assert_eq!(resp.content_length(), Some(data.len() as u64));
    assert_eq!(resp.bytes().await.unwrap(), data);

    let again = client
        .put(&node.addr, data.clone().into(), &PutExpect::default())
        .await
        .unwrap();
    assert!(again.existed);
    assert_eq!(blob_files(dir.path()), 2);
    assert_eq!(tree_files(dir.path()), 2);
}

#[tokio::test]
async fn ranges() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();
    let r = client
        .put(&node.addr, "0123456789".into(), &PutExpect::default())
        .await
        .unwrap();
    let url = format!("{}/blobs/{}", node.addr, r.hash);
    let http = reqwest::Client::new();
    for (range, body, content_range) in [
        ("bytes=2-4", "234", "bytes 2-4/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-100", "89", "bytes 8-9/10"),
    ] {
        let resp = send(&http, http.get(&url).header("range", range)).await;
        assert_eq!(resp.status(), 206, "{range}");
        assert_eq!(resp.headers()["content-range"], content_range);
        assert_eq!(resp.text().await.unwrap(), body, "{range}");
    }
    let resp = send(&http, http.get(&url).header("range", "bytes=10-")).await;
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */10");

    let resp = client.get(&node.addr, &r.hash, Some((1, 2))).await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.text().await.unwrap(), "12");
    let e = client
        .get(&node.addr, &r.hash, Some((20, 30)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadRange), "{e}");
}

#[tokio::test]
async fn head_delete_status() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();
    let r = client
        .put(&node.addr, "abcdef".into(), &PutExpect::default())
        .await
        .unwrap();
    let url = format!("{}/blobs/{}", node.addr, r.hash);
    let http = reqwest::Client::new();

    let resp = send(&http, http.head(&url)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "6");
    assert_eq!(resp.headers()[HEADER_BLOB_HASH], r.hash.to_hex().as_str());

    let st = client.status(&node.addr).await.unwrap();
    assert_eq!(
        (st.id.as_str(), st.blob_count, st.used_bytes, st.inflight),
        ("node-1", 1, 6, 0)
    );
    assert!(st.free_bytes > 0);

    assert!(client.delete(&node.addr, &r.hash).await.unwrap());
    assert!(!client.delete(&node.addr, &r.hash).await.unwrap());
    assert_eq!(send(&http, http.head(&url)).await.status(), 404);
    let resp = send(&http, http.get(&url)).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().code, "NotFound");
    let e = client.get(&node.addr, &r.hash, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(h) if h == r.hash), "{e}");
    let st = client.status(&node.addr).await.unwrap();
    assert_eq!((st.blob_count, st.used_bytes), (0, 0));

    let bad = send(&http, http.get(format!("{}/blobs/nothex", node.addr))).await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn mismatches_map_to_errors() {
    let (dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();
    let put = |expect: PutExpect| {
        let client = client.clone();
        let addr = node.addr.clone();
        async move {
            client
                .put(&addr, "payload".into(), &expect)
                .await
                .unwrap_err()
        }
    };
    let e = put(PutExpect {
        md5: Some([7; 16]),
        ..Default::default()
    })
    .await;
    assert!(
        matches!(e, Error::Md5Mismatch { ref computed, .. } if *computed == md5_b64(b"payload")),
        "{e}"
    );
    let e = put(PutExpect {
        size: Some(3),
        ..Default::default()
    })
    .await;
    assert!(
        matches!(
            e,
            Error::SizeMismatch {
                expected: 3,
                got: 7
            }
        ),
        "{e}"
    );
    let e = put(PutExpect {
        hash: Some(BlobHash::of(b"x")),
        ..Default::default()
    })
    .await;
    assert!(
        matches!(e, Error::HashMismatch { got, .. } if got == BlobHash::of(b"payload")),
        "{e}"
    );

    let http = reqwest::Client::new();
    let put = http
        .put(format!("{}/blobs", node.addr))
        .header("content-md5", md5_b64(b"other"))
        .body("payload");
    let resp = send(&http, put).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<ErrorBody>().await.unwrap().code,
        "ContentMD5Mismatch"
    );
    assert_eq!(blob_files(dir.path()), 0);
    assert_eq!(tmp_files(dir.path()), 0);
}

#[tokio::test]
async fn corrupt_blob_is_never_served_whole() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let client = client();
    let data = pattern(1024 * 1024);
    let r = client
        .put(&node.addr, data.clone().into(), &PutExpect::default())
        .await
        .unwrap();
    let mut bad = data.clone();
    bad[500_000] ^= 0xff;
    std::fs::write(store.path(&r.hash), &bad).unwrap();

    let resp = client.get(&node.addr, &r.hash, None).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err());
}

#[tokio::test]
async fn failed_upload_leaves_no_temp_file() {
    let (dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();
    let failing =
        chunks(&pattern(2 * 1024 * 1024), 65536).chain(futures::stream::iter([Err::<Bytes, _>(
            std::io::Error::other("client died"),
        )]));
    let r = client
        .put(
            &node.addr,
            reqwest::Body::wrap_stream(failing),
            &PutExpect::default(),
        )
        .await;
    assert!(r.is_err());
    // The server notices the broken body asynchronously.
    let status = crate::common::client();
    for _ in 0..100 {
        let idle = status.status(&node.addr).await.unwrap().inflight == 0;
        if idle && tmp_files(dir.path()) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tmp_files(dir.path()), 0);
    assert_eq!(blob_files(dir.path()), 0);
    assert_eq!(status.status(&node.addr).await.unwrap().inflight, 0);
}

#[tokio::test]
async fn client_vanishing_midway_leaves_no_temp_file() {
    use tokio::io::AsyncWriteExt;
    let (dir, store) = new_store().await;
    let node = start_node(store).await;
    let host = node.addr.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(host).await.unwrap();
    let stamp = streamed_put_stamp(&node.addr);
    let head = format!(
        "PUT /blobs HTTP/1.1\r\nhost: {host}\r\ncontent-length: 10000000\r\n{}: {stamp}\r\n\r\n",
        metadata_tier::net::auth::HEADER
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&pattern(3 * 1024 * 1024)).await.unwrap();
    // Wait until the upload (its bytes and its hash tree) is under way,
    // then vanish.
    for _ in 0..100 {
        if tmp_files(dir.path()) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(tmp_files(dir.path()), 2);
    drop(sock);
    for _ in 0..100 {
        if tmp_files(dir.path()) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tmp_files(dir.path()), 0);
    assert_eq!(blob_files(dir.path()), 0);
}
