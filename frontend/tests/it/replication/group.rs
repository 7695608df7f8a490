//! [`Group`]: one shard's Raft group as real `mantad metadata` processes,
//! on loopback ports or (for partitions) each in a network namespace.

use super::super::multihost::netns::Lab;
use metadata_tier::net::ClusterKey;
use metadata_tier::raft::routes::ReplicaStatus;
use metadata_tier::wire::{EntryKey, Keyspace, ListOptions};
use metadata_tier::{MetadataClient, Ring};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const MANTAD: &str = env!("CARGO_BIN_EXE_mantad");

pub struct Group {
    dir: tempfile::TempDir,
    key_file: PathBuf,
    pub key: ClusterKey,
    pub urls: BTreeMap<u64, String>,
    procs: BTreeMap<u64, Child>,
    snapshot_every: u64,
    lab: Option<Lab>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Group {
    /// Starts `n` replicas on loopback (replica 1 bootstraps the group)
    /// and waits for a leader.
    pub async fn start(n: u64, snapshot_every: u64) -> Group {
        let urls = (1..=n)
            .map(|id| (id, format!("http://127.0.0.1:{}", free_port())))
            .collect();
        Self::launch(urls, snapshot_every, None).await
    }

    /// As [`Group::start`], each replica in a namespace of `lab`, host
    /// `r<id>` at `.10 + id`.
    pub async fn start_in(mut lab: Lab, n: u64) -> Group {
        let mut urls = BTreeMap::new();
        for id in 1..=n {
            let addr = lab.add_host(&format!("r{id}"), 10 + id as u8);
            urls.insert(id, format!("http://{addr}:7100"));
        }
        Self::launch(urls, 20_000, Some(lab)).await
    }

    async fn launch(urls: BTreeMap<u64, String>, snapshot_every: u64, lab: Option<Lab>) -> Group {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("cluster.key");
        let key = ClusterKey::load_or_create(&key_file).unwrap();
        let mut g = Group {
            dir,
            key_file,
            key,
            urls,
            procs: BTreeMap::new(),
            snapshot_every,
            lab,
        };
        let ids: Vec<u64> = g.urls.keys().copied().collect();
        for id in ids {
            g.spawn(id, id == 1).await;
        }
        g.leader().await;
        g
    }

    pub fn lab(&self) -> &Lab {
        self.lab.as_ref().unwrap()
    }

    pub fn data(&self, id: u64) -> PathBuf {
        self.dir.path().join(format!("r{id}"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self, id: u64, bootstrap: bool) -> String {
        let url = &self.urls[&id];
        let listen = url.trim_start_matches("http://");
        let peers: String = self
            .urls
            .iter()
            .map(|(i, u)| format!("\"{i}\" = {u:?}\n"))
            .collect();
        format!(
            "listen = {listen:?}\ndata = {:?}\ncluster_secret_file = {:?}\nreplica_id = {id}\n\
             bootstrap = {bootstrap}\nsnapshot_every = {}\n[peers]\n{peers}",
            self.data(id),
            self.key_file,
            self.snapshot_every
        )
    }

    /// Starts replica `id` (its config written afresh) and waits until it
    /// accepts connections.
    pub async fn spawn(&mut self, id: u64, bootstrap: bool) {
        let cfg = self.path(&format!("r{id}.toml"));
        std::fs::write(&cfg, self.config(id, bootstrap)).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(&format!("r{id}.log")))
            .unwrap();
        let mut cmd = match &self.lab {
            Some(lab) => lab.command(&format!("r{id}"), Path::new(MANTAD)),
            None => Command::new(MANTAD),
        };
        let child = cmd
            .args(["metadata", "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "info,openraft=warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.procs.insert(id, child);
        let addr = self.urls[&id].trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "replica {id} did not listen: {}",
                self.log(id)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// kill -9.
    pub async fn kill(&mut self, id: u64) {
        let mut child = self.procs.remove(&id).unwrap();
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }

    pub fn log(&self, id: u64) -> String {
        std::fs::read_to_string(self.path(&format!("r{id}.log"))).unwrap_or_default()
    }

    /// A client naming every replica this group has had.
    pub fn client(&self) -> MetadataClient {
        self.client_of(&self.urls.keys().copied().collect::<Vec<_>>())
    }

    /// A client that knows only replicas `ids` (it still follows
    /// redirects to others).
    pub fn client_of(&self, ids: &[u64]) -> MetadataClient {
        let spec = ids
            .iter()
            .map(|i| self.urls[i].clone())
            .collect::<Vec<_>>()
            .join(",");
        MetadataClient::new(Ring::new(vec![spec], 1024), self.key.clone())
    }

    /// Each answering replica's status, by id.
    pub async fn statuses(&self) -> BTreeMap<u64, ReplicaStatus> {
        self.client()
            .shard_status(0)
            .await
            .into_iter()
            .filter_map(|(_, s)| s.ok())
            .map(|s| (s.id, s))
            .collect()
    }

    /// The replica that leads, once one does (and is not deposed: the
    /// highest term's leader).
    pub async fn leader(&self) -> ReplicaStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let all = self.statuses().await;
            let top = all.values().map(|s| s.term).max().unwrap_or(0);
            if let Some(l) = all.values().find(|s| s.state == "Leader" && s.term == top) {
                return l.clone();
            }
            assert!(Instant::now() < deadline, "no leader: {all:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A voter that does not lead.
    pub async fn follower(&self) -> u64 {
        let leader = self.leader().await;
        *leader.voters.keys().find(|id| **id != leader.id).unwrap()
    }

    /// Waits until replica `id` has applied everything the leader had
    /// applied when this was called.
    pub async fn wait_caught_up(&self, id: u64) -> ReplicaStatus {
        let want = self.leader().await.last_applied.unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.statuses().await.get(&id) {
                if s.last_applied.unwrap_or(0) >= want {
                    return s.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "replica {id} did not catch up to {want}: {:?}\n{}",
                self.statuses().await,
                self.log(id)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Every name in directory `dir` of the objects keyspace.
pub async fn names(client: &MetadataClient, dir: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut marker = None;
    loop {
        let opts = ListOptions {
            marker: marker.clone(),
            limit: 5_000,
            ..ListOptions::default()
        };
        let page = client.list(Keyspace::Objects, dir, &opts).await.unwrap();
        let last = page.entries.last().map(|e| e.name.clone());
        out.extend(page.entries.into_iter().map(|e| e.name));
        match last {
            Some(l) => marker = Some(l),
            None => return out,
        }
    }
}

pub fn key(dir: &str, name: &str) -> EntryKey {
    EntryKey::new(Keyspace::Objects, dir, name)
}
