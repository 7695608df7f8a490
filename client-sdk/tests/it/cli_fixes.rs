//! Our commands behave as a node-manta user expects (issue 18): paths,
//! depths, server error codes on HEAD, 304 downloads, progress without a
//! terminal, listings' format, help, one-line errors, closed pipes, and
//! mjob's phase option binding.

use crate::harness::{fails_with, ok, ours, stderr, Env};
use std::io::Read;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread")]
async fn commands_as_node_manta_users_expect() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["-p", "~~/stor/c/d1/d2"]).await);
    ok(&env
        .run_stdin("mput", &["~~/stor/c/top"], &[b'x'; 1536])
        .await);
    ok(&env.run_stdin("mput", &["~~/stor/c/d1/mid"], b"m").await);
    ok(&env.run_stdin("mput", &["~~/stor/c/d1/d2/deep"], b"d").await);

    // Relative paths: one rule, one clear error.
    for cmd in ["mget", "mfind", "minfo", "mrm"] {
        fails_with(
            &env.run(cmd, &["c/top"]).await,
            "c/top is not a valid Manta path",
        );
    }

    // --maxdepth N: entries less than N deep, as node-manta's; 0 refused.
    let one = ok(&env.run("mfind", &["--maxdepth", "1", "~~/stor/c"]).await);
    let mut one: Vec<&str> = one.lines().collect();
    one.sort();
    assert_eq!(one, ["/tester/stor/c/d1", "/tester/stor/c/top"]);
    let two = ok(&env.run("mfind", &["--maxdepth", "2", "~~/stor/c"]).await);
    assert_eq!(two.lines().count(), 4, "{two}");
    fails_with(
        &env.run("mfind", &["--maxdepth", "0", "~~/stor/c"]).await,
        "not a positive integer",
    );

    // HEAD errors carry the server's code.
    fails_with(
        &env.run("minfo", &["/nosuchaccount/stor/x"]).await,
        "AccountDoesNotExist",
    );
    fails_with(
        &env.run("mls", &["/other/stor"]).await,
        "AuthorizationFailed",
    );
    fails_with(
        &env.run("mrm", &["/other/stor/x"]).await,
        "AuthorizationFailed",
    );

    // mls -lh and mls OBJECT as node-manta prints them.
    let long = ok(&env.run("mls", &["-lh", "~~/stor/c"]).await);
    assert!(long.contains("  1.5K "), "{long}");
    assert_eq!(ok(&env.run("mls", &["~~/stor/c/top"]).await), "top\n");

    // mget -o FILE answering 304 leaves FILE alone.
    let file = env.local("kept.txt");
    std::fs::write(&file, "precious").unwrap();
    let info = ok(&env.run("minfo", &["~~/stor/c/top"]).await);
    let etag = info
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_string();
    let f = file.to_string_lossy().to_string();
    let cond = format!("if-none-match: {etag}");
    let o = env
        .run("mget", &["-H", &cond, "-o", &f, "~~/stor/c/top"])
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("not modified"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");

    // --progress draws on stderr without a terminal.
    let src = env.local("src.bin");
    std::fs::write(&src, vec![7u8; 300_000]).unwrap();
    let s = src.to_string_lossy().to_string();
    let o = env
        .run("mput", &["--progress", "-f", &s, "~~/stor/c/p.bin"])
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("p.bin"), "no bar: {:?}", stderr(&o));

    // --help names the environment.
    for cmd in ["mls", "mget", "mput", "mfind", "minfo", "mmpu"] {
        let help = ok(&env.run(cmd, &["--help"]).await);
        for var in [
            "MANTA_URL",
            "MANTA_KEY_FILE",
            "MANTA_TLS_INSECURE",
            "MANTA_CA_FILE",
        ] {
            assert!(help.contains(var), "{cmd} --help lacks {var}");
        }
    }
    let h = ok(&env.run("mjob", &["create", "--help"]).await);
    assert!(h.contains("*next* phase"), "{h}");
}

/// A user error is one line even with RUST_BACKTRACE set, and `mfind |
/// head` ends quietly.
#[tokio::test(flavor = "multi_thread")]
async fn one_line_errors_and_closed_pipes() {
    let env = Env::start().await;
    ok(&env.run("mmkdir", &["~~/stor/many"]).await);
    for i in 0..200 {
        env.client
            .put_bytes(
                &format!("~~/stor/many/object-with-a-longish-name-{i:04}"),
                ::bytes::Bytes::new(),
                &Default::default(),
            )
            .await
            .unwrap();
    }
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(ours("mfind"));
        c.args(args)
            .env_clear()
            .env("HOME", &env.home)
            .env("MANTA_URL", &env.cluster.url)
            .env("MANTA_USER", crate::harness::USER)
            .env("MANTA_KEY_ID", &env.key_id)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let out = run(&["~~/stor/nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ResourceNotFound"), "{err}");

    // Far more output than a pipe holds, so writes fail once it closes.
    let many = ["~~/stor/many"; 30];
    let mut child = run(&many).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(err.is_empty(), "mfind | head: {err}");
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mjob_warns_of_phase_options_binding_to_nothing() {
    let env = Env::start().await;
    let o = env
        .run(
            "mjob",
            &["create", "--dry-run", "-r", "cat", "--count", "3"],
        )
        .await;
    assert!(
        stderr(&o).contains("--count 3 applies to no phase"),
        "{}",
        stderr(&o)
    );
    let o = env
        .run(
            "mjob",
            &["create", "--dry-run", "--count", "3", "-r", "cat"],
        )
        .await;
    assert!(
        !stderr(&o).contains("applies to no phase"),
        "{}",
        stderr(&o)
    );
}
