//! `mantad dev`: the whole cluster in this process, for development. The
//! cluster is [`Cluster`]; the dev account's keys, `env.sh` and
//! `frontend.toml` are `frontend::auth::dev`; the local CA and the
//! listeners' certificate (HTTPS unless `--plain-http`) are
//! `frontend::dev_ca`; this is the command line and the summary it prints.

use anyhow::Context;
use clap::Args;
use frontend::auth::secrets::SecretBox;
use frontend::cluster::{AgentRole, Cluster, ClusterOptions};
use jobs::runtime::RuntimeKind;
use metadata_tier::net::tls::{reload_on_sighup, ReloadingCert};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// `mantad dev`'s flags.
#[derive(Args)]
pub struct DevArgs {
    /// Where all data lives.
    #[arg(long, default_value = "./data")]
    data: PathBuf,
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
    /// Replicas of each shard (a Raft group; 1 runs shards unreplicated).
    #[arg(long, default_value_t = 3)]
    shard_replicas: usize,
    /// Runtime of job tasks on the storage nodes.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Runsc)]
    jobs_runtime: RuntimeKind,
    /// Address of the admin listener (`/metrics`); a busy port only warns.
    #[arg(long, default_value = "127.0.0.1:9102")]
    admin_listen: SocketAddr,
    /// Serve the Manta and S3 APIs in plain HTTP, without TLS.
    #[arg(long, conflicts_with_all = ["plain_listen", "s3_plain_listen", "tls_name"])]
    plain_http: bool,
    /// Also serve the Manta API in plain HTTP here: `/:login/public` reads
    /// and signed URLs only.
    #[arg(long, value_name = "ADDR")]
    plain_listen: Option<SocketAddr>,
    /// Also serve the S3 API in plain HTTP here: presigned URLs only.
    #[arg(long, value_name = "ADDR")]
    s3_plain_listen: Option<SocketAddr>,
    /// Another name (DNS or IP) for the server certificate, beside
    /// localhost, 127.0.0.1, ::1 and the listen addresses; repeatable.
    #[arg(long, value_name = "NAME")]
    tls_name: Vec<String>,
}

/// Starts the cluster, prepares the dev account, runs until ctrl-c.
///
/// # Errors
/// The data dir, the S3 key, starting a role, the dev account.
pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let DevArgs {
        data,
        listen,
        s3_listen,
        user,
        storage_nodes,
        shards,
        shard_replicas,
        jobs_runtime,
        admin_listen,
        plain_http,
        plain_listen,
        s3_plain_listen,
        tls_name,
    } = args;
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
    opts.shard_replicas = shard_replicas.max(1);
    opts.agent = Some(AgentRole {
        runtime: jobs_runtime,
        ..AgentRole::default()
    });
    opts.settings.s3_secrets = Some(SecretBox::load(&data.join("secrets").join("s3.key"), true)?);
    // The dev account is the console's operator: it sees the cluster page.
    opts.settings.console_operators = vec![user.clone()];
    let ca_file = if plain_http {
        None
    } else {
        let mut names = tls_name;
        names.extend([listen, s3_listen].iter().map(|a| a.ip().to_string()));
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| n.parse::<IpAddr>().map_or(true, |ip| !ip.is_unspecified()))
            .collect();
        let tls = frontend::dev_ca::ensure(&data.join("tls"), &names)?;
        opts.tls =
            Some(ReloadingCert::load(tls.files.clone()).context("load the dev certificate")?);
        opts.plain_listen = plain_listen;
        opts.s3_plain_listen = s3_plain_listen;
        // Tasks' toolboxes and mlogin reach the API in TLS, trusting the
        // dev CA as the clients do.
        if let Some(agent) = &mut opts.agent {
            agent.api.ca_file = Some(tls.ca_file.clone());
        }
        Some(tls.ca_file)
    };
    let cluster = Cluster::start(opts).await?;
    let stop_reload = CancellationToken::new();
    if let Some(cert) = cluster.tls() {
        reload_on_sighup(vec![cert.clone()], stop_reload.clone())
            .context("install SIGHUP handler")?;
    }
    // Metrics are for watching, not for serving data: a second dev cluster
    // on this host (whose admin port is taken) still starts.
    let admin = match frontend::cluster::start_admin(admin_listen).await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "no admin listener");
            None
        }
    };
    let metrics_url = admin
        .as_ref()
        .map_or_else(|| "-".to_string(), |a| format!("http://{}/metrics", a.addr));
    let creds = frontend::auth::dev::prepare(&cluster, &user, &data, ca_file.as_deref()).await?;
    let env_file = data.join("env.sh");
    let plain: String = [
        (&cluster.plain_url, "Manta: public reads, signed URLs"),
        (&cluster.s3_plain_url, "S3: presigned URLs"),
    ]
    .iter()
    .filter_map(|(url, what)| url.as_ref().map(|u| format!("\n  plain HTTP {u} ({what})")))
    .collect();
    let ca = ca_file
        .as_ref()
        .map_or_else(|| "- (plain HTTP)".to_string(), |c| c.display().to_string());
    say(&format!(
        "mantad dev is up: {storage_nodes} storage nodes, {shards} metadata shards of {} replicas\n\
         \n  Manta API  {}\n  S3 API     {}{plain}\n  metrics    {metrics_url}\n  account    {user}\n  key        {} ({})\n  CA         {ca}\n  data       {}\n\n\
         Use it from a shell with:  source {}\n\
         (m* commands, node-manta with ssh-agent, aws-cli)\n\
         Manage accounts with:      mantad account --dev {} list\n",
        shard_replicas.max(1),
        cluster.url,
        cluster.s3_url.as_deref().unwrap_or("-"),
        creds.private_key.display(),
        creds.key_id,
        data.display(),
        env_file.display(),
        data.display(),
    ));
    say(&format!(
        "Web console:               {}/console/\n\
         Sign in to it with a link: source {} && mconsole\n",
        cluster.url,
        env_file.display(),
    ));
    tokio::signal::ctrl_c().await.context("wait for ctrl-c")?;
    say("stopping");
    stop_reload.cancel();
    if let Some(a) = admin {
        a.stop().await;
    }
    cluster.shutdown().await;
    Ok(())
}

/// Prints to stdout, and carries on if nobody reads it any more: the
/// cluster must outlive whatever started it and stopped listening (a
/// closed pipe made `println!` panic and took the whole dev cluster down).
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
