//! A replica's snapshot upload route (`POST /raft/snapshot`) under hostile
//! input from a holder of the cluster secret: a length the disk cannot
//! take, a body longer than announced or not matching its hash, and tars
//! whose entries are links or climb out of the snapshot directory. Each
//! is refused, nothing is left behind, and the shard keeps serving.

use metadata_tier::net::ClusterKey;
use metadata_tier::raft::network::SnapshotHeader;
use metadata_tier::wire::{Condition, EntryKey, Keyspace};
use metadata_tier::{MetadataClient, Ring, Shard};
use openraft::{SnapshotMeta, StoredMembership, Vote};
use std::path::Path;
use tokio_util::sync::CancellationToken;

struct Replica {
    url: String,
    key: ClusterKey,
    dir: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
}

async fn start() -> Replica {
    let key = ClusterKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let shard = Shard::open(dir.path()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let token = CancellationToken::new();
    tokio::spawn(metadata_tier::server::serve(
        listener,
        shard,
        key.clone(),
        Default::default(),
        token.clone().cancelled_owned(),
    ));
    Replica {
        url,
        key,
        dir,
        _stop: token.drop_guard(),
    }
}

fn header(hash: String, len: u64) -> SnapshotHeader {
    SnapshotHeader {
        vote: Vote::new(99, 7),
        meta: SnapshotMeta {
            last_log_id: None,
            last_membership: StoredMembership::default(),
            snapshot_id: "hostile".into(),
        },
        hash,
        len,
    }
}

/// Sends `body` announced as `h`; the status and the error code.
async fn upload(r: &Replica, h: &SnapshotHeader, body: Vec<u8>) -> (u16, String) {
    let http = reqwest::Client::new();
    let req = http
        .post(format!("{}/raft/snapshot?h={}", r.url, h.encode()))
        .body(body);
    let resp = r.key.send(&http, req).await.unwrap();
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    (status, v["code"].as_str().unwrap_or_default().to_string())
}

fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().unwrap()
}

fn honest(body: &[u8]) -> SnapshotHeader {
    header(blake3::hash(body).to_hex().to_string(), body.len() as u64)
}

/// Everything under `dir`, recursively.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            out.push(e.path().display().to_string());
            out.extend(tree(&e.path()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_snapshot_uploads_are_refused_and_leave_nothing() {
    let r = start().await;

    // A length no disk here can take is refused before a byte is stored.
    let h = header(blake3::hash(b"").to_hex().to_string(), 1 << 60);
    assert_eq!(
        upload(&r, &h, b"x".to_vec()).await,
        (507, "BadSnapshot".into())
    );

    // Longer than announced, and not matching the hash.
    let h = header(blake3::hash(b"ab").to_hex().to_string(), 2);
    assert_eq!(
        upload(&r, &h, b"abc".to_vec()).await,
        (400, "BadSnapshot".into())
    );
    assert_eq!(
        upload(&r, &h, b"xy".to_vec()).await,
        (400, "BadSnapshot".into())
    );

    // A symlink to a host file, hash and length honest.
    let link = tar_with(|b| {
        let mut hd = tar::Header::new_gnu();
        hd.set_entry_type(tar::EntryType::Symlink);
        hd.set_size(0);
        hd.set_cksum();
        b.append_link(&mut hd, "CURRENT", "/etc/passwd").unwrap();
    });
    assert_eq!(
        upload(&r, &honest(&link), link).await,
        (400, "BadSnapshot".into())
    );

    // A name climbing out of the snapshot directory, written raw because
    // the tar crate's builder refuses to make one.
    let climb = tar_with(|b| {
        let data = b"owned";
        let mut hd = tar::Header::new_old();
        {
            let name = &mut hd.as_old_mut().name;
            let raw = b"../../escaped";
            name[..raw.len()].copy_from_slice(raw);
        }
        hd.set_size(data.len() as u64);
        hd.set_mode(0o644);
        hd.set_cksum();
        b.append(&hd, &data[..]).unwrap();
    });
    assert_eq!(
        upload(&r, &honest(&climb), climb).await,
        (400, "BadSnapshot".into())
    );
    let root = r.dir.path();
    for p in [root.join("escaped"), root.join("../escaped")] {
        assert!(!p.exists(), "{} was written", p.display());
    }

    // Nothing of any of them is left on disk.
    let left = tree(&root.join("incoming"));
    assert!(left.is_empty(), "left behind: {left:?}");

    // The shard still takes writes and serves them.
    let client = MetadataClient::new(Ring::new(vec![r.url.clone()], 1024), r.key.clone());
    let k = EntryKey::new(Keyspace::Objects, "/u/stor", "after");
    client
        .put(k.clone(), serde_json::json!(1), Condition::None)
        .await
        .unwrap();
    assert_eq!(
        client.get(&k).await.unwrap().unwrap().value,
        serde_json::json!(1)
    );
}
