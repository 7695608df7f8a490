//! Figures of a shard's Raft group as real processes (run by
//! `bench/replication.sh`, which passes `MANTAD`): the failover pause after
//! kill -9 of the leader under a write load, and how long a replica takes
//! to catch up by snapshot on META_MIB of metadata (snapshots every
//! SNAPSHOT_EVERY entries, default 200, so the leader purges its log).
//!
//! Usage: MANTAD=path raft_figures WORK_DIR META_MIB

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: fail loudly

use metadata_tier::net::ClusterKey;
use metadata_tier::raft::routes::ReplicaStatus;
use metadata_tier::wire::{Condition, EntryKey, Keyspace, Op};
use metadata_tier::{MetadataClient, Ring};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

struct Group {
    dir: PathBuf,
    mantad: String,
    urls: BTreeMap<u64, String>,
    procs: BTreeMap<u64, Child>,
    key: ClusterKey,
    snapshot_every: u64,
}

impl Group {
    async fn spawn(&mut self, id: u64) {
        let listen = self.urls[&id].trim_start_matches("http://").to_string();
        let peers: String = self
            .urls
            .iter()
            .map(|(i, u)| format!("\"{i}\" = {u:?}\n"))
            .collect();
        let cfg = self.dir.join(format!("r{id}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "listen = {listen:?}\ndata = {:?}\ncluster_secret_file = {:?}\nreplica_id = {id}\n\
                 bootstrap = {}\nsnapshot_every = {}\n[peers]\n{peers}",
                self.dir.join(format!("r{id}")),
                self.dir.join("cluster.key"),
                id == 1,
                self.snapshot_every
            ),
        )
        .unwrap();
        let log = std::fs::File::create(self.dir.join(format!("r{id}.log"))).unwrap();
        let child = Command::new(&self.mantad)
            .args(["metadata", "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.procs.insert(id, child);
        while tokio::net::TcpStream::connect(&listen).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn kill(&mut self, id: u64) {
        let mut c = self.procs.remove(&id).unwrap();
        c.start_kill().unwrap();
        c.wait().await.unwrap();
    }

    fn client(&self) -> MetadataClient {
        let spec = self.urls.values().cloned().collect::<Vec<_>>().join(",");
        MetadataClient::new(Ring::new(vec![spec], 1024), self.key.clone())
    }

    async fn statuses(&self) -> BTreeMap<u64, ReplicaStatus> {
        self.client()
            .shard_status(0)
            .await
            .into_iter()
            .filter_map(|(_, s)| s.ok())
            .map(|s| (s.id, s))
            .collect()
    }

    async fn leader(&self) -> ReplicaStatus {
        loop {
            let all = self.statuses().await;
            let top = all.values().map(|s| s.term).max().unwrap_or(0);
            if let Some(l) = all.values().find(|s| s.state == "Leader" && s.term == top) {
                return l.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[1]);
    let meta_mib: u64 = args.get(2).map_or(1024, |s| s.parse().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let key = ClusterKey::load_or_create(&dir.join("cluster.key")).unwrap();
    let mut g = Group {
        dir,
        mantad: std::env::var("MANTAD").expect("MANTAD: the mantad binary"),
        urls: (1..=3)
            .map(|i| (i, format!("http://127.0.0.1:{}", port())))
            .collect(),
        procs: BTreeMap::new(),
        key,
        // Low, so the leader snapshots and purges while the follower is
        // down and the follower catches up by snapshot.
        snapshot_every: std::env::var("SNAPSHOT_EVERY")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(200),
    };
    for id in 1..=3 {
        g.spawn(id).await;
    }
    g.leader().await;
    let client = g.client();

    // Failover: 8 writers, kill -9 the leader, time to the next ack.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (c, stop, acks) = (client.clone(), stop.clone(), acks.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let k = EntryKey::new(Keyspace::Objects, "/failover", format!("{w}-{i}"));
                if c.put(k, serde_json::json!(i), Condition::Absent)
                    .await
                    .is_ok()
                {
                    acks.lock().unwrap().push(Instant::now());
                } else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let leader = g.leader().await;
    let killed = Instant::now();
    g.kill(leader.id).await;
    let resumed = loop {
        if let Some(t) = acks.lock().unwrap().iter().find(|t| **t > killed) {
            break *t;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "{{\"failover_pause_ms\":{},\"killed\":{}}}",
        (resumed - killed).as_millis(),
        leader.id
    );
    g.spawn(leader.id).await;

    // Catch-up: a follower down while META_MIB of metadata is written
    // (1 KiB values, 64 per request, 16 writers), then brought back.
    let f = {
        let l = g.leader().await;
        *l.voters.keys().find(|id| **id != l.id).unwrap()
    };
    g.kill(f).await;
    let value = serde_json::Value::String("x".repeat(1000));
    let total = meta_mib * 1024;
    let started = Instant::now();
    let per = total / 16;
    let mut tasks = Vec::new();
    for w in 0..16u64 {
        let (c, value) = (client.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while i < per {
                let ops = (i..(i + 64).min(per))
                    .map(|j| Op::Put {
                        key: EntryKey::new(
                            Keyspace::Objects,
                            format!("/bulk/{w}"),
                            format!("{j:08}"),
                        ),
                        value: value.clone(),
                        cond: Condition::None,
                    })
                    .collect();
                c.apply(ops).await.unwrap();
                i += 64;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let load_s = started.elapsed().as_secs_f64();
    let want = g.leader().await.last_applied.unwrap_or(0);
    let back = Instant::now();
    g.spawn(f).await;
    let st = loop {
        if let Some(s) = g.statuses().await.get(&f) {
            if s.last_applied.unwrap_or(0) >= want {
                break s.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "{{\"metadata_mib\":{meta_mib},\"entries\":{total},\"load_s\":{load_s:.1},\"catch_up_s\":{:.1},\"by_snapshot\":{}}}",
        back.elapsed().as_secs_f64(),
        st.snapshot.is_some()
    );
}
