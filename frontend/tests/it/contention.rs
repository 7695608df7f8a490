//! Writers racing for one name: unconditional writes are last-writer-wins
//! and never fail because another writer got there first; a conditional
//! create lets exactly one writer win.

use frontend::testkit::*;
use reqwest::Method;

#[tokio::test]
async fn concurrent_unconditional_puts_all_succeed() {
    let tc = TestCluster::start().await;
    let puts = (0..32).map(|i| {
        let body = format!("writer {i}\n").repeat(100);
        let req = tc.req(Method::PUT, "stor/contended").body(body);
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(puts).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    // The survivor is one writer's body, whole.
    let got = tc.get("stor/contended").await.text().await.unwrap();
    let first = got.lines().next().unwrap().to_string();
    assert!(first.starts_with("writer "), "{first}");
    assert_eq!(got, format!("{first}\n").repeat(100));
}

#[tokio::test]
async fn concurrent_conditional_creates_have_one_winner() {
    let tc = TestCluster::start().await;
    let puts = (0..8).map(|i| {
        let req = tc
            .req(Method::PUT, "stor/once")
            .header("if-none-match", "*")
            .body(format!("writer {i}"));
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(puts).await;
    let won = statuses.iter().filter(|s| **s == 204).count();
    assert_eq!(won, 1, "{statuses:?}");
    // Losers lost either at the check (412) or at the commit (409).
    assert!(
        statuses.iter().all(|s| [204, 409, 412].contains(s)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_object_never_replaces_a_directory() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.mkdir("stor/d").await.status(), 204);
    let resp = tc.put("stor/d", "bytes").await;
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "OperationNotAllowedOnDirectory");
    assert_eq!(tc.put("stor/d/inside", "still a dir").await.status(), 204);
}
