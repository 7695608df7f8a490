//! Shard servers and the ring-routing client over real HTTP.

use metadata_tier::net::ClusterKey;
use metadata_tier::registry::NodeRecord;
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions, Op};
use metadata_tier::{Error, MetadataClient, Ring, Shard};
use serde_json::json;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

struct Servers {
    client: MetadataClient,
    stop: Vec<CancellationToken>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn start(n: usize) -> Servers {
    let key = ClusterKey::generate();
    let mut urls = Vec::new();
    let mut stop = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..n {
        let dir = tempfile::tempdir().unwrap();
        let shard = Shard::open(dir.path()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        let token = CancellationToken::new();
        tokio::spawn(metadata_tier::server::serve(
            listener,
            shard,
            key.clone(),
            Default::default(),
            token.clone().cancelled_owned(),
        ));
        stop.push(token);
        dirs.push(dir);
    }
    Servers {
        client: MetadataClient::new(Ring::new(urls, 1024), key),
        stop,
        _dirs: dirs,
    }
}

/// Two directory names that the ring puts on different shards.
fn dirs_on_two_shards(ring: &Ring) -> (String, String) {
    let a = "/u/stor/a".to_string();
    let sa = ring.shard_for(Keyspace::Objects, &a);
    let b = (0..100)
        .map(|i| format!("/u/stor/b{i}"))
        .find(|d| ring.shard_for(Keyspace::Objects, d) != sa)
        .unwrap();
    (a, b)
}

#[tokio::test]
async fn client_routes_by_ring_and_maps_errors() {
    let srv = start(2).await;
    let c = &srv.client;
    let (a, b) = dirs_on_two_shards(c.ring());
    for d in [&a, &b] {
        for i in 0..3 {
            c.put(
                EntryKey::new(Keyspace::Objects, d.as_str(), format!("n{i}")),
                json!(i),
                Condition::None,
            )
            .await
            .unwrap();
        }
    }
    for d in [&a, &b] {
        let l = c
            .list(Keyspace::Objects, d, &ListOptions::default())
            .await
            .unwrap();
        assert_eq!(l.entries.len(), 3);
        assert_eq!(l.total, 3);
        assert_eq!(c.count(Keyspace::Objects, d).await.unwrap(), 3);
    }
    let k = EntryKey::new(Keyspace::Objects, a.as_str(), "n0");
    assert_eq!(c.get(&k).await.unwrap().unwrap().value, json!(0));
    let err = c
        .put(k.clone(), json!(9), Condition::Absent)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConditionFailed {
                current: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    let err = c
        .get(&EntryKey::new(Keyspace::Objects, "/x\0", "y"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{err:?}");

    let cross = vec![
        Op::Put {
            key: EntryKey::new(Keyspace::Objects, a.as_str(), "x"),
            value: json!(1),
            cond: Condition::None,
        },
        Op::Put {
            key: EntryKey::new(Keyspace::Objects, b.as_str(), "x"),
            value: json!(1),
            cond: Condition::None,
        },
    ];
    assert!(matches!(c.apply(cross).await, Err(Error::CrossShardBatch)));
    assert!(c
        .delete(k.clone(), Condition::None)
        .await
        .unwrap()
        .is_some());
    assert!(c.get(&k).await.unwrap().is_none());

    let http = reqwest::Client::new();
    let url = format!("{}/v1/status", c.ring().shards()[0]);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    let status: serde_json::Value = c
        .cluster_key()
        .send(&http, http.get(&url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["ok"], json!(true));

    // A stopped shard is Unavailable; the other keeps answering.
    let down = c.ring().shard_for(Keyspace::Objects, &a);
    srv.stop[down].cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = c.count(Keyspace::Objects, &a).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(c.count(Keyspace::Objects, &b).await.unwrap(), 3);
}

#[tokio::test]
async fn registry_tracks_heartbeats_by_age() {
    let srv = start(2).await;
    let c = &srv.client;
    let rec = |id: &str| NodeRecord {
        id: id.into(),
        addr: format!("http://{id}"),
        free_bytes: 100,
        used_bytes: 1,
        blob_count: 1,
        inflight: 0,
        version: 1,
    };
    c.heartbeat(&rec("old")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.heartbeat(&rec("fresh")).await.unwrap();
    let all = c.nodes().await.unwrap();
    assert_eq!(all.len(), 2);
    let live = c.live_nodes(Duration::from_millis(500)).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].record, rec("fresh"));
    c.heartbeat(&rec("old")).await.unwrap();
    assert_eq!(
        c.live_nodes(Duration::from_millis(500))
            .await
            .unwrap()
            .len(),
        2
    );
}
