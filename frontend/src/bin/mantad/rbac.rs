//! `mantad account user|role|policy ...`: an account's RBAC sub-users,
//! roles and policies (docs/rbac.md). The changes are
//! [`frontend::accounts::Accounts`] methods (`frontend::rbac::admin`).

use anyhow::Context;
use clap::Subcommand;
use frontend::accounts::Accounts;
use frontend::rbac::admin::RoleSpec;
use frontend::time::iso8601;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Add a sub-user, optionally with an SSH public key.
    Add {
        login: String,
        user: String,
        /// An OpenSSH public key file.
        #[arg(long)]
        ssh_key: Option<PathBuf>,
    },
    /// List an account's sub-users.
    List {
        login: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a sub-user (its keys stop working, it leaves every role).
    Remove { login: String, user: String },
    /// A sub-user's SSH keys.
    Key {
        #[command(subcommand)]
        cmd: UserKeyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum UserKeyCommand {
    /// Add an SSH public key to a sub-user.
    Add {
        login: String,
        user: String,
        file: PathBuf,
    },
    /// List a sub-user's keys.
    List {
        login: String,
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a sub-user's key (MD5 or SHA256 fingerprint).
    Remove {
        login: String,
        user: String,
        fingerprint: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum RoleCommand {
    /// Create a role, or replace an existing role's members and policies
    /// (it keeps its identity, so tagged entries stay tagged).
    Add {
        login: String,
        role: String,
        /// A sub-user who may take the role (repeat or comma-separate).
        #[arg(long = "member", value_delimiter = ',')]
        members: Vec<String>,
        /// A sub-user who has the role without a `Role` header.
        #[arg(long = "default-member", value_delimiter = ',')]
        default_members: Vec<String>,
        /// A policy the role grants.
        #[arg(long = "policy", value_delimiter = ',')]
        policies: Vec<String>,
    },
    /// List an account's roles.
    List {
        login: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a role: entries tagged with it no longer grant anything.
    Remove { login: String, role: String },
}

#[derive(Subcommand, Debug)]
pub(crate) enum PolicyCommand {
    /// Create a policy, or replace an existing policy's rules.
    Add {
        login: String,
        policy: String,
        /// A rule, e.g. "CAN getobject, getdirectory" (repeat for more).
        #[arg(long = "rule", required = true)]
        rules: Vec<String>,
    },
    /// List an account's policies.
    List {
        login: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a policy no role uses.
    Remove { login: String, policy: String },
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(crate) async fn user(accounts: &Accounts, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            login,
            user,
            ssh_key,
        } => {
            let u = accounts.add_user(&login, &user).await?;
            println!("added user {login}/{} ({})", u.login, u.uuid);
            if let Some(file) = ssh_key {
                add_key(accounts, &login, &user, &file).await?;
            }
        }
        UserCommand::List { login, json } => {
            let users = accounts.resolve(&login).await?.users;
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "login": u.login, "uuid": u.uuid,
                            "created": iso8601(u.created_ms),
                            "keys": u.keys.iter().map(|k| &k.md5).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                return print_json(&v);
            }
            for u in users {
                println!("{}\t{}\t{} ssh keys", u.login, u.uuid, u.keys.len());
            }
        }
        UserCommand::Remove { login, user } => {
            accounts.remove_user(&login, &user).await?;
            println!("removed user {login}/{user}");
        }
        UserCommand::Key { cmd } => match cmd {
            UserKeyCommand::Add { login, user, file } => {
                add_key(accounts, &login, &user, &file).await?
            }
            UserKeyCommand::List { login, user, json } => {
                let a = accounts.resolve(&login).await?;
                let u = a
                    .user(&user)
                    .with_context(|| format!("account {login} has no user {user}"))?;
                if json {
                    let v: Vec<_> = u
                        .keys
                        .iter()
                        .map(|k| serde_json::json!({"md5": k.md5, "sha256": k.sha256, "created": iso8601(k.created_ms)}))
                        .collect();
                    return print_json(&v);
                }
                for k in &u.keys {
                    println!("{}\t{}", k.md5, k.sha256);
                }
            }
            UserKeyCommand::Remove {
                login,
                user,
                fingerprint,
            } => {
                accounts
                    .remove_user_key(&login, &user, &fingerprint)
                    .await?;
                println!("removed key {fingerprint} of {login}/{user}");
            }
        },
    }
    Ok(())
}

async fn add_key(
    accounts: &Accounts,
    login: &str,
    user: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let k = accounts.add_user_key(login, user, &text).await?;
    println!("added key {} ({}) to {login}/{user}", k.md5, k.sha256);
    Ok(())
}

pub(crate) async fn role(accounts: &Accounts, cmd: RoleCommand) -> anyhow::Result<()> {
    match cmd {
        RoleCommand::Add {
            login,
            role,
            members,
            default_members,
            policies,
        } => {
            let spec = RoleSpec {
                members,
                default_members,
                policies,
            };
            let (r, new) = accounts.put_role(&login, &role, &spec).await?;
            let verb = if new { "added" } else { "updated" };
            println!("{verb} role {} ({}) of {login}", r.name, r.uuid);
        }
        RoleCommand::List { login, json } => {
            let roles = accounts.resolve(&login).await?.roles;
            if json {
                let v: Vec<_> = roles
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "name": r.name, "uuid": r.uuid, "members": r.members,
                            "default_members": r.default_members, "policies": r.policies,
                        })
                    })
                    .collect();
                return print_json(&v);
            }
            for r in roles {
                println!(
                    "{}\tmembers={}\tdefault={}\tpolicies={}",
                    r.name,
                    r.members.join(","),
                    r.default_members.join(","),
                    r.policies.join(",")
                );
            }
        }
        RoleCommand::Remove { login, role } => {
            accounts.remove_role(&login, &role).await?;
            println!("removed role {role} of {login}");
        }
    }
    Ok(())
}

pub(crate) async fn policy(accounts: &Accounts, cmd: PolicyCommand) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::Add {
            login,
            policy,
            rules,
        } => {
            let (p, new) = accounts.put_policy(&login, &policy, &rules).await?;
            let verb = if new { "added" } else { "updated" };
            println!("{verb} policy {} ({}) of {login}", p.name, p.uuid);
        }
        PolicyCommand::List { login, json } => {
            let policies = accounts.resolve(&login).await?.policies;
            if json {
                let v: Vec<_> = policies
                    .iter()
                    .map(|p| serde_json::json!({"name": p.name, "uuid": p.uuid, "rules": p.rules}))
                    .collect();
                return print_json(&v);
            }
            for p in policies {
                println!("{}\t{}", p.name, p.rules.join("; "));
            }
        }
        PolicyCommand::Remove { login, policy } => {
            accounts.remove_policy(&login, &policy).await?;
            println!("removed policy {policy} of {login}");
        }
    }
    Ok(())
}
