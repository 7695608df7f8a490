//! mmpu: Manta multipart uploads, with node-manta's subcommands and
//! output (create prints the id, upload the part's etag, get the state as
//! JSON, list and parts one path per line).

use super::{parse_headers, progress_bar, Cmd, Common};
use client_sdk::Client;
use serde_json::{Map, Value};

/// Manage Manta multipart uploads.
#[derive(clap::Parser, Debug)]
#[command(name = "mmpu", version, about = "Manage Manta multipart uploads")]
pub struct Args {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// Begin an upload of the object at PATH; prints the upload id
    Create(Create),
    /// Upload part PART_NUMBER (0-9999) from FILE or stdin; prints its etag
    Upload(UploadPart),
    /// Commit an upload: its id, then the etags of parts 0, 1, ... in order
    Commit(Commit),
    /// Abort an upload
    Abort(Id),
    /// Print an upload's state as JSON
    Get(Id),
    /// List the parts uploaded to an upload
    Parts(Id),
    /// List the uploads of the account
    List(List),
}

#[derive(clap::Args, Debug)]
struct Create {
    #[command(flatten)]
    common: Common,
    /// Copies of the object to keep (durability-level)
    #[arg(
        short = 'c',
        long = "copies",
        value_name = "COPIES",
        default_value_t = 2
    )]
    copies: u32,
    /// Size of the object in bytes (checked at commit)
    #[arg(short = 's', long = "size", value_name = "SIZE")]
    size: Option<u64>,
    /// Header of the object to create: 'name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// Base64 MD5 of the whole object (checked at commit)
    #[arg(short = 'm', long = "md5", value_name = "MD5")]
    md5: Option<String>,
    #[arg(value_name = "PATH")]
    path: String,
}

#[derive(clap::Args, Debug)]
struct UploadPart {
    #[command(flatten)]
    common: Common,
    /// Local file to upload (default: stdin)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<std::path::PathBuf>,
    /// No progress bar
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Draw the progress bar on stderr even when it is not a terminal
    #[arg(long = "progress")]
    progress: bool,
    #[arg(value_name = "UPLOAD_ID")]
    id: String,
    #[arg(value_name = "PART_NUMBER", value_parser = clap::value_parser!(u32).range(0..=9999))]
    part: u32,
}

#[derive(clap::Args, Debug)]
struct Commit {
    #[command(flatten)]
    common: Common,
    #[arg(value_name = "UPLOAD_ID")]
    id: String,
    /// Etags of parts 0, 1, ... (none: an empty object)
    #[arg(value_name = "ETAG")]
    etags: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct Id {
    #[command(flatten)]
    common: Common,
    #[arg(value_name = "UPLOAD_ID")]
    id: String,
}

#[derive(clap::Args, Debug)]
struct List {
    #[command(flatten)]
    common: Common,
    /// Also list each upload's parts
    #[arg(short = 'p', long = "includeParts")]
    parts: bool,
}

fn sdk_err(e: client_sdk::Error) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}

impl Create {
    async fn run(self, client: &Client) -> anyhow::Result<()> {
        let mut h = Map::new();
        for (k, v) in parse_headers(&self.header)? {
            h.insert(k.to_ascii_lowercase(), Value::from(v));
        }
        // As node-manta: the flags win over -H.
        h.insert("durability-level".into(), Value::from(self.copies));
        if let Some(s) = self.size {
            h.insert("content-length".into(), Value::from(s));
        }
        if let Some(m) = self.md5 {
            h.insert("content-md5".into(), Value::from(m));
        }
        let up = client
            .create_upload(&self.path, h)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}: {}", self.path, e.code(), e.message()))?;
        println!("{}", up.id);
        Ok(())
    }
}

impl UploadPart {
    async fn run(self, client: &Client) -> anyhow::Result<()> {
        let r = match &self.file {
            Some(f) => {
                let file = tokio::fs::File::open(f)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                let len = file.metadata().await?.len();
                let label = f.display().to_string();
                match progress_bar(&label, Some(len), self.quiet, self.progress) {
                    Some(bar) => {
                        let b = bar.clone();
                        let body = tokio_util::io::InspectReader::new(file, move |d| {
                            b.inc(d.len() as u64)
                        });
                        let r = client
                            .upload_part(&self.id, self.part, body, Some(len))
                            .await;
                        bar.finish();
                        r
                    }
                    None => {
                        client
                            .upload_part(&self.id, self.part, file, Some(len))
                            .await
                    }
                }
            }
            None => {
                client
                    .upload_part(&self.id, self.part, tokio::io::stdin(), None)
                    .await
            }
        };
        let r = r.map_err(sdk_err)?;
        println!("{}", r.etag.unwrap_or_default());
        Ok(())
    }
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        match &self.cmd {
            Sub::Create(c) => &c.common,
            Sub::Upload(u) => &u.common,
            Sub::Commit(c) => &c.common,
            Sub::List(l) => &l.common,
            Sub::Abort(i) | Sub::Get(i) | Sub::Parts(i) => &i.common,
        }
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        match self.cmd {
            Sub::Create(c) => c.run(&client).await,
            Sub::Upload(u) => u.run(&client).await,
            Sub::Commit(c) => {
                client
                    .commit_upload(&c.id, &c.etags)
                    .await
                    .map_err(sdk_err)?;
                Ok(())
            }
            Sub::Abort(i) => client.abort_upload(&i.id).await.map_err(sdk_err),
            Sub::Get(i) => {
                let st = client.upload_state(&i.id).await.map_err(sdk_err)?;
                println!("{}", serde_json::to_string_pretty(&st)?);
                Ok(())
            }
            Sub::Parts(i) => {
                for p in client.list_parts(&i.id).await.map_err(sdk_err)? {
                    println!("{p}");
                }
                Ok(())
            }
            Sub::List(l) => {
                for u in client.list_uploads().await.map_err(sdk_err)? {
                    println!("{u}");
                    if l.parts {
                        let id = u.rsplit('/').next().unwrap_or_default();
                        for p in client.list_parts(id).await.unwrap_or_default() {
                            println!("{p}");
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
