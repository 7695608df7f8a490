//! Starting the roles in this process: one function per role (used by
//! `mantad metadata|storage|frontend`) and [`Cluster`], all of them together
//! (`mantad dev` and the integration tests' harness). The public listeners
//! (Manta, S3) speak TLS when given a certificate ([`ReloadingCert`]),
//! with optional plain-HTTP listeners beside them (docs/tls.md); internal
//! ones speak plain HTTP under the cluster secret.

use crate::state::{AppState, Settings};
use anyhow::Context;
use metadata_tier::net::tls::{ReloadingCert, TlsAcceptor};
use metadata_tier::net::{ClusterKey, Limits};
use metadata_tier::raft::{GroupConfig, Timing};
use metadata_tier::{MetadataClient, Ring, Shard};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use storage_node::heartbeat::{self, HeartbeatConfig};
use storage_node::scrub::ScrubSettings;
use storage_node::BlobStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running role: its address, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// A role at `addr` with nothing running: the place of one being
    /// restarted.
    fn stopped(addr: SocketAddr) -> Running {
        Running {
            addr,
            cancel: CancellationToken::new(),
            tasks: Vec::new(),
        }
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), then
    /// returns.
    pub async fn stop(self) {
        self.cancel.cancel();
        for t in self.tasks {
            if tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .is_err()
            {
                tracing::warn!(addr = %self.addr, "role did not stop within 10s");
            }
        }
    }
}

fn spawn_server<F>(name: &'static str, fut: F) -> JoinHandle<()>
where
    F: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            tracing::error!(role = name, error = %e, "server failed");
        }
    })
}

/// Opens an unreplicated shard's RocksDB under `data` and serves it.
///
/// # Errors
/// Opening the database or binding the address.
pub async fn start_shard(
    listen: SocketAddr,
    data: &Path,
    key: ClusterKey,
    limits: Limits,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind metadata shard to {listen}"))?;
    serve_replica(listener, data, GroupConfig::single(), key, limits).await
}

/// Opens this replica of a shard's Raft group under `data` and serves it
/// on `listener`.
///
/// # Errors
/// Opening the database.
pub async fn serve_replica(
    listener: TcpListener,
    data: &Path,
    group: GroupConfig,
    key: ClusterKey,
    limits: Limits,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let shard = Shard::open_replica(data, group, key.clone())
        .await
        .with_context(|| format!("open shard {}", data.display()))?;
    let cancel = CancellationToken::new();
    let stop = cancel.clone().cancelled_owned();
    let task = spawn_server(
        "metadata",
        metadata_tier::server::serve(listener, shard, key, limits, stop),
    );
    Ok(Running {
        addr,
        cancel,
        tasks: vec![task],
    })
}

/// Starts shard `index` of a cluster in this process: one replica, or a
/// Raft group of `replicas` on listeners of their own (`mantad dev`). A
/// new group is created by its first replica on the first start.
///
/// # Errors
/// Binding or opening any replica.
pub async fn start_shard_group(
    dir: &Path,
    replicas: usize,
    key: ClusterKey,
    limits: Limits,
) -> anyhow::Result<(String, Vec<Running>)> {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    // A shard made before replication holds its database in `dir` itself:
    // it keeps running, unreplicated, rather than start empty beside it.
    let legacy = dir.join("CURRENT").exists();
    if legacy && replicas > 1 {
        tracing::warn!(dir = %dir.display(), "shard predates replication: serving it unreplicated");
    }
    if replicas <= 1 || legacy {
        let r = start_shard(any, dir, key, limits).await?;
        return Ok((format!("http://{}", r.addr), vec![r]));
    }
    let mut listeners = Vec::new();
    for i in 0..replicas {
        // Replicas keep their ports across restarts of the same data
        // directory: the group's membership names them.
        let port_file = dir.join(format!("replica-{}", i + 1)).join("port");
        let port = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(0);
        let listener = match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
            Ok(l) => l,
            Err(_) => TcpListener::bind(any).await?,
        };
        listeners.push(listener);
    }
    let mut peers = std::collections::BTreeMap::new();
    for (i, l) in listeners.iter().enumerate() {
        peers.insert(i as u64 + 1, format!("http://{}", l.local_addr()?));
    }
    let mut running = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let id = i as u64 + 1;
        let data = dir.join(format!("replica-{id}"));
        std::fs::create_dir_all(&data)?;
        std::fs::write(data.join("port"), listener.local_addr()?.port().to_string())?;
        let group = GroupConfig {
            id,
            advertise: peers[&id].clone(),
            peers: peers.clone(),
            bootstrap: id == 1,
            timing: Timing::default(),
        };
        running.push(serve_replica(listener, &data, group, key.clone(), limits).await?);
    }
    let spec = peers.values().cloned().collect::<Vec<_>>().join(",");
    Ok((spec, running))
}

