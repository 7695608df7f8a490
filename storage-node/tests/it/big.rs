use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use storage_node::blobstore::PutExpect;

use crate::common::*;

/// A GiB through HTTP both ways, streamed (a few seconds on a local disk).
#[tokio::test(flavor = "multi_thread")]
async fn one_gib_round_trip() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let client = client();
    let block = Bytes::from(pattern(1024 * 1024));
    let blocks = (0..1024).map(move |_| Ok::<_, std::io::Error>(block.clone()));
    let t = Instant::now();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(blocks));
    let r = client
        .put(&node.addr, body, &PutExpect::default())
        .await
        .unwrap();
    assert_eq!(r.size, 1 << 30);
    eprintln!("put 1 GiB in {:?}", t.elapsed());
    let t = Instant::now();
    let mut stream = client
        .get(&node.addr, &r.hash, None)
        .await
        .unwrap()
        .bytes_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        n += chunk.unwrap().len() as u64;
    }
    assert_eq!(n, 1 << 30);
    eprintln!("verified get of 1 GiB in {:?}", t.elapsed());
}

/// Read speed of a 256 MiB blob, store-level and over HTTP; run by hand
/// with `--ignored --nocapture` to compare builds (no timing is asserted).
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn read_speed_256_mib() {
    use futures::TryStreamExt;
    let (_dir, store) = new_store().await;
    let block = Bytes::from(pattern(1024 * 1024));
    let blocks = (0..256).map(move |_| Ok::<_, std::io::Error>(block.clone()));
    let t = Instant::now();
    let r = store
        .put(futures::stream::iter(blocks), PutExpect::default())
        .await
        .unwrap();
    eprintln!("store put of 256 MiB in {:?}", t.elapsed());
    for round in 0..3 {
        // The reference: the file read and hashed whole, as reads were
        // checked before hash trees.
        let t = Instant::now();
        let path = store.path(&r.hash);
        let plain = tokio::task::spawn_blocking(move || {
            let mut f = std::fs::File::open(path).unwrap();
            let mut h = blake3::Hasher::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = std::io::Read::read(&mut f, &mut buf).unwrap();
                if n == 0 {
                    break h.finalize();
                }
                h.update(&buf[..n]);
            }
        });
        assert_eq!(plain.await.unwrap(), blake3::Hash::from(r.hash.0));
        eprintln!("plain read+hash {round} of 256 MiB in {:?}", t.elapsed());
        let t = Instant::now();
        let (_, stream) = store.open_verified(&r.hash).await.unwrap();
        let n = stream
            .try_fold(0u64, |n, c| async move { Ok(n + c.len() as u64) })
            .await
            .unwrap();
        assert_eq!(n, 256 << 20);
        eprintln!("store read {round} of 256 MiB in {:?}", t.elapsed());
    }
    let node = start_node(store).await;
    let client = client();
    for round in 0..3 {
        let t = Instant::now();
        let mut stream = client
            .get(&node.addr, &r.hash, None)
            .await
            .unwrap()
            .bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            n += chunk.unwrap().len() as u64;
        }
        assert_eq!(n, 256 << 20);
        eprintln!("http read {round} of 256 MiB in {:?}", t.elapsed());
    }
}
