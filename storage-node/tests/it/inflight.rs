use std::time::Duration;

use storage_node::blobstore::PutExpect;

use crate::common::*;

#[tokio::test]
async fn streaming_get_counts_until_its_body_is_done() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let client = client();
    let data = pattern(8 * 1024 * 1024);
    let r = client
        .put(&node.addr, data.into(), &PutExpect::default())
        .await
        .unwrap();
    assert_eq!(store.inflight(), 0);

    // Headers received, body not read: the request is still in flight.
    let resp = client.get(&node.addr, &r.hash, None).await.unwrap();
    assert_eq!(store.inflight(), 1);
    assert_eq!(client.status(&node.addr).await.unwrap().inflight, 1);
    drop(resp);
    for _ in 0..100 {
        if store.inflight() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.inflight(), 0);
}
