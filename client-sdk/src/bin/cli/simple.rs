//! mmkdir, mrm, mrmdir, mln, minfo.

use super::{manta_paths, parse_headers, path_err, Cmd, Common, Reported};
use client_sdk::{Client, EntryType, ListOptions};
use futures::{StreamExt, TryStreamExt};

/// Make Manta directories.
#[derive(clap::Parser, Debug)]
#[command(name = "mmkdir", version, about = "Make Manta directories")]
pub struct Mkdir {
    #[command(flatten)]
    common: Common,
    /// HTTP headers to include
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// Create intermediate directories as required
    #[arg(short = 'p', long = "parents")]
    parents: bool,
    /// Role tags to apply to the created directories
    #[arg(long = "role-tag", value_name = "TAG,TAG...")]
    role_tag: Vec<String>,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

/// `--role-tag a,b` / `--role-tag a --role-tag b` as one header.
pub fn role_tag_header(tags: &[String], headers: &mut Vec<(String, String)>) {
    if !tags.is_empty() {
        let all: Vec<&str> = tags
            .iter()
            .flat_map(|t| t.split(','))
            .map(str::trim)
            .collect();
        headers.push(("role-tag".into(), all.join(",")));
    }
}

impl Cmd for Mkdir {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let mut headers = parse_headers(&self.header)?;
        role_tag_header(&self.role_tag, &mut headers);
        for p in manta_paths(&client, &self.paths)? {
            let r = if self.parents {
                client.mkdirp_with(&p, &headers).await
            } else {
                client.mkdir(&p, &headers).await
            };
            r.map_err(|e| path_err(&p, &e))?;
        }
        Ok(())
    }
}

/// Remove objects and directories.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mrm",
    version,
    about = "Remove Manta objects (and, with -r, directories)"
)]
pub struct Rm {
    #[command(flatten)]
    common: Common,
    /// Prompt before every removal
    #[arg(short = 'I', long = "interactive")]
    interactive: bool,
    /// Concurrent deletes with -r
    #[arg(short = 'p', long = "parallel", default_value_t = 50, value_name = "N")]
    parallel: usize,
    /// Remove directories and their contents recursively
    #[arg(short = 'r', long = "recursive")]
    recursive: bool,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

/// Asks on the terminal; true for `y`/`yes`.
fn confirm(what: &str) -> bool {
    eprint!("remove {what}? [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok()
        && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn require_tty(interactive: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if interactive && !std::io::stdin().is_terminal() {
        anyhow::bail!("stdin must be a tty when interactive specified");
    }
    Ok(())
}

/// Deletes a directory tree, children first.
async fn remove_tree(client: &Client, dir: &str, parallel: usize) -> client_sdk::Result<()> {
    let entries = client.list_all(dir, ListOptions::default()).await?;
    let (dirs, objs): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|e| e.kind == EntryType::Directory);
    futures::stream::iter(objs.into_iter().map(|e| {
        let p = format!("{dir}/{}", e.name);
        async move { client.delete(&p, None).await }
    }))
    .buffer_unordered(parallel.max(1))
    .try_collect::<Vec<()>>()
    .await?;
    for d in dirs {
        Box::pin(remove_tree(client, &format!("{dir}/{}", d.name), parallel)).await?;
    }
    client.delete(dir, None).await
}

impl Cmd for Rm {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        require_tty(self.interactive)?;
        for p in manta_paths(&client, &self.paths)? {
            let info = client.info(&p).await.map_err(|e| path_err(&p, &e))?;
            if self.interactive && !confirm(&p) {
                continue;
            }
            let r = match (info.is_dir(), self.recursive) {
                (true, true) => remove_tree(&client, &p, self.parallel).await,
                (true, false) => anyhow::bail!("{p} is not an object"),
                (false, _) => client.delete(&p, None).await,
            };
            r.map_err(|e| path_err(&p, &e))?;
        }
        Ok(())
    }
}

/// Remove empty directories.
#[derive(clap::Parser, Debug)]
#[command(name = "mrmdir", version, about = "Remove empty Manta directories")]
pub struct Rmdir {
    #[command(flatten)]
    common: Common,
    /// Prompt before every removal
    #[arg(short = 'I', long = "interactive")]
    interactive: bool,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

impl Cmd for Rmdir {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        require_tty(self.interactive)?;
        for p in manta_paths(&client, &self.paths)? {
            let info = client.info(&p).await.map_err(|e| path_err(&p, &e))?;
            if !info.is_dir() {
                anyhow::bail!("{p} is not a directory");
            }
            if self.interactive && !confirm(&p) {
                continue;
            }
            client
                .delete(&p, None)
                .await
                .map_err(|e| path_err(&p, &e))?;
        }
        Ok(())
    }
}

/// Make a snaplink.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mln",
    version,
    about = "Make a Manta snaplink: DST names SRC's data"
)]
pub struct Ln {
    #[command(flatten)]
    common: Common,
    /// Role tags to apply to the link
    #[arg(long = "role-tag", value_name = "TAG,TAG...")]
    role_tag: Vec<String>,
    #[arg(value_name = "SOURCE")]
    source: String,
    #[arg(value_name = "LINK")]
    link: String,
}

impl Cmd for Ln {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let src = client
            .resolve(&self.source)
            .map_err(|e| path_err(&self.source, &e))?;
        let dst = client
            .resolve(&self.link)
            .map_err(|e| path_err(&self.link, &e))?;
        client
            .link(&src, &dst)
            .await
            .map_err(|e| path_err(&dst, &e))?;
        Ok(())
    }
}

/// Show HTTP headers of objects and directories.
#[derive(clap::Parser, Debug)]
#[command(
    name = "minfo",
    version,
    about = "Show the HTTP headers of Manta objects and directories"
)]
pub struct Info {
    #[command(flatten)]
    common: Common,
    /// Output in JSON
    #[arg(short = 'j', long = "json")]
    json: bool,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl Cmd for Info {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let mut failed = false;
        for p in manta_paths(&client, &self.paths)? {
            let info = match client.info(&p).await {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("minfo: {}", path_err(&p, &e));
                    failed = true;
                    continue;
                }
            };
            let status = format!("HTTP/1.1 {} {}", info.status, reason(info.status));
            if self.json {
                let mut m = serde_json::Map::new();
                m.insert("status".into(), status.into());
                m.insert("statusCode".into(), info.status.into());
                for (k, v) in &info.headers {
                    m.insert(k.clone(), v.clone().into());
                }
                println!("{}", serde_json::Value::Object(m));
            } else {
                println!("{status}");
                for (k, v) in &info.headers {
                    println!("{k}: {v}");
                }
                println!();
            }
        }
        if failed {
            return Err(Reported.into());
        }
        Ok(())
    }
}
