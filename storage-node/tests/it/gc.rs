//! GC deletes spare young copies, touch makes a copy young, and an upload
//! of bytes the node holds (dedup) also makes the copy young, even when it
//! races a GC delete.

use std::time::Duration;

use storage_node::blobstore::PutExpect;
use storage_node::wire::{ErrorBody, GcDelete};
use storage_node::BlobHash;

use crate::common::*;

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

async fn put(addr: &str, data: &[u8]) -> BlobHash {
    let r = client()
        .put(addr, data.to_vec().into(), &PutExpect::default())
        .await
        .unwrap();
    r.hash
}

#[tokio::test]
async fn gc_delete_keeps_young_blobs_and_removes_old_ones() {
    let (dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let data = pattern(40_000);
    let hash = put(&node.addr, &data).await;

    assert_eq!(
        c.delete_if_older(&node.addr, &hash, MINUTE).await.unwrap(),
        GcDelete::TooYoung
    );
    let http = reqwest::Client::new();
    let url = format!("{}/blobs/{hash}?min_age_ms=60000", node.addr);
    let resp = send(&http, http.delete(&url)).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().code, "BlobTooYoung");
    // A misspelt age is refused, not taken for an unconditional delete.
    let typo = format!("{}/blobs/{hash}?min_age=60000", node.addr);
    let resp = send(&http, http.delete(&typo)).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().code, "BadRequest");
    assert!(store.path(&hash).exists());

    age_file(&store.path(&hash), HOUR);
    assert_eq!(
        c.delete_if_older(&node.addr, &hash, MINUTE).await.unwrap(),
        GcDelete::Deleted
    );
    assert_eq!(blob_files(dir.path()) + tree_files(dir.path()), 0);
    let st = c.status(&node.addr).await.unwrap();
    assert_eq!((st.gc_deleted_blobs, st.gc_deleted_bytes), (1, 40_000));
    assert_eq!((st.blob_count, st.used_bytes), (0, 0));
    assert_eq!(
        c.delete_if_older(&node.addr, &hash, MINUTE).await.unwrap(),
        GcDelete::Absent
    );
    let resp = send(&http, http.delete(&url)).await;
    assert_eq!(resp.status(), 404);

    // The plain delete is not GC: it ignores age and is not counted.
    let other = put(&node.addr, b"plain").await;
    assert!(c.delete(&node.addr, &other).await.unwrap());
    let st = c.status(&node.addr).await.unwrap();
    assert_eq!(st.gc_deleted_blobs, 1);

    // The counters reach Prometheus through the node's metrics.
    let mut m = storage_node::metrics::NodeMetrics::new("gc-test");
    m.refresh(&store.status().await, &store.upkeep());
    let text = metadata_tier::net::metrics::render();
    assert!(
        text.contains("mantad_storage_gc_deleted_blobs_total{node=\"gc-test\"} 1"),
        "{text}"
    );
    assert!(text.contains("mantad_storage_gc_deleted_bytes_total{node=\"gc-test\"} 40000"));
}

#[tokio::test]
async fn touch_makes_a_blob_young() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let hash = put(&node.addr, b"referenced again").await;
    age_file(&store.path(&hash), HOUR);
    assert!(c.touch(&node.addr, &hash).await.unwrap());
    assert_eq!(
        c.delete_if_older(&node.addr, &hash, MINUTE).await.unwrap(),
        GcDelete::TooYoung
    );
    assert_eq!(c.status(&node.addr).await.unwrap().touches, 1);

    let absent = BlobHash::of(b"never stored");
    assert!(!c.touch(&node.addr, &absent).await.unwrap());
    let http = reqwest::Client::new();
    let url = format!("{}/blobs/{absent}/touch", node.addr);
    let resp = send(&http, http.post(url)).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().code, "NotFound");
    assert_eq!(c.status(&node.addr).await.unwrap().touches, 1);
}

#[tokio::test]
async fn an_upload_of_held_bytes_makes_the_copy_young() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let hash = put(&node.addr, b"dedup").await;
    age_file(&store.path(&hash), HOUR);
    let again = c
        .put(&node.addr, b"dedup".to_vec().into(), &PutExpect::default())
        .await
        .unwrap();
    assert!(again.existed);
    assert_eq!(
        c.delete_if_older(&node.addr, &hash, MINUTE).await.unwrap(),
        GcDelete::TooYoung
    );
}

/// Rounds of uploads of the same bytes racing GC deletes of the old copy
/// under that name, over HTTP: whenever an upload succeeded, the blob is
/// there and reads whole afterwards, and the counts stay right.
///
/// The bad interleaving (a GC delete past its age check when the upload
/// renames its copy in) spans microseconds, which HTTP jitter rarely hits:
/// with the lock removed this test still passed 3 runs of 300 rounds. The
/// unit test `a_gc_delete_past_its_check_cannot_remove_a_fresh_upload`
/// (`blobstore/gc.rs`) forces that interleaving and fails without the lock
/// on either side; this one checks the whole path end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_racing_gc_deletes_never_lose_an_acknowledged_blob() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let data = pattern(20_000);
    let hash = put(&node.addr, &data).await;
    let (mut deleted, mut kept) = (0, 0);
    for round in 0..300 {
        if !store.path(&hash).exists() {
            put(&node.addr, &data).await;
        }
        age_file(&store.path(&hash), HOUR);
        let uploads = (0..2).map(|_| {
            let (c, addr, body) = (c.clone(), node.addr.clone(), data.clone());
            tokio::spawn(async move { c.put(&addr, body.into(), &PutExpect::default()).await })
        });
        let gcs = (0..2).map(|_| {
            let (c, addr) = (c.clone(), node.addr.clone());
            tokio::spawn(async move { c.delete_if_older(&addr, &hash, MINUTE).await })
        });
        let gcs: Vec<_> = gcs.collect();
        let uploads: Vec<_> = uploads.collect();
        let mut any_upload = false;
        for u in uploads {
            any_upload |= u.await.unwrap().is_ok();
        }
        for g in gcs {
            match g.await.unwrap().unwrap() {
                GcDelete::Deleted => deleted += 1,
                _ => kept += 1,
            }
        }
        assert!(any_upload, "round {round}: every upload failed");
        assert!(
            store.path(&hash).exists(),
            "round {round}: acknowledged blob deleted"
        );
        let resp = c.get(&node.addr, &hash, None).await.unwrap();
        assert_eq!(resp.bytes().await.unwrap(), data, "round {round}");
    }
    // Both orders happened: the race was run, not avoided.
    assert!(deleted > 0 && kept > 0, "deleted {deleted}, kept {kept}");
    let st = c.status(&node.addr).await.unwrap();
    assert_eq!((st.blob_count, st.used_bytes), (1, 20_000));
}
