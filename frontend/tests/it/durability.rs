//! Self-healing storage through the whole cluster: repair brings every
//! object back to its copies after bit rot, node loss and draining;
//! garbage collection frees what no record names and nothing else; writes
//! refuse to store fewer copies than asked unless the operator allows it.
//! Counts are checked on the nodes' disks, not taken from our reports.

use frontend::testkit::*;
use metadata_tier::registry::{AdminState, NodeAdmin};
use reqwest::Method;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Repair and collection on request only (the first pass runs at start),
/// a short grace so collection is observable.
fn maintained(o: &mut Options) {
    o.settings.maintenance.interval = Some(Duration::from_secs(3600));
    o.settings.maintenance.gc_grace = Duration::from_secs(2);
}

/// Good copies of `data` on disk, by node directory (a copy in quarantine
/// or whose bytes do not hash to its name does not count).
fn good_copies(tc: &TestCluster, data: &[u8]) -> Vec<String> {
    let hash = blake3::hash(data).to_hex().to_string();
    let mut nodes: Vec<String> = files_under(&tc.cluster.data_dir().join("storage"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == hash))
        .filter(|p| p.components().any(|c| c.as_os_str() == "blobs"))
        .filter(|p| std::fs::read(p).is_ok_and(|b| blake3::hash(&b).to_hex().as_str() == hash))
        .map(|p| node_of(&p))
        .collect();
    nodes.sort();
    nodes
}

fn node_of(p: &Path) -> String {
    let mut it = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    while let Some(c) = it.next() {
        if c == "storage" {
            return it.next().unwrap_or_default();
        }
    }
    String::new()
}

fn blob_files(node_dir: &Path) -> Vec<PathBuf> {
    files_under(&node_dir.join("blobs"))
        .into_iter()
        .filter(|p| p.extension().is_none())
        .collect()
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

async fn durability_level(tc: &TestCluster, rel: &str) -> String {
    let r = tc.req(Method::HEAD, rel).send().await.unwrap();
    assert_eq!(r.status(), 200, "{rel}");
    header(&r, "durability-level")
}

async fn assert_reads(tc: &TestCluster, objects: &HashMap<String, Vec<u8>>) {
    for (name, data) in objects {
        let r = tc.get(name).await;
        assert_eq!(r.status(), 200, "{name}");
        assert!(r.bytes().await.unwrap() == data[..], "{name}: wrong bytes");
    }
}

/// Bit rot in one copy: reads stay exact, the copy is quarantined, and a
/// pass makes a new good copy so the object has two again (on disk).
#[tokio::test]
async fn a_rotten_copy_is_quarantined_and_repaired() {
    let tc = TestCluster::start_with(3, maintained).await;
    let data = bytes(1 << 20, 5);
    assert_eq!(tc.put("stor/rot", data.clone()).await.status(), 204);
    let before = good_copies(&tc, &data);
    assert_eq!(before.len(), 2);
    let hash = blake3::hash(&data).to_hex().to_string();
    let path = files_under(&tc.cluster.data_dir().join("storage").join(&before[0]))
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == hash))
        .unwrap();
    flip(&path, 700_000);
    assert_eq!(good_copies(&tc, &data).len(), 1);
    // Reads until the rotten copy is met (the frontend picks copies at
    // random) and quarantined; every one is exact.
    let quarantine = tc
        .cluster
        .data_dir()
        .join("storage")
        .join(&before[0])
        .join("quarantine");
    for i in 0..40 {
        let r = tc.get("stor/rot").await;
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap() == data, "read {i}");
        if quarantine.join(&hash).exists() {
            break;
        }
    }
    assert!(
        quarantine.join(&hash).exists(),
        "the rotten copy was never quarantined"
    );

    let report = tc.maintenance_pass().await;
    assert_eq!(report.below_durability, 1, "{report:?}");
    assert_eq!(report.copies_made, 1, "{report:?}");
    assert_eq!(report.still_below, 0, "{report:?}");
    assert_eq!(good_copies(&tc, &data).len(), 2);
    assert_eq!(durability_level(&tc, "stor/rot").await, "2");
    let r = tc.get("stor/rot").await;
    assert!(r.bytes().await.unwrap() == data);
    // A second pass finds nothing to do.
    let again = tc.maintenance_pass().await;
    assert_eq!(
        (again.below_durability, again.copies_made),
        (0, 0),
        "{again:?}"
    );
}

