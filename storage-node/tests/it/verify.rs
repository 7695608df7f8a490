//! Verified reads: a flipped byte on disk is never served, a bad copy is
//! quarantined, ranges verify only what they touch, and blobs stored before
//! hash trees existed still read.

use futures::StreamExt;
use storage_node::blobstore::PutExpect;
use storage_node::wire::ErrorBody;
use storage_node::{BlobHash, BlobStore, Error};

use crate::common::*;

const MIB: usize = 1024 * 1024;

fn tree_path(store: &BlobStore, hash: &BlobHash) -> std::path::PathBuf {
    store.path(hash).with_extension("obao")
}

async fn put(addr: &str, data: &[u8]) -> BlobHash {
    let r = client()
        .put(addr, data.to_vec().into(), &PutExpect::default())
        .await
        .unwrap();
    assert_eq!(r.hash, BlobHash::of(data));
    r.hash
}

/// Reads a body until it ends or breaks; returns the bytes and whether it
/// broke.
async fn read_body(resp: reqwest::Response) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(b) => got.extend_from_slice(&b),
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

async fn assert_corrupt_answer(addr: &str, hash: &BlobHash, range: Option<(u64, u64)>) {
    let http = reqwest::Client::new();
    let mut req = http.get(format!("{addr}/blobs/{hash}"));
    if let Some((s, e)) = range {
        req = req.header("range", format!("bytes={s}-{e}"));
    }
    let resp = send(&http, req).await;
    assert_eq!(resp.status(), 500, "{range:?}");
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().code, "Corrupt");
}

async fn assert_gone(addr: &str, hash: &BlobHash) {
    let c = client();
    for range in [None, Some((0, 0)), Some((4096, 8191))] {
        let e = c.get(addr, hash, range).await.unwrap_err();
        assert!(
            matches!(e, Error::NotFound(h) if h == *hash),
            "{range:?}: {e}"
        );
    }
    let http = reqwest::Client::new();
    let head = send(&http, http.head(format!("{addr}/blobs/{hash}"))).await;
    assert_eq!(head.status(), 404);
}

#[tokio::test]
async fn flipped_byte_is_never_served_and_the_copy_is_quarantined() {
    let (dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let data = pattern(5 * MIB);
    let hash = put(&node.addr, &data).await;
    let at = (5 * MIB / 2 + 12_345) as u64;
    flip(&store.path(&hash), at);

    // Far from the flip, a range verifies only its own chunks: served.
    let resp = c.get(&node.addr, &hash, Some((100, 70_000))).await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap(), data[100..=70_000]);

    // Over the flip: its first chunk is bad, so an error status, no 206.
    assert_corrupt_answer(&node.addr, &hash, Some((at - 10, at + 10))).await;
    assert_gone(&node.addr, &hash).await;
    let st = c.status(&node.addr).await.unwrap();
    assert_eq!((st.quarantined, st.blob_count, st.used_bytes), (1, 0, 0));
    let q = dir.path().join("quarantine").join(hash.to_hex());
    assert_eq!(std::fs::read(&q).unwrap().len(), data.len());
    assert!(q.with_extension("obao").exists());
    assert_eq!(blob_files(dir.path()) + tree_files(dir.path()), 0);

    // The bytes uploaded again make a fresh, good copy...
    let again = c
        .put(&node.addr, data.clone().into(), &PutExpect::default())
        .await
        .unwrap();
    assert!(!again.existed);
    let resp = c.get(&node.addr, &hash, None).await.unwrap();
    assert_eq!(resp.bytes().await.unwrap(), data);

    // ...which, flipped midway, breaks a full GET before the flipped byte:
    // what arrived is a correct prefix.
    flip(&store.path(&hash), at);
    let resp = c.get(&node.addr, &hash, None).await.unwrap();
    assert_eq!(resp.status(), 200);
    let (got, broke) = read_body(resp).await;
    assert!(broke, "a corrupt copy must not complete a transfer");
    assert!(got.len() as u64 <= at, "{} bytes served", got.len());
    assert_eq!(got, data[..got.len()]);
    assert_gone(&node.addr, &hash).await;
    // The new bad copy replaced the old one in quarantine.
    assert_eq!(c.status(&node.addr).await.unwrap().quarantined, 1);
}

#[tokio::test]
async fn bad_first_chunk_answers_an_error_status() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let data = pattern(MIB + 3);
    let hash = put(&node.addr, &data).await;
    flip(&store.path(&hash), 10);
    assert_corrupt_answer(&node.addr, &hash, None).await;
    assert_gone(&node.addr, &hash).await;
}

