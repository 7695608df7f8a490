use std::io;
use std::path::Path;

use bytes::Bytes;
use futures::Stream;
use storage_node::BlobStore;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// Deterministic, non-repeating-looking test bytes.
pub fn pattern(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

/// `data` as a stream of `chunk`-sized pieces.
pub fn chunks(
    data: &[u8],
    chunk: usize,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {
    let pieces: Vec<io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(pieces)
}

pub async fn new_store() -> (TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).await.unwrap();
    (dir, store)
}

pub fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap())
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

pub fn tmp_files(root: &Path) -> usize {
    count_files(&root.join("tmp"))
}

/// Blob files under `blobs/`, not counting their hash trees.
pub fn blob_files(root: &Path) -> usize {
    count_files(&root.join("blobs")) - tree_files(root)
}

/// Hash tree files (`.obao`) under `blobs/`.
pub fn tree_files(root: &Path) -> usize {
    count_matching(&root.join("blobs"), &|p| {
        p.extension().is_some_and(|e| e == "obao")
    })
}

fn count_matching(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap())
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                count_matching(&e.path(), keep)
            } else {
                usize::from(keep(&e.path()))
            }
        })
        .sum()
}

pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine;
    use md5::{Digest, Md5};
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

pub fn md5_raw(data: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(data).into()
}

/// A node serving `store` on an ephemeral port; stops when the token fires.
pub struct Node {
    pub addr: String,
    pub stop: CancellationToken,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn start_node(store: BlobStore) -> Node {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    tokio::spawn(storage_node::server::serve(
        listener,
        store,
        "node-1".into(),
        key(),
        shutdown,
    ));
    Node { addr, stop }
}

/// The cluster secret of every node and client these tests start.
pub fn key() -> metadata_tier::net::ClusterKey {
    static KEY: std::sync::OnceLock<metadata_tier::net::ClusterKey> = std::sync::OnceLock::new();
    KEY.get_or_init(metadata_tier::net::ClusterKey::generate)
        .clone()
}

/// A client holding [`key`].
pub fn client() -> storage_node::client::StorageClient {
    storage_node::client::StorageClient::new(key())
}

/// Sends `rb` with [`key`]'s credential, as the cluster's roles do.
pub async fn send(http: &reqwest::Client, rb: reqwest::RequestBuilder) -> reqwest::Response {
    key().send(http, rb).await.unwrap()
}

/// The credential of a streamed `PUT /blobs` to `addr`, for a test that
/// writes the request by hand.
pub fn streamed_put_stamp(addr: &str) -> String {
    let empty = futures::stream::empty::<io::Result<Bytes>>();
    let mut req = reqwest::Client::new()
        .put(format!("{addr}/blobs"))
        .body(reqwest::Body::wrap_stream(empty))
        .build()
        .unwrap();
    key().stamp(&mut req);
    req.headers()[metadata_tier::net::auth::HEADER]
        .to_str()
        .unwrap()
        .to_string()
}

/// A node serving `store` with its scrubber running at `scrub`'s pace.
pub async fn start_scrubbed_node(
    store: BlobStore,
    scrub: storage_node::scrub::ScrubSettings,
) -> Node {
    let node = start_node(store.clone()).await;
    tokio::spawn(storage_node::scrub::run(store, scrub, node.stop.clone()));
    node
}

/// Scrubbing as fast as the disk goes, a pass only when asked for (or at
/// start).
pub fn fast_scrub() -> storage_node::scrub::ScrubSettings {
    storage_node::scrub::ScrubSettings {
        rate_bytes_per_sec: 1 << 40,
        interval: std::time::Duration::from_secs(3600),
    }
}

/// Polls the node's status until `done` holds (or 60 s pass: a hang, not
/// a timing check); returns that status.
pub async fn wait_status(
    addr: &str,
    done: impl Fn(&storage_node::wire::StatusReport) -> bool,
) -> storage_node::wire::StatusReport {
    let c = client();
    for _ in 0..3000 {
        let st = c.status(addr).await.unwrap();
        if done(&st) {
            return st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("node status never reached the awaited state");
}

/// Sets a file's mtime `ago` into the past.
pub fn age_file(path: &Path, ago: std::time::Duration) {
    let f = std::fs::File::open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - ago).unwrap();
}

/// Flips one bit of the file at `at`, in place (same inode, as bit rot).
pub fn flip(path: &Path, at: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    b[0] ^= 0x10;
    f.write_all_at(&b, at).unwrap();
}
