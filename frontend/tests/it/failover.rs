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

/// The copies of `data` on the nodes' disks (blob files, not their trees).
fn copies_on_disk(tc: &TestCluster, data: &[u8]) -> Vec<std::path::PathBuf> {
    let hash = blake3::hash(data).to_hex().to_string();
    files_under(&tc.cluster.data_dir().join("storage"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == hash))
        .filter(|p| !p.components().any(|c| c.as_os_str() == "quarantine"))
        .collect()
}

fn flip(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

/// Bit rot in one copy: every read, whole or ranged, still gets the right
/// bytes (the node refuses to send what it cannot verify, and the frontend
/// resumes from the other copy at the same offset). With both copies rotten
/// a read fails cleanly: never a complete response with a wrong byte.
#[tokio::test]
async fn a_flipped_byte_is_never_served() {
    let tc = TestCluster::start().await;
    let data = bytes(3 << 20, 11);
    assert_eq!(tc.put("stor/rot", data.clone()).await.status(), 204);
    let copies = copies_on_disk(&tc, &data);
    assert_eq!(copies.len(), 2, "{copies:?}");
    let at = (3 << 20) / 2 + 12_345;
    flip(&copies[0], at);
    for i in 0..12 {
        let r = tc.get("stor/rot").await;
        assert_eq!(r.status(), 200, "read {i}");
        assert!(r.bytes().await.unwrap() == data, "read {i} got wrong bytes");
        let (start, end) = (at - 1000 - i, at + 3000 + i);
        let r = tc
            .req(Method::GET, "stor/rot")
            .header("range", format!("bytes={start}-{end}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206, "range read {i}");
        assert!(
            r.bytes().await.unwrap() == data[start..=end],
            "range {i} got wrong bytes"
        );
    }
    // Both copies rotten: no complete response carries the flipped byte.
    for path in copies_on_disk(&tc, &data) {
        flip(&path, at);
    }
    let r = tc.get("stor/rot").await;
    if r.status() == 200 {
        // A cut transfer (an error here) is a failure the client sees.
        if let Ok(got) = r.bytes().await {
            assert!(
                got.len() < data.len(),
                "a complete response from rotten copies"
            );
        }
    }
    // Other objects are served as before.
    assert_eq!(tc.put("stor/fresh", "fresh").await.status(), 204);
    assert_eq!(tc.get("stor/fresh").await.text().await.unwrap(), "fresh");
}
