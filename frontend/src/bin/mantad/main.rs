//! `mantad`: every role of the store in one binary, and the operator's
//! commands. The libraries hold what the commands do; this binary holds
//! only the command line (flags, printing, exit codes), one file per
//! command:
//!
//! - `mantad dev` ([`dev`]): the whole cluster in this process (3 storage
//!   nodes, 2 metadata shards, the frontend), data under `./data`;
//! - `mantad metadata|storage|frontend --config FILE` ([`roles`]): one
//!   role, so the same code spreads over machines (docs/config.md);
//! - `mantad account create|add-key|list|s3-key` ([`account`]): accounts
//!   and keys (docs/auth.md); `mantad account user|role|policy` ([`rbac`]):
//!   sub-users, roles and policies (docs/rbac.md);
//! - `mantad image import|ls|rm|run` ([`image`]): job images and trial
//!   runs (docs/jobs-runtime.md);
//! - `mantad nodes` ([`nodes`]): each storage node's heartbeat and job
//!   agent counters;
//! - `mantad admin status|nodes|drain|remove|restore|repair|gc` ([`admin`]):
//!   node states, repair and garbage collection (docs/durability.md).

mod account;
mod admin;
mod dev;
mod image;
mod nodes;
mod rbac;
mod roles;
mod shards;

use anyhow::Context;
use clap::{Parser, Subcommand};
use frontend::cluster::Running;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "mantad", version, about = "A Manta-style object store")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a whole development cluster in this process.
    Dev(dev::DevArgs),
    /// Run one metadata shard.
    Metadata {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run one storage node.
    Storage {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the public frontend.
    Frontend {
        #[arg(long)]
        config: PathBuf,
    },
    /// Manage accounts, SSH keys and S3 keys (docs/auth.md).
    Account(account::AccountArgs),
    /// Manage and try job images (the same code path as job tasks).
    Image(image::ImageArgs),
    /// Show each storage node's heartbeat and job agent, as JSON lines.
    Nodes(nodes::NodesArgs),
    /// Node states, repair and garbage collection (docs/durability.md).
    Admin(admin::AdminArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object per line (with the request id and route of each
    // span) for log collectors; readable text otherwise.
    if std::env::var("MANTAD_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    match Cli::parse().cmd {
        Cmd::Dev(args) => dev::run(args).await,
        Cmd::Metadata { config } => roles::metadata(&config).await,
        Cmd::Storage { config } => roles::storage(&config).await,
        Cmd::Frontend { config } => roles::frontend(&config).await,
        Cmd::Account(args) => account::run(args).await,
        Cmd::Nodes(args) => nodes::run(args).await,
        Cmd::Admin(args) => admin::run(args).await,
        Cmd::Image(args) => {
            let code = image::run(args).await?;
            std::process::exit(code)
        }
    }
}

/// Reads and parses a TOML config file (unknown keys are refused by each
/// config type).
///
/// # Errors
/// An unreadable file, bad TOML, a wrong or unknown key.
fn load<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("read config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parse config {}", path.display()))
}

/// Waits for ctrl-c or SIGTERM, then stops the roles in order.
async fn until_signal(roles: Vec<Running>) -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("install SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("wait for ctrl-c")?,
        _ = term.recv() => {}
    }
    for role in roles {
        role.stop().await;
    }
    Ok(())
}
