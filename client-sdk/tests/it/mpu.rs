//! Multipart uploads through the SDK and our `mmpu`, and listings by
//! modification time through the SDK and our `mls -t`.

use crate::harness::{bytes, fails_with, ok, Env};
use client_sdk::ListOptions;

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn mmpu_round_trip_and_mls_by_time() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["~~/stor/u"]).await);
    let data = bytes(6 * MIB + 1000, 5);
    let (a, b) = data.split_at(6 * MIB);
    let fa = env.local("a.bin");
    std::fs::write(&fa, a).unwrap();
    let fa = fa.to_string_lossy().to_string();
    let id = ok(&env
        .run("mmpu", &["create", "-c", "2", "~~/stor/u/obj"])
        .await);
    let id = id.trim().to_string();
    let e0 = ok(&env.run("mmpu", &["upload", &id, "0", "-f", &fa]).await);
    let e1 = ok(&env.run_stdin("mmpu", &["upload", &id, "1"], b).await);
    let parts = ok(&env.run("mmpu", &["parts", &id]).await);
    assert_eq!(parts.lines().count(), 2, "{parts}");
    assert!(parts.lines().next().unwrap().ends_with(&format!("{id}/0")));
    let list = ok(&env.run("mmpu", &["list"]).await);
    assert!(list.lines().any(|l| l.ends_with(&id)), "{list}");
    let commit = ["commit", id.as_str(), e0.trim(), e1.trim()];
    ok(&env.run("mmpu", &commit).await);
    ok(&env.run("mmpu", &commit).await);
    let got = env.run("mget", &["~~/stor/u/obj"]).await;
    assert!(got.stdout == data, "mget: other bytes");
    let state: serde_json::Value =
        serde_json::from_str(&ok(&env.run("mmpu", &["get", &id]).await)).unwrap();
    assert_eq!(state["result"], "committed");
    fails_with(
        &env.run("mmpu", &["abort", &id]).await,
        "InvalidMultipartUploadState",
    );
    // Abort, then commit: refused.
    let id2 = ok(&env.run("mmpu", &["create", "~~/stor/u/gone"]).await);
    let id2 = id2.trim().to_string();
    let e = ok(&env.run_stdin("mmpu", &["upload", &id2, "0"], b"x").await);
    ok(&env.run("mmpu", &["abort", &id2]).await);
    fails_with(
        &env.run("mmpu", &["commit", &id2, e.trim()]).await,
        "InvalidMultipartUploadState",
    );
    fails_with(
        &env.run("mmpu", &["create", "~~/stor/nope/x"]).await,
        "DirectoryDoesNotExist",
    );
    fails_with(&env.run("mmpu", &["upload", &id2, "10000"]).await, "10000");

    // The SDK: an upload, then a listing by mtime paged 7 at a time.
    let c = &env.client;
    let up = c
        .create_upload("~~/stor/u/sdk", serde_json::Map::new())
        .await
        .unwrap();
    let p = c
        .upload_part(
            &up.id,
            0,
            std::io::Cursor::new(b"sdk bytes".to_vec()),
            Some(9),
        )
        .await
        .unwrap();
    c.commit_upload(&up.id, &[p.etag.unwrap()]).await.unwrap();
    assert_eq!(
        &c.get_bytes("~~/stor/u/sdk").await.unwrap()[..],
        b"sdk bytes"
    );

    ok(&env.run("mmkdir", &["~~/stor/t"]).await);
    let mut written = Vec::new();
    for i in 0..30 {
        let name = format!("n{:02}", (i * 7) % 30);
        c.put_bytes(
            &format!("~~/stor/t/{name}"),
            ::bytes::Bytes::new(),
            &Default::default(),
        )
        .await
        .unwrap();
        written.push(name);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let newest: Vec<String> = written.iter().rev().cloned().collect();
    let opts = ListOptions {
        limit: 7,
        sort_mtime: true,
        ..ListOptions::default()
    };
    let names: Vec<String> = c
        .list_all("~~/stor/t", opts.clone())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, newest);
    let out = ok(&env.run("mls", &["-t", "~~/stor/t"]).await);
    assert_eq!(out.lines().collect::<Vec<_>>(), newest);
    let out = ok(&env.run("mls", &["-tr", "~~/stor/t"]).await);
    assert_eq!(out.lines().collect::<Vec<_>>(), written);
}
