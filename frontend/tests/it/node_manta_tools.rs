//! node-manta's remaining commands against a real cluster: `mmd5`,
//! `msync` (both ways, `--delete`, `--md5`), `muntar` and `mchattr`.
//! Each is the npm package's own script; the cluster is checked through
//! our HTTP API, not through the command's own report.

use crate::mpu::node_session;
use frontend::testkit::{bytes, header, TestCluster};
use md5::{Digest, Md5};
use std::path::Path;

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

async fn body(tc: &TestCluster, rel: &str) -> Vec<u8> {
    let r = tc.get(rel).await;
    assert_eq!(r.status(), 200, "GET {rel}");
    r.bytes().await.unwrap().to_vec()
}

/// Every object name under `dir` (recursively), relative to it, sorted.
async fn names_under(tc: &TestCluster, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![String::new()];
    while let Some(sub) = todo.pop() {
        let path = if sub.is_empty() {
            dir.to_string()
        } else {
            format!("{dir}/{sub}")
        };
        let r = tc.get(&path).await;
        assert_eq!(r.status(), 200, "list {path}");
        for line in r.text().await.unwrap().lines() {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let name = e["name"].as_str().unwrap();
            let rel = if sub.is_empty() {
                name.to_string()
            } else {
                format!("{sub}/{name}")
            };
            if e["type"] == "directory" {
                todo.push(rel);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_mmd5_and_mchattr() {
    let tc = TestCluster::start().await;
    let s = node_session(&tc);
    s.ok("mmkdir", &["-p", "~~/stor/t"], None).await;
    let data = bytes(300_000, 3);
    let f = tc.dir.path().join("x.bin");
    std::fs::write(&f, &data).unwrap();
    s.ok(
        "mput",
        &["-f", &f.display().to_string(), "~~/stor/t/x.bin"],
        None,
    )
    .await;
    s.ok("mput", &["~~/stor/t/small"], Some("hello\n")).await;

    // mmd5 prints the hex of the stored content-md5, for several paths.
    let out = s
        .ok("mmd5", &["~~/stor/t/x.bin", "~~/stor/t/small"], None)
        .await;
    let want = format!(
        "{}  ~~/stor/t/x.bin\n{}  ~~/stor/t/small\n",
        md5_hex(&data),
        md5_hex(b"hello\n")
    );
    // node-manta asks in parallel: the order of lines is not fixed.
    let mut got: Vec<&str> = out.lines().collect();
    got.sort_by_key(|l| l.ends_with("small"));
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got.len(), 2, "{out}");
    for (g, w) in got.iter().zip(&want) {
        // node-manta prints the path expanded (`/login/stor/...`).
        let (gh, gp) = g.split_once("  ").unwrap();
        let (wh, wp) = w.split_once("  ").unwrap();
        assert_eq!(gh, wh, "{out}");
        assert!(gp.ends_with(wp.trim_start_matches("~~")), "{out}");
    }
    // A directory and a missing object are errors, one line each.
    let o = s.run("mmd5", &["~~/stor/t/nope"], None).await;
    assert!(!o.ok, "{}", o.stdout);
    assert!(o.stderr.contains("nope"), "{}", o.stderr);
    assert!(!o.stderr.contains("    at "), "stack trace: {}", o.stderr);

    // mchattr changes metadata in place: bytes, content-md5 and
    // content-type stay; m- headers are replaced.
    let etag_before = header(&tc.get("stor/t/x.bin").await, "etag");
    s.ok(
        "mchattr",
        &[
            "-H",
            "m-color: blue",
            "-H",
            "m-shape: round",
            "~~/stor/t/x.bin",
        ],
        None,
    )
    .await;
    let r = tc.get("stor/t/x.bin").await;
    assert_eq!(header(&r, "m-color"), "blue");
    assert_eq!(header(&r, "m-shape"), "round");
    assert_eq!(header(&r, "content-md5"), frontend::testkit::md5_b64(&data));
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[..]);
    s.ok("mchattr", &["-H", "m-color: red", "~~/stor/t/x.bin"], None)
        .await;
    let r = tc.get("stor/t/x.bin").await;
    assert_eq!(header(&r, "m-color"), "red");
    assert!(
        r.headers().get("m-shape").is_none(),
        "mchattr replaces the metadata set, as Manta does"
    );
    assert_ne!(header(&r, "etag"), "", "{etag_before}");
    let info = s.ok("minfo", &["~~/stor/t/x.bin"], None).await;
    assert!(info.to_lowercase().contains("m-color: red"), "{info}");
    // Another account's object is refused and left alone.
    let o = s
        .run("mchattr", &["-H", "m-color: x", "/poseidon/stor/x"], None)
        .await;
    assert!(!o.ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_msync_both_ways() {
    let tc = TestCluster::start().await;
    let s = node_session(&tc);
    let local = tc.dir.path().join("tree");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"alpha\n".to_vec()),
        ("sub/b.bin", bytes(200_000, 9)),
        ("sub/deeper/c", b"".to_vec()),
        ("sub/deeper/d.txt", b"delta\n".to_vec()),
    ];
    for (name, data) in &files {
        let p = local.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    let l = local.display().to_string();
    s.ok("mmkdir", &["-p", "~~/stor/sync"], None).await;
    s.ok("msync", &["-q", &l, "~~/stor/sync"], None).await;
    let want: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names_under(&tc, "stor/sync").await, want);
    for (name, data) in &files {
        assert_eq!(
            &body(&tc, &format!("stor/sync/{name}")).await,
            data,
            "{name}"
        );
    }

    // Same size, different bytes: only --md5 notices, and sends it.
    std::fs::write(local.join("a.txt"), b"ALPHA\n").unwrap();
    s.ok("msync", &["-q", &l, "~~/stor/sync"], None).await;
    assert_eq!(body(&tc, "stor/sync/a.txt").await, b"alpha\n");
    s.ok("msync", &["-q", "--md5", &l, "~~/stor/sync"], None)
        .await;
    assert_eq!(body(&tc, "stor/sync/a.txt").await, b"ALPHA\n");

    // --delete removes what is gone locally, and only that.
    std::fs::remove_file(local.join("sub/deeper/d.txt")).unwrap();
    s.ok("msync", &["-q", "--delete", &l, "~~/stor/sync"], None)
        .await;
    assert_eq!(
        names_under(&tc, "stor/sync").await,
        ["a.txt", "sub/b.bin", "sub/deeper/c"]
    );

    // -r: Manta to local, into an empty directory.
    let back = tc.dir.path().join("back");
    std::fs::create_dir_all(&back).unwrap();
    s.ok(
        "msync",
        &["-q", "-r", "~~/stor/sync", &back.display().to_string()],
        None,
    )
    .await;
    for (name, data) in [
        ("a.txt", b"ALPHA\n".to_vec()),
        ("sub/b.bin", files[1].1.clone()),
        ("sub/deeper/c", Vec::new()),
    ] {
        assert_eq!(std::fs::read(back.join(name)).unwrap(), data, "{name}");
    }
    assert!(!back.join("sub/deeper/d.txt").exists());
}

fn tar_of(dir: &Path, out: &Path) {
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_muntar() {
    let tc = TestCluster::start().await;
    let s = node_session(&tc);
    let src = tc.dir.path().join("src");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("top.txt", b"top\n".to_vec()),
        ("d1/one.bin", bytes(150_000, 4)),
        ("d1/d2/two.txt", b"two\n".to_vec()),
    ];
    for (name, data) in &files {
        let p = src.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    let tarball = tc.dir.path().join("t.tar");
    tar_of(&src, &tarball);
    s.ok("mmkdir", &["-p", "~~/stor/untar"], None).await;
    let out = s
        .run(
            "muntar",
            &[
                "-f",
                &tarball.display().to_string(),
                "-H",
                "m-from: muntar",
                "~~/stor/untar",
            ],
            None,
        )
        .await;
    assert!(out.ok, "muntar: {}{}", out.stdout, out.stderr);
    let want: Vec<String> = {
        let mut v: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(names_under(&tc, "stor/untar").await, want);
    for (name, data) in &files {
        let rel = format!("stor/untar/{name}");
        assert_eq!(&body(&tc, &rel).await, data, "{name}");
        assert_eq!(header(&tc.get(&rel).await, "m-from"), "muntar", "{name}");
    }
    // Into another account's tree: refused, nothing written there.
    let o = s
        .run(
            "muntar",
            &["-f", &tarball.display().to_string(), "/poseidon/stor/x"],
            None,
        )
        .await;
    assert!(!o.ok, "{}", o.stdout);
}
