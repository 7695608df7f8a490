//! Each m* command through real HTTP, including its error exits.

use crate::harness::{bytes, fails_with, ok, stderr, stdout, Env, USER};

#[tokio::test(flavor = "multi_thread")]
async fn mmkdir_mls_and_mrmdir() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["-p", "~~/stor/a/b/c"]).await);
    ok(&env.run("mmkdir", &["~~/stor/a/d"]).await);
    let out = ok(&env.run("mls", &["~~/stor/a"]).await);
    assert_eq!(out, "b/\nd/\n");
    let out = ok(&env.run("mls", &["a"]).await);
    assert_eq!(out, "b/\nd/\n", "relative paths are under ~~/stor");
    let out = ok(&env.run("mls", &[]).await);
    assert_eq!(out, "a/\n");
    fails_with(
        &env.run("mmkdir", &["~~/stor/x/y"]).await,
        "DirectoryDoesNotExist",
    );
    fails_with(
        &env.run("mrmdir", &["~~/stor/a"]).await,
        "DirectoryNotEmpty",
    );
    ok(&env.run("mrmdir", &["~~/stor/a/d"]).await);
    fails_with(
        &env.run("mrmdir", &["~~/stor/a/d"]).await,
        "ResourceNotFound",
    );
    let out = ok(&env.run("mls", &["/tester/stor/a"]).await);
    assert_eq!(out, "b/\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn mput_and_mget_files_and_stdin() {
    let env = Env::start().await;
    let data = bytes(200_000, 7);
    let file = env.local("blob.bin");
    std::fs::write(&file, &data).unwrap();
    let f = file.to_string_lossy().to_string();
    ok(&env.run("mmkdir", &["~~/stor/d"]).await);
    ok(&env
        .run(
            "mput",
            &[
                "-f",
                &f,
                "-m",
                "-c",
                "1",
                "-H",
                "m-k: v",
                "~~/stor/d/blob.bin",
            ],
        )
        .await);
    let got = env.run("mget", &["~~/stor/d/blob.bin"]).await;
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(got.stdout, data);
    // PATH naming a directory takes the file's name.
    let other = env.local("other.bin");
    std::fs::write(&other, b"other").unwrap();
    ok(&env
        .run("mput", &["-f", &other.to_string_lossy(), "~~/stor/d"])
        .await);
    assert!(ok(&env.run("mls", &["~~/stor/d"]).await).contains("other.bin"));
    ok(&env
        .run_stdin("mput", &["~~/stor/d/stdin.txt"], b"from stdin\n")
        .await);
    let out = env.local("out.txt");
    let o = out.to_string_lossy().to_string();
    ok(&env.run("mget", &["-o", &o, "~~/stor/d/stdin.txt"]).await);
    assert_eq!(std::fs::read(&out).unwrap(), b"from stdin\n");
    let info = ok(&env.run("minfo", &["~~/stor/d/stdin.txt"]).await);
    assert!(info.starts_with("HTTP/1.1 200 OK\n"), "{info}");
    assert!(info.contains("content-type: text/plain"), "{info}");
    let info = ok(&env.run("minfo", &["~~/stor/d/blob.bin"]).await);
    assert!(
        info.contains("m-k: v") && info.contains("durability-level: 1"),
        "{info}"
    );
    // -p makes the parents.
    fails_with(
        &env.run_stdin("mput", &["~~/stor/p/q/r"], b"x").await,
        "DirectoryDoesNotExist",
    );
    ok(&env.run_stdin("mput", &["-p", "~~/stor/p/q/r"], b"x").await);
    // Errors.
    fails_with(
        &env.run("mget", &["~~/stor/d/missing"]).await,
        "ResourceNotFound",
    );
    fails_with(
        &env.run_stdin("mput", &["~~/stor/d"], b"x").await,
        "cannot infer name without -f",
    );
    fails_with(
        &env.run("mput", &["-m", "~~/stor/d/z"]).await,
        "--md5 requires --file",
    );
    fails_with(
        &env.run("minfo", &["~~/stor/d/missing"]).await,
        "ResourceNotFound",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mput_and_mget_many_files_in_parallel() {
    let env = Env::start().await;
    let src = env.local("tree");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..40 {
        let dir = if i % 2 == 0 {
            src.clone()
        } else {
            src.join("sub")
        };
        std::fs::write(dir.join(format!("f{i}.dat")), bytes(4096, i)).unwrap();
    }
    let s = src.to_string_lossy().to_string();
    ok(&env.run("mput", &["-P", "8", "-f", &s, "~~/stor/up"]).await);
    let listing = ok(&env.run("mfind", &["-t", "o", "~~/stor/up"]).await);
    assert_eq!(listing.lines().count(), 40);
    let dst = env.local("down");
    let d = dst.to_string_lossy().to_string();
    ok(&env.run("mget", &["-P", "8", "-d", &d, "~~/stor/up"]).await);
    for i in 0..40 {
        let sub = if i % 2 == 0 { "" } else { "sub/" };
        let got = std::fs::read(dst.join(format!("up/{sub}f{i}.dat"))).unwrap();
        assert_eq!(got, bytes(4096, i));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mls_formats() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["-p", "~~/stor/l/dir"]).await);
    ok(&env.run_stdin("mput", &["~~/stor/l/obj"], b"12345").await);
    let long = ok(&env.run("mls", &["-l", "~~/stor/l"]).await);
    let lines: Vec<&str> = long.lines().collect();
    assert!(
        lines[0].starts_with("drwxr-xr-x 1 tester             0 "),
        "{long}"
    );
    assert!(lines[0].ends_with(" dir"), "{long}");
    assert!(
        lines[1].starts_with("-rwxr-xr-x 1 tester             5 "),
        "{long}"
    );
    let json = ok(&env.run("mls", &["-j", "~~/stor/l"]).await);
    let v: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(v["name"], "obj");
    assert_eq!(v["size"], 5);
    assert_eq!(v["parent"], format!("/{USER}/stor/l"));
    assert_eq!(
        ok(&env.run("mls", &["--type", "o", "~~/stor/l"]).await),
        "obj\n"
    );
    assert_eq!(
        ok(&env.run("mls", &["--type", "d", "~~/stor/l"]).await),
        "dir/\n"
    );
    assert_eq!(
        ok(&env.run("mls", &["-r", "~~/stor/l"]).await),
        "obj\ndir/\n"
    );
    assert_eq!(
        ok(&env.run("mls", &["-t", "~~/stor/l"]).await),
        "obj\ndir/\n"
    );
    assert_eq!(
        ok(&env.run("mls", &["-m", "obj", "~~/stor/l"]).await),
        "obj\n"
    );
    let human = ok(&env.run("mls", &["-lh", "~~/stor/l/obj"]).await);
    // An object lists as its own entry, by its basename (node-manta's).
    assert!(
        human.starts_with("-rwxr-xr-x 1 tester             5 ") && human.ends_with(" obj\n"),
        "{human}"
    );
    fails_with(&env.run("mls", &["~~/stor/nope"]).await, "ResourceNotFound");
    fails_with(
        &env.run("mls", &["--type", "x", "~~/stor"]).await,
        "invalid value",
    );
    let bad = env.run("mls", &["--bogus"]).await;
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let help = env.run("mls", &["--help"]).await;
    assert!(ok(&help).contains("--human-readable"));
}

#[tokio::test(flavor = "multi_thread")]
async fn mfind_filters() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["-p", "~~/stor/t/a/b"]).await);
    ok(&env.run_stdin("mput", &["~~/stor/t/x.txt"], b"1").await);
    ok(&env
        .run_stdin("mput", &["~~/stor/t/a/y.txt"], b"1234567890")
        .await);
    ok(&env.run_stdin("mput", &["~~/stor/t/a/b/z.log"], b"12").await);
    let sorted = |s: String| {
        let mut v: Vec<String> = s.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    let all = sorted(ok(&env.run("mfind", &["~~/stor/t"]).await));
    let p = |s: &str| format!("/{USER}/stor/t/{s}");
    assert_eq!(
        all,
        vec![p("a"), p("a/b"), p("a/b/z.log"), p("a/y.txt"), p("x.txt")]
    );
    let txt = sorted(ok(&env.run("mfind", &["-n", r"\.txt$", "~~/stor/t"]).await));
    assert_eq!(txt, vec![p("a/y.txt"), p("x.txt")]);
    let dirs = sorted(ok(&env.run("mfind", &["-t", "d", "~~/stor/t"]).await));
    assert_eq!(dirs, vec![p("a"), p("a/b")]);
    let big = sorted(ok(&env
        .run("mfind", &["-s", "5", "-t", "o", "~~/stor/t"])
        .await));
    assert_eq!(big, vec![p("a/y.txt")]);
    let top = sorted(ok(&env
        .run("mfind", &["--maxdepth", "1", "~~/stor/t"])
        .await));
    assert_eq!(top, vec![p("a"), p("x.txt")]);
    let deep = sorted(ok(&env
        .run("mfind", &["--mindepth", "2", "~~/stor/t"])
        .await));
    assert_eq!(deep, vec![p("a/b/z.log")]);
    let one = ok(&env.run("mfind", &["-l", "1", "~~/stor/t"]).await);
    assert_eq!(one.lines().count(), 1);
    let obj = ok(&env.run("mfind", &["~~/stor/t/x.txt"]).await);
    assert_eq!(obj, format!("{}\n", p("x.txt")));
    let j = ok(&env.run("mfind", &["-j", "-n", "z", "~~/stor/t"]).await);
    let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
    assert_eq!(v["depth"], 2);
    fails_with(
        &env.run("mfind", &["~~/stor/none"]).await,
        "ResourceNotFound",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mrm_mln_and_msign() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["-p", "~~/stor/r/s"]).await);
    ok(&env.run_stdin("mput", &["~~/stor/r/s/o"], b"data").await);
    ok(&env.run("mln", &["~~/stor/r/s/o", "~~/stor/link"]).await);
    assert_eq!(env.run("mget", &["~~/stor/link"]).await.stdout, b"data");
    fails_with(
        &env.run("mln", &["~~/stor/none", "~~/stor/l2"]).await,
        "SourceObjectNotFound",
    );
    fails_with(&env.run("mrm", &["~~/stor/r"]).await, "is not an object");
    ok(&env.run("mrm", &["-r", "~~/stor/r"]).await);
    fails_with(&env.run("mrm", &["~~/stor/r"]).await, "ResourceNotFound");
    ok(&env.run("mrm", &["~~/stor/link"]).await);
    ok(&env.run_stdin("mput", &["~~/stor/pub.txt"], b"signed").await);
    let url = ok(&env.run("msign", &["~~/stor/pub.txt"]).await);
    let resp = reqwest::get(url.trim()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "signed");
    let url = ok(&env
        .run(
            "msign",
            &["-E", "1h", "-m", "GET", "-m", "HEAD", "~~/stor/pub.txt"],
        )
        .await);
    assert!(url.contains("method=GET%2CHEAD"), "{url}");
    assert_eq!(reqwest::get(url.trim()).await.unwrap().status(), 200);
    let key = env.ssh_dir().join("id_rsa").to_string_lossy().to_string();
    let url = ok(&env.run("msign", &["-f", &key, "~~/stor/pub.txt"]).await);
    assert!(url.contains("algorithm=RSA-SHA256"), "{url}");
    assert_eq!(reqwest::get(url.trim()).await.unwrap().status(), 200);
    fails_with(
        &env.run("msign", &["-E", "10x", "~~/stor/pub.txt"]).await,
        "invalid expires",
    );
    fails_with(
        &env.run("msign", &["-m", "FETCH", "~~/stor/pub.txt"]).await,
        "method invalid",
    );
    fails_with(
        &env.run("msign", &["-g", "RSA-SHA1", "~~/stor/pub.txt"])
            .await,
        "could not be used",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_errors_exit_non_zero() {
    let env = Env::start().await;
    let none = env
        .run_with(crate::harness::ours("mls"), &["-u", "", "~~/stor"], None)
        .await;
    fails_with(&none, "url is a required argument");
    let wrong = env
        .run(
            "mls",
            &[
                "-k",
                "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
                "~~/stor",
            ],
        )
        .await;
    fails_with(&wrong, "no key matching");
    let other = env.run("mls", &["-a", "nobody", "~~/stor"]).await;
    assert_eq!(other.status.code(), Some(1), "{}", stdout(&other));
    fails_with(&env.run("mget", &[]).await, "required");
}
