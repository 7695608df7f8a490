//! [`TestCluster`]: the whole store in this process, the accounts the tests
//! act as, and the clients they act with.

use super::signer::{sdk_config, TestSigner};
use super::{ssh, HEARTBEAT_TIMEOUT, OTHER, USER};
use crate::cluster::{AgentRole, Cluster, ClusterOptions};
use metadata_tier::net::tls::ReloadingCert;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What [`TestCluster::start_with`] starts: the cluster's options (reached
/// through `Deref`, so a tweak reads `o.settings.x = ..`) and what the kit
/// adds around them.
pub struct Options {
    pub cluster: ClusterOptions,
    /// Key kinds (`rsa`, `ecdsa`, `ed25519`) ssh-keygen makes in
    /// [`TestCluster::ssh_dir`] and registers with [`USER`], beside the
    /// `id_ed25519` every cluster has there. Empty by default: an RSA key
    /// takes half a second to make.
    pub home_keys: Vec<&'static str>,
    /// Serve the Manta and S3 APIs in HTTPS, with a certificate from a
    /// dev CA in the kit's temp dir ([`TestCluster::tls_dir`]); the kit's
    /// clients trust that CA. Off by default.
    pub tls: bool,
}

impl std::ops::Deref for Options {
    type Target = ClusterOptions;
    fn deref(&self) -> &ClusterOptions {
        &self.cluster
    }
}

impl std::ops::DerefMut for Options {
    fn deref_mut(&mut self) -> &mut ClusterOptions {
        &mut self.cluster
    }
}

/// An S3 access key pair.
#[derive(Debug, Clone)]
pub struct S3Key {
    pub access_key_id: String,
    pub secret: String,
}

/// A running cluster and the test accounts' credentials; stops its roles
/// and deletes its files when dropped.
pub struct TestCluster {
    pub cluster: Cluster,
    /// Plain HTTP client for raw requests ([`TestCluster::req`] signs them).
    pub http: reqwest::Client,
    /// The SDK, signed as [`USER`] with `id_ed25519` of [`Self::home`].
    pub client: client_sdk::Client,
    /// Signers of the test accounts ([`USER`] and [`OTHER`]), by login.
    pub signers: HashMap<String, TestSigner>,
    /// S3 keys of the test accounts, by login.
    pub s3_keys: HashMap<String, S3Key>,
    /// HOME of commands run with [`TestCluster::run_with`]: `.ssh` holds
    /// [`USER`]'s keys.
    pub home: PathBuf,
    /// MD5 fingerprint of [`USER`]'s `id_ed25519` (`MANTA_KEY_ID`).
    pub key_id: String,
    /// The dev CA's certificate when the cluster speaks TLS.
    pub ca_file: Option<PathBuf>,
    /// Everything lives here: `data/` (the cluster), `keys/<login>/`,
    /// `home/`, `local/`, `tls/`.
    pub dir: tempfile::TempDir,
}

impl TestCluster {
    /// Three storage nodes, the kit's defaults.
    pub async fn start() -> TestCluster {
        Self::start_with(3, |_| {}).await
    }

    /// `nodes` storage nodes; `tweak` changes the options before start.
    pub async fn start_with(nodes: usize, tweak: impl FnOnce(&mut Options)) -> TestCluster {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = Options {
            cluster: defaults(dir.path().join("data"), nodes),
            home_keys: Vec::new(),
            tls: false,
        };
        tweak(&mut opts);
        let Options {
            mut cluster,
            home_keys,
            tls,
        } = opts;
        let ca_file = tls.then(|| {
            let tls = crate::dev_ca::ensure(&dir.path().join("tls"), &[]).unwrap();
            cluster.tls = Some(ReloadingCert::load(tls.files).unwrap());
            // The agents verify the API as the kit's clients do.
            if let Some(agent) = &mut cluster.agent {
                agent.api.ca_file.get_or_insert_with(|| tls.ca_file.clone());
            }
            tls.ca_file
        });
        let logins = cluster.accounts.clone();
        assert!(logins.iter().any(|l| l == USER), "the kit needs {USER}");
        let cluster = Cluster::start(cluster).await.unwrap();
        let mut signers = HashMap::new();
        let mut s3_keys = HashMap::new();
        for login in logins {
            let key = write_key(&cluster, &login, &dir.path().join("keys").join(&login)).await;
            signers.insert(login.clone(), TestSigner::load(&login, &key));
            s3_keys.insert(login.clone(), s3_key(&cluster, &login).await);
        }
        let home = dir.path().join("home");
        let ssh_dir = home.join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        let user_key = dir.path().join("keys").join(USER).join("id_ed25519");
        for (from, to) in [
            (&user_key, "id_ed25519"),
            (&ssh::pub_path(&user_key), "id_ed25519.pub"),
        ] {
            std::fs::copy(from, ssh_dir.join(to)).unwrap();
        }
        for kind in home_keys {
            let key = ssh::keygen(&ssh_dir, kind);
            let text = std::fs::read_to_string(ssh::pub_path(&key)).unwrap();
            add_key(&cluster, USER, text.trim()).await;
        }
        let key_id = ssh::md5_fp(&ssh_dir.join("id_ed25519.pub"));
        let mut client = sdk_config(&cluster.url);
        client.ca_file = ca_file.clone();
        let client = client_sdk::Client::with_signer(
            client,
            Some(client_sdk::Signer::from_file(&ssh_dir.join("id_ed25519")).unwrap()),
        )
        .unwrap();
        TestCluster {
            client,
            cluster,
            http: client_sdk::tls::client_builder(ca_file.as_deref(), false)
                .unwrap()
                .build()
                .unwrap(),
            ca_file,
            signers,
            s3_keys,
            home,
            key_id,
            dir,
        }
    }

