//! Replicated metadata (docs/metadata.md): a shard as a Raft group of
//! three `mantad metadata` processes. Kill -9 of the leader under a load of
//! writes, a follower catching up by log and by snapshot, a lost disk
//! replaced online with `mantad admin shards move`, a linearizability
//! check of conditional writes across leader kills, and a leader
//! partitioned away (network namespaces).

mod group;
mod linearizable;

use group::{key, names, Group, MANTAD};
use linearizable::{Event, Op};
use metadata_tier::wire::{Condition, EntryKey};
use metadata_tier::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Writers putting fresh names into `dir` until stopped: the names
/// acknowledged, and when each was.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(String, Instant)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(client: &metadata_tier::MetadataClient, dir: &str, writers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..writers)
            .map(|w| {
                let (client, stop, acked) = (client.clone(), stop.clone(), acked.clone());
                let dir = dir.to_string();
                tokio::spawn(async move {
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("w{w}-{i:06}");
                        i += 1;
                        let r = client
                            .put(
                                key(&dir, &name),
                                serde_json::json!({"i": i}),
                                Condition::Absent,
                            )
                            .await;
                        match r {
                            Ok(_) => acked.lock().unwrap().push((name, Instant::now())),
                            // A fresh name's Absent never fails: a write
                            // retried after it had applied would.
                            Err(e) => {
                                assert!(e.is_retryable(), "write {name}: {e}");
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        Load { stop, acked, tasks }
    }

    fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    async fn finish(self) -> Vec<(String, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

async fn put_many(client: &metadata_tier::MetadataClient, dir: &str, from: usize, n: usize) {
    for i in from..from + n {
        client
            .put(
                key(dir, &format!("k{i:06}")),
                serde_json::json!(i),
                Condition::None,
            )
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leader_kill_under_load_loses_no_acknowledged_write() {
    let mut g = Group::start(3, 20_000).await;
    let client = g.client();
    let load = Load::start(&client, "/load", 8);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = load.count();
    assert!(before > 0, "no write acknowledged before the kill");
    let leader = g.leader().await;
    let killed = Instant::now();
    g.kill(leader.id).await;
    // Writes resume on a new leader.
    let deadline = killed + Duration::from_secs(20);
    let resumed = loop {
        let after = load
            .acked
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| *t)
            .find(|t| *t > killed + Duration::from_millis(1));
        if let Some(t) = after {
            break t;
        }
        assert!(Instant::now() < deadline, "writes did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let acked = load.finish().await;
    let pause = resumed - killed;
    println!(
        "failover pause after kill -9 of the leader: {} ms ({} writes acknowledged)",
        pause.as_millis(),
        acked.len()
    );
    let new_leader = g.leader().await;
    assert_ne!(new_leader.id, leader.id);
    // Every acknowledged write is there.
    let stored = names(&client, "/load").await;
    let missing: Vec<_> = acked.iter().filter(|(n, _)| !stored.contains(n)).collect();
    assert!(missing.is_empty(), "lost acknowledged writes: {missing:?}");
    // The killed replica comes back and catches up by log.
    g.spawn(leader.id, false).await;
    let st = g.wait_caught_up(leader.id).await;
    assert_eq!(st.state, "Follower");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_catches_up_by_log_then_by_snapshot() {
    // Snapshots every 100 entries, keeping 25 of log behind them.
    let mut g = Group::start(3, 100).await;
    let client = g.client();
    put_many(&client, "/cu", 0, 20).await;
    let f = g.follower().await;

    // Down for a few writes: the log still has them.
    g.kill(f).await;
    put_many(&client, "/cu", 20, 10).await;
    g.spawn(f, false).await;
    let st = g.wait_caught_up(f).await;
    assert_eq!(st.snapshot, None, "caught up by log, no snapshot sent");

    // Down for many: the leader snapshots and purges what it would need.
    g.kill(f).await;
    put_many(&client, "/cu", 30, 400).await;
    let leader = g.leader().await;
    assert!(
        leader.purged.is_some(),
        "the leader purged its log: {leader:?}"
    );
    g.spawn(f, false).await;
    let st = g.wait_caught_up(f).await;
    assert!(
        st.snapshot.is_some(),
        "the follower was sent a snapshot: {st:?}"
    );

    // Its copy is whole: with the leader gone it may lead, and everything
    // is still there whichever replica does.
    g.kill(leader.id).await;
    let all = names(&client, "/cu").await;
    assert_eq!(all.len(), 430);
    put_many(&client, "/cu", 430, 5).await;
    assert_eq!(names(&client, "/cu").await.len(), 435);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_disk_is_replaced_online() {
    let mut g = Group::start(3, 20_000).await;
    let client = g.client();
    put_many(&client, "/disk", 0, 50).await;
    let lost = g.follower().await;
    g.kill(lost).await;
    std::fs::remove_dir_all(g.data(lost)).unwrap();

    // The replacement: a new id (a replica never votes twice under one id)
    // on a fresh disk, moved in by the operator's command while writes go on.
    let new_id = 4;
    let url = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    g.urls.insert(new_id, url.clone());
    g.spawn(new_id, false).await;
    let load = Load::start(&client, "/disk-load", 2);
    let front = g.path("frontend.toml");
    std::fs::write(
        &front,
        format!(
            "listen = \"127.0.0.1:0\"\nmetadata_shards = [{:?}]\ncluster_secret_file = {:?}\n",
            g.urls
                .iter()
                .filter(|(id, _)| **id != lost)
                .map(|(_, u)| u.clone())
                .collect::<Vec<_>>()
                .join(","),
            g.path("cluster.key")
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(MANTAD)
        .args(["admin", "--config"])
        .arg(&front)
        .args([
            "shards",
            "move",
            "0",
            &lost.to_string(),
            &new_id.to_string(),
            &url,
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "shards move: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let acked = load.finish().await;
    let leader = g.leader().await;
    let voters: Vec<u64> = leader.voters.keys().copied().collect();
    assert!(
        voters.contains(&new_id) && !voters.contains(&lost),
        "{leader:?}"
    );
    g.wait_caught_up(new_id).await;

    // The status command shows the group.
    let out = tokio::process::Command::new(MANTAD)
        .args(["admin", "--config"])
        .arg(&front)
        .args(["shards"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("leader"), "{text}");
    assert!(text.contains(&url), "{text}");

    // The new replica holds everything: with the old leader gone, it and
    // the other survivor are the quorum.
    g.kill(leader.id).await;
    assert_eq!(names(&client, "/disk").await.len(), 50);
    let stored = names(&client, "/disk-load").await;
    assert!(acked.iter().all(|(n, _)| stored.contains(n)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conditional_writes_stay_linearizable_across_leader_kills() {
    let mut g = Group::start(3, 20_000).await;
    let client = g.client();
    let reg: EntryKey = key("/lin", "register");
    let first = client
        .put(reg.clone(), serde_json::json!(0), Condition::None)
        .await
        .unwrap();
    let origin = Instant::now();
    let now = move || origin.elapsed().as_nanos();
    let history = Arc::new(Mutex::new(Vec::<Event>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4u64 {
        let (client, history, stop, reg) =
            (client.clone(), history.clone(), stop.clone(), reg.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let call = now();
                let Ok(Some(cur)) = client.get(&reg).await else {
                    continue;
                };
                let value = cur.value.as_u64().unwrap();
                history.lock().unwrap().push(Event {
                    op: Op::Read {
                        value,
                        etag: cur.etag.clone(),
                    },
                    call,
                    ret: Some(now()),
                });
                let new = (w + 1) * 1_000_000 + n;
                let call = now();
                let r = client
                    .put(
                        reg.clone(),
                        serde_json::json!(new),
                        Condition::EtagMatches(cur.etag.clone()),
                    )
                    .await;
                let (op, ret) = match r {
                    Ok(e) => (
                        Op::CasOk {
                            expected: cur.etag,
                            value: new,
                            etag: e.etag,
                        },
                        Some(now()),
                    ),
                    Err(Error::ConditionFailed { .. }) => {
                        (Op::CasFailed { expected: cur.etag }, Some(now()))
                    }
                    Err(_) => (
                        Op::CasUnknown {
                            expected: cur.etag,
                            value: new,
                        },
                        None,
                    ),
                };
                history.lock().unwrap().push(Event { op, call, ret });
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let leader = g.leader().await;
        g.kill(leader.id).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        g.spawn(leader.id, false).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let history = Arc::try_unwrap(history).unwrap().into_inner().unwrap();
    let oks = history
        .iter()
        .filter(|e| matches!(e.op, Op::CasOk { .. }))
        .count();
    assert!(oks > 20, "too few writes to judge: {oks}");
    let n = history.len();
    let etag = first.etag.clone();
    // The search recurses once per operation: give it a deep stack.
    let ok = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || linearizable::check(&history, 0, &etag))
        .unwrap()
        .join()
        .unwrap();
    println!("checked {n} operations ({oks} successful compare-and-sets)");
    assert!(ok, "the history of {n} operations is not linearizable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partitioned_leader_stops_accepting_writes() {
    let g = Group::start_in(super::multihost::netns::Lab::new(), 3).await;
    let client = g.client();
    put_many(&client, "/part", 0, 5).await;
    let old = g.leader().await;
    let others: Vec<u64> = g.urls.keys().copied().filter(|id| *id != old.id).collect();
    // Cut the leader off from the other replicas, not from us.
    let ns = g.lab().ns(&format!("r{}", old.id));
    let peers: Vec<String> = others
        .iter()
        .map(|id| g.lab().addr(10 + *id as u8).to_string())
        .collect();
    let rules = format!(
        "add table inet cut\n\
         add chain inet cut in {{ type filter hook input priority 0; }}\n\
         add chain inet cut out {{ type filter hook output priority 0; }}\n\
         add rule inet cut in ip saddr {{ {0} }} drop\n\
         add rule inet cut out ip daddr {{ {0} }} drop\n",
        peers.join(", ")
    );
    nft(&ns, &rules);

    // The old leader, asked directly, acknowledges nothing and answers no
    // read it cannot vouch for.
    let direct = direct_client(&g, old.id);
    let w = tokio::time::timeout(
        Duration::from_secs(30),
        direct.put(
            key("/part", "minority"),
            serde_json::json!(1),
            Condition::None,
        ),
    )
    .await;
    assert!(!matches!(w, Ok(Ok(_))), "the minority acknowledged a write");
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        direct.get(&key("/part", "k000000")),
    )
    .await;
    assert!(
        !matches!(r, Ok(Ok(_))),
        "the minority answered a read: {r:?}"
    );

    // The majority elects a leader and takes writes.
    let majority = g.client_of(&others);
    majority
        .put(
            key("/part", "majority"),
            serde_json::json!(2),
            Condition::None,
        )
        .await
        .unwrap();

    // Healed, the old leader follows; its unacknowledged write is gone.
    nft(&ns, "delete table inet cut\n");
    let everyone = g.client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = g.statuses().await;
        if st.get(&old.id).is_some_and(|s| s.state == "Follower") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old leader did not rejoin: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(everyone
        .get(&key("/part", "minority"))
        .await
        .unwrap()
        .is_none());
    assert!(everyone
        .get(&key("/part", "majority"))
        .await
        .unwrap()
        .is_some());
    assert_eq!(names(&everyone, "/part").await.len(), 6);
}

/// A client that knows only replica `id` and never leaves it.
fn direct_client(g: &Group, id: u64) -> metadata_tier::MetadataClient {
    // One URL in the ring: redirects name replicas we cannot reach from
    // the minority's point of view only if they are the leader; calls
    // that follow one are fine for the assertions (no acknowledgement
    // from the minority).
    g.client_of(&[id])
}

fn nft(ns: &str, rules: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rules.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "nft {rules}");
}
