//! The roles on separate hosts: one metadata shard, three storage nodes and
//! a frontend, each a `mantad` process in a network namespace of its own on
//! a bridge, every config naming the namespace's address (never loopback).
//! The clients (node-manta, the aws CLI, `mantad account`, raw signed
//! requests) run in the test's own namespace and reach them through the
//! bridge, as from another machine. Then one storage host drops off the
//! network mid-load and the cluster keeps serving. Needs root (`ip netns`).
//! `tls_jobs.rs`: a job's toolbox across hosts with the API in TLS.

pub(crate) mod netns;
mod tls_jobs;

use frontend::testkit::{bytes, files_under, md5_fp, TestSigner, USER};
use netns::Lab;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::process::{Child, Command};

const MANTAD: &str = env!("CARGO_BIN_EXE_mantad");
/// The frontend's `heartbeat_timeout`: a node silent this long gets no new
/// copies (the test kit's CI-tolerant value).
const HEARTBEAT_TIMEOUT: Duration = frontend::testkit::HEARTBEAT_TIMEOUT;
/// How long one client request may take before the test calls it hung.
const REQUEST_LIMIT: Duration = Duration::from_secs(90);
const STORAGE: [(&str, u8); 3] = [("stor0", 21), ("stor1", 22), ("stor2", 23)];

