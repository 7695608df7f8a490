//! `mantad account ...`: the operator's commands for accounts and keys.
//! They talk to the metadata shards named by a frontend config file
//! (`--config`), or by the one `mantad dev` writes into its data dir
//! (`--dev DATA` = `--config DATA/frontend.toml`). Only the command line
//! is here; the changes themselves are [`Accounts`]' methods, which the
//! API and the test harness use too.

use crate::load;
use anyhow::Context;
use clap::{Args, Subcommand};
use frontend::accounts::Accounts;
use frontend::auth::secrets::SecretBox;
use frontend::config::FrontendConfig;
use frontend::time::iso8601;
use metadata_tier::MetadataClient;
use std::path::{Path, PathBuf};

/// `mantad account`'s flags and subcommand.
#[derive(Args, Debug)]
pub struct AccountArgs {
    /// A frontend config file naming the metadata shards (and
    /// `s3_key_file`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The data dir of a running `mantad dev` (reads its frontend.toml).
    #[arg(long, global = true)]
    dev: Option<PathBuf>,
    #[command(subcommand)]
    cmd: AccountCommand,
}

#[derive(Subcommand, Debug)]
enum AccountCommand {
    /// Create an account, optionally with an SSH public key.
    Create {
        login: String,
        /// An OpenSSH public key file (`~/.ssh/id_ed25519.pub`).
        #[arg(long)]
        ssh_key: Option<PathBuf>,
    },
    /// Add an SSH public key to an account.
    AddKey { login: String, file: PathBuf },
    /// List accounts with their key fingerprints.
    List,
    /// S3 access keys.
    S3Key {
        #[command(subcommand)]
        cmd: S3KeyCommand,
    },
    /// RBAC sub-users and their SSH keys (docs/rbac.md).
    User {
        #[command(subcommand)]
        cmd: crate::rbac::UserCommand,
    },
    /// RBAC roles: members, default members, policies.
    Role {
        #[command(subcommand)]
        cmd: crate::rbac::RoleCommand,
    },
    /// RBAC policies: lists of rules such as "CAN getobject".
    Policy {
        #[command(subcommand)]
        cmd: crate::rbac::PolicyCommand,
    },
}

#[derive(Subcommand, Debug)]
enum S3KeyCommand {
    /// Make an access key pair (the secret is shown only now).
    Create { login: String },
    /// List an account's access keys.
    List { login: String },
    /// Revoke an access key.
    Revoke {
        login: String,
        access_key_id: String,
    },
}

/// The config file the account commands read.
pub(crate) fn config_path(
    config: Option<PathBuf>,
    dev: Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    match (config, dev) {
        (Some(c), None) => Ok(c),
        (None, Some(d)) => Ok(d.join("frontend.toml")),
        (None, None) => Ok(PathBuf::from("./data/frontend.toml")),
        (Some(_), Some(_)) => anyhow::bail!("give --config or --dev, not both"),
    }
}

/// Runs one account command against the shards of the config file.
///
/// # Errors
/// A bad config, unreachable shards, a refused change.
pub async fn run(args: AccountArgs) -> anyhow::Result<()> {
    let config = config_path(args.config, args.dev)?;
    let cfg: FrontendConfig = load(&config)?;
    let ring = metadata_tier::config::ring(&cfg.metadata_shards, cfg.vnodes)
        .with_context(|| format!("invalid config {}", config.display()))?;
    let key = metadata_tier::net::ClusterKey::load(&cfg.cluster_secret_file)
        .with_context(|| format!("invalid config {}", config.display()))?;
    let accounts = Accounts::new(MetadataClient::new(ring, key));
    let sealer = || -> anyhow::Result<SecretBox> {
        let file = cfg
            .s3_key_file
            .as_deref()
            .with_context(|| format!("{} sets no s3_key_file", config.display()))?;
        SecretBox::load(file, false)
    };
    match args.cmd {
        AccountCommand::Create { login, ssh_key } => {
            let rec = accounts.create(&login).await?;
            println!("created account {} ({})", rec.login, rec.uuid);
            if let Some(file) = ssh_key {
                add_key(&accounts, &login, &file).await?;
            }
        }
        AccountCommand::AddKey { login, file } => add_key(&accounts, &login, &file).await?,
        AccountCommand::List => {
            for a in accounts.list().await? {
                let live = a.s3_keys.iter().filter(|k| k.revoked_ms.is_none()).count();
                println!(
                    "{}\t{}\t{} ssh keys\t{live} s3 keys",
                    a.login,
                    a.uuid,
                    a.keys.len()
                );
                for k in &a.keys {
                    println!("\t{}\t{}", k.md5, k.sha256);
                }
            }
        }
        AccountCommand::User { cmd } => crate::rbac::user(&accounts, cmd).await?,
        AccountCommand::Role { cmd } => crate::rbac::role(&accounts, cmd).await?,
        AccountCommand::Policy { cmd } => crate::rbac::policy(&accounts, cmd).await?,
        AccountCommand::S3Key { cmd } => match cmd {
            S3KeyCommand::Create { login } => {
                let (id, secret) = accounts.create_s3_key(&login, &sealer()?).await?;
                println!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}");
            }
            S3KeyCommand::List { login } => {
                for k in accounts.resolve(&login).await?.s3_keys {
                    let state = match k.revoked_ms {
                        Some(ms) => format!("revoked {}", iso8601(ms)),
                        None => "active".to_string(),
                    };
                    println!(
                        "{}\tcreated {}\t{state}",
                        k.access_key_id,
                        iso8601(k.created_ms)
                    );
                }
            }
            S3KeyCommand::Revoke {
                login,
                access_key_id,
            } => {
                accounts.revoke_s3_key(&login, &access_key_id).await?;
                println!("revoked {access_key_id}");
            }
        },
    }
    Ok(())
}

async fn add_key(accounts: &Accounts, login: &str, file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let k = accounts.add_ssh_key(login, &text).await?;
    println!("added key {} ({}) to {login}", k.md5, k.sha256);
    Ok(())
}
