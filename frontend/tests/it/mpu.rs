//! Manta multipart uploads (`/:login/uploads`): node-manta's own `mmpu`
//! against the in-process cluster, then the wire rules node-manta relies
//! on (301 redirects, state JSON, errors) with raw signed requests.

use crate::auth_node_manta::{node_bin, Session};
use frontend::testkit::{assert_error, bytes, header, TestCluster, USER};
use reqwest::Method;
use std::collections::HashMap;

pub(crate) fn node_session(tc: &TestCluster) -> Session {
    let env: HashMap<String, String> = [
        ("MANTA_URL", tc.cluster.url.clone()),
        ("MANTA_USER", USER.to_string()),
        ("MANTA_KEY_ID", tc.key_id.clone()),
        ("MANTA_LOG_LEVEL", "fatal".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Session {
        bin: node_bin(),
        home: tc.home.clone(),
        env,
    }
}

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mmpu_round_trip() {
    let tc = TestCluster::start().await;
    let s = node_session(&tc);
    s.ok("mmkdir", &["-p", "~~/stor/mpu"], None).await;
    // 30 MiB in parts of 12, 12 and 6 MiB.
    let data = bytes(30 * MIB, 7);
    let bounds = [0, 12 * MIB, 24 * MIB, 30 * MIB];
    let id = s
        .ok("mmpu", &["create", "~~/stor/mpu/big.bin"], None)
        .await
        .trim()
        .to_string();
    assert_eq!(id.len(), 36, "{id}");
    let mut etags = Vec::new();
    for (n, w) in bounds.windows(2).enumerate() {
        let f = tc.dir.path().join(format!("part{n}"));
        std::fs::write(&f, &data[w[0]..w[1]]).unwrap();
        let f = f.display().to_string();
        let n = n.to_string();
        let etag = s.ok("mmpu", &["upload", &id, &n, "-f", &f], None).await;
        etags.push(etag.trim().to_string());
    }
    let parts = s.ok("mmpu", &["parts", &id], None).await;
    assert_eq!(parts.lines().count(), 3, "{parts}");
    let listed = s.ok("mmpu", &["list"], None).await;
    assert!(listed.contains(&id), "{listed}");
    let state: serde_json::Value =
        serde_json::from_str(&s.ok("mmpu", &["get", &id], None).await).unwrap();
    assert_eq!(state["state"], "created");
    assert_eq!(state["targetObject"], format!("/{USER}/stor/mpu/big.bin"));

    let mut commit = vec!["commit", id.as_str()];
    commit.extend(etags.iter().map(String::as_str));
    s.ok("mmpu", &commit, None).await;
    // Idempotent: the same commit again succeeds.
    s.ok("mmpu", &commit, None).await;
    let state: serde_json::Value =
        serde_json::from_str(&s.ok("mmpu", &["get", &id], None).await).unwrap();
    assert_eq!(state["state"], "done");
    assert_eq!(state["result"], "committed");

    let out = tc.dir.path().join("got.bin");
    let o = out.display().to_string();
    s.ok("mget", &["-o", &o, "~~/stor/mpu/big.bin"], None).await;
    assert!(std::fs::read(&out).unwrap() == data, "mget: other bytes");
    // Ranges across part boundaries, with a plain signed GET.
    let r = tc
        .req(Method::GET, "stor/mpu/big.bin")
        .header("range", format!("bytes={}-{}", 12 * MIB - 5, 12 * MIB + 4))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        &data[12 * MIB - 5..12 * MIB + 5]
    );
    // A commit with other parts is refused now.
    let o = s.run("mmpu", &["commit", &id, &etags[0]], None).await;
    assert!(
        !o.ok && o.stderr.contains("is committed; it cannot be committed"),
        "{}",
        o.stderr
    );

    // Abort, then commit: refused; abort again: fine.
    let id2 = s
        .ok("mmpu", &["create", "~~/stor/mpu/gone.bin"], None)
        .await
        .trim()
        .to_string();
    let e0 = s.ok("mmpu", &["upload", &id2, "0"], Some("tiny")).await;
    s.ok("mmpu", &["abort", &id2], None).await;
    let o = s.run("mmpu", &["commit", &id2, e0.trim()], None).await;
    assert!(
        !o.ok && o.stderr.contains("is aborted; it cannot be committed"),
        "{}",
        o.stderr
    );
    s.ok("mmpu", &["abort", &id2], None).await;
    let o = s.run("mget", &["~~/stor/mpu/gone.bin"], None).await;
    assert!(!o.ok, "aborted upload made an object");

    // Parts too small: every part but the last is at least 5 MiB.
    let id3 = s
        .ok("mmpu", &["create", "~~/stor/mpu/small.bin"], None)
        .await
        .trim()
        .to_string();
    let a = s.ok("mmpu", &["upload", &id3, "0"], Some("aaa")).await;
    let b = s.ok("mmpu", &["upload", &id3, "1"], Some("bbb")).await;
    let o = s
        .run("mmpu", &["commit", &id3, a.trim(), b.trim()], None)
        .await;
    assert!(
        !o.ok
            && o.stderr
                .contains("every part but the last must be at least"),
        "{}",
        o.stderr
    );
    // One small part alone is fine, and zero parts make an empty object.
    s.ok("mmpu", &["commit", &id3, a.trim()], None).await;
    assert_eq!(s.ok("mget", &["~~/stor/mpu/small.bin"], None).await, "aaa");
    let id4 = s
        .ok("mmpu", &["create", "~~/stor/mpu/empty.bin"], None)
        .await
        .trim()
        .to_string();
    s.ok("mmpu", &["commit", &id4], None).await;
    assert_eq!(s.ok("mget", &["~~/stor/mpu/empty.bin"], None).await, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn mpu_wire_rules() {
    let tc = TestCluster::start().await;
    assert_eq!(tc.mkdir("stor/w").await.status(), 204);
    let create = |body: serde_json::Value| {
        tc.req(Method::POST, "uploads")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let r = create(serde_json::json!({
        "objectPath": format!("/{USER}/stor/w/o"),
        "headers": {"content-length": 5, "m-color": "blue", "content-type": "text/plain"},
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let dir = v["partsDirectory"].as_str().unwrap().to_string();
    assert_eq!(dir, format!("/{USER}/uploads/{}/{id}", &id[..3]));

    // The redirect node-manta resolves every call with: exactly 301.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (date, auth) = tc.signers[USER].headers_now().unwrap();
    let r = no_redirects
        .head(tc.url(&format!("uploads/{id}")))
        .header("date", &date)
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(header(&r, "location"), dir);
    let r = no_redirects
        .put(tc.url(&format!("uploads/{id}/0")))
        .header("date", &date)
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(header(&r, "location"), format!("{dir}/0"));
    let unknown = "01234567-89ab-4def-8123-456789abcde3";
    let r = tc
        .req(Method::HEAD, &format!("uploads/{unknown}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let part = |n: &str, body: &'static str| {
        tc.at(Method::PUT, &format!("{}{dir}/{n}", tc.cluster.url))
            .body(body)
            .send()
    };
    let r = part("0", "hello").await.unwrap();
    assert_eq!(r.status(), 204);
    let etag = header(&r, "etag");
    assert_error(part("10000", "x").await.unwrap(), 405, "MethodNotAllowed").await;
    let at = |m: Method, rest: &str| tc.at(m, &format!("{}{dir}/{rest}", tc.cluster.url));
    assert_error(
        at(Method::GET, "0").send().await.unwrap(),
        405,
        "MethodNotAllowed",
    )
    .await;
    assert_error(
        at(Method::PUT, "state").send().await.unwrap(),
        405,
        "MethodNotAllowed",
    )
    .await;
    let state: serde_json::Value = at(Method::GET, "state")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["state"], "created");
    assert_eq!(state["partsDirectory"], dir);
    assert_eq!(state["headers"]["m-color"], "blue");
    // Bad commit bodies.
    assert_error(
        at(Method::POST, "commit").body("{").send().await.unwrap(),
        409,
        "MultipartUploadInvalidArgument",
    )
    .await;
    assert_error(
        at(Method::POST, "commit")
            .body(r#"{"parts":["not-the-etag"]}"#)
            .send()
            .await
            .unwrap(),
        409,
        "MultipartUploadInvalidArgument",
    )
    .await;
    let r = at(Method::POST, "commit")
        .body(serde_json::json!({ "parts": [etag] }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "location"), format!("/{USER}/stor/w/o"));
    let got = tc.get("stor/w/o").await;
    assert_eq!(header(&got, "content-type"), "text/plain");
    assert_eq!(header(&got, "m-color"), "blue");
    assert_eq!(got.text().await.unwrap(), "hello");
    assert_error(
        at(Method::POST, "abort").send().await.unwrap(),
        409,
        "InvalidMultipartUploadState",
    )
    .await;

    // Bad creates.
    for (body, code) in [
        (serde_json::json!({}), "MultipartUploadInvalidArgument"),
        (
            serde_json::json!({"objectPath": "/other/stor/x"}),
            "MultipartUploadInvalidArgument",
        ),
        (
            serde_json::json!({"objectPath": format!("/{USER}/stor/w/x"), "headers": {"if-match": "x"}}),
            "MultipartUploadInvalidArgument",
        ),
        (
            serde_json::json!({"objectPath": format!("/{USER}/stor/nope/x")}),
            "DirectoryDoesNotExist",
        ),
    ] {
        let r = create(body).await.unwrap();
        let status = r.status().as_u16();
        assert_error(r, status, code).await;
    }
    // Content-length given at create must match at commit.
    let r = create(serde_json::json!({
        "objectPath": format!("/{USER}/stor/w/len"),
        "headers": {"content-length": 99},
    }))
    .await
    .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let dir = v["partsDirectory"].as_str().unwrap().to_string();
    let r = tc
        .at(Method::PUT, &format!("{}{dir}/0", tc.cluster.url))
        .body("short")
        .send()
        .await
        .unwrap();
    let etag = header(&r, "etag");
    let r = tc
        .at(Method::POST, &format!("{}{dir}/commit", tc.cluster.url))
        .body(serde_json::json!({ "parts": [etag] }).to_string())
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "MultipartUploadInvalidArgument").await;
}

/// Garbage collection keeps a pending upload's parts and a committed
/// object's blobs, and reclaims an aborted upload's.
#[tokio::test(flavor = "multi_thread")]
async fn gc_keeps_upload_blobs() {
    let tc = TestCluster::start_with(3, |o| {
        o.settings.maintenance.interval = Some(std::time::Duration::from_secs(3600));
        o.settings.maintenance.gc_grace = std::time::Duration::from_secs(1);
    })
    .await;
    assert_eq!(tc.mkdir("stor/g").await.status(), 204);
    let s = node_session(&tc);
    let data = bytes(6 * MIB, 3);
    let f = tc.dir.path().join("p0");
    std::fs::write(&f, &data).unwrap();
    let f = f.display().to_string();
    let mut ids = Vec::new();
    for name in ["~~/stor/g/kept", "~~/stor/g/pending"] {
        let id = s.ok("mmpu", &["create", name], None).await;
        let id = id.trim().to_string();
        let e0 = s.ok("mmpu", &["upload", &id, "0", "-f", &f], None).await;
        let e1 = s.ok("mmpu", &["upload", &id, "1"], Some("tail")).await;
        ids.push((id, e0.trim().to_string(), e1.trim().to_string()));
    }
    let (id, e0, e1) = &ids[0];
    s.ok("mmpu", &["commit", id, e0, e1], None).await;
    let gone = s.ok("mmpu", &["create", "~~/stor/g/gone"], None).await;
    s.ok("mmpu", &["upload", gone.trim(), "0"], Some("aborted bytes"))
        .await;
    s.ok("mmpu", &["abort", gone.trim()], None).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let report = tc.maintenance_pass().await;
    assert!(report.gc_deleted_blobs >= 1, "{report:?}");
    tc.maintenance_pass().await;
    let mut want = data.clone();
    want.extend_from_slice(b"tail");
    let got = tc.get("stor/g/kept").await;
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.unwrap()[..] == want[..]);
    let (id, e0, e1) = &ids[1];
    s.ok("mmpu", &["commit", id, e0, e1], None).await;
    let got = tc.get("stor/g/pending").await;
    assert!(got.bytes().await.unwrap()[..] == want[..]);
}

/// Finished uploads are collected once older than `upload_grace`: a
/// committed and an aborted upload's directories (and state) go, a
/// pending one stays, and the committed object stays readable byte for
/// byte through later passes (its parts' blobs are its own).
#[tokio::test(flavor = "multi_thread")]
async fn finished_uploads_are_collected() {
    let tc = TestCluster::start_with(3, |o| {
        o.settings.maintenance.interval = Some(std::time::Duration::from_secs(3600));
        o.settings.maintenance.gc_grace = std::time::Duration::from_secs(1);
        o.settings.maintenance.upload_grace = std::time::Duration::from_secs(15);
    })
    .await;
    assert_eq!(tc.mkdir("stor/c").await.status(), 204);
    let s = node_session(&tc);
    let data = bytes(6 * MIB, 5);
    let f = tc.dir.path().join("c0");
    std::fs::write(&f, &data).unwrap();
    let f = f.display().to_string();
    let mut ids = Vec::new();
    for name in ["~~/stor/c/kept", "~~/stor/c/aborted", "~~/stor/c/pending"] {
        let id = s.ok("mmpu", &["create", name], None).await;
        let id = id.trim().to_string();
        let e0 = s.ok("mmpu", &["upload", &id, "0", "-f", &f], None).await;
        let e1 = s.ok("mmpu", &["upload", &id, "1"], Some("tail")).await;
        ids.push((id, e0.trim().to_string(), e1.trim().to_string()));
    }
    let (kept, e0, e1) = ids[0].clone();
    s.ok("mmpu", &["commit", &kept, &e0, &e1], None).await;
    let aborted = ids[1].0.clone();
    s.ok("mmpu", &["abort", &aborted], None).await;
    let finished = std::time::Instant::now();
    let pending = ids[2].0.clone();
    // Within the grace period nothing goes.
    let report = tc.maintenance_pass().await;
    assert_eq!(report.uploads_removed, 0, "{report:?}");
    let st = s.ok("mmpu", &["get", &kept], None).await;
    assert!(st.contains("committed"), "{st}");
    tokio::time::sleep(std::time::Duration::from_millis(15_500).saturating_sub(finished.elapsed()))
        .await;
    let report = tc.maintenance_pass().await;
    assert_eq!(report.uploads_removed, 2, "{report:?}");
    // The operator's report says so too.
    let status = crate::auth_node_manta::mantad_operator(&tc, &["admin", "gc", "status"]).await;
    assert!(
        status.contains("uploads: 2 finished multipart uploads removed"),
        "{status}"
    );
    for id in [&kept, &aborted] {
        let o = s.run("mmpu", &["get", id], None).await;
        assert!(!o.ok, "upload {id} still there: {}", o.stdout);
        let dir = format!("/{USER}/uploads/{}/{id}", &id[..3]);
        assert_eq!(tc.get(&dir[USER.len() + 2..]).await.status(), 404);
    }
    let listed = s.ok("mmpu", &["list"], None).await;
    assert!(
        listed.contains(&pending) && !listed.contains(&kept),
        "{listed}"
    );
    let st = s.ok("mmpu", &["get", &pending], None).await;
    assert!(st.contains("created"), "{st}");
    // Passes after: the aborted parts are reclaimed, the object is whole.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    tc.maintenance_pass().await;
    let mut want = data.clone();
    want.extend_from_slice(b"tail");
    let got = tc.get("stor/c/kept").await;
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.unwrap()[..] == want[..]);
    let (p, e0, e1) = &ids[2];
    s.ok("mmpu", &["commit", p, e0, e1], None).await;
    assert!(tc.get("stor/c/pending").await.bytes().await.unwrap()[..] == want[..]);
}
