//! Real processes: three `mantad storage` processes against in-process
//! shards and frontend; one is killed with SIGKILL, mid-upload.

use frontend::records::ObjectRecord;
use frontend::testkit::*;
use metadata_tier::wire::{Keyspace, ListOptions};
use reqwest::Method;
use std::time::Duration;

#[tokio::test]
async fn kill_9_a_storage_node() {
    let mut tc =
        ProcessCluster::start(env!("CARGO_BIN_EXE_mantad"), 3, "jobs_runtime = \"off\"").await;

    let mut objects = Vec::new();
    for i in 0..8 {
        let data = bytes(200_000, i);
        let r = tc.put(&format!("stor/k{i}"), data.clone()).await;
        assert_eq!(r.status(), 204);
        objects.push(data);
    }

    // An upload in flight while the node dies: it either completes on nodes
    // that stayed up or fails, and is never half visible.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let inflight = tokio::spawn({
        let req = tc
            .req(Method::PUT, "stor/inflight")
            .header("durability-level", "3");
        async move { req.body(body).send().await }
    });
    for i in 0..5 {
        tx.send(Ok(bytes(64 * 1024, 100 + i))).await.unwrap();
    }
    tc.kill9(0).await;
    for i in 5..10 {
        if tx.send(Ok(bytes(64 * 1024, 100 + i))).await.is_err() {
            break;
        }
    }
    drop(tx);
    let status = inflight.await.unwrap().map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(s) if s >= 400) || status.is_err(),
        "{status:?}"
    );
    assert_error(tc.get("stor/inflight").await, 404, "ResourceNotFound").await;

    // Reads fail over at once, before the registry notices.
    for (i, data) in objects.iter().enumerate() {
        let r = tc.get(&format!("stor/k{i}")).await;
        assert_eq!(r.status(), 200, "k{i}");
        assert!(r.bytes().await.unwrap().as_ref() == &data[..], "k{i}");
    }

    // Once its heartbeat is stale, new writes go to the live nodes only.
    tc.wait_live(2).await;
    tc.cluster.state.store.placement().invalidate().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..8 {
        let r = tc
            .put(&format!("stor/after{i}"), bytes(10_000, 200 + i))
            .await;
        assert_eq!(r.status(), 204);
    }
    let account = tc.cluster.state.accounts.resolve(USER).await.unwrap();
    let listing = tc
        .cluster
        .meta
        .list(
            Keyspace::Objects,
            &format!("/{}/stor", account.uuid),
            &ListOptions {
                marker: Some("after".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut checked = 0;
    for e in listing
        .entries
        .iter()
        .filter(|e| e.name.starts_with("after"))
    {
        let rec: ObjectRecord = serde_json::from_value(e.value.clone()).unwrap();
        let copies: Vec<&str> = rec.copies().iter().map(|n| n.as_str()).collect();
        assert_eq!(copies.len(), 2);
        assert!(!copies.contains(&"proc-0"), "{copies:?}");
        checked += 1;
    }
    assert_eq!(checked, 8);
    tc.kill_all();
}
