//! `mantad`: every role of the store in one binary.
//!
//! - `mantad dev`: the whole cluster in this process (3 storage nodes, 2
//!   metadata shards, the frontend), data under `./data`;
//! - `mantad metadata|storage|frontend --config FILE`: one role, so the same
//!   code spreads over machines (see docs/config.md);
//! - `mantad account create|add-key|list|s3-key`: accounts and keys
//!   (docs/auth.md);
//! - `mantad image import|ls|rm|run`: job images and trial runs
//!   (docs/jobs-runtime.md).

use anyhow::Context;
use clap::{Parser, Subcommand};
use frontend::auth::admin::{self, AccountCommand};
use frontend::auth::secrets::SecretBox;
use frontend::cluster::{self, Cluster, ClusterOptions, StorageRole};
use frontend::config::{self, FrontendConfig, MetadataConfig, StorageConfig};
use frontend::state::AppState;
use metadata_tier::{MetadataClient, Ring};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "mantad", version, about = "A Manta-style object store")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a whole development cluster in this process.
    Dev {
        /// Where all data lives.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        #[command(flatten)]
        opts: DevOptions,
    },
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
    Account {
        /// A frontend config file naming the metadata shards (and
        /// `s3_key_file`).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// The data dir of a running `mantad dev` (reads its frontend.toml).
        #[arg(long, global = true)]
        dev: Option<PathBuf>,
        #[command(subcommand)]
        cmd: AccountCommand,
    },
    /// Manage and try job images (the same code path as job tasks).
    Image {
        /// Jobs state directory (images, layer cache, task bundles).
        #[arg(long, global = true, default_value = "./data/jobs")]
        state: PathBuf,
        #[command(subcommand)]
        cmd: jobs::cli::ImageCommand,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().cmd {
        Cmd::Dev { data, opts } => dev(data, opts).await,
        Cmd::Metadata { config } => {
            let cfg: MetadataConfig = config::load(&config)?;
            let running = cluster::start_shard(cfg.listen, &cfg.data).await?;
            tracing::info!(addr = %running.addr, "metadata shard serving");
            until_signal(vec![running]).await
        }
        Cmd::Storage { config } => {
            let cfg: StorageConfig = config::load(&config)?;
            let role = StorageRole {
                id: config::node_id(cfg.id.as_deref(), &cfg.data)?,
                listen: cfg.listen,
                advertise: cfg.advertise.clone(),
                data: cfg.data.clone(),
                heartbeat: config::parse_duration(&cfg.heartbeat_interval)?,
                agent: cfg.agent()?,
            };
            let meta = MetadataClient::new(Ring::new(cfg.metadata_shards, cfg.vnodes));
            let running = cluster::start_storage(role, meta).await?;
            tracing::info!(addr = %running.addr, "storage node serving");
            until_signal(vec![running]).await
        }
        Cmd::Account { config, dev, cmd } => {
            let path = admin::config_path(config, dev)?;
            admin::run(&path, cmd).await
        }
        Cmd::Image { state, cmd } => {
            let code = jobs::cli::run_image_command(&state, cmd).await?;
            std::process::exit(code)
        }
        Cmd::Frontend { config } => {
            let cfg: FrontendConfig = config::load(&config)?;
            let settings = cfg.validate().context("invalid frontend config")?;
            let meta = MetadataClient::new(Ring::new(cfg.metadata_shards.clone(), cfg.vnodes));
            let state = AppState::new(meta, settings);
            for login in &cfg.accounts {
                state
                    .accounts
                    .ensure(login)
                    .await
                    .with_context(|| format!("create account {login}"))?;
            }
            let mut roles = Vec::new();
            if let Some(s3_listen) = cfg.s3_listen {
                let s3 = frontend::s3::S3Config {
                    domain: cfg.s3_domain.clone(),
                    region: cfg.s3_region.clone(),
                };
                let running = cluster::start_s3(s3_listen, state.clone(), s3).await?;
                tracing::info!(addr = %running.addr, "S3 API serving");
                roles.push(running);
            }
            let running = cluster::start_frontend(cfg.listen, state).await?;
            tracing::info!(addr = %running.addr, "frontend serving");
            roles.push(running);
            until_signal(roles).await
        }
    }
}

/// `mantad dev`'s options besides `--data`.
#[derive(clap::Args)]
struct DevOptions {
    /// Address of the Manta API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the S3 API.
    #[arg(long, default_value = "127.0.0.1:9000")]
    s3_listen: SocketAddr,
    /// The development account's login.
    #[arg(long, default_value = "dev")]
    user: String,
    /// Storage nodes (each with a job agent).
    #[arg(long, default_value_t = 3)]
    storage_nodes: usize,
    /// Metadata shards.
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// Runtime of job tasks on the storage nodes.
    #[arg(long, value_enum, default_value_t = jobs::runtime::RuntimeKind::Runsc)]
    jobs_runtime: jobs::runtime::RuntimeKind,
}

async fn dev(data: PathBuf, o: DevOptions) -> anyhow::Result<()> {
    let DevOptions {
        listen,
        s3_listen,
        user,
        storage_nodes,
        shards,
        jobs_runtime,
    } = o;
    std::fs::create_dir_all(&data).with_context(|| format!("create {}", data.display()))?;
    let data = data
        .canonicalize()
        .with_context(|| format!("resolve {}", data.display()))?;
    let mut opts = ClusterOptions::dev(data.clone());
    opts.frontend_listen = listen;
    opts.s3_listen = Some(s3_listen);
    opts.accounts = vec![user.clone()];
    opts.storage_nodes = storage_nodes;
    opts.shards = shards;
    opts.agent = Some(cluster::AgentRole {
        runtime: jobs_runtime,
        ..cluster::AgentRole::default()
    });
    opts.settings.s3_secrets = Some(SecretBox::load(&data.join("secrets").join("s3.key"), true)?);
    let cluster = Cluster::start(opts).await?;
    let creds = frontend::auth::dev::prepare(&cluster, &user, &data).await?;
    let env_file = data.join("env.sh");
    println!(
        "mantad dev is up: {storage_nodes} storage nodes, {shards} metadata shards\n\
         \n  Manta API  {}\n  S3 API     {}\n  account    {user}\n  key        {} ({})\n  data       {}\n\n\
         Use it from a shell with:  source {}\n\
         (m* commands, node-manta with ssh-agent, aws-cli)\n\
         Manage accounts with:      mantad account --dev {} list\n",
        cluster.url,
        cluster.s3_url.as_deref().unwrap_or("-"),
        creds.private_key.display(),
        creds.key_id,
        data.display(),
        env_file.display(),
        data.display(),
    );
    tokio::signal::ctrl_c().await.context("wait for ctrl-c")?;
    println!("stopping");
    cluster.shutdown().await;
    Ok(())
}

async fn until_signal(roles: Vec<cluster::Running>) -> anyhow::Result<()> {
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
