//! [`ProcessCluster`]: storage nodes as real `mantad storage` processes, so
//! a test can SIGKILL one mid-request; shards, frontend and the test
//! accounts are a [`TestCluster`]'s, in this process.
//!
//! The `mantad` binary is passed in (`env!("CARGO_BIN_EXE_mantad")` in the
//! frontend's tests): cargo tells only the test crate where it built it.

use super::TestCluster;
use std::path::{Path, PathBuf};
use tokio::process::{Child, Command};

/// A [`TestCluster`] with no in-process storage nodes, and `mantad
/// storage` processes `proc-0`, `proc-1`, .. instead; derefs to the
/// [`TestCluster`]. The processes are killed when it is dropped.
pub struct ProcessCluster {
    pub tc: TestCluster,
    pub procs: Vec<Child>,
    mantad: PathBuf,
    /// What each config ends with (the secret and the test's `extra`).
    extra: String,
    log: Option<String>,
    /// The processes' configs and data; after `procs` so they die first.
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for ProcessCluster {
    type Target = TestCluster;
    fn deref(&self) -> &TestCluster {
        &self.tc
    }
}

impl ProcessCluster {
    /// Starts `nodes` storage processes (`extra` appended to each config,
    /// e.g. `jobs_runtime = "off"`) and waits until all are live.
    pub async fn start(mantad: impl Into<PathBuf>, nodes: usize, extra: &str) -> ProcessCluster {
        Self::start_inner(mantad.into(), nodes, extra, None, |_| {}).await
    }

    /// As [`Self::start`], with `tweak` changing the in-process roles'
    /// options (the frontend's settings) before they start.
    pub async fn start_with(
        mantad: impl Into<PathBuf>,
        nodes: usize,
        extra: &str,
        tweak: impl FnOnce(&mut super::cluster::Options),
    ) -> ProcessCluster {
        Self::start_inner(mantad.into(), nodes, extra, None, tweak).await
    }

    /// As [`Self::start`], with each process logging JSON lines at
    /// `filter` (a `RUST_LOG` value) to a file [`Self::log`] reads.
    pub async fn start_logging(
        mantad: impl Into<PathBuf>,
        nodes: usize,
        extra: &str,
        filter: &str,
    ) -> ProcessCluster {
        Self::start_inner(mantad.into(), nodes, extra, Some(filter), |_| {}).await
    }

    /// What process `i` has logged so far (with [`Self::start_logging`]).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self._dir.path().join(format!("proc-{i}.log"))).unwrap_or_default()
    }

    async fn start_inner(
        mantad: PathBuf,
        nodes: usize,
        extra: &str,
        log: Option<&str>,
        tweak: impl FnOnce(&mut super::cluster::Options),
    ) -> ProcessCluster {
        let tc = TestCluster::start_with(0, |o| {
            if nodes == 1 {
                o.settings.default_durability = 1;
            }
            tweak(o);
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let shards = tc.cluster.meta.ring().shards().to_vec();
        let secret = crate::cluster::cluster_key_path(tc.cluster.data_dir());
        let extra = format!(
            "cluster_secret_file = {:?}\n{extra}",
            secret.to_string_lossy()
        );
        let procs = (0..nodes)
            .map(|i| spawn(&mantad, dir.path(), i, &shards, &extra, log))
            .collect();
        tc.wait_live(nodes).await;
        ProcessCluster {
            tc,
            procs,
            mantad,
            extra,
            log: log.map(str::to_string),
            _dir: dir,
        }
    }

    /// Node `i`'s data dir (`blobs/`, `quarantine/`, ...).
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self._dir.path().join(format!("proc-{i}"))
    }

    /// Starts node `i` again on its data after [`Self::kill9`] (the same
    /// id; a new port, which its heartbeat announces).
    pub fn restart(&mut self, i: usize) {
        let shards = self.tc.cluster.meta.ring().shards().to_vec();
        self.procs[i] = spawn(
            &self.mantad,
            self._dir.path(),
            i,
            &shards,
            &self.extra,
            self.log.as_deref(),
        );
    }

    /// SIGKILLs node `i` and reaps it.
    pub async fn kill9(&mut self, i: usize) {
        self.procs[i].start_kill().unwrap();
        self.procs[i].wait().await.unwrap();
    }

    /// SIGKILLs every node still running (without waiting).
    pub fn kill_all(&mut self) {
        for p in &mut self.procs {
            let _ = p.start_kill();
        }
    }
}

/// Starts `mantad storage` number `i` (id `proc-<i>`, data `dir/proc-<i>`)
/// against `shards`; `extra` is appended to its config (it names the
/// cluster's `cluster_secret_file`).
pub fn spawn_node(mantad: &Path, dir: &Path, i: usize, shards: &[String], extra: &str) -> Child {
    spawn(mantad, dir, i, shards, extra, None)
}

fn spawn(
    mantad: &Path,
    dir: &Path,
    i: usize,
    shards: &[String],
    extra: &str,
    log: Option<&str>,
) -> Child {
    let data = dir.join(format!("proc-{i}"));
    let shards: Vec<String> = shards.iter().map(|s| format!("{s:?}")).collect();
    let cfg = format!(
        "id = \"proc-{i}\"\nlisten = \"127.0.0.1:0\"\ndata = {:?}\nmetadata_shards = [{}]\nheartbeat_interval = \"200ms\"\n{extra}\n",
        data.to_string_lossy(),
        shards.join(", ")
    );
    let path = dir.join(format!("proc-{i}.toml"));
    std::fs::write(&path, cfg).unwrap();
    let mut cmd = Command::new(mantad);
    cmd.args(["storage", "--config"])
        .arg(&path)
        .kill_on_drop(true);
    match log {
        None => cmd.env("RUST_LOG", "warn"),
        Some(filter) => {
            let file = std::fs::File::create(dir.join(format!("proc-{i}.log"))).unwrap();
            cmd.env("RUST_LOG", filter)
                .env("MANTAD_LOG_FORMAT", "json")
                .stderr(file)
        }
    };
    cmd.spawn().unwrap()
}