#[tokio::test]
async fn ranges_at_odd_offsets_are_exact() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let c = client();
    let size = 3 * MIB + 777;
    let data = pattern(size);
    let hash = put(&node.addr, &data).await;
    let last = size as u64 - 1;
    let mut ranges = vec![
        (0, 0),
        (1023, 1024),
        (1000, 3000),
        (16_383, 16_384),
        (16_000, 50_000),
        (65_535, 65_536 + 1024),
        (last, last),
        (last - 5000, last),
        (0, last),
    ];
    let mut x: u64 = 0x9e37_79b9;
    for _ in 0..6 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let s = (x >> 20) % size as u64;
        let e = (s + (x >> 40) % 300_000).min(last);
        ranges.push((s, e));
    }
    for (s, e) in ranges {
        let resp = c.get(&node.addr, &hash, Some((s, e))).await.unwrap();
        assert_eq!(resp.status(), 206);
        let body = resp.bytes().await.unwrap();
        assert_eq!(body, data[s as usize..=e as usize], "bytes={s}-{e}");
    }
    assert_eq!(c.status(&node.addr).await.unwrap().quarantined, 0);
}

#[tokio::test]
async fn empty_blob_reads_empty() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let hash = put(&node.addr, b"").await;
    let resp = client().get(&node.addr, &hash, None).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn blob_stored_before_trees_gets_one_on_first_read() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let data = pattern(2 * MIB + 5);
    let hash = put(&node.addr, &data).await;
    let tree = tree_path(&store, &hash);
    std::fs::remove_file(&tree).unwrap();

    let resp = c.get(&node.addr, &hash, Some((5000, 9000))).await.unwrap();
    assert_eq!(resp.bytes().await.unwrap(), data[5000..=9000]);
    assert_eq!(
        std::fs::read(&tree).unwrap(),
        bao::encode::outboard(&data).0
    );
    let resp = c.get(&node.addr, &hash, None).await.unwrap();
    assert_eq!(resp.bytes().await.unwrap(), data);

    // A tree that does not describe the blob is rebuilt too.
    std::fs::write(&tree, b"short").unwrap();
    let resp = c.get(&node.addr, &hash, None).await.unwrap();
    assert_eq!(resp.bytes().await.unwrap(), data);
    assert_eq!(c.status(&node.addr).await.unwrap().quarantined, 0);
}

#[tokio::test]
async fn corrupt_blob_without_tree_is_quarantined() {
    let (dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let data = pattern(MIB);
    let hash = put(&node.addr, &data).await;
    std::fs::remove_file(tree_path(&store, &hash)).unwrap();
    flip(&store.path(&hash), 700_000);

    // The rebuild hashes the whole file first, so even a range far from the
    // flip is refused.
    assert_corrupt_answer(&node.addr, &hash, Some((0, 99))).await;
    assert_gone(&node.addr, &hash).await;
    assert_eq!(client().status(&node.addr).await.unwrap().quarantined, 1);
    assert!(dir.path().join("quarantine").join(hash.to_hex()).exists());
}

#[tokio::test]
async fn truncated_blob_is_quarantined() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let data = pattern(MIB);
    let hash = put(&node.addr, &data).await;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(store.path(&hash))
        .unwrap();
    f.set_len(4096).unwrap();
    // The tree no longer describes the file; the rebuild finds the bytes
    // do not match the name.
    assert_corrupt_answer(&node.addr, &hash, None).await;
    assert_gone(&node.addr, &hash).await;
}

#[tokio::test]
async fn quarantine_count_survives_a_restart() {
    let (dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let hash = put(&node.addr, &pattern(100_000)).await;
    flip(&store.path(&hash), 0);
    assert_corrupt_answer(&node.addr, &hash, None).await;
    drop(node);
    drop(store);
    let store = BlobStore::open(dir.path()).await.unwrap();
    let st = store.status().await;
    assert_eq!((st.quarantined, st.blob_count), (1, 0));
}

#[tokio::test]
async fn reupload_gives_an_old_blob_its_tree() {
    let (dir, store) = new_store().await;
    let data = pattern(40_000);
    let r = store
        .put(chunks(&data, 4096), PutExpect::default())
        .await
        .unwrap();
    let tree = tree_path(&store, &r.hash);
    std::fs::remove_file(&tree).unwrap();
    let again = store
        .put(chunks(&data, 5000), PutExpect::default())
        .await
        .unwrap();
    assert!(again.existed);
    assert_eq!(
        std::fs::read(&tree).unwrap(),
        bao::encode::outboard(&data).0
    );
    assert_eq!(tmp_files(dir.path()), 0);
}

/// Dedup never weakens a copy: a PUT of bytes the node holds in a rotten
/// copy (not yet read, so not yet noticed) leaves a good copy under the
/// name, and it reads whole without a quarantine.
#[tokio::test]
async fn a_reupload_replaces_a_rotten_copy() {
    let (_dir, store) = new_store().await;
    let data = pattern(3 * MIB);
    let first = store
        .put(chunks(&data, 65536), PutExpect::default())
        .await
        .unwrap();
    flip(&store.path(&first.hash), 2 * MIB as u64 + 77);
    let again = store
        .put(chunks(&data, 65536), PutExpect::default())
        .await
        .unwrap();
    assert!(again.existed);
    assert_eq!(std::fs::read(store.path(&first.hash)).unwrap(), data);
    let node = start_node(store.clone()).await;
    let resp = client().get(&node.addr, &first.hash, None).await.unwrap();
    let (got, broke) = read_body(resp).await;
    assert!(!broke && got == data);
    let st = store.status().await;
    assert_eq!((st.quarantined, st.blob_count), (0, 1));
}
