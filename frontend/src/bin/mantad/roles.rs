//! `mantad metadata|storage|frontend --config F`: one role per process, so
//! the same code spreads over machines. Each role's file is read here and
//! validated by the tier that owns it (`metadata_tier::config`,
//! `storage_node::config` with `jobs::agent::config` flattened in,
//! `frontend::config`); `frontend::cluster` starts the role.

use crate::{load, until_signal};
use anyhow::Context;
use frontend::cluster::{self, PlainApi, StorageRole};
use frontend::config::FrontendConfig;
use frontend::state::AppState;
use jobs::agent::JobsConfig;
use metadata_tier::config::ShardConfig;
use metadata_tier::net::tls::{reload_on_sighup, ReloadingCert};
use metadata_tier::MetadataClient;
use std::path::Path;
use storage_node::config::NodeConfig;
use tokio_util::sync::CancellationToken;

/// A storage role's file: the node's keys and its job agent's, in one
/// table.
type StorageConfig = NodeConfig<JobsConfig>;

/// Runs one metadata shard until a signal.
///
/// # Errors
/// A bad config file, opening the shard, binding its address.
pub async fn metadata(config: &Path) -> anyhow::Result<()> {
    let cfg: ShardConfig = load(config)?;
    let s = cfg.validate().with_context(|| invalid(config))?;
    let limits = metadata_tier::net::Limits::default();
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .with_context(|| format!("bind metadata shard to {}", s.listen))?;
    let running = cluster::serve_replica(listener, &s.data, s.group, s.cluster_key, limits).await?;
    tracing::info!(addr = %running.addr, "metadata shard serving");
    let mut roles = admin(s.admin_listen).await?;
    roles.insert(0, running);
    until_signal(roles).await
}

/// Runs one storage node (with its job agent unless `jobs_runtime = "off"`)
/// until a signal.
///
/// # Errors
/// A bad config file, the node id file, opening the store, binding.
pub async fn storage(config: &Path) -> anyhow::Result<()> {
    let cfg: StorageConfig = load(config)?;
    let node = cfg.validate().with_context(|| invalid(config))?;
    let agent = cfg.extra.validate().with_context(|| invalid(config))?;
    let id = node
        .node_id()
        .with_context(|| format!("node id under {}", node.data.display()))?;
    let role = StorageRole {
        id,
        listen: node.listen,
        advertise: node.advertise,
        data: node.data,
        heartbeat: node.heartbeat,
        agent,
        limits: metadata_tier::net::Limits::default(),
        scrub: node.scrub,
    };
    let meta = MetadataClient::new(node.ring, node.cluster_key);
    let running = cluster::start_storage(role, meta).await?;
    tracing::info!(addr = %running.addr, "storage node serving");
    let mut roles = admin(node.admin_listen).await?;
    roles.insert(0, running);
    until_signal(roles).await
}

/// Runs the frontend (Manta API, S3 API if configured, job supervisor)
/// until a signal; in TLS when configured, its certificate reloaded on
/// SIGHUP.
///
/// # Errors
/// A bad config file or certificate, creating the configured accounts,
/// binding.
pub async fn frontend(config: &Path) -> anyhow::Result<()> {
    let cfg: FrontendConfig = load(config)?;
    let s = cfg.validate().with_context(|| invalid(config))?;
    let cert = s
        .tls
        .clone()
        .map(ReloadingCert::load)
        .transpose()
        .with_context(|| invalid(config))?;
    let tls = cert.as_ref().map(|c| c.acceptor()).transpose()?;
    let state = AppState::new(MetadataClient::new(s.ring, s.cluster_key), s.api);
    for login in &s.accounts {
        state
            .accounts
            .ensure(login)
            .await
            .with_context(|| format!("create account {login}"))?;
    }
    let mut roles = Vec::new();
    let admin_listen = s.admin_listen;
    if let Some(s3_listen) = s.s3_listen {
        let running =
            cluster::start_s3(s3_listen, state.clone(), s.s3.clone(), tls.clone()).await?;
        tracing::info!(addr = %running.addr, tls = tls.is_some(), "S3 API serving");
        roles.push(running);
    }
    for (listen, api) in [
        (s.plain_listen, PlainApi::Manta),
        (s.s3_plain_listen, PlainApi::S3(s.s3)),
    ] {
        if let Some(listen) = listen {
            let running = cluster::start_plain(listen, state.clone(), api).await?;
            tracing::info!(addr = %running.addr, "plain HTTP listener serving");
            roles.push(running);
        }
    }
    let running = cluster::start_frontend(s.listen, state, tls.clone()).await?;
    tracing::info!(addr = %running.addr, tls = tls.is_some(), "frontend serving");
    roles.push(running);
    roles.extend(admin(admin_listen).await?);
    let stop = CancellationToken::new();
    if let Some(cert) = cert {
        reload_on_sighup(vec![cert], stop.clone()).context("install SIGHUP handler")?;
    }
    let r = until_signal(roles).await;
    stop.cancel();
    r
}

/// The role's admin listener (`/metrics`), when its config names one.
async fn admin(listen: Option<std::net::SocketAddr>) -> anyhow::Result<Vec<cluster::Running>> {
    let Some(listen) = listen else {
        return Ok(Vec::new());
    };
    let running = cluster::start_admin(listen).await?;
    tracing::info!(addr = %running.addr, "admin listener serving /metrics");
    Ok(vec![running])
}

fn invalid(config: &Path) -> String {
    format!("invalid config {}", config.display())
}
