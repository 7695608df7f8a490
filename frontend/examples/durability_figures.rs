//! The durability figures docs/durability.md reports, measured in one run
//! (`bench/durability.sh` runs this optimised; the test suite only builds
//! it): the scrubber's rate against a plain read of the same files, the
//! time to re-replicate 1 GiB of objects after a node is lost, and the
//! bytes collection frees against the bytes deleted.

// A measurement, not a service: any failure should stop it where it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use frontend::testkit::*;
use metadata_tier::registry::{AdminState, NodeAdmin};
use std::io::Read;
use std::time::{Duration, Instant};
use storage_node::client::StorageClient;

const OBJECTS: u64 = 256;
const SIZE: usize = 4 << 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tc = TestCluster::start_with(3, |o| {
        o.settings.maintenance.interval = Some(Duration::from_secs(3600));
        o.settings.maintenance.gc_grace = Duration::from_secs(2);
        o.cluster.scrub.rate_bytes_per_sec = 100_000_000_000;
        o.cluster.scrub.interval = Duration::from_secs(3600);
    })
    .await;
    let t = Instant::now();
    for i in 0..OBJECTS {
        let r = tc.put(&format!("stor/f{i}"), bytes(SIZE, i)).await;
        assert_eq!(r.status(), 204);
    }
    let logical = OBJECTS * SIZE as u64;
    println!(
        "wrote {} MiB in {} objects (2 copies) in {:.1} s",
        logical >> 20,
        OBJECTS,
        t.elapsed().as_secs_f64()
    );

    // Scrub against a plain sequential read of the same node's files.
    let node = tc.cluster.node_ids()[0].clone();
    let dir = tc
        .cluster
        .data_dir()
        .join("storage")
        .join(&node)
        .join("blobs");
    let files: Vec<_> = files_under(&dir)
        .into_iter()
        .filter(|p| p.extension().is_none())
        .collect();
    let t = Instant::now();
    let mut read = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let mut file = std::fs::File::open(f).unwrap();
        loop {
            let n = file.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            read += n as u64;
        }
    }
    let raw = read as f64 / t.elapsed().as_secs_f64() / 1e6;
    let storage = StorageClient::new(tc.cluster.meta.cluster_key().clone());
    let addr = tc
        .cluster
        .meta
        .nodes()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.record.id == node)
        .unwrap()
        .record
        .addr;
    let before = storage.status(&addr).await.unwrap();
    let t = Instant::now();
    let want = storage.scrub(&addr).await.unwrap();
    let after = loop {
        let s = storage.status(&addr).await.unwrap();
        if s.scrub_passes >= want {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    let scrubbed = after.scrubbed_bytes - before.scrubbed_bytes;
    let scrub = scrubbed as f64 / secs / 1e6;
    println!(
        "scrub: {:.0} MB/s over {} MiB; plain read of the same files: {:.0} MB/s; ratio {:.2}",
        scrub,
        scrubbed >> 20,
        raw,
        scrub / raw
    );

    // Node loss: every copy on it is made again elsewhere.
    let lost = NodeAdmin {
        state: AdminState::Lost,
        reason: "figures".into(),
    };
    tc.cluster
        .meta
        .set_node_admin(&node, Some(&lost))
        .await
        .unwrap();
    let t = Instant::now();
    let r = tc.maintenance_pass().await;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.still_below, 0, "{r:?}");
    println!(
        "re-replication after losing {node}: {} copies, {} MiB in {:.1} s ({:.0} MB/s); 1 GiB would take {:.1} s",
        r.copies_made,
        r.bytes_copied >> 20,
        secs,
        r.bytes_copied as f64 / secs / 1e6,
        secs * (1u64 << 30) as f64 / r.bytes_copied.max(1) as f64
    );

    // Collection: delete half, then one pass past the grace.
    let mut deleted = 0u64;
    for i in (0..OBJECTS).step_by(2) {
        assert_eq!(tc.delete(&format!("stor/f{i}")).await.status(), 204);
        deleted += SIZE as u64;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = Instant::now();
    let r = tc.maintenance_pass().await;
    println!(
        "gc: deleted {} MiB of objects ({} MiB of copies at 2 each); the pass freed {} MiB in {} blobs in {:.1} s (ratio to copies deleted {:.3})",
        deleted >> 20,
        (deleted * 2) >> 20,
        r.gc_deleted_bytes >> 20,
        r.gc_deleted_blobs,
        t.elapsed().as_secs_f64(),
        r.gc_deleted_bytes as f64 / (deleted * 2) as f64
    );
}
