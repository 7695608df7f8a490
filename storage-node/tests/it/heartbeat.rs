use std::time::Duration;

use metadata_tier::{MetadataClient, Ring, Shard};
use storage_node::blobstore::PutExpect;
use storage_node::heartbeat::{self, HeartbeatConfig};
use tokio_util::sync::CancellationToken;

use crate::common::*;

#[tokio::test]
async fn node_appears_in_registry() {
    let meta_dir = tempfile::tempdir().unwrap();
    let shard = Shard::open(meta_dir.path()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let meta_task = tokio::spawn(metadata_tier::server::serve(
        listener,
        shard,
        key(),
        Default::default(),
        stop.clone().cancelled_owned(),
    ));
    let meta = MetadataClient::new(Ring::new(vec![url], 1024), key());

    let (_dir, store) = new_store().await;
    store
        .put(chunks(b"abc", 1), PutExpect::default())
        .await
        .unwrap();
    let cfg = HeartbeatConfig {
        node_id: "sn-1".into(),
        addr: "http://127.0.0.1:9".into(),
        interval: Duration::from_millis(50),
    };
    let beats = tokio::spawn(heartbeat::run(meta.clone(), store, cfg, stop.clone()));

    let mut found = None;
    for _ in 0..100 {
        let live = meta.live_nodes(Duration::from_secs(10)).await.unwrap();
        found = live.into_iter().find(|n| n.record.id == "sn-1");
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rec = found.expect("node registered").record;
    assert_eq!(rec.addr, "http://127.0.0.1:9");
    assert_eq!((rec.blob_count, rec.used_bytes), (1, 3));
    assert!(rec.free_bytes > 0);

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), beats)
        .await
        .unwrap()
        .unwrap();
    meta_task.await.unwrap().unwrap();
}

#[tokio::test]
async fn heartbeat_survives_unreachable_registry_and_stops_on_cancel() {
    // Nothing listens on the shard address: every beat fails and is logged.
    let meta = MetadataClient::new(Ring::new(vec!["http://127.0.0.1:9".into()], 1024), key());
    let (_dir, store) = new_store().await;
    let cfg = HeartbeatConfig {
        node_id: "sn-2".into(),
        addr: "http://127.0.0.1:9".into(),
        interval: Duration::from_millis(10),
    };
    let cancel = CancellationToken::new();
    let beats = tokio::spawn(heartbeat::run(meta, store, cfg, cancel.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!beats.is_finished());
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), beats)
        .await
        .unwrap()
        .unwrap();
}