/// Serves `/metrics` (the whole process's registry) on `listen`: an admin
/// listener apart from the data ports, for Prometheus to scrape. It asks
/// for no credentials, so bind it to loopback or a private network.
///
/// # Errors
/// Binding the address.
pub async fn start_admin(listen: SocketAddr) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind admin listener to {listen}"))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let task = spawn_server(
        "admin",
        metadata_tier::net::serve(
            "admin",
            listener,
            metadata_tier::net::metrics::admin_router(),
            Limits::default(),
            cancel.clone().cancelled_owned(),
        ),
    );
    Ok(Running {
        addr,
        cancel,
        tasks: vec![task],
    })
}

/// A storage node to start.
pub struct StorageRole {
    pub id: String,
    pub listen: SocketAddr,
    pub advertise: Option<String>,
    pub data: PathBuf,
    pub heartbeat: Duration,
    /// The job agent beside the blob store; `None` runs no job tasks.
    pub agent: Option<AgentRole>,
    pub limits: Limits,
    /// The scrubber's pace (rate 0: none).
    pub scrub: ScrubSettings,
}

/// How a node's job agent runs tasks: the jobs crate's validated settings
/// (`jobs_runtime`, `job_slots`), under the name the harnesses use.
pub use jobs::agent::AgentSettings as AgentRole;

/// Opens the blob store, serves it, scrubs it and heartbeats to the
/// registry.
///
/// # Errors
/// Opening the store or binding the address.
pub async fn start_storage(role: StorageRole, meta: MetadataClient) -> anyhow::Result<Running> {
    let store = BlobStore::open(&role.data)
        .await
        .with_context(|| format!("open blob store {}", role.data.display()))?;
    let listener = TcpListener::bind(role.listen)
        .await
        .with_context(|| format!("bind storage node to {}", role.listen))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let mut routes = storage_node::server::router(store.clone(), role.id.clone());
    if let Some(a) = role.agent {
        let agent = jobs::agent::Agent::start(jobs::agent::AgentConfig {
            node_id: role.id.clone(),
            store: store.clone(),
            work_dir: role.data.join("jobs"),
            runtime: a.runtime,
            slots: a.slots,
            cluster_key: meta.cluster_key().clone(),
            limits: a.limits,
            api: a.api,
        })
        .await
        .with_context(|| format!("start the job agent of {}", role.id))?;
        routes = routes.merge(agent.router());
    }
    let server = spawn_server(
        "storage",
        storage_node::server::serve_router(
            listener,
            routes,
            meta.cluster_key().clone(),
            role.limits,
            cancel.clone().cancelled_owned(),
        ),
    );
    let cfg = HeartbeatConfig {
        node_id: role.id,
        addr: role.advertise.unwrap_or_else(|| format!("http://{addr}")),
        interval: role.heartbeat,
    };
    let scrub = tokio::spawn(storage_node::scrub::run(
        store.clone(),
        role.scrub,
        cancel.clone(),
    ));
    let beat = tokio::spawn(heartbeat::run(meta, store, cfg, cancel.clone()));
    Ok(Running {
        addr,
        cancel,
        tasks: vec![server, scrub, beat],
    })
}

