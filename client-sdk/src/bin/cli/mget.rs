//! mget: download objects to stdout or a file, each checked end to end by
//! the SDK (length, and BLAKE3 or MD5); with `-d DIR`, download many
//! objects or trees into DIR, `-P` at a time. A file is written under a
//! temporary name and named only once verified ([`OutFile`]).

use super::outfile::OutFile;
use super::{manta_paths, parse_headers, path_err, progress_bar, Cmd, Common, Reported};
use client_sdk::{Client, EntryType, Error, GetOptions, ListOptions};
use futures::StreamExt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Download from Manta.
#[derive(clap::Parser, Debug)]
#[command(name = "mget", version, about = "Fetch Manta objects")]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// HTTP headers to include
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// Disable the progress bar
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Force the progress bar on, even if stderr is not a terminal
    #[arg(long = "progress")]
    progress: bool,
    /// Write output to FILE instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write output to a file named like the remote object
    #[arg(short = 'O', long = "remote-name")]
    remote_name: bool,
    /// Download each PATH (directories recursively) into this local directory
    #[arg(short = 'd', long = "dir", value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Downloads in flight at once with -d
    #[arg(short = 'P', long = "parallel", default_value_t = 16, value_name = "N")]
    parallel: usize,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

impl Args {
    /// Streams one object into `out`; fails if it does not verify (after
    /// writing what it received: the caller discards `out`). `Ok(false)`:
    /// the server answered 304 (a condition in `-H`), nothing was written,
    /// and that was said on stderr.
    async fn fetch<W: AsyncWrite + Unpin>(
        &self,
        client: &Client,
        path: &str,
        out: &mut W,
        bar_ok: bool,
    ) -> anyhow::Result<bool> {
        let opts = GetOptions {
            headers: parse_headers(&self.header)?,
            ..GetOptions::default()
        };
        let mut resp = client
            .get(path, &opts)
            .await
            .map_err(|e| path_err(path, &e))?;
        if resp.info.status == 304 {
            eprintln!("mget: {path}: not modified (304), nothing downloaded");
            return Ok(false);
        }
        let bar = if bar_ok {
            progress_bar(path, resp.info.size, self.quiet, self.progress)
        } else {
            None
        };
        let mut resumes = 0;
        loop {
            match resp.body.next().await {
                None => break,
                Some(Ok(chunk)) => {
                    out.write_all(&chunk).await?;
                    if let Some(b) = &bar {
                        b.inc(chunk.len() as u64);
                    }
                }
                // The connection broke mid-body: go on from where it
                // stopped, as long as the object is the same one; the
                // body's check then covers both parts.
                Some(Err(e @ Error::Http(_)))
                    if resumes < 3 && resp.info.etag.is_some() && opts.headers.is_empty() =>
                {
                    resumes += 1;
                    let more = GetOptions {
                        range: Some(format!("bytes={}-", resp.body.received())),
                        if_match: resp.info.etag.clone(),
                        ..GetOptions::default()
                    };
                    let next = client
                        .get(path, &more)
                        .await
                        .map_err(|_| path_err(path, &e))?;
                    resp.body.resume(next).map_err(|_| path_err(path, &e))?;
                }
                Some(Err(e)) => return Err(path_err(path, &e)),
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(true)
    }

    /// `-d`: every object under the paths, as (remote, local).
    async fn plan(
        &self,
        client: &Client,
        paths: &[String],
        dir: &Path,
    ) -> anyhow::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for p in paths {
            let info = client.info(p).await.map_err(|e| path_err(p, &e))?;
            let base = dir.join(client_sdk::path::basename(p));
            if !info.is_dir() {
                out.push((p.clone(), base));
                continue;
            }
            let mut stack = vec![(p.clone(), base)];
            while let Some((rdir, ldir)) = stack.pop() {
                std::fs::create_dir_all(&ldir)?;
                let entries = client
                    .list_all(&rdir, ListOptions::default())
                    .await
                    .map_err(|e| path_err(&rdir, &e))?;
                for e in entries {
                    let r = format!("{rdir}/{}", e.name);
                    let l = ldir.join(&e.name);
                    match e.kind {
                        EntryType::Directory => stack.push((r, l)),
                        EntryType::Object => out.push((r, l)),
                    }
                }
            }
        }
        Ok(out)
    }

    async fn get_many(&self, client: &Client, paths: &[String], dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        let plan = self.plan(client, paths, dir).await?;
        let results = futures::stream::iter(plan.into_iter().map(|(remote, local)| async move {
            let mut f = OutFile::create(&local).await?;
            if self.fetch(client, &remote, f.writer(), false).await? {
                f.commit().await?;
            }
            Ok::<(), anyhow::Error>(())
        }))
        .buffer_unordered(self.parallel.max(1))
        .collect::<Vec<_>>()
        .await;
        // Every object was fetched and checked on its own; report each
        // failure, not only the first.
        let mut failed = 0;
        for e in results.into_iter().filter_map(Result::err) {
            eprintln!("mget: {e:#}");
            failed += 1;
        }
        if failed > 0 {
            return Err(Reported.into());
        }
        Ok(())
    }
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(mut self, client: Client) -> anyhow::Result<()> {
        let paths = manta_paths(&client, &self.paths)?;
        if let Some(dir) = self.dir.clone() {
            return self.get_many(&client, &paths, &dir).await;
        }
        if self.remote_name {
            if paths.len() != 1 {
                anyhow::bail!("--remote-name only works with a single object path");
            }
            self.output = Some(PathBuf::from(client_sdk::path::basename(&paths[0])));
        }
        match self.output.clone() {
            Some(file) => {
                // Dropped unrenamed (and so removed) on any error.
                let mut f = OutFile::create(&file).await?;
                let mut all = true;
                for p in &paths {
                    all &= self.fetch(&client, p, f.writer(), true).await?;
                }
                if all {
                    f.commit().await?;
                } else {
                    // Not modified: the file keeps what it had.
                    eprintln!("mget: {} left unchanged", file.display());
                }
            }
            None => {
                // A bar would clobber output going to the terminal.
                let bar_ok = !std::io::stdout().is_terminal();
                let mut out = tokio::io::BufWriter::with_capacity(1 << 20, tokio::io::stdout());
                for p in &paths {
                    self.fetch(&client, p, &mut out, bar_ok).await?;
                }
                out.flush().await?;
            }
        }
        Ok(())
    }
}
