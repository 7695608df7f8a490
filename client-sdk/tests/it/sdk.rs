//! The SDK against a cluster: every call, paging, errors, key types,
//! signed URLs.

use crate::harness::{bytes, md5_fp, sdk_client, sha256_fp, Env, USER};
use bytes::Bytes;
use client_sdk::{EntryType, GetOptions, ListOptions, PutOptions, SignUrlOptions, Signer};
use futures::TryStreamExt;

#[tokio::test(flavor = "multi_thread")]
async fn put_streams_and_get_returns_the_bytes() {
    let env = Env::start().await;
    let c = &env.client;
    let data = bytes(3 * 1024 * 1024 + 17, 1);
    let opts = PutOptions {
        content_type: Some("text/plain".into()),
        copies: Some(2),
        headers: vec![("m-color".into(), "blue".into())],
        ..PutOptions::default()
    };
    let put = c
        .put("~~/stor/big", std::io::Cursor::new(data.clone()), &opts)
        .await
        .unwrap();
    assert!(put.etag.is_some());
    let got = c.get_bytes("~~/stor/big").await.unwrap();
    assert_eq!(got.as_ref(), data.as_slice());
    let info = c.info("~~/stor/big").await.unwrap();
    assert_eq!(info.size, Some(data.len() as u64));
    assert_eq!(info.content_type.as_deref(), Some("text/plain"));
    assert_eq!(info.header("m-color"), Some("blue"));
    assert_eq!(info.durability, Some(2));
    assert!(!info.is_dir());
    let range = GetOptions {
        range: Some("bytes=10-19".into()),
        ..GetOptions::default()
    };
    let part = c.get("~~/stor/big", &range).await.unwrap();
    assert_eq!(part.info.status, 206);
    let chunks: Vec<Bytes> = part.body.try_collect().await.unwrap();
    assert_eq!(chunks.concat(), data[10..20].to_vec());
}

