//! mput: upload an object from a file or stdin; with several files or a
//! local directory, upload them all, `-P` at a time.

use super::{content_type, parse_headers, path_err, progress_bar, Cmd, Common};
use crate::cli::simple::role_tag_header;
use base64::Engine;
use client_sdk::{Client, Progress, PutOptions};
use futures::StreamExt;
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Upload to Manta.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mput",
    version,
    about = "Create a Manta object from a file or stdin"
)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Number of copies to store
    #[arg(short = 'c', long = "copies", value_name = "COPIES")]
    copies: Option<u32>,
    /// Local file to upload (stdin when absent); several files or a
    /// directory upload everything under PATH as a directory
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// HTTP headers to include
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// Send Content-MD5 computed from the file (needs -f)
    #[arg(short = 'm', long = "md5")]
    md5: bool,
    /// Create parent directories as needed
    #[arg(short = 'p', long = "parents")]
    parents: bool,
    /// Disable the progress bar
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Force the progress bar on, even if stderr is not a terminal
    #[arg(long = "progress")]
    progress: bool,
    /// Role tags to apply to the object
    #[arg(long = "role-tag", value_name = "TAG,TAG...")]
    role_tag: Vec<String>,
    /// Uploads in flight at once when sending many files
    #[arg(short = 'P', long = "parallel", default_value_t = 16, value_name = "N")]
    parallel: usize,
    #[arg(value_name = "PATH")]
    path: String,
}

async fn file_md5(path: &Path) -> anyhow::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(h.finalize()))
}

/// Local files under `root` (itself if a file), with their path relative
/// to it.
fn walk(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((p, rel)) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().to_string();
                let r = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((e.path(), r));
            }
        } else {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            out.push((p, if rel.is_empty() { name } else { rel }));
        }
    }
    out.sort();
    Ok(out)
}

impl Args {
    fn options(&self) -> anyhow::Result<PutOptions> {
        let mut headers = parse_headers(&self.header)?;
        role_tag_header(&self.role_tag, &mut headers);
        let ct = headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|i| headers.remove(i).1);
        Ok(PutOptions {
            copies: self.copies,
            content_type: ct,
            headers,
            mkdirs: self.parents,
            ..PutOptions::default()
        })
    }

    /// Where one upload goes: PATH, or PATH/basename if PATH is a directory.
    async fn target(&self, client: &Client, path: &str) -> anyhow::Result<String> {
        match client.info(path).await {
            Ok(info) if info.is_dir() => match self.files.first() {
                Some(f) => {
                    let base = f.file_name().map(|n| n.to_string_lossy().to_string());
                    Ok(format!("{path}/{}", base.unwrap_or_default()))
                }
                None => anyhow::bail!("cannot infer name without -f"),
            },
            Ok(_) => Ok(path.to_string()),
            Err(e) if e.is_not_found() => Ok(path.to_string()),
            Err(e) => Err(path_err(path, &e)),
        }
    }

    async fn put_one(&self, client: &Client, path: &str) -> anyhow::Result<()> {
        let path = self.target(client, path).await?;
        let mut opts = self.options()?;
        if opts.content_type.is_none() {
            opts.content_type = Some(content_type(&path));
        }
        let file = self.files.first();
        let len = match file {
            Some(f) => {
                let m =
                    std::fs::metadata(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                if !m.is_file() {
                    anyhow::bail!("{} is not a file", f.display());
                }
                Some(m.len())
            }
            None => None,
        };
        let bar = progress_bar(&path, len, self.quiet, self.progress);
        if let Some(b) = bar.clone() {
            opts.progress = Some(Progress(Arc::new(move |n| b.inc(n))));
        }
        let res = match file {
            Some(f) => {
                if self.md5 {
                    opts.content_md5 = Some(file_md5(f).await?);
                }
                client.put_file(&path, f, &opts).await
            }
            None => client.put(&path, tokio::io::stdin(), &opts).await,
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        res.map(|_| ()).map_err(|e| match e.code() {
            "OperationNotAllowedOnDirectory" | "OperationNotAllowedOnRootDirectory" => {
                anyhow::anyhow!(
                    "{path}: {}: Cannot write to a directory; specify full object path",
                    e.code()
                )
            }
            _ => path_err(&path, &e),
        })
    }

    /// Many files: PATH is a directory; the tree is recreated under it.
    async fn put_many(&self, client: &Client, dir: &str) -> anyhow::Result<()> {
        let mut files = Vec::new();
        for f in &self.files {
            files.extend(walk(f)?);
        }
        let mut dirs: Vec<String> = files
            .iter()
            .filter_map(|(_, rel)| rel.rsplit_once('/').map(|(d, _)| format!("{dir}/{d}")))
            .collect();
        dirs.push(dir.to_string());
        dirs.sort();
        dirs.dedup();
        for d in &dirs {
            client.mkdirp(d).await.map_err(|e| path_err(d, &e))?;
        }
        let base = self.options()?;
        let total: u64 = files
            .iter()
            .filter_map(|(p, _)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let bar = progress_bar(dir, Some(total), self.quiet, self.progress);
        let results = futures::stream::iter(files.into_iter().map(|(local, rel)| {
            let remote = format!("{dir}/{rel}");
            let mut opts = base.clone();
            opts.mkdirs = false;
            if opts.content_type.is_none() {
                opts.content_type = Some(content_type(&remote));
            }
            let bar = bar.clone();
            async move {
                if self.md5 {
                    opts.content_md5 = Some(file_md5(&local).await?);
                }
                let r = client.put_file(&remote, &local, &opts).await;
                if let (Some(b), Ok(m)) = (&bar, std::fs::metadata(&local)) {
                    b.inc(m.len());
                }
                r.map(|_| ()).map_err(|e| path_err(&remote, &e))
            }
        }))
        .buffer_unordered(self.parallel.max(1))
        .collect::<Vec<anyhow::Result<()>>>()
        .await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        results.into_iter().collect()
    }
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        if self.md5 && self.files.is_empty() {
            anyhow::bail!("--md5 requires --file");
        }
        let path = client
            .resolve(&self.path)
            .map_err(|e| path_err(&self.path, &e))?;
        let many = self.files.len() > 1 || self.files.first().is_some_and(|f| f.is_dir());
        if many {
            self.put_many(&client, &path).await
        } else {
            self.put_one(&client, &path).await
        }
    }
}