/// A node gone for good while objects are written: after the lost timeout
/// every object has two good copies on the remaining nodes' disks.
#[tokio::test]
async fn a_lost_node_is_re_replicated() {
    let mut tc = TestCluster::start_with(3, |o| {
        maintained(o);
        // Long enough for the writes below on a loaded machine.
        o.settings.node_lost_after = Duration::from_secs(12);
    })
    .await;
    let mut objects = HashMap::new();
    for i in 0..12 {
        let data = bytes(20_000 + i * 1000, i as u64);
        let name = format!("stor/o{i}");
        assert_eq!(tc.put(&name, data.clone()).await.status(), 204);
        objects.insert(name, data);
    }
    let lost = tc.cluster.node_ids()[0].clone();
    tc.cluster.stop_node(0).await;
    tc.wait_live(2).await;
    // Writes go on while the node is down (two nodes are still up).
    for i in 12..18 {
        let data = bytes(30_000, i as u64);
        let name = format!("stor/o{i}");
        assert_eq!(tc.put(&name, data.clone()).await.status(), 204);
        objects.insert(name, data);
    }
    // Down, not yet lost: no repair.
    let early = tc.maintenance_pass().await;
    assert_eq!(early.nodes_down, 1, "{early:?}");
    assert_eq!(early.copies_made, 0, "{early:?}");
    tokio::time::sleep(Duration::from_secs(13)).await;
    let report = tc.maintenance_pass().await;
    assert_eq!(report.nodes_lost, 1, "{report:?}");
    assert_eq!(report.still_below, 0, "{report:?}");
    assert!(report.copies_made > 0, "{report:?}");
    for (name, data) in &objects {
        let good = good_copies(&tc, data);
        let live: Vec<_> = good.iter().filter(|n| **n != lost).collect();
        assert_eq!(live.len(), 2, "{name}: {good:?}");
        assert_eq!(durability_level(&tc, name).await, "2", "{name}");
    }
    assert_reads(&tc, &objects).await;
}

/// Draining a node empties it, and no object is ever below durability on
/// the way: copies are made elsewhere before the record lets go of the
/// draining one, and only then does collection delete it.
#[tokio::test]
async fn a_drained_node_ends_up_empty() {
    let tc = TestCluster::start_with(3, maintained).await;
    let mut objects = HashMap::new();
    for i in 0..10 {
        let data = bytes(10_000 + i, 100 + i as u64);
        let name = format!("stor/d{i}");
        assert_eq!(tc.put(&name, data.clone()).await.status(), 204);
        objects.insert(name, data);
    }
    let node = tc.cluster.node_ids()[1].clone();
    let dir = tc.cluster.data_dir().join("storage").join(&node);
    assert!(!blob_files(&dir).is_empty());
    let admin = NodeAdmin {
        state: AdminState::Draining,
        reason: "test".into(),
    };
    tc.cluster
        .meta
        .set_node_admin(&node, Some(&admin))
        .await
        .unwrap();
    tc.cluster.state.store.placement().invalidate().await;
    // New writes avoid it at once.
    for i in 0..4 {
        let data = bytes(5_000, 200 + i);
        let name = format!("stor/n{i}");
        assert_eq!(tc.put(&name, data.clone()).await.status(), 204);
        assert!(!good_copies(&tc, &data).contains(&node));
        objects.insert(name, data);
    }
    let first = tc.maintenance_pass().await;
    assert!(first.copies_made > 0, "{first:?}");
    assert_eq!(
        (first.still_below, first.unrecoverable),
        (0, 0),
        "{first:?}"
    );
    for (name, data) in &objects {
        assert_eq!(durability_level(&tc, name).await, "2", "{name}");
        let good: Vec<_> = good_copies(&tc, data)
            .into_iter()
            .filter(|n| *n != node)
            .collect();
        assert_eq!(good.len(), 2, "{name}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let second = tc.maintenance_pass().await;
    assert!(second.gc_deleted_blobs > 0, "{second:?}");
    assert!(blob_files(&dir).is_empty(), "{:?}", blob_files(&dir));
    assert_reads(&tc, &objects).await;
}

/// Without the operator's leave, a write that cannot get its copies fails
/// in each API's terms and stores nothing; with it, the write succeeds
/// with fewer copies and repair adds the rest once nodes return.
#[tokio::test]
async fn writes_refuse_fewer_copies_unless_degraded_writes_are_allowed() {
    let mut tc = TestCluster::start_with(2, maintained).await;
    tc.cluster.stop_node(1).await;
    tc.wait_live(1).await;
    assert_error(tc.put("stor/short", "x").await, 503, "SharksExhausted").await;
    assert_eq!(tc.get("stor/short").await.status(), 404);
    // Asking for one copy is still fine.
    let r = tc
        .req(Method::PUT, "stor/one")
        .header("durability-level", "1")
        .body("one copy, as asked")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    drop(tc);

    let mut tc = TestCluster::start_with(2, |o| {
        maintained(o);
        o.settings.allow_degraded_writes = true;
    })
    .await;
    tc.cluster.stop_node(1).await;
    tc.wait_live(1).await;
    let data = bytes(40_000, 9);
    assert_eq!(tc.put("stor/degraded", data.clone()).await.status(), 204);
    assert_eq!(durability_level(&tc, "stor/degraded").await, "1");
    tc.cluster.restart_node(1).await.unwrap();
    tc.wait_live(2).await;
    let report = tc.maintenance_pass().await;
    assert_eq!(report.copies_made, 1, "{report:?}");
    assert_eq!(good_copies(&tc, &data).len(), 2);
    assert_eq!(durability_level(&tc, "stor/degraded").await, "2");
}

/// Collection under a concurrent load of equal-content PUTs, snaplinks,
/// overwrites and deletes: every live object keeps every byte, and once
/// the load stops the nodes hold exactly the copies records name.
#[tokio::test]
async fn gc_frees_dead_bytes_and_never_a_live_one() {
    let tc = std::sync::Arc::new(TestCluster::start_with(3, maintained).await);
    let shared = bytes(64_000, 77);
    let load = {
        let tc = tc.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut live: HashMap<String, Vec<u8>> = HashMap::new();
            for i in 0..60u64 {
                let name = format!("stor/g{}", i % 15);
                match i % 5 {
                    // Same bytes as others: dedup onto existing copies.
                    0 | 1 => {
                        assert_eq!(tc.put(&name, shared.clone()).await.status(), 204);
                        live.insert(name, shared.clone());
                    }
                    2 => {
                        let data = bytes(30_000, 1000 + i);
                        assert_eq!(tc.put(&name, data.clone()).await.status(), 204);
                        live.insert(name, data);
                    }
                    3 => {
                        if let Some(src) = live.keys().next().cloned() {
                            let link = format!("stor/link{i}");
                            let r = tc
                                .req(Method::PUT, &link)
                                .header("content-type", "application/json; type=link")
                                .header("location", format!("/{}/{}", USER, src))
                                .send()
                                .await
                                .unwrap();
                            assert_eq!(r.status(), 204, "link {link} -> {src}");
                            let data = live[&src].clone();
                            live.insert(link, data);
                            // The source goes: the link alone holds the bytes.
                            assert_eq!(tc.delete(&src).await.status(), 204);
                            live.remove(&src);
                        }
                    }
                    _ => {
                        if tc.delete(&name).await.status() == 204 {
                            live.remove(&name);
                        }
                    }
                }
            }
            live
        })
    };
    let mut deleted = 0;
    while !load.is_finished() {
        let r = tc.maintenance_pass().await;
        deleted += r.gc_deleted_blobs;
        assert_eq!(r.unrecoverable, 0, "{r:?}");
    }
    let live = load.await.unwrap();
    assert_reads(&tc, &live).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let last = tc.maintenance_pass().await;
    deleted += last.gc_deleted_blobs;
    assert!(deleted > 0, "nothing was ever collected");
    assert_reads(&tc, &live).await;
    // Exactly the copies records name remain on the nodes' disks.
    let named = named_copies(&tc).await;
    let mut on_disk = std::collections::HashSet::new();
    for n in tc.cluster.node_ids() {
        for f in blob_files(&tc.cluster.data_dir().join("storage").join(&n)) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            on_disk.insert((n.clone(), name));
        }
    }
    assert_eq!(on_disk, named);
    let distinct: std::collections::HashSet<_> = live.values().map(|d| blake3::hash(d)).collect();
    assert!(named.len() >= distinct.len() * 2);
}

