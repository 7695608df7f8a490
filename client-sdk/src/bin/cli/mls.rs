//! mls: list directory contents.

use super::{path_err, Cmd, Common};
use client_sdk::{Client, DirEntry, EntryType, ListOptions};
use futures::StreamExt;
use std::io::Write;

/// List Manta directories.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mls",
    version,
    about = "List Manta directory contents",
    disable_help_flag = true
)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Output in JSON
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// JSON output, and display the HTTP headers if available
    #[arg(long = "fulljson")]
    fulljson: bool,
    /// Use a long listing format
    #[arg(short = 'l', long = "long")]
    long: bool,
    /// Human readable sizes with -l
    #[arg(short = 'h', long = "human-readable")]
    human: bool,
    /// Start listing from MARKER
    #[arg(short = 'm', long = "marker", value_name = "MARKER")]
    marker: Option<String>,
    /// Reverse order while sorting
    #[arg(short = 'r', long = "reverse")]
    reverse: bool,
    /// Only entries of this type: d=directory, o=object
    #[arg(long = "type", value_name = "d|o", value_parser = ["d", "o"])]
    kind: Option<String>,
    /// Sort by modification time, newest first
    #[arg(short = 't', long = "time")]
    time: bool,
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
}

/// mls's path rule: relative paths live under `/:login/stor`.
fn mls_path(user: &str, p: &str) -> String {
    if p.starts_with('/') || p.starts_with('~') {
        p.to_string()
    } else {
        format!("/{user}/stor/{p}")
    }
}

/// Sizes as node-manta's `prettyBytes`: bytes bare, else K, M, G or T
/// with at most two decimals, trailing zeros dropped (`0`, `512`, `1.5K`,
/// `2M`, `1.01G`).
fn pretty(n: u64) -> String {
    let units = ["", "K", "M", "G", "T"];
    let mut i = units.len() - 1;
    while i > 0 && n < 1u64 << (10 * i) {
        i -= 1;
    }
    let v = n as f64 / (1u64 << (10 * i)) as f64;
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{}", units[i])
}

/// A name as node-manta prints it: JSON-escaped (control characters and
/// backslashes visible) without the quotes.
fn escaped(name: &str) -> String {
    let s = serde_json::to_string(name).unwrap_or_default();
    s[1..s.len().saturating_sub(1)].replace("\\\"", "\"")
}

/// `MMM DD HH:mm`, or `MMM DD  YYYY` for dates six months old.
fn long_date(iso: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(iso, &Rfc3339) else {
        return iso.to_string();
    };
    let old = time::OffsetDateTime::now_utc() - t > time::Duration::days(182);
    let month = &t.month().to_string()[..3];
    if old {
        format!("{month} {:02}  {}", t.day(), t.year())
    } else {
        format!("{month} {:02} {:02}:{:02}", t.day(), t.hour(), t.minute())
    }
}

impl Args {
    fn print(&self, out: &mut impl Write, parent: &str, e: &DirEntry) -> std::io::Result<()> {
        if self.json || self.fulljson {
            // The entry as the server sent it, plus `parent`, like node-manta.
            let s = serde_json::to_string(e).unwrap_or_default();
            let parent = serde_json::to_string(parent).unwrap_or_default();
            return writeln!(out, "{},\"parent\":{parent}}}", s.trim_end_matches('}'));
        }
        let dir = e.kind == EntryType::Directory;
        if self.long {
            let owner = parent.split('/').nth(1).unwrap_or("");
            let size = if dir { 0 } else { e.size.unwrap_or(0) };
            let size = if self.human {
                pretty(size)
            } else {
                size.to_string()
            };
            let kind = if dir { 'd' } else { '-' };
            let date = long_date(&e.mtime);
            return writeln!(
                out,
                "{kind}rwxr-xr-x 1 {owner} {size:>13} {date} {}",
                escaped(&e.name)
            );
        }
        writeln!(out, "{}{}", escaped(&e.name), if dir { "/" } else { "" })
    }

    async fn list_one(&self, client: &Client, p: &str) -> anyhow::Result<()> {
        let path = client.resolve(p).map_err(|e| path_err(p, &e))?;
        let info = client.info(&path).await.map_err(|e| path_err(&path, &e))?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if !info.is_dir() {
            // An object prints as its own entry, named by its basename.
            let mtime = info
                .last_modified
                .as_deref()
                .and_then(|d| httpdate::parse_http_date(d).ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| client_sdk::types::iso8601_ms(d.as_millis() as u64))
                .unwrap_or_default();
            let e = DirEntry {
                name: client_sdk::path::basename(&path).to_string(),
                etag: info.etag.clone(),
                size: info.size,
                kind: EntryType::Object,
                content_type: info.content_type.clone(),
                content_md5: info.md5.clone(),
                mtime,
                durability: info.durability,
            };
            let parent = client_sdk::path::parent(&path).unwrap_or("/");
            self.print(&mut out, parent, &e)?;
            out.flush()?;
            return Ok(());
        }
        // With -t the server pages newest first (oldest first with -r)
        // from its mtime index: no whole listing is held here.
        let opts = ListOptions {
            limit: 1000,
            marker: self.marker.clone(),
            reverse: self.reverse,
            sort_mtime: self.time,
            kind: self.kind.as_deref().map(|k| {
                if k == "d" {
                    EntryType::Directory
                } else {
                    EntryType::Object
                }
            }),
        };
        let mut entries = Box::pin(client.list(&path, opts));
        while let Some(e) = entries.next().await {
            let e = e.map_err(|e| path_err(&path, &e))?;
            self.print(&mut out, &path, &e)?;
        }
        out.flush()?;
        Ok(())
    }
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let user = client.user().to_string();
        let paths: Vec<String> = if self.paths.is_empty() {
            vec![format!("/{user}/stor")]
        } else {
            self.paths.iter().map(|p| mls_path(&user, p)).collect()
        };
        for p in &paths {
            self.list_one(&client, p).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{escaped, pretty};

    #[test]
    fn sizes_and_names_as_node_manta_prints_them() {
        assert_eq!(pretty(0), "0");
        assert_eq!(pretty(512), "512");
        assert_eq!(pretty(1536), "1.5K");
        assert_eq!(pretty(2 << 20), "2M");
        assert_eq!(pretty((1 << 30) + (10 << 20)), "1.01G");
        assert_eq!(escaped("a b"), "a b");
        assert_eq!(escaped("new\nline"), "new\\nline");
        assert_eq!(escaped("q\"uote"), "q\"uote");
        assert_eq!(escaped("é"), "é");
    }
}