/// Serves the Manta API, in TLS when `tls` is given.
///
/// # Errors
/// Binding the address.
pub async fn start_frontend(
    listen: SocketAddr,
    state: AppState,
    tls: Option<TlsAcceptor>,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind frontend to {listen}"))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    // Tasks' toolboxes and mlogin sessions reach the API here, through
    // their node's agent: in TLS when the API speaks it (the agent
    // verifies the certificate: `job_api_ca_file`), so a task credential
    // never crosses the network in the clear. A node whose agent cannot
    // use this address (another host, with `listen` a wildcard; a
    // certificate that does not name it) says where it reaches the API
    // instead (`job_api_url`, docs/jobs.md).
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    state.jobs.set_api_url(format!("{scheme}://{host}"));
    let jobs = tokio::spawn(supervise(state.clone(), cancel.clone()));
    let upkeep = tokio::spawn(crate::maintain::run(
        state.store.clone(),
        state.settings.maintenance.clone(),
        cancel.clone(),
    ));
    let task = spawn_server(
        "frontend",
        crate::manta::serve(listener, state, tls, cancel.clone().cancelled_owned()),
    );
    Ok(Running {
        addr,
        cancel,
        tasks: vec![task, jobs, upkeep],
    })
}

/// Runs the job supervisor with the frontend: picks up the jobs a previous
/// one left running (retrying while the metadata tier is unreachable), and
/// stops every job's actor when the frontend stops.
async fn supervise(state: AppState, cancel: CancellationToken) {
    let recover = async {
        loop {
            match state.jobs.recover(crate::jobs::namespace(&state)).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "recovering running jobs; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    };
    tokio::select! {
        () = recover => cancel.cancelled().await,
        () = cancel.cancelled() => {}
    }
    state.jobs.shutdown();
}

/// Which API a plain listener beside a TLS one serves.
#[derive(Debug, Clone)]
pub enum PlainApi {
    Manta,
    S3(crate::s3::S3Config),
}

/// Serves an API in plain HTTP beside its TLS listener: only what needs
/// no TLS (`/public` reads and signed URLs; docs/tls.md).
///
/// # Errors
/// Binding the address.
pub async fn start_plain(
    listen: SocketAddr,
    state: AppState,
    api: PlainApi,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind plain HTTP listener to {listen}"))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let stop = cancel.clone().cancelled_owned();
    let task = match api {
        PlainApi::Manta => spawn_server(
            "manta-plain",
            crate::manta::serve_plain(listener, state, stop),
        ),
        PlainApi::S3(cfg) => {
            let st = crate::s3::S3State::new(state, cfg);
            spawn_server(
                "s3-plain",
                crate::s3::server::serve_plain(listener, st, stop),
            )
        }
    };
    Ok(Running {
        addr,
        cancel,
        tasks: vec![task],
    })
}

/// Serves the S3 API, in TLS when `tls` is given.
///
/// # Errors
/// Binding the address.
pub async fn start_s3(
    listen: SocketAddr,
    state: AppState,
    cfg: crate::s3::S3Config,
    tls: Option<TlsAcceptor>,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind S3 API to {listen}"))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let st = crate::s3::S3State::new(state, cfg);
    let task = spawn_server(
        "s3",
        crate::s3::server::serve(listener, st, tls, cancel.clone().cancelled_owned()),
    );
    Ok(Running {
        addr,
        cancel,
        tasks: vec![task],
    })
}

/// What [`Cluster::start`] starts.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub data: PathBuf,
    pub shards: usize,
    /// Replicas of each shard's Raft group (1: unreplicated).
    pub shard_replicas: usize,
    pub storage_nodes: usize,
    pub frontend_listen: SocketAddr,
    /// The S3 API's address; `None` serves no S3 API.
    pub s3_listen: Option<SocketAddr>,
    pub s3: crate::s3::S3Config,
    pub heartbeat_interval: Duration,
    pub settings: Settings,
    pub accounts: Vec<String>,
    /// Each storage node's job agent.
    pub agent: Option<AgentRole>,
    /// The cluster secret; `None` keeps one in `<data>/secrets/cluster.key`
    /// (made on first start).
    pub cluster_key: Option<ClusterKey>,
    /// The certificate of the Manta and S3 listeners; `None` serves them
    /// in plain HTTP.
    pub tls: Option<Arc<ReloadingCert>>,
    /// Plain HTTP beside the TLS Manta listener (with `tls` only).
    pub plain_listen: Option<SocketAddr>,
    /// Plain HTTP beside the TLS S3 listener (with `tls` only).
    pub s3_plain_listen: Option<SocketAddr>,
    /// Every storage node's scrubber (tests speed it up).
    pub scrub: ScrubSettings,
}

impl ClusterOptions {
    /// `mantad dev`'s defaults: 2 shards of 3 replicas, 3 storage nodes, frontend on
    /// 127.0.0.1:8080, account `dev`.
    pub fn dev(data: PathBuf) -> Self {
        ClusterOptions {
            data,
            shards: 2,
            shard_replicas: 3,
            storage_nodes: 3,
            frontend_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            s3_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9000))),
            s3: crate::s3::S3Config::default(),
            heartbeat_interval: Duration::from_secs(2),
            settings: Settings::default(),
            accounts: vec!["dev".into()],
            agent: Some(AgentRole::default()),
            cluster_key: None,
            tls: None,
            plain_listen: None,
            s3_plain_listen: None,
            scrub: ScrubSettings::default(),
        }
    }
}

