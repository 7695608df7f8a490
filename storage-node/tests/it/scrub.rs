//! The scrubber: rot found on disk is quarantined by a pass, blobs without
//! a tree get one, reads are paced, `POST /scrub` answers with the pass to
//! wait for, and a restarted node resumes where it stopped.

use std::time::Duration;

use storage_node::blobstore::PutExpect;
use storage_node::scrub::ScrubSettings;
use storage_node::wire::ErrorBody;
use storage_node::{BlobHash, BlobStore, Error};

use crate::common::*;

async fn put(store: &BlobStore, data: &[u8]) -> BlobHash {
    let r = store
        .put(chunks(data, 64 * 1024), PutExpect::default())
        .await
        .unwrap();
    r.hash
}

/// Asks for a pass and waits until one that began after the request ended.
async fn scrub_now(addr: &str) -> storage_node::wire::StatusReport {
    let pass = client().scrub(addr).await.unwrap();
    wait_status(addr, |st| st.scrub_passes >= pass).await
}

async fn read_all(addr: &str, hash: &BlobHash) -> Vec<u8> {
    let resp = client().get(addr, hash, None).await.unwrap();
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_pass_quarantines_rot_builds_missing_trees_and_keeps_good_blobs() {
    let (dir, store) = new_store().await;
    let (bad_data, good_data, old_data) = (pattern(300_000), pattern(200_000), pattern(70_000));
    let bad = put(&store, &bad_data).await;
    let good = put(&store, &good_data).await;
    let old = put(&store, &old_data).await;
    flip(&store.path(&bad), 123_456);
    // Stored before trees existed.
    let old_tree = store.path(&old).with_extension("obao");
    std::fs::remove_file(&old_tree).unwrap();

    let node = start_scrubbed_node(store.clone(), fast_scrub()).await;
    let st = scrub_now(&node.addr).await;

    assert_eq!(st.scrub_corrupt, 1);
    assert_eq!(st.quarantined, 1);
    assert_eq!((st.blob_count, st.used_bytes), (2, 270_000));
    assert!(st.scrubbed_blobs >= 3, "{st:?}");
    assert!(st.scrub_last_pass_end_ms.is_some());
    let q = dir.path().join("quarantine").join(bad.to_hex());
    assert_eq!(std::fs::read(&q).unwrap().len(), bad_data.len());
    assert!(!store.path(&bad).exists());
    let e = client().get(&node.addr, &bad, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(h) if h == bad), "{e}");

    assert!(old_tree.exists(), "the scrub built the missing tree");
    assert_eq!(read_all(&node.addr, &good).await, good_data);
    assert_eq!(read_all(&node.addr, &old).await, old_data);

    // The next pass finds nothing new.
    let st = scrub_now(&node.addr).await;
    assert_eq!((st.scrub_corrupt, st.quarantined, st.blob_count), (1, 1, 2));
}

#[tokio::test]
async fn reads_are_paced_by_the_rate() {
    let (_dir, store) = new_store().await;
    let total = 3 * 1_000_000u64;
    for i in 0..3u8 {
        let mut data = pattern(1_000_000);
        data[0] = i;
        put(&store, &data).await;
    }
    // Under 3 s of reading at 1 MB/s (after a 256 KiB burst): the counter
    // must be seen between 0 and the total several times.
    let slow = ScrubSettings {
        rate_bytes_per_sec: 1_000_000,
        interval: Duration::from_secs(3600),
    };
    let node = start_scrubbed_node(store, slow).await;
    let c = client();
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let st = c.status(&node.addr).await.unwrap();
        if st.scrub_passes >= 1 {
            assert_eq!(st.scrubbed_bytes, total);
            break;
        }
        assert!(st.scrubbed_bytes <= total, "{st:?}");
        if st.scrubbed_bytes > 0 && st.scrubbed_bytes < total {
            seen.insert(st.scrubbed_bytes);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen.len() >= 3, "progress seen: {seen:?}");
}

#[tokio::test]
async fn a_restarted_scrubber_resumes_after_its_saved_position() {
    let (dir, store) = new_store().await;
    let mut hashes = Vec::new();
    for i in 0..3u8 {
        let mut data = pattern(50_000);
        data[7] = i;
        hashes.push(put(&store, &data).await);
    }
    hashes.sort();
    let (first, middle, last) = (hashes[0], hashes[1], hashes[2]);
    flip(&store.path(&first), 10);
    flip(&store.path(&last), 10);
    // As a node stopped mid-pass after checking `middle` leaves it.
    let saved = format!("{{\"v\":1,\"after\":\"{middle}\",\"last_pass_end_ms\":null}}");
    std::fs::write(dir.path().join("scrub.json"), saved).unwrap();

    let node = start_scrubbed_node(store.clone(), fast_scrub()).await;
    let st = wait_status(&node.addr, |st| st.scrub_passes >= 1).await;
    // The resumed pass checked only what came after `middle`.
    assert_eq!(st.scrub_corrupt, 1);
    assert!(!store.path(&last).exists());
    assert!(store.path(&first).exists());
    let end = st.scrub_last_pass_end_ms.unwrap();
    drop(node);

    // A new process: the last pass's end is remembered, and a requested
    // pass starts from the beginning.
    let store = BlobStore::open(dir.path()).await.unwrap();
    let node = start_scrubbed_node(store.clone(), fast_scrub()).await;
    let st = loaded_status(&node.addr).await;
    assert_eq!(st.scrub_last_pass_end_ms, Some(end));
    let st = scrub_now(&node.addr).await;
    assert_eq!(st.scrub_corrupt, 1);
    assert!(!store.path(&first).exists());
    assert!(store.path(&middle).exists());
}

async fn loaded_status(addr: &str) -> storage_node::wire::StatusReport {
    // The scrubber loads its saved state as it starts: wait for that.
    wait_status(addr, |st| st.scrub_last_pass_end_ms.is_some()).await
}

#[tokio::test]
async fn scrub_request_without_a_scrubber_is_refused() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let http = reqwest::Client::new();
    let resp = send(&http, http.post(format!("{}/scrub", node.addr))).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(
        resp.json::<ErrorBody>().await.unwrap().code,
        "ScrubDisabled"
    );
    // A rate of 0 runs no scrubber either.
    let off = ScrubSettings {
        rate_bytes_per_sec: 0,
        ..fast_scrub()
    };
    storage_node::scrub::run(store, off, node.stop.clone()).await;
    let e = client().scrub(&node.addr).await.unwrap_err();
    assert!(matches!(e, Error::Remote { status: 409, .. }), "{e}");
}
