//! msign: print presigned URLs.

use super::{manta_paths, path_err, Cmd, Common};
use client_sdk::{Client, Config, SignUrlOptions, Signer};
use std::path::PathBuf;

/// Create signed URLs for Manta objects.
#[derive(clap::Parser, Debug)]
#[command(
    name = "msign",
    version,
    about = "Create presigned URLs for Manta paths"
)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Expiry, seconds since the epoch (default: an hour from now)
    #[arg(short = 'e', long = "expires", value_name = "EXPIRATION")]
    expires: Option<u64>,
    /// Expiry relative to now: 30s, 10m, 2h, 1d, 1w, 1y
    #[arg(
        short = 'E',
        long = "expires-relative",
        value_name = "EXPIRATION",
        conflicts_with = "expires"
    )]
    expires_relative: Option<String>,
    /// Private key file to sign with
    #[arg(short = 'f', long = "file", value_name = "PRIVATE_KEY")]
    file: Option<PathBuf>,
    /// Signing algorithm (must fit the key, e.g. RSA-SHA256)
    #[arg(short = 'g', long = "algorithm", value_name = "ALGORITHM")]
    algorithm: Option<String>,
    /// HTTP method to allow (repeatable)
    #[arg(
        short = 'm',
        long = "method",
        value_name = "METHOD",
        default_value = "GET"
    )]
    method: Vec<String>,
    /// Role tags
    #[arg(long = "role-tag", value_name = "TAG,TAG...")]
    role_tag: Vec<String>,
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

const METHODS: [&str; 6] = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"];

fn relative(spec: &str, now: u64) -> anyhow::Result<u64> {
    let bad = || anyhow::anyhow!("invalid expires: {spec}");
    let (num, unit) = spec.split_at(spec.len().saturating_sub(1));
    let n: u64 = num.parse().map_err(|_| bad())?;
    if n == 0 || num.starts_with('0') {
        return Err(bad());
    }
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        "y" => 31_536_000,
        _ => return Err(bad()),
    };
    Ok(now + n * secs)
}

impl Cmd for Args {
    fn common(&self) -> &Common {
        &self.common
    }

    async fn run(self, client: Client) -> anyhow::Result<()> {
        for m in &self.method {
            if !METHODS.contains(&m.as_str()) {
                anyhow::bail!("method invalid: {m}");
            }
        }
        let client = match &self.file {
            Some(f) => {
                let cfg: Config = client.config().clone();
                Client::with_signer(cfg, Some(Signer::from_file(f)?))?
            }
            None => client,
        };
        if let (Some(g), Some(s)) = (&self.algorithm, client.signer()) {
            if !g.eq_ignore_ascii_case(s.algorithm()) {
                anyhow::bail!(
                    "The algorithm {} could not be used with this key (try {})",
                    g.to_uppercase(),
                    s.algorithm().to_uppercase()
                );
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let expires = match (&self.expires_relative, self.expires) {
            (Some(r), _) => relative(r, now)?,
            (None, Some(e)) => e,
            (None, None) => now + 3600,
        };
        let role_tag = (!self.role_tag.is_empty()).then(|| self.role_tag.join(","));
        let opts = SignUrlOptions {
            methods: self.method.clone(),
            expires,
            role: client.config().roles.clone(),
            role_tag,
        };
        for p in manta_paths(&client, &self.paths)? {
            let signed = client.sign_url(&p, &opts).map_err(|e| path_err(&p, &e))?;
            println!("{}{signed}", client.url());
        }
        Ok(())
    }
}
