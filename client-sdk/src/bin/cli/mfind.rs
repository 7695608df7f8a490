//! mfind: walk directory trees, printing entries that pass the filters.

use super::{path_err, Cmd, Common, Reported};
use client_sdk::{Client, DirEntry, EntryType, ListOptions};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::io::Write;

/// Walk a Manta hierarchy.
#[derive(clap::Parser, Debug)]
#[command(name = "mfind", version, about = "Walk a Manta hierarchy")]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Stop after printing this many entries
    #[arg(short = 'l', long = "limit", value_name = "LIMIT")]
    limit: Option<usize>,
    /// Only names matching this regular expression
    #[arg(short = 'n', long = "name", value_name = "REGEX")]
    name: Option<regex::Regex>,
    /// Directories listed in parallel
    #[arg(short = 'p', long = "parallel", default_value_t = 50, value_name = "N")]
    parallel: usize,
    /// Only objects of at least this many bytes
    #[arg(short = 's', long = "size", value_name = "SIZE")]
    size: Option<u64>,
    /// Only entries of this type: d=directory, o=object
    #[arg(short = 't', long = "type", value_name = "d|o", value_parser = ["d", "o"])]
    kind: Option<String>,
    /// Only entries at least this deep (a PATH's own entries are depth 0)
    #[arg(long = "mindepth", value_name = "DEPTH", value_parser = positive)]
    mindepth: Option<usize>,
    /// Only entries less than this deep: 1 lists a PATH's own entries, 2
    /// adds their children (node-manta's --maxdepth)
    #[arg(long = "maxdepth", value_name = "DEPTH", value_parser = positive)]
    maxdepth: Option<usize>,
    /// Output in JSON
    #[arg(short = 'j', long = "json")]
    json: bool,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

/// A depth: a positive integer, as node-manta's dashdash `positiveInteger`
/// (0 is refused, not taken as "no limit").
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("{s:?} is not a positive integer")),
    }
}

impl Args {
    /// node-manta's `ftw` filter; top-level entries have depth 0, and only
    /// entries less deep than `--maxdepth` are reached (see `walk`).
    fn wanted(&self, e: &DirEntry, depth: usize) -> bool {
        let max = self.maxdepth.unwrap_or(usize::MAX);
        if depth < self.mindepth.unwrap_or(0) || depth >= max {
            return false;
        }
        if self.name.as_ref().is_some_and(|re| !re.is_match(&e.name)) {
            return false;
        }
        if e.kind == EntryType::Object && self.size.is_some_and(|s| s > e.size.unwrap_or(0)) {
            return false;
        }
        match self.kind.as_deref() {
            Some("d") => e.kind == EntryType::Directory,
            Some("o") => e.kind == EntryType::Object,
            _ => true,
        }
    }

    fn print(
        &self,
        out: &mut impl Write,
        parent: &str,
        e: &DirEntry,
        depth: usize,
    ) -> std::io::Result<()> {
        if self.json {
            let s = serde_json::to_string(e).unwrap_or_default();
            let parent = serde_json::to_string(parent).unwrap_or_default();
            writeln!(
                out,
                "{},\"parent\":{parent},\"depth\":{depth}}}",
                s.trim_end_matches('}')
            )
        } else {
            writeln!(out, "{parent}/{}", e.name)
        }
    }

    /// Walks one tree; returns how many entries were printed.
    async fn walk(&self, client: &Client, root: &str, printed: &mut usize) -> anyhow::Result<bool> {
        let info = client.info(root).await.map_err(|e| path_err(root, &e))?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if !info.is_dir() {
            writeln!(out, "{root}")?;
            *printed += 1;
            return Ok(self.limit.is_some_and(|l| *printed >= l));
        }
        let max = self.maxdepth.unwrap_or(usize::MAX);
        let list = |dir: String, depth: usize| async move {
            let r = client.list_all(&dir, ListOptions::default()).await;
            (dir, depth, r)
        };
        let mut pending = FuturesUnordered::new();
        let mut queue = vec![(root.to_string(), 0usize)];
        while !queue.is_empty() || !pending.is_empty() {
            while pending.len() < self.parallel.max(1) {
                let Some((d, depth)) = queue.pop() else { break };
                pending.push(list(d, depth));
            }
            let Some((dir, depth, r)) = pending.next().await else {
                break;
            };
            let entries = r.map_err(|e| path_err(&dir, &e))?;
            for e in &entries {
                if e.kind == EntryType::Directory && depth + 1 < max {
                    queue.push((format!("{dir}/{}", e.name), depth + 1));
                }
                if self.wanted(e, depth) {
                    self.print(&mut out, &dir, e, depth)?;
                    *printed += 1;
                    if self.limit.is_some_and(|l| *printed >= l) {
                        out.flush()?;
                        return Ok(true);
                    }
                }
            }
        }
        out.flush()?;
        Ok(false)
    }
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let mut printed = 0;
        let mut failed = false;
        for root in super::manta_paths(&client, &self.paths)? {
            match self.walk(&client, &root, &mut printed).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) if super::broken_pipe(&e) => return Err(e),
                Err(e) => {
                    eprintln!("mfind: {e:#}");
                    failed = true;
                }
            }
        }
        if failed {
            return Err(Reported.into());
        }
        Ok(())
    }
}
