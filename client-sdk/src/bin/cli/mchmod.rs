//! mchmod: change the role tags of objects and directories.

use super::{manta_paths, path_err, Cmd, Common};
use client_sdk::{Client, RoleTagChange};

/// Change role tags (RBAC) of Manta objects and directories:
/// `mchmod -- +role1,role2 PATH...` adds, `-role` removes, `=role` sets.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mchmod",
    version,
    about = "Change the role tags of Manta objects and directories",
    override_usage = "mchmod [OPTIONS] -- [+-=]ROLE,... PATH..."
)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// `+role,...` to add, `-role,...` to remove, `=role,...` to set
    #[arg(value_name = "[+-=]ROLE,...", allow_hyphen_values = true)]
    change: String,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let change = RoleTagChange::parse(&self.change)?;
        for p in manta_paths(&client, &self.paths)? {
            client
                .chmod(&p, &change)
                .await
                .map_err(|e| path_err(&p, &e))?;
        }
        Ok(())
    }
}
