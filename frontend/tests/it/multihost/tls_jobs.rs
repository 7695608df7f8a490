//! Jobs across hosts with the API in TLS: a metadata host, a storage host
//! whose agent runs tasks under runc, and a frontend host serving HTTPS
//! (a certificate from a CA of the test's, naming the frontend's address)
//! with a plain listener beside it. The agent reaches the frontend over the
//! network in TLS, verified with that CA (`job_api_ca_file`): a map task's
//! `mget` and `mls` work through its toolbox as the job's owner, another
//! account's object is refused. The frontend listens on no loopback port,
//! and its plain listener refuses a task credential sent from another
//! host. Needs root (`ip netns`, `nsenter`), runc and the m* binaries
//! beside mantad.

use super::netns::Lab;
use super::{ok, write_ed25519, MANTAD};
use frontend::testkit::{md5_fp, TestSigner, USER};
use reqwest::Method;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const OTHER: &str = "other";

/// The hosts and processes; dropped processes first, then namespaces.
struct TlsHosts {
    procs: Vec<(String, Child)>,
    lab: Lab,
    front: Ipv4Addr,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl TlsHosts {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn spawn(&mut self, name: &str, role: &str, config: &str) {
        let cfg = self.path(&format!("{name}.toml"));
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(self.path(&format!("{name}.log"))).unwrap();
        // nsenter, not `ip netns exec`: that one remounts /sys in a mount
        // namespace of its own, without the cgroup hierarchies runc needs.
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.lab.ns(name)))
            .arg(MANTAD)
            .args([role, "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.procs.push((name.to_string(), child));
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.log"))).unwrap_or_default()
    }

    async fn wait_port(&self, name: &str, addr: SocketAddr) {
        for _ in 0..600 {
            let connect = tokio::net::TcpStream::connect(addr);
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), connect).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} never listened on {addr}:\n{}", self.log(name));
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}:8443{path}", self.front)
    }

    async fn key(&self, login: &str) -> TestSigner {
        let ssh = self.path(&format!("keys/{login}"));
        std::fs::create_dir_all(&ssh).unwrap();
        let key = ssh.join("id_ed25519");
        write_ed25519(&key);
        let public = key.with_extension("pub");
        let out = Command::new(MANTAD)
            .args(["account", "add-key", login])
            .arg(&public)
            .arg("--config")
            .arg(self.path("front.toml"))
            .env("RUST_LOG", "warn")
            .output()
            .await
            .unwrap();
        ok("mantad account add-key", &out);
        assert!(!md5_fp(&public).is_empty());
        TestSigner::load(login, &key)
    }

    fn signed(&self, who: &TestSigner, method: Method, path: &str) -> reqwest::RequestBuilder {
        let (date, auth) = who.headers_now().unwrap();
        self.http
            .request(method, self.url(path))
            .header("date", date)
            .header("authorization", auth)
    }
}

