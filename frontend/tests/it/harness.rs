//! `TestCluster`: a whole cluster in this process on port-0 listeners and a
//! temp dir, with a real HTTP client whose requests are signed (HTTP
//! Signature, Ed25519) as the test accounts; stop and restart a storage node.

#![allow(dead_code)]

use client_sdk::Signer;
use frontend::cluster::{ensure_key, Cluster, ClusterOptions};
use reqwest::{Method, RequestBuilder, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

pub const USER: &str = "tester";
/// Nodes beat every 200 ms; a loaded 2-core CI machine can delay beats by
/// seconds, so a node counts as dead only after this.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(4);

pub struct TestCluster {
    pub cluster: Cluster,
    pub http: reqwest::Client,
    /// Signers of the test accounts ([`USER`] and `other`), by login.
    pub signers: HashMap<String, Signer>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    pub async fn start() -> TestCluster {
        Self::start_with(3, |_| {}).await
    }

    pub async fn start_with(nodes: usize, tweak: impl FnOnce(&mut ClusterOptions)) -> TestCluster {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ClusterOptions::dev(dir.path().to_path_buf());
        opts.frontend_listen = SocketAddr::from(([127, 0, 0, 1], 0));
        opts.s3_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        opts.settings.s3_secrets = Some(frontend::auth::secrets::SecretBox::new(rand::random()));
        opts.storage_nodes = nodes;
        opts.heartbeat_interval = Duration::from_millis(200);
        opts.settings.heartbeat_timeout = HEARTBEAT_TIMEOUT;
        opts.accounts = vec![USER.into(), "other".into()];
        // Job tests run their tasks under runc unless they ask for runsc:
        // the same code path, a fraction of the start-up time.
        opts.agent = Some(frontend::cluster::AgentRole {
            runtime: jobs::runtime::RuntimeKind::Runc,
            slots: 8,
        });
        tweak(&mut opts);
        let logins = opts.accounts.clone();
        let cluster = Cluster::start(opts).await.unwrap();
        let mut signers = HashMap::new();
        for login in logins {
            let keys = dir.path().join("keys").join(&login);
            let s = ensure_key(&cluster.state.accounts, &login, &keys)
                .await
                .unwrap();
            signers.insert(login, s);
        }
        TestCluster {
            cluster,
            http: reqwest::Client::new(),
            signers,
            _dir: dir,
        }
    }

    /// Where the key pair of `login` lives (`id_ed25519`, `.pub`).
    pub fn key_dir(&self, login: &str) -> std::path::PathBuf {
        self._dir.path().join("keys").join(login)
    }

    /// URL of a path relative to the test account, e.g. `stor/a`.
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{USER}/{rel}", self.cluster.url)
    }

    /// A request to a path of the test account, signed as the test account.
    pub fn req(&self, method: Method, rel: &str) -> RequestBuilder {
        self.at(method, &self.url(rel))
    }

    /// A request to any URL, signed as the test account.
    pub fn at(&self, method: Method, url: &str) -> RequestBuilder {
        self.as_user(USER, method, url)
    }

    /// A request to any URL, signed as `login`.
    pub fn as_user(&self, login: &str, method: Method, url: &str) -> RequestBuilder {
        let s = &self.signers[login];
        let (date, auth) = s.headers_now(&s.key_id(login, None)).unwrap();
        self.http
            .request(method, url)
            .header("date", date)
            .header("authorization", auth)
    }

    /// An unsigned request.
    pub fn anon(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// `Date` and `Authorization` header lines (CRLF-terminated) for a raw
    /// HTTP request as the test account.
    pub fn auth_lines(&self) -> String {
        let s = &self.signers[USER];
        let (date, auth) = s.headers_now(&s.key_id(USER, None)).unwrap();
        format!("Date: {date}\r\nAuthorization: {auth}\r\n")
    }

    pub async fn put(&self, rel: &str, body: impl Into<reqwest::Body>) -> Response {
        self.req(Method::PUT, rel).body(body).send().await.unwrap()
    }

    pub async fn get(&self, rel: &str) -> Response {
        self.req(Method::GET, rel).send().await.unwrap()
    }

    pub async fn mkdir(&self, rel: &str) -> Response {
        self.req(Method::PUT, rel)
            .header("content-type", "application/json; type=directory")
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, rel: &str) -> Response {
        self.req(Method::DELETE, rel).send().await.unwrap()
    }

    /// Waits until exactly `n` storage nodes are live for placement.
    pub async fn wait_live(&self, n: usize) {
        for _ in 0..300 {
            let live = self
                .cluster
                .meta
                .live_nodes(HEARTBEAT_TIMEOUT)
                .await
                .unwrap();
            if live.len() == n {
                self.cluster.state.placement.invalidate().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("live node count never reached {n}");
    }
}

/// Asserts a Manta error response: status and JSON `code`.
pub async fn assert_error(resp: Response, status: u16, code: &str) {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "status for {code}: body {text}");
    assert_eq!(ct.as_deref(), Some("application/json"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], code, "{text}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
}

pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Files under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            // A storage node's `jobs/` is the job agent's (images, task
            // state), not the blob store's.
            if p.file_name().is_some_and(|n| n == "jobs") {
                continue;
            }
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
