//! `GET /blobs`: every blob exactly once, in hash order, page by page, with
//! sizes and ages by the node's clock.

use std::time::Duration;

use storage_node::blobstore::PutExpect;
use storage_node::wire::ErrorBody;
use storage_node::BlobHash;

use crate::common::*;

#[tokio::test]
async fn pages_list_every_blob_once_in_order() {
    let (_dir, store) = new_store().await;
    let node = start_node(store.clone()).await;
    let c = client();
    let mut stored = Vec::new();
    for i in 0..61u32 {
        let data = format!("blob number {i}").repeat(i as usize + 1);
        let r = store
            .put(chunks(data.as_bytes(), 100), PutExpect::default())
            .await
            .unwrap();
        stored.push((r.hash, data.len() as u64));
    }
    stored.sort();
    let old = stored[17].0;
    age_file(&store.path(&old), Duration::from_secs(3600));

    let mut listed = Vec::new();
    let mut after: Option<BlobHash> = None;
    let mut pages = 0;
    loop {
        let page = c.list_blobs(&node.addr, after.as_ref(), 7).await.unwrap();
        pages += 1;
        assert!(page.blobs.len() <= 7);
        listed.extend(page.blobs.iter().copied());
        match page.next {
            Some(n) => {
                assert_eq!(Some(n), page.blobs.last().map(|b| b.hash));
                after = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(pages, 9);
    let got: Vec<(BlobHash, u64)> = listed.iter().map(|b| (b.hash, b.size)).collect();
    assert_eq!(got, stored);
    for b in &listed {
        if b.hash == old {
            assert!((3_600_000..3_700_000).contains(&b.age_ms), "{b:?}");
        } else {
            assert!(b.age_ms < 600_000, "{b:?}");
        }
    }
    // The default page holds them all.
    let all = c.list_blobs(&node.addr, None, 1000).await.unwrap();
    assert_eq!((all.blobs.len(), all.next), (61, None));
}

#[tokio::test]
async fn bad_listing_queries_are_refused() {
    let (_dir, store) = new_store().await;
    let node = start_node(store).await;
    let http = reqwest::Client::new();
    for q in ["limit=0", "after=xyz", "limit=many", "marker=00"] {
        let resp = send(&http, http.get(format!("{}/blobs?{q}", node.addr))).await;
        assert_eq!(resp.status(), 400, "{q}");
        assert_eq!(
            resp.json::<ErrorBody>().await.unwrap().code,
            "BadRequest",
            "{q}"
        );
    }
    let resp = send(&http, http.get(format!("{}/blobs", node.addr))).await;
    assert_eq!(resp.status(), 200);
    let page: storage_node::wire::BlobPage = resp.json().await.unwrap();
    assert_eq!((page.blobs.len(), page.next), (0, None));
}