impl Drop for TlsHosts {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (name, _) in &self.procs {
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

const TASK: &str = r#"set -u
mget /$MANTA_USER/stor/mine
if mget /other/stor/private; then echo LEAKED; else echo refused; fi
mls /$MANTA_USER/stor
"#;

#[tokio::test(flavor = "multi_thread")]
async fn task_toolbox_reaches_a_tls_frontend_on_another_host() {
    crate::task_toolbox::use_built_toolbox();
    let dir = tempfile::tempdir().unwrap();
    let key_hex = hex::encode(rand::random::<[u8; 32]>());
    std::fs::write(dir.path().join("cluster.key"), &key_hex).unwrap();
    let mut lab = Lab::new();
    let meta = lab.add_host("meta", 10);
    let front = lab.add_host("front", 30);
    let stor = lab.add_host("stor0", 21);
    // The cluster's CA, and the frontend's certificate for its address.
    let tls = frontend::dev_ca::ensure(&dir.path().join("tls"), &[front.to_string()]).unwrap();
    let mut c = TlsHosts {
        procs: Vec::new(),
        lab,
        front,
        http: client_sdk::tls::client_builder(Some(&tls.ca_file), false)
            .unwrap()
            .build()
            .unwrap(),
        dir,
    };
    let secret = format!(
        "cluster_secret_file = {:?}\n",
        c.path("cluster.key").display().to_string()
    );
    let root = c.dir.path().to_path_buf();
    let data = |name: &str| root.join(format!("{name}-data")).display().to_string();
    let meta_cfg = format!(
        "listen = \"{meta}:7100\"\ndata = {:?}\n{secret}",
        data("meta")
    );
    c.spawn("meta", "metadata", &meta_cfg).await;
    c.wait_port("meta", SocketAddr::from((meta, 7100))).await;
    let stor_cfg = format!(
        "id = \"stor0\"\nlisten = \"{stor}:7200\"\ndata = {:?}\n\
         metadata_shards = [\"http://{meta}:7100\"]\nheartbeat_interval = \"200ms\"\n\
         jobs_runtime = \"runc\"\njob_slots = 2\njob_api_ca_file = {:?}\n{secret}",
        data("stor0"),
        tls.ca_file.display().to_string(),
    );
    c.spawn("stor0", "storage", &stor_cfg).await;
    let front_cfg = format!(
        "listen = \"{front}:8443\"\nplain_listen = \"{front}:8080\"\n\
         tls_cert_file = {:?}\ntls_key_file = {:?}\n\
         metadata_shards = [\"http://{meta}:7100\"]\naccounts = [\"{USER}\", \"{OTHER}\"]\n\
         default_durability = 1\nheartbeat_timeout = \"{}s\"\n{secret}",
        tls.files.cert.display().to_string(),
        tls.files.key.display().to_string(),
        frontend::testkit::HEARTBEAT_TIMEOUT.as_secs(),
    );
    c.spawn("front", "frontend", &front_cfg).await;
    c.wait_port("front", SocketAddr::from((front, 8443))).await;
    let user = c.key(USER).await;
    let other = c.key(OTHER).await;

    // The node registers, then takes writes.
    let start = Instant::now();
    loop {
        let r = c
            .signed(&user, Method::PUT, &format!("/{USER}/stor/in"))
            .body("input\n")
            .send()
            .await
            .unwrap();
        if r.status() == 204 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no write took: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (who, path, body) in [
        (&user, format!("/{USER}/stor/mine"), "my own words\n"),
        (&other, format!("/{OTHER}/stor/private"), "not yours\n"),
    ] {
        let r = c.signed(who, Method::PUT, &path).body(body).send().await;
        assert_eq!(r.unwrap().status(), 204, "{path}");
    }

    // The job: one map task on stor0, its toolbox through the agent to the
    // frontend's TLS listener across the bridge.
    let job = serde_json::json!({"phases": [{"exec": TASK}]});
    let r = c
        .signed(&user, Method::POST, &format!("/{USER}/jobs"))
        .header("content-type", "application/json; type=job")
        .body(job.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let r = c
        .signed(&user, Method::POST, &format!("{loc}/live/in?end=true"))
        .header("content-type", "text/plain")
        .body(format!("/{USER}/stor/in"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let start = Instant::now();
    loop {
        let r = c
            .signed(&user, Method::GET, &format!("{loc}/live/status"))
            .send()
            .await
            .unwrap();
        let status: serde_json::Value = r.json().await.unwrap();
        if status["state"] == "done" {
            assert_eq!(status["stats"]["errors"], 0, "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "job not done: {status}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let lines = |what: &'static str| {
        let req = c.signed(&user, Method::GET, &format!("{loc}/live/{what}"));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let out = lines("out").await;
    let out_path = out.lines().next().expect("one output").to_string();
    let text = c
        .signed(&user, Method::GET, &out_path)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("my own words"), "{text}");
    assert!(
        text.contains("refused") && !text.contains("LEAKED") && !text.contains("not yours"),
        "{text}"
    );
    assert!(text.contains("mine"), "mls: {text}");

    // The frontend listens on its own address only: no loopback port for
    // tasks, nothing on a wildcard.
    let ss = std::process::Command::new("ip")
        .args(["netns", "exec", &c.lab.ns("front"), "ss", "-ltnH"])
        .output()
        .unwrap();
    let listening = String::from_utf8_lossy(&ss.stdout).to_string();
    let locals: Vec<&str> = listening
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert!(!locals.is_empty(), "{listening}");
    for local in &locals {
        assert!(
            local.starts_with(&format!("{front}:")),
            "the frontend listens on {local}: {listening}"
        );
    }

    // A task credential, even a real one, is refused on the plain listener
    // from another host; the same over TLS is the owner's.
    let key = metadata_tier::net::ClusterKey::from_hex(&key_hex).unwrap();
    let token = jobs::task_token::mint(&key, USER, "j", "t", Duration::from_secs(60));
    let plain = reqwest::Client::new();
    let r = plain
        .get(format!("http://{front}:8080/{USER}/stor/mine"))
        .header(jobs::task_token::HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "SecureTransportRequired", "{body}");
    let r = c
        .http
        .get(c.url(&format!("/{USER}/stor/mine")))
        .header(jobs::task_token::HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
