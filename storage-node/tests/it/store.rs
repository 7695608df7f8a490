use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use storage_node::blobstore::PutExpect;
use storage_node::{BlobHash, BlobStore, Error};

use crate::common::*;

async fn read_all(store: &BlobStore, hash: &BlobHash) -> Vec<u8> {
    let (_, stream) = store.open_verified(hash).await.unwrap();
    let parts: Vec<Bytes> = stream.try_collect().await.unwrap();
    parts.concat()
}

#[tokio::test]
async fn put_small_and_read_back() {
    let (dir, store) = new_store().await;
    let r = store
        .put(chunks(b"hello", 2), PutExpect::default())
        .await
        .unwrap();
    assert_eq!(r.hash, BlobHash::of(b"hello"));
    assert_eq!((r.size, r.existed), (5, false));
    assert_eq!(r.md5, md5_b64(b"hello"));
    assert_eq!(store.size(&r.hash).await.unwrap(), 5);
    assert_eq!(read_all(&store, &r.hash).await, b"hello");
    assert!(store.path(&r.hash).starts_with(dir.path().join("blobs")));
    assert_eq!(std::fs::read(store.path(&r.hash)).unwrap(), b"hello");
    assert_eq!(tmp_files(dir.path()), 0);
}

#[tokio::test]
async fn put_empty_blob() {
    let (_dir, store) = new_store().await;
    let r = store
        .put(chunks(b"", 1), PutExpect::default())
        .await
        .unwrap();
    assert_eq!((r.hash, r.size), (BlobHash::of(b""), 0));
    assert!(read_all(&store, &r.hash).await.is_empty());
}

#[tokio::test]
async fn put_multi_mib_streamed() {
    let (dir, store) = new_store().await;
    let data = pattern(5 * 1024 * 1024 + 123);
    let expect = PutExpect {
        md5: Some(md5_raw(&data)),
        size: Some(data.len() as u64),
        hash: Some(BlobHash::of(&data)),
    };
    let r = store
        .put(chunks(&data, 64 * 1024 + 7), expect)
        .await
        .unwrap();
    assert_eq!(r.size, data.len() as u64);
    assert_eq!(read_all(&store, &r.hash).await, data);
    assert_eq!(blob_files(dir.path()), 1);
    // The tree's root is the blob's BLAKE3, and bao reads it back as such.
    let tree = std::fs::read(store.path(&r.hash).with_extension("obao")).unwrap();
    assert_eq!(tree, bao::encode::outboard(&data).0);
}

#[tokio::test]
async fn same_bytes_twice_keep_one_copy() {
    let (dir, store) = new_store().await;
    let a = store
        .put(chunks(b"dup", 1), PutExpect::default())
        .await
        .unwrap();
    let b = store
        .put(chunks(b"dup", 3), PutExpect::default())
        .await
        .unwrap();
    assert_eq!(a.hash, b.hash);
    assert!(!a.existed && b.existed);
    assert_eq!(blob_files(dir.path()), 1);
    assert_eq!(tree_files(dir.path()), 1);
    assert_eq!(tmp_files(dir.path()), 0);
    let st = store.status().await;
    assert_eq!((st.blob_count, st.used_bytes), (1, 3));
    assert!(st.free_bytes > 0);
}

#[tokio::test]
async fn mismatches_store_nothing() {
    let (dir, store) = new_store().await;
    let data = pattern(300_000);
    let bad_md5 = PutExpect {
        md5: Some([0; 16]),
        ..Default::default()
    };
    let e = store.put(chunks(&data, 4096), bad_md5).await.unwrap_err();
    assert!(
        matches!(e, Error::Md5Mismatch { ref computed, .. } if *computed == md5_b64(&data)),
        "{e}"
    );
    let bad_size = PutExpect {
        size: Some(1),
        ..Default::default()
    };
    let e = store.put(chunks(&data, 4096), bad_size).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::SizeMismatch {
                expected: 1,
                got: 300_000
            }
        ),
        "{e}"
    );
    let bad_hash = PutExpect {
        hash: Some(BlobHash::of(b"other")),
        ..Default::default()
    };
    let e = store.put(chunks(&data, 4096), bad_hash).await.unwrap_err();
    assert!(
        matches!(e, Error::HashMismatch { got, .. } if got == BlobHash::of(&data)),
        "{e}"
    );
    assert_eq!(blob_files(dir.path()), 0);
    assert_eq!(tmp_files(dir.path()), 0);
    assert_eq!(store.status().await.blob_count, 0);
}

#[tokio::test]
async fn stream_error_midway_stores_nothing() {
    let (dir, store) = new_store().await;
    let data = pattern(3 * 1024 * 1024);
    let failing =
        chunks(&data, 65536).chain(futures::stream::iter([Err(std::io::Error::other("boom"))]));
    let e = store.put(failing, PutExpect::default()).await.unwrap_err();
    assert!(matches!(e, Error::Body(ref m) if m.contains("boom")), "{e}");
    assert_eq!(blob_files(dir.path()), 0);
    assert_eq!(tmp_files(dir.path()), 0);
}

#[tokio::test]
async fn dropped_put_removes_temp_file() {
    let (dir, store) = new_store().await;
    // A client that sends 2 MiB and then stalls, then goes away.
    let stalled = chunks(&pattern(2 * 1024 * 1024), 65536).chain(futures::stream::pending());
    let put = store.put(stalled, PutExpect::default());
    assert!(tokio::time::timeout(Duration::from_millis(200), put)
        .await
        .is_err());
    assert_eq!(tmp_files(dir.path()), 0);
    assert_eq!(blob_files(dir.path()), 0);
}

#[tokio::test]
async fn open_removes_leftovers_and_counts_blobs() {
    let (dir, store) = new_store().await;
    store
        .put(chunks(b"one", 1), PutExpect::default())
        .await
        .unwrap();
    store
        .put(chunks(b"three", 1), PutExpect::default())
        .await
        .unwrap();
    std::fs::write(dir.path().join("tmp/crashed-upload"), b"partial").unwrap();
    std::fs::create_dir(dir.path().join("tmp/odd-dir")).unwrap();
    std::fs::write(dir.path().join("tmp/odd-dir/x"), b"x").unwrap();
    drop(store);
    let store = BlobStore::open(dir.path()).await.unwrap();
    assert_eq!(tmp_files(dir.path()), 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    let st = store.status().await;
    assert_eq!((st.blob_count, st.used_bytes), (2, 8));
}

#[tokio::test]
async fn delete_and_ranges() {
    let (dir, store) = new_store().await;
    let r = store
        .put(chunks(b"0123456789", 4), PutExpect::default())
        .await
        .unwrap();
    let part: Vec<Bytes> = store
        .open_range(&r.hash, 2, 5)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(part.concat(), b"23456");
    assert!(matches!(
        store.open_range(&r.hash, 5, 6).await,
        Err(Error::BadRange)
    ));
    assert!(store.delete(&r.hash).await.unwrap());
    assert!(!store.delete(&r.hash).await.unwrap());
    assert_eq!(blob_files(dir.path()) + tree_files(dir.path()), 0);
    assert!(matches!(store.size(&r.hash).await, Err(Error::NotFound(h)) if h == r.hash));
    assert!(matches!(
        store.open_range(&r.hash, 0, 1).await,
        Err(Error::NotFound(_))
    ));
    let st = store.status().await;
    assert_eq!((st.blob_count, st.used_bytes), (0, 0));
}