/// Every (node, blob) pair the object records name, read from the shards.
async fn named_copies(tc: &TestCluster) -> std::collections::HashSet<(String, String)> {
    use metadata_tier::wire::Keyspace;
    let meta = &tc.cluster.meta;
    let mut out = std::collections::HashSet::new();
    for shard in 0..meta.shard_count() {
        let mut after = None;
        loop {
            let page = meta
                .scan(shard, Keyspace::Objects, after, 1000)
                .await
                .unwrap();
            for e in page.entries {
                let v = e.entry.value;
                if let (Some(blob), Some(sharks)) = (v["blob"].as_str(), v["sharks"].as_array()) {
                    if v["size"].as_u64().unwrap_or(0) > 0 {
                        for n in sharks {
                            out.insert((n.as_str().unwrap().to_string(), blob.to_string()));
                        }
                    }
                }
            }
            match page.next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
    }
    out
}

/// S3's blobs that records share or hold pending: the parts of an upload
/// not yet completed survive passes and complete into an exact object; an
/// aborted upload's part is collected; a copy keeps its bytes when its
/// source is deleted.
#[tokio::test(flavor = "multi_thread")]
async fn gc_keeps_pending_multipart_parts_and_copies_and_frees_aborted_parts() {
    let env = crate::s3::S3Env::start_with(maintained).await;
    let out = env.run("python3", &["gc_multipart.py", "start"]).await;
    let upload = out
        .lines()
        .find_map(|l| l.strip_prefix("UPLOAD "))
        .expect("upload id")
        .to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = env.tc.maintenance_pass().await;
    // The aborted upload's part (two copies); the copy's source blob is
    // still named by the copy, the pending parts by their part records.
    assert_eq!(r.gc_deleted_blobs, 2, "{r:?}");
    env.python("gc_multipart.py", &["finish", &upload]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = env.tc.maintenance_pass().await;
    assert_eq!(r.gc_deleted_blobs, 0, "{r:?}");
    assert_eq!(r.still_below, 0, "{r:?}");
    env.python("gc_multipart.py", &["verify"]).await;
}
