//! Storage node failures inside one process: reads fail over to another
//! copy; a node past its heartbeat timeout gets no new copies.

use frontend::testkit::*;
use reqwest::Method;

#[tokio::test]
async fn reads_fail_over_and_writes_avoid_a_stopped_node() {
    let mut tc = TestCluster::start().await;
    let mut objects = Vec::new();
    for i in 0..6 {
        let data = bytes(50_000, i);
        let r = tc.put(&format!("stor/o{i}"), data.clone()).await;
        assert_eq!(r.status(), 204);
        objects.push(data);
    }
    tc.cluster.stop_node(0).await;
    for (i, data) in objects.iter().enumerate() {
        let r = tc.get(&format!("stor/o{i}")).await;
        assert_eq!(r.status(), 200, "o{i}");
        assert!(r.bytes().await.unwrap().as_ref() == &data[..], "o{i}");
    }
    tc.wait_live(2).await;
    for i in 0..6 {
        let r = tc
            .req(Method::PUT, &format!("stor/after{i}"))
            .body("after the failure")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    // Every new object has both copies on the two live nodes.
    let dead = tc.cluster.data_dir().join("storage").join("stor-1");
    let before = files_under(&dead).len();
    tc.cluster.restart_node(0).await.unwrap();
    tc.wait_live(3).await;
    assert_eq!(files_under(&dead).len(), before);
    let r = tc
        .req(Method::PUT, "stor/three")
        .header("durability-level", "3")
        .body("all three again")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn unreadable_copies_give_a_clear_error() {
    let mut tc = TestCluster::start_with(1, |_| {}).await;
    tc.put("stor/only", "one copy").await;
    tc.cluster.stop_node(0).await;
    assert_error(tc.get("stor/only").await, 503, "InternalError").await;
    // Metadata still answers for HEAD.
    let r = tc.req(Method::HEAD, "stor/only").send().await.unwrap();
    assert_eq!(r.status(), 200);
    tc.wait_live(0).await;
    assert_error(tc.put("stor/new", "x").await, 503, "InternalError").await;
}
