//! Directories: mkdir, listings, roots, rmdir.

use frontend::testkit::*;
use reqwest::Method;

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn mkdir_is_idempotent_and_needs_a_parent() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.mkdir("stor/a").await.status(), 204);
    assert_eq!(tc.mkdir("stor/a").await.status(), 204);
    assert_eq!(tc.mkdir("stor/a/b").await.status(), 204);
    assert_error(tc.mkdir("stor/nope/b").await, 404, "DirectoryDoesNotExist").await;
    tc.put("stor/file", "x").await;
    assert_error(tc.mkdir("stor/file/b").await, 400, "ParentNotDirectory").await;
    assert_error(tc.put("stor/file/b", "y").await, 400, "ParentNotDirectory").await;
    assert_error(
        tc.put("stor/nope/b", "y").await,
        404,
        "DirectoryDoesNotExist",
    )
    .await;
    // An object cannot replace a directory.
    assert_error(
        tc.put("stor/a", "y").await,
        400,
        "OperationNotAllowedOnDirectory",
    )
    .await;
    // mkdir on a root directory is a no-op; on the account root it is refused.
    assert_eq!(tc.mkdir("stor").await.status(), 204);
    let r = tc
        .at(Method::PUT, &format!("{}/{USER}", tc.cluster.url))
        .header("content-type", "application/json; type=directory")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "OperationNotAllowedOnRootDirectory").await;
}

#[tokio::test]
async fn listing_is_sorted_with_marker_and_limit() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/d").await;
    let names = ["b", "a", "c c", "d", "e.txt"];
    for n in names {
        tc.put(&format!("stor/d/{}", n.replace(' ', "%20")), n)
            .await;
    }
    tc.mkdir("stor/d/sub").await;
    let r = tc.get("stor/d").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "application/x-json-stream; type=directory"
    );
    assert_eq!(header(&r, "result-set-size"), "6");
    let l = lines(&r.text().await.unwrap());
    let got: Vec<&str> = l.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(got, ["a", "b", "c c", "d", "e.txt", "sub"]);
    let a = &l[0];
    assert_eq!(a["type"], "object");
    assert_eq!(a["size"], 1);
    assert_eq!(a["durability"], 2);
    assert!(a["etag"].is_string() && a["contentMD5"].is_string());
    assert!(a["mtime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(l[5]["type"], "directory");
    assert!(l[5].get("size").is_none());

    // marker is inclusive, as in Manta
    let r = tc.get("stor/d?marker=c%20c&limit=2").await;
    assert_eq!(header(&r, "result-set-size"), "6");
    let l = lines(&r.text().await.unwrap());
    let got: Vec<&str> = l.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(got, ["c c", "d"]);

    let r = tc.get("stor/d?sort_order=reverse&limit=2").await;
    let l = lines(&r.text().await.unwrap());
    let got: Vec<&str> = l.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(got, ["sub", "e.txt"]);

    let r = tc.get("stor/d?dir=true").await;
    let l = lines(&r.text().await.unwrap());
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["name"], "sub");

    for bad in ["0", "1025", "x"] {
        assert_error(
            tc.get(&format!("stor/d?limit={bad}")).await,
            400,
            "InvalidArgumentError",
        )
        .await;
    }

    let r = tc.req(Method::HEAD, "stor/d").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "result-set-size"), "6");
    assert_eq!(
        header(&r, "content-type"),
        "application/x-json-stream; type=directory"
    );
}

#[tokio::test]
async fn listing_pages_through_a_large_directory() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/many").await;
    let n = 1100;
    // 64 at a time: the test is about paging, not about 1,100 connections.
    use futures::StreamExt;
    futures::stream::iter(0..n)
        .map(|i| put_owned(&tc, format!("stor/many/f{i:05}"), i))
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
    let mut marker = String::new();
    let mut seen = Vec::new();
    loop {
        let r = tc
            .get(&format!("stor/many?limit=1000&marker={marker}"))
            .await;
        assert_eq!(header(&r, "result-set-size"), n.to_string());
        let l = lines(&r.text().await.unwrap());
        let page: Vec<String> = l
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .filter(|name| *name != marker)
            .collect();
        if page.is_empty() {
            break;
        }
        marker = page.last().unwrap().clone();
        seen.extend(page);
    }
    let want: Vec<String> = (0..n).map(|i| format!("f{i:05}")).collect();
    assert_eq!(seen, want);
}

async fn put_owned(tc: &TestCluster, rel: String, i: usize) {
    let r = tc.put(&rel, format!("{i}")).await;
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn roots_exist_and_cannot_be_deleted() {
    let tc = TestCluster::start().await;
    let r = tc
        .at(Method::GET, &format!("{}/{USER}", tc.cluster.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "result-set-size"), "5");
    let l = lines(&r.text().await.unwrap());
    let got: Vec<&str> = l.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(got, ["jobs", "public", "reports", "stor", "uploads"]);
    for root in ["stor", "public", "jobs", "reports", "uploads"] {
        let r = tc.get(root).await;
        assert_eq!(r.status(), 200, "{root}");
        assert_eq!(header(&r, "result-set-size"), "0");
        assert_error(
            tc.delete(root).await,
            400,
            "OperationNotAllowedOnRootDirectory",
        )
        .await;
        assert_error(
            tc.put(root, "x").await,
            400,
            "OperationNotAllowedOnRootDirectory",
        )
        .await;
    }
    let r = tc
        .at(Method::DELETE, &format!("{}/{USER}", tc.cluster.url))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "OperationNotAllowedOnRootDirectory").await;
    assert_error(tc.get("nonsense").await, 404, "ResourceNotFound").await;
    let r = tc
        .at(Method::GET, &format!("{}/nobody/stor", tc.cluster.url))
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "AccountDoesNotExist").await;
}

#[tokio::test]
async fn rmdir_only_when_empty() {
    let tc = TestCluster::start().await;
    tc.mkdir("stor/d").await;
    tc.put("stor/d/x", "x").await;
    assert_error(tc.delete("stor/d").await, 400, "DirectoryNotEmpty").await;
    assert_eq!(tc.delete("stor/d/x").await.status(), 204);
    assert_eq!(tc.delete("stor/d").await.status(), 204);
    assert_error(tc.get("stor/d").await, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn accounts_see_only_their_own_names() {
    let tc = TestCluster::start().await;
    tc.put("stor/mine", "secret").await;
    let other = format!("{}/other/stor/mine", tc.cluster.url);
    assert_error(
        tc.as_user("other", Method::GET, &other)
            .send()
            .await
            .unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    let r = tc
        .as_user(
            "other",
            Method::GET,
            &format!("{}/other/stor", tc.cluster.url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "result-set-size"), "0");
    // And the test account may not look into `other` at all.
    assert_error(
        tc.at(Method::GET, &other).send().await.unwrap(),
        403,
        "AuthorizationFailed",
    )
    .await;
}
