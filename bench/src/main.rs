//! `mantabench`: end-to-end load generator for a running store.
//!
//! `mantabench put-get --url URL --user LOGIN -n N -s SIZE -c C` PUTs N
//! objects of SIZE bytes at concurrency C, then GETs them back (checking the
//! length), and prints one JSON line with ops/s, MB/s and p50/p99 latency for
//! each phase.
//!
//! `mantabench s3-put-get --url URL --access-key ID --secret-key SECRET
//! --bucket B -n N -s SIZE -c C` runs the same workload through the S3 API
//! (SigV4-signed requests, see [`s3`]).
//!
//! Over HTTPS both verify the server with the SDK's rules
//! (`client_sdk::tls`): `--ca-file` (`MANTA_CA_FILE`) adds a CA,
//! `-i`/`--insecure` (`MANTA_TLS_INSECURE`) skips verification.

mod manta_auth;
mod s3;

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "mantabench", about = "Load generator for the Manta API")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// PUT then GET N objects of SIZE bytes at concurrency C.
    PutGet {
        #[arg(long, env = "MANTA_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, env = "MANTA_USER", default_value = "dev")]
        user: String,
        /// Number of objects.
        #[arg(short = 'n', long, default_value_t = 1000)]
        count: usize,
        /// Object size: bytes, or with KiB/MiB/GiB.
        #[arg(short = 's', long, default_value = "4KiB")]
        size: String,
        /// Requests in flight.
        #[arg(short = 'c', long, default_value_t = 16)]
        concurrency: usize,
        /// Directory (under ~~/stor) to write into; made if missing.
        #[arg(long, default_value = "mantabench")]
        dir: String,
        /// Private key file to sign with (default: ssh-agent or ~/.ssh,
        /// matched by MANTA_KEY_ID).
        #[arg(long, env = "MANTA_DEV_KEY")]
        key: Option<std::path::PathBuf>,
        #[arg(long, env = "MANTA_KEY_ID")]
        key_id: Option<String>,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// PUT then GET N objects of SIZE bytes at concurrency C through the S3
    /// API.
    S3PutGet {
        #[arg(long, env = "S3_URL", default_value = "http://127.0.0.1:9000")]
        url: String,
        #[arg(long, env = "AWS_ACCESS_KEY_ID")]
        access_key: String,
        #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
        secret_key: String,
        #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
        region: String,
        /// Bucket to write into; made if missing.
        #[arg(long, default_value = "mantabench")]
        bucket: String,
        #[arg(short = 'n', long, default_value_t = 1000)]
        count: usize,
        #[arg(short = 's', long, default_value = "4KiB")]
        size: String,
        #[arg(short = 'c', long, default_value_t = 16)]
        concurrency: usize,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

/// How the server's certificate is checked over HTTPS.
#[derive(clap::Args)]
struct TlsArgs {
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, env = "MANTA_CA_FILE", value_name = "FILE")]
    ca_file: Option<std::path::PathBuf>,
    /// Do not verify the server's certificate.
    #[arg(short = 'i', long, env = "MANTA_TLS_INSECURE")]
    insecure: bool,
}

impl TlsArgs {
    /// The HTTP client of a run with `concurrency` requests in flight.
    fn client(&self, concurrency: usize) -> anyhow::Result<reqwest::Client> {
        let ca = self
            .ca_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        Ok(client_sdk::tls::client_builder(ca, self.insecure)?
            .pool_max_idle_per_host(concurrency)
            .build()?)
    }
}

