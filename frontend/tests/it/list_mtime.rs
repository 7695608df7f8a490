//! Listings by modification time (`sort=mtime`): newest first, reversed,
//! paged with ISO-8601 markers, over a directory bigger than node-manta's
//! page, through the wire and through node-manta's `mls -t`.

use crate::mpu::node_session;
use frontend::testkit::{assert_error, TestCluster};
use reqwest::Method;

/// Writes `n` empty objects into `stor/<dir>` in an order unlike name
/// order, one ms apart at least (node-manta's `mls -t` drops an entry
/// whose mtime repeats the previous one's); returns the names newest first.
pub(crate) async fn fill(tc: &TestCluster, dir: &str, n: usize) -> Vec<String> {
    assert_eq!(tc.mkdir(&format!("stor/{dir}")).await.status(), 204);
    let mut written = Vec::new();
    for i in 0..n {
        let name = format!("f{:04}", (i * 7919) % n);
        let r = tc.put(&format!("stor/{dir}/{name}"), "").await;
        assert_eq!(r.status(), 204);
        written.push(name);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    written.reverse();
    written
}

fn names(body: &str) -> Vec<String> {
    body.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["name"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sort_by_mtime_pages_and_node_manta_mls_t() {
    let tc = TestCluster::start().await;
    let newest_first = fill(&tc, "t", 1100).await;
    let get = |q: String| tc.req(Method::GET, &format!("stor/t?{q}")).send();
    let r = get("sort=mtime&limit=5".into()).await.unwrap();
    assert_eq!(r.status(), 200);
    let first = r.text().await.unwrap();
    assert_eq!(names(&first), newest_first[..5]);
    // The marker is the last mtime seen, inclusive.
    let last: serde_json::Value = serde_json::from_str(first.lines().last().unwrap()).unwrap();
    let marker = last["mtime"].as_str().unwrap();
    let r = get(format!("sort=mtime&limit=3&marker={marker}"))
        .await
        .unwrap();
    assert_eq!(names(&r.text().await.unwrap()), newest_first[4..7]);
    let r = get("sort=mtime&sort_order=reverse&limit=3".into())
        .await
        .unwrap();
    let oldest: Vec<String> = newest_first.iter().rev().take(3).cloned().collect();
    assert_eq!(names(&r.text().await.unwrap()), oldest);
    assert_error(
        get("sort=mtime&marker=yesterday".into()).await.unwrap(),
        400,
        "InvalidParameter",
    )
    .await;
    assert_error(
        get("sort=size".into()).await.unwrap(),
        400,
        "InvalidParameter",
    )
    .await;

    // node-manta pages 1024 at a time with mtime markers.
    let s = node_session(&tc);
    let out = s.ok("mls", &["-t", "~~/stor/t"], None).await;
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 1100);
    assert!(got == newest_first, "mls -t is not newest first");
    let out = s.ok("mls", &["-t", "-r", "~~/stor/t"], None).await;
    let got: Vec<&str> = out.lines().collect();
    let oldest_first: Vec<&str> = newest_first.iter().rev().map(String::as_str).collect();
    assert!(got == oldest_first, "mls -tr is not oldest first");

    // Rewriting an object makes it the newest.
    assert_eq!(tc.put("stor/t/f0500", "again").await.status(), 204);
    let r = get("sort=mtime&limit=1".into()).await.unwrap();
    assert_eq!(names(&r.text().await.unwrap()), ["f0500"]);
}