#[tokio::test(flavor = "multi_thread")]
async fn put_bytes_with_md5_and_conditions() {
    let env = Env::start().await;
    let c = &env.client;
    let opts = PutOptions {
        content_md5: Some("XUFAKrxLKna5cZ2REBfFkg==".into()), // md5("hello")
        ..PutOptions::default()
    };
    let first = c
        .put_bytes("~~/stor/h", Bytes::from_static(b"hello"), &opts)
        .await
        .unwrap();
    let bad = PutOptions {
        content_md5: Some("XUFAKrxLKna5cZ2REBfFkg==".into()),
        ..PutOptions::default()
    };
    let e = c
        .put_bytes("~~/stor/h2", Bytes::from_static(b"world"), &bad)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ContentMD5Mismatch");
    let stale = PutOptions {
        if_match: Some("not-the-etag".into()),
        ..PutOptions::default()
    };
    let e = c
        .put_bytes("~~/stor/h", Bytes::from_static(b"x"), &stale)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "PreconditionFailed");
    let fresh = PutOptions {
        if_match: first.etag.clone(),
        ..PutOptions::default()
    };
    c.put_bytes("~~/stor/h", Bytes::from_static(b"x"), &fresh)
        .await
        .unwrap();
    assert_eq!(c.get_bytes("~~/stor/h").await.unwrap().as_ref(), b"x");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_pages_with_inclusive_markers() {
    let env = Env::start().await;
    let c = &env.client;
    c.mkdir("~~/stor/many", &[]).await.unwrap();
    c.mkdir("~~/stor/many/sub", &[]).await.unwrap();
    for i in 0..24 {
        c.put_bytes(
            &format!("~~/stor/many/o{i:02}"),
            Bytes::from(vec![b'x'; i]),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    }
    let opts = ListOptions {
        limit: 5,
        ..ListOptions::default()
    };
    let all = c.list_all("~~/stor/many", opts.clone()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    let mut want: Vec<String> = (0..24).map(|i| format!("o{i:02}")).collect();
    want.push("sub".into());
    assert_eq!(names, want);
    assert_eq!(all[3].size, Some(3));
    let dirs = ListOptions {
        kind: Some(EntryType::Directory),
        ..opts.clone()
    };
    let d = c.list_all("~~/stor/many", dirs).await.unwrap();
    assert_eq!(d.len(), 1);
    let rev = ListOptions {
        reverse: true,
        ..opts.clone()
    };
    let r = c.list_all("~~/stor/many", rev).await.unwrap();
    assert_eq!(r.first().map(|e| e.name.as_str()), Some("sub"));
    assert_eq!(r.len(), 25);
    let from = ListOptions {
        marker: Some("o20".into()),
        ..opts
    };
    let f = c.list_all("~~/stor/many", from).await.unwrap();
    assert_eq!(f.len(), 5, "o20..o23 and sub");
}

#[tokio::test(flavor = "multi_thread")]
async fn directories_and_their_errors() {
    let env = Env::start().await;
    let c = &env.client;
    c.mkdirp("~~/stor/a/b/c").await.unwrap();
    c.mkdirp("~~/stor/a/b/c").await.unwrap();
    assert!(c.info("~~/stor/a/b/c").await.unwrap().is_dir());
    let e = c.mkdir("~~/stor/x/y", &[]).await.unwrap_err();
    assert_eq!(e.code(), "DirectoryDoesNotExist");
    assert_eq!(e.status(), Some(404));
    let e = c.rmdir("~~/stor/a").await.unwrap_err();
    assert_eq!(e.code(), "DirectoryNotEmpty");
    c.rmdir("~~/stor/a/b/c").await.unwrap();
    let e = c.info("~~/stor/a/b/c").await.unwrap_err();
    assert!(e.is_not_found());
    let e = c
        .get("~~/stor/missing", &GetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ResourceNotFound");
    let e = c
        .put_bytes(
            "~~/stor/no/such/obj",
            Bytes::from_static(b"1"),
            &PutOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "DirectoryDoesNotExist");
    let mk = PutOptions {
        mkdirs: true,
        ..PutOptions::default()
    };
    c.put_bytes("~~/stor/no/such/obj", Bytes::from_static(b"1"), &mk)
        .await
        .unwrap();
    c.delete("~~/stor/no/such/obj", None).await.unwrap();
    let e = c.delete("~~/stor/no/such/obj", None).await.unwrap_err();
    assert_eq!(e.code(), "ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn snaplinks_keep_the_old_data() {
    let env = Env::start().await;
    let c = &env.client;
    c.put_bytes(
        "~~/stor/src",
        Bytes::from_static(b"one"),
        &PutOptions::default(),
    )
    .await
    .unwrap();
    c.link("~~/stor/src", "~~/stor/ln").await.unwrap();
    c.put_bytes(
        "~~/stor/src",
        Bytes::from_static(b"two"),
        &PutOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(c.get_bytes("~~/stor/ln").await.unwrap().as_ref(), b"one");
    let e = c.link("~~/stor/nothing", "~~/stor/ln2").await.unwrap_err();
    assert_eq!(e.code(), "SourceObjectNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_with_rsa_ecdsa_and_ed25519_keys() {
    let env = Env::start().await;
    for (kind, alg) in [
        ("rsa", "rsa-sha256"),
        ("ecdsa", "ecdsa-sha256"),
        ("ed25519", "ed25519-sha512"),
    ] {
        let key = env.ssh_dir().join(format!("id_{kind}"));
        let c = sdk_client(&env.cluster.url, &key);
        assert_eq!(c.signer().unwrap().algorithm(), alg);
        let path = format!("~~/stor/{kind}");
        c.put_bytes(&path, Bytes::from_static(b"k"), &PutOptions::default())
            .await
            .unwrap();
        assert_eq!(c.get_bytes(&path).await.unwrap().as_ref(), b"k");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn finds_keys_by_md5_or_sha256_fingerprint() {
    let env = Env::start().await;
    let ssh = env.ssh_dir();
    let pubkey = ssh.join("id_ecdsa.pub");
    let md5 = md5_fp(&pubkey);
    let by_md5 = Signer::discover_in(&ssh, None, Some(&md5)).unwrap();
    assert_eq!(by_md5.fingerprint(), md5);
    let by_sha = Signer::discover_in(&ssh, None, Some(&sha256_fp(&pubkey))).unwrap();
    assert_eq!(by_sha.fingerprint(), md5);
    let prefixed = Signer::discover_in(&ssh, None, Some(&format!("MD5:{md5}"))).unwrap();
    assert_eq!(prefixed.algorithm(), "ecdsa-sha256");
    let none = Signer::discover_in(
        &ssh,
        None,
        Some("00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"),
    );
    assert!(none.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_through_ssh_agent() {
    let env = Env::start().await;
    let sock = env.dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if sock.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Keys go in from a directory the discovery does not search.
    let elsewhere = env.dir.path().join("agent-keys");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let empty = env.dir.path().join("empty-ssh");
    for kind in ["rsa", "ecdsa", "ed25519"] {
        let key = env.ssh_dir().join(format!("id_{kind}"));
        let st = std::process::Command::new("ssh-add")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &sock)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let fp = md5_fp(&env.ssh_dir().join(format!("id_{kind}.pub")));
        let signer = Signer::discover_in(&empty, Some(&sock), Some(&fp)).unwrap();
        assert!(signer.uses_agent());
        let mut cfg = client_sdk::Config::new(&env.cluster.url, USER);
        cfg.attempts = 1;
        let c = client_sdk::Client::with_signer(cfg, Some(signer)).unwrap();
        c.info("~~/stor").await.unwrap();
    }
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_urls_work_without_a_key() {
    let env = Env::start().await;
    let c = &env.client;
    c.put_bytes(
        "~~/stor/shared file",
        Bytes::from_static(b"pub"),
        &PutOptions::default(),
    )
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let opts = SignUrlOptions {
        methods: vec!["GET".into()],
        expires: now + 60,
        role: None,
        role_tag: None,
    };
    let signed = c.sign_url("~~/stor/shared file", &opts).unwrap();
    let url = format!("{}{signed}", c.url());
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"pub");
    let two = SignUrlOptions {
        methods: vec!["HEAD".into(), "GET".into()],
        ..opts.clone()
    };
    let signed = c.sign_url("~~/stor/shared file", &two).unwrap();
    assert!(signed.contains("method=GET%2CHEAD"), "{signed}");
    assert_eq!(
        reqwest::get(format!("{}{signed}", c.url()))
            .await
            .unwrap()
            .status(),
        200
    );
    let expired = SignUrlOptions {
        expires: now - 10,
        ..opts
    };
    let signed = c.sign_url("~~/stor/shared file", &expired).unwrap();
    let resp = reqwest::get(format!("{}{signed}", c.url())).await.unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_key_is_refused_with_its_code() {
    let env = Env::start().await;
    let ssh = env.dir.path().join("stranger");
    std::fs::create_dir_all(&ssh).unwrap();
    let key = crate::harness::keygen(&ssh, "ed25519");
    let c = sdk_client(&env.cluster.url, &key);
    let e = c.info("~~/stor").await.unwrap_err();
    assert_eq!(e.status(), Some(403));
}
