//! The S3 API through the aws CLI and s3cmd.

use crate::s3::S3Env;
use frontend::testkit::bytes;

impl S3Env {
    async fn aws(&self, args: &[&str]) -> String {
        let mut all = vec!["--endpoint-url", self.url.as_str()];
        all.extend_from_slice(args);
        self.run("aws", &all).await
    }

    async fn s3cmd(&self, args: &[&str]) -> String {
        let cfg = format!("--config={}", self.path("s3cmd.cfg"));
        let mut all = vec![cfg.as_str()];
        all.extend_from_slice(args);
        self.run("s3cmd", &all).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_aws_cli_and_s3cmd() {
    let env = S3Env::start().await;
    let big = bytes(20 << 20, 7);
    let small = b"written by the aws CLI, read by s3cmd\n".to_vec();
    std::fs::write(env.path("big.bin"), &big).unwrap();
    std::fs::write(env.path("small.txt"), &small).unwrap();

    let out = env.aws(&["s3", "mb", "s3://cli-bucket"]).await;
    assert!(out.contains("make_bucket: cli-bucket"), "{out}");
    // 20 MiB: the CLI uploads it in 8 MiB parts.
    env.aws(&[
        "s3",
        "cp",
        &env.path("big.bin"),
        "s3://cli-bucket/dir/big.bin",
    ])
    .await;
    env.aws(&[
        "s3",
        "cp",
        &env.path("small.txt"),
        "s3://cli-bucket/small.txt",
    ])
    .await;
    let out = env.aws(&["s3", "ls", "s3://cli-bucket/"]).await;
    assert!(
        out.contains("PRE dir/") && out.contains("small.txt"),
        "{out}"
    );
    let out = env
        .aws(&["s3", "ls", "--recursive", "s3://cli-bucket"])
        .await;
    assert!(
        out.contains("dir/big.bin") && out.contains(&big.len().to_string()),
        "{out}"
    );

    let head = env
        .aws(&[
            "s3api",
            "head-object",
            "--bucket",
            "cli-bucket",
            "--key",
            "dir/big.bin",
        ])
        .await;
    let head: serde_json::Value = serde_json::from_str(&head).unwrap();
    assert_eq!(head["ContentLength"], big.len());
    assert!(head["ETag"].as_str().unwrap().ends_with("-3\""), "{head}");

    env.aws(&[
        "s3",
        "cp",
        "s3://cli-bucket/dir/big.bin",
        &env.path("down.bin"),
    ])
    .await;
    assert!(std::fs::read(env.path("down.bin")).unwrap() == big);

    let url = env
        .aws(&["s3", "presign", "s3://cli-bucket/small.txt"])
        .await;
    let resp = env.tc.http.get(url.trim()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), small.as_slice());

    // Written through S3 (the CLI), read back with s3cmd.
    env.s3cmd(&["get", "s3://cli-bucket/small.txt", &env.path("s3cmd.txt")])
        .await;
    assert_eq!(std::fs::read(env.path("s3cmd.txt")).unwrap(), small);
    let out = env.s3cmd(&["ls", "s3://cli-bucket/dir/"]).await;
    assert!(out.contains("s3://cli-bucket/dir/big.bin"), "{out}");
    env.s3cmd(&[
        "put",
        &env.path("small.txt"),
        "s3://cli-bucket/from-s3cmd.txt",
    ])
    .await;
    let out = env
        .aws(&["s3", "cp", "s3://cli-bucket/from-s3cmd.txt", "-"])
        .await;
    assert_eq!(out.as_bytes(), small.as_slice());

    env.aws(&["s3", "rm", "--recursive", "s3://cli-bucket"])
        .await;
    let out = env.aws(&["s3", "rb", "s3://cli-bucket"]).await;
    assert!(out.contains("remove_bucket: cli-bucket"), "{out}");
    let out = env.aws(&["s3", "ls"]).await;
    assert!(!out.contains("cli-bucket"), "{out}");
}

impl S3Env {
    /// rclone with a remote `manta:` on this cluster; parts of 5 MiB so
    /// larger files go up as multipart.
    async fn rclone(&self, args: &[&str]) -> String {
        let (_, id, secret) = &self.creds[0];
        let conf = self.path("rclone.conf");
        let text = format!(
            "[manta]\ntype = s3\nprovider = Other\naccess_key_id = {id}\n\
             secret_access_key = {secret}\nendpoint = {}\nregion = us-east-1\n\
             upload_cutoff = 5M\nchunk_size = 5M\n",
            self.url
        );
        std::fs::write(&conf, text).unwrap();
        let mut all = vec!["--config", conf.as_str()];
        all.extend_from_slice(args);
        self.run("rclone", &all).await
    }
}

fn write_tree(root: &std::path::Path, files: &[(&str, Vec<u8>)]) {
    for (name, data) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
}

/// Every file under `root`, by relative path, with its bytes.
fn read_tree(root: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_rclone_sync_up_and_back_check_clean() {
    let env = S3Env::start().await;
    let up = env.work.path().join("up");
    write_tree(
        &up,
        &[
            ("a.txt", b"alpha\n".to_vec()),
            ("empty", Vec::new()),
            ("dir/b.bin", bytes(300_000, 3)),
            ("dir/deeper/c.txt", b"see\n".to_vec()),
            ("dir/deeper/big.bin", bytes(12 << 20, 5)),
            ("sp ace/ünï.txt", b"names with spaces and UTF-8\n".to_vec()),
        ],
    );
    let src = up.display().to_string();
    env.rclone(&["mkdir", "manta:rclone-bucket"]).await;
    env.rclone(&["sync", &src, "manta:rclone-bucket/tree"])
        .await;
    env.rclone(&["check", &src, "manta:rclone-bucket/tree"])
        .await;
    let back = env.work.path().join("back");
    let dst = back.display().to_string();
    env.rclone(&["sync", "manta:rclone-bucket/tree", &dst])
        .await;
    assert_eq!(read_tree(&back), read_tree(&up));

    // Changed, removed and added files: a second sync mirrors them.
    std::fs::write(up.join("a.txt"), b"alpha, changed\n").unwrap();
    std::fs::remove_file(up.join("dir/b.bin")).unwrap();
    write_tree(&up, &[("new/d.txt", b"new\n".to_vec())]);
    env.rclone(&["sync", &src, "manta:rclone-bucket/tree"])
        .await;
    env.rclone(&["check", &src, "manta:rclone-bucket/tree"])
        .await;
    let out = env.rclone(&["lsf", "-R", "manta:rclone-bucket/tree"]).await;
    assert!(!out.contains("b.bin") && out.contains("new/d.txt"), "{out}");
    env.rclone(&["sync", "manta:rclone-bucket/tree", &dst])
        .await;
    assert_eq!(read_tree(&back), read_tree(&up));

    // A tree of 1,000 files in subdirectories, up and back.
    let many: Vec<(String, Vec<u8>)> = (0..1000u64)
        .map(|i| {
            (
                format!("d{}/e{}/f{i}.txt", i % 10, i % 7),
                format!("file {i}\n").into_bytes(),
            )
        })
        .collect();
    let thousand = env.work.path().join("thousand");
    let refs: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    write_tree(&thousand, &refs);
    let t_src = thousand.display().to_string();
    env.rclone(&["sync", &t_src, "manta:rclone-bucket/thousand"])
        .await;
    env.rclone(&["check", &t_src, "manta:rclone-bucket/thousand"])
        .await;
    let t_back = env.work.path().join("thousand-back");
    env.rclone(&[
        "sync",
        "manta:rclone-bucket/thousand",
        &t_back.display().to_string(),
    ])
    .await;
    assert_eq!(read_tree(&t_back), read_tree(&thousand));
    let listed = env
        .rclone(&["lsf", "-R", "--files-only", "manta:rclone-bucket/thousand"])
        .await;
    assert_eq!(listed.lines().count(), 1000, "{listed}");

    // Single-object operations.
    let one = env.work.path().join("one.txt");
    std::fs::write(&one, b"one file\n").unwrap();
    env.rclone(&[
        "copyto",
        &one.display().to_string(),
        "manta:rclone-bucket/x/one.txt",
    ])
    .await;
    let got = env.work.path().join("one-back.txt");
    env.rclone(&[
        "copyto",
        "manta:rclone-bucket/x/one.txt",
        &got.display().to_string(),
    ])
    .await;
    assert_eq!(std::fs::read(&got).unwrap(), b"one file\n");
    env.rclone(&["delete", "manta:rclone-bucket/x"]).await;
    let out = env.rclone(&["lsf", "-R", "manta:rclone-bucket/x"]).await;
    assert!(out.trim().is_empty(), "{out}");
    env.rclone(&["purge", "manta:rclone-bucket/thousand"]).await;
    let out = env
        .rclone(&["lsf", "-R", "manta:rclone-bucket/thousand"])
        .await;
    assert!(out.trim().is_empty(), "{out}");
    // The first tree is untouched by the purge of its neighbour.
    env.rclone(&["check", &src, "manta:rclone-bucket/tree"])
        .await;
}
