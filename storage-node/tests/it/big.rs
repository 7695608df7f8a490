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
