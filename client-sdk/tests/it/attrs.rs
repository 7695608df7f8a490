//! Our `mmd5` and `mchattr` beside node-manta's: the same lines for the
//! same objects, the same exit codes, and metadata changed in place.

use crate::compare::node_bin;
use crate::harness::{bytes, ours, stderr, stdout, TestCluster};
use md5::{Digest, Md5};

#[tokio::test(flavor = "multi_thread")]
async fn mmd5_and_mchattr_match_node_manta() {
    let tc = TestCluster::start().await;
    let data = bytes(123_457, 5);
    assert_eq!(tc.mkdir("stor/at").await.status(), 204);
    assert_eq!(tc.put("stor/at/a", data.clone()).await.status(), 204);
    assert_eq!(tc.put("stor/at/b", "bee\n").await.status(), 204);
    let args = ["~~/stor/at/a", "~~/stor/at/b"];

    let mine = tc.run_with(ours("mmd5"), &args, None).await;
    assert!(mine.status.success(), "{}", stderr(&mine));
    let want = format!(
        "{}  /{u}/stor/at/a\n{}  /{u}/stor/at/b\n",
        hex::encode(Md5::digest(&data)),
        hex::encode(Md5::digest(b"bee\n")),
        u = crate::harness::USER
    );
    assert_eq!(stdout(&mine), want);
    let theirs = tc.run_with(node_bin().join("mmd5"), &args, None).await;
    let mut lines: Vec<String> = stdout(&theirs).lines().map(str::to_string).collect();
    lines.sort();
    let mut want_sorted: Vec<&str> = want.lines().collect();
    want_sorted.sort();
    assert_eq!(lines, want_sorted, "node-manta's mmd5");

    // A missing object and a directory: one line each, the rest printed,
    // exit 1 -- as node-manta's.
    let bad = ["~~/stor/at/nope", "~~/stor/at", "~~/stor/at/b"];
    for (who, prog) in [
        ("ours", ours("mmd5")),
        ("node-manta", node_bin().join("mmd5")),
    ] {
        let o = tc.run_with(prog, &bad, None).await;
        assert_eq!(o.status.code(), Some(1), "{who}");
        assert_eq!(stdout(&o).lines().count(), 1, "{who}: {}", stdout(&o));
        let err = stderr(&o);
        let nope = format!("mmd5: /{}/stor/at/nope: ", crate::harness::USER);
        let dir = format!("mmd5: /{}/stor/at: ", crate::harness::USER);
        assert!(err.lines().any(|l| l.starts_with(&nope)), "{who}: {err}");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&dir) && l.contains("is a directory")),
            "{who}: {err}"
        );
    }

    // mchattr: replaces the m-* set, keeps the bytes and the MD5.
    let o = tc
        .run_with(
            ours("mchattr"),
            &["-H", "m-a: 1", "-H", "m-b: 2", "~~/stor/at/a"],
            None,
        )
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let r = tc.get("stor/at/a").await;
    assert_eq!(r.headers()["m-a"], "1");
    assert_eq!(r.headers()["m-b"], "2");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[..]);
    let o = tc
        .run_with(ours("mchattr"), &["-H", "m-b: 3", "~~/stor/at/a"], None)
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let r = tc.get("stor/at/a").await;
    assert!(r.headers().get("m-a").is_none());
    assert_eq!(r.headers()["m-b"], "3");
    let o = tc.run_with(ours("mmd5"), &["~~/stor/at/a"], None).await;
    assert_eq!(
        stdout(&o).split_whitespace().next(),
        want.split_whitespace().next()
    );
    // Refusals are the server's code, one line, exit 1.
    let o = tc
        .run_with(
            ours("mchattr"),
            &["-H", "content-md5: x", "~~/stor/at/a"],
            None,
        )
        .await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("mchattr: "), "{}", stderr(&o));
    let o = tc
        .run_with(ours("mchattr"), &["-H", "m-x: 1", "~~/stor/at/nope"], None)
        .await;
    assert!(stderr(&o).contains("ResourceNotFound"), "{}", stderr(&o));
}