/// A whole cluster in this process.
pub struct Cluster {
    pub url: String,
    pub meta: MetadataClient,
    pub state: AppState,
    opts: ClusterOptions,
    shards: Vec<Running>,
    nodes: Vec<Option<Running>>,
    node_addrs: Vec<SocketAddr>,
    frontend: Running,
    /// `http(s)://<addr>` of the S3 API, when served.
    pub s3_url: Option<String>,
    s3: Option<Running>,
    /// `http://<addr>` of the plain listeners beside TLS ones, when served.
    pub plain_url: Option<String>,
    pub s3_plain_url: Option<String>,
    plain: Vec<(PlainApi, Running)>,
}

impl Cluster {
    /// Starts shards, then storage nodes, then the frontend; waits until
    /// every node has heartbeated once, and creates the accounts.
    ///
    /// # Errors
    /// Any role failing to start.
    pub async fn start(opts: ClusterOptions) -> anyhow::Result<Cluster> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let key = match &opts.cluster_key {
            Some(k) => k.clone(),
            None => {
                let path = cluster_key_path(&opts.data);
                ClusterKey::load_or_create(&path)
                    .with_context(|| format!("cluster secret {}", path.display()))?
            }
        };
        let mut shards = Vec::new();
        let mut urls = Vec::new();
        for i in 0..opts.shards {
            let dir = opts.data.join("metadata").join(format!("shard-{i}"));
            let limits = opts.settings.listener_limits;
            let (spec, replicas) =
                start_shard_group(&dir, opts.shard_replicas, key.clone(), limits).await?;
            urls.push(spec);
            shards.extend(replicas);
        }
        let ring = Ring::new(urls, metadata_tier::ring::DEFAULT_VNODES);
        let meta = MetadataClient::new(ring, key);
        let mut nodes = Vec::new();
        let mut node_addrs = Vec::new();
        for i in 0..opts.storage_nodes {
            let running = start_storage(storage_role(&opts, i, any)?, meta.clone()).await?;
            node_addrs.push(running.addr);
            nodes.push(Some(running));
        }
        let state = AppState::new(meta.clone(), opts.settings.clone());
        let tls = acceptor(&opts)?;
        let frontend = start_frontend(opts.frontend_listen, state.clone(), tls.clone()).await?;
        let s3 = match opts.s3_listen {
            Some(listen) => {
                Some(start_s3(listen, state.clone(), opts.s3.clone(), tls.clone()).await?)
            }
            None => None,
        };
        let mut plain = Vec::new();
        for (listen, api) in [
            (opts.plain_listen, PlainApi::Manta),
            (opts.s3_plain_listen, PlainApi::S3(opts.s3.clone())),
        ] {
            if let Some(listen) = listen {
                let running = start_plain(listen, state.clone(), api.clone()).await?;
                plain.push((api, running));
            }
        }
        for login in &opts.accounts {
            state
                .accounts
                .ensure(login)
                .await
                .with_context(|| format!("create account {login}"))?;
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let plain_url = |manta: bool| {
            plain
                .iter()
                .find(|(api, _)| matches!(api, PlainApi::Manta) == manta)
                .map(|(_, r)| format!("http://{}", r.addr))
        };
        let cluster = Cluster {
            url: format!("{scheme}://{}", frontend.addr),
            meta,
            state,
            shards,
            nodes,
            node_addrs,
            frontend,
            s3_url: s3.as_ref().map(|r| format!("{scheme}://{}", r.addr)),
            s3,
            plain_url: plain_url(true),
            s3_plain_url: plain_url(false),
            plain,
            opts,
        };
        cluster.wait_for_nodes(cluster.opts.storage_nodes).await?;
        Ok(cluster)
    }