    /// Where the key pair of `login` lives (`id_ed25519`, `.pub`).
    pub fn key_dir(&self, login: &str) -> PathBuf {
        self.dir.path().join("keys").join(login)
    }

    /// Where the dev CA and the server certificate live when the cluster
    /// speaks TLS (`ca.pem`, `server.pem`, ...: [`crate::dev_ca`]).
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.path().join("tls")
    }

    /// `~/.ssh` of [`Self::home`].
    pub fn ssh_dir(&self) -> PathBuf {
        self.home.join(".ssh")
    }

    /// The lines of a frontend config that joins this cluster: its shards
    /// and its secret (a listener on any free port).
    pub fn frontend_config_text(&self) -> String {
        let secret = crate::cluster::cluster_key_path(self.cluster.data_dir());
        format!(
            "listen = \"127.0.0.1:0\"\nmetadata_shards = {}\ncluster_secret_file = {:?}\n",
            self.cluster.shards_toml(),
            secret.to_string_lossy()
        )
    }

    /// [`Self::frontend_config_text`] in a file, for the operator's
    /// commands (`mantad admin|account --config`).
    pub fn operator_config(&self) -> PathBuf {
        let cfg = self.dir.path().join("operator.toml");
        std::fs::write(&cfg, self.frontend_config_text()).unwrap();
        cfg
    }

    /// A scratch path for local files (its parent exists).
    pub fn local(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("local").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }

    /// Asks for a repair and collection pass (the cluster must run them:
    /// `settings.maintenance.interval` set) and waits for its report.
    pub async fn maintenance_pass(&self) -> crate::maintain::report::PassReport {
        let id = self.request_maintenance_pass().await;
        self.wait_maintenance_pass(&id).await
    }

    /// Asks for a pass; the id its report will name.
    pub async fn request_maintenance_pass(&self) -> String {
        crate::maintain::control::request_pass(&self.cluster.meta)
            .await
            .unwrap()
    }

    /// Waits for the report of the pass serving request `id`.
    pub async fn wait_maintenance_pass(&self, id: &str) -> crate::maintain::report::PassReport {
        let start = std::time::Instant::now();
        loop {
            let st = crate::maintain::control::read_status(&self.cluster.meta)
                .await
                .unwrap();
            if let Some(last) = st.last {
                if last.served_request.as_deref() == Some(id) {
                    return last;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(300), "no pass ran");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until exactly `n` storage nodes are live for placement.
    pub async fn wait_live(&self, n: usize) {
        let timeout = self.cluster.state.settings.heartbeat_timeout;
        for _ in 0..300 {
            let live = self.cluster.meta.live_nodes(timeout).await.unwrap();
            if live.len() == n {
                self.cluster.state.store.placement().invalidate().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("live node count never reached {n}");
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // Nothing can be awaited here: tell every role to stop, so no
        // heartbeat or server outlives the temp dir by more than a beat.
        self.cluster.cancel();
    }
}

/// The kit's defaults: every listener on a port-0 loopback address, S3
/// with sealed secrets, fast heartbeats with a CI-tolerant timeout, the
/// two test accounts, job agents on runc.
fn defaults(data: PathBuf, nodes: usize) -> ClusterOptions {
    let mut opts = ClusterOptions::dev(data);
    opts.frontend_listen = SocketAddr::from(([127, 0, 0, 1], 0));
    opts.s3_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    opts.settings.s3_secrets = Some(crate::auth::secrets::SecretBox::new(rand::random()));
    opts.storage_nodes = nodes;
    // Shards are unreplicated unless a test is about replication: the
    // same request path, without three fsyncs per write.
    opts.shard_replicas = 1;
    opts.heartbeat_interval = Duration::from_millis(200);
    opts.settings.heartbeat_timeout = HEARTBEAT_TIMEOUT;
    // A one-node cluster can keep one copy (zero nodes here means the
    // nodes are processes, started later).
    if nodes == 1 {
        opts.settings.default_durability = 1;
    }
    // Repair and collection run only in the tests about them, so no pass
    // moves copies under another test's feet.
    opts.settings.maintenance.interval = None;
    opts.accounts = vec![USER.into(), OTHER.into()];
    // Job tests run their tasks under runc unless they ask for runsc: the
    // same code path, a fraction of the start-up time.
    opts.agent = Some(AgentRole {
        runtime: jobs::runtime::RuntimeKind::Runc,
        slots: 8,
        ..AgentRole::default()
    });
    opts
}

/// Makes an Ed25519 key pair in `dir` (`id_ed25519`, `.pub`: the names
/// node-manta looks for in `~/.ssh`) and registers it with `login`;
/// returns the private key's path.
async fn write_key(cluster: &Cluster, login: &str, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let (private, public) = crate::auth::keys::generate_ed25519(&format!("{login}@test")).unwrap();
    let path = dir.join("id_ed25519");
    crate::auth::secrets::write_private(&path, private.as_bytes()).unwrap();
    std::fs::write(ssh::pub_path(&path), format!("{public}\n")).unwrap();
    add_key(cluster, login, &public).await;
    path
}

async fn add_key(cluster: &Cluster, login: &str, openssh: &str) {
    cluster
        .state
        .accounts
        .add_ssh_key(login, openssh)
        .await
        .unwrap();
}

/// A real S3 key pair when the cluster seals S3 secrets, else the login as
/// access key id.
async fn s3_key(cluster: &Cluster, login: &str) -> S3Key {
    let (access_key_id, secret) = match &cluster.state.settings.s3_secrets {
        Some(sealer) => cluster
            .state
            .accounts
            .create_s3_key(login, sealer)
            .await
            .unwrap(),
        None => (login.to_string(), "unused-secret".to_string()),
    };
    S3Key {
        access_key_id,
        secret,
    }
}
