//! `mantad nodes`: each storage node as the registry and its job agent
//! see it, one JSON object per line. Agents answer only callers holding
//! the cluster secret, so this reads the frontend config (or `mantad dev`'s,
//! with `--dev DATA`) for the shards and the secret.

use crate::account::config_path;
use crate::load;
use anyhow::Context;
use clap::Args;
use frontend::config::FrontendConfig;
use jobs::agent::client::AgentClient;
use metadata_tier::net::ClusterKey;
use metadata_tier::MetadataClient;
use std::path::PathBuf;

/// `mantad nodes`' flags.
#[derive(Args, Debug)]
pub struct NodesArgs {
    /// A frontend config file naming the shards and the cluster secret.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The data dir of a running `mantad dev` (reads its frontend.toml).
    #[arg(long)]
    dev: Option<PathBuf>,
}

/// The frontend config named by `--config` or `--dev`, and a client of the
/// shards it names holding its cluster secret: what every operator command
/// that reads the cluster starts from.
///
/// # Errors
/// An unreadable or invalid config, an unreadable secret.
pub(crate) fn connect(
    config: Option<PathBuf>,
    dev: Option<PathBuf>,
) -> anyhow::Result<(FrontendConfig, MetadataClient)> {
    let config = config_path(config, dev)?;
    let cfg: FrontendConfig = load(&config)?;
    let invalid = || format!("invalid config {}", config.display());
    let ring =
        metadata_tier::config::ring(&cfg.metadata_shards, cfg.vnodes).with_context(invalid)?;
    let key = ClusterKey::load(&cfg.cluster_secret_file).with_context(invalid)?;
    Ok((cfg, MetadataClient::new(ring, key)))
}

/// Prints every registered node with its heartbeat age and its agent's
/// counters (or why the agent did not answer).
///
/// # Errors
/// A bad config, unreachable shards.
pub async fn run(args: NodesArgs) -> anyhow::Result<()> {
    let (_, meta) = connect(args.config, args.dev)?;
    let agents = AgentClient::new(meta.cluster_key().clone());
    for node in meta.nodes().await.context("read the node registry")? {
        let agent = match agents.status(&node.record.addr).await {
            Ok(s) => serde_json::to_value(s)?,
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        let line = serde_json::json!({
            "node": node.record,
            "heartbeat_age_ms": node.age_ms,
            "agent": agent,
        });
        println!("{line}");
    }
    Ok(())
}
