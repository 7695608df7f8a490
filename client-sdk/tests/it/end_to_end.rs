//! End-to-end content checks: the SDK and `mget` check what they receive
//! against `x-content-blake3` (or `Content-MD5`), so bytes damaged between
//! the frontend and the client (here by [`crate::tamper`]'s proxy) end the
//! body with an error, and `mget` leaves no file that looks complete.

use crate::harness::{bytes, files_under, run_at, sdk_client, stderr, TestCluster};
use crate::tamper::{self, Damage, Proxy, Tamper};
use bytes::Bytes;
use client_sdk::{Client, Error, GetOptions, Mismatch, PutOptions};
use futures::{StreamExt, TryStreamExt};
use std::path::Path;

/// Several storage-node pieces and HTTP chunks.
const SIZE: usize = 3 * 1024 * 1024 + 11;
const NEEDLE_LEN: usize = 32;

fn b3(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

fn object(seed: u64) -> Vec<u8> {
    bytes(SIZE, seed)
}

async fn put(tc: &TestCluster, path: &str, data: &[u8]) {
    tc.client
        .put_bytes(
            path,
            Bytes::copy_from_slice(data),
            &PutOptions {
                mkdirs: true,
                ..PutOptions::default()
            },
        )
        .await
        .unwrap();
}

/// Where in `data` (past 2 MiB) the proxy can damage it: a needle no
/// response the proxy carries ends with the start of, so the proxy holds
/// nothing back at a response's end (see `tamper::needle_start`). Its
/// first byte is not ASCII, so no head or JSON body ends like it; no end
/// of `bodies` does either.
fn needle_at(data: &[u8], bodies: &[&[u8]]) -> usize {
    (2 * 1024 * 1024..)
        .find(|&i| {
            let needle = &data[i..i + NEEDLE_LEN];
            needle[0] >= 0x80
                && bodies
                    .iter()
                    .all(|b| (1..NEEDLE_LEN).all(|k| !b.ends_with(&needle[..k])))
        })
        .unwrap()
}

/// A proxy in front of `tc` that damages `data` at `at`.
async fn proxy(
    tc: &TestCluster,
    data: &[u8],
    at: usize,
    damage: Damage,
    drop: Option<&'static str>,
) -> Proxy {
    let tamper = Tamper {
        needle: data[at..at + NEEDLE_LEN].to_vec(),
        damage,
        drop_header: drop,
    };
    tamper::start(&tc.cluster.url, tamper).await
}

/// A fresh SDK client (its own connections) going through `proxy`.
fn through(tc: &TestCluster, proxy: &Proxy) -> Client {
    sdk_client(&proxy.url, &tc.ssh_dir().join("id_ed25519"))
}

/// Reads a body to its end: the bytes received, and the error it ended
/// with if any (which must be its last item).
async fn drain(c: &Client, path: &str) -> (Vec<u8>, Option<Error>) {
    let mut resp = c.get(path, &GetOptions::default()).await.unwrap();
    let mut got = Vec::new();
    while let Some(item) = resp.body.next().await {
        match item {
            Ok(chunk) => got.extend_from_slice(&chunk),
            Err(e) => {
                assert!(resp.body.next().await.is_none(), "the error is last");
                return (got, Some(e));
            }
        }
    }
    (got, None)
}

fn flipped(data: &[u8], at: usize) -> Vec<u8> {
    let mut d = data.to_vec();
    d[at] ^= 1;
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_verify_against_the_hash_the_server_sends() {
    let tc = TestCluster::start().await;
    let c = &tc.client;
    let data = object(1);
    put(&tc, "~~/stor/obj", &data).await;
    let info = c.info("~~/stor/obj").await.unwrap();
    assert_eq!(info.content_blake3, Some(b3(&data)));
    let (got, err) = drain(c, "~~/stor/obj").await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, data);
    put(&tc, "~~/stor/empty", b"").await;
    let info = c.info("~~/stor/empty").await.unwrap();
    assert_eq!(info.content_blake3, Some(b3(b"")));
    assert!(c.get_bytes("~~/stor/empty").await.unwrap().is_empty());
    // A range is checked for its length only: it carries no hash.
    let part = GetOptions {
        range: Some("bytes=5-9".into()),
        ..GetOptions::default()
    };
    let resp = c.get("~~/stor/obj", &part).await.unwrap();
    assert_eq!(resp.info.content_blake3, None);
    let got: Vec<Bytes> = resp.body.try_collect().await.unwrap();
    assert_eq!(got.concat(), data[5..10]);

    let out = tc.local("out/obj");
    let o = out.to_string_lossy().to_string();
    let run = run_at(&tc, &tc.cluster.url, "mget", &["-o", &o, "~~/stor/obj"]).await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert_eq!(files_under(out.parent().unwrap()), vec![out.clone()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flipped_bit_ends_the_body_with_both_hashes() {
    let tc = TestCluster::start().await;
    let data = object(2);
    put(&tc, "~~/stor/obj", &data).await;
    let at = needle_at(&data, &[&data]);
    let proxy = proxy(&tc, &data, at, Damage::Flip, None).await;
    let c = through(&tc, &proxy);
    let (got, err) = drain(&c, "~~/stor/obj").await;
    assert_eq!(proxy.damaged(), 1);
    assert_eq!(got, flipped(&data, at), "every byte came, one bit flipped");
    match err {
        Some(Error::Checksum {
            path,
            mismatch: Mismatch::Blake3 { expected, computed },
        }) => {
            assert_eq!(path, "/tester/stor/obj");
            assert_eq!(expected, b3(&data));
            assert_eq!(computed, b3(&got));
        }
        other => panic!("expected a BLAKE3 mismatch, got {other:?}"),
    }
    let e = c.get_bytes("~~/stor/obj").await.unwrap_err();
    assert_eq!(e.code(), "ChecksumError");
    assert_eq!(proxy.damaged(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_cut_short_is_caught_by_its_hash() {
    let tc = TestCluster::start().await;
    let data = object(3);
    put(&tc, "~~/stor/obj", &data).await;
    let at = needle_at(&data, &[&data]);
    let proxy = proxy(&tc, &data, at, Damage::Cut, None).await;
    let (got, err) = drain(&through(&tc, &proxy), "~~/stor/obj").await;
    assert_eq!(got, data[..at], "HTTP saw a clean end");
    match err {
        Some(Error::Checksum {
            mismatch: Mismatch::Blake3 { expected, computed },
            ..
        }) => {
            assert_eq!(expected, b3(&data));
            assert_eq!(computed, b3(&data[..at]));
        }
        other => panic!("expected a BLAKE3 mismatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_blake3_the_md5_is_checked() {
    let tc = TestCluster::start().await;
    let data = object(4);
    put(&tc, "~~/stor/obj", &data).await;
    let at = needle_at(&data, &[&data]);
    let proxy = proxy(&tc, &data, at, Damage::Flip, Some("x-content-blake3")).await;
    let c = through(&tc, &proxy);
    let (got, err) = drain(&c, "~~/stor/obj").await;
    assert_eq!(got, flipped(&data, at));
    match err {
        Some(Error::Checksum {
            mismatch: Mismatch::Md5 { expected, .. },
            ..
        }) => assert_eq!(expected, frontend::testkit::md5_b64(&data)),
        other => panic!("expected an MD5 mismatch, got {other:?}"),
    }
}

/// Asserts `mget` failed naming `path` as a checksum error.
fn failed_check(run: &std::process::Output, path: &str) -> String {
    let err = stderr(run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("mget: {path}: ChecksumError: ")),
        "{err}"
    );
    err
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = files_under(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn mget_leaves_no_file_for_a_damaged_object() {
    let tc = TestCluster::start().await;
    let data = object(5);
    put(&tc, "~~/stor/obj", &data).await;
    let dir = tc.local("out/x").parent().unwrap().to_path_buf();
    let at = needle_at(&data, &[&data]);
    let flip = proxy(&tc, &data, at, Damage::Flip, None).await;

    let out = dir.join("new");
    let o = out.to_string_lossy().to_string();
    let run = run_at(&tc, &flip.url, "mget", &["-o", &o, "~~/stor/obj"]).await;
    let err = failed_check(&run, "/tester/stor/obj");
    assert!(err.contains(&b3(&data)), "{err}");
    assert!(err.contains(&b3(&flipped(&data, at))), "{err}");
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));

    // A file already there keeps its old bytes.
    let old = dir.join("old");
    std::fs::write(&old, b"old").unwrap();
    let o = old.to_string_lossy().to_string();
    let run = run_at(&tc, &flip.url, "mget", &["-o", &o, "~~/stor/obj"]).await;
    failed_check(&run, "/tester/stor/obj");
    assert_eq!(std::fs::read(&old).unwrap(), b"old");
    assert_eq!(names(&dir), vec!["old"]);

    // Cut short, the same.
    let cut = proxy(&tc, &data, at, Damage::Cut, None).await;
    let o = out.to_string_lossy().to_string();
    let run = run_at(&tc, &cut.url, "mget", &["-o", &o, "~~/stor/obj"]).await;
    failed_check(&run, "/tester/stor/obj");
    assert_eq!(names(&dir), vec!["old"]);
    assert_eq!(cut.damaged(), 1);
    assert_eq!(flip.damaged(), 2);

    // To stdout the bytes are gone already, but the exit says so.
    let run = run_at(&tc, &flip.url, "mget", &["~~/stor/obj"]).await;
    failed_check(&run, "/tester/stor/obj");
}

#[tokio::test(flavor = "multi_thread")]
async fn mget_checks_each_of_many_objects() {
    let tc = TestCluster::start().await;
    let (a, b, c) = (object(6), object(7), object(8));
    put(&tc, "~~/stor/many/a", &a).await;
    put(&tc, "~~/stor/many/b", &b).await;
    put(&tc, "~~/stor/many/c", &c).await;
    let at = needle_at(&b, &[&a, &b, &c]);
    let flip = proxy(&tc, &b, at, Damage::Flip, None).await;
    let dir = tc.local("got/x").parent().unwrap().to_path_buf();
    let d = dir.to_string_lossy().to_string();
    let run = run_at(&tc, &flip.url, "mget", &["-d", &d, "~~/stor/many"]).await;
    let err = failed_check(&run, "/tester/stor/many/b");
    assert!(!err.contains("many/a") && !err.contains("many/c"), "{err}");
    assert_eq!(names(&dir), vec!["many/a", "many/c"]);
    assert_eq!(std::fs::read(dir.join("many/a")).unwrap(), a);
    assert_eq!(std::fs::read(dir.join("many/c")).unwrap(), c);

    // Several objects into one file: all must verify.
    let out = dir.join("all");
    let o = out.to_string_lossy().to_string();
    let paths = ["~~/stor/many/a", "~~/stor/many/b", "~~/stor/many/c"];
    let mut args = vec!["-o", o.as_str()];
    args.extend(paths);
    let run = run_at(&tc, &flip.url, "mget", &args).await;
    failed_check(&run, "/tester/stor/many/b");
    assert!(!out.exists());
    let run = run_at(&tc, &tc.cluster.url, "mget", &args).await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(std::fs::read(&out).unwrap(), [a, b, c].concat());
}
