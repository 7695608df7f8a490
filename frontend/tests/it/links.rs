//! Snaplinks: a new name sharing the source's blob.

use frontend::testkit::*;
use reqwest::Method;

async fn link(tc: &TestCluster, dst: &str, location: Option<&str>) -> reqwest::Response {
    let mut r = tc
        .req(Method::PUT, dst)
        .header("content-type", "application/json; type=link");
    if let Some(l) = location {
        r = r.header("location", l);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn snaplink_shares_bytes_and_survives_source_changes() {
    let tc = TestCluster::start().await;
    let put = tc.put("stor/src", "original").await;
    let etag = header(&put, "etag");
    let blobs_before = files_under(&tc.cluster.data_dir().join("storage")).len();

    let r = link(&tc, "stor/dst", Some(&format!("/{USER}/stor/src"))).await;
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(
        files_under(&tc.cluster.data_dir().join("storage")).len(),
        blobs_before
    );

    let r = tc.get("stor/dst").await;
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(r.text().await.unwrap(), "original");

    tc.put("stor/src", "changed").await;
    assert_eq!(tc.get("stor/dst").await.text().await.unwrap(), "original");
    tc.delete("stor/src").await;
    assert_eq!(tc.get("stor/dst").await.text().await.unwrap(), "original");
}

#[tokio::test]
async fn snaplink_errors() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/dir").await;
    assert_error(link(&tc, "stor/l", None).await, 400, "LocationRequired").await;
    let loc = format!("/{USER}/stor/missing");
    assert_error(
        link(&tc, "stor/l", Some(&loc)).await,
        404,
        "SourceObjectNotFound",
    )
    .await;
    let loc = format!("/{USER}/stor/dir");
    assert_error(link(&tc, "stor/l", Some(&loc)).await, 400, "LinkNotObject").await;
    assert_error(
        link(&tc, "stor/l", Some("/x/../y")).await,
        400,
        "InvalidLink",
    )
    .await;
    tc.put("stor/src", "x").await;
    let loc = format!("/{USER}/stor/src");
    assert_error(
        link(&tc, "stor/nodir/l", Some(&loc)).await,
        404,
        "DirectoryDoesNotExist",
    )
    .await;
    assert_error(
        link(&tc, "stor/dir", Some(&loc)).await,
        400,
        "OperationNotAllowedOnDirectory",
    )
    .await;
    tc.as_user(
        "other",
        Method::PUT,
        &format!("{}/other/stor/theirs", tc.cluster.url),
    )
    .body("theirs")
    .send()
    .await
    .unwrap();
    assert_error(
        link(&tc, "stor/stolen", Some("/other/stor/theirs")).await,
        403,
        "AuthorizationFailed",
    )
    .await;
}
