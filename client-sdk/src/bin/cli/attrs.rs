//! mchattr and mmd5: an entry's metadata, changed or read, without its
//! bytes.

use super::{manta_paths, parse_headers, path_err, Cmd, Common, Reported};
use client_sdk::Client;

/// Replace the metadata of Manta objects and directories.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mchattr",
    version,
    about = "Replace the metadata (m-* headers, content-type, CORS) of Manta objects \
             and directories without rewriting their bytes; m-* headers not given are removed"
)]
pub struct Chattr {
    #[command(flatten)]
    common: Common,
    /// HTTP headers to set, e.g. -H 'm-color: blue'
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

impl Cmd for Chattr {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        let headers = parse_headers(&self.header)?;
        for p in manta_paths(&client, &self.paths)? {
            client
                .chattr(&p, &headers)
                .await
                .map_err(|e| path_err(&p, &e))?;
        }
        Ok(())
    }
}

/// Print the MD5 of Manta objects, as the server stored it.
#[derive(clap::Parser, Debug)]
#[command(
    name = "mmd5",
    version,
    about = "Print the MD5 (hex) of Manta objects as stored by the server, as `md5sum` does"
)]
pub struct Md5 {
    #[command(flatten)]
    common: Common,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

impl Cmd for Md5 {
    fn common(&self) -> &Common {
        &self.common
    }

    /// Every path is tried; each failure is one line on stderr, and the
    /// command fails if any did (as node-manta's mmd5).
    async fn run(self, client: Client) -> anyhow::Result<()> {
        let mut failed = false;
        for p in manta_paths(&client, &self.paths)? {
            // node-manta's wording: `mmd5: PATH: message`, PATH resolved.
            let line = match client.info(&p).await {
                Err(e) => Err(format!("{p}: {}: {}", e.code(), e.message())),
                Ok(i) if i.is_dir() => Err(format!("{p}: {p} is a directory")),
                Ok(i) => match i.md5.as_deref().and_then(b64_to_hex) {
                    Some(hex) => Ok(format!("{hex}  {p}")),
                    None => Err(format!("{p}: missing MD5")),
                },
            };
            match line {
                Ok(l) => println!("{l}"),
                Err(e) => {
                    eprintln!("mmd5: {e}");
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

fn b64_to_hex(b64: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    Some(hex::encode(raw))
}