#[derive(Serialize)]
pub struct Phase {
    ops: usize,
    seconds: f64,
    ops_per_sec: f64,
    mb_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
pub struct Report {
    workload: &'static str,
    count: usize,
    size: u64,
    concurrency: usize,
    put: Phase,
    get: Phase,
}

fn parse_size(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().with_context(|| format!("bad size {s:?}"))?;
    Ok(n * match unit {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        u => bail!("bad unit {u:?}"),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::PutGet {
            url,
            user,
            count,
            size,
            concurrency,
            dir,
            key,
            key_id,
            tls,
        } => {
            let size = parse_size(&size)?;
            let auth = manta_auth::MantaAuth::load(key.as_deref(), key_id.as_deref(), &user)?;
            let http = tls.client(concurrency)?;
            let report = put_get(&http, &url, &user, &dir, count, size, concurrency, &auth).await?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Cmd::S3PutGet {
            url,
            access_key,
            secret_key,
            region,
            bucket,
            count,
            size,
            concurrency,
            tls,
        } => {
            let creds = client_sdk::sigv4::Credentials {
                access_key,
                secret: secret_key,
                region,
                service: "s3".into(),
            };
            let size = parse_size(&size)?;
            let http = tls.client(concurrency)?;
            let report =
                s3::put_get(&http, &url, &creds, &bucket, count, size, concurrency).await?;
            println!("{}", serde_json::to_string(&report)?);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn put_get(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    dir: &str,
    count: usize,
    size: u64,
    concurrency: usize,
    auth: &manta_auth::MantaAuth,
) -> anyhow::Result<Report> {
    let base = format!("{}/{user}/stor/{dir}", url.trim_end_matches('/'));
    let r = auth
        .sign(http.put(&base))?
        .header("content-type", "application/json; type=directory")
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("mkdir {base}: {} {}", r.status(), r.text().await?);
    }
    // One buffer of pseudo-random bytes, streamed in 1 MiB slices so large
    // objects never sit whole in memory twice.
    let chunk = Bytes::from(
        (0..(1u64 << 20).min(size.max(1)))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    let chunk = Arc::new(chunk);
    let put = run(count, concurrency, size, |i| {
        let http = http.clone();
        let auth = auth.clone();
        let url = format!("{base}/obj-{i:08}");
        let chunk = chunk.clone();
        async move {
            let pieces = size.div_ceil(chunk.len() as u64).max(1);
            let body = futures::stream::iter((0..pieces).map(move |p| {
                let left = size - p * chunk.len() as u64;
                Ok::<_, std::io::Error>(chunk.slice(0..left.min(chunk.len() as u64) as usize))
            }));
            let r = auth
                .sign(http.put(&url))?
                .header("content-length", size)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await?;
            if r.status().as_u16() != 204 {
                bail!("PUT {url}: {} {}", r.status(), r.text().await?);
            }
            Ok(())
        }
    })
    .await?;
    let get = run(count, concurrency, size, |i| {
        let http = http.clone();
        let auth = auth.clone();
        let url = format!("{base}/obj-{i:08}");
        async move {
            let r = auth.sign(http.get(&url))?.send().await?;
            if r.status().as_u16() != 200 {
                bail!("GET {url}: {}", r.status());
            }
            let got = body_len(r).await?;
            if got != size {
                bail!("GET {url}: {got} bytes, expected {size}");
            }
            Ok(())
        }
    })
    .await?;
    Ok(Report {
        workload: "put-get",
        count,
        size,
        concurrency,
        put,
        get,
    })
}

/// Reads a response body to its end, returning its length (the bench checks
/// sizes, never keeps bytes).
pub(crate) async fn body_len(r: reqwest::Response) -> anyhow::Result<u64> {
    let mut got = 0u64;
    let mut s = r.bytes_stream();
    while let Some(c) = s.next().await {
        got += c?.len() as u64;
    }
    Ok(got)
}

/// Runs `op(0..count)` with `concurrency` in flight, timing each.
pub async fn run<F, Fut>(
    count: usize,
    concurrency: usize,
    size: u64,
    op: F,
) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut lat: Vec<Duration> = futures::stream::iter(0..count)
        .map(|i| {
            let fut = op(i);
            async move {
                let t = Instant::now();
                fut.await.map(|()| t.elapsed())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Phase {
        ops: count,
        seconds: secs,
        ops_per_sec: count as f64 / secs,
        mb_per_sec: (count as f64 * size as f64) / secs / 1e6,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
