//! Repair and garbage collection survive crashes: storage nodes (real
//! `mantad storage` processes) are SIGKILLed while a pass copies and while
//! it collects. Nothing acknowledged is lost, and the next pass finishes
//! the work (checked on the nodes' disks).

use frontend::testkit::*;
use metadata_tier::registry::{AdminState, NodeAdmin};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn start() -> ProcessCluster {
    ProcessCluster::start_with(
        env!("CARGO_BIN_EXE_mantad"),
        4,
        "jobs_runtime = \"off\"\nscrub_rate_mb = 0",
        |o| {
            o.settings.maintenance.interval = Some(Duration::from_secs(3600));
            o.settings.maintenance.gc_grace = Duration::from_secs(2);
        },
    )
    .await
}

/// Nodes (by index) holding a copy of `data` that hashes right.
fn holders(pc: &ProcessCluster, data: &[u8]) -> Vec<usize> {
    let hash = blake3::hash(data).to_hex().to_string();
    (0..pc.procs.len())
        .filter(|&i| {
            files_under(&pc.node_dir(i).join("blobs")).iter().any(|p| {
                p.file_name().is_some_and(|n| n.to_string_lossy() == hash)
                    && std::fs::read(p).is_ok_and(|b| blake3::hash(&b) == blake3::hash(data))
            })
        })
        .collect()
}

fn blob_count(pc: &ProcessCluster, i: usize) -> usize {
    files_under(&pc.node_dir(i).join("blobs"))
        .iter()
        .filter(|p| p.extension().is_none())
        .count()
}

/// Marks `node` removed: its copies no longer count.
async fn remove_node(pc: &ProcessCluster, node: &str) {
    let removed = NodeAdmin {
        state: AdminState::Lost,
        reason: "test".into(),
    };
    pc.cluster
        .meta
        .set_node_admin(node, Some(&removed))
        .await
        .unwrap();
}

async fn write(pc: &ProcessCluster, n: u64, size: usize) -> HashMap<String, Vec<u8>> {
    let mut objects = HashMap::new();
    for i in 0..n {
        let data = bytes(size, 500 + i);
        let name = format!("stor/c{i}");
        assert_eq!(pc.put(&name, data.clone()).await.status(), 204, "{name}");
        objects.insert(name, data);
    }
    objects
}

async fn assert_reads(pc: &ProcessCluster, objects: &HashMap<String, Vec<u8>>) {
    for (name, data) in objects {
        let r = pc.get(name).await;
        assert_eq!(r.status(), 200, "{name}");
        assert!(r.bytes().await.unwrap() == data[..], "{name}: wrong bytes");
    }
}

#[tokio::test]
async fn kill_9_during_repair_loses_nothing_and_the_next_pass_finishes() {
    let mut pc = start().await;
    let objects = write(&pc, 40, 1 << 20).await;
    // Node 0 is removed: about half the objects must get a new copy.
    remove_node(&pc, "proc-0").await;
    let id = pc.request_maintenance_pass().await;
    // Let the pass start copying, then kill a node it copies from or to.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    pc.kill9(1).await;
    let first = pc.wait_maintenance_pass(&id).await;
    pc.restart(1);
    pc.wait_live(4).await;
    let id = pc.request_maintenance_pass().await;
    let second = pc.wait_maintenance_pass(&id).await;
    assert_eq!(second.still_below, 0, "first {first:?}\nsecond {second:?}");
    assert_eq!(second.unrecoverable, 0, "{second:?}");
    for (name, data) in &objects {
        let good: Vec<_> = holders(&pc, data).into_iter().filter(|&i| i != 0).collect();
        assert!(good.len() >= 2, "{name}: good copies on {good:?}");
    }
    assert_reads(&pc, &objects).await;
}

#[tokio::test]
async fn kill_9_during_collection_loses_nothing_and_the_next_pass_finishes() {
    let mut pc = start().await;
    let mut objects = write(&pc, 60, 256 << 10).await;
    let dead: Vec<String> = objects
        .keys()
        .filter(|k| k.ends_with('0') || k.ends_with('5') || k.ends_with('3'))
        .cloned()
        .collect();
    for name in &dead {
        assert_eq!(pc.delete(name).await.status(), 204);
        objects.remove(name);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before: usize = (0..4).map(|i| blob_count(&pc, i)).sum();
    let id = pc.request_maintenance_pass().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    pc.kill9(2).await;
    let first = pc.wait_maintenance_pass(&id).await;
    pc.restart(2);
    pc.wait_live(4).await;
    let id = pc.request_maintenance_pass().await;
    let second = pc.wait_maintenance_pass(&id).await;
    let after: usize = (0..4).map(|i| blob_count(&pc, i)).sum();
    assert_eq!(
        after,
        objects.len() * 2,
        "first {first:?}\nsecond {second:?}"
    );
    assert_eq!(before - after, dead.len() * 2);
    assert_eq!(
        first.gc_deleted_blobs + second.gc_deleted_blobs,
        (dead.len() * 2) as u64,
        "first {first:?}\nsecond {second:?}"
    );
    for (name, data) in &objects {
        assert_eq!(holders(&pc, data).len(), 2, "{name}");
    }
    assert_reads(&pc, &objects).await;
}

/// Starts `mantad frontend` as a process that runs maintenance passes
/// (the kit's in-process frontend runs none).
fn spawn_frontend(pc: &ProcessCluster, dir: &std::path::Path, n: u32) -> tokio::process::Child {
    let cfg = format!(
        "{}maintenance_interval = \"1h\"\ngc_grace = \"2s\"\nheartbeat_timeout = \"4s\"\n",
        pc.frontend_config_text()
    );
    let path = dir.join(format!("frontend-{n}.toml"));
    std::fs::write(&path, cfg).unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mantad"))
        .args(["frontend", "--config"])
        .arg(&path)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The frontend running a pass is SIGKILLed mid-copy: its lease runs out,
/// another frontend takes over and finishes the repair; nothing is lost.
#[tokio::test]
async fn kill_9_of_the_frontend_mid_pass_hands_the_work_to_another() {
    let pc = ProcessCluster::start(env!("CARGO_BIN_EXE_mantad"), 4, "jobs_runtime = \"off\"").await;
    let objects = write(&pc, 40, 1 << 20).await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn_frontend(&pc, dir.path(), 1);
    // Its start-up pass finds nothing to do; wait for it.
    let id = pc.request_maintenance_pass().await;
    pc.wait_maintenance_pass(&id).await;
    remove_node(&pc, "proc-0").await;
    let baseline: usize = (1..4).map(|i| blob_count(&pc, i)).sum();
    let id = pc.request_maintenance_pass().await;
    // Kill it as soon as its first new copy lands.
    let start = Instant::now();
    while (1..4).map(|i| blob_count(&pc, i)).sum::<usize>() == baseline {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the pass never copied"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let st = frontend::maintain::control::read_status(&pc.cluster.meta)
        .await
        .unwrap();
    assert_ne!(
        st.last.and_then(|l| l.served_request).as_deref(),
        Some(id.as_str()),
        "the pass ended before the kill"
    );
    // A new frontend waits out the dead one's lease, then serves the
    // request still pending.
    let _second = spawn_frontend(&pc, dir.path(), 2);
    let report = pc.wait_maintenance_pass(&id).await;
    assert_eq!(report.still_below, 0, "{report:?}");
    for (name, data) in &objects {
        let good: Vec<_> = holders(&pc, data).into_iter().filter(|&i| i != 0).collect();
        assert!(good.len() >= 2, "{name}: good copies on {good:?}");
    }
    assert_reads(&pc, &objects).await;
}