    /// Waits until `n` nodes are live in the registry.
    ///
    /// # Errors
    /// After 30 s.
    pub(crate) async fn wait_for_nodes(&self, n: usize) -> anyhow::Result<()> {
        let timeout = self.opts.settings.heartbeat_timeout;
        for _ in 0..300 {
            if let Ok(live) = self.meta.live_nodes(timeout).await {
                if live.len() >= n {
                    self.state.store.placement().invalidate().await;
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("storage nodes did not register within 30s")
    }

    pub fn node_ids(&self) -> Vec<String> {
        (0..self.opts.storage_nodes).map(dev_node_id).collect()
    }

    /// The shards as a config file's `metadata_shards` value.
    pub fn shards_toml(&self) -> String {
        let shards: Vec<String> = self
            .meta
            .ring()
            .shards()
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        format!("[{}]", shards.join(", "))
    }

    pub fn data_dir(&self) -> &Path {
        &self.opts.data
    }

    /// Where the Manta API listens.
    pub fn frontend_addr(&self) -> SocketAddr {
        self.frontend.addr
    }

    /// The certificate of the public listeners, when they speak TLS (to
    /// reload it).
    pub fn tls(&self) -> Option<&Arc<ReloadingCert>> {
        self.opts.tls.as_ref()
    }

    /// Stops storage node `i` (its server and heartbeat).
    pub async fn stop_node(&mut self, i: usize) {
        if let Some(n) = self.nodes.get_mut(i).and_then(Option::take) {
            n.stop().await;
        }
    }

    /// Starts storage node `i` again on its old address and data.
    ///
    /// # Errors
    /// Reopening the store or rebinding the address.
    pub async fn restart_node(&mut self, i: usize) -> anyhow::Result<()> {
        self.stop_node(i).await;
        let addr = *self.node_addrs.get(i).context("no such node")?;
        let running = start_storage(storage_role(&self.opts, i, addr)?, self.meta.clone()).await?;
        if let Some(slot) = self.nodes.get_mut(i) {
            *slot = Some(running);
        }
        Ok(())
    }

    /// Restarts the frontend (and so the job supervisor) on its address
    /// with fresh state: running jobs are picked up from the metadata tier.
    ///
    /// # Errors
    /// Rebinding the address.
    pub async fn restart_frontend(&mut self) -> anyhow::Result<()> {
        let addr = self.frontend.addr;
        std::mem::replace(&mut self.frontend, Running::stopped(addr))
            .stop()
            .await;
        self.state = AppState::new(self.meta.clone(), self.opts.settings.clone());
        let tls = acceptor(&self.opts)?;
        self.frontend = start_frontend(addr, self.state.clone(), tls).await?;
        for (api, running) in &mut self.plain {
            let addr = running.addr;
            std::mem::replace(running, Running::stopped(addr))
                .stop()
                .await;
            *running = start_plain(addr, self.state.clone(), api.clone()).await?;
        }
        Ok(())
    }

    /// Tells every role to stop, without waiting (for a drop, where
    /// nothing can be awaited: the test kit's cluster).
    pub fn cancel(&self) {
        let nodes = self.nodes.iter().flatten();
        let plain = self.plain.iter().map(|(_, r)| r);
        let fronts = std::iter::once(&self.frontend).chain(&self.s3).chain(plain);
        for r in fronts.chain(nodes).chain(&self.shards) {
            r.cancel.cancel();
        }
    }

    /// Stops the frontend, then the storage nodes, then the shards (the
    /// order requests flow, so nothing in flight loses its next tier).
    pub async fn shutdown(self) {
        for (_, p) in self.plain {
            p.stop().await;
        }
        if let Some(s3) = self.s3 {
            s3.stop().await;
        }
        self.frontend.stop().await;
        for n in self.nodes.into_iter().flatten() {
            n.stop().await;
        }
        for s in self.shards {
            s.stop().await;
        }
    }
}

/// The TLS acceptor of the public listeners, if they speak TLS.
fn acceptor(opts: &ClusterOptions) -> anyhow::Result<Option<TlsAcceptor>> {
    if opts.tls.is_none() && (opts.plain_listen.is_some() || opts.s3_plain_listen.is_some()) {
        anyhow::bail!("a plain HTTP listener beside the APIs needs TLS on them");
    }
    let tls = opts.tls.as_ref().map(|c| c.acceptor()).transpose();
    tls.context("TLS settings")
}

/// Where a cluster in this process keeps its secret, under its data dir
/// (`mantad dev` and the files it writes for other commands name it).
pub fn cluster_key_path(data: &Path) -> PathBuf {
    data.join("secrets").join("cluster.key")
}

fn dev_node_id(i: usize) -> String {
    format!("stor-{}", i + 1)
}

fn storage_role(
    opts: &ClusterOptions,
    i: usize,
    listen: SocketAddr,
) -> anyhow::Result<StorageRole> {
    let data = opts.data.join("storage").join(dev_node_id(i));
    std::fs::create_dir_all(&data).with_context(|| format!("create {}", data.display()))?;
    Ok(StorageRole {
        id: dev_node_id(i),
        listen,
        advertise: None,
        data,
        heartbeat: opts.heartbeat_interval,
        agent: opts.agent.clone(),
        limits: opts.settings.listener_limits,
        scrub: opts.scrub,
    })
}

/// Gives `login` an Ed25519 key pair kept in `dir` as `id_ed25519` and
/// `id_ed25519.pub` (the names node-manta looks for in `~/.ssh`), made on
/// first use, and registers its public half with the account.
///
/// # Errors
/// I/O errors; the account missing; metadata errors.
pub(crate) async fn ensure_key(
    accounts: &crate::accounts::Accounts,
    login: &str,
    dir: &Path,
) -> anyhow::Result<client_sdk::Signer> {
    let private = dir.join("id_ed25519");
    if !private.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let (sk, pk) = crate::auth::keys::generate_ed25519(&format!("{login}@mantad"))?;
        crate::auth::secrets::write_private(&private, sk.as_bytes())?;
        let public = dir.join("id_ed25519.pub");
        std::fs::write(&public, format!("{pk}\n"))
            .with_context(|| format!("write {}", public.display()))?;
    }
    let text =
        std::fs::read_to_string(&private).with_context(|| format!("read {}", private.display()))?;
    let signer = client_sdk::Signer::from_openssh(&text)
        .with_context(|| format!("load {}", private.display()))?;
    accounts
        .add_ssh_key(login, &signer.public_openssh()?)
        .await
        .with_context(|| format!("add key to {login}"))?;
    Ok(signer)
}