/// The running roles, their files, and the hosts they run on. Dropped in
/// field order: processes, then namespaces, then files.
struct MultiHost {
    procs: HashMap<String, Child>,
    lab: Lab,
    meta: Ipv4Addr,
    front: Ipv4Addr,
    signer: TestSigner,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl MultiHost {
    async fn start() -> MultiHost {
        let dir = tempfile::tempdir().unwrap();
        for key in ["cluster.key", "s3.key"] {
            std::fs::write(
                dir.path().join(key),
                hex::encode(rand::random::<[u8; 32]>()),
            )
            .unwrap();
        }
        let mut lab = Lab::new();
        let meta = lab.add_host("meta", 10);
        let front = lab.add_host("front", 30);
        let mut c = MultiHost {
            procs: HashMap::new(),
            lab,
            meta,
            front,
            signer: placeholder_signer(dir.path()),
            http: reqwest::Client::new(),
            dir,
        };
        c.spawn("meta", "metadata", &c.meta_config()).await;
        c.wait_port("meta", SocketAddr::from((meta, 7100))).await;
        for (name, host) in STORAGE {
            let addr = c.lab.add_host(name, host);
            let cfg = c.storage_config(name, addr);
            c.spawn(name, "storage", &cfg).await;
        }
        c.spawn("front", "frontend", &c.front_config()).await;
        c.wait_port("front", SocketAddr::from((front, 8080))).await;
        c.signer = c.add_user_key().await;
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn common(&self) -> String {
        format!(
            "cluster_secret_file = {:?}\n",
            self.path("cluster.key").display().to_string()
        )
    }

    fn meta_config(&self) -> String {
        let m = self.meta;
        let data = self.path("meta-data").display().to_string();
        format!(
            "listen = \"{m}:7100\"\nadmin_listen = \"{m}:9102\"\ndata = {data:?}\n{}",
            self.common()
        )
    }

    fn storage_config(&self, name: &str, addr: Ipv4Addr) -> String {
        let data = self.path(&format!("{name}-data")).display().to_string();
        format!(
            "id = \"{name}\"\nlisten = \"{addr}:7200\"\ndata = {data:?}\n\
             metadata_shards = [\"http://{}:7100\"]\nheartbeat_interval = \"200ms\"\n\
             jobs_runtime = \"off\"\n{}",
            self.meta,
            self.common()
        )
    }

    fn front_config(&self) -> String {
        let f = self.front;
        format!(
            "listen = \"{f}:8080\"\ns3_listen = \"{f}:9000\"\nadmin_listen = \"{f}:9102\"\n\
             metadata_shards = [\"http://{}:7100\"]\naccounts = [\"{USER}\"]\n\
             heartbeat_timeout = \"{}s\"\ns3_key_file = {:?}\n{}",
            self.meta,
            HEARTBEAT_TIMEOUT.as_secs(),
            self.path("s3.key").display().to_string(),
            self.common()
        )
    }

    /// Starts `mantad ROLE --config` in host `name`, logging to
    /// `<name>.log`.
    async fn spawn(&mut self, name: &str, role: &str, config: &str) {
        let cfg = self.path(&format!("{name}.toml"));
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(self.path(&format!("{name}.log"))).unwrap();
        let child = self
            .lab
            .command(name, Path::new(MANTAD))
            .args([role, "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.procs.insert(name.to_string(), child);
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.log"))).unwrap_or_default()
    }

    /// Waits until `addr` (in host `name`) accepts connections from here.
    async fn wait_port(&mut self, name: &str, addr: SocketAddr) {
        for _ in 0..600 {
            let connect = tokio::net::TcpStream::connect(addr);
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), connect).await {
                return;
            }
            let child = self.procs.get_mut(name).unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{name} exited ({status}):\n{}", self.log(name));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} never listened on {addr}:\n{}", self.log(name));
    }

    /// `mantad ARGS` run here with the frontend's config, as an operator
    /// on another machine would; returns stdout.
    async fn mantad(&self, args: &[&str]) -> String {
        let out = Command::new(MANTAD)
            .args(args)
            .arg("--config")
            .arg(self.path("front.toml"))
            .env("RUST_LOG", "warn")
            .output()
            .await
            .unwrap();
        ok(&format!("mantad {args:?}"), &out)
    }

    /// Gives the account made by the frontend's `accounts` an Ed25519 key
    /// in `home/.ssh`, with `mantad account add-key`.
    async fn add_user_key(&self) -> TestSigner {
        let ssh = self.path("home/.ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let key = ssh.join("id_ed25519");
        write_ed25519(&key);
        let public = ssh.join("id_ed25519.pub").display().to_string();
        self.mantad(&["account", "add-key", USER, &public]).await;
        TestSigner::load(USER, &key)
    }

    /// The registry as `mantad nodes` prints it: (id, address, heartbeat
    /// age in ms) per node.
    async fn nodes(&self) -> Vec<(String, String, u64)> {
        let out = self.mantad(&["nodes"]).await;
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let age = v["heartbeat_age_ms"].as_u64().unwrap();
                let id = v["node"]["id"].as_str().unwrap().to_string();
                (id, v["node"]["addr"].as_str().unwrap().to_string(), age)
            })
            .collect()
    }

    /// Waits until the registry shows `live` fresh nodes, and (with
    /// `dead`) that node's heartbeat older than the frontend's timeout.
    async fn wait_registry(&self, live: usize, dead: Option<&str>) {
        let fresh = |age: u64| age < 1000;
        for _ in 0..300 {
            let nodes = self.nodes().await;
            let n = nodes.iter().filter(|(_, _, age)| fresh(*age)).count();
            let gone = dead.is_none_or(|d| {
                nodes.iter().any(|(id, _, age)| {
                    id == d && *age > HEARTBEAT_TIMEOUT.as_millis() as u64 + 1000
                })
            });
            if n == live && gone {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "registry never showed {live} live, {dead:?} dead: {:?}",
            self.nodes().await
        );
    }

    /// Makes directory `stor/NAME`.
    async fn mkdir(&self, name: &str) {
        let (date, auth) = self.signer.headers_now().unwrap();
        let r = self
            .http
            .put(self.object_url(name))
            .header("date", date)
            .header("authorization", auth)
            .header("content-type", "application/json; type=directory")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "mkdir {name}");
    }

    /// The status of a signed HEAD of `stor/NAME`.
    async fn status(&self, name: &str) -> u16 {
        let (date, auth) = self.signer.headers_now().unwrap();
        let r = self
            .http
            .head(self.object_url(name))
            .header("date", date)
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    /// No role logged an ERROR, but the frontend about the node `lost`.
    fn assert_no_errors_but(&self, lost: &str) {
        for name in self.procs.keys().filter(|n| *n != lost) {
            let log = self.log(name);
            let errors: Vec<&str> = log
                .lines()
                .filter(|l| l.contains(" ERROR "))
                .filter(|l| !(name == "front" && l.contains(&format!("storage node {lost} "))))
                .collect();
            assert!(errors.is_empty(), "{name} logged errors: {errors:#?}");
        }
    }

    fn manta_url(&self) -> String {
        format!("http://{}:8080", self.front)
    }

    fn object_url(&self, name: &str) -> String {
        format!("{}/{USER}/stor/{name}", self.manta_url())
    }

    /// A signed PUT of `data`; the status, or the transport error.
    async fn put(&self, name: &str, data: Vec<u8>) -> Result<u16, String> {
        let (date, auth) = self.signer.headers_now().unwrap();
        let req = self
            .http
            .put(self.object_url(name))
            .header("date", date)
            .header("authorization", auth)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send();
        match tokio::time::timeout(REQUEST_LIMIT, req).await {
            Err(_) => Err(format!("PUT {name} hung")),
            Ok(Err(e)) => Err(format!("PUT {name}: {e}")),
            Ok(Ok(r)) => Ok(r.status().as_u16()),
        }
    }

    /// A signed GET: checks 200, two copies recorded, the exact bytes.
    async fn check(&self, name: &str, want: &[u8]) -> Result<(), String> {
        let get = async {
            let (date, auth) = self.signer.headers_now().unwrap();
            let r = self
                .http
                .get(self.object_url(name))
                .header("date", date)
                .header("authorization", auth)
                .send()
                .await
                .map_err(|e| format!("GET {name}: {e}"))?;
            let status = r.status();
            let copies = r.headers().get("durability-level").cloned();
            let body = r
                .bytes()
                .await
                .map_err(|e| format!("GET {name} body: {e}"))?;
            if status != 200 || copies.as_ref().is_none_or(|c| c != "2") || body != want {
                return Err(format!(
                    "GET {name}: {status}, copies {copies:?}, {} of {} bytes right",
                    body.len(),
                    want.len()
                ));
            }
            Ok(())
        };
        tokio::time::timeout(REQUEST_LIMIT, get)
            .await
            .unwrap_or_else(|_| Err(format!("GET {name} hung")))
    }
}

impl Drop for MultiHost {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in self.procs.keys() {
                let log = self.log(name);
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- {name}.log (last lines)");
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
    }
}

/// A signer for the few steps before the account has a key.
fn placeholder_signer(dir: &Path) -> TestSigner {
    let key = dir.join("placeholder");
    write_ed25519(&key);
    TestSigner::load(USER, &key)
}

fn write_ed25519(path: &Path) {
    let (private, public) = frontend::auth::keys::generate_ed25519("tester@multihost").unwrap();
    frontend::auth::secrets::write_private(path, private.as_bytes()).unwrap();
    std::fs::write(path.with_extension("pub"), format!("{public}\n")).unwrap();
}

/// Asserts `out` succeeded, showing its output otherwise; returns stdout.
fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `program` here with only `env` (and PATH), two minutes at most.
async fn client(program: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{} {args:?} timed out", program.display()))
        .unwrap()
}

async fn node_manta(c: &MultiHost) {
    let bin = crate::auth_node_manta::node_bin();
    let pub_key = c.path("home/.ssh/id_ed25519.pub");
    let env: Vec<(String, String)> = [
        ("HOME", c.path("home").display().to_string()),
        ("MANTA_URL", c.manta_url()),
        ("MANTA_USER", USER.to_string()),
        ("MANTA_KEY_ID", md5_fp(&pub_key)),
        ("MANTA_LOG_LEVEL", "fatal".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let file = c.path("nm.bin");
    let data = bytes(3 << 20, 11);
    std::fs::write(&file, &data).unwrap();
    let run = |cmd: &'static str, args: Vec<String>| {
        let (bin, env) = (bin.join(cmd), env.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = client(&bin, &args, &env).await;
            ok(cmd, &out);
            out
        }
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    run("mmkdir", s(&["-p", "~~/stor/nm"])).await;
    let f = file.display().to_string();
    run("mput", s(&["-f", &f, "~~/stor/nm/a.bin"])).await;
    let got = run("mget", s(&["~~/stor/nm/a.bin"])).await;
    assert!(got.stdout == data, "mget returned other bytes");
    let ls = run("mls", s(&["~~/stor/nm"])).await;
    assert_eq!(String::from_utf8_lossy(&ls.stdout), "a.bin\n");
}

async fn aws_cli(c: &MultiHost) {
    let created = c.mantad(&["account", "s3-key", "create", USER]).await;
    let var = |name: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {created}"))
            .to_string()
    };
    let cfg = c.path("aws.cfg");
    std::fs::write(
        &cfg,
        "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n",
    )
    .unwrap();
    let env: Vec<(String, String)> = [
        ("AWS_ACCESS_KEY_ID", var("AWS_ACCESS_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", var("AWS_SECRET_ACCESS_KEY")),
        ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
        ("AWS_CONFIG_FILE", cfg.display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ("NO_PROXY", "*".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let endpoint = format!("http://{}:9000", c.front);
    let up = c.path("up.bin");
    let down = c.path("down.bin");
    // Above the CLI's 8 MiB threshold: a multipart upload.
    let data = bytes(20 << 20, 12);
    std::fs::write(&up, &data).unwrap();
    let (up, down) = (up.display().to_string(), down.display().to_string());
    for args in [
        vec!["s3", "mb", "s3://multihost"],
        vec!["s3", "cp", &up, "s3://multihost/big.bin"],
        vec!["s3", "cp", "s3://multihost/big.bin", &down],
    ] {
        let mut all = vec!["--endpoint-url", endpoint.as_str()];
        all.extend(args.iter().copied());
        ok("aws", &client(Path::new("aws"), &all, &env).await);
    }
    assert!(
        std::fs::read(&down).unwrap() == data,
        "aws s3 cp down: other bytes"
    );
}

/// What the load did while a node went away.
#[derive(Default)]
struct LoadLog {
    /// Objects acknowledged (204), with their bytes.
    written: Vec<(String, Vec<u8>)>,
    /// Writes that failed while placement still counted the lost node:
    /// allowed, as long as nothing half-written shows.
    failed_early: Vec<String>,
    /// Writes that failed once the registry showed the node dead, and
    /// reads of acknowledged objects that failed at any time: none allowed.
    failed: Vec<String>,
}

/// Writes new objects and reads older ones, one after the other, until
/// `stop`; `done` counts the rounds.
async fn load(
    c: &MultiHost,
    before: &[(String, Vec<u8>)],
    noticed: &AtomicBool,
    stop: &AtomicBool,
    done: &AtomicUsize,
) -> LoadLog {
    let mut log = LoadLog::default();
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let name = format!("load/{i}");
        let data = bytes(100_000 + (i as usize % 7) * 30_000, 1000 + i);
        let late = noticed.load(Ordering::SeqCst);
        match c.put(&name, data.clone()).await {
            Ok(204) => log.written.push((name, data)),
            other if late => log.failed.push(format!("{name}: {other:?}")),
            other => log.failed_early.push(format!("{name}: {other:?}")),
        }
        let (old, want) = &before[i as usize % before.len()];
        if let Err(e) = c.check(old, want).await {
            log.failed.push(e);
        }
        i += 1;
        done.fetch_add(1, Ordering::SeqCst);
    }
    log
}

/// Waits until `done` has counted `n` more rounds than now.
async fn rounds(done: &AtomicUsize, n: usize) {
    let target = done.load(Ordering::SeqCst) + n;
    while done.load(Ordering::SeqCst) < target {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_on_separate_hosts_survive_losing_one() {
    let c = MultiHost::start().await;
    c.wait_registry(3, None).await;
    // Every node registered the address it listens on, not loopback.
    let mut addrs: Vec<String> = c.nodes().await.into_iter().map(|(_, a, _)| a).collect();
    addrs.sort();
    let want: Vec<String> = STORAGE
        .iter()
        .map(|(_, h)| format!("http://{}:7200", c.lab.addr(*h)))
        .collect();
    assert_eq!(addrs, want);

    node_manta(&c).await;
    aws_cli(&c).await;

    c.mkdir("mh").await;
    c.mkdir("load").await;
    let mut before = Vec::new();
    for i in 0..16 {
        let name = format!("mh/pre{i}");
        let data = bytes(200_000, 500 + i);
        assert_eq!(c.put(&name, data.clone()).await, Ok(204), "{name}");
        before.push((name, data));
    }

    // stor1 holds copies, so reads below must fail over.
    assert!(!files_under(&c.path("stor1-data/blobs")).is_empty());

    // Mid-load, stor1's machine "dies": its cable first (packets to it
    // vanish), then its process and namespace.
    let (noticed, stop, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicUsize::new(0),
    );
    let (log, ()) = tokio::join!(load(&c, &before, &noticed, &stop, &done), async {
        rounds(&done, 5).await;
        c.lab.unplug("stor1", 22);
        c.lab.remove_host("stor1");
        c.wait_registry(2, Some("stor1")).await;
        noticed.store(true, Ordering::SeqCst);
        rounds(&done, 10).await;
        stop.store(true, Ordering::SeqCst);
    });
    eprintln!(
        "load: {} written, {} failed before the registry showed stor1 dead: {:?}",
        log.written.len(),
        log.failed_early.len(),
        log.failed_early
    );
    assert!(log.failed.is_empty(), "{:?}", log.failed);

    // Everything acknowledged, before or during the loss, reads back whole
    // from the copies left; new writes find two live nodes.
    for (name, data) in before.iter().chain(&log.written) {
        c.check(name, data).await.unwrap();
    }
    // A write that failed left nothing behind: no name without its bytes.
    for failed in &log.failed_early {
        let name = failed.split(':').next().unwrap();
        assert_eq!(c.status(name).await, 404, "{failed}");
    }
    for i in 0..8 {
        let name = format!("mh/post{i}");
        let data = bytes(150_000, 900 + i);
        assert_eq!(c.put(&name, data.clone()).await, Ok(204), "{name}");
        c.check(&name, &data).await.unwrap();
    }
    c.assert_no_errors_but("stor1");
}
